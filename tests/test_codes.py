"""Each diagnostic code lives with the code that reports it, and the catalogue is all of them.

Read from the source with `ast`, not grep: a code is declared (`Code(...)`) in exactly one
module, that module lists it in its `CODES` and passes it to a call (a report) somewhere in its
own code, and the codes and names are the ones that shipped: they are an interface.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path
from types import ModuleType

import pytest

from sla_dsl.catalogue import CATALOGUE, OWNERS
from sla_dsl.cli import main
from sla_dsl.diagnostics.codes import Catalogue, Code

from .conftest import ROOT

# The codes and names as they were when the catalogue was split among its owners (December
# 2026). A code is never renamed, renumbered or reused: add new ones, never edit these.
GOLDEN = [
    ("E001", "unreadable-file"),
    ("E002", "not-text"),
    ("E003", "file-too-large"),
    ("E004", "empty-policy"),
    ("E100", "syntax-error"),
    ("E101", "unexpected-character"),
    ("E102", "unterminated-string"),
    ("E103", "unclosed-block"),
    ("E104", "unmatched-brace"),
    ("E110", "invalid-value"),
    ("E111", "invalid-unit"),
    ("E112", "too-deeply-nested"),
    ("E199", "too-many-errors"),
    ("E200", "unknown-name"),
    ("E201", "duplicate-name"),
    ("E202", "definition-cycle"),
    ("E203", "undeclared-party"),
    ("E204", "wrong-kind"),
    ("E205", "duplicate-statement"),
    ("E206", "duplicate-handoff"),
    ("E300", "unknown-timezone"),
    ("E301", "calendar-never-open"),
    ("E302", "overlapping-hours"),
    ("E303", "inverted-hours"),
    ("E304", "effective-after-until"),
    ("E305", "inverted-dates"),
    ("E306", "calendar-required"),
    ("E307", "calendar-ambiguous"),
    ("E308", "timezone-required"),
    ("E309", "unknown-holiday-set"),
    ("E400", "impossible-cadence"),
    ("E401", "warn-out-of-range"),
    ("E402", "bad-weight"),
    ("E403", "duplicate-rep"),
    ("E404", "invalid-regex"),
    ("E405", "percent-out-of-range"),
    ("E406", "not-positive"),
    ("E407", "wrong-consequence"),
    ("E408", "duplicate-clause"),
    ("E409", "deadline-outside-window"),
    ("E410", "revenue-without-attribution"),
    ("E411", "business-half-life"),
    ("E420", "bad-lifecycle-rule"),
    ("E421", "bad-absence-rule"),
    ("E422", "bad-owner-hours"),
    ("W500", "unreachable-segment"),
    ("W501", "consequence-never-applies"),
    ("W502", "segment-without-handoff"),
    ("W503", "uncovered-leads"),
    ("W504", "unreachable-handoff"),
    ("W505", "goal-beyond-commitment"),
    ("W506", "late-warning"),
    ("W507", "rep-left-out"),
    ("W508", "bad-suppression"),
    ("W509", "unused-suppression"),
    ("W510", "unmeasured-share"),
    ("W511", "commitment-off-goal"),
    ("W512", "closed-dates-run-out"),
    ("W513", "unmeasured-report"),
    ("W514", "undeliverable-commitment"),
    ("W515", "unbreached-spacing"),
]

PACKAGE_DIRS = {"sla_dsl": ROOT / "sla_dsl", "sla_dsl.simulator": ROOT / "simulator",
                "sla_dsl.grammar": ROOT / "grammar"}


def _module_files() -> dict[str, Path]:
    """Every module of the installed package, by its import name."""
    found = {}
    for package, folder in PACKAGE_DIRS.items():
        for path in folder.rglob("*.py"):
            parts = path.relative_to(folder).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join((package, *parts))] = path
    return found


MODULES = _module_files()


def _declared(tree: ast.Module) -> dict[str, str]:
    """The codes a module declares, `Code("E300", ...)` anywhere in it: code -> its constant."""
    declared = {}
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.func.id == "Code"):
            first = node.args[0] if node.args else None
            assert isinstance(first, ast.Constant), ast.unparse(node)
            declared[first.value] = "?"
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) \
                and getattr(node.value.func, "id", "") == "Code":
            declared[node.value.args[0].value] = node.targets[0].id
    return declared


DECLARED = {name: _declared(ast.parse(path.read_text(encoding="utf-8")))
            for name, path in MODULES.items()}


def test_the_codes_and_names_are_the_ones_that_shipped():
    assert [(c.code, c.name) for c in CATALOGUE] == GOLDEN


def test_codes_and_names_are_unique():
    assert len({c.code for c in CATALOGUE}) == len({c.name for c in CATALOGUE}) == len(GOLDEN)


def test_each_code_is_declared_in_exactly_one_module_its_owner():
    where: dict[str, list[str]] = {}
    for module, declared in DECLARED.items():
        for code in declared:
            where.setdefault(code, []).append(module)
    assert sorted(where) == [code for code, _ in GOLDEN]
    for code in CATALOGUE:
        assert where[code.code] == [code.owner], code.code


def test_the_owners_are_exactly_the_modules_that_declare_codes():
    declaring = {module for module, declared in DECLARED.items() if declared}
    assert {module.__name__ for module in OWNERS} == declaring
    assert len(OWNERS) == len(declaring)


@pytest.mark.parametrize("owner", OWNERS, ids=lambda m: m.__name__)
def test_an_owner_lists_every_code_it_declares_under_its_own_name(owner: ModuleType):
    constants = DECLARED[owner.__name__]
    assert "?" not in constants.values(), "declare each code as a module constant"
    assert [c.code for c in owner.CODES] == sorted(constants)
    for code in owner.CODES:
        assert code.owner == owner.__name__
        assert getattr(owner, constants[code.code]) is code
        assert CATALOGUE.get(code.code) is code  # the very object reports carry


def _passed_to_calls(tree: ast.Module) -> set[str]:
    """The names a module passes as an argument to some call: `reporter.error(SPACING, ...)`,
    `Diagnostic(SPACING, ...)`, a helper such as `_refuse(path, SPACING, ...)`."""
    passed = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            for argument in (*node.args, *(k.value for k in node.keywords)):
                if isinstance(argument, ast.Name):
                    passed.add(argument.id)
    return passed


@pytest.mark.parametrize("owner", OWNERS, ids=lambda m: m.__name__)
def test_an_owner_reports_each_of_its_codes(owner: ModuleType):
    tree = ast.parse(MODULES[owner.__name__].read_text(encoding="utf-8"))
    passed = _passed_to_calls(tree)
    for code, constant in DECLARED[owner.__name__].items():
        assert constant in passed, f"{code} ({constant}) is declared but never reported here"


def test_each_warning_has_its_page_and_each_page_its_warning():
    pages = {p.name for p in (ROOT / "docs" / "rules").glob("*.md")} - {"README.md"}
    for code in CATALOGUE:
        if code.code.startswith("W"):
            assert code.doc == f"docs/rules/{code.code}.md", code.code
        if code.doc is not None:
            assert (ROOT / code.doc).is_file(), code.doc
    assert pages == {Path(c.doc).name for c in CATALOGUE if c.doc}


def test_the_catalogue_refuses_a_code_declared_twice_or_listed_by_another_module():
    first, second = ModuleType("first"), ModuleType("second")
    first.CODES = (Code("E900", "one", "a code", owner="first"),)
    second.CODES = (Code("E900", "two", "the same code again", owner="second"),)
    with pytest.raises(ValueError, match="E900 `two` is declared twice"):
        Catalogue([first, second])
    second.CODES = (Code("E901", "one", "another code, the same name", owner="second"),)
    with pytest.raises(ValueError, match="declared twice"):
        Catalogue([first, second])
    second.CODES = first.CODES
    with pytest.raises(ValueError, match="second lists E900, owned by first"):
        Catalogue([second])


def test_the_catalogue_is_in_code_order_and_answers_by_code():
    mixed = ModuleType("mixed")
    mixed.CODES = (Code("W900", "later", "w", owner="mixed"), Code("E900", "sooner", "e",
                                                                      owner="mixed"))
    catalogue = Catalogue([mixed])
    assert [c.code for c in catalogue] == ["E900", "W900"] and len(catalogue) == 2
    assert "W900" in catalogue and "W901" not in catalogue
    assert catalogue.get("E900") is mixed.CODES[1] and catalogue.get("E901") is None


def test_explain_prints_the_entry_the_owner_and_the_page(capsys):
    assert main(["check", "--explain", "w504"]) == 0
    out = capsys.readouterr().out
    page = (ROOT / "docs" / "rules" / "W504.md").read_text(encoding="utf-8")
    assert out == ("W504 `unreachable-handoff`: a handoff whose leads all take an earlier "
                   "handoff\nreported by: sla_dsl.checks.coverage\n"
                   "documentation: docs/rules/W504.md\n\n" + page)


def test_explain_of_an_error_points_at_the_reference_table(capsys):
    assert main(["check", "--explain", "E004"]) == 0
    assert capsys.readouterr().out == (
        "E004 `empty-policy`: the file holds no statements\n"
        "reported by: sla_dsl.language.source\n"
        "documentation: the code table of docs/language.md#diagnostic-codes\n")


def test_explain_of_no_code_is_a_usage_error(capsys):
    assert main(["check", "--explain", "W599"]) == 2
    assert "'W599' is not a diagnostic code" in capsys.readouterr().err


def test_every_owner_is_importable_on_its_own():
    """The owners sit below the catalogue: none imports it (that would be a circle)."""
    for owner in OWNERS:
        source = MODULES[owner.__name__].read_text(encoding="utf-8")
        assert "sla_dsl.catalogue" not in source, owner.__name__
        assert importlib.import_module(owner.__name__) is owner
