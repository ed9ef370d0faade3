"""Replaying a lead history against a policy: every clock of every lead, as columns.

The evaluator's questions are all of the form "per lead, the first X at or after its handoff",
"per lead, the N-th touch inside its window": with events sorted by lead and time, each is a
mask, a `searchsorted` or a run-boundary trick over whole columns. Deadlines come from the
vectorised business-time path, so a million leads cost about what a thousand would in a loop.

Semantics (the issue's, held exactly):
- every clock starts at the lead's first `handoff` event; only events at or after it count,
  and `connected` counts as a touch;
- a handoff after a rejection, a loss or a return to nurture starts a new round (attempt) of
  the clocks of the block it routes to, unless that block says `no restart on re-handoff`; a
  round counts only the events from its handoff's row to the next round's handoff row, in the
  history's order (events sorted by lead, then time, then the file's order), so a rejection
  and a re-handoff written at one instant end one round and start the next
  (`evaluation/lifecycle.py`);
- a clause's owner is the lead's owner when it was decided (met, else at the due time, else
  now); `on reassign restart` starts a running clock again at a reassignment, `split` records
  the last reassignment while it ran and the owner before it;
- `first touch within D`: met when the first touch is at or before the due time; pending while
  there is none and the due time is after the as-of time; else breached;
- `touches at least N within W [until connected]`: met by N touches in [handoff, handoff + W]
  (touches closer together than `spacing` count as one) or by a connect in that window;
  pending while neither and the window is open; else breached;
- `disposition within D`: met by `accepted` or `rejected` in time, or by the next level's
  handoff (handing the lead on); a lead's next round's handoff is no decision on the round
  before it (that round's decision is its own `rejected`, if any);
- the threshold (`when`): a lead handed off without meeting it is a breach by the sender;
- the lead's segment decides which handoff block applies (first block in policy order whose
  target is the lead's segment, a stage the lead is in, or `every lead`);
- only leads that come in while the agreement is in force are judged: a lead is dated by its
  first handoff at any level (when its first clock starts and a commitment counts it), else,
  never handed off, by its first event; one dated before the `effective` date or after the
  `until` date (that whole local day included) is out of the period, counted but not judged.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple
from zoneinfo import ZoneInfo

import numpy as np

from sla_dsl.business_time.calendar import BusinessCalendar, calendar_for
from sla_dsl.business_time.open_time import add_open_time_many, deadlines, open_time_between_many
from sla_dsl.business_time.rep_hours import OwnerCalendars, owner_deadlines
from sla_dsl.business_time.zones import day_start_us
from sla_dsl.evaluation.conditions import ConditionEvaluator, fields_used
from sla_dsl.evaluation.lifecycle import (
    LATEST,
    NURTURE_FIELDS,
    attempt_numbers,
    first_after,
    first_rows_at,
    first_rows_at_instant,
    handoff_places,
    handoff_rows_at,
    last_at_or_before,
    reassignment_rows,
    round_ends,
    round_spans,
    round_starts,
)
from sla_dsl.evaluation.owner_hours import owner_calendars
from sla_dsl.evaluation.routing import acting_names, assign_blocks, handoff_levels
from sla_dsl.history.columns import EVENT_CODE, NO_ACTOR, History
from sla_dsl.language import model as m

NONE = np.iinfo(np.int64).min
MET, BREACHED, PENDING = 0, 1, 2
BEFORE, IN_PERIOD, AFTER = -1, 0, 1  # where a lead comes in against the agreement's period
NOT_YET = 2  # a lead with no event by the as-of time: it has not come in yet
STATUS_NAMES = ("met", "breached", "pending")
_TOUCHES = np.array([EVENT_CODE["touch"], EVENT_CODE["connected"]])
_DISPOSITIONS = np.array([EVENT_CODE["accepted"], EVENT_CODE["rejected"]])


@dataclass
class ClauseResult:
    """One clause of one handoff block, for the leads that block applies to."""

    clause: str
    handoff: str
    party: str | None
    leads: np.ndarray
    status: np.ndarray
    due: np.ndarray
    at: np.ndarray
    start: np.ndarray | None = None  # per lead: when the clock started (its block's handoff)
    owner: np.ndarray | None = None  # per lead: who owned the lead in this block
    # per lead, for `touches`: the touches the cadence counts (inside its window, spaced,
    # this level's): its depth, so a chart never counts a touch the clause did not
    counted: np.ndarray | None = None
    # per row: which round of the lead's handoffs it judges (1 unless the lead was handed off
    # again after a rejection, a loss or a return to nurture: then one row per round)
    attempt: np.ndarray | None = None
    # per row, for `on reassign split`: the last reassignment while the clock ran (NONE: none)
    # and the owner before it, whose share of the clock's time ends there
    split_at: np.ndarray | None = None
    split_from: np.ndarray | None = None
    reassign: str = "continue"  # what a reassignment does to this clause's clock
    # per row, in a block that says `clocks run on owner hours`: the owner whose own hours
    # the clock runs on (its owner at its start); one nothing is known of (not in the reps
    # file, no zone from the export), or None, is counted on the calendar's hours
    hours_of: np.ndarray | None = None
    # per row, `owner` as an index into the history's actors (NO_ACTOR: None), when the replay
    # found it so: a report counts owners by it instead of hashing a million names
    owner_code: np.ndarray | None = None
    # per row, the history's row its round's events begin at (`Window.first`, as a row of
    # `Evaluation.history`): the clock audit marks the events of that round from it. Not kept
    # by a merge of shards, whose history is not the one the rows were counted in
    first_row: np.ndarray | None = None
    # per row, the history's row its round's events end before (`Window.end`: the next
    # round's or the next level's handoff; LATEST: none), so the clock audit says nothing of a
    # later level's touches in an earlier level's name. None when no round of the result has
    # an end (one level, one round). Not kept by a merge of shards, as `first_row`
    end_row: np.ndarray | None = None

    def count(self, status: int) -> int:
        return int(np.count_nonzero(self.status == status))


class LaterRound(NamedTuple):
    """A second or later round of a block's clocks (a recycled lead handed off again), as the
    measures read it after the replay, and after a merge of shards."""

    number: int  # 2, 3, ...: the attempt
    leads: np.ndarray  # the leads judged in this round of the block
    start: np.ndarray  # per lead of the history: when its clocks start (NONE: not in it)
    # per lead of the history: which of its handoff rows starts the round (0: its first, -1:
    # not in it), a place every history of the run keeps (a merged one keeps every handoff)
    handoff: np.ndarray


class RoundRows(NamedTuple):
    """One round judged in a block, as rows of `Evaluation.history`: its leads, when their
    clocks start, and per lead of the history the rows the round reads, from `first` to
    before `end` (LATEST: to the end of the lead's rows)."""

    leads: np.ndarray
    start: np.ndarray
    first: np.ndarray
    end: np.ndarray


@dataclass
class Evaluation:
    policy: m.Policy
    history: History
    as_of: int
    handoff_at: np.ndarray  # per lead: the first handoff (by the first level's sender)
    handoff: np.ndarray  # per lead: the label of the first-level block that applies, or None
    segment: np.ndarray  # per lead: the first matching segment, or None
    owner: np.ndarray  # per lead: the owner's name in its first-level block, or None
    at_handoff: ConditionEvaluator  # definitions as the lead stood when handed off
    now: ConditionEvaluator  # definitions as the lead stands at the as-of time
    clauses: list[ClauseResult] = field(default_factory=list)
    # per block label of every level: the leads it applies to, and when each one's clocks start
    block_leads: dict[str, np.ndarray] = field(default_factory=dict)
    block_start: dict[str, np.ndarray] = field(default_factory=dict)
    # per lead: BEFORE, IN_PERIOD or AFTER the agreement's effective period, or NOT_YET (see
    # `placement`), and the instant it is dated by (NONE for a lead with no event by the as-of
    # time)
    placement: np.ndarray | None = None
    dated_at: np.ndarray | None = None
    as_of_given: bool = False  # False: the as-of time is the latest event of the history
    # per lead: its first-level block had the agreement been in force when it came in; revenue
    # is dated by the win, so a deal won in the period is credited whenever its lead came in
    handoff_any_period: np.ndarray | None = None
    # each rep's own calendar (`clocks run on owner hours`), as the replay built them
    owner_calendars: OwnerCalendars | None = None
    # per block label: each later round that landed in the block (a lead handed off again
    # after a rejection, a loss or a return to nurture): its number, its leads and its clocks'
    # starts (per lead of the history) and handoff rows, so the block's measures count the
    # round where it was judged and read its own rows; the number lets shards' rounds be
    # merged
    block_rounds: dict[str, list[LaterRound]] = field(default_factory=dict)
    # per lead with any: the spans after a handoff of a `when owner absent pause` block while
    # its owner was absent (begin, end, the absence's index in `history.absences`)
    absence_spans: dict[int, list[tuple[int, int, int]]] = field(default_factory=dict)
    # per block label, per lead with any: the spans its clocks were paused (a `pause while`
    # condition or an owner's absence; every round's, overlaps merged): a warning at P% counts
    # the allowed time they leave
    pause_spans: dict[str, dict[int, list[tuple[int, int]]]] = field(default_factory=dict)
    # per level of handoffs after the first (an MDR's to sales): definitions as each lead stood
    # at that level's handoff, which is what a commitment of that level's sender counts
    later_at_handoff: list[ConditionEvaluator] = field(default_factory=list)

    def at_handoff_of(self, level: int) -> ConditionEvaluator:
        """Definitions as each lead stood when handed off at `level` (0: the first)."""
        return self.at_handoff if level == 0 else self.later_at_handoff[level - 1]

    @property
    def lead_count(self) -> int:
        return len(self.history.lead_ids)

    @property
    def in_period(self) -> np.ndarray:
        """Per lead: judged, because it came in while the agreement was in force."""
        if self.placement is None:
            return np.ones(self.lead_count, dtype=bool)
        return self.placement == IN_PERIOD

    @property
    def handed_off(self) -> np.ndarray:
        """Per lead: handed off at some level (an MDR's own prospect passed to sales too)."""
        handed = self.handoff_at != NONE
        for start in {id(s): s for s in self.block_start.values()}.values():
            handed |= start != NONE
        return handed

    def leads_of(self, label: str) -> np.ndarray:
        """The leads a block applies to, at whatever level of the agreement it stands."""
        return self.block_leads.get(label, np.zeros(0, dtype=np.int64))

    def round_rows(self, label: str) -> list[RoundRows]:
        """Every round judged in a block, round 1 first: its leads, when their clocks start
        (per lead of the history) and the rows of `history` it reads. A recycled lead is in
        each block one of its rounds went to, once per such round. The rows are those the
        replay split the lead's rounds by (`lifecycle.round_spans`): from the round's first
        row (round 1: the first row at its start; a later round: its own handoff's row) to
        the next round's handoff row of the same level, whichever block that round went to.
        So a measure reads a round's assignments and touches as its clocks read them, in the
        history's order, and the same rows in a merged history (which keeps every handoff in
        order). The next level's handoff does not end a round here: the measures read a
        block's leads past it, as they always have."""
        history = self.history
        handoffs = np.flatnonzero(history.event == EVENT_CODE["handoff"])
        size = self.lead_count
        level = next(level for level in handoff_levels(self.policy)
                     if label in {h.label for h in level})
        places: dict[int, np.ndarray] = {}  # round number -> per lead, its handoff's place
        for handoff in level:
            for later in self.block_rounds.get(handoff.label, []):
                place = places.setdefault(later.number, np.full(size, -1, dtype=np.int64))
                np.maximum(place, later.handoff, out=place)
        start = self.block_start.get(label, self.handoff_at)
        firsts = [first_rows_at(history.lead, history.at, size, start)]
        none = np.full(size, -1, dtype=np.int64)
        firsts += [handoff_rows_at(history.lead, handoffs, places.get(n, none))
                   for n in range(2, max(places, default=1) + 1)]
        spans = round_spans(firsts)
        rounds = [(1, self.leads_of(label), start),
                  *((r.number, r.leads, r.start) for r in self.block_rounds.get(label, []))]
        return [RoundRows(leads, begin, *spans[number - 1]) for number, leads, begin in rounds]


class _Calendars:
    """The business calendar of each clause, built once per calendar name: a calendar keeps
    the open hours of every day it has been asked about."""

    def __init__(self, policy: m.Policy) -> None:
        self.policy = policy
        self._built: dict[str | None, BusinessCalendar] = {}

    def for_duration(self, duration: m.Duration) -> BusinessCalendar:
        name = duration.calendar.value if duration.calendar else None
        if name not in self._built:
            self._built[name] = calendar_for(self.policy, duration)
        return self._built[name]


def _run_starts(lead: np.ndarray) -> np.ndarray:
    """True where a lead's run of events begins (events are sorted by lead)."""
    out = np.empty(len(lead), dtype=bool)
    if len(lead):
        out[0] = True
        np.not_equal(lead[1:], lead[:-1], out=out[1:])
    return out


def _run_ends(lead: np.ndarray) -> np.ndarray:
    """True where a lead's run of events ends (events are sorted by lead)."""
    out = np.empty(len(lead), dtype=bool)
    if len(lead):
        out[-1] = True
        np.not_equal(lead[1:], lead[:-1], out=out[:-1])
    return out


def _first_per_lead(lead: np.ndarray, values: np.ndarray, size: int,
                    fill=NONE) -> np.ndarray:
    out = np.full(size, fill, dtype=values.dtype if len(values) else np.int64)
    first = np.flatnonzero(_run_starts(lead))
    out[lead[first]] = values[first]
    return out


def _last_per_lead(lead: np.ndarray, values: np.ndarray, size: int, fill) -> np.ndarray:
    out = np.full(size, fill, dtype=values.dtype if values.dtype != object else object)
    if len(lead):
        last = np.flatnonzero(_run_ends(lead))
        out[lead[last]] = values[last]
    return out


def _nth_of_runs(lead: np.ndarray, at: np.ndarray, first: np.ndarray, length: np.ndarray,
                 n: int, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Per lead, the instant of the n-th row of its run (NONE: a shorter run) and the run's
    length, where every row counts: rows `first[k]` to `first[k] + length[k] - 1` are one
    lead's, in time order."""
    nth = np.full(size, NONE, dtype=np.int64)
    depth = np.zeros(size, dtype=np.int64)
    enough = first[length >= n] if n >= 1 else first[:0]  # (no 0th touch is ever met)
    nth[lead[enough]] = at[enough + (n - 1)]
    depth[lead[first]] = length
    return nth, depth


def _code_mask(event: np.ndarray, codes) -> np.ndarray:
    """Per row, whether its event code is one of `codes`: a lookup table indexed by the code
    (codes are small non-negative integers), not a sort as `np.isin` does."""
    table = np.zeros(256, dtype=bool)
    table[np.asarray(codes, dtype=np.int64)] = True
    if event.dtype.itemsize == 1:
        return table[event.view(np.uint8)]
    return np.isin(event, codes)


@dataclass
class Window:
    """One round of one level's clocks, per lead of the history: when they start, and which
    rows of the history they read.

    The rows are places in the history's order (events sorted by lead, then time, then the
    file's order), not instants: a round reads the rows from `first` to before `end`. A later
    round begins at its own handoff's row and ends the round before it there, so a rejection
    written at the instant of the re-handoff but before it is the earlier round's, and a touch
    written after it the later round's. A bound given as an instant (a level's first handoff,
    the next level's handoff, a clock restarted at a reassignment) is the first row at that
    instant: every row at or after it is in, as it always was."""

    start: np.ndarray  # the instant the clocks start (NONE: no clock for the lead)
    first: np.ndarray  # the row the round's events begin at (LATEST: none)
    end: np.ndarray | None = None  # the row they end before (LATEST: no end; None: no lead's)
    until: np.ndarray | None = None  # that end's instant (NONE: none): where a clock stops
    # the next level's handoff, where it ends the round (NONE: not): handing the lead on is
    # the level's decision, unlike its own next round's handoff
    onward: np.ndarray | None = None

    def restarted(self, replay: Replay, clock: np.ndarray) -> Window:
        """The same round with its clocks started again at `clock` (a reassignment)."""
        first = np.maximum(self.first, replay.first_rows(clock))
        return Window(clock, first, self.end, self.until, self.onward)


class Replay:
    """One history's columns, ready to answer clause questions for many leads at once.

    The clock audit replays a single lead through it too, so one lead's explanation can never
    disagree with the whole evaluation."""

    def __init__(self, policy: m.Policy, history: History, as_of: int | None) -> None:
        self.policy = policy
        self.as_of = int(history.at.max()) if as_of is None and len(history) else (as_of or 0)
        keep = history.at <= self.as_of
        everything = bool(keep.all())
        # each row's place in `history` (None: the same place, nothing being left out)
        self._history_row = None if everything else np.flatnonzero(keep)
        if everything:  # nothing after the as-of time: use the columns as they are
            keep = slice(None)
        self.lead = history.lead[keep]
        self.at = history.at[keep]
        self.event = history.event[keep]
        self.actor = history.actor[keep]
        used = fields_used(policy)
        self.fields = {name: column[keep] for name, column in history.fields.items()
                       if name in used}
        self.history = history
        self.size = len(history.lead_ids)
        self.calendars = _Calendars(policy)
        self.owner_calendars = owner_calendars(history)
        self._pause_cache: dict[tuple, tuple[np.ndarray, np.ndarray,
                                             dict[int, list[tuple[int, int]]]]] = {}
        self.lifecycle_fields = {name: history.fields[name][keep] for name in NURTURE_FIELDS
                                 if name in history.fields}
        self._round_ends: np.ndarray | None = None
        self._rows_of: dict[tuple[int, ...], np.ndarray] = {}
        self._owners_of: dict[tuple[int, int], tuple] = {}
        # per lead: every owner-absent span found for a block that pauses for it (reports say
        # which absences were used and whose clocks they paused)
        self.absence_found: dict[int, set[tuple[int, int, int]]] = {}
        # per block label, per lead: every pause span found for it (`pauses`), for the
        # warnings, which count the allowed time the pauses leave
        self.pause_found: dict[str, dict[int, set[tuple[int, int]]]] = {}
        self._owner_names: dict[tuple[int, int], tuple] = {}
        self._owner_codes_of: dict[tuple[int, int], tuple] = {}
        self._gathered_of: dict[tuple[int, ...], tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        # each actor's name by its code, and None at the end: NO_ACTOR (-1) indexes it
        self._actor_names = np.empty(len(history.actors) + 1, dtype=object)
        self._actor_names[:-1] = history.actors

    # ------------------------------------------------------------ per-lead facts

    def events_of(self, codes: np.ndarray) -> np.ndarray:
        """The rows of these event codes, found once per set of codes: every clause asks."""
        key = tuple(sorted(int(c) for c in codes))
        rows = self._rows_of.get(key)
        if rows is None:
            rows = np.flatnonzero(self.event == key[0]) if len(key) == 1 \
                else np.flatnonzero(_code_mask(self.event, key))
            self._rows_of[key] = rows
        return rows

    def gathered(self, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The rows of these event codes with their leads and instants, gathered once: the
        touches are asked for by every clause, owner and measure."""
        key = tuple(sorted(int(c) for c in codes))
        found = self._gathered_of.get(key)
        if found is None:
            rows = self.events_of(codes)
            found = (rows, self.lead[rows], self.at[rows])
            self._gathered_of[key] = found
        return found

    def _run_edges(self, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Of `gathered(codes)`: where each lead's run of rows begins and where it ends."""
        key = ("edges", *sorted(int(c) for c in codes))
        found = self._gathered_of.get(key)
        if found is None:
            lead = self.gathered(codes)[1]
            found = (_run_starts(lead), _run_ends(lead))
            self._gathered_of[key] = found
        return found

    def _blocks(self, codes: np.ndarray, inside: np.ndarray,
                last: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
        """Where each lead's rows inside a window begin (and end, with `last`), as indices
        into `gathered(codes)`, one per lead with any, in lead order. A window is an interval
        of time per lead and a lead's rows are in time order, so its rows inside are one
        unbroken run: found by its edges, without gathering the rows."""
        starts, ends = self._run_edges(codes)
        opens = inside.copy()
        opens[1:] &= ~inside[:-1] | starts[1:]
        if not last:
            return np.flatnonzero(opens), None
        closes = inside.copy()
        closes[:-1] &= ~inside[1:] | ends[:-1]
        return np.flatnonzero(opens), np.flatnonzero(closes)

    def first_rows(self, moment: np.ndarray) -> np.ndarray:
        """Per lead, its first row at or after its `moment` (LATEST where that is NONE): an
        instant as a bound of a `Window`."""
        return first_rows_at(self.lead, self.at, self.size, moment)

    def history_rows(self, rows: np.ndarray) -> np.ndarray:
        """Rows of the replay as rows of its history (LATEST stays LATEST)."""
        if self._history_row is None or not len(rows):
            return rows
        inside = rows < len(self._history_row)
        return np.where(inside, self._history_row[np.where(inside, rows, 0)], rows)

    def handoff_rows(self, by: set[str] | None = None, not_by: set[str] = frozenset()
                     ) -> np.ndarray:
        """The handoff events by one of the names in `by` when given, and by none of those in
        `not_by` (a later level's handoff does not start the first level)."""
        rows = self.events_of(np.array([EVENT_CODE["handoff"]]))
        if by is not None:
            rows = rows[np.isin(self.actor[rows], self._actor_codes(by))]
        if not_by:
            rows = rows[~np.isin(self.actor[rows], self._actor_codes(not_by))]
        return rows

    def first_handoffs(self, by: set[str] | None = None, not_by: set[str] = frozenset()
                       ) -> tuple[np.ndarray, np.ndarray]:
        """Per lead, its first handoff event (see `handoff_rows`): its instant (NONE: none)
        and the first row at that instant (LATEST: none), where its level's `Window` begins.
        The row is found from the handoff's own row, not by `first_rows` over every lead's
        run."""
        rows = self.handoff_rows(by, not_by)
        first = rows[_run_starts(self.lead[rows])]
        lead = self.lead[first]
        instant = np.full(self.size, NONE, dtype=np.int64)
        instant[lead] = self.at[first]
        row = np.full(self.size, LATEST, dtype=np.int64)
        row[lead] = first_rows_at_instant(self.lead, self.at, first)
        return instant, row

    def later_rounds(self, by: set[str] | None = None, not_by: set[str] = frozenset()
                     ) -> np.ndarray:
        """The row of every handoff that starts a second or later round: one after a
        rejection, a loss or a return to nurture (in the history's order)."""
        rows = self.handoff_rows(by, not_by)
        if _run_starts(self.lead[rows]).all():  # no lead handed off twice: no later round
            return rows[:0]
        if self._round_ends is None:
            self._round_ends = round_ends(self.event, self.lifecycle_fields)
        rows = rows[round_starts(self.lead, rows, self._round_ends)]
        return rows[~_run_starts(self.lead[rows])]

    def _actor_codes(self, names: set[str]) -> np.ndarray:
        lowered = {name.lower() for name in names}
        return np.array([code for code, name in enumerate(self.history.actors)
                         if str(name).lower() in lowered], dtype=self.actor.dtype)

    def attributes_at(self, moment: np.ndarray, names: set[str]) -> dict[str, np.ndarray]:
        """Each field's last value recorded at or before `moment` (per lead)."""
        attributes = {}
        for name in names:
            column = self.fields.get(name)
            if column is None:
                continue
            rows = np.flatnonzero(column != None)  # noqa: E711 (elementwise on objects)
            cutoff = moment[self.lead[rows]]
            rows = rows[(cutoff != NONE) & (self.at[rows] <= cutoff)]
            attributes[name] = _last_per_lead(self.lead[rows], column[rows], self.size, None)
        return attributes

    def owners(self, since: np.ndarray | None = None, until: np.ndarray | None = None
               ) -> np.ndarray:
        """Per lead, its last assignee (else its first toucher), counting only events from
        row `since` and before row `until` when given (per lead, as a `Window` bounds its
        rows): each level of a handoff has its own owner.
        Found once per window (the evaluation and `owners_at` ask for the same one); callers
        copy what they change."""
        key = (id(since), id(until))
        cached = self._owner_names.get(key)
        if cached is not None and cached[0] is since and cached[1] is until:
            return cached[2]
        names = self.actor_names(self._owner_codes(since, until))
        self._owner_names[key] = (since, until, names)
        return names

    def _owner_codes(self, since: np.ndarray | None, until: np.ndarray | None) -> np.ndarray:
        """`owners` as actor codes (NO_ACTOR: none), found once per window."""
        key = (id(since), id(until))
        cached = self._owner_codes_of.get(key)
        if cached is not None and cached[0] is since and cached[1] is until:
            return cached[2]
        codes = self._find_owner_codes(since, until)
        self._owner_codes_of[key] = (since, until, codes)
        return codes

    def actor_names(self, codes: np.ndarray) -> np.ndarray:
        """Actor codes as names (None for NO_ACTOR), one gather."""
        return self._actor_names[codes]

    def _find_owner_codes(self, since: np.ndarray | None, until: np.ndarray | None
                          ) -> np.ndarray:
        rows = self._between(self.events_of(np.array([EVENT_CODE["assigned"]])), since, until)
        rows = rows[self.actor[rows] != NO_ACTOR]
        codes = _last_per_lead(self.lead[rows], self.actor[rows], self.size, NO_ACTOR)
        return np.where(codes == NO_ACTOR, self._first_toucher(since, until), codes)

    def _first_toucher(self, since: np.ndarray | None, until: np.ndarray | None
                       ) -> np.ndarray:
        """Per lead, the actor code of its first touch with an actor in the window (NO_ACTOR:
        none)."""
        rows, lead, _ = self.gathered(_TOUCHES)
        if since is None and until is None:  # each lead's first touch, unless one has no actor
            first = np.flatnonzero(self._run_edges(_TOUCHES)[0])
            actor = self.actor[rows[first]]
            if not (actor == NO_ACTOR).any():
                out = np.full(self.size, NO_ACTOR, dtype=self.actor.dtype)
                out[lead[first]] = actor
                return out
        actor = self.actor[rows]
        keep = actor != NO_ACTOR
        inside = self._inside(rows, lead, since, until)
        if inside is not None:
            keep &= inside
        keep = np.flatnonzero(keep)
        return _first_per_lead(lead[keep], actor[keep], self.size, NO_ACTOR)

    @staticmethod
    def _inside(rows: np.ndarray, lead: np.ndarray, since: np.ndarray | None,
                until: np.ndarray | None) -> np.ndarray | None:
        """Per row (of the lead), whether it is at or after its lead's row `since` (never,
        where that is LATEST) and before its row `until` (a `Window`'s bounds), as `_between`
        keeps rows; None: no bound given."""
        keep = None
        if since is not None:
            keep = rows >= since[lead]
        if until is not None:
            before = rows < until[lead]
            keep = before if keep is None else keep & before
        return keep

    def attributes_at_rows(self, leads: np.ndarray, moment: np.ndarray,
                           names: set[str]) -> dict[str, np.ndarray]:
        """Each field's last value recorded at or before `moment`, per row (a lead may have
        several rows: one per round of its handoffs)."""
        attributes = {}
        for name in names:
            column = self.fields.get(name)
            if column is None:
                continue
            rows = np.flatnonzero(column != None)  # noqa: E711 (elementwise on objects)
            found = last_at_or_before(self.lead[rows], self.at[rows], leads, moment)
            values = np.full(len(leads), None, dtype=object)
            ok = found >= 0
            values[ok] = column[rows[found[ok]]]
            attributes[name] = values
        return attributes

    def owners_at(self, leads: np.ndarray, moment: np.ndarray, since: np.ndarray | None,
                  until: np.ndarray | None) -> np.ndarray:
        """`owner_codes_at` as names (None: nobody)."""
        return self.actor_names(self.owner_codes_at(leads, moment, since, until))

    def owner_codes_at(self, leads: np.ndarray, moment: np.ndarray, since: np.ndarray | None,
                       until: np.ndarray | None) -> np.ndarray:
        """Per row, who answers for a clock at `moment`, as an actor code (NO_ACTOR: nobody):
        the lead's last assignee at or before it, else (assigned only later) its first
        assignee, else its first toucher, counting events from row `since` and before row
        `until` (the level's, or the round's, window).

        A lead assigned at most once in the window has one answer whatever the moment: the
        per-lead owner (cached per window); only the leads assigned more than once are
        searched by moment."""
        key = (id(since), id(until))
        cached = self._owners_of.get(key)
        if cached is None or cached[0] is not since or cached[1] is not until:
            rows = self._between(self.events_of(np.array([EVENT_CODE["assigned"]])), since,
                                 until)
            rows = rows[self.actor[rows] != NO_ACTOR]
            several = np.bincount(self.lead[rows], minlength=self.size) > 1
            cached = (since, until, self._owner_codes(since, until), several)
            self._owners_of[key] = cached
        codes = cached[2][leads]
        searched = cached[3][leads]
        if searched.any():
            codes[searched] = self._owners_by_moment(leads[searched], moment[searched], since,
                                                     until)
        return codes

    def _owners_by_moment(self, leads: np.ndarray, moment: np.ndarray,
                          since: np.ndarray | None, until: np.ndarray | None) -> np.ndarray:
        rows = self._between(self.events_of(np.array([EVENT_CODE["assigned"]])), since, until)
        rows = rows[self.actor[rows] != NO_ACTOR]
        last = last_at_or_before(self.lead[rows], self.at[rows], leads, moment)
        codes = np.where(last >= 0, self.actor[rows][np.maximum(last, 0)] if len(rows) else
                         NO_ACTOR, NO_ACTOR)
        first_assignee = _first_per_lead(self.lead[rows], self.actor[rows], self.size,
                                         NO_ACTOR)[leads]
        codes = np.where(codes == NO_ACTOR, first_assignee, codes)
        return np.where(codes == NO_ACTOR, self._first_toucher(since, until)[leads], codes)

    def reassignments(self, window: Window) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every change of owner in a round (`assigned` to someone else than the assignee
        before, that one in the round's rows: the round's first assignment is its routing,
        not a reassignment): lead, instant and the owner before, as columns."""
        rows = self.events_of(np.array([EVENT_CODE["assigned"]]))
        rows = rows[self.actor[rows] != NO_ACTOR]
        rows = self._between(rows, None, window.end)
        lead, at, actor = self.lead[rows], self.at[rows], self.actor[rows]
        moved = reassignment_rows(lead, rows, actor, window.first)
        before = np.r_[actor[:1], actor[:-1]][moved]
        names = np.full(len(before), None, dtype=object)
        names[:] = self.history.actors[before] if len(before) else names
        return lead[moved], at[moved], names

    def _between(self, rows: np.ndarray, since: np.ndarray | None,
                 until: np.ndarray | None) -> np.ndarray:
        """The `rows` from their lead's row `since` and before its row `until`."""
        keep = self._inside(rows, self.lead[rows], since, until)
        return rows if keep is None else rows[keep]

    def first_after(self, codes: np.ndarray, since: np.ndarray,
                    until: np.ndarray | None = None) -> np.ndarray:
        """Per lead, the instant of its first event of `codes` from its row `since` (and
        before its row `until`)."""
        rows, lead, at = self.gathered(codes)
        first, _ = self._blocks(codes, self._inside(rows, lead, since, until))
        out = np.full(self.size, NONE, dtype=np.int64)
        out[lead[first]] = at[first]
        return out

    # ------------------------------------------------------------ which block applies

    # ------------------------------------------------------------ clauses

    def _status(self, met: np.ndarray, due: np.ndarray) -> np.ndarray:
        status = np.full(len(due), BREACHED, dtype=np.int8)
        status[(~met) & (due > self.as_of)] = PENDING
        status[met] = MET
        return status

    def first_touch(self, handoff: m.Handoff, leads: np.ndarray, window: Window,
                    clause: m.FirstTouch, owner_since: np.ndarray | None = None
                    ) -> ClauseResult:
        return self._first_event_clause(handoff, leads, window, clause.within, _TOUCHES,
                                        "first touch", owner_since)

    def disposition(self, handoff: m.Handoff, leads: np.ndarray, window: Window,
                    clause: m.Disposition, owner_since: np.ndarray | None = None
                    ) -> ClauseResult:
        # handing the lead on to the next level decides it too
        onward = None if window.onward is None else window.onward[leads]
        return self._first_event_clause(handoff, leads, window, clause.within,
                                        _DISPOSITIONS, "disposition", owner_since, onward)

    def _first_event_clause(self, handoff: m.Handoff, leads: np.ndarray, window: Window,
                            within: m.Duration, codes: np.ndarray, name: str,
                            owner_since: np.ndarray | None = None,
                            onward: np.ndarray | None = None) -> ClauseResult:
        """The first of `codes` in the window (or `onward`, per lead, when earlier) against
        the due time; the due time counts only the pauses that began before it."""
        at = self.first_after(codes, window.first, window.end)[leads]
        if onward is not None:
            at = np.where((onward != NONE) & ((at == NONE) | (onward < at)), onward, at)
        due, hours_of = self._due(handoff, leads, window, within, owner_since, stopped=at)
        met = (at != NONE) & (at <= due)
        return ClauseResult(name, handoff.label, _receiver(handoff), leads,
                            self._status(met, due), due, at, hours_of=hours_of)

    def touches(self, handoff: m.Handoff, leads: np.ndarray, window: Window,
                clause: m.Touches, owner_since: np.ndarray | None = None) -> ClauseResult:
        end_of = np.full(self.size, NONE, dtype=np.int64)
        end_of[leads], hours_of = self._due(handoff, leads, window, clause.within,
                                            owner_since)
        # a lead outside the block starts never (LATEST); one inside at its round's first
        # row, up to its window's end and (the next round's or level's touches are theirs)
        # before the round's end
        low = np.full(self.size, LATEST, dtype=np.int64)
        low[leads] = window.first[leads]
        rows, lead, at = self.gathered(_TOUCHES)
        inside = (rows >= low[lead]) & (at <= end_of[lead])
        if window.end is not None:
            inside &= rows < window.end[lead]
        if not isinstance(handoff.item("spacing"), m.Spacing):
            return self._unspaced_touches(handoff, leads, window, clause, inside,
                                          end_of[leads], hours_of, owner_since)
        inside = np.flatnonzero(inside)
        rows, lead, at = rows[inside], lead[inside], at[inside]
        counted = self.spaced(handoff, lead, at)
        nth, depth = self._nth_counted(lead, at, counted, int(clause.count.value))
        met_at = nth
        if clause.until_connected:
            connects = np.flatnonzero(self.event[rows] == EVENT_CODE["connected"])
            connected = _first_per_lead(lead[connects], at[connects], self.size)
            met_at = np.where((nth == NONE) | ((connected != NONE) & (connected < nth)),
                              connected, nth)
        at_leads = met_at[leads]
        due = self._stopped_due(handoff, leads, window, clause.within, owner_since,
                                end_of[leads], at_leads)
        depth = depth[leads]
        return ClauseResult("touches", handoff.label, _receiver(handoff), leads,
                            self._status(at_leads != NONE, due), due, at_leads,
                            counted=depth, hours_of=hours_of)

    def _unspaced_touches(self, handoff: m.Handoff, leads: np.ndarray, window: Window,
                          clause: m.Touches, inside: np.ndarray, due: np.ndarray,
                          hours_of: np.ndarray | None, owner_since: np.ndarray | None
                          ) -> ClauseResult:
        """`touches` without a spacing, where every touch in the window counts: each lead's
        touches inside it are one run of the gathered rows, so the n-th is read at its
        start's offset and the depth is its length."""
        rows, lead, at = self.gathered(_TOUCHES)
        first, last = self._blocks(_TOUCHES, inside, last=True)
        met_at, depth = _nth_of_runs(lead, at, first, last - first + 1,
                                     int(clause.count.value), self.size)
        if clause.until_connected:
            connects = np.flatnonzero(inside & (self.event[rows] == EVENT_CODE["connected"]))
            connected = _first_per_lead(lead[connects], at[connects], self.size)
            met_at = np.where((met_at == NONE) | ((connected != NONE) & (connected < met_at)),
                              connected, met_at)
        at_leads = met_at[leads]
        due = self._stopped_due(handoff, leads, window, clause.within, owner_since, due,
                                at_leads)
        return ClauseResult("touches", handoff.label, _receiver(handoff), leads,
                            self._status(at_leads != NONE, due), due, at_leads,
                            counted=depth[leads], hours_of=hours_of)

    # ------------------------------------------------------------ pauses

    def _stopped_due(self, handoff: m.Handoff, leads: np.ndarray, window: Window,
                     within: m.Duration, owner_since: np.ndarray | None, due: np.ndarray,
                     at: np.ndarray) -> np.ndarray:
        """`due` again, counting only the pauses that began before the clock was met at `at`:
        a `touches` clock's window needs its due time before its met time is known. A hold
        that begins after the connect has nothing left to pause; counted, it showed a 4-hour
        clock met after 51 minutes as due three days later, with 23 hours to spare."""
        if not self.pauses(handoff, leads, window.start):
            return due
        return self._due(handoff, leads, window, within, owner_since, stopped=at)[0]

    def _due(self, handoff: m.Handoff, leads: np.ndarray, window: Window,
             within: m.Duration, owner_since: np.ndarray | None = None,
             stopped: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray | None]:
        """Due times of one clock for the block's leads, pushed back by its pauses (those that
        began before `stopped`, per lead, when the clock was met then), and (in a block that
        says `clocks run on owner hours`) per lead the rep whose hours counted.

        The hours are those of the lead's owner when the clock starts (its assignee at that
        instant, else its first assignee after it): a clock restarted by a reassignment runs
        on the new owner's; one that continues keeps the due time it was given."""
        calendar = self.calendars.for_duration(within)
        start = window.start
        hours_of = None
        if handoff.on_owner_hours:
            owners = self.owners_at(leads, start[leads], owner_since, window.end) if len(leads) \
                else np.zeros(0, dtype=object)
            due, hours_of = owner_deadlines(start[leads], within, calendar, owners,
                                            self.owner_calendars)
        else:
            due = deadlines(start[leads], within, calendar)
        pauses = self.pauses(handoff, leads, start)
        if not pauses:
            return due, hours_of
        position = {int(lead): i for i, lead in enumerate(leads)}
        for lead, intervals in pauses.items():
            i = position[lead]
            own = None if hours_of is None else \
                self.owner_calendars.calendar(calendar, hours_of[i])
            stop = LATEST if stopped is None or stopped[i] == NONE else int(stopped[i])
            due[i] = paused_due(int(due[i]), intervals, within, own or calendar, stop)
        return due, hours_of

    def calendar_of(self, within: m.Duration, rep: str | None) -> BusinessCalendar:
        """The calendar a clock was counted on: `rep`'s own hours on the duration's calendar
        (`ClauseResult.hours_of`), else that calendar."""
        base = self.calendars.for_duration(within)
        return self.owner_calendars.calendar(base, rep) or base

    def pauses(self, handoff: m.Handoff, leads: np.ndarray,
               start: np.ndarray) -> dict[int, list[tuple[int, int]]]:
        """Per lead, the spans after its handoff while a `pause while` condition held, or
        (`when owner absent pause`) while its owner was absent, overlaps merged.

        The condition is read at every event that records one of its fields (the values
        carried forward per lead), and holds from that event to the next such event."""
        conditions = [i.condition for i in handoff.items if isinstance(i, m.Pause)]
        absent = handoff.pauses_for_absence and self.history.absences is not None
        if not (conditions or absent) or len(leads) == 0:
            return {}
        key = (handoff.label, id(leads), id(start))
        cached = self._pause_cache.get(key)  # it keeps both arrays alive: no id is reused
        if cached is not None and cached[0] is start and cached[1] is leads:
            return cached[2]
        found = self._condition_pauses(conditions, leads, start) if conditions else {}
        for lead, spans in self.absence_spans(handoff, leads, start).items():
            found[lead] = _merged_spans(found.get(lead, []) + [(b, e) for b, e, _ in spans])
        self._pause_cache[key] = (start, leads, found)
        block = self.pause_found.setdefault(handoff.label, {})
        for lead, spans in found.items():
            block.setdefault(lead, set()).update(spans)
        return found

    def absence_spans(self, handoff: m.Handoff, leads: np.ndarray, start: np.ndarray
                      ) -> dict[int, list[tuple[int, int, int]]]:
        """Per lead, the spans after its handoff while its owner was absent (`when owner
        absent pause` and an absences file): begin, end and the absence's index.

        The owner is the lead's assignee at each moment (its first assignee before its first
        assignment, as the evaluation answers); each absence is matched against every
        assignment of its rep at once."""
        absences = self.history.absences
        if not handoff.pauses_for_absence or absences is None or not len(absences) \
                or not len(leads):
            return {}
        in_block = np.zeros(self.size, dtype=bool)
        in_block[leads] = True
        rows = self.events_of(np.array([EVENT_CODE["assigned"]]))
        rows = rows[(self.actor[rows] != NO_ACTOR) & in_block[self.lead[rows]]]
        rows = rows[start[self.lead[rows]] != NONE]
        lead, at, actor = self.lead[rows], self.at[rows], self.actor[rows]
        if not len(lead):
            return {}
        # each assignment holds until the lead's next one; its first from before the handoff
        begins = np.where(_run_starts(lead), np.iinfo(np.int64).min, at)
        ends = np.r_[at[1:], np.iinfo(np.int64).max]
        ends[np.r_[lead[1:] != lead[:-1], True]] = np.iinfo(np.int64).max
        begins = np.maximum(begins, start[lead])
        found: dict[int, list[tuple[int, int, int]]] = {}
        for rep in dict.fromkeys(str(r).lower() for r in absences.rep):  # as `of` matches
            mine = np.isin(actor, self._actor_codes({rep}))
            if not mine.any():
                continue
            for k in absences.of(rep):
                a = np.maximum(begins[mine], absences.begin[k])
                b = np.minimum(ends[mine], absences.end[k])
                for i in np.flatnonzero(b > a):
                    found.setdefault(int(lead[mine][i]), []).append((int(a[i]), int(b[i]),
                                                                     int(k)))
        for number, spans in found.items():
            self.absence_found.setdefault(number, set()).update(spans)
        return found

    def _condition_pauses(self, conditions: list[m.Expr], leads: np.ndarray,
                          start: np.ndarray) -> dict[int, list[tuple[int, int]]]:
        condition = conditions[0] if len(conditions) == 1 else m.AnyOf(
            operands=conditions, span=conditions[0].span)
        names = {n.field.value for n in m.walk_expr(condition) if hasattr(n, "field")}
        names |= {n.name.value for n in m.walk_expr(condition) if isinstance(n, m.Ref)}
        if not names & set(self.fields):  # no event records what it reads: it never holds
            return {}
        in_block = np.zeros(self.size, dtype=bool)
        in_block[leads] = True
        recorded = np.zeros(len(self.at), dtype=bool)
        for name in names & set(self.fields):
            recorded |= self.fields[name] != None  # noqa: E711 (elementwise on objects)
        rows = np.flatnonzero(recorded & in_block[self.lead])
        lead = self.lead[rows]
        carried = {name: _carry_forward(lead, self.fields[name][rows])
                   for name in names & set(self.fields)}
        holds = ConditionEvaluator(self.policy, carried, len(rows)).evaluate(condition)
        found: dict[int, list[tuple[int, int]]] = {}
        ends = np.r_[self.at[rows][1:], np.iinfo(np.int64).max]
        last_of_lead = np.r_[lead[1:] != lead[:-1], True] if len(lead) else lead.astype(bool)
        ends[last_of_lead] = np.iinfo(np.int64).max
        for i in np.flatnonzero(holds):
            begin, end = int(self.at[rows[i]]), int(ends[i])
            begin = max(begin, int(start[lead[i]]))
            if end > begin:
                found.setdefault(int(lead[i]), []).append((begin, end))
        return found

    def spaced(self, handoff: m.Handoff, lead: np.ndarray, at: np.ndarray) -> np.ndarray:
        """Which touches count: the first of each lead, then each one at least `spacing` after
        the touch before it (a burst of quick attempts is one attempt)."""
        first = _run_starts(lead)
        spacing = handoff.item("spacing")
        if not isinstance(spacing, m.Spacing) or len(at) == 0:
            return np.ones(len(at), dtype=bool)
        previous = np.r_[at[:1], at[:-1]]
        gap = spacing.at_least
        # the same rule as every other duration: "1 business day" after a touch is the next open
        # day at the same time, not 24 hours of open time
        return first | (at >= deadlines(previous, gap, self.calendars.for_duration(gap)))

    def _nth_counted(self, lead: np.ndarray, at: np.ndarray, counted: np.ndarray,
                     n: int) -> tuple[np.ndarray, np.ndarray]:
        """Per lead, the instant of its n-th counted touch (NONE: fewer) and how many it has
        (rows sorted by lead, then time). Without a spacing every touch counts: the n-th is
        read off each lead's run of rows."""
        starts = np.flatnonzero(_run_starts(lead))
        lengths = np.diff(np.r_[starts, len(lead)])
        if counted.all():
            return _nth_of_runs(lead, at, starts, lengths, n, self.size)
        nth = np.full(self.size, NONE, dtype=np.int64)
        depth = np.zeros(self.size, dtype=np.int64)
        running = np.cumsum(counted, dtype=np.int64)
        before = running[starts] - counted[starts]
        per_lead = running - np.repeat(before, lengths)
        hit = np.flatnonzero(counted & (per_lead == n))
        nth[lead[hit]] = at[hit]
        depth[lead[starts]] = running[starts + lengths - 1] - before
        return nth, depth

    def threshold(self, handoff: m.Handoff, leads: np.ndarray, start: np.ndarray,
                  clause: m.Threshold, conditions: ConditionEvaluator) -> ClauseResult:
        holds = conditions.evaluate(clause.condition)[leads]
        moment = start[leads]
        status = np.where(holds, MET, BREACHED).astype(np.int8)
        party = handoff.sender.value if handoff.sender else None
        return ClauseResult("threshold", handoff.label, party, leads, status, moment,
                            moment.copy())


STOPPED = np.iinfo(np.int64).max  # a clock paused with no end in sight has no due time


def _carry_forward(lead: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Each row's latest non-empty value of its lead so far (rows sorted by lead and time)."""
    present = np.array([v is not None for v in values], dtype=bool)
    latest = np.maximum.accumulate(np.where(present, np.arange(len(values)), -1))
    same_lead = (latest >= 0) & (lead[np.maximum(latest, 0)] == lead)
    out = np.full(len(values), None, dtype=object)
    out[same_lead] = values[latest[same_lead]]
    return out


def _merged_spans(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Overlapping pause spans as one (a pause condition held while the owner was absent):
    each open hour pushes a due time back once."""
    out: list[tuple[int, int]] = []
    for begin, end in sorted(spans):
        if out and begin <= out[-1][1]:
            out[-1] = (out[-1][0], max(end, out[-1][1]))
        else:
            out.append((begin, end))
    return out


def paused_due(due: int, intervals: list[tuple[int, int]], within: m.Duration,
                calendar: BusinessCalendar, stopped: int = LATEST) -> int:
    """Push a due time back by the pauses that begin before it (and before the clock
    `stopped`, met): by their open time for a business duration, by their length otherwise; a
    pause still running stops the clock.

    Pauses are taken in order, because each one moves the due time the next is compared with:
    a hold that outlasts the first due time pushes the clock past its own end.
    """
    for begin, end in sorted(intervals):
        if begin >= due or begin >= stopped:
            break
        if end == STOPPED:
            return STOPPED
        if within.business:
            paused = int(open_time_between_many(np.array([begin]), np.array([end]),
                                                calendar)[0])
            due = int(add_open_time_many(np.array([due]), np.array([paused]), calendar)[0])
        else:
            due += end - begin
    return due


def fields_needed(policy: m.Policy) -> set[str]:
    """The lead fields an evaluation reads: the policy's, `amount` for revenue, and the
    touchpoints' `campaign` and `channel` when the policy attributes revenue."""
    touchpoints = {"campaign", "channel"} if policy.attribution is not None else set()
    return fields_used(policy) | {"amount"} | touchpoints | set(NURTURE_FIELDS)


def _receiver(handoff: m.Handoff) -> str | None:
    return handoff.receiver.value if handoff.receiver else None


def effective_bounds(policy: m.Policy) -> tuple[int | None, int | None]:
    """The agreement's period as instants (µs): local midnight of the `effective` date, and
    local midnight after the `until` date, so the whole last day is in force."""
    if policy.effective is None:
        return None, None
    zone = ZoneInfo(policy.timezone or "UTC")
    start = day_start_us(policy.effective.start.value, zone)
    until = policy.effective.until
    return start, None if until is None else day_start_us(until.value + dt.timedelta(days=1), zone)


def lead_dates(replay: Replay, starts: list[np.ndarray]) -> np.ndarray:
    """Per lead, the instant that places it in or out of the agreement's period: its first
    handoff at any level (the moment the agreement starts asking something of it), else its
    first event by the as-of time (NONE without one)."""
    handed = [np.where(s == NONE, np.iinfo(np.int64).max, s) for s in starts]
    dated = np.minimum.reduce(handed) if handed else np.full(replay.size,
                                                             np.iinfo(np.int64).max)
    first_event = _first_per_lead(replay.lead, replay.at, replay.size)
    dated = np.where(dated == np.iinfo(np.int64).max, first_event, dated)
    return dated.astype(np.int64)


def placement(policy: m.Policy, dated: np.ndarray) -> np.ndarray:
    """Per lead: BEFORE, IN_PERIOD or AFTER the agreement's effective period, or NOT_YET
    (no event by the as-of time: a lead the history knows of only from later, which no rate,
    funnel or count as of then may hold)."""
    start, end = effective_bounds(policy)
    place = np.full(len(dated), IN_PERIOD, dtype=np.int8)
    known = dated != NONE
    place[~known] = NOT_YET
    if start is not None:
        place[known & (dated < start)] = BEFORE
    if end is not None:
        place[known & (dated >= end)] = AFTER
    return place


def evaluate(policy: m.Policy, history: History, as_of: int | None = None,
             on_block: Callable[[str], None] | None = None, *,
             in_force_only: bool = True) -> Evaluation:
    """Every clause of every handed-off lead, as of `as_of` (µs; default the latest event).

    `on_block` is told each handoff block's label once its clauses are done (blocks `to
    nobody` have none), so a progress bar can move while a big history is replayed. Leads
    that come in outside the agreement's effective period are not judged (no clock, no
    commitment, no funnel) unless `in_force_only` is False: calibration fits the whole
    history, whatever period the policy it is read with is in force for."""
    replay = Replay(policy, history, as_of)
    levels = handoff_levels(policy)
    later = [acting_names(policy, level[0].sender.value) for level in levels[1:]]
    firsts = [replay.first_handoffs(not_by=set().union(*later))]
    firsts += [replay.first_handoffs(by=names) for names in later]
    starts = [instant for instant, _ in firsts]
    # each level's first row (its first handoff's instant as a row): the owners' windows are
    # found once per pair of bounds, and each level's first round shares them
    rows = [row for _, row in firsts]
    dated = lead_dates(replay, starts)
    place = placement(policy, dated) if in_force_only else \
        np.full(replay.size, IN_PERIOD, dtype=np.int8)
    outside = place != IN_PERIOD
    first_start = starts[0]
    if outside.any():  # no clock of any level starts for a lead the agreement does not cover
        starts = [np.where(outside, NONE, s) for s in starts]
        rows = [np.where(outside, LATEST, row) for row in rows]
    owners = [replay.owners(since=rows[i] if i else None,
                            until=rows[i + 1] if i + 1 < len(rows) else None)
              for i in range(len(starts))]
    start = starts[0]
    fields = fields_used(policy)
    conditions = ConditionEvaluator(policy, replay.attributes_at(first_start, fields),
                                    replay.size)
    now = ConditionEvaluator(
        policy, replay.attributes_at(np.full(replay.size, replay.as_of), fields), replay.size)
    segment, any_block = assign_blocks(policy, conditions, first_start != NONE, levels[0])
    block = np.where(outside, None, any_block) if outside.any() else any_block
    evaluation = Evaluation(policy, history, replay.as_of, start, block, segment, owners[0],
                            conditions, now, placement=place, dated_at=dated,
                            as_of_given=as_of is not None, handoff_any_period=any_block,
                            owner_calendars=replay.owner_calendars)
    bounds = effective_bounds(policy) if in_force_only else (None, None)
    for level, handoffs in enumerate(levels):
        level_start, level_conditions, level_block = start, conditions, block
        if level:
            level_start = starts[level]
            level_conditions = ConditionEvaluator(
                policy, replay.attributes_at(level_start, fields), replay.size)
            _, level_block = assign_blocks(policy, level_conditions, level_start != NONE,
                                           handoffs)
            evaluation.later_at_handoff.append(level_conditions)
        by, not_by = (None, set().union(*later)) if level == 0 else (later[level - 1], set())
        next_level = (starts[level + 1], rows[level + 1]) if level + 1 < len(starts) else None
        rounds = _later_rounds(replay, handoffs, by, not_by, bounds, outside)
        owner_since = rows[level] if level else None
        first_window = _window(level_start, rows[level], next_level,
                               rounds[0][:2] if rounds else None)
        onward = next_level_rows(replay, levels, later, level) if rounds else None
        # each later round's handoff as a place among its lead's handoffs, for the measures
        every_handoff = replay.handoff_rows() if rounds else None
        round_handoffs = [handoff_places(replay.lead, every_handoff, first)
                          for _, first, _, _ in rounds]
        for handoff in handoffs:
            leads = np.flatnonzero(level_block == handoff.label)
            evaluation.block_leads[handoff.label] = leads
            evaluation.block_start[handoff.label] = level_start
            if handoff.receiver is None:
                continue
            # round 1 keeps the window it always had (to the next level's first handoff)
            # unless the lead is handed off again: then its clocks end where the next begins
            results = [_round(replay, handoff, leads, first_window, level_conditions,
                              owner_since, 1)]
            for number, (round_start, round_first, round_conditions, round_block) in \
                    enumerate(rounds, 2):
                round_leads = np.flatnonzero(round_block == handoff.label)
                if not len(round_leads):
                    continue
                following = rounds[number - 1][:2] if number - 1 < len(rounds) else None
                window = _window(round_start, round_first,
                                 _next_after(replay, onward, round_first), following)
                results.append(_round(replay, handoff, round_leads, window, round_conditions,
                                      owner_since, number))
                evaluation.block_rounds.setdefault(handoff.label, []).append(LaterRound(
                    number, round_leads, round_start, round_handoffs[number - 2]))
            for result in _merged(results):
                evaluation.clauses.append(result)
            if on_block is not None:
                on_block(handoff.label)
    evaluation.absence_spans = {lead: sorted(spans)
                                for lead, spans in sorted(replay.absence_found.items())}
    evaluation.pause_spans = {label: {lead: _merged_spans(list(spans))
                                      for lead, spans in sorted(found.items())}
                              for label, found in replay.pause_found.items() if found}
    return evaluation


def next_level_rows(replay: Replay, levels: list[list[m.Handoff]], later: list[set[str]],
                    level: int) -> np.ndarray | None:
    """The next level's handoff events (None at the last level): a later round of this level
    ends at the first of them after it."""
    if level + 1 >= len(levels):
        return None
    return replay.handoff_rows(by=later[level])


def _next_after(replay: Replay, rows: np.ndarray | None, first: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray] | None:
    """Per lead, the first of `rows` (handoff events) from its row `first` on: its instant
    (NONE: none) and that instant's first row, a bound of the round that begins at `first`."""
    if rows is None:
        return None
    lead = replay.lead[rows]
    keep = rows >= first[lead]
    at = _first_per_lead(lead[keep], replay.at[rows][keep], replay.size)
    return at, replay.first_rows(at)


def _window(start: np.ndarray, first: np.ndarray,
            next_level: tuple[np.ndarray, np.ndarray] | None,
            next_round: tuple[np.ndarray, np.ndarray] | None) -> Window:
    """A round's `Window`: from `first` to the next level's handoff or the lead's next
    round's handoff row, whichever comes first (each given as instants and rows, or None).
    Only the next level's handoff is a decision of the round it ends."""
    if next_round is None:
        if next_level is None:
            return Window(start, first)
        at, row = next_level
        return Window(start, first, row, at, at)
    round_at, round_row = next_round
    if next_level is None:
        return Window(start, first, round_row, round_at)
    level_at, level_row = next_level
    handed_on = level_row <= round_row
    return Window(start, first, np.where(handed_on, level_row, round_row),
                  np.where(handed_on, level_at, round_at), np.where(handed_on, level_at, NONE))


def _later_rounds(replay: Replay, handoffs: list[m.Handoff], by: set[str] | None,
                  not_by: set[str], bounds: tuple[int | None, int | None],
                  outside: np.ndarray
                  ) -> list[tuple[np.ndarray, np.ndarray, ConditionEvaluator, np.ndarray]]:
    """The second, third... round of one level's handoffs: per round, each lead's start (NONE
    without one) and its handoff's row (LATEST without one), the lead as it stood then, and
    the block that round routes it to.

    A re-handoff routed to a block that says `no restart on re-handoff` (or to nobody) starts
    no round: its lead's earlier clocks go on as if it had not happened; neither does one after
    the agreement's end. Rounds are found for every re-handoff at once; the loop is over round
    numbers, each vectorised over every lead."""
    rows = replay.later_rounds(by, not_by)
    lead, at = replay.lead[rows], replay.at[rows]
    keep = ~outside[lead]
    if bounds[1] is not None:
        keep &= at < bounds[1]
    rows, lead, at = rows[keep], lead[keep], at[keep]
    if not len(lead):
        return []
    fields = fields_used(replay.policy)
    attributes = replay.attributes_at_rows(lead, at, fields)
    row_conditions = ConditionEvaluator(replay.policy, attributes, len(lead))
    _, block = assign_blocks(replay.policy, row_conditions, np.ones(len(lead), dtype=bool),
                             handoffs)
    restarting = [h.label for h in handoffs if h.restarts and h.receiver is not None]
    chosen = np.isin(block.astype(str), restarting) & (block != None)  # noqa: E711
    rows, lead, at, block = rows[chosen], lead[chosen], at[chosen], block[chosen]
    attributes = {name: column[chosen] for name, column in attributes.items()}
    number = attempt_numbers(lead)
    rounds = []
    for k in range(1, int(number.max()) + 1 if len(number) else 1):
        here = number == k
        start = np.full(replay.size, NONE, dtype=np.int64)
        start[lead[here]] = at[here]
        first = np.full(replay.size, LATEST, dtype=np.int64)
        first[lead[here]] = rows[here]
        routed = np.full(replay.size, None, dtype=object)
        routed[lead[here]] = block[here]
        columns = {}
        for name, column in attributes.items():
            columns[name] = np.full(replay.size, None, dtype=object)
            columns[name][lead[here]] = column[here]
        rounds.append((start, first, ConditionEvaluator(replay.policy, columns, replay.size),
                       routed))
    return rounds


def _round(replay: Replay, handoff: m.Handoff, leads: np.ndarray, window: Window,
           conditions: ConditionEvaluator, owner_since: np.ndarray | None,
           attempt: int) -> list[ClauseResult]:
    """One round of one block's clauses, each with its start, owner and attempt number."""
    results = []
    for result in _clauses(replay, handoff, leads, window, conditions, owner_since):
        result.reassign = handoff.on_reassign(result.clause) \
            if result.clause != "threshold" else "continue"
        clock = window.start
        if result.reassign == "restart":
            clock = _restart(replay, handoff, result, window, conditions, owner_since)
        result.start = clock[leads]
        result.first_row = replay.history_rows(window.first[leads])
        if window.end is not None:
            result.end_row = replay.history_rows(window.end[leads])
        moment = _answer_moment(replay, result)
        result.owner_code = replay.owner_codes_at(leads, moment, owner_since, window.end)
        result.owner = replay.actor_names(result.owner_code)
        if result.reassign == "split":
            _split(replay, result, window)
        result.attempt = np.full(len(leads), attempt, dtype=np.int64)
        results.append(result)
    return results


def _answer_moment(replay: Replay, result: ClauseResult) -> np.ndarray:
    """Per row, the instant whose owner answers for the clock: when it was met, else its due
    time once passed, else the as-of time (a threshold: the as-of time, its owner then)."""
    moment = np.full(len(result.leads), replay.as_of, dtype=np.int64)
    if result.clause == "threshold":
        return moment
    passed = (result.due != NONE) & (result.due != STOPPED) & (result.due <= replay.as_of)
    moment = np.where(passed, result.due, moment)
    return np.where(result.status == MET, result.at, moment)


def _clock_stop(result: ClauseResult, until: np.ndarray | None) -> np.ndarray:
    """Per row, where the clock stops running: met, due, or the round's end."""
    at = np.where(result.at == NONE, LATEST, result.at)
    due = np.where(result.due == NONE, LATEST, result.due)
    stop = np.minimum(at, due)
    if until is not None:
        end = until[result.leads]
        stop = np.minimum(stop, np.where(end == NONE, LATEST, end))
    return stop


def _restart(replay: Replay, handoff: m.Handoff, result: ClauseResult, window: Window,
             conditions: ConditionEvaluator, owner_since: np.ndarray | None = None
             ) -> np.ndarray:
    """`on reassign restart`: a reassignment while the clock runs starts it again for the new
    owner. Each pass moves every clock still reassigned to its next reassignment, so the loop
    is over reassignments of one lead, not over leads. Updates `result`; returns the starts."""
    moved_lead, moved_at, _ = replay.reassignments(window)
    clock = window.start.copy()
    todo = np.arange(len(result.leads))
    while len(todo) and len(moved_lead):
        leads = result.leads[todo]
        nxt = first_after(moved_lead, moved_at, leads, clock[leads])
        stop = _clock_stop(result, window.until)[todo]
        hit = nxt >= 0
        hit[hit] = moved_at[nxt[hit]] < stop[hit]
        if not hit.any():
            break
        todo, nxt = todo[hit], nxt[hit]
        clock = clock.copy()  # a fresh array: the pause cache keys on the one it was given
        clock[result.leads[todo]] = moved_at[nxt]
        again = next(r for r in _clauses(replay, handoff, result.leads[todo],
                                          window.restarted(replay, clock), conditions,
                                          owner_since)
                     if r.clause == result.clause)
        result.status[todo], result.due[todo], result.at[todo] = (again.status, again.due,
                                                                  again.at)
        if result.hours_of is not None and again.hours_of is not None:
            result.hours_of[todo] = again.hours_of
        if result.counted is not None and again.counted is not None:
            result.counted[todo] = again.counted
    return clock


def _split(replay: Replay, result: ClauseResult, window: Window) -> None:
    """`on reassign split`: the last reassignment while the clock ran, and the owner before it
    (the time from the start to it is theirs, the rest the owner's who answers at the end)."""
    moved_lead, moved_at, before = replay.reassignments(window)
    stop = np.minimum(_clock_stop(result, None), replay.as_of)
    found = last_at_or_before(moved_lead, moved_at, result.leads, stop - 1)
    ok = found >= 0
    ok[ok] = moved_at[found[ok]] > result.start[ok]
    result.split_at = np.where(ok, moved_at[np.maximum(found, 0)] if len(moved_at) else NONE,
                               NONE)
    result.split_from = np.where(ok, before[np.maximum(found, 0)] if len(before) else None,
                                 None)


def _merged(rounds: list[list[ClauseResult]]) -> list[ClauseResult]:
    """Each clause's rows of every round in one result, sorted by lead, then attempt."""
    if len(rounds) == 1:
        return rounds[0]
    out = []
    for i, first in enumerate(rounds[0]):
        parts = [first] + [r[i] for r in rounds[1:]]
        attempt = np.concatenate([p.attempt for p in parts])
        leads = np.concatenate([p.leads for p in parts])
        order = np.lexsort((attempt, leads))

        def column(name: str, parts=parts, order=order):
            values = [getattr(p, name) for p in parts]
            return None if any(v is None for v in values) else np.concatenate(values)[order]

        out.append(ClauseResult(first.clause, first.handoff, first.party, leads[order],
                                column("status"), column("due"), column("at"),
                                start=column("start"), owner=column("owner"),
                                owner_code=column("owner_code"),
                                counted=column("counted"), attempt=attempt[order],
                                split_at=column("split_at"), split_from=column("split_from"),
                                reassign=first.reassign, hours_of=column("hours_of"),
                                first_row=column("first_row"),
                                end_row=_end_rows(parts, order)))
    return out


def _end_rows(parts: list[ClauseResult], order: np.ndarray) -> np.ndarray | None:
    """The rounds' `end_row` columns as one, in `order`; a round without an end (the last
    one, at the last level) reads LATEST. None when no round has one."""
    if all(p.end_row is None for p in parts):
        return None
    return np.concatenate([p.end_row if p.end_row is not None else
                           np.full(len(p.leads), LATEST, dtype=np.int64)
                           for p in parts])[order]


def _clauses(replay: Replay, handoff: m.Handoff, leads: np.ndarray, window: Window,
             conditions: ConditionEvaluator, owner_since: np.ndarray | None = None
             ) -> list[ClauseResult]:
    """One block's clauses over one round's `window` (its end is the next round's or the
    next level's handoff, where this round's work on a lead ends: its touches and decisions
    after it are the next one's); `owner_since` the first row of the window its owners are
    read in."""
    results = []
    for item in handoff.items:
        if isinstance(item, m.FirstTouch):
            results.append(replay.first_touch(handoff, leads, window, item, owner_since))
        elif isinstance(item, m.Touches):
            results.append(replay.touches(handoff, leads, window, item, owner_since))
        elif isinstance(item, m.Disposition):
            results.append(replay.disposition(handoff, leads, window, item, owner_since))
        elif isinstance(item, m.Threshold):
            results.append(replay.threshold(handoff, leads, window.start, item, conditions))
    return results
