"""The documented limits (docs/limits.md): input past a limit is refused with a diagnostic that
names it, and input at a limit works in every command, without a crash."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from sla_dsl.checks.names import MAX_EXPANDED_NESTING
from sla_dsl.parser import MAX_NESTING
from sla_dsl.policy_file import check_text, format_source
from sla_dsl.source import MAX_POLICY_BYTES, Source
from tests.test_cli import run

ROOT = Path(__file__).resolve().parent.parent
COMPANY_X = ROOT / "policies" / "company-x.sla"
HISTORY = ROOT / "examples" / "company-x" / "history.csv"
SCENARIO = ROOT / "examples" / "scenarios" / "company-x.toml"


def _policy(extra: str) -> str:
    return COMPANY_X.read_text(encoding="utf-8") + "\n" + extra + "\n"


def _nested(levels: int) -> str:
    """A condition `levels` deep, mixing `not`, `and` and `or` in parentheses."""
    condition = "score >= 1"
    for level in range(levels):
        if level % 3 == 0:
            condition = f"not {condition}"
        elif level % 3 == 1:
            condition = f"(score > {level} and {condition})"
        else:
            condition = f"(score < {level} or {condition})"
    return condition


def _chain(length: int, first: str = "score >= 1") -> str:
    """Stages c0 .. c{length}, each using the one before."""
    return f"stage c0 when {first}\n" + "".join(
        f"stage c{i} when c{i - 1}\n" for i in range(1, length + 1))


def _codes(text: str) -> list[str]:
    return [d.code.code for d in check_text(text, "deep.sla").errors]


# ---------------------------------------------------------------- nesting


@pytest.mark.parametrize("opening, closing", [("(", ")"), ("not ", "")])
def test_a_thousand_levels_are_refused_where_the_limit_is_crossed(tmp_path, capsys, opening,
                                                                  closing):
    line = "stage deep when " + opening * 1000 + "score >= 1" + closing * 1000
    path = tmp_path / "deep.sla"
    path.write_text(_policy(line), encoding="utf-8")
    code, out, _ = run(capsys, "check", path)
    assert code == 1
    number = len(COMPANY_X.read_text(encoding="utf-8").split("\n")) + 1
    column = len("stage deep when ") + len(opening) * MAX_NESTING + 1
    assert f"deep.sla:{number}:{column}: error: the condition nests more than 64 levels deep" \
        in out
    assert "[E112]" in out
    caret = next(line for line in out.splitlines() if "^" in line)
    assert caret.index("^") - caret.index("|") - 2 == column - 1


def test_deep_triggers_are_refused_too():
    trigger = "(" * 65 + "attainment of first touch < 50%" + ")" * 65
    assert _codes(_policy(f"cancel when {trigger}")) == ["E112"]


def test_a_statement_too_deep_is_left_out_without_false_alarms_about_its_name():
    """The refused stage is not declared, but a handoff naming it is not also an unknown name."""
    text = _policy("stage deep when " + "not " * 100 + "score >= 1\n"
                   "handoff deep from marketing to sales {\n  first touch within 1 hour\n}")
    assert _codes(text) == ["E112"]


def test_fmt_refuses_a_policy_too_deep():
    text = _policy("stage deep when " + "(" * 70 + "score >= 1" + ")" * 70)
    formatted, diagnostics = format_source(Source("deep.sla", text))
    assert formatted is None
    assert [d.code.code for d in diagnostics] == ["E112"]


def test_a_chain_of_definitions_is_bounded_once_written_out():
    assert _codes(_policy(_chain(MAX_EXPANDED_NESTING))) == []
    errors = check_text(_policy(_chain(1000)), "chain.sla").errors
    assert [d.code.code for d in errors] == ["E112"]  # once, where the chain crosses the limit
    assert re.search(r"'c129' nests 129 levels deep .* at most 128", errors[0].message)


def test_a_circle_of_segments_is_reported_not_followed(tmp_path, capsys):
    path = tmp_path / "circle.sla"
    path.write_text('sla "circle"\nsegment a when b\nsegment b when a\n'
                    "handoff a to nobody\nhandoff b to nobody\n", encoding="utf-8")
    code, out, _ = run(capsys, "check", path)
    assert code == 1
    assert "[E202]" in out


def test_every_command_runs_on_a_policy_at_the_limits(tmp_path, capsys):
    """A condition 64 levels deep, a chain of definitions 128 deep that a segment uses (so
    evaluation, the coverage check and the plain-words rendering follow it), a trigger 64 deep:
    every command that reads a policy finishes."""
    text = COMPANY_X.read_text(encoding="utf-8").replace(
        "segment hot     when fit good and interest high",
        "segment hot     when fit good and interest high and c62")
    text += "\n" + _chain(64, first=_nested(MAX_NESTING))
    text += "stage negated when " + "not " * MAX_NESTING + "score >= 1\n"
    text += "cancel when " + "(" * 63 + "attainment of first touch < 50%" + ")" * 63 + "\n"
    path = tmp_path / "limits.sla"
    path.write_text(text, encoding="utf-8")
    assert run(capsys, "check", path)[0] == 0
    assert run(capsys, "check", "--format", "json", path)[0] == 0
    assert run(capsys, "fmt", "--check", path)[0] in (0, 1)
    assert run(capsys, "explain", path)[0] == 0
    assert run(capsys, "evaluate", path, "--history", HISTORY, "--format", "json",
               "--html", tmp_path / "report.html")[0] == 0
    assert run(capsys, "diff", COMPANY_X, path, "--history", HISTORY, "--format", "json")[0] \
        in (0, 1)
    assert run(capsys, "plan", path, "--scenario", SCENARIO)[0] == 0
    assert run(capsys, "simulate", path, "--scenario", SCENARIO, "--replications", "2")[0] == 0


# ---------------------------------------------------------------- size


def _regions_up_to(limit: int) -> str:
    """The benchmark's many-region policy, as many whole regions as fit in `limit` bytes."""
    import sys

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from check_speed import HEADER, REGION

    parts, size, i = [HEADER], len(HEADER), 0
    while size + len(REGION.format(i=i)) + 1 <= limit:
        parts.append(REGION.format(i=i))
        size += len(parts[-1]) + 1
        i += 1
    return "\n".join(parts)


def test_a_policy_at_the_size_limit_is_checked(tmp_path, capsys):
    text = _regions_up_to(MAX_POLICY_BYTES)
    assert MAX_POLICY_BYTES - 2000 < len(text.encode()) <= MAX_POLICY_BYTES
    path = tmp_path / "big.sla"
    path.write_text(text, encoding="utf-8")
    code, out, _ = run(capsys, "check", path)
    assert code == 0, out


def test_a_policy_past_the_size_limit_is_refused_with_its_size(tmp_path, capsys, monkeypatch):
    path = tmp_path / "big.sla"
    path.write_text(_regions_up_to(MAX_POLICY_BYTES) + "#" * 2000 + "\n", encoding="utf-8")
    code, out, _ = run(capsys, "check", path)
    assert code == 1
    assert re.search(r"big\.sla: error: file is 25\d KiB; a policy may be at most 256 KiB "
                     r"\[E003\]", out)
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"#" * 10_000_000)))
    code, out, _ = run(capsys, "check", "-")
    assert code == 1
    assert "<stdin>: error: file is more than 256 KiB; a policy may be at most 256 KiB" in out
