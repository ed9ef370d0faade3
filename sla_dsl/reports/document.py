"""What an evaluation says, as a document (JSON) and as a summary a manager reads (text).

Both are views of one document built here, so the text never says something the JSON does
not. The document's shape is documented in docs/evaluate.md and kept by a test.
"""

from __future__ import annotations

from collections import Counter
from zoneinfo import ZoneInfo

import numpy as np

from sla_dsl.business_time import wall_readings
from sla_dsl.evaluation.consequences import Actions, all_actions, strike_counts
from sla_dsl.evaluation.replay import (
    BREACHED,
    MET,
    NONE,
    PENDING,
    STATUS_NAMES,
    STOPPED,
    Evaluation,
)
from sla_dsl.history.columns import local_time
from sla_dsl.language.formatter import item_line
from sla_dsl.measures import assignments, coverage, revenue
from sla_dsl.measures.period_measures import (
    PeriodMeasures,
    TriggerCheck,
    local_dates,
    period_starts,
    triggers,
)

FORMAT_VERSION = 1


def _iso(us: int, zone: ZoneInfo) -> str | None:
    if us in (NONE, STOPPED):
        return None
    return local_time(us, zone).isoformat()


def iso_many(us: np.ndarray, zone: ZoneInfo) -> np.ndarray:
    """`_iso` for a column of instants at once: the wall time from the zone's offsets, each
    offset written once, so a million timestamps cost a few array operations."""
    out = np.full(len(us), None, dtype=object)
    valid = (us != NONE) & (us != STOPPED)
    if not valid.any():
        return out
    instants = us[valid]
    wall = wall_readings(instants, zone)
    text = np.datetime_as_string(wall.astype("datetime64[us]"), unit="s").astype(object)
    fraction = wall % 1_000_000
    finer = np.flatnonzero(fraction)  # isoformat shows microseconds only where there are some
    text[finer] = text[finer] + np.array([f".{f:06d}" for f in fraction[finer]], dtype=object)
    shift = (wall - instants) // 60_000_000
    suffix = np.empty(len(shift), dtype=object)
    for minutes in np.unique(shift):
        sign = "+" if minutes >= 0 else "-"
        hours, rest = divmod(abs(int(minutes)), 60)
        suffix[shift == minutes] = f"{sign}{hours:02d}:{rest:02d}"
    out[valid] = text + suffix
    return out




def _attainment(met: int, breached: int) -> float | None:
    decided = met + breached
    return round(100.0 * met / decided, 1) if decided else None


_ITEM_OF_CLAUSE = {"first touch": "first_touch", "touches": "touches",
                   "disposition": "disposition", "threshold": "when"}


def _wording(evaluation: Evaluation, handoff: str, clause: str) -> str:
    """The clause as the policy words it, so a manager reads the promise, not a code."""
    block = next(h for h in evaluation.policy.handoffs if h.label == handoff)
    return item_line(block.item(_ITEM_OF_CLAUSE[clause]))


def clause_summaries(evaluation: Evaluation) -> list[dict]:
    summaries = []
    for result in evaluation.clauses:
        met, breached = result.count(MET), result.count(BREACHED)
        summaries.append({
            "handoff": result.handoff, "clause": result.clause,
            "wording": _wording(evaluation, result.handoff, result.clause),
            "party": result.party,
            "leads": len(result.leads), "met": met, "breached": breached,
            "pending": result.count(PENDING), "attainment": _attainment(met, breached),
        })
    return summaries


def monthly_attainment(evaluation: Evaluation, zone: ZoneInfo) -> list[dict]:
    """Per clause, each month's verdicts by the month of the handoff (local time): the trend a
    manager asks about first ("are we getting better?"). Every month from the first handoff
    to the as-of time (or the agreement's end) has a row, and one in which the clause had no
    lead says so (`no_data`), so a gap in the history is never drawn across."""
    starts = [period_starts(local_dates(r.start, zone), "month") for r in evaluation.clauses]
    span = _months_reported(evaluation, zone, np.concatenate(starts) if starts else None)
    trend = []
    for result, months in zip(evaluation.clauses, starts, strict=True):
        rows = []
        for month in span:
            here = months == month
            counts = {name: int(np.count_nonzero(result.status[here] == code))
                      for name, code in (("met", MET), ("breached", BREACHED),
                                         ("pending", PENDING))}
            rows.append({"month": str(month)[:7], **counts,
                         "attainment": _attainment(counts["met"], counts["breached"]),
                         "no_data": not here.any()})
        trend.append({"handoff": result.handoff, "clause": result.clause,
                      "wording": _wording(evaluation, result.handoff, result.clause),
                      "months": rows})
    return trend


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
    """Per team the handoff blocks assign to, across their receivers' clauses."""
    totals: dict[str | None, list[int]] = {}
    for result in evaluation.clauses:
        if result.clause == "threshold":
            continue
        block = next(h for h in evaluation.policy.handoffs if h.label == result.handoff)
        counts = totals.setdefault(block.team, [0, 0])
        counts[0] += result.count(MET)
        counts[1] += result.count(BREACHED)
    return sorted(({"team": team, "met": met, "breached": breached,
                    "attainment": _attainment(met, breached)}
                   for team, (met, breached) in totals.items()),
                  key=lambda r: (r["attainment"] is None, r["attainment"] or 0))


def owner_summaries(evaluation: Evaluation) -> list[dict]:
    """Per owner, across clauses: who kept the agreement and who did not, worst first."""
    met: Counter = Counter()
    breached: Counter = Counter()
    for result in evaluation.clauses:
        if result.clause == "threshold":  # the sender's clause, not the owner's
            continue
        owners = result.owner
        for status, counter in ((MET, met), (BREACHED, breached)):
            names, counts = np.unique(owners[result.status == status].astype(str),
                                      return_counts=True)
            counter.update(dict(zip(names.tolist(), counts.tolist(), strict=True)))
    rows = [{"owner": None if name == "None" else name, "met": met[name],
             "breached": breached[name], "attainment": _attainment(met[name], breached[name])}
            for name in set(met) | set(breached)]
    return sorted(rows, key=lambda r: (-r["breached"], r["attainment"] or 0, str(r["owner"])))


def lead_records(evaluation: Evaluation, zone: ZoneInfo) -> list[dict]:
    per_lead: dict[int, list[dict]] = {}
    for result in evaluation.clauses:
        statuses = np.array(STATUS_NAMES, dtype=object)[result.status]
        for lead, status, due, at in zip(result.leads.tolist(), statuses.tolist(),
                                         iso_many(result.due, zone).tolist(),
                                         iso_many(result.at, zone).tolist(), strict=True):
            per_lead.setdefault(lead, []).append(
                {"handoff": result.handoff, "clause": result.clause, "status": status,
                 "due": due, "at": at})
    lead_ids = evaluation.history.lead_ids
    handed_off = iso_many(evaluation.handoff_at, zone)
    # a lead only a later level took (an MDR's own prospect passed to sales) is named by it
    later: dict[int, tuple[str, str | None, str | None]] = {}
    for result in evaluation.clauses:
        for i in np.flatnonzero(evaluation.handoff[result.leads] == None):  # noqa: E711
            later.setdefault(int(result.leads[i]), (result.handoff, result.owner[i],
                                                     _iso(int(result.start[i]), zone)))
    return [{
        "lead_id": str(lead_ids[lead]),
        "handoff": evaluation.handoff[lead] or later.get(lead, (None,))[0],
        "segment": evaluation.segment[lead],
        "owner": evaluation.owner[lead] if lead not in later else later[lead][1],
        "handed_off_at": handed_off[lead] if lead not in later else later[lead][2],
        "clauses": clauses,
    } for lead, clauses in sorted(per_lead.items())]


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
                     "handoff": result.handoff, "clause": clause, "due": _iso(due, zone),
                     "at": _iso(int(result.at[i]), zone), "owner": result.owner[i]})
    return rows


def consequence_records(evaluation: Evaluation, actions: list[Actions],
                        zone: ZoneInfo) -> list[dict]:
    lead_ids = evaluation.history.lead_ids
    records = []
    for group in actions:
        for lead, owner, fires, fired in zip(group.leads.tolist(), group.owners.tolist(),
                                             group.fires.tolist(), group.fired.tolist(),
                                             strict=True):
            records.append({
                "lead_id": str(lead_ids[lead]), "handoff": group.handoff,
                "clause": group.clause, "action": group.action, "to": group.to,
                "owner": owner, "at": _iso(fires, zone),
                "status": "fired" if fired else "scheduled",
            })
    records.sort(key=lambda r: (r["at"] or "", r["lead_id"], r["action"]))
    return records


def document(evaluation: Evaluation, *, include_leads: bool = True) -> dict:
    """The whole evaluation as plain data: what `--format json` prints."""
    zone = ZoneInfo(evaluation.policy.timezone or "UTC")
    actions = all_actions(evaluation)
    measures = PeriodMeasures(evaluation, evaluation.at_handoff)
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
        "as_of": _iso(evaluation.as_of, zone),
        "coverage": coverage.section(evaluation, [p for c in commitments for p in c["periods"]],
                                     goals, measures.arrivals),
        "rows": _rows(evaluation.history),
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
        "leads": lead_records(evaluation, zone) if include_leads else [],
        "periods": [dict(period, commitment={k: v for k, v in c.items() if k != "periods"})
                    for c in commitments for period in c["periods"]],
        "consequences": consequence_records(evaluation, actions, zone),
        "strikes": strikes,
        "assignments": assignments.assignment_summaries(evaluation),
        "follow_up": {"speed": measures.speed(), "depth": measures.depth()},
        "funnel": measures.funnel(evaluation.now),
        "triggers": triggers(evaluation.policy, check, strikes),
        "attribution": attribution,
    }
    judged = np.unique(np.concatenate([r.leads for r in evaluation.clauses])) \
        if evaluation.clauses else np.zeros(0)
    doc["summary"]["owed"] = owed(doc, leads=len(judged))
    return doc


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


def headline(owed: dict) -> list[str]:
    """The counts of `owed` as the sentences a manager reads first (text and page alike)."""
    out = [f"{owed['breached']:,} {_plural(owed['breached'], 'breach', 'breaches')}, "
           f"{owed['pending']:,} pending and {owed['met']:,} met, over "
           f"{owed['clauses']} {_plural(owed['clauses'], 'clause', 'clauses')} of "
           f"{owed['leads']:,} {_plural(owed['leads'], 'lead', 'leads')}."
           if owed["clauses"] else
           "No clause was judged: no handoff block set a clock for these leads."]
    out += miss_sentences(owed)
    out.append(trigger_sentence(owed))
    if owed["owners_at_strike_limit"]:
        count = owed["owners_at_strike_limit"]
        out.append(f"{count} {_plural(count, 'owner', 'owners')} reached the strike limit.")
    return out


def miss_sentences(owed: dict) -> list[str]:
    """Missed commitment and revenue-goal periods, and what the misses owe."""
    out = _miss_sentence(owed["commitments"], "commitment")
    if owed["revenue_goals"] is not None:
        out += _miss_sentence(owed["revenue_goals"], "revenue goal")
    return out


def trigger_sentence(owed: dict) -> str:
    fired, total = owed["fired"], owed["triggers"]
    if not total:
        return "The policy sets no cancel, review or strike-limit trigger."
    if fired:
        return (f"{len(fired)} of {total} {_plural(total, 'trigger', 'triggers')} fired: "
                + "; ".join(fired) + ".")
    return f"None of the {total} {_plural(total, 'trigger', 'triggers')} fired."


def _miss_sentence(misses: dict, what: str) -> list[str]:
    if not misses["periods"]:
        return []
    grace = (f" ({misses['in_grace']} more missed in grace)" if misses["in_grace"] else "")
    if not misses["missed"]:
        return [f"No {what} period counts as missed{grace}, so nothing is owed for one."]
    missed = f"{misses['missed']} {what} {_plural(misses['missed'], 'period', 'periods')} " \
             f"missed{grace}"
    owed_text = ("; owed for each: " + ", ".join(c["credit"] for c in misses["credits"])
                 if misses["credits"] else "; the policy sets no credit for a miss")
    escalated = ("; each escalated to " + ", ".join(e["to"] for e in misses["escalations"])
                 if misses["escalations"] else "")
    return [f"{missed}{owed_text}{escalated}."]


def _plural(count: int, one: str, many: str) -> str:
    return one if count == 1 else many


def _rows(history) -> dict:
    """Records read = accepted + rejected; with a mapping's filters, the rows they left out
    (no records), and what the exports cannot show: both only when there are any."""
    counts = history.counts
    rows: dict = {"read": counts.read, "accepted": counts.accepted, "rejected": counts.rejected}
    if history.left_out:
        rows["left_out"] = history.left_out
    if history.notes:
        rows["notes"] = list(history.notes)
    return rows


def render_text(doc: dict, *, worst: int = 10) -> str:
    """The summary a sales and a marketing manager act on: worst offenders first."""
    rows = doc["rows"]
    summary = doc["summary"]
    out = [
        f"{doc['policy'] or 'Policy'}: {_as_of(doc)}",
        *_period_lines(doc["coverage"]),
        f"history: {rows['read']} rows read, {rows['accepted']} accepted, "
        f"{rows['rejected']} rejected" + (f" ({rows['left_out']} more left out by the "
                                          f"mapping's filters)" if rows.get("left_out") else ""),
        *(f"note: {note}" for note in rows.get("notes", [])),
        f"leads: {summary['leads']}{_out_of_period(doc['coverage'])}, "
        f"handed off: {summary['handed_off']}",
        *(f"warning: {w}" for w in doc["coverage"]["warnings"]),
    ]
    out += ["", "in short:"] + [f"  {sentence}" for sentence in headline(summary["owed"])]
    if summary["clauses"]:  # "in short" already says when no clause was judged
        out += ["", "clauses, worst first (met / breached / pending, attainment of decided "
                    "leads):"]
    width = max((len(f"{c['handoff']}: {c['wording']}") for c in summary["clauses"]),
                default=0)
    for clause in sorted(summary["clauses"], key=lambda c: (c["attainment"] is None,
                                                            c["attainment"] or 0)):
        label = f"{clause['handoff']}: {clause['wording']}".ljust(width)
        rate = "-" if clause["attainment"] is None else f"{clause['attainment']:.1f}%"
        out.append(f"  {label}  {clause['met']:>7} {clause['breached']:>7} "
                   f"{clause['pending']:>7}  {rate:>6} {text_bar(clause['attainment'])}  "
                   f"({clause['party']})")
    out += _trend_text(summary["by_month"])
    teams = [t for t in summary["teams"] if t["attainment"] is not None]
    if teams:
        out += ["", "teams:"]
        out += [f"  {t['team'] or '(unassigned)':<24} {t['breached']:>6} breached, "
                f"{t['met']:>6} met  ({t['attainment']:.1f}%)" for t in teams]
    offenders = [o for o in summary["owners"] if o["breached"]][:worst]
    if offenders:
        out += ["", f"owners with the most breaches (worst {len(offenders)}):"]
        for owner in offenders:
            out.append(f"  {owner['owner'] or '(no owner)':<24} {owner['breached']:>6} breached, "
                       f"{owner['met']:>6} met  ({owner['attainment']:.1f}%)")
    out += assignments.render_text(doc["assignments"])
    out += _commitments_text(doc) + _consequences_text(doc) + _triggers_text(doc)
    out += revenue.render_text(doc.get("attribution"))
    latest = summary["latest_breaches"][:worst]
    if latest:
        out += ["", f"latest breaches ({len(latest)} of {summary['breached']}):"]
        for row in latest:
            done = f"done {row['at']}" if row["at"] else "not done"
            out.append(f"  {row['lead_id']:<20} {row['handoff']}: {row['clause']}, "
                       f"due {row['due']}, {done}, owner {row['owner'] or '-'}")
    return "\n".join(out) + "\n"


def as_of_why(covered: dict) -> str | None:
    """Why the report's as-of time is the one it is; None when the history has no event, so
    that no one reads 'as of 1970' as a time somebody chose."""
    if covered["as_of"] == "given":
        return "as given: later events are ignored"
    latest = covered["latest_event"]
    return f"the latest event in the history, a {latest}" if latest else None


def _as_of(doc: dict) -> str:
    why = as_of_why(doc["coverage"])
    return f"as of {doc['as_of']} ({why})" if why else \
        "the history has no event, so nothing is judged yet"


def coverage_parts(covered: dict) -> list[str]:
    """The agreement's period and the days the history's leads cover (the text joins them on
    one line, the page writes them as sentences)."""
    effective = covered["effective"]
    parts = []
    if effective:
        parts.append(f"agreement in force {effective['start']}"
                     + (f" to {effective['until']}" if effective["until"] else " onwards"))
    if covered["leads_from"]:
        parts.append(f"data ends {covered['leads_until']} (leads came in from "
                     f"{covered['leads_from']})")
    return parts


def _period_lines(covered: dict) -> list[str]:
    parts = coverage_parts(covered)
    return ["; ".join(parts)] if parts else []


def _out_of_period(covered: dict) -> str:
    """Leads the agreement was not in force for: counted, named, not judged."""
    leads, effective = covered["leads"], covered["effective"]
    if not leads["before"] and not leads["after"]:
        return ""
    said = []
    if leads["before"]:
        said.append(f"{leads['before']} before {effective['start']}")
    if leads["after"]:
        said.append(f"{leads['after']} after {effective['until']}")
    return (f" ({leads['in_period']} in the agreement's period, {' and '.join(said)}: "
            "out of period, not judged)")


def text_bar(percent: float | None, width: int = 10) -> str:
    """A bar a terminal can show, in plain ASCII so that any console encoding prints it."""
    if percent is None:
        return " " * (width + 2)
    filled = round(max(0.0, min(percent, 100.0)) / 100 * width)
    return "[" + "#" * filled + "." * (width - filled) + "]"


def _trend_text(trend: list[dict]) -> list[str]:
    """Attainment by month of handoff, a column per month, for the clauses that were decided."""
    decided = [t for t in trend if any(m["attainment"] is not None for m in t["months"])]
    if not decided:
        return []
    months = sorted({m["month"] for t in decided for m in t["months"]})
    width = max(len(f"{t['handoff']}: {t['clause']}") for t in decided)
    out = ["", "attainment by month of handoff:",
           "  " + " " * width + "".join(f"  {month:>7}" for month in months)]
    for item in decided:
        by_month = {m["month"]: m["attainment"] for m in item["months"]}
        no_data = {m["month"] for m in item["months"] if m.get("no_data")}
        cells = "".join("  no data" if month in no_data else "        -"
                        if by_month.get(month) is None else f"  {by_month[month]:>6.1f}%"
                        for month in months)
        out.append(f"  {(item['handoff'] + ': ' + item['clause']).ljust(width)}{cells}")
    return out


def _commitments_text(doc: dict) -> list[str]:
    if not doc["periods"]:
        return []
    out = ["", "commitments (delivered / goal per period):"]
    for period in doc["periods"]:
        commitment = period["commitment"]
        state = coverage.verdict(period, period["delivered"] >= period["goal"])
        done = "-" if period["attainment"] is None else f"{period['delivered']:g}"
        attainment = "" if period["attainment"] is None else f" ({period['attainment']}%)"
        out.append(f"  {commitment['from']} to {commitment['to']}: {commitment['deliver']} "
                   f"{period['start']}  {done} / {period['goal']:g}{attainment} {state}")
    return out


def _consequences_text(doc: dict) -> list[str]:
    if not doc["consequences"] and not doc["strikes"]:
        return []
    tally = Counter((c["action"], c["status"]) for c in doc["consequences"])
    out = ["", "consequences:"]
    for (action, status), count in sorted(tally.items()):
        out.append(f"  {action:<9} {count:>6} {status}")
    return out  # owners at the strike limit are listed under the triggers


def _triggers_text(doc: dict) -> list[str]:
    if not doc["triggers"]:
        return []
    out = ["", "cancel, review and strike-limit triggers:"]
    for row in doc["triggers"]:
        verdict = "TRIGGERED" if row["triggered"] else "not triggered"
        out.append(f"  {row['rule']}: {verdict}")
        out.extend(f"    {reading}" for reading in row["readings"])
    return out
