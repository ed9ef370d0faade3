"""Salesforce's field history as the preset reads it, on small exports written as the shipped
example's files are: two changes in one second (an owner changed twice, a status changed twice)
are both read, only the name row Salesforce writes beside each owner change's Id row being left
out; a change of a lead that is not a kept Lead row (deleted, unknown, its id in another case or
in the 15-character form) is rejected with its reason, as the lead's tasks are; and all of it
the same through `sla ingest`. Last, an ingest's bucket read as a file of its own says where
the ingest's rejected rows and counts are."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sla_dsl.cli import main
from sla_dsl.evaluation.inputs import load_history
from sla_dsl.history.columns import EVENTS, NO_ACTOR
from sla_dsl.history.mapping import MappingError, parse_mapping

from .conftest import ROOT

POLICY = str(ROOT / "policies" / "inbound-desk.sla")
ZONE = "Europe/Amsterdam"

LEAD = ("Id,OwnerId,Status,LeadSource,CreatedDate,IsConverted,ConvertedDate,ConvertedContactId,"
        "ConvertedOpportunityId,Rating,Industry,NumberOfEmployees,AnnualRevenue,Title,Company,"
        "Country,IsDeleted")
LEAD_HISTORY = "Id,LeadId,Field,OldValue,NewValue,DataType,CreatedDate,CreatedById"
TASK = ("Id,WhoId,OwnerId,ActivityDate,CreatedDate,CompletedDateTime,Status,Type,TaskSubtype,"
        "CallDisposition,CallDurationInSeconds,Subject,IsDeleted")
EVENT = "Id,WhoId,OwnerId,StartDateTime,CreatedDate,Type,Subject"
USERS = ("Id,Name,IsActive,TimeZoneSidKey\n"
         "005000000000001AAA,Ana Example,true,Europe/Amsterdam\n"
         "005000000000002AAA,Bo Example,true,Europe/Amsterdam\n"
         "005000000000003AAA,Cy Example,true,Europe/Amsterdam\n")
ANA, BO, CY = "005000000000001AAA", "005000000000002AAA", "005000000000003AAA"
LEAD_1, LEAD_2 = "00Q000000000001AAA", "00Q000000000002AAA"
NINE, TEN = "2026-03-09T08:00:00.000+0000", "2026-03-09T09:00:00.000+0000"


def lead_row(lead: str, owner: str, status: str, deleted: str = "false") -> str:
    return (f"{lead},{owner},{status},Web,{NINE},false,,,,Warm,Retail,8,1000,CEO,Co,NL,"
            f"{deleted}")


def task_row(task: str, who: str, owner: str, done: str) -> str:
    return (f"{task},{who},{owner},2026-03-09,{done},{done},Completed,Call,Call,No answer,0,"
            f"Call,false")


def export(folder: Path, leads: list[str], changes: list[str], tasks: list[str]) -> list[str]:
    """The five files of a Salesforce export, as the shipped example writes them."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {"Lead.csv": [LEAD, *leads], "LeadHistory.csv": [LEAD_HISTORY, *changes],
             "Task.csv": [TASK, *tasks], "Event.csv": [EVENT]}
    for name, lines in files.items():
        (folder / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    (folder / "User.csv").write_text(USERS, encoding="utf-8")
    return sorted(str(p) for p in folder.glob("*.csv"))


def one_second(folder: Path) -> list[str]:
    """Lead 1's owner changed Ana -> Bo -> Cy in one second (an assignment rule, then a round
    robin), each change written twice, with Ids and with names, in either order; lead 2's
    status Open -> Working -> Closed - Not Converted in one second."""
    return export(folder, [lead_row(LEAD_1, CY, "Working - Contacted"),
                           lead_row(LEAD_2, ANA, "Closed - Not Converted")], [
        f"0171,{LEAD_1},Owner,{ANA},{BO},EntityId,{TEN},{ANA}",
        f"0172,{LEAD_1},Owner,Ana Example,Bo Example,Text,{TEN},{ANA}",
        f"0173,{LEAD_1},Owner,Bo Example,Cy Example,Text,{TEN},{ANA}",
        f"0174,{LEAD_1},Owner,{BO},{CY},EntityId,{TEN},{ANA}",
        f"0175,{LEAD_2},Status,Open - Not Contacted,Working - Contacted,Picklist,{TEN},{ANA}",
        f"0176,{LEAD_2},Status,Working - Contacted,Closed - Not Converted,Picklist,{TEN},{ANA}",
    ], [task_row("00T1", LEAD_1, CY, "2026-03-09T10:00:00.000+0000")])


def one_second_reversed(folder: Path) -> list[str]:
    """`one_second` with LeadHistory's rows in the reverse order, as an export made in
    parallel chunks may write them: each second's changes still link by their values."""
    files = one_second(folder)
    changes = folder / "LeadHistory.csv"
    header, *rows = changes.read_text(encoding="utf-8").splitlines()
    changes.write_text("\n".join([header, *reversed(rows)]) + "\n", encoding="utf-8")
    return files


def orphans(folder: Path) -> list[str]:
    """Lead 2 is deleted (IsDeleted true) and has a task and field changes; LeadHistory also
    names an id no Lead row has, lead 1's id in lower case, with a space inside it (one
    around it is no part of the id), and in the 15-character form in lower case (the
    15-character form itself is the id). The orphans' last change is a day after every real
    event."""
    later = "2026-03-10T09:00:00.000+0000"
    return export(folder, [lead_row(LEAD_1, ANA, "Working - Contacted"),
                           lead_row(LEAD_2, ANA, "Working - Contacted", deleted="true")], [
        f"0171,{LEAD_1},Owner,{ANA},{BO},EntityId,{TEN},{ANA}",
        f"0172,{LEAD_2},Owner,{ANA},{BO},EntityId,{TEN},{ANA}",
        f"0173,{LEAD_2},Status,Open - Not Contacted,Closed - Converted,Picklist,{later},{ANA}",
        f"0174,00Q000000000099AAA,Status,Open - Not Contacted,Working,Picklist,{later},{ANA}",
        f"0175,{LEAD_1.lower()},Status,Open - Not Contacted,Working,Picklist,{later},{ANA}",
        f"0176,{LEAD_1[:9]} {LEAD_1[9:]},Status,Open - Not Contacted,Working,Picklist,{later},"
        f"{ANA}",
        f"0177,{LEAD_1[:15].lower()},Status,Open - Not Contacted,Working,Picklist,{later},{ANA}",
    ], [task_row("00T1", LEAD_2, ANA, "2026-03-09T10:00:00.000+0000")])


def read(files: list[str]):
    history = load_history(files, preset="salesforce", export_timezone=ZONE)
    assert history.counts.read == history.counts.accepted + history.counts.rejected
    return history


def events_of(history, lead_id: str) -> list[tuple[str, str | None]]:
    code = list(history.lead_ids).index(lead_id)
    return [(EVENTS[history.event[i]],
             history.actors[history.actor[i]] if history.actor[i] != NO_ACTOR else None)
            for i in range(len(history)) if history.lead[i] == code]


def run(args: list[str], capsys) -> tuple[int, str, str]:
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def report(files: list[str], capsys, policy: str = POLICY) -> dict:
    code, out, err = run(["evaluate", policy, "--preset", "salesforce", "--history", *files,
                          "--format", "json", "-q"], capsys)
    assert code == 0, err
    return json.loads(out)


def statuses(report_json: dict) -> dict[tuple[str, str], str]:
    return {(lead["lead_id"], clause["clause"]): clause["status"]
            for lead in report_json["leads"] for clause in lead["clauses"]}


# ---------------------------------------------------------------------------- one second


def test_two_owner_changes_in_one_second_are_both_read(tmp_path):
    history = read(one_second(tmp_path))
    assigned = [actor for event, actor in events_of(history, LEAD_1) if event == "assigned"]
    # the creation's owner is the first change's OldValue, then both changes: Cy owns it
    assert assigned == ["Ana Example", "Bo Example", "Cy Example"]
    changes = next(s for s in history.sources if s.path.endswith("LeadHistory.csv"))
    assert changes.left_out == 2  # the two rows written by name, and nothing else


def test_two_status_changes_in_one_second_are_both_read(tmp_path, capsys):
    files = one_second(tmp_path / "export")
    history = read(files)
    assert [e for e, _ in events_of(history, LEAD_2) if e not in ("created", "handoff",
                                                                   "assigned")] == [
        "stage", "rejected"]
    code = list(history.lead_ids).index(LEAD_2)
    assert history.fields["status"][history.lead == code][-1] == "Closed - Not Converted"
    # the rejection is the lead's disposition: met, not a clock left running
    policy = tmp_path / "disposition.sla"
    policy.write_text(Path(POLICY).read_text().replace(
        "  first touch within 4 business hours\n",
        "  first touch within 4 business hours\n  disposition within 2 business days\n"))
    assert statuses(report(files, capsys, str(policy)))[(LEAD_2, "disposition")] == "met"


def test_changes_in_one_second_are_read_in_the_order_their_values_link(tmp_path, capsys):
    # written in reverse, lead 2 ended "Working - Contacted" with its rejection undone by a
    # stage after it, and lead 1 was created owned by Bo (its first change's OldValue)
    forward = read(one_second(tmp_path / "forward"))
    reverse = read(one_second_reversed(tmp_path / "reverse"))
    for lead in (LEAD_1, LEAD_2):
        assert events_of(reverse, lead) == events_of(forward, lead)
    code = list(reverse.lead_ids).index(LEAD_2)
    assert reverse.fields["status"][reverse.lead == code][-1] == "Closed - Not Converted"
    assert events_of(reverse, LEAD_1)[2] == ("assigned", "Ana Example")
    assert report(one_second_reversed(tmp_path / "again"), capsys)["leads"] == \
        report(one_second(tmp_path / "once"), capsys)["leads"]


CHAINED = ('[[source]]\nfile = "log.csv"\nlead_id = "who"\n'
           'duplicates = { key = ["who", "t"], keep = { kind = "*" }, twins = true, '
           'chain = ["from", "to"] }\n[source.columns]\nat = "t"\nevent = "kind"\n')


def test_a_chain_of_any_length_is_followed_and_a_broken_one_keeps_the_files_order(tmp_path):
    from sla_dsl.history.read import load_history as read_mapped
    mapping = tmp_path / "m.toml"
    mapping.write_text(CHAINED)
    (tmp_path / "log.csv").write_text(
        "who,t,kind,from,to\n"
        "a,2026-03-02T10:00Z,stage,c,d\n"     # 1: third
        "a,2026-03-02T10:00Z,stage,a,b\n"     # 2: first
        "a,2026-03-02T10:00Z,stage,b,c\n"     # 3: second
        "b,2026-03-02T10:00Z,stage,x,y\n"     # 4: a loop (x -> y -> x): the file's order
        "b,2026-03-02T10:00Z,stage,y,x\n"     # 5
        "c,2026-03-02T10:00Z,stage,p,q\n"     # 6: a branch (p -> q, p -> r): the file's order
        "c,2026-03-02T10:00Z,stage,p,r\n"     # 7
        "c,2026-03-02T10:00Z,stage,q,s\n"     # 8
        "d,2026-03-02T10:00Z,stage,m,n\n"     # 9: alone in its second
        "d,2026-03-02T11:00Z,stage,k,m\n")    # 10: a later second: time orders it
    history = read_mapped([], timezone="UTC", mapping=parse_mapping(mapping.read_text(),
                                                                    mapping))
    assert [int(r) for r in history.row] == [2, 3, 1, 4, 5, 6, 7, 8, 9, 10]


@pytest.mark.parametrize(("chain", "message"), [
    ('"from"', "duplicates.chain`: must name two columns"),
    ('["from", "to", "by"]', "duplicates.chain`: must name two columns"),
])
def test_a_chain_names_two_columns(chain, message):
    with pytest.raises(MappingError, match=message):
        parse_mapping(CHAINED.replace('["from", "to"]', chain))


def test_a_chain_needs_twins():
    with pytest.raises(MappingError, match=r"duplicates\.chain`: needs `twins = true`"):
        parse_mapping(CHAINED.replace("twins = true", "twins = false"))


def test_a_chain_column_the_file_lacks_is_named(tmp_path):
    from sla_dsl.history.read import load_history as read_mapped
    mapping = tmp_path / "m.toml"
    mapping.write_text(CHAINED)
    (tmp_path / "log.csv").write_text("who,t,kind,from\na,2026-03-02T10:00Z,stage,c\n")
    with pytest.raises(MappingError, match=r"duplicates\.chain`: `log\.csv` has no column `to`"):
        read_mapped([], timezone="UTC", mapping=parse_mapping(mapping.read_text(), mapping))


def test_twins_pair_each_kept_row_with_one_other_row(tmp_path):
    # per key, the n-th row not matching `keep` is the twin of the n-th that does; a group
    # with no `keep` row, or more other rows than `keep` rows, keeps the rest
    mapping = tmp_path / "m.toml"
    mapping.write_text('[[source]]\nfile = "log.csv"\nlead_id = "who"\n'
                       'duplicates = { key = ["who", "t"], keep = { by = "005*" }, '
                       'twins = true }\n[source.columns]\nat = "t"\nevent = "kind"\n'
                       'actor = "by"\n')
    (tmp_path / "log.csv").write_text(
        "who,t,kind,by\n"
        "a,2026-03-02T09:00Z,created,\n"
        "a,2026-03-02T10:00Z,assigned,005A\n"       # 2: kept
        "a,2026-03-02T10:00Z,assigned,Pat Example\n"  # 3: twin of 2
        "a,2026-03-02T10:00Z,assigned,Sam Example\n"  # 4: twin of 5
        "a,2026-03-02T10:00Z,assigned,005B\n"       # 5: kept
        "a,2026-03-02T10:00Z,assigned,Lee Example\n"  # 6: no twin left: kept
        "a,2026-03-02T11:00Z,touch,Kim Example\n"     # 7: alone
        "a,2026-03-02T11:00Z,touch,Jo Example\n")     # 8: no `keep` row in its group
    from sla_dsl.history.read import load_history as read_mapped
    history = read_mapped([], timezone="UTC", mapping=parse_mapping(mapping.read_text(),
                                                                    mapping))
    assert sorted(int(r) for r in history.row) == [1, 2, 5, 6, 7, 8]
    assert history.sources[0].left_out == 2


@pytest.mark.parametrize(("rule", "message"), [
    ('{ key = ["who"], twins = true }', "duplicates.twins`: needs `keep`"),
    ('{ key = ["who"], keep = { by = "005*" }, twins = "yes" }',
     "duplicates.twins`: must be true or false"),
])
def test_twins_needs_a_keep_and_a_boolean(rule, message):
    text = (f'[[source]]\nfile = "log.csv"\nlead_id = "who"\nduplicates = {rule}\n'
            '[source.columns]\nat = "t"\nevent = "kind"\n')
    with pytest.raises(MappingError, match=message):
        parse_mapping(text)


# ---------------------------------------------------------------------------- no such lead


def test_changes_of_a_deleted_or_unknown_lead_are_rejected(tmp_path):
    history = read(orphans(tmp_path))
    assert list(history.lead_ids) == [LEAD_1]  # no lead made of LeadHistory rows alone
    reasons = {r.row: r.reason for r in history.rejects if r.source.endswith("LeadHistory.csv")}
    assert sorted(reasons) == [2, 3, 4, 5, 6, 7]
    assert reasons[2] == (f"LeadId '{LEAD_2}' matches no lead: no row of Lead (Lead.csv) kept "
                          "by its `where` has it as Id (ids are compared in full and "
                          "case-sensitively)")
    assert f"LeadId '{LEAD_1[:15].lower()}' matches no lead" in reasons[7]
    assert "compared in full and case-sensitively" in reasons[7]
    [task] = [r for r in history.rejects if r.source.endswith("Task.csv")]
    assert task.reason.startswith(f"WhoId '{LEAD_2}' matches no lead")
    assert int(history.at.max()) < 1_773_100_000 * 1_000_000  # nothing of 2026-03-10 read


def test_changes_of_other_leads_leave_a_leads_verdicts_alone(tmp_path, capsys):
    # the orphans' changes a day later would have moved the as-of time past the real lead's
    # first touch due time: breached, where it is pending as of its own latest event
    report_json = report(orphans(tmp_path), capsys)
    assert report_json["as_of"].startswith("2026-03-09T10:00:00")
    assert statuses(report_json)[(LEAD_1, "first touch")] == "pending"
    assert report_json["summary"]["leads"] == 1


# ---------------------------------------------------------------------------- sla ingest


def owners_and_rows(report_json: dict) -> tuple[dict[str, str], tuple[int, int, int]]:
    """Each lead's owner, and the rows rejected, left out and read."""
    rows = report_json["rows"]
    return ({lead["lead_id"]: lead["owner"] for lead in report_json["leads"]},
            (rows["rejected"], rows.get("left_out", 0), rows["read"]))


@pytest.mark.parametrize("buckets", [1, 2, 3])
@pytest.mark.parametrize(("made", "expected"), [
    (one_second, ({LEAD_1: "Cy Example", LEAD_2: "Ana Example"}, (0, 2, 11))),
    (one_second_reversed, ({LEAD_1: "Cy Example", LEAD_2: "Ana Example"}, (0, 2, 11))),
    (orphans, ({LEAD_1: "Bo Example"}, (7, 1, 11))),
])
def test_ingest_reads_these_exports_as_the_single_run(made, expected, buckets, tmp_path,
                                                      capsys):
    pytest.importorskip("duckdb")
    files = made(tmp_path / "export")
    out = tmp_path / "buckets"
    code, _, err = run(["ingest", "--preset", "salesforce", "--history", *files, "--buckets",
                        str(buckets), "--out", str(out), "--timezone", ZONE, "-q"], capsys)
    assert code == 0, err
    for form in ("json", "text"):
        single = run(["evaluate", POLICY, "--preset", "salesforce", "--history", *files,
                      "--format", form, "-q", "--rejects", str(tmp_path / "one.csv")], capsys)
        cut = run(["evaluate", POLICY, "--history", str(out), "--format", form, "-q",
                   "--rejects", str(tmp_path / "cut.csv")], capsys)
        assert single[0] == 0, single[2]
        assert cut == single
        assert (tmp_path / "cut.csv").read_bytes() == (tmp_path / "one.csv").read_bytes()
        if form == "json":
            assert owners_and_rows(json.loads(cut[1])) == expected


def test_a_bucket_read_as_a_file_says_where_the_ingests_rejects_are(tmp_path, capsys):
    pytest.importorskip("duckdb")
    files = orphans(tmp_path / "export")
    out = tmp_path / "buckets"
    code, _, err = run(["ingest", "--preset", "salesforce", "--history", *files, "--buckets",
                        "2", "--out", str(out), "--timezone", ZONE, "-q"], capsys)
    assert code == 0, err
    bucket = str(next(out.glob("bucket-*.parquet")))
    code, text, err = run(["evaluate", POLICY, "--history", bucket, "-q"], capsys)
    assert code == 0
    said = (f"is one of the 2 buckets of an sla ingest (its column __sla_place says so), read "
            f"here as an event log of its own: the ingest's counts (11 rows read, 4 accepted, "
            f"7 rejected), its rejected rows and its notes are in {out / 'manifest.json'} and "
            f"{out / 'rejects.csv'}")
    assert said in text and said in err
    assert f"sla evaluate --history {out} reads every bucket" in text
    code, out_json, _ = run(["evaluate", POLICY, "--history", bucket, "--format", "json", "-q"],
                            capsys)
    assert any(said in note for note in json.loads(out_json)["rows"]["notes"])
    # read whole, as the ingest's directory, the buckets say nothing of the kind
    code, text, err = run(["evaluate", POLICY, "--history", str(out), "-q"], capsys)
    assert code == 0 and "__sla_place" not in text + err
