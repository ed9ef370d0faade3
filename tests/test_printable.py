"""A CRM's values that hold terminal controls are shown as escapes in the text reports, never
obeyed by the terminal, and kept as they were in the data formats."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

from sla_dsl.cli import main
from sla_dsl.printable import printable

ROOT = Path(__file__).resolve().parent.parent
POLICY = ROOT / "policies" / "inbound-desk.sla"

CLEAR = "\x1b[2J"  # clears the screen
RED = "\x1b[31m"
TITLE = "\x1b]0;owned\x07"  # retitles the terminal's window
REVERSE = "\u202e"  # right-to-left override: what follows reads backwards
LEAD = f"L1{CLEAR}"
OWNER = f"rep{RED}{REVERSE}x"
OBEYED = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


@pytest.fixture
def history(tmp_path: Path) -> Path:
    path = tmp_path / "history.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([
            ["lead_id", "at", "event", "actor"],
            [LEAD, "2026-03-02T09:00:00Z", "created", ""],
            [LEAD, "2026-03-02T09:10:00Z", "handoff", OWNER],
            ["L2", f"2026-03-0{RED}2T09:10:00Z", "handoff", "rep"],
            ["L3", "2026-03-02T09:10:00Z", f"hand{TITLE}off", "rep"],
            [LEAD, "2026-03-09T09:10:00Z", "touch", OWNER],
        ])
    return path


def run(capsys, *argv: object) -> tuple[int, str, str]:
    try:
        code = main([str(arg) for arg in argv])
    except SystemExit as exit_:
        code = exit_.code
    out, err = capsys.readouterr()
    return code, out, err


def test_printable_names_each_control_and_leaves_other_text_alone():
    assert printable(f"{LEAD}\t{OWNER}\r") == "L1\\x1b[2J\\trep\\x1b[31m\\u202ex\\r"
    assert printable("\x00\x7f\x9b") == "\\x00\\x7f\\x9b"
    text = "Zoë Müller, 東京 desk, اليوم\n  next line\n"
    assert printable(text) == text


def test_the_text_report_and_the_rejected_rows_show_the_escapes(capsys, history):
    code, out, err = run(capsys, "evaluate", POLICY, "--history", history, "-q")
    assert code == 0
    assert not OBEYED.search(out) and not OBEYED.search(err)
    assert "L1\\x1b[2J " in out  # the latest breaches
    assert "rep\\x1b[31m\\u202ex " in out  # the owners with the most breaches
    assert ("history.csv:3: rejected: time '2026-03-0\\x1b[31m2T09:10:00Z' is not a date "
            "and time") in err
    assert "history.csv:4: rejected: unknown event 'hand\\x1b]0;owned\\x07off'" in err


def test_the_json_report_keeps_the_values_as_they_were(capsys, history):
    code, out, _ = run(capsys, "evaluate", POLICY, "--history", history, "-q",
                       "--format", "json")
    assert code == 0
    leads = json.loads(out)["leads"]
    assert [lead["lead_id"] for lead in leads] == [LEAD]
    assert leads[0]["owner"] == OWNER


def test_the_clock_audit_and_the_due_list_show_the_escapes(capsys, history):
    code, out, _ = run(capsys, "evaluate", POLICY, "--history", history, "-q",
                       "--explain", LEAD)
    assert code == 0 and not OBEYED.search(out)
    assert out.startswith("clock audit of lead L1\\x1b[2J: Inbound desk\n")
    assert "owner rep\\x1b[31m\\u202ex\n" in out
    code, out, err = run(capsys, "due", POLICY, "--history", history, "--overdue", "all")
    assert code == 0 and not OBEYED.search(out) and not OBEYED.search(err)
    assert "L1\\x1b[2J  every lead: touches" in out


def test_a_diagnostic_shows_a_carriage_return_in_the_policy_as_what_it_is(tmp_path, capsys):
    # printed as it was, the CR sent the terminal back to the start of the line: the message
    # read "rope/Amsterdam'" and the caret pointed under the wrong text
    path = tmp_path / "p.sla"
    path.write_bytes(b'sla "x"\ntimezone "Eu\rrope/Amsterdam"\n')
    assert main(["check", str(path)]) == 1
    out = capsys.readouterr().out
    assert "\r" not in out
    assert "unknown timezone 'Eu\\rrope/Amsterdam'" in out
    line, caret = [row for row in out.splitlines() if row.startswith(("2 |", "  |"))][1:3]
    assert line == '2 | timezone "Eu\u240drope/Amsterdam"'
    assert caret.index("^") == line.index('"')  # the caret under the string it means
