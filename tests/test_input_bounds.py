"""Every input bounded: a hostile pattern, timestamp, nesting depth, row or cell never hangs the
tool, grows its memory without end, runs in a spreadsheet or goes uncounted.

Each test feeds the shipped policies and example histories with one hostile thing added."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from sla_dsl.cli import main
from sla_dsl.conditions import ConditionEvaluator
from sla_dsl.history_io import load_history
from sla_dsl.policy_file import load_policy

from .conftest import ROOT

POLICY = ROOT / "policies" / "company-x.sla"
HISTORY = ROOT / "examples" / "company-x" / "history.csv"
DECISION_MAKER = r'title matches "(?i)\b(ceo|cfo|cto|vp|head|director)\b"'


def _policy_with(tmp_path: Path, pattern: str) -> Path:
    text = POLICY.read_text(encoding="utf-8")
    assert DECISION_MAKER in text
    path = tmp_path / "policy.sla"
    path.write_text(text.replace(DECISION_MAKER, f'title matches "{pattern}"'), encoding="utf-8")
    return path


def _history_head(tmp_path: Path, lines: int = 200, extra: str = "",
                  name: str = "history.csv") -> Path:
    """The example history's first `lines` lines (header included), plus `extra`."""
    with HISTORY.open(encoding="utf-8") as handle:
        head = "".join(next(handle) for _ in range(lines))
    path = tmp_path / name
    path.write_text(head + extra, encoding="utf-8", newline="")
    return path


def _run(*args: str) -> subprocess.CompletedProcess:
    """The command in its own process: a regression to a hang or a crash (segfault) fails this
    test instead of stopping the suite. The timeout is a guard, not a measurement."""
    program = "import sys; from sla_dsl.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.run([sys.executable, "-c", program, *args], capture_output=True,
                          text=True, timeout=600, cwd=ROOT)


# ---------------------------------------------------------------- 1. regular expressions


def test_a_backtracking_pattern_evaluates_in_linear_time(tmp_path):
    """`^(a+)+$` against 36 `a`s and a `b` runs for minutes under a backtracking engine; here
    it is one linear scan, so evaluating a title of a hundred thousand of them finishes."""
    policy = _policy_with(tmp_path, "^(a+)+$")
    hostile = "a" * 100_000 + "b"
    history = _history_head(tmp_path, extra=(
        f"Z1,2026-01-05T15:43:02Z,created,,,false,0,,10,software,,,2,,97,38,{hostile}\n"
        f"Z2,2026-01-05T15:43:02Z,created,,,false,0,,10,software,,,2,,97,38,{'a' * 36}\n"))
    assert main(["check", str(policy)]) == 0
    result = _run("evaluate", str(policy), "--history", str(history), "--format", "json")
    assert result.returncode in (0, 1), result.stderr
    assert json.loads(result.stdout)["rows"]["rejected"] == 0

    read = load_history([history], timezone="America/New_York", fields={"title"})
    persona = ConditionEvaluator(load_policy(policy), read.fields, len(read)).definition(
        "bare", "decision_maker")
    by_lead = dict(zip(read.lead_ids[read.lead], persona, strict=True))
    assert (by_lead["Z1"], by_lead["Z2"]) == (False, True)  # the pattern still means the same


def test_inline_flags_and_word_boundaries_keep_working():
    from sla_dsl.patterns import compile_pattern, matches

    pattern = compile_pattern(r"(?i)\b(ceo|cfo)\b")
    assert [matches(pattern, t) for t in ["CEO", "Acting CFO", "Vice-cfo", "ceos", None]] == [
        True, True, True, False, False]
    assert matches(pattern, "ceo \ud800")  # a lone surrogate (a JSON escape) is no crash


@pytest.mark.parametrize(("pattern", "caret", "words"), [
    (r"(ceo)\1", r"\1", "refers back to a group"),
    ("(?i)ceo(?!s)", "(?!", "looks ahead"),
    ("(?<=vice )president", "(?<=", "looks behind"),
    ("a++", "++", "possessive"),
    ("a{5000}", "{5000}", "more than 1000 times"),
])
def test_features_a_linear_engine_lacks_are_check_errors(tmp_path, capsys, pattern, caret,
                                                         words):
    policy = _policy_with(tmp_path, pattern)
    assert main(["check", str(policy)]) == 1
    out = capsys.readouterr().out
    line, source = next((i, text) for i, text in enumerate(policy.read_text().splitlines(), 1)
                        if f'matches "{pattern}"' in text)
    column = source.index(caret, source.index("matches")) + 1
    assert f"{policy}:{line}:{column}: error: the pattern" in out
    assert words in out and "[E404]" in out
    assert "^" in out.split("[E404]")[1]  # a caret under the construct, then the fix


def test_shipped_policies_patterns_all_run(capsys):
    for policy in sorted((ROOT / "policies").glob("*.sla")):
        assert main(["check", str(policy)]) in (0, 1)
    assert "E404" not in capsys.readouterr().out
