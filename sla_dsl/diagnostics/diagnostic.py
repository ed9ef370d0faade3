"""Diagnostics: one data structure, rendered as text, JSON, GitHub annotations or SARIF.

Every output format is a view of `Diagnostic.to_dict()` plus the source text for the snippet,
so a new format never needs a new code path in the checker.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from sla_dsl.diagnostics import github, sarif
from sla_dsl.diagnostics.codes import Code
from sla_dsl.diagnostics.span import Span
from sla_dsl.printable import printable

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Diagnostic:
    code: Code
    severity: Severity
    message: str
    path: str
    span: Span | None = None
    help: str | None = None
    notes: tuple[str, ...] = field(default=())

    @property
    def sort_key(self) -> tuple:
        line, column = (self.span.line, self.span.column) if self.span else (0, 0)
        return (self.path, line, column, self.code.code)

    def to_dict(self) -> dict:
        span = self.span
        return {
            "file": self.path,
            "line": span.line if span else None,
            "column": span.column if span else None,
            "end_line": span.end_line if span else None,
            "end_column": span.end_column if span else None,
            "severity": self.severity,
            "code": self.code.code,
            "name": self.code.name,
            "message": self.message,
            "help": self.help,
            "notes": list(self.notes),
        }


class Reporter:
    """Collects the diagnostics of one file so that every check can report and carry on."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.diagnostics: list[Diagnostic] = []

    def error(
        self, code: Code, span: Span | None, message: str, help: str | None = None,
        notes: tuple[str, ...] = (),
    ) -> None:
        self.diagnostics.append(Diagnostic(code, "error", message, self.path, span, help, notes))

    def warning(
        self, code: Code, span: Span | None, message: str, help: str | None = None,
        notes: tuple[str, ...] = (),
    ) -> None:
        self.diagnostics.append(Diagnostic(code, "warning", message, self.path, span, help, notes))

    @property
    def has_errors(self) -> bool:
        return any(d.severity == "error" for d in self.diagnostics)


# The most characters of a line shown under a diagnostic. A policy may hold a line of 256 KiB,
# and printing it whole under each of its findings made the output grow with their product.
MOST_SHOWN = 160


def _window(line: str, start: int, end: int) -> tuple[str, int, int]:
    """MOST_SHOWN characters of a long line around the caret, with `...` where it is cut."""
    left = max(0, min(start - 40, len(line) - MOST_SHOWN))
    before = "..." if left > 0 else ""
    after = "..." if left + MOST_SHOWN < len(line) else ""
    shown = before + line[left:left + MOST_SHOWN] + after
    start = start - left + len(before)
    end = min(end - left, MOST_SHOWN) + len(before)
    return shown, start, end


# Characters a terminal draws with no width of their own that are not combining marks.
_ZERO_WIDTH = frozenset("\u200b\u200c\u200d\u2060\ufeff")


# A control character in the line shown (a carriage return inside a string, the line breaks
# of a file saved with CR alone) as its symbol, one column wide like the character it stands
# for: written as it is, a CR sends the terminal back to the line's start and the caret
# below points at the wrong text.
_CONTROL_SHOWN = {code: 0x2400 + code for code in range(0x20)} | {0x7F: 0x2421}


def _char_width(char: str) -> int:
    if (unicodedata.combining(char) or char in _ZERO_WIDTH
            or unicodedata.category(char) in ("Mn", "Me")):  # U+FE0F is Mn of class 0
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def _columns(line: str, upto: int) -> int:
    """The terminal columns the first `upto` characters of `line` take: East Asian wide and
    fullwidth characters (emoji among them) two, combining marks none. A caret past the end
    of the line (a file that ends too soon) keeps its distance, one column a character."""
    return sum(map(_char_width, line[:upto])) + max(0, upto - len(line))


def _snippet(diagnostic: Diagnostic, lines: list[str]) -> list[str]:
    span = diagnostic.span
    if span is None or not (1 <= span.line <= len(lines)):
        return []
    source_line = lines[span.line - 1].expandtabs(4).rstrip("\r\n").translate(_CONTROL_SHOWN)
    raw = lines[span.line - 1]
    start = len(raw[: span.column - 1].expandtabs(4))
    if span.end_line == span.line:
        end = len(raw[: max(span.end_column - 1, span.column)].expandtabs(4))
    else:
        end = len(source_line.rstrip())
    if len(source_line) > MOST_SHOWN:
        source_line, start, end = _window(source_line, start, end)
    # Spans count characters (code points, as in JSON and SARIF); the caret counts columns.
    indent = _columns(source_line, start)
    width = max(_columns(source_line, end) - indent, 1)
    gutter = " " * len(str(span.line))
    caret = " " * indent + "^" * width
    if diagnostic.help:
        caret += " " + diagnostic.help
    return [f"{gutter} |", f"{span.line} | {source_line}", f"{gutter} | {caret}"]


def render_text(diagnostic: Diagnostic, lines: list[str]) -> str:
    """The compiler-style form a person reads: location, message, the line with a caret."""
    where = diagnostic.path
    if diagnostic.span:
        where += f":{diagnostic.span.line}:{diagnostic.span.column}"
    out = [f"{where}: {diagnostic.severity}: {diagnostic.message} [{diagnostic.code.code}]"]
    snippet = _snippet(diagnostic, lines)
    out.extend(snippet)
    if diagnostic.help and not snippet:
        out.append(f"  = help: {diagnostic.help}")
    out.extend(f"  = note: {note}" for note in diagnostic.notes)
    return printable("\n".join(out))  # a value quoted from the policy, control characters too


def render_github(diagnostic: Diagnostic) -> str:
    """A workflow command line, so that GitHub shows the diagnostic on the pull request."""
    span = diagnostic.span
    message = diagnostic.message + (f"\nhelp: {diagnostic.help}" if diagnostic.help else "")
    message += "".join(f"\nnote: {note}" for note in diagnostic.notes)  # W503's example lead
    return github.annotation(
        "error" if diagnostic.severity == "error" else "warning", diagnostic.path, message,
        title=diagnostic.code.code, line=span.line if span else None,
        column=span.column if span else None, end_line=span.end_line if span else None,
        end_column=span.end_column if span else None)


def render_json(diagnostics: list[Diagnostic]) -> str:
    return json.dumps([d.to_dict() for d in diagnostics], indent=2)


def _sarif_rule(code: Code) -> dict:
    return sarif.rule(code.code, code.summary, name=code.name,
                      level="warning" if code.code.startswith("W") else "error",
                      help_text=f"{code.summary}. Each code is described in docs/rules/ of "
                                "sla_dsl.")


def _sarif_result(diagnostic: Diagnostic, index: int) -> dict:
    text = diagnostic.message
    if diagnostic.help:
        text += f"\nhelp: {diagnostic.help}"
    text += "".join(f"\nnote: {note}" for note in diagnostic.notes)
    region = None
    if diagnostic.span:
        span = diagnostic.span
        region = {"startLine": span.line, "startColumn": span.column,
                  "endLine": span.end_line, "endColumn": span.end_column}
    return sarif.result(diagnostic.code.code, diagnostic.severity, text, diagnostic.path,
                        region=region, rule_index=index)


def sarif_log(diagnostics: list[Diagnostic], codes: Iterable[Code],
              tool_version: str | None = None) -> dict:
    """A SARIF 2.1.0 log with one run, its rules the whole code catalogue (`codes`, passed in
    from `sla_dsl.catalogue`, which sits above this module), so that code scanning can show the
    name and summary of any code, including ones not found this time."""
    catalogue = list(codes)
    index = {code.code: i for i, code in enumerate(catalogue)}
    for diagnostic in diagnostics:  # a code made outside the catalogue still gets a rule
        if diagnostic.code.code not in index:
            index[diagnostic.code.code] = len(catalogue)
            catalogue.append(diagnostic.code)
    return sarif.log("sla", [_sarif_rule(code) for code in catalogue],
                     [_sarif_result(d, index[d.code.code]) for d in diagnostics],
                     version=tool_version, column_kind="unicodeCodePoints")


def render_sarif(diagnostics: list[Diagnostic], codes: Iterable[Code]) -> str:
    """SARIF 2.1.0 text for GitHub code scanning and other SARIF viewers."""
    return json.dumps(sarif_log(diagnostics, codes), indent=2)
