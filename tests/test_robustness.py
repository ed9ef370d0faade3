"""Mutated policies: the checker and formatter report problems, they never crash.

Every valid policy text is damaged at random (lines deleted, duplicated, swapped, the file cut
short, junk characters or bytes inserted, a word replaced by another keyword), and then:
checking never raises and every diagnostic is well formed; formatting never raises, and what it
formats is a fixed point whose model is the model of the text it came from.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sla_dsl.diagnostics.diagnostic import (
    Diagnostic,
    Reporter,
    render_github,
    render_json,
    render_text,
)
from sla_dsl.language.model import without_spans
from sla_dsl.language.parser import grammar_text
from sla_dsl.language.source import Source, decode_policy
from sla_dsl.policy_file import CheckedPolicy, check_source, check_text, format_source, parse_policy

ROOT = Path(__file__).resolve().parent.parent
VALID_FILES = sorted((ROOT / "policies").glob("*.sla")) + sorted(
    (ROOT / "tests" / "fixtures" / "language").glob("*.sla")
)
TEXTS = {path.relative_to(ROOT).as_posix(): path.read_text(encoding="utf-8")
         for path in VALID_FILES}
NAMES = sorted(TEXTS)

# Every keyword and punctuation literal of the grammar, as the parser knows it.
KEYWORDS = sorted(set(re.findall(r'"([a-z][a-z-]*)"', grammar_text())))
PUNCTUATION = ["{", "}", "(", ")", "[", "]", ",", ":", "-", "%", "==", "<=", "#", '"']
TOKEN = re.compile(r'"(?:[^"\\\n]|\\.)*"|[A-Za-z_][A-Za-z0-9_-]*|-?\d[\d:.%-]*|[^\s\w]')

SETTINGS = {"derandomize": True, "deadline": None, "database": None,
            "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large]}


def test_the_corpus_is_there():
    assert len(TEXTS) >= 10
    assert {"sla", "handoff", "business", "within", "segment", "half-life"} <= set(KEYWORDS)


# ---------------------------------------------------------------- mutations


def _lines(text: str) -> list[str]:
    return text.split("\n")


@st.composite
def _delete_lines(draw, text: str) -> str:
    lines = _lines(text)
    start = draw(st.integers(0, len(lines) - 1))
    count = draw(st.integers(1, 3))
    return "\n".join(lines[:start] + lines[start + count:])


@st.composite
def _duplicate_line(draw, text: str) -> str:
    lines = _lines(text)
    at = draw(st.integers(0, len(lines) - 1))
    to = draw(st.integers(0, len(lines)))
    lines.insert(to, lines[at])
    return "\n".join(lines)


@st.composite
def _swap_lines(draw, text: str) -> str:
    lines = _lines(text)
    a = draw(st.integers(0, len(lines) - 1))
    b = draw(st.integers(0, len(lines) - 1))
    lines[a], lines[b] = lines[b], lines[a]
    return "\n".join(lines)


@st.composite
def _truncate(draw, text: str) -> str:
    return text[: draw(st.integers(0, len(text)))]


JUNK = st.one_of(
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=8),
    st.text(st.sampled_from(" \t\r\n{}()[],:;#\"'\\%-=<>!0123456789abcXYZ_"), min_size=1,
            max_size=8),
    st.sampled_from(["\ufeff", "\u00a0", "\u200b", "\r\n", "\t", "é", "€", "🙂", "\x0c",
                     "\u2028", "\x85", "\x00", '"', "\\", "99999999999999999999", "-1",
                     "1e9", "0.000001%", "24:00", "99:99", "2026-02-30", "0000-00-00"]),
)


@st.composite
def _insert_text(draw, text: str) -> str:
    at = draw(st.integers(0, len(text)))
    return text[:at] + draw(JUNK) + text[at:]


@st.composite
def _replace_token(draw, text: str) -> str:
    tokens = list(TOKEN.finditer(text))
    if not tokens:
        return text
    token = draw(st.sampled_from(tokens))
    other = draw(st.one_of(st.sampled_from(KEYWORDS), st.sampled_from(PUNCTUATION),
                           st.sampled_from(["", "x", "1", "\"\"", "mon-fri", "USD", "50%"])))
    return text[: token.start()] + other + text[token.end():]


@st.composite
def _replace_keyword_line(draw, text: str) -> str:
    """A whole line becomes keywords from the grammar: the parser's recovery gets work."""
    lines = _lines(text)
    at = draw(st.integers(0, len(lines) - 1))
    words = draw(st.lists(st.sampled_from(KEYWORDS + PUNCTUATION), min_size=1, max_size=6))
    lines[at] = " ".join(words)
    return "\n".join(lines)


NUMBERS = ["0", "1", "-1", "007", "1.0", "1.50", "0.5", "-0", "2.25", "100000000000000000000",
           "1.000001", "24:00", "00:00", "9:5", "0%", "100.5%", "-5%", "2026-02-29",
           "2024-02-29"]
STRINGS = [r'""', r'"\\"', r'"a\"b"', r'"tab\there"', r'"\\n"', r'"\\\""', '"é€🙂"',
           '"#not a comment"', '"  spaced  "', '"{"', '"a, b: c"', '"tab\there"']
COMMENTS = ["#", "# note", "#no space", "# trailing  spaces   ", "#{ not code }", "# é €", "##"]


@st.composite
def _replace_literal(draw, text: str) -> str:
    """A number, time, date or string becomes another one: values must print back exactly."""
    literals = [t for t in TOKEN.finditer(text) if t.group(0)[0] in '"-0123456789']
    if not literals:
        return text
    token = draw(st.sampled_from(literals))
    other = draw(st.sampled_from(STRINGS if token.group(0).startswith('"') else NUMBERS))
    return text[: token.start()] + other + text[token.end():]


@st.composite
def _insert_comment(draw, text: str) -> str:
    """Comments on their own line or at the end of one, anywhere: the formatter keeps them."""
    lines = _lines(text)
    at = draw(st.integers(0, len(lines) - 1))
    comment = draw(st.sampled_from(COMMENTS))
    if draw(st.booleans()):
        indent = draw(st.sampled_from(["", "  ", "\t", "      "]))
        lines.insert(at, indent + comment)
    else:
        lines[at] = lines[at] + draw(st.sampled_from([" ", "  ", "\t", ""])) + comment
    return "\n".join(lines)


@st.composite
def _change_layout(draw, text: str) -> str:
    """The same tokens laid out otherwise: spaces, tabs, blank lines, wrapped lists."""
    tokens = list(re.finditer(r"[ \t]+|\n|[\[(,]", text))
    if not tokens:
        return text
    token = draw(st.sampled_from(tokens))
    if token.group(0) in "[(,":
        new = token.group(0) + draw(st.sampled_from(["\n", "\n  ", "\n\n", " # c\n"]))
    elif token.group(0) == "\n":
        new = draw(st.sampled_from(["\n\n", "\n\n\n", "\r\n", "\n   ", " \n", "\t\n"]))
    else:
        new = draw(st.sampled_from([" ", "\t", "    ", " \f ", ""]))
    return text[: token.start()] + new + text[token.end():]


TEXT_MUTATIONS = [_delete_lines, _duplicate_line, _swap_lines, _truncate, _insert_text,
                  _replace_token, _replace_keyword_line, _replace_literal, _insert_comment,
                  _change_layout]


@st.composite
def mutated_texts(draw) -> tuple[str, str]:
    name = draw(st.sampled_from(NAMES))
    text = TEXTS[name]
    for _ in range(draw(st.integers(1, 3))):
        mutation = draw(st.sampled_from(TEXT_MUTATIONS))
        text = draw(mutation(text))
    return name, text


@st.composite
def mutated_bytes(draw) -> tuple[str, bytes]:
    name, text = draw(mutated_texts())
    data = text.encode("utf-8")
    for _ in range(draw(st.integers(0, 2))):
        at = draw(st.integers(0, len(data)))
        junk = draw(st.one_of(
            st.binary(min_size=1, max_size=6),
            st.sampled_from([b"\xff", b"\xc3", b"\xe2\x82", b"\xef\xbb\xbf", b"\r", b"\r\n",
                             b"\x80\x80", b"\xed\xa0\x80"]),
        ))
        data = data[:at] + junk + data[at:]
    return name, data


# ---------------------------------------------------------------- properties


def assert_well_formed(checked: CheckedPolicy, lines: list[str]) -> None:
    assert isinstance(checked, CheckedPolicy)
    if checked.policy is None:
        assert checked.diagnostics, "no policy and no diagnostic saying why"
    for diagnostic in checked.diagnostics:
        assert isinstance(diagnostic, Diagnostic)
        assert diagnostic.code is not None and diagnostic.code.code, diagnostic
        assert diagnostic.message and diagnostic.message.strip(), diagnostic
        assert diagnostic.severity in ("error", "warning"), diagnostic
        span = diagnostic.span
        if span is not None:
            assert 1 <= span.line <= len(lines), (diagnostic, len(lines))
            assert span.line <= span.end_line <= len(lines), (diagnostic, len(lines))
            assert span.column >= 1, diagnostic
        # every output format can show it
        render_text(diagnostic, lines)
        render_github(diagnostic)
    render_json(checked.diagnostics)


@given(mutated_texts())
@settings(max_examples=300, **SETTINGS)
def test_check_text_never_raises(case):
    _name, text = case
    checked = check_text(text, "mutant.sla")
    lines = checked.source.lines if checked.source else text.split("\n")
    assert_well_formed(checked, lines)


@given(mutated_bytes())
@settings(max_examples=150, **SETTINGS)
def test_check_bytes_never_raises(case):
    _name, data = case
    decoded = decode_policy("mutant.sla", data)
    if isinstance(decoded, Diagnostic):
        assert decoded.severity == "error" and decoded.code.code and decoded.message
        assert decoded.span is None
        return
    assert isinstance(decoded, Source)
    assert "\r\n" not in decoded.text and not decoded.text.startswith("\ufeff")
    assert_well_formed(check_source(decoded), decoded.lines)


def _model(source: Source):
    policy = parse_policy(source, Reporter(source.path))
    return None if policy is None else without_spans(policy.model_dump(mode="json"))


@cache
def _formats(text: str) -> str | None:
    return format_source(Source("mutant.sla", text))[0]


@given(mutated_texts())
@settings(max_examples=300, **SETTINGS)
def test_format_is_idempotent_and_keeps_the_model(case):
    _name, text = case
    decoded = decode_policy("mutant.sla", text.encode("utf-8"))
    if isinstance(decoded, Diagnostic):
        return
    formatted, diagnostics = format_source(decoded)
    if formatted is None:
        assert diagnostics and any(d.severity == "error" for d in diagnostics)
        return
    assert not diagnostics
    again, again_diagnostics = format_source(Source("mutant.sla", formatted))
    assert again_diagnostics == [], again_diagnostics
    assert again == formatted, "formatting is not idempotent"
    before = _model(decoded)
    assert before is not None
    assert _model(Source("mutant.sla", formatted)) == before, "formatting changed the model"


def test_every_valid_text_formats_to_a_fixed_point_with_the_same_model():
    for name, text in TEXTS.items():
        source = Source(name, text)
        formatted, diagnostics = format_source(source)
        assert formatted is not None, (name, diagnostics)
        assert _formats(formatted) == formatted, name
        assert _model(Source(name, formatted)) == _model(source), name


# ---------------------------------------------------------------- smallest known cases


def _lines_in_range(text: str) -> list[tuple[str, int, int]]:
    """Diagnostics whose span reaches past the last line of `text`."""
    checked = check_text(text, "case.sla")
    count = len(checked.source.lines) if checked.source else len(text.split("\n"))
    return [(d.code.code, d.span.line, d.span.end_line) for d in checked.diagnostics
            if d.span and not (1 <= d.span.line <= d.span.end_line <= count)]


@pytest.mark.parametrize("zone", ["X", "America", "Nowhere/Zone", "../etc", "\\\\", ""])
def test_an_unknown_timezone_with_a_cadence_is_reported_not_raised(zone):
    text = (f'timezone "{zone}"\n'
            "handoff every lead to nobody {\n"
            "  first touch within 1 hour\n"
            "  touches at least 2 within 1 day\n"
            "  spacing at least 1 hour\n"
            "}\n")
    checked = check_text(text)
    assert any(d.code.code == "E300" for d in checked.errors)
    assert_well_formed(checked, checked.lines)


def test_end_of_file_error_inside_unclosed_weights_is_on_a_line_of_the_file():
    assert _lines_in_range('handoff h to s {\n  assign round robin team "s" weights {') == []


def test_duplicate_unclosed_handoff_span_ends_in_the_file():
    assert _lines_in_range("handoff h to s {\nhandoff h to s {") == []


def test_format_of_a_wrapped_definition_is_idempotent():
    text = "segment a when x\nsegment bb when y in [\n1]\n"
    formatted = _formats(text)
    assert formatted is not None
    assert _formats(formatted) == formatted
