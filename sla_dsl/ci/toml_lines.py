"""Where a key of a TOML document is written, so that a message can name the line.

`tomllib` gives values, not positions. Test cases and other small documents are written by
people who need "line 14" rather than "the third [[expect]]", so this reads the text once and
finds the lines of top-level keys, of each `[[array]]` table, and of keys inside those tables.
It understands the layouts people write (one key per line, `[[table]]` headers); for anything
cleverer (inline tables spread over lines, dotted keys) it falls back to the nearest line it
does know, which is still better than no line at all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_HEADER = re.compile(r"^\s*\[\[\s*([A-Za-z0-9_.-]+)\s*\]\]")
_TABLE = re.compile(r"^\s*\[\s*([A-Za-z0-9_.-]+)\s*\]")
_KEY = re.compile(r"^\s*(?:\"([^\"]+)\"|'([^']+)'|([A-Za-z0-9_-]+))\s*=")
_ERROR_LINE = re.compile(r"\(at line (\d+), column (\d+)\)")
_MULTILINE = ('"""', "'''")


@dataclass
class _Table:
    """One `[[name]]` table (or the top level): its header line and its keys' lines."""

    line: int | None
    keys: dict[str, int] = field(default_factory=dict)


class TomlLines:
    """Line numbers (1-based) of the keys of one TOML text."""

    def __init__(self, text: str) -> None:
        self.top = _Table(None)
        self.arrays: dict[str, list[_Table]] = {}
        current = self.top
        closing: str | None = None  # inside a multi-line string: its closing quotes
        for number, line in enumerate(text.split("\n"), start=1):
            if closing is not None:
                if _closes(line, closing):
                    closing = None
                continue
            header = _HEADER.match(line)
            if header:
                current = _Table(number)
                self.arrays.setdefault(header.group(1), []).append(current)
                continue
            if _TABLE.match(line):
                current = _Table(number)  # a plain [table]: its keys are not tracked
                continue
            key = _KEY.match(line)
            if key:
                name = next(g for g in key.groups() if g is not None)
                current.keys.setdefault(name, number)
                closing = _opens(line[key.end():])

    def key(self, name: str) -> int | None:
        """The line of a top-level key."""
        return self.top.keys.get(name)

    def table(self, array: str, index: int) -> int | None:
        """The header line of the `index`-th (0-based) `[[array]]`, else the `array =` line."""
        tables = self.arrays.get(array, [])
        if index < len(tables):
            return tables[index].line
        return self.key(array)

    def table_key(self, array: str, index: int, name: str) -> int | None:
        """The line of `name` inside the `index`-th `[[array]]`, else that table's line."""
        tables = self.arrays.get(array, [])
        if index < len(tables):
            return tables[index].keys.get(name, tables[index].line)
        return self.key(array)

    def string_start(self, name: str, text: str) -> int | None:
        """The line holding the first character of a top-level multi-line string's value: the
        line after the opening quotes when they end their line (TOML drops that newline)."""
        line = self.key(name)
        if line is None:
            return None
        written = text.split("\n")[line - 1]
        match = _KEY.match(written)
        rest = written[match.end():].strip() if match else ""
        for quotes in _MULTILINE:
            if rest.startswith(quotes):
                return line + 1 if not rest[len(quotes):].strip() else line
        return line


def error_line(message: str) -> int | None:
    """The line `tomllib` names in a decode error's message."""
    match = _ERROR_LINE.search(message)
    return int(match.group(1)) if match else None


def _opens(value: str) -> str | None:
    """The closing quotes still awaited after a value that starts a multi-line string."""
    value = value.strip()
    for quotes in _MULTILINE:
        if value.startswith(quotes) and not _closes(value[len(quotes):], quotes):
            return quotes
    return None


def _closes(text: str, quotes: str) -> bool:
    position = text.find(quotes)
    while position > 0 and quotes == '"""' and text[position - 1] == "\\":
        position = text.find(quotes, position + 1)
    return position >= 0
