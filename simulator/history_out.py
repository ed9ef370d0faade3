"""A replication as a lead history in the evaluator's event format.

The simulator counts its clauses by handing this history to `sla_dsl.evaluation.replay.evaluate`,
the one home of what met and breached mean; `--emit-history` writes the same events as CSV
(`sla_dsl.history.write.write_history`, the format `sla schema history` describes), so
`sla evaluate` on the file gives the same counts. Events are whole seconds (the model's times
are), and none is after the horizon: what the model has not simulated is not in the log.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sla_dsl.history.columns import EVENT_CODE, History


@dataclass
class EventLog:
    """Events as parallel columns, appended kind by kind, sorted once at the end."""

    lead: list[np.ndarray] = field(default_factory=list)
    at: list[np.ndarray] = field(default_factory=list)
    event: list[np.ndarray] = field(default_factory=list)
    actor: list[np.ndarray] = field(default_factory=list)
    values: list[dict[str, np.ndarray]] = field(default_factory=list)

    def add(self, lead: np.ndarray, at_us: np.ndarray, event: str, actor: np.ndarray | int,
            **values: np.ndarray) -> None:
        lead = np.asarray(lead, dtype=np.int64)
        self.lead.append(lead)
        self.at.append(np.asarray(at_us, dtype=np.int64))
        self.event.append(np.full(len(lead), EVENT_CODE[event], dtype=np.int8))
        self.actor.append(np.broadcast_to(np.asarray(actor, dtype=np.int64), lead.shape).copy())
        self.values.append(values)

    def history(self, lead_count: int, actors: list[str], until_us: int) -> History:
        """The events at or before `until_us`, sorted by lead, time and kind (a lead is created
        before it is handed off in the same second)."""
        lead, at = np.concatenate(self.lead), np.concatenate(self.at)
        event, actor = np.concatenate(self.event), np.concatenate(self.actor)
        keep = at <= until_us
        order = np.lexsort((event[keep], at[keep], lead[keep]))
        rows = np.flatnonzero(keep)[order]
        names = sorted({name for values in self.values for name in values})
        fields = {}
        for name in names:
            column = np.concatenate([
                values[name] if name in values else np.full(len(part), None, dtype=object)
                for part, values in zip(self.lead, self.values, strict=True)])
            fields[name] = column[rows]
        ids = np.array([f"S{i:07d}" for i in range(lead_count)], dtype=object)
        return History(lead=lead[rows], at=at[rows], event=event[rows], actor=actor[rows],
                       row=np.arange(1, len(rows) + 1, dtype=np.int64), lead_ids=ids,
                       actors=np.array(actors, dtype=object), fields=fields,
                       rows_read=len(rows))


