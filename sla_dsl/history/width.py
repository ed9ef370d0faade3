"""How wide a history file may be: its columns (a CSV header, a Parquet schema, the distinct
keys of a JSON Lines file) and, for JSON Lines, its table of lines by keys.

Every reader holds a file as a table, one column per name. A wide header costs memory and time
per column whatever the rows, and a JSON Lines file whose lines each bring new keys is a table
of lines x keys mostly empty: 20 MB of short lines, each thousandth with a key of its own, is
a table of 300 million cells. So both are measured before any table is built, and a file past
them is refused with its figures (docs/limits.md), never read into memory.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa

from sla_dsl.history.columns import HistoryError

MOST_COLUMNS = 10_000
"""Columns of one history file (a CRM's widest export has a few thousand fields)."""

LEAST_CELL_BUDGET = 1 << 24
"""Cells a JSON Lines file may always make (lines x distinct keys): 16 million, or its size in
bytes when larger. A file whose lines each carry every key spends at least 6 bytes a cell
(`"k":1,`), so no such file comes near it."""

_PIECE_BYTES = 1 << 16
_PIECE_LINES = 1000


def repeated(names: Sequence[str]) -> str | None:
    """The first name that appears twice, or None."""
    seen: set[str] = set()
    for name in names:
        if name in seen:
            return name
        seen.add(name)
    return None


def check_columns(path: Path, names: Sequence[str], what: str) -> None:
    """Raises HistoryError for a file of more than MOST_COLUMNS columns, or one naming a column
    twice (a reader keeps one column per name, so which value a row has would be a guess).
    `what` says where the names are (`the header`, `the schema`)."""
    if len(names) > MOST_COLUMNS:
        raise HistoryError(f"{path}: {what} names {len(names):,} columns; a history file may "
                           f"have at most {MOST_COLUMNS:,}\n  help: export only the columns "
                           f"the policy and the mapping use")
    unnamed = [i for i, name in enumerate(names, 1) if name == ""]
    if len(unnamed) > 1:
        shown = ", ".join(f"{i:,}" for i in unnamed[:5]) + (", ..." if len(unnamed) > 5 else "")
        raise HistoryError(f"{path}: {what} leaves {len(unnamed):,} columns without a name "
                           f"(columns {shown})\n  help: name them in the export, or leave them "
                           f"out of it")
    twice = repeated(names)
    if twice is not None:
        raise HistoryError(f"{path}: {what} names the column `{twice}` twice\n  help: rename "
                           f"one of them")


def cell_budget(data: bytes) -> int:
    return max(len(data), LEAST_CELL_BUDGET)


def check_json_shape(path: Path, lines: int, keys: int, data: bytes) -> None:
    """Raises HistoryError when `lines` lines with `keys` distinct keys between them are more
    than a JSON Lines file may make (MOST_COLUMNS keys, `cell_budget` cells)."""
    if keys > MOST_COLUMNS:
        raise HistoryError(f"{path}: its records name more than {MOST_COLUMNS:,} different "
                           f"keys\n  help: a history file may have at most {MOST_COLUMNS:,} "
                           f"columns; export only the fields the policy uses")
    if lines * keys > cell_budget(data):
        raise HistoryError(f"{path}: its first {lines:,} lines name {keys:,} different keys "
                           f"between them, a table of {lines * keys:,} values, more than the "
                           f"{cell_budget(data):,} a file of {len(data):,} bytes may make\n"
                           f"  help: most records name keys no other record has; write the "
                           f"fields every record shares as keys, and the rest as values")


def check_json_keys(path: Path, data: bytes, text: bytes | None = None) -> int:
    """The distinct keys of a JSON Lines file's `text` (default: all its `data`), counted in
    pieces small enough that no piece can make a large table (at most 1,000 lines of at most
    64 KiB, or one long line), stopping at the first piece that takes the file past
    `check_json_shape`. A piece Arrow cannot read is counted by Python's parser, a line at a
    time."""
    import pyarrow.json as pj

    one_thread = pj.ReadOptions(use_threads=False)  # a piece is too small to share out
    keys: set[str] = set()
    lines = 0
    for piece in _pieces(data if text is None else text):
        try:
            keys.update(pj.read_json(pa.BufferReader(piece), read_options=one_thread).schema
                        .names)
        except (pa.ArrowInvalid, UnicodeDecodeError):
            keys.update(_keys_of_lines(piece))
        lines += line_count(piece)
        check_json_shape(path, lines, len(keys), data)
    return len(keys)


def line_count(data: bytes) -> int:
    """Lines of a JSON Lines file, empty ones included (a bound on its records)."""
    return data.count(b"\n") + (not data.endswith(b"\n"))


def _pieces(data: bytes) -> Iterator[bytes]:
    """Whole lines, at most _PIECE_LINES of them in at most _PIECE_BYTES (or one longer
    line)."""
    start = 0
    while start < len(data):
        window = data[start:start + _PIECE_BYTES]
        end = window.rfind(b"\n") + 1 if start + _PIECE_BYTES < len(data) else len(window)
        if end == 0:  # one line longer than a piece
            stop = data.find(b"\n", start)
            end = (len(data) if stop < 0 else stop + 1) - start
        breaks = np.flatnonzero(np.frombuffer(window[:end], dtype=np.uint8) == ord("\n"))
        if len(breaks) > _PIECE_LINES:
            end = int(breaks[_PIECE_LINES - 1]) + 1
        yield data[start:start + end]
        start += end


def _keys_of_lines(piece: bytes) -> set[str]:
    import json

    keys: set[str] = set()
    for line in piece.split(b"\n"):
        try:
            value = json.loads(line)
        except (ValueError, RecursionError):  # not JSON, not UTF-8: a rejected row
            continue
        if isinstance(value, dict):
            keys.update(value)
    return keys
