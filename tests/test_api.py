"""The Python API (`sla_dsl.load_policy`, `load_history`, `evaluate`, ...): the README's example
runs as written, and what it returns is what the `sla` command prints for the same inputs."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys

import pytest

import sla_dsl
from sla_dsl.cli import main

from .conftest import ROOT

POLICY = "policies/company-x.sla"
HISTORY = "examples/company-x/history.csv"
AS_OF = "2026-04-06T00:00Z"


def readme_example() -> str:
    """The first Python block under the README's "Use it from Python" heading."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Use it from Python", 1)[1].split("\n## ", 1)[0]
    found = re.search(r"```python\n(.*?)```", section, re.S)
    assert found, "README.md: no ```python block under 'Use it from Python'"
    return found.group(1)


@pytest.fixture
def in_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # the README's paths are the repository's


def cli(capsys: pytest.CaptureFixture, *args: str) -> str:
    capsys.readouterr()
    assert main(list(args)) == 0
    return capsys.readouterr().out


def test_the_readme_example_runs_and_agrees_with_the_cli(in_root, capsys):
    code = readme_example()
    assert len([line for line in code.splitlines() if line.strip()]) <= 5
    assert f'as_of="{AS_OF}"' in code and POLICY in code and HISTORY in code
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)
    printed = capsys.readouterr().out
    report = namespace["report"]
    assert printed.split()[0] == str(report.attainment("first touch"))
    shown = cli(capsys, "evaluate", POLICY, "--history", HISTORY, "--format", "json", "-q",
                "--as-of", AS_OF)
    assert report.document == json.loads(shown)
    assert report.json() == shown


def test_text_and_page_are_the_cli_s(in_root, capsys, tmp_path):
    page = tmp_path / "report.html"
    shown = cli(capsys, "evaluate", POLICY, "--history", HISTORY, "-q", "--as-of", AS_OF,
                "--html", str(page))
    policy = sla_dsl.load_policy(POLICY)
    report = sla_dsl.evaluate(policy, sla_dsl.load_history([HISTORY], policy=policy),
                              as_of=AS_OF, include_leads=False)
    assert report.text() == shown
    assert report.html() == page.read_text(encoding="utf-8")


def test_a_lead_s_audit_is_the_cli_s(in_root, capsys):
    shown = cli(capsys, "evaluate", POLICY, "--history", HISTORY, "-q", "--as-of", AS_OF,
                "--explain", "L0000007")
    policy = sla_dsl.load_policy(POLICY)
    report = sla_dsl.evaluate(policy, sla_dsl.load_history(HISTORY, policy=policy),
                              as_of=AS_OF)
    assert report.explain("L0000007") == shown
    with pytest.raises(LookupError, match="no lead 'no such lead'"):
        report.explain("no such lead")


def test_verdicts_are_the_report_s_clause_table(in_root):
    policy = sla_dsl.load_policy(POLICY)
    report = sla_dsl.evaluate(policy, sla_dsl.load_history(HISTORY, policy=policy),
                              as_of=AS_OF)
    clauses = report.document["summary"]["clauses"]
    assert [vars(v) for v in report.verdicts] == clauses
    hot = report.verdict("hot", "first touch")
    assert report.attainment("first touch", "hot") == hot.attainment
    touches = [c for c in clauses if c["clause"] == "first touch"]
    met, breached = sum(c["met"] for c in touches), sum(c["breached"] for c in touches)
    assert report.attainment("first touch") == round(100 * met / (met + breached), 1)
    assert report.breached == (report.document["summary"]["breached"] > 0)
    with pytest.raises(KeyError, match="no clause 'first tuch'"):
        report.attainment("first tuch")
    with pytest.raises(ValueError, match="as_of 'tomorrow'"):
        sla_dsl.evaluate(policy, report.history, as_of="tomorrow")


def test_a_policy_from_its_text_and_its_errors():
    text = (ROOT / POLICY).read_text(encoding="utf-8")
    assert sla_dsl.load_policy(text).title == sla_dsl.load_policy(ROOT / POLICY).title
    assert sla_dsl.check(text) == []
    broken = 'sla "Broken"\nhandoff every lead from marketing to sales {\n}\n'
    findings = sla_dsl.check(broken)
    assert any(d.severity == "error" for d in findings)
    with pytest.raises(sla_dsl.PolicyError) as raised:
        sla_dsl.load_policy(broken)
    assert raised.value.diagnostics == findings
    assert findings[0].message in str(raised.value) and "sla check" in str(raised.value)


def test_rows_and_rejects_are_read_as_the_cli_reads_them(in_root, tmp_path):
    rows = (ROOT / HISTORY).read_text(encoding="utf-8").splitlines()
    damaged = tmp_path / "history.csv"
    damaged.write_text("\n".join([*rows, "L9999,not a time,created,"]) + "\n",
                       encoding="utf-8")
    policy = sla_dsl.load_policy(POLICY)
    history = sla_dsl.load_history(damaged, policy=policy)
    assert history.counts.read == len(rows) and history.counts.rejected == 1
    assert history.rejects[0].raw["lead_id"] == "L9999"


def test_simulate_is_the_cli_s(in_root, capsys):
    scenario = "examples/scenarios/inbound-desk.toml"
    shown = cli(capsys, "simulate", "policies/inbound-desk.sla", "--scenario", scenario,
                "--replications", "2", "--seed", "3", "--format", "json")
    simulation = sla_dsl.simulate(sla_dsl.load_policy("policies/inbound-desk.sla"), scenario,
                                  replications=2, seed=3)
    assert simulation.json() == shown
    first = simulation.document["clauses"][0]
    assert simulation.attainment(first["clause"], first["handoff"]) == first["attainment"]


def loaded_after(code: str) -> list[str]:
    """The heavy libraries a fresh interpreter has loaded after running `code`."""
    probe = (f"{code}\nimport sys\n"
             "print(' '.join(m for m in ('numpy', 'pyarrow', 'simpy', 'scipy') "
             "if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          cwd=ROOT, check=True)
    return done.stdout.splitlines()[-1].split() if done.stdout.strip() else []


def test_import_sla_dsl_is_cheap():
    assert loaded_after("import sla_dsl") == []


def test_sla_check_loads_neither_pyarrow_nor_simpy():
    loaded = loaded_after("from sla_dsl.cli import main\n"
                          "assert main(['check', 'policies/company-x.sla']) == 0")
    assert "pyarrow" not in loaded and "simpy" not in loaded and "scipy" not in loaded


def test_evaluate_shard_reads_the_as_of_time_as_evaluate_does():
    # it took µs only: text raised numpy's _UFuncNoLoopError from deep in the replay
    policy = sla_dsl.load_policy(ROOT / "policies" / "company-x.sla")
    history = sla_dsl.load_history([ROOT / "examples" / "company-x" / "history.csv"],
                                   policy=policy)
    parts = [sla_dsl.evaluate_shard(policy, history, i, 3, as_of="2026-02-15T10:00")
             for i in range(3)]
    assert sla_dsl.merge(policy, parts).json() == \
        sla_dsl.evaluate(policy, history, as_of="2026-02-15T10:00").json()


@pytest.mark.parametrize("moment", [True, dt.date(2026, 3, 1), 1.7e15])
def test_an_as_of_of_another_kind_is_a_value_error(moment):
    # a bool was read as µs (a report as of 1970); a date or a float raised AttributeError
    policy = sla_dsl.load_policy(ROOT / "policies" / "company-x.sla")
    history = sla_dsl.load_history([ROOT / "examples" / "company-x" / "history.csv"],
                                   policy=policy)
    with pytest.raises(ValueError, match="is not a date and time: a "):
        sla_dsl.evaluate(policy, history, as_of=moment)
    with pytest.raises(ValueError, match="is not a date and time: a "):
        sla_dsl.evaluate_shard(policy, history, 0, 2, as_of=moment)


def test_a_path_where_a_loaded_object_belongs_is_a_type_error_that_says_so():
    # each raised an AttributeError from deep inside ('str' object has no attribute 'at')
    policy = sla_dsl.load_policy(ROOT / "policies" / "company-x.sla")
    path = str(ROOT / "examples" / "company-x" / "history.csv")
    history = sla_dsl.load_history([path], policy=policy)
    calls = [
        (lambda: sla_dsl.evaluate(policy, path), "history is str"),
        (lambda: sla_dsl.evaluate(str(ROOT / "policies" / "company-x.sla"), history),
         "policy is str"),
        (lambda: sla_dsl.load_history(path, policy="company-x.sla"), "sla_dsl.load_policy"),
        (lambda: sla_dsl.load_history(123), "not a file or a list of files"),
        (lambda: sla_dsl.simulate("company-x.sla", "company-x.toml"), "not a Policy"),
        (lambda: sla_dsl.merge(policy, ["shard-0.parquet"]), "not evaluate_shard's Partials"),
        (lambda: sla_dsl.evaluate_shard(policy, history, "0", "4"), "both are whole numbers"),
    ]
    for call, said in calls:
        with pytest.raises(TypeError, match=re.escape(said)):
            call()
