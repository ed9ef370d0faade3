"""What the absences file (`sla evaluate --absences`) did to an evaluation: its rows read,
accepted and rejected, which absences stopped a clock, and whose.

An absence counts as used, and a lead as paused for it, only when the absence overlaps a clock
of a `when owner absent pause` block while that clock ran: from its start to where it stopped
(met, due or the as-of time). A leave that begins after the lead was touched changed nothing
and is not counted, so the figures say how much of the report the file moved.
"""

from __future__ import annotations

import numpy as np

from sla_dsl.evaluation.replay import NONE, STOPPED, Evaluation


def absence_summary(evaluation: Evaluation) -> dict | None:
    """The `rows.absences` section of the report (None without an absences file)."""
    absences = evaluation.history.absences
    if absences is None:
        return None
    pausing = [h.label for h in evaluation.policy.handoffs
               if h.receiver is not None and h.pauses_for_absence]
    used, paused = _used_and_paused(evaluation, set(pausing))
    counts = absences.counts
    reps: dict[str, dict] = {}
    for k, rep in enumerate(absences.rep.tolist()):
        row = reps.setdefault(str(rep).lower(), {"rep": str(rep), "absences": 0, "used": 0,
                                                 "leads_paused": 0})
        row["absences"] += 1
        row["used"] += k in used
    for indexes in paused.values():
        for name in {str(absences.rep[k]).lower() for k in indexes}:
            reps[name]["leads_paused"] += 1
    return {
        "file": absences.source,
        "read": counts.read, "accepted": counts.accepted, "rejected": counts.rejected,
        "pausing_blocks": pausing,
        "used": len(used),
        "leads_paused": len(paused),
        "reps": sorted(reps.values(), key=lambda r: (-r["leads_paused"], r["rep"].lower())),
    }


def _used_and_paused(evaluation: Evaluation, pausing: set[str]
                     ) -> tuple[set[int], dict[int, set[int]]]:
    """The absences that overlapped a running clock, and per lead paused, which ones."""
    spans = evaluation.absence_spans
    used: set[int] = set()
    paused: dict[int, set[int]] = {}
    if not spans:
        return used, paused
    with_spans = np.fromiter(spans, dtype=np.int64, count=len(spans))
    for result in evaluation.clauses:
        if result.handoff not in pausing or result.clause == "threshold" \
                or result.start is None:
            continue
        rows = np.flatnonzero(np.isin(result.leads, with_spans))
        for i in rows.tolist():
            lead, start = int(result.leads[i]), int(result.start[i])
            if start == NONE:
                continue
            stop = evaluation.as_of
            for moment in (int(result.at[i]), int(result.due[i])):
                if moment not in (NONE, STOPPED):
                    stop = min(stop, moment)
            for begin, end, k in spans[lead]:
                if begin < stop and end > start:
                    used.add(k)
                    paused.setdefault(lead, set()).add(k)
    return used, paused
