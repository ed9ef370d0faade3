"""Inline suppression: `# sla: allow W504 because the EMEA desk is staffed separately`.

A warning is advice, and sometimes the agreement means exactly what it says. A suppression
comment silences the named warnings on one line, and says why, so that the next reader of the
policy sees the decision instead of rediscovering the warning:

- at the end of a line, it applies to that line;
- on a line of its own, it applies to the next line that is not blank or a comment;
- `allow` takes one or more warning codes, separated by commas, then `because` and a reason.

Errors cannot be allowed: a policy with an error is not an agreement yet. A suppression without
a reason, with a code that is not a warning, or that does not follow the form is itself a
warning (W508); one that silences nothing, because the warning is gone or the code is on the
wrong line, is too (W509), so suppressions do not outlive the problem they excused; that is
judged only once the policy has no errors, because some warnings wait for the errors to be
fixed. Neither can be suppressed.
"""

from __future__ import annotations

import re
from collections.abc import Container
from dataclasses import dataclass, field

from sla_dsl.diagnostics.codes import Code
from sla_dsl.diagnostics.diagnostic import Diagnostic
from sla_dsl.diagnostics.span import Span
from sla_dsl.language.parser import Comment

# The codes this module reports: one owner per code (sla_dsl/diagnostics/codes.py).
BAD_SUPPRESSION = Code(
    "W508", "bad-suppression", "a suppression comment with no reason or an unknown code",
    owner=__name__, doc="docs/rules/W508.md")
UNUSED_SUPPRESSION = Code(
    "W509", "unused-suppression", "a suppression that silences nothing",
    owner=__name__, doc="docs/rules/W509.md")
CODES = (BAD_SUPPRESSION, UNUSED_SUPPRESSION)


_MARK = re.compile(r"#\s*sla\s*:", re.IGNORECASE)
_FORM = re.compile(
    r"#\s*sla\s*:\s*allow\s+(?P<codes>[A-Za-z]\d+(?:\s*,\s*[A-Za-z]\d+)*)"
    r"(?:\s+because\b(?P<reason>.*))?\s*$", re.IGNORECASE)
_ABOUT_SUPPRESSIONS = frozenset({BAD_SUPPRESSION.code, UNUSED_SUPPRESSION.code})
FORM = "# sla: allow CODE because REASON"


@dataclass
class Suppression:
    """One `allow` comment: the codes it names, the line they apply to, and what it silenced."""

    comment: Comment
    codes: list[str]
    target: int
    used: set[str] = field(default_factory=set)

    @property
    def span(self) -> Span:
        end = self.comment.column + len(self.comment.text)
        return Span(line=self.comment.line, column=self.comment.column,
                    end_line=self.comment.line, end_column=end)


def _target_line(comment: Comment, lines: list[str]) -> int:
    if not comment.own_line:
        return comment.line
    for number in range(comment.line + 1, len(lines) + 1):
        text = lines[number - 1].strip()
        if text and not text.startswith("#"):
            return number
    return comment.line  # nothing below: it can silence nothing, and W509 says so


def _read(comment: Comment, lines: list[str], path: str, known: Container[str],
          problems: list[Diagnostic]) -> Suppression | None:
    if not _MARK.match(comment.text):
        return None
    span = Suppression(comment, [], 0).span
    form = _FORM.match(comment.text)
    if form is None:
        problems.append(Diagnostic(
            BAD_SUPPRESSION, "warning",
            "this 'sla:' comment is not a suppression the checker understands", path, span,
            f"write '{FORM}'"))
        return None
    named = [c.strip().upper() for c in form.group("codes").split(",")]
    allowed = []
    for code in named:
        if code not in known:
            problems.append(Diagnostic(
                BAD_SUPPRESSION, "warning", f"'{code}' is not a diagnostic code", path,
                span, "name a warning code, such as W504 (see docs/rules/)"))
        elif not code.startswith("W") or code in _ABOUT_SUPPRESSIONS:
            problems.append(Diagnostic(
                BAD_SUPPRESSION, "warning", f"{code} cannot be allowed", path, span,
                "only warnings about the agreement can be allowed; fix an error instead"))
        else:
            allowed.append(code)
    reason = (form.group("reason") or "").strip()
    if allowed and not reason:
        problems.append(Diagnostic(
            BAD_SUPPRESSION, "warning",
            f"a suppression needs a reason: why is {', '.join(allowed)} right here?", path,
            span, f"write '{FORM}'"))
    if not allowed:
        return None
    return Suppression(comment, allowed, _target_line(comment, lines))


def apply_suppressions(diagnostics: list[Diagnostic], comments: list[Comment],
                       lines: list[str], path: str, known: Container[str]) -> list[Diagnostic]:
    """The diagnostics left once every `allow` comment has silenced its line's warnings, plus
    the warnings about the suppressions themselves. `known` holds every code as text (the
    catalogue, gathered above this module): a suppression naming anything else is W508."""
    problems: list[Diagnostic] = []
    suppressions = [s for c in comments if (s := _read(c, lines, path, known, problems))]
    by_line: dict[int, list[Suppression]] = {}
    for suppression in suppressions:
        by_line.setdefault(suppression.target, []).append(suppression)
    kept = []
    for diagnostic in diagnostics:
        silencer = None
        if diagnostic.severity == "warning" and diagnostic.span is not None:
            silencer = next((s for s in by_line.get(diagnostic.span.line, [])
                             if diagnostic.code.code in s.codes), None)
        if silencer is None:
            kept.append(diagnostic)
        else:
            silencer.used.add(diagnostic.code.code)
    if any(d.severity == "error" for d in diagnostics):
        return kept + problems  # some warnings wait for the errors to go: none is unused yet
    for suppression in suppressions:
        for code in suppression.codes:
            if code not in suppression.used:
                problems.append(Diagnostic(
                    UNUSED_SUPPRESSION, "warning",
                    f"nothing to allow: there is no {code} on line {suppression.target}",
                    path, suppression.span,
                    "remove the suppression, or move it to the line the warning is on"))
    return kept + problems
