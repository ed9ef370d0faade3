"""A lead history held as columns: the evaluator's input, whatever file it came from.

Columns, not row objects, because a quarter's history of a busy team is millions of events and
every question the evaluator asks ("the first touch after the handoff, per lead") is a vector
operation over them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sized
from dataclasses import dataclass, field

import numpy as np

from sla_dsl.business_time.zones import to_us
from sla_dsl.language.model import FIRST_DAY, LAST_DAY
from sla_dsl.printable import printable

# The instants a history may hold: [EARLIEST_US, LATEST_US], µs since the epoch, UTC, the
# days the language supports (`model.FIRST_DAY` to `LAST_DAY`). Rows outside are rejected with
# this reason, on every reader.
EARLIEST_US = to_us(dt.datetime.combine(FIRST_DAY, dt.time(), dt.UTC))
LATEST_US = to_us(dt.datetime.combine(LAST_DAY + dt.timedelta(days=1), dt.time(), dt.UTC)) - 1
SUPPORTED_TIMES = f"{FIRST_DAY} to {LAST_DAY} UTC"


def in_supported_range(us: int) -> bool:
    return EARLIEST_US <= us <= LATEST_US


EVENTS: tuple[str, ...] = (
    "created", "updated", "engaged", "stage", "handoff", "assigned", "touch", "connected",
    "accepted", "rejected", "won", "lost",
)
EVENT_CODE: dict[str, int] = {name: code for code, name in enumerate(EVENTS)}

# A column of an event log whose name starts so is the tool's own (an ingest's bucket carries
# each event's place in the files it was cut from): never a field of the history.
RESERVED_PREFIX = "__sla_"
NO_ACTOR = -1


MOST_VALUE_BYTES = 1 << 20
"""The longest value (a cell, a JSON field, a user's name) read, in bytes of UTF-8: a row with
a longer one is rejected (docs/evaluate.md, Limits)."""


class HistoryError(Exception):
    """A history that cannot be read at all: a file missing or unreadable, a required column
    absent, an unknown timezone. The message names the file and says how to fix it. (A bad
    *row* is never an exception: it becomes a `Reject`.) It quotes what the files hold (a
    column's name, a mapping's key), so its control characters are shown as their escapes
    (`printable`): the message is printed on the user's terminal."""

    def __init__(self, message: str = "") -> None:
        super().__init__(printable(message))


@dataclass(frozen=True)
class Reject:
    """A record that could not become an event: where it was (1-based data row of its file, and
    for a wide export the date column), why, and the raw values as read."""

    source: str
    row: int
    reason: str
    raw: dict[str, str]
    column: str | None = None


@dataclass(frozen=True)
class RowCounts:
    read: int
    accepted: int
    rejected: int

    @classmethod
    def of(cls, read: int, rejects: Sized) -> RowCounts:
        """Accepted is derived, never counted apart, so read = accepted + rejected holds."""
        return cls(read, read - len(rejects), len(rejects))


@dataclass(frozen=True)
class SourceStats:
    """One file read into the history: its data rows, the records they made (a wide export
    makes one per date cell) and how many of those were rejected."""

    path: str
    rows: int
    records: int
    rejected: int
    left_out: int = 0
    """Rows a mapping's `where` or `duplicates` left out: they make no record."""

    @property
    def accepted(self) -> int:
        return self.records - self.rejected


@dataclass
class History:
    """Events sorted by lead, then time, then original row order.

    `at` is int64 microseconds since the Unix epoch, UTC. `lead` and `actor` index into
    `lead_ids` and `actors` (`actor` is NO_ACTOR where the CRM recorded none). `fields` holds
    every other column as an object array of str, or None where the row left it empty.
    """

    lead: np.ndarray
    at: np.ndarray
    event: np.ndarray
    actor: np.ndarray
    row: np.ndarray
    lead_ids: np.ndarray
    actors: np.ndarray
    fields: dict[str, np.ndarray] = field(default_factory=dict)
    rejects: list[Reject] = field(default_factory=list)
    rows_read: int = 0
    source: np.ndarray | None = None
    """Per event, the index into `sources` of the file it came from (`row` is within it)."""
    sources: list[SourceStats] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """What the exports cannot show (a missing optional export, history tracked only since a
    day), for the report to say."""
    actor_zones: dict[str, str] = field(default_factory=dict)
    """Actor (as in `actors`) -> IANA time zone, where the export says (a mapping's
    `actor_names` with `zone`: Salesforce's User.TimeZoneSidKey); the due list writes an
    owner's times in it unless the caller names the owner's zone."""
    absences: object | None = None
    """The reps' absences (`sla_dsl.history.absences.Absences`), read from the file `sla
    evaluate --absences` names: a block that says `when owner absent pause` stops its clocks
    while a lead's owner is absent."""
    reps: object | None = None
    """Each rep's own timezone and hours (`sla_dsl.history.reps.Reps`), read from the file `sla
    evaluate --reps` names: a block that says `clocks run on owner hours` counts a lead's
    business time on its owner's calendar."""

    @property
    def left_out(self) -> int:
        """Rows the mapping's filters left out, over every file (no records: not in `counts`)."""
        return sum(s.left_out for s in self.sources)

    @property
    def counts(self) -> RowCounts:
        """Records read = accepted + rejected, always. A record is a row of a long event log,
        or one date cell of a wide export (a row with two date columns is two records)."""
        return RowCounts.of(self.rows_read, self.rejects)

    def __len__(self) -> int:
        return len(self.at)
