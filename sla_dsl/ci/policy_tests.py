"""Policy test cases: small lead histories with the verdicts the agreement should give them.

An analyst who changes a policy wants to know it still says what both VPs signed: that a hot
lead handed off on Friday evening is due on Saturday morning, that a lead on hold stops every
clock. A case (a TOML file next to the policy, `policies/tests/<policy>/*.toml`) holds a few
events and the expected status of named clauses for named leads, and optionally the
consequences; `sla test` replays them through the evaluator itself, so a case tests the policy
and the tool together, never a second implementation of either.

The case format, the discovery rule and the exit codes are documented in docs/testing.md.
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import io
import time
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from sla_dsl.business_time.zones import local_text, resolve_wall, to_us
from sla_dsl.ci.toml_lines import TomlLines, error_line
from sla_dsl.diagnostics.diagnostic import render_text
from sla_dsl.evaluation.consequences import all_actions
from sla_dsl.evaluation.replay import NONE, STATUS_NAMES, STOPPED, evaluate
from sla_dsl.history.absences import read_absences
from sla_dsl.history.columns import SUPPORTED_TIMES, in_supported_range
from sla_dsl.history.presets import PRESETS, load_preset
from sla_dsl.history.read import HistoryError, history_from_rows, load_history, parse_time
from sla_dsl.history.reps import read_reps, reps_from_text
from sla_dsl.input_files import not_a_file, read_input
from sla_dsl.language import model as m
from sla_dsl.language.formatter import header_line, item_line
from sla_dsl.policy_file import check_file
from sla_dsl.reports.document import document as report_document

STATUSES = ("met", "breached", "pending", "not applicable")
CONSEQUENCE_STATUSES = ("fired", "scheduled", "none")
ACTIONS = ("warn", "escalate", "reassign", "strike")
NO_TIME = "none"
"""Written for `due` or `at`: there is none (not touched yet; a clock stopped by a pause)."""
MOST_CASE_BYTES = 16 << 20  # a case writes its events, or names a history file; docs/limits.md

_CASE_KEYS = ("name", "policy", "as_of", "events", "history", "preset", "timezone", "absences",
              "expect", "consequence", "trigger", "reps")
_EXPECT_KEYS = ("lead", "handoff", "clause", "status", "due", "at", "segment", "attempt",
                "owner")
_CONSEQUENCE_KEYS = ("lead", "handoff", "clause", "action", "to", "at", "status")
_TRIGGER_KEYS = ("rule", "triggered")
_ITEM_CLAUSE = {"first_touch": "first touch", "touches": "touches",
                "disposition": "disposition", "when": "threshold"}

Outcome = Literal["passed", "failed", "error"]
CoverageKey = tuple[str, str, str]
"""("clause", handoff label, clause name) or ("on breach", clause name, scope label or "")."""


# ============================================================================ results


@dataclass(frozen=True)
class Problem:
    """A failed expectation or a mistake in a case, with the case line it is about."""

    line: int | None
    message: str
    help: str | None = None


class CaseError(Exception):
    """A case that cannot be run as written: every problem found in it."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.problems = problems


@dataclass
class CaseResult:
    path: Path
    name: str
    policy_path: Path | None
    outcome: Outcome
    problems: list[Problem] = field(default_factory=list)
    seconds: float = 0.0
    exercised: dict[CoverageKey, set[str]] = field(default_factory=dict)
    """What the case's expectations assert, per coverage item: statuses, or actions."""


# ============================================================================ discovery


@dataclass
class Found:
    cases: list[Path]
    policies: list[Path]
    problems: list[str]


def find_cases(paths: Sequence[str]) -> Found:
    """The case files and policies that `paths` stand for.

    A case file stands for itself. A policy file stands for the cases under `tests/` beside
    it. A directory stands for its policies (not those under a `tests` folder) and every
    `.toml` file under the `tests/` folder beside them; a directory holding no policy at all
    (`policies/tests/company-x/`) stands for every `.toml` file under it."""
    cases: list[Path] = []
    policies: list[Path] = []
    problems: list[str] = []
    for text in paths:
        path = Path(text)
        if path.is_dir():
            found = [p for p in sorted(path.rglob("*.sla"))
                     if "tests" not in p.relative_to(path).parts[:-1]]
            if found:
                policies += found
                for folder in dict.fromkeys(p.parent for p in found):
                    cases += sorted((folder / "tests").rglob("*.toml"))
            else:
                cases += sorted(path.rglob("*.toml"))
                if not any(path.rglob("*.toml")):
                    problems.append(f"{path}: no policies and no test cases in this directory")
        elif path.suffix == ".sla" and path.is_file():
            policies.append(path)
            cases += sorted((path.parent / "tests" / path.stem).rglob("*.toml"))
        elif path.is_file():
            cases.append(path)
        elif path.exists():
            problems.append(f"{path}: {not_a_file(path)}")
        else:
            problems.append(f"{path}: no such file or directory")
    return Found(list(dict.fromkeys(cases)), list(dict.fromkeys(policies)), problems)


def default_policy(case: Path) -> Path | None:
    """`DIR/tests/NAME/.../case.toml` tests `DIR/NAME.sla`."""
    parts = case.parts
    for i in range(len(parts) - 3, -1, -1):
        if parts[i] == "tests":
            return Path(*parts[:i], f"{parts[i + 1]}.sla")
    return None


# ============================================================================ policies


class Policies:
    """Each policy checked once per run, however many cases test it."""

    def __init__(self) -> None:
        self._checked: dict[Path, tuple[m.Policy | None, str]] = {}

    def get(self, path: Path) -> tuple[m.Policy | None, str]:
        """The policy, or None with why it cannot be used (its first error, rendered)."""
        key = path.resolve()
        if key not in self._checked:
            checked = check_file(path)
            reason = ""
            if not checked.ok:
                errors = checked.errors
                reason = render_text(errors[0], checked.lines) if errors else "it does not build"
                if len(errors) > 1:
                    reason += f"\n(and {len(errors) - 1} more errors)"
            self._checked[key] = (checked.policy if checked.ok else None, reason)
        return self._checked[key]


def lead_clauses(policy: m.Policy) -> list[tuple[m.Handoff, m.Node, str]]:
    """(handoff, item, clause name) of every clause the evaluator measures per lead."""
    out = []
    for handoff in policy.handoffs:
        if handoff.receiver is None:
            continue
        for item in handoff.items:
            name = _ITEM_CLAUSE.get(item.kind)
            if name is not None:
                out.append((handoff, item, name))
    return out


def breach_blocks(policy: m.Policy) -> list[m.Consequence]:
    return [c for c in policy.consequences if c.trigger == "breach"]


def breach_key(block: m.Consequence) -> CoverageKey:
    return ("on breach", block.clause.name, block.scope_label or "")


# ============================================================================ the case file


@dataclass(frozen=True)
class ClauseExpectation:
    """One `[[expect]]`: what the evaluator should say about one lead (and one clause)."""

    index: int
    lead: str
    handoff: str | None = None
    clause: str | None = None
    status: str | None = None
    due: int | str | None = None
    at: int | str | None = None
    segment: str | None = None
    attempt: int = 1  # which round of the lead's handoffs (a re-handoff starts the next)
    owner: str | None = None  # who answers for the clock


@dataclass(frozen=True)
class ConsequenceExpectation:
    """One `[[consequence]]`: an action of an `on breach of` block for one lead."""

    index: int
    lead: str
    clause: str
    action: str
    handoff: str | None = None
    to: str | None = None
    at: int | str | None = None
    status: str | None = None


@dataclass(frozen=True)
class TriggerExpectation:
    """One `[[trigger]]`: whether a `cancel when`, `review when`, `review every` or `strikes`
    line of the policy has fired by the as-of time."""

    index: int
    rule: str
    triggered: bool


@dataclass
class Case:
    path: Path
    name: str
    policy_path: Path
    policy: m.Policy
    zone: ZoneInfo
    history: object  # sla_dsl.history.columns.History (imported lazily: numpy, pyarrow)
    as_of: int | None
    expect: list[ClauseExpectation]
    consequences: list[ConsequenceExpectation]
    lines: TomlLines
    triggers: list[TriggerExpectation] = field(default_factory=list)


def _did_you_mean(word: str, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'? " if close else ""


def _quoted(names: Sequence[str]) -> str:
    return ", ".join(f"'{n}'" for n in names)


class _Reader:
    """Reads one case file, collecting every problem rather than stopping at the first."""

    def __init__(self, path: Path, policies: Policies) -> None:
        self.path = path
        self.policies = policies
        self.problems: list[Problem] = []
        self.text = ""
        self.lines = TomlLines("")

    def fail(self, line: int | None, message: str, help: str | None = None) -> None:
        self.problems.append(Problem(line, message, help))

    def stop(self) -> CaseError:
        return CaseError(self.problems)

    # ------------------------------------------------------------ the document

    def document(self) -> dict:
        try:
            data = read_input(self.path, MOST_CASE_BYTES)
        except OSError as error:
            self.fail(None, f"cannot read the case: {error.strerror or error}")
            raise self.stop() from None
        if len(data) > MOST_CASE_BYTES:
            self.fail(None, f"the case is more than {MOST_CASE_BYTES >> 20} MiB, the most a "
                      "test case may be", "name a history file (history = \"leads.csv\") "
                      "rather than writing its events in the case")
            raise self.stop()
        try:
            self.text = data.decode("utf-8-sig").replace("\r\n", "\n")
        except UnicodeDecodeError as error:
            self.fail(None, f"the case is not UTF-8 text (bad byte at offset {error.start})",
                      "save it as UTF-8")
            raise self.stop() from None
        try:
            document = tomllib.loads(self.text)
        except RecursionError:  # tomllib recurses on nesting: arrays a thousand deep
            self.fail(None, "not valid TOML: arrays or tables nested too deep",
                      "a test case nests a few levels at most")
            raise self.stop() from None
        except tomllib.TOMLDecodeError as error:
            self.fail(error_line(str(error)), f"not valid TOML: {error}",
                      'text values need quotes (status = "met"); tables of a list are written '
                      "[[expect]]")
            raise self.stop() from None
        self.lines = TomlLines(self.text)
        for key in document:
            if key not in _CASE_KEYS:
                self.fail(self.lines.key(key) or self.lines.table(key, 0),
                          f"unknown key '{key}'",
                          f"{_did_you_mean(key, _CASE_KEYS)}a case has the keys "
                          f"{_quoted(_CASE_KEYS)}")
        return document

    def text_value(self, table: dict, key: str, line: int | None,
                   where: str = "") -> str | None:
        value = table.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            self.fail(line, f"{where}`{key}` must be a non-empty text in quotes",
                      f'write {key} = "..."')
            return None
        return value.strip()

    # ------------------------------------------------------------ the policy

    def policy(self, document: dict) -> tuple[Path, m.Policy]:
        line = self.lines.key("policy")
        written = self.text_value(document, "policy", line)
        if written is not None:
            path = self.path.parent / written
        else:
            path = default_policy(self.path)
            if path is None:
                self.fail(None, "the case does not say which policy it tests",
                          'write policy = "../../company-x.sla" (relative to this file), or '
                          "put the case in tests/<policy name>/ beside the policy")
                raise self.stop()
        if not path.is_file():
            how = ("fix the path (it is relative to this file)" if written is not None else
                   f"this case is in tests/{path.stem}/, so it tests {path}; move it to the "
                   f"folder named after its policy, or name the policy with policy = \"...\"")
            self.fail(line, f"no policy file {path}", how)
            raise self.stop()
        policy, reason = self.policies.get(path)
        if policy is None:
            self.fail(line, f"the policy {path} does not check, so it cannot be tested:\n"
                            f"{reason}", f"run 'sla check {path}' and fix it first")
            raise self.stop()
        return path, policy

    # ------------------------------------------------------------ times

    def instant(self, value: object, zone: ZoneInfo, line: int | None, what: str,
                allow_none: bool = False) -> int | str | None:
        """µs since the epoch (naive times are wall times in the policy's zone), NO_TIME,
        or None after reporting the problem."""
        if allow_none and isinstance(value, str) and value.strip().lower() == NO_TIME:
            return NO_TIME
        outside = f"{value} is outside the supported times, {SUPPORTED_TIMES}"
        try:
            instant = _instant(value, zone)
        except (OverflowError, ValueError):  # a wall time in year 1 has no instant
            instant = outside
        if isinstance(instant, int) and what == "as_of" and not in_supported_range(instant):
            instant = outside  # as `--as-of` is: no table is built out to it
        if isinstance(instant, int):
            return instant
        reason = instant
        none = f', or "{NO_TIME}" for no time' if allow_none else ""
        self.fail(line, f"`{what}`: {reason}",
                  f"write a TOML date-time such as 2026-03-06T17:30:00 (in the policy's "
                  f"timezone, {zone.key}) or 2026-03-06T17:30:00-05:00{none}")
        return None

    # ------------------------------------------------------------ the history

    def history(self, document: dict, zone: ZoneInfo):
        has_events, has_files = "events" in document, "history" in document
        if has_events == has_files:
            self.fail(self.lines.key("history"),
                      "give the events inline (events) or in a file (history), not both"
                      if has_events else "the case has no events",
                      'write the events as a CSV text, events = """lead_id,at,event ...""", '
                      'as [[events]] tables, or name a file: history = "leads.csv"')
            return None
        try:
            if has_files:
                files = document["history"]
                files = [files] if isinstance(files, str) else files
                if not (isinstance(files, list) and files
                        and all(isinstance(f, str) for f in files)):
                    self.fail(self.lines.key("history"),
                              "`history` must name a file, or a list of files",
                              'write history = "leads.csv" (relative to this file)')
                    return None
                preset, export_zone = document.get("preset"), document.get("timezone")
                if preset is not None and preset not in PRESETS:
                    self.fail(self.lines.key("preset"), f"unknown preset {preset!r}",
                              f"presets are {', '.join(PRESETS)}: the files of `history` "
                              f"are then that CRM's export (Lead.csv, ...)")
                    return None
                if export_zone is not None and not isinstance(export_zone, str):
                    self.fail(self.lines.key("timezone"), "`timezone` must be a zone name",
                              'write timezone = "Europe/Amsterdam"')
                    return None
                history = load_history([self.path.parent / f for f in files],
                                       timezone=zone.key,
                                       mapping=load_preset(preset) if preset else None,
                                       export_timezone=export_zone)
                row_line = None
            else:
                said = [key for key in ("preset", "timezone") if key in document]
                if said:  # (they say how to read a CRM's files, and were ignored without a word)
                    self.fail(self.lines.key(said[0]), f"`{said[0]}` is for the files of "
                              "`history`: inline events are in the product's own layout",
                              f"remove `{said[0]}`, or give the CRM's files: history = "
                              '["Lead.csv", ...]')
                    return None
                rows, row_line = self.event_rows(document["events"])
                if rows is None:
                    return None
                history = history_from_rows(rows, timezone=zone.key, source=str(self.path))
        except HistoryError as error:
            message, _, fix = str(error).partition("\n  help: ")
            self.fail(self.lines.key("history") or self.lines.table("events", 0),
                      message, fix or None)
            return None
        for reject in history.rejects:
            line = row_line(reject.row) if row_line else None
            where = "" if row_line else f"{reject.source}: row {reject.row}: "
            self.fail(line, f"{where}event rejected: {reject.reason}",
                      "a case's events must all be read; fix or remove the row")
        if "reps" in document:
            history.reps = self.reps(document["reps"])
        if "absences" in document:
            history.absences = self.absences(document["absences"], zone)
        return history

    def reps(self, value: object):
        """The case's reps (`clocks run on owner hours`): CSV text of rep,timezone,hours, or
        a file named relative to the case; every row must be read."""
        line = self.lines.key("reps")
        if not isinstance(value, str) or not value.strip():
            self.fail(line, "`reps` must be CSV text or a file name",
                      'write reps = """rep,timezone,hours\nana,America/Los_Angeles,mon-fri '
                      '09:00-17:00""", or reps = "reps.csv"')
            return None
        try:
            reps = reps_from_text(value, str(self.path)) if "\n" in value.strip() \
                else read_reps(self.path.parent / value.strip())
        except HistoryError as error:
            message, _, fix = str(error).partition("\n  help: ")
            self.fail(line, message, fix or None)
            return None
        for reject in reps.rejects:
            self.fail(line, f"reps row {reject.row} rejected: {reject.reason}",
                      "a case's reps must all be read; fix or remove the row")
        return reps

    def absences(self, name: object, zone: ZoneInfo):
        """The case's absences file (`sla evaluate --absences`), relative to the case; every
        row must be read, as every event must."""
        line = self.lines.key("absences")
        if not isinstance(name, str) or not name:
            self.fail(line, "`absences` must name a file",
                      'write absences = "absences.csv" (rep,start,end[,reason], relative to '
                      "this file)")
            return None
        try:
            absences = read_absences(self.path.parent / name, zone.key)
        except HistoryError as error:
            message, _, fix = str(error).partition("\n  help: ")
            self.fail(line, message, fix or None)
            return None
        for reject in absences.rejects:
            self.fail(line, f"{reject.source}: row {reject.row}: absence rejected: "
                            f"{reject.reason}",
                      "a case's absences must all be read; fix or remove the row")
        return absences

    def event_rows(self, events: object):
        """Rows of column -> text, and a function from row number to case line."""
        if isinstance(events, str):
            return self.csv_rows(events)
        if isinstance(events, list) and all(isinstance(e, dict) for e in events):
            rows = []
            for index, event in enumerate(events):
                row = {}
                for key, value in event.items():
                    text = _cell(value)
                    if text is _BAD:
                        self.fail(self.lines.table_key("events", index, key),
                                  f"event {index + 1}: `{key}` holds {type(value).__name__}, "
                                  f"not a single value", "write text, a number, true/false "
                                                         "or a date-time")
                        return None, None
                    row[key] = text
                rows.append(row)
            return rows, lambda row: self.lines.table("events", row - 1)
        self.fail(self.lines.key("events") or self.lines.table("events", 0),
                  "`events` must be a CSV text or a list of [[events]] tables",
                  'write events = """ then a header line (lead_id,at,event) and one event a '
                  "line, or [[events]] tables")
        return None, None

    def csv_rows(self, text: str):
        first = self.lines.string_start("events", self.text) or 0
        lines = [(number, line.strip()) for number, line in enumerate(text.split("\n"))]
        lines = [(n, line) for n, line in lines if line and not line.startswith("#")]
        if not lines:
            self.fail(first or None, "`events` has no header line", "start with lead_id,at,event")
            return None, None
        try:
            parsed = list(csv.reader(io.StringIO("\n".join(line for _, line in lines))))
        except csv.Error as error:
            parsed, problem = [], str(error)
        else:
            problem = "a quoted value runs over more than one line"
        if len(parsed) != len(lines):
            self.fail(first or None, f"`events` is not CSV one event a line: {problem}",
                      "close every quote on the line it opens; write one event a line")
            return None, None
        header = [h.strip() for h in parsed[0]]
        rows, numbers = [], []
        for (number, _), values in zip(lines[1:], parsed[1:], strict=True):
            if len(values) != len(header):
                self.fail(first + number, f"the event has {len(values)} values; the header has "
                                          f"{len(header)} columns ({', '.join(header)})",
                          "leave a value empty with two commas (,,) rather than out")
                continue
            rows.append({k: (v.strip() or None) for k, v in zip(header, values, strict=True)})
            numbers.append(first + number)
        return rows, lambda row: numbers[row - 1]

    # ------------------------------------------------------------ expectations

    def tables(self, document: dict, key: str) -> list[tuple[int, dict]]:
        value = document.get(key, [])
        if isinstance(value, dict):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            self.fail(self.lines.key(key), f"`{key}` must be a list of [[{key}]] tables")
            return []
        return list(enumerate(value))

    def keys(self, table: dict, allowed: Sequence[str], array: str, index: int) -> None:
        for key in table:
            if key not in allowed:
                self.fail(self.lines.table_key(array, index, key),
                          f"[[{array}]] {index + 1}: unknown key '{key}'",
                          f"{_did_you_mean(key, allowed)}its keys are {_quoted(allowed)}")

    def expectations(self, document: dict, policy: m.Policy, zone: ZoneInfo,
                     leads: Sequence[str]) -> list[ClauseExpectation]:
        out = []
        checks = _ClauseNames(policy)
        for index, table in self.tables(document, "expect"):
            self.keys(table, _EXPECT_KEYS, "expect", index)

            def line(key: str, index: int = index) -> int | None:
                return self.lines.table_key("expect", index, key)

            where = f"[[expect]] {index + 1}: "
            lead = self.lead(table, leads, line("lead"), where, "expect", index)
            handoff = self.text_value(table, "handoff", line("handoff"), where)
            clause = self.text_value(table, "clause", line("clause"), where)
            status = self.text_value(table, "status", line("status"), where)
            segment = self.text_value(table, "segment", line("segment"), where)
            if handoff is not None and not checks.has_handoff(handoff):
                self.fail(line("handoff"), f"{where}the policy has no handoff '{handoff}'",
                          f"{_did_you_mean(handoff, checks.handoffs)}its handoffs are "
                          f"{_quoted(checks.handoffs)}")
                handoff = None
            elif clause is not None:
                # a clause not in the named block can still be expected not to apply
                scope = None if status == "not applicable" else handoff
                problem = checks.clause_problem(clause, scope)
                if problem:
                    self.fail(line("clause"), where + problem[0], problem[1])
            if segment is not None and segment not in checks.segments:
                self.fail(line("segment"), f"{where}the policy has no segment '{segment}'",
                          f"{_did_you_mean(segment, checks.segments)}its segments are "
                          f"{_quoted(checks.segments)}")
            if clause is not None and status is None:
                self.fail(line("clause"), f"{where}no `status` for the clause '{clause}'",
                          f"add status = one of {_quoted(STATUSES)}")
            if status is not None:
                if clause is None:
                    self.fail(line("status"), f"{where}a `status` needs the `clause` it is of",
                              'add clause = "first touch" (or touches, disposition, threshold)')
                if status not in STATUSES:
                    self.fail(line("status"), f"{where}unknown status '{status}'",
                              f"{_did_you_mean(status, STATUSES)}a clause is "
                              f"{_quoted(STATUSES)}")
            times = {}
            for key in ("due", "at"):
                if key in table:
                    if clause is None:
                        self.fail(line(key), f"{where}`{key}` needs the `clause` it is of")
                    times[key] = self.instant(table[key], zone, line(key), key, allow_none=True)
            if not {"clause", "handoff", "segment"} & set(table):
                self.fail(self.lines.table("expect", index),
                          f"{where}nothing is expected of the lead",
                          "name a clause and its status, a handoff or a segment")
            attempt = table.get("attempt", 1)
            if not isinstance(attempt, int) or isinstance(attempt, bool) or attempt < 1:
                self.fail(line("attempt"), f"{where}`attempt` is a whole number from 1",
                          "attempt = 2 is the lead's second round, after a re-handoff")
                attempt = 1
            owner = self.text_value(table, "owner", line("owner"), where)
            if lead is not None:
                out.append(ClauseExpectation(index, lead, handoff, clause, status,
                                             times.get("due"), times.get("at"), segment,
                                             attempt, owner))
        return out

    def lead(self, table: dict, leads: Sequence[str], line: int | None, where: str,
             array: str, index: int) -> str | None:
        value = table.get("lead")
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        lead = self.text_value({"lead": value}, "lead", line, where)
        if lead is None:
            if "lead" not in table:
                self.fail(self.lines.table(array, index), f"{where}no `lead`",
                          'name the lead: lead = "L1"')
            return None
        if lead not in leads:
            shown = _quoted(list(leads)[:12]) or "none"
            self.fail(line, f"{where}no lead '{lead}' in the case's events",
                      f"{_did_you_mean(lead, leads)}the leads are {shown}")
            return None
        return lead

    def consequence_expectations(self, document: dict, policy: m.Policy, zone: ZoneInfo,
                                 leads: Sequence[str]) -> list[ConsequenceExpectation]:
        out = []
        checks = _ClauseNames(policy)
        for index, table in self.tables(document, "consequence"):
            self.keys(table, _CONSEQUENCE_KEYS, "consequence", index)

            def line(key: str, index: int = index) -> int | None:
                return self.lines.table_key("consequence", index, key)

            where = f"[[consequence]] {index + 1}: "
            lead = self.lead(table, leads, line("lead"), where, "consequence", index)
            handoff = self.text_value(table, "handoff", line("handoff"), where)
            clause = self.text_value(table, "clause", line("clause"), where)
            action = self.text_value(table, "action", line("action"), where)
            to = self.text_value(table, "to", line("to"), where)
            status = self.text_value(table, "status", line("status"), where)
            for key, value in (("clause", clause), ("action", action)):
                if value is None and key not in table:
                    self.fail(self.lines.table("consequence", index), f"{where}no `{key}`",
                              f'add {key} = "..."')
            if handoff is not None and not checks.has_handoff(handoff):
                self.fail(line("handoff"), f"{where}the policy has no handoff '{handoff}'",
                          f"{_did_you_mean(handoff, checks.handoffs)}its handoffs are "
                          f"{_quoted(checks.handoffs)}")
            elif clause is not None:
                self.breach_block(clause, handoff, policy, line("clause"), where)
            if action is not None and action not in ACTIONS:
                self.fail(line("action"), f"{where}unknown action '{action}'",
                          f"{_did_you_mean(action, ACTIONS)}the actions are {_quoted(ACTIONS)}")
            if status is not None and status not in CONSEQUENCE_STATUSES:
                self.fail(line("status"), f"{where}unknown status '{status}'",
                          f"{_did_you_mean(status, CONSEQUENCE_STATUSES)}an action is "
                          f"{_quoted(CONSEQUENCE_STATUSES)} ('none': it does not happen)")
            at = self.instant(table["at"], zone, line("at"), "at") if "at" in table else None
            if lead is not None and clause is not None and action is not None:
                out.append(ConsequenceExpectation(index, lead, clause, action, handoff, to,
                                                  at, status))
        return out

    def trigger_expectations(self, document: dict, policy: m.Policy
                             ) -> list[TriggerExpectation]:
        out = []
        rules = trigger_rules(policy)
        for index, table in self.tables(document, "trigger"):
            self.keys(table, _TRIGGER_KEYS, "trigger", index)
            where = f"[[trigger]] {index + 1}: "
            line = self.lines.table_key("trigger", index, "rule")
            rule = self.text_value(table, "rule", line, where)
            triggered = table.get("triggered")
            if rule is None:
                self.fail(self.lines.table("trigger", index), f"{where}no `rule`",
                          'add rule = "review when ..." as the policy writes it')
            elif rule not in rules:
                self.fail(line, f"{where}the policy has no trigger '{rule}'",
                          f"{_did_you_mean(rule, rules)}its triggers are {_quoted(rules)}"
                          if rules else "it has no cancel, review or strikes lines")
            if not isinstance(triggered, bool):
                self.fail(self.lines.table_key("trigger", index, "triggered")
                          or self.lines.table("trigger", index),
                          f"{where}`triggered` must be true or false", "triggered = true")
            elif rule is not None:
                out.append(TriggerExpectation(index, rule, triggered))
        return out

    def breach_block(self, clause: str, handoff: str | None, policy: m.Policy,
                     line: int | None, where: str) -> None:
        """Report a consequence expected of a clause no `on breach of` block covers."""
        blocks = [b for b in breach_blocks(policy) if b.clause.name == clause]
        if any(handoff is None or b.scope_label in (None, handoff) for b in blocks):
            return
        if blocks:
            scopes = _quoted([b.scope_label for b in blocks if b.scope_label])
            self.fail(line, f"{where}the `on breach of {clause}` blocks are for the handoff "
                            f"{scopes}, not '{handoff}'", "fix or drop `handoff`")
            return
        names = sorted({b.clause.name for b in breach_blocks(policy)})
        self.fail(line, f"{where}the policy has no `on breach of {clause}` block",
                  f"{_did_you_mean(clause, names)}it has blocks for {_quoted(names)}" if names
                  else "it has no `on breach of` blocks, so no lead has consequences")

    # ------------------------------------------------------------ all of it

    def case(self) -> Case:
        document = self.document()
        name = self.text_value(document, "name", self.lines.key("name")) or self.path.stem
        policy_path, policy = self.policy(document)
        zone = ZoneInfo(policy.timezone or "UTC")
        history = self.history(document, zone)
        as_of = None
        if "as_of" in document:
            as_of = self.instant(document["as_of"], zone, self.lines.key("as_of"), "as_of")
        if history is None:
            raise self.stop()
        leads = [str(lead) for lead in history.lead_ids]
        expect = self.expectations(document, policy, zone, leads)
        consequences = self.consequence_expectations(document, policy, zone, leads)
        triggers = self.trigger_expectations(document, policy)
        if not expect and not consequences and not triggers and not self.problems:
            self.fail(None, "the case expects nothing",
                      'add [[expect]] tables: lead = "L1", clause = "first touch", '
                      'status = "met"')
        if self.problems:
            raise self.stop()
        return Case(self.path, name, policy_path, policy, zone, history, as_of, expect,
                    consequences, self.lines, triggers)


class _ClauseNames:
    """The handoffs, clauses and segments a case may name, and what is wrong with a name."""

    def __init__(self, policy: m.Policy) -> None:
        self.by_handoff: dict[str, list[str]] = {}
        for handoff in policy.handoffs:
            self.by_handoff.setdefault(handoff.label, [])
        for handoff, _, clause in lead_clauses(policy):
            self.by_handoff[handoff.label].append(clause)
        self.handoffs = list(self.by_handoff)
        self.clauses = list(dict.fromkeys(c for cs in self.by_handoff.values() for c in cs))
        self.segments = [d.name.value for d in policy.definitions_of("segment")]

    def has_handoff(self, label: str) -> bool:
        return label in self.by_handoff

    def clause_problem(self, clause: str, handoff: str | None) -> tuple[str, str] | None:
        known = self.by_handoff[handoff] if handoff else self.clauses
        if clause in known:
            return None
        if clause == "when":
            return ("the handoff's `when` line is the clause 'threshold'",
                    'write clause = "threshold"')
        where = f"the handoff '{handoff}'" if handoff else "the policy"
        return (f"{where} has no clause '{clause}'",
                f"{_did_you_mean(clause, known)}its clauses are {_quoted(known)}" if known
                else "it has no clauses (it hands leads to nobody); expect its leads' "
                     "clauses to be 'not applicable'")


_BAD = object()


def _cell(value: object) -> object:
    """A TOML value as history text (None for empty), or _BAD for a table or list."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return _BAD


def load_case(path: Path, policies: Policies) -> Case:
    """The case, ready to run; `CaseError` with every problem found when it is not."""
    return _Reader(path, policies).case()


# ============================================================================ running


def show_time(value: int | str | None, zone: ZoneInfo) -> str:
    """A time as a person compares it: local, to the minute unless seconds matter."""
    if value is None or value == NO_TIME or value in (NONE, STOPPED):
        return NO_TIME
    return local_text(int(value), zone)


@dataclass
class _Verdicts:
    """What the evaluator said, per lead id."""

    block: dict[str, str | None]  # the first-level block
    blocks: dict[str, list[str]]  # every block of every level that took the lead
    segment: dict[str, str | None]
    # (lead, block, clause, attempt) -> (status, due, at, owner)
    clauses: dict[tuple[str, str, str, int], tuple[str, int, int, str | None]]
    actions: list[dict]

    def block_for(self, lead: str, handoff: str | None, clause: str | None) -> str | None:
        """The block an expectation speaks of: the one it names, else the first of the
        lead's blocks that has the clause (a two-level lead has a first touch in each)."""
        if handoff is not None:
            return handoff if handoff in self.blocks.get(lead, []) else None
        having = [b for b in self.blocks.get(lead, []) if (lead, b, clause, 1) in self.clauses
                  or any(k[:3] == (lead, b, clause) for k in self.clauses)]
        return having[0] if having else self.block.get(lead)


def _verdicts(case: Case) -> _Verdicts:
    evaluation = evaluate(case.policy, case.history, case.as_of)
    ids = [str(lead) for lead in case.history.lead_ids]
    clauses = {}
    blocks: dict[str, list[str]] = {}
    for result in evaluation.clauses:
        attempts = result.attempt.tolist() if result.attempt is not None \
            else [1] * len(result.leads)
        owners = result.owner.tolist() if result.owner is not None else [None] * len(attempts)
        for lead, status, due, at, attempt, owner in zip(
                result.leads.tolist(), result.status.tolist(), result.due.tolist(),
                result.at.tolist(), attempts, owners, strict=True):
            clauses[(ids[lead], result.handoff, result.clause, attempt)] = (
                STATUS_NAMES[status], due, at, owner)
            if attempt > 1:  # a later round may go to another block
                blocks.setdefault(ids[lead], [])
    actions = []
    for group in all_actions(evaluation):
        for lead, fires, fired in zip(group.leads.tolist(), group.fires.tolist(),
                                      group.fired.tolist(), strict=True):
            actions.append({"lead": ids[lead], "handoff": group.handoff,
                            "clause": group.clause, "action": group.action, "to": group.to,
                            "at": fires, "status": "fired" if fired else "scheduled"})
    for label, leads in evaluation.block_leads.items():
        for lead in leads.tolist():
            blocks.setdefault(ids[lead], []).append(label)
    for lead, label, _, attempt in clauses:
        if attempt > 1 and label not in blocks[lead]:
            blocks[lead].append(label)
    return _Verdicts(dict(zip(ids, evaluation.handoff.tolist(), strict=True)), blocks,
                     dict(zip(ids, evaluation.segment.tolist(), strict=True)), clauses, actions)


def _check_clause(case: Case, want: ClauseExpectation, said: _Verdicts,
                  exercised: dict[CoverageKey, set[str]]) -> list[Problem]:
    line = case.lines.table("expect", want.index)
    block = said.block_for(want.lead, want.handoff, want.clause)
    problems = []
    if want.segment is not None and said.segment.get(want.lead) != want.segment:
        got = said.segment.get(want.lead)
        problems.append(Problem(line, f"{want.lead}: expected segment '{want.segment}', got "
                                      + (f"'{got}'" if got else "no segment")))
    if want.handoff is not None and block != want.handoff:
        return [*problems, _wrong_handoff(want.lead, want.handoff, said, line)]
    if want.clause is None:
        return problems
    status, due, at, owner = said.clauses.get((want.lead, block, want.clause, want.attempt),
                                              ("not applicable", None, None, None))
    if status != "not applicable":
        exercised.setdefault(("clause", block, want.clause), set()).add(want.status)
    label = f"{want.lead} {want.clause}" + (f" ({block})" if block else "") + (
        f" attempt {want.attempt}" if want.attempt > 1 else "")
    wrong = [f"expected {want.status}, got {status}"] if status != want.status else []
    if want.owner is not None and status != "not applicable" and owner != want.owner:
        wrong.append(f"expected owner {want.owner}, got {owner or 'no owner'}")
    for key, expected, actual in (("due", want.due, due), ("at", want.at, at)):
        if expected is None:
            continue
        if not _same_time(expected, actual):
            wrong.append(f"expected {key} {show_time(expected, case.zone)}, got "
                         f"{show_time(actual, case.zone)}")
    if wrong:
        context = (f" (due {show_time(due, case.zone)}, done {show_time(at, case.zone)})"
                   if status != "not applicable" else "")
        problems.append(Problem(line, f"{label}: {'; '.join(wrong)}{context}"))
    return problems


def _wrong_handoff(lead: str, expected: str, said: _Verdicts, line: int | None) -> Problem:
    blocks = said.blocks.get(lead, [])
    got = ("handoff " + " and ".join(f"'{b}'" for b in blocks)) if blocks else \
        "no handoff (the lead was not handed off)"
    return Problem(line, f"{lead}: expected handoff '{expected}', got {got}")


def _same_time(expected: int | str, actual: int | None) -> bool:
    if expected == NO_TIME:
        return actual is None or actual in (NONE, STOPPED)
    return actual == expected


def _check_consequence(case: Case, want: ConsequenceExpectation, said: _Verdicts,
                       exercised: dict[CoverageKey, set[str]]) -> list[Problem]:
    line = case.lines.table("consequence", want.index)
    block = said.block_for(want.lead, want.handoff, want.clause)
    if want.handoff is not None and block != want.handoff:
        return [_wrong_handoff(want.lead, want.handoff, said, line)]
    for rule in breach_blocks(case.policy):
        if rule.clause.name == want.clause and rule.scope_label in (None, block) and any(
                a.kind == want.action for a in rule.actions):
            exercised.setdefault(breach_key(rule), set()).add(want.action)
    mine = [a for a in said.actions if a["lead"] == want.lead and a["clause"] == want.clause
            and a["handoff"] == block]
    same = [a for a in mine if a["action"] == want.action
            and (want.to is None or a["to"] == want.to)]
    timed = [a for a in same if want.at is None or a["at"] == want.at]
    what = want.action + (f" to '{want.to}'" if want.to else "")
    if want.status == "none":
        if not timed:
            return []
        expected = f"no {what}"
    else:
        if any(want.status is None or a["status"] == want.status for a in timed):
            return []
        expected = f"{what} {want.status or ''}".rstrip()
        if want.at is not None:
            expected += f" at {show_time(want.at, case.zone)}"
    got = "; ".join(f"{a['action']}" + (f" to '{a['to']}'" if a["to"] else "")
                    + f" {a['status']} at {show_time(a['at'], case.zone)}" for a in mine)
    return [Problem(line, f"{want.lead} {want.clause}: expected {expected}; got "
                          f"{got or 'no actions'}")]


def trigger_rules(policy: m.Policy) -> list[str]:
    """The policy's trigger lines as a `[[trigger]]` names them: as the formatter writes them."""
    from_statements = (m.Cancel, m.ReviewWhen, m.ReviewEvery, m.StrikeRule)
    return [" ".join(header_line(s)) for s in policy.statements
            if isinstance(s, from_statements)]


def _check_triggers(case: Case) -> list[Problem]:
    """Each `[[trigger]]` against the report's triggers (the evaluation run once more, whole:
    a trigger reads periods, strikes and goals)."""
    if not case.triggers:
        return []
    evaluation = evaluate(case.policy, case.history, case.as_of)
    fired = {row["rule"]: row for row in report_document(evaluation,
                                                         include_leads=False)["triggers"]}
    problems = []
    for want in case.triggers:
        row = fired.get(want.rule)
        if row is None or row["triggered"] == want.triggered:
            continue
        said = "; ".join(row["readings"])
        problems.append(Problem(case.lines.table("trigger", want.index),
                                f"{want.rule}: expected {'' if want.triggered else 'not '}"
                                f"triggered; got {'' if row['triggered'] else 'not '}triggered"
                                + (f" ({said})" if said else "")))
    return problems


def run_case(path: Path, policies: Policies) -> CaseResult:
    """Load and run one case. Never raises for a bad case: that is an `error` outcome."""
    started = time.perf_counter()
    try:
        case = load_case(path, policies)
    except CaseError as error:
        name, policy = _guess(path)
        problems = sorted(error.problems, key=lambda p: p.line or 0)
        return CaseResult(path, name, policy, "error", problems, time.perf_counter() - started)
    exercised: dict[CoverageKey, set[str]] = {}
    said = _verdicts(case)
    problems = [p for want in case.expect for p in _check_clause(case, want, said, exercised)]
    problems += [p for want in case.consequences
                 for p in _check_consequence(case, want, said, exercised)]
    problems += _check_triggers(case)
    return CaseResult(path, case.name, case.policy_path, "failed" if problems else "passed",
                      problems, time.perf_counter() - started, exercised)


def _guess(path: Path) -> tuple[str, Path | None]:
    """The name and policy of a case that cannot run, as far as they can be read (to show
    and group its error like the cases that did run)."""
    try:
        document = tomllib.loads(read_input(path, MOST_CASE_BYTES).decode("utf-8-sig"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError):
        document = {}
    name, written = document.get("name"), document.get("policy")
    name = name.strip() if isinstance(name, str) and name.strip() else path.stem
    return name, path.parent / written if isinstance(written, str) else default_policy(path)


def run_cases(paths: Sequence[Path]) -> list[CaseResult]:
    policies = Policies()
    return [run_case(path, policies) for path in paths]


# ============================================================================ coverage


@dataclass
class CoverageItem:
    key: CoverageKey
    label: str
    line: int
    asserted: set[str]


@dataclass
class Coverage:
    """Which lead clauses and `on breach of` blocks of one policy the cases exercised."""

    policy_path: Path
    items: list[CoverageItem]
    problem: str | None = None  # why it could not be measured (the policy does not check)

    @property
    def covered(self) -> int:
        return sum(1 for item in self.items if item.asserted)

    @property
    def percent(self) -> float:
        return 100.0 * self.covered / len(self.items) if self.items else 100.0


def coverage(policy_path: Path, results: Sequence[CaseResult],
             policies: Policies | None = None) -> Coverage:
    """A clause is exercised when a case that ran asserts its status for a lead it applies
    to; an `on breach of` block, when a case asserts one of its actions."""
    policy, reason = (policies or Policies()).get(policy_path)
    if policy is None:
        return Coverage(policy_path, [], reason)
    mine = [r for r in results if r.policy_path is not None
            and r.policy_path.resolve() == policy_path.resolve()]
    asserted: dict[CoverageKey, set[str]] = {}
    for result in mine:
        for key, values in result.exercised.items():
            asserted.setdefault(key, set()).update(values)
    items = [CoverageItem(("clause", handoff.label, name), f"{handoff.label}: {item_line(item)}",
                          item.span.line, asserted.get(("clause", handoff.label, name), set()))
             for handoff, item, name in lead_clauses(policy)]
    for block in breach_blocks(policy):
        scope = f" in {block.scope_label}" if block.scope_label else ""
        items.append(CoverageItem(breach_key(block), f"on breach of {block.clause.name}{scope}",
                                  block.span.line, asserted.get(breach_key(block), set())))
    return Coverage(policy_path, items)


def _instant(value: object, zone: ZoneInfo) -> int | str:
    """A case's time as µs since the epoch (naive times are wall times in `zone`), or why it
    is not one. Raises OverflowError for a wall time with no instant (year 1, year 9999)."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            return to_us(value)
        return resolve_wall(to_us(value.replace(tzinfo=dt.UTC)), zone)
    if isinstance(value, dt.date):
        return resolve_wall(to_us(dt.datetime(value.year, value.month, value.day,
                                                 tzinfo=dt.UTC)), zone)
    if isinstance(value, str):
        parsed = parse_time(value)
        if isinstance(parsed, tuple):
            micros, naive = parsed
            return resolve_wall(micros, zone) if naive else micros
        return parsed
    return f"{type(value).__name__} {value} is not a date and time"
