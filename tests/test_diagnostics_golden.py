"""Golden files: the rendered text of every diagnostic, as a person sees it.

Each `tests/fixtures/errors/NAME.sla` has a `NAME.expected` that a person has read once. After
an intended change to wording, regenerate with `SLA_UPDATE_GOLDEN=1 pytest` and read the diff.
"""

from __future__ import annotations

import os

import pytest

from sla_dsl.diagnostics.diagnostic import render_text
from sla_dsl.policy_file import check_text

from .conftest import FIXTURES

ERROR_CASES = sorted((FIXTURES / "errors").glob("*.sla"))


def rendered(path) -> str:
    checked = check_text(path.read_text(encoding="utf-8"), path=path.name)
    return "\n".join(render_text(d, checked.lines) for d in checked.diagnostics) + "\n"


@pytest.mark.parametrize("case", ERROR_CASES, ids=lambda p: p.stem)
def test_rendered_diagnostics_match_golden(case):
    expected_file = case.with_suffix(".expected")
    actual = rendered(case)
    if os.environ.get("SLA_UPDATE_GOLDEN"):
        expected_file.write_text(actual, encoding="utf-8")
    assert actual == expected_file.read_text(encoding="utf-8")


def test_golden_cases_cover_at_least_fifteen_distinct_codes():
    codes = set()
    for case in ERROR_CASES:
        checked = check_text(case.read_text(encoding="utf-8"), path=case.name)
        codes |= {d.code.code for d in checked.diagnostics}
    assert len(codes) >= 15, sorted(codes)


@pytest.mark.parametrize("case", ERROR_CASES, ids=lambda p: p.stem)
def test_every_error_case_has_a_finding_with_position_and_caret(case):
    checked = check_text(case.read_text(encoding="utf-8"), path=case.name)
    assert checked.diagnostics
    for diagnostic in checked.diagnostics:
        assert diagnostic.span is not None
        text = render_text(diagnostic, checked.lines)
        assert text.startswith(f"{case.name}:{diagnostic.span.line}:{diagnostic.span.column}: ")
        assert "^" in text
