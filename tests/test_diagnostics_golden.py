"""Golden files: the rendered text of every diagnostic, as a person sees it.

Each `tests/fixtures/errors/NAME.sla` has a `NAME.expected` that a person has read once. After
an intended change to wording, regenerate with `SLA_UPDATE_GOLDEN=1 pytest` and read the diff.
"""

from __future__ import annotations

import os
import unicodedata

import pytest

from sla_dsl.diagnostics.diagnostic import MOST_SHOWN, render_text
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


def _date_error(line: str):
    checked = check_text(f'sla "x"\n{line}\n', path="w.sla")
    [diagnostic] = checked.diagnostics
    return diagnostic, render_text(diagnostic, checked.lines).splitlines()


@pytest.mark.parametrize(("before", "columns"), [
    ("\U0001F600\U0001F600", 4),  # emoji: two columns each
    ("日本語", 6),  # East Asian wide
    ("ＡＢ", 4),  # fullwidth
    ("cafe\u0301", 4),  # a combining accent takes no column
    ("中\tx", 6),  # the tab is expanded by characters, as the line shown is
])
def test_the_caret_counts_terminal_columns_not_characters(before, columns):
    """The line is shown as it is and a terminal draws wide characters two columns wide, so
    the caret's indent counts columns; the column in the header stays a character count."""
    line = f'stage mql when name == "{before}" and d == 2026-02-30'
    diagnostic, (_, _, shown, caret) = _date_error(line)
    assert diagnostic.span.column == line.index("2026") + 1
    assert diagnostic.to_dict()["column"] == diagnostic.span.column  # JSON: code points
    indent = len('stage mql when name == "') + columns + len('" and d == ')
    assert caret == "  | " + " " * indent + "^" * 10 + " dates are written YYYY-MM-DD"
    assert shown == "2 | " + line.expandtabs(4)


def test_a_wide_character_under_the_caret_gets_two_carets():
    checked = check_text('sla "x"\ntimezone "東京"\n', path="w.sla")
    [diagnostic] = checked.diagnostics
    caret = render_text(diagnostic, checked.lines).splitlines()[3]
    assert caret.startswith("  | " + " " * len("timezone ") + "^" * 6 + " ")


def test_a_long_line_of_wide_characters_shows_a_window_with_the_caret_under_its_text():
    words = ", ".join(f'"\U0001F600{i}"' for i in range(60))
    line = f"stage mql when name in [{words}] and d == 2026-02-30 and e in [{words}]"
    _, (_, _, shown, caret) = _date_error(line)
    text = shown[len("2 | "):]
    assert text.startswith("...") and text.endswith("...")
    assert len(text) == MOST_SHOWN + 6  # the window still counts characters
    before = text[:text.index("2026-02-30")]
    columns = sum(2 if unicodedata.east_asian_width(c) == "W" else 1 for c in before)
    assert caret == "  | " + " " * columns + "^" * 10 + " dates are written YYYY-MM-DD"
