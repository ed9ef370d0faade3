"""A policy file, from bytes to a checked `Policy`: the one entry point every command uses."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from pathlib import Path

from sla_dsl.catalogue import CATALOGUE
from sla_dsl.checks import run_checks
from sla_dsl.checks.calendars import AMBIGUOUS_CALENDAR, NEVER_OPEN, NO_CALENDAR
from sla_dsl.checks.header import MISSING_TIMEZONE
from sla_dsl.checks.names import UNDECLARED_PARTY, UNKNOWN_NAME, WRONG_KIND
from sla_dsl.diagnostics.diagnostic import Diagnostic, Reporter, render_text
from sla_dsl.diagnostics.span import Span
from sla_dsl.language.builder import build_policy, build_statements
from sla_dsl.language.formatter import format_policy, header_line
from sla_dsl.language.model import Policy
from sla_dsl.language.parser import comments, parse_source
from sla_dsl.language.source import Source, decode_policy, read_policy, refuse_empty
from sla_dsl.language.suppressions import apply_suppressions


@dataclass
class CheckedPolicy:
    """What checking a file found: the policy when it could be built, and every diagnostic."""

    path: str
    source: Source | None
    policy: Policy | None
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "warning"]

    @property
    def ok(self) -> bool:
        return self.policy is not None and not self.errors

    @property
    def lines(self) -> list[str]:
        return self.source.lines if self.source else []


class PolicyError(Exception):
    """Raised by `load_policy` so that library callers cannot use a broken policy by mistake.

    Its message shows every error as `sla check` prints it (line, caret, fix), since in a
    notebook the exception is all the user sees; `diagnostics` holds them as objects."""

    def __init__(self, checked: CheckedPolicy) -> None:
        self.checked = checked
        errors = checked.errors
        shown = "\n".join(render_text(d, checked.lines) for d in errors)
        count = f"{len(errors)} error{'s' if len(errors) != 1 else ''}"
        super().__init__(f"{checked.path}: the policy has {count}; fix it first ('sla check')"
                         + (f"\n{shown}" if shown else ""))

    @property
    def diagnostics(self) -> list[Diagnostic]:
        return self.checked.diagnostics


def check_source(source: Source) -> CheckedPolicy:
    """Every error of a file at once. Where some statements do not parse, the rest are still
    checked for meaning, but a finding that a broken statement may explain (a name it would
    have declared, a calendar it would have opened) is held back until it parses."""
    empty = refuse_empty(source)
    if empty is not None:
        return CheckedPolicy(source.path, source, None, [empty])
    reporter = Reporter(source.path)
    policy, damage = _build(source, reporter)
    if damage is None:
        run_checks(policy, reporter)
        # only a whole policy: see suppressions.py
        found = apply_suppressions(reporter.diagnostics, comments(source), source.lines,
                                   source.path, CATALOGUE)
        diagnostics = _sorted(found, source.lines)
        return CheckedPolicy(source.path, source, policy, diagnostics)
    meaning = Reporter(source.path)
    run_checks(policy, meaning)
    reporter.diagnostics.extend(d for d in meaning.diagnostics if not damage.explains(d))
    return CheckedPolicy(source.path, source, None, _sorted(reporter.diagnostics, source.lines))


_NAME_CODES = frozenset({UNKNOWN_NAME, UNDECLARED_PARTY, WRONG_KIND})
_CALENDAR_CODES = frozenset({NO_CALENDAR, AMBIGUOUS_CALENDAR,
                             MISSING_TIMEZONE, NEVER_OPEN})
_QUOTED = re.compile(r"'([A-Za-z_][A-Za-z0-9_]*)'")


@dataclass
class _Damage:
    """What the statements that did not build might have said."""

    words: set[str]
    keywords: set[str]

    def explains(self, diagnostic: Diagnostic) -> bool:
        if diagnostic.severity == "warning":
            return True  # advice about a policy that is not all there yet
        if diagnostic.code in _NAME_CODES:
            return any(name in self.words for name in _QUOTED.findall(diagnostic.message))
        if diagnostic.code in _CALENDAR_CODES:
            return bool(self.keywords & {"calendar", "timezone"})
        return False


def _build(source: Source, reporter: Reporter) -> tuple[Policy, _Damage | None]:
    parsed = parse_source(source, reporter)
    policy, spoiled = build_policy(parsed.trees, reporter, len(source.lines))
    for fragment in parsed.fragments:
        build_statements(fragment, reporter)
    if not (parsed.recovered or spoiled or reporter.has_errors):
        return policy, None
    texts = parsed.broken + [" ".join(header_line(s)) for s in spoiled]
    words = {w for text in texts for w in re.findall(r"[A-Za-z_]\w*", text)}
    keywords = {text.split()[0] for text in texts if text.split()}
    return policy, _Damage(words, keywords)


def format_source(source: Source) -> tuple[str | None, list[Diagnostic]]:
    """The canonical text, or None with the errors that stop a file from being formatted.

    Only errors of form stop it: a policy with an unknown name still has one layout."""
    reporter = Reporter(source.path)
    policy, damage = _build(source, reporter)
    if damage is not None:
        return None, _sorted(reporter.diagnostics, source.lines)
    return format_policy(policy, comments(source), source.lines), []


def parse_policy(source: Source, reporter: Reporter) -> Policy | None:
    """The policy if its form is right, for tools that check meaning themselves."""
    policy, damage = _build(source, reporter)
    return policy if damage is None else None


def check_text(text: str, path: str = "<text>") -> CheckedPolicy:
    decoded = decode_policy(path, text.encode("utf-8"))
    if isinstance(decoded, Diagnostic):
        return CheckedPolicy(path, None, None, [decoded])
    return check_source(decoded)


def check_file(path: str | Path) -> CheckedPolicy:
    source = read_policy(path)
    if isinstance(source, Diagnostic):
        return CheckedPolicy(str(path), None, None, [source])
    return check_source(source)


def check_policy(path_or_text: str | Path) -> CheckedPolicy:
    """A policy checked from a file or from its text: a `Path`, or a `str` without a line
    break, names a file; a `str` with one is the policy itself (a notebook cell's policy)."""
    if isinstance(path_or_text, str) and "\n" in path_or_text:
        return check_text(path_or_text)
    return check_file(path_or_text)


def check(path_or_text: str | Path) -> list[Diagnostic]:
    """Every diagnostic of a policy (errors and warnings, in source order), as `sla check`
    reports them; an empty list is a clean policy."""
    return check_policy(path_or_text).diagnostics


def load_policy(path_or_text: str | Path) -> Policy:
    """A checked policy for the evaluator, planner and simulator, from a file or its text (as
    `check_policy` tells them apart); raises `PolicyError` on any error."""
    checked = check_policy(path_or_text)
    if not checked.ok:
        raise PolicyError(checked)
    assert checked.policy is not None
    return checked.policy


def _sorted(diagnostics: list[Diagnostic], lines: list[str]) -> list[Diagnostic]:
    """In source order, and inside the file: recovery parses pieces with a closing brace or
    newline added, and a finding at those must still point at the file's last character."""
    return sorted((_inside(d, lines) for d in diagnostics), key=lambda d: d.sort_key)


def _inside(diagnostic: Diagnostic, lines: list[str]) -> Diagnostic:
    span = diagnostic.span
    if span is None or not lines:
        return diagnostic
    last = len(lines) if lines[-1] else max(len(lines) - 1, 1)

    def clamp(line: int, column: int) -> tuple[int, int]:
        if line > last:
            return last, len(lines[last - 1]) + 1
        return line, min(column, len(lines[line - 1]) + 1)

    line, column = clamp(span.line, span.column)
    end_line, end_column = clamp(span.end_line, span.end_column)
    if (end_line, end_column) <= (line, column):
        end_line, end_column = line, column + 1
    clamped = Span(line=line, column=column, end_line=end_line, end_column=end_column)
    return diagnostic if clamped == span else dataclasses.replace(diagnostic, span=clamped)
