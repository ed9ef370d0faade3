"""`sla check --format sarif`: a SARIF 2.1.0 log that code scanning can read.

There is no SARIF schema among the dependencies, so the test checks the properties the
standard requires and GitHub code scanning reads (version, tool driver and its rules, results
pointing at rules that exist, 1-based regions, relative URIs).
"""

from __future__ import annotations

import json

from sla_dsl.catalogue import CATALOGUE
from sla_dsl.cli import main
from sla_dsl.diagnostics.diagnostic import render_sarif, sarif_log
from sla_dsl.policy_file import check_file

from .conftest import FIXTURES, ROOT


def _run(capsys, *argv: str) -> tuple[int, dict]:
    status = main(["check", "--format", "sarif", *argv])
    return status, json.loads(capsys.readouterr().out)


def test_sarif_log_has_one_run_with_every_code_as_a_rule():
    log = sarif_log([], CATALOGUE)
    assert log["version"] == "2.1.0"
    assert log["$schema"].endswith("sarif-2.1.0.json")
    (run,) = log["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "sla"
    ids = [rule["id"] for rule in driver["rules"]]
    assert ids == [code.code for code in CATALOGUE]
    levels = {rule["id"]: rule["defaultConfiguration"]["level"] for rule in driver["rules"]}
    assert levels["E200"] == "error" and levels["W500"] == "warning"
    assert run["results"] == []


def test_results_point_at_their_rule_and_region(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    status, log = _run(capsys, "tests/fixtures/errors/unknown-stage.sla",
                       "tests/fixtures/errors/unreachable-segment.sla")
    assert status == 1
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    results = run["results"]
    assert {r["ruleId"] for r in results} >= {"E200", "W500"}
    for result in results:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["level"] in ("error", "warning")
        location = result["locations"][0]["physicalLocation"]
        assert location["artifactLocation"]["uri"].startswith("tests/fixtures/errors/")
        region = location["region"]
        assert region["startLine"] >= 1 and region["startColumn"] >= 1
        assert (region["endLine"], region["endColumn"]) > (region["startLine"],
                                                          region["startColumn"])
    warning = next(r for r in results if r["ruleId"] == "W500")
    assert warning["level"] == "warning"
    assert warning["locations"][0]["physicalLocation"]["region"] == {
        "startLine": 9, "startColumn": 9, "endLine": 9, "endColumn": 12}
    assert "\nhelp: segments are checked in order" in warning["message"]["text"]


def test_clean_policies_give_an_empty_result_list(capsys, policies_dir):
    status, log = _run(capsys, str(policies_dir))
    assert status == 0
    assert log["runs"][0]["results"] == []


def test_paths_with_spaces_are_percent_encoded_and_absolute_paths_are_file_uris(tmp_path):
    policy = tmp_path / "my policy.sla"
    policy.write_text((FIXTURES / "errors" / "unknown-stage.sla").read_text(encoding="utf-8"),
                      encoding="utf-8")
    log = json.loads(render_sarif(check_file(policy).diagnostics, CATALOGUE))
    uri = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert uri["uri"].startswith("file:///") and uri["uri"].endswith("/my%20policy.sla")
