"""The TextMate grammar in editors/ is generated from grammar/sla.lark and stays in step."""

from __future__ import annotations

import json
import re

import pytest

from sla_dsl.language import textmate

from .conftest import POLICIES, ROOT

COMMITTED = ROOT / "editors" / "sla.tmLanguage.json"
LARK = (ROOT / "grammar" / "sla.lark").read_text(encoding="utf-8")


def _quoted_words_of_the_lark_grammar() -> set[str]:
    """Read straight from the grammar text, not through the generator, so that a bug in the
    generator's own reading cannot hide a keyword."""
    rules = "\n".join(line.split("//", 1)[0] for line in LARK.splitlines())
    return {w for w in re.findall(r'"([^"\\]+)"', rules) if re.fullmatch(r"[a-z][a-z0-9-]*", w)}


GRAMMAR = json.loads(COMMITTED.read_text(encoding="utf-8"))
KEYWORD_PATTERNS = [re.compile(p["match"])
                    for p in GRAMMAR["repository"]["keywords"]["patterns"]]


def test_the_committed_grammar_is_what_the_generator_prints():
    assert COMMITTED.read_text(encoding="utf-8") == textmate.render(), \
        "regenerate: python -m sla_dsl.language.textmate > editors/sla.tmLanguage.json"


def test_the_generator_sees_every_keyword_of_the_lark_grammar():
    words = _quoted_words_of_the_lark_grammar()
    assert len(words) > 100
    assert set(textmate.grammar_keywords()) == words


@pytest.mark.parametrize("keyword", sorted(_quoted_words_of_the_lark_grammar()))
def test_every_keyword_is_highlighted_as_a_whole_word(keyword):
    line = f"x {keyword} y"
    hits = [m.span() for p in KEYWORD_PATTERNS for m in p.finditer(line)]
    assert (2, 2 + len(keyword)) in hits


def test_keywords_are_not_found_inside_names():
    for name in ("monthly_score", "months2", "sla_tier", "interested", "half", "p90x"):
        assert not any(p.search(name) for p in KEYWORD_PATTERNS), name
    weekday = re.compile(GRAMMAR["repository"]["weekday"]["match"])
    assert weekday.fullmatch("Mon") and weekday.fullmatch("friday")
    assert not weekday.search("month") and not weekday.search("sunday_rate")


def test_the_colour_groups_name_only_real_keywords():
    words = _quoted_words_of_the_lark_grammar()
    for group in (textmate.LOGICAL, textmate.OPERATOR_WORDS, textmate.CONSTANTS,
                  textmate.UNITS, textmate.CADENCES, textmate.DEFINITION_KINDS):
        assert set(group) <= words, set(group) - words


def _patterns(node):
    if isinstance(node, dict):
        for key in ("match", "begin", "end"):
            if key in node:
                yield node[key]
        for value in node.values():
            yield from _patterns(value)
    elif isinstance(node, list):
        for value in node:
            yield from _patterns(value)


def test_every_pattern_keeps_to_what_python_and_oniguruma_share():
    found = list(_patterns(GRAMMAR))
    assert len(found) > 20
    for pattern in found:
        re.compile(pattern)
        # no possessive quantifiers, atomic groups or \h, \G, \A-style Oniguruma-only escapes
        assert not re.search(r"[*+?}]\+|\(\?>|\\[hHGKR]", pattern), pattern


def test_literals_of_the_example_policies_are_recognised():
    repo = GRAMMAR["repository"]
    date, time, percent = (re.compile(repo[k]["match"]) for k in ("date", "time", "percent"))
    money = re.compile(repo["money"]["match"])
    text = "\n".join(p.read_text(encoding="utf-8") for p in POLICIES)
    assert date.search("closed 2026-11-26 to 2026-11-27").group() == "2026-11-26"
    assert time.search("open mon-fri 09:00-17:00").group() == "09:00"
    assert percent.search("warn at 75%").group() == "75%"
    assert money.search("deal size 15000 USD").groups() == ("15000", "USD")
    assert len(date.findall(text)) > 20 and len(money.findall(text)) > 5
