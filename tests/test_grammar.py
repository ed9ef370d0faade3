"""The grammar itself: conflict-free LALR, and shipped inside the installed package."""

from __future__ import annotations

import subprocess
import sys

from lark import Lark

from sla_dsl.parser import grammar_text


def test_grammar_is_lalr_without_conflicts_or_terminal_collisions():
    parser = Lark(grammar_text(), parser="lalr", lexer="contextual", strict=True,
                  propagate_positions=True)
    assert parser.options.strict


def test_installed_package_carries_the_grammar(tmp_path):
    # Run away from the source tree so that only the installed package can answer.
    probe = ("import importlib.resources as r; "
             "print(r.files('sla_dsl.grammar').joinpath('sla.lark').read_text()[:20])")
    result = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True,
                            text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("// The sla policy")
