"""The language reference stays true: every diagnostic code is listed, every example parses."""

from __future__ import annotations

import re

import pytest

from sla_dsl.catalogue import CATALOGUE
from sla_dsl.diagnostics.diagnostic import Reporter
from sla_dsl.language.parser import BLOCK_OF_ITEM, STAND_IN_HEADERS
from sla_dsl.language.source import Source
from sla_dsl.policy_file import parse_policy

from .conftest import ROOT

DOC = (ROOT / "docs" / "language.md").read_text(encoding="utf-8")
EXAMPLES = re.findall(r"```sla\n(.*?)```", DOC, re.DOTALL)


def test_the_reference_table_is_the_catalogue_in_code_order():
    """The table between the markers has one row per code of the catalogue, no other; its code,
    name and summary are the catalogue's (the typical fix is the documentation's own)."""
    table = DOC.split("<!-- BEGIN CODES -->\n", 1)[1].split("<!-- END CODES -->", 1)[0]
    rows = [line.split(" | ")[:3] for line in table.splitlines()[2:]]
    assert rows == [[f"| {c.code}", f"`{c.name}`", c.summary] for c in CATALOGUE]


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
