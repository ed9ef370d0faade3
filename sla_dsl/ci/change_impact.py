"""What a policy change would have done to a real history: the old and new versions replayed
over the same events, and every lead whose verdict the change flips.

A reviewer of a policy change asks "whose leads would this have breached?", not "how did the
totals move": so every number here comes with the lead ids behind it. Clauses are matched
across versions by handoff block and clause name; a lead that the change moves to another block
shows as leaving one clause (`n/a` after) and entering another (`n/a` before).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

from sla_dsl.business_time.periods import period_start, period_starts
from sla_dsl.business_time.zones import local_dates
from sla_dsl.evaluation.inputs import load_history
from sla_dsl.evaluation.replay import (
    BREACHED,
    STATUS_NAMES,
    ClauseResult,
    Evaluation,
    fields_needed,
)
from sla_dsl.history.columns import History
from sla_dsl.history.mapping import Mapping
from sla_dsl.language import model as m
from sla_dsl.language.formatter import item_line
from sla_dsl.measures.deliveries import delivered, delivery_unit, handed_over
from sla_dsl.reports.report import evaluate

NOT_APPLICABLE = 3
STATES = (*STATUS_NAMES, "n/a")
_ITEM_OF_CLAUSE = {"first touch": "first_touch", "touches": "touches",
                   "disposition": "disposition", "threshold": "when"}


@dataclass
class Replay:
    """One version of the policy replayed: its evaluation and its report document."""

    policy: m.Policy
    evaluation: Evaluation
    doc: dict


def histories(old: m.Policy, new: m.Policy, paths: Sequence[str],
              mapping: Mapping | None = None, *,
              export_timezone: str | None = None,
              reps: str | Path | None = None) -> tuple[History, History]:
    """The history as each version reads it: once when both share a timezone (times without
    an offset are read in it), else once per timezone; either way with the fields of both.
    `export_timezone`, the zone the export's own times are in, is the same for both; so are
    the reps' own calendars (`reps`, `sla diff --reps`)."""
    fields = fields_needed(old) | fields_needed(new)
    first = load_history(paths, mapping, old, fields=fields, export_timezone=export_timezone,
                         reps=reps)
    if (new.timezone or "UTC") == (old.timezone or "UTC") or export_timezone is not None:
        return first, first
    second = load_history(paths, mapping, new, fields=fields)
    second.reps = first.reps
    return first, second


def replay(policy: m.Policy, history: History, as_of: int | None) -> Replay:
    report = evaluate(policy, history, as_of, include_leads=False)
    return Replay(policy, report.evaluation, report.document)


def latest_event(history: History) -> int | None:
    """The as-of time both versions share, so that a pending clock means the same in both."""
    return int(history.at.max()) if len(history) else None


# ---------------------------------------------------------------- per lead and clause


_ATTEMPTS = 1 << 20  # a slot's key: lead position * _ATTEMPTS + attempt


@dataclass
class _Slots:
    """Every (lead, attempt) either version judged, in the common lead order: a recycled lead
    handed off again is compared attempt by attempt, never its latest attempt alone."""

    keys: np.ndarray  # sorted unique: lead position * _ATTEMPTS + attempt
    labels: np.ndarray  # "L1", or "L1/attempt-2" for a later attempt (as the due list keys it)
    lead: np.ndarray  # per slot: its lead's position in the common order
    plain: bool = False  # no later attempt anywhere: one slot per lead, in the common order

    def of(self, order: np.ndarray, result: ClauseResult) -> np.ndarray:
        """Each row of a clause result's slot."""
        if self.plain:
            return order[result.leads]
        return np.searchsorted(self.keys, _keys(order, result))


def _keys(order: np.ndarray, result: ClauseResult) -> np.ndarray:
    attempt = result.attempt if result.attempt is not None else \
        np.ones(len(result.leads), dtype=np.int64)
    return order[result.leads].astype(np.int64) * _ATTEMPTS + attempt


def _slots(old: Evaluation, new: Evaluation, old_at: np.ndarray, new_at: np.ndarray,
           lead_ids: np.ndarray) -> _Slots:
    results = [*old.clauses, *new.clauses]
    if not any(r.attempt is not None and bool((r.attempt > 1).any()) for r in results):
        lead = np.arange(len(lead_ids))  # the common case: no lead handed off again
        return _Slots(lead * _ATTEMPTS + 1, lead_ids, lead, plain=True)
    keys = [_keys(order, r) for evaluation, order in ((old, old_at), (new, new_at))
            for r in evaluation.clauses]
    keys = np.unique(np.concatenate(keys)) if keys else np.zeros(0, dtype=np.int64)
    lead, attempt = keys // _ATTEMPTS, keys % _ATTEMPTS
    labels = lead_ids[lead].astype(str).astype(object)
    later = np.flatnonzero(attempt > 1)
    for i in later.tolist():
        labels[i] = f"{labels[i]}/attempt-{int(attempt[i])}"
    return _Slots(keys, labels, lead)


def _statuses(evaluation: Evaluation, order: np.ndarray, slots: _Slots
              ) -> dict[tuple[str, str], np.ndarray]:
    """Per (handoff, clause): every slot's status, `n/a` where the clause does not apply;
    `order` puts the leads in the common order of both versions."""
    out = {}
    for result in evaluation.clauses:
        full = np.full(len(slots.keys), NOT_APPLICABLE, dtype=np.int8)
        full[slots.of(order, result)] = result.status
        out[(result.handoff, result.clause)] = full
    return out


def _common_order(old: Evaluation, new: Evaluation) -> tuple[list[str], np.ndarray, np.ndarray]:
    """All lead ids of both histories, and where each version's leads sit among them."""
    old_ids = [str(i) for i in old.history.lead_ids]
    if new.history is old.history:
        index = np.arange(len(old_ids))
        return old_ids, index, index
    new_ids = [str(i) for i in new.history.lead_ids]
    ids = sorted(set(old_ids) | set(new_ids))
    position = {lead: k for k, lead in enumerate(ids)}
    return (ids, np.array([position[i] for i in old_ids], dtype=np.int64),
            np.array([position[i] for i in new_ids], dtype=np.int64))


def _wording(policy: m.Policy, handoff: str, clause: str) -> str | None:
    block = next((h for h in policy.handoffs if h.label == handoff), None)
    item = block.item(_ITEM_OF_CLAUSE[clause]) if block else None
    return item_line(item) if item is not None else None


def _counts(status: np.ndarray | None) -> dict[str, int]:
    if status is None:
        return {"met": 0, "breached": 0, "pending": 0}
    return {name: int(np.count_nonzero(status == code))
            for code, name in enumerate(STATUS_NAMES)}


def _owners(old: Evaluation, new: Evaluation, old_at: np.ndarray, new_at: np.ndarray,
            slots: _Slots, size: int) -> np.ndarray:
    """Each slot's lead's owner: the same events name it in both versions; the old one's
    first. The fallback of `_clause_owners`, for a slot a clause does not judge."""
    owners = np.full(size, None, dtype=object)
    owners[new_at] = new.owner
    owners[old_at] = np.where(old.owner == None, owners[old_at], old.owner)  # noqa: E711
    return owners[slots.lead]


def _clause_owners(fallback: np.ndarray, results: list[tuple[ClauseResult | None, np.ndarray]],
                   slots: _Slots) -> np.ndarray:
    """Per slot, who answers for one clause, as the report counts owners: the owner the
    clause's verdict names (a later attempt's is its own round's, a reassigned lead's the one
    at the due time); the old version's where both judge it."""
    owners = fallback.copy()
    for result, order in results:  # the new version first, so that the old one's wins
        if result is not None and result.owner is not None:
            owners[slots.of(order, result)] = result.owner
    return owners


def clause_flips(old: Replay, new: Replay) -> tuple[list[dict], list[dict]]:
    """Per clause: counts before and after and the leads of every transition; and per owner
    (the receiver's clauses, as the report counts them): breaches before and after."""
    ids, old_at, new_at = _common_order(old.evaluation, new.evaluation)
    slots = _slots(old.evaluation, new.evaluation, old_at, new_at, np.array(ids, dtype=object))
    lead_ids = slots.labels
    before = _statuses(old.evaluation, old_at, slots)
    after = _statuses(new.evaluation, new_at, slots)
    owners = _owners(old.evaluation, new.evaluation, old_at, new_at, slots, len(ids))
    clauses = []
    per_owner: dict[str | None, dict] = {}
    keys = list(before) + [k for k in after if k not in before]
    old_results = {(r.handoff, r.clause): r for r in old.evaluation.clauses}
    new_results = {(r.handoff, r.clause): r for r in new.evaluation.clauses}
    for handoff, clause in keys:
        was, now = before.get((handoff, clause)), after.get((handoff, clause))
        was_full = was if was is not None else \
            np.full(len(lead_ids), NOT_APPLICABLE, np.int8)
        now_full = now if now is not None else \
            np.full(len(lead_ids), NOT_APPLICABLE, np.int8)
        moved = np.flatnonzero(was_full != now_full)
        flips: dict[str, list[str]] = {}
        for lead in moved.tolist():
            key = f"{STATES[was_full[lead]]} -> {STATES[now_full[lead]]}"
            flips.setdefault(key, []).append(str(lead_ids[lead]))
        clauses.append({
            "handoff": handoff, "clause": clause,
            "old_wording": _wording(old.policy, handoff, clause),
            "new_wording": _wording(new.policy, handoff, clause),
            "old": _counts(was), "new": _counts(now),
            "flipped": len(moved), "flips": dict(sorted(flips.items())),
        })
        if clause != "threshold":
            answering = _clause_owners(owners, [(new_results.get((handoff, clause)), new_at),
                                                (old_results.get((handoff, clause)), old_at)],
                                       slots)
            _tally_owners(per_owner, answering, lead_ids, was_full, now_full)
    return clauses, _owner_rows(per_owner)


def _tally_owners(per_owner: dict, owners: np.ndarray, lead_ids: np.ndarray,
                  was: np.ndarray, now: np.ndarray) -> None:
    involved = np.flatnonzero((was == BREACHED) | (now == BREACHED))
    if not len(involved):
        return
    names = owners[involved]
    labels = np.where(names == None, "", names).astype(str)  # noqa: E711 (elementwise)
    for label in np.unique(labels).tolist():
        rows = involved[labels == label]
        row = per_owner.setdefault(label or None, {"old_breached": 0, "new_breached": 0,
                                           "newly_breached": set(),
                                           "no_longer_breached": set()})
        before, after = was[rows] == BREACHED, now[rows] == BREACHED
        row["old_breached"] += int(before.sum())
        row["new_breached"] += int(after.sum())
        row["newly_breached"].update(lead_ids[rows[~before]].tolist())
        row["no_longer_breached"].update(lead_ids[rows[before & ~after]].tolist())


def _owner_rows(per_owner: dict) -> list[dict]:
    """Breaches count clauses (a lead late on two clauses is two breaches, as in the report);
    the lead lists name each lead once."""
    rows = [{"owner": owner, "old_breached": row["old_breached"],
             "new_breached": row["new_breached"],
             "newly_breached": sorted(row["newly_breached"]),
             "no_longer_breached": sorted(row["no_longer_breached"]),
             "change": row["new_breached"] - row["old_breached"]}
            for owner, row in per_owner.items()
            if row["newly_breached"] or row["no_longer_breached"]]
    return sorted(rows, key=lambda r: (-abs(r["change"]), str(r["owner"])))


# ---------------------------------------------------------------- strikes, actions, credits


def _strike_leads(replay: Replay) -> dict[tuple[str, str, str], list[str]]:
    """The leads behind each strike count: (owner, period, start) -> lead ids."""
    out: dict[tuple[str, str, str], list[str]] = {}
    fired = [c for c in replay.doc["consequences"]
             if c["action"] == "strike" and c["status"] == "fired"]
    for rule in replay.policy.strike_rules:
        for record in fired:
            start = period_start(dt.datetime.fromisoformat(record["at"]).date(), rule.per)
            key = (record["owner"] or "(no owner)", rule.per, start.isoformat())
            out.setdefault(key, []).append(_label(record))
    return out


def _label(record: dict) -> str:
    """A consequence's lead as the flips name it: a later attempt apart from the first."""
    attempt = record.get("attempt", 1)
    return f"{record['lead_id']}/attempt-{attempt}" if attempt > 1 else record["lead_id"]


def strike_changes(old: Replay, new: Replay) -> dict:
    """Strikes per owner and period before and after, with the leads gained and lost."""
    rows_old = {(r["owner"], r["period"], r["start"]): r for r in old.doc["strikes"]}
    rows_new = {(r["owner"], r["period"], r["start"]): r for r in new.doc["strikes"]}
    leads_old, leads_new = _strike_leads(old), _strike_leads(new)
    rows = []
    for key in sorted(set(rows_old) | set(rows_new), key=lambda k: (k[2], k[0])):
        was, now = rows_old.get(key), rows_new.get(key)
        before, after = set(leads_old.get(key, [])), set(leads_new.get(key, []))
        rows.append({
            "owner": key[0], "period": key[1], "start": key[2],
            "old": was["strikes"] if was else 0, "new": now["strikes"] if now else 0,
            "old_triggered": bool(was and was["triggered"]),
            "new_triggered": bool(now and now["triggered"]),
            "then": (now or was)["then"], "limit": (now or was)["limit"],
            "gained": sorted(after - before), "lost": sorted(before - after),
        })
    return {"old": sum(r["old"] for r in rows), "new": sum(r["new"] for r in rows),
            "rows": rows}


def action_changes(old: Replay, new: Replay) -> list[dict]:
    """Consequence actions fired before and after (warn, escalate, reassign, strike)."""
    def tally(replay: Replay) -> dict[str, set[tuple[str, str]]]:
        out: dict[str, set[tuple[str, str]]] = {}
        for c in replay.doc["consequences"]:
            if c["status"] == "fired":
                out.setdefault(c["action"], set()).add((_label(c), c["clause"]))
        return out

    was, now = tally(old), tally(new)
    rows = []
    for action in sorted(set(was) | set(now)):
        before, after = was.get(action, set()), now.get(action, set())
        rows.append({"action": action, "old": len(before), "new": len(after),
                     "gained": sorted({lead for lead, _ in after - before}),
                     "lost": sorted({lead for lead, _ in before - after})})
    return rows


def _period_key(period: dict) -> tuple:
    c = period["commitment"]
    return (c["from"], c["to"], c["deliver"], c["per"], period["start"])


def credit_changes(old: Replay, new: Replay) -> dict:
    """Commitment periods whose delivery, miss or credit the change alters, with the leads
    behind the difference where a lead makes it (see `_leads_behind`)."""
    was = {_period_key(p): p for p in old.doc["periods"]}
    now = {_period_key(p): p for p in new.doc["periods"]}
    rows = []
    for key in sorted(set(was) | set(now), key=lambda k: (k[4], k[:4])):
        a, b = was.get(key), now.get(key)
        if a and b and all(a[f] == b[f] for f in ("goal", "delivered", "counts_as_miss",
                                                  "credits_owed")):
            continue
        row = {"from": key[0], "to": key[1], "deliver": key[2], "per": key[3],
               "start": key[4],
               "old": _period_view(a), "new": _period_view(b)}
        if a and b:
            row.update(_leads_behind(old, new, key))
        rows.append(row)
    owed = {"old": sum(len(p["credits_owed"]) for p in old.doc["periods"]),
            "new": sum(len(p["credits_owed"]) for p in new.doc["periods"])}
    return {"credits_owed": owed, "rows": rows}


def _period_view(period: dict | None) -> dict | None:
    if period is None:
        return None
    return {k: period[k] for k in ("goal", "delivered", "complete", "missed", "counts_as_miss",
                                   "credits_owed")}


def _counted(replay: Replay, key: tuple) -> dict[str, float] | None:
    """Per lead handed over in the period of a commitment (`_period_key`), what it adds to
    the delivery (`deliveries`); None for revenue, which comes from won deals."""
    giver, receiver, unit, per, start = key
    item = next((item for c in replay.policy.commitments if c.giver.value == giver
                 and c.receiver.value == receiver for item in c.items
                 if isinstance(item, m.DeliverCount | m.DeliverMoney)
                 and delivery_unit(item) == unit and item.per == per), None)
    if item is None or (isinstance(item, m.DeliverMoney) and item.measure != "lead value"):
        return None
    evaluation = replay.evaluation
    handed = handed_over(evaluation, giver, receiver)
    zone = ZoneInfo(replay.policy.timezone or "UTC")
    within = period_starts(local_dates(handed.at, zone), per) == np.datetime64(start)
    names = evaluation.history.lead_ids[handed.leads[within]].astype(str).tolist()
    return dict(zip(names, delivered(evaluation, handed, item)[within].tolist(), strict=True))


def _leads_behind(old: Replay, new: Replay, key: tuple) -> dict[str, list[str]]:
    """The leads that make a period's delivery differ: for a count, those counted in one
    version only; for lead value, those whose value changed. (Revenue comes from won deals,
    which no policy change moves.)"""
    before, after = _counted(old, key), _counted(new, key)
    if before is None or after is None:
        return {}
    if key[2].endswith(" of lead value"):
        return {"value_changed": sorted(lead for lead in set(before) | set(after)
                                        if before.get(lead, 0.0) != after.get(lead, 0.0))}
    was, now = ({lead for lead, n in side.items() if n} for side in (before, after))
    return {"counted_only_before": sorted(was - now), "counted_only_after": sorted(now - was)}


# ---------------------------------------------------------------- the whole comparison


def impact(old: Replay, new: Replay) -> dict:
    """The change's effect as plain data: what `sla diff --format json` prints under
    `impact`; the text and markdown views read only this."""
    clauses, owners = clause_flips(old, new)
    old_breaches = old.doc["summary"]["breached"]
    new_breaches = new.doc["summary"]["breached"]
    transitions: Counter = Counter()
    for clause in clauses:
        transitions.update({k: len(v) for k, v in clause["flips"].items()})
    return {
        "as_of": old.doc["as_of"],
        "leads": old.doc["summary"]["leads"],
        "handed_off": {"old": old.doc["summary"]["handed_off"],
                       "new": new.doc["summary"]["handed_off"]},
        "breaches": {"old": old_breaches, "new": new_breaches,
                     "change": new_breaches - old_breaches},
        "transitions": dict(sorted(transitions.items())),
        "clauses": clauses,
        "owners": owners,
        "strikes": strike_changes(old, new),
        "actions": action_changes(old, new),
        "credits": credit_changes(old, new),
    }
