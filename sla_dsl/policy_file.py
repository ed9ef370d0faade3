"""A policy file, from bytes to a checked `Policy`: the one entry point every command uses."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sla_dsl import codes
from sla_dsl.builder import build_policy
from sla_dsl.checks import run_checks
from sla_dsl.diagnostics import Diagnostic, Reporter
from sla_dsl.formatter import format_policy
from sla_dsl.model import Policy
from sla_dsl.parser import comments, parse_source
from sla_dsl.source import Source, decode_policy, read_policy


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
    """Raised by `load_policy` so that library callers cannot use a broken policy by mistake."""

    def __init__(self, checked: CheckedPolicy) -> None:
        self.checked = checked
        first = checked.errors[0] if checked.errors else None
        super().__init__(f"{checked.path}: {first.message}" if first else checked.path)


def check_source(source: Source) -> CheckedPolicy:
    """Errors of form (syntax, values) come first; meaning is checked once the form is right,
    so that a half-parsed file does not drown its real mistake in follow-on errors."""
    reporter = Reporter(source.path)
    if not source.text.strip() or all(
        not line.strip() or line.lstrip().startswith("#") for line in source.lines
    ):
        reporter.error(codes.EMPTY, None, "the policy is empty",
                       'start with a title line such as: sla "Marketing and sales"')
        return CheckedPolicy(source.path, source, None, reporter.diagnostics)
    policy = _parse(source, reporter)
    if policy is None:
        return CheckedPolicy(source.path, source, None, _sorted(reporter.diagnostics))
    run_checks(policy, reporter)
    return CheckedPolicy(source.path, source, policy, _sorted(reporter.diagnostics))


def _parse(source: Source, reporter: Reporter) -> Policy | None:
    parsed = parse_source(source, reporter)
    policy = build_policy(parsed.trees, reporter, len(source.lines))
    if parsed.recovered or reporter.has_errors:
        return None
    return policy


def format_source(source: Source) -> tuple[str | None, list[Diagnostic]]:
    """The canonical text, or None with the errors that stop a file from being formatted.

    Only errors of form stop it: a policy with an unknown name still has one layout."""
    reporter = Reporter(source.path)
    policy = _parse(source, reporter)
    if policy is None:
        return None, _sorted(reporter.diagnostics)
    return format_policy(policy, comments(source), source.lines), []


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


def load_policy(path: str | Path) -> Policy:
    """A checked policy for the evaluator, planner and simulator; raises on any error."""
    checked = check_file(path)
    if not checked.ok:
        raise PolicyError(checked)
    assert checked.policy is not None
    return checked.policy


def _sorted(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    return sorted(diagnostics, key=lambda d: d.sort_key)
