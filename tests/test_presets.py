"""CRM exports as they come: the mapping language's CRM rules (filters, duplicates, joins, two
column events, time formats) and the Salesforce and HubSpot presets, replayed against the same
leads written directly as events."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest

from sla_dsl.evaluation.replay import evaluate
from sla_dsl.history.columns import EVENTS, NO_ACTOR
from sla_dsl.history.mapping import MappingError, parse_mapping
from sla_dsl.history.presets import PRESETS, load_preset, preset_text
from sla_dsl.history.read import load_history
from sla_dsl.history.synthetic_crm import (
    EXPORT_ZONE,
    TRACKING_START,
    hubspot,
    leads,
    salesforce,
)
from sla_dsl.policy_file import load_policy

from .conftest import ROOT

AMS = "Europe/Amsterdam"
POLICY = ROOT / "policies" / "inbound-desk.sla"


def counted(history) -> None:
    assert history.counts.read == history.counts.accepted + history.counts.rejected
    assert history.counts.accepted == len(history)


def verdicts(history, as_of: int) -> dict[tuple[str, str, str], str]:
    evaluation = evaluate(load_policy(POLICY), history, as_of)
    out = {}
    for clause in evaluation.clauses:
        for lead, status in zip(clause.leads.tolist(), clause.status.tolist(), strict=True):
            out[(clause.handoff, clause.clause, str(history.lead_ids[lead]))] = status
    return out


def events_of(history, lead_id: str) -> list[tuple]:
    code = list(history.lead_ids).index(lead_id)
    return [(int(history.at[i]), EVENTS[history.event[i]],
             history.actors[history.actor[i]] if history.actor[i] != NO_ACTOR else None)
            for i in range(len(history)) if history.lead[i] == code]


AS_OF = 1_776_000_000 * 1_000_000  # 2026-04-12, after every synthetic event


@pytest.fixture(scope="module")
def salesforce_export(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("salesforce")
    salesforce(leads(60), folder)
    return folder


@pytest.fixture(scope="module")
def hubspot_export(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("hubspot")
    hubspot(leads(60), folder)
    return folder


def export_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.csv"))


# ---------------------------------------------------------------------------- Salesforce


def test_salesforce_preset_gives_the_verdicts_of_the_events(salesforce_export):
    history = load_history(export_files(salesforce_export), timezone=AMS,
                           mapping=load_preset("salesforce"))
    direct = load_history([salesforce_export / "events" / "history.csv"], timezone=AMS)
    counted(history)
    assert verdicts(history, AS_OF) == verdicts(direct, AS_OF)
    assert len(verdicts(history, AS_OF)) > 100


def test_salesforce_touches_are_the_events_touches(salesforce_export):
    """Every touch and connect, at its time and by its owner's name: CompletedDateTime else
    CreatedDate (never ActivityDate), contacts' tasks on their leads, meetings read from the
    UI report's local text, connected dispositions, deleted and open tasks left out."""
    history = load_history(export_files(salesforce_export), timezone=AMS,
                           mapping=load_preset("salesforce"))
    direct = load_history([salesforce_export / "events" / "history.csv"], timezone=AMS)
    for lead_id in direct.lead_ids:
        mine = [e for e in events_of(history, lead_id) if e[1] in ("touch", "connected")]
        theirs = [e for e in events_of(direct, lead_id) if e[1] in ("touch", "connected")]
        assert mine == theirs, lead_id


def test_salesforce_first_owner_is_the_first_owner_changes_old_value(salesforce_export):
    """A lead reassigned later was owned from its creation by the first owner change's
    OldValue, not by its current OwnerId (the Lead row's)."""
    history = load_history(export_files(salesforce_export), timezone=AMS,
                           mapping=load_preset("salesforce"))
    direct = load_history([salesforce_export / "events" / "history.csv"], timezone=AMS)
    tracked = int(TRACKING_START.timestamp()) * 1_000_000
    reassigned = 0
    for lead_id in direct.lead_ids:
        theirs = [e for e in events_of(direct, lead_id) if e[1] == "assigned"]
        if theirs[0][0] < tracked:  # created before tracking: its first owner is not known
            continue
        assert [e for e in events_of(history, lead_id) if e[1] == "assigned"] == theirs
        reassigned += len(theirs) > 1 and theirs[0][2] != theirs[-1][2]
    assert reassigned > 3
    assert len(set(history.actors)) == len(history.actors)
    assert set(history.actors[history.actor[history.actor >= 0]]) == set(history.actors)


def test_salesforce_user_zones_are_the_due_lists_owner_zones(salesforce_export, tmp_path):
    """User.TimeZoneSidKey is each owner's zone (`History.actor_zones`), which the due list
    writes the owner's times in unless the caller names the owner's own."""
    from sla_dsl.reports.report import evaluate as report_of

    user = (salesforce_export / "User.csv").read_text().replace(EXPORT_ZONE, "Asia/Tokyo", 1)
    for path in export_files(salesforce_export):
        (tmp_path / path.name).write_text(user if path.name == "User.csv" else path.read_text())
    history = load_history(export_files(tmp_path), timezone=AMS,
                           mapping=load_preset("salesforce"))
    first = sorted(history.actor_zones, key=lambda a: history.actor_zones[a] != "Asia/Tokyo")[0]
    assert history.actor_zones[first] == "Asia/Tokyo"
    assert {history.actor_zones[a] for a in history.actors if a != first} == {EXPORT_ZONE}
    report = report_of(load_policy(POLICY), history, AS_OF - 30 * 86_400_000_000)
    items = report.due(24 * 60, overdue="all").document["items"]
    assert {i["zone"] for i in items if i["owner"] == first} == {"Asia/Tokyo"}
    assert {i["zone_source"] for i in items if i["owner"] in history.actor_zones} == {"owner"}
    mine = report.due(24 * 60, overdue="all", owner_zones={first: "America/Chicago"})
    assert {i["zone"] for i in mine.document["items"] if i["owner"] == first} == {
        "America/Chicago"}
    without_users = [p for p in export_files(tmp_path) if p.name != "User.csv"]
    assert load_history(without_users, timezone=AMS,
                        mapping=load_preset("salesforce")).actor_zones == {}


@pytest.mark.parametrize("column", ["TimeZoneSidKey", "Name"])
def test_salesforce_users_without_a_column_give_none_of_it(salesforce_export, tmp_path, column):
    """A users export without the zone (or name) column is read as if its cells were empty:
    the same verdicts, owners by id or on the calendar's hours, never an internal error."""
    with (salesforce_export / "User.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    for path in export_files(salesforce_export):
        if path.name != "User.csv":
            (tmp_path / path.name).write_bytes(path.read_bytes())
    with (tmp_path / "User.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, [c for c in rows[0] if c != column],
                                extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    whole = load_history(export_files(salesforce_export), timezone=AMS,
                         mapping=load_preset("salesforce"))
    cut = load_history(export_files(tmp_path), timezone=AMS, mapping=load_preset("salesforce"))
    assert verdicts(cut, AS_OF) == verdicts(whole, AS_OF)
    if column == "Name":
        assert set(cut.actors) == {row["Id"] for row in rows} & set(cut.actors)
        assert set(cut.actor_zones) == set(cut.actors) & set(cut.actor_zones)
        assert cut.actor_zones
    else:
        assert list(cut.actors) == list(whole.actors) and cut.actor_zones == {}


def test_salesforce_rows_are_all_counted(salesforce_export):
    history = load_history(export_files(salesforce_export), timezone=AMS,
                           mapping=load_preset("salesforce"))
    stats = {Path(s.path).name: s for s in history.sources}
    assert set(stats) == {"Lead.csv", "LeadHistory.csv", "Task.csv", "Event.csv"}
    # every row is a record, or left out by a rule (open, deleted, account tasks; the owner
    # rows written by name), and every record accepted or rejected
    task = stats["Task.csv"]
    with (salesforce_export / "Task.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    kept = [r for r in rows if r["Status"] == "Completed" and r["IsDeleted"] == "false"
            and r["WhoId"]]
    assert (task.rows, task.left_out, task.records) == (len(rows), len(rows) - len(kept),
                                                        len(kept))
    owner_rows = sum(1 for r in csv.DictReader((salesforce_export / "LeadHistory.csv").open())
                     if r["Field"] == "Owner")
    assert stats["LeadHistory.csv"].left_out == owner_rows // 2
    [reject] = history.rejects
    assert reject.reason == ("WhoId '0035g9999999999AAA' matches no lead: no row of Lead "
                             "(Lead.csv) kept by its `where` has it as Id or ConvertedContactId "
                             "(ids are compared in full and case-sensitively)")
    assert reject.source.endswith("Task.csv") and reject.row == len(rows)
    assert history.counts.rejected == 1 and history.left_out == sum(
        s.left_out for s in stats.values())


def test_salesforce_notes_history_tracked_late_and_names_owners(salesforce_export):
    history = load_history(export_files(salesforce_export), timezone=AMS,
                           mapping=load_preset("salesforce"))
    [note] = history.notes
    assert note.startswith("LeadHistory.csv starts on 2026-03-04 (")
    assert "tracking was switched on" in note
    # the leads created before LeadHistory's first row, the first five named
    part = [Path(s.path).name for s in history.sources].index("LeadHistory.csv")
    first_row = history.at[history.source == part].min()
    early = [str(lead) for lead in history.lead_ids
             if events_of(history, lead)[0][0] < first_row]
    assert len(early) > 5
    assert (f"{len(early)} leads were created before that ({', '.join(early[:5])} and "
            f"{len(early) - 5} more)") in note
    assert sorted(history.actors) == ["Avery Example", "Blake Example", "Casey Example",
                                      "Drew Example"]
    without_users = [p for p in export_files(salesforce_export) if p.name != "User.csv"]
    history = load_history(without_users, timezone=AMS, mapping=load_preset("salesforce"))
    assert all(a.startswith("005") for a in history.actors)


BOB, CAROL, DAVE = "0055g00000B0b00AAA", "0055g00000C0c00AAA", "0055g00000D0d00AAA"


def owners_export(folder: Path) -> list[Path]:
    """Three leads, written by hand: L1 created before LeadHistory's first row and reassigned
    (Bob to Carol) after it; L2 created before it and never reassigned in it (its OwnerId,
    Dave, is all the export says); L3 created after it and reassigned twice. Each owner change
    is written twice, by Id and by name, as Salesforce writes it."""
    files = {
        "Lead.csv": "Id,OwnerId,Status,CreatedDate,IsConverted,ConvertedContactId,IsDeleted\n"
                    f"00Q5g00000000L1AAA,{CAROL},Working,2026-03-02T09:00:00.000+0000,false,,false\n"
                    f"00Q5g00000000L2AAA,{DAVE},Working,2026-03-02T10:00:00.000+0000,false,,false\n"
                    f"00Q5g00000000L3AAA,{DAVE},Working,2026-03-06T09:00:00.000+0000,false,,false\n",
        "LeadHistory.csv": "Id,LeadId,Field,OldValue,NewValue,DataType,CreatedDate,CreatedById\n"
                           "017A,00Q5g00000000L2AAA,Status,New,Working,Text,"
                           f"2026-03-04T08:00:00.000+0000,{DAVE}\n"
                           f"017B,00Q5g00000000L1AAA,Owner,{BOB},{CAROL},EntityId,"
                           f"2026-03-05T10:00:00.000+0000,{BOB}\n"
                           "017C,00Q5g00000000L1AAA,Owner,Bob Example,Carol Example,Text,"
                           f"2026-03-05T10:00:00.000+0000,{BOB}\n"
                           f"017D,00Q5g00000000L3AAA,Owner,{BOB},{CAROL},EntityId,"
                           f"2026-03-06T12:00:00.000+0000,{BOB}\n"
                           "017E,00Q5g00000000L3AAA,Owner,Bob Example,Carol Example,Text,"
                           f"2026-03-06T12:00:00.000+0000,{BOB}\n"
                           "017F,00Q5g00000000L3AAA,Owner,Carol Example,Dave Example,Text,"
                           f"2026-03-07T12:00:00.000+0000,{CAROL}\n"
                           f"017G,00Q5g00000000L3AAA,Owner,{CAROL},{DAVE},EntityId,"
                           f"2026-03-07T12:00:00.000+0000,{CAROL}\n",
        "Task.csv": "Id,WhoId,OwnerId,ActivityDate,CreatedDate,CompletedDateTime,Status,"
                    "TaskSubtype,CallDisposition,IsDeleted\n",
        "Event.csv": "Id,WhoId,OwnerId,StartDateTime,CreatedDate,Type,Subject\n",
    }
    for name, text in files.items():
        (folder / name).write_text(text)
    return [folder / name for name in files]


def test_salesforce_first_owner_before_tracking(tmp_path):
    """The owner from creation is the earliest Owner change's OldValue when LeadHistory has
    one, else Lead.OwnerId; the note names the leads created before tracking began and says
    which of the two their first owner came from."""
    history = load_history(owners_export(tmp_path), timezone=AMS,
                           mapping=load_preset("salesforce"))

    def at(text: str) -> int:
        return int(dt.datetime.fromisoformat(text).timestamp()) * 1_000_000

    def owners(lead: str) -> list[tuple[int, str]]:
        return [(e[0], e[2]) for e in events_of(history, lead) if e[1] == "assigned"]

    assert owners("00Q5g00000000L1AAA") == [(at("2026-03-02T09:00Z"), BOB),
                                            (at("2026-03-05T10:00Z"), CAROL)]
    assert owners("00Q5g00000000L2AAA") == [(at("2026-03-02T10:00Z"), DAVE)]
    assert owners("00Q5g00000000L3AAA") == [(at("2026-03-06T09:00Z"), BOB),
                                            (at("2026-03-06T12:00Z"), CAROL),
                                            (at("2026-03-07T12:00Z"), DAVE)]
    [note] = history.notes
    assert note == (
        "LeadHistory.csv starts on 2026-03-04 (the CRM keeps this history only since tracking "
        "was switched on): 2 leads were created before that (00Q5g00000000L1AAA, "
        "00Q5g00000000L2AAA), and their changes from before it (a first owner, a first "
        "status) are missing; 1 of them take their owner from creation from their first "
        "tracked change's OldValue, the other 1 the owner Lead.csv holds now, so a change of "
        "owner before 2026-03-04 is not seen")
    counted(history)
    assert history.left_out == 3  # the owner changes' rows written by name


def test_salesforce_ui_times_are_read_in_the_export_zone(salesforce_export):
    here = load_history(export_files(salesforce_export), timezone=AMS,
                        mapping=load_preset("salesforce"))
    elsewhere = load_history(export_files(salesforce_export), timezone=AMS,
                             mapping=load_preset("salesforce"), export_timezone="UTC")
    meetings = [e for lead in here.lead_ids for e in events_of(here, lead) if e[1] == "connected"]
    moved = [e for lead in here.lead_ids for e in events_of(elsewhere, lead)
             if e[1] == "connected"]
    # API times are exact; only the UI report's local text moves (by Amsterdam's offset)
    assert len(meetings) == len(moved)
    assert any(a[0] - b[0] == -3600 * 1_000_000 for a, b in zip(sorted(meetings),
                                                                sorted(moved), strict=True))


def test_salesforce_missing_file_is_named(salesforce_export):
    files = [p for p in export_files(salesforce_export) if p.name != "Task.csv"]
    # a preset's files come from the command line: no advice about files "the mapping names"
    # (they would be in the installed package)
    with pytest.raises(MappingError, match=r"\[\[source\]\] 3 \(\"Task\"\).*no file given.*"
                                           r"\n  help: give the export's file for every object "
                                           r"it reads$"):
        load_history(files, timezone=AMS, mapping=load_preset("salesforce"))
    stray = salesforce_export / "events" / "history.csv"
    with pytest.raises(MappingError, match=r"`.*history\.csv` matches no source's `file`.*\n"
                                           r"  help: name each file as the CRM exports it$"):
        load_history([*export_files(salesforce_export), stray], timezone=AMS,
                     mapping=load_preset("salesforce"))
    # a glob the shell left as written (it matched nothing) is no such file
    with pytest.raises(MappingError, match=r"nowhere/\*\.csv: no such file\n  help: check"):
        load_history([Path("nowhere/*.csv")], timezone=AMS, mapping=load_preset("salesforce"))


# ---------------------------------------------------------------------------- HubSpot


def test_hubspot_preset_gives_the_verdicts_of_the_events(hubspot_export):
    history = load_history(export_files(hubspot_export), timezone=AMS,
                           mapping=load_preset("hubspot"), export_timezone=EXPORT_ZONE)
    direct = load_history([hubspot_export / "events" / "history.csv"], timezone=AMS)
    counted(history)
    assert history.notes == [] and history.counts.rejected == 0
    assert verdicts(history, AS_OF) == verdicts(direct, AS_OF)
    for lead_id in direct.lead_ids:
        assert events_of(history, lead_id) == events_of(direct, lead_id), lead_id


def test_hubspot_needs_the_portal_timezone(hubspot_export):
    with pytest.raises(MappingError, match=r"without an offset.*\n  help: .*--timezone"):
        load_history(export_files(hubspot_export), timezone=AMS,
                     mapping=load_preset("hubspot"))


def test_hubspot_contacts_alone_say_what_they_cannot_show(hubspot_export):
    history = load_history([hubspot_export / "contacts.csv"], timezone=AMS,
                           mapping=load_preset("hubspot"), export_timezone=EXPORT_ZONE)
    counted(history)
    assert len(history.notes) == 2
    assert "latest owner only" in history.notes[0]
    assert "engagements" in history.notes[1]
    assert {EVENTS[e] for e in history.event} == {"created", "handoff", "assigned", "touch"}


def test_hubspot_internal_names_are_read_as_labels(hubspot_export, tmp_path):
    internal = {"Record ID": "hs_object_id", "Create Date": "createdate",
                "Contact owner": "hubspot_owner_id", "Owner assigned date":
                "hubspot_owner_assigneddate", "Became a Marketing Qualified Lead Date":
                "hs_lifecyclestage_marketingqualifiedlead_date"}
    lines = (hubspot_export / "contacts.csv").read_text().splitlines(keepends=True)
    header = ",".join(internal.get(n, n) for n in lines[0].rstrip("\n").split(","))
    (tmp_path / "contacts.csv").write_text(header + "\n" + "".join(lines[1:]))
    by_label = load_history([hubspot_export / "contacts.csv"], timezone=AMS,
                            mapping=load_preset("hubspot"), export_timezone=EXPORT_ZONE)
    by_name = load_history([tmp_path / "contacts.csv"], timezone=AMS,
                           mapping=load_preset("hubspot"), export_timezone=EXPORT_ZONE)
    assert list(by_name.at) == list(by_label.at) and list(by_name.event) == list(
        by_label.event)


def test_presets_print_as_valid_mappings(tmp_path):
    for name in PRESETS:
        (tmp_path / f"{name}.toml").write_text(preset_text(name))
        assert [s.name for s in parse_mapping(preset_text(name), tmp_path / "x.toml").sources]


# ---------------------------------------------------------------------------- the rules


def mapped(tmp_path: Path, text: str, files: dict[str, str], **kwargs):
    for name, content in files.items():
        (tmp_path / name).write_text(content)
    (tmp_path / "m.toml").write_text(text)
    mapping = parse_mapping(text, tmp_path / "m.toml")
    return load_history([], timezone=AMS, mapping=mapping, **kwargs)


LOG = """[[source]]
file = "log.csv"
lead_id = "who"
{extra}
[source.columns]
at = {at}
event = {event}
actor = "by"
{tables}
"""


def test_where_glob_list_and_empty(tmp_path):
    text = LOG.format(extra='where = { kind = ["call", "mail*"], gone = ["", "false"] }',
                      at='"t"', event='"kind"', tables='[source.event_names]\n'
                      'call = "touch"\nmail = "touch"\nmailing = "touch"')
    history = mapped(tmp_path, text, {"log.csv": "who,t,kind,by,gone\n"
                                      "a,2026-03-02T10:00Z,call,x,\n"
                                      "a,2026-03-02T11:00Z,mailing,x,false\n"
                                      "a,2026-03-02T12:00Z,call,x,true\n"
                                      "a,2026-03-02T13:00Z,note,x,\n"})
    assert [s.left_out for s in history.sources] == [2]
    assert len(history) == 2 and history.counts.read == 2


def test_where_not_reads_the_rows_matching_none(tmp_path):
    text = LOG.format(extra='where = { kind = { not = ["note", "mail*"] }, gone = { not = '
                      '"true" } }', at='"t"', event='"kind"', tables="")
    history = mapped(tmp_path, text, {"log.csv": "who,t,kind,by,gone\n"
                                      "a,2026-03-02T10:00Z,touch,x,\n"
                                      "a,2026-03-02T11:00Z,mailing,x,false\n"
                                      "a,2026-03-02T12:00Z,touch,x,true\n"
                                      "a,2026-03-02T13:00Z,note,x,\n"
                                      "a,2026-03-02T14:00Z,touch,x,false\n"})
    assert list(history.row) == [1, 5]
    assert [s.left_out for s in history.sources] == [3]
    assert history.counts.read == history.counts.accepted + history.counts.rejected == 2


def test_hubspot_epoch_milliseconds_are_instants(tmp_path):
    text = LOG.format(extra='datetime_format = "epoch_ms"', at='"t"', event='"kind"',
                      tables="")
    history = mapped(tmp_path, text, {"log.csv": "who,t,kind,by\n"
                                      "a,1772445600000,touch,x\n"
                                      "a,2026-03-02T11:00Z,touch,x\n"
                                      "a,1772445600123x,touch,x\n"})
    assert list(history.at) == [1772445600000000, 1772449200000000]  # 10:00Z, 11:00Z
    [reject] = history.rejects
    assert reject.row == 3 and "1772445600123x" in reject.reason
    preset = load_preset("hubspot")
    assert all("epoch_ms" in preset.source(name).datetime_formats
               for name in ("contacts", "property_history", "engagements"))


def test_hubspot_engagements_in_epoch_milliseconds_read_as_iso(hubspot_export, tmp_path):
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pcsv

    for path in export_files(hubspot_export):
        (tmp_path / path.name).write_bytes(path.read_bytes())
    table = pcsv.read_csv(tmp_path / "engagements.csv",
                          convert_options=pcsv.ConvertOptions(column_types={
                              "timestamp": pa.timestamp("ms", "UTC")}))
    assert pa.types.is_timestamp(table.column("timestamp").type)  # written with an offset
    millis = pc.cast(pc.cast(table.column("timestamp"), pa.int64()), pa.string())
    table = table.set_column(table.column_names.index("timestamp"), "timestamp", millis)
    pcsv.write_csv(table, tmp_path / "engagements.csv")
    assert "1772" in (tmp_path / "engagements.csv").read_text().splitlines()[1]
    as_iso = load_history(export_files(hubspot_export), timezone=AMS,
                          mapping=load_preset("hubspot"), export_timezone=EXPORT_ZONE)
    as_ms = load_history(export_files(tmp_path), timezone=AMS,
                         mapping=load_preset("hubspot"), export_timezone=EXPORT_ZONE)
    assert as_ms.counts.rejected == 0
    assert list(as_ms.at) == list(as_iso.at) and list(as_ms.event) == list(as_iso.event)


def test_duplicates_keep_the_matching_row(tmp_path):
    text = LOG.format(extra='duplicates = { key = ["who", "t"], keep = { by = "005*" } }',
                      at='"t"', event='"kind"', tables="")
    history = mapped(tmp_path, text, {"log.csv": "who,t,kind,by\n"
                                      "a,2026-03-02T10:00Z,assigned,Pat Example\n"
                                      "a,2026-03-02T10:00Z,assigned,005A\n"
                                      "a,2026-03-02T11:00Z,touch,Pat Example\n"})
    assert list(history.actors[history.actor]) == ["005A", "Pat Example"]
    assert history.sources[0].left_out == 1 and list(history.row) == [2, 3]


def test_first_non_empty_time_and_datetime_format(tmp_path):
    text = LOG.format(extra='datetime_format = "%m/%d/%Y %I:%M %p"', at='["done", "made"]',
                      event='"kind"', tables="")
    history = mapped(tmp_path, text, {"log.csv": "who,done,made,kind,by\n"
                                      "a,,2026-03-02T10:00:00.000+0000,touch,x\n"
                                      "a,3/2/2026 2:30 PM,2026-03-01T10:00Z,touch,x\n"
                                      "a,13/2/2026 2:30 PM,,touch,x\n"})
    assert list(history.at) == [1772445600000000, 1772458200000000]  # 10:00Z, 14:30 CET
    [reject] = history.rejects
    assert reject.row == 3 and "13/2/2026 2:30 PM" in reject.reason


def test_event_of_two_columns_with_actor_and_field(tmp_path):
    tables = ('[source.event_names]\nOwner = "assigned"\n[source.event_names.Status]\n'
              '"Working" = "stage"\n"Lost" = "rejected"\n[source.actors]\n'
              'assigned = "new"\n[source.value_fields]\nStatus = "status"\n[source.fields]\n')
    text = LOG.format(extra="", at='"t"', event='["field", "new"]', tables=tables)
    history = mapped(tmp_path, text, {"log.csv": "who,t,field,new,by\n"
                                      "a,2026-03-02T10:00Z,Owner,005B,005A\n"
                                      "a,2026-03-02T11:00Z,Status,Working,005B\n"
                                      "a,2026-03-02T12:00Z,Status,Odd,005B\n"
                                      "a,2026-03-02T13:00Z,Rating,Hot,005B\n"})
    assert [EVENTS[e] for e in history.event] == ["assigned", "stage"]
    assert list(history.actors[history.actor]) == ["005B", "005B"]
    assert list(history.fields["status"]) == [None, "Working"]
    reasons = [r.reason for r in history.rejects]
    assert reasons[0].startswith("field 'Status' with new 'Odd' is in no table: add it to "
                                 '[source.event_names."Status"] of m.toml')
    assert reasons[1].startswith("field 'Rating' is not in [source.event_names] of m.toml")
    counted(history)


def test_join_through_another_source(tmp_path):
    text = """
[[source]]
name = "lead"
file = "lead.csv"
lead_id = "id"
[source.events]
created = "made"

[[source]]
name = "task"
file = "task.csv"
lead_id = "who"
join = { source = "lead", match = ["id", "contact"] }
[source.columns]
at = "t"
event = "kind"
"""
    history = mapped(tmp_path, text, {
        "lead.csv": "id,made,contact\nL1,2026-03-02T09:00Z,C1\nL2,2026-03-02T09:00Z,C1\n",
        "task.csv": "who,t,kind\nL1,2026-03-02T10:00Z,touch\nC1,2026-03-02T11:00Z,touch\n"
                    "C9,2026-03-02T12:00Z,touch\n,2026-03-02T13:00Z,touch\n"})
    counted(history)
    touches = [(history.lead_ids[history.lead[i]], int(history.row[i]))
               for i in range(len(history)) if EVENTS[history.event[i]] == "touch"]
    assert sorted(touches) == [("L1", 1), ("L1", 2), ("L2", 2)]  # C1: both its leads
    assert [(r.row, r.reason) for r in history.rejects] == [
        (3, "who 'C9' matches no lead: no row of lead (lead.csv) has it as id or contact "
            "(ids are compared in full and case-sensitively)"),
        (4, "missing lead id")]


@pytest.mark.parametrize(("text", "expected"), [
    ('where = "x"', "key `where`: must be a table of column = value"),
    ('where = { a = 1.5 }\n', None),
    ('where = { a = [] }', "key `where.a`: lists no value"),
    ('where = { a = { nott = "x" } }', "key `where.a.nott`: a table here takes the one key "
     "`not`"),
    ('where = { a = { not = [] } }', "key `where.a.not`: lists no value"),
    ('duplicates = { key = "a", keep = { b = { is = "x" } } }',
     "key `duplicates.keep.b.is`: a table here takes the one key `not`"),
    ('datetime_format = "epoch"', 'or "epoch_ms" for milliseconds since 1970'),
    ('duplicates = ["a"]', "key `duplicates`: must be a table with `key`"),
    ('duplicates = { key = "a", drop = 1 }', "key `duplicates.drop`: unknown key"),
    ('datetime_format = "MM/DD"', "`MM/DD` has no % directive"),
    ('join = { source = "nope", match = "id" }', "key `join.source`: no source is named `nope`"),
    ('join = { source = "log" }', "key `join`: must be a table with `source` and `match`"),
    ('join_only = "yes"', "key `join_only`: must be true or false"),
    ('when_missing = "x"', "key `when_missing`: only an optional source can be missing"),
    ('actor_names = { id = "a" }', "key `actor_names`: must be a table with `id` and `name`"),
    ('timezone = "Mars/Base"', 'or "required": the command line names it'),
])
def test_rule_mistakes_name_file_key_and_fix(tmp_path, text, expected):
    source = f'[[source]]\nname = "log"\nfile = "log.csv"\n{text}\n'
    if expected is None:
        parse_mapping(source, tmp_path / "m.toml")
        return
    with pytest.raises(MappingError) as info:
        parse_mapping(source, tmp_path / "m.toml")
    message = str(info.value)
    assert message.startswith(f"{tmp_path / 'm.toml'}: ")
    assert expected in message and "\n  help: " in message


@pytest.mark.parametrize(("columns", "tables", "expected"), [
    ('event = ["a"]', "", "key `columns.event`: names 1 columns"),
    ('event = "a"', '[source.event_names.X]\n"v" = "touch"',
     'key `event_names."X"`: a table of values needs an event of two columns'),
    ('event = "a"', '[source.value_fields]\nX = "x"', "key `value_fields.X`: needs an event "
     "of two columns"),
    ('event = ["a", "b"]', '[source.value_fields]\nX = "at"', "`at` is not a field name"),
    ('event = "a"', '[source.actors]\ntuch = "b"', "unknown event `tuch`"),
])
def test_event_rule_mistakes(tmp_path, columns, tables, expected):
    text = f'[[source]]\nfile = "log.csv"\n[source.columns]\n{columns}\n{tables}\n'
    with pytest.raises(MappingError, match=expected.replace("[", r"\[").replace(".", r"\.")):
        parse_mapping(text, tmp_path / "m.toml")


def test_a_rule_column_missing_from_the_file_is_named(tmp_path):
    text = LOG.format(extra='where = { IsDeleted = "false" }', at='"t"', event='"kind"',
                      tables="")
    with pytest.raises(MappingError, match=r"key `where\.IsDeleted`: `log\.csv` has no column "
                                           r"`IsDeleted`\n  help: .*its columns are"):
        mapped(tmp_path, text, {"log.csv": "who,t,kind,by\n"})


def test_a_policy_test_case_reads_an_export_through_a_preset(tmp_path, capsys):
    from sla_dsl.cli import main

    (tmp_path / "tests" / "inbound-desk" / "sf").mkdir(parents=True)
    (tmp_path / "inbound-desk.sla").write_text(POLICY.read_text())
    salesforce(leads(12), tmp_path / "tests" / "inbound-desk" / "sf")
    history = load_history(export_files(tmp_path / "tests" / "inbound-desk" / "sf"),
                           timezone=AMS, mapping=load_preset("salesforce"))
    statuses = {key[2]: status for key, status in verdicts(history, AS_OF).items()
                if key[1].startswith("first touch")}
    lead, status = sorted(statuses.items())[0]
    files = ", ".join(f'"sf/{p.name}"' for p in export_files(
        tmp_path / "tests" / "inbound-desk" / "sf") if p.name != "Task.csv")
    case = (f'name = "salesforce"\nas_of = 2026-04-12T00:00:00\npreset = "salesforce"\n'
            f'history = [{files}, "sf/Task.csv"]\n[[expect]]\nlead = "{lead}"\n'
            f'clause = "first touch"\nstatus = "{["met", "breached", "pending"][status]}"\n')
    (tmp_path / "tests" / "inbound-desk" / "sf.toml").write_text(case)
    code = main(["test", str(tmp_path / "tests" / "inbound-desk" / "sf.toml")])
    out, err = capsys.readouterr()
    # the one task on a contact that is no lead's is rejected: a case must read every row
    assert code == 2 and "WhoId '0035g9999999999AAA' matches no lead" in out + err
    task = tmp_path / "tests" / "inbound-desk" / "sf" / "Task.csv"
    task.write_text("".join(task.read_text().splitlines(keepends=True)[:-1]))
    assert main(["test", str(tmp_path / "tests" / "inbound-desk" / "sf.toml")]) == 0, \
        capsys.readouterr()
    capsys.readouterr()
    (tmp_path / "tests" / "inbound-desk" / "sf.toml").write_text(
        case.replace('preset = "salesforce"', 'preset = "zoho"'))
    assert main(["test", str(tmp_path / "tests" / "inbound-desk" / "sf.toml")]) == 2
    assert "unknown preset 'zoho'" in "".join(capsys.readouterr())


# ---------------------------------------------------------------------------- the commands


def sla(capsys, *args: str) -> tuple[int, str, str]:
    from sla_dsl.cli import main

    try:
        code = main(list(args))
    except SystemExit as exit_:
        code = exit_.code
    out, err = capsys.readouterr()
    return code, out, err


def test_evaluate_with_a_preset(capsys, salesforce_export):
    files = [str(p) for p in export_files(salesforce_export)]
    code, out, err = sla(capsys, "evaluate", str(POLICY), "--preset", "salesforce",
                         "--history", *files, "-q", "--format", "json")
    assert code == 0, err
    import json

    rows = json.loads(out)["rows"]
    assert rows["read"] == rows["accepted"] + rows["rejected"] and rows["left_out"] > 0
    assert rows["notes"][0].startswith("LeadHistory.csv starts on")
    code, out, err = sla(capsys, "evaluate", str(POLICY), "--preset", "salesforce",
                         "--history", *files, "-q")
    assert "more left out by the mapping's filters" in out and "\nnote: LeadHistory" in out


def test_print_mapping_writes_the_preset_out(capsys, tmp_path, salesforce_export):
    code, out, _ = sla(capsys, "evaluate", "--preset", "salesforce", "--print-mapping")
    assert code == 0 and out == preset_text("salesforce")
    (tmp_path / "mine.toml").write_text(out)
    files = [str(p) for p in export_files(salesforce_export)]
    code, _, err = sla(capsys, "evaluate", str(POLICY), "--mapping", str(tmp_path / "mine.toml"),
                       "--history", *files, "-q")
    assert code == 0, err
    code, _, err = sla(capsys, "evaluate", "--print-mapping")
    assert code == 2 and "--preset salesforce --print-mapping" in err
    code, out, err = sla(capsys, "evaluate", "--preset", "salesforce", "--print-mapping",
                         "--mapping", str(tmp_path / "mine.toml"))
    assert code == 2 and not out and "--mapping" in err and "leave --mapping out" in err
    code, _, err = sla(capsys, "evaluate", "--preset", "salesforce")
    assert code == 2 and "no policy given" in err


@pytest.mark.parametrize(("args", "message"), [
    (["--mapping", "m.toml"], "--mapping m.toml and --preset salesforce both name a mapping"),
    (["--timezone", "Mars/Base"], "--timezone 'Mars/Base' is not a time zone"),
])
def test_preset_option_mistakes(capsys, salesforce_export, args, message):
    files = [str(p) for p in export_files(salesforce_export)]
    code, _, err = sla(capsys, "evaluate", str(POLICY), "--preset", "salesforce",
                       "--history", *files, "-q", *args)
    assert code == 2 and message in err


def test_diff_and_calibrate_read_through_a_preset(capsys, tmp_path, hubspot_export):
    files = [str(p) for p in export_files(hubspot_export)]
    code, out, err = sla(capsys, "diff", str(POLICY), str(POLICY), "--preset", "hubspot",
                         "--timezone", EXPORT_ZONE, "--history", *files)
    assert code == 0 and "replayed over" in out and "60 leads" in out, err
    code, out, err = sla(capsys, "calibrate", "--policy", str(POLICY), "--preset", "hubspot",
                         "--timezone", EXPORT_ZONE, "--history", *files, "-o",
                         str(tmp_path / "s.toml"))
    assert code == 0 and "calibrated from 60 leads" in out, err


# ---------------------------------------------------------------------------- shipped exports


SHIPPED = {crm: sorted(str(p) for p in (ROOT / "examples" / crm).glob("*.csv"))
           for crm in ("salesforce", "hubspot")}


def test_the_readmes_command_reads_the_shipped_salesforce_export(capsys):
    """README: `sla evaluate policies/inbound-desk.sla --preset salesforce --history
    examples/salesforce/*.csv`, the one command, on the export shipped."""
    code, out, err = sla(capsys, "evaluate", str(POLICY), "--preset", "salesforce",
                         "--history", *SHIPPED["salesforce"])
    assert code == 0, err
    assert "history: 407 rows read, 406 accepted, 1 rejected (63 more left out" in out
    assert "leads: 60, handed off: 60" in out
    assert "note: LeadHistory.csv starts on 2026-03-04 (" in out
    assert "Task.csv:184: rejected: WhoId '0035g9999999999AAA' matches no lead" in err
    assert "Drew Example" in out  # owners by User.Name


def test_diff_replays_the_shipped_salesforce_export(capsys, tmp_path):
    stricter = tmp_path / "stricter.sla"
    stricter.write_text(POLICY.read_text().replace("within 4 business hours",
                                                   "within 2 business hours"))
    assert stricter.read_text() != POLICY.read_text()
    code, out, err = sla(capsys, "diff", str(POLICY), str(stricter), "--preset", "salesforce",
                         "--history", *SHIPPED["salesforce"])
    assert code == 0, err
    assert "replayed over" in out and "60 leads" in out
    assert "breaches: 58 -> " in out and "no lead's verdict changes" not in out
    assert "1 row of the history was rejected" in err


def test_calibrate_reads_the_shipped_hubspot_export(capsys, tmp_path):
    code, out, err = sla(capsys, "calibrate", "--policy", str(POLICY), "--preset", "hubspot",
                         "--timezone", EXPORT_ZONE, "--history", *SHIPPED["hubspot"], "-o",
                         str(tmp_path / "scenario.toml"))
    assert code == 0, err
    assert "calibrated from 60 leads" in out and (tmp_path / "scenario.toml").is_file()


def test_policy_test_case_reads_the_shipped_hubspot_export(capsys):
    case = ROOT / "policies" / "tests" / "inbound-desk" / "hubspot-export.toml"
    code, out, err = sla(capsys, "test", str(case))
    assert code == 0 and "PASS" in out and "1 passed" in out, out + err
    # sla test takes no --preset: the case says how its files are read
    code, _, err = sla(capsys, "test", "--preset", "hubspot", "--timezone", EXPORT_ZONE,
                       str(case))
    assert code == 2
    assert 'write preset = "hubspot" and timezone = "Europe/Amsterdam"' in err


# ---------------------------------------------------------------------------- shipped examples


@pytest.mark.parametrize("crm", ["salesforce", "hubspot"])
def test_shipped_examples_are_the_generators_and_replay_as_their_events(crm, tmp_path):
    shipped = ROOT / "examples" / crm
    (salesforce if crm == "salesforce" else hubspot)(leads(60), tmp_path)
    made = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*.csv"))
    assert made == sorted(p.relative_to(shipped) for p in shipped.rglob("*.csv"))
    for name in made:
        assert (shipped / name).read_bytes() == (tmp_path / name).read_bytes(), name
    zone = EXPORT_ZONE if crm == "hubspot" else None
    history = load_history(export_files(shipped), timezone=AMS, mapping=load_preset(crm),
                           export_timezone=zone)
    direct = load_history([shipped / "events" / "history.csv"], timezone=AMS)
    assert verdicts(history, AS_OF) == verdicts(direct, AS_OF)


def test_optional_fields_leave_out_what_the_export_lacks(tmp_path):
    text = LOG.format(extra="optional_fields = true", at='"t"', event='"kind"',
                      tables='[source.fields]\nrating = "Rating"\ntitle = "Title"')
    history = mapped(tmp_path, text, {"log.csv": "who,t,kind,by,Title\n"
                                      "a,2026-03-02T10:00Z,touch,x,CEO\n"})
    assert list(history.fields) == ["title"]
    with pytest.raises(MappingError, match=r"key `fields\.rating`: `log\.csv` has no column"):
        mapped(tmp_path, text.replace("optional_fields = true", ""), {})


@pytest.mark.parametrize("fields", [None, set(), {"note"}])
def test_rejects_of_a_prepared_source_show_every_column_and_bound_every_value(tmp_path,
                                                                              fields):
    """Also when only the columns the records need are read (`fields` given, as `sla
    evaluate` reads): a value too long in a column not read still rejects its row, and a
    reject's raw values still show every column."""
    text = LOG.format(extra='where = { gone = "false" }', at='"t"', event='"kind"',
                      tables='[source.fields]')
    huge = "x" * (1 << 20 | 1)
    history = mapped(tmp_path, text, {"log.csv": "who,t,kind,by,gone,note\n"
                                      "a,2026-03-02T10:00Z,tuch,x,false,hello\n"
                                      f"a,2026-03-02T11:00Z,touch,x,false,{huge}\n"
                                      "a,2026-03-02T12:00Z,touch,x,false,\n"}, fields=fields)
    first, second = history.rejects
    assert first.raw["note"] == "hello" and first.raw["kind"] == "tuch"
    assert "unknown event 'tuch'" in first.reason
    assert second.row == 2 and "longer than 1,048,576 bytes" in second.reason
    assert len(history) == 1


@pytest.mark.parametrize("content", [
    "who,t,kind,by,gone,note\na,2026-03-02T10:00Z,tuch,x,false,hello\n"
    "a,2026-03-02T12:00Z,touch,x,false,\n",
    'who,t,kind,by,gone,note\n"a","2026-03-02T10:00Z","tuch","x","false","hello"\r\n'
    '"a","2026-03-02T12:00Z","touch","x","false",""\r\n\r\n',
    "who,t,kind,by,gone,note\na,2026-03-02T10:00Z,tuch,x,false,\"hel\nlo\"\n\n"
    "a,2026-03-02T12:00Z,touch,x,false,\n",
])
def test_a_narrowed_read_is_the_whole_read(tmp_path, content):
    """Read with only the columns the records need, or whole (a value over two lines, an
    empty line): the same history, and a reject's raw values show every column."""
    text = LOG.format(extra='where = { gone = "false" }', at='"t"', event='"kind"',
                      tables='[source.fields]\nnote = "note"')
    whole = mapped(tmp_path, text, {"log.csv": content})
    narrow = mapped(tmp_path, text, {"log.csv": content}, fields=set())
    assert list(narrow.at) == list(whole.at) and narrow.counts == whole.counts
    assert [r.raw for r in narrow.rejects] == [r.raw for r in whole.rejects]
    assert narrow.rejects[0].raw["note"].startswith("hel")
    assert list(narrow.fields) == [] and list(whole.fields) == ["note"]


def test_the_library_reads_a_preset_as_the_command_line_does(capsys, salesforce_export):
    import sla_dsl

    files = [str(p) for p in export_files(salesforce_export)]
    code, out, err = sla(capsys, "evaluate", str(POLICY), "--preset", "salesforce",
                         "--timezone", "America/New_York", "--history", *files, "-q",
                         "--format", "json")
    assert code == 0, err
    policy = sla_dsl.load_policy(POLICY)
    history = sla_dsl.load_history(files, policy=policy, preset="salesforce",
                                   export_timezone="America/New_York")
    assert history.left_out > 0 and history.notes
    assert sla_dsl.evaluate(policy, history).json() == out
    with pytest.raises(MappingError, match="both say how to read the export"):
        sla_dsl.load_history(files, ROOT / "examples/olist/mapping.toml", preset="salesforce")


def test_the_cli_offers_every_preset():
    from sla_dsl.cli.history_input import PRESET_NAMES

    assert PRESET_NAMES == PRESETS


def test_a_preset_without_files_says_which_to_give(capsys):
    code, _, err = sla(capsys, "evaluate", str(POLICY), "--preset", "hubspot", "-q")
    assert code == 2 and "--preset hubspot reads the export's files" in err
    assert "--history contacts.csv property_history.csv" in err


def test_the_html_report_says_what_the_export_cannot_show(capsys, tmp_path, salesforce_export):
    files = [str(p) for p in export_files(salesforce_export)]
    page = tmp_path / "r.html"
    code, _, err = sla(capsys, "evaluate", str(POLICY), "--preset", "salesforce", "--history",
                       *files, "-q", "--html", str(page))
    assert code == 0, err
    text = page.read_text()
    assert "Note: LeadHistory.csv starts on 2026-03-04" in text
    assert "63 more rows were left out by the mapping&#x27;s filters" in text or \
        "63 more rows were left out by the mapping's filters" in text


def test_a_column_cut_from_one_dictionary_is_not_unified_again():
    """A lead column coded once (LeadHistory's in Lead's ids) and cut into chunks shares one
    dictionary; unifying it would hash that dictionary once per chunk."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from sla_dsl.history.prepare import shares_one_dictionary

    coded = pc.dictionary_encode(pa.array([f"00Q{i:015d}" for i in range(3000)] * 2))
    cut = pa.chunked_array([coded.slice(0, 1000), coded.slice(1000, 2500), coded.slice(3500)])
    assert shares_one_dictionary(cut)
    again = pa.chunked_array([coded.slice(0, 1000), pc.dictionary_encode(
        pc.cast(coded.slice(1000), pa.string()))])
    assert not shares_one_dictionary(again)


def test_a_join_value_repeated_in_both_files_is_refused_not_multiplied(tmp_path, capsys):
    """4,000 engagements and 4,000 links all naming engagement 1 (800 KB of CSV) made 16
    million records and 2 GB; rows found by rows are now bounded, and the command says why."""
    from sla_dsl.cli import main

    shipped = ROOT / "examples" / "hubspot"
    for path in shipped.glob("*.csv"):
        (tmp_path / path.name).write_bytes(path.read_bytes())
    with (shipped / "contacts.csv").open(newline="") as handle:
        contact = next(csv.DictReader(handle))["Record ID"]
    with (shipped / "engagements.csv").open(newline="") as handle:
        reader = csv.reader(handle)
        header, first = next(reader), next(reader)
    repeated = 1100
    with (tmp_path / "engagements.csv").open("w", newline="") as handle:
        csv.writer(handle).writerows([header, *[first] * repeated])
    with (tmp_path / "engagement_contacts.csv").open("w", newline="") as handle:
        csv.writer(handle).writerows([["contact_id", "engagement_id"],
                                      *[[contact, first[0]]] * repeated])
    code = main(["evaluate", str(POLICY), "--preset", "hubspot", "--timezone", EXPORT_ZONE,
                 "-q", "--history", *(str(p) for p in sorted(tmp_path.glob("*.csv")))])
    err = capsys.readouterr().err
    assert code == 2
    assert ("source `engagements` joins `engagement_contacts` "
            f"({tmp_path / 'engagement_contacts.csv'}) by engagement_id: its id values find "
            "1,210,000 rows there, more than the 1,000,000 a join may find") in err
    assert "help: a value repeated in many rows of both files" in err


def test_a_hubspot_contacts_export_without_an_aliased_date_column_names_it(tmp_path, capsys):
    # a view export of contacts with no "Owner assigned date" (nor its API name): the column
    # was looked up by position further on and the command exited 70
    from sla_dsl.cli import main

    export = tmp_path / "contacts.csv"
    export.write_text("Record ID,Create Date,Became a Marketing Qualified Lead Date,"
                      "Contact owner\n1000,2026-03-03 17:35,2026-03-03 17:40,Blake Example\n")
    for command in (["evaluate", str(POLICY)], ["ingest", "--buckets", "2", "--out",
                                                str(tmp_path / "out")]):
        code = main([*command, "--preset", "hubspot", "--timezone", AMS, "--history",
                     str(export), "-q"])
        err = capsys.readouterr().err
        assert code == 2, err
        assert "key `events.assigned.at`: `contacts.csv` has no column `Owner assigned date` " \
               "(nor hubspot_owner_assigneddate)" in err



def test_a_bad_date_cell_read_for_several_events_names_each(tmp_path):
    # one CreatedDate is the lead's created, handoff and assigned: three rejected records,
    # which read as three identical lines when none said which event it was
    folder = tmp_path / "export"
    for name in ("Lead.csv", "LeadHistory.csv", "Task.csv", "Event.csv", "User.csv"):
        (folder / name).parent.mkdir(exist_ok=True)
        (folder / name).write_bytes((ROOT / "examples" / "salesforce" / name).read_bytes())
    lines = (folder / "Lead.csv").read_text().splitlines(keepends=True)
    header = lines[0].rstrip("\r\n").split(",")
    cells = lines[1].rstrip("\r\n").split(",")
    cells[header.index("CreatedDate")] = "not-a-date"
    lines[1] = ",".join(cells) + "\n"
    (folder / "Lead.csv").write_text("".join(lines))
    history = load_history(sorted(folder.glob("*.csv")), timezone=AMS,
                           mapping=load_preset("salesforce"))
    reasons = [r.reason for r in history.rejects if r.source.endswith("Lead.csv")
               and r.row == 1]
    assert len(reasons) == len(set(reasons)) >= 2
    assert all(r.startswith("time 'not-a-date' is not a date and time") for r in reasons)
    assert "(for its `created` event)" in reasons[0]



def test_one_lead_created_before_a_tracked_history_is_one_lead(tmp_path):
    # the owners export without L2: "1 leads were created before that ..., and their changes"
    files = owners_export(tmp_path)
    lead = tmp_path / "Lead.csv"
    lead.write_text("".join(line for line in lead.read_text().splitlines(keepends=True)
                            if "L2AAA" not in line))
    history = tmp_path / "LeadHistory.csv"
    history.write_text("".join(line for line in history.read_text().splitlines(keepends=True)
                               if "L2AAA" not in line))
    [note] = load_history(files, timezone=AMS, mapping=load_preset("salesforce")).notes
    assert "1 lead was created before that (00Q5g00000000L1AAA), and its changes from " \
           "before it" in note
