"""Every judged lead's record, as columns: the document's `leads`.

A million leads' records built as Python dicts take most of `--format json`'s time, so the
records are first gathered column-wise here (one row per lead, one per clause verdict, both in
the document's order). `records` turns the columns into the document's dicts (the library's
`report.document`); `reports.json_text` writes the same columns straight to JSON text. Both
read one table, so the dicts and the text cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa

from sla_dsl.evaluation.instants import iso_many
from sla_dsl.evaluation.replay import STATUS_NAMES, Evaluation

LEAD_FIELDS = ("lead_id", "handoff", "segment", "owner", "handed_off_at")
VERDICT_FIELDS = ("handoff", "clause", "status", "due", "at", "owner", "clock_start")


@dataclass(frozen=True)
class LeadTable:
    """The judged leads in lead order. Per lead: `lead_id`, `handoff`, `segment`, `owner`
    (object arrays of str or None) and `handed_off_at` (µs, NONE for none). Per clause verdict,
    grouped by lead (lead k's are rows `bounds[k]` to `bounds[k + 1]`, in the policy's clause
    order): `clause` (an index into `clauses`, the (handoff, clause) names of the evaluation's
    clause results), `status` (MET, BREACHED, PENDING), `due` and `at` (µs, NONE or STOPPED
    for none). Times are written in `zone`."""

    zone: ZoneInfo
    lead_id: np.ndarray
    handoff: np.ndarray
    segment: np.ndarray
    owner: np.ndarray
    handed_off_at: np.ndarray
    clauses: list[tuple[str, str]]
    clause: np.ndarray
    status: np.ndarray
    due: np.ndarray
    at: np.ndarray
    verdict_owner: np.ndarray
    start: np.ndarray
    bounds: np.ndarray

    def __len__(self) -> int:
        return len(self.bounds) - 1

    def rows(self, start: int, stop: int) -> LeadTable:
        """Leads `start` to `stop` with their verdicts (a writer's chunk)."""
        lo, hi = int(self.bounds[start]), int(self.bounds[stop])
        return LeadTable(
            zone=self.zone, lead_id=self.lead_id[start:stop], handoff=self.handoff[start:stop],
            segment=self.segment[start:stop], owner=self.owner[start:stop],
            handed_off_at=self.handed_off_at[start:stop], clauses=self.clauses,
            clause=self.clause[lo:hi], status=self.status[lo:hi], due=self.due[lo:hi],
            at=self.at[lo:hi], verdict_owner=self.verdict_owner[lo:hi], start=self.start[lo:hi],
            bounds=self.bounds[start:stop + 1] - lo)

    def starts_elsewhere(self) -> np.ndarray:
        """Per verdict, whether its clock started at another instant than its lead's
        `handed_off_at` (a later level's handoff, a later attempt's): those verdicts say when
        (`clock_start`), so `summary.by_month`, which counts each verdict in the month its
        clock started, can be rebuilt from the records."""
        lead_start = np.repeat(self.handed_off_at, np.diff(self.bounds))
        return self.start != lead_start


class LeadRows:
    """The judged leads' `LeadTable`, made a chunk of leads at a time (`rows(start, stop)`,
    as `LeadTable.rows` slices one), so that a writer of millions of leads never holds every
    lead's record: what is held is each clause's rows in lead order (two integers a row) and
    the judged leads (one)."""

    def __init__(self, evaluation: Evaluation, zone: ZoneInfo) -> None:
        self.evaluation, self.zone = evaluation, zone
        results = evaluation.clauses
        self._by_lead = [np.argsort(r.leads, kind="stable") for r in results]
        self._sorted = [r.leads[o].astype(np.int64) for r, o in zip(results, self._by_lead,
                                                                    strict=True)]
        self.leads = np.unique(np.concatenate(self._sorted)) if results \
            else np.zeros(0, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.leads)

    def rows(self, start: int, stop: int) -> LeadTable:
        """Judged leads `start` to `stop` (in lead order), each with its verdicts, in the
        policy's clause order within a lead."""
        results = self.evaluation.clauses
        leads = self.leads[start:stop]
        picked = [o[np.searchsorted(s, leads[0]):np.searchsorted(s, leads[-1], side="right")]
                  if len(leads) else o[:0] for o, s in zip(self._by_lead, self._sorted,
                                                            strict=True)]
        lead_of = np.concatenate([r.leads[p].astype(np.int64) for r, p in
                                  zip(results, picked, strict=True)]) if results \
            else np.zeros(0, dtype=np.int64)
        order = np.argsort(lead_of, kind="stable")  # by lead, in clause order within a lead
        clause = np.repeat(np.arange(len(results), dtype=np.int32), [len(p) for p in picked])

        def joined(name: str) -> np.ndarray:
            return np.concatenate([getattr(r, name)[p] for r, p in
                                   zip(results, picked, strict=True)])[order] if results \
                else np.zeros(0, dtype=np.int64)

        first = np.flatnonzero(np.diff(lead_of[order], prepend=-1))  # each lead's first verdict
        handoff, owner, handed_off_at = _named(self.evaluation, leads, picked)
        lead_id = np.empty(len(leads), dtype=object)
        lead_id[:] = _texts(self.evaluation.history.lead_ids[leads])
        return LeadTable(
            zone=self.zone, lead_id=lead_id, handoff=handoff,
            segment=self.evaluation.segment[leads], owner=owner, handed_off_at=handed_off_at,
            clauses=[(r.handoff, r.clause) for r in results], clause=clause[order],
            status=joined("status"), due=joined("due"), at=joined("at"),
            verdict_owner=joined("owner"), start=joined("start"),
            bounds=np.append(first, len(order)).astype(np.int64))


def lead_table(evaluation: Evaluation, zone: ZoneInfo) -> LeadTable:
    """The leads some clause judged, each with its verdicts, as `LeadTable` columns."""
    every = LeadRows(evaluation, zone)
    return every.rows(0, len(every))


def _texts(ids: np.ndarray) -> np.ndarray:
    """Lead ids as `str` writes them: ids read from a file are text already, converted by
    Arrow at once; ids of other types (an int, a None) one by one."""
    if ids.dtype != object:
        return ids.astype(str)
    try:
        text = pa.array(ids, pa.string(), from_pandas=False)
    except (pa.ArrowTypeError, pa.ArrowInvalid):
        text = None
    if text is None or text.null_count:
        return np.array([str(x) for x in ids.tolist()], dtype=object)
    return text.to_numpy(zero_copy_only=False)


def _named(evaluation: Evaluation, leads: np.ndarray, picked: list[np.ndarray]
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each lead's handoff label, owner and handoff time. A lead only a later level took (an
    MDR's own prospect passed to sales) has no first-level block: it is named by the first
    clause result (in the policy's order) that judged it: its block, owner and clock start.
    `picked` are the leads' rows of each clause result, each lead's in their order."""
    handoff = evaluation.handoff[leads].copy()
    owner = evaluation.owner[leads].copy()
    at = evaluation.handoff_at[leads].copy()
    later = handoff == None  # noqa: E711
    handoff[handoff == ""] = None  # as `handoff or ...` read an empty label
    if later.any():
        wanted = leads[later]
        found, labels, owners, starts = [], [], [], []
        for result, rows in zip(evaluation.clauses, picked, strict=True):
            here = rows[np.isin(result.leads[rows], wanted)]
            if not len(here):
                continue
            found.append(result.leads[here].astype(np.int64))
            labels.append(np.full(len(here), result.handoff, dtype=object))
            owners.append(np.asarray(result.owner, dtype=object)[here])
            starts.append(result.start[here].astype(np.int64))
        _, first = np.unique(np.concatenate(found), return_index=True)  # each one's first
        handoff[later] = np.concatenate(labels)[first]
        owner[later] = np.concatenate(owners)[first]
        at[later] = np.concatenate(starts)[first]
    return handoff, owner, at


def records(table: LeadTable) -> list[dict]:
    """The document's `leads`: one dict per lead with its `clauses` dicts."""
    names = table.clauses
    elsewhere = table.starts_elsewhere().tolist()
    starts = iso_many(table.start, table.zone).tolist()
    verdicts = [{"handoff": names[c][0], "clause": names[c][1], "status": STATUS_NAMES[s],
                 "due": due, "at": at, "owner": owner,
                 **({"clock_start": starts[k]} if elsewhere[k] else {})}
                for k, (c, s, due, at, owner) in enumerate(zip(
                    table.clause.tolist(), table.status.tolist(),
                    iso_many(table.due, table.zone).tolist(),
                    iso_many(table.at, table.zone).tolist(), table.verdict_owner.tolist(),
                    strict=True))]
    bounds = table.bounds.tolist()
    return [{"lead_id": lead_id, "handoff": handoff, "segment": segment, "owner": owner,
             "handed_off_at": at, "clauses": verdicts[bounds[k]:bounds[k + 1]]}
            for k, (lead_id, handoff, segment, owner, at) in enumerate(zip(
                table.lead_id.tolist(), table.handoff.tolist(), table.segment.tolist(),
                table.owner.tolist(), iso_many(table.handed_off_at, table.zone).tolist(),
                strict=True))]
