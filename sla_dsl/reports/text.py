"""The evaluation as the summary a sales and a marketing manager read in a terminal: a view of
the report document (`sla_dsl.reports.document`), worst offenders first.
"""

from __future__ import annotations

from collections import Counter

from sla_dsl.language.plain_words import counted
from sla_dsl.measures import coverage
from sla_dsl.printable import printable
from sla_dsl.reports import month_trend
from sla_dsl.reports.assignments_text import assignments_text
from sla_dsl.reports.revenue_text import attribution_text
from sla_dsl.reports.sentences import (
    TEAMS_COUNT,
    absence_sentence,
    as_of_why,
    coverage_parts,
    delivery_words,
    headline,
    owners_total,
    team_thresholds,
    threshold_counts,
    unclocked_words,
)


def render_text(doc: dict, *, worst: int = 10) -> str:
    """The summary a sales and a marketing manager act on: worst offenders first."""
    rows = doc["rows"]
    summary = doc["summary"]
    out = [
        f"{doc['policy'] or 'Policy'}: {_as_of(doc)}",
        *_period_lines(doc["coverage"]),
        f"history: {counted(rows['read'], 'row', grouped=False)} read, {rows['accepted']} "
        f"accepted, {rows['rejected']} rejected{_left_out(rows)}",
        *(f"note: {note}" for note in rows.get("notes", [])),
        *([absence_sentence(rows["absences"])] if "absences" in rows else []),
        f"leads: {summary['leads']}{_out_of_period(doc['coverage'])}, "
        f"handed off: {summary['handed_off']}{_unclocked(summary)}",
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
    out += _judged_again(summary["clauses"])
    out += _trend_text(summary["by_month"])
    out += _teams_text(summary) + _owners_text(summary, worst)
    out += assignments_text(doc["assignments"])
    out += _commitments_text(doc) + _unmeasured_text(doc) + _consequences_text(doc) \
        + _triggers_text(doc)
    out += attribution_text(doc.get("attribution"))
    latest = summary["latest_breaches"][:worst]
    if latest:
        out += ["", f"latest breaches ({len(latest)} of {summary['breached']}):"]
        for row in latest:
            done = f"done {row['at']}" if row["at"] else "not done"
            out.append(f"  {row['lead_id']:<20} {row['handoff']}: {row['clause']}, "
                       f"due {row['due']}, {done}, owner {row['owner'] or '-'}")
    return printable("\n".join(out) + "\n")


def _judged_again(clauses: list[dict]) -> list[str]:
    """Under the clause table, where a recycled lead was judged again: its counts are clocks,
    one per lead and handoff, so they add up to more than the leads ("in short")."""
    again = [c for c in clauses if c.get("clocks", c["leads"]) != c["leads"]]
    if not again:
        return []
    return ["", "judged again: a lead handed off again has a clock per handoff, so the "
                "counts above are clocks: "
            + "; ".join(f"{c['handoff']}: {c['clause']} {c['clocks']} clocks of {c['leads']} "
                        "leads" for c in again)]


def _teams_text(summary: dict) -> list[str]:
    """Each team's verdicts over every clause, so the rows add up to "in short"; the part of
    a row that is the thresholds it sent is said beside it."""
    teams = [t for t in summary["teams"] if t["attainment"] is not None]
    if not teams:
        return []
    out = ["", f"teams ({TEAMS_COUNT}):"]
    for team in teams:
        sent = team_thresholds(team)
        out.append(f"  {team['team'] or '(unassigned)':<24} {team['breached']:>6,} breached, "
                   f"{team['met']:>6,} met  ({team['attainment']:.1f}%)"
                   + (f"; {sent}" if sent else ""))
    return out


def _owners_text(summary: dict, worst: int) -> list[str]:
    """The owners with the most breaches, then all owners summed with what they leave out,
    when some are not shown or the thresholds are left out."""
    owners = [o for o in summary["owners"] if o["breached"] or o.get("breach_share")]
    offenders = owners[:worst]
    if not offenders:
        return []
    out = ["", f"owners with the most breaches (worst {len(offenders)}):"]
    for owner in offenders:
        rate = "-" if owner["attainment"] is None else f"{owner['attainment']:.1f}%"
        share = f", answers for {owner['breach_share']:g} with split blame" \
            if "breach_share" in owner else ""
        out.append(f"  {owner['owner'] or '(no owner)':<24} {owner['breached']:>6,} breached, "
                   f"{owner['met']:>6,} met  ({rate}){share}")
    if any(threshold_counts(summary)) or len(offenders) < len(summary["owners"]):
        out += [f"  {part}" for part in owners_total(summary)]
    return out


def _unclocked(summary: dict) -> str:
    words = unclocked_words(summary, grouped=False)
    return f" ({words})" if words else ""


def _as_of(doc: dict) -> str:
    why = as_of_why(doc["coverage"])
    return f"as of {doc['as_of']} ({why})" if why else \
        "the history has no event, so nothing is judged yet"


def _period_lines(covered: dict) -> list[str]:
    parts = coverage_parts(covered)
    return ["; ".join(parts)] if parts else []


def _left_out(rows: dict) -> str:
    """Rows a mapping's `where` or `duplicates` dropped: no records, so not in the counts."""
    left = rows.get("left_out")
    return f" ({left} more left out by the mapping's filters)" if left else ""


def _out_of_period(covered: dict) -> str:
    """Leads the agreement was not in force for, and leads with no event yet at the as-of
    time: counted, named, not judged."""
    leads, effective = covered["leads"], covered["effective"]
    later = leads.get("not_yet", 0)
    if not leads["before"] and not leads["after"] and not later:
        return ""
    said = []
    if leads["before"]:
        said.append(f"{leads['before']} before {effective['start']}")
    if leads["after"]:
        said.append(f"{leads['after']} after {effective['until']}")
    text = f"{leads['in_period']} in the agreement's period"
    if said:
        text += f", {' and '.join(said)}: out of period, not judged"
    if later:
        text += f"; {later} first seen after the as-of time: not judged"
    return f" ({text})"


def text_bar(percent: float | None, width: int = 10) -> str:
    """A bar a terminal can show, in plain ASCII so that any console encoding prints it."""
    if percent is None:
        return " " * (width + 2)
    filled = round(max(0.0, min(percent, 100.0)) / 100 * width)
    return "[" + "#" * filled + "." * (width - filled) + "]"


def _trend_text(trend: list[dict]) -> list[str]:
    """Attainment by month of handoff, a column per month, for the clauses that were decided;
    a month with clocks still pending or few decided is marked, its counts given in a
    footnote, and each clause's trend compares the first and last months that stand
    (`month_trend`, as the page does)."""
    decided = [t for t in trend if any(m["attainment"] is not None for m in t["months"])]
    if not decided:
        return []
    months = sorted({m["month"] for t in decided for m in t["months"]})
    width = max(len(_trend_label(t)) for t in decided)
    out = ["", f"attainment by month of handoff ({month_trend.LEGEND}):",
           "  " + " " * width + "".join(f"  {month:>7} " for month in months) + "  trend"]
    for item in decided:
        by_month = {m["month"]: m for m in item["months"]}
        cells = "".join(_month_cell(by_month.get(month)) for month in months)
        out.append(f"  {_trend_label(item).ljust(width)}{cells}  "
                   f"{month_trend.trend_words(item['months'])}")
    for heading, lines in month_trend.footnotes(decided, _trend_label):
        out += [f"  {heading}:", *(f"      {line}" for line in lines)]
    return out


def _trend_label(item: dict) -> str:
    return f"{item['handoff']}: {item['clause']}"


def _month_cell(month: dict | None) -> str:
    """A month's attainment and its mark, a fixed width: `no data` where the clause had no
    lead, `-` where none was decided yet."""
    if month is None or month.get("no_data"):
        return "  no data "
    if month["attainment"] is None:
        return "        - "
    return f"  {month['attainment']:>6.1f}%{month_trend.mark(month) or ' '}"


def _commitments_text(doc: dict) -> list[str]:
    if not doc["periods"]:
        return []
    out = ["", "commitments (delivered / goal per period):"]
    for period in doc["periods"]:
        commitment = period["commitment"]
        state = coverage.period_verdict(period)
        done = "-" if period["attainment"] is None else f"{period['delivered']:g}"
        attainment = "" if period["attainment"] is None else f" ({period['attainment']}%)"
        out.append(f"  {commitment['from']} to {commitment['to']}: {commitment['deliver']} "
                   f"{period['start']}  {done} / {period['goal']:g}{attainment} {state}")
    return out


def _unmeasured_text(doc: dict) -> list[str]:
    return _undelivered_text(doc) + _unmeasured_reports_text(doc)


def _undelivered_text(doc: dict) -> list[str]:
    """The deliveries nobody can make (their giver hands no lead to their receiver), named
    with why instead of a column of misses."""
    rows = doc.get("unmeasured_deliveries") or []
    if not rows:
        return []
    return ["", "commitments not measured (a delivery counts the leads its giver hands to its "
                "receiver):"] + [f"  {delivery_words(r)}: {r['why']}" for r in rows]


def _unmeasured_reports_text(doc: dict) -> list[str]:
    unmeasured = doc.get("unmeasured_reports") or {}
    if not unmeasured.get("commitments"):
        return []
    out = ["", f"commitments not measured ({unmeasured['why']}):"]
    out += [f"  {r['from']} to {r['to']}: report {r['report']} {r['cadence']}"
            for r in unmeasured["commitments"]]
    if unmeasured["on_miss"]:
        out.append("  on miss of report: never set off, for the same reason")
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
