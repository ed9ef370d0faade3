"""docs/ci.md stays true: every `sla` command in its workflow is one the CLI accepts, and the
workflow is the YAML GitHub reads."""

from __future__ import annotations

import re
import shlex

import pytest

from sla_dsl.cli import build_parser

from .conftest import ROOT

DOC = (ROOT / "docs" / "ci.md").read_text(encoding="utf-8")
(WORKFLOW,) = re.findall(r"```yaml\n(name: policies\n.*?)```", DOC, re.DOTALL)


def _sla_commands(text: str) -> list[list[str]]:
    """Each `sla …` command, continuation lines joined, shell variables given sample values."""
    joined = re.sub(r"\\\n\s*", " ", text)
    commands = []
    for line in joined.splitlines():
        line = re.sub(r"\s#.*$", "", line)  # a YAML or shell comment
        start = re.search(r"(?:^|run: |\s)(sla (?:check|fmt|test|diff)\b[^|>&;]*)", line)
        if not start:
            continue
        command = start.group(1).replace("|| true", "")
        for variable, sample in (("$BASE", "origin/main"), ("$policy", "policies/x.sla"),
                                 ("$history", "examples/x/history.csv")):
            command = command.replace(f'"{variable}', f'"{sample}').replace(variable, sample)
        commands.append(shlex.split(command)[1:])
    return commands


COMMANDS = _sla_commands(WORKFLOW)


def test_the_workflow_runs_check_fmt_test_and_diff():
    verbs = {command[0] for command in COMMANDS}
    assert verbs == {"check", "fmt", "test", "diff"}
    assert ["check", "--format", "sarif", "policies/"] in COMMANDS


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c))
def test_every_sla_command_of_the_page_parses(command):
    args = build_parser().parse_args(command)
    assert callable(args.run)


def test_the_workflow_is_yaml_github_can_read():
    import yaml  # a test dependency: GitHub reads the file as YAML, so must the test
    workflow = yaml.safe_load(WORKFLOW)
    steps = workflow["jobs"]["policies"]["steps"]
    assert workflow["permissions"]["security-events"] == "write"
    assert any(s.get("uses", "").startswith("github/codeql-action/upload-sarif") for s in steps)
    runs = "\n".join(s.get("run", "") for s in steps)
    assert _sla_commands(runs) == _sla_commands(WORKFLOW)
