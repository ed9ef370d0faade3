"""What `sla test` prints: one line per case for people, JUnit XML for CI test tabs, GitHub
workflow annotations for pull requests, and SARIF 2.1.0 for code scanning.

Every format is a view of the same `CaseResult`s and `Coverage`s, so a failure reads the same
wherever it is shown: the case file and line, the lead, the clause, expected and got.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path, PurePath

from sla_dsl.ci.policy_tests import CaseResult, Coverage, Problem
from sla_dsl.diagnostics import github, sarif
from sla_dsl.language.plain_words import counted
from sla_dsl.printable import printable

_LABEL = {"passed": "PASS", "failed": "FAIL", "error": "ERROR"}


def where(path: Path | str, line: int | None) -> str:
    return f"{path}:{line}" if line else str(path)


def _problem_text(result: CaseResult, problem: Problem) -> str:
    text = f"{where(result.path, problem.line)}: {problem.message}"
    if problem.help:
        text += f"\n  help: {problem.help}"
    return text


def summary(results: Sequence[CaseResult], seconds: float) -> str:
    counts = {outcome: sum(1 for r in results if r.outcome == outcome)
              for outcome in ("passed", "failed", "error")}
    return (f"{counted(len(results), 'case')}: {counts['passed']} passed, {counts['failed']} "
            f"failed, {counted(counts['error'], 'error')} ({seconds:.2f} s)")


# ============================================================================ text


def render_text(results: Sequence[CaseResult], seconds: float) -> str:
    """One line per case; under a failed case each expectation that did not hold."""
    out = []
    for result in results:
        out.append(f"{_LABEL[result.outcome]:<5} {result.path}: {result.name}")
        for problem in result.problems:
            out.extend("      " + line for line in _problem_text(result, problem).split("\n"))
    out += ["", summary(results, seconds)]
    return printable("\n".join(out) + "\n")


def render_coverage(coverages: Sequence[Coverage], fail_under: float | None = None) -> str:
    """Per policy: every lead clause and `on breach of` block, and what the cases assert of
    it (the statuses, or the actions), or that none does."""
    out = []
    for cov in coverages:
        if cov.problem:
            out += ["", f"coverage of {cov.policy_path}: not measured, the policy does not check"]
            continue
        if not cov.items:
            out += ["", f"coverage of {cov.policy_path}: no lead clauses to exercise"]
            continue
        verdict = ""
        if fail_under is not None and cov.percent < fail_under:
            verdict = f", under {fail_under:g}%"
        out += ["", f"coverage of {cov.policy_path}: {cov.covered} of "
                    f"{counted(len(cov.items), 'clause')} exercised ({cov.percent:.0f}%{verdict})"]
        width = max((len(item.label) for item in cov.items), default=0)
        for item in cov.items:
            said = ", ".join(sorted(item.asserted)) if item.asserted else "NOT EXERCISED"
            out.append(f"  line {item.line:<4} {item.label:<{width}}  {said}")
    return "\n".join(out).lstrip("\n") + "\n" if out else ""


def uncovered(coverages: Sequence[Coverage]):
    """(coverage, item) of every clause no case exercised."""
    return [(cov, item) for cov in coverages for item in cov.items if not item.asserted]


# ============================================================================ JUnit XML


def render_junit(results: Sequence[CaseResult], seconds: float,
                 coverages: Sequence[Coverage] = ()) -> str:
    """JUnit XML as Jenkins, GitLab and the GitHub test-report actions read it: one
    <testsuite> per policy, one <testcase> per case, <failure> for expectations that did not
    hold and <error> for cases that could not run."""
    suites: dict[str, list[CaseResult]] = {}
    for result in results:
        suites.setdefault(str(result.policy_path or "(no policy)"), []).append(result)
    root = ET.Element("testsuites", _counts(results, seconds), name="sla test")
    by_policy = {str(c.policy_path): c for c in coverages}
    for policy, members in suites.items():
        suite = ET.SubElement(root, "testsuite", _counts(members, sum(r.seconds for r in members)),
                              name=policy)
        cov = by_policy.get(policy)
        if cov is not None and not cov.problem:
            properties = ET.SubElement(suite, "properties")
            ET.SubElement(properties, "property", name="coverage", value=f"{cov.percent:.1f}")
        for result in members:
            case = ET.SubElement(suite, "testcase", name=result.name,
                                 classname=PurePath(policy).stem, file=str(result.path),
                                 time=f"{result.seconds:.3f}")
            if result.outcome == "passed":
                continue
            tag = "failure" if result.outcome == "failed" else "error"
            first = result.problems[0].message.split("\n")[0] if result.problems else tag
            element = ET.SubElement(case, tag, message=first,
                                    type="expectation" if tag == "failure" else "case error")
            element.text = "\n".join(_problem_text(result, p) for p in result.problems)
    ET.indent(root)
    text = ET.tostring(root, "unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + _NOT_XML.sub(_shown, text) + "\n"


# Characters XML 1.0 has no place for, even escaped: a case name or an event value holding one
# (a NUL, an ESC) made a file no CI system could parse. They are written as visible escapes.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def _shown(found: re.Match) -> str:
    return f"\\u{ord(found.group()):04x}"


def _counts(results: Sequence[CaseResult], seconds: float) -> dict[str, str]:
    return {"tests": str(len(results)),
            "failures": str(sum(1 for r in results if r.outcome == "failed")),
            "errors": str(sum(1 for r in results if r.outcome == "error")),
            "skipped": "0", "time": f"{seconds:.3f}"}


# ============================================================================ GitHub


def _annotation(level: str, path: Path | str, line: int | None, title: str,
                message: str) -> str:
    return github.annotation(level, path, message, title=title, line=line)


def render_github(results: Sequence[CaseResult], seconds: float,
                  coverages: Sequence[Coverage] = (), fail_under: float | None = None) -> str:
    """Workflow commands: each failed expectation and case error on its case line; with
    coverage, each clause no case exercises on its policy line (an error when the policy is
    under the --fail-under threshold, else a warning)."""
    out = []
    for result in results:
        for problem in result.problems:
            message = problem.message + (f"\nhelp: {problem.help}" if problem.help else "")
            title = ("sla test failed" if result.outcome == "failed"
                     else "sla test case error") + f": {result.name}"
            out.append(_annotation("error", result.path, problem.line, title, message))
    for cov, item in uncovered(coverages):
        failing = fail_under is not None and cov.percent < fail_under
        out.append(_annotation("error" if failing else "warning", cov.policy_path, item.line,
                               "not tested", f"no test case exercises '{item.label}'"))
    out.append(summary(results, seconds))
    return "\n".join(out) + "\n"


# ============================================================================ SARIF


_RULES = (
    ("test-failed", "failed", "error",
     "A policy test case expected a status or consequence the evaluator did not give."),
    ("test-error", "error", "error",
     "A policy test case could not be run as written (bad TOML, an unknown name, a policy "
     "that does not check)."),
    ("clause-not-tested", "uncovered", "warning",
     "No policy test case exercises this clause."),
)


def sarif_log(results: Sequence[CaseResult], coverages: Sequence[Coverage] = (),
              fail_under: float | None = None) -> dict:
    """A SARIF 2.1.0 log of one run: failed expectations and case errors on their case lines,
    and (with coverage) untested clauses on their policy lines."""
    found = []
    for result in results:
        rule = 0 if result.outcome == "failed" else 1
        for problem in result.problems:
            text = f"{result.name}: {problem.message}"
            if problem.help:
                text += f"\nhelp: {problem.help}"
            found.append(_sarif_result(rule, "error", result.path, problem.line, text))
    for cov, item in uncovered(coverages):
        failing = fail_under is not None and cov.percent < fail_under
        found.append(_sarif_result(2, "error" if failing else "warning", cov.policy_path,
                                   item.line, f"no test case exercises '{item.label}'"))
    rules = [sarif.rule(rule_id, text, name=name, level=level,
                        help_text=f"{text} See docs/testing.md of sla_dsl.")
             for rule_id, name, level, text in _RULES]
    return sarif.log("sla test", rules, found)


def _sarif_result(rule: int, level: str, path: Path | str, line: int | None,
                  text: str) -> dict:
    return sarif.result(_RULES[rule][0], level, text, path,
                        region={"startLine": line} if line else None, rule_index=rule)


def render_sarif(results: Sequence[CaseResult], coverages: Sequence[Coverage] = (),
                 fail_under: float | None = None) -> str:
    return sarif.dumps(sarif_log(results, coverages, fail_under))
