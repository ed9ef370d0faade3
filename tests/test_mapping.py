"""Mapping files: CRM exports (long and wide) into one history, mistakes as MappingError, and
the Olist marketing funnel (the shipped excerpt and the whole export)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from sla_dsl.history.columns import EVENT_CODE, EVENTS, NO_ACTOR
from sla_dsl.history.mapping import Mapping, MappingError, load_mapping, parse_mapping
from sla_dsl.history.read import load_history

from .conftest import OLIST_FULL, ROOT

HISTORIES = ROOT / "tests" / "fixtures" / "histories"
OLIST = ROOT / "examples" / "olist"
MQLS = "olist_marketing_qualified_leads_dataset.csv"
DEALS = "olist_closed_deals_dataset.csv"
WON_EARLY = "b91cf8812365f50ff4bda4bcd6206b05"
AMS = "Europe/Amsterdam"


def us(text: str) -> int:
    moment = dt.datetime.fromisoformat(text)
    return (moment - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(microseconds=1)


def events_of(history) -> list[tuple]:
    return [(history.lead_ids[history.lead[i]], int(history.at[i]), EVENTS[history.event[i]],
             history.actors[history.actor[i]] if history.actor[i] != NO_ACTOR else None)
            for i in range(len(history))]


def counted(history) -> None:
    assert len(history) + len(history.rejects) == history.rows_read
    assert history.counts.read == history.counts.accepted + history.counts.rejected
    assert history.counts.accepted == len(history)


# ---------------------------------------------------------------------------- long and wide


def test_crm_export_long_and_wide():
    mapping = load_mapping(HISTORIES / "crm.toml")
    assert [s.name for s in mapping.sources] == ["leads", "activities"]
    history = load_history([], timezone=AMS, mapping=mapping)
    counted(history)
    # leads: 5 rows; date cells 4 + 4 + 2 + 0 (one record, rejected) + 2 = 12 records
    assert [(s.rows, s.records, s.rejected) for s in history.sources] == [(5, 12, 2), (6, 6, 2)]
    c100 = [e[1:] for e in events_of(history) if e[0] == "C-100"]
    assert c100 == [
        (us("2026-03-01T00:00:00+01:00"), "created", None),
        (us("2026-03-02T09:00:00+01:00"), "handoff", None),
        (us("2026-03-02T09:15:00+01:00"), "touch", "Dana Cruz"),  # "Call"
        (us("2026-03-02T09:40:00+01:00"), "touch", "Dana Cruz"),  # "Email"
        (us("2026-03-03T14:00:00+01:00"), "connected", "Dana Cruz"),  # "Meeting held"
        (us("2026-03-30T16:00:00+02:00"), "won", "Dana Cruz"),  # actor from `owner`
    ]
    c200 = [e[2] for e in events_of(history) if e[0] == "C-200"]
    assert c200 == ["created", "handoff", "touch", "touch", "touch"]  # two columns of touches
    rejects = [(r.source.split("/")[-1], r.row, r.column, r.reason) for r in history.rejects]
    assert rejects[0] == ("crm_leads.csv", 4, None, "row has no date in created_date, "
                          "mql_date, first_call, second_call, won_date")
    assert rejects[1] == ("crm_leads.csv", 5, "mql_date",
                          "time '2026-02-30 10:00' is not a date and time: 2026-02 has no day 30 "
                          "(for its `handoff` event)")
    assert rejects[2][:2] == ("crm_activities.csv", 5)
    assert rejects[2][3].startswith("unknown event 'Note'; expected one of created")
    assert rejects[2][3].endswith("(or map it in [source.event_names] of crm.toml)")
    assert rejects[3][:2] == ("crm_activities.csv", 6)
    assert "before the lead was created" in rejects[3][3]
    assert history.rejects[0].raw["id"] == "C-400"
    # fields: only those listed, None where a source does not have them
    assert list(history.fields) == ["segment", "channel"]
    touch = next(i for i in range(len(history)) if history.event[i] == EVENT_CODE["connected"])
    assert (history.fields["segment"][touch], history.fields["channel"][touch]) == (None, "zoom")


def test_wide_row_dates_in_mapping_order_when_equal(tmp_path):
    (tmp_path / "leads.csv").write_text("id,day\nA,2026-05-04\n")
    (tmp_path / "m.toml").write_text(
        '[[source]]\nfile = "leads.csv"\nlead_id = "id"\n'
        '[source.events]\ncreated = "day"\nhandoff = "day"\nengaged = "day"\n')
    history = load_history([], timezone="UTC", mapping=load_mapping(tmp_path / "m.toml"))
    assert [e[2] for e in events_of(history)] == ["created", "handoff", "engaged"]
    assert history.row.tolist() == [1, 1, 1]
    # without [source.fields] every other column is a field; here there is none
    assert history.fields == {}


def test_fields_default_to_every_other_column(tmp_path):
    (tmp_path / "log.csv").write_text("who,when,what,by,stage\nA,2026-05-04,Lead,x,mql\n")
    mapping = parse_mapping('[[source]]\nfile = "log.csv"\nlead_id = "who"\n'
                            '[source.columns]\nat = "when"\nevent = "what"\nactor = "by"\n'
                            '[source.event_names]\n"Lead" = "created"\n', tmp_path / "m.toml")
    history = load_history([], timezone="UTC", mapping=mapping)
    assert events_of(history) == [("A", us("2026-05-04T00:00:00+00:00"), "created", "x")]
    assert list(history.fields) == ["stage"]


def test_source_timezone_overrides_the_policy_timezone(tmp_path):
    (tmp_path / "log.csv").write_text("lead_id,at,event\nA,2026-05-04 09:00,created\n")
    text = '[[source]]\nfile = "log.csv"\ntimezone = "Asia/Tokyo"\n'
    history = load_history([], timezone=AMS, mapping=parse_mapping(text, tmp_path / "m.toml"))
    assert int(history.at[0]) == us("2026-05-04T09:00:00+09:00")


def test_paths_replace_the_mapping_files(tmp_path):
    for month in ("jan", "feb"):
        (tmp_path / f"{month}.csv").write_text(
            f"Contact ID,Activity date,Activity type,Owner,Channel\n"
            f"{month},2026-03-02 09:15,Call,Dana,phone\n")
    one = parse_mapping('[[source]]\nfile = "x.csv"\nlead_id = "Contact ID"\n'
                        '[source.columns]\nat = "Activity date"\nevent = "Activity type"\n'
                        '[source.event_names]\n"Call" = "touch"\n', tmp_path / "m.toml")
    history = load_history([tmp_path / "jan.csv", tmp_path / "feb.csv"], timezone="UTC",
                           mapping=one)
    assert sorted(history.lead_ids) == ["feb", "jan"] and len(history.sources) == 2

    two = load_mapping(HISTORIES / "crm.toml")
    with pytest.raises(MappingError, match="matches no source's `file`"):
        load_history([tmp_path / "jan.csv"], timezone="UTC", mapping=two)
    with pytest.raises(MappingError, match="no file given for this source"):
        load_history([HISTORIES / "crm_leads.csv"], timezone="UTC", mapping=two)


# ---------------------------------------------------------------------------- mistakes


def _error(text: str, tmp_path: Path, data: dict[str, str] | None = None) -> str:
    for name, content in (data or {}).items():
        (tmp_path / name).write_text(content)
    path = tmp_path / "mapping.toml"
    path.write_text(text)
    with pytest.raises(MappingError) as info:
        load_history([], timezone="UTC", mapping=load_mapping(path))
    message = str(info.value)
    assert message.startswith(str(path)), message
    assert "\n  help: " in message and "Traceback" not in message
    return message


LOG = {"log.csv": "lead_id,at,event,owner\nA,2026-01-01,created,x\n"}


@pytest.mark.parametrize(("text", "expected"), [
    ('[[source]\nfile = "log.csv"\n', "not valid TOML"),
    ('lead_id = "x"\n', "unknown key `lead_id` at the top level"),
    ("", "the mapping has no [[source]]"),
    ('[[source]]\nfile = "log.csv"\nlead_di = "x"\n',
     "key `lead_di`: unknown key\n  help: did you mean `lead_id`?"),
    ('[[source]]\nfile = "log.csv"\nlead_id = 3\n',
     "key `lead_id`: must be a column name in quotes, got 3"),
    ('[[source]]\nfile = "log.csv"\n[source.events]\ntuch = "at"\n',
     "key `events.tuch`: unknown event `tuch`\n  help: did you mean `touch`?"),
    ('[[source]]\nfile = "log.csv"\n[source.event_names]\n"Call" = "tuch"\n',
     "unknown event `tuch`"),
    ('[[source]]\nfile = "log.csv"\n[source.columns]\ntime = "at"\n',
     "key `columns.time`: unknown key"),
    ('[[source]]\nfile = "log.csv"\n[source.columns]\nlead_id = "id"\n',
     'write lead_id = "id" directly under [[source]]'),
    ('[[source]]\nfile = "log.csv"\nactor = "owner"\n', "write it in [source.columns]"),
    ('[[source]]\nfile = "log.csv"\n[source.columns]\nat = "at"\n[source.events]\n'
     'created = "at"\n', "either [source.events]"),
    ('[[source]]\nfile = "log.csv"\n[source.events]\nwon = { when = "at" }\n',
     "key `events.won.when`: unknown key"),
    ('[[source]]\nfile = "log.csv"\ntimezone = "Europe/Amsterdm"\n',
     "unknown timezone `Europe/Amsterdm`"),
    ('[[source]]\nfile = "log.xlsx"\n', "cannot tell the format"),
    ('[[source]]\nfile = "log.csv"\nformat = "excel"\n', "unknown format `excel`"),
    ('[[source]]\nfile = "log.csv"\n[source.fields]\nat = "at"\n', "`at` is not a field name"),
    ('[[source]]\nfile = "log.csv"\n[source.lookup]\nday = "mqls"\n',
     "no source is named `mqls`"),
    # an event read only when its own source is missing was never read, without a word
    ('[[source]]\nname = "deals"\nfile = "log.csv"\n[source.events]\ncreated = "at"\n'
     'won = { at = "at", unless = "deals" }\n',
     "key `events.won.unless`: an event cannot be read only when its own source is not given"),
    ('[[source]]\nname = "a"\nfile = "log.csv"\n[[source]]\nname = "a"\nfile = "log.csv"\n',
     "two sources are named `a`"),
    ('[[source]]\nlead_id = "lead_id"\n', "this source names no `file`"),
])
def test_mapping_file_mistakes(tmp_path, text, expected):
    assert expected in _error(text, tmp_path, LOG)


@pytest.mark.parametrize(("text", "expected"), [
    ('[[source]]\nfile = "log.csv"\nlead_id = "lead"\n',
     "key `lead_id`: `log.csv` has no column `lead`\n  help: did you mean `lead_id`? its "
     "columns are lead_id, at, event, owner"),
    ('[[source]]\nfile = "log.csv"\n[source.columns]\nactor = "ownr"\n',
     "key `columns.actor`: `log.csv` has no column `ownr`\n  help: did you mean `owner`?"),
    ('[[source]]\nfile = "log.csv"\n[source.events]\nwon = { at = "won", actor = "owner" }\n',
     "key `events.won.at`: `log.csv` has no column `won`"),
    ('[[source]]\nfile = "log.csv"\n[source.fields]\nsegment = "segmnt"\n',
     "key `fields.segment`: `log.csv` has no column `segmnt`"),
    ('[[source]]\nfile = "missing.csv"\n', "key `file`: no such file: "),
])
def test_mapping_that_does_not_fit_the_data(tmp_path, text, expected):
    path = tmp_path / "mapping.toml"
    path.write_text(text)
    (tmp_path / "log.csv").write_text(LOG["log.csv"])
    with pytest.raises(MappingError) as info:
        load_history([], timezone="UTC", mapping=load_mapping(path))
    assert expected in str(info.value)
    assert "help:" in str(info.value)


def test_mapping_file_that_does_not_exist(tmp_path):
    with pytest.raises(MappingError, match="no such mapping file"):
        load_mapping(tmp_path / "nope.toml")


# ---------------------------------------------------------------------------- Olist


def test_olist_mapping_reads_as_documented():
    mapping = load_mapping(OLIST / "mapping.toml")
    assert isinstance(mapping, Mapping)
    mqls, deals = mapping.sources
    assert [(w.event, w.at, w.actor) for w in mqls.events] == [
        ("created", "first_contact_date", None), ("handoff", "first_contact_date", None)]
    assert [(w.event, w.at, w.actor) for w in deals.events] == [
        ("assigned", "first_contact_date", "sdr_id"), ("won", "won_date", "sr_id")]
    assert deals.lookup == {"first_contact_date": "mqls"}
    assert mqls.timezone == deals.timezone == "America/Sao_Paulo"


def _olist_with(folder: Path, text: str, instead: str) -> tuple:
    """The Olist excerpt read by its mapping, and by the mapping with `text` (once) made
    `instead`, its files copied to `folder` beside it."""
    mapping = (OLIST / "mapping.toml").read_text()
    assert text in mapping
    for name in (MQLS, DEALS):
        (folder / name).write_bytes((OLIST / name).read_bytes())
    (folder / "mapping.toml").write_text(mapping.replace(text, instead, 1))
    return (load_history([], timezone=AMS, mapping=load_mapping(OLIST / "mapping.toml")),
            load_history([], timezone=AMS, mapping=load_mapping(folder / "mapping.toml")))


def test_a_lookup_from_a_source_with_rules_reads_as_from_a_plain_one(tmp_path):
    # a `datetime_format` (or a `where`) makes the MQL source's rows prepared, their lead ids
    # coded: the deals' lookup of first_contact_date through them was an internal error
    # (ArrowTypeError: Array chunks must all be same type)
    head = 'lead_id = "mql_id"\ntimezone = "America/Sao_Paulo"\n'
    plain, read = _olist_with(tmp_path, head, head + 'datetime_format = "%Y-%m-%d"\n')
    assert events_of(read) == events_of(plain)
    assert read.counts == plain.counts


def test_a_mapping_error_shows_control_characters_as_escapes(tmp_path, capsys):
    # the column names it quotes (the mapping's, written with a TOML escape, and the file's)
    # reached the terminal as they are: an escape sequence clearing the screen
    from sla_dsl.cli import main

    (tmp_path / "h.csv").write_text("lead_id,at,event,sc\x1b[2Jore\n"
                                    "L1,2026-03-02T09:00:00Z,created,1\n")
    (tmp_path / "m.toml").write_text('[[source]]\nfile = "h.csv"\nlead_id = "id\\u001b]0;x"\n'
                                     '[source.columns]\nat = "at"\nevent = "event"\n')
    policy = str(ROOT / "policies" / "company-x.sla")
    assert main(["evaluate", policy, "--mapping", str(tmp_path / "m.toml")]) == 2
    err = capsys.readouterr().err
    assert "\x1b" not in err
    assert "has no column `id\\x1b]0;x`" in err and "sc\\x1b[2Jore" in err


def test_a_source_with_rules_reads_the_columns_it_looks_up(tmp_path):
    # a `where` on the deals source made its rows prepared, and their check of the columns
    # said the file had no `first_contact_date`: the column the lookup gives it
    head = 'name = "deals"\nfile = "olist_closed_deals_dataset.csv"\nlead_id = "mql_id"\n'
    plain, read = _olist_with(tmp_path, head,
                              head + 'where = { business_segment = { not = "pet" } }\n')
    counted(read)
    pets = {line.split(",")[0] for line in (OLIST / DEALS).read_text().splitlines()
            if line.split(",")[5] == "pet"}
    assert len(pets) == 2 and read.sources[1].left_out == 2
    kept = [e for e in events_of(plain) if not (e[0] in pets and e[2] in ("assigned", "won"))]
    assert sorted(events_of(read)) == sorted(kept)


def test_olist_excerpt():
    """301 leads (the first 299 of the dataset, the one won before its first contact and one
    first contacted on the night Sao Paulo skipped midnight) and their 29 closed deals."""
    history = load_history([], timezone=AMS, mapping=load_mapping(OLIST / "mapping.toml"))
    counted(history)
    assert [(s.rows, s.records, s.rejected) for s in history.sources] == [
        (301, 602, 0), (29, 58, 1)]
    assert (history.counts.read, history.counts.accepted, history.counts.rejected) == (
        660, 659, 1)
    [reject] = history.rejects
    assert reject.source.endswith(DEALS) and reject.row == 29 and reject.column == "won_date"
    assert reject.reason == ("'won' at 2018-03-06 19:38:55-03:00 is before the lead was "
                             "created (2018-03-08 00:00-03:00)")
    assert reject.raw["mql_id"] == WON_EARLY and reject.raw["won_date"] == "2018-03-06 19:38:55"
    assert reject.raw["first_contact_date"] == "2018-03-08"  # the looked-up column, too

    leads = list(history.lead_ids)
    assert len(leads) == 301
    events = events_of(history)
    early = [e[2:] for e in events if e[0] == WON_EARLY]
    assert early == [("created", None), ("handoff", None),
                     ("assigned", "a8387c01a09e99ce014107505b92388c")]
    dst = [e[1] for e in events if e[0] == "e16e18c08f9710f81d96325f8cbd9524"]
    assert dst == [us("2017-10-15T01:00:00-02:00")] * 2  # midnight did not exist that day

    first = [e for e in events if e[0] == "dac32acd4db4c29c230538b72f8dd87d"]
    assert [e[2] for e in first] == ["created", "handoff"]
    assert first[0][1] == us("2018-02-01T00:00:00-02:00")
    won = [i for i in range(len(history)) if history.event[i] == EVENT_CODE["won"]]
    assert len(won) == 28
    assert {history.fields["business_segment"][i] for i in won} >= {"pet", "car_accessories"}
    created = [i for i in range(len(history)) if history.event[i] == EVENT_CODE["created"]]
    assert history.fields["origin"][created[0]] == "social"
    assert history.fields["business_segment"][created[0]] is None


def test_olist_excerpt_rows_are_unmodified_rows_of_the_dataset():
    for name in (MQLS, DEALS):
        full = (OLIST_FULL / name).read_text(encoding="utf-8").splitlines()
        excerpt = (OLIST / name).read_text(encoding="utf-8").splitlines()
        assert excerpt[0] == full[0]
        positions = [full.index(line) for line in excerpt[1:]]
        assert positions == sorted(positions)


def test_olist_full_dataset():
    mapping = load_mapping(OLIST / "mapping.toml")
    history = load_history([OLIST_FULL / MQLS, OLIST_FULL / DEALS], timezone=AMS,
                           mapping=mapping)
    counted(history)
    mqls, deals = history.sources
    assert (mqls.rows, deals.rows) == (8000, 842)
    assert (mqls.records, deals.records) == (16000, 1684)
    assert history.rows_read == 17684
    assert len(history.rejects) == 1
    [reject] = history.rejects
    assert reject.source == str(OLIST_FULL / DEALS) and reject.row == 668
    assert reject.raw["mql_id"] == WON_EARLY and "before the lead was created" in reject.reason
    assert len(history.lead_ids) == 8000
    assert (history.event == EVENT_CODE["won"]).sum() == 841


def test_module_docstring_example_is_a_valid_mapping(tmp_path):
    import sla_dsl.history.mapping as module

    doc = module.__doc__
    block = doc[doc.index("    [[source]]"):doc.index("A source is an event log")]
    text = "\n".join(line[4:] for line in block.splitlines())
    mapping = parse_mapping(text, tmp_path / "m.toml")
    assert [s.name for s in mapping.sources] == ["activities", "leads", "deals"]
    assert [w.event for w in mapping.sources[1].events] == ["created", "handoff", "won", "touch",
                                                            "touch"]


def test_wide_actors_of_several_columns_share_one_list(tmp_path):
    (tmp_path / "deals.csv").write_text("id,start,won,sdr,rep\nA,2026-01-01,2026-01-05,ann,bob\n"
                                        "B,2026-01-02,2026-01-06,bob,ann\n")
    mapping = parse_mapping('[[source]]\nfile = "deals.csv"\nlead_id = "id"\n[source.events]\n'
                            'created = "start"\nassigned = { at = "start", actor = "sdr" }\n'
                            'won = { at = "won", actor = "rep" }\n', tmp_path / "m.toml")
    history = load_history([], timezone="UTC", mapping=mapping)
    assert sorted(history.actors) == ["ann", "bob"]
    assert [e[3] for e in events_of(history)] == [None, "ann", "bob", None, "bob", "ann"]
