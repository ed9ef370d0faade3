"""The event loop: reps working leads' touches while their calendar is open, one at a time.

The story: a lead handed off waits for its first attempt (in its rep's own queue when it was
dealt to a rep, else in its team's shared queue); a free rep whose calendar is open takes the
waiting task the queue discipline puts first and starts it at once (the touch happens when the
rep starts it), and is busy for its work time. An attempt connects with the base probability
times the decay at the lead's delay. A connect ends a cadence `until connected` (one without
keeps its count); otherwise the next attempt is due `spacing` later (without a spacing, the
attempts are spread evenly over the window from the handoff) and joins the queue of the rep who
made the first touch, unless it would fall after the window.

The queue discipline decides which waiting task a free rep takes: `first-touch-first` (any
waiting first touch before any follow-up, each oldest first), `fifo` (oldest waiting first,
whatever it is) or `earliest-due-first` (the task whose clock is due soonest: a first touch's
deadline, a follow-up's window end).

It is a plain discrete-event loop over a heap, not simpy processes: a year of 50,000 leads with
six-touch cadences is 300,000 tasks per replication and a hundred replications, and one
generator per lead costs several times the bookkeeping itself. Arrivals are merged in from a
sorted array, so only follow-ups, rep releases and shift openings go through the heap.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from simulator.clock import OpenHours

FREE, READY, OPENS = 0, 1, 2
_LATER = 1e12  # added to a follow-up's key under first-touch-first
GAP_WALL, GAP_ELAPSED, GAP_OPEN = 0, 1, 2


@dataclass
class Floor:
    """What stays the same across replications: blocks, reps, calendars, discipline."""

    attempts: list[int]  # per block
    until_connected: list[bool]  # a connect ends the cadence (else it runs its count)
    gap_kind: list[int]
    gap: list[float]  # seconds (elapsed or open time) for GAP_ELAPSED / GAP_OPEN
    gap_hours: list[OpenHours | None]
    team_of_block: list[int]
    team_of_rep: list[int]
    reps_of_team: list[list[int]]
    hours: list[OpenHours]  # per team: when its reps work
    discipline: str
    end: float  # seconds: the horizon


@dataclass
class Leads:
    """One replication's leads, in arrival order (seconds after the origin)."""

    handed: list[float]
    ready: list[float]  # first attempt may start (the assignment, after a cap wait)
    block: list[int]  # -1: no block works the lead
    owner: list[int]  # rep id, or -1: the team's shared queue
    first_due: list[float]  # the first attempt's due time (earliest-due-first)
    window_end: list[float]  # the cadence's window end (inf without one)
    gap_wall: list[float]  # per lead: the window / count (blocks without a spacing)
    connect: list[float]  # per lead: the base connect probability (0 for untouched leads)


@dataclass
class Trace:
    """What happened, per attempt slot (lead * attempts + k) and per rep."""

    ready_at: np.ndarray
    started: np.ndarray
    rep: np.ndarray
    connected: np.ndarray  # per lead: the attempt that connected, or -1
    last: np.ndarray  # per lead: the last attempt made, or -1
    busy: np.ndarray  # per rep: seconds of work started inside the horizon


class _Shifts:
    """A calendar's open stretches walked forward as the loop's clock moves (it never goes
    back), so "is it open now" is a comparison or two instead of a search."""

    __slots__ = ("closes", "i", "opens")

    def __init__(self, hours: OpenHours) -> None:
        self.opens = [*hours.opens, math.inf]
        self.closes = [*hours.closes, math.inf]
        self.i = 0

    def is_open(self, now: float) -> bool:
        i, closes = self.i, self.closes
        while closes[i] <= now:
            i += 1
        self.i = i
        return self.opens[i] <= now

    def add_open(self, now: float, amount: float) -> float:
        """`amount` seconds of open time after `now` (now at or after the pointer's time)."""
        self.is_open(now)
        i, opens, closes = self.i, self.opens, self.closes
        while True:
            begin = opens[i] if opens[i] > now else now
            if begin == math.inf:
                return math.inf
            room = closes[i] - begin
            if amount <= room:
                return begin + amount
            amount -= room
            i += 1


def run(floor: Floor, leads: Leads, width: int, work: np.ndarray, chance: np.ndarray,
        decay: Callable[[float], float]) -> Trace:
    """One replication. `width` attempt slots per lead; `work` (seconds) and `chance`
    (uniforms) are drawn per slot in advance."""
    push, pop = heapq.heappush, heapq.heappop
    size = len(leads.handed)
    ready_at = [math.nan] * (size * width)
    started = [math.nan] * (size * width)
    slot_rep = [-1] * (size * width)
    connected = [-1] * size
    last = [-1] * size
    busy = [0.0] * len(floor.team_of_rep)
    work_s, chance_u = work.tolist(), chance.tolist()
    owner = list(leads.owner)
    handed, block, window_end = leads.handed, leads.block, leads.window_end
    first_due, gap_wall, base = leads.first_due, leads.gap_wall, leads.connect
    attempts, until_connected = floor.attempts, floor.until_connected
    gap_kind, gap = floor.gap_kind, floor.gap
    shifts_of = {id(h): _Shifts(h) for h in [*floor.hours, *floor.gap_hours] if h is not None}
    team_shifts = [shifts_of[id(h)] for h in floor.hours]
    gap_shifts = [shifts_of[id(h)] if h is not None else None for h in floor.gap_hours]
    team_of_block, team_of_rep = floor.team_of_block, floor.team_of_rep
    end = floor.end
    flat = getattr(decay, "points", None)
    flat = flat[0][1] if flat is not None and len(flat) == 1 else None
    mine: list[list] = [[] for _ in team_of_rep]  # per rep: its own waiting tasks
    shared: list[list] = [[] for _ in floor.hours]  # per team: tasks any of its reps may take
    idle: list[dict[int, None]] = [dict.fromkeys(reps) for reps in floor.reps_of_team]
    fifo = floor.discipline == "fifo"
    due_first = floor.discipline == "earliest-due-first"
    events: list[tuple] = []
    seq = 0
    for team, opening_hours in enumerate(floor.hours):
        if not opening_hours.always:
            for moment in opening_hours.openings(0.0, end):
                events.append((moment, seq, OPENS, team, 0))
                seq += 1
    heapq.heapify(events)

    def start(rep: int, lead: int, k: int, now: float) -> None:
        nonlocal seq
        slot = lead * width + k
        started[slot] = now
        slot_rep[slot] = rep
        last[lead] = k
        if owner[lead] < 0:
            owner[lead] = rep
        spent = work_s[slot]
        busy[rep] += spent if now + spent <= end else end - now
        b = block[lead]
        if connected[lead] < 0:
            p = base[lead] * (flat if flat is not None else decay((now - handed[lead]) / 3600.0))
            if chance_u[slot] < p:
                connected[lead] = k
                more = not until_connected[b]
            else:
                more = True
        else:
            more = not until_connected[b]
        if more and k + 1 < attempts[b]:
            kind = gap_kind[b]
            if kind == GAP_WALL:  # spread over the window from the handoff: delays don't add up
                due = handed[lead] + (k + 1) * gap_wall[lead]
                if due < now + 1.0:
                    due = now + 1.0
            elif kind == GAP_ELAPSED:
                due = now + gap[b]
            else:
                shifts, amount = gap_shifts[b], gap[b]
                i = shifts.i
                if shifts.opens[i] <= now and now + amount <= shifts.closes[i]:
                    due = now + amount  # fits in the stretch the rep is working in
                else:
                    due = shifts.add_open(now, amount)
            if due <= window_end[lead] and due < end:
                push(events, (due, seq, READY, lead, k + 1))
                seq += 1
        push(events, (now + spent, seq, FREE, rep, 0))
        seq += 1

    # the open stretch each team is in or waiting for: [since, until), moved on when passed
    since = [sh.opens[0] for sh in team_shifts]
    until = [sh.closes[0] for sh in team_shifts]

    def open_at(team: int, now: float) -> bool:
        shifts = team_shifts[team]
        shifts.is_open(now)
        since[team], until[team] = shifts.opens[shifts.i], shifts.closes[shifts.i]
        return since[team] <= now

    order = [i for i in sorted(range(size), key=leads.ready.__getitem__) if block[i] >= 0]
    arrivals = iter(order)
    upcoming = next(arrivals, None)
    arriving = leads.ready[upcoming] if upcoming is not None else math.inf
    while True:
        if events and events[0][0] < arriving:
            now, _, kind, who, k = pop(events)
        else:
            now, kind, who, k = arriving, READY, upcoming, 0
            upcoming = next(arrivals, None)
            arriving = leads.ready[upcoming] if upcoming is not None else math.inf
        if now >= end:
            break
        if kind == READY:  # a lead's attempt may start: at once by an idle rep, else it waits
            ready_at[who * width + k] = now
            team = team_of_block[block[who]]
            rep = owner[who]
            is_open = (since[team] <= now) if now < until[team] else open_at(team, now)
            if rep >= 0:
                if is_open and rep in idle[team]:
                    del idle[team][rep]
                    start(rep, who, k, now)
                    continue
                queue = mine[rep]
            else:
                waiting = idle[team]
                if is_open and waiting:
                    rep = next(iter(waiting))
                    del waiting[rep]
                    start(rep, who, k, now)
                    continue
                queue = shared[team]
            key = now if fifo else (first_due[who] if k == 0 else window_end[who]) \
                if due_first else (now + _LATER if k else now)
            push(queue, (key, seq, who, k))
            seq += 1
        elif kind == FREE:  # a rep is done: the first waiting task of theirs or the team's
            team = team_of_rep[who]
            is_open = (since[team] <= now) if now < until[team] else open_at(team, now)
            own, pool = mine[who], shared[team]
            if is_open and own and (not pool or own[0] < pool[0]):
                _, _, lead, k = pop(own)
                start(who, lead, k, now)
            elif is_open and pool:
                _, _, lead, k = pop(pool)
                start(who, lead, k, now)
            else:
                idle[team][who] = None
        else:  # a team's calendar opens: its idle reps take what waited overnight
            open_at(who, now)
            for rep in list(idle[who]):
                own, pool = mine[rep], shared[who]
                if own and (not pool or own[0] < pool[0]):
                    _, _, lead, k = pop(own)
                elif pool:
                    _, _, lead, k = pop(pool)
                else:
                    continue
                del idle[who][rep]
                start(rep, lead, k, now)
    return Trace(np.array(ready_at), np.array(started), np.array(slot_rep, dtype=np.int64),
                 np.array(connected, dtype=np.int64), np.array(last, dtype=np.int64),
                 np.array(busy))
