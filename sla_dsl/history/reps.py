"""Each rep's own calendar: a CSV of `rep,timezone,hours` rows (issue 15, item 6).

`timezone` is an IANA name (`America/Los_Angeles`); `hours` is written as a calendar's `open`
line is, without the word (`mon-fri 09:00-17:00`, `mon-thu 08:00-16:00; fri 08:00-12:00`).
A rep may have several rows: their hours add up (a split shift, a short Friday), and their
timezone must agree. Either cell may be empty: a rep with only a timezone works the policy
calendar's hours in their own zone, one with only hours works them in the zone the export
gives (Salesforce's User.TimeZoneSidKey) or else the calendar's. A bad row never raises: it
is a `Reject` with its row number (1-based, the header not counted) and why, and the counts
say rows read = accepted + rejected.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfoNotFoundError

from sla_dsl.business_time.rep_hours import RepHours, parse_hours
from sla_dsl.business_time.zones import iana_zone
from sla_dsl.history.columns import HistoryError, Reject, RowCounts
from sla_dsl.history.csv_cells import header_problem, row_cells, row_problem
from sla_dsl.input_files import InputFileError, read_input_text

COLUMNS = ("rep", "timezone", "hours")
MOST_REPS_BYTES = 4 << 20  # tens of thousands of reps; docs/limits.md
HEADER_HELP = "its header is rep,timezone,hours (hours like 'mon-fri 09:00-17:00')"


@dataclass
class Reps:
    """The reps file as read: each rep's `RepHours` (keyed by the name as first written), the
    rejected rows, and how many rows there were."""

    hours: dict[str, RepHours] = field(default_factory=dict)
    rejects: list[Reject] = field(default_factory=list)
    rows_read: int = 0
    source: str = ""

    @property
    def counts(self) -> RowCounts:
        return RowCounts.of(self.rows_read, self.rejects)


def _zone(text: str) -> str | None:
    """The IANA zone a cell names, or raise ValueError."""
    if not text:
        return None
    try:
        return iana_zone(text).key
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"timezone {text!r} is not an IANA time zone (such as "
                         "America/Los_Angeles)") from None


class _Rep:
    def __init__(self, name: str) -> None:
        self.name, self.zone, self.zone_row = name, None, 0
        self.weekly: dict[int, list[tuple[int, int]]] = {}
        self.rows: list[int] = []


def _row(raw: dict[str, str], number: int, seen: dict[str, _Rep]) -> str | None:
    """Take one row into `seen`, or say why it is rejected."""
    name = (raw.get("rep") or "").strip()
    if not name:
        return "no rep named"
    zone_text = (raw.get("timezone") or "").strip()
    hours_text = (raw.get("hours") or "").strip()
    if not zone_text and not hours_text:
        return "neither a timezone nor hours"
    try:
        zone = _zone(zone_text)
    except ValueError as error:
        return str(error)
    try:
        weekly = parse_hours(hours_text) if hours_text else {}
    except ValueError as error:
        return f"hours {error}"
    rep = seen.get(name.lower())
    if rep is not None and zone and rep.zone and zone != rep.zone:
        return f"timezone {zone} differs from row {rep.zone_row}'s {rep.zone} for {rep.name}"
    rep = seen.setdefault(name.lower(), _Rep(name))
    if zone and not rep.zone:
        rep.zone, rep.zone_row = zone, number
    for day, spans in weekly.items():
        rep.weekly.setdefault(day, []).extend(spans)
    rep.rows.append(number)
    return None


def read_reps(path: str | Path) -> Reps:
    """The reps file at `path`. Raises `HistoryError` when the file cannot be read or lacks a
    column; a bad row is a reject."""
    path = Path(path)
    try:
        text = read_input_text(path, MOST_REPS_BYTES, "the reps file")
    except InputFileError as error:
        raise HistoryError(str(error)) from None
    return _read(io.StringIO(text, newline=""), str(path), path.name)


def reps_from_text(text: str, source: str) -> Reps:
    """The reps given as CSV text (a `sla test` case's `reps` key), read as a file is."""
    return _read(io.StringIO(text.strip() + "\n"), source, source)


def _read(handle: Iterable[str], source: str, short: str) -> Reps:
    try:
        reader = csv.DictReader(handle)
        header = [(h or "").strip().lower() for h in reader.fieldnames or []]
        if "rep" not in header or not {"timezone", "hours"} & set(header):
            raise HistoryError(f"{source}: the reps file has no "
                               f"{'rep' if 'rep' not in header else 'timezone or hours'} "
                               f"column\n  help: {HEADER_HELP}")
        if problem := header_problem(header):
            raise HistoryError(f"{source}: {problem}\n  help: {HEADER_HELP}")
        reader.fieldnames = header
        rows = list(reader)
    except csv.Error as error:
        raise HistoryError(f"{source}: the reps file is not UTF-8 CSV: {error}") from None
    seen: dict[str, _Rep] = {}
    rejects = []
    for number, raw in enumerate(rows, 1):
        why = row_problem(raw, len(header))
        raw = row_cells(raw)
        why = why or _row(raw, number, seen)
        if why is not None:
            rejects.append(Reject(source, number, why, raw))
    hours = {}
    for rep in seen.values():
        numbers = ", ".join(str(r) for r in rep.rows)
        weekly = {day: tuple(spans) for day, spans in rep.weekly.items()} or None
        hours[rep.name] = RepHours(rep.zone, weekly,
                                   f"{short} row{'s' if len(rep.rows) > 1 else ''} {numbers}")
    return Reps(hours, rejects, len(rows), source)
