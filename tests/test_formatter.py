"""The canonical layout: one spelling per policy, every comment kept."""

from __future__ import annotations

import pytest

from sla_dsl.diagnostics.diagnostic import Reporter
from sla_dsl.language.formatter import number, quote
from sla_dsl.language.model import without_spans
from sla_dsl.language.source import Source
from sla_dsl.policy_file import format_source, parse_policy

MESSY = """\
# who signs
sla   "Desk"   # the title
timezone "Europe/Amsterdam"


party marketing contact "web@desk.example"   # marketing ops
# sales is the desk itself
party sales contact "desk@desk.example"
calendar business {   # office hours
  # weekdays only
  open monday-friday 8:00-18:00
  closed 2026-12-25 to 2026-12-26, 2027-01-01
  # no weekends
}
stage mql when (score>=60 or
    last_form=="demo") and not (a and b)   # wrapped over two lines
handoff every lead from marketing to sales {
  first touch within 1 business hours
  touches at least 3 within 5 business day until connected
  assign round robin team "desk" weights {
    "ana": 2,   # senior
    "ben": 1
  }
}
# the end
"""

CANONICAL = """\
# who signs
sla "Desk"  # the title
timezone "Europe/Amsterdam"

party marketing contact "web@desk.example"  # marketing ops
# sales is the desk itself
party sales contact "desk@desk.example"
calendar business {  # office hours
  # weekdays only
  open mon-fri 08:00-18:00
  closed 2026-12-25 to 2026-12-26, 2027-01-01
  # no weekends
}
stage mql when (score >= 60 or last_form == "demo") and not (a and b)  # wrapped over two lines
handoff every lead from marketing to sales {
  first touch within 1 business hour
  touches at least 3 within 5 business days until connected
  assign round robin team "desk" weights { "ana": 2, "ben": 1 }  # senior
}
# the end
"""


def fmt(text: str) -> str:
    formatted, diagnostics = format_source(Source("t.sla", text))
    assert diagnostics == []
    return formatted


def model(text: str):
    policy = parse_policy(Source("t.sla", text), Reporter("t.sla"))
    return without_spans(policy.model_dump(mode="json"))


def test_messy_policy_gets_the_canonical_layout():
    assert fmt(MESSY) == CANONICAL


def test_canonical_layout_is_a_fixed_point_with_the_same_model():
    assert fmt(CANONICAL) == CANONICAL
    assert model(CANONICAL) == model(MESSY)


def test_no_comment_is_lost():
    lines = {line.strip() for line in MESSY.splitlines() if "#" in line}
    comments = {line[line.index("#"):] for line in lines}
    out = fmt(MESSY)
    assert all(comment in out for comment in comments)


def test_alike_statements_and_end_of_line_comments_align():
    text = ('sla "x"\nstage mql when score >= 60  # warm\n'
            'stage opportunity when mql and accepted  # in play\n')
    assert fmt(text) == (
        'sla "x"\n'
        "stage mql         when score >= 60       # warm\n"
        "stage opportunity when mql and accepted  # in play\n")


def test_blank_lines_collapse_to_one_and_none_open_a_block():
    text = 'sla "x"\n\n\n\ncalendar c {\n\n  open mon 09:00-10:00\n\n\n  open tue 09:00-10:00\n}\n'
    assert fmt(text) == (
        'sla "x"\n\ncalendar c {\n  open mon 09:00-10:00\n\n  open tue 09:00-10:00\n}\n')


def test_parentheses_kept_only_where_they_change_the_meaning():
    text = 'sla "x"\nstage a when (b and c) or (d or e) or not (f and g) and (h)\n'
    assert fmt(text) == 'sla "x"\nstage a when b and c or (d or e) or not (f and g) and h\n'
    assert model(fmt(text)) == model(text)


@pytest.mark.parametrize("raw", [
    r"(?i)\b(ceo|cfo)\b", "a\\", 'say "hi"', "\\\\", 'tail\\"', "", "x\\ny",
])
def test_strings_survive_quoting(raw):
    text = f'sla "x"\npersona p when title matches {quote(raw)}\n'
    assert model(text)["statements"][1]["when"]["pattern"]["value"] == raw
    assert fmt(text) == text


def test_regex_backslashes_are_not_doubled():
    assert quote(r"(?i)\bvp\b") == r'"(?i)\bvp\b"'


@pytest.mark.parametrize(("value", "text"), [
    (60, "60"), (0.5, "0.5"), (2.0, "2.0"), (1e-7, "0.0000001"), (1e11, "100000000000.0"),
])
def test_numbers_print_as_they_parse(value, text):
    assert number(value) == text


def test_singular_and_plural_units_follow_the_amount():
    text = 'sla "x"\non breach of first touch {\n  escalate to "m" after 1 hours\n}\n'
    assert "after 1 hour\n" in fmt(text)
    text = text.replace("1 hours", "2 hour")
    assert "after 2 hours\n" in fmt(text)


def test_a_file_with_syntax_errors_is_not_formatted():
    formatted, diagnostics = format_source(Source("t.sla", 'sla "x"\nstage a when\n'))
    assert formatted is None
    assert diagnostics and diagnostics[0].code.code == "E100"


def test_an_unknown_name_still_formats():
    formatted, diagnostics = format_source(
        Source("t.sla", 'sla "x"\nhandoff nowhere   to  sales\n'))
    assert formatted == 'sla "x"\nhandoff nowhere to sales\n'
    assert diagnostics == []


@pytest.mark.parametrize("line", ["marketing share 50%", "marketing share 50% sourced",
                                  "marketing share 50% attributed"])
def test_a_share_keeps_its_reading_as_written(line):
    """A bare share means sourced, but the formatter does not add the word: the shipped
    policies and the design's examples stay as their authors wrote them."""
    text = f'sla "x"\ngoal revenue 5000 USD per month {{\n  {line}\n}}\n'
    messy = text.replace(line, line.replace(" ", "   "))
    assert fmt(messy) == text and fmt(text) == text
    assert model(messy) == model(text)


@pytest.mark.parametrize("header", [
    "handoff b to nobody", "handoff b from marketing to nobody",
    "handoff every lead from marketing to sales", "handoff b from marketing to sales",
    "commit marketing to sales", "calendar business", 'calendar business timezone "UTC"',
    "goal revenue 5000 USD per month", "on breach of first touch",
])
def test_a_block_holding_only_a_comment_keeps_it_inside(header):
    """Printed without its braces, the block's comment would sit above the next statement,
    which is the statement it would then belong to."""
    text = (f'sla "T"\nsegment b when not x\n{header} {{\n  # ignored on purpose\n}}\n'
            "handoff b from marketing to sales\n")
    assert fmt(text) == text
    assert model(fmt(text)) == model(text)


def test_an_empty_handoff_block_loses_its_braces_but_not_its_comments():
    text = ('sla "T"\nhandoff b to nobody {\n}\nhandoff c to nobody {  # on the brace\n}\n'
            "handoff d to nobody {\n}  # after the brace\n")
    assert fmt(text) == ('sla "T"\nhandoff b to nobody\nhandoff c to nobody  # on the brace\n'
                         "handoff d to nobody  # after the brace\n")
    assert model(fmt(text)) == model(text)


def test_comments_in_a_handoff_block_with_no_items_keep_their_places():
    text = ('sla "T"\nhandoff b to nobody {  # on the brace\n\n  # first\n\n\n  # second\n'
            "}  # after\nhandoff c to nobody\n")
    assert fmt(text) == ('sla "T"\nhandoff b to nobody {  # on the brace\n  # first\n\n'
                         "  # second\n}  # after\nhandoff c to nobody\n")
    assert fmt(fmt(text)) == fmt(text)
    assert model(fmt(text)) == model(text)


def test_a_comment_inside_a_wrapped_statement_moves_above_it():
    """Joined onto one line, the statement cannot hold the comment; below it, the comment
    would belong to the next statement."""
    text = ('sla "T"\n\nstage mql when (a or  # one\n  # two\n  b)  # three\nstage sql when c\n'
            "handoff mql from marketing to sales {\n"
            '  assign round robin team "desk" weights {\n    # senior first\n'
            '    "ana": 2,\n    "ben": 1\n  }\n  first touch within 1 business hour\n}\n')
    assert fmt(text) == (
        'sla "T"\n\n# one\n# two\nstage mql when a or b  # three\nstage sql when c\n'
        "handoff mql from marketing to sales {\n  # senior first\n"
        '  assign round robin team "desk" weights { "ana": 2, "ben": 1 }\n'
        "  first touch within 1 business hour\n}\n")
    assert fmt(fmt(text)) == fmt(text)
    assert model(fmt(text)) == model(text)


@pytest.mark.parametrize("wrapped", ["(a or\n  # inside\n  b)", "(a or  # one\n  b)  # two"])
def test_comments_moved_above_a_statement_end_its_alignment_run(wrapped):
    text = f'sla "T"\nstage a when x\nstage mql when {wrapped}\nstage sqlxx when c\n'
    once = fmt(text)
    assert once.startswith('sla "T"\nstage a when x\n# ')
    assert "stage mql   when a or b" in once
    assert fmt(once) == once
