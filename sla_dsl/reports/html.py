"""The evaluation as one self-contained HTML page a sales and a marketing manager open offline.

It is a third view of the document `sla_dsl.reports.document.document` builds (beside the text
summary and the JSON), so the page never says something the JSON does not; only the rejected rows
(which the document counts but does not list) and the first-touch goal in hours (the policy's
promise, drawn as a line) come from elsewhere. Charts are inline SVG from
`sla_dsl.reports.svg_charts`, the stylesheet is inline, and there is no script: the file opens the
same on a laptop on a plane as on the intranet.

The charts are the ones the seed material asks for: the marketing waterfall (cumulative daily
goal line against cumulative deliveries, one chart per month and commitment), speed of
follow-up (mean and median hours to first touch per day, week and month against the goal) and
depth of follow-up (mean attempts on leads not yet connected against the goal). Every chart
has a title, axis labels, a text description and its numbers in a table under a disclosure.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

from sla_dsl.business_time.periods import next_period_start
from sla_dsl.evaluation.conditions import UNIT_DAYS
from sla_dsl.history.columns import Reject
from sla_dsl.language import model as m
from sla_dsl.language.plain_words import counted
from sla_dsl.measures import coverage
from sla_dsl.measures.period_measures import open_day_hours
from sla_dsl.printable import escape_html as escape
from sla_dsl.reports import month_trend
from sla_dsl.reports.assignments_text import dealt_unit, dealt_words
from sla_dsl.reports.html_page import page, table
from sla_dsl.reports.sentences import (
    TEAMS_COUNT,
    absence_sentence,
    as_of_why,
    coverage_parts,
    delivery_words,
    headline,
    miss_sentences,
    owners_total,
    team_thresholds,
    trigger_sentence,
    unclocked_words,
)
from sla_dsl.reports.svg_charts import (
    Bar,
    Series,
    bar_chart,
    cell_bar,
    line_chart,
    number,
    sparkline,
)

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")
SHOWN_REJECTS = 20

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1b1b1b;
       margin: 0 auto; max-width: 1100px; padding: 1.5rem; line-height: 1.45; background: #fff; }
h1 { font-size: 1.7rem; margin-bottom: .2rem; }
h2 { font-size: 1.3rem; margin-top: 2.2rem; border-bottom: 2px solid #1f6fb2; }
h3 { font-size: 1.05rem; margin-top: 1.4rem; }
nav ul { columns: 2; padding-left: 1.2rem; }
.facts { display: flex; flex-wrap: wrap; gap: .6rem; padding: 0; list-style: none; }
.facts li { border: 1px solid #ccc; border-radius: 6px; padding: .4rem .8rem; }
.facts strong { display: block; font-size: 1.3rem; }
.charts { display: flex; flex-wrap: wrap; gap: 1rem; }
figure { margin: 0; border: 1px solid #ddd; border-radius: 6px; padding: .5rem; }
figcaption { font-size: .9rem; max-width: 460px; }
.charts figcaption { max-width: 320px; }
table { border-collapse: collapse; margin: .5rem 0; font-size: .92rem; }
th, td { border-bottom: 1px solid #ddd; padding: .25rem .6rem; text-align: left;
         vertical-align: middle; }
thead th { border-bottom: 2px solid #888; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.bad { color: #a52a1d; font-weight: 600; }
.ok { color: #2d6a22; }
.muted { color: #555; }
details { margin: .3rem 0; font-size: .9rem; }
figcaption details { overflow-x: auto; }
pre { white-space: pre-wrap; font-size: .8rem; background: #f6f6f6; padding: .5rem;
      scroll-margin-top: 3rem; }
.headline li { margin: .2rem 0; }
.spark { vertical-align: middle; margin-right: .3rem; }
.trend { display: inline-block; min-width: 9rem; font-size: .8rem; }
.cell-bar { margin-left: .4rem; vertical-align: middle; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; }
dt { font-weight: 600; }
dd { margin: 0; }
"""


# ============================================================================ public API


def first_touch_goals(policy: m.Policy) -> dict[str, float]:
    """Per handoff block, its `first touch within D` in hours: business time as open hours
    (the speed chart then counts the delays in open time too; a business day as the open
    hours of one day of its calendar), elapsed time, or business days on a calendar whose
    days differ, as its elapsed length."""
    goals = {}
    for handoff in policy.handoffs:
        clause = handoff.item("first_touch")
        if isinstance(clause, m.FirstTouch):
            within = clause.within
            unit_hours = open_day_hours(policy, within)
            goals[handoff.label] = float(within.amount) * (
                UNIT_DAYS[within.unit] * 24 if unit_hours is None else unit_hours)
    return goals


def render(doc: dict, *, rejects: Sequence[Reject] = (),
           speed_goals: Mapping[str, float] | None = None,
           audits: Mapping[str, str] | None = None,
           absence_rejects: Sequence[Reject] = ()) -> str:
    """The whole page for an evaluation document (see docs/evaluate.md). What a manager acts
    on comes first: the summary, attainment per clause with its trend, who is behind, what is
    owed and what fired; the charts and tables behind them follow. `audits` holds the clock
    audit (`sla evaluate --explain`) of leads in the latest breaches, by lead id."""
    sections = [
        ("summary", "Summary", _summary(doc)),
        ("attainment", "Attainment per clause", _attainment(doc)),
        ("behind", "Who is behind", _behind(doc)),
        ("owed", "What is owed and what fired", _owed(doc)),
        ("waterfall", "Deliveries against commitments", _waterfall(doc)),
        ("speed", "Speed of follow-up", _speed(doc, speed_goals or {})),
        ("depth", "Depth of follow-up", _depth(doc)),
        ("assignments", "Assignments and caps", _assignments(doc)),
        ("funnel", "Funnel", _funnel(doc)),
        ("consequences", "Actions on breaches", _consequences(doc)),
        ("breaches", "Latest breaches", _latest_breaches(doc, audits or {})),
    ]
    if doc.get("attribution"):
        sections.append(("attribution", "Attribution", _attribution(doc["attribution"])))
    sections.append(("rejects", "Rejected rows",
                     _rejects(doc, rejects) + _absence_rejects(doc, absence_rejects)))
    title = f"{doc.get('policy') or 'Policy'}: evaluation as of {_when(doc.get('as_of'))}"
    nav = "".join(f'<li><a href="#{key}">{escape(name)}</a></li>' for key, name, _ in sections)
    body = "\n".join(f'<section id="{key}" aria-labelledby="{key}-h">\n'
                     f'<h2 id="{key}-h">{escape(name)}</h2>\n{content}\n</section>'
                     for key, name, content in sections)
    return page(title, STYLE, (
        f'<header>\n<h1>{escape(doc.get("policy") or "Policy")}</h1>\n'
        f'<p class="muted">Evaluation as of {escape(_when(doc.get("as_of")))} '
        f'({escape(doc.get("timezone") or "UTC")}); made by <code>sla evaluate</code>.</p>\n'
        f'{_coverage(doc.get("coverage"))}{_history_notes(doc["rows"])}'
        f'</header>\n<nav aria-label="Sections">\n<ul>{nav}</ul>\n</nav>\n<main>\n{body}\n'
        "</main>\n"
    ))


# ============================================================================ small pieces


def _when(iso: str | None) -> str:
    """An ISO time as a person reads it, keeping its offset: 2026-05-27 15:29 (-04:00)."""
    if not iso:
        return "-"
    moment = dt.datetime.fromisoformat(iso)
    offset = moment.strftime("%z")
    return f"{moment:%Y-%m-%d %H:%M} ({offset[:3]}:{offset[3:]})" if offset else \
        f"{moment:%Y-%m-%d %H:%M}"


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}%"


def _table(caption: str, headers: Sequence[str], rows: Iterable[Sequence[str]],
           numeric: Iterable[int] = ()) -> str:
    """The report's table: a caption, each row headed by its first cell, a line per row; no
    table at all when there is no row (the section says so in words instead)."""
    rows = list(rows)
    if not rows:
        return ""
    return table(headers, rows, caption=caption, numeric=numeric, row_headers=True,
                 separator="\n")


def _figure(svg: str, caption: str, data: str) -> str:
    """A chart, what it shows in words, and its numbers for those who want them exactly."""
    details = f"<details><summary>The numbers</summary>\n{data}\n</details>" if data else ""
    return f"<figure>\n{svg}\n<figcaption>{escape(caption)}{details}</figcaption>\n</figure>"


def _attainment_cell(value: float | None) -> str:
    return f"{_percent(value)}{cell_bar(value)}"


def _hours(value: float) -> str:
    shown = number(round(value, 2))
    return f"{shown} hour" if shown == "1" else f"{shown} hours"


def _month_name(day: dt.date) -> str:
    return f"{MONTHS[day.month - 1]} {day.year}"


def _none(text: str) -> str:
    return f'<p class="muted">{escape(text)}</p>'


# ============================================================================ sections


def _coverage(covered: dict | None) -> str:
    """Under the title: why this as-of time, the agreement's period, where the data ends, the
    leads out of the period and every warning about periods the data does not cover."""
    if not covered:
        return ""
    why = as_of_why(covered)
    said = [f"As of: {why}." if why else "The history has no event, so nothing is judged yet."]
    said += [part[0].upper() + part[1:] + "." for part in coverage_parts(covered)]
    leads = covered["leads"]
    if leads["before"] or leads["after"]:
        said.append(f"{leads['before'] + leads['after']:,} leads came in outside the "
                    f"agreement's period ({leads['before']:,} before it, {leads['after']:,} "
                    f"after it) and are not judged; {leads['in_period']:,} are.")
    warnings = "".join(f'<p class="bad" role="note">Warning: {escape(w)}.</p>\n'
                       for w in covered["warnings"])
    return f"<p>{escape(' '.join(said))}</p>\n{warnings}"


def _history_notes(rows: dict) -> str:
    """What the exports cannot show (`rows.notes`, present only when there is one)."""
    return "".join(f'<p class="bad" role="note">Note: {escape(note)}.</p>\n'
                   for note in rows.get("notes", []))


def _summary(doc: dict) -> str:
    """The counts and sentences of `report.owed`, the same the text summary opens with."""
    rows, summary = doc["rows"], doc["summary"]
    owed = summary["owed"]
    facts = [("leads", summary["leads"]), ("handed off", summary["handed_off"]),
             ("breaches", owed["breached"]), ("pending", owed["pending"]),
             ("missed commitment periods", owed["commitments"]["missed"]),
             ("triggers fired", len(owed["fired"])), ("rows rejected", rows["rejected"])]
    if "absences" in rows:
        facts.append(("leads paused for an absence", rows["absences"]["leads_paused"]))
    covered = doc.get("coverage") or {"leads": {"before": 0, "after": 0}}
    outside = covered["leads"]["before"] + covered["leads"]["after"]
    if outside:
        facts.insert(1, ("leads out of the agreement's period", outside))
    if covered["leads"].get("not_yet"):
        facts.insert(1, ("leads first seen after the as-of time", covered["leads"]["not_yet"]))
    unjudged = sum(1 for p in doc["periods"] if p.get("data", "full") != "full")
    if unjudged:
        facts.insert(5, ("commitment periods without all their data", unjudged))
    items = "".join(f"<li><strong>{value:,}</strong>{escape(name)}</li>" for name, value in facts)
    sentences = "".join(f"<li>{escape(sentence)}</li>" for sentence in headline(owed))
    worst = sorted((c for c in summary["clauses"] if c["attainment"] is not None),
                   key=lambda c: c["attainment"])
    lead = ""
    if worst:
        clause = worst[0]
        lead = (f"<p>The clause kept least often: <strong>{escape(clause['handoff'])}: "
                f"{escape(clause['wording'])}</strong> ({escape(clause['party'] or '-')}), "
                f"{_percent(clause['attainment'])} of decided leads.</p>")
    absences = rows.get("absences")
    said = ""
    unjudged_words = unclocked_words(summary)
    if unjudged_words:
        said += (f"<p>Handed off: {summary['handed_off']:,} leads "
                 f"({escape(unjudged_words)}).</p>")
    if absences:
        sentence = absence_sentence(absences)
        said += f"<p>{escape(sentence[:1].upper() + sentence[1:])}.</p>"
    return (f'<ul class="facts">{items}</ul>\n<ul class="headline">{sentences}</ul>\n{lead}\n'
            f"<p>History: {counted(rows['read'], 'row')} read, {rows['accepted']:,} accepted, "
            f"{rows['rejected']:,} rejected.</p>{said}")


def _commitment_name(commitment: dict) -> str:
    return (f"{commitment['from']} to {commitment['to']}: at least {number(commitment['goal'])} "
            f"{commitment['deliver']} per {commitment['per']}")


def _period_state(period: dict) -> str:
    """A commitment's or revenue goal's period in words, as the text report says it."""
    state = coverage.period_verdict(period)
    return {"missed": '<span class="bad">missed</span>',
            "met": '<span class="ok">met</span>'}.get(state, escape(state))


def _waterfall(doc: dict) -> str:
    if not doc["periods"]:
        said = "The policy commits to no delivery that is measured" \
            if doc.get("unmeasured_deliveries") else "The policy commits to no deliveries"
        return _none(f"{said}, so there is no waterfall.") + _unmeasured(doc)
    groups: dict[str, list[dict]] = {}
    for period in doc["periods"]:
        groups.setdefault(_commitment_name(period["commitment"]), []).append(period)
    out = ["<p>Each month's cumulative goal line (the monthly goal x day / days in the month, "
           "dashed) against what was delivered by each day (solid).</p>"]
    for index, (name, periods) in enumerate(groups.items()):
        out.append(f"<h3>{escape(name)}</h3>")
        charts = [_waterfall_chart(f"wf{index}-{n}", name, p)
                  for n, p in enumerate(periods) if p["daily"]]
        if charts:
            out.append('<div class="charts">' + "\n".join(charts) + "</div>")
        out.append(_table(f"{name}, per {periods[0]['commitment']['per']}",
                          ("period from", "goal", "delivered", "attainment", "state",
                           "credits owed", "escalated to"),
                          ([escape(p["start"]), number(p["goal"]),
                            "-" if p["attainment"] is None else number(p["delivered"]),
                            "no data" if p.get("data") == "none"
                            else _attainment_cell(p["attainment"]), _period_state(p),
                            escape(", ".join(p["credits_owed"]) or "-"),
                            escape(", ".join(p["escalate_to"]) or "-")] for p in periods),
                          numeric=(1, 2, 3)))
    return "\n".join(out) + _unmeasured(doc)


def _unmeasured(doc: dict) -> str:
    return _undelivered(doc) + _unmeasured_reports(doc)


def _undelivered(doc: dict) -> str:
    """The deliveries nobody can make (their giver hands no lead to their receiver), said not
    measured, and why, rather than drawn as a month of misses."""
    rows = doc.get("unmeasured_deliveries") or []
    if not rows:
        return ""
    items = "".join(f"<li>{escape(delivery_words(r))}: {escape(r['why'])}</li>" for r in rows)
    return ("\n<p>Not measured, since a delivery counts the leads its giver hands to its "
            f"receiver, and no handoff block does:</p>\n<ul>{items}</ul>")


def _unmeasured_reports(doc: dict) -> str:
    """The `report` commitments, said not measured rather than left off the page."""
    unmeasured = doc.get("unmeasured_reports") or {}
    if not unmeasured.get("commitments"):
        return ""
    items = "".join(f"<li>{escape(r['from'])} to {escape(r['to'])}: report "
                    f"{escape(r['report'])} {escape(r['cadence'])}</li>"
                    for r in unmeasured["commitments"])
    never = " An <code>on miss of report</code> block is never set off, for the same " \
        "reason." if unmeasured["on_miss"] else ""
    return (f"\n<p>Not measured, since {escape(unmeasured['why'])}:{never}</p>"
            f"\n<ul>{items}</ul>")


def _waterfall_chart(ident: str, name: str, period: dict) -> str:
    start = dt.date.fromisoformat(period["start"])
    days = (dt.date.fromisoformat(period["end"]) - start).days
    daily = period["daily"]
    goal_line = Series("goal", [(0, 0.0)] + [(i + 1, d["goal"]) for i, d in enumerate(daily)],
                       kind="goal", colour="goal")
    if len(daily) < days:  # the month is not over: draw the goal to its end all the same
        goal_line = Series("goal", [(0, 0.0), (days, period["goal"])], kind="goal",
                           colour="goal")
    actual = Series("delivered", [(0, 0.0)] + [(i + 1, d["delivered"])
                                               for i, d in enumerate(daily)],
                    kind="step", colour="actual")
    month = _month_name(start)
    what = period["commitment"]["deliver"]
    state = re.sub("<[^>]+>", "", _period_state(period))
    title = f"{month}: {what} delivered against the goal line"
    desc = (f"{name}. {month}: goal {number(period['goal'])} by the end of the month; delivered "
            f"{number(period['delivered'])} ({_percent(period['attainment'])}) by "
            f"{daily[-1]['date']}; {state}.")
    ticks = [(d, str(d)) for d in (1, 8, 15, 22, days)]
    svg = line_chart(ident, title, desc, [goal_line, actual], x_label=f"day of {month}",
                     y_label=f"cumulative {what}", x_ticks=ticks, x_range=(0, days),
                     width=320, height=220)
    data = _table(f"{month}, cumulative by day", ("date", "goal", "delivered"),
                  ([escape(d["date"]), number(d["goal"]), number(d["delivered"])]
                   for d in daily), numeric=(1, 2))
    return _figure(svg, desc, data)


def _speed(doc: dict, goals: Mapping[str, float]) -> str:
    rows = doc["follow_up"]["speed"]
    if not rows:
        return _none("No lead was touched after a handoff with a first-touch clause, so there "
                     "is no speed of follow-up to show.")
    out = ["<p>Hours from handoff to first touch, mean and median of the leads handed off in "
           "each day, week and month, against the first-touch goal of the handoff (dashed). "
           "A goal in business time is drawn in open hours, and so are the delays (the "
           "night and the weekend do not count; a business day is the open hours of one day "
           "of its calendar); on a calendar whose open days keep different hours, a goal in "
           "business days is drawn as its elapsed length, and the delays in elapsed "
           "hours.</p>"]
    wording = {c["handoff"]: c["wording"] for c in doc["summary"]["clauses"]
               if c["clause"] == "first touch"}
    handoffs = list(dict.fromkeys(r["handoff"] for r in rows))
    for index, handoff in enumerate(handoffs):
        out.append(f"<h3>{escape(handoff)}: {escape(wording.get(handoff, 'first touch'))}</h3>")
        charts = []
        for period in ("day", "week", "month"):
            chosen = [r for r in rows if r["handoff"] == handoff and r["period"] == period]
            if chosen:
                charts.append(_speed_chart(f"sp{index}-{period}", handoff, period, chosen,
                                           goals.get(handoff)))
        out.append('<div class="charts">' + "\n".join(charts) + "</div>")
    return "\n".join(out)


def _date_ticks(first: dt.date, last: dt.date) -> list[tuple[float, str]]:
    """Ticks at the first of each month in the range (every other month when there are many),
    as day offsets from `first`."""
    ticks = []
    day = dt.date(first.year, first.month, 1)
    while day <= last:
        if day >= first:
            ticks.append(((day - first).days, f"{MONTHS[day.month - 1][:3]} {day.day}"))
        day = dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)
    if len(ticks) > 6:
        ticks = ticks[::2]
    return ticks or [(0, first.isoformat())]


def _speed_gaps(period: str, dates: list[dt.date]) -> list[tuple[dt.date, dt.date]]:
    """The weeks or months with no lead touched between two that have some, as (first, last)
    period starts: the line must break there, not join the periods on either side."""
    if period == "day":  # daily readings are markers, never joined
        return []
    gaps = []
    for before, after in itertools.pairwise(dates):
        missing = next_period_start(before, period)
        if missing < after:
            final = missing
            while next_period_start(final, period) < after:
                final = next_period_start(final, period)
            gaps.append((missing, final))
    return gaps


def _speed_chart(ident: str, handoff: str, period: str, rows: list[dict],
                 goal: float | None) -> str:
    dates = [dt.date.fromisoformat(r["start"]) for r in rows]
    first, last = min(dates), max(dates)
    span = max((last - first).days, 1)
    kind = "points" if period == "day" else "line"
    business = rows[0].get("mean_business_hours") is not None
    mean_key, median_key = ("mean_business_hours", "median_business_hours") if business \
        else ("mean_hours", "median_hours")
    gaps = _speed_gaps(period, dates)
    breaks = [((gap - first).days, None) for gap, _ in gaps]
    series = [
        Series("mean", [((d - first).days, r[mean_key]) for d, r in zip(dates, rows,
                                                                          strict=True)]
               + breaks, kind=kind, colour="actual"),
        Series("median", [((d - first).days, r[median_key]) for d, r in zip(dates, rows,
                                                                              strict=True)]
               + breaks, kind=kind, colour="second"),
    ]
    if goal is not None:
        series.append(Series("goal", [(0, goal), (span, goal)], kind="goal", colour="goal"))
    touched = sum(r["touched"] for r in rows)
    met = sum(r["met"] for r in rows)
    worst = max(rows, key=lambda r: r[mean_key])
    unit = "business hours" if business else "hours"
    title = f"{handoff}: {unit} to first touch per {period}"
    no_data = [f"{a}" if a == b else f"{a} to {b}" for a, b in gaps]
    desc = (f"{len(rows)} {period}s from {first} to {last}; {touched} leads touched, {met} "
            f"within the clause. Highest mean {number(worst[mean_key])} {unit} "
            f"({period} of {worst['start']})"
            + (f"; goal {_hours(goal)}{' of open time' if business else ''}"
               if goal is not None else "")
            + (f"; no data for the {period}s from {', '.join(no_data)}, where the line breaks."
               if no_data else "."))
    svg = line_chart(ident, title, desc, series, x_label=f"{period} of the handoff",
                     y_label=f"{unit} to first touch", x_ticks=_date_ticks(first, last),
                     x_range=(0, span), width=320, height=220)
    data = _speed_table(handoff, period, rows, gaps, no_data, business)
    return _figure(svg, desc, data)


def _speed_table(handoff: str, period: str, rows: list[dict], gaps: list[tuple[dt.date, dt.date]],
                 no_data: list[str], business: bool) -> str:
    """The numbers under a speed chart, first in the chart's own unit: a chart of open hours
    over a table of elapsed hours read as delays ten times the goal beside "all met"."""
    keys = ("mean_business_hours", "median_business_hours", "mean_hours", "p90_hours") \
        if business else ("mean_hours", "median_hours", "p90_hours")
    headers = ("mean open h", "median open h", "mean elapsed h", "p90 elapsed h") if business \
        else ("mean h", "median h", "p90 h")
    cells = [(r["start"], [escape(r["start"]), str(r["touched"]), str(r["met"]),
                           *(number(r[key]) for key in keys)]) for r in rows]
    cells += [(gap.isoformat(), [escape(text)] + ["no data"] * (2 + len(keys)))
              for (gap, _), text in zip(gaps, no_data, strict=True)]
    return _table(f"{handoff}, per {period}", (f"{period} from", "touched", "met", *headers),
                  (row for _, row in sorted(cells, key=lambda c: c[0])),
                  numeric=range(1, 3 + len(keys)))


def _depth(doc: dict) -> str:
    rows = [r for r in doc["follow_up"]["depth"] if r["mean_attempts"] is not None]
    if not rows:
        return _none("No handed-off lead is still without a connect, so there is no depth of "
                     "follow-up to show.")
    bars = [Bar(r["handoff"], r["mean_attempts"], r["goal"],
                note=f"({r['leads_not_connected']} leads)") for r in rows]
    short = [r["handoff"] for r in rows if r["goal"] is not None and r["mean_attempts"] < r["goal"]]
    desc = ("Mean touches on leads not yet connected, per handoff: "
            + "; ".join(f"{r['handoff']} {number(r['mean_attempts'])}"
                        + (f" against {r['goal']}" if r["goal"] is not None else "")
                        for r in rows)
            + (f". Below the goal: {', '.join(short)}." if short else "."))
    svg = bar_chart("depth", "Attempts on leads not yet connected", desc, bars,
                    x_label="mean touches per lead")
    data = _table("Depth of follow-up", ("handoff", "leads not connected", "mean attempts",
                                         "goal"),
                  ([escape(r["handoff"]), str(r["leads_not_connected"]),
                    number(r["mean_attempts"]), "-" if r["goal"] is None else str(r["goal"])]
                   for r in rows), numeric=(1, 2, 3))
    return ("<p>The goal of follow-up is a connect, so depth looks at the leads that have not "
            "had one: how many attempts they got, against the cadence the handoff asks for "
            "(red: below it).</p>\n" + _figure(svg, desc, data))


def _attainment(doc: dict) -> str:
    """Each clause's attainment, worst first, with its month-by-month trend in the row and a
    chart per handoff below."""
    summary = doc["summary"]
    clauses = sorted(summary["clauses"], key=lambda c: (c["attainment"] is None,
                                                        c["attainment"] or 0))
    trend = {(t["handoff"], t["clause"]): t["months"] for t in summary["by_month"]}
    months = sorted({m["month"] for t in summary["by_month"] for m in t["months"]})
    out = ["<p>Attainment is met of met + breached; pending clocks are not counted yet. "
           "A clock is a lead's clause from its handoff: a lead handed off again (recycled) "
           "is judged again, so met + breached + pending add up to the clocks, which are "
           "more than the leads only then. Worst first; the trend is by month of "
           "handoff.</p>"]
    out.append(_table("Per clause", ("handoff", "clause", "party", "clocks", "met", "breached",
                                     "pending", "attainment", "trend by month"),
                      ([escape(c["handoff"]), escape(c["wording"]), escape(c["party"] or "-"),
                        _clocks_cell(c), str(c["met"]), str(c["breached"]), str(c["pending"]),
                        _attainment_cell(c["attainment"]),
                        _trend_cell(trend.get((c["handoff"], c["clause"]), []), months)]
                       for c in clauses),
                      numeric=(3, 4, 5, 6, 7)))
    out.append(_trend(summary["by_month"]))
    return "\n".join(out)


def _clocks_cell(clause: dict) -> str:
    """A clause's clocks, and its leads beside them when a lead was judged twice."""
    clocks = clause.get("clocks", clause["leads"])
    return f"{clocks:,}" if clocks == clause["leads"] else \
        f"{clocks:,} ({clause['leads']:,} leads)"


def _trend_cell(by_month: list[dict], months: list[str]) -> str:
    """The clause's months as a small line (its latest month an open point when marked), and
    in words what its trend compares: the first and last months that stand
    (`month_trend`), never a month still pending or of few decided clocks."""
    decided = [m for m in by_month if m["attainment"] is not None]
    if not decided:
        return "-"
    shown = {m["month"]: m["attainment"] for m in by_month}
    latest = decided[-1]
    words = month_trend.trend_words(by_month)
    if month_trend.mark(latest):
        words += (f"; latest {escape(latest['month'])} {_percent(latest['attainment'])}"
                  f"{month_trend.mark(latest)} ({month_trend.decided(latest):,} decided, "
                  f"{latest['pending']:,} pending)")
    spark = sparkline([shown.get(month) for month in months],
                      last_open=bool(month_trend.mark(latest)))
    return f'<span class="trend">{spark}<br>{words}</span>'


def _behind(doc: dict) -> str:
    """Who kept the agreement least: reps (owners) by breaches, then teams."""
    summary = doc["summary"]
    owners = [o for o in summary["owners"] if o["breached"]]
    out = [f"<p>{len(owners):,} {'owner has' if len(owners) == 1 else 'owners have'} "
           "breaches; most breaches first. Their leads' latest breaches, with each one's "
           'clock audit, are under <a href="#breaches">Latest breaches</a>.</p>'
           if owners else "<p>No owner has a breach.</p>"]
    split = any("breach_share" in o for o in summary["owners"])  # `on reassign split`
    out.append(_table("Per rep (owner), most breaches first",
                      ("owner", "met", "breached", "attainment")
                      + (("share of breaches (split blame)",) if split else ()),
                      ([escape(o["owner"] or "(no owner)"), str(o["met"]), str(o["breached"]),
                        _attainment_cell(o["attainment"])]
                       + ([number(o["breach_share"])] if split else [])
                       for o in summary["owners"]),
                      numeric=(1, 2, 3, 4) if split else (1, 2, 3)))
    if summary["owners"]:
        out.append(f"<p>{escape('. '.join(_capital(p) for p in owners_total(summary)))}.</p>")
    if summary["teams"]:
        out.append(f"<p>Per team, {escape(TEAMS_COUNT)}: the teams add up to the "
                   "summary's breaches and met.</p>")
    out.append(_table("Per team", ("team", "met", "breached", "attainment",
                                   "of them, thresholds (breached / met)"),
                      ([escape(t["team"] or "(unassigned)"), str(t["met"]), str(t["breached"]),
                        _attainment_cell(t["attainment"]), _sent_cell(t)]
                       for t in summary["teams"]),
                      numeric=(1, 2, 3)))
    return "\n".join(out)


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _sent_cell(team: dict) -> str:
    """The part of a team's row that is thresholds it sent leads under, or "-"."""
    if team_thresholds(team) is None:
        return "-"
    return f"{team['thresholds']['breached']:,} / {team['thresholds']['met']:,}"


def _legend_width(series: list[Series]) -> int:
    """A chart wide enough for its legend on one line (as `svg_charts` lays it out)."""
    return max(340, round(80 + sum(31 + 6.5 * len(s.name) for s in series)))


_TREND_COLOURS = ("actual", "second", "third", "bad", "goal")


def _trend(trend: list[dict]) -> str:
    """Attainment by month of handoff, one chart per handoff block with a line per clause.
    Every month from the first to the last has its place on the axis; a month with no lead
    (or none decided) breaks the clause's line, and its table cell says why. A month still
    pending or of few decided clocks (`month_trend`) is an open point, marked in the table
    with its counts in a footnote under it."""
    months = _month_range(sorted({m["month"] for t in trend for m in t["months"]}))
    if len(months) < 2:
        return ""
    blocks = list(dict.fromkeys(t["handoff"] for t in trend))
    out = ["<h3>Attainment by month of handoff</h3>",
           f"<p>Marked: {escape(month_trend.LEGEND)}. A clock met is decided when it is met, "
           "a breach only once its due time has passed, so a month with clocks still pending "
           "leans to its early wins.</p>"]
    charts = []
    for index, block in enumerate(blocks):
        clauses = [t for t in trend if t["handoff"] == block]
        by_month = [{m["month"]: m for m in t["months"]} for t in clauses]
        series = [Series(t["clause"], [(i, _month_attainment(rows.get(month)))
                                       for i, month in enumerate(months)],
                         colour=_TREND_COLOURS[i % len(_TREND_COLOURS)],
                         open_at=frozenset(i for i, month in enumerate(months)
                                           if month_trend.mark(rows.get(month))))
                  for i, (t, rows) in enumerate(zip(clauses, by_month, strict=True))]
        desc = f"Handoff {block}, attainment by month of handoff: " + "; ".join(
            f"{t['clause']} " + ", ".join(f"{month} {_month_cell(rows.get(month))}"
                                          for month in months)
            + f" (trend: {month_trend.trend_words(t['months'])})"
            for t, rows in zip(clauses, by_month, strict=True)) + "."
        svg = line_chart(f"trend{index}", f"{block}: attainment by month", desc, series,
                         x_label="month of handoff", y_label="attainment (%)",
                         x_ticks=[(i, m) for i, m in enumerate(months)],
                         x_range=(-0.3, len(months) - 0.7), width=_legend_width(series),
                         height=240, open_label="open: still pending or few decided")
        data = _table(f"{block}: attainment by month", ("clause", *months), (
            [escape(t["wording"])] + [_month_cell(rows.get(month)) for month in months]
            for t, rows in zip(clauses, by_month, strict=True)),
            numeric=range(1, len(months) + 1)) + _month_footnotes(clauses)
        charts.append(_figure(svg, desc, data))
    return "\n".join(out) + '\n<div class="charts">' + "\n".join(charts) + "</div>"


def _month_footnotes(clauses: list[dict]) -> str:
    """Under a block's monthly table, the counts of its marked months, as the text gives
    them."""
    notes = month_trend.footnotes(clauses, lambda t: t["wording"])
    return "".join(f"<p>{escape(heading)}: {escape('; '.join(lines))}.</p>"
                   for heading, lines in notes)


def _month_range(months: list[str]) -> list[str]:
    """Every month (YYYY-MM) from the first to the last, the ones between included."""
    if not months:
        return []
    first, last = dt.date.fromisoformat(months[0] + "-01"), dt.date.fromisoformat(
        months[-1] + "-01")
    out = []
    while first <= last:
        out.append(f"{first:%Y-%m}")
        first = dt.date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return out


def _month_attainment(row: dict | None) -> float | None:
    return None if row is None or row.get("no_data") else row["attainment"]


def _month_cell(row: dict | None) -> str:
    """A month's attainment and its mark (`month_trend`); `no data` where the clause had no
    lead, `-` where none was decided yet."""
    if row is None or row.get("no_data"):
        return "no data"
    return _percent(row["attainment"]) + month_trend.mark(row)


def _assignments(doc: dict) -> str:
    """Each distribution rule as kept: shares against weights, caps reached, reps skipped."""
    blocks = [b for b in doc.get("assignments", []) if any(r["assigned"] for r in b["reps"])]
    if not blocks:
        return _none("No block says how its leads are distributed, or none was assigned.")
    out = ["<p>Each rep's share of a block's leads (the first assignment after its handoff) "
           "against the share the round robin's weights promise; a recycled lead handed off "
           "again is dealt again, so where one was, the counts are of handoffs. A rep at cap "
           "is skipped for the rest of that period's leads; a lead given beyond the cap is "
           "over it.</p>"]
    for block in blocks:
        rule = block["rule"] + (f", team {block['team']}" if block["team"] else "") + (
            f", cap {block['cap']['count']} per {block['cap']['per']}" if block["cap"] else "") \
            + (f", cap {block['open_cap']} open leads" if block.get("open_cap") else "")
        unit = dealt_unit(block)
        headers = ["rep", unit, f"share of the {unit}", "promised share"]
        if block["cap"]:
            headers += ["periods at cap", "skipped at cap", "over cap"]
        numeric = (1, 2, 4, 5, 6) if block["cap"] else (1, 2)
        if block.get("open_cap"):
            headers += ["most open at once", "skipped at open cap", "over open cap",
                        "latest skipped at open cap"]
            numeric += tuple(len(headers) - k for k in (4, 3, 2))

        out.append(_table(f"{block['handoff']}: {rule}, {dealt_words(block)}",
                          headers, (_assignment_row(r, capped=bool(block["cap"]))
                                    + _open_cap_cells(r) for r in block["reps"]),
                          numeric=numeric))
    return "\n".join(out)


def _open_cap_cells(rep: dict) -> list[str]:
    """A cap on open leads: the most the rep held, skips and overs, the latest skips' instants
    (nothing for a block without one)."""
    held = rep.get("open_cap")
    if held is None:
        return []
    over = f'<span class="bad">{held["over"]:,}</span>' if held["over"] else "0"
    latest = "; ".join(f"{s['at']} ({s['lead_id']} to {s['went_to']})"
                       for s in held["latest_skips"][-3:]) or "-"
    return [f"{held['most_open']:,}", f"{held['skipped']:,}", over, escape(latest)]


def _assignment_row(rep: dict, *, capped: bool) -> list[str]:
    promised = f"{rep['expected_share']:.1f}%" if rep["in_rotation"] \
        else '<span class="bad">not in the rotation</span>'
    cells = [escape(rep["rep"]), f"{rep['assigned']:,}", _share_cell(rep["share"]), promised]
    if capped:
        over = f'<span class="bad">{rep["over_cap"]:,}</span>' if rep["over_cap"] else "0"
        cells += [f"{rep['periods_at_cap']:,}", f"{rep['skipped_at_cap']:,}", over]
    return cells


def _strikes(doc: dict) -> str:
    rows = doc["strikes"]
    if not rows:
        return _none("No strikes: the policy has no strike rule, or nobody was struck.")
    return _table("Strikes per owner and period", ("owner", "period from", "strikes", "limit",
                                                   "then", "limit reached"),
                  ([escape(r["owner"] or "(no owner)"), f"{escape(r['period'])} from "
                    f"{escape(r['start'])}", str(r["strikes"]), str(r["limit"]),
                    escape(r["then"]),
                    '<span class="bad">yes</span>' if r["triggered"] else "no"] for r in rows),
                  numeric=(2, 3))


def _owed(doc: dict) -> str:
    """Missed periods with the credits they owe, the triggers (cancel, review, strike limits)
    and the strikes per owner: the sentences are the summary's, the tables their rows."""
    owed = doc["summary"]["owed"]
    out = ["<h3>Missed commitments and credits</h3>"]
    sentences = miss_sentences(owed)
    if not sentences:
        out.append(_none("The policy commits to no deliveries and sets no revenue goal."))
    out += [f"<p>{escape(sentence)}</p>" for sentence in sentences]
    goals = (doc.get("attribution") or {}).get("goals") or []
    missed = [(p, _commitment_name(p["commitment"])) for p in doc["periods"] if p["missed"]]
    missed += [(p, f"revenue goal: {number(g['goal'])} {g.get('currency') or ''} per "
                   f"{g['per']}") for g in goals for p in g["periods"] if p["missed"]]
    out.append(_table("Missed periods", ("period from", "commitment or goal", "delivered / goal",
                                         "state", "credit owed", "escalated to"),
                      ([escape(p["start"]), escape(name),
                        f"{number(p.get('delivered', p.get('revenue', 0)))} / "
                        f"{number(p['goal'])}", _period_state(p),
                        escape(", ".join(p["credits_owed"]) or "-"),
                        escape(", ".join(p["escalate_to"]) or "-")] for p, name in missed)))
    out += ["<h3>Triggers</h3>", _triggers(doc), "<h3>Strikes per owner</h3>", _strikes(doc)]
    breaches = [b for t in doc["triggers"] for b in t.get("breaches", [])]
    if breaches:  # only a policy with `missed ... times per` triggers has the table
        out += ["<h3>Breaches per party or team</h3>", _team_breaches(breaches)]
    return "\n".join(out)


def _team_breaches(rows: list[dict]) -> str:
    """The periods a `CLAUSE missed N times per PERIOD by ...` trigger counted, beside the
    strikes per owner: the same count, for a party or a team."""
    return _table("Breaches per party or team and period",
                  ("clause", "by", "period from", "breaches", "limit", "limit reached"),
                  ([escape(r["clause"]), escape(r["by"]),
                    f"{escape(r['period'])} from {escape(r['start'])}", str(r["breaches"]),
                    str(r["limit"]), f'<span class="bad">yes, at {escape(r["reached_at"])}</span>'
                    if r["triggered"] else "no"] for r in rows),
                  numeric=(3, 4))


def _funnel(doc: dict) -> str:
    rows = doc["funnel"]
    if not rows:
        return _none("No funnel: the history has no leads.")
    bars = [Bar(r["stage"], r["leads"], note=_conversion_note(r)) for r in rows]
    desc = "Leads at each stage as they stand at the as-of time: " + "; ".join(
        f"{r['stage']} {r['leads']}" + (f" {_conversion_note(r, short=True)}"
                                        if r.get("rate") is not None else "")
        for r in rows) + "."
    svg = bar_chart("funnel", "Funnel: lead to won", desc, bars, x_label="leads", width=560)
    data = _table("Funnel", ("stage", "leads", "conversion", "of the leads of"),
                  ([escape(r["stage"]), f"{r['leads']:,}", _percent(r.get("rate")),
                    escape(_conversion_base(r, rows[k - 1]["stage"] if k else None))]
                   for k, r in enumerate(rows)), numeric=(1, 2))
    return ("<p>Each step's conversion is its share of a step that holds every one of its "
            "leads: the step before, or where some of its leads never were in the step "
            "before (a deal won without being an opportunity), the nearest earlier step that "
            "holds them all.</p>\n" + _figure(svg, desc, data))


def _conversion_base(row: dict, previous: str | None) -> str:
    """Which step a funnel row's conversion is a share of, and why when it is not the step
    before."""
    base = row.get("rate_of")
    if base is None:
        return "-"
    if row["rate_from_previous"] is not None:
        return f"{base} (the step before)"
    return f"{base} (not every {row['stage']} lead is in {previous}, the step before)"


def _conversion_note(row: dict, *, short: bool = False) -> str:
    """A funnel row's conversion beside its count, naming its step when it is not the one
    before."""
    rate = row.get("rate")
    if rate is None:
        return ""
    if row["rate_from_previous"] is not None:
        return f"({rate:.1f}%)" if short else f"({rate:.1f}% of the step before)"
    return f"({rate:.1f}% of {row['rate_of']})"


def _triggers(doc: dict) -> str:
    rows = doc["triggers"]
    sentence = f"<p>{escape(trigger_sentence(doc['summary']['owed']))}</p>"
    if not rows:
        return sentence
    items = []
    for row in rows:
        verdict = '<strong class="bad">fired</strong>' if row["triggered"] else "did not fire"
        readings = "".join(f"<li>{escape(r)}</li>" for r in row["readings"])
        items.append(f"<li><code>{escape(row['rule'])}</code>: {verdict}<ul>{readings}</ul>"
                     "</li>")
    return f"{sentence}\n<ul class=\"triggers\">{''.join(items)}</ul>"


def _consequences(doc: dict) -> str:
    tally = Counter((c["handoff"], c["clause"], c["action"], c["to"], c["status"])
                    for c in doc["consequences"])
    actions = _table("Actions on breaches", ("handoff", "clause", "action", "to", "status",
                                             "leads"),
                     ([escape(h), escape(c), escape(a), escape(t or "-"), escape(s), str(n)]
                      for (h, c, a, t, s), n in sorted(tally.items(),
                                                       key=lambda i: (i[0][0], i[0][1],
                                                                      i[0][2], i[0][4]))),
                     numeric=(5,))
    return actions or _none("No action of an `on breach` block fired or is scheduled.")


def _latest_breaches(doc: dict, audits: Mapping[str, str]) -> str:
    """The latest breaches, each lead linked to its clock audit below (the leads of this table
    only: a big history's audits would be a book; `--explain LEAD` gives any other)."""
    rows = doc["summary"]["latest_breaches"]
    if not rows:
        return _none("No clause was breached.")
    anchors = {lead: f"audit-{index}-{re.sub(r'[^A-Za-z0-9_-]', '-', lead)}"
               for index, lead in enumerate(dict.fromkeys(r["lead_id"] for r in rows))
               if lead in audits}

    def lead_cell(lead: str) -> str:
        return (f'<a href="#{anchors[lead]}">{escape(lead)}</a>' if lead in anchors
                else escape(lead))

    out = [_table(f"The latest {len(rows)} of {doc['summary']['breached']:,} breaches",
                  ("lead", "handoff", "clause", "due", "done", "owner"),
                  ([lead_cell(r["lead_id"]), escape(r["handoff"]), escape(r["clause"]),
                    escape(_when(r["due"])), escape(_when(r["at"])) if r["at"] else "not done",
                    escape(r["owner"] or "-")] for r in rows))]
    if anchors:
        out.append(f"<h3>Clock audits of these {len(anchors)} leads</h3>\n<p>Each lead's "
                   "clocks as <code>sla evaluate --explain LEAD</code> prints them: every "
                   "clause's due time, and the time from the handoff cut into open, closed and "
                   f"paused pieces. Only the leads of the latest breaches are here; "
                   "<code>--explain</code> audits any other.</p>")
        # the anchor is inside the disclosure, so following a link opens it
        breached: dict[str, list[str]] = {}
        for row in rows:
            breached.setdefault(row["lead_id"], []).append(f"{row['handoff']}: {row['clause']}")
        out += [f"<details><summary>Lead {escape(lead)}: {escape(', '.join(breached[lead]))} "
                f"breached</summary>\n<pre id=\"{anchor}\">{escape(audits[lead])}</pre>\n"
                "</details>" for lead, anchor in anchors.items()]
    return "\n".join(out)


def _attribution(section: dict) -> str:
    """Who earned the revenue: the split rule in words, credit by party and campaign as charts,
    by person, team, channel and month as tables, the revenue goals on credited revenue, and the
    funnel rates the goal assumed beside the ones the history shows."""
    totals, currency = section["totals"], section.get("currency") or ""
    model = section["model"] + (f" with a half-life of {section['half_life']}"
                                if section.get("half_life") else "")
    parts = [f"<p>Each won deal's amount is split over the touchpoints before the win by the "
             f"policy's model, <strong>{escape(model)}</strong>: {totals['deals']:,} deals, "
             f"{escape(number(totals['amount']))} {escape(currency)}. "
             + (f"{totals['without_touchpoints']:,} deals had no touchpoint; their owner is "
                "credited with the whole amount. " if totals["without_touchpoints"] else "")
             + "</p>", f'<p class="muted">Rounding: {escape(section["rounding"])}.</p>']
    parts.append(_credit_chart("credit-party", "party", section["by_party"], totals, currency))
    parts.append(_credit_chart("credit-campaign", "campaign", section["by_campaign"], totals,
                               currency, missing="no campaign (sales touches)"))
    for key, title in (("person", "person"), ("team", "team"), ("channel", "channel"),
                       ("month", "month of the win")):
        rows = section[f"by_{key}"]
        parts.append(_table(
            f"Credit by {title}", (title, f"credited ({currency})", "share of all revenue",
                                   "deals (in shares)", "touchpoints"),
            ([escape(r[key] or "-"), escape(number(r["amount"])),
              _share_cell(_share(r["amount"], totals["amount"])),
              escape(number(round(r["deals"], 2))), f"{r['touchpoints']:,}"] for r in rows),
            numeric=(1, 2, 3, 4)))
    parts.extend(_revenue_goal(goal) for goal in section.get("goals") or [])
    if section.get("recalculation"):
        parts.append(_recalculation(section["recalculation"], currency))
    return "\n".join(parts)


def _share(part: float, whole: float) -> float | None:
    return 100 * part / whole if whole else None


def _share_cell(value: float | None) -> str:
    return f"{_percent(value)}{cell_bar(value, judged=False)}"


def _credit_chart(ident: str, key: str, rows: list[dict], totals: dict, currency: str,
                  missing: str = "-") -> str:
    if not rows:
        return ""
    bars = [Bar(r[key] or missing, r["amount"],
                note=f"({_percent(_share(r['amount'], totals['amount']))})") for r in rows]
    desc = f"Revenue credited per {key}: " + "; ".join(
        f"{b.label} {number(b.value)} {currency} {b.note}" for b in bars) + "."
    svg = bar_chart(ident, f"Credit by {key}", desc, bars, x_label=f"credited {currency}",
                    width=620)
    return f"<h3>Credit by {escape(key)}</h3>\n" + _figure(svg, desc, "")


def _revenue_goal(goal: dict) -> str:
    """Each period of a `goal revenue`: revenue won against the goal, and each party's sourced
    or attributed revenue (as its share reads) against its share."""
    currency = goal.get("currency") or ""
    readings = {s["party"]: s["reading"] for p in goal["periods"] for s in p["shares"]}
    parties = list(readings)
    headers = ["period from", f"won ({currency})", "of the goal"]
    headers += [f"{party}: {readings[party]} / share" for party in parties]
    headers += ["state", "credits owed"]

    def row(period: dict) -> list[str]:
        shares = {s["party"]: s for s in period["shares"]}
        cells = [escape(period["start"]), escape(number(period["revenue"])),
                 _attainment_cell(period["attainment"])]
        for party in parties:
            share = shares.get(party)
            cells.append("-" if share is None else
                         f"{escape(number(share['measured']))} / {escape(number(share['goal']))}"
                         f"{cell_bar(share['attainment'])}")
        state = coverage.period_verdict(period)
        state = '<span class="bad">missed</span>' if state == "missed" else escape(state)
        return [*cells, state, escape(", ".join(period["credits_owed"]) or "-")]

    return _table(f"Revenue goal: {number(goal['goal'])} {currency} per {goal['per']}",
                  headers, (row(p) for p in goal["periods"]), numeric=(1, 2))


def _recalculation(recalculation: dict, currency: str) -> str:
    """The seed's monthly recalculation: the rates the goal assumed beside the actuals."""
    assumed = recalculation.get("assumed") or {}

    def said(key: str, unit: str) -> str:
        value = assumed.get(key)
        return "" if value is None else f" (assumed {number(value)}{unit})"

    headers = ("month", f"close rate{said('close_rate', '%')}",
               f"deal size{said('deal_size', ' ' + currency)}",
               f"marketing-generated share{said('share', '%')}", "credited to marketing",
               "sales cycle (days)")
    return _table("Funnel rates: actual against the goal's assumptions", headers, (
        [escape(r["month"]), _percent(r["close_rate"]),
         escape(number(r["deal_size"])) if r["deal_size"] is not None else "-",
         _percent(r["share"]), _percent(r["credited_share"]),
         escape(number(r["sales_cycle_days"])) if r["sales_cycle_days"] is not None else "-"]
        for r in recalculation["months"]), numeric=(1, 2, 3, 4, 5))


_TIME = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
                   r"(?:Z|[+-]\d{2}:?\d{2})?")


def reason_kind(reason: str) -> str:
    """A reject's reason without its particulars (times, counts), so that a thousand rows
    rejected for one cause read as one line with a count."""
    return re.sub(r"\b\d+\b", "N", _TIME.sub("TIME", reason))


def _absence_rejects(doc: dict, rejects: Sequence[Reject]) -> str:
    """The absences file's rejected rows (`rows.absences`, only with a file): an absence left
    out pauses no clock, so a manager sees which leave the figures do not know of."""
    absences = doc["rows"].get("absences")
    if not absences or not absences["rejected"]:
        return ""
    out = [f"\n<p><strong>{absences['rejected']:,}</strong> of {absences['read']:,} rows of the "
           f"absences file {escape(absences['file'])} were rejected: those absences pause no "
           "clock.</p>"]
    shown = list(rejects)[:SHOWN_REJECTS]
    if shown:
        out.append(_table(f"The first {len(shown)} rejected absences", ("file and row", "reason"),
                          ([escape(f"{r.source}:{r.row}"), escape(r.reason)] for r in shown)))
    return "\n".join(out)


def _rejects(doc: dict, rejects: Sequence[Reject]) -> str:
    rows = doc["rows"]
    if not rows["rejected"]:
        left = (f" {rows['left_out']:,} more rows were left out by the mapping's filters (its "
                f"<code>where</code> and <code>duplicates</code>): they make no record."
                if rows.get("left_out") else "")
        of = " of the history" if rows.get("absences") else ""
        read = ("the one row read was" if rows["read"] == 1
                else f"all {rows['read']:,} rows read were")
        return f"<p>No row{of} was rejected: {read} accepted.{left}</p>"
    out = [f"<p><strong>{rows['rejected']:,}</strong> of {counted(rows['read'], 'row')} read "
           f"{'was' if rows['rejected'] == 1 else 'were'} rejected and left out of every figure "
           f"above ({rows['accepted']:,} accepted). "
           "Write them all with <code>--rejects FILE</code>, fix them at the source and "
           "evaluate again.</p>"]
    if rows.get("left_out"):
        out.append(f"<p>{rows['left_out']:,} more rows were left out by the mapping's filters "
                   "(its <code>where</code> and <code>duplicates</code>): they make no "
                   "record.</p>")
    if rejects:
        kinds = Counter((r.source, reason_kind(r.reason)) for r in rejects)
        example = {}
        for r in rejects:
            example.setdefault((r.source, reason_kind(r.reason)), r)
        out.append(_table("Why, by file", ("reason", "file", "rows", "first such row"),
                          ([escape(kind), escape(source), f"{count:,}",
                            f"row {example[(source, kind)].row}"]
                           for (source, kind), count in kinds.most_common()),
                          numeric=(2,)))
        shown = rejects[:SHOWN_REJECTS]
        out.append(_table(f"The first {len(shown)} rejected rows",
                          ("file and row", "column", "reason"),
                          ([escape(f"{r.source}:{r.row}"), escape(r.column or "-"),
                            escape(r.reason)] for r in shown)))
    return "\n".join(out)
