"""The due list: every clock still open at the as-of instant, and what fires on it next.

A manager's morning question is not "how did we do?" but "what must be done, by whom, by
when?". The answer is read off the evaluation itself, so the list can never disagree with
`sla evaluate`: a clock is *due* when the evaluator calls it pending (not met, due after the
as-of time), and *overdue* when it is breached and still not done (no touch, no decision, the
cadence not complete): the lead still needs the work, and its escalations may still fire. A
threshold is judged once, at the handoff, so it is never open; a clock paused with no end has
no due time and is counted, not listed.

For each open clock: its owner, its due instant, the time left (open time on the clause's
calendar for a business duration, elapsed time otherwise; negative once overdue) and every
warning, escalation, reassignment and strike the agreement sets that fires within the window
after the as-of time, should the clock stay open. All of it is columns, worked per clause over
all of its leads at once: a million leads cost a few array operations per clause.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sla_dsl.business_time.calendar import calendar_for
from sla_dsl.business_time.rep_hours import owner_open_time_between
from sla_dsl.evaluation.consequences import (
    PausedRows,
    after_due_instants,
    breach_blocks,
    clause_duration,
    warn_instants,
)
from sla_dsl.evaluation.replay import BREACHED, NONE, PENDING, STOPPED, ClauseResult, Evaluation
from sla_dsl.language import model as m

DUE, OVERDUE = "due", "overdue"
OVERDUE_CHOICES = ("recent", "all", "none")
"""Which overdue clocks to list: `recent` those due within the window before the as-of time
or with an action still to fire in the window after it (what a manager can still act on),
`all` every one, `none` only the clocks still due."""


@dataclass(frozen=True)
class Firing:
    """Something the agreement does to one open clock within the window: its row in
    `OpenClocks`, the action (`warn`, `escalate`, `reassign`, `strike`), to whom an
    escalation goes, the warning's percentage, and the instant."""

    row: int
    action: str
    to: str | None
    percent: float | None
    at: int


@dataclass
class OpenClocks:
    """The open clocks as columns, one row each, most urgent (earliest due) first."""

    as_of: int
    window_end: int
    lead: np.ndarray  # the lead's index in the history
    overdue: np.ndarray  # bool: breached and still not done
    handoff: np.ndarray  # object: the block's label
    clause: np.ndarray  # object: "first touch", "touches", "disposition"
    party: np.ndarray  # object: the receiving party
    owner: np.ndarray  # object: the rep who must act, or None
    start: np.ndarray  # µs: when the clock started
    due: np.ndarray  # µs
    business: np.ndarray  # bool: the time is counted in open time of the clause's calendar
    left: np.ndarray  # µs from the as-of time to the due time (open time if business)
    firings: list[Firing]  # sorted by row, then instant
    paused: int  # open clocks paused with no due time: not listed
    overdue_left_out: int  # overdue clocks the `overdue` choice did not list
    attempt: np.ndarray | None = None  # which round of the lead's handoffs (1 unless recycled)

    def __len__(self) -> int:
        return len(self.lead)


def _columns(evaluation: Evaluation, result: ClauseResult, rows: np.ndarray) -> dict:
    duration = clause_duration(evaluation.policy, result)
    business = bool(duration is not None and duration.business)
    due = result.due[rows]
    as_of = np.full(len(rows), evaluation.as_of, dtype=np.int64)
    if business:
        left = owner_open_time_between(
            as_of, due, None if result.hours_of is None else result.hours_of[rows],
            calendar_for(evaluation.policy, duration), evaluation.owner_calendars)
    else:
        left = due - as_of
    size = len(rows)
    return {"lead": result.leads[rows], "overdue": result.status[rows] == BREACHED,
            "handoff": np.full(size, result.handoff, dtype=object),
            "clause": np.full(size, result.clause, dtype=object),
            "party": np.full(size, result.party, dtype=object),
            "owner": result.owner[rows] if result.owner is not None
            else np.full(size, None, dtype=object),
            "start": result.start[rows], "due": due,
            "attempt": result.attempt[rows] if result.attempt is not None
            else np.ones(size, dtype=np.int64),
            "business": np.full(size, business), "left": left}


def _firings(evaluation: Evaluation, result: ClauseResult, rows: np.ndarray,
             window_end: int) -> list[tuple[np.ndarray, str, str | None, float | None,
                                            np.ndarray]]:
    """Each action of the clause's `on breach` blocks, for the chosen open clocks: the
    positions (into `rows`) and instants of those firing after the as-of time and by the
    window's end, as if the clock stays open that long."""
    policy = evaluation.policy
    duration = clause_duration(policy, result)
    start, due = result.start[rows], result.due[rows]
    timed = np.ones(len(rows), dtype=bool)
    found = []
    for block in breach_blocks(policy, result):
        for action in block.actions:
            to, percent = None, None
            if isinstance(action, m.Warn):
                if duration is None:
                    continue
                name, percent = "warn", float(action.at.value)
                fires = warn_instants(policy, duration, action, start, due, timed,
                                      None if result.hours_of is None else result.hours_of[rows],
                                      evaluation.owner_calendars,
                                      PausedRows.of(evaluation, result, rows))
            elif isinstance(action, m.Strike):
                name, fires = "strike", due
            elif isinstance(action, m.Escalate | m.Reassign):
                fires = after_due_instants(policy, action, due, timed)
                name = "escalate" if isinstance(action, m.Escalate) else "reassign"
                to = action.to.value if isinstance(action, m.Escalate) else None
            else:
                continue
            inside = np.flatnonzero((fires > evaluation.as_of) & (fires <= window_end))
            found.append((inside, name, to, percent, fires[inside]))
    return found


def open_clocks(evaluation: Evaluation, within_us: int, overdue: str = "recent") -> OpenClocks:
    """The due list of an evaluation: every open clock at its as-of time, and what fires on
    each within `within_us` after it. `overdue` is one of `OVERDUE_CHOICES`."""
    if overdue not in OVERDUE_CHOICES:
        raise ValueError(f"overdue must be one of {', '.join(OVERDUE_CHOICES)}, not {overdue!r}")
    if within_us < 0:
        raise ValueError("the window must not be negative")
    as_of, window_end = evaluation.as_of, evaluation.as_of + within_us
    parts, firings = [], []
    paused = left_out = offset = 0
    for result in evaluation.clauses:
        if result.clause == "threshold":
            continue
        pending = result.status == PENDING
        stopped = pending & ((result.due == STOPPED) | (result.due == NONE))
        paused += int(np.count_nonzero(stopped))
        late = (result.status == BREACHED) & (result.at == NONE) & (result.due != STOPPED)
        if overdue == "none":
            left_out += int(np.count_nonzero(late))
            late[:] = False
        rows = np.flatnonzero((pending & ~stopped) | late)
        if not len(rows):
            continue
        found = _firings(evaluation, result, rows, window_end)
        if overdue == "recent":
            keep = ~late[rows] | (result.due[rows] > as_of - within_us)
            for inside, *_ in found:
                keep[inside] = True
            left_out += int(np.count_nonzero(~keep))
            position = np.cumsum(keep) - 1
            found = [(position[inside[keep[inside]]], name, to, percent, at[keep[inside]])
                     for inside, name, to, percent, at in found]
            rows = rows[keep]
        parts.append(_columns(evaluation, result, rows))
        firings += [(offset + inside, name, to, percent, at)
                    for inside, name, to, percent, at in found]
        offset += len(rows)
    names = ("lead", "overdue", "handoff", "clause", "party", "owner", "start", "due",
             "business", "left", "attempt")
    columns = {name: np.concatenate([p[name] for p in parts]) if parts
               else np.zeros(0, dtype=object if name in ("handoff", "clause", "party", "owner")
                             else bool if name in ("overdue", "business") else np.int64)
               for name in names}
    # most urgent first: the earliest due time; ties by lead, then the policy's clause order
    order = np.lexsort((np.arange(offset), columns["lead"], columns["due"]))
    rank = np.empty(offset, dtype=np.int64)
    rank[order] = np.arange(offset)
    listed = [Firing(int(rank[row]), name, to, percent, int(at))
              for rows, name, to, percent, instants in firings
              for row, at in zip(rows.tolist(), instants.tolist(), strict=True)]
    listed.sort(key=lambda f: (f.row, f.at))
    return OpenClocks(as_of, window_end, firings=listed, paused=paused,
                      overdue_left_out=left_out,
                      **{name: column[order] for name, column in columns.items()})
