"""Every input bounded: a hostile pattern, timestamp, nesting depth, row or cell never hangs the
tool, grows its memory without end, runs in a spreadsheet or goes uncounted.

Each test feeds the shipped policies and example histories with one hostile thing added."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from sla_dsl.cli import main
from sla_dsl.evaluation.conditions import ConditionEvaluator
from sla_dsl.history.read import HistoryError, load_history
from sla_dsl.policy_file import load_policy

from .conftest import ROOT

POLICY = ROOT / "policies" / "company-x.sla"
HISTORY = ROOT / "examples" / "company-x" / "history.csv"
DECISION_MAKER = r'title matches "(?i)\b(ceo|cfo|cto|vp|head|director)\b"'


def _policy_with(tmp_path: Path, pattern: str) -> Path:
    text = POLICY.read_text(encoding="utf-8")
    assert DECISION_MAKER in text
    path = tmp_path / "policy.sla"
    path.write_text(text.replace(DECISION_MAKER, f'title matches "{pattern}"'), encoding="utf-8")
    return path


def _history_head(tmp_path: Path, lines: int = 200, extra: str = "",
                  name: str = "history.csv") -> Path:
    """The example history's first `lines` lines (header included), plus `extra`."""
    with HISTORY.open(encoding="utf-8") as handle:
        head = "".join(next(handle) for _ in range(lines))
    path = tmp_path / name
    path.write_text(head + extra, encoding="utf-8", newline="")
    return path


def _run(*args: str) -> subprocess.CompletedProcess:
    """The command in its own process: a regression to a hang or a crash (segfault) fails this
    test instead of stopping the suite. The timeout is a guard, not a measurement."""
    program = "import sys; from sla_dsl.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.run([sys.executable, "-c", program, *args], capture_output=True,
                          text=True, timeout=600, cwd=ROOT)


# ---------------------------------------------------------------- 1. regular expressions


def test_a_backtracking_pattern_evaluates_in_linear_time(tmp_path):
    """`^(a+)+$` against 36 `a`s and a `b` runs for minutes under a backtracking engine; here
    it is one linear scan, so evaluating a title of a hundred thousand of them finishes."""
    policy = _policy_with(tmp_path, "^(a+)+$")
    hostile = "a" * 100_000 + "b"
    history = _history_head(tmp_path, extra=(
        f"Z1,2026-01-05T15:43:02Z,created,,,false,0,,10,software,,,2,,97,38,{hostile}\n"
        f"Z2,2026-01-05T15:43:02Z,created,,,false,0,,10,software,,,2,,97,38,{'a' * 36}\n"))
    assert main(["check", str(policy)]) == 0
    result = _run("evaluate", str(policy), "--history", str(history), "--format", "json")
    assert result.returncode in (0, 1), result.stderr
    assert json.loads(result.stdout)["rows"]["rejected"] == 0

    read = load_history([history], timezone="America/New_York", fields={"title"})
    persona = ConditionEvaluator(load_policy(policy), read.fields, len(read)).definition(
        "bare", "decision_maker")
    by_lead = dict(zip(read.lead_ids[read.lead], persona, strict=True))
    assert (by_lead["Z1"], by_lead["Z2"]) == (False, True)  # the pattern still means the same


def test_inline_flags_and_word_boundaries_keep_working():
    from sla_dsl.language.patterns import compile_pattern, matches

    pattern = compile_pattern(r"(?i)\b(ceo|cfo)\b")
    assert [matches(pattern, t) for t in ["CEO", "Acting CFO", "Vice-cfo", "ceos", None]] == [
        True, True, True, False, False]
    assert matches(pattern, "ceo \ud800")  # a lone surrogate (a JSON escape) is no crash


@pytest.mark.parametrize(("pattern", "caret", "words"), [
    (r"(ceo)\1", r"\1", "refers back to a group"),
    ("(?i)ceo(?!s)", "(?!", "looks ahead"),
    ("(?<=vice )president", "(?<=", "looks behind"),
    ("a++", "++", "possessive"),
    ("a{5000}", "{5000}", "more than 1000 times"),
    # both engines take these, with two meanings: Python's (the language's) would not be run
    ("^a{,3}$", "{,3}", "Python reads it as 0 to 3 times"),
    ("^[[:alpha:]]+$", "[:alpha:]", "names a POSIX class"),
])
def test_features_a_linear_engine_lacks_are_check_errors(tmp_path, capsys, pattern, caret,
                                                         words):
    policy = _policy_with(tmp_path, pattern)
    assert main(["check", str(policy)]) == 1
    out = capsys.readouterr().out
    line, source = next((i, text) for i, text in enumerate(policy.read_text().splitlines(), 1)
                        if f'matches "{pattern}"' in text)
    column = source.index(caret, source.index("matches")) + 1
    assert f"{policy}:{line}:{column}: error: the pattern" in out
    assert words in out and "[E404]" in out
    assert "^" in out.split("[E404]")[1]  # a caret under the construct, then the fix


def test_shipped_policies_patterns_all_run(capsys):
    for policy in sorted((ROOT / "policies").glob("*.sla")):
        assert main(["check", str(policy)]) in (0, 1)
    assert "E404" not in capsys.readouterr().out


# ---------------------------------------------------------------- 2. timestamps in range

FAR_TIMES = {  # at -> why it is out (or None: in range, the first and last supported days)
    "9999-01-05T15:43:02Z": "out of range",
    "0001-01-05": "out of range",
    "2200-12-31T23:00:00-05:00": "out of range",  # 2201-01-01 04:00 UTC
    "1899-12-31T23:59:59Z": "out of range",
    "1900-01-01T00:00:00Z": None,
    "2200-12-31T23:59:59Z": None,
}


def _far_rows() -> list[dict[str, str]]:
    return [{"lead_id": f"F{i}", "at": at, "event": "created"}
            for i, at in enumerate(FAR_TIMES)]


def _check_far_rejects(history, short_rows: int = 0) -> None:
    """The out-of-range rows rejected with row number and reason; every row counted once."""
    bad = [at for at, why in FAR_TIMES.items() if why]
    far = [r for r in history.rejects if "out of range" in r.reason]
    assert [r.row for r in far] == [i + 1 for i, why in enumerate(FAR_TIMES.values()) if why]
    for reject, at in zip(far, bad, strict=True):
        assert reject.reason == (f"time '{at}' is out of range (supported: 1900-01-01 to "
                                 f"2200-12-31 UTC)")
    _check_counted(history, len(FAR_TIMES) + short_rows, len(bad) + short_rows)


def _check_counted(history, rows: int, rejected: int) -> None:
    """Rows in = events accepted + rows rejected, against the rows really in the file."""
    counts = history.counts
    assert (counts.read, counts.rejected) == (rows, rejected)
    assert len(history) == counts.accepted == rows - rejected


def test_times_outside_the_supported_range_are_rejected_on_every_reader(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = _far_rows()
    text = "lead_id,at,event\n" + "".join(f"{r['lead_id']},{r['at']},created\n" for r in rows)
    (tmp_path / "fast.csv").write_text(text)
    (tmp_path / "slow.csv").write_text(text + "S1,2026-01-05\n")  # a short row: row by row
    (tmp_path / "fast.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (tmp_path / "slow.jsonl").write_text("".join(json.dumps({**r, "x": [1]}) + "\n"
                                                 for r in rows))
    pq.write_table(pa.table({k: [r[k] for r in rows] for k in rows[0]}),
                   tmp_path / "text.parquet")
    for name in ["fast.csv", "slow.csv", "fast.jsonl", "slow.jsonl", "text.parquet"]:
        _check_far_rejects(load_history([tmp_path / name], timezone="America/New_York"),
                           short_rows=name == "slow.csv")


def test_typed_parquet_times_outside_the_range_are_rejected(tmp_path):
    import datetime as dt

    import pyarrow as pa
    import pyarrow.parquet as pq

    times = [dt.datetime(9999, 12, 30, tzinfo=dt.UTC), dt.datetime(1, 1, 5, tzinfo=dt.UTC),
             dt.datetime(2026, 1, 5, tzinfo=dt.UTC)]
    pq.write_table(pa.table({"lead_id": ["A", "B", "C"], "event": ["created"] * 3,
                             "at": pa.array(times, pa.timestamp("us", "UTC"))}),
                   tmp_path / "typed.parquet")
    history = load_history([tmp_path / "typed.parquet"], timezone="UTC")
    assert [(r.row, "out of range" in r.reason) for r in history.rejects] == [(1, True),
                                                                             (2, True)]
    assert history.counts.accepted == 1


def test_a_mapped_export_dated_far_away_is_rejected(tmp_path):
    source = ROOT / "examples" / "olist"
    lines = (source / "olist_marketing_qualified_leads_dataset.csv").read_text().splitlines()
    lines[1:3] = [lines[1].replace(lines[1].split(",")[1], "9999-01-05"),
                  lines[2].replace(lines[2].split(",")[1], "0001-01-05")]
    (tmp_path / "olist_marketing_qualified_leads_dataset.csv").write_text("\n".join(lines))
    for name in ["mapping.toml", "olist_closed_deals_dataset.csv"]:
        (tmp_path / name).write_bytes((source / name).read_bytes())
    from sla_dsl.history.mapping import load_mapping

    history = load_history([], timezone="UTC", mapping=load_mapping(tmp_path / "mapping.toml"))
    mqls = [r for r in history.rejects if r.source.endswith("leads_dataset.csv")]
    assert [(r.row, r.column) for r in mqls] == [(1, "first_contact_date")] * 2 + [
        (2, "first_contact_date")] * 2  # created and handoff both read that date
    assert all("out of range (supported: 1900-01-01 to 2200-12-31 UTC)" in r.reason
               for r in mqls)
    assert history.counts.read == history.counts.accepted + history.counts.rejected


def test_a_row_dated_9999_or_0001_is_a_reject_not_a_runaway(tmp_path):
    history = _history_head(tmp_path, extra=("L1,9999-01-05T15:43:02Z,created,,,,,,,,,,,,,,\n"
                                             "L2,0001-01-05,created,,,,,,,,,,,,,,\n"))
    result = _run("evaluate", str(POLICY), "--history", str(history), "--format", "json")
    assert result.returncode in (0, 1), result.stderr
    doc = json.loads(result.stdout)
    assert doc["rows"] == {"read": 201, "accepted": 199, "rejected": 2}
    assert doc["as_of"].startswith("2026-")


@pytest.mark.parametrize("as_of", ["9999-01-01", "0001-01-05T00:00Z", "1899-12-31T23:00Z"])
def test_as_of_outside_the_range_is_a_usage_error(capsys, as_of):
    assert main(["evaluate", str(POLICY), "--history", str(HISTORY), "--as-of", as_of]) == 2
    err = capsys.readouterr().err
    assert f"--as-of '{as_of}' is outside the supported times, 1900-01-01 to 2200-12-31 UTC" \
        in err


# ---------------------------------------------------------------- 3. nesting and sizes

def _jsonl_rows(rows: int = 3) -> list[str]:
    """The example history's first events as JSON Lines."""
    with HISTORY.open(encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        return [json.dumps({k: v for k, v in next(reader).items() if v}) for _ in range(rows)]


@pytest.mark.parametrize("depth", [65, 10_000, 30_000])
def test_a_deeply_nested_json_line_is_a_reject_not_a_crash(tmp_path, depth):
    """30,000 levels overflowed the C stack (exit 139); 10,000 raised RecursionError."""
    lines = _jsonl_rows()
    junk = "[" * depth + "]" * depth
    lines.insert(1, lines[0][:-1] + f', "notes": {junk}}}')
    path = tmp_path / "deep.jsonl"
    path.write_text("\n".join(lines) + "\n")
    result = _run("evaluate", str(POLICY), "--history", str(path), "--format", "json",
                  "--rejects", str(tmp_path / "rejects.csv"))
    assert result.returncode in (0, 1), result.stderr
    assert json.loads(result.stdout)["rows"] == {"read": 4, "accepted": 3, "rejected": 1}
    with (tmp_path / "rejects.csv").open() as handle:
        (reject,) = csv.DictReader(handle)
    assert reject["row"] == "2"
    assert reject["reason"] == (f"line nests arrays or objects {depth + 1:,} deep; records "
                                f"nested more than 64 deep are not read")


def test_brackets_inside_strings_and_moderate_nesting_are_data(tmp_path):
    lines = _jsonl_rows()
    lines[1] = lines[1][:-1] + ', "notes": "' + "[" * 500 + '", "tags": ' + "[" * 60 + \
        "]" * 60 + "}"
    path = tmp_path / "fine.jsonl"
    path.write_text("\n".join(lines) + "\n")
    history = load_history([path], timezone="UTC")
    _check_counted(history, 3, 0)
    assert history.fields["notes"][1] == "[" * 500


def test_a_json_number_of_5000_digits_is_a_reject(tmp_path):
    lines = _jsonl_rows()
    lines[1] = lines[1][:-1] + ', "score": ' + "9" * 5000 + ', "tags": [1]}'
    path = tmp_path / "digits.jsonl"
    path.write_text("\n".join(lines) + "\n")
    history = load_history([path], timezone="UTC")
    _check_counted(history, 3, 1)
    assert history.rejects[0].row == 2
    assert "a number of more than 4,300 digits" in history.rejects[0].reason
    assert "sys.set_int_max_str_digits" not in history.rejects[0].reason  # Python's advice


@pytest.mark.parametrize(("broken", "reason"), [
    (b', "title": "x\\ud800"}', "line escapes half of a surrogate pair"),  # was exit 70
    (b', "t\xe9tle": "x"}', "line is not valid UTF-8 text"),  # a key of Latin-1: was exit 70
    (b', "title": "caf\xe9"}', "line is not valid UTF-8 text"),  # a value: Arrow took it as is
])
def test_json_text_that_is_no_unicode_is_a_reject(tmp_path, broken, reason):
    """Both were found by the fuzz campaign: the first became a Python string Arrow cannot
    store, the second a column name Arrow could not decode."""
    lines = [line.encode() for line in _jsonl_rows()]
    lines[1] = lines[1][:-1] + broken
    path = tmp_path / "odd.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    history = load_history([path], timezone="UTC")
    _check_counted(history, 3, 1)
    assert history.rejects[0].row == 2 and history.rejects[0].reason.startswith(reason)


def test_long_values_and_lines_are_rejects_on_every_reader(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    big = "x" * (2 << 20)  # 2 MiB: over the 1 MiB a value may hold
    text = (f"lead_id,at,event,notes\nA,2026-01-05T10:00Z,created,short\n"
            f"B,2026-01-05T10:00Z,created,{big}\nC,2026-01-05T10:00Z,created,\n")
    (tmp_path / "fast.csv").write_text(text)  # Arrow reads the row whole: a long value
    (tmp_path / "line.csv").write_text(text.replace(big, "y," * (9 << 20)))  # 18 MiB line
    pq.write_table(pa.table({"lead_id": ["A", "B", "C"], "at": ["2026-01-05T10:00Z"] * 3,
                             "event": ["created"] * 3, "notes": ["short", big, None]}),
                   tmp_path / "text.parquet")
    (tmp_path / "big.jsonl").write_text("".join(
        json.dumps({"lead_id": k, "at": "2026-01-05T10:00Z", "event": "created",
                    "notes": v}) + "\n" for k, v in [("A", "short"), ("B", big), ("C", "")]))
    for name, words in [("fast.csv", "a value is longer than 1,048,576"),
                        ("line.csv", "line is longer than 16,777,216 characters"),
                        ("text.parquet", "a value is longer than 1,048,576"),
                        ("big.jsonl", "a value is longer than 1,048,576")]:
        history = load_history([tmp_path / name], timezone="UTC")
        _check_counted(history, 3, 1)
        (reject,) = history.rejects
        assert reject.row == 2 and words in reject.reason, (name, reject.reason)
        assert all(len(v) < 1000 for v in reject.raw.values())  # shown clipped, with its size


def _sparse_jsonl(path: Path, keys: int, lines_between: int, keys_a_line: int = 1) -> Path:
    """Short lines, each `lines_between`-th with keys no other line has: a small file whose
    table of lines x keys is huge."""
    plain = _jsonl_rows(1)[0]
    with path.open("w") as handle:
        for line in range(keys // keys_a_line):
            handle.write((plain + "\n") * lines_between)
            own = "".join(f', "k{line}_{key}": 1' for key in range(keys_a_line))
            handle.write(plain[:-1] + own + "}\n")
    return path


@pytest.mark.parametrize(("keys", "lines_between", "keys_a_line", "said"), [
    (12_000, 1, 200, "its records name more than 10,000 different keys"),
    (1_000, 300, 1, "different keys between them, a table of"),
])
def test_a_json_lines_file_of_lines_each_with_new_keys_is_refused(tmp_path, keys,
                                                                  lines_between, keys_a_line,
                                                                  said):
    """20 MB of short lines, every 300th with a key of its own, made a table of 300 million
    values: 13 s and 5 GB in Arrow alone, and a 10,000-key variant took 24 GB. Now the keys
    are counted in small pieces before any table is built."""
    path = _sparse_jsonl(tmp_path / "sparse.jsonl", keys, lines_between, keys_a_line)
    for args in (["evaluate", str(POLICY), "--history", str(path), "-q"],
                 ["ingest", "--history", str(path), "--buckets", "2", "--out",
                  str(tmp_path / "out"), "--timezone", "UTC", "-q"]):
        result = _run(*args)
        assert result.returncode == 2, result.stderr
        assert said in result.stderr and str(path) in result.stderr
        assert "help:" in result.stderr and "Traceback" not in result.stderr


def test_keys_first_named_late_in_a_json_lines_file_are_read(tmp_path):
    """A key the first MiB does not name (an amount only won deals carry) is still a field:
    the file's keys are counted, then read as before."""
    rows = _jsonl_rows(3)
    filler = [rows[1]] * (2 << 20 // len(rows[1]))
    late = rows[2][:-1] + ', "late_key": "here"}'
    path = tmp_path / "late.jsonl"
    path.write_text("\n".join([rows[0], *filler, late]) + "\n")
    history = load_history([path], timezone="UTC")
    _check_counted(history, len(filler) + 2, 0)
    assert history.fields["late_key"][-1] == "here"


@pytest.mark.parametrize("name", ["wide.csv", "wide.parquet"])
def test_a_file_of_more_than_10000_columns_is_refused(tmp_path, name):
    """A CSV header of a million columns took 38 s and 1.7 GB to evaluate, and `sla ingest`
    of 100,000 ran past a minute and a gigabyte."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    names = ["lead_id", "at", "event", *(f"c{i}" for i in range(10_001))]
    path = tmp_path / name
    if name.endswith(".csv"):
        path.write_text(",".join(names) + "\nL1,2026-01-05T10:00Z,created" + "," * 10_001
                        + "\n")
    else:
        pq.write_table(pa.table({n: ["x"] for n in names}), path)
    result = _run("evaluate", str(POLICY), "--history", str(path), "-q")
    assert result.returncode == 2, result.stderr
    assert "names 10,004 columns; a history file may have at most 10,000" in result.stderr


def test_a_parquet_file_naming_a_column_twice_is_refused(tmp_path):
    """Ingest raised KeyError (exit 70); evaluate printed Arrow's field-lookup error."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "twice.parquet"
    pq.write_table(pa.Table.from_arrays([pa.array(["L1"]), pa.array(["L2"]),
                                         pa.array(["2026-01-05T10:00Z"]), pa.array(["created"])],
                                        names=["lead_id", "lead_id", "at", "event"]), path)
    for args in (["evaluate", str(POLICY), "--history", str(path), "-q"],
                 ["ingest", "--history", str(path), "--buckets", "2", "--out",
                  str(tmp_path / "out"), "--timezone", "UTC", "-q"]):
        result = _run(*args)
        assert result.returncode == 2, result.stderr
        assert "the schema names the column `lead_id` twice" in result.stderr


# ---------------------------------------------------------------- 5. every row counted

A_ROW = "A,2026-01-05T10:00Z,created,x\n"
C_ROW = "C,2026-01-05T10:00Z,created,y\n"


@pytest.mark.parametrize(("middle", "rows", "reason"), [
    ("   \n", 3, "row is blank (only spaces, tabs or an empty quoted value)"),
    ("\t \t\n", 3, "row is blank (only spaces, tabs or an empty quoted value)"),
    ('""\n', 3, "row is blank (only spaces, tabs or an empty quoted value)"),
    (",,,\n", 3, "missing lead id; missing event; missing time"),
    (" , , , \n", 3, "missing lead id; missing event; missing time"),
    ("\x00\n", 3, "row has 1 value; the header has 4 columns"),
    ("\n", 2, None),  # an empty line is no row, in every reader
    ("\r", 2, None),
])
@pytest.mark.parametrize("path", ["fast", "slow"])
def test_every_csv_row_is_accepted_or_rejected(tmp_path, middle, rows, reason, path):
    """A row of only spaces used to vanish: read 2, accepted 2 of 3 data rows."""
    short = "S,1\n" if path == "slow" else ""  # a short row sends the file row by row
    file = tmp_path / "history.csv"
    file.write_text("lead_id,at,event,notes\n" + A_ROW + middle + C_ROW + short, newline="")
    history = load_history([file], timezone="UTC")
    _check_counted(history, rows + bool(short), (reason is not None) + bool(short))
    if reason:
        assert (history.rejects[0].row, history.rejects[0].reason) == (2, reason)


@pytest.mark.parametrize(("middle", "rows", "reason"), [
    ("   \n", 3, "row is blank (only spaces, tabs or an empty quoted value)"),
    ("\t\r\n", 3, "row is blank (only spaces, tabs or an empty quoted value)"),
    ("\ufeff{}\n", 3, "line is not valid JSON: Unexpected UTF-8 BOM"),
    ("\n", 2, None),
    ("\r\n", 2, None),
])
@pytest.mark.parametrize("path", ["fast", "slow"])
def test_every_json_line_is_accepted_or_rejected(tmp_path, middle, rows, reason, path):
    def event(lead: str) -> str:
        return json.dumps({"lead_id": lead, "at": "2026-01-05T10:00Z", "event": "created"})

    nested = '{"lead_id": "N", "at": "2026-01-05T10:00Z", "event": "created", "x": [1]}\n'
    file = tmp_path / "history.jsonl"
    file.write_text(event("A") + "\n" + middle + event("C") + "\n"
                    + (nested if path == "slow" else ""), newline="")
    history = load_history([file], timezone="UTC")
    _check_counted(history, rows + (path == "slow"), reason is not None)
    if reason:
        assert history.rejects[0].row == 2
        assert history.rejects[0].reason.startswith(reason)


def test_a_blank_row_in_the_example_history_is_counted(tmp_path):
    history = _history_head(tmp_path, lines=4, extra="   \n" + "".join(
        HISTORY.read_text().splitlines(True)[4:10]))
    result = _run("evaluate", str(POLICY), "--history", str(history), "--format", "json")
    assert json.loads(result.stdout)["rows"] == {"read": 10, "accepted": 9, "rejected": 1}


# ---------------------------------------------------------------- 4. formulas in written CSV

FORMULAS = ['=HYPERLINK("http://evil.example","click")', "@SUM(A1:A9)", "+1+cmd|' /C calc'!A0",
            "-2+3", "\t=1+1", "\r=1+1"]


def _csv_lines(rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out).writerows(rows)  # CRLF: a lone `\r` in a cell is quoted
    return out.getvalue()


def _example_row(lead: str, event: str, title: str, amount: str = "") -> list[str]:
    """A row of the example history's columns (title last)."""
    return [lead, "2026-01-05T15:43:02Z", event, "", amount] + [""] * 11 + [title]


def test_rejects_file_neutralises_formulas(tmp_path):
    hostile = [_example_row(f"Q{i}", f, f) for i, f in enumerate(FORMULAS)]
    history = _history_head(tmp_path, lines=5, extra=_csv_lines(
        [*hostile, _example_row("Q9", "won", "", "-5")]))
    rejects = tmp_path / "rejects.csv"
    assert main(["evaluate", str(POLICY), "--history", str(history), "--rejects",
                 str(rejects), "--quiet"]) in (0, 1)
    with rejects.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["row"] for r in rows] == [str(5 + i) for i in range(len(FORMULAS))]
    for row, formula in zip(rows, FORMULAS, strict=False):
        assert row["event"] == row["title"] == "'" + formula
    cells = [cell for row in rows for cell in row.values()]
    assert not any(cell.startswith(("=", "+", "@", "\t", "\r")) for cell in cells)
    assert all(not c.startswith("-") or c.lstrip("-").replace(".", "").isdigit() for c in cells)


def test_an_emitted_history_reads_back_the_same_with_formulas_in_it(tmp_path):
    """The history writer neutralises formulas and the reader undoes it: the file evaluates
    as the history it was written from, and `-5` stays a number."""
    from sla_dsl.history.write import write_csv, write_history

    titles = [*FORMULAS, "'=already quoted", "'plain quote", "-5", 'a,b "c"\nd']
    extra = _csv_lines([_example_row(f"Q{i}", "created", t, "-5") for i, t in enumerate(titles)])
    source = load_history([_history_head(tmp_path, lines=30, extra=extra)],
                          timezone="America/New_York")
    assert set(titles) - {"'=already quoted"} <= set(source.fields["title"])
    out = tmp_path / "emitted.csv"
    write_history(source, out)
    with out.open(newline="") as handle:
        cells = [cell for row in csv.reader(handle) for cell in row]
    assert not any(cell.startswith(("=", "+", "@", "\t", "\r")) for cell in cells)
    again = load_history([out], timezone="America/New_York")
    assert again.counts.rejected == 0 and len(again) == len(source)
    for name, values in source.fields.items():
        assert list(again.fields[name]) == list(values), name
    assert write_csv is not None  # the one writer both the simulator and synthetic data use
    for policy in ["company-x.sla"]:
        before = _run("evaluate", str(ROOT / "policies" / policy), "--history",
                      str(tmp_path / "history.csv"), "--format", "json")
        after = _run("evaluate", str(ROOT / "policies" / policy), "--history", str(out),
                     "--format", "json")
        assert json.loads(before.stdout)["leads"] == json.loads(after.stdout)["leads"]


def test_quote_prefix_round_trips_every_text():
    from hypothesis import given
    from hypothesis import strategies as st

    from sla_dsl.history.csv_cells import neutralised, restored

    @given(st.text(alphabet=st.sampled_from(list("'=+-@\t\r 1.e5aZ,\"")), max_size=8))
    def round_trip(text):
        written = neutralised(text)
        assert restored(written) == text
        if written.startswith(("=", "+", "-", "@", "\t", "\r")):
            float(written)  # only numbers go out unquoted

    round_trip()


def test_far_apart_times_get_business_time_tables_of_their_own():
    """A lead in 1900 and one in 2200 cost two small tables, not one of three centuries; the
    answers are those of the scalar `deadline`, one lead at a time."""
    import datetime as dt

    import numpy as np

    from sla_dsl.business_time.calendar import calendar_for, deadline
    from sla_dsl.business_time.open_time import deadlines, open_time_between_many
    from sla_dsl.language import model as m

    policy = load_policy(POLICY)
    business = [d for _, d in policy.nodes_of(m.Duration) if d.business]
    times = [dt.datetime(1900, 1, 2, 10, tzinfo=dt.UTC), dt.datetime(2026, 3, 2, 10, tzinfo=dt.UTC),
             dt.datetime(2200, 12, 1, 10, tzinfo=dt.UTC)]
    starts = np.array([int(t.timestamp()) * 1_000_000 for t in times])
    for duration in business:
        calendar = calendar_for(policy, duration)
        due = deadlines(starts, duration, calendar)
        expected = [deadline(t, duration, calendar) for t in times]
        assert [int(d.timestamp()) * 1_000_000 for d in expected] == due.tolist()
        table = calendar.open_time_table
        assert table.last_day - table.first_day < 2 * 366, table
        spent = open_time_between_many(starts, due, calendar)
        assert (spent >= 0).all()


def test_a_header_line_of_20_mib_is_an_input_error_not_read_whole(tmp_path, capsys):
    path = tmp_path / "history.csv"
    path.write_text("lead_id,at,event," + "x" * (20 << 20) + "\nA,2026-01-05,created,\n")
    assert main(["evaluate", str(POLICY), "--history", str(path)]) == 2
    assert "the header line is longer than 16,777,216 characters" in capsys.readouterr().err


@pytest.mark.parametrize(("text", "words"), [
    ("x = " + "[" * 100_000 + "]" * 100_000 + "\n", "nested too deep to read"),
    ("# a comment line\n" * 70_000, "more than 1,024 KiB, the most a mapping may be"),
])
def test_a_hostile_mapping_file_is_an_input_error(tmp_path, capsys, text, words):
    mapping = tmp_path / "mapping.toml"
    mapping.write_text(text)
    assert main(["evaluate", str(POLICY), "--mapping", str(mapping)]) == 2
    assert words in capsys.readouterr().err


def test_an_as_of_before_1970_keeps_its_fraction_of_a_second():
    """Times back to 1900 are supported: int(timestamp()) rounded -0.5 s to 0 and then added
    the half second, putting the as-of a whole second late."""
    from sla_dsl.evaluation.inputs import as_of_instant

    assert as_of_instant("1969-12-31T23:59:59.5Z", "UTC") == -500_000
    assert as_of_instant("1900-01-01T00:00:00.25Z", "UTC") == -2_208_988_800_000_000 + 250_000
    with pytest.raises(ValueError, match="outside the supported times"):
        as_of_instant("1899-12-31T23:59:59.75Z", "UTC")


# ---------------------------------------------------------------- named pipes and devices

SCENARIO = ROOT / "examples" / "scenarios" / "company-x.toml"
_FILE_TAKERS = [  # (the command with FILE where the path goes, the file's extension, whether
    # the command needs a file it can map or seek, and so says what a pipe is)
    (["check", "FILE"], "sla", False),
    (["explain", "FILE"], "sla", False),
    (["diff", "FILE", str(POLICY)], "sla", False),
    (["test", "FILE"], "toml", True),
    (["evaluate", str(POLICY), "--history", "FILE"], "csv", True),
    (["evaluate", str(POLICY), "--history", str(HISTORY), "--mapping", "FILE"], "toml", True),
    (["evaluate", str(POLICY), "--history", str(HISTORY), "--absences", "FILE"], "csv", False),
    (["evaluate", str(POLICY), "--history", str(HISTORY), "--reps", "FILE"], "csv", False),
    (["merge", "--policy", str(POLICY), "FILE"], "parquet", True),
    (["plan", str(POLICY), "--scenario", "FILE"], "toml", False),
    (["simulate", str(POLICY), "--scenario", "FILE", "--replications", "2"], "toml", False),
    (["ingest", "--history", "FILE", "--buckets", "2", "--out", "OUT", "--timezone", "UTC"],
     "csv", True),
]


def _named(command: list[str], path: Path, out: Path) -> list[str]:
    return [str(path) if a == "FILE" else str(out) if a == "OUT" else a for a in command]


@pytest.mark.skipif(not hasattr(__import__("os"), "mkfifo"), reason="no named pipes here")
@pytest.mark.parametrize(("command", "extension", "says_pipe"), _FILE_TAKERS,
                         ids=lambda c: "-".join(a for a in c if "/" not in a)
                         if isinstance(c, list) else str(c))
def test_a_named_pipe_nobody_writes_to_never_hangs_a_command(tmp_path, command, extension,
                                                             says_pipe):
    """`open()` of a named pipe waits for a writer: every path a command reads is opened
    without waiting, and the readers that need a file (histories, partials) say what it is."""
    import os

    pipe = tmp_path / f"pipe.{extension}"
    os.mkfifo(pipe)
    done = subprocess.run(
        [sys.executable, "-c", "import sys; from sla_dsl.cli import main; "
         "sys.exit(main(sys.argv[1:]))", *_named(command, pipe, tmp_path / "out")],
        capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode in (1, 2), done.stderr
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr
    if says_pipe:
        assert f"{pipe}: is a named pipe, not a file" in done.stderr


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero here")
@pytest.mark.parametrize(("command", "words"), [
    (["check", "/dev/zero"], "a policy may be at most 256 KiB"),
    (["evaluate", str(POLICY), "--history", str(HISTORY), "--mapping", "/dev/zero"],
     "the mapping is more than 1,024 KiB"),
    (["evaluate", str(POLICY), "--history", str(HISTORY), "--absences", "/dev/zero"],
     "the absences file is more than 32,768 KiB, the most it may be"),
    (["evaluate", str(POLICY), "--history", str(HISTORY), "--reps", "/dev/zero"],
     "the reps file is more than 4,096 KiB, the most it may be"),
    (["plan", str(POLICY), "--scenario", "/dev/zero"], "the scenario is more than 1,024 KiB"),
    (["merge", "--policy", str(POLICY), "/dev/zero"], "/dev/zero: is a device, not a file"),
    (["test", "/dev/zero"], "/dev/zero: is a device, not a file"),
])
def test_a_file_that_never_ends_is_refused_at_its_limit(command, words):
    """/dev/zero says its size is 0 and never ends: a size asked for first passes it, so each
    small input is read no further than one byte past its limit."""
    done = _run(*command)
    assert done.returncode in (1, 2) and words in done.stdout + done.stderr, done.stderr


def test_a_policy_given_by_process_substitution_is_read(tmp_path):
    """A pipe someone writes to (`sla check <(git show HEAD:policy.sla)`) reads as written."""
    import os

    if not hasattr(os, "mkfifo"):
        pytest.skip("no named pipes here")
    pipe = tmp_path / "policy.sla"
    os.mkfifo(pipe)
    program = "import sys; from sla_dsl.cli import main; sys.exit(main(sys.argv[1:]))"
    checking = subprocess.Popen([sys.executable, "-c", program, "check", str(pipe)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                cwd=ROOT)
    with pipe.open("wb") as writer:  # waits for the reader, as a shell's writer would
        writer.write(POLICY.read_bytes())
    out, err = checking.communicate(timeout=120)
    assert checking.returncode == 0, err
    assert "1 policy checked: no problems" in out


# ---------------------------------------------------------------- a quote never closed

_QUOTE_HEAD = "lead_id,at,event,actor\nA,2026-03-02T10:00,created,\n"


def test_a_quote_never_closed_is_an_input_error_naming_its_line(tmp_path, capsys):
    """Arrow and the csv module both read an unclosed quote's value to the end of the file:
    the rows after it vanished into one actor's name, and the counts said nothing was lost."""
    path = tmp_path / "history.csv"
    path.write_text(_QUOTE_HEAD + 'A,2026-03-02T10:05,handoff,"marketing\n'
                    "A,2026-03-02T10:30,touch,bob\nB,2026-03-02T11:00,created,\n")
    assert main(["evaluate", str(POLICY), "--history", str(path)]) == 2
    err = capsys.readouterr().err
    assert "line 3: a quoted value opens here and is never closed" in err


def test_a_quote_never_closed_in_a_long_file_is_named_as_in_a_short_one(tmp_path):
    """Past a value's limit the reader looks for where the quote closes; a quote that never
    does is the same error however long the file after it."""
    path = tmp_path / "history.csv"
    path.write_text(_QUOTE_HEAD + 'A,2026-03-02T10:05,handoff,"marketing\n'
                    + "".join(f"B{i},2026-03-02T11:00,created,\n" for i in range(100_000)))
    with pytest.raises(HistoryError, match="line 3: a quoted value opens here and is never "
                                           "closed"):
        load_history([path], timezone="UTC")


def test_a_closed_value_longer_than_the_limit_is_one_counted_reject(tmp_path):
    """A quoted value of 9,000 lines (9 MB, under the line limit, closed): one rejected row,
    its cells shown (the value clipped, with its size), and the rows after it read. The csv
    module started afresh inside the value, and its closing quote read as one never closed.
    Past the line limit, the reject says where the value opened and how far it ran."""
    path = tmp_path / "history.csv"
    path.write_text(_QUOTE_HEAD + 'A,2026-03-02T10:05,handoff,"' + ("y" * 1000 + "\n") * 9000
                    + '"\n' + "".join(f"B{i},2026-03-02T11:00,created,\n" for i in range(50)))
    history = load_history([path], timezone="UTC")
    [reject] = history.rejects
    assert reject.row == 2 and reject.reason.startswith("a value is longer than 1,048,576")
    assert (reject.raw["lead_id"], reject.raw["event"]) == ("A", "handoff")
    assert reject.raw["actor"].endswith("(9,009,000 characters)")
    assert history.counts.read == history.counts.accepted + history.counts.rejected
    assert history.counts.accepted == 51  # the row before and the 50 after


def test_a_closed_value_longer_than_a_line_may_be_says_where_it_ran(tmp_path):
    path = tmp_path / "history.csv"
    path.write_text(_QUOTE_HEAD + 'A,2026-03-02T10:05,handoff,"' + ("y" * 1000 + "\n") * 17000
                    + '"\n' + "".join(f"B{i},2026-03-02T11:00,created,\n" for i in range(50)))
    history = load_history([path], timezone="UTC")
    [reject] = history.rejects
    assert reject.row == 2 and reject.reason == (
        "a value is longer than 16,777,216 bytes; longer values are not read (a quoted value "
        "from line 3 over 17,001 lines)")
    assert history.counts.accepted == 51


def test_a_quote_inside_an_unquoted_value_is_still_a_value(tmp_path):
    """An odd count of quotes sends the file to the csv module, which reads `24" screen` as
    Arrow does: text, not a quote that opens."""
    path = tmp_path / "history.csv"
    path.write_text('lead_id,at,event,title\nA,2026-03-02T10:00,created,24" screen\n'
                    'A,2026-03-02T10:05,handoff,"x, y"\n')
    history = load_history([path], timezone="UTC")
    assert history.counts.rejected == 0 and len(history) == 2
    assert list(history.fields["title"]) == ['24" screen', "x, y"]


def test_a_history_file_named_twice_is_refused(tmp_path, capsys):
    """Two globs that overlap gave every event twice: two touches counted as four met a
    cadence nobody kept."""
    path = _history_head(tmp_path, 40)
    assert main(["evaluate", str(POLICY), "--history", str(path),
                 str(tmp_path / "." / path.name)]) == 2
    assert "named twice; each of its events would count twice" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["evaluate", "merge"])
def test_a_negative_count_of_rejects_to_show_is_a_usage_error(capsys, command):
    args = ([str(POLICY), "--history", str(HISTORY)] if command == "evaluate"
            else ["--policy", str(POLICY), "partial.parquet"])
    with pytest.raises(SystemExit) as stopped:
        main([command, *args, "--show-rejects", "-2"])
    assert stopped.value.code == 2
    assert "-2: give 0 (none) or more" in capsys.readouterr().err


@pytest.mark.parametrize(("encoding", "said"), [
    ("utf-16", "the file is UTF-16 text, not UTF-8"),
    ("utf-16-be", "the file is not UTF-8 text (it holds NUL bytes"),
    ("utf-32", "the file is UTF-32 text, not UTF-8"),
])
def test_a_wide_text_csv_is_named_for_what_it_is(tmp_path, capsys, encoding, said):
    """Excel's "Unicode text" export: its header read as UTF-8 was mojibake and NUL bytes,
    printed raw in a "did you mean" hint."""
    path = tmp_path / "history.csv"
    path.write_text("lead_id,at,event\nA,2026-03-02T10:00,created\n", encoding=encoding)
    assert main(["evaluate", str(POLICY), "--history", str(path)]) == 2
    err = capsys.readouterr().err
    assert said in err and "\x00" not in err and "save it as UTF-8" in err


@pytest.mark.parametrize("command", [["evaluate"], ["evaluate", "--due"], ["due"]])
def test_a_directory_given_as_a_history_says_it_is_one(tmp_path, capsys, command):
    # it said "cannot tell the format from the extension", of a folder
    folder = tmp_path / "exports"
    folder.mkdir()
    policy = str(ROOT / "policies" / "inbound-desk.sla")
    args = [command[0], policy, "--history", str(folder), *command[1:]]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert f"{folder}: is a directory, not a file" in err
    assert f"give the files in it ({folder / '*.csv'})" in err
    # buckets without their manifest (an ingest cut short): it said to read the directory
    # whole, the very command that had failed
    (folder / "bucket-000.parquet").write_bytes(b"")
    assert main(args) == 2
    assert "holds bucket-*.parquet but no manifest.json: an sla ingest that did not finish, " \
        "or its manifest removed; run sla ingest again into it" in capsys.readouterr().err


def test_a_time_too_long_to_read_is_not_quoted_as_a_time_of_its_clip(tmp_path):
    # the reason went on "time 'xxx... (226 characters)' is not a date and time": the length
    # of the clip shown in the rejects, not of the 1.1 MB value
    path = tmp_path / "history.csv"
    path.write_text("lead_id,at,event,actor\nL1,2026-03-02T09:00:00Z,created,\n"
                    f"L1,{'9' * 1_100_000},touch,bob\n")
    [reject] = load_history([path], timezone="UTC").rejects
    assert reject.reason == "a value is longer than 1,048,576 bytes; longer values are not read"
    assert reject.raw["at"].endswith("(1,100,000 characters)")
