"""`.pre-commit-hooks.yaml`: the hooks the pre-commit framework offers, and that they work.

PyYAML is not a dependency, so the file is read by a small reader of the one shape it has (a
list of flat mappings); when PyYAML happens to be installed, it must read the same.
"""

from __future__ import annotations

import re
import shlex

import pytest

from sla_dsl.cli import main

from .conftest import POLICIES, ROOT

HOOKS_FILE = ROOT / ".pre-commit-hooks.yaml"


def _scalar(text: str):
    text = text.strip()
    if text in ("true", "false"):
        return text == "true"
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    if text.startswith("[") and text.endswith("]"):
        return [_scalar(item) for item in text[1:-1].split(",") if item.strip()]
    return text


def read_hooks() -> list[dict]:
    hooks: list[dict] = []
    for line in HOOKS_FILE.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = re.fullmatch(r"(- |  )([a-z_]+): (.+)", line)
        assert match, f"unexpected line in .pre-commit-hooks.yaml: {line!r}"
        if match.group(1) == "- ":
            hooks.append({})
        hooks[-1][match.group(2)] = _scalar(match.group(3))
    return hooks


HOOKS = read_hooks()


def test_the_hooks_are_sla_check_and_sla_fmt():
    assert [h["id"] for h in HOOKS] == ["sla-check", "sla-fmt"]
    for hook in HOOKS:
        assert {"id", "name", "entry", "language"} <= hook.keys()
        assert hook["language"] == "python"  # pre-commit installs this package to run it
        assert re.search(hook["files"], "policies/company-x.sla")
        assert not re.search(hook["files"], "README.md")
        assert not re.search(hook["files"], "policies/tests/company-x/thanksgiving.toml")


@pytest.mark.parametrize("hook", HOOKS, ids=lambda h: h["id"])
def test_each_hook_passes_on_the_example_policies(hook, capsys):
    program, *args = shlex.split(hook["entry"])
    assert program == "sla"
    assert main([*args, *hook.get("args", []), *map(str, POLICIES)]) == 0


@pytest.mark.parametrize("hook", HOOKS, ids=lambda h: h["id"])
def test_each_hook_fails_on_a_file_it_should_stop(hook, tmp_path, capsys):
    # a warning (W506) for the check, a layout that is not canonical for fmt
    policy = tmp_path / "late.sla"
    text = (ROOT / "tests" / "fixtures" / "errors" / "late-warning.sla").read_text("utf-8")
    policy.write_text(text.replace("  first touch", "    first touch"), encoding="utf-8")
    _, *args = shlex.split(hook["entry"])
    assert main([*args, *hook.get("args", []), str(policy)]) == 1


def test_pyyaml_reads_the_same_hooks():
    import yaml  # a test dependency: pre-commit reads the file as YAML, so must the test
    assert yaml.safe_load(HOOKS_FILE.read_text(encoding="utf-8")) == HOOKS
