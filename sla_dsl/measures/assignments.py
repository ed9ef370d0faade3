"""How the policy's distribution rules were kept: each rep's share of a block's leads against
its round-robin weight, the capacity cap, and who was skipped because they were at cap.

A lead's assignee in a block is the first `assigned` event at or after the block's handoff (a
later reassignment is a consequence, not the rotation); a recycled lead's is each round's own,
read from the round's rows as its clocks read them (`Evaluation.round_rows`): a round without
an assignment of its own is unassigned, whatever the next round's. So a block's deals are its
`handoffs` (a lead handed off again is dealt again), of its `leads` (each once); the reps'
counts and shares are of the handoffs.

A rep is *at cap* in a period once the cap's count of the block's leads went to them in it;
every later lead of that period that went to someone else is a lead they were *skipped* for.
Leads given to a rep beyond the cap are *over cap*: the rule was broken, not kept.

A cap on open leads (`cap N open leads`) counts what a rep holds at once: a lead is open from
its assignment until the first of its `connected`, `rejected`, `lost` or `won` events, a new
`handoff` (handed on) or a later `assigned` (given to someone else), and still open at the as-of
time when none came. Each assignment is read in time order against every rep's open leads then
(a heap of close times per rep): a rep in the rotation holding N while the lead went to someone
else was *skipped* for it, at that instant; a lead given to a rep already holding N is *over* the
cap.
"""

from __future__ import annotations

import heapq
from zoneinfo import ZoneInfo

import numpy as np

from sla_dsl.business_time.periods import period_starts
from sla_dsl.business_time.zones import local_dates
from sla_dsl.evaluation.instants import iso_text
from sla_dsl.evaluation.replay import NONE, Evaluation
from sla_dsl.history.columns import EVENT_CODE, NO_ACTOR
from sla_dsl.language import model as m


def assignment_summaries(evaluation: Evaluation) -> list[dict]:
    """One entry per block that says how its leads are distributed (round robin or owner)."""
    zone = ZoneInfo(evaluation.policy.timezone or "UTC")
    out = []
    for handoff in evaluation.policy.handoffs:
        rule = handoff.item("round_robin") or handoff.item("owner")
        if rule is None:
            continue
        leads, assignee, at, closed = _dealt(evaluation, handoff.label)
        # a lead dealt in two rounds is one lead; without a later round, each row is one
        distinct = len(np.unique(leads)) if evaluation.block_rounds.get(handoff.label) \
            else len(leads)
        out.append(_summary(handoff, rule, assignee, at, zone, distinct))
        if isinstance(rule, m.RoundRobin) and rule.open_cap is not None:
            _count_open_caps(out[-1], evaluation.history.lead_ids[leads], assignee, at,
                             closed, int(rule.open_cap.value), zone)
    return out


def _dealt(evaluation: Evaluation, label: str
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The block's leads, once per round judged in it (a recycled lead dealt again is a new
    deal), with each round's first assignee, when, and when the lead closed for that one."""
    parts = []
    for leads, _, since, until in evaluation.round_rows(label):
        first = _first_assignment_rows(evaluation, since, until, leads)
        assignee, at = _assignee_and_time(evaluation, first, leads)
        parts.append((leads, assignee, at, _closed_at(evaluation, first, leads)))
    if len(parts) == 1:
        return parts[0]
    leads, assignee, at, closed = (np.concatenate(column) for column in zip(*parts, strict=True))
    return leads, assignee, at, closed


_CLOSING = ("connected", "rejected", "lost", "won", "handoff", "assigned")


def _first_assignment_rows(evaluation: Evaluation, since: np.ndarray, until: np.ndarray,
                           leads: np.ndarray) -> np.ndarray:
    """The history rows of each lead's first assignment in its round of the block (at most
    one a lead): from its round's row `since` to before its row `until` (per lead of the
    history, `Evaluation.round_rows`), so a round without an assignment of its own has none,
    not the next round's."""
    history = evaluation.history
    in_block = np.zeros(evaluation.lead_count, dtype=bool)
    in_block[leads] = True
    rows = np.flatnonzero((history.event == EVENT_CODE["assigned"])
                          & (history.actor != NO_ACTOR) & (history.at <= evaluation.as_of)
                          & in_block[history.lead])
    lead = history.lead[rows]
    rows = rows[(rows >= since[lead]) & (rows < until[lead])]
    first = rows[np.r_[True, history.lead[rows][1:] != history.lead[rows][:-1]]] \
        if len(rows) else rows  # rows are in lead, time order: each lead's first
    return first


def _assignee_and_time(evaluation: Evaluation, first: np.ndarray, leads: np.ndarray
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Per lead of the block (in `leads` order): its first assignee's name and when."""
    history = evaluation.history
    assignee = np.full(evaluation.lead_count, None, dtype=object)
    at = np.full(evaluation.lead_count, NONE, dtype=np.int64)
    assignee[history.lead[first]] = history.actors[history.actor[first]]
    at[history.lead[first]] = history.at[first]
    return assignee[leads], at[leads]


def _closed_at(evaluation: Evaluation, first: np.ndarray, leads: np.ndarray) -> np.ndarray:
    """Per lead of the block (in `leads` order): when it stopped being open for its first
    assignee, the next closing event after that assignment (NONE: open at the as-of time)."""
    history = evaluation.history
    closed = np.full(evaluation.lead_count, NONE, dtype=np.int64)
    closing = np.flatnonzero(np.isin(history.event, [EVENT_CODE[e] for e in _CLOSING])
                             & (history.at <= evaluation.as_of))
    after = np.searchsorted(closing, first, side="right")  # the next closing row of the lead
    found = after < len(closing)
    rows = closing[after[found]]
    same = history.lead[rows] == history.lead[first[found]]
    closed[history.lead[first[found]][same]] = history.at[rows[same]]
    return closed[leads]


def _summary(handoff: m.Handoff, rule: m.RoundRobin | m.FixedOwner, assignee: np.ndarray,
             at: np.ndarray, zone: ZoneInfo, leads: int) -> dict:
    if isinstance(rule, m.FixedOwner):
        weights = {rule.owner.value: 1.0}
        team, cap = None, None
    else:
        weights = {w.rep.value: float(w.weight.value) for w in rule.weights}
        team, cap = rule.team.value, rule.cap
    assigned = assignee != None  # noqa: E711 (elementwise on objects)
    names = sorted(set(assignee[assigned].tolist()), key=str)
    # without weights every rep who took the block's leads shares alike
    listed = list(weights) or names
    total = sum(weights.values()) or len(listed)
    reps = []
    for name in listed + [n for n in names if n not in listed]:
        mine = assigned & (assignee == name)
        in_rotation = name in listed
        reps.append({
            "rep": name, "in_rotation": in_rotation,
            "weight": weights.get(name, 1.0 if in_rotation and not weights else 0.0),
            "expected_share": round(100 * weights.get(name, 1.0) / total, 1)
            if in_rotation else 0.0,
            "assigned": int(np.count_nonzero(mine)),
            "share": round(100 * np.count_nonzero(mine) / np.count_nonzero(assigned), 1)
            if assigned.any() else None,
            "periods_at_cap": 0, "over_cap": 0, "skipped_at_cap": 0})
    if cap is not None and assigned.any():
        _count_caps(reps, assignee[assigned], at[assigned], int(cap.count.value), cap.per, zone)
    return {"handoff": handoff.label, "team": team,
            "rule": "owner" if isinstance(rule, m.FixedOwner) else "round robin",
            "cap": None if cap is None else {"count": int(cap.count.value), "per": cap.per},
            "handoffs": len(assignee), "leads": leads,
            "unassigned": int(np.count_nonzero(~assigned)),
            "reps": reps}


def _count_caps(reps: list[dict], assignee: np.ndarray, at: np.ndarray, cap: int, per: str,
                zone: ZoneInfo) -> None:
    order = np.argsort(at, kind="stable")
    assignee, at = assignee[order], at[order]
    periods = period_starts(local_dates(at, zone), per)
    by_name = {r["rep"]: r for r in reps}
    for period in np.unique(periods):
        here = np.flatnonzero(periods == period)
        names = assignee[here]
        for name, row in by_name.items():
            mine = np.flatnonzero(names == name)
            if len(mine) < cap:
                continue
            row["periods_at_cap"] += 1
            row["over_cap"] += len(mine) - cap
            reached = mine[cap - 1]  # the lead that filled the rep's cap in this period
            row["skipped_at_cap"] += int(np.count_nonzero(names[reached + 1:] != name))


MOST_SKIPS_LISTED = 20  # per rep, the latest skips the report names by instant


def _count_open_caps(block: dict, lead_ids: np.ndarray, assignee: np.ndarray, at: np.ndarray,
                     closed: np.ndarray, cap: int, zone: ZoneInfo) -> None:
    """Adds `open_cap` to the block and to each rep: skipped at the cap (how often, the latest
    instants and leads), over the cap, and the most leads they held open at once."""
    block["open_cap"] = cap
    rotation = [r["rep"] for r in block["reps"] if r["in_rotation"]]
    held: dict[str, list[int]] = {r["rep"]: [] for r in block["reps"]}
    tally = {r["rep"]: {"skipped": 0, "over": 0, "most_open": 0, "skips": []}
             for r in block["reps"]}
    done = assignee != None  # noqa: E711 (elementwise on objects)
    order = np.flatnonzero(done)[np.argsort(at[done], kind="stable")]
    never = np.iinfo(np.int64).max
    for i in order.tolist():
        moment, name = int(at[i]), assignee[i]
        for heap in held.values():
            while heap and heap[0] <= moment:
                heapq.heappop(heap)
        for rep in rotation:
            if rep != name and len(held[rep]) >= cap:
                tally[rep]["skipped"] += 1
                tally[rep]["skips"].append(i)
        mine = held.setdefault(name, [])
        if len(mine) >= cap:
            tally[name]["over"] += 1
        heapq.heappush(mine, never if closed[i] == NONE else int(closed[i]))
        tally[name]["most_open"] = max(tally[name]["most_open"], len(mine))
    for row in block["reps"]:
        mine = tally[row["rep"]]
        latest = mine["skips"][-MOST_SKIPS_LISTED:]
        row["open_cap"] = {"skipped": mine["skipped"], "over": mine["over"],
                           "most_open": mine["most_open"],
                           "latest_skips": [{"at": iso_text(int(at[i]), zone),
                                             "lead_id": str(lead_ids[i]),
                                             "went_to": str(assignee[i])} for i in latest]}
