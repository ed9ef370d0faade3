"""The grammar itself: conflict-free LALR, and shipped inside the installed package."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from lark import Lark

from sla_dsl.language.parser import grammar_text

from .conftest import ROOT


def test_grammar_is_lalr_without_conflicts_or_terminal_collisions():
    parser = Lark(grammar_text(), parser="lalr", lexer="contextual", strict=True,
                  propagate_positions=True)
    assert parser.options.strict


def test_installed_package_carries_the_grammar(tmp_path):
    # Away from the source tree only the installed package can answer.
    probe = "import sla_dsl.language.parser as p; print(p.__file__); print(p.grammar_path())"
    result = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True,
                            text=True, check=True)
    module, grammar = (Path(line) for line in result.stdout.split())
    # A wheel holds it inside the package; a checkout reaches grammar/ through the link
    # sla_dsl/grammar, so the lookup is the same in both.
    package = module.parent.parent  # sla_dsl/, above language/parser.py
    assert grammar == package / "grammar" / "sla.lark"
    if ROOT in module.parents:
        assert grammar.resolve() == ROOT / "grammar" / "sla.lark"
    assert grammar.read_text().startswith("// The sla policy language.")
