"""Reading lead histories: formats, validation, counting, DST, order, rejects and the schema."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sla_dsl.business_time.calendar import BusinessCalendar
from sla_dsl.business_time.zones import resolve_local
from sla_dsl.history import read
from sla_dsl.history.columns import EVENT_CODE, EVENTS, NO_ACTOR, History, HistoryError
from sla_dsl.history.read import event_schema, load_history, parse_time
from sla_dsl.history.write import write_rejects

HISTORIES = Path(__file__).resolve().parent / "fixtures" / "histories"
AMS = "Europe/Amsterdam"
UTC = dt.UTC


def us(text: str) -> int:
    """An aware ISO time as µs since the epoch."""
    moment = dt.datetime.fromisoformat(text)
    return (moment - dt.datetime(1970, 1, 1, tzinfo=UTC)) // dt.timedelta(microseconds=1)


def events_of(history: History) -> list[tuple]:
    return [(history.lead_ids[history.lead[i]], int(history.at[i]), EVENTS[history.event[i]],
             history.actors[history.actor[i]] if history.actor[i] != NO_ACTOR else None,
             int(history.row[i]))
            for i in range(len(history))]


def data_rows(path: Path) -> int:
    """Independent count of data records: the csv module, or non-blank lines of JSON Lines."""
    if path.suffix == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as handle:
            return sum(1 for row in csv.reader(handle) if row and any(v.strip() for v in row)) - 1
    return sum(1 for line in path.read_bytes().split(b"\n") if line.strip())


def check_invariants(history: History) -> None:
    """What every History must satisfy, whatever the input."""
    counts = history.counts
    assert len(history) + len(history.rejects) == history.rows_read
    assert counts.read == counts.accepted + counts.rejected
    assert counts.accepted == len(history)
    assert sum(s.records for s in history.sources) == history.rows_read
    assert sum(s.rejected for s in history.sources) == len(history.rejects)
    n = len(history)
    for column in (history.lead, history.at, history.event, history.actor, history.row,
                   history.source):
        assert len(column) == n
    assert history.at.dtype == np.int64
    for values in history.fields.values():
        assert values.dtype == object and len(values) == n
        assert all(v is None or (isinstance(v, str) and v.strip()) for v in values)
    # sorted by lead, then time, then read order (source, row)
    key = list(zip(history.lead, history.at, history.source, history.row, strict=True))
    assert key == sorted(key)
    # every lead and actor listed is used
    assert set(history.lead.tolist()) == set(range(len(history.lead_ids)))
    assert set(history.actor[history.actor >= 0].tolist()) == set(range(len(history.actors)))
    # no event before its lead's first `created`
    for lead in set(history.lead.tolist()):
        mine = history.lead == lead
        created = history.at[mine & (history.event == EVENT_CODE["created"])]
        if len(created):
            assert history.at[mine].min() >= created.min()


# ---------------------------------------------------------------------------- CSV


def test_csv_events_and_every_kind_of_bad_row():
    history = load_history([HISTORIES / "events.csv"], timezone=AMS)
    check_invariants(history)
    assert history.counts.read == 20 == data_rows(HISTORIES / "events.csv")
    assert (history.counts.accepted, history.counts.rejected) == (11, 9)
    reasons = {r.row: r.reason for r in history.rejects}
    assert reasons == {
        10: "'won' at 2026-03-05 09:00+01:00 is before the lead was created "
            "(2026-03-06 09:00+01:00)",
        12: "missing lead id",
        13: "missing lead id",
        14: "unknown event 'tuch'; expected one of created, updated, engaged, stage, handoff, "
            "assigned, touch, connected, accepted, rejected, won, lost; did you mean 'touch'?",
        15: "time '2026-13-01T09:00' is not a date and time: there is no month 13",
        16: "time 'yesterday' is not a date and time: expected ISO 8601 such as "
            "2026-03-02T09:30:00+01:00, 2026-03-02 09:30 or 2026-03-02",
        17: "missing time",
        18: "missing event",
        19: "time '2026-02-30' is not a date and time: 2026-02 has no day 30",
    }
    early = history.rejects[0]
    assert early.raw == {"lead_id": "L4", "at": "2026-03-05T09:00:00+01:00", "event": "won",
                         "actor": "bob", "channel": "", "title": "", "amount": "900"}
    assert early.source.endswith("events.csv") and early.column is None
    assert list(history.lead_ids) == ["L1", "L2", "L3", "L4", "L6"]  # L5 has nothing left
    assert events_of(history)[:7] == [
        ("L1", us("2026-03-02T09:00:00+01:00"), "created", None, 1),
        ("L1", us("2026-03-02T09:05:00+01:00"), "handoff", "marketing", 2),
        ("L1", us("2026-03-02T10:00:00+01:00"), "touch", "alice", 3),  # naive: Amsterdam
        ("L1", us("2026-03-02T09:30:00+00:00"), "connected", "alice", 4),
        ("L2", us("2026-03-02T00:00:00+01:00"), "created", None, 5),  # a date: local midnight
        ("L2", us("2026-03-03T08:00:00.250+01:00"), "touch", "bob", 6),
        ("L2", us("2026-03-04T12:00:00+01:00"), "won", "bob", 7),
    ]
    fields = {name: list(values) for name, values in history.fields.items()}
    assert fields["title"][:5] == ["VP, Sales", None, None, None, 'Head of "Growth"']
    assert fields["amount"][6] == "12,500"
    assert fields["channel"][8] == "phone\n(left a voicemail)"  # a value over two lines


def test_lead_without_created_keeps_its_events():
    history = load_history([HISTORIES / "events.csv"], timezone=AMS)
    assert [e for e in events_of(history) if e[0] == "L6"] == [
        ("L6", us("2026-03-10T10:00:00+00:00"), "touch", "alice", 20)]


def test_crlf_bom_quotes_and_dst_rule():
    path = HISTORIES / "events_crlf.csv"
    assert path.read_bytes().startswith(b"\xef\xbb\xbf") and b"\r\n" in path.read_bytes()
    history = load_history([path], timezone=AMS)
    check_invariants(history)
    assert history.counts.read == 8 == data_rows(path)
    assert list(history.fields) == ["stage", "note"]  # the BOM is not part of `lead_id`
    assert [(e[1], e[2], e[3]) for e in events_of(history)[:4]] == [
        (us("2026-10-24T09:00:00+02:00"), "created", None),
        (us("2026-10-25T01:30:00+02:00"), "handoff", "marketing"),
        (us("2026-10-25T02:30:00+02:00"), "touch", "Smith, Jo"),  # repeated: first occurrence
        (us("2026-10-25T03:30:00+01:00"), "stage", "Smith, Jo"),
    ]
    assert history.fields["note"][0] == "first line\r\nsecond line"
    assert [r.row for r in history.rejects] == [6, 7, 8]
    assert history.rejects[0].reason.endswith(": there is no hour 25")
    assert history.rejects[1].reason.startswith("time '26/10/2026 10:00' is not a date and time")
    assert history.rejects[2].reason.startswith("unknown event 'Touch'")
    assert history.rejects[2].reason.endswith("did you mean 'touch'?")


def test_naive_times_follow_business_time_rule():
    """Skipped wall times are the jump, repeated ones their first occurrence: the same
    instants `zones.resolve_local` (and so `BusinessCalendar`) gives, in both directions of
    DST and in two hemispheres."""
    cases = {
        "Europe/Amsterdam": ["2026-03-29 01:59", "2026-03-29 02:00", "2026-03-29 02:30",
                             "2026-03-29 03:00", "2026-10-25 01:59", "2026-10-25 02:00",
                             "2026-10-25 02:30", "2026-10-25 03:00", "2026-03-29"],
        "America/Sao_Paulo": ["2017-10-15", "2017-10-15 00:30", "2017-10-15 01:00",
                              "2018-02-17 23:30", "2018-02-18"],
        "Australia/Lord_Howe": ["2026-04-05 01:45", "2026-10-04 02:15"],  # 30-minute DST
    }
    for zone, walls in cases.items():
        lines = ["lead_id,at,event"] + [f"X{i},{wall},touch" for i, wall in enumerate(walls)]
        history = _load_text("\n".join(lines) + "\n", zone)
        for i, wall in enumerate(walls):
            naive = dt.datetime.fromisoformat(wall)
            expected = resolve_local(naive, ZoneInfo(zone))
            got = int(history.at[history.lead == list(history.lead_ids).index(f"X{i}")][0])
            assert got == us(expected.isoformat()), (zone, wall)


def test_sao_paulo_midnight_that_did_not_exist():
    history = _load_text("lead_id,at,event\nA,2017-10-15,created\n", "America/Sao_Paulo")
    assert int(history.at[0]) == us("2017-10-15T01:00:00-02:00")


def test_unsorted_input_is_sorted_with_ties_in_read_order():
    text = "\n".join([
        "lead_id,at,event,actor",
        "B,2026-01-02T10:00Z,touch,x",
        "A,2026-01-02T09:00Z,touch,y",
        "B,2026-01-01T10:00Z,created,",
        "A,2026-01-01T09:00Z,created,",
        "B,2026-01-02T10:00Z,connected,x",  # same instant as row 1: after it
        "A,2026-01-02T08:00Z,handoff,",
    ]) + "\n"
    history = _load_text(text, "UTC")
    check_invariants(history)
    assert list(history.lead_ids) == ["B", "A"]  # numbered in order of first appearance
    assert [(e[0], e[2], e[4]) for e in events_of(history)] == [
        ("B", "created", 3), ("B", "touch", 1), ("B", "connected", 5),
        ("A", "created", 4), ("A", "handoff", 6), ("A", "touch", 2)]


def test_broken_rows_are_rejected_and_later_rows_keep_their_numbers():
    path = HISTORIES / "broken.csv"
    history = load_history([path], timezone="UTC")
    check_invariants(history)
    assert history.counts.read == 5 == data_rows(path)  # the blank line is not a row
    assert [(r.row, r.reason) for r in history.rejects] == [
        (2, "row has 3 values; the header has 4 columns"),
        (3, "row has 5 values; the header has 4 columns"),
    ]
    assert history.rejects[1].raw["column 5"] == "extra"
    assert [e[4] for e in events_of(history)] == [1, 4, 5]


def test_row_that_is_not_utf8(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes(b"lead_id,at,event\nA,2026-01-01T09:00Z,created\n"
                     b"A,2026-01-01T10:00Z,touch\xe9\nA,2026-01-01T11:00Z,touch\n")
    history = load_history([path], timezone="UTC")
    check_invariants(history)
    assert [(r.row, r.reason) for r in history.rejects] == [(2, "row is not valid UTF-8 text")]
    assert history.rejects[0].raw["event"] == "touch\ufffd"
    assert [e[4] for e in events_of(history)] == [1, 3]


def test_whitespace_and_empty_values_are_none(tmp_path):
    history = _load_text("lead_id,at,event,actor,stage\nA, 2026-01-01T09:00Z ,created,  ,"
                         "\" \"\n", "UTC")
    assert history.actor[0] == NO_ACTOR and history.fields["stage"][0] is None
    assert int(history.at[0]) == us("2026-01-01T09:00:00+00:00")


def test_several_files_make_one_history(tmp_path):
    first = tmp_path / "jan.csv"
    first.write_text("lead_id,at,event,actor\nA,2026-01-05T09:00Z,created,\n"
                     "A,2026-01-05T10:00Z,touch,ann\n")
    second = tmp_path / "feb.jsonl"
    second.write_text('{"lead_id": "A", "at": "2026-02-01T09:00Z", "event": "won", '
                      '"actor": "ann", "amount": 300}\n'
                      '{"lead_id": "B", "at": "2026-02-01T09:00Z", "event": "tuch"}\n')
    history = load_history([first, second], timezone="UTC")
    check_invariants(history)
    assert [(s.path.split("/")[-1], s.rows, s.records, s.rejected)
            for s in history.sources] == [("jan.csv", 2, 2, 0), ("feb.jsonl", 2, 2, 1)]
    assert history.source.tolist() == [0, 0, 1] and history.row.tolist() == [1, 2, 1]
    assert list(history.actors) == ["ann"] and history.fields["amount"][2] == "300"
    assert history.rejects[0].source.endswith("feb.jsonl") and history.rejects[0].row == 2


# ---------------------------------------------------------------------------- JSON Lines


def test_jsonl_values_and_bad_lines():
    path = HISTORIES / "events.jsonl"
    history = load_history([path], timezone=AMS)
    check_invariants(history)
    assert history.counts.read == 12 == data_rows(path)
    assert [(r.row, r.reason.split(";")[0]) for r in history.rejects] == [
        (6, "'touch' at 2026-03-01 11:00+01:00 is before the lead was created "
            "(2026-03-03 00:00+01:00)"),
        (7, "missing lead id"),
        (8, "unknown event 'meeting'"),
        (9, "time '2026-03-03T10:00:00+25:00' is not a date and time: offset +25:00 is out of "
            "range"),
        (10, "line is not valid JSON: Expecting ',' delimiter at character 81"),
        (11, "line is an array, not a JSON object"),
    ]
    assert list(history.lead_ids) == ["J1", "42", "J3"]
    f = history.fields
    assert (f["score"][0], f["hot"][0], f["amount"][3]) == ("72", "true", "1500")
    assert f["channel"][5] == '{"kind":"sms"}'


def test_jsonl_fast_and_slow_paths_agree(tmp_path):
    good = [line for line in (HISTORIES / "events.jsonl").read_text().splitlines()
            if line.strip() and line.startswith("{") and line.endswith("}")
            and '"lead_id": 42' not in line]
    path = tmp_path / "good.jsonl"
    path.write_text("\n".join(good) + "\n")
    fast = read._read_jsonl(path)
    slow = read._read_jsonl_slowly(path, path.read_bytes())
    assert fast.table.num_rows == slow.table.num_rows == len(good)

    def rows(read):
        return [{k: v for k, v in row.items() if v is not None}
                for row in read.table.to_pylist()]

    assert rows(fast) == rows(slow)
    a = load_history([path], timezone=AMS)
    assert a.counts.read == len(good)


# ---------------------------------------------------------------------------- Parquet


@pytest.fixture
def parquet_files(tmp_path) -> dict[str, Path]:
    """Parquet written now rather than committed: typed times, text times, integer ids."""
    base = tmp_path
    aware = pa.table({
        "lead_id": pa.array(["P1", "P1", "P2", "P2"]),
        "at": pa.array([us("2026-03-02T08:00:00+00:00"), us("2026-03-02T09:00:00+00:00"),
                        us("2026-03-03T08:00:00+00:00"), None],
                       pa.timestamp("us", "UTC")),
        "event": pa.array(["created", "touch", "created", "touch"]).dictionary_encode(),
        "actor": pa.array([None, "ann", None, "bob"], pa.large_string()),
        "score": pa.array([70, None, 15, None], pa.int64()),
    })
    naive = pa.table({
        "lead_id": pa.array([1, 1], pa.int64()),
        "at": pa.array([dt.datetime(2026, 3, 29, 2, 30), dt.datetime(2026, 3, 30, 9)],
                       pa.timestamp("ms")),
        "event": pa.array(["created", "won"]),
    })
    dates = pa.table({
        "lead_id": pa.array(["D"]), "at": pa.array([dt.date(2026, 3, 29)], pa.date32()),
        "event": pa.array(["created"]),
    })
    text = pa.table({
        "lead_id": pa.array(["T", "T", "T"]),
        "at": pa.array(["2026-03-02T09:00:00+01:00", "2026-03-02 10:00", "2026-13-02"]),
        "event": pa.array(["created", "touch", "touch"]),
    })
    files = {}
    for name, table in {"aware": aware, "naive": naive, "dates": dates, "text": text}.items():
        files[name] = base / f"{name}.parquet"
        pq.write_table(table, files[name])
    return files


def test_parquet_typed_and_text_times(parquet_files):
    aware = load_history([parquet_files["aware"]], timezone=AMS)
    check_invariants(aware)
    assert events_of(aware) == [
        ("P1", us("2026-03-02T08:00:00+00:00"), "created", None, 1),
        ("P1", us("2026-03-02T09:00:00+00:00"), "touch", "ann", 2),
        ("P2", us("2026-03-03T08:00:00+00:00"), "created", None, 3)]
    assert [(r.row, r.reason) for r in aware.rejects] == [(4, "missing time")]
    assert list(aware.fields["score"]) == ["70", None, "15"]

    naive = load_history([parquet_files["naive"]], timezone=AMS)
    assert events_of(naive)[0] == ("1", us("2026-03-29T03:00:00+02:00"), "created", None, 1)

    dates = load_history([parquet_files["dates"]], timezone=AMS)
    assert int(dates.at[0]) == us("2026-03-29T00:00:00+01:00")

    text = load_history([parquet_files["text"]], timezone=AMS)
    check_invariants(text)
    assert [e[1] for e in events_of(text)] == [us("2026-03-02T09:00:00+01:00"),
                                               us("2026-03-02T10:00:00+01:00")]
    assert text.rejects[0].reason.endswith("there is no month 13")


def test_same_history_from_csv_jsonl_and_parquet(tmp_path):
    rows = [{"lead_id": f"L{i % 7}", "at": f"2026-03-{1 + i % 20:02d}T{i % 24:02d}:15:00Z",
             "event": EVENTS[i % len(EVENTS)], "actor": f"rep{i % 3}" if i % 4 else ""}
            for i in range(200)]
    csv_path, jsonl_path, pq_path = (tmp_path / "h.csv", tmp_path / "h.jsonl",
                                     tmp_path / "h.parquet")
    with csv_path.open("w", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    jsonl_path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    pq.write_table(pa.Table.from_pylist(rows), pq_path)
    loaded = [load_history([p], timezone=AMS) for p in (csv_path, jsonl_path, pq_path)]
    for history in loaded:
        check_invariants(history)
    first = loaded[0]
    for other in loaded[1:]:
        assert events_of(other) == events_of(first)
        assert [(r.row, r.reason) for r in other.rejects] == [
            (r.row, r.reason) for r in first.rejects]


# ---------------------------------------------------------------------------- timestamps


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-03-02T09:30:00+01:00", "2026-03-02T08:30:00+00:00"),
    ("2026-03-02T09:30:00Z", "2026-03-02T09:30:00+00:00"),
    ("2026-03-02t09:30:00z", "2026-03-02T09:30:00+00:00"),
    ("2026-03-02 09:30:00.123456789-0330", "2026-03-02T13:00:00.123456+00:00"),
    ("2026-03-02T09:30:00,5+01", "2026-03-02T08:30:00.500000+00:00"),
    ("2026-03-02T09Z", "2026-03-02T09:00:00+00:00"),
    ("2026-03-02T24:00Z", "2026-03-03T00:00:00+00:00"),
])
def test_parse_time_aware(text, expected):
    assert parse_time(text) == (us(expected), False)


@pytest.mark.parametrize(("text", "reason"), [
    ("2026-13-01T09:00", "there is no month 13"),
    ("2026-02-29", "2026-02 has no day 29"),
    ("2026-01-01T24:30", "there is no hour 24:30"),
    ("2026-01-01T10:60", "there is no minute 60"),
    ("2026-01-01T10:00:60Z", "there is no second 60"),
    ("0000-01-01", "there is no year 0"),
    ("2026-01-01T10:00+24:00", "offset +24:00 is out of range"),
    ("2026/01/01", "expected ISO 8601"),
    ("1 March 2026", "expected ISO 8601"),
])
def test_parse_time_reasons(text, reason):
    result = parse_time(text)
    assert isinstance(result, str)
    assert result.startswith(f"time '{text}' is not a date and time: ")
    assert reason in result


_walls = st.datetimes(min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2040, 12, 31))
_styles = st.sampled_from(["T%H:%M:%S", " %H:%M", "T%H:%M:%S.%f", "", "T%H"])
_zones = st.sampled_from(["", "Z", "+01:00", "-0330", "+05", "+14:00"])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(_walls, _styles, _zones), min_size=1, max_size=40),
       st.sampled_from(["Europe/Amsterdam", "America/New_York", "Asia/Kolkata"]))
def test_vectorised_times_match_the_reference(items, zone):
    """Arrow's cast, the chunk bisection and `parse_time` + business_time agree."""
    texts = []
    for wall, style, offset in items:
        text = wall.strftime("%Y-%m-%d" + style)
        texts.append(text + (offset if style else ""))
    calendar = BusinessCalendar.always_open(zone)
    # as they are (Arrow's cast of the whole chunk when they are all alike, else one by one),
    # and repeated with a bad one past the size where the chunk is split and bisected
    big = texts * (300 // len(texts) + 1) + ["not a time"]
    for sample in (texts, big):
        _check_against_reference(sample, zone, calendar)


def _check_against_reference(texts: list[str], zone: str, calendar: BusinessCalendar) -> None:
    values, ok = read._parse_times(pa.chunked_array([pa.array(texts)]), ZoneInfo(zone))
    for text, value, good in zip(texts, values, ok, strict=True):
        reference = parse_time(text)
        if isinstance(reference, str):
            assert not good, text
            continue
        assert good, text
        instant, naive = reference
        if naive:
            wall = dt.datetime(1970, 1, 1) + dt.timedelta(microseconds=instant)
            instant = us(resolve_local(wall, calendar.timezone).isoformat())
        assert value == instant, text


TRICKY = ["2000-02-29", "1900-02-29", "2024-02-29T12:00Z", "2023-02-29", "2026-04-31",
          "2026-12-31T24:00", "2026-12-31T24:00:01", "2026-01-01t09:00z", "2026-01-01 09:00,25",
          "2026-01-01T09:00:00.123456789-00:30", "2026-01-01T09:00:00+0545", "0000-06-01",
          "2026-00-10", "2026-01-00", "2026-01-01T23:59:59.999999+23:59", "2026-01-01T09+05",
          "2026-01-01T09:00:00-12", " 2026-01-01T09:00 ", "2026-01-01T09:00:00.Z", "", None,
          "2026-03-29 02:30", "2026-10-25 02:30", "2026-01-01T09:61", "1970-01-01T00:00Z"]


@pytest.mark.parametrize("repeat", [1, 50])
def test_vectorised_parser_on_tricky_texts(repeat):
    """`_parse_texts` (what chunks Arrow refuses go through) against `parse_time`."""
    texts = TRICKY * repeat
    calendar = BusinessCalendar.always_open(AMS)
    values, ok = read._parse_times(pa.chunked_array([pa.array(texts)]), ZoneInfo(AMS))
    for text, value, good in zip(texts, values, ok, strict=True):
        reference = parse_time(text) if text is not None else "missing"
        assert good == (not isinstance(reference, str)), text
        if good:
            instant, naive = reference
            if naive:
                wall = dt.datetime(1970, 1, 1) + dt.timedelta(microseconds=instant)
                instant = us(resolve_local(wall, calendar.timezone).isoformat())
            assert value == instant, text


def test_a_column_of_unparseable_dates_is_rejected_quickly(tmp_path):
    path = tmp_path / "excel.csv"
    rows = "".join(f"L{i},03/02/2026 09:{i % 60:02d},touch\n" for i in range(20000))
    path.write_text("lead_id,at,event\n" + rows)
    history = load_history([path], timezone="UTC")
    assert history.counts.rejected == 20000 and len(history) == 0
    assert history.rejects[0].reason.startswith("time '03/02/2026 09:00' is not a date and time")


# ---------------------------------------------------------------------------- errors


def test_missing_column_names_file_and_fix(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text("lead,at,event\nA,2026-01-01,created\n")
    with pytest.raises(HistoryError) as info:
        load_history([path], timezone="UTC")
    message = str(info.value)
    assert str(path) in message and "no column `lead_id`" in message
    assert "help:" in message and "did you mean `lead`?" in message and "mapping" in message


@pytest.mark.parametrize(("content", "expected"), [
    (b"", "empty or has no header"),
    (b"lead_id,at,at\n", "names the column `at` twice"),
    (b"lead_id,at,event,,\n", r"leaves 2 columns without a name \(columns 4, 5\)"),
])
def test_unusable_csv_header(tmp_path, content, expected):
    path = tmp_path / "h.csv"
    path.write_bytes(content)
    with pytest.raises(HistoryError, match=expected):
        load_history([path], timezone="UTC")


def test_unknown_timezone_missing_file_and_unknown_format(tmp_path):
    with pytest.raises(HistoryError, match="unknown timezone `Mars/Olympus`"):
        load_history([HISTORIES / "events.csv"], timezone="Mars/Olympus")
    with pytest.raises(HistoryError, match="no such file"):
        load_history([tmp_path / "nope.csv"], timezone="UTC")
    with pytest.raises(HistoryError, match="no such file"):  # a mistyped path, said so
        load_history([tmp_path / "history"], timezone="UTC")
    (tmp_path / "history.xlsx").write_bytes(b"PK")
    with pytest.raises(HistoryError, match="cannot tell the format"):
        load_history([tmp_path / "history.xlsx"], timezone="UTC")
    with pytest.raises(HistoryError, match="no history file given"):
        load_history([], timezone="UTC")


@pytest.mark.parametrize("header", ["lead_id,at,event", "foo,bar", "at,event"])
def test_empty_file_with_header_only(tmp_path, header):
    """A header without lead_id and no row under it raised AttributeError (exit 70): the
    lead column the reader adds for it is text, not the dictionary it reads ids into."""
    path = tmp_path / "h.csv"
    path.write_text(header + "\n")
    history = load_history([path], timezone="UTC")
    check_invariants(history)
    assert len(history) == 0 and history.rows_read == 0


@pytest.mark.parametrize("lines", ["{}\n", "{}\n{}\n", "{}\n\n   \n{}\n"])
def test_json_lines_of_empty_objects_are_rows_not_nothing(tmp_path, lines):
    """`{}` lines were read as no row at all ("0 rows read"): a file of them now says what
    any file without a lead_id says."""
    path = tmp_path / "h.jsonl"
    path.write_text(lines)
    with pytest.raises(HistoryError, match="no column `lead_id`"):
        load_history([path], timezone="UTC")


# ---------------------------------------------------------------------------- outputs


def test_write_rejects(tmp_path):
    history = load_history([HISTORIES / "events.csv", HISTORIES / "broken.csv"],
                           timezone=AMS)
    out = tmp_path / "rejects.csv"
    write_rejects(history, out)
    with out.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(history.rejects) == 11
    assert list(rows[0])[:4] == ["source", "row", "column", "reason"]
    assert {"lead_id", "at", "event", "actor", "column 5"} <= set(rows[0])
    assert rows[0]["row"] == "10" and rows[0]["event"] == "won"
    assert rows[-1]["reason"] == "row has 5 values; the header has 4 columns"


def test_event_schema_describes_the_accepted_rows():
    jsonschema = pytest.importorskip("jsonschema")
    schema = event_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    assert schema["properties"]["event"]["enum"] == list(EVENTS)
    good = {"lead_id": "L1", "at": "2026-03-02T09:00:00+01:00", "event": "won", "actor": "ann",
            "amount": 1500, "stage": "sql", "industry": "retail"}
    assert validator.is_valid(good)
    for bad in ({**good, "event": "tuch"}, {**good, "at": "yesterday"},
                {k: v for k, v in good.items() if k != "lead_id"},
                {**good, "extra": {"nested": True}}):
        assert not validator.is_valid(bad)
    # the schema's pattern for `at` accepts exactly the shapes the loader parses
    for text in ["2026-03-02", "2026-03-02 09:30", "2026-03-02T09:30:00.5Z",
                 "2026-03-02T09:30:00+0100", "2026-03-02T09", "26-03-02", "2026-03-02Z",
                 "2026-03-02 09:30 +01:00"]:
        loads = not isinstance(parse_time(text), str)
        assert validator.is_valid({**good, "at": text}) == loads, text


def _load_text(text: str, zone: str) -> History:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "h.csv"
        path.write_text(text, encoding="utf-8")
        return load_history([path], timezone=zone)


def test_parquet_times_as_categories_or_numbers(tmp_path):
    path = tmp_path / "cat.parquet"
    pq.write_table(pa.table({
        "lead_id": ["A", "A"],
        "at": pa.array(["2026-01-01T09:00Z", "2026-01-01 10:00"]).dictionary_encode(),
        "event": ["created", "touch"]}), path)
    history = load_history([path], timezone="UTC")
    assert history.at.tolist() == [us("2026-01-01T09:00:00+00:00"),
                                   us("2026-01-01T10:00:00+00:00")]
    numbers = tmp_path / "epoch.parquet"
    pq.write_table(pa.table({"lead_id": ["A"], "at": [1_767_258_000], "event": ["created"]}),
                   numbers)
    with pytest.raises(HistoryError, match="column `at` holds int64, not times"):
        load_history([numbers], timezone="UTC")


_cells = {
    "lead_id": st.sampled_from(["A", "B", "C", "", "  ", "Ä-1", "x,y"]),
    "at": st.sampled_from(["2026-03-02T09:00:00Z", "2026-03-02 09:30", "2026-03-01",
                           "2026-03-03T10:00+01:00", "2026-02-30", "soon", "", "2026-03-29 02:30",
                           "2026-03-02T09:00:00.5z", "2026-13-01T09:00"]),
    "event": st.sampled_from([*EVENTS, "tuch", "", "Won", " touch "]),
    "actor": st.sampled_from(["ann", "bob", "", "Smith, Jo"]),
    "note": st.sampled_from(["", "hi", "two\nlines", 'say "hi"']),
}


@settings(max_examples=40, deadline=None)
@given(st.lists(st.fixed_dictionaries(_cells), max_size=60),
       st.sampled_from(["csv", "jsonl", "parquet"]),
       st.lists(st.integers(min_value=0, max_value=60), max_size=3))
def test_rows_read_always_equal_accepted_plus_rejected(rows, fmt, broken_at):
    """Whatever the rows hold (and for CSV, rows of the wrong width among them), every row is
    either an event or a reject, and the counts say so."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"h.{fmt}"
        expected = len(rows)
        if fmt == "csv":
            lines = []
            for row in rows:
                cells = [v.replace('"', '""') for v in row.values()]
                lines.append(",".join(f'"{v}"' for v in cells))
            for position in sorted(broken_at, reverse=True):
                lines.insert(min(position, len(lines)), "Z,2026-03-02T09:00Z")
                expected += 1
            path.write_text(",".join(_cells) + "\n" + "\n".join(lines) + "\n")
        elif fmt == "jsonl":
            path.write_text("".join(json.dumps(row) + "\n" for row in rows))
        else:
            pq.write_table(pa.Table.from_pylist(rows, schema=pa.schema(
                [(name, pa.string()) for name in _cells])), path)
        history = load_history([path], timezone=AMS)
    check_invariants(history)
    assert history.rows_read == expected
    assert [s.rows for s in history.sources] == [expected]


@given(st.lists(st.tuples(st.integers(0, 6), st.integers(-(2 ** 62), 2 ** 62)), min_size=1,
                max_size=60),
       st.booleans())
def test_records_of_a_lead_are_ordered_by_time_as_lexsort_orders_them(records, narrow):
    """The packed stable sort of a lead's records from several files, against lexsort (ties
    keep their read order); wide times take the lexsort path."""
    from sla_dsl.history.read import _time_order_within_runs

    lead = np.sort(np.array([r[0] for r in records], dtype=np.int64), kind="stable")
    at = np.array([r[1] % 1000 if narrow else r[1] for r in records], dtype=np.int64)
    assert np.array_equal(_time_order_within_runs(lead, at), np.lexsort((at, lead)))


# ---------------------------------------------------------------- the fast paths of an event log
# `load_history` reads an event log's CSV times with Arrow's reader and its lead ids as the
# reader's dictionaries; `history_from_rows` reads the same rows as text, the reference.

COMPANY_X = Path(__file__).resolve().parent.parent / "examples" / "company-x" / "history.csv"


def _example_rows() -> list[dict[str, str | None]]:
    with COMPANY_X.open(encoding="utf-8", newline="") as handle:
        return [{name: value or None for name, value in row.items()}
                for row in csv.DictReader(handle)]


def _assert_same_history(got: History, expected: History) -> None:
    for name in ("lead", "at", "event", "actor", "row", "lead_ids", "actors"):
        assert np.array_equal(getattr(got, name), getattr(expected, name)), name
    assert got.fields.keys() == expected.fields.keys()
    for name, column in expected.fields.items():
        assert got.fields[name].tolist() == column.tolist(), name
    assert got.rejects == expected.rejects
    assert got.counts == expected.counts


def _write_csv(path: Path, rows: list[dict[str, str | None]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _local(text: str, zone: str, offset: bool) -> str:
    moment = dt.datetime.fromisoformat(text).astimezone(ZoneInfo(zone))
    return moment.isoformat() if offset else moment.replace(tzinfo=None).isoformat(sep=" ")


@pytest.mark.parametrize("form", ["utc", "offset", "wall", "bad time", "mixed"])
def test_csv_times_read_by_arrow_are_the_text_reading(tmp_path, form):
    """The shipped history with its times written in UTC, with offsets, as walls of the
    policy's zone, with a time no reader takes or in both forms; and rows to reject (an
    unknown event, no lead id, an event before its lead was created): the same history,
    rejects (raw values as written) and row numbers as the rows read as text."""
    rows = _example_rows()
    for i, row in enumerate(rows):
        if form in ("offset", "wall") or (form == "mixed" and i % 2):
            row["at"] = _local(row["at"], AMS, offset=form == "offset")
    rows[7]["event"] = "meeting"
    rows[11]["lead_id"] = " "
    rows[40]["at"] = "2025-12-01T00:00:00Z" if form != "wall" else "2025-12-01 00:00:00"
    if form == "bad time":  # past the rows that tell the form: Arrow's reader refuses it
        rows[2000]["at"] = "05/01/2026 09:00"
    path = tmp_path / "history.csv"
    _write_csv(path, rows)
    got = load_history([path], timezone=AMS)
    expected = read.history_from_rows(rows, timezone=AMS, source=str(path))
    _assert_same_history(got, expected)
    assert {r.row for r in got.rejects} >= {8, 12}
    if form == "bad time":
        assert any(r.row == 2001 and "05/01/2026" in r.reason for r in got.rejects)


@pytest.mark.parametrize("order", ["by lead", "by time", "dictionary not as seen"])
def test_parquet_lead_ids_numbered_as_first_seen(tmp_path, order):
    """Lead ids read as each row group's dictionary are numbered in the order they first
    appear, as from text: in a file sorted by lead (ranges of ids that do not overlap), one
    sorted by time (every row group meets most leads), and one whose dictionary lists the ids
    in another order than they come (written without Arrow's schema, so read as text)."""
    rows = _example_rows()
    if order == "by time":
        rows.sort(key=lambda row: row["at"])
    rows[5]["lead_id"] = None
    rows[6]["lead_id"] = "  "
    columns = {name: pa.array([row[name] for row in rows], pa.string()) for name in rows[0]}
    if order == "dictionary not as seen":
        ids = columns["lead_id"]
        values = pa.array(sorted({v for v in ids.to_pylist() if v is not None}, reverse=True))
        columns["lead_id"] = pa.DictionaryArray.from_arrays(
            pa.compute.index_in(ids, value_set=values), values)
    path = tmp_path / "history.parquet"
    pq.write_table(pa.table(columns), path, row_group_size=150,
                   store_schema=order != "dictionary not as seen")
    assert pq.read_schema(path).field("lead_id").type == pa.string()
    got = load_history([path], timezone=AMS, fields={"amount"})
    expected = read.history_from_rows(rows, timezone=AMS, source=str(path))
    expected.fields = {"amount": expected.fields["amount"]}
    _assert_same_history(got, expected)


@pytest.mark.parametrize(("ending", "empty"), [("\n", False), ("\n", True), ("\r\n", False),
                                              ("\r\n", True), ("\r", False),
                                              ("a CR alone once", False)])
@pytest.mark.parametrize("block", [None, 97])
def test_csv_rejects_show_times_as_written_whatever_ends_the_lines(tmp_path, monkeypatch, ending,
                                                                 empty, block):
    """A rejected row's time, read as a timestamp, is shown as written: found by the row's
    line (lines ending in LF or CRLF, empty lines not counted as rows; the file searched in
    blocks, here also of 97 bytes, so that rows straddle them) or, where a CR alone ends a
    line, by reading the file again."""
    if block is not None:
        monkeypatch.setattr(read, "_SCAN", block)
    rows = _example_rows()[:300]
    rows[6]["event"] = "meeting"
    rows[250]["event"] = "call"
    lines = [",".join(rows[0])] + [",".join(v or "" for v in row.values()) for row in rows]
    if empty:
        lines[120:120] = ["", ""]  # empty lines: no rows
    if ending == "a CR alone once":
        lines[200:202] = [lines[200] + "\r" + lines[201]]
        ending = "\n"
    path = tmp_path / "history.csv"
    path.write_bytes((ending.join(lines) + ending * (1 + empty)).encode())
    got = load_history([path], timezone=AMS)
    _assert_same_history(got, read.history_from_rows(rows, timezone=AMS, source=str(path)))
    assert [(r.row, r.raw["at"]) for r in got.rejects] == [(7, rows[6]["at"]),
                                                           (251, rows[250]["at"])]


def test_the_quick_look_for_spaces_around_a_name_misses_none_arrow_trims():
    """`_spaced` reads a value's first and last byte before trimming anything: every
    character Arrow trims, at either end, next to any other, must still be found."""
    import pyarrow.compute as pc

    chars = [chr(c) for c in range(0x3001) if not 0xD800 <= c <= 0xDFFF]
    trims = {c for c, t in zip(chars, pc.utf8_trim_whitespace(
        pa.array([f"{c}x{c}" for c in chars])).to_pylist(), strict=True) if t == "x"}
    for c in chars:
        for text in (f"{c}id", f"id{c}", f"é{c}", f"{c}é"):
            assert read._spaced(pa.array(["L1", "", text])) == (c in trims), (hex(ord(c)), text)
    assert not read._spaced(pa.array(["", None, "日本", "a b"]))


@pytest.mark.parametrize("suffix", ["csv", "jsonl", "parquet"])
def test_a_lead_id_or_actor_with_spaces_around_it_is_the_same_lead_or_actor(suffix, tmp_path):
    rows = [("A1", "2026-03-02T09:00:00Z", "created", None),
            (" A1", "2026-03-02T09:05:00Z", "handoff", "marketing "),
            ("A1\t", "2026-03-02T09:10:00Z", "touch", "\u00a0ana"),
            ("A2 ", "2026-03-02T09:00:00Z", "created", None),
            ("A2", "2026-03-02T09:20:00Z", "touch", "ana")]
    table = pa.table({name: [row[i] for row in rows] for i, name in
                      enumerate(["lead_id", "at", "event", "actor"])})
    path = tmp_path / f"spaced.{suffix}"
    if suffix == "parquet":
        pq.write_table(table, path)
    elif suffix == "jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in table.to_pylist()))
    else:
        with path.open("w", newline="") as handle:
            csv.writer(handle).writerows([table.column_names, *rows])
    history = load_history([path], timezone="UTC")
    assert history.counts.rejected == 0
    assert history.lead_ids[history.lead].tolist() == ["A1", "A1", "A1", "A2", "A2"]
    assert sorted(set(history.actors.tolist())) == ["ana", "marketing"]


@pytest.mark.parametrize("first", [b"null", b"  null \r", b'{"lead_id": "L0", "at": "x"}\nnull'])
def test_a_json_lines_file_with_a_null_line_is_read_not_a_crash(first, tmp_path):
    # Arrow's JSON reader ended the process (a segmentation fault) on a block starting with
    # a line `null`: every command reading the file died without a word
    path = tmp_path / "nulls.jsonl"
    path.write_bytes(first + b'\n{"lead_id": "L1", "at": "2026-03-02T09:00:00Z", '
                     b'"event": "created"}\n')
    history = load_history([path], timezone="UTC")
    assert history.lead_ids.tolist() == ["L1"]
    assert "line is a single value, not a JSON object" in {r.reason for r in history.rejects}
    assert history.counts.read == history.counts.accepted + history.counts.rejected


@pytest.mark.parametrize("quoted", [False, True])
def test_a_rejected_row_shows_the_columns_the_policy_does_not_read(quoted, tmp_path):
    # a history read with only the columns a policy needs wrote its rejects with only those:
    # `channel` and `title` were gone from the rejects file, though a rejected row is shown
    # with every value it had
    from sla_dsl.cli import main

    third = '"ph,one"' if quoted else "phone"
    path = tmp_path / "history.csv"
    path.write_text("lead_id,at,event,actor,channel,title\n"
                    "L1,2026-03-02T09:00:00Z,created,,web,CEO\n"
                    "L1,2026-03-02T10:00:00Z,tuch,bob,phone,CTO\n"
                    f"L1,,touch,bob,{third},CFO\n")
    rejects = tmp_path / "rejects.csv"
    policy = HISTORIES.parent.parent.parent / "policies" / "company-x-trial.sla"
    assert main(["evaluate", str(policy), "--history", str(path),
                 "-q", "--rejects", str(rejects)]) == 0
    with rejects.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["row"], r["channel"], r["title"]) for r in rows] == [
        ("2", "phone", "CTO"), ("3", third.strip('"'), "CFO")]
    assert rows[0]["at"] == "2026-03-02T10:00:00Z"
