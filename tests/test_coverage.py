"""What the period and the data cover (issue 11): leads outside the agreement's `effective ...
until ...` are counted and not judged; periods the history does not cover are `no data`, not
missed; the report's first lines say why its as-of time and where the data ends; charts break
their lines at months with no data. Real inputs: the shipped policies and histories."""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from collections import Counter
from pathlib import Path
from zoneinfo import ZoneInfo

from sla_dsl.cli import main
from sla_dsl.evaluation.replay import AFTER, BEFORE, IN_PERIOD, evaluate, fields_needed
from sla_dsl.history.read import load_history
from sla_dsl.policy_file import check_text
from sla_dsl.reports.document import document
from sla_dsl.reports.svg_charts import Series, line_chart
from sla_dsl.reports.text import render_text

from .conftest import OLIST_FULL, ROOT

OLIST = ROOT / "examples" / "olist"
OLIST_POLICY = ROOT / "policies" / "olist.sla"
COMPANY_X = ROOT / "policies" / "company-x.sla"
COMPANY_X_HISTORY = ROOT / "examples" / "company-x" / "history.csv"
NEW_YORK = ZoneInfo("America/New_York")


def _evaluate(capsys, *args: str) -> tuple[str, str]:
    assert main(["evaluate", *args]) == 0
    out, err = capsys.readouterr()
    return out, err


def _olist_json(capsys, tmp_path: Path, *history: str) -> tuple[dict, str, str]:
    """The excerpt (or the full files given) as JSON, text and HTML."""
    args = [str(OLIST_POLICY), "--mapping", str(OLIST / "mapping.toml"), "-q"]
    if history:
        args += ["--history", *history]
    page = tmp_path / "olist.html"
    out, _ = _evaluate(capsys, *args, "--format", "json", "--html", str(page))
    text, _ = _evaluate(capsys, *args)
    return json.loads(out), text, page.read_text(encoding="utf-8")


def _mql_months(path: Path) -> Counter:
    with path.open(newline="", encoding="utf-8") as handle:
        return Counter(row["first_contact_date"][:7] for row in csv.DictReader(handle))


# ---------------------------------------------------------------------------- out of period


def test_olist_mqls_before_2018_are_counted_out_of_period_not_judged(capsys, tmp_path):
    doc, text, page = _olist_json(capsys, tmp_path)
    months = _mql_months(OLIST / "olist_marketing_qualified_leads_dataset.csv")
    before = sum(n for month, n in months.items() if month < "2018-01")
    in_period = sum(months.values()) - before
    assert before and in_period  # the excerpt has both: June 2017 to May 2018
    leads = doc["coverage"]["leads"]
    assert leads == {"in_period": in_period, "before": before, "after": 0, "not_yet": 0}
    # leads in stay accounted for: every lead of the history is in one of the three
    assert doc["summary"]["leads"] == sum(leads.values()) == sum(months.values())
    # not judged: no handoff, no funnel step, no commitment counts them
    assert doc["summary"]["handed_off"] == in_period
    assert doc["funnel"][0] == {"stage": "lead", "leads": in_period, "rate_from_previous": None,
                                "rate": None, "rate_of": None}
    assert sum(p["delivered"] for p in doc["periods"]) == in_period
    assert doc["rows"]["read"] == doc["rows"]["accepted"] + doc["rows"]["rejected"]
    assert (f"leads: {sum(months.values())} ({in_period} in the agreement's period, {before} "
            "before 2018-01-01: out of period, not judged)") in text
    assert (f"{before} leads came in outside the agreement&#x27;s period ({before} before it, "
            f"0 after it) and are not judged; {in_period} are.") in page


def test_leads_after_the_agreement_ends_are_out_of_period(tmp_path):
    """Company X's agreement cut short to January and February: the leads that come in from
    March on are after it. A lead is dated by its first handoff, else its first event."""
    text = COMPANY_X.read_text(encoding="utf-8").replace(
        "effective 2026-01-01 until 2026-12-31", "effective 2026-01-01 until 2026-02-28")
    checked = check_text(text, path="company-x.sla")
    assert checked.ok
    history = load_history([COMPANY_X_HISTORY], timezone="America/New_York",
                           fields=fields_needed(checked.policy))
    evaluation = evaluate(checked.policy, history)
    expected = _expected_placement(COMPANY_X_HISTORY, dt.date(2026, 1, 1), dt.date(2026, 2, 28))
    got = {str(lead): int(place) for lead, place in zip(history.lead_ids,
                                                        evaluation.placement, strict=True)}
    assert got == expected
    assert Counter(got.values())[AFTER] > 0 and Counter(got.values())[BEFORE] == 0
    judged = {str(history.lead_ids[i]) for r in evaluation.clauses for i in r.leads}
    assert judged and all(expected[lead] == IN_PERIOD for lead in judged)
    doc = document(evaluation, include_leads=False)
    assert {p["start"] for p in doc["periods"]} == {"2026-01-01", "2026-02-01"}
    after = Counter(got.values())[AFTER]
    assert doc["coverage"]["leads"]["after"] == after
    assert f"{after} after 2026-02-28: out of period, not judged" in render_text(doc)


def _expected_placement(path: Path, start: dt.date, until: dt.date) -> dict[str, int]:
    """The rule read straight off the CSV: each lead's first handoff, else its first event,
    as a New York date, against the agreement's dates (both whole days in force)."""
    first_handoff: dict[str, dt.datetime] = {}
    first_event: dict[str, dt.datetime] = {}
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            at = dt.datetime.fromisoformat(row["at"].replace("Z", "+00:00"))
            lead = row["lead_id"]
            first_event[lead] = min(at, first_event.get(lead, at))
            if row["event"] == "handoff":
                first_handoff[lead] = min(at, first_handoff.get(lead, at))
    placed = {}
    for lead, seen in first_event.items():
        day = first_handoff.get(lead, seen).astimezone(NEW_YORK).date()
        placed[lead] = BEFORE if day < start else AFTER if day > until else IN_PERIOD
    return placed


def test_the_audit_of_a_lead_out_of_period_says_why_it_has_no_clock(capsys):
    months = {}
    with (OLIST / "olist_marketing_qualified_leads_dataset.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            months.setdefault(row["first_contact_date"][:4], row["mql_id"])
    out, _ = _evaluate(capsys, str(OLIST_POLICY), "--mapping", str(OLIST / "mapping.toml"),
                       "-q", "--explain", months["2017"])
    assert "before the agreement's effective date 2018-01-01: out of the agreement's period, " \
           "so no clock runs and the lead is not judged" in out


# ---------------------------------------------------------------------------- no data


def test_olist_months_after_the_mqls_end_are_no_data_not_missed(capsys, tmp_path):
    doc, text, page = _olist_json(capsys, tmp_path)
    last = max(_mql_months(OLIST / "olist_marketing_qualified_leads_dataset.csv"))
    assert last == "2018-05"
    after = [p for p in doc["periods"] if p["start"][:7] > last]
    assert after  # the as-of time, a late win, runs months past the last MQL
    assert all(p["data"] == "none" and not p["missed"] and p["attainment"] is None
               and not p["credits_owed"] and p["daily"] == [] for p in after)
    assert all(p["data"] == "full" for p in doc["periods"] if p["start"][:7] <= last)
    assert doc["coverage"]["no_data_months"] == [p["start"][:7] for p in after]
    for period in after:
        assert f"leads {period['start']}  - / 600 no data" in text
    # the excerpt's few MQLs a month are real misses while the data lasts
    assert "leads 2018-05-01  44 / 600 (7.3%) missed" in text
    [warning] = doc["coverage"]["warnings"]
    assert warning.startswith("the data ends 2018-05-31 (the last lead to come in)")
    assert f"warning: {warning}" in text
    assert f"Warning: {warning}." in page
    assert "<td>no data</td>" in page


def test_the_first_lines_say_why_the_as_of_time_and_where_the_data_ends(capsys, tmp_path):
    doc, text, page = _olist_json(capsys, tmp_path)
    lines = text.splitlines()
    assert lines[0] == (f"Olist seller acquisition: as of {doc['as_of']} (the latest event in "
                        "the history, a won event)")
    assert lines[1] == ("agreement in force 2018-01-01 to 2018-12-31; data ends 2018-05-31 "
                        f"(leads came in from {doc['coverage']['leads_from']})")
    assert doc["coverage"]["as_of"] == "latest event" and doc["coverage"]["leads_until"] == \
        "2018-05-31"
    header = page[page.index("<header>"):page.index("</header>")]
    assert "As of: the latest event in the history, a won event." in header
    assert "Data ends 2018-05-31" in header and "Warning: the data ends 2018-05-31" in header
    out, _ = _evaluate(capsys, str(OLIST_POLICY), "--mapping", str(OLIST / "mapping.toml"),
                       "-q", "--as-of", "2018-04-15T12:00")
    assert out.splitlines()[0].endswith("(as given: later events are ignored)")
    assert "2018-04-01  " in out and "in progress" in out and "warning" not in out


def test_a_period_the_data_ends_inside_is_not_missed(capsys):
    """Company X's leads stop on 3 April; the as-of time is a win on 27 May."""
    out, _ = _evaluate(capsys, str(COMPANY_X), "--history", str(COMPANY_X_HISTORY), "-q")
    assert "sql 2026-04-01  3 / 100 (3.0%) partial data, not judged" in out
    assert "sql 2026-05-01  - / 100 no data" in out
    assert "sql 2026-03-01  3 / 100 (3.0%) missed" in out  # a covered month is still judged


def test_full_olist_data_first_lines(capsys, tmp_path):
    mqls = OLIST_FULL / "olist_marketing_qualified_leads_dataset.csv"
    doc, text, _ = _olist_json(capsys, tmp_path, str(mqls),
                               str(OLIST_FULL / "olist_closed_deals_dataset.csv"))
    months = _mql_months(mqls)
    before = sum(n for month, n in months.items() if month < "2018-01")
    assert doc["coverage"]["leads"] == {"in_period": 8000 - before, "before": before,
                                        "after": 0, "not_yet": 0}
    assert [p["start"][:7] for p in doc["periods"] if p["data"] == "none"] == [
        "2018-06", "2018-07", "2018-08", "2018-09", "2018-10", "2018-11"]
    assert not any(p["missed"] for p in doc["periods"])
    assert "0 / 600" not in text


# ---------------------------------------------------------------------------- gaps in charts


def _without_february(tmp_path: Path) -> Path:
    """Company X's history less every lead that came in (created or handed off) in February
    2026, New York time: a real history with a month missing from the middle."""
    with COMPANY_X_HISTORY.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    february = {r["lead_id"] for r in rows if r["event"] in ("created", "handoff")
                and dt.datetime.fromisoformat(r["at"].replace("Z", "+00:00"))
                .astimezone(NEW_YORK).strftime("%Y-%m") == "2026-02"}
    path = tmp_path / "history.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(r for r in rows if r["lead_id"] not in february)
    return path


def test_a_month_with_no_lead_is_a_gap_not_a_miss_and_lines_break_there(capsys, tmp_path):
    history = str(_without_february(tmp_path))
    page = tmp_path / "report.html"
    out, _ = _evaluate(capsys, str(COMPANY_X), "--history", history, "--format", "json",
                       "--html", str(page))
    doc = json.loads(out)
    text, _ = _evaluate(capsys, str(COMPANY_X), "--history", history)
    html = page.read_text(encoding="utf-8")
    assert "no lead came in during 2026-02: a gap in the history, no data, not judged" in \
        doc["coverage"]["warnings"]
    february = [p for p in doc["periods"] if p["start"] == "2026-02-01"]
    assert february and all(p["data"] == "none" and not p["missed"] for p in february)
    # attainment by month: February is a row saying so in the JSON and the text
    for trend in doc["summary"]["by_month"]:
        [row] = [m for m in trend["months"] if m["month"] == "2026-02"]
        assert row["no_data"] and row["attainment"] is None
    assert re.search(r"hot: first touch +\d+\.\d%[*~]? +no data +\d+\.\d%", text)
    # the chart: hot's first-touch line is January alone (a marker), then March on
    svg = re.search(r'<svg[^>]*aria-labelledby="trend0-t trend0-d">.*?</svg>', html, re.S)[0]
    assert "first touch 2026-01 " in svg and "2026-02 no data" in svg
    first_touch = "#d9822b"  # the second clause of hot, after its threshold
    assert len(re.findall(f'<circle [^>]*fill="{first_touch}"', svg)) == 1
    assert len(re.findall(f'<polyline [^>]*stroke="{first_touch}"', svg)) == 1
    table = html[html.index("<caption>hot: attainment by month</caption>"):]
    assert "<td class=num>no data</td>" in table[:table.index("</table>")]
    # speed of follow-up per month: the line breaks at February, its table says no data
    speed = re.search(r'<svg[^>]*aria-labelledby="sp0-month-t sp0-month-d">.*?</svg>', html,
                      re.S)[0]
    assert "no data for the months from 2026-02-01, where the line breaks" in speed
    mean = re.findall(r'<(polyline|circle) [^>]*(?:stroke|fill)="#1f6fb2"', speed)
    assert mean == ["circle", "polyline"]  # January alone, then March and April joined
    caption = html.index("<caption>hot, per month</caption>")
    assert ('<th scope="row">2026-02-01</th>' + "<td class=num>no data</td>" * 5) in \
        html[caption:html.index("</table>", caption)]


def test_a_line_chart_breaks_where_a_value_is_missing():
    svg = line_chart("t", "title", "desc", [Series("mean", [(0, 1.0), (1, 2.0), (2, None),
                                                             (3, 3.0), (4, 2.5)])],
                     x_label="x", y_label="y", x_ticks=[(0, "a")], x_range=(0, 4))
    lines = re.findall(r'<polyline points="([^"]+)"', svg)
    assert len(lines) == 2 and all(len(points.split()) == 2 for points in lines)


def test_a_history_without_events_names_no_as_of_time(tmp_path, capsys):
    """An export with its header and no row has no latest event: the report says so instead
    of an as-of time in 1970 that nobody chose."""
    empty = tmp_path / "empty.csv"
    empty.write_text("lead_id,at,event,actor\n")
    out, _ = _evaluate(capsys, str(ROOT / "policies" / "inbound-desk.sla"), "--history",
                       str(empty), "-q")
    lines = out.splitlines()
    assert lines[0] == "Inbound desk: the history has no event, so nothing is judged yet"
    assert "1970" not in out
    out, _ = _evaluate(capsys, str(ROOT / "policies" / "inbound-desk.sla"), "--history",
                       str(empty), "-q", "--as-of", "2026-03-02T09:00")
    assert out.splitlines()[0] == ("Inbound desk: as of 2026-03-02T09:00:00+01:00 (as given: "
                                   "later events are ignored)")


# ---------------------------------------------------------------- closed dates run out (W512)

INBOUND = ROOT / "policies" / "inbound-desk.sla"
CHRISTMAS = ("lead_id,at,event,actor\n"
             "X1,2026-12-24T16:00,handoff,marketing\nX1,2026-12-28T09:30,touch,eva\n")


def _inbound(capsys, tmp_path: Path, rows: str, as_of: str) -> tuple[dict, str, str]:
    history = tmp_path / "history.csv"
    history.write_text(CHRISTMAS + rows)
    args = [str(INBOUND), "--history", str(history), "--as-of", as_of, "-q"]
    doc = json.loads(_evaluate(capsys, *args, "--format", "json")[0])
    text, _ = _evaluate(capsys, *args, "--html", str(tmp_path / "page.html"))
    return doc, text, (tmp_path / "page.html").read_text()


def test_closed_dates_that_stop_before_the_data_are_warned_of_at_evaluate_time(capsys,
                                                                              tmp_path):
    """inbound-desk.sla closes 25 and 26 December 2026 and names no holiday set or later
    date. X2 is handed off Friday 1 January 2027, New Year's Day, 10:00 Amsterdam: the
    calendar counts the day as open, so its first touch falls due 14:00 that day (4 business
    hours), breached by the touch on Monday. The data runs into 2027: the report says so."""
    doc, text, page = _inbound(capsys, tmp_path,
                               "X2,2027-01-01T10:00,handoff,marketing\n"
                               "X2,2027-01-04T09:00,touch,eva\n", "2027-01-04T12:00")
    warning = ("calendar 'business' has no closed dates after 2026-12-26, but the data runs to "
               "2027-01-04: its clocks ran through the holidays of 2027 as working days "
               "(W512); list those holidays too, or name a holiday set that knows every year, "
               'such as: closed holidays "US"')
    assert doc["coverage"]["warnings"] == [warning]
    x2 = next(lead for lead in doc["leads"] if lead["lead_id"] == "X2")
    first = next(c for c in x2["clauses"] if c["clause"] == "first touch")
    assert (first["status"], first["due"]) == ("breached", "2027-01-01T14:00:00+01:00")
    assert f"warning: {warning}" in text.splitlines()
    assert "has no closed dates after 2026-12-26, but the data runs to 2027-01-04" in page


def test_closed_dates_that_cover_the_data_say_nothing(capsys, tmp_path):
    doc, text, _ = _inbound(capsys, tmp_path, "X2,2026-12-30T10:00,handoff,marketing\n",
                            "2026-12-31T12:00")
    assert not any("closed dates" in w for w in doc["coverage"]["warnings"])
    assert "closed dates" not in text


def test_a_month_with_no_lead_but_partial_wins_is_not_said_to_have_no_data(capsys):
    """As of 2 March, March is partial for the revenue goal (its wins) and holds no lead for the
    commitments: the warning said March both "has only partial data" and "has no data"."""
    root = Path(__file__).resolve().parent.parent
    assert main(["evaluate", str(root / "policies" / "company-x.sla"), "--history",
                 str(root / "examples" / "company-x" / "history.csv"),
                 "--as-of", "2026-03-02"]) == 0
    [warning] = [line for line in capsys.readouterr().out.splitlines()
                 if line.startswith("warning: the data ends")]
    assert "2026-03-01 have only partial data and no lead came in during 2026-03" in warning
    assert "no data" not in warning
