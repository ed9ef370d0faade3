"""Every lead history and rejects CSV file the tool writes, in one place.

A synthetic history, a simulated replication (`sla simulate --emit-history`) and the rows
`sla evaluate --rejects` turns away are all written as CSV that a person opens in a
spreadsheet and the reader reads back; each writer goes through `csv_cells`, so every one
quotes where CSV needs it and neutralises cells a spreadsheet would run as formulas, in the
way the reader undoes.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from sla_dsl.business_time.rep_hours import hours_text
from sla_dsl.history.absences import Absences
from sla_dsl.history.columns import EVENTS, NO_ACTOR, History, Reject
from sla_dsl.history.csv_cells import write_csv_rows
from sla_dsl.history.reps import Reps


def write_csv(columns: dict[str, np.ndarray], path: Path) -> None:
    """A history given as columns (`lead_id`, `at` in µs, `event`, `actor`, then its fields,
    in that order) as CSV: what the synthetic generators make, and what `write_history` writes.
    Timestamps as ISO 8601 in UTC (`Z`); the reader turns them into the policy's time.
    Written by `csv_cells`, as every CSV the tool writes: quoted where CSV needs it, and cells a
    spreadsheet would run as formulas neutralised in a way the reader undoes."""
    at = np.datetime_as_string(columns["at"].astype(np.int64).astype("datetime64[us]"),
                               unit="s") + "Z"
    names = ["lead_id", "at", "event", "actor"] + [
        n for n in columns if n not in ("lead_id", "at", "event", "actor")]
    table = {name: (at if name == "at" else columns[name].astype(str)) for name in names}
    write_csv_rows(path, names, zip(*(table[n] for n in names), strict=True))


def write_history(history: History, path: Path) -> None:
    """The history as CSV in the evaluator's canonical columns (UTC times with `Z`): how a
    simulated replication is emitted (`sla simulate --emit-history`), read back the same."""
    names = np.array(EVENTS, dtype=object)
    actor = np.where(history.actor == NO_ACTOR, "",
                     history.actors[np.maximum(history.actor, 0)] if len(history.actors)
                     else "").astype(object)
    columns = {"lead_id": history.lead_ids[history.lead], "at": history.at,
               "event": names[history.event], "actor": actor}
    for name, values in history.fields.items():
        columns[name] = np.where(values == None, "", values).astype(object)  # noqa: E711
    write_csv(columns, path)


def absences_path(history_path: Path | str) -> Path:
    """Where the absences of a written history go: beside it, `NAME-absences.csv`."""
    path = Path(history_path)
    return path.with_name(f"{path.stem}-absences.csv")


def write_absences(absences: Absences, path: Path) -> None:
    """Absences (`history.absences.Absences`) as the CSV `sla evaluate --absences` reads:
    rep, start, end (UTC instants with `Z`, the end excluded), reason."""
    def text(values: np.ndarray) -> np.ndarray:
        return np.datetime_as_string(values.astype(np.int64).astype("datetime64[us]"),
                                     unit="s") + "Z"

    reasons = np.array(["" if r is None else str(r) for r in absences.reason], dtype=object)
    write_csv_rows(path, ["rep", "start", "end", "reason"],
                   zip(absences.rep.astype(str), text(absences.begin), text(absences.end),
                       reasons, strict=True))


def reps_path(history_path: Path | str) -> Path:
    """Where the reps' own hours of a written history go: beside it, `NAME-reps.csv`."""
    path = Path(history_path)
    return path.with_name(f"{path.stem}-reps.csv")


def write_reps(reps: Reps, path: Path) -> None:
    """Each rep's own timezone and hours (`history.reps.Reps`) as the CSV `sla evaluate
    --reps` reads: one row per rep, its hours as a calendar's `open` line writes them."""
    rows = []
    for name, rep in reps.hours.items():
        week = tuple(tuple(rep.weekly.get(day, ())) for day in range(7)) \
            if rep.weekly else None
        rows.append((name, rep.zone or "", hours_text(week) if week else ""))
    write_csv_rows(path, ["rep", "timezone", "hours"], rows)


def write_rejects(history: History, path: Path | str) -> None:
    """Write the history's rejects as CSV: source, row, column, reason, then the raw columns
    (the union over all rejects, in the order first seen). The absences and reps files'
    rejects follow the history's (their source is that file). Cells a spreadsheet would run
    as a formula are neutralised (`csv_cells`): the raw values are whatever the CRM held."""
    sides = [side.rejects for side in (history.absences, history.reps) if side is not None]
    write_reject_list([*history.rejects, *(r for rejects in sides for r in rejects)], path)


def write_reject_list(rejects: Sequence[Reject], path: Path | str) -> None:
    """`write_rejects` of rejects gathered from several histories (an ingest's buckets)."""
    raw_columns: dict[str, None] = {}
    for reject in rejects:
        for name in reject.raw:
            raw_columns.setdefault(name, None)
    fixed = ["source", "row", "column", "reason"]
    names = list(raw_columns)
    header = fixed + [f"raw_{n}" if n in fixed else n for n in names]
    write_csv_rows(path, header, ([r.source, r.row, r.column or "", r.reason]
                                  + [r.raw.get(n, "") for n in names] for r in rejects))
