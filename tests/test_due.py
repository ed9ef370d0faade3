"""The due list (`sla due`, `Report.due`): every open clock at an instant, checked by hand.

The instant is Friday 2026-04-03 17:10 New York time (EDT, UTC-4), ten minutes after Company
X's sales floor closed for the week (`open mon-fri 09:00-17:00`, `open sat 10:00-14:00`). From
the shipped history (times in UTC):

- L0000398 (hot): handed off 20:49:52Z = Fri 16:49:52, assigned to chen, not touched by 17:10.
  `first touch within 1 business hour`: 10 min 08 s of Friday's open time are left, so the
  other 49 min 52 s run from Saturday's 10:00 opening: due Sat 10:49:52; 49 min 52 s of
  business time left (Friday after 17:00 is closed). `warn at 75%`: 45 of the 60 minutes,
  10:08 on Friday and 34:52 on Saturday, Sat 10:34:52; `strike owner` at the due time;
  `escalate to "sales manager" after 30 minutes` (wall time) Sat 11:19:52; `reassign after
  2 business hours` Sat 12:49:52. All before the window's end, Sat 17:10.
- L0000399 (small): handed off 21:05:30Z = Fri 17:05:30, after the close, assigned to bob, its
  first touch only at 20:58 (after the instant). `first touch within 1 business day`: a clock
  started while closed starts at the next opening, Sat 10:00; one open day after Saturday is
  Monday (Sunday is closed): due Mon 2026-04-06 10:00. Business time left across the weekend:
  Saturday 10:00-14:00 and Monday 09:00-10:00, 5 hours. `warn at 75%`: 3 h 45 min of those
  5 hours, Sat 13:45, inside the window; the escalation (Mon 10:30) and the strike (Mon 10:00)
  are not.
- L0000390 (small): handed off Thu 2026-04-02 15:24:10, accepted Friday but never touched:
  due Fri 15:24:10, breached and still not done, so *overdue* by Friday's open time after it,
  1 h 35 min 50 s. Its escalation (15:54:10) has fired; `reassign after 2 business hours` has
  not: 1 h 35 min 50 s on Friday, 24 min 10 s from Saturday's opening, Sat 10:24:10.
"""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest

import sla_dsl
from sla_dsl.cli import build_parser, main
from sla_dsl.cli.due import run as due_run
from sla_dsl.evaluation.replay import PENDING, STOPPED

from .conftest import ROOT

POLICY = str(ROOT / "policies" / "company-x.sla")
HISTORY = str(ROOT / "examples" / "company-x" / "history.csv")
AS_OF = "2026-04-03T17:10"  # the policy's timezone: 21:10Z


@pytest.fixture(scope="module")
def report() -> sla_dsl.Report:
    policy = sla_dsl.load_policy(POLICY)
    history = sla_dsl.load_history(HISTORY, policy=policy)
    return sla_dsl.evaluate(policy, history, as_of=AS_OF, include_leads=False)


@pytest.fixture(scope="module")
def items(report) -> dict[str, dict]:
    return {item["key"]: item for item in report.due().document["items"]}


def run(capsys: pytest.CaptureFixture, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["due", POLICY, "--history", HISTORY, *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_hot_first_touch_due_across_the_evening_closing(items):
    item = items["L0000398/hot/first touch"]
    assert item["state"] == "due" and item["owner"] == "chen" and item["party"] == "sales"
    assert item["due_at"] == "2026-04-04T10:49:52-04:00"
    assert item["started_at"] == "2026-04-03T16:49:52-04:00"
    assert item["business_time"] is True
    assert item["left_seconds"] == 49 * 60 + 52
    assert item["left"] == "49 minutes of business time left"
    assert [(a["action"], a["to"], a["at"]) for a in item["actions"]] == [
        ("warn", None, "2026-04-04T10:34:52-04:00"),
        ("strike", None, "2026-04-04T10:49:52-04:00"),
        ("escalate", "sales manager", "2026-04-04T11:19:52-04:00"),
        ("reassign", None, "2026-04-04T12:49:52-04:00"),
    ]
    assert item["actions"][0]["percent"] == 75.0


def test_a_small_first_touch_due_across_the_weekend(items):
    item = items["L0000399/small/first touch"]
    assert item["state"] == "due" and item["owner"] == "bob"
    assert item["due_at"] == "2026-04-06T10:00:00-04:00"
    assert item["left_seconds"] == 5 * 3600
    assert item["left"] == "5 hours of business time left"
    # only the warning fires within the 24 hours; the escalation and the strike come Monday
    assert [(a["action"], a["at"]) for a in item["actions"]] == [
        ("warn", "2026-04-04T13:45:00-04:00")]


def test_an_overdue_clock_still_not_done_with_its_reassignment_to_come(items):
    item = items["L0000390/small/first touch"]
    assert item["state"] == "overdue" and item["owner"] == "alice"
    assert item["due_at"] == "2026-04-03T15:24:10-04:00"
    assert item["left_seconds"] == -(3600 + 35 * 60 + 50)
    assert item["left"] == "overdue by 1 hour 35 minutes of business time"
    assert [(a["action"], a["at"]) for a in item["actions"]] == [
        ("reassign", "2026-04-04T10:24:10-04:00")]


def test_most_urgent_first_overdue_before_due(report):
    listed = report.due().document["items"]
    states = [item["state"] for item in listed]
    assert states == sorted(states, key=lambda s: s != "overdue")
    instants = [dt.datetime.fromisoformat(item["due_at"]) for item in listed]
    assert instants == sorted(instants)
    keys = [item["key"] for item in listed]
    assert keys.index("L0000398/hot/first touch") < keys.index("L0000399/small/first touch")


def test_the_list_agrees_with_the_evaluation(report):
    """Every pending clock with a due time is listed as due; none is left out or added."""
    due = report.due()
    pending = sum(int(((r.status == PENDING) & (r.due != STOPPED)).sum())
                  for r in report.evaluation.clauses if r.clause != "threshold")
    assert due.document["counts"]["due"] == pending
    every = report.due(overdue="all").document["counts"]
    assert every["overdue_not_listed"] == 0
    recent = due.document["counts"]
    assert every["overdue"] == recent["overdue"] + recent["overdue_not_listed"]
    assert report.due(overdue="none").document["counts"]["overdue"] == 0


def test_a_shorter_window_keeps_the_clocks_and_drops_later_actions(report):
    item = {i["key"]: i for i in report.due(within_hours=1).document["items"]}[
        "L0000398/hot/first touch"]
    assert item["actions"] == []  # Friday 18:10 comes before Saturday's opening
    assert len(report.due(within_hours=1)) >= len(report.due(within_hours=24)) - 3


def test_json_shape_for_a_webhook_sender(capsys):
    code, out, _ = run(capsys, "--as-of", AS_OF, "--format", "json")
    assert code == 0
    doc = json.loads(out)
    assert set(doc) == {"format", "policy", "timezone", "as_of", "as_of_source", "within_hours",
                        "window_end", "overdue_listed", "counts", "items"}
    assert doc["format"] == 1 and doc["as_of_source"] == "given"
    assert doc["as_of"] == "2026-04-03T17:10:00-04:00"
    assert doc["window_end"] == "2026-04-04T17:10:00-04:00" and doc["within_hours"] == 24.0
    assert set(doc["counts"]) == {"due", "overdue", "overdue_not_listed", "paused"}
    assert len(doc["items"]) == doc["counts"]["due"] + doc["counts"]["overdue"]
    for item in doc["items"]:
        assert set(item) == {"key", "state", "lead_id", "handoff", "clause", "wording", "party",
                             "owner", "zone", "zone_source", "started_at", "due_at",
                             "business_time", "left_seconds", "left", "actions"}
        assert item["state"] in ("due", "overdue")
        assert (item["left_seconds"] < 0) == (item["state"] == "overdue")
        assert item["due_at"][-6] in "+-" and item["zone_source"] == "policy"
        for action in item["actions"]:
            assert set(action) == {"action", "to", "percent", "at"}
            assert doc["as_of"] < action["at"] <= doc["window_end"]


def test_the_library_and_the_command_agree(report, capsys):
    _, out, _ = run(capsys, "--as-of", AS_OF, "--format", "json")
    assert json.loads(out) == report.due().document
    _, text, _ = run(capsys, "--as-of", AS_OF)
    assert text == report.due().text()


def test_text_for_the_morning(capsys):
    code, out, _ = run(capsys, "--as-of", AS_OF)
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == ("Company X: marketing and sales: due list as of Fri 2026-04-03 17:10 EDT "
                        "(as given)")
    assert "times in America/New_York (the policy's timezone)" in lines
    at = lines.index("  Sat 2026-04-04 10:49 EDT  49 minutes of business time left")
    assert lines[at + 1].split() == ["L0000398", "hot:", "first", "touch", "within", "1",
                                     "business", "hour", "owner", "chen"]
    assert lines[at + 2] == ("    warn at 75% Sat 2026-04-04 10:34 EDT; strike owner Sat "
                             "2026-04-04 10:49 EDT; escalate to sales manager Sat 2026-04-04 "
                             "11:19 EDT; reassign Sat 2026-04-04 12:49 EDT")
    assert lines.index(next(x for x in lines if x.startswith("overdue:"))) > at


def test_owner_zone_moves_the_instants_into_the_reps_time(capsys):
    code, out, _ = run(capsys, "--as-of", AS_OF, "--format", "json",
                       "--owner-zone", "chen=America/Los_Angeles")
    assert code == 0
    items = {i["key"]: i for i in json.loads(out)["items"]}
    item = items["L0000398/hot/first touch"]
    assert item["zone"] == "America/Los_Angeles" and item["zone_source"] == "owner"
    assert item["due_at"] == "2026-04-04T07:49:52-07:00"
    assert item["actions"][0]["at"] == "2026-04-04T07:34:52-07:00"
    assert items["L0000399/small/first touch"]["zone_source"] == "policy"


def test_csv_for_a_crm_import(capsys, tmp_path):
    target = tmp_path / "due.csv"
    code, out, _ = run(capsys, "--as-of", AS_OF, "--format", "csv", "-o", str(target))
    assert code == 0 and out == ""
    lines = target.read_text(encoding="utf-8").splitlines()
    assert lines[0] == ("key,state,lead_id,handoff,clause,owner,party,due_at,zone,business_time,"
                        "left_seconds,left,next_action,next_action_at,actions")
    row = next(line for line in lines if line.startswith("L0000399/small/first touch,"))
    assert row.split(",")[:13] == ["L0000399/small/first touch", "due", "L0000399", "small",
                                   "first touch", "bob", "sales", "2026-04-06T10:00:00-04:00",
                                   "America/New_York", "true", "18000",
                                   "5 hours of business time left", "warn at 75%"]


def test_csv_cells_a_spreadsheet_would_run_are_neutralised(tmp_path, capsys):
    history = tmp_path / "history.csv"
    history.write_text(
        "lead_id,at,event,actor,score,title\n"
        "=HYPERLINK(\"x\"),2026-04-06T13:00:00Z,created,,50,CEO\n"
        "=HYPERLINK(\"x\"),2026-04-06T13:05:00Z,handoff,marketing,,\n"
        "=HYPERLINK(\"x\"),2026-04-06T13:06:00Z,assigned,@evil,,\n", encoding="utf-8")
    capsys.readouterr()
    code = main(["due", POLICY, "--history", str(history), "--as-of", "2026-04-06T09:30",
                 "--format", "csv"])
    out = capsys.readouterr().out
    assert code == 0
    row = out.splitlines()[1]
    assert row.startswith("\"'=HYPERLINK(\"\"x\"\")/")
    assert ",'@evil," in row


def test_an_empty_due_list(capsys):
    code, out, _ = run(capsys, "--as-of", "2026-01-01T00:00", "--format", "json")
    assert code == 0
    doc = json.loads(out)
    assert doc["items"] == [] and doc["counts"] == {"due": 0, "overdue": 0,
                                                    "overdue_not_listed": 0, "paused": 0}
    code, out, _ = run(capsys, "--as-of", "2026-01-01T00:00")
    assert "due: no clocks" in out.splitlines()
    # by default the as-of time is the history's latest event (a won in May): nothing is due
    code, out, _ = run(capsys, "--format", "json", "--overdue", "none")
    doc = json.loads(out)
    assert code == 0 and doc["as_of_source"] == "latest event" and doc["items"] == []
    assert doc["as_of"] == "2026-05-27T15:29:52-04:00"


@pytest.mark.parametrize(("option", "value", "says"), [
    ("--within", "soon", "--within 'soon' is not a number of hours"),
    ("--within", "-1", "must be a number of hours from 0 to 8784"),
    ("--within", "nan", "is not a number of hours"),
    ("--within", "100000", "must be a number of hours from 0 to 8784"),
    ("--as-of", "yesterday", "--as-of 'yesterday' is not a date and time"),
    # what a history row refuses, the as-of time refuses too (one grammar of a time)
    ("--as-of", "20260302", "--as-of '20260302' is not a date and time"),
    ("--as-of", "2026-W10", "--as-of '2026-W10' is not a date and time"),
    ("--as-of", "2026-02-30", "--as-of '2026-02-30' is not a date and time: 2026-02 has no "
                              "day 30"),
    ("--as-of", "2300-01-01", "is outside the supported times"),
    ("--owner-zone", "chen", "--owner-zone takes NAME=ZONE"),
    ("--owner-zone", "chen=Mars/Olympus", "unknown timezone 'Mars/Olympus' for 'chen'"),
])
def test_bad_options_exit_2_with_a_helpful_message(capsys, option, value, says):
    code, out, err = run(capsys, option, value)
    assert code == 2 and out == ""
    assert says in err and "help:" in err


def test_as_of_now_reads_the_clock(capsys):
    code, out, _ = run(capsys, "--as-of", "now", "--format", "json", "--overdue", "none")
    assert code == 0 and json.loads(out)["as_of_source"] == "now"


def test_the_library_rejects_a_bad_window(report):
    with pytest.raises(ValueError, match="number of hours"):
        report.due(within_hours=-5)
    with pytest.raises(ValueError, match="overdue must be one of"):
        report.due(overdue="some")
    with pytest.raises(ValueError, match="unknown timezone"):
        report.due(owner_zones={"chen": "Nowhere/City"})


DOC = (ROOT / "docs" / "due.md").read_text(encoding="utf-8")


def _doc_commands() -> list[list[str]]:
    """Each `sla due …` command of docs/due.md (bash, cron and YAML blocks), as arguments."""
    import shlex

    joined = re.sub(r"\$\{\{.*?\}\}", "24", re.sub(r"\n\s+--within", " --within", DOC))
    commands = []
    for found in re.finditer(r"sla due [^|&;`\n]*", joined):
        text = found.group(0).replace("$(date +\\%F)", "2026-04-03")
        commands.append(shlex.split(text)[1:])
    return commands


@pytest.mark.parametrize("command", _doc_commands(), ids=" ".join)
def test_every_sla_due_command_of_the_page_parses(command):
    args = build_parser().parse_args(command)
    assert args.run is due_run


def test_the_page_runs_due_every_5_minutes_and_every_morning():
    import yaml  # a test dependency, as in test_ci_doc

    (workflow,) = re.findall(r"```yaml\n(.*?)```", DOC, re.DOTALL)
    crons = [entry["cron"] for entry in yaml.safe_load(workflow)[True]["schedule"]]
    assert crons == ["*/5 * * * *", "0 11 * * 1-6"]
    (crontab,) = re.findall(r"```cron\n(.*?)```", DOC, re.DOTALL)
    lines = [line for line in crontab.splitlines() if line and not line.startswith("#")]
    assert [line.split()[:5] for line in lines] == [["*/5", "*", "*", "*", "*"],
                                                   ["0", "7", "*", "*", "1-6"]]
    assert len(_doc_commands()) >= 4


def test_the_page_s_list_is_an_excerpt_of_what_the_command_prints(report):
    """Each run of lines between the shown list's `  ...` is a run of the real list's lines, in
    the real order: an excerpt may leave lines out only where it says so."""
    (shown,) = re.findall(r"```\n(Company X: .*?)```", DOC, re.DOTALL)
    real = report.due().text().splitlines()
    runs = [run.strip("\n").splitlines() for run in re.split(r"^  \.\.\.$", shown, flags=re.M)]
    assert len(runs) >= 3
    start = 0
    for lines in runs:
        found = [i for i in range(start, len(real)) if real[i:i + len(lines)] == lines]
        assert found, f"not in the real list after line {start}: {lines}"
        start = found[0] + len(lines)


def test_the_page_s_json_is_the_shape_the_command_prints(report):
    (shown,) = re.findall(r"```json\n(.*?)```", DOC, re.DOTALL)
    doc = json.loads(shown)
    real = report.due().document
    assert set(doc) == set(real) and set(doc["counts"]) == set(real["counts"])
    assert doc["counts"] == real["counts"]
    item = {i["key"]: i for i in real["items"]}[doc["items"][0]["key"]]
    assert doc["items"][0] == item


def test_sla_evaluate_due_is_sla_due(capsys):
    capsys.readouterr()
    assert main(["evaluate", POLICY, "--history", HISTORY, "--as-of", AS_OF, "--due",
                 "--format", "json"]) == 0
    through_evaluate = capsys.readouterr().out
    assert run(capsys, "--as-of", AS_OF, "--format", "json")[1] == through_evaluate
    assert main(["evaluate", POLICY, "--history", HISTORY, "--due", "--explain", "L0000398"]) == 2
    assert "--due prints the due list only" in capsys.readouterr().err


def test_a_paused_clock_is_counted_and_a_resumed_one_moves_its_due_time(tmp_path, capsys):
    """inbound-desk.sla (Europe/Amsterdam, open mon-fri 08:00-18:00, `first touch within 4
    business hours`, `pause while status == "on hold"`). A handed off Monday 2026-04-06 09:05
    and put on hold at 09:30 has no due time while the hold lasts; B, on hold from 09:30 to
    11:00, gets its 1 h 30 min back: due 13:05 + 1:30 = 14:35, with 2 h 35 min left at 12:00."""
    history = tmp_path / "history.csv"
    history.write_text(
        "lead_id,at,event,actor,status\n"
        "A,2026-04-06T09:00,created,,\nA,2026-04-06T09:05,handoff,marketing,\n"
        "A,2026-04-06T09:30,updated,,on hold\n"
        "B,2026-04-06T09:00,created,,\nB,2026-04-06T09:05,handoff,marketing,\n"
        "B,2026-04-06T09:30,updated,,on hold\nB,2026-04-06T11:00,updated,,open\n",
        encoding="utf-8")
    capsys.readouterr()
    code = main(["due", str(ROOT / "policies" / "inbound-desk.sla"), "--history", str(history),
                 "--as-of", "2026-04-06T12:00", "--format", "json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0 and doc["counts"]["paused"] == 2  # A's first touch and touches
    items = {i["key"]: i for i in doc["items"]}
    assert not [key for key in items if key.startswith("A/")]
    item = items["B/every lead/first touch"]
    assert item["due_at"] == "2026-04-06T14:35:00+02:00" and item["owner"] is None
    assert item["left"] == "2 hours 35 minutes of business time left"
    capsys.readouterr()
    main(["due", str(ROOT / "policies" / "inbound-desk.sla"), "--history", str(history),
          "--as-of", "2026-04-06T12:00"])
    text = capsys.readouterr().out
    assert "    B  every lead: first touch within 4 business hours  owner no owner yet (sales)" \
        in text.splitlines()
    assert "paused: 2 clocks with no due time until the pause ends" in text


def test_an_empty_history_lists_nothing_and_says_why(tmp_path, capsys):
    history = tmp_path / "history.csv"
    history.write_text("lead_id,at,event,actor\n", encoding="utf-8")
    capsys.readouterr()
    assert main(["due", POLICY, "--history", str(history), "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["as_of_source"] == "no events" and doc["items"] == []
    # no instant to list as of: it read 1970-01-01 01:00 CET, a window to the next day
    assert doc["as_of"] is None and doc["window_end"] is None
    assert main(["due", POLICY, "--history", str(history)]) == 0
    assert capsys.readouterr().out == ("Company X: marketing and sales: the history has no "
                                       "events, so no clock is open\n")
    assert main(["due", POLICY, "--history", str(history), "--format", "csv"]) == 0
    assert capsys.readouterr().out.count("\n") == 1  # the header alone


def test_overdue_none_says_every_breached_clock_is_left_out(report):
    # with --overdue none, the clocks left out are the recent breaches too, not "earlier" ones
    none, recent = report.due(overdue="none"), report.due()
    left = none.document["counts"]["overdue_not_listed"]
    assert left == recent.document["counts"]["overdue"] \
        + recent.document["counts"]["overdue_not_listed"]
    assert f"({left} clocks breached and still not done are not listed" in none.text()
    assert "breached earlier and still not done" in recent.text()


def test_the_due_list_reads_a_salesforce_export_through_the_preset(capsys):
    """`sla due --preset salesforce` (and `sla evaluate --due`, which is it) lists what the same
    leads written directly as events list; the owners' zones come from the export's users."""
    policy = str(ROOT / "policies" / "inbound-desk.sla")
    export = [str(ROOT / "examples" / "salesforce" / f"{name}.csv")
              for name in ("Lead", "LeadHistory", "Task", "Event", "User")]
    assert main(["due", policy, "--preset", "salesforce", "--history", *export,
                 "--format", "json", "-q"]) == 0
    through_preset = json.loads(capsys.readouterr().out)
    assert main(["evaluate", policy, "--due", "--preset", "salesforce", "--history", *export,
                 "--format", "json", "-q"]) == 0
    assert json.loads(capsys.readouterr().out) == through_preset
    assert main(["due", policy, "--history",
                 str(ROOT / "examples" / "salesforce" / "events" / "history.csv"),
                 "--format", "json", "-q"]) == 0
    as_events = json.loads(capsys.readouterr().out)
    assert through_preset["items"], "the export has open clocks"
    assert {item["zone_source"] for item in through_preset["items"]} == {"owner"}
    for item in [*through_preset["items"], *as_events["items"]]:
        item.pop("zone_source")
    assert through_preset == as_events


def test_a_clock_due_at_the_as_of_time_itself_is_overdue_not_time_left(tmp_path, capsys):
    """Handed off Monday 10:00 Amsterdam time, `first touch within 4 business hours` is due
    14:00; at 14:00 with no touch the clock is breached (listed overdue), and said so, not as
    "0 minutes of business time left"."""
    history = tmp_path / "history.csv"
    history.write_text("lead_id,at,event,actor\nB,2026-03-02T10:00,created,\n"
                       "B,2026-03-02T10:00,handoff,marketing\n")
    assert main(["due", str(ROOT / "policies" / "inbound-desk.sla"), "--history", str(history),
                 "--as-of", "2026-03-02T14:00"]) == 0
    overdue = capsys.readouterr().out.split("\noverdue:")[1]
    assert "Mon 2026-03-02 14:00 CET  due at the as-of time, not done" in overdue
    assert "0 minutes" not in overdue
