"""`cancel when` and `review when` read the figures the report prints, on real CSV histories
through `sla evaluate`: a trigger that reads another number than the report (or none) fires
where the report says it should not, or is silently never applied."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from sla_dsl.cli import main

PERIODS_POLICY = """\
sla "Desk"
timezone "UTC"
effective 2026-01-01
party marketing contact "m@desk.example"
party sales contact "s@desk.example"

stage hot when score >= 70

handoff every lead from marketing to sales

commit marketing to sales {
  deliver at least 2 hot per month
}

attribution last touch

goal revenue 1000 USD per month {
  deal size 1000 USD
  close rate 100%
}

on miss of deliver {
  grace 1 month
}

review when attainment of deliver < 70%
review when attainment of deliver < 60%
review when attainment of goal < 60%
review when attainment of goal < 50%
"""

# hot leads per month: 1 (January, missed in grace), 1 (February, missed), 2, 2, then May in
# progress; revenue won per month: 1500, 500, 1200, none (April missed), May in progress
PERIODS_HISTORY = """\
lead_id,at,event,actor,score,amount
J1,2026-01-05T10:00:00Z,created,,90,
J1,2026-01-05T10:00:00Z,handoff,marketing,,
J1,2026-01-06T10:00:00Z,touch,ana,,
J1,2026-01-20T10:00:00Z,won,ana,,1500
F1,2026-02-09T10:00:00Z,created,,90,
F1,2026-02-09T10:00:00Z,handoff,marketing,,
F1,2026-02-10T10:00:00Z,touch,ana,,
F1,2026-02-20T10:00:00Z,won,ana,,500
M1,2026-03-02T10:00:00Z,created,,95,
M1,2026-03-02T10:00:00Z,handoff,marketing,,
M1,2026-03-03T10:00:00Z,touch,ana,,
M1,2026-03-20T10:00:00Z,won,ana,,1200
M2,2026-03-16T10:00:00Z,created,,75,
M2,2026-03-16T10:00:00Z,handoff,marketing,,
A1,2026-04-06T10:00:00Z,created,,90,
A1,2026-04-06T10:00:00Z,handoff,marketing,,
A2,2026-04-28T10:00:00Z,created,,85,
A2,2026-04-28T10:00:00Z,handoff,marketing,,
Y1,2026-05-04T10:00:00Z,created,,20,
Y1,2026-05-04T10:00:00Z,handoff,marketing,,
"""


def evaluate(tmp_path: Path, capsys, policy: str, history: str, *args: str) -> str:
    (tmp_path / "policy.sla").write_text(policy)
    (tmp_path / "history.csv").write_text(history)
    code = main(["evaluate", str(tmp_path / "policy.sla"), "--history",
                 str(tmp_path / "history.csv"), "-q", *args])
    out, _ = capsys.readouterr()
    assert code == 0
    return out


def triggers(doc: dict) -> dict[str, tuple[bool, list[str]]]:
    return {row["rule"]: (row["triggered"], row["readings"]) for row in doc["triggers"]}


# a period's state as the text words it, at the end of its line
_STATE = re.compile(r"(missed, in grace|missed|in progress(?:, partial data)?|"
                    r"partial data, not judged|no data|met)$")


def printed_states(text: str, heading: str) -> list[str]:
    """The state of each period line under a heading of the text report, in order."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().startswith(heading))
    states = []
    for line in lines[start + 1:]:
        found = _STATE.search(line)
        if found is None or not line.startswith("  "):
            break
        states.append(found.group(1))
    return states


def printed_attainment(states: list[str]) -> float:
    """What a reader of the report counts: the periods it calls met among those it calls met
    or missed (a miss in grace does not count)."""
    met, missed = states.count("met"), states.count("missed")
    return 100 * met / (met + missed)


# ---------------------------------------------------------------- attainment of a period clause


def test_attainment_of_deliver_and_goal_reads_the_periods_the_report_prints(tmp_path, capsys):
    text = evaluate(tmp_path, capsys, PERIODS_POLICY, PERIODS_HISTORY)
    doc = json.loads(evaluate(tmp_path, capsys, PERIODS_POLICY, PERIODS_HISTORY,
                              "--format", "json"))
    delivered = printed_states(text, "commitments (delivered / goal per period)")
    assert delivered == ["missed, in grace", "missed", "met", "met", "in progress"]
    won = printed_states(text, "goal 1,000 USD per month")
    assert won == ["met", "missed", "met", "missed", "in progress"]
    assert printed_attainment(delivered) == pytest.approx(200 / 3)
    assert printed_attainment(won) == 50.0
    fired = triggers(doc)
    reading = "attainment of deliver = 66.7% (2 of 3 judged periods met)"
    assert fired["review when attainment of deliver < 70%"] == (True, [reading])
    assert fired["review when attainment of deliver < 60%"] == (False, [reading])
    reading = "attainment of goal = 50.0% (2 of 4 judged periods met)"
    assert fired["review when attainment of goal < 60%"] == (True, [reading])
    assert fired["review when attainment of goal < 50%"] == (False, [reading])
    # the text says the same as the JSON
    assert "  review when attainment of deliver < 70%: TRIGGERED\n" \
           "    attainment of deliver = 66.7% (2 of 3 judged periods met)\n" in text


REPORT_POLICY = PERIODS_POLICY.replace("""on miss of deliver""", """commit sales to marketing {
  report pipeline status weekly
}

on miss of deliver""") + """review when attainment of report < 100%
cancel when report missed 2 weeks in a row
"""


def test_a_trigger_on_a_report_is_warned_with_its_place_and_says_why_it_did_not_fire(
        tmp_path, capsys):
    # no history records a report made: the trigger cannot fire, and check says so up front
    (tmp_path / "policy.sla").write_text(REPORT_POLICY)
    assert main(["check", str(tmp_path / "policy.sla")]) == 0  # a warning, not an error
    out = capsys.readouterr().out
    lines = REPORT_POLICY.splitlines()
    attainment = lines.index("review when attainment of report < 100%") + 1
    missed = lines.index("cancel when report missed 2 weeks in a row") + 1
    assert f"policy.sla:{attainment}:27: warning: no history records whether a report was " \
           "made, so 'sla evaluate' cannot measure it and this part of the trigger never " \
           "fires [W513]" in out
    assert f"policy.sla:{missed}:13: warning: no history records" in out
    assert "remove this part of the trigger; the report stays promised in the agreement" in out
    doc = json.loads(evaluate(tmp_path, capsys, REPORT_POLICY, PERIODS_HISTORY,
                              "--format", "json"))
    fired = triggers(doc)
    why = "not measured (no history records whether a report was made)"
    assert fired["review when attainment of report < 100%"] == (
        False, [f"attainment of report: {why}"])
    assert fired["cancel when report missed 2 weeks in a row"] == (
        False, [f"report missed: {why}"])


# ---------------------------------------------------------------- statistics of time

WEEKEND_POLICY = """\
sla "Weekend desk"
timezone "America/New_York"
party marketing contact "m@desk.example"
party sales contact "s@desk.example"

calendar business {
  open mon-fri 09:00-17:00
}

handoff every lead from marketing to sales {
  first touch within 1 business hour
}

review when median first touch > 1 business day
review when median first touch > 4 business hours
review when median first touch > 3 business hours
review when median first touch > 2 days
"""

# handed off on Friday afternoons, touched on Monday: 2, 3.5 and 4.5 business hours (a median
# of 3.5), and 65, 67.5 and 68.5 hours of elapsed time (a median of 2.8 days)
WEEKEND_HISTORY = """\
lead_id,at,event,actor
F1,2026-03-06T16:00:00-05:00,handoff,marketing
F1,2026-03-09T10:00:00-04:00,touch,ana
F2,2026-03-13T15:30:00-04:00,handoff,marketing
F2,2026-03-16T11:00:00-04:00,touch,ana
F3,2026-03-20T16:30:00-04:00,handoff,marketing
F3,2026-03-23T13:00:00-04:00,touch,ana
"""


def test_a_statistic_in_business_time_is_compared_in_business_time(tmp_path, capsys):
    doc = json.loads(evaluate(tmp_path, capsys, WEEKEND_POLICY, WEEKEND_HISTORY,
                              "--format", "json"))
    (march,) = [r for r in doc["follow_up"]["speed"] if r["period"] == "month"]
    # the report's figures for these leads: open time on the calendar, and elapsed time
    assert (march["median_business_hours"], march["median_hours"]) == (3.5, 67.5)
    fired = triggers(doc)
    business = "median first touch = 3.5 business hours on calendar business"
    # 3.5 business hours is well inside one business day (8 open hours), and not above 4
    assert fired["review when median first touch > 1 business day"] == (
        False, [business + " (a business day is 8 of them)"])
    assert fired["review when median first touch > 4 business hours"] == (False, [business])
    assert fired["review when median first touch > 3 business hours"] == (True, [business])
    # elapsed time is compared with elapsed time: over the weekend, 2.8 days
    assert fired["review when median first touch > 2 days"] == (
        True, ["median first touch = 2.8 days"])


@pytest.mark.parametrize(("hours", "refused"), [
    ("open mon-fri 09:00-17:00", False),
    ("open mon-fri 09:00-12:00, 13:00-17:00", False),  # a split shift, the same every day
    ("open mon-fri 09:00-17:00\n  open sat 10:00-14:00", True),  # a short Saturday
    ("open mon, wed, fri 09:00-17:00\n  open tue, thu 10:00-18:00", True),  # 8 hours, shifted
])
def test_business_days_in_a_statistic_need_a_calendar_whose_open_days_are_alike(
        tmp_path, capsys, hours, refused):
    # `1 business day` is the same local time one open day later: one fixed amount of open
    # time only when every open day keeps the same hours
    policy = WEEKEND_POLICY.replace("open mon-fri 09:00-17:00", hours)
    (tmp_path / "policy.sla").write_text(policy)
    assert main(["check", str(tmp_path / "policy.sla")]) == (1 if refused else 0)
    out = capsys.readouterr().out
    line = policy.splitlines().index("review when median first touch > 1 business day") + 1
    if refused:
        assert f"policy.sla:{line}:34: error: calendar 'business' is not open the same hours " \
               "every open day, so 1 business day is no fixed amount of open time to compare " \
               "a median with [E111]" in out
        assert "write it in business hours, such as '8 business hours' (1 of its 8-hour " \
               "days), or in elapsed time, such as '1 day'" in out
    else:
        assert "E111" not in out


def test_a_business_day_is_one_open_day_of_a_split_shift_calendar(tmp_path, capsys):
    # 7 open hours a day: F1, F2 and F3 were touched 2, 3.5 and 3.5 business hours after
    # their handoff (F3's Monday morning is 09:00-12:00 only)
    policy = WEEKEND_POLICY.replace("open mon-fri 09:00-17:00",
                                    "open mon-fri 09:00-12:00, 13:00-17:00")
    doc = json.loads(evaluate(tmp_path, capsys, policy, WEEKEND_HISTORY, "--format", "json"))
    (march,) = [r for r in doc["follow_up"]["speed"] if r["period"] == "month"]
    assert march["median_business_hours"] == 3.5
    business = "median first touch = 3.5 business hours on calendar business"
    fired = triggers(doc)
    assert fired["review when median first touch > 1 business day"] == (
        False, [business + " (a business day is 7 of them)"])
    assert fired["review when median first touch > 3 business hours"] == (True, [business])


@pytest.mark.parametrize(("hours", "met", "business", "goal"), [
    ("open mon-fri 09:00-17:00", 3, 3.5, "goal 8 hours of open time"),
    # a short Saturday (due then, so missed): a business day is no amount of open time, so
    # the wall clock is drawn
    ("open mon-fri 09:00-17:00\n  open sat 10:00-14:00", 0, None, "goal 24 hours."),
])
def test_speed_of_a_clause_in_business_days_is_drawn_in_open_hours(tmp_path, capsys, hours,
                                                                   met, business, goal):
    # the clause's own time: Friday afternoon to Monday morning meets `1 business day`, and
    # the chart draws it below the line (2 to 4.5 open hours against 8), not at 65 hours
    policy = WEEKEND_POLICY.replace("open mon-fri 09:00-17:00", hours).replace(
        "first touch within 1 business hour", "first touch within 1 business day").split(
        "review when")[0]  # (the triggers' business days need alike days: E111)
    doc = json.loads(evaluate(tmp_path, capsys, policy, WEEKEND_HISTORY, "--format", "json"))
    (march,) = [r for r in doc["follow_up"]["speed"] if r["period"] == "month"]
    assert (march["met"], march["median_business_hours"]) == (met, business)
    evaluate(tmp_path, capsys, policy, WEEKEND_HISTORY, "--html", str(tmp_path / "page.html"))
    assert goal in (tmp_path / "page.html").read_text()


def test_report_commitments_are_named_as_not_measured_in_every_form(tmp_path, capsys):
    # the report listed the deliveries only: a weekly report promised, and the block waiting
    # on its miss, read as kept
    policy = PERIODS_POLICY.replace(
        "  deliver at least 2 hot per month\n}",
        "  deliver at least 2 hot per month\n}\n\ncommit sales to marketing {\n"
        "  report pipeline status weekly\n  report \"lost reasons\" monthly\n}\n\n"
        "on miss of report {\n  escalate to \"vp sales\"\n}")
    text = evaluate(tmp_path, capsys, policy, PERIODS_HISTORY)
    lines = text.splitlines()
    start = lines.index("commitments not measured (no history records whether a report was "
                        "made):")
    assert lines[start + 1:start + 4] == [
        "  sales to marketing: report pipeline status weekly",
        "  sales to marketing: report \"lost reasons\" monthly",
        "  on miss of report: never set off, for the same reason"]
    doc = json.loads(evaluate(tmp_path, capsys, policy, PERIODS_HISTORY, "--format", "json"))
    assert doc["unmeasured_reports"]["on_miss"] is True
    assert [r["report"] for r in doc["unmeasured_reports"]["commitments"]] == [
        "pipeline status", '"lost reasons"']
    evaluate(tmp_path, capsys, policy, PERIODS_HISTORY, "--html", str(tmp_path / "page.html"))
    page = (tmp_path / "page.html").read_text()
    assert "<li>sales to marketing: report pipeline status weekly</li>" in page
    assert "<code>on miss of report</code> block is never set off" in page
    # a policy that promises no report says nothing of it
    assert "not measured" not in evaluate(tmp_path, capsys, PERIODS_POLICY, PERIODS_HISTORY)
