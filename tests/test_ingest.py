"""`sla ingest`: event logs cut by DuckDB into buckets of whole leads, read by the reader's rules.

The reader on the whole file is the reference: the same rows read, accepted and rejected, the
same rejects (file, row number, reason, raw values), the same events, and an evaluation of the
buckets that judges every lead as the evaluation of the whole file does."""

from __future__ import annotations

import csv
import hashlib
import json
import random
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sla_dsl.cli import main
from sla_dsl.history.columns import EVENTS, NO_ACTOR, History
from sla_dsl.history.lead_hash import (
    LEAD_BUCKET_SQL,
    LEAD_HASH,
    lead_bucket,
    lead_buckets,
    register_lead_bucket,
)
from sla_dsl.history.read import load_history

duckdb = pytest.importorskip("duckdb")

from sla_dsl.history.ingest import MANIFEST, REJECTS, ingest, read_manifest  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
HISTORIES = ROOT / "tests" / "fixtures" / "histories"
AMS = "Europe/Amsterdam"
SHIPPED = [
    [ROOT / "examples" / "company-x" / "history.csv"],
    [ROOT / "examples" / "new-breed" / "history.csv"],
    [ROOT / "examples" / "salesforce" / "events" / "history.csv"],
    [ROOT / "examples" / "hubspot" / "events" / "history.csv"],
    [HISTORIES / "events.csv", HISTORIES / "events_crlf.csv"],
    [HISTORIES / "events.jsonl"],
    [HISTORIES / "broken.csv", HISTORIES / "events.csv"],
]


# ============================================================================ the hash


def test_the_hash_is_blake2b_64_of_the_utf8_id_read_little_endian():
    # the digest as hashlib gives it, read by hand
    digest = hashlib.blake2b("élan".encode(), digest_size=8).digest()
    by_hand = sum(byte << (8 * i) for i, byte in enumerate(digest))
    assert lead_bucket("élan", 1 << 64) == by_hand
    assert lead_bucket("élan", 97) == by_hand % 97
    assert lead_buckets(["élan", "L1"], 97).tolist() == [by_hand % 97, lead_bucket("L1", 97)]
    assert "blake2b-64" in LEAD_HASH


def test_duckdb_computes_the_same_bucket_as_python():
    rng = random.Random(7)

    def text() -> str:
        return "".join(chr(rng.choice([rng.randint(32, 126), rng.randint(0xA0, 0xD7FF),
                                       rng.randint(0xE000, 0x10FFFF)]))
                       for _ in range(rng.randint(0, 24)))

    ids = ["", " ", "L0000001", "élan", "日本語", "🙂", "a" * 5000, "'=1+1", *(text()
                                                                           for _ in range(20000))]
    con = duckdb.connect()
    register_lead_bucket(con)
    con.register("ids", pa.table({"id": ids}))
    for buckets in (1, 7, 64, 1 << 62):
        sql = con.sql(f"SELECT {LEAD_BUCKET_SQL}(id, {buckets}) AS b FROM ids")
        assert np.array_equal(np.asarray(sql.fetchnumpy()["b"]), lead_buckets(ids, buckets))
        assert [lead_bucket(i, buckets) for i in ids[:50]] == lead_buckets(ids[:50],
                                                                           buckets).tolist()
    assert con.sql(f"SELECT {LEAD_BUCKET_SQL}(NULL, 5)").fetchall() == [(None,)]


# ============================================================================ against the reader


def _events(history: History) -> list[tuple]:
    actors = np.where(history.actor == NO_ACTOR, None,
                      history.actors[np.maximum(history.actor, 0)] if len(history.actors)
                      else None)
    names = sorted(history.fields)
    return sorted(zip(history.lead_ids[history.lead].tolist(), history.at.tolist(),
                      [EVENTS[e] for e in history.event], actors.tolist(),
                      *[history.fields[name].tolist() for name in names], strict=True),
                  key=repr)


def _rejects_written(directory: Path) -> list[dict[str, str]]:
    with (directory / REJECTS).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _check_against_reader(paths: list[Path], out: Path, buckets: int, zone: str = AMS):
    whole = load_history(paths, timezone=zone)
    manifest = ingest(paths, out, buckets=buckets, timezone=zone, memory_limit="500MB",
                      threads=2)
    counts = whole.counts
    assert (manifest.rows_read, manifest.accepted, manifest.rejected) == (
        counts.read, counts.accepted, counts.rejected)
    for bucket in manifest.buckets:
        assert bucket.rows_read == bucket.accepted + bucket.rejected

    # the same rejects, in the same order, with their raw values
    written = _rejects_written(out)
    assert [(r["source"], int(r["row"]), r["reason"]) for r in written] == [
        (r.source, r.row, r.reason) for r in whole.rejects]
    for row, reject in zip(written, whole.rejects, strict=True):
        assert {k: v for k, v in row.items() if k in reject.raw} == reject.raw

    # the same events; every lead in the bucket its hash names
    parts = [load_history([out / b.file], timezone="UTC") for b in manifest.buckets]
    assert sorted((e for part in parts for e in _events(part)), key=repr) == _events(whole)
    for index, part in enumerate(parts):
        assert set(lead_buckets(part.lead_ids, buckets).tolist()) <= {index}
        assert part.counts.rejected == 0
    latest = max(int(p.at.max()) for p in parts if len(p))
    assert latest == int(whole.at.max())
    return manifest


@pytest.mark.parametrize("paths", SHIPPED, ids=lambda ps: "+".join(p.name for p in ps))
def test_ingest_reads_the_shipped_histories_as_the_reader_does(paths, tmp_path):
    manifest = _check_against_reader(paths, tmp_path / "out", buckets=4)
    on_disk = read_manifest(tmp_path / "out")
    assert on_disk == manifest
    assert json.loads((tmp_path / "out" / MANIFEST).read_text())["hash"] == LEAD_HASH


DAMAGED = (
    "lead_id,at,event,actor,note\n"
    "A1,2026-03-02T09:00:00+01:00,created,,\n"
    "A1,2026-03-02 10:00,touch,ana,\"two\nlines\"\n"
    "\n"  # an empty line: no row
    "A1,2026-03-01T09:00:00Z,won,ana,before created\n"
    "A2,2026-03-29 02:30,created,,DST gap in Amsterdam\n"
    "A2,2026-10-25 02:30,touch,bo,repeated hour\n"
    ",2026-03-02T09:00:00Z,touch,ana,no lead\n"
    "   ,2026-03-02T09:00:00Z,touch,ana,blank lead\n"
    "A3,2026-03-02T09:00:00Z,tuch,ana,typo\n"
    "A3,2026-13-01T09:00,created,,no month 13\n"
    "A3,yesterday,touch,,not a time\n"
    "A3,,touch,,\n"
    "A3,2026-03-02T09:00:00Z,,,\n"
    "A4,1850-01-01,created,,out of range\n"
    "'=A5,2026-03-02T09:00:00Z,created,'=HYPERLINK(1),formula cells\n"
    "=A5,2026-03-02T10:00:00Z,touch,ana,same lead unquoted\n"
    "A6,2026-03-02T24:00,created,ÿ名前,midnight at 24\n"
)


def test_a_damaged_log_duckdb_reads_is_rejected_row_for_row_as_the_reader_does(tmp_path):
    path = tmp_path / "damaged.csv"
    path.write_text(DAMAGED, encoding="utf-8")
    manifest = _check_against_reader([path], tmp_path / "out", buckets=3)
    assert manifest.in_memory == []  # DuckDB read it: the out-of-core path is the one tested
    assert manifest.rejected == 9
    rows = {int(r["row"]) for r in _rejects_written(tmp_path / "out")}
    assert 3 in rows  # `won` before `created`: the empty line is no row


def test_rows_of_the_wrong_width_are_read_by_the_reader_and_counted_in_bucket_0(tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_text(DAMAGED + "A7,2026-03-02T09:00:00Z,created\n   \nA7,x,y,z,w,v\n",
                    encoding="utf-8")
    manifest = _check_against_reader([path], tmp_path / "out", buckets=3)
    assert manifest.in_memory == [str(path)]
    written = _rejects_written(tmp_path / "out")
    assert {r["reason"] for r in written if int(r["row"]) >= 17} == {
        "row has 3 values; the header has 5 columns",
        "row is blank (only spaces, tabs or an empty quoted value)",
        "row has 6 values; the header has 5 columns"}


SPACED = (
    "lead_id,at,event,actor,title\n"
    "B1,2026-03-02T09:00:00Z,created,,\"CFO\"  \n"
    "\"B1\" ,2026-03-02T09:05:00Z,handoff,marketing,\n"
    "B1 ,2026-03-02T09:10:00Z,assigned,\"ana\" ,\n"
    "B2,2026-03-02T09:00:00Z,created,,\"VP\" \n"
    "B2,2026-03-02T09:20:00Z,touch,ana ,\n"
)


def test_spaces_after_a_closing_quote_read_as_the_reader_reads_them(tmp_path):
    # DuckDB's CSV parser drops the spaces after a closing quote, the reader's keeps them:
    # `"CFO"  ` was `CFO` in the buckets and `CFO  ` read directly, and `"B1" ` a lead of
    # its own in one and not the other
    path = tmp_path / "spaced.csv"
    path.write_bytes(SPACED.encode())
    manifest = _check_against_reader([path], tmp_path / "out", buckets=3)
    assert manifest.in_memory == [str(path)]
    whole = load_history([path], timezone=AMS)
    assert whole.lead_ids.tolist() == ["B1", "B2"]  # a lead id's spaces are not the id's
    assert sorted(set(whole.actors.tolist())) == ["ana", "marketing"]
    assert "CFO  " in whole.fields["title"].tolist()  # a field keeps what it was given


@pytest.mark.parametrize("header", ["Score,lead_id,at,event,actor,score",
                                    "lead_id,AT,at,event,actor,Event"])
@pytest.mark.parametrize("suffix", ["csv", "parquet", "jsonl"])
def test_column_names_that_differ_only_in_case_are_two_columns_either_way(header, suffix,
                                                                         tmp_path):
    # DuckDB's names ignore case: `score` became `score_1` in the buckets (its field empty,
    # verdicts changed), and `at` ahead of `AT` was "no column `at`"
    names = header.split(",")
    values = {"lead_id": ["L1", "L1", "L2"], "at": ["2026-03-02T09:00:00Z",
                                                   "2026-03-02T10:00:00Z",
                                                   "2026-03-02T09:30:00Z"],
              "event": ["created", "touch", "created"], "actor": ["", "ana", ""]}
    rows = [[values.get(name, [f"{name}-{i}" for i in range(3)])[i] for name in names]
            for i in range(3)]
    path = tmp_path / f"cased.{suffix}"
    if suffix == "csv":
        with path.open("w", newline="") as handle:
            csv.writer(handle).writerows([names, *rows])
    elif suffix == "jsonl":
        path.write_text("".join(json.dumps(dict(zip(names, row, strict=True))) + "\n"
                                for row in rows))
    else:
        pq.write_table(pa.table({n: [r[i] for r in rows] for i, n in enumerate(names)}), path)
    _check_against_reader([path], tmp_path / "out", buckets=2)


def test_trailing_empty_values_are_not_read_either_way(tmp_path):
    # DuckDB takes a row's empty values past the header's last column as none; the reader
    # rejected the row ("row has 5 values"): one file, two counts
    path = tmp_path / "trailing.csv"
    path.write_text('lead_id,at,event,actor\nL1,2026-03-02T12:06:00Z,created,,\n'
                    'L1,2026-03-02T12:07:00Z,touch,bob,,""\n'
                    'L2,2026-03-02T12:06:00Z,created,,x\n')
    _check_against_reader([path], tmp_path / "out", buckets=2)
    history = load_history([path], timezone=AMS)
    assert (history.counts.accepted, [r.row for r in history.rejects]) == (2, [3])


def test_a_long_value_in_a_file_read_row_by_row_keeps_its_row_either_way(tmp_path):
    # a file with an odd count of quotes is read row by row, where a value over the limit was
    # refused with none of its row's cells (DuckDB read them, and the reader rejected them
    # per record: a wide mapping counted one record less read directly)
    path = tmp_path / "long.csv"
    path.write_bytes(b"lead_id,at,event,actor,title\nL1,2026-03-02T09:00:00Z,created,,\n"
                     b"L1,2026-03-02T10:00:00Z,touch,bob," + b"x" * 1_100_000 + b"\n"
                     b'L1,2026-03-02T11:00:00Z,touch,bob,24" screen\n')
    _check_against_reader([path], tmp_path / "out", buckets=2)
    [reject] = load_history([path], timezone=AMS).rejects
    assert (reject.row, reject.raw["event"], reject.raw["actor"]) == (2, "touch", "bob")
    assert reject.reason.startswith("a value is longer than 1,048,576 bytes")


@pytest.mark.parametrize("title", [b"Caf\xe9", b"x" * 1_100_000])
def test_a_column_the_policy_does_not_read_is_checked_as_the_ingest_checks_it(title, tmp_path,
                                                                          capsys):
    # read without the columns its policy needs not, a row with bytes that are not UTF-8,
    # or a value over the limit, in one of those was accepted; sla ingest, which reads every
    # column, rejected it: one file, two counts
    path = tmp_path / "history.csv"
    path.write_bytes(b"lead_id,at,event,actor,title\nL1,2026-03-02T09:00:00Z,created,,"
                     + title + b"\nL1,2026-03-02T10:00:00Z,touch,bob,CTO\n")
    policy = str(ROOT / "policies" / "company-x-trial.sla")
    out = tmp_path / "out"
    assert main(["ingest", "--history", str(path), "--out", str(out), "--buckets", "1",
                 "--timezone", "America/Chicago", "-q"]) == 0
    capsys.readouterr()
    counts = []
    for history in (path, out):
        assert main(["evaluate", policy, "--history", str(history), "-q", "--format",
                     "json"]) == 0
        counts.append(json.loads(capsys.readouterr().out)["rows"])
    assert counts[0] == counts[1] and counts[0]["rejected"] == 1


def test_a_quote_and_a_space_inside_a_quoted_cell_reads_the_same_either_way(tmp_path):
    path = tmp_path / "quoted.csv"
    path.write_text('lead_id,at,event,actor,note\nC1,2026-03-02T09:00:00Z,created,,'
                    '"said ""hi"" to"\nC1,2026-03-02T09:05:00Z,touch,ana,"a "" ,b"\n')
    _check_against_reader([path], tmp_path / "out", buckets=2)


def test_a_parquet_log_with_timestamps_and_number_ids(tmp_path):
    path = tmp_path / "events.parquet"
    at = pa.array([1772442000000000, 1772445600000000, None, 1772449200000000, 5],
                  pa.timestamp("us", "UTC"))
    pq.write_table(pa.table({
        "lead_id": pa.array([101, 101, 102, None, 103], pa.int64()),
        "at": at,
        "event": ["created", "touch", "created", "touch", "created"],
        "actor": [None, "ana", None, "bo", None],
        "score": pa.array([1.5, None, 70.0, None, 3.25]),
    }), path)
    manifest = _check_against_reader([path], tmp_path / "out", buckets=2)
    assert manifest.in_memory == []
    assert (manifest.rows_read, manifest.rejected) == (5, 2)


def test_parquet_times_in_any_zone_and_unit_read_as_from_the_file(tmp_path):
    moments = [1772442000000000, 1772445600000000, None, 1772449200000000]
    paths = []
    for name, kind in [("amsterdam", pa.timestamp("us", "Europe/Amsterdam")),
                       ("wall", pa.timestamp("ms")), ("nanos", pa.timestamp("ns", "UTC"))]:
        values = [None if m is None else m * 1000 if kind.unit == "ns" else
                  m // 1000 if kind.unit == "ms" else m for m in moments]
        paths.append(tmp_path / f"{name}.parquet")
        pq.write_table(pa.table({
            "lead_id": pa.array(["Z1", "Z1", "Z2", "Z2"]).dictionary_encode(),
            "at": pa.array(values, kind),
            "event": ["created", "touch", "created", "weird"],
        }), paths[-1])
    manifest = _check_against_reader(paths, tmp_path / "out", buckets=2)
    assert manifest.in_memory == [] and manifest.rejected == 6


def test_a_csv_large_enough_for_duckdb_to_read_in_parallel_keeps_its_row_numbers(tmp_path):
    # several MB, so that DuckDB splits the file between threads: row numbers must still be
    # the file's, as the rejects (spread through the file) show
    rng = np.random.default_rng(3)
    n = 120_000
    lead = rng.integers(0, 20_000, n)
    at = [f"2026-03-{1 + k % 28:02d}T{k % 24:02d}:00:00Z" for k in range(n)]
    event = np.where(rng.random(n) < 0.001, "oops", "touch").astype(object)
    path = tmp_path / "large.csv"
    with path.open("w", encoding="utf-8") as handle:
        handle.write("lead_id,at,event,actor,note\n")
        for k in range(n):
            when = "bad time" if k % 9973 == 0 else at[k]
            handle.write(f"L{lead[k]},{when},{event[k]},rep{k % 7},{'x' * (k % 40)}\n")
    manifest = _check_against_reader([path], tmp_path / "out", buckets=5, zone="UTC")
    assert manifest.in_memory == [] and manifest.rejected > 20


def test_the_buckets_judge_every_lead_as_the_whole_file(tmp_path, capsys):
    history = ROOT / "examples" / "company-x" / "history.csv"
    policy = ROOT / "policies" / "company-x.sla"
    assert main(["ingest", "-q", "--history", str(history), "--buckets", "3", "--out",
                 str(tmp_path / "b"), "--timezone", "America/New_York"]) == 0
    capsys.readouterr()
    whole, cut = tmp_path / "whole.json", tmp_path / "cut.json"
    assert main(["evaluate", str(policy), "--history", str(history), "--format", "json",
                 "-o", str(whole)]) == 0
    assert main(["evaluate", str(policy), "--history",
                 *sorted(str(p) for p in (tmp_path / "b").glob("bucket-*.parquet")),
                 "--format", "json", "-o", str(cut)]) == 0
    a, b = json.loads(whole.read_text()), json.loads(cut.read_text())
    assert sorted(a["leads"], key=lambda lead: lead["lead_id"]) == sorted(
        b["leads"], key=lambda lead: lead["lead_id"])
    assert a["summary"]["clauses"] == b["summary"]["clauses"]
    # read as files of their own, the buckets say where the ingest's counts are
    [note] = b["rows"].pop("notes")
    assert "the ingest's counts (2,164 rows read" in note and "manifest.json" in note
    assert a["rows"] == b["rows"] and a["as_of"] == b["as_of"]
    assert read_manifest(tmp_path / "b").as_of_default is not None


# ============================================================================ the command


def test_ingest_command_prints_the_counts_and_exits_1_on_rejects_when_strict(tmp_path, capsys):
    path = tmp_path / "damaged.csv"
    path.write_text(DAMAGED, encoding="utf-8")
    args = ["ingest", "--history", str(path), "--buckets", "2", "--out", str(tmp_path / "o"),
            "--timezone", AMS, "--memory-limit", "200MB", "-q"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "history: 16 rows read, 7 accepted, 9 rejected" in out
    assert main([*args, "--strict"]) == 1


def test_a_second_ingest_into_the_same_directory_leaves_no_bucket_of_the_first(tmp_path):
    paths = [HISTORIES / "events.csv"]
    ingest(paths, tmp_path, buckets=5, timezone=AMS)
    ingest(paths, tmp_path, buckets=2, timezone=AMS)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "bucket-000.parquet", "bucket-001.parquet", MANIFEST, REJECTS, "rejects.jsonl"]


@pytest.mark.parametrize("extra, message", [
    (["--buckets", "0"], "out of range"),
    (["--buckets", "2", "--history", "nowhere.csv"], "no such file"),
    (["--buckets", "2", "--timezone", "Mars/Olympus"], "unknown timezone"),
])
def test_ingest_command_input_errors_exit_2(extra, message, tmp_path, capsys):
    args = ["ingest", "--history", str(HISTORIES / "events.csv"), "--out",
            str(tmp_path / "o"), "--timezone", AMS, *extra]
    assert main(args) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(("header", "said"), [
    (b"lead_id\xff,at,event,actor", "column 1 of the header ('lead_id?') is not UTF-8 text"),
    (b"lead_id,at,event\x00,actor,event", "column 3 of the header ('event\\0') holds a NUL"),
])
def test_a_header_name_that_is_not_text_is_an_input_error_either_way(header, said, tmp_path,
                                                                     capsys):
    # an internal error from sla ingest (a UnicodeDecodeError; DuckDB dropping the NUL and
    # meeting `event` twice), and a report from sla evaluate that read the column as none
    path = tmp_path / "h.csv"
    path.write_bytes(header + b"\nL1,2026-03-02T09:00:00Z,created,,\n")
    policy = str(ROOT / "policies" / "company-x.sla")
    for args in (["ingest", "--history", str(path), "--out", str(tmp_path / "out"),
                  "--buckets", "1", "--timezone", AMS], ["evaluate", policy, "--history",
                                                         str(path)]):
        assert main(args) == 2
        assert said in capsys.readouterr().err


@pytest.mark.parametrize("inputs", [
    lambda out: [str(out.parent / "event.csv")],  # mistyped
    lambda out: sorted(str(p) for p in out.glob("bucket-*.parquet")),  # re-bucketed in place
    lambda out: [str(out / "rejects.csv")],
])
def test_an_ingest_that_cannot_start_leaves_the_earlier_one_in_out(inputs, tmp_path, capsys):
    # each removed the earlier ingest's buckets and manifest (and so the inputs) and then
    # failed with "no such file"
    out = tmp_path / "out"
    events = tmp_path / "events.csv"
    events.write_bytes((HISTORIES / "events.csv").read_bytes())
    ingest_args = ["ingest", "--out", str(out), "--buckets", "2", "--timezone", AMS]
    assert main([*ingest_args, "--history", str(events)]) == 0
    before = sorted((p.name, p.read_bytes()) for p in out.iterdir())
    capsys.readouterr()
    assert main([*ingest_args, "--buckets", "3", "--history", *inputs(out)]) == 2
    err = capsys.readouterr().err
    assert "no such file" in err or f"an output of the ingest into {out}" in err
    assert sorted((p.name, p.read_bytes()) for p in out.iterdir()) == before
    # a mapped read checks its inputs the same way
    assert main([*ingest_args, "--preset", "salesforce", "--history",
                 str(out / "bucket-000.parquet")]) == 2
    assert sorted((p.name, p.read_bytes()) for p in out.iterdir()) == before


def test_a_header_name_with_a_replacement_character_written_in_it_is_a_name(tmp_path,
                                                                            capsys):
    # U+FFFD is UTF-8 text (bytes EF BF BD); the header was read with errors="replace", and
    # the character in a name was taken for a byte that is not UTF-8
    path = tmp_path / "h.csv"
    path.write_text("lead_id,at,event,actor,note\ufffd\nL1,2026-03-02T09:00:00Z,created,,x\n",
                    encoding="utf-8")
    policy = str(ROOT / "policies" / "company-x.sla")
    assert main(["ingest", "--history", str(path), "--out", str(tmp_path / "out"),
                 "--buckets", "1", "--timezone", AMS]) == 0
    capsys.readouterr()
    assert main(["evaluate", policy, "--history", str(path), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["rows"] == {"read": 1, "accepted": 1,
                                                           "rejected": 0}


@pytest.mark.parametrize(("column", "kind", "said"), [
    ("title", pa.list_(pa.string()), "column `title` holds list<element: string>, not single"),
    ("at", pa.int64(), "column `at` holds int64, not times"),
])
def test_an_empty_parquet_log_of_a_type_the_reader_refuses_is_refused_either_way(
        column, kind, said, tmp_path, capsys):
    # a bucket's read checks a file's types on its rows: a file of none went through
    # sla ingest without a word, and sla evaluate refused it
    columns = {"lead_id": pa.string(), "at": pa.string(), "event": pa.string(), column: kind}
    path = tmp_path / "empty.parquet"
    pq.write_table(pa.table({n: pa.array([], t) for n, t in columns.items()}), path)
    for args in (["ingest", "--history", str(path), "--out", str(tmp_path / "out"),
                  "--buckets", "1", "--timezone", AMS],
                 ["evaluate", str(ROOT / "policies" / "company-x.sla"), "--history",
                  str(path)]):
        assert main(args) == 2
        assert said in capsys.readouterr().err


def test_a_file_that_is_not_parquet_is_the_readers_input_error(tmp_path, capsys):
    path = tmp_path / "events.parquet"
    path.write_bytes(b"lead_id,at,event\n")
    assert main(["ingest", "--history", str(path), "--buckets", "2", "--out",
                 str(tmp_path / "o"), "--timezone", AMS]) == 2
    assert "not a readable Parquet file" in capsys.readouterr().err


@pytest.mark.parametrize(("option", "value", "said"), [
    ("--memory-limit", "abc", "'abc' is not a size such as 4GB or 512MB"),
    ("--memory-limit", "4 parsecs", "is not a size"),
    ("--threads", "0", "0: give 1 to 1,024"),
    ("--threads", "many", "'many' is not a whole number"),
])
def test_a_bad_engine_setting_is_a_usage_error_said_as_such(tmp_path, capsys, option, value,
                                                            said):
    from sla_dsl.cli import main

    history = Path(__file__).resolve().parent.parent / "examples" / "company-x" / "history.csv"
    with pytest.raises(SystemExit) as stopped:
        main(["ingest", "--history", str(history), "--buckets", "2", "--out",
              str(tmp_path / "out"), "--timezone", "UTC", option, value])
    assert stopped.value.code == 2
    assert said in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("field", "value", "said"), [
    ("as_of_default", "garbage", "Invalid isoformat string: 'garbage'"),
    ("timezone", 5, "field 'timezone' holds 5, not str"),
    ("rows_read", True, "field 'rows_read' holds True, not int"),
    ("buckets", [{"file": 7}], "field 'file' holds 7, not str"),
    ("surprise", 1, "unknown field 'surprise'"),
])
def test_a_manifest_edited_wrong_is_refused_with_the_field(tmp_path, capsys, field, value,
                                                           said):
    """An as-of default that is no time was exit 70 (ValueError) in sla evaluate."""
    out = tmp_path / "buckets"
    ingest([HISTORIES / "events.csv"], out, buckets=2, timezone=AMS)
    manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    manifest[field] = value
    (out / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    code = main(["evaluate", str(ROOT / "policies" / "inbound-desk.sla"), "--history",
                 str(out), "-q"])
    err = capsys.readouterr().err
    assert code == 2
    assert f"{out}: cannot read its {MANIFEST}: " in err and said in err
    assert "help: run sla ingest again into that directory" in err



def test_an_ingest_stopped_half_way_leaves_no_bucket_behind(tmp_path):
    # Ctrl-C while the buckets are written (here from the progress line of the second
    # bucket): the first bucket stayed behind with no manifest, so a glob of the buckets
    # read half the leads
    out = tmp_path / "out"

    def stop(line: str) -> None:
        if line.startswith("reading bucket 2"):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        ingest(SHIPPED[0], out, buckets=3, timezone=AMS, progress=stop)
    assert not list(out.glob("bucket-*.parquet")) and not (out / MANIFEST).exists()


def test_duckdb_interrupted_is_an_interrupt_not_an_internal_error(tmp_path):
    # DuckDB reports Ctrl-C as its InterruptException, or as a RuntimeError "Query
    # interrupted" from a result being fetched: exit 130 either way, never 70
    from sla_dsl.history.ingest import engine_failure

    con = duckdb.connect()
    (tmp_path / "bucket-000.parquet").write_bytes(b"partial")
    import threading

    timer = threading.Timer(0.2, con.interrupt)
    timer.start()
    with pytest.raises(duckdb.Error) as raised:  # a query long enough to be interrupted
        con.execute("SELECT count(*) FROM range(100000000000) a").fetchall()
    timer.cancel()
    assert isinstance(engine_failure(raised.value, tmp_path), KeyboardInterrupt)
    assert not (tmp_path / "bucket-000.parquet").exists()
    assert isinstance(engine_failure(RuntimeError("Query interrupted"), tmp_path),
                      KeyboardInterrupt)
    out_of_memory = engine_failure(duckdb.OutOfMemoryException("out of memory"), tmp_path)
    assert "give it more memory" in str(out_of_memory)
