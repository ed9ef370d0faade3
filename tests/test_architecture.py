"""The package's layout holds: stages depend one way along the data flow, nothing imports in a
circle, nothing reaches into another module's private names, and the wheel lists every package.

docs/architecture.md draws the flow these rules protect. The imports are read from the source
(`tests/import_graph.py`), function-level and `TYPE_CHECKING` imports included, so a circle
cannot hide inside a function.
"""

from __future__ import annotations

import ast
import tomllib

import pytest

from .import_graph import FOLDERS, ROOT, cycles, imports, module_files, package_of

IMPORTS = imports()
# Each stage and the stages it must never import: later stages of the flow (policy text ->
# Policy -> checks; history -> evaluation -> measures -> reports; scenario -> simulation) and
# the command line, which sits on top of everything.
LATER = ("sla_dsl.checks", "sla_dsl.policy_file", "sla_dsl.evaluation", "sla_dsl.measures",
         "sla_dsl.reports", "sla_dsl.ci", "sla_dsl.planning", "sla_dsl.simulator", "sla_dsl.cli")
FORBIDDEN = {
    # Engines run any stage's work (replications, lead shards) and so depend on none of them.
    "sla_dsl.engines": (*LATER, "sla_dsl.language", "sla_dsl.history", "sla_dsl.business_time",
                        "sla_dsl.diagnostics", "sla_dsl.catalogue"),
    "sla_dsl.diagnostics": (*LATER, "sla_dsl.language", "sla_dsl.history",
                            "sla_dsl.business_time", "sla_dsl.catalogue"),
    "sla_dsl.language": (*LATER, "sla_dsl.catalogue"),
    "sla_dsl.business_time": LATER,
    "sla_dsl.history": LATER,
    "sla_dsl.evaluation": tuple(s for s in LATER if s != "sla_dsl.evaluation"),
    "sla_dsl.measures": ("sla_dsl.reports", "sla_dsl.ci", "sla_dsl.planning",
                         "sla_dsl.simulator", "sla_dsl.cli", "sla_dsl.policy_file"),
    "sla_dsl.reports": ("sla_dsl.ci", "sla_dsl.simulator", "sla_dsl.cli"),
    "sla_dsl.simulator": ("sla_dsl.reports", "sla_dsl.ci", "sla_dsl.cli", "sla_dsl.measures"),
}


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def test_no_module_imports_itself_through_others():
    assert cycles({(i.importer, i.imported) for i in IMPORTS}) == []


def test_no_stage_imports_itself_through_others():
    # The planner and the simulator are one stage, "can we hold it?", in two folders: the
    # simulator reads the planning's scenario and funnel, and `sla plan` solves its queue with
    # the simulator's arrivals and routing (docs/architecture.md).
    def stage(module: str) -> str:
        top = package_of(module)
        return "sla_dsl.planning" if top == "sla_dsl.simulator" else top

    edges = {(stage(i.importer), stage(i.imported)) for i in IMPORTS}
    assert cycles({(a, b) for a, b in edges if a != b}) == []


@pytest.mark.parametrize("stage", sorted(FORBIDDEN))
def test_a_stage_never_imports_a_later_one(stage):
    wrong = [f"{i.importer}:{i.line} imports {i.imported}" for i in IMPORTS
             if _within(i.importer, stage)
             and any(_within(i.imported, later) for later in FORBIDDEN[stage])]
    assert wrong == []


def test_no_module_takes_another_modules_private_names():
    taken = [f"{i.importer}:{i.line} takes {name} from {i.imported}" for i in IMPORTS
             for name in i.names if name.startswith("_") and not name.endswith("__")]
    assert taken == []


def test_own_modules_are_imported_inside_functions_only_by_the_command_line():
    # `sla check` must start without numpy, pyarrow or simpy, so each verb loads its stages
    # when it runs; everywhere else an import inside a function would only hide a circle.
    lazy = [f"{i.importer}:{i.line} imports {i.imported}" for i in IMPORTS
            if i.in_function and not _within(i.importer, "sla_dsl.cli")]
    assert lazy == []


def test_the_simulator_routes_with_the_evaluations_public_routing():
    taken = {(i.imported, name) for i in IMPORTS if _within(i.importer, "sla_dsl.simulator")
             and _within(i.imported, "sla_dsl.evaluation") for name in i.names}
    routing = {name for module, name in taken if module == "sla_dsl.evaluation.routing"}
    assert routing, "the simulator should deal leads with sla_dsl.evaluation.routing"
    assert {module for module, _ in taken} <= {"sla_dsl.evaluation.routing",
                                               "sla_dsl.evaluation.conditions",
                                               "sla_dsl.evaluation.replay",
                                               "sla_dsl.evaluation.consequences"}


def test_folders_are_imported_only_by_their_installed_names():
    # simulator/ and grammar/ install inside the package: a bare `import simulator` would load
    # a second copy from a checkout and fail from a wheel.
    bare = []
    for folder in ("sla_dsl", "simulator", "tests", "benchmarks"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text("utf-8"))):
                names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                         else [node.module or ""] if isinstance(node, ast.ImportFrom)
                         and not node.level else [])
                bare += [f"{path.relative_to(ROOT)}:{node.lineno} imports {n}" for n in names
                         if n.split(".")[0] in ("simulator", "grammar")]
    assert bare == []


def test_local_time_is_read_only_in_business_time():
    # One home for converting instants to local time (business_time.zones and the calendar
    # built on it): a second reading of a zone is how an evaluator and a simulator come to
    # disagree about an instant near a daylight-saving change.
    conversions = {"astimezone", "utcoffset", "fromtimestamp", "utcfromtimestamp"}
    found = []
    for module, path in module_files().items():
        if module.startswith("sla_dsl.business_time"):
            continue
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in conversions:
                found.append(f"{module}:{node.lineno} calls {node.attr}")
    assert found == []


def test_a_checkout_reaches_the_top_level_folders_by_their_installed_names():
    # Tests import the checkout's sla_dsl (python -m pytest puts the checkout first on the
    # path), so it must find sla_dsl.simulator and sla_dsl.grammar without an install.
    for folder, package in FOLDERS.items():
        if folder != "sla_dsl":
            link = ROOT / package.replace(".", "/")
            assert link.is_symlink() and link.resolve() == (ROOT / folder).resolve()


def test_the_wheel_lists_every_package():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["tool"]["setuptools"]
    listed = set(config["packages"])
    on_disk = {name for name, path in module_files().items() if path.name == "__init__.py"}
    assert listed == on_disk
    assert config["package-dir"] == {package: folder for folder, package in FOLDERS.items()
                                     if folder != "sla_dsl"}
