"""The Company X trial agreement (`policies/company-x-trial.sla`, issue 15): what `sla test`
cannot say, checked by hand in code. A rep holding 20 open leads is skipped by the round robin,
and the due list at a chosen instant gives the due times and business time left.

The floor is open Monday to Friday 09:00-17:00 Chicago time, closed on the US federal holidays
on the days they are observed. Independence Day 2027 is Sunday 4 July, observed Monday 5 July.
"""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest

import sla_dsl
from sla_dsl.evaluation.replay import STATUS_NAMES

from .conftest import ROOT

POLICY = ROOT / "policies" / "company-x-trial.sla"
HEADER = "lead_id,at,event,actor,score,industry,employees,page_views\n"


@pytest.fixture(scope="module")
def policy():
    return sla_dsl.load_policy(POLICY)


def _hot(lead: str, at: str, rep: str) -> list[str]:
    # software, 200 employees (good fit), score 80 (high interest): a hot lead
    return [f"{lead},{at},created,,80,software,200,6", f"{lead},{at},handoff,marketing,,,,",
            f"{lead},{at},assigned,{rep},,,,"]


def _report(tmp_path, policy, rows: list[str], as_of: str) -> sla_dsl.Report:
    path = tmp_path / "history.csv"
    path.write_text(HEADER + "".join(row + "\n" for row in rows))
    return sla_dsl.evaluate(policy, sla_dsl.load_history(path, policy=policy), as_of=as_of)


# ---------------------------------------------------------------- a rep at cap

def test_round_robin_skips_a_rep_holding_20_open_leads(tmp_path, policy):
    """Monday 1 March 2027, CST. Hand count of ana's open leads:
    09:00-09:19 C01-C20 -> ana, none connected: ana holds 20, at the cap
    09:30 C21 -> bo: ana at cap, skipped (1)
    09:40 C01 connected: ana holds 19, eligible again
    09:45 C22 -> ana: not a skip; ana holds 20 again
    09:50 C23 -> cy: ana at cap, skipped (2)
    bo and cy hold one lead each and are never skipped."""
    rows = [row for i in range(1, 21)
            for row in _hot(f"C{i:02}", f"2027-03-01T09:{i - 1:02}", "ana")]
    rows += _hot("C21", "2027-03-01T09:30", "bo")
    rows += ["C01,2027-03-01T09:40,connected,ana,,,,"]
    rows += _hot("C22", "2027-03-01T09:45", "ana")
    rows += _hot("C23", "2027-03-01T09:50", "cy")
    report = _report(tmp_path, policy, rows, "2027-03-01T12:00")
    (block,) = report.document["assignments"]
    assert block["open_cap"] == 20
    reps = {r["rep"]: r["open_cap"] for r in block["reps"]}
    ana = reps["ana"]
    assert (ana["skipped"], ana["over"], ana["most_open"]) == (2, 0, 20)
    assert [(s["at"], s["lead_id"], s["went_to"]) for s in ana["latest_skips"]] == [
        ("2027-03-01T09:30:00-06:00", "C21", "bo"), ("2027-03-01T09:50:00-06:00", "C23", "cy")]
    assert reps["bo"]["skipped"] == reps["cy"]["skipped"] == 0
    assert "skipped at the cap for 2" in report.text()


# ---------------------------------------------------------------- the due list

DUE_ROWS = [*_hot("D1", "2027-07-02T16:45", "ana"), *_hot("D2", "2027-07-02T10:00", "bo")]


def test_the_due_list_on_the_friday_evening_before_independence_day(tmp_path, policy):
    """Friday 2 July 2027 17:10 CDT (-05:00), ten minutes after the close, before a long weekend:
    - D1, handed off 16:45 to ana, untouched. First touch: 15 minutes on Friday, then Saturday,
      Sunday and Monday 5 July (Independence Day observed) closed: due Tuesday 09:45, 45 minutes
      of business time left. Touches: ten open days after Friday at 16:45, Tue 6 to Fri 9 (4),
      Mon 12 to Fri 16 (9), Mon 19 (10): due Monday 19 July 16:45; left, nine whole open days
      of 8 hours (Tue 6 to Fri 16) and 09:00-16:45 on the 19th: 72 h + 7 h 45 min = 79 h 45 min.
    - D2, handed off 10:00 to bo, untouched. First touch due 11:00: overdue by Friday's open
      time after it, 11:00-17:00, 6 hours. Touches due Monday 19 July 10:00: 72 h + 1 h = 73 h.
    Nothing fires in the next 24 hours: the escalations and strikes come at the due times."""
    report = _report(tmp_path, policy, DUE_ROWS, "2027-07-02T17:10")
    items = {item["key"]: item for item in report.due().document["items"]}
    got = {key: (item["state"], item["owner"], item["due_at"], item["left_seconds"],
                 item["left"], item["actions"]) for key, item in items.items()}
    assert got == {
        "D1/hot/first touch": ("due", "ana", "2027-07-06T09:45:00-05:00", 45 * 60,
                               "45 minutes of business time left", []),
        "D1/hot/touches": ("due", "ana", "2027-07-19T16:45:00-05:00", 79 * 3600 + 45 * 60,
                           "79 hours 45 minutes of business time left", []),
        "D2/hot/first touch": ("overdue", "bo", "2027-07-02T11:00:00-05:00", -6 * 3600,
                               "overdue by 6 hours of business time", []),
        "D2/hot/touches": ("due", "bo", "2027-07-19T10:00:00-05:00", 73 * 3600,
                           "73 hours of business time left", []),
    }
    # most urgent first: the overdue clock, then by due time
    assert list(items) == ["D2/hot/first touch", "D1/hot/first touch", "D2/hot/touches",
                           "D1/hot/touches"]


def test_the_due_list_on_tuesday_morning_with_the_escalation_to_come(tmp_path, policy):
    """Tuesday 6 July 2027 08:30 CDT, before the opening: D1's first touch is still due 09:45,
    the 45 minutes of 09:00-09:45 left; the escalation to the sales manager and the strike fire
    at the due time, inside the 24 hours."""
    report = _report(tmp_path, policy, DUE_ROWS, "2027-07-06T08:30")
    items = {item["key"]: item for item in report.due().document["items"]}
    item = items["D1/hot/first touch"]
    assert (item["state"], item["due_at"], item["left_seconds"]) == (
        "due", "2027-07-06T09:45:00-05:00", 45 * 60)
    assert sorted((a["action"], a["to"], a["at"]) for a in item["actions"]) == [
        ("escalate", "sales manager", "2027-07-06T09:45:00-05:00"),
        ("strike", None, "2027-07-06T09:45:00-05:00")]


# ---------------------------------------------------------------- a rep on leave (item 6)

ABSENT_ROWS = [*_hot("V1", "2027-03-02T09:30", "ana"), "V1,2027-03-03T09:45,touch,ana,,,,"]


def _on_leave(tmp_path, line: str | None, absences: str) -> tuple[sla_dsl.Report, object]:
    """The trial policy with its `when owner absent pause` replaced by `line` (None: dropped;
    the shipped file stays as it is), ABSENT_ROWS, and an absences file of `absences` rows, as
    of Wednesday 3 March 12:00."""
    text = POLICY.read_text()
    assert "  when owner absent pause\n" in text
    text = text.replace("  when owner absent pause\n", "" if line is None else f"  {line}\n")
    policy_path = tmp_path / "trial.sla"
    policy_path.write_text(text)
    policy = sla_dsl.load_policy(policy_path)
    (tmp_path / "history.csv").write_text(HEADER + "".join(r + "\n" for r in ABSENT_ROWS))
    (tmp_path / "absences.csv").write_text("rep,start,end,reason\n" + absences)
    history = sla_dsl.load_history(tmp_path / "history.csv", policy=policy,
                                   absences=tmp_path / "absences.csv")
    return sla_dsl.evaluate(policy, history, as_of="2027-03-03T12:00"), history


def _first_touch(report: sla_dsl.Report) -> tuple[str, str]:
    """V1's first touch: its status and due time, in Chicago time."""
    result = next(r for r in report.evaluation.clauses if r.clause == "first touch")
    due = dt.datetime.fromtimestamp(int(result.due[0]) / 1e6, ZoneInfo("America/Chicago"))
    return STATUS_NAMES[int(result.status[0])], due.isoformat()


def test_a_whole_day_of_leave_with_pause_moves_the_due_time(tmp_path):
    """V1 handed to ana Tuesday 2 March 2027 09:30 CST (-06:00); ana is absent all of Tuesday.
    Pause: the clock stops from 09:30 to Wednesday 00:00, 7 h 30 min of open time, so the hour
    of first touch runs 09:00-10:00 on Wednesday: due 10:00, and the touch at 09:45 is met."""
    report, history = _on_leave(tmp_path, "when owner absent pause",
                                "ana,2027-03-02,2027-03-02,vacation\n")
    assert tuple(vars(history.absences.counts).values()) == (1, 1, 0)
    assert _first_touch(report) == ("met", "2027-03-03T10:00:00-06:00")


def test_a_whole_day_of_leave_with_run_is_breached_as_before(tmp_path):
    """`when owner absent run`, and the policy without the line: due Tuesday 10:30,
    the touch on Wednesday is late."""
    for line in ("when owner absent run", None):
        report, _ = _on_leave(tmp_path, line, "ana,2027-03-02,2027-03-02,vacation\n")
        assert _first_touch(report) == ("breached", "2027-03-02T10:30:00-06:00")


def test_a_partial_day_of_leave_moves_the_due_time_by_its_open_hours(tmp_path):
    """ana absent Tuesday 09:00-12:00 (a wall time, read in Chicago): the clock is paused
    09:30-12:00, 2 h 30 min, so the first touch is due 10:30 + 2 h 30 min = 13:00 Tuesday;
    the touch on Wednesday is late. bo's absence the same morning changes nothing for V1."""
    report, _ = _on_leave(tmp_path, "when owner absent pause",
                          "ana,2027-03-02T09:00,2027-03-02T12:00,doctor\n"
                          "bo,2027-03-02,2027-03-02,\n")
    assert _first_touch(report) == ("breached", "2027-03-02T13:00:00-06:00")


def test_the_clock_audit_names_the_absence(tmp_path):
    from sla_dsl.evaluation.clock_audit import audit_lead, render_text

    policy_path = tmp_path / "trial.sla"
    _on_leave(tmp_path, "when owner absent pause", "ana,2027-03-02,2027-03-03,\n")
    policy = sla_dsl.load_policy(policy_path)
    history = sla_dsl.load_history(tmp_path / "history.csv", policy=policy,
                                   absences=tmp_path / "absences.csv")
    text = render_text(audit_lead(policy, history, "V1"))
    assert "paused: owner ana absent 2027-03-02 to 2027-03-03" in text
    # absent Tuesday and Wednesday: due Thursday 10:00, and the touch on Wednesday is met
    assert "due Thu 2027-03-04 10:00:00 CST" in text


def test_the_clock_audit_gives_an_absence_s_times_in_the_policy_s_zone(tmp_path):
    """An HR export writes ana's morning off Tuesday 2 March 2027 as UTC: 15:00Z to 18:00Z is
    09:00 to 12:00 in Chicago (CST, -06:00), and the audit says it as it says every time."""
    from sla_dsl.evaluation.clock_audit import audit_lead, render_text

    report, _ = _on_leave(tmp_path, "when owner absent pause",
                          "ana,2027-03-02T15:00:00Z,2027-03-02T18:00:00Z,doctor\n")
    assert _first_touch(report) == ("breached", "2027-03-02T13:00:00-06:00")
    policy = sla_dsl.load_policy(tmp_path / "trial.sla")
    history = sla_dsl.load_history(tmp_path / "history.csv", policy=policy,
                                   absences=tmp_path / "absences.csv")
    text = render_text(audit_lead(policy, history, "V1"))
    assert ("paused: owner ana absent Tue 2027-03-02 09:00:00 CST to Tue 2027-03-02 12:00:00 "
            "CST (doctor)") in text
    assert "Z" not in text.split("paused: ", 1)[1].split("\n", 1)[0]


def test_bad_absence_rows_are_counted_and_said_never_raised(tmp_path):
    _, history = _on_leave(tmp_path, "when owner absent pause",
                           "ana,2027-03-02,2027-03-02\n"
                           "bo,2027-03-05,2027-03-04,\n"
                           "cy,soon,2027-03-04,\n"
                           ",2027-03-01,2027-03-02,\n")
    counts = history.absences.counts
    assert (counts.read, counts.accepted, counts.rejected) == (4, 1, 3)
    assert [(r.row, r.reason) for r in history.absences.rejects] == [
        (2, "ends before it starts"),
        (3, "start 'soon' is not an ISO date (2027-03-02) or date-time (2027-03-02T13:00)"),
        (4, "no rep named")]


# ---------------------------------------------------------------- absences in the reports

LEAVE_CASE = ROOT / "policies" / "tests" / "company-x-trial" / "rep-on-leave.toml"


def test_the_reports_say_what_the_absences_file_held_and_whose_clocks_it_paused(tmp_path,
                                                                               policy):
    """The shipped rep-on-leave case's leads and absences (ana away Tuesday 2 March 2027, bo
    that morning), plus cy away Monday 1 March, the day before cy's V3 and V4 came in (so it
    pauses nothing), and a row ending before it starts (rejected). Paused: V1 and V3 for
    ana's day (V3 until cy took it), V2 for bo's morning: 3 leads, 2 absences used."""
    import tomllib

    events = tomllib.loads(LEAVE_CASE.read_text())["events"]
    (tmp_path / "history.csv").write_text(
        "".join(line + "\n" for line in events.strip().splitlines()
                if not line.startswith("#")))
    (tmp_path / "absences.csv").write_text(
        (LEAVE_CASE.parent / "absences-march-2027.csv").read_text()
        + "cy,2027-03-01,2027-03-01,training\nbo,2027-03-09,2027-03-08,\n")
    history = sla_dsl.load_history(tmp_path / "history.csv", policy=policy,
                                   absences=tmp_path / "absences.csv")
    report = sla_dsl.evaluate(policy, history, as_of="2027-03-17T12:00")
    said = report.document["rows"]["absences"]
    assert said == {
        "file": str(tmp_path / "absences.csv"), "read": 4, "accepted": 3, "rejected": 1,
        "pausing_blocks": ["hot"], "used": 2, "leads_paused": 3,
        "reps": [{"rep": "ana", "absences": 1, "used": 1, "leads_paused": 2},
                 {"rep": "bo", "absences": 1, "used": 1, "leads_paused": 1},
                 {"rep": "cy", "absences": 1, "used": 0, "leads_paused": 0}]}
    sentence = ("absences: 4 rows read, 3 accepted, 1 rejected; 2 absences paused the clocks "
                "of 3 leads (block hot)")
    assert sentence in report.text().splitlines()
    page = report.html()
    assert f"<p>A{sentence[1:]}.</p>" in page
    assert "<strong>3</strong>leads paused for an absence" in page
    assert "<strong>1</strong> of 4 rows of the absences file" in page
    assert "absences.csv:4</th><td>ends before it starts" in page
    assert json.loads(report.json())["rows"]["absences"] == said


def test_without_an_absences_file_the_reports_say_nothing_of_absences(tmp_path, policy):
    report = _report(tmp_path, policy, DUE_ROWS, "2027-07-02T17:10")
    assert "absences" not in report.document["rows"]
    assert "absences:" not in report.text() and "for an absence" not in report.html()
