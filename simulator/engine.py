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

The clock is a `simpy.Environment`. Each team's calendar is a simpy process that hands its
idle reps what waited overnight at every opening. The arrivals (a chain: each lead's timeout
sets up the next) and a rep's release are timeouts with a callback rather than a process per
lead or per rep: a year of 50,000 leads with six-touch cadences is 300,000 tasks per
replication and a hundred replications, and a generator resume per task (plus an event to hand
an idle rep its next one) costs a quarter more per task in simpy alone (benchmarks/README.md
has the figures). A follow-up waits in its rep's `coming` heap and joins the rep's queue,
stamped with its due time, when the rep next looks (done with a task, or the calendar
opening); only a rep idle when it falls due gets a wake-up timeout. Nothing the rep does while
busy can depend on it, so this is the same model with a quarter fewer events. Each event
carries the exact moment it stands for as its value: simpy keeps `now + delay`, which can miss
a shift's opening by a rounding error, and a rep must not find the office shut at the instant
it opens.

A scenario's lifecycle (`Life`, drawn by `simulator/lifecycle.py`) adds three things to the
same loop. A rejected lead may be handed off again: its later rounds are engine leads of their
own (lead j's next round is j + `first_round`), handed off by a timeout after the rejection and
dealt then. A manager may move a dealt lead to another rep: its one waiting task is pushed into
the new owner's queue and the old entry left where it was, marked stale (a heap cannot delete),
and skipped when it comes up. A rep may be away: out of `idle` from the absence's start, and
`parked` (not resting, not working) until its end if they were free, so that no task, shared
or their own, starts while they are away.

A rep who keeps their own hours (`Floor.off`, `simulator/own_hours.py`) is off the same way
from each closing of their calendar to its next opening, with no manager acting on it: the
team's calendar is then open around the clock, and each rep's is theirs.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import simpy

from sla_dsl.simulator.clock import OpenHours
from sla_dsl.simulator.open_caps import Dealer

_LATER = 1e12  # added to a follow-up's key under first-touch-first
GAP_WALL, GAP_ELAPSED, GAP_OPEN, GAP_DAYS = 0, 1, 2, 3


@dataclass
class Floor:
    """What stays the same across replications: blocks, reps, calendars, discipline."""

    attempts: list[int]  # per block
    until_connected: list[bool]  # a connect ends the cadence (else it runs its count)
    gap_kind: list[int]
    gap: list[float]  # seconds (elapsed or open time) for GAP_ELAPSED / GAP_OPEN
    gap_hours: list[OpenHours | None]
    gap_days: list[Callable[[float], float] | None]  # GAP_DAYS: the business-day rule itself
    team_of_block: list[int]
    team_of_rep: list[int]
    reps_of_team: list[list[int]]
    hours: list[OpenHours]  # per team: when its reps work
    discipline: str
    end: float  # seconds: the horizon
    # per block: the dealer of a round robin with `cap N open leads` (its leads come with
    # owner DEAL_IN_LOOP and are dealt at arrival, by what the reps hold open then), else None
    dealers: list[Dealer | None] | None = None
    # per rep: when they are off their own hours (`[reps] file`), [begin, end) seconds; their
    # team's `hours` are then around the clock (None: every rep works their team's hours)
    off: list[list[tuple[float, float]]] | None = None
    rep_hours: list[OpenHours | None] | None = None  # per rep: their own open hours, or None


DEAL_IN_LOOP = -2  # a lead's owner before the loop deals it (a block with an open-lead cap)


@dataclass
class Life:
    """What a lead's lifecycle adds to one replication (`simulator/lifecycle.py` draws it):
    recycled leads handed off again, reassignments, reps' absences.

    Engine leads from `first_round` on are later rounds: lead j's next round is lead
    j + first_round, handed off when `rehandoff` says (its clocks from `clocks`)."""

    first_round: int
    qualify: float  # a connect is an SQL when its `qualify_u` is below this
    qualify_u: list[float]  # per engine lead
    recycle_after: list[float]  # per engine lead: seconds from a rejection to its next handoff
    clocks: Callable[[int, float], tuple[float, float]]  # block, handoff -> first due, window end
    movable: list[bool]  # per block: a manager may move its leads (a round robin)
    move_after: list[float]  # per engine lead: seconds after its assignment it is moved
    # per engine lead: when the policy's `on breach of first touch { reassign [after D] }`
    # fires (seconds; inf: never), the arrivals' worked out up front; per block, the same rule
    # for a later round's first touch due at a moment (None: the block has no such action)
    breach_fire: list[float]
    breach_at: list[Callable[[float], float] | None]
    away: list[list[tuple[float, float]]]  # per rep: absences, [begin, end) seconds, merged
    move_absent: bool  # a lead whose owner is absent goes to a present rep


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
    # per lead: the rep the loop dealt it to and when (owner -1, NaN: not dealt in the loop)
    owner: np.ndarray | None = None
    assigned: np.ndarray | None = None
    # with a lifecycle: per engine lead its handoff (inf: the round never came) and window end,
    # and every reassignment (lead, seconds, new rep)
    handed: np.ndarray | None = None
    window_end: np.ndarray | None = None
    moves: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
    qualified: np.ndarray | None = None  # per engine lead: a connect would be an SQL


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
        decay: Callable[[float], float], react: np.ndarray | None = None,
        life: Life | None = None) -> Trace:
    """One replication. `width` attempt slots per lead; `work` (seconds) and `chance`
    (uniforms) are drawn per slot in advance, and so is `react` (seconds, the scenario's
    `work.response`): the rep who picks a task up touches it that much later, busy meanwhile.
    `life` adds recycled rounds, reassignments and absences (None: none of them)."""
    env = simpy.Environment()
    timeout = env.timeout
    push, pop = heapq.heappush, heapq.heappop
    size = len(leads.handed)
    ready_at = [math.nan] * (size * width)
    started = [math.nan] * (size * width)
    slot_rep = [-1] * (size * width)
    connected = [-1] * size
    last = [-1] * size
    busy = [0.0] * len(floor.team_of_rep)
    work_s, chance_u = work.tolist(), chance.tolist()
    react_s = react.tolist() if react is not None else None
    owner = list(leads.owner)
    handed, block, window_end = leads.handed, leads.block, leads.window_end
    first_due, gap_wall, base = leads.first_due, leads.gap_wall, leads.connect
    attempts, until_connected = floor.attempts, floor.until_connected
    gap_kind, gap, gap_hours = floor.gap_kind, floor.gap, floor.gap_hours
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
    coming: list[list] = [[] for _ in team_of_rep]  # per rep: follow-ups not yet due
    alarm = [math.inf] * len(team_of_rep)  # per rep: the earliest wake-up pending
    dealers = [d.fresh() if d is not None else None for d in floor.dealers or []]
    holding = [False] * size  # per lead: open in its dealt rep's count
    dealt_to = [-1] * size
    dealt_at = [math.nan] * size
    fifo = floor.discipline == "fifo"
    due_first = floor.discipline == "earliest-due-first"
    seq = 0  # ties in a queue go to the task that joined it first
    # the lifecycle's state: a lead's one waiting task (its seq, -1: none; whether it is a
    # follow-up not yet due; its time and attempt), so that a reassignment can move it: the old
    # entry is left in its heap, marked stale, and skipped when it comes up
    tracking = life is not None
    if tracking:
        handed, window_end = list(handed), list(window_end)
        first_due, gap_wall = list(first_due), list(gap_wall)
    stale: set[int] = set()
    task_seq = [-1] * size if tracking else []
    task_coming = [False] * size if tracking else []
    task_at = [0.0] * size if tracking else []
    closed = [False] * size if tracking else []
    held_by: list[dict[int, None]] = [{} for _ in team_of_rep]  # per rep: its open leads
    away = [False] * len(team_of_rep)
    off = [False] * len(team_of_rep)  # outside their own hours (`Floor.off`)
    parked = [False] * len(team_of_rep)  # absent and not busy: back to work at its end
    moved: tuple[list, list, list] = ([], [], [])

    def start(rep: int, lead: int, k: int, picked: float) -> None:
        """The rep picks the task up at `picked` and touches it now (after any reaction)."""
        nonlocal seq
        slot = lead * width + k
        if tracking:
            task_seq[lead] = -1
        now = picked + react_s[slot] if react_s is not None else picked
        if now >= end:  # the touch would fall after the horizon: busy to the end, no attempt
            busy[rep] += end - picked
            return
        started[slot] = now
        slot_rep[slot] = rep
        last[lead] = k
        if owner[lead] < 0:
            owner[lead] = rep
        spent = work_s[slot]
        busy[rep] += (spent if now + spent <= end else end - now) + now - picked
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
        again = math.inf  # a rejected lead recycled: its next handoff
        if tracking and connected[lead] == k and life.qualify_u[lead] >= life.qualify:
            again = life.recycle_after[lead]
            if again < math.inf:
                more = False  # rejected and handed back to marketing: its cadence ends here
        pushed = False
        if more and k + 1 < attempts[b]:
            kind = gap_kind[b]
            if kind == GAP_WALL:  # spread over the window from the handoff: delays don't add up
                due = handed[lead] + (k + 1) * gap_wall[lead]
                if due < now + 1.0:
                    due = now + 1.0
            elif kind == GAP_ELAPSED:
                due = now + gap[b]
            elif kind == GAP_DAYS:  # "1 business day": the next open day at the same time
                due = floor.gap_days[b](now)
            elif now > picked:  # after a reaction, ahead of the loop's clock: the walking
                due = gap_hours[b].add_open(now, gap[b])  # pointer must not pass it
            else:
                shifts, amount = gap_shifts[b], gap[b]
                i = shifts.i
                if shifts.opens[i] <= now and now + amount <= shifts.closes[i]:
                    due = now + amount  # fits in the stretch the rep is working in
                else:
                    due = shifts.add_open(now, amount)
            if due <= window_end[lead] and due < end:
                push(coming[owner[lead]], (due, seq, lead, k + 1))
                if tracking:
                    task_seq[lead], task_coming[lead], task_at[lead] = seq, True, due
                    pushed = True
                seq += 1
                more = more and connected[lead] != k  # a connect closes the lead all the same
            else:  # the cadence is over, unless only the horizon cut it short (still open)
                more = connected[lead] != k and end <= due <= window_end[lead]
        else:
            more = False
        if holding[lead] and not more:  # connected, or the cadence is over: no longer open
            holding[lead] = False
            timeout(now + spent - picked, (now + spent, lead)).callbacks.append(release)
        if tracking:
            if not more and not closed[lead]:
                closed[lead] = True
                held_by[owner[lead]].pop(lead, None)
            if connected[lead] < 0 and not pushed and (
                    k + 1 >= attempts[b] or window_end[lead] < end):  # not reachable
                again = life.recycle_after[lead]
            nxt = lead + life.first_round
            if again < math.inf and nxt < size and now + spent + again < end:
                at = now + spent + again
                timeout(at - picked, (at, nxt)).callbacks.append(rehandoff)
        # delays run from the exact moment: simpy's clock differs from it by a rounding error
        timeout(now + spent - picked, (now + spent, rep)).callbacks.append(free)

    # the open stretch each team is in or waiting for: [since, until), moved on when passed
    since = [sh.opens[0] for sh in team_shifts]
    until = [sh.closes[0] for sh in team_shifts]

    def open_at(team: int, now: float) -> bool:
        shifts = team_shifts[team]
        shifts.is_open(now)
        since[team], until[team] = shifts.opens[shifts.i], shifts.closes[shifts.i]
        return since[team] <= now

    def becomes_ready(now: float, who: int, k: int) -> None:
        """A lead's attempt may start: at once by an idle rep, else it waits in a queue."""
        nonlocal seq
        if now >= end:
            return
        ready_at[who * width + k] = now
        team = team_of_block[block[who]]
        rep = owner[who]
        is_open = (since[team] <= now) if now < until[team] else open_at(team, now)
        if rep >= 0:
            if is_open and rep in idle[team]:
                del idle[team][rep]
                start(rep, who, k, now)
                return
            queue = mine[rep]
        else:
            waiting = idle[team]
            if is_open and waiting:
                rep = next(iter(waiting))
                del waiting[rep]
                start(rep, who, k, now)
                return
            queue = shared[team]
        key = now if fifo else (first_due[who] if k == 0 else window_end[who]) \
            if due_first else (now + _LATER if k else now)
        push(queue, (key, seq, who, k))
        if tracking:
            task_seq[who], task_coming[who], task_at[who] = seq, False, now
        seq += 1

    def due_now(rep: int, now: float) -> None:
        """The rep's follow-ups due by now join their queue, as if each had joined at its due
        time: what a rep does while busy cannot depend on what fell due meanwhile."""
        upcoming, own = coming[rep], mine[rep]
        while upcoming and upcoming[0][0] <= now:
            due, order, lead, k = pop(upcoming)
            if stale and order in stale:
                stale.discard(order)
                continue
            if tracking:
                task_coming[lead] = False
            ready_at[lead * width + k] = due
            push(own, (due if fifo else window_end[lead] if due_first else due + _LATER,
                       order, lead, k))

    def take(rep: int, team: int, now: float) -> bool:
        """The rep starts the first waiting task of theirs or the team's, if any."""
        own, pool = mine[rep], shared[team]
        if stale:
            drop_stale(own)
        if own and (not pool or own[0] < pool[0]):
            _, _, lead, k = pop(own)
        elif pool:
            _, _, lead, k = pop(pool)
        else:
            return False
        start(rep, lead, k, now)
        return True

    def rest(rep: int, team: int, now: float) -> None:
        """The rep is idle: woken when their next follow-up falls due (a shared task or an
        opening finds them in `idle` without one)."""
        idle[team][rep] = None
        upcoming = coming[rep]
        if upcoming and upcoming[0][0] < alarm[rep]:
            due = alarm[rep] = upcoming[0][0]  # later than now: what was due has joined
            timeout(due - now, (due, rep)).callbacks.append(wake)

    def free(event: simpy.Event) -> None:
        """A rep is done: the first waiting task of theirs or the team's, else idle."""
        now, rep = event.value
        if now >= end:
            return
        team = team_of_rep[rep]
        upcoming = coming[rep]
        if upcoming and upcoming[0][0] <= now:
            due_now(rep, now)
        if away[rep] or off[rep]:  # gone for the day: back to work when the absence ends
            parked[rep] = True
            return
        is_open = (since[team] <= now) if now < until[team] else open_at(team, now)
        own, pool = mine[rep], shared[team]  # `take`, written out: this runs once a touch
        if stale:
            drop_stale(own)
        if is_open and own and (not pool or own[0] < pool[0]):
            _, _, lead, k = pop(own)
            start(rep, lead, k, now)
        elif is_open and pool:
            _, _, lead, k = pop(pool)
            start(rep, lead, k, now)
        else:
            rest(rep, team, now)

    def wake(event: simpy.Event) -> None:
        """An idle rep's follow-up falls due: they start it if the calendar is open."""
        now, rep = event.value
        if alarm[rep] == now:
            alarm[rep] = math.inf
        team = team_of_rep[rep]
        if now >= end or rep not in idle[team]:
            return  # a busy rep finds it when free
        due_now(rep, now)
        is_open = (since[team] <= now) if now < until[team] else open_at(team, now)
        if is_open and take(rep, team, now):
            del idle[team][rep]
        else:
            rest(rep, team, now)

    def drop_stale(heap: list) -> None:
        while heap and heap[0][1] in stale:
            stale.discard(pop(heap)[1])

    def dealt(lead: int, now: float) -> None:
        """A lead has its owner: counted among the rep's open leads, and a manager's move
        set up (a share of the leads after a while; the first touch's breach)."""
        held_by[owner[lead]][lead] = None
        b = block[lead]
        if not life.movable[b]:
            return
        later = life.move_after[lead]
        if now + later < end:
            timeout(later, (now + later, lead, False)).callbacks.append(manager)
        fire = life.breach_fire[lead]
        if fire < end:
            at = max(fire, now)
            timeout(at - now, (at, lead, True)).callbacks.append(manager)

    def manager(event: simpy.Event) -> None:
        """A manager moves a lead: a share of them, or one whose first touch breached and
        is still untouched (the policy's `reassign`)."""
        now, lead, on_breach = event.value
        if on_breach and started[lead * width] <= now:  # touched by then: no breach to act on
            return
        move(lead, now)

    def move(lead: int, now: float) -> None:
        """The lead goes to the next rep of its team (in the roster's order) who is present;
        its waiting task goes with it. Nothing moves a closed lead."""
        old = owner[lead]
        if old < 0 or closed[lead] or not life.movable[block[lead]]:
            return
        reps = floor.reps_of_team[team_of_rep[old]]
        at = reps.index(old)
        dealer = dealers[block[lead]] if holding[lead] else None
        new = next((r for r in reps[at + 1:] + reps[:at] if not away[r] and (
            dealer is None or dealer.held[dealer.reps.index(r)] < dealer.open_cap)), None)
        if new is None:  # everyone else is away (or holds the cap on open leads)
            return
        owner[lead] = new
        held_by[old].pop(lead, None)
        held_by[new][lead] = None
        moved[0].append(lead)
        moved[1].append(now)
        moved[2].append(new)
        carry(lead, new, now)
        if dealer is not None:
            dealer.release(old)
            dealer.held[dealer.reps.index(new)] += 1
            deal_waiting(dealer, now)  # the old owner holds one fewer: a waiting lead may go

    def carry(lead: int, new: int, now: float) -> None:
        """The moved lead's waiting task, if any, joins its new owner's work."""
        nonlocal seq
        waiting = task_seq[lead]
        if waiting < 0:
            return  # being touched now: its follow-up will join the new owner's work
        stale.add(waiting)
        k = last[lead] + 1
        if task_coming[lead] and task_at[lead] > now:  # a follow-up not due yet
            push(coming[new], (task_at[lead], seq, lead, k))
            task_seq[lead] = seq
            seq += 1
            team = team_of_rep[new]
            if new in idle[team] and task_at[lead] < alarm[new]:
                alarm[new] = task_at[lead]
                timeout(task_at[lead] - now, (task_at[lead], new)).callbacks.append(wake)
        else:  # waiting now (a follow-up due already: its rep had not looked yet)
            slot = lead * width + k
            joined = task_at[lead] if task_coming[lead] else ready_at[slot]
            becomes_ready(now, lead, k)
            ready_at[slot] = joined  # it has waited since it was first due

    def rehandoff(event: simpy.Event) -> None:
        """A recycled lead handed off again: a new round of its block's clocks, dealt as a
        new lead of the block."""
        now, lead = event.value
        b = block[lead]
        handed[lead] = now
        due, window = life.clocks(b, now)
        window_end[lead] = window
        first_due[lead] = due if due < math.inf else window
        gap_wall[lead] = (window - now) / attempts[b] if window < math.inf else math.inf
        breach = life.breach_at[b]
        if breach is not None and due < end:
            life.breach_fire[lead] = breach(due)
        dealer = dealers[b] if dealers else None
        if dealer is not None:
            owner[lead] = DEAL_IN_LOOP
            dealer.waiting.append(lead)
            deal_waiting(dealer, now)
            return
        if owner[lead] >= 0:
            dealt_to[lead], dealt_at[lead] = owner[lead], now
            dealt(lead, now)
        becomes_ready(now, lead, 0)

    def park(rep: int) -> None:
        """An idle rep takes no new work until `resume` (absent, or outside their hours)."""
        team = team_of_rep[rep]
        if rep in idle[team]:
            del idle[team][rep]
            parked[rep] = True

    def leave(event: simpy.Event) -> None:
        """A rep's absence begins: no new work; with `reassign.absent`, their open leads go
        to present reps."""
        now, rep = event.value
        away[rep] = True
        park(rep)
        if life.move_absent:
            for lead in list(held_by[rep]):
                move(lead, now)

    def back(event: simpy.Event) -> None:
        now, rep = event.value
        away[rep] = False
        if not parked[rep] or off[rep]:
            return  # still busy with the touch begun before (`free` goes on from there), or
            # outside their own hours (`clock_on` brings them back)
        resume(rep, now)

    def clock_off(event: simpy.Event) -> None:
        """A rep's own hours close: no new work (a touch under way runs to its end)."""
        _, rep = event.value
        off[rep] = True
        park(rep)

    def clock_on(event: simpy.Event) -> None:
        """A rep's own hours open: they take what waited for them, unless away."""
        now, rep = event.value
        off[rep] = False
        if parked[rep] and not away[rep]:
            resume(rep, now)

    def resume(rep: int, now: float) -> None:
        parked[rep] = False
        team = team_of_rep[rep]
        due_now(rep, now)
        is_open = (since[team] <= now) if now < until[team] else open_at(team, now)
        if not (is_open and take(rep, team, now)):
            rest(rep, team, now)

    arrivals = life.first_round if life is not None else size
    order = sorted((i for i in range(arrivals) if block[i] >= 0), key=leads.ready.__getitem__)
    order.append(-1)  # the end of the stream
    upcoming = iter(order)

    def arrive(event: simpy.Event) -> None:
        """A lead's first attempt may start (after any cap wait); the next arrival is set up.
        A chain of timeouts rather than a process: one callback per lead, no generator."""
        now, lead = event.value
        if owner[lead] == DEAL_IN_LOOP:
            dealer = dealers[block[lead]]
            dealer.waiting.append(lead)
            deal_waiting(dealer, now)
        else:
            becomes_ready(now, lead, 0)
        follow(now)

    def deal_waiting(dealer: Dealer, now: float) -> None:
        """The leads waiting for a rep under the open cap, oldest first, while one is free."""
        while dealer.waiting:
            rep = dealer.pick(now)
            if rep is None:
                retry = dealer.next_period()
                if retry is not None and retry < dealer.retry_at and retry < end:
                    dealer.retry_at = retry
                    timeout(retry - now, (retry, dealer)).callbacks.append(period_opens)
                return
            lead = dealer.waiting.popleft()
            owner[lead] = dealt_to[lead] = rep
            dealt_at[lead] = now
            holding[lead] = True
            if tracking:
                dealt(lead, now)
            becomes_ready(now, lead, 0)
            if tracking and away[rep] and life.move_absent:
                move(lead, now)

    def release(event: simpy.Event) -> None:
        """A dealt lead closed (connected, or its cadence over): its rep holds one fewer."""
        now, lead = event.value
        dealer = dealers[block[lead]]
        dealer.release(owner[lead])
        if now < end:
            deal_waiting(dealer, now)

    def period_opens(event: simpy.Event) -> None:
        now, dealer = event.value
        dealer.retry_at = math.inf
        deal_waiting(dealer, now)

    def follow(now: float) -> None:
        lead = next(upcoming)
        if lead >= 0 and leads.ready[lead] < end:
            at = leads.ready[lead]  # no earlier than now: the leads are in order
            timeout(at - now if at > now else 0.0, (at, lead)).callbacks.append(arrive)

    def opening(team: int, moments: list[float]):
        """The team's calendar opens: its idle reps take what waited overnight."""
        for now in moments:
            yield timeout(now - env.now)
            open_at(team, now)
            for rep in list(idle[team]):
                due_now(rep, now)
                if take(rep, team, now):
                    del idle[team][rep]
                else:
                    rest(rep, team, now)

    for team, opening_hours in enumerate(floor.hours):
        if not opening_hours.always:
            env.process(opening(team, [t for t in opening_hours.openings(0.0, end) if t < end]))
    for rep, spans in enumerate(floor.off or []):  # before the arrivals: an instant's order
        for begin, finish in spans:
            if begin < end:
                timeout(begin, (begin, rep)).callbacks.append(clock_off)
            if finish < end:
                timeout(finish, (finish, rep)).callbacks.append(clock_on)
    if life is not None:
        for rep, spans in enumerate(life.away):
            for begin, finish in spans:
                if begin < end:
                    timeout(max(begin, 0.0), (max(begin, 0.0), rep)).callbacks.append(leave)
                if 0.0 < finish < end:
                    timeout(finish, (finish, rep)).callbacks.append(back)
    follow(0.0)
    env.run(until=end)
    for rep in range(len(team_of_rep)):  # what fell due while its rep was busy to the end
        due_now(rep, math.inf)
    trace = Trace(np.array(ready_at), np.array(started), np.array(slot_rep, dtype=np.int64),
                  np.array(connected, dtype=np.int64), np.array(last, dtype=np.int64),
                  np.array(busy), np.array(dealt_to, dtype=np.int64), np.array(dealt_at))
    if tracking:
        trace.handed, trace.window_end = np.array(handed), np.array(window_end)
        trace.moves = (np.array(moved[0], dtype=np.int64), np.array(moved[1]),
                       np.array(moved[2], dtype=np.int64))
        trace.qualified = np.array(life.qualify_u) < life.qualify
    return trace
