"""The project's own imports, read from its source with `ast`, for the architecture tests.

grimp and import-linter find a package's modules by walking its folder, so they miss
`sla_dsl.simulator`, which pyproject's package-dir installs from the top-level `simulator/`.
Reading the files ourselves covers every installed module, and each import keeps where it is
written (module level, inside a function, under `TYPE_CHECKING`), which the rules need.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Folder on disk -> the package it is installed as (pyproject's packages and package-dir).
FOLDERS = {"sla_dsl": "sla_dsl", "simulator": "sla_dsl.simulator", "grammar": "sla_dsl.grammar"}


@dataclass(frozen=True)
class Import:
    importer: str
    imported: str  # a module of the project
    names: tuple[str, ...]  # the names taken from it (empty for `import x` / a submodule)
    line: int
    in_function: bool
    type_checking: bool


def module_files(root: Path = ROOT) -> dict[str, Path]:
    """Every module of the installed package, by its dotted name."""
    found: dict[str, Path] = {}
    for folder, package in FOLDERS.items():
        for path in sorted((root / folder).rglob("*.py")):
            parts = path.relative_to(root / folder).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join((package, *parts))] = path
    return found


def _absolute(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    base = base[: len(base) - node.level + (1 if is_package else 0)]
    return ".".join(base + ([node.module] if node.module else []))


def _walk(node: ast.AST, in_function: bool, type_checking: bool
          ) -> Iterator[tuple[ast.AST, bool, bool]]:
    for child in ast.iter_child_nodes(node):
        function = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
        guarded = type_checking or (isinstance(child, ast.If)
                                    and "TYPE_CHECKING" in ast.unparse(child.test))
        yield child, function, guarded
        yield from _walk(child, function, guarded)


def imports(root: Path = ROOT) -> list[Import]:
    """Each import of one project module by another, resolved to the module it loads."""
    files = module_files(root)
    found = []
    for module, path in files.items():
        is_package = path.name == "__init__.py"
        tree = ast.parse(path.read_text("utf-8"))
        for node, in_function, type_checking in _walk(tree, False, False):
            if isinstance(node, ast.ImportFrom):
                target = _absolute(module, is_package, node)
                taken = []
                for alias in node.names:
                    child = f"{target}.{alias.name}"
                    if child in files:  # `from package import module`
                        found.append(Import(module, child, (), node.lineno, in_function,
                                            type_checking))
                    else:
                        taken.append(alias.name)
                if target in files and (taken or not node.names):
                    found.append(Import(module, target, tuple(taken), node.lineno, in_function,
                                        type_checking))
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name in files:
                        found.append(Import(module, alias.name, (), node.lineno, in_function,
                                            type_checking))
    return [i for i in found if i.imported != i.importer]


def cycles(edges: set[tuple[str, str]]) -> list[list[str]]:
    """The strongly connected components of more than one node (Tarjan), each a circle."""
    graph: dict[str, list[str]] = {}
    for a, b in sorted(edges):
        graph.setdefault(a, []).append(b)
        graph.setdefault(b, [])
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def package_of(module: str) -> str:
    """The stage a module belongs to: `sla_dsl.<package>` (or the module itself at the top)."""
    parts = module.split(".")
    return ".".join(parts[:2])
