"""Who is absent when: a CSV of `rep,start,end[,reason]` rows (issue 15, item 6).

A whole-day absence gives ISO dates (`2027-03-02,2027-03-03`: both days, from the start of
the first to the end of the last); a partial-day block gives ISO date-times
(`2027-03-02T13:00,2027-03-02T17:00`: to the end instant, not past it). Times without an
offset are read in the policy's timezone. A bad row never raises: it is a `Reject` with its
row number (1-based, the header not counted) and why, and the counts say rows read =
accepted + rejected.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

from sla_dsl.business_time.zones import day_start_us, read_iso
from sla_dsl.history.columns import (
    SUPPORTED_TIMES,
    HistoryError,
    Reject,
    RowCounts,
    in_supported_range,
)
from sla_dsl.history.csv_cells import header_problem, row_cells, row_problem
from sla_dsl.input_files import InputFileError, read_input_text

COLUMNS = ("rep", "start", "end")
MOST_ABSENCES_BYTES = 32 << 20  # hundreds of thousands of rows; docs/limits.md


@dataclass
class Absences:
    """Absence spans as columns: rep (str), begin and end (µs, UTC, end excluded), reason
    (str or None), and the text the file gave for start and end (for the clock audit)."""

    rep: np.ndarray
    begin: np.ndarray
    end: np.ndarray
    reason: np.ndarray
    said: list[tuple[str, str]] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    rows_read: int = 0
    source: str = ""

    @property
    def counts(self) -> RowCounts:
        return RowCounts.of(self.rows_read, self.rejects)

    def __len__(self) -> int:
        return len(self.rep)

    def of(self, rep: str) -> np.ndarray:
        """The indexes of one rep's absences (names compared without case)."""
        return np.flatnonzero(np.char.lower(self.rep.astype(str)) == rep.lower()) \
            if len(self.rep) else np.zeros(0, dtype=np.int64)


def _instant(text: str, zone: ZoneInfo, end: bool) -> int:
    """One cell as µs: a date is its local midnight (the next day's for an end: whole days
    include the last), a date-time is read in `zone` unless it carries an offset."""
    text = text.strip()
    if len(text) == 10:
        day = dt.date.fromisoformat(text)
        return day_start_us(day + dt.timedelta(days=1) if end else day, zone)
    return read_iso(text, zone)


def _row(raw: dict[str, str], zone: ZoneInfo) -> tuple[str, int, int] | str:
    """A row's rep, begin and end, or why it is rejected."""
    rep = (raw.get("rep") or "").strip()
    if not rep:
        return "no rep named"
    cells = []
    for name in ("start", "end"):
        text = (raw.get(name) or "").strip()
        if not text:
            return f"no {name}"
        try:
            cells.append(_instant(text, zone, name == "end"))
        except (ValueError, OverflowError):
            return f"{name} {text!r} is not an ISO date (2027-03-02) or date-time " \
                   "(2027-03-02T13:00)"
        if not in_supported_range(cells[-1]):
            return f"{name} {text!r} is outside the supported times ({SUPPORTED_TIMES})"
    if cells[1] <= cells[0]:
        return "ends before it starts"
    return rep, cells[0], cells[1]


def read_absences(path: str | Path, timezone: str) -> Absences:
    """The absences file at `path`, times without an offset in `timezone`. Raises
    `HistoryError` when the file cannot be read or lacks a column; a bad row is a reject."""
    path = Path(path)
    zone = ZoneInfo(timezone)
    try:
        text = read_input_text(path, MOST_ABSENCES_BYTES, "the absences file")
    except InputFileError as error:
        raise HistoryError(str(error)) from None
    try:
        with io.StringIO(text, newline="") as handle:
            reader = csv.DictReader(handle)
            header = [(h or "").strip().lower() for h in reader.fieldnames or []]
            missing = [c for c in COLUMNS if c not in header]
            if missing:
                raise HistoryError(f"{path}: the absences file has no {', '.join(missing)} "
                                   "column\n  help: its header is rep,start,end[,reason]")
            if problem := header_problem(header):
                raise HistoryError(f"{path}: {problem}\n  help: its header is "
                                   "rep,start,end[,reason]")
            reader.fieldnames = header
            rows = list(reader)
    except csv.Error as error:
        raise HistoryError(f"{path}: the absences file is not UTF-8 CSV: {error}") from None
    reps, begins, ends, reasons, said, rejects = [], [], [], [], [], []
    for number, raw in enumerate(rows, 1):
        wide = row_problem(raw, len(header))
        raw = row_cells(raw)
        found = wide or _row(raw, zone)
        if isinstance(found, str):
            rejects.append(Reject(str(path), number, found, raw))
            continue
        reps.append(found[0])
        begins.append(found[1])
        ends.append(found[2])
        reasons.append((raw.get("reason") or "").strip() or None)
        said.append((raw["start"].strip(), raw["end"].strip()))
    return Absences(np.array(reps, dtype=object), np.array(begins, dtype=np.int64),
                    np.array(ends, dtype=np.int64), np.array(reasons, dtype=object), said,
                    rejects, len(rows), str(path))
