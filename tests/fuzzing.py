"""Fuzzing `sla` end to end: the shipped inputs, damaged, each run as a command in a child
process with limits, and the outcome sorted into a class.

Used by tests/test_fuzz.py (a few derandomised hypothesis examples and one regression case per
class of bad input issue 12 names) and by benchmarks/fuzz_campaign.py (thousands of cases on
every core). Both build cases the same way: `make_case(random.Random(...), kind)` starts from a
file shipped in policies/ or examples/ (a policy, a history as CSV, JSON Lines or Parquet, the
Olist mapping, a scenario) and applies one to three mutators to it, then picks the command that
reads it. `run_case` writes the case's files into a folder, runs `sla` there under an address
space limit and a wall-clock timeout, and classifies what came back:

    ok, findings, usage            exit 0, 1, 2: the input was handled (good outcomes)
    internal                       exit 70: the last line of defence fired, a bug
    memory                         a MemoryError (the address space limit) or a peak RSS over
                                   the stated bound
    timeout, signal:NAME, exit:N   the wall-clock bound, a crash, any other exit code
    traceback                      "Traceback (most recent call last)" in stdout or stderr
    rows-unbalanced                `sla evaluate --format json`'s rows: read != accepted +
                                   rejected, or read != the records the harness wrote
    csv-formula                    a cell of a CSV that sla wrote (--rejects, --emit-history)
                                   starts with = + - @ (not a number), so a spreadsheet would
                                   run it
    fmt-not-idempotent             `sla fmt` of `sla fmt`'s output changes it again
    fmt-changes-meaning            `sla check --dump-json` differs (positions aside) before and
                                   after `sla fmt`
    git-option                     `sla diff` handed a version to git, which read it as an
                                   option

Each mutator names the class of issue 12 it aims at (`Mutator.targets`), or None. A class
found and not yet fixed goes in OPEN_CLASSES (or FOUND_OPEN); the quick hypothesis test leaves
its mutators out, and the campaign uses every mutator.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import random
import re
import resource
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# The classes of bad input issue 12 lists, as `Mutator.targets` names them.
CLASSES = ("regex-backtracking", "timestamp-range", "jsonl-nesting", "csv-formula",
           "blank-rows", "policy-nesting", "scenario-ranges", "diff-injection", "policy-size")
# Classes with no fix yet (the quick test leaves their mutators out): none.
OPEN_CLASSES: frozenset[str] = frozenset()
# Bugs the campaign found outside issue 12's classes that are not fixed yet: none.
FOUND_OPEN: frozenset[str] = frozenset()
# Outcomes that are the symptom of a class still open (the quick test lets them pass).
OPEN_OUTCOMES = {"csv-formula": "csv-formula", "git-option": "diff-injection"}

GOOD = frozenset({"ok", "findings", "usage"})
KINDS = ("policy", "csv", "jsonl", "parquet", "mapping", "scenario")


@dataclass(frozen=True)
class Limits:
    """What one command may take. `memory` is the child's address space (RLIMIT_AS): going past
    it raises MemoryError inside sla. `rss` is the stated bound on its peak resident memory."""

    timeout: float = 60.0
    memory: int = 2 << 30
    rss: int = 1536 << 20


@dataclass
class Case:
    """One command on damaged input: the files to write, `sla`'s arguments (relative to the
    folder the files are written to), and what the harness knows about the input."""

    kind: str
    command: str
    mutations: list[str]
    files: dict[str, bytes]
    argv: list[str]
    stdin: bytes | None = None
    rows_in: int | None = None          # records in the history, where the harness can count
    written_csvs: list[str] = field(default_factory=list)  # CSVs sla writes, checked after
    git: bool = False                   # the folder is made a git repository first

    @property
    def label(self) -> str:
        return f"{self.command} {self.kind} [{', '.join(self.mutations)}]"


@dataclass
class Run:
    """One child process: its exit code (negative: the signal), output and cost."""

    argv: list[str]
    code: int | None            # None: killed at the timeout
    stdout: bytes
    stderr: bytes
    wall: float
    rss: int                    # peak resident memory, bytes


@dataclass
class Result:
    case: Case
    outcome: str
    detail: str
    runs: list[Run]

    @property
    def bad(self) -> bool:
        return self.outcome not in GOOD

    def report(self) -> str:
        lines = [f"{self.outcome}: {self.case.label}", self.detail]
        for run in self.runs:
            lines.append(f"  $ sla {' '.join(_short(a) for a in run.argv)}  -> {run.code}, "
                         f"{run.wall:.1f} s, {run.rss >> 20} MiB")
        return "\n".join(line for line in lines if line)


def _short(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[:width] + f"...({len(text)} chars)"


# ====================================================================== shipped inputs


POLICIES = ("company-x.sla", "new-breed.sla", "inbound-desk.sla", "fusion.sla", "olist.sla")
# The history each policy is evaluated against (inbound-desk and fusion borrow one: event logs
# are the same format whatever the policy).
POLICY_HISTORY = {"company-x.sla": "company-x", "new-breed.sla": "new-breed",
                  "inbound-desk.sla": "company-x", "fusion.sla": "new-breed"}
SCENARIO_POLICY = {"company-x.toml": "company-x.sla", "new-breed.toml": "new-breed.sla",
                   "inbound-desk.toml": "inbound-desk.sla"}
HISTORY_ROWS = 200        # data rows of a shipped history a case starts from: small, quick
OLIST_FILES = ("olist_marketing_qualified_leads_dataset.csv", "olist_closed_deals_dataset.csv")


@cache
def policy_text(name: str) -> str:
    return (ROOT / "policies" / name).read_text(encoding="utf-8")


@cache
def history_rows(name: str) -> tuple[tuple[str, ...], ...]:
    """The header and the first HISTORY_ROWS rows of examples/NAME/history.csv."""
    with (ROOT / "examples" / name / "history.csv").open(encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        return tuple(tuple(row) for _, row in zip(range(HISTORY_ROWS + 1), reader, strict=False))


@cache
def scenario_text(name: str) -> str:
    return (ROOT / "examples" / "scenarios" / name).read_text(encoding="utf-8")


@cache
def olist_file(name: str) -> bytes:
    return (ROOT / "examples" / "olist" / name).read_bytes()


def csv_bytes(rows: list[list[str]], newline: str = "\n") -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator=newline)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8", "surrogateescape")


# ====================================================================== mutators


@dataclass(frozen=True)
class Mutator:
    """A way to damage one kind of input. `apply(rng, value)` returns the damaged value (text
    for policies, mappings and scenarios; a list of rows for CSV and Parquet histories; a list
    of lines for JSON Lines; bytes for the byte-level ones)."""

    name: str
    apply: Callable
    targets: str | None = None
    stage: str = "value"        # "value" or "bytes": byte mutators run after serialising


MUTATORS: dict[str, list[Mutator]] = {kind: [] for kind in KINDS}


def mutator(*kinds: str, targets: str | None = None, stage: str = "value"):
    def register(function: Callable) -> Callable:
        for kind in kinds:
            MUTATORS[kind].append(Mutator(function.__name__.lstrip("_"), function, targets,
                                          stage))
        return function
    return register


# ------------------------------------------------------------------ text (policies, TOML)

TOKEN = re.compile(r'"(?:[^"\\\n]|\\.)*"|[A-Za-z_][A-Za-z0-9_-]*|-?\d[\d:.%-]*|[^\s\w]')
NUMBER = re.compile(r"(?<![\w.-])\d+(?:\.\d+)?")
JUNK = ["\ufeff", "\u00a0", "\u200b", "\u202e", "\r", "\r\n", "\t", "\x0c", "\x00", "\x85",
        "\u2028", "é", "€", "🙂", "İ", "ǅ", "ﬁ", "Ω", "\U0010ffff", '"', "\\", "{", "}", "(",
        ")", "[", "]", "=", "#", ",", "'''", '"""', "\\u0000", "\\ud800", "\\U0010FFFF"]
HUGE_NUMBERS = ["0", "-0", "-1", "1e308", "1e309", "9" * 25, "9" * 400, "9" * 5000,
                "0.0000000000000000001", "99999999999", "2147483648", "18446744073709551616",
                "nan", "inf", "-inf", "1_000", "0x10", "1.5", "00000001"]


def _replace_span(text: str, start: int, end: int, new: str) -> str:
    return text[:start] + new + text[end:]


@mutator("policy", "mapping", "scenario")
def _delete_token(rng: random.Random, text: str) -> str:
    tokens = list(TOKEN.finditer(text))
    if not tokens:
        return text
    token = rng.choice(tokens)
    return _replace_span(text, token.start(), token.end(), "")


@mutator("policy", "mapping", "scenario")
def _duplicate_token(rng: random.Random, text: str) -> str:
    tokens = list(TOKEN.finditer(text))
    if not tokens:
        return text
    token = rng.choice(tokens)
    at = rng.choice(tokens).start()
    return text[:at] + token.group(0) + " " + text[at:]


@mutator("policy", "mapping", "scenario")
def _swap_tokens(rng: random.Random, text: str) -> str:
    tokens = list(TOKEN.finditer(text))
    if len(tokens) < 2:
        return text
    a, b = sorted(rng.sample(tokens, 2), key=lambda t: t.start())
    return (text[:a.start()] + b.group(0) + text[a.end():b.start()] + a.group(0)
            + text[b.end():])


@mutator("policy", "mapping", "scenario")
def _edit_lines(rng: random.Random, text: str) -> str:
    """Delete, duplicate or swap lines, or cut the file short."""
    lines = text.split("\n")
    i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
    how = rng.choice(["delete", "duplicate", "swap", "truncate"])
    if how == "delete":
        del lines[i:i + rng.randint(1, 4)]
    elif how == "duplicate":
        lines[j:j] = lines[i:i + rng.randint(1, 6)] * rng.choice([1, 2, 50])
    elif how == "swap":
        lines[i], lines[j] = lines[j], lines[i]
    else:
        return text[:rng.randrange(len(text) + 1)]
    return "\n".join(lines)


@mutator("policy", "mapping", "scenario")
def _insert_junk(rng: random.Random, text: str) -> str:
    at = rng.randrange(len(text) + 1)
    junk = "".join(rng.choice(JUNK) for _ in range(rng.randint(1, 4)))
    return text[:at] + junk + text[at:]


@mutator("policy", "mapping", "scenario")
def _huge_number(rng: random.Random, text: str) -> str:
    numbers = list(NUMBER.finditer(text))
    if not numbers:
        return text
    number = rng.choice(numbers)
    return _replace_span(text, number.start(), number.end(), rng.choice(HUGE_NUMBERS))


@mutator("policy", "mapping", "scenario")
def _long_line(rng: random.Random, text: str) -> str:
    """A comment or a string value hundreds of kilobytes long on one line."""
    size = rng.choice([10_000, 200_000, 900_000])
    lines = text.split("\n")
    at = rng.randrange(len(lines) + 1)
    filler = rng.choice(["x", "é", "🙂", "ab "]) * (size // 3)
    lines.insert(at, f"# {filler}" if rng.random() < 0.5 else f'"{filler}"')
    return "\n".join(lines)


@mutator("policy", "mapping", "scenario")
def _unicode_names(rng: random.Random, text: str) -> str:
    """A word becomes a look-alike: Cyrillic letters, fullwidth, combining marks, RTL."""
    words = [t for t in TOKEN.finditer(text) if t.group(0)[0].isalpha()]
    if not words:
        return text
    word = rng.choice(words)
    new = rng.choice([
        word.group(0).replace("a", "а").replace("e", "е").replace("o", "о"),
        "".join(chr(0xFF00 + ord(c) - 0x20) if "!" <= c <= "~" else c for c in word.group(0)),
        word.group(0) + "\u0301", "\u202e" + word.group(0), word.group(0).upper(),
        "ǅ" * 3, "\u0130", word.group(0) + "\u200d"])
    return _replace_span(text, word.start(), word.end(), new)


# ------------------------------------------------------------------ policies only

BROKEN_PATTERNS = ["(", "[", "\\\\", "(?P<x", "a{2,1}", "(?<=a+)b", "\\\\p{Lu}", "*", "(?",
                   "(?i", "\\\\1", "[z-a]", "(?P<a>x)(?P<a>y)", ""]
CATASTROPHIC = ["(a+)+$", "(a|aa)+$", "^(a|a?)+$", "(x+x+)+y", "^(\\\\w+\\\\s?)*$",
                "(.*a){25}", "(a*)*b", "a{99999999999}", "(a{1000}){1000}"]
# Lead field values that make a backtracking regex engine try exponentially many ways; added
# to the history a mutated policy is evaluated against.
ADVERSARIAL_TEXT = ["a" * 40 + "!", "x" * 40, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                    "word " * 30 + "!"]


def _patterns(text: str) -> list[re.Match]:
    return list(re.finditer(r'matches\s+("(?:[^"\\\n]|\\.)*")', text))


def _with_pattern(rng: random.Random, text: str, pattern: str) -> str:
    found = _patterns(text)
    if found:
        hit = rng.choice(found)
        return _replace_span(text, hit.start(1), hit.end(1), f'"{pattern}"')
    # A policy without a pattern gets a persona that has one (policies may define personas).
    return text.rstrip("\n") + f'\n\npersona fuzzed when title matches "{pattern}"\n'


@mutator("policy")
def _bad_regex(rng: random.Random, text: str) -> str:
    return _with_pattern(rng, text, rng.choice(BROKEN_PATTERNS))


@mutator("policy", targets="regex-backtracking")
def _catastrophic_regex(rng: random.Random, text: str) -> str:
    return _with_pattern(rng, text, rng.choice(CATASTROPHIC))


CONDITION = re.compile(r"(?m)\bwhen\s+([^\n{]+?)\s*$")


@mutator("policy", targets="policy-nesting")
def _deep_nesting(rng: random.Random, text: str) -> str:
    """A condition inside thousands of parentheses or `not`s."""
    found = list(CONDITION.finditer(text))
    depth = rng.choice([200, 1000, 5000, 50_000])
    if not found:
        return "(" * depth + text
    hit = rng.choice(found)
    inner = hit.group(1)
    wrapped = ("(" * depth + inner + ")" * depth if rng.random() < 0.7
               else "not " * (depth // 2 * 2) + "(" + inner + ")")
    return _replace_span(text, hit.start(1), hit.end(1), wrapped)


@mutator("policy", targets="policy-size")
def _size_blowup(rng: random.Random, text: str) -> str:
    """The policy grown to about 300 kB, a megabyte (near the size limit) or 4 MB."""
    target = rng.choice([300_000, 1_000_000, 4_000_000])
    if rng.random() < 0.3:
        return text * max(1, target // max(len(text), 1))
    return grow_policy(text, target, rng)


def grow_policy(text: str, target: int, rng: random.Random) -> str:
    """The policy with its blocks repeated, each copy renamed so it stays distinct, until it is
    `target` characters long: a large policy that still means something."""
    blocks = re.findall(r"(?ms)^(?:handoff|calendar|commitment|consequence)\b.*?^\}\n", text)
    if not blocks:
        return text * max(1, target // max(len(text), 1))
    parts, size, n = [text], len(text), 0
    while size < target:
        block = rng.choice(blocks)
        if not block.startswith("handoff every"):
            block = re.sub(r"^(\w+\s+)(\S+)", rf"\g<1>\g<2>_{n}", block, count=1)
        parts.append("\n" + block)
        size += len(block) + 1
        n += 1
    return "".join(parts)


@mutator("policy")
def _replace_keyword(rng: random.Random, text: str) -> str:
    from sla_dsl.language.parser import grammar_text

    keywords = sorted(set(re.findall(r'"([a-z][a-z-]*)"', grammar_text())))
    tokens = list(TOKEN.finditer(text))
    if not tokens:
        return text
    token = rng.choice(tokens)
    return _replace_span(text, token.start(), token.end(), rng.choice(keywords))


# ------------------------------------------------------------------ scenarios only

SCENARIO_VALUES = {
    "reps": ["0", "-1", "1000000", "100000000", "1e9", "2.5", '"three"', "9" * 30],
    "horizon": ['"0 days"', '"-5 days"', '"100000 days"', '"1000 years"', '"1e9 hours"',
                '"1 minute"', '"90 parsecs"', "90"],
    "start": ["0001-01-01", "1899-12-31", "1900-01-01", "2200-12-31", "2201-01-01",
              "9999-12-31", '"2026-13-01"', "2026-01-01T00:00:00Z"],
    "rate": ['"0 per day"', '"1000000000 per hour"', '"1e300 per day"', '"-5 per hour"',
             '"5 per fortnight"', "5"],
    "replications": ["0", "1", "100000"],
}


@mutator("scenario", targets="scenario-ranges")
def _extreme_key(rng: random.Random, text: str) -> str:
    """One of the keys that size the simulation set to an extreme: reps, horizon, start, rate."""
    key = rng.choice(["reps", "horizon", "start", "rate"])
    value = rng.choice(SCENARIO_VALUES[key])
    pattern = re.compile(rf"(?m)^(\s*{key}\s*=\s*)([^#\n]*?)(\s*(?:#.*)?)$")
    if pattern.search(text):
        return pattern.sub(lambda m: m.group(1) + value + m.group(3), text,
                           count=rng.randint(1, 3))
    if key in ("horizon", "start"):
        return f"{key} = {value}\n" + text
    return text


@mutator("scenario")
def _scenario_tables(rng: random.Random, text: str) -> str:
    """Odd structure: a profile of the wrong shape, a table defined twice,
    probabilities out of range, a distribution with absurd parameters."""
    choice = rng.randrange(1, 6)
    if choice == 1:
        return re.sub(r"(?m)^rate = .*$", 'rate = "5 per hour"\nprofile = [[1, 2], [-1]]', text,
                      count=1)
    if choice == 2:
        return text + "\n[work]\ntouch = \"exponential 1 minute\"\n"
    if choice == 3:
        return re.sub(r"(?m)^(connect|qualify|win) = .*$", r"\1 = 1.5", text)
    if choice == 4:
        return re.sub(r'(?m)^touch = .*$', 'touch = "lognormal 1e308 minutes sd 1e308 minutes"',
                      text)
    return text + '\n[arrivals.fields]\nindustry = { "=1+1" = 0.5, "@SUM(A1)" = 0.5 }\n'


@mutator("scenario", "mapping", targets="toml-nesting")
def _deep_toml(rng: random.Random, text: str) -> str:
    """Arrays or inline tables nested hundreds of levels deep: tomllib recurses on them."""
    depth = rng.choice([100, 500, 5000])
    opener, closer = rng.choice([("[", "]"), ("{a = ", "}")])
    return text + f"\n[fuzz]\ndeep = {opener * depth}1{closer * depth}\n"


# ------------------------------------------------------------------ mappings only

@mutator("mapping")
def _mapping_values(rng: random.Random, text: str) -> str:
    """A mapping that points somewhere odd: unknown timezone or column, a file outside the
    folder or absent, an unknown event, a lookup of itself, a source twice."""
    edits = [
        (r'timezone = "[^"]*"', rng.choice(['timezone = "Mars/Olympus"', 'timezone = ""',
                                            'timezone = "../../etc/localtime"',
                                            'timezone = 5'])),
        (r'lead_id = "[^"]*"', rng.choice(['lead_id = "nope"', 'lead_id = ""',
                                           'lead_id = ["a", "b"]'])),
        (r'file = "[^"]*"', rng.choice(['file = "/etc/passwd"', 'file = "../../../x.csv"',
                                        'file = "missing.csv"', 'file = "."',
                                        'file = "mqls.parquet"'])),
        (r"(?m)^created = .*$", rng.choice(['exploded = "first_contact_date"',
                                            'created = "no_such_column"',
                                            'created = { at = 5 }', 'created = []'])),
        (r'first_contact_date = "mqls"', 'first_contact_date = "deals"'),
    ]
    pattern, new = rng.choice(edits)
    out = re.sub(pattern, new, text, count=1)
    if rng.random() < 0.2:
        out += "\n" + out[out.index("[[source]]"):]
    return out


# ------------------------------------------------------------------ histories (rows)

TIMESTAMPS = ["2026-02-30T10:00:00Z", "2026-01-05T25:00:00Z", "2026-01-05T10:61:00Z",
              "2026-01-05T10:00:00+99:00", "2026-01-05T10:00:00.1234567890123Z", "yesterday",
              "", "   ", "20260105T100000Z", "1e10", "-1", "2026-01-05T24:00:00Z",
              "2026-W02-1", "2026-03-29T02:30:00", "0000-00-00", "2026-1-5"]
OUT_OF_RANGE = ["0001-01-01T00:00:00Z", "0001-01-06T00:00:00Z", "0002-01-01", "1000-06-01",
                "1899-12-31T23:59:59Z", "2201-01-01T00:00:00Z", "5000-01-01",
                "9999-12-01T00:00:00Z", "9999-12-31T23:59:59Z", "9999-12-31T23:59:59-12:00"]
FORMULAS = ["=1+1", "=HYPERLINK(\"http://evil.example\",\"x\")", "+1+1", "-2+3", "@SUM(1)",
            "=cmd|' /C calc'!A0", "\t=1", "\r=1"]
WEIRD_VALUES = ["", " ", "\x00", "null", "NaN", "-", "é" * 50, "🙂", "\u202eevil", '"',
                "a,b", "line\nbreak", "x" * 100_000, "\\", "NULL", "true", "1e999"]


def _column(rows: list[list[str]], name: str) -> int | None:
    return rows[0].index(name) if rows and name in rows[0] else None


def _data_row(rng: random.Random, rows: list[list[str]]) -> int:
    return rng.randrange(1, len(rows)) if len(rows) > 1 else 0


@mutator("csv", "parquet")
def _bad_timestamp(rng: random.Random, rows: list[list[str]]) -> list[list[str]]:
    at = _column(rows, "at")
    for _ in range(rng.randint(1, 5)):
        i = _data_row(rng, rows)
        if at is not None and i:
            rows[i][at] = rng.choice(TIMESTAMPS)
    return rows


@mutator("csv", "parquet", targets="timestamp-range")
def _timestamp_out_of_range(rng: random.Random, rows: list[list[str]]) -> list[list[str]]:
    """Years 0001 to 9999: Python's datetime ends at 9999-12-31, a local time near either end
    moves past it."""
    at = _column(rows, "at")
    for _ in range(rng.randint(1, 3)):
        i = _data_row(rng, rows)
        if at is not None and i:
            rows[i][at] = rng.choice(OUT_OF_RANGE)
    return rows


@mutator("csv", targets="csv-formula")
def _formula_cells(rng: random.Random, rows: list[list[str]]) -> list[list[str]]:
    """Spreadsheet formulas in rows that are rejected (a bad time), so --rejects writes them."""
    at = _column(rows, "at")
    for _ in range(rng.randint(1, 3)):
        i = _data_row(rng, rows)
        if not i:
            continue
        j = rng.randrange(len(rows[i]))
        rows[i][j] = rng.choice(FORMULAS)
        if at is not None and j != at:
            rows[i][at] = "not a time"
    return rows


@mutator("csv", "parquet")
def _weird_values(rng: random.Random, rows: list[list[str]]) -> list[list[str]]:
    for _ in range(rng.randint(1, 6)):
        i = _data_row(rng, rows)
        if i:
            rows[i][rng.randrange(len(rows[i]))] = rng.choice(WEIRD_VALUES)
    return rows


@mutator("csv", "parquet")
def _unknown_events(rng: random.Random, rows: list[list[str]]) -> list[list[str]]:
    event = _column(rows, "event")
    for _ in range(rng.randint(1, 5)):
        i = _data_row(rng, rows)
        if event is not None and i:
            rows[i][event] = rng.choice(["Created", "exploded", "", "handoff ", "touch\x00"])
    return rows


@mutator("csv", "parquet")
def _shuffle_rows(rng: random.Random, rows: list[list[str]]) -> list[list[str]]:
    """Rows out of order, duplicated, or a lead's events before its `created`."""
    body = rows[1:]
    how = rng.randrange(3)
    if how == 0:
        rng.shuffle(body)
    elif how == 1 and body:
        body += rng.sample(body, min(len(body), rng.randint(1, 50)))
    elif body:
        body.reverse()
    return rows[:1] + body


@mutator("csv")
def _row_width(rng: random.Random, rows: list[list[str]]) -> list[list[str]]:
    """Rows with too few or too many values, a header with a column twice or none at all."""
    how = rng.randrange(4)
    i = _data_row(rng, rows)
    if how == 0 and i:
        rows[i] = rows[i][:rng.randrange(len(rows[i]))]
    elif how == 1 and i:
        rows[i] = rows[i] + ["extra"] * rng.randint(1, 1000)
    elif how == 2 and rows:
        rows[0] = [*rows[0][:-1], rows[0][0]]
    elif rows:
        rows[0] = []
    return rows


@mutator("csv", targets="blank-rows")
def _blank_rows(rng: random.Random, rows: list[list[str]]) -> list[list[str]]:
    """Rows of spaces or tabs only: a row of the file, to be counted (rows in = accepted +
    rejected)."""
    for _ in range(rng.randint(1, 5)):
        rows.insert(rng.randint(1, len(rows)), [rng.choice([" ", "   ", "\t", " \t "])])
    return rows


# ------------------------------------------------------------------ histories (bytes)

@mutator("csv", "jsonl", stage="bytes")
def _byte_damage(rng: random.Random, data: bytes) -> bytes:
    """A BOM, NUL bytes, Latin-1 bytes, an unbalanced quote, CRLF line ends, the file cut."""
    how = rng.randrange(7)
    at = rng.randrange(len(data) + 1)
    if how == 0:
        return b"\xef\xbb\xbf" + data
    if how == 1:
        return data[:at] + b"\x00" * rng.randint(1, 3) + data[at:]
    if how == 2:
        return data[:at] + b"\xe9\xff\xfe" + data[at:]
    if how == 3:
        return data[:at] + b'"' + data[at:]
    if how == 4:
        return data.replace(b"\n", b"\r\n")
    if how == 5:
        return data[:at]
    return data[:at] + b"\xef\xbb\xbf" + data[at:]


@mutator("csv", "jsonl", stage="bytes")
def _huge_field(rng: random.Random, data: bytes) -> bytes:
    """One value megabytes long (quoted so it stays one CSV value), or one very long line."""
    size = rng.choice([1 << 20, 8 << 20, 32 << 20])
    lines = data.split(b"\n")
    i = rng.randrange(1, len(lines)) if len(lines) > 1 else 0
    if lines[i].startswith(b"{"):
        lines[i] = lines[i].rstrip(b"}") + b', "huge": "' + b"x" * size + b'"}'
    else:
        lines[i] = lines[i] + b',"' + b"x" * size + b'"'
    return b"\n".join(lines)


# ------------------------------------------------------------------ JSON Lines

def json_lines(rows: tuple[tuple[str, ...], ...]) -> list[str]:
    header, body = rows[0], rows[1:]
    return [json.dumps({k: v for k, v in zip(header, row, strict=False) if v != ""})
            for row in body]


@mutator("jsonl", targets="jsonl-nesting")
def _deep_json(rng: random.Random, lines: list[str]) -> list[str]:
    """A value, or the whole line, nested thousands of levels deep."""
    depth = rng.choice([1_000, 10_000, 100_000])
    opener, closer = rng.choice([("[", "]"), ('{"a":', "}")])
    deep = opener * depth + "1" + closer * depth
    i = rng.randrange(len(lines)) if lines else 0
    if rng.random() < 0.5 and lines:
        lines[i] = lines[i][:-1] + ', "nested": ' + deep + "}"
    else:
        lines.insert(i, deep)
    return lines


@mutator("jsonl", targets="jsonl-nesting")
def _json_huge_number(rng: random.Random, lines: list[str]) -> list[str]:
    """A number of thousands of digits: Python refuses to read it as an int (bounds-read's
    bounded records reject it with the deep lines)."""
    digits = "9" * rng.choice([4301, 5000, 100_000])
    lines.insert(rng.randint(0, len(lines)),
                 f'{{"lead_id": "N1", "at": "2026-01-05", "event": "created", "n": {digits}}}')
    return lines


@mutator("jsonl")
def _json_types(rng: random.Random, lines: list[str]) -> list[str]:
    """Values of the wrong type: numbers, lists, objects, null for ids, times and events."""
    for _ in range(rng.randint(1, 5)):
        if not lines:
            break
        i = rng.randrange(len(lines))
        try:
            record = json.loads(lines[i])
        except ValueError:
            continue
        if not isinstance(record, dict):
            continue
        key = rng.choice(["lead_id", "at", "event", "actor", "score", "title"])
        record[key] = rng.choice([None, 5, -1.5, True, [], ["a", 1], {"x": {"y": 1}},
                                  1e300, 10**30, "", "\u0000"])
        lines[i] = json.dumps(record)
    return lines


@mutator("jsonl")
def _json_lines_odd(rng: random.Random, lines: list[str]) -> list[str]:
    """Lines that are not objects, not JSON, duplicate keys, lone surrogates, huge numbers."""
    odd = ['[1, 2]', '"text"', "42", "null", "{", "{'single': 1}", '{"lead_id": "L1"}',
           '{"lead_id": "L1", "lead_id": "L2", "at": "2026-01-05", "event": "created"}',
           '{"lead_id": "L1", "at": "2026-01-05", "event": "created", "n": 1e400}',
           "\ufeff{}"]
    for _ in range(rng.randint(1, 4)):
        lines.insert(rng.randint(0, len(lines)), rng.choice(odd))
    return lines


@mutator("jsonl", targets="lone-surrogate")
def _json_lone_surrogate(rng: random.Random, lines: list[str]) -> list[str]:
    """A string escape that is half a UTF-16 pair: valid JSON, not a Unicode string."""
    escape = rng.choice(["\\ud800", "\\udfff", "\\ud83d"])
    field = rng.choice(["lead_id", "actor", "title"])
    line = f'{{"lead_id": "S1", "at": "2026-01-05T10:00:00Z", "event": "created", "{field}": ' \
           f'"x{escape}"}}'
    lines.insert(rng.randint(0, len(lines)), line)
    return lines


@mutator("jsonl", targets="blank-rows")
def _json_blank_lines(rng: random.Random, lines: list[str]) -> list[str]:
    for _ in range(rng.randint(1, 4)):
        lines.insert(rng.randint(0, len(lines)), rng.choice([" ", "\t", "   "]))
    return lines


# ------------------------------------------------------------------ Parquet (written last)

@mutator("parquet")
def _parquet_types(rng: random.Random, rows: list[list[str]]) -> list[list[str]]:
    """Marks the rows so `parquet_bytes` writes a column with another type (see there)."""
    rows[0] = [*rows[0], "__type__:" + rng.choice(
        ["at:int64", "at:float", "at:timestamp", "at:timestamp-tz", "at:date", "at:bool",
         "lead_id:int64", "lead_id:list", "event:struct", "actor:binary", "at:large_string",
         "score:dictionary-int"])]
    return rows


@mutator("parquet", targets="timestamp-range")
def _parquet_extreme_times(rng: random.Random, rows: list[list[str]]) -> list[list[str]]:
    """`at` as a timestamp column holding instants near year 1 and year 9999."""
    rows[0] = [*rows[0], "__type__:at:extreme-" + rng.choice(["us", "ns", "s", "date"])]
    return rows


@mutator("parquet")
def _parquet_shape(rng: random.Random, rows: list[list[str]]) -> list[list[str]]:
    """No rows, a column missing, or the file cut short."""
    how = rng.randrange(3)
    if how == 0:
        return rows[:1]
    if how == 1 and rows[0]:
        drop = rng.randrange(min(4, len(rows[0])))
        return [row[:drop] + row[drop + 1:] for row in rows]
    rows[0] = [*rows[0], "__cut__"]
    return rows


def parquet_bytes(rows: list[list[str]], rng: random.Random) -> bytes:
    """The rows as a Parquet file, text columns unless a mutator asked for another type."""
    import datetime as dt

    import pyarrow as pa
    import pyarrow.parquet as pq

    header = [name for name in rows[0] if not name.startswith("__")]
    marks = [name for name in rows[0] if name.startswith("__")]
    width = len(header)
    body = [(list(row) + [""] * width)[:width] for row in rows[1:]]
    columns = {name: [row[i] or None for row in body] for i, name in enumerate(header)}
    arrays = {name: pa.array(values, pa.string()) for name, values in columns.items()}
    for mark in marks:
        if not mark.startswith("__type__:"):
            continue
        name, kind = mark[len("__type__:"):].split(":", 1)
        if name not in arrays:
            continue
        n = len(body)
        if kind == "int64":
            arrays[name] = pa.array([rng.randint(-2**62, 2**62) for _ in range(n)], pa.int64())
        elif kind == "float":
            arrays[name] = pa.array([rng.choice([1.5, float("nan"), float("inf"), -0.0])
                                     for _ in range(n)], pa.float64())
        elif kind in ("timestamp", "timestamp-tz"):
            tz = "Asia/Kathmandu" if kind == "timestamp-tz" else None
            arrays[name] = pa.array([rng.randint(0, 2**50) for _ in range(n)],
                                    pa.timestamp("us", tz=tz))
        elif kind == "date":
            arrays[name] = pa.array([rng.randint(-719_000, 2_900_000) for _ in range(n)],
                                    pa.date32())
        elif kind == "bool":
            arrays[name] = pa.array([rng.random() < 0.5 for _ in range(n)], pa.bool_())
        elif kind == "list":
            arrays[name] = pa.array([[v] for v in columns[name]], pa.list_(pa.string()))
        elif kind == "struct":
            arrays[name] = pa.array([{"v": v} for v in columns[name]],
                                    pa.struct([("v", pa.string())]))
        elif kind == "binary":
            arrays[name] = pa.array([rng.choice([b"\xff\xfe", b"ok", None]) for _ in range(n)],
                                    pa.binary())
        elif kind == "large_string":
            arrays[name] = pa.array(columns[name], pa.large_string())
        elif kind == "dictionary-int":
            arrays[name] = pa.array([rng.randint(0, 5) for _ in range(n)]).dictionary_encode()
        elif kind.startswith("extreme-"):
            unit = kind.split("-", 1)[1]
            lo, hi = dt.datetime(1, 1, 1), dt.datetime(9999, 12, 31, 23, 59, 59)
            if unit == "ns":  # nanoseconds reach 1677-09-21 to 2262-04-11 only
                lo, hi = dt.datetime(1677, 9, 22), dt.datetime(2262, 4, 11)
            values = [rng.choice([lo, hi, None]) if rng.random() < 0.2 else None
                      for _ in range(n)]
            original = [_parse_or_none(v) for v in columns[name]]
            values = [v if v is not None else o for v, o in zip(values, original, strict=True)]
            # a time the unit cannot hold (year 1000 in nanoseconds) is written at its edge
            values = [v if v is None else min(max(v, lo), hi) for v in values]
            arrays[name] = (pa.array([v.date() if v else None for v in values], pa.date32())
                            if unit == "date" else
                            pa.array(values, pa.timestamp(unit, tz="UTC")))
    out = io.BytesIO()
    pq.write_table(pa.table(arrays), out)
    data = out.getvalue()
    if "__cut__" in marks:
        data = data[: rng.randrange(len(data))]
    return data


def _parse_or_none(text: str | None):
    import datetime as dt

    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None
    except ValueError:
        return None
    return value.replace(tzinfo=None) if value else None


# ====================================================================== cases


def _pick(rng: random.Random, kind: str, exclude: frozenset[str]) -> list[Mutator]:
    usable = [m for m in MUTATORS[kind] if m.targets not in exclude]
    return rng.sample(usable, min(len(usable), rng.choice([1, 1, 1, 2, 3])))


def _apply(rng: random.Random, mutators: list[Mutator], stage: str, value):
    for m in mutators:
        if m.stage == stage:
            value = m.apply(rng, value)
    return value


COMMANDS = {
    "policy": ["check", "check", "fmt", "fmt", "evaluate", "evaluate", "plan", "simulate",
               "diff", "diff"],
    "csv": ["evaluate"] * 5 + ["diff"], "jsonl": ["evaluate"] * 5 + ["diff"],
    "parquet": ["evaluate"] * 5 + ["diff"], "mapping": ["evaluate", "evaluate", "diff"],
    "scenario": ["plan", "simulate"],
}
SIMULATE = ["--replications", "2", "--seed", "7"]


def make_case(rng: random.Random, kind: str, *, command: str | None = None,
              exclude: frozenset[str] = frozenset(), quick: bool = False) -> Case:
    """A damaged input of `kind` and the command that reads it, all drawn from `rng`.
    `exclude` leaves out the mutators aimed at those classes; `quick` leaves out `simulate`."""
    commands = [c for c in COMMANDS[kind] if not (quick and c == "simulate")] or ["plan"]
    command = command or rng.choice(commands)
    mutators = _pick(rng, kind, exclude)
    names = [m.name for m in mutators]
    build = {"policy": _policy_case, "csv": _history_case, "jsonl": _history_case,
             "parquet": _history_case, "mapping": _mapping_case, "scenario": _scenario_case}
    case = build[kind](rng, kind, command, mutators)
    case.mutations = names
    return case


def _policy_case(rng: random.Random, kind: str, command: str,
                 mutators: list[Mutator]) -> Case:
    name = rng.choice([p for p in POLICIES if command != "evaluate" or p in POLICY_HISTORY])
    text = _apply(rng, mutators, "value", policy_text(name))
    data = text.encode("utf-8", "surrogatepass")
    files = {"policy.sla": data}
    if command == "check":
        argv = ["check", "--format", rng.choice(["text", "json", "sarif"]), "policy.sla"]
        return Case(kind, command, [], files, argv)
    if command == "fmt":
        return Case(kind, command, [], files, ["fmt", "-"], stdin=data)
    if command == "evaluate":
        files["history.csv"] = _adversarial_history(POLICY_HISTORY[name])
        return Case(kind, command, [], files, ["evaluate", "policy.sla", "--history",
                                               "history.csv", "--format", "json", "-q"])
    if command == "plan":
        return Case(kind, command, [], files, ["plan", "policy.sla", "--format", "json"])
    if command == "simulate":
        files["scenario.toml"] = scenario_text("inbound-desk.toml").encode()
        return Case(kind, command, [], files, ["simulate", "policy.sla", "--scenario",
                                               "scenario.toml", *SIMULATE])
    files["old.sla"] = policy_text(name).encode()
    argv = ["diff", "old.sla", "policy.sla", "--format", rng.choice(["text", "json",
                                                                     "markdown"])]
    if name in POLICY_HISTORY and rng.random() < 0.5:
        files["history.csv"] = csv_bytes([list(r) for r in history_rows(POLICY_HISTORY[name])])
        argv += ["--history", "history.csv"]
    return Case(kind, command, [], files, argv)


def _adversarial_history(name: str) -> bytes:
    """The history's first rows and leads whose text fields would make a backtracking regex
    take exponential time."""
    rows = [list(r) for r in history_rows(name)]
    header = rows[0]
    for n, value in enumerate(ADVERSARIAL_TEXT):
        row = [""] * len(header)
        row[header.index("lead_id")] = f"FUZZ{n}"
        row[header.index("at")] = "2026-01-05T15:00:00Z"
        row[header.index("event")] = "created"
        for column in ("title", "email", "company", "industry"):
            if column in header:
                row[header.index(column)] = value
        handoff = [""] * len(header)
        handoff[header.index("lead_id")] = f"FUZZ{n}"
        handoff[header.index("at")] = "2026-01-05T15:05:00Z"
        handoff[header.index("event")] = "handoff"
        rows += [row, handoff]
    return csv_bytes(rows)


def _history_case(rng: random.Random, kind: str, command: str,
                  mutators: list[Mutator]) -> Case:
    name = rng.choice(["company-x", "new-breed"])
    policy = {"company-x": "company-x.sla", "new-breed": "new-breed.sla"}[name]
    rows = [list(r) for r in history_rows(name)]
    rows_in: int | None = None
    if kind == "jsonl":
        lines = _apply(rng, mutators, "value", json_lines(history_rows(name)))
        data = _apply(rng, mutators, "bytes",
                      ("\n".join(lines) + "\n").encode("utf-8", "surrogatepass"))
        rows_in = count_jsonl_records(data)
    elif kind == "csv":
        rows = _apply(rng, mutators, "value", rows)
        data = _apply(rng, mutators, "bytes",
                      csv_bytes(rows, rng.choice(["\n", "\n", "\r\n"])))
        rows_in = count_csv_records(data)
    else:
        rows = _apply(rng, mutators, "value", rows)
        data = parquet_bytes(rows, rng)
        rows_in = count_parquet_rows(data)
    history = f"history.{kind}"
    files = {"policy.sla": policy_text(policy).encode(), history: data}
    if command == "diff":
        files["old.sla"] = files["policy.sla"]
        return Case(kind, command, [], files, ["diff", "old.sla", "policy.sla", "--history",
                                               history, "--format", "json"])
    return Case(kind, command, [], files,
                ["evaluate", "policy.sla", "--history", history, "--format", "json", "-q",
                 "--rejects", "rejects.csv"], rows_in=rows_in, written_csvs=["rejects.csv"])


def _mapping_case(rng: random.Random, kind: str, command: str,
                  mutators: list[Mutator]) -> Case:
    text = _apply(rng, mutators, "value",
                  (ROOT / "examples" / "olist" / "mapping.toml").read_text(encoding="utf-8"))
    files = {"mapping.toml": text.encode("utf-8", "surrogatepass"),
             "olist.sla": policy_text("olist.sla").encode()}
    files.update({name: olist_file(name) for name in OLIST_FILES})
    if command == "diff":
        return Case(kind, command, [], files, ["diff", "olist.sla", "olist.sla", "--mapping",
                                               "mapping.toml", "--format", "json"])
    return Case(kind, command, [], files,
                ["evaluate", "olist.sla", "--mapping", "mapping.toml", "--format", "json", "-q",
                 "--rejects", "rejects.csv"], written_csvs=["rejects.csv"])


def _scenario_case(rng: random.Random, kind: str, command: str,
                   mutators: list[Mutator]) -> Case:
    name = rng.choice(sorted(SCENARIO_POLICY))
    text = _apply(rng, mutators, "value", scenario_text(name))
    files = {"scenario.toml": text.encode("utf-8", "surrogatepass"),
             "policy.sla": policy_text(SCENARIO_POLICY[name]).encode()}
    if command == "plan":
        return Case(kind, command, [], files, ["plan", "policy.sla", "--scenario",
                                               "scenario.toml", "--format", "json"])
    return Case(kind, command, [], files,
                ["simulate", "policy.sla", "--scenario", "scenario.toml", *SIMULATE,
                 "--emit-history", "emitted.csv"], written_csvs=["emitted.csv"])


INJECTIONS = ["--textconv=HEAD:old.sla", "--filters=HEAD:old.sla", "--path=old.sla:x",
              "--batch-all-objects", "-p:old.sla", "--help:x", "-e:old.sla",
              "--output=/tmp/sla-fuzz-pwned:x", "HEAD:../../../etc/passwd", "HEAD~99999:old.sla",
              "-:old.sla", "--batch=%(rest):x", "--batch-check=:x"]
# What git says when it took a version for one of its own options.
GIT_OPTION = re.compile(rb"unknown (?:switch|option) `|option `[\w-]+' |needs '--|usage: git|"
                        rb"cannot be used together")


def diff_spec_case(rng: random.Random) -> Case:
    """`sla diff` given a version that is a git option in disguise, in a git repository."""
    spec = rng.choice(INJECTIONS)
    files = {"old.sla": policy_text("inbound-desk.sla").encode()}
    argv = ["diff", "--", spec, "old.sla"] if rng.random() < 0.5 else ["diff", "old.sla", "--",
                                                                       spec]
    return Case("diff-spec", "diff", ["git_option"], files, argv, git=True)


# ====================================================================== counting records


def count_csv_records(data: bytes) -> int | None:
    """Data rows of a CSV file as a person counts them: every row after the header that is not
    an empty line (a row of spaces is a row). None when the file is not CSV at all."""
    text = data.decode("utf-8", "surrogateescape")
    text = text.removeprefix("\ufeff")
    csv.field_size_limit(1 << 30)
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error:
        return None
    if not rows or not any(cell.strip() for cell in rows[0]):
        return None
    return sum(1 for row in rows[1:] if row)


def count_jsonl_records(data: bytes) -> int:
    """Lines of a JSON Lines file that are not empty (a line of spaces is a line)."""
    data = data.removeprefix(b"\xef\xbb\xbf")
    return sum(1 for line in data.split(b"\n") if line.rstrip(b"\r"))


def count_parquet_rows(data: bytes) -> int | None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(pa.BufferReader(data)).metadata.num_rows
    except Exception:
        return None


# ====================================================================== running


def _limit(memory: int) -> Callable[[], None]:
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    return apply


SLA = ("import sys; from sla_dsl.cli import main; sys.exit(main(sys.argv[1:]))",)
# Modules a forked child would otherwise import again for every case.
PRELOAD = (
    "sla_dsl.cli",
    "sla_dsl.evaluation.replay",
    "sla_dsl.history.read",
    "sla_dsl.reports.document",
    "sla_dsl.reports.text",
    "sla_dsl.reports.html",
    "sla_dsl.language.formatter",
    "sla_dsl.planning.plan",
    "sla_dsl.simulator",
    "pyarrow.csv",
    "pyarrow.json",
    "pyarrow.parquet",
)


@cache
def preload() -> int:
    """Import sla once in this process, so that forked children start warm: a fresh
    interpreter spends most of a small case importing numpy, pyarrow, lark and sla. Returns
    the address space this process has then, what a fresh `sla` starts from."""
    import importlib

    for name in PRELOAD:
        importlib.import_module(name)
    from sla_dsl.language.parser import lark_parser

    lark_parser()
    return _address_space()


def _address_space() -> int:
    """This process's virtual memory size, bytes (Linux)."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def _fork_budget(memory: int) -> int:
    """The address space limit of a forked child: `memory` plus what this process has
    mapped since `preload` (allocator pools and arenas kept from building cases, which the
    child inherits and may reuse), so a child gets what a fresh `sla` under `memory` gets."""
    return memory + max(0, _address_space() - preload())


def _fresh_stdio() -> None:
    """sys.stdin, stdout and stderr on fds 0 to 2, as a new interpreter has them: the parent's
    may be something else (pytest's capture writes to files of its own)."""
    sys.stdin = io.TextIOWrapper(io.BufferedReader(io.FileIO(0, "r", closefd=False)),
                                 encoding="utf-8")
    sys.stdout = io.TextIOWrapper(io.BufferedWriter(io.FileIO(1, "w", closefd=False)),
                                  encoding="utf-8")
    sys.stderr = io.TextIOWrapper(io.BufferedWriter(io.FileIO(2, "w", closefd=False)),
                                  encoding="utf-8", errors="backslashreplace",
                                  line_buffering=True)
    sys.__stdin__, sys.__stdout__, sys.__stderr__ = sys.stdin, sys.stdout, sys.stderr


def _forked_sla(argv: list[str], cwd: Path, memory: int, fds: tuple[int, int, int]) -> None:
    """In the forked child: the limits, the folder, the files as fd 0-2, then `sla ARGV` as
    the `sla` script runs it (an exception that escapes prints its traceback, exit 1)."""
    try:
        os.setsid()
        _limit(memory)()
        os.chdir(cwd)
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
        _fresh_stdio()
        os.environ.update({"PYTHONHASHSEED": "0", "NO_COLOR": "1", "COLUMNS": "100",
                           "HOME": str(cwd), "GIT_CONFIG_NOSYSTEM": "1"})
        os.environ.pop("SLA_TEST_NOW", None)
        sys.argv = ["sla", *argv]
        from sla_dsl.cli import main

        code = main(argv)
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    except BaseException:
        import traceback

        traceback.print_exc()
        code = 1
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(code if isinstance(code, int) else 1)


def run_sla(argv: list[str], cwd: Path, limits: Limits, stdin: bytes | None = None,
            python: str | None = None) -> Run:
    """`sla ARGV` in `cwd` in a child process under the limits: a fork of this process (after
    `preload`), or with `python` a fresh interpreter. Output goes to files (not pipes), so a
    child writing megabytes never blocks, and `wait4` gives its peak memory."""
    out_path, err_path = cwd / ".stdout", cwd / ".stderr"
    in_path = cwd / ".stdin"
    in_path.write_bytes(stdin or b"")
    env = {**os.environ, "PYTHONHASHSEED": "0", "NO_COLOR": "1", "COLUMNS": "100",
           "HOME": str(cwd), "GIT_CONFIG_NOSYSTEM": "1"}
    env.pop("SLA_TEST_NOW", None)
    start = time.monotonic()
    with in_path.open("rb") as fin, out_path.open("wb") as fout, err_path.open("wb") as ferr:
        if python is None:
            budget = _fork_budget(limits.memory)
            sys.stdout.flush()
            sys.stderr.flush()
            pid = os.fork()
            if pid == 0:
                _forked_sla(argv, cwd, budget, (fin.fileno(), fout.fileno(), ferr.fileno()))
        else:
            pid = subprocess.Popen([python, "-c", *SLA, *argv], cwd=cwd, stdin=fin,
                                   stdout=fout, stderr=ferr, env=env,
                                   preexec_fn=_limit(limits.memory),
                                   start_new_session=True).pid
        killed, status, usage = _wait(pid, start + limits.timeout)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)  # pool workers a crashed child left behind
    wall = time.monotonic() - start
    code = None if killed else os.waitstatus_to_exitcode(status)
    return Run(argv, code, out_path.read_bytes(), err_path.read_bytes(), wall,
               usage.ru_maxrss * 1024)


def _wait(pid: int, deadline: float) -> tuple[bool, int, resource.struct_rusage]:
    """Wait for the child, killing its process group at the deadline: (killed, status,
    usage). It polls rather than starting a timer thread, so the process that forks the
    children keeps one thread and no extra malloc arenas."""
    pause, killed = 0.002, False
    while True:
        done, status, usage = os.wait4(pid, os.WNOHANG)
        if done:
            return killed, status, usage
        if not killed and time.monotonic() >= deadline:
            killed = True
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:  # not a group leader yet
                os.kill(pid, signal.SIGKILL)
        time.sleep(pause)
        pause = min(pause * 2, 0.05)


MEMORY_WORDS = (b"MemoryError", b"Cannot allocate memory", b"std::bad_alloc",
                b"out of memory", b"ArrowMemoryError")


def classify_run(run: Run, limits: Limits) -> tuple[str, str]:
    """The outcome of one child process, and a line saying why."""
    tail = run.stderr.decode("utf-8", "replace").strip().splitlines()[-3:]
    why = " | ".join(_short(line, 200) for line in tail)
    if run.code is None:
        return "timeout", f"killed after {limits.timeout:.0f} s"
    if run.code < 0:
        return f"signal:{signal.Signals(-run.code).name}", why
    if run.code == 70 and any(word in run.stderr for word in MEMORY_WORDS):
        return "memory", why
    if run.rss > limits.rss:
        return "memory", f"peak RSS {run.rss >> 20} MiB > {limits.rss >> 20} MiB"
    if run.code == 70:
        return "internal", why
    if b"Traceback (most recent call last)" in run.stdout + run.stderr:
        return "traceback", why
    if run.code not in (0, 1, 2):
        return f"exit:{run.code}", why
    return {0: "ok", 1: "findings", 2: "usage"}[run.code], ""


def _strip_spans(value):
    if isinstance(value, dict):
        return {k: _strip_spans(v) for k, v in value.items() if k != "span"}
    if isinstance(value, list):
        return [_strip_spans(v) for v in value]
    return value


def _rows_check(case: Case, run: Run) -> str | None:
    """Why the evaluator's row counts do not add up, or None."""
    try:
        rows = json.loads(run.stdout)["rows"]
    except (ValueError, KeyError, TypeError):
        return None if run.code != 0 else "no `rows` in the JSON report"
    read, accepted, rejected = rows["read"], rows["accepted"], rows["rejected"]
    if read != accepted + rejected:
        return f"rows read {read} != accepted {accepted} + rejected {rejected}"
    if case.rows_in is not None and read != case.rows_in:
        return f"the file holds {case.rows_in} records, the report read {read}"
    return None


FORMULA_START = tuple("=+-@\t\r")
PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def formula_cells(path: Path) -> list[str]:
    """Cells of a CSV file a spreadsheet would take for a formula."""
    if not path.is_file():
        return []
    csv.field_size_limit(1 << 30)
    with path.open(encoding="utf-8", errors="replace", newline="") as handle:
        try:
            return [cell for row in csv.reader(handle) for cell in row
                    if cell.startswith(FORMULA_START) and not PLAIN_NUMBER.fullmatch(cell)]
        except csv.Error:
            return []


def run_case(case: Case, folder: Path, limits: Limits = Limits(),
             python: str | None = None) -> Result:
    """Write the case's files into `folder` (emptied first), run it and classify it."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    for name, data in case.files.items():
        (folder / name).write_bytes(data)
    if case.git:
        _git_repository(folder)
    first = run_sla(case.argv, folder, limits, case.stdin, python)
    runs = [first]
    outcome, detail = classify_run(first, limits)
    if outcome in GOOD and case.command == "evaluate":
        problem = _rows_check(case, first)
        if problem:
            outcome, detail = "rows-unbalanced", problem
    if outcome in GOOD:
        for name in case.written_csvs:
            cells = formula_cells(folder / name)
            if cells:
                outcome, detail = "csv-formula", f"{name}: {_short(repr(cells[:3]), 200)}"
                break
    if outcome in GOOD and case.command == "diff" and GIT_OPTION.search(first.stderr):
        outcome, detail = "git-option", "git read a version as one of its options"
    if outcome in GOOD and case.command == "fmt" and first.code == 0:
        outcome, detail = _fmt_checks(case, folder, limits, python, runs)
    return Result(case, outcome, detail, runs)


def _fmt_checks(case: Case, folder: Path, limits: Limits, python: str | None,
                runs: list[Run]) -> tuple[str, str]:
    """`sla fmt` again on its own output (a fixed point), and `sla check --dump-json` on the
    input and the output (the same model, positions aside)."""
    formatted = runs[0].stdout
    steps = [(["fmt", "-"], formatted), (["check", "--dump-json", "-"], case.stdin),
             (["check", "--dump-json", "-"], formatted)]
    for argv, stdin in steps:
        run = run_sla(argv, folder, limits, stdin, python)
        runs.append(run)
        outcome, detail = classify_run(run, limits)
        if outcome not in GOOD:
            return outcome, detail
    again, before, after = runs[1], runs[2], runs[3]
    if again.stdout != formatted:
        return "fmt-not-idempotent", "formatting the formatted policy changes it"
    try:
        same = _strip_spans(json.loads(before.stdout)) == _strip_spans(json.loads(after.stdout))
    except ValueError:
        same = before.stdout == after.stdout
    if not same or before.code != after.code:
        return "fmt-changes-meaning", "check --dump-json differs before and after fmt"
    return "ok", ""


class Worker:
    """A clean process that has imported sla, for the cases' children to fork from: a test
    process may have grown to gigabytes, and a forked child's peak RSS counts the pages it
    shares with its parent."""

    def __init__(self) -> None:
        from concurrent.futures import ProcessPoolExecutor
        from multiprocessing import get_context

        self._pool = ProcessPoolExecutor(1, mp_context=get_context("spawn"), initializer=preload)

    def run(self, case: Case, folder: Path, limits: Limits = Limits()) -> Result:
        return self._pool.submit(run_case, case, folder, limits).result()

    def close(self) -> None:
        self._pool.shutdown()


def _git_repository(folder: Path) -> None:
    env = {**os.environ, "HOME": str(folder), "GIT_CONFIG_NOSYSTEM": "1",
           "GIT_AUTHOR_NAME": "fuzz", "GIT_AUTHOR_EMAIL": "fuzz@example.com",
           "GIT_COMMITTER_NAME": "fuzz", "GIT_COMMITTER_EMAIL": "fuzz@example.com"}
    for argv in (["git", "init", "-q"], ["git", "add", "-A"],
                 ["git", "commit", "-q", "-m", "fuzz"]):
        subprocess.run(argv, cwd=folder, env=env, check=True, capture_output=True)


# ====================================================================== the campaign's mix

# How often each kind of input comes up in the campaign (the diff-spec cases are few: there are
# only so many options to try).
WEIGHTS = {"policy": 30, "csv": 20, "jsonl": 14, "parquet": 12, "mapping": 8, "scenario": 12,
           "diff-spec": 4}


def campaign_case(seed: int, index: int, quick: bool = False) -> Case:
    """Case `index` of the campaign with `seed`: the same case whatever process draws it."""
    rng = random.Random(f"{seed}:{index}")
    kind = rng.choices(list(WEIGHTS), weights=list(WEIGHTS.values()))[0]
    if kind == "diff-spec":
        return diff_spec_case(rng)
    return make_case(rng, kind, quick=quick)
