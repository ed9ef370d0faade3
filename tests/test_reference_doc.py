"""The language reference stays true: every diagnostic code is listed, every example parses."""

from __future__ import annotations

import re

import pytest

from sla_dsl.diagnostics import codes
from sla_dsl.diagnostics.diagnostic import Reporter
from sla_dsl.language.parser import BLOCK_OF_ITEM, STAND_IN_HEADERS
from sla_dsl.language.source import Source
from sla_dsl.policy_file import parse_policy

from .conftest import ROOT

DOC = (ROOT / "docs" / "language.md").read_text(encoding="utf-8")
EXAMPLES = re.findall(r"```sla\n(.*?)```", DOC, re.DOTALL)


def test_every_code_is_in_the_reference_table():
    for code in codes.all_codes():
        assert f"| {code.code} | `{code.name}` | {code.summary} |" in DOC, code.code


def test_the_reference_has_examples():
    assert len(EXAMPLES) >= 40


def _parses(text: str) -> bool:
    return parse_policy(Source("doc.sla", text), Reporter("doc.sla")) is not None


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.split("\n")[0][:40])
def test_example_parses_alone_or_inside_its_block(example):
    if _parses(example):
        return
    first_word = example.split()[0]
    block = STAND_IN_HEADERS[BLOCK_OF_ITEM[first_word]]
    assert _parses(f"{block}\n{example}\n}}\n")
