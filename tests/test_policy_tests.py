"""`sla test`: policy test cases, run through the real evaluator on the shipped policies."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from sla_dsl.ci.policy_tests import (
    Policies,
    coverage,
    default_policy,
    find_cases,
    run_case,
    run_cases,
)
from sla_dsl.ci.toml_lines import TomlLines
from sla_dsl.cli import main
from sla_dsl.history.read import history_from_rows, load_history
from tests.conftest import ROOT

POLICIES = ROOT / "policies"
INBOUND = POLICIES / "inbound-desk.sla"
FRIDAY = POLICIES / "tests" / "inbound-desk" / "friday-evening.toml"
HISTORY = ROOT / "examples" / "company-x" / "history.csv"


def run(capsys, *args: str) -> tuple[int, str, str]:
    try:
        code = main(["test", *args])
    except SystemExit as exit:  # argparse's own usage errors
        code = exit.code
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def desk(tmp_path: Path) -> Path:
    """A copy of the inbound desk policy with an empty tests/inbound-desk/ beside it."""
    shutil.copy(INBOUND, tmp_path / "inbound-desk.sla")
    (tmp_path / "tests" / "inbound-desk").mkdir(parents=True)
    return tmp_path


def write_case(desk: Path, name: str, text: str) -> Path:
    path = desk / "tests" / "inbound-desk" / name
    path.write_text(text, encoding="utf-8")
    return path


CASE_HEAD = '''name = "a small case"
as_of = 2026-03-16T09:00:00
events = """
lead_id,at,event,actor
L1,2026-03-06T17:00,handoff,marketing
L1,2026-03-09T10:30,touch,eva
"""
'''


# ============================================================================ the shipped cases


@pytest.fixture(scope="module")
def shipped():
    found = find_cases([str(POLICIES)])
    policies = Policies()
    return found, [run_case(path, policies) for path in found.cases], policies


def test_the_shipped_cases_pass(shipped):
    _, results, _ = shipped
    assert len(results) >= 12
    failing = {str(r.path): [p.message for p in r.problems] for r in results
               if r.outcome != "passed"}
    assert failing == {}


@pytest.mark.parametrize("name", ["company-x", "inbound-desk", "fusion"])
def test_the_shipped_cases_cover_every_clause(shipped, name):
    _, results, policies = shipped
    cov = coverage(POLICIES / f"{name}.sla", results, policies)
    assert [item.label for item in cov.items if not item.asserted] == []
    assert cov.percent == 100.0
    clauses = [item for item in cov.items if item.key[0] == "clause"]
    # a met and a breached lead for every clause of the three policies
    assert all({"met", "breached"} <= item.asserted for item in clauses), [
        (item.label, item.asserted) for item in clauses]


def test_a_directory_stands_for_the_tests_beside_its_policies(shipped):
    found, _, _ = shipped
    assert POLICIES / "company-x.sla" in found.policies
    assert all(path.suffix == ".toml" and "tests" in path.parts for path in found.cases)
    assert {path.parent.name for path in found.cases} >= {"company-x", "inbound-desk", "fusion"}
    assert default_policy(FRIDAY) == INBOUND


def test_the_cli_passes_on_the_shipped_policies(capsys):
    """docs/testing.md's `sla test policies/ --coverage --fail-under 100`, as CI would run it."""
    code, out, err = run(capsys, str(POLICIES), "--coverage", "--fail-under", "100")
    assert code == 0, out + err
    assert "PASS  " in out and "FAIL" not in out and "ERROR" not in out
    assert "coverage of " + str(POLICIES / "fusion.sla") + ": 15 of 15 clauses" in out
    assert "0 failed, 0 errors" in out


def test_a_policy_file_stands_for_its_own_cases(capsys):
    code, out, _ = run(capsys, str(INBOUND))
    assert code == 0
    assert out.count("PASS") == len(list((POLICIES / "tests" / "inbound-desk").glob("*.toml")))


# ============================================================================ failures


def test_a_failed_expectation_shows_line_expected_and_got(capsys, desk):
    text = FRIDAY.read_text(encoding="utf-8").replace(
        'status = "met"\ndue = 2026-03-09T11:00:00', 'status = "breached"\ndue = '
        '2026-03-09T11:15:00')
    case = write_case(desk, "late.toml", text)
    line = text.split("\n").index("[[expect]]", text.split("\n").index('"""', 5)) + 1
    code, out, _ = run(capsys, str(desk))
    assert code == 1
    assert f"FAIL  {case}: handed off on Friday evening" in out
    assert (f"{case}:{line}: L1 first touch (every lead): expected breached, got met; expected "
            f"due 2026-03-09 11:15+01:00, got 2026-03-09 11:00+01:00") in out
    assert "1 case: 0 passed, 1 failed, 0 errors" in out


def test_a_consequence_that_does_not_happen_fails(capsys):
    source = POLICIES / "tests" / "company-x" / "hot-friday-evening.toml"
    text = source.read_text(encoding="utf-8").replace(
        'action = "escalate"\nstatus = "none"', 'action = "escalate"\nstatus = "fired"')
    case = source.parent / "probe-not-shipped.toml"
    try:
        case.write_text(text, encoding="utf-8")
        result = run_case(case, Policies())
    finally:
        case.unlink()
    assert result.outcome == "failed"
    [problem] = result.problems
    assert problem.message == ("H1 first touch: expected escalate fired; got warn fired at "
                               "2026-03-07 10:15-05:00")


# ============================================================================ case errors


def test_mistakes_in_a_case_are_errors_with_lines_and_fixes(capsys, desk):
    case = write_case(desk, "typos.toml", CASE_HEAD + '''
[[expect]]
lead = "L2"
clause = "first touch"
status = "met"

[[expect]]
lead = "L1"
clause = "touchs"
status = "breech"
colour = "red"
''')
    code, out, err = run(capsys, str(case))
    assert code == 2
    assert "Traceback" not in out + err
    assert f"ERROR {case}: a small case" in out
    assert f"{case}:10: [[expect]] 1: no lead 'L2' in the case's events" in out
    assert "help: the leads are 'L1'" in out
    assert f"{case}:16: [[expect]] 2: the policy has no clause 'touchs'" in out
    assert "help: did you mean 'touches'?" in out
    assert f"{case}:17: [[expect]] 2: unknown status 'breech'" in out
    assert "did you mean 'breached'?" in out
    assert f"{case}:18: [[expect]] 2: unknown key 'colour'" in out


@pytest.mark.parametrize(("text", "line", "message"), [
    ('name = "x\n', 1, "not valid TOML"),
    (CASE_HEAD.replace("L1,2026-03-09T10:30", "L1,2026-03-32T10:30")
     + '[[expect]]\nlead = "L1"\nclause = "first touch"\nstatus = "met"\n',
     6, "event rejected: time '2026-03-32T10:30' is not a date and time: 2026-03 has no day 32"),
    (CASE_HEAD.replace("handoff,marketing", "handoff,marketing,extra")
     + '[[expect]]\nlead = "L1"\nclause = "first touch"\nstatus = "met"\n',
     5, "the event has 5 values; the header has 4 columns"),
    (CASE_HEAD + '[[expect]]\nlead = "L1"\nclause = "when"\nstatus = "met"\n',
     10, "the handoff's `when` line is the clause 'threshold'"),
    (CASE_HEAD + '[[expect]]\nlead = "L1"\nhandoff = "hot"\n',
     10, "the policy has no handoff 'hot'"),
    (CASE_HEAD + '[[expect]]\nlead = "L1"\nclause = "first touch"\nstatus = "met"\n'
     'due = "Monday"\n', 12, "`due`: time 'Monday' is not a date and time"),
    (CASE_HEAD + '[[consequence]]\nlead = "L1"\nclause = "first touch"\naction = "warn"\n',
     10, "the policy has no `on breach of first touch` block"),
    (CASE_HEAD + 'expcet = 1\n', 8, "unknown key 'expcet'"),
    (CASE_HEAD, None, "the case expects nothing"),
    ('[[expect]]\nlead = "L1"\n', None, "the case has no events"),
    # a wall time in year 1 or 9999 has no instant (OverflowError, exit 70)
    (CASE_HEAD.replace("2026-03-16T09:00:00", "0001-01-01T00:00:00")
     + '[[expect]]\nlead = "L1"\nclause = "first touch"\nstatus = "met"\n', 2,
     "`as_of`: 0001-01-01 00:00:00 is outside the supported times, 1900-01-01 to 2200-12-31"),
    (CASE_HEAD.replace("2026-03-16T09:00:00", "2300-01-01")
     + '[[expect]]\nlead = "L1"\nclause = "first touch"\nstatus = "met"\n', 2,
     "`as_of`: 2300-01-01 is outside the supported times"),
    (CASE_HEAD + '[[expect]]\nlead = "L1"\nclause = "first touch"\nstatus = "met"\n'
     'due = 0001-01-01T00:00:00\n', 12, "`due`: 0001-01-01 00:00:00 is outside the supported"),
    # a preset or a zone of inline events was never read: a typo in it passed
    ('preset = "salesfroce"\n' + CASE_HEAD
     + '[[expect]]\nlead = "L1"\nclause = "first touch"\nstatus = "met"\n', 1,
     "`preset` is for the files of `history`: inline events are in the product's own layout"),
    ('timezone = "Europe/Amsterdan"\n' + CASE_HEAD
     + '[[expect]]\nlead = "L1"\nclause = "first touch"\nstatus = "met"\n', 1,
     "`timezone` is for the files of `history`"),
], ids=["toml", "bad-time", "short-row", "when", "handoff", "due", "no-block", "key",
        "nothing", "no-events", "as-of-year-1", "as-of-2300", "due-year-1", "preset-inline",
        "timezone-inline"])
def test_each_kind_of_mistake_is_located(desk, text, line, message):
    case = write_case(desk, "mistake.toml", text)
    result = run_case(case, Policies())
    assert result.outcome == "error"
    assert [(p.line, p.message) for p in result.problems if message in p.message] == [
        (line, next(p.message for p in result.problems if message in p.message))]


def test_a_policy_that_does_not_check_is_an_error_not_a_traceback(capsys, tmp_path):
    (tmp_path / "broken.sla").write_text(
        INBOUND.read_text(encoding="utf-8").replace("to sales", "to salez"), encoding="utf-8")
    case = tmp_path / "case.toml"
    case.write_text('policy = "broken.sla"\n' + CASE_HEAD
                    + '[[expect]]\nlead = "L1"\nclause = "first touch"\nstatus = "met"\n',
                    encoding="utf-8")
    code, out, err = run(capsys, str(case))
    assert code == 2
    assert f"{case}:1: the policy {tmp_path / 'broken.sla'} does not check" in out
    assert "party 'salez' is used" in out
    assert "Traceback" not in out + err


def test_a_case_outside_tests_must_name_its_policy(tmp_path):
    case = tmp_path / "loose.toml"
    case.write_text(CASE_HEAD, encoding="utf-8")
    [problem] = run_case(case, Policies()).problems
    assert problem.message == "the case does not say which policy it tests"


@pytest.mark.parametrize(("args", "message"), [
    (["/nonexistent/cases"], "no such file or directory"),
    (["--fail-under", "ninety", "policies"], "is not a percentage"),
])
def test_usage_errors_exit_2(capsys, args, message):
    code, _, err = run(capsys, *args)
    assert code == 2
    assert message in err


def test_a_directory_without_cases_is_a_usage_error(capsys, tmp_path):
    shutil.copy(INBOUND, tmp_path / "inbound-desk.sla")
    code, _, err = run(capsys, str(tmp_path))
    assert code == 2
    assert "no test cases found" in err


# ============================================================================ the case format


def test_events_as_tables_read_like_the_csv_text(desk):
    tables = '''name = "tables"
as_of = 2026-03-16T09:00:00

[[events]]
lead_id = "L1"
at = 2026-03-06T17:00:00
event = "handoff"
actor = "marketing"

[[events]]
lead_id = "L1"
at = 2026-03-09T10:30:00+01:00
event = "touch"
actor = "eva"

[[expect]]
lead = "L1"
clause = "first touch"
status = "met"
due = 2026-03-09T11:00:00
at = 2026-03-09T10:30:00
'''
    assert run_case(write_case(desk, "tables.toml", tables), Policies()).outcome == "passed"
    broken = tables.replace("at = 2026-03-09T10:30:00+01:00\n", 'at = "yesterday"\n')
    result = run_case(write_case(desk, "bad.toml", broken), Policies())
    assert [(p.line, p.message.split(":")[0]) for p in result.problems] == [
        (10, "event rejected")]


def test_a_history_file_is_read_like_sla_evaluate_reads_it(tmp_path):
    """Expectations against the example quarter: the values `sla evaluate` reports."""
    case = tmp_path / "quarter.toml"
    case.write_text(f'''policy = "{POLICIES / 'company-x.sla'}"
history = "{HISTORY}"

[[expect]]
lead = "L0000000"
handoff = "hot"
clause = "first touch"
status = "breached"
due = 2026-01-05T12:05:02-05:00
at = "none"

[[expect]]
lead = "L0000002"
handoff = "small"
clause = "touches"
status = "met"
at = 2026-01-06T13:13:33-05:00

[[consequence]]
lead = "L0000000"
clause = "first touch"
action = "escalate"
to = "sales manager"
at = 2026-01-05T12:35:02-05:00
status = "fired"
''', encoding="utf-8")
    result = run_case(case, Policies())
    assert (result.outcome, result.problems) == ("passed", [])


def test_history_from_rows_reads_like_the_file_reader(tmp_path):
    rows = [{"lead_id": "L1", "at": "2026-03-06T17:00", "event": "handoff", "score": "80"},
            {"lead_id": "L1", "at": "2026-03-09 10:30+01:00", "event": "touch", "score": None},
            {"lead_id": "L2", "at": "2026-03-08T02:30", "event": "created", "score": "5"},
            {"lead_id": "L2", "at": "not a time", "event": "touch", "score": None}]
    csv = tmp_path / "rows.csv"
    csv.write_text("lead_id,at,event,score\n" + "\n".join(
        ",".join(row[k] or "" for k in ("lead_id", "at", "event", "score")) for row in rows)
        + "\n", encoding="utf-8")
    inline = history_from_rows(rows, timezone="America/New_York", source="case.toml")
    read = load_history([csv], timezone="America/New_York")
    for name in ("lead", "at", "event", "row"):
        assert np.array_equal(getattr(inline, name), getattr(read, name)), name
    assert list(inline.lead_ids) == list(read.lead_ids)
    assert list(inline.fields["score"]) == list(read.fields["score"])
    assert [(r.row, r.reason) for r in inline.rejects] == [(r.row, r.reason)
                                                           for r in read.rejects]
    assert inline.rejects[0].source == "case.toml"


def test_toml_lines_finds_keys_of_array_tables_and_skips_strings():
    lines = TomlLines('''name = "x"
events = """
[[expect]]
lead = "not a key"
"""

[[expect]]
lead = "L1"
status = "met"

[[expect]]
# a comment
lead = "L2"
''')
    assert lines.key("name") == 1
    assert lines.key("events") == 2
    assert lines.table("expect", 0) == 7
    assert lines.table_key("expect", 0, "status") == 9
    assert lines.table_key("expect", 1, "lead") == 13
    assert lines.table_key("expect", 1, "status") == 11  # not written: the table's line
    assert lines.table("expect", 5) is None


# ============================================================================ formats


def _mixed(desk: Path) -> None:
    write_case(desk, "a-pass.toml", FRIDAY.read_text(encoding="utf-8"))
    write_case(desk, "b-fail.toml", FRIDAY.read_text(encoding="utf-8").replace(
        'status = "met"', 'status = "pending"', 1))
    write_case(desk, "c-error.toml", CASE_HEAD + '[[expect]]\nlead = "L9"\n'
                                                 'clause = "first touch"\nstatus = "met"\n')


def test_junit_xml_stays_xml_with_control_characters_in_names(capsys, desk):
    """A case named with a NUL and an ESC (TOML allows both, escaped) wrote XML no parser
    reads; they are written as visible escapes."""
    write_case(desk, "odd.toml", CASE_HEAD.replace('"a small case"',
                                                   '"odd \\u0000 name \\u001b[31m"')
               + '[[expect]]\nlead = "L1"\nclause = "first touch"\nstatus = "met"\n')
    report = desk / "report.xml"
    run(capsys, str(desk), "--format", "junit", "-o", str(report))
    [case] = ET.parse(report).getroot().iter("testcase")
    assert case.get("name") == "odd \\u0000 name \\u001b[31m"


def test_junit_xml_has_the_shape_ci_systems_read(capsys, desk):
    _mixed(desk)
    report = desk / "report.xml"
    code, out, _ = run(capsys, str(desk), "--format", "junit", "-o", str(report), "--coverage")
    assert code == 2  # a case error outranks a failure
    assert "FAIL  " in out  # the log still shows the text form
    root = ET.parse(report).getroot()
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("3", "1", "1")
    [suite] = root.findall("testsuite")
    assert suite.get("name") == str(desk / "inbound-desk.sla")
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("3", "1", "1")
    assert suite.find("properties/property").attrib == {"name": "coverage", "value": "100.0"}
    cases = suite.findall("testcase")
    assert [c.get("classname") for c in cases] == ["inbound-desk"] * 3
    assert [c.get("file") for c in cases] == [
        str(desk / "tests" / "inbound-desk" / n) for n in ("a-pass.toml", "b-fail.toml",
                                                          "c-error.toml")]
    assert [[child.tag for child in c] for c in cases] == [[], ["failure"], ["error"]]
    failure = cases[1].find("failure")
    assert failure.get("message") == ("L1 first touch (every lead): expected pending, got met "
                                      "(due 2026-03-09 11:00+01:00, done 2026-03-09 10:30+01:00)")
    assert "b-fail.toml:21:" in failure.text
    assert "no lead 'L9'" in cases[2].find("error").get("message")
    assert all(float(c.get("time")) >= 0 for c in cases)


def test_github_annotations_point_at_the_case_line(capsys, desk):
    _mixed(desk)
    code, out, _ = run(capsys, str(desk), "--format", "github")
    assert code == 2
    annotations = [line for line in out.splitlines() if line.startswith("::")]
    fail = str(desk / "tests" / "inbound-desk" / "b-fail.toml").replace(":", "%3A")
    assert annotations[0].startswith(
        f"::error file={fail},line=21,title=sla test failed%3A handed off on Friday evening")
    assert annotations[0].endswith("::L1 first touch (every lead): expected pending, got met "
                                   "(due 2026-03-09 11:00+01:00, done 2026-03-09 10:30+01:00)")
    assert ",line=9,title=sla test case error%3A a small case::" in annotations[1]
    assert "%0Ahelp: the leads are 'L1'" in annotations[1]
    assert out.splitlines()[-1].startswith("3 cases: 1 passed, 1 failed, 1 error")


def test_sarif_is_a_2_1_0_log_with_consistent_rules(capsys, desk):
    _mixed(desk)
    code, out, _ = run(capsys, str(desk), "--format", "sarif")
    assert code == 2
    log = json.loads(out)
    assert log["version"] == "2.1.0"
    assert log["$schema"].endswith("sarif-2.1.0.json")
    [sarif_run] = log["runs"]
    rules = sarif_run["tool"]["driver"]["rules"]
    assert sarif_run["tool"]["driver"]["name"] == "sla test"
    results = sarif_run["results"]
    assert [r["ruleId"] for r in results] == ["test-failed", "test-error"]
    for result in results:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["message"]["text"]
        location = result["locations"][0]["physicalLocation"]
        assert location["region"]["startLine"] >= 1
        assert location["artifactLocation"]["uri"].endswith(".toml")
    assert results[0]["locations"][0]["physicalLocation"]["region"] == {"startLine": 21}


# ============================================================================ coverage


def test_fail_under_fails_a_run_that_leaves_clauses_untested(capsys, desk):
    write_case(desk, "first-touch-only.toml", CASE_HEAD
               + '[[expect]]\nlead = "L1"\nclause = "first touch"\nstatus = "met"\n')
    code, out, err = run(capsys, str(desk), "--fail-under", "90")
    assert code == 1
    assert "coverage of " + str(desk / "inbound-desk.sla") + ": 1 of 2 clauses exercised " \
           "(50%, under 90%)" in out
    assert "line 14   every lead: touches at least 3 within 5 business days until connected" \
           "  NOT EXERCISED" in out
    assert "coverage 50% is under --fail-under 90%" in err
    assert run(capsys, str(desk), "--fail-under", "50")[0] == 0


def test_uncovered_clauses_are_annotated_on_the_policy_line(capsys, desk):
    write_case(desk, "first-touch-only.toml", CASE_HEAD
               + '[[expect]]\nlead = "L1"\nclause = "first touch"\nstatus = "met"\n')
    policy = str(desk / "inbound-desk.sla").replace(":", "%3A")
    _, out, _ = run(capsys, str(desk), "--format", "github", "--coverage")
    assert (f"::warning file={policy},line=14,title=not tested::no test case exercises "
            f"'every lead: touches at least 3 within 5 business days until connected'") in out
    _, out, _ = run(capsys, str(desk), "--format", "github", "--fail-under", "100")
    assert f"::error file={policy},line=14,title=not tested::" in out


def test_run_cases_is_one_policy_check_per_policy(desk):
    for name in ("one.toml", "two.toml"):
        write_case(desk, name, FRIDAY.read_text(encoding="utf-8"))
    results = run_cases(find_cases([str(desk)]).cases)
    assert [r.outcome for r in results] == ["passed", "passed"]


def test_the_documented_example_case_passes(desk):
    doc = (ROOT / "docs" / "testing.md").read_text(encoding="utf-8")
    example = doc.split("## A case\n\n```toml\n", 1)[1].split("```", 1)[0]
    result = run_case(write_case(desk, "documented.toml", example), Policies())
    assert (result.outcome, result.problems) == ("passed", [])


def test_the_shipped_cases_exercise_every_clause_of_every_policy(shipped):
    """Including New Breed's second level, the MDR's handoff of an SQL to sales, whose clocks
    start at the MDR's own handoff, and every policy shipped later."""
    _, results, policies = shipped
    for policy in sorted(POLICIES.glob("*.sla")):
        cov = coverage(policy, results, policies)
        assert [item.label for item in cov.items if not item.asserted] == [], policy.stem
    assert coverage(POLICIES / "new-breed.sla", results, policies).covered == 19


def test_sarif_puts_untested_clauses_on_relative_policy_lines(capsys, monkeypatch, tmp_path):
    shutil.copy(POLICIES / "new-breed.sla", tmp_path / "new-breed.sla")
    (tmp_path / "tests" / "new-breed").mkdir(parents=True)
    shutil.copy(POLICIES / "tests" / "new-breed" / "good-fit-friday-evening.toml",
                tmp_path / "tests" / "new-breed")
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "new-breed.sla", "--format", "sarif", "--coverage")
    assert code == 0
    assert "coverage of new-breed.sla: 5 of 19" in err
    results = json.loads(out)["runs"][0]["results"]
    assert {r["ruleId"] for r in results} == {"clause-not-tested"} and len(results) == 14
    sql = next(r for r in results if "'sql: when discovery_call_booked == true'" in
               r["message"]["text"])
    assert sql["level"] == "warning"
    assert sql["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "new-breed.sla"}, "region": {"startLine": 93}}


@pytest.mark.parametrize("body", [
    "expect = 5", "events = 5", "events = [1, 2]", '[[events]]\nlead_id = {a = 1}',
    'name = 3\npolicy = 3\nhistory = 5', 'history = "nope.csv"', 'events = ""',
    'events = "a,b\\n1,2"\n[[expect]]\nlead = "L1"',
    'as_of = true\n' + CASE_HEAD.split("\n", 2)[2] + '[[expect]]\nlead = "L1"\nhandoff = "x"',
    CASE_HEAD + '[[expect]]\nlead = ["a"]\nstatus = 3\ndue = 5\nclause = 4\n'
    '[[consequence]]\nlead = "L1"\nto = 3\naction = 1\nclause = "x"\nat = 11:00:00',
    CASE_HEAD.replace('marketing\n"""', 'marketing\n\\"a\n"""'),
], ids=range(11))
def test_values_of_the_wrong_kind_are_errors_not_tracebacks(desk, body):
    result = run_case(write_case(desk, "odd.toml", body + "\n"), Policies())
    assert result.outcome == "error"
    assert result.problems and all(p.message for p in result.problems)


# ============================================================================ absences

TRIAL_CASES = POLICIES / "tests" / "company-x-trial"


@pytest.fixture
def trial(tmp_path: Path) -> Path:
    """The trial policy and its rep-on-leave case with its absences file, copied to tmp."""
    shutil.copy(POLICIES / "company-x-trial.sla", tmp_path / "company-x-trial.sla")
    cases = tmp_path / "tests" / "company-x-trial"
    cases.mkdir(parents=True)
    for name in ("rep-on-leave.toml", "absences-march-2027.csv"):
        shutil.copy(TRIAL_CASES / name, cases / name)
    return cases


def test_a_case_reads_its_absences_file_relative_to_itself(trial):
    case = trial / "rep-on-leave.toml"
    assert run_case(case, Policies()).outcome == "passed"
    # without the file the clocks run: V1, V2 and V3 are breached at 10:30 instead
    case.write_text(case.read_text().replace('absences = "absences-march-2027.csv"\n', ""))
    result = run_case(case, Policies())
    assert result.outcome == "failed"
    assert sum("expected met, got breached" in p.message for p in result.problems) == 3


@pytest.mark.parametrize("key, absences, message", [
    ('"absences-march-2027.csv"', "rep,start,end\nana,2027-03-02,2027-03-01\n",
     "row 1: absence rejected: ends before it starts"),
    ('"gone.csv"', None, "cannot read the absences file"),
    ("3", None, "`absences` must name a file"),
])
def test_a_bad_absences_file_is_an_error_of_the_case_on_its_line(trial, key, absences,
                                                                    message):
    case = trial / "rep-on-leave.toml"
    text = case.read_text().replace('absences = "absences-march-2027.csv"',
                                    f"absences = {key}")
    case.write_text(text)
    if absences is not None:
        (trial / "absences-march-2027.csv").write_text(absences)
    result = run_case(case, Policies())
    assert result.outcome == "error"
    line = text.splitlines().index(f"absences = {key}") + 1
    assert [(p.line, message in p.message) for p in result.problems] == [(line, True)], \
        result.problems
