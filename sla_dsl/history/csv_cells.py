"""CSV cells as the tool writes and reads them: safe to open in a spreadsheet, and read back the
same.

Lead histories carry text from web forms (titles, names, notes, lead ids), and the tool writes
some of it back out: `--rejects` echoes rejected rows, `sla simulate --emit-history` and the
synthetic histories write events. A spreadsheet runs a cell that starts with `=`, `+`, `-`,
`@`, a tab or a carriage return as a formula (CSV injection), so, as OWASP recommends, every
CSV writer puts a single quote before such a cell, through `neutralised`. Numbers (`-5`,
`+1.5e3`) are left alone: a spreadsheet reads them as numbers, and a history's amounts stay
numbers.

Reading undoes it (`restored`): a cell of one or more quotes followed by one of those
characters loses its first quote, so `'=SUM(A1)` reads as `=SUM(A1)`. A cell that itself
starts with a quote before such a character is written with one quote more, so writing then
reading gives back every cell exactly, and an emitted history evaluates as the simulator's
own. Any other cell starting with a quote (`'hello`) is read as it is.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_QUOTED = re.compile(r"'+[=+\-@\t\r]")
QUOTED_PATTERN = r"^'('*[=+\-@\t\r])"
"""`restored` as a regular expression for Arrow: the cell's first quote, and the rest kept."""


def neutralised(cell: str) -> str:
    """The cell as a CSV file the tool writes holds it."""
    if (cell.startswith(FORMULA_START) and not _NUMBER.fullmatch(cell)) or _QUOTED.match(cell):
        return "'" + cell
    return cell


def restored(cell: str) -> str:
    """The cell as it was before `neutralised`."""
    return cell[1:] if _QUOTED.match(cell) else cell


def header_problem(header: list[str]) -> str | None:
    """Why a side file's header (absences, reps) cannot be read, or None: a column named
    twice, of which `csv.DictReader` kept the last value without a word."""
    twice = next((name for i, name in enumerate(header) if name in header[:i]), None)
    return None if twice is None else f"the header names column `{twice}` twice"


def row_problem(row: dict, width: int) -> str | None:
    """Why a side file's row cannot be read whole, or None: values past the header's last
    column (an unquoted comma in `mon-fri 08:00-12:00, 13:00-17:00`) were dropped without a
    word. Empty values there are ignored, as the history reader ignores them."""
    extra = [value for value in row.get(None) or () if value.strip()]
    if not extra:
        return None
    return (f"the row has {width + len(row[None])} values, the header {width} columns (a "
            f"value with a comma in it needs quotes)")


def row_cells(row: dict) -> dict[str, str]:
    """A `csv.DictReader` row as its cells: a long row's values past the header (key None)
    left out, and a short row's missing ones (None) empty, where a rejected row's raw values
    said the word None."""
    return {k: "" if v is None else v for k, v in row.items() if k is not None}


def write_csv_rows(path: Path | str, header: list[str],
                   rows: Iterable[Iterable[object]]) -> None:
    """A CSV file, every cell (header too) `neutralised`; `None` is an empty cell. Lines end in
    `\n`; a cell holding a comma, a quote or a line break (`\r` too, which the csv module leaves
    bare when lines end in `\n` alone, splitting the row for every reader) is quoted."""
    with Path(path).open("w", encoding="utf-8", newline="") as out:
        out.write(_line(header))
        for row in rows:
            out.write(_line(row))


def csv_text(header: list[str], rows: Iterable[Iterable[object]]) -> str:
    """What `write_csv_rows` writes, as text: for a CSV printed on stdout or sent on."""
    return _line(header) + "".join(_line(row) for row in rows)


def _line(cells: Iterable[object]) -> str:
    fields = [_field(neutralised("" if cell is None else str(cell))) for cell in cells]
    return (",".join(fields) if fields != [""] else '""') + "\n"


def _field(cell: str) -> str:
    if any(mark in cell for mark in _NEEDS_QUOTES):
        return '"' + cell.replace('"', '""') + '"'
    return cell


_NEEDS_QUOTES = (",", '"', "\r", "\n")
