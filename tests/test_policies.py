"""Every shipped policy is clean, canonically formatted, and round-trips through the formatter."""

from __future__ import annotations

import json

import jsonschema
import pytest

from sla_dsl.cli import policy_schema
from sla_dsl.diagnostics.diagnostic import Reporter, render_text
from sla_dsl.language.model import without_spans
from sla_dsl.language.source import Source, read_policy
from sla_dsl.policy_file import check_file, format_source, parse_policy

from .conftest import FIXTURES, POLICIES

ROUND_TRIP = POLICIES + sorted((FIXTURES / "language").glob("*.sla"))


def test_the_four_kinds_of_example_policy_ship():
    names = {p.stem for p in POLICIES}
    assert {"company-x", "inbound-desk", "fusion", "new-breed"} <= names


@pytest.mark.parametrize("path", POLICIES, ids=lambda p: p.name)
def test_policy_checks_clean(path):
    checked = check_file(path)
    assert checked.diagnostics == [], "\n".join(
        render_text(d, checked.lines) for d in checked.diagnostics)


@pytest.mark.parametrize("path", POLICIES, ids=lambda p: p.name)
def test_policy_is_canonically_formatted(path):
    source = read_policy(path)
    formatted, _ = format_source(source)
    assert formatted == source.text


def _model(text: str):
    policy = parse_policy(Source("x.sla", text), Reporter("x.sla"))
    assert policy is not None
    return without_spans(policy.model_dump(mode="json"))


@pytest.mark.parametrize("path", ROUND_TRIP, ids=lambda p: p.name)
def test_format_round_trips(path):
    source = read_policy(path)
    once, _ = format_source(source)
    twice, _ = format_source(Source(path.name, once))
    assert twice == once
    assert _model(once) == _model(source.text)
    assert once.count("#") >= source.text.count("#")


@pytest.mark.parametrize("path", POLICIES, ids=lambda p: p.name)
def test_dumped_policy_validates_against_schema(path):
    policy = check_file(path).policy
    document = json.loads(policy.model_dump_json())
    jsonschema.Draft202012Validator(policy_schema()).validate(document)
