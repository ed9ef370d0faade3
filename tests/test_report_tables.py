"""The report's tables say what they count, and never more than they can stand on.

Each test runs a shipped policy on a shipped history (or a few rows written here) and reads
the text, the JSON and the page as a reader does: a funnel step is no more than 100% of the
step it is a share of and each name is one row; the teams add up to the breaches "in short"
says, and the owners say what they leave out; a count of a recycled lead's attempts is called
what it is; a month mostly pending is marked and no trend ends on it; a commitment nobody can
deliver is named as not measured instead of charged.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from sla_dsl.cli import main

ROOT = Path(__file__).resolve().parent.parent
POLICIES = ROOT / "policies"
EXAMPLES = ROOT / "examples"


def views(tmp_path: Path, *command: str) -> tuple[dict, str, str]:
    """The JSON, the text and the page of one evaluation, as `sla evaluate` writes them."""
    args = ["evaluate", *command, "-q"]
    assert main([*args, "--format", "json", "-o", str(tmp_path / "r.json")]) in (0, 1)
    assert main([*args, "--html", str(tmp_path / "r.html"), "-o", str(tmp_path / "r.txt")]) \
        in (0, 1)
    return (json.loads((tmp_path / "r.json").read_text()), (tmp_path / "r.txt").read_text(),
            (tmp_path / "r.html").read_text(encoding="utf-8"))


def new_breed(tmp_path: Path) -> tuple[dict, str, str]:
    return views(tmp_path, str(POLICIES / "new-breed.sla"), "--history",
                 str(EXAMPLES / "new-breed" / "history.csv"))


def company_x(tmp_path: Path) -> tuple[dict, str, str]:
    return views(tmp_path, str(POLICIES / "company-x.sla"), "--history",
                 str(EXAMPLES / "company-x" / "history.csv"))


# ============================================================================ the funnel


def test_the_funnel_has_one_lead_row_and_no_conversion_above_100_percent(tmp_path):
    """New Breed defines its own `stage lead`: the funnel listed "lead 600; lead 600
    (100.0%)", and its 58 won deals, not all of them opportunities, as 161.1% of the 36
    opportunities."""
    doc, _, page = new_breed(tmp_path)
    funnel = doc["funnel"]
    assert [r["stage"] for r in funnel] == ["lead", "mql", "sql", "opportunity", "won"]
    by_name = {r["stage"]: r for r in funnel}
    for row in funnel[1:]:
        assert row["rate"] is not None and 0 <= row["rate"] <= 100, row
        assert row["rate_of"] in [r["stage"] for r in funnel[:funnel.index(row)]]
        assert row["rate"] == round(100 * row["leads"] / by_name[row["rate_of"]]["leads"], 1)
    won = by_name["won"]
    assert won["leads"] > by_name["opportunity"]["leads"]  # not all won were opportunities
    assert won["rate_from_previous"] is None and won["rate_of"] == "lead"
    assert "161.1%" not in page and "lead 600; lead 600" not in page
    assert "won 58 (9.7% of lead)" in page
    assert "lead (not every won lead is in opportunity, the step before)" in page


def test_a_step_after_an_empty_one_is_measured_alike(tmp_path):
    """Company X has no opportunity yet: its won step had no rate at all, where New Breed's
    had one above 100%; both are now a share of the nearest step holding all their leads."""
    doc, _, page = company_x(tmp_path)
    by_name = {r["stage"]: r for r in doc["funnel"]}
    assert by_name["opportunity"]["leads"] == 0
    won = by_name["won"]
    assert (won["rate_from_previous"], won["rate_of"]) == (None, "lead")
    assert won["rate"] == round(100 * won["leads"] / by_name["lead"]["leads"], 1)
    assert f"won {won['leads']} ({won['rate']:.1f}% of lead)" in page


# ============================================================================ teams and owners


def test_the_teams_add_up_to_in_short_and_the_owners_say_what_they_leave_out(tmp_path):
    """Company X said 348 breaches "in short" while its teams and owners added up to 282: the
    hot threshold's 66, marketing's, were in neither, and the teams had "marketing 4
    breached, 3 met" beside marketing's 70 and 56."""
    doc, text, page = company_x(tmp_path)
    owed, teams = doc["summary"]["owed"], doc["summary"]["teams"]
    assert (owed["breached"], owed["met"]) == (348, 425)
    assert (sum(t["breached"] for t in teams), sum(t["met"] for t in teams)) == (348, 425)
    marketing = next(t for t in teams if t["team"] == "marketing")
    assert (marketing["breached"], marketing["met"]) == (70, 56)
    assert marketing["thresholds"] == {"breached": 66, "met": 53}
    assert "  marketing                    70 breached,     56 met  (44.4%); thresholds 66 " \
           "breached, 53 met" in text
    assert "teams (over every clause: those of the leads the team works, and a threshold for " \
           "the team of the party that sent the lead):" in text
    owners = doc["summary"]["owners"]
    assert sum(o["breached"] for o in owners) == 282
    assert "  all 5 owners: 282 breached, 372 met\n  left out, the thresholds (the sending " \
           "party's, under teams, no rep's): 66 breached, 53 met; with them 348 breached and " \
           "425 met\n" in text
    assert ("Left out, the thresholds (the sending party&#x27;s, under teams, no rep&#x27;s): "
            "66 breached, 53 met; with them 348 breached and 425 met.") in page
    assert "<td>66 / 53</td>" in page


def test_a_sender_with_only_thresholds_is_a_team_row(tmp_path):
    """New Breed's marketing works no lead with a decided clock, so it was not in the teams
    at all, though it broke 63 thresholds."""
    doc, text, _ = new_breed(tmp_path)
    teams = {t["team"]: t for t in doc["summary"]["teams"]}
    assert teams["marketing"]["thresholds"]["breached"] == teams["marketing"]["breached"] == 63
    assert teams["mdr"]["thresholds"] == {"breached": 0, "met": 46}  # the SQLs it sent
    assert sum(t["breached"] for t in teams.values()) == doc["summary"]["owed"]["breached"]
    assert "\n  marketing                    63 breached," in text


# ============================================================================ clocks and leads

# a lead rejected and handed off again: its second round is judged and dealt on its own
RECYCLED = """lead_id,at,event,actor,score,title,industry,employees,page_views
A,2026-03-02T09:50:00-05:00,created,,80,VP Sales,software,200,2
A,2026-03-02T10:00:00-05:00,handoff,marketing,,,,,
A,2026-03-02T10:05:00-05:00,assigned,alice,,,,,
A,2026-03-02T10:20:00-05:00,touch,alice,,,,,
A,2026-03-02T11:00:00-05:00,rejected,alice,,,,,
A,2026-03-04T10:00:00-05:00,handoff,marketing,,,,,
A,2026-03-04T10:05:00-05:00,assigned,bob,,,,,
A,2026-03-04T10:30:00-05:00,touch,bob,,,,,
B,2026-03-02T09:50:00-05:00,created,,80,VP Sales,software,200,2
B,2026-03-02T12:00:00-05:00,handoff,marketing,,,,,
B,2026-03-02T12:05:00-05:00,assigned,chen,,,,,
B,2026-03-02T12:30:00-05:00,touch,chen,,,,,
"""


def test_a_count_of_a_recycled_leads_rounds_is_not_called_leads(tmp_path):
    """On a history with a recycled lead, the clause table said "leads 208" and the
    assignments "208 leads" beside "192 judged" and "of 192 leads": the 16 more were second
    rounds. Here two leads, one handed off twice: three clocks and three handoffs."""
    history = tmp_path / "recycled.csv"
    history.write_text(RECYCLED)
    doc, text, page = views(tmp_path, str(POLICIES / "company-x.sla"), "--history",
                            str(history), "--as-of", "2026-03-20T12:00")
    first = next(c for c in doc["summary"]["clauses"] if c["clause"] == "first touch")
    assert (first["clocks"], first["leads"]) == (3, 2)
    assert first["met"] + first["breached"] + first["pending"] == first["clocks"]
    assert doc["summary"]["owed"]["leads"] == 2
    [hot] = [b for b in doc["assignments"] if b["handoff"] == "hot"]
    assert (hot["handoffs"], hot["leads"]) == (3, 2)
    assert sum(r["assigned"] for r in hot["reps"]) + hot["unassigned"] == hot["handoffs"]
    assert "over 7 clauses of 2 leads." in text
    assert "hot: first touch 3 clocks of 2 leads" in text
    assert ", cap 25 per day, 3 handoffs of 2 leads (1 of them a recycled lead's handoff " \
           "again)\n" in text
    assert "  alice                     1 handoff    33.3% of them" in text
    assert "<td class=num>3 (2 leads)</td>" in page
    assert '<th scope="col" class=num>clocks</th>' in page
    assert "3 handoffs of 2 leads (1 of them a recycled lead&#x27;s handoff again)</caption>" \
        in page


def test_without_a_recycled_lead_clocks_and_handoffs_are_the_leads(tmp_path):
    doc, text, _ = company_x(tmp_path)
    assert all(c["clocks"] == c["leads"] for c in doc["summary"]["clauses"])
    assert all(b["handoffs"] == b["leads"] for b in doc["assignments"])
    assert "judged again" not in text
    assert "assignments in hot: round robin (team sdr), cap 25 per day, 119 leads\n" in text


# ============================================================================ months to lean on


def test_a_month_still_pending_is_marked_and_ends_no_trend(tmp_path):
    """Company X on 16 February: February's hot cadences are 6 decided and 13 still running,
    so its 83.3% is the early wins; the page said "+48.0 points since 2026-01" from it."""
    doc, text, page = views(tmp_path, str(POLICIES / "company-x.sla"), "--history",
                            str(EXAMPLES / "company-x" / "history.csv"),
                            "--as-of", "2026-02-16T10:00")
    touches = next(t for t in doc["summary"]["by_month"]
                   if (t["handoff"], t["clause"]) == ("hot", "touches"))
    february = touches["months"][1]
    assert (february["met"] + february["breached"], february["pending"]) == (6, 13)
    assert re.search(r"\n  hot: touches +35\.3% +83\.3%\*  not compared: fewer than two months "
                     r"with no clock pending and 10 or more decided\n", text)
    assert "  * clocks still pending, so the figure can still change (decided / pending):\n" \
           in text
    assert "\n      hot: touches  2026-02 6 / 13\n" in text
    assert "points since" not in page and "+48.0" not in page
    assert "not compared: fewer than two months with no clock pending and 10 or more " \
           "decided; latest 2026-02 83.3%* (6 decided, 13 pending)" in page
    assert "<td class=num>83.3%*</td>" in page
    assert "touches at least 6 within 10 business days until connected  2026-02 6 / 13" in page
    # the chart draws February's figures as open points, each in its clause's colour
    chart = re.search(r'<svg[^>]*aria-labelledby="trend0-t trend0-d">.*?</svg>', page, re.S)[0]
    assert len(re.findall(r'<circle [^>]*fill="#ffffff" stroke="#[0-9a-f]{6}"', chart)) == 3 + 1
    assert "open: still pending or few decided" in chart


def test_a_trend_compares_months_that_stand_and_says_which(tmp_path):
    """Company X's nurture trend was "+66.7 points since 2026-01" from one lead in April
    against one of three in January; hot's ran to April, 9 leads of a 3-day month."""
    doc, text, page = company_x(tmp_path)
    assert "+66.7 points" not in page and "points since" not in page
    months = text[text.index("attainment by month of handoff"):]
    nurture = re.search(r"\n  nurture: touches +(.*)\n", months)[1]
    assert nurture.split() == ["33.3%~", "100.0%~", "0.0%~", "100.0%~", "no", "data", "not",
                               "compared:", "fewer", "than", "two", "months", "with", "no",
                               "clock", "pending", "and", "10", "or", "more", "decided"]
    assert "      nurture: touches  2026-01 3 / 0, 2026-02 1 / 0, 2026-03 2 / 0, 2026-04 1 / 0" \
        in text
    # hot's first touches: January against March, April (9 decided) left out, in both views
    said = "-14.7 points, 2026-01 64.7% to 2026-03 50.0%"
    assert f"  hot: first touch      64.7%     63.2%     50.0%     66.7%~  no data   {said}\n" \
        in text
    assert f"{said}; latest 2026-04 66.7%~ (9 decided, 0 pending)" in page
    # every clause's trend is worded alike in the text and on the page
    for item in doc["summary"]["by_month"]:
        line = re.search(rf"\n  {item['handoff']}: {item['clause']} .*", months)[0]
        words = re.split(r"no data {3}|%[*~ ] {2}", line)[-1].strip()
        assert words in page, (item["clause"], words)


# ============================================================================ undeliverable


def test_a_commitment_nobody_can_deliver_is_not_measured_instead_of_missed(tmp_path):
    """New Breed's policy had sales promise marketing 28 opportunities a month; sales hands
    marketing no lead, so every month was 0 of 28, March missed and escalated, beside a funnel
    of 36 opportunities. Here it is again, on the shipped history."""
    text = (POLICIES / "new-breed.sla").read_text(encoding="utf-8").replace(
        '  report "closed-won', '  deliver at least 28 opportunity per month\n  report "closed-won')
    policy = tmp_path / "new-breed.sla"
    policy.write_text(text, encoding="utf-8")
    doc, out, page = views(tmp_path, str(policy), "--history",
                           str(EXAMPLES / "new-breed" / "history.csv"))
    assert not [p for p in doc["periods"] if p["commitment"]["deliver"] == "opportunity"]
    assert doc["unmeasured_deliveries"] == [{
        "from": "sales", "to": "marketing", "deliver": "opportunity", "per": "month",
        "goal": 28.0,
        "why": "no handoff block passes leads from sales to marketing, so none is delivered"}]
    assert doc["summary"]["owed"]["commitments"]["missed"] == 2  # mql and sql in March only
    assert "sales to marketing: opportunity" not in out
    assert ("commitments not measured (a delivery counts the leads its giver hands to its "
            "receiver):\n  sales to marketing: at least 28 opportunity per month: no handoff "
            "block passes leads from sales to marketing, so none is delivered\n") in out
    assert "<li>sales to marketing: at least 28 opportunity per month: no handoff block " \
           "passes leads from sales to marketing, so none is delivered</li>" in page
    assert "sales to marketing: at least 28 opportunity per month</h3>" not in page


def test_the_shipped_policy_measures_the_opportunities_as_a_rate(tmp_path):
    """The shipped policy now says what sales promised as the rate it stands for (28 of 70
    SQLs, 40%), read from the same steps as the funnel."""
    doc, _, _ = new_breed(tmp_path)
    assert doc["unmeasured_deliveries"] == []
    opportunity = next(r for r in doc["funnel"] if r["stage"] == "opportunity")
    review = next(t for t in doc["triggers"] if "rate sql to opportunity" in t["rule"])
    assert f"rate sql to opportunity = {opportunity['rate']:.1f}%" in review["readings"]
    assert opportunity["rate"] < 40 and review["triggered"]
