"""A lead's lifecycle as the clocks see it: rounds of handoffs and changes of owner.

A lead rejected, lost or sent back to nurture and then handed off again is a new *attempt* of
the same lead: its handoff starts a new round of the block's clocks. A lead reassigned while a
clock runs either keeps the clock (`continue`), gets a fresh one for the new owner (`restart`),
or keeps it with the blame cut in two (`split`).

Every question here is asked of whole columns (events sorted by lead, then time): "per row, the
last event of its lead at or before this instant" is one lexsort over events and queries
together, so a million leads cost a sort, never a loop over leads.
"""

from __future__ import annotations

import numpy as np

from sla_dsl.history.columns import EVENT_CODE

NONE = np.iinfo(np.int64).min
LATEST = np.iinfo(np.int64).max
# What ends a round: sales rejected the lead, the lead was disqualified or lost, or it went
# back to nurture (a `stage` event entering one of these stages, by its `stage` field or, as
# the CRM presets carry a lead status, its `status` field; compared case-insensitively).
ROUND_END_EVENTS = ("rejected", "lost")
NURTURE_STAGES = frozenset({"nurture", "nurturing", "recycled", "recycle"})
NURTURE_FIELDS = ("stage", "status")


def round_ends(event: np.ndarray, fields: dict[str, np.ndarray]) -> np.ndarray:
    """Per event row: does it end a round (a rejection, a loss, a return to nurture)?"""
    table = np.zeros(256, dtype=bool)  # a lookup by code, not the sort `np.isin` makes
    table[[EVENT_CODE[name] for name in ROUND_END_EVENTS]] = True
    ends = table[event.view(np.uint8)] if event.dtype.itemsize == 1 else \
        np.isin(event, [EVENT_CODE[name] for name in ROUND_END_EVENTS])
    stage_rows = np.flatnonzero(event == EVENT_CODE["stage"])
    for name in NURTURE_FIELDS:
        column = fields.get(name)
        if column is None or not len(stage_rows):
            continue
        values = column[stage_rows]
        named = np.array([v is not None and str(v).strip().lower() in NURTURE_STAGES
                          for v in values], dtype=bool)
        ends[stage_rows[named]] = True
    return ends


def round_starts(lead: np.ndarray, handoff_rows: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Which of a lead's handoff rows start a round: its first, and each one with a round's end
    between it and the handoff before it (a handoff sent twice with nothing between is one).

    That local rule is the whole rule: a handoff after an end always follows the round that end
    closed, whichever earlier handoff started it."""
    if not len(handoff_rows):
        return np.zeros(0, dtype=bool)
    # how many ends come at or before each handoff row: a search of the few end rows, not a
    # running count over every event
    ended = np.searchsorted(np.flatnonzero(ends), handoff_rows, side="right")
    rows_lead = lead[handoff_rows]
    first = np.r_[True, rows_lead[1:] != rows_lead[:-1]]
    return first | (ended > np.r_[0, ended[:-1]])


def attempt_numbers(lead: np.ndarray) -> np.ndarray:
    """1, 2, 3... along each lead's run of rows (rows sorted by lead)."""
    if not len(lead):
        return np.zeros(0, dtype=np.int64)
    index = np.arange(len(lead))
    first = np.r_[True, lead[1:] != lead[:-1]]
    return index - np.maximum.accumulate(np.where(first, index, 0)) + 1


def count_before(ev_lead: np.ndarray, ev_at: np.ndarray, q_lead: np.ndarray,
                 q_at: np.ndarray, inclusive: bool) -> np.ndarray:
    """Per query, how many events (sorted by lead, then time) come before (lead, instant):
    those of earlier leads and the lead's own at or before it (`inclusive`) or before it."""
    n = len(ev_lead)
    lead = np.concatenate([ev_lead, q_lead])
    at = np.concatenate([ev_at, q_at])
    # at a tie of lead and instant, events sort before the query when they are to be counted
    tag = np.concatenate([np.full(n, 0 if inclusive else 1, dtype=np.int8),
                          np.full(len(q_lead), 1 if inclusive else 0, dtype=np.int8)])
    order = np.lexsort((tag, at, lead))
    is_event = order < n
    seen = np.cumsum(is_event) - is_event
    out = np.empty(len(q_lead), dtype=np.int64)
    out[order[~is_event] - n] = seen[~is_event]
    return out


def last_at_or_before(ev_lead: np.ndarray, ev_at: np.ndarray, q_lead: np.ndarray,
                      q_at: np.ndarray) -> np.ndarray:
    """Per query, the index of its lead's last event at or before its instant, else -1."""
    found = count_before(ev_lead, ev_at, q_lead, q_at, inclusive=True) - 1
    ok = found >= 0
    ok[ok] = ev_lead[found[ok]] == q_lead[ok]
    return np.where(ok, found, -1)


def first_after(ev_lead: np.ndarray, ev_at: np.ndarray, q_lead: np.ndarray,
                q_at: np.ndarray) -> np.ndarray:
    """Per query, the index of its lead's first event strictly after its instant, else -1."""
    found = count_before(ev_lead, ev_at, q_lead, q_at, inclusive=True)
    ok = found < len(ev_lead)
    ok[ok] = ev_lead[found[ok]] == q_lead[ok]
    return np.where(ok, found, -1)


def first_rows_at(lead: np.ndarray, at: np.ndarray, size: int, moment: np.ndarray
                  ) -> np.ndarray:
    """Per lead (of `size`), the index of its first row at or after its `moment` (rows
    sorted by lead, then time): a round bounded by an instant, as rows. A row is at or after
    the instant exactly when its index is at least this one, and before it when less; a lead
    with no row that late gets the index after its last row, one with a NONE moment LATEST.

    A lead's rows earlier than its moment are a prefix of its run, so the index is where the
    run begins plus how many rows are earlier: two counts over the rows, no search."""
    length = np.bincount(lead, minlength=size)
    begins = np.cumsum(length) - length
    earlier = np.bincount(lead[at < moment[lead]], minlength=size)
    return np.where(moment == NONE, LATEST, begins + earlier).astype(np.int64)


def handoff_places(lead: np.ndarray, handoffs: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Per lead, where its row `rows[lead]` (a handoff's row, LATEST: none) stands among its
    own handoff rows (`handoffs`, every handoff row of the history, in its order): 0 for its
    first handoff, -1 for none. A round's position that survives a merge of shards, whose
    history keeps every handoff in order but not every other row."""
    size = len(rows)
    place = np.full(size, -1, dtype=np.int64)
    some = np.flatnonzero(rows != LATEST)
    if not len(some):
        return place
    own = np.searchsorted(lead[handoffs], some, side="left")  # each lead's first handoff
    place[some] = np.searchsorted(handoffs, rows[some], side="left") - own
    return place


def handoff_rows_at(lead: np.ndarray, handoffs: np.ndarray, place: np.ndarray) -> np.ndarray:
    """Per lead, the row of its `place[lead]`-th handoff (LATEST where the place is -1): the
    way back from `handoff_places`, in this history."""
    rows = np.full(len(place), LATEST, dtype=np.int64)
    some = np.flatnonzero(place >= 0)
    if len(some):
        rows[some] = handoffs[np.searchsorted(lead[handoffs], some, side="left") + place[some]]
    return rows


def round_spans(firsts: list[np.ndarray]) -> list[tuple[np.ndarray, np.ndarray]]:
    """Each round's rows, per lead, from its rounds' first rows (round 1's first, then each
    later round's handoff row, LATEST where a lead has no such round): a round reads from its
    first row to before the next round's (LATEST: to the end). Rounds do not overlap."""
    ends = [*firsts[1:], np.full(len(firsts[0]), LATEST, dtype=np.int64)]
    return list(zip(firsts, ends, strict=True))


def first_rows_at_instant(lead: np.ndarray, at: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Per row (of rows sorted by lead, then time), the first row of its lead at its instant:
    `first_rows_at` of the rows' own instants, found by stepping back over the rows written
    at the same instant just before each (usually none), not by counting every lead's run."""
    found = rows.astype(np.int64, copy=True)
    moving = np.flatnonzero(found > 0)
    while len(moving):
        here = found[moving]
        before = here - 1
        same = (lead[before] == lead[here]) & (at[before] == at[here])
        moving = moving[same]
        found[moving] -= 1
        moving = moving[found[moving] > 0]
    return found


def reassignment_rows(lead: np.ndarray, at: np.ndarray, actor: np.ndarray,
                      since: np.ndarray) -> np.ndarray:
    """Of `assigned` rows (sorted by lead, then time, each with an actor): those that hand the
    lead from one owner to another, the one before it being at or after the lead's `since`.
    `at` and `since` may be places in the history's order instead of instants (rows, and the
    round's first row): a round that starts at the instant the one before it ended owns only
    the assignments written after its handoff."""
    if not len(lead):
        return np.zeros(0, dtype=bool)
    same = np.r_[False, lead[1:] == lead[:-1]]
    previous_actor = np.r_[actor[:1], actor[:-1]]
    previous_at = np.r_[at[:1], at[:-1]]
    low = since[lead]
    return same & (previous_actor != actor) & (low != NONE) & (previous_at >= low)
