"""The merge of a sharded run's partials, one partial at a time, into preallocated arrays.

What the merge needs before it reads any partial whole is small: each shard's leads' places
(`lead_index`) and, per clause, how many rows each of its leads has (a `PartialHead`, read
from a partial file's metadata and two narrow columns). From those, every lead's place and
every clause row's place in the single run's order are known, so each partial is then read,
slimmed (`shards.slim`), written straight into the merged arrays and let go before the next
is read: the merge holds the merged `Evaluation`, the events the measures read, and one
partial, never every partial's arrays besides the merged ones.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from sla_dsl.evaluation import replay
from sla_dsl.evaluation.conditions import ConditionEvaluator
from sla_dsl.evaluation.owner_hours import owner_calendars
from sla_dsl.evaluation.routing import handoff_levels
from sla_dsl.history.columns import History
from sla_dsl.language.model import Policy

# The per-lead arrays of an `Evaluation`, in its field order.
LEAD_ARRAYS = ("handoff_at", "handoff", "segment", "owner", "placement", "dated_at",
               "handoff_any_period")
# The per-row arrays of a `ClauseResult` besides `leads` (None where the clause has none).
CLAUSE_ARRAYS = ("status", "due", "at", "start", "owner", "counted", "attempt", "split_at",
                 "split_from", "hours_of")


class PartialMismatch(ValueError):
    """Partials that cannot make one report: another policy or as-of time, or shards missing
    or given twice. The message says which files and how to fix it."""


@dataclass
class PartialHead:
    """What the merge checks and places before reading a partial whole: the run it is of,
    its leads' places in the whole history, and per clause each lead's number of rows."""

    shard: int
    of: int
    fingerprint: str
    history_id: str
    as_of: int
    as_of_given: bool
    lead_index: np.ndarray
    clause_rows: list[np.ndarray]

    @property
    def lead_count(self) -> int:
        return len(self.lead_index)


def head_of(partial) -> PartialHead:
    """A partial's head, from the partial itself."""
    n = partial.lead_count
    return PartialHead(partial.shard, partial.of, partial.fingerprint, partial.history_id,
                       partial.as_of, partial.as_of_given, partial.lead_index,
                       [np.bincount(c.leads, minlength=n) if n else np.zeros(0, np.int64)
                        for c in partial.clauses])


def lead_places(heads: Sequence[PartialHead]) -> list[np.ndarray]:
    """Per head (in shard order), each of its leads' place in the single run's lead order:
    the rank of its `lead_index` among every shard's."""
    order = np.concatenate([h.lead_index for h in heads])
    position = np.empty(len(order), dtype=np.int64)
    position[np.argsort(order, kind="stable")] = np.arange(len(order))
    bounds = np.cumsum([0] + [h.lead_count for h in heads])
    return [position[bounds[i]:bounds[i + 1]] for i in range(len(heads))]


class Merger:
    """The merged arrays, filled one partial at a time (`add`, in shard order), and the
    `Evaluation` they make (`evaluation`)."""

    def __init__(self, heads: Sequence[PartialHead]) -> None:
        self.places = lead_places(heads)
        self.size = sum(h.lead_count for h in heads)
        clauses = len(heads[0].clause_rows) if heads else 0
        self.clause_offsets: list[np.ndarray] = []
        self.clause_total: list[int] = []
        for k in range(clauses):
            per_lead = np.zeros(self.size, dtype=np.int64)
            for head, place in zip(heads, self.places, strict=True):
                per_lead[place] = head.clause_rows[k]
            offsets = np.zeros(self.size, dtype=np.int64)
            if self.size:
                np.cumsum(per_lead[:-1], out=offsets[1:])
            self.clause_offsets.append(offsets)
            self.clause_total.append(int(per_lead.sum()))
        for head in heads:  # placed: what is left of a head is what the merge checked
            head.clause_rows, head.lead_index = [], head.lead_index[:0]
        self.lead: dict[str, np.ndarray] = {}
        self.attributes: dict[str, dict[str, np.ndarray]] = {}  # by `attribute_spaces`
        self.members: dict[str, np.ndarray] = {}
        self.start_group: dict[str, int] = {}
        self.starts: dict[int, np.ndarray] = {}
        self.clauses: list[dict] = []
        self.count = 0

    def _array(self, store: dict, name: str, like: np.ndarray, size: int) -> np.ndarray:
        if name not in store:
            store[name] = np.empty(size, dtype=like.dtype)
            if like.dtype == object:
                store[name][:] = None
        return store[name]

    def add(self, partial) -> None:
        """Write one partial's leads and clause rows to their places (partials in shard
        order). Its arrays are not kept: the caller may let the partial go after."""
        place = self.places[self.count]
        first = self.count == 0
        self.count += 1
        for name in LEAD_ARRAYS:
            values = partial.lead_arrays[name]
            self._array(self.lead, name, values, self.size)[place] = values
        for space, attributes in partial.attribute_spaces.items():
            merged = self.attributes.setdefault(space, {})
            for name, values in attributes.items():
                if name not in merged:
                    merged[name] = np.full(self.size, None, dtype=object)
                merged[name][place] = values
        groups: dict[int, int] = {}
        for label, leads in partial.block_leads.items():
            if label not in self.members:
                self.members[label] = np.zeros(self.size, dtype=bool)
            self.members[label][place[leads]] = True
            group = groups.setdefault(id(partial.block_start[label]), len(groups))
            if first:
                self.start_group[label] = group
            starts = partial.block_start[label]
            self._array(self.starts, self.start_group[label], starts, self.size)[place] = \
                starts
        for k, result in enumerate(partial.clauses):
            self._add_clause(k, result, place, first)

    def _add_clause(self, k: int, result: replay.ClauseResult, place: np.ndarray,
                    first: bool) -> None:
        if first:
            self.clauses.append({
                "head": (result.clause, result.handoff, result.party, result.reassign),
                "columns": {}})
        merged = self.clauses[k]
        if merged["head"][:2] != (result.clause, result.handoff):
            raise PartialMismatch("the partials' clauses differ: they are not of one policy")
        leads = result.leads
        order = np.argsort(leads, kind="stable") if result.attempt is None \
            else np.lexsort((result.attempt, leads))
        leads = leads[order]
        counts = np.bincount(leads, minlength=len(place)) if len(place) else \
            np.zeros(0, dtype=np.int64)
        rank = np.arange(len(leads), dtype=np.int64) - (np.cumsum(counts) - counts)[leads]
        target = self.clause_offsets[k][place[leads]] + rank
        total = self.clause_total[k]
        columns = merged["columns"]
        self._array(columns, "leads", np.empty(0, dtype=np.int64), total)[target] = \
            place[leads]
        for name in CLAUSE_ARRAYS:
            values = getattr(result, name)
            if values is None:
                continue
            self._array(columns, name, values, total)[target] = values[order]

    def _conditions(self, policy: Policy, space: str) -> ConditionEvaluator:
        return ConditionEvaluator(policy, self.attributes.get(space, {}), self.size)

    def evaluation(self, policy: Policy, history: History, as_of: int, as_of_given: bool
                   ) -> replay.Evaluation:
        """The merged `Evaluation` over `history` (the merged history); the merger's
        arrays become its own."""
        lead = self.lead
        evaluation = replay.Evaluation(
            policy, history, as_of, lead["handoff_at"], lead["handoff"], lead["segment"],
            lead["owner"], self._conditions(policy, "at_handoff"),
            self._conditions(policy, "now"),
            placement=lead["placement"], dated_at=lead["dated_at"], as_of_given=as_of_given,
            handoff_any_period=lead["handoff_any_period"],
            later_at_handoff=[self._conditions(policy, f"later.{k}")
                              for k in range(1, len(handoff_levels(policy)))])
        for label, members in self.members.items():
            evaluation.block_leads[label] = np.flatnonzero(members)
            evaluation.block_start[label] = self.starts[self.start_group[label]]
        self.members = {}
        for merged in self.clauses:
            clause, handoff, party, reassign = merged["head"]
            columns = merged["columns"]
            evaluation.clauses.append(replay.ClauseResult(
                clause, handoff, party, columns["leads"], columns["status"], columns["due"],
                columns["at"], reassign=reassign,
                **{name: columns.get(name) for name in CLAUSE_ARRAYS
                   if name not in ("status", "due", "at")}))
        evaluation.owner_calendars = owner_calendars(history)
        return evaluation


def merge_stream(heads: Sequence[PartialHead], load: Callable[[int], object],
                 keep: Callable[[object], object]) -> tuple[Merger, list]:
    """Every partial (`load(i)`: the i-th head's, in shard order) added to one `Merger`, one
    at a time; `keep(partial)` is what is kept of each once added (its events, rounds and
    rejects, for the history): the merger and what was kept."""
    merger = Merger(heads)
    kept = []
    for i in range(len(heads)):
        partial = load(i)
        merger.add(partial)
        kept.append(keep(partial))
        del partial
    return merger, kept


__all__ = ["CLAUSE_ARRAYS", "LEAD_ARRAYS", "Merger", "PartialHead", "PartialMismatch", "head_of",
           "lead_places", "merge_stream"]
