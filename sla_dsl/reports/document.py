"""What an evaluation says, as one document: the JSON `sla evaluate --format json` prints.

The text summary (`sla_dsl.reports.text`) and the HTML page (`sla_dsl.reports.html`) are views
of this document, so neither says something the JSON does not. The document's shape is
documented in docs/evaluate.md and kept by a test.
"""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa

from sla_dsl.business_time.calendar import calendar_for
from sla_dsl.business_time.periods import period_starts
from sla_dsl.business_time.rep_hours import owner_open_time_between
from sla_dsl.business_time.zones import local_dates
from sla_dsl.evaluation.consequences import (
    Actions,
    all_actions,
    clause_duration,
    strike_counts,
)
from sla_dsl.evaluation.instants import iso_many, iso_text
from sla_dsl.evaluation.owner_hours import owner_hours_notes
from sla_dsl.evaluation.replay import (
    BREACHED,
    MET,
    NONE,
    PENDING,
    STATUS_NAMES,
    ClauseResult,
    Evaluation,
)
from sla_dsl.language.formatter import item_line
from sla_dsl.measures import assignments, coverage, revenue
from sla_dsl.measures.absences import absence_summary
from sla_dsl.measures.period_measures import PeriodMeasures, TriggerCheck, triggers
from sla_dsl.reports.lead_table import lead_table, records

FORMAT_VERSION = 1


def _attainment(met: int, breached: int) -> float | None:
    decided = met + breached
    return round(100.0 * met / decided, 1) if decided else None


_ITEM_OF_CLAUSE = {"first touch": "first_touch", "touches": "touches",
                   "disposition": "disposition", "threshold": "when"}


def clause_wording(evaluation: Evaluation, handoff: str, clause: str) -> str:
    """The clause as the policy words it, so a manager reads the promise, not a code."""
    block = next(h for h in evaluation.policy.handoffs if h.label == handoff)
    return item_line(block.item(_ITEM_OF_CLAUSE[clause]))


def clause_summaries(evaluation: Evaluation) -> list[dict]:
    summaries = []
    for result in evaluation.clauses:
        met, breached = result.count(MET), result.count(BREACHED)
        summaries.append({
            "handoff": result.handoff, "clause": result.clause,
            "wording": clause_wording(evaluation, result.handoff, result.clause),
            "party": result.party,
            "leads": distinct_leads(result), "clocks": len(result.leads),
            "met": met, "breached": breached,
            "pending": result.count(PENDING), "attainment": _attainment(met, breached),
        })
    return summaries


def distinct_leads(result: ClauseResult) -> int:
    """The leads a clause judged, each once: fewer than its clocks (one per lead and handoff,
    what met + breached + pending add up to) when a recycled lead was handed off again and
    judged again in the block. Without a later attempt every row is a lead of its own, so
    nothing is sorted."""
    if result.attempt is None or not (result.attempt > 1).any():
        return len(result.leads)
    return len(np.unique(result.leads))


def monthly_attainment(evaluation: Evaluation, zone: ZoneInfo) -> list[dict]:
    """Per clause, each month's verdicts by the month of the handoff (local time): the trend a
    manager asks about first ("are we getting better?"). Every month from the first handoff
    to the as-of time (or the agreement's end) has a row, and one in which the clause had no
    lead says so (`no_data`), so a gap in the history is never drawn across."""
    starts = _months_of_starts(evaluation.clauses, zone)
    span = _months_reported(evaluation, zone, np.concatenate(starts) if starts else None)
    trend = []
    statuses = len(STATUS_NAMES)
    for result, months in zip(evaluation.clauses, starts, strict=True):
        # each row's month as its place in the span (every month is in it), counted by status
        place = np.searchsorted(np.array(span, dtype="datetime64[D]"), months)
        table = np.bincount(place * statuses + result.status,
                            minlength=len(span) * statuses).reshape(-1, statuses)
        rows = []
        for k, month in enumerate(span):
            counts = {name: int(table[k, code]) for name, code in
                      (("met", MET), ("breached", BREACHED), ("pending", PENDING))}
            rows.append({"month": str(month)[:7], **counts,
                         "attainment": _attainment(counts["met"], counts["breached"]),
                         "no_data": not table[k].any()})
        trend.append({"handoff": result.handoff, "clause": result.clause,
                      "wording": clause_wording(evaluation, result.handoff, result.clause),
                      "months": rows})
    return trend


def _months_of_starts(clauses: list[ClauseResult], zone: ZoneInfo) -> list[np.ndarray]:
    """Per clause, the local month of each row's clock start: the clauses of one block start
    their clocks together, so a start column equal to one already read is not read again."""
    read: list[tuple[np.ndarray, np.ndarray]] = []  # each distinct start column, its months
    out: list[np.ndarray] = []
    for result in clauses:
        months = next((m for start, m in read if np.array_equal(start, result.start)), None)
        if months is None:
            months = period_starts(local_dates(result.start, zone), "month")
            read.append((result.start, months))
        out.append(months)
    return out


def _months_reported(evaluation: Evaluation, zone: ZoneInfo,
                     months: np.ndarray | None) -> list[np.datetime64]:
    """The months from the first one with a handoff to the as-of time's, or the agreement's
    last month when it ends before."""
    if months is None or not len(months):
        return []
    last = local_dates(np.array([evaluation.as_of]), zone)[0]
    effective = evaluation.policy.effective
    if effective and effective.until:
        last = min(last, np.datetime64(effective.until.value))
    first = months.min().astype("datetime64[M]")
    final = max(last.astype("datetime64[M]"), months.max().astype("datetime64[M]"))
    return list(np.arange(first, final + 1).astype("datetime64[D]"))


def team_summaries(evaluation: Evaluation) -> list[dict]:
    """Per team, every clause: the clauses of the leads a team works (a block's round-robin
    team, else the team named after its receiving party), and a threshold (`when`) for the
    team named after the party that sent the lead, since handing over a lead below the bar is
    the sender's breach (`thresholds` says how much of a row that is). So the teams add up to
    the breaches and met clocks the report opens with: a sales manager reading "marketing 4
    breached" beside marketing's 66 threshold breaches would be told half of it."""
    totals: dict[str | None, list[int]] = {}
    for result in evaluation.clauses:
        threshold = result.clause == "threshold"
        team = result.party if threshold else next(
            h for h in evaluation.policy.handoffs if h.label == result.handoff).team
        counts = totals.setdefault(team, [0, 0, 0, 0])
        met, breached = result.count(MET), result.count(BREACHED)
        counts[0] += met
        counts[1] += breached
        if threshold:
            counts[2] += met
            counts[3] += breached
    return sorted(({"team": team, "met": met, "breached": breached,
                    "attainment": _attainment(met, breached),
                    "thresholds": {"met": sent_met, "breached": sent_breached}}
                   for team, (met, breached, sent_met, sent_breached) in totals.items()),
                  key=lambda r: (r["attainment"] is None, r["attainment"] or 0))


def owner_summaries(evaluation: Evaluation) -> list[dict]:
    """Per owner, across clauses: who kept the agreement and who did not, worst first. A
    threshold is left out: it is the sending party's breach, not the rep's who owns the lead
    (the teams count it for the sender, and the text and page say how much is left out)."""
    met: Counter = Counter()
    breached: Counter = Counter()
    for result in evaluation.clauses:
        if result.clause == "threshold":  # the sender's clause, not the owner's
            continue
        names, codes = _owner_codes(result, evaluation.history.actors)
        for status, counter in ((MET, met), (BREACHED, breached)):
            counts = np.bincount(codes[result.status == status], minlength=len(names))
            counter.update({names[i]: int(counts[i]) for i in np.flatnonzero(counts)})
    rows = [{"owner": None if name == "None" else name, "met": met[name],
             "breached": breached[name], "attainment": _attainment(met[name], breached[name])}
            for name in set(met) | set(breached)]
    shares = split_breach_shares(evaluation)
    if shares is not None:  # `on reassign split`: each owner's share of the split breaches
        known = {r["owner"] for r in rows}
        rows += [{"owner": name, "met": 0, "breached": 0, "attainment": None}
                 for name in shares if name not in known]
        for row in rows:
            row["breach_share"] = round(shares.get(row["owner"], 0.0), 2)
    return sorted(rows, key=lambda r: (-r["breached"], r["attainment"] or 0, str(r["owner"])))


def _owner_codes(result: ClauseResult, actors: np.ndarray) -> tuple[list[str], np.ndarray]:
    """Owner names as `str` writes them (None as "None") and each lead's index into them:
    counted per status with `bincount` rather than a sort of a million names. The replay's
    actor codes say it without reading a name (`ClauseResult.owner_code`)."""
    if result.owner_code is not None:
        spelled = [*(str(name) for name in actors.tolist()), "None"]  # NO_ACTOR (-1) last
        names = list(dict.fromkeys(spelled))  # a name twice (an actor "None") counted once
        index = np.array([names.index(name) for name in spelled], dtype=np.int64)
        return names, index[result.owner_code]
    owners = result.owner
    try:
        text = pa.array(owners, pa.string(), from_pandas=False).fill_null("None")
    except (pa.ArrowTypeError, pa.ArrowInvalid):
        text = pa.array(owners.astype(str), pa.string())
    encoded = text.dictionary_encode()
    return encoded.dictionary.to_pylist(), encoded.indices.to_numpy()


def split_breach_shares(evaluation: Evaluation) -> dict[str | None, float] | None:
    """Per owner, the breaches they answer for when clocks split their blame: a whole breach
    for each unsplit one, and for a split one the share of the clock's time (open time for a
    business duration) that ran before the reassignment to the owner before it and the rest to
    the owner at the due time. None when no clause splits."""
    splitting = [r for r in evaluation.clauses if r.reassign == "split"]
    if not splitting:
        return None
    shares: Counter = Counter()
    for result in evaluation.clauses:
        if result.clause == "threshold":
            continue
        breached = result.status == BREACHED
        before = _share_before(evaluation, result) if result.reassign == "split" \
            else np.zeros(len(result.leads))
        for owner, share in zip(result.owner[breached].tolist(), (1 - before[breached]).tolist(),
                                strict=True):
            shares[owner] += share
        if result.split_from is not None:
            for owner, share in zip(result.split_from[breached].tolist(),
                                    before[breached].tolist(), strict=True):
                if share:
                    shares[owner] += share
    return dict(shares)


def _share_before(evaluation: Evaluation, result: ClauseResult) -> np.ndarray:
    """Per row, the part of a split clock's time (start to due) that ran before the split."""
    share = np.zeros(len(result.leads))
    split = (result.split_at != NONE) & (result.due > result.start)
    if not split.any():
        return share
    duration = clause_duration(evaluation.policy, result)
    start, at, due = result.start[split], result.split_at[split], result.due[split]
    if duration is not None and duration.business:
        calendar = calendar_for(evaluation.policy, duration)
        hours_of = None if result.hours_of is None else result.hours_of[split]
        owners = evaluation.owner_calendars
        whole = owner_open_time_between(start, due, hours_of, calendar, owners)
        part = owner_open_time_between(start, np.minimum(at, due), hours_of, calendar, owners)
    else:
        whole, part = due - start, np.minimum(at, due) - start
    share[split] = np.where(whole > 0, part / np.maximum(whole, 1), 0.0)
    return share


def has_lifecycle_keys(evaluation: Evaluation) -> bool:
    """Whether some lead record carries lifecycle keys (an attempt past the first, a clock that
    restarts or splits on reassignment): the column-wise writer (`lead_table`, `json_text`)
    writes the plain records only, so those evaluations take the record-by-record path."""
    return any((r.attempt is not None and bool((r.attempt > 1).any()))
               or r.reassign != "continue" for r in evaluation.clauses)


def lead_records(evaluation: Evaluation, zone: ZoneInfo) -> list[dict]:
    """Every judged lead's record with its clause verdicts, in lead order."""
    if not has_lifecycle_keys(evaluation):
        return records(lead_table(evaluation, zone))
    named = _lead_names(evaluation)
    per_lead: dict[int, list[dict]] = {}
    for result in evaluation.clauses:
        statuses = np.array(STATUS_NAMES, dtype=object)[result.status]
        for i, (lead, status, due, at) in enumerate(zip(
                result.leads.tolist(), statuses.tolist(), iso_many(result.due, zone).tolist(),
                iso_many(result.at, zone).tolist(), strict=True)):
            per_lead.setdefault(lead, []).append(
                {"handoff": result.handoff, "clause": result.clause, "status": status,
                 "due": due, "at": at, "owner": result.owner[i],
                 **_lifecycle_keys(result, i, zone, named[lead][2])})
    recycled = {int(lead) for r in evaluation.clauses if r.attempt is not None
                for lead in r.leads[r.attempt > 1].tolist()}
    for lead in recycled:  # a lead handed off again: each record says which attempt it judges
        for record in per_lead[lead]:
            record.setdefault("attempt", 1)
    lead_ids = evaluation.history.lead_ids
    return [{
        "lead_id": str(lead_ids[lead]),
        "handoff": named[lead][0],
        "segment": evaluation.segment[lead],
        "owner": named[lead][1],
        "handed_off_at": iso_text(named[lead][2], zone),
        "clauses": clauses,
    } for lead, clauses in sorted(per_lead.items())]


def _lead_names(evaluation: Evaluation) -> dict[int, tuple[str | None, str | None, int]]:
    """Per judged lead, its record's handoff label, owner and handoff instant (µs): its
    first-level block's, or, for a lead only a later level took (an MDR's own prospect passed
    to sales), the first clause result's that judged it: its block, owner and clock start."""
    named: dict[int, tuple[str | None, str | None, int]] = {}
    for result in evaluation.clauses:
        for i, lead in enumerate(result.leads.tolist()):
            if lead in named:
                continue
            if evaluation.handoff[lead] is None:
                named[lead] = (result.handoff, result.owner[i], int(result.start[i]))
            else:
                named[lead] = (evaluation.handoff[lead] or None, evaluation.owner[lead],
                               int(evaluation.handoff_at[lead]))
    return named


def _lifecycle_keys(result: ClauseResult, i: int, zone: ZoneInfo, lead_start: int) -> dict:
    """What a record adds for the lead's lifecycle: when its clock started, where that is not
    its lead's handoff (`lead_start`: a later level's or attempt's handoff, a restart), and
    always for a clock that restarts or splits on reassignment; its attempt past the first;
    and for a split clock the reassignment it split at and the owner before it. A record
    without any of these has none of these keys."""
    keys: dict = {}
    start = int(result.start[i])
    if start != lead_start or result.reassign != "continue":
        keys["clock_start"] = iso_text(start, zone)
    if result.attempt is not None and result.attempt[i] > 1:
        keys["attempt"] = int(result.attempt[i])
    if result.split_at is not None and result.split_at[i] != NONE:
        keys["reassigned_at"] = iso_text(int(result.split_at[i]), zone)
        keys["owner_before"] = result.split_from[i]
    return keys


def latest_breaches(evaluation: Evaluation, zone: ZoneInfo, count: int = 10) -> list[dict]:
    """The most recent breaches, newest first, found in the clause columns directly."""
    picked: list[tuple[int, int, int, str]] = []
    for index, result in enumerate(evaluation.clauses):
        breached = np.flatnonzero(result.status == BREACHED)
        newest = breached[np.argsort(result.due[breached])[-count:]]
        picked += [(int(result.due[i]), index, int(i), result.clause) for i in newest]
    picked.sort(reverse=True)
    rows = []
    for due, index, i, clause in picked[:count]:
        result = evaluation.clauses[index]
        lead = int(result.leads[i])
        rows.append({"lead_id": str(evaluation.history.lead_ids[lead]),
                     "handoff": result.handoff, "clause": clause, "due": iso_text(due, zone),
                     "at": iso_text(int(result.at[i]), zone), "owner": result.owner[i]})
    return rows


def consequence_records(evaluation: Evaluation, actions: list[Actions],
                        zone: ZoneInfo) -> list[dict]:
    lead_ids = evaluation.history.lead_ids
    records = []
    for group in actions:
        attempts = group.attempts.tolist() if group.attempts is not None \
            else [1] * len(group.leads)
        for lead, owner, fires, fired, attempt in zip(
                group.leads.tolist(), group.owners.tolist(), group.fires.tolist(),
                group.fired.tolist(), attempts, strict=True):
            records.append({
                "lead_id": str(lead_ids[lead]), "handoff": group.handoff,
                "clause": group.clause, "action": group.action, "to": group.to,
                "owner": owner, "at": iso_text(fires, zone),
                "status": "fired" if fired else "scheduled",
                # a recycled lead's later round, as its lead record says it
                **({"attempt": attempt} if attempt > 1 else {}),
            })
    records.sort(key=lambda r: (r["at"] or "", r["lead_id"], r["action"]))
    return records


def document(evaluation: Evaluation, *, include_leads: bool = True) -> dict:
    """The whole evaluation as plain data: what `--format json` prints."""
    doc = document_body(evaluation, include_leads=include_leads)
    if include_leads:
        doc["leads"] = lead_records(evaluation, ZoneInfo(doc["timezone"]))
    return doc


def document_body(evaluation: Evaluation, *, include_leads: bool = True) -> dict:
    """The document with `leads` an empty list: all but the per-lead records, which the JSON
    writer (`reports.json_text`) and `document` take from `lead_table.lead_table`.
    `include_leads` still decides whether attribution lists its deals.

    The speed-of-follow-up table is about half the work and reads nothing the rest writes:
    it is made on a second thread meanwhile (its sorts and partitions let go of the GIL), so
    a million leads' document takes the time of the larger half, not of both."""
    with ThreadPoolExecutor(1, thread_name_prefix="speed") as pool:
        zone = ZoneInfo(evaluation.policy.timezone or "UTC")
        measures = PeriodMeasures(evaluation)
        speed = pool.submit(measures.speed)
        doc = _body(evaluation, measures, zone, include_leads)
        depth = measures.depth()
        doc["follow_up"] = {"speed": speed.result(), "depth": depth}
    return doc


def _body(evaluation: Evaluation, measures: PeriodMeasures, zone: ZoneInfo,
          include_leads: bool) -> dict:
    """`document_body` but its follow-up tables."""
    actions = all_actions(evaluation)
    commitments = measures.commitments()
    attribution = revenue.section(evaluation, include_deals=include_leads,
                                  result=measures.attribution)
    goals = attribution["goals"] if attribution else []
    check = TriggerCheck(measures, commitments, evaluation.now, goals=goals)
    strikes = strike_counts(evaluation, actions)
    doc = {
        "format": FORMAT_VERSION,
        "policy": evaluation.policy.title,
        "timezone": zone.key,
        "as_of": iso_text(evaluation.as_of, zone),
        "coverage": coverage.section(evaluation, [p for c in commitments for p in c["periods"]],
                                     goals, measures.arrivals),
        "rows": _rows(evaluation,
                      owner_hours_notes(evaluation.clauses, evaluation.owner_calendars)),
        "summary": {
            "leads": evaluation.lead_count,
            "handed_off": int(np.count_nonzero(evaluation.handed_off)),
            "clauses": clause_summaries(evaluation),
            "owners": owner_summaries(evaluation),
            "teams": team_summaries(evaluation),
            "breached": int(sum(r.count(BREACHED) for r in evaluation.clauses)),
            "latest_breaches": latest_breaches(evaluation, zone),
            "by_month": monthly_attainment(evaluation, zone),
        },
        "leads": [],
        "periods": [dict(period, commitment={k: v for k, v in c.items() if k != "periods"})
                    for c in commitments for period in c["periods"]],
        "unmeasured_reports": measures.unmeasured_reports(),
        "unmeasured_deliveries": measures.unmeasured_deliveries(),
        "consequences": consequence_records(evaluation, actions, zone),
        "strikes": strikes,
        "assignments": assignments.assignment_summaries(evaluation),
        "follow_up": None,  # document_body's, made beside the rest
        "funnel": measures.funnel(evaluation.now),
        "triggers": triggers(evaluation.policy, check, strikes),
        "attribution": attribution,
    }
    judged = np.zeros(len(evaluation.history.lead_ids), dtype=bool)  # a lead, once
    for result in evaluation.clauses:
        judged[result.leads] = True
    doc["summary"]["owed"] = owed(doc, leads=int(np.count_nonzero(judged)))
    doc["summary"]["unclocked"] = unclocked(evaluation, judged)
    return doc


def unclocked(evaluation: Evaluation, judged: np.ndarray) -> list[dict]:
    """The leads handed off that no clause judged, by the block they went to (`handoff` None:
    no block applied), each counted once: without them "handed off: 276" beside "of 271
    leads" reads as five leads lost. A block sets no clock when it hands off to nobody (`to`
    None) or asks for nothing."""
    left = evaluation.handed_off & ~judged
    rows = []
    for handoff in evaluation.policy.handoffs:
        leads = evaluation.leads_of(handoff.label)
        mine = leads[left[leads]]
        if len(mine):
            left[mine] = False
            rows.append({"handoff": handoff.label, "leads": len(mine),
                         "to": None if handoff.receiver is None else handoff.receiver.value})
    if left.any():
        rows.append({"handoff": None, "leads": int(np.count_nonzero(left)), "to": None})
    return rows


def owed(doc: dict, leads: int) -> dict:
    """What the report's first lines say, counted from the document's own tables (clauses,
    periods, revenue goals, triggers, strikes): the text and the page both word these counts,
    so a sentence cannot disagree with the table under it. `leads` is how many leads have a
    clock (each has an entry in the document's `leads`)."""
    clauses = doc["summary"]["clauses"]
    goals = (doc.get("attribution") or {}).get("goals") or []
    return {
        "clauses": len(clauses),
        "leads": leads,
        "met": sum(c["met"] for c in clauses),
        "breached": sum(c["breached"] for c in clauses),
        "pending": sum(c["pending"] for c in clauses),
        "commitments": _misses(doc["periods"]),
        "revenue_goals": _misses([p for g in goals for p in g["periods"]]) if goals else None,
        "triggers": len(doc["triggers"]),
        "fired": [t["rule"] for t in doc["triggers"] if t["triggered"]],
        "owners_at_strike_limit": len({s["owner"] for s in doc["strikes"] if s["triggered"]}),
    }


def _misses(periods: list[dict]) -> dict:
    """Missed periods and what each counted miss owes (a credit, an escalation)."""
    counted_misses = [p for p in periods if p["counts_as_miss"]]
    credits = Counter(c for p in counted_misses for c in p["credits_owed"])
    escalations = Counter(e for p in counted_misses for e in p["escalate_to"])
    return {"periods": len(periods), "complete": sum(1 for p in periods if p["complete"]),
            "missed": len(counted_misses),
            "in_grace": sum(1 for p in periods if p["missed"] and not p["counts_as_miss"]),
            "credits": [{"credit": c, "periods": n} for c, n in credits.items()],
            "escalations": [{"to": e, "periods": n} for e, n in escalations.items()]}


def _rows(evaluation: Evaluation, more_notes: list[str] | None = None) -> dict:
    """Records read = accepted + rejected; with a mapping's filters, the rows they left out
    (no records), what the exports cannot show (and `more_notes`: whose hours clocks ran on),
    and with an absences file what it held and whose clocks it paused: each only when there is
    one."""
    history = evaluation.history
    counts = history.counts
    rows: dict = {"read": counts.read, "accepted": counts.accepted, "rejected": counts.rejected}
    if history.left_out:
        rows["left_out"] = history.left_out
    if history.notes or more_notes:
        rows["notes"] = [*history.notes, *(more_notes or [])]
    absences = absence_summary(evaluation)
    if absences is not None:
        rows["absences"] = absences
    return rows
