"""The merged history of a sharded run, without every event: only the events the measures
read after the replay, in compact types, in the single run's order.

Once the shards have replayed their leads, the report reads the history's events in only a
few places (`sla_dsl.measures` and the coverage lines), and each reads events of a few kinds
by the as-of time:

- the days with any event, and the days leads came in (`created`, `handoff`): one event per
  quarter hour of each is enough, since coverage reads only their quarter hours;
- the latest event's kind: every event at the latest instant by the as-of time;
- each lead's first event by the as-of time (revenue dates a lead by it);
- `engaged`, `handoff`, `assigned`, `connected`, `rejected`, `won` and `lost`: all of them
  (round-robin assignments and when they closed, connected and won leads, the leads
  marketing generated, attribution's deals);
- `touch`: a won lead's (attribution's touchpoints), and all of them only when the follow-up
  depth counts touches itself (a block without a `touches` clause that counted its own).

The others (`accepted`, `updated`, `stage`, a `created` after the first of its quarter hour,
a touch no measure reads) are left out, as are the events after the as-of time, the files'
row numbers and every field but the three attribution reads (`amount`, `campaign`,
`channel`, only under an `attribution` statement). A kept event is kept whole, and the kept
events keep their order, so every measure reads the same rows it would read in the whole
history. The HTML report's clock audits replay a breached lead's every event: those are read
again from the lead's own shard (`MergedReport`).

A measure that starts reading another kind of event must be added to `needed_rows`: the
shard tests compare every shipped policy's merged report with its single run, byte for byte.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sla_dsl.history.columns import EVENT_CODE, History
from sla_dsl.language.model import Policy

QUARTER_HOUR = 15 * 60 * 1_000_000  # µs: coverage reads events by their quarter hour
_ALWAYS = np.array([EVENT_CODE[e] for e in ("engaged", "handoff", "assigned", "connected",
                                            "rejected", "won", "lost")])
_TOUCH, _WON, _CREATED = EVENT_CODE["touch"], EVENT_CODE["won"], EVENT_CODE["created"]
ATTRIBUTION_FIELDS = ("amount", "campaign", "channel")


def fields_read(policy: Policy) -> tuple[str, ...]:
    """The fields of events a measure reads after the replay: attribution's, if any."""
    return ATTRIBUTION_FIELDS if policy.attribution is not None else ()


def touches_read(policy: Policy, clauses: Sequence) -> bool:
    """Whether the follow-up depth counts touches from the history: for a block without a
    `touches` clause result that counted them (`ClauseResult.counted`)."""
    counted = {r.handoff for r in clauses if r.clause == "touches" and r.counted is not None}
    return any(h.label not in counted for h in policy.handoffs)


def needed_rows(policy: Policy, history: History, as_of: int, touches: bool) -> np.ndarray:
    """The rows of `history` (a shard's leads, sorted by lead) the measures read, as a mask
    (see the module's docstring); `touches`: every touch is read (`touches_read`)."""
    at, event, lead = history.at, history.event, history.lead
    seen = at <= as_of
    keep = seen & np.isin(event, _ALWAYS)
    rows = np.flatnonzero(seen)
    if len(rows):
        first = rows[np.r_[True, lead[rows][1:] != lead[rows][:-1]]]
        keep[first] = True
        keep[rows[np.unique(at[rows] // QUARTER_HOUR, return_index=True)[1]]] = True
        created = rows[event[rows] == _CREATED]
        keep[created[np.unique(at[created] // QUARTER_HOUR, return_index=True)[1]]] = True
        keep[rows[at[rows] == at[rows].max()]] = True
    touch = seen & (event == _TOUCH)
    if touches:
        keep |= touch
    elif policy.attribution is not None:
        won = np.zeros(len(history.lead_ids), dtype=bool)
        won[lead[seen & (event == _WON)]] = True
        keep |= touch & won[lead]
    return keep


@dataclass
class SlimEvents:
    """One shard's needed events: `lead` indexes the shard's leads; `actor` its `actors`."""

    lead: np.ndarray  # int32
    at: np.ndarray  # int64
    event: np.ndarray  # int8
    actor: np.ndarray  # int32, -1 for none
    actors: np.ndarray
    fields: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.at)


def slim_events(policy: Policy, history: History, as_of: int, touches: bool) -> SlimEvents:
    """The events of a shard's `history` the measures read, in compact types."""
    rows = np.flatnonzero(needed_rows(policy, history, as_of, touches))
    names = fields_read(policy)
    return SlimEvents(
        lead=history.lead[rows].astype(np.int32), at=history.at[rows].astype(np.int64),
        event=history.event[rows].astype(np.int8), actor=history.actor[rows].astype(np.int32),
        actors=history.actors,
        fields={name: history.fields[name][rows] for name in names if name in history.fields})


def merged_events(parts: list[SlimEvents], places: Sequence[np.ndarray], size: int,
                  actor_codes: Sequence[np.ndarray], consume: bool = False
                  ) -> dict[str, np.ndarray]:
    """Every shard's needed events in the single run's order (by the lead's place, then the
    lead's own order), written straight to their place in preallocated arrays: no sort of
    all the events. Column by column, each part's places are worked out again rather than
    held for every part at once. `consume`: each part's arrays are let go as soon as they
    are placed (its leads last: they place the other columns)."""
    per_lead = np.zeros(size, dtype=np.int64)
    for part, place in zip(parts, places, strict=True):
        per_lead += np.bincount(place[part.lead], minlength=size)
    offsets = np.zeros(size, dtype=np.int64)
    if size:
        np.cumsum(per_lead[:-1], out=offsets[1:])
    total = int(per_lead.sum())
    del per_lead

    def target(part: SlimEvents, place: np.ndarray) -> np.ndarray:
        counts = np.bincount(part.lead, minlength=len(place))
        local = np.cumsum(counts) - counts  # where each lead's run starts in the part
        return offsets[place[part.lead]] + (np.arange(len(part.lead), dtype=np.int64)
                                            - local[part.lead])

    out: dict[str, np.ndarray] = {}
    names = list(dict.fromkeys(n for part in parts for n in part.fields))
    for name in ("at", "event", "actor", *(f"field.{n}" for n in names), "lead"):
        if name.startswith("field."):
            column = np.full(total, None, dtype=object)
        else:
            column = np.empty(total, dtype=np.int64 if name == "at" else
                              np.int8 if name == "event" else np.int32)
        for part, place, code in zip(parts, places, actor_codes, strict=True):
            where = target(part, place)
            if name == "lead":
                column[where] = place[part.lead]
            elif name == "actor":
                column[where] = code[part.actor]
            elif name.startswith("field."):
                if name[6:] in part.fields:
                    column[where] = part.fields[name[6:]]
            else:
                column[where] = getattr(part, name)
            del where
            if consume:
                _let_go(part, name)
        out[name] = column
    return out


def _let_go(part: SlimEvents, name: str) -> None:
    if name.startswith("field."):
        part.fields.pop(name[6:], None)
    else:
        setattr(part, name, getattr(part, name)[:0])
