"""The clock audit of one lead: for the day a rep disputes a breach.

A breach is an argument about time: "the lead came in on Friday night, how can I be late on
Monday?" The audit answers with every clock of the lead's handoff block: its due time, what it
says now, and the stretch from the handoff to the clock's stop cut into open, closed (night,
weekend, a closed date, a break between shifts) and paused pieces, each with how much of the
clock it used, and the events that started, paused and stopped it.

The verdicts are the evaluator's own: the lead's events are replayed by `evaluation.evaluate`
(one lead is a history too), with the as-of time of the whole history, so the audit cannot
disagree with `sla evaluate` about a due time. The pieces come from the clause's business
calendar (`BusinessCalendar.intervals`) and the evaluator's pause spans; nothing here counts
business time on its own.
"""

from __future__ import annotations

import datetime as dt
import difflib
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import numpy as np

from sla_dsl.business_time.calendar import BusinessCalendar, calendar_for
from sla_dsl.business_time.holiday_sets import holiday_name
from sla_dsl.business_time.rep_hours import hours_text
from sla_dsl.business_time.zones import day_start_us, local_time, to_us
from sla_dsl.evaluation.lifecycle import LATEST
from sla_dsl.evaluation.replay import (
    BEFORE,
    IN_PERIOD,
    NONE,
    NOT_YET,
    STATUS_NAMES,
    STOPPED,
    ClauseResult,
    Evaluation,
    Replay,
    evaluate,
)
from sla_dsl.history.columns import EVENT_CODE, EVENTS, NO_ACTOR, History
from sla_dsl.language import model as m
from sla_dsl.language import plain_words as say
from sla_dsl.language.formatter import expr as expr_text
from sla_dsl.language.formatter import item_line
from sla_dsl.printable import printable

FORMAT_VERSION = 1
_ITEM_OF_CLAUSE = {"first touch": "first_touch", "touches": "touches",
                   "disposition": "disposition", "threshold": "when"}
_STOPS = {"first touch": ("touch", "connected"), "touches": ("touch", "connected"),
          "disposition": ("accepted", "rejected")}  # and handing on (the next level's handoff)
_LUNCH = (11 * 60, 15 * 60)  # a break between shifts inside these hours is a lunch break


class UnknownLead(LookupError):
    """The lead id is not in the history; carries the nearest ids for "did you mean"."""

    def __init__(self, lead_id: str, suggestions: list[str],
                 examples: list[str] | None = None) -> None:
        super().__init__(lead_id)
        self.lead_id = lead_id
        self.suggestions = suggestions
        self.examples = examples or []

    def __str__(self) -> str:
        text = f"no lead {self.lead_id!r} in the history"
        if self.suggestions:
            text += "\n  help: did you mean " + say.listing(
                [repr(s) for s in self.suggestions], "or") + "?"
        else:
            text += ("\n  help: lead ids are the history's lead_id column, written exactly"
                     + (f" (such as {say.listing([repr(s) for s in self.examples])})"
                        if self.examples else ""))
        return text


@dataclass
class Event:
    at: dt.datetime
    event: str
    actor: str | None
    fields: dict[str, str]
    notes: list[str] = field(default_factory=list)

    def words(self) -> str:
        return self.event + (f" by {self.actor}" if self.actor else "")


@dataclass
class Segment:
    kind: str  # "open", "closed" or "paused"
    start: dt.datetime
    end: dt.datetime
    why: list[str]
    counted: dt.timedelta


@dataclass
class PauseSpan:
    start: dt.datetime
    end: dt.datetime | None  # None: still paused as of the audit
    started_by: Event | None
    ended_by: Event | None


@dataclass
class Clock:
    clause: str
    wording: str
    party: str | None
    status: str
    due: dt.datetime | None
    at: dt.datetime | None
    business: bool
    calendar: str
    explanation: str
    started_by: Event | None = None
    stopped_by: Event | None = None
    runs_until: dt.datetime | None = None
    segments: list[Segment] = field(default_factory=list)
    pauses: list[PauseSpan] = field(default_factory=list)
    handoff: str | None = None  # the block it belongs to (a multilevel lead has several)
    attempt: int | None = None  # which round of the lead's handoffs, when it had several
    reassign: str | None = None  # what a reassignment did to it (`on reassign restart|split`)
    # `clocks run on owner hours`: whose hours it ran on (rep, timezone, hours, source; rep
    # and the rest None when the owner was unknown and the calendar's hours counted)
    owner_hours: dict | None = None
    # who answers for the verdict: the evaluator's `ClauseResult.owner`, the owner the owners
    # table and the consequences name (the lead's owner when it was decided)
    owner: str | None = None
    # when the clock started, where that is not the lead's first handoff (a later level's
    # handoff, a later attempt's, a restart at a reassignment); None where it is
    clock_start: dt.datetime | None = None
    # why the due time falls where it does, when a boundary rule of business time decides it
    # (due at a close; business days started while closed); None otherwise
    due_rule: str | None = None

    @property
    def counted(self) -> dt.timedelta:
        return sum((s.counted for s in self.segments), dt.timedelta())


@dataclass
class LeadAudit:
    lead_id: str
    policy: str | None
    timezone: str
    as_of: dt.datetime
    handed_off_at: dt.datetime | None
    segment: str | None
    handoff: str | None
    sender: str | None
    receiver: str | None
    owner: str | None
    events: list[Event]
    clocks: list[Clock]
    note: str | None = None


# ---------------------------------------------------------------- finding the lead


def find_lead(history: History, lead_id: str) -> int:
    """The lead's index in the history, or `UnknownLead` with the closest ids."""
    ids = history.lead_ids.astype(str)
    found = np.flatnonzero(ids == lead_id)
    if len(found):
        return int(found[0])
    wanted = lead_id.strip().casefold()
    same = [i for i in ids.tolist() if i.casefold() == wanted or _number_key(i) ==
            _number_key(lead_id) != ("", None)]  # `p1` for `P1`, `L000001` for `L0000001`
    near = [i for i in ids.tolist() if abs(len(i) - len(lead_id)) <= 2 and i not in same]
    close = same + difflib.get_close_matches(lead_id, near, n=3, cutoff=0.6)
    raise UnknownLead(lead_id, close[:3], ids[:3].tolist())


def _number_key(lead_id: str) -> tuple[str, int | None]:
    """An id as its text and the number that ends it, so a zero too many or too few still
    finds the lead."""
    text = lead_id.strip()
    digits = len(text) - len(text.rstrip("0123456789"))
    if not digits:
        return text.casefold(), None
    return text[:-digits].casefold(), int(text[-digits:])


def one_lead(history: History, index: int) -> History:
    """The history of one lead, as a history of its own (events are sorted by lead)."""
    lo, hi = (int(i) for i in np.searchsorted(history.lead, [index, index + 1]))
    rows = slice(lo, hi)
    return History(
        lead=np.zeros(hi - lo, dtype=history.lead.dtype), at=history.at[rows],
        event=history.event[rows], actor=history.actor[rows], row=history.row[rows],
        lead_ids=history.lead_ids[index:index + 1], actors=history.actors,
        fields={name: column[rows] for name, column in history.fields.items()},
        rows_read=hi - lo,
        source=None if history.source is None else history.source[rows],
        sources=history.sources, actor_zones=history.actor_zones, absences=history.absences,
        reps=history.reps)


# ---------------------------------------------------------------- the audit


@dataclass
class _Lead:
    """What every clock of one round of a lead shares: its handoff block, the handoff instant
    and the place in `events` the round's events begin at (`ClauseResult.first_row`), the
    as-of time, its events and the evaluator's pause spans (µs, UTC)."""

    policy: m.Policy
    handoff: m.Handoff
    start: int
    first: int
    as_of: int
    zone: ZoneInfo
    events: list[Event]
    spans: list[tuple[int, int]]
    pauses: list[PauseSpan]
    replay: Replay
    # the places in `events` of this round's events, first to before end (the next round's
    # or the next level's handoff); a lead's only round reads from its first event
    scope: tuple[int, int] | None = None
    absent: list[tuple[int, int, str]] = field(default_factory=list)  # the owner's absences
    # the block's label when the lead has clocks in several blocks (levels): its notes on the
    # events name the clause they are about, `sql's first touch`; None: the clause alone
    label: str | None = None

    def name(self, clause: str) -> str:
        """A clause as the notes on the events name it."""
        return f"{self.label}'s {clause}" if self.label else clause


def audit_lead(policy: m.Policy, history: History, lead_id: str,
               as_of: int | None = None) -> LeadAudit:
    """Every clock of one lead as of `as_of` (µs; default the latest event of the whole
    history, as `sla evaluate` reads it). Raises `UnknownLead`."""
    index = find_lead(history, lead_id)
    as_of = int(history.at.max()) if as_of is None else as_of
    lead = one_lead(history, index)
    evaluation = evaluate(policy, lead, as_of)
    zone = ZoneInfo(policy.timezone or "UTC")
    events = _events(lead, as_of, zone)
    start = int(evaluation.handoff_at[0])
    label = evaluation.handoff[0]
    audit = LeadAudit(
        lead_id=str(history.lead_ids[index]), policy=policy.title, timezone=zone.key,
        as_of=local_time(as_of, zone),
        handed_off_at=None if start == NONE else local_time(start, zone),
        segment=evaluation.segment[0], handoff=label, sender=None, receiver=None,
        owner=evaluation.owner[0], events=events, clocks=[])
    levels = [b for b, leads in evaluation.block_leads.items() if len(leads) == 1]
    if evaluation.placement is not None and evaluation.placement[0] != IN_PERIOD:
        audit.note = _out_of_period(policy, evaluation, zone)
        return audit
    if start == NONE and not levels:
        handoffs = [e for e in events if e.event == "handoff"]
        audit.note = "not handed off as of the audit: no clock has started" if not handoffs \
            else (f"handed off ({handoffs[0].words()}), but no handoff block of that level "
                  "applies to the lead as it stood then: no clock runs")
        return audit
    rows = _clock_rows(evaluation)
    timed = {result.handoff for result, _, _ in rows if result.clause != "threshold"}
    if start != NONE:
        _note(events, start, _starts_words(policy, label, timed, len(levels) > 1), ("handoff",))
    if label is None and not levels:
        audit.note = ("handed off, but no handoff block of the policy applies to it "
                      f"(segment {audit.segment or 'none'}): no clock runs")
        return audit
    first = next(h for h in policy.handoffs if h.label == (label or levels[0]))
    audit.handoff = first.label
    audit.sender = first.sender.value if first.sender else None
    audit.receiver = first.receiver.value if first.receiver else None
    if first.receiver is None and len(levels) < 2:
        audit.note = f"handed to nobody (handoff {first.label}): no clock runs"
        return audit
    if not rows:
        audit.note = f"handoff {first.label} has no clause: no clock runs"
        return audit
    if audit.handed_off_at is None:  # only a later level took the lead: speak of that one
        audit.handed_off_at = local_time(int(evaluation.block_start[first.label][0]), zone)
        audit.owner = next((r.owner[0] for r in evaluation.clauses
                            if r.handoff == first.label and len(r.leads) == 1), audit.owner)
    replay = Replay(policy, lead, as_of)
    # the lead's block at each level of the agreement, each with clocks from its own handoff
    for block_label, leads in evaluation.block_leads.items():
        block = next(h for h in policy.handoffs if h.label == block_label)
        if len(leads) != 1 or block.receiver is None:
            continue
        block_start = evaluation.block_start[block_label]
        if block_label != label or start == NONE:
            _note(events, int(block_start[0]), _starts_words(policy, block_label, timed, True),
                  ("handoff",))
    attempts = {attempt for _, _, attempt in rows}
    several = len({result.handoff for result, _, _ in rows}) > 1
    contexts: dict[tuple[str, int, int], _Lead] = {}
    noted: set[tuple[str, int]] = set()
    for result, i, attempt in rows:
        block = next(h for h in policy.handoffs if h.label == result.handoff)
        row = _row(result, i)
        clock_start = np.array([int(row.start[0])], dtype=np.int64)
        first = int(row.first_row[0])
        if attempt > 1 and (result.handoff, attempt) not in noted:
            noted.add((result.handoff, attempt))
            _note(events, int(clock_start[0]), f"handed off again: starts attempt {attempt} of "
                  f"handoff {result.handoff}'s clocks", ("handoff",), first)
        key = (result.handoff, int(clock_start[0]), first)
        if key not in contexts:
            spans = replay.pauses(block, np.array([0]), clock_start).get(0, [])
            absent = _absences(replay, block, clock_start, zone)
            label = block.label if several else None
            contexts[key] = _Lead(policy, block, int(clock_start[0]), first, as_of, zone, events,
                                  spans, _pause_spans(spans, events, zone, block, absent, label),
                                  replay, _scope(row, len(attempts) > 1), absent, label)
        clock = _threshold(policy, block, row, replay, clock_start, zone) \
            if result.clause == "threshold" else _clock(contexts[key], row)
        clock.handoff = result.handoff
        clock.attempt = attempt if len(attempts) > 1 else None
        clock.reassign = _reassign_words(row, events, zone, contexts[key].name(row.clause))
        clock.owner = row.owner[0]
        if audit.handed_off_at is None or int(clock_start[0]) != to_us(audit.handed_off_at):
            clock.clock_start = local_time(int(clock_start[0]), zone)
        audit.clocks.append(clock)
    return audit


def _starts_words(policy: m.Policy, label: str | None, timed: set[str], levels: bool) -> str:
    """What a handoff did to the clocks, for its note in the events: it starts every clock of
    its block (`levels`: of the block named, the lead having blocks at several levels), or,
    where the block runs none (Olist's `handoff every lead` asks for nothing), says so rather
    than "starts every clock" over a block with none. `timed`: the blocks with a clock (a
    threshold is read at the handoff, not timed)."""
    if label in timed:
        return f"starts the clocks of handoff {label}" if levels else "starts every clock"
    if label is None:
        return "starts no clock: no handoff block applies to the lead as it stood then"
    block = next(h for h in policy.handoffs if h.label == label)
    if block.receiver is None:
        return f"starts no clock: handoff {label} hands the lead to nobody"
    if block.item("when") is not None:
        return f"starts no clock: handoff {label} has only a threshold, read at the handoff"
    return f"starts no clock: handoff {label} has no clause"


def _scope(row: ClauseResult, attempts: bool) -> tuple[int, int]:
    """The events of one round of a block, as places in the lead's events, as the evaluator
    read them: to before the next attempt's handoff (a rejection at the instant of the
    re-handoff but before it is the earlier attempt's) or the next level's (a level's work
    ends where it hands the lead on: the advisors' touches are not the MDR's). From the
    round's first event when the lead has `attempts`, else from its first event of all (so a
    touch before the handoff is named as such)."""
    end = int(row.end_row[0]) if row.end_row is not None else LATEST
    return (int(row.first_row[0]) if attempts else 0), end


def _clock_rows(evaluation: Evaluation) -> list[tuple[ClauseResult, int, int]]:
    """Each clock of the one lead: (result, row, attempt), block by block, each attempt's
    clocks together in the policy's order of clauses."""
    rows = []
    blocks: dict[str, int] = {}
    for result in evaluation.clauses:
        order = blocks.setdefault(result.handoff, len(blocks))
        for i in range(len(result.leads)):
            attempt = 1 if result.attempt is None else int(result.attempt[i])
            rows.append((order, attempt, len(rows), result, i))
    rows.sort(key=lambda r: r[:3])
    return [(result, i, attempt) for _, attempt, _, result, i in rows]


def _row(result: ClauseResult, i: int) -> ClauseResult:
    """One row of a result, as a result of its own (the clock functions read row 0)."""
    def cut(column):
        return None if column is None else column[i:i + 1]
    return ClauseResult(result.clause, result.handoff, result.party, cut(result.leads),
                        cut(result.status), cut(result.due), cut(result.at),
                        start=cut(result.start), owner=cut(result.owner),
                        counted=cut(result.counted), attempt=cut(result.attempt),
                        split_at=cut(result.split_at), split_from=cut(result.split_from),
                        reassign=result.reassign, hours_of=cut(result.hours_of),
                        first_row=cut(result.first_row), end_row=cut(result.end_row))


def _reassign_words(row: ClauseResult, events: list[Event], zone: ZoneInfo,
                    name: str) -> str | None:
    """What a reassignment did to this clock, when its block says (`on reassign ...`), and
    whose time is whose; None for a clock that runs on as it always did. `name` is the
    clause as the notes on the events name it."""
    if row.reassign == "continue" or row.clause == "threshold":
        return None
    owner = row.owner[0] or "no owner"
    start = int(row.start[0])
    if row.reassign == "restart":
        moved = next((e for e in events if e.event == "assigned" and to_us(e.at) == start),
                     None)
        if moved is None:
            return f"on reassign restart: no reassignment while it ran; {owner}'s clock"
        moved.notes.append(f"restarts {name} for {moved.actor}")
        return f"on reassign restart: started again {when(moved.at)} for {owner}"
    split_at = int(row.split_at[0]) if row.split_at is not None else NONE
    if split_at == NONE:
        return f"on reassign split: no reassignment while it ran; all of it {owner}'s"
    before = row.split_from[0] or "no owner"
    moved = local_time(split_at, zone)
    for event in events:
        if event.event == "assigned" and to_us(event.at) == split_at:
            event.notes.append(f"splits {name}: {before} before, {owner} after")
            break
    return (f"on reassign split: {when(local_time(start, zone))} to {when(moved)} is "
            f"{before}'s, from {when(moved)} {owner}'s")


def _out_of_period(policy: m.Policy, evaluation: Evaluation, zone: ZoneInfo) -> str:
    """Why a lead has no clock: it came in while the agreement was not in force, or after the
    as-of time."""
    if evaluation.placement[0] == NOT_YET:
        return ("no event of the lead by the as-of time: it comes in later, so no clock runs "
                "and the lead is not judged")
    dated = int(evaluation.dated_at[0])  # its first handoff, else its first event
    history = evaluation.history
    handed = ((history.event == EVENT_CODE["handoff"]) & (history.at <= evaluation.as_of)).any()
    how = "handed off" if handed else "first seen"
    effective = policy.effective
    if evaluation.placement[0] == BEFORE:
        edge = f"before the agreement's effective date {effective.start.value.isoformat()}"
    else:
        edge = f"after the agreement's end {effective.until.value.isoformat()}"
    return (f"{how} {local_time(dated, zone):%Y-%m-%d %H:%M %Z}, {edge}: out of the agreement's "
            "period, so no clock runs and the lead is not judged")


def elapsed(start: dt.datetime, end: dt.datetime) -> dt.timedelta:
    """Real time between two instants. Subtracting two datetimes of one zone compares their
    wall times (62 hours over a spring-forward weekend that lasted 61), so go through instants."""
    return dt.timedelta(microseconds=to_us(end) - to_us(start))


def _events(lead: History, as_of: int, zone: ZoneInfo) -> list[Event]:
    out = []
    for i in np.flatnonzero(lead.at <= as_of):
        actor = None if lead.actor[i] == NO_ACTOR else str(lead.actors[lead.actor[i]])
        values = {name: str(column[i]) for name, column in sorted(lead.fields.items())
                  if column[i] is not None}
        out.append(Event(local_time(int(lead.at[i]), zone), EVENTS[lead.event[i]], actor, values))
    return out


def _note(events: list[Event], at: int, note: str, kinds: tuple[str, ...],
          since: int = 0) -> Event | None:
    """Mark the first event of one of `kinds` at instant `at` from place `since` in `events`
    on (a round's first row: one instant may hold the end of a round and the next one's
    handoff), and return it."""
    place = _place(events, at, kinds, since)
    if place is None:
        return None
    events[place].notes.append(note)
    return events[place]


def _place(events: list[Event], at: int, kinds: tuple[str, ...], since: int) -> int | None:
    """The place in `events` of the first event of one of `kinds` at instant `at` from
    `since` on (None: none)."""
    for place in range(max(since, 0), len(events)):
        event = events[place]
        if event.event in kinds and to_us(event.at) == at:
            return place
    return None


def _absences(replay: Replay, handoff: m.Handoff, start: np.ndarray, zone: ZoneInfo
              ) -> list[tuple[int, int, str]]:
    """The lead's pauses for its owner's absences (`when owner absent pause`), each with the
    words the audit gives it: `owner ana absent 2027-03-02 to 2027-03-03 (vacation)`."""
    absences = replay.history.absences
    out = []
    for begin, end, k in replay.absence_spans(handoff, np.array([0]), start).get(0, []):
        first, last = absences.said[k]
        reason = absences.reason[k]
        span = (f"{_absence_bound(first, int(absences.begin[k]), zone)} to "
                f"{_absence_bound(last, int(absences.end[k]), zone)}")
        out.append((begin, end, f"owner {absences.rep[k]} absent {span}"
                    + (f" ({reason})" if reason else "")))
    return out


def _absence_bound(said: str, instant: int, zone: ZoneInfo) -> str:
    """One end of an absence as the audit writes its other times: a whole day as the file's
    date (a local date of the policy's zone already), a time as the policy's local time with
    its abbreviation, whatever offset the file wrote it with (`2027-04-19T05:00:00Z` is
    `Mon 2027-04-19 00:00:00 CDT` in Chicago)."""
    if len(said.strip()) == 10:  # a date, as the absences file's reader tells them apart
        return said.strip()
    return when(local_time(instant, zone))


def _pause_spans(spans: list[tuple[int, int]], events: list[Event], zone: ZoneInfo,
                 handoff: m.Handoff, absent: list[tuple[int, int, str]] | None = None,
                 label: str | None = None) -> list[PauseSpan]:
    """The block's pauses as spans, each marking the events that began and ended it; with
    `label` (a lead with clocks in several blocks), naming the block whose clocks it stops:
    a pause stops every clock of its own block only."""
    clocks = f"handoff {label}'s clocks" if label else "every clock"
    condition = " or ".join(expr_text(i.condition) for i in handoff.items
                            if isinstance(i, m.Pause))
    merged: list[tuple[int, int]] = []
    for begin, end in sorted(spans):  # a pause re-recorded while it holds is one pause
        if merged and begin <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((begin, end))
    out = []
    for begin, end in merged:
        if any(p <= begin and end <= q for p, q, _ in absent or []):  # no event starts it
            out.append(PauseSpan(local_time(begin, zone), local_time(end, zone), None, None))
            continue
        started = next((e for e in events if to_us(e.at) == begin and e.fields), None)
        if started is None:  # the pause already held at the handoff
            started = next((e for e in events if to_us(e.at) == begin), None)
        if started is not None:
            started.notes.append(f"pauses {clocks} ({condition})")
        ended = None
        if end != STOPPED:
            ended = next((e for e in events if to_us(e.at) == end and e.fields), None)
            if ended is not None:
                ended.notes.append(f"resumes {clocks}")
        out.append(PauseSpan(local_time(begin, zone),
                             None if end == STOPPED else local_time(end, zone), started, ended))
    return out


# ---------------------------------------------------------------- one clock


def _clock(lead: _Lead, result: ClauseResult) -> Clock:
    policy, handoff, start, as_of, zone = (lead.policy, lead.handoff, lead.start, lead.as_of,
                                           lead.zone)
    events = lead.events
    item = handoff.item(_ITEM_OF_CLAUSE[result.clause])
    within: m.Duration = item.within
    rep = None if result.hours_of is None else result.hours_of[0]
    calendar = lead.replay.calendar_of(within, rep) if within.business else \
        calendar_for(policy, within)
    status = STATUS_NAMES[int(result.status[0])]
    due, at = int(result.due[0]), int(result.at[0])
    if at != NONE:
        end = at
    elif due == STOPPED or due > as_of:
        end = as_of
    else:
        end = due
    clock = Clock(
        clause=result.clause, wording=item_line(item), party=result.party, status=status,
        due=None if due in (NONE, STOPPED) else local_time(due, zone),
        at=None if at == NONE else local_time(at, zone), business=within.business,
        calendar=_calendar_words(policy, within, result, lead.replay), explanation="",
        runs_until=local_time(end, zone), pauses=lead.pauses)
    started = _place(events, start, ("handoff",), lead.first)
    clock.started_by = None if started is None else events[started]
    if at != NONE:
        stop = f"stops {lead.name(result.clause)} ({status})"
        clock.stopped_by = _note(events, at, stop, _STOPS[result.clause], lead.first)
        if clock.stopped_by is None and result.clause == "disposition":  # handed on
            after = lead.first if started is None else started + 1
            clock.stopped_by = _note(events, at, stop, ("handoff",), after)
    counted_touches = 0
    if isinstance(item, m.Touches):
        counted_touches = _mark_touches(handoff, item, start, due, at, events, lead.replay,
                                        lead.scope, lead.label)
    if result.hours_of is not None and within.business:
        clock.owner_hours = _owner_hours_doc(lead.replay, within, rep)
    clock.segments = _segments(lead, within, calendar, end, cut=due)
    clock.explanation = _explain(clock, item, calendar, as_of, zone, counted_touches)
    paused = any(begin < due for begin, _ in lead.spans)
    clock.due_rule = _due_rule(within, calendar, local_time(start, zone), clock.due, paused)
    return clock


def _calendar_words(policy: m.Policy, within: m.Duration, result: ClauseResult | None = None,
                    replay: Replay | None = None) -> str:
    timezone = policy.timezone or "UTC"
    if not within.business:  # days and weeks on the wall clock of the calendar's own zone
        return f"wall-clock time: runs day and night " \
               f"({say.zone(calendar_for(policy, within).timezone.key)})"
    model_calendar = _model_calendar(policy, within)
    if model_calendar is None:
        words = f"no calendar: business time runs day and night ({say.zone(timezone)})"
    else:
        words = (f"counted on the {say.words(model_calendar.name.value)} calendar: "
                 + say.calendar_hours(model_calendar, timezone))
    if result is None or result.hours_of is None or replay is None:
        return words
    return _owner_hours_words(replay, within, result.hours_of[0], model_calendar, words)


def _owner_hours_doc(replay: Replay, within: m.Duration, rep: str | None) -> dict:
    """Whose hours a clock ran on, for the JSON audit: the owner, and the zone, hours and
    source of their calendar, or (`own` false) the calendar's for an owner nothing is known
    of."""
    known = replay.owner_calendars.knows(rep)
    calendar = replay.calendar_of(within, rep)
    return {"owner": rep, "own": known is not None, "timezone": calendar.timezone.key,
            "hours": hours_text(calendar.week),
            "source": known.source if known is not None else None}


def _owner_hours_words(replay: Replay, within: m.Duration, rep: str | None,
                       model_calendar: m.Calendar | None, calendar_words: str) -> str:
    """Whose hours a clock ran on (`clocks run on owner hours`): the owner's, with their zone
    and where they were read, or why the calendar's."""
    known = replay.owner_calendars.knows(rep)
    if known is None:
        who = f"owner {rep} is not in the reps file and has no zone from the export" if rep \
            else "the lead had no owner when the clock started"
        return f"{calendar_words} ({who}: the calendar's hours, not the owner's)"
    calendar = replay.calendar_of(within, rep)
    dates = f"the {say.words(model_calendar.name.value)} calendar's" if model_calendar \
        else "no"
    hours = f"{rep}'s own hours" if known.weekly else \
        f"the calendar's hours in {rep}'s own zone"
    return (f"counted on {hours}: {hours_text(calendar.week)}, "
            f"{calendar.timezone.key} ({known.source}), with {dates} closed days and holidays")


def _model_calendar(policy: m.Policy, within: m.Duration) -> m.Calendar | None:
    """The calendar statement `calendar_for` reads, for naming closed days."""
    if within.calendar:
        return next((c for c in policy.calendars if c.name.value == within.calendar.value), None)
    return policy.calendars[0] if policy.calendars else None


def _mark_touches(handoff: m.Handoff, item: m.Touches, start: int, due: int, at: int,
                  events: list[Event], replay: Replay,
                  scope: tuple[int, int] | None = None, label: str | None = None) -> int:
    """Say of each touch of the round (`scope`) whether the `touches` clause counted it, as
    the evaluator does (its spacing rule, its window): the touches a rep is sure they made
    are the dispute. With `label` (clocks in several blocks) each note names the clause it is
    about: the advisors' touch is not counted by the MDR's cadence, and must not read as if
    no clause counted it."""
    touches = [e for place, e in enumerate(events) if e.event in ("touch", "connected")
               and (scope is None or scope[0] <= place < scope[1])]
    times = np.array([to_us(e.at) for e in touches], dtype=np.int64)
    inside = (times >= start) & ((times <= due) | (due == STOPPED))
    counted = np.zeros(len(times), dtype=bool)
    if inside.any():
        counted[inside] = replay.spaced(handoff, np.zeros(int(inside.sum()), dtype=np.int64),
                                         times[inside])
    spacing = handoff.item("spacing")
    goal = int(item.count.value)
    number = 0
    for touch, when, is_inside, counts in zip(touches, times, inside, counted, strict=True):
        if when < start:
            touch.notes.append(_not_counted("before the handoff", label))
        elif not is_inside:
            touch.notes.append(_not_counted("after the touches window", label))
        elif counts:
            number += 1
            if at == NONE or when <= at:
                touch.notes.append(f"touch {number} of {goal}"
                                   + (f" for {label}'s touches" if label else ""))
        elif when == at and touch.event == "connected":
            continue  # the connect that met the clause: its note says so
        elif isinstance(spacing, m.Spacing):
            gap = say.duration(spacing.at_least, calendar_names=False)
            touch.notes.append(_not_counted(f"less than {gap} after the touch before it", label))
    return min(number, goal)


def _not_counted(why: str, label: str | None) -> str:
    """A touch the `touches` clause did not count, and why: `after the touches window: not
    counted`, or with several blocks, naming whose clause: `not counted for
    good_fit_interested's touches: after its window`."""
    if label is None:
        return f"not counted: {why}" if why.startswith("less") else f"{why}: not counted"
    return f"not counted for {label}'s touches: {why.replace('the touches window', 'its window')}"


def _threshold(policy: m.Policy, handoff: m.Handoff, result: ClauseResult, replay: Replay,
               start: np.ndarray, zone: ZoneInfo) -> Clock:
    item = handoff.item("when")
    status = STATUS_NAMES[int(result.status[0])]
    names = _fields_read(policy, item.condition)
    read = replay.attributes_at(start, names)
    values = {name: read.get(name, [None])[0] for name in sorted(names)}
    shown = ", ".join(f"{name} = {value!r}" if value is not None else f"{name} not set"
                      for name, value in values.items())
    verdict = "it did" if status == "met" else "it did not: a breach by the sender"
    rule = say.Conditions(policy).words(item.condition)
    explanation = (f"a lead is handed over only when it {rule}; {verdict}"
                   + (f" (at the handoff: {shown})" if shown else ""))
    at = local_time(int(result.at[0]), zone)
    return Clock(clause="threshold", wording=item_line(item), party=result.party,
                 status=status, due=at, at=at, business=False, calendar="no clock: read at "
                 "the handoff", explanation=explanation)


def _fields_read(policy: m.Policy, expr: m.Expr,
                 seen: set[tuple[str, str]] | None = None) -> set[str]:
    """The lead fields a condition reads, through the definitions it names."""
    seen = set() if seen is None else seen
    definitions = {d.name.value: d for d in reversed(policy.definitions)}
    names: set[str] = set()
    for node in m.walk_expr(expr):
        if isinstance(node, m.Compare | m.Membership | m.PatternMatch | m.Presence):
            names.add(node.field.value)
        elif isinstance(node, m.Ref | m.FitRef | m.InterestRef):
            name = node.name.value
            definition = definitions.get(name)
            if isinstance(node, m.FitRef | m.InterestRef):
                definition = next((d for d in policy.definitions if d.name.value == name
                                   and d.category == node.kind), None)
            if definition is None:
                names.add(name)
            elif (definition.category, name) not in seen:
                seen.add((definition.category, name))
                names |= _fields_read(policy, definition.when, seen)
    return names


# ---------------------------------------------------------------- the timeline of a clock


def _segments(lead: _Lead, within: m.Duration, calendar: BusinessCalendar, end: int,
              cut: int) -> list[Segment]:
    """[handoff, end) as open, closed and paused pieces, cut at the due time when it falls
    inside. A business clock is stopped by the calendar first (a pause at night costs
    nothing), then by pauses; a wall clock only by pauses."""
    start, zone, spans = lead.start, lead.zone, lead.spans
    if end <= start:
        return []
    if within.business:
        open_spans = [(to_us(a), to_us(b)) for a, b in
                      calendar.intervals(local_time(start, zone), local_time(end, zone))]
    else:
        open_spans = [(start, end)]
    paused = [(max(a, start), min(b, end)) for a, b in spans if b > start and a < end]
    why_paused = [expr_text(i.condition) for i in lead.handoff.items if isinstance(i, m.Pause)]
    pieces: list[tuple[str, int, int]] = []
    cursor = start
    for a, b in open_spans:
        if a > cursor:
            pieces.append(("closed", cursor, a))
        pieces += _split_by_pauses(a, b, paused)
        cursor = b
    if cursor < end:
        pieces.append(("closed", cursor, end))
    if start < cut < end:
        pieces = [part for kind, a, b in pieces
                  for part in ((kind, a, min(b, cut)), (kind, max(a, cut), b)) if part[2] > part[1]]
    model_calendar = _model_calendar(lead.policy, within) if within.business else None
    pause_words = f"while {' or '.join(why_paused)}"

    def paused_why(a: int, b: int) -> list[str]:
        return [w for p, q, w in lead.absent if p <= a and b <= q] or [pause_words]
    out: list[Segment] = []
    closed_inside: dict[int, list[str]] = {}  # per paused segment, why it was also closed
    for kind, a, b in pieces:
        why: list[str] = []
        inside: list[str] = []
        if kind == "closed":
            why = _closed_reasons(calendar, model_calendar, a, b)
            if any(p <= a and b <= q for p, q in paused):  # a night inside a pause
                kind, why, inside = "paused", paused_why(a, b), why
        elif kind == "paused":
            why = paused_why(a, b)
        if out and kind == "paused" == out[-1].kind and to_us(out[-1].end) == a != cut:
            out[-1].end = local_time(b, zone)  # one pause reads as one stretch, nights included
        else:
            counted = dt.timedelta(microseconds=b - a) if kind == "open" else dt.timedelta()
            out.append(Segment(kind, local_time(a, zone), local_time(b, zone), why, counted))
        reasons = closed_inside.setdefault(len(out) - 1, [])
        reasons += [r for r in inside if r not in reasons]
    for index, reasons in closed_inside.items():
        if reasons:
            out[index].why.append("also closed: " + ", ".join(reasons))
    return out


def _split_by_pauses(a: int, b: int, paused: list[tuple[int, int]]) -> list[tuple[str, int, int]]:
    out = []
    cursor = a
    for p, q in sorted(paused):
        p, q = max(p, a), min(q, b)
        if q <= p:
            continue
        if p > cursor:
            out.append(("open", cursor, p))
        out.append(("paused", max(p, cursor), q))
        cursor = max(cursor, q)
    if cursor < b:
        out.append(("open", cursor, b))
    return [piece for piece in out if piece[2] > piece[1]]


def _closed_reasons(calendar: BusinessCalendar, model_calendar: m.Calendar | None, a: int,
                    b: int) -> list[str]:
    """Why the calendar was closed over [a, b), day by day in the calendar's own timezone:
    night, weekend, a closed date, a break between shifts."""
    tz = calendar.timezone
    first = local_time(a, tz).date()
    last = local_time(b - 1, tz).date()
    open_weekdays: set[int] = set()
    closed: list[tuple[dt.date, dt.date]] = []
    opened: list[tuple[dt.date, dt.date]] = []
    if model_calendar is not None:
        for item in model_calendar.items:
            if isinstance(item, m.OpenHours):
                open_weekdays |= {d for days in item.days for d in days.weekdays}
            elif isinstance(item, m.ClosedDates):
                closed += [(r.first, r.last) for r in item.dates]
            elif isinstance(item, m.OpenDates):
                opened += [(r.first, r.last) for r in item.dates]
    reasons: list[str] = []
    day = first
    while day <= last:
        start_of_day = max(a, day_start_us(day, tz))
        end_of_day = min(b, day_start_us(day + dt.timedelta(days=1), tz))
        shut = [] if any(f <= day <= t for f, t in opened) else closed
        reason = _closed_reason(calendar, day, start_of_day, end_of_day, open_weekdays, shut)
        if reason not in reasons:
            reasons.append(reason)
        day += dt.timedelta(days=1)
    return reasons


def _closed_reason(calendar: BusinessCalendar, day: dt.date, a: int, b: int,
                   open_weekdays: set[int], closed: list[tuple[dt.date, dt.date]]) -> str:
    weekday = day.weekday()
    if weekday not in open_weekdays:
        return "weekend" if weekday >= 5 else f"closed on {say.WEEKDAY_NAMES[weekday]}s"
    if any(first <= day <= last for first, last in closed):
        return f"closed date {day:%A} {say.date(day)}"
    holiday = holiday_name(calendar.holidays, day) if calendar.holidays else None
    if holiday and not calendar.open_intervals_on(day):
        return f"holiday {day:%A} {say.date(day)} ({holiday})"
    hours = [(to_us(x), to_us(y)) for x, y in calendar.open_intervals_on(day)]
    if not hours or b <= hours[0][0] or a >= hours[-1][1]:
        return "night"
    gap_start = local_time(a, calendar.timezone)
    gap_end = local_time(b, calendar.timezone)
    minutes = (gap_start.hour * 60 + gap_start.minute, gap_end.hour * 60 + gap_end.minute)
    if _LUNCH[0] <= minutes[0] and minutes[1] <= _LUNCH[1]:
        return "lunch break"
    return "break between shifts"


# ---------------------------------------------------------------- what the clock says


def _explain(clock: Clock, item, calendar: BusinessCalendar, as_of: int, zone: ZoneInfo,
             counted_touches: int) -> str:
    kind = "business time" if clock.business else "time"

    def amount(a: dt.datetime, b: dt.datetime) -> str:
        if clock.business:
            return say.timedelta(calendar.open_time_between(a, b), days=False)
        return say.timedelta(elapsed(a, b))

    stop = clock.stopped_by.words() if clock.stopped_by else "the clause"
    if clock.status in ("met", "breached") and clock.at is not None:
        if clock.due is None:  # stopped while paused: there was no due time to be early for
            return (f"{clock.status}: {stop} at {when(clock.at)}, while the clock was paused "
                    "(no due time was set)")
        return f"{clock.status}: {stop} at {when(clock.at)}, {_margin(clock, calendar)}"
    if clock.status == "breached":
        if isinstance(item, m.Touches):
            missing = f"{counted_touches} of {int(item.count.value)} counted touches" + (
                " and no connect" if item.until_connected else "")
        else:
            missing = "no touch" if clock.clause == "first touch" else "no accept or reject"
        return f"breached: {missing} by the due time, {when(clock.due)}"
    if clock.due is None:
        since = clock.pauses[-1].start if clock.pauses else None
        return ("pending: the clock is paused" + (f" since {when(since)}" if since else "")
                + "; the due time is set when it resumes")
    left = amount(local_time(as_of, zone), clock.due)
    return f"pending: due {when(clock.due)}, {left} of {kind} left as of the audit"


def _margin(clock: Clock, calendar: BusinessCalendar) -> str:
    """How early or late a decided clock's stop was, rounded to the minute as its pieces are.
    A business clock stopped while the calendar was closed, with no open time between its
    stop and its due time, says so in plain time: "0 minutes of business time after the due
    time" beside a BREACHED reads as a verdict without a reason."""
    late = clock.status == "breached"
    first, last = (clock.due, clock.at) if late else (clock.at, clock.due)
    side = "after the due time" if late else "before the due time"
    if not clock.business:
        gap = say.timedelta(_rounded(elapsed(first, last)))
        return f"{gap} of time {side}" if late else f"with {gap} of time to spare"
    open_gap = calendar.open_time_between(first, last)
    if open_gap == dt.timedelta() and last > first:
        spare = "no business time passed after it" if late else "no business time to spare"
        return (f"{say.timedelta(_rounded(elapsed(first, last)))} {side}, outside business "
                f"hours ({spare})")
    words = say.timedelta(_rounded(open_gap), days=False)
    return f"{words} of business time {side}" if late else \
        f"with {words} of business time to spare"


def _rounded(length: dt.timedelta) -> dt.timedelta:
    """A length of a minute or more rounded to the nearest minute, as the pieces are shown;
    a shorter one as it is, so a late touch is never "0 minutes" late."""
    if abs(length) < dt.timedelta(minutes=1):
        return length
    return dt.timedelta(minutes=_minutes(length))


def _due_rule(within: m.Duration, calendar: BusinessCalendar, start: dt.datetime,
              due: dt.datetime | None, paused: bool) -> str | None:
    """Why a business clock is due when it is, where the two boundary rules of business time
    (language.md, "Business minutes and hours" and "Business days: the exact rule") decide it
    and a rep will ask: open time that runs out at a close is due at that close, so a touch
    after the close is late with no open time lost; a clock of business days started while
    closed starts at the next opening and is due at that time of day, so a touch the evening
    before is in time. None when neither applies (or pauses moved the due time)."""
    if not within.business or due is None:
        return None
    length = say.duration(within, calendar_names=False)
    if within.unit != "day":
        if calendar.is_open(due) or due <= start:
            return None
        runs = "runs" if within.amount == 1 else "run"
        return (f"due at the close: the {length} {runs} out exactly at the close, "
                f"{due:%H:%M}, and open time that runs out at a close is due at that close, "
                "not at the next opening")
    if paused or calendar.is_open(start):
        return None
    opening = calendar.next_open(start)
    days = int(within.amount)
    kept = "" if due.time() == opening.time() else ", kept inside that day's hours"
    return (f"handed off while the calendar was closed: the clock started at the next "
            f"opening, {when(opening)}, and {length} {'is' if days == 1 else 'are'} due "
            f"{say.counted(days, 'open day')} later at that time of day{kept}")


def when(moment: dt.datetime | None) -> str:
    """A time as a rep reads it: weekday, date, time and the zone's abbreviation (EST/EDT),
    so a daylight-saving change shows."""
    if moment is None:
        return "-"
    return moment.strftime("%a %Y-%m-%d %H:%M:%S %Z")


# ---------------------------------------------------------------- output


def _iso(moment: dt.datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _event_doc(event: Event | None) -> dict | None:
    if event is None:
        return None
    return {"at": _iso(event.at), "event": event.event, "actor": event.actor}


def document(audit: LeadAudit) -> dict:
    """The audit as plain data: what `--explain LEAD --format json` prints."""
    return {
        "format": FORMAT_VERSION, "lead_id": audit.lead_id, "policy": audit.policy,
        "timezone": audit.timezone, "as_of": _iso(audit.as_of),
        "handed_off_at": _iso(audit.handed_off_at), "segment": audit.segment,
        "handoff": audit.handoff, "from": audit.sender, "to": audit.receiver,
        "owner": audit.owner, "note": audit.note,
        "events": [dict(_event_doc(e), fields=e.fields, notes=e.notes) for e in audit.events],
        "clocks": [{
            "handoff": c.handoff, "clause": c.clause, "wording": c.wording, "party": c.party,
            "status": c.status,
            "due": _iso(c.due), "at": _iso(c.at), "owner": c.owner,
            **({"clock_start": _iso(c.clock_start)} if c.clock_start is not None else {}),
            "business": c.business,
            "calendar": c.calendar, "explanation": c.explanation, "due_rule": c.due_rule,
            "started_by": _event_doc(c.started_by), "stopped_by": _event_doc(c.stopped_by),
            "runs_until": _iso(c.runs_until),
            **({"attempt": c.attempt} if c.attempt is not None else {}),
            **({"reassign": c.reassign} if c.reassign is not None else {}),
            **({"owner_hours": c.owner_hours} if c.owner_hours is not None else {}),
            "counted_seconds": c.counted.total_seconds(),
            "pauses": [{"start": _iso(p.start), "end": _iso(p.end),
                        "started_by": _event_doc(p.started_by),
                        "ended_by": _event_doc(p.ended_by)} for p in c.pauses],
            "segments": [{"kind": s.kind, "start": _iso(s.start), "end": _iso(s.end),
                          "why": s.why, "counted_seconds": s.counted.total_seconds()}
                         for s in c.segments],
        } for c in audit.clocks],
    }


def render_text(audit: LeadAudit) -> str:
    out = [f"clock audit of lead {audit.lead_id}: {audit.policy or 'policy'}",
           f"  as of {when(audit.as_of)}; times in {audit.timezone}"]
    if audit.handed_off_at is not None:
        route = f"{audit.sender or '?'} to {audit.receiver or 'nobody'}"
        out.append(f"  segment {audit.segment or '-'}, handoff {audit.handoff or '-'} ({route}), "
                   f"owner {audit.owner or '-'}")
        out.append(f"  handed off {when(audit.handed_off_at)}")
    if audit.note:
        out.append(f"  {audit.note}")
    out += ["", "events:"]
    width = max((len(e.words()) for e in audit.events), default=0)
    time_width = max((len(when(e.at)) for e in audit.events), default=0)
    for event in audit.events:
        notes = "; ".join(event.notes)
        out.append(f"  {when(event.at).ljust(time_width)}  {event.words().ljust(width)}  "
                   f"{notes}".rstrip())
    several = len({clock.handoff for clock in audit.clocks}) > 1
    for clock in audit.clocks:
        name = f"{clock.handoff}: {clock.wording}" if several else clock.wording
        if clock.attempt is not None:
            name += f" [attempt {clock.attempt}]"
        out += ["", f"{name} ({clock.party or '-'}): {clock.status.upper()}"]
        if clock.clause != "threshold":  # a threshold has no clock: read at the handoff
            if clock.clock_start is not None:
                out.append(f"  {_start_words(clock)}")
            out.append(f"  due {when(clock.due)}" if clock.due else "  no due time yet")
            if clock.due_rule:
                out.append(f"  {clock.due_rule}")
        out.append(f"  {clock.explanation}")
        if clock.clause != "threshold":  # the sender's breach, not an owner's
            out.append(f"  {_owner_words(clock)}")
        if clock.reassign:
            out.append(f"  {clock.reassign}")
        out.append(f"  {clock.calendar}")
        if clock.segments:
            out.append(f"  from the handoff to {_end_words(clock)}:")
            out += _segment_lines(clock)
    return printable("\n".join(out) + "\n")


def _start_words(clock: Clock) -> str:
    """When a clock started that did not start at the lead's first handoff (the header's): a
    later level's or attempt's clocks run from their own handoff, and a rep reading the
    pieces must see where they begin."""
    by = clock.started_by
    if by is not None and by.at == clock.clock_start:
        return f"clock started {when(clock.clock_start)}, at the {by.words()}"
    return f"clock started {when(clock.clock_start)}"


def _owner_words(clock: Clock) -> str:
    """Who answers for the clock's verdict, and why that one: the lead's owner when it was
    decided, which is not the header's owner when the lead was reassigned or handed on to
    another level. The owners table and the consequences name the same owner."""
    moment = {"met": "when it was met", "breached": "at the due time"}.get(
        clock.status, "now, while it is pending")
    if clock.owner is None:
        return f"no owner answers for it: the lead had no owner {moment}"
    return f"owner {clock.owner} answers for it: the lead's owner {moment}"


def _end_words(clock: Clock) -> str:
    if clock.stopped_by is not None:
        return f"the {clock.stopped_by.event}"
    if clock.status == "pending":
        return "the as-of time"
    return "the due time"


def _segment_lines(clock: Clock) -> list[str]:
    """The pieces of a clock, one a line. Lengths are shown to the minute, and an open piece
    shows what it adds to the rounded running total, so the pieces a rep adds up make the
    total shown beside them (2h 54m and 1h 6m make 4h; truncated, 2h 53m and 1h 6m did not)."""
    lines = []
    total = dt.timedelta()
    shown_total = 0  # the running total as shown, in whole minutes
    due_shown = clock.due is None
    for segment in clock.segments:
        if not due_shown and clock.due is not None and clock.due <= segment.start:
            lines.append(f"    --- due {when(clock.due)} ---")
            due_shown = True
        total += segment.counted
        length = elapsed(segment.start, segment.end)
        minutes = _minutes(length)
        if segment.kind == "open":
            minutes = _minutes(total) - shown_total
            shown_total += minutes
        what = segment.kind if not segment.why else f"{segment.kind} ({', '.join(segment.why)})"
        if segment.kind == "paused" and segment.why[0].startswith("owner "):  # an absence
            what = f"paused: {', '.join(segment.why)}"
        counts = f"total {_short(shown_total, total, days=not clock.business):>7}" \
            if segment.kind == "open" else " " * 13
        end = segment.end.strftime("%H:%M:%S %Z") \
            if segment.end.date() == segment.start.date() else when(segment.end)
        shown = _short(minutes, length)
        lines.append(f"    {when(segment.start)} -> {end:<28} {shown:>8}  {counts}  {what}")
    if not due_shown and clock.due is not None and clock.status == "breached":
        lines.append(f"    --- due {when(clock.due)} ---")
    return lines


def _minutes(length: dt.timedelta) -> int:
    """A length in whole minutes, rounded to the nearest (half a minute up)."""
    return int((length.total_seconds() + 30) // 60)


def _short(minutes: int, length: dt.timedelta, *, days: bool = True) -> str:
    """`minutes` for a column (`2d 3h`, `1h 18m`); `<1m` for a length of some seconds that
    rounds to none, so a piece the clock did spend is never shown as nothing."""
    if minutes == 0 and length > dt.timedelta():
        return "<1m"
    return say.short(dt.timedelta(minutes=minutes), days=days)


AUDITS_IN_REPORT = 10


def audit_texts(policy: m.Policy, history: History, lead_ids: list[str], as_of: int,
                limit: int = AUDITS_IN_REPORT) -> dict[str, str]:
    """The clock audit's text of each of the first `limit` distinct leads, by lead id: what
    the HTML report shows under a breach. Each is `render_text(audit_lead(...))`, the very
    text of `sla evaluate --explain LEAD`, so the report and the audit cannot differ."""
    chosen = list(dict.fromkeys(lead_ids))[:limit]
    return {lead: render_text(audit_lead(policy, history, lead, as_of)) for lead in chosen}
