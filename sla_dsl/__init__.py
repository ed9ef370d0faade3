"""sla_dsl: service-level agreements between marketing and sales, written as code.

What a Python user calls (the `sla` command calls the same functions, so the two cannot drift):

    import sla_dsl

    policy = sla_dsl.load_policy("policies/company-x.sla")        # or the policy's text
    history = sla_dsl.load_history("examples/company-x/history.csv", policy=policy)
    report = sla_dsl.evaluate(policy, history, as_of="2026-04-06T00:00Z")
    report.attainment("first touch"), report.verdicts, report.document, report.text()

- `check(path_or_text) -> list[Diagnostic]`: every finding of `sla check`.
- `load_policy(path_or_text) -> Policy`: raises `PolicyError` (its `diagnostics`, its message
  the errors as `sla check` prints them) when the policy has errors.
- `load_history(paths, mapping=None, policy=None, *, preset=None, export_timezone=None,
  absences=None, reps=None) -> History`: read as `sla evaluate` reads, with the fields the
  policy needs; `absences` is a `rep,start,end[,reason]` CSV (`--absences`), in
  `history.absences`; `reps` a `rep,timezone,hours` CSV (`--reps`), in `history.reps`;
  `preset="salesforce"` or `"hubspot"` reads that CRM's export as it comes (`--preset`), and
  `export_timezone` is the zone of its times written without an offset (`--timezone`);
  `history.counts`, `history.left_out` and `history.rejects` say what was left out,
  `history.notes` what the export cannot show. Raises `HistoryError`.
- `evaluate(policy, history, as_of=None, *, reps=None) -> Report` (`reps`: each rep's own
  hours for `clocks run on owner hours`, over the history's): `.document` (the `--format
  json` dict), `.text()`, `.html()`, `.verdicts`, `.attainment(clause, handoff=None)`,
  `.verdict(...)`, `.due(within_hours=24)` (the `DueList` of `sla due`: `.document`,
  `.text()`, `.json()`, `.csv()`).
- `evaluate_shard(policy, history, shard, of, as_of=None) -> Partial` and `merge(policy,
  partials) -> Report`: the same evaluation as a map over shards of leads (a stable hash of the
  lead id) and the merge of their partials, byte for byte the single run's report
  (`sla evaluate --shard I/N`, `sla merge`; docs/scale.md).
- `simulate(policy, scenario, replications=20, seed=1, *, engine="local", scheduler=None)
  -> Simulation`: `.document`, `.text()`, `.attainment(clause, handoff=None)`; `engine="dask"`
  runs the replications on a Dask cluster (docs/cluster.md), with the same document.

The entry points are loaded on first use (PEP 562 module `__getattr__`), for start-up time:
the `sla` command imports this package on every run, and `sla check` must not wait for numpy,
pyarrow or simpy, which only evaluating and simulating need.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from sla_dsl.version import __version__

# name -> the module that defines it
_ENTRY_POINTS = {
    "check": "sla_dsl.policy_file",
    "load_policy": "sla_dsl.policy_file",
    "PolicyError": "sla_dsl.policy_file",
    "Policy": "sla_dsl.language.model",
    "Diagnostic": "sla_dsl.diagnostics.diagnostic",
    "load_history": "sla_dsl.evaluation.inputs",
    "History": "sla_dsl.history.columns",
    "HistoryError": "sla_dsl.history.columns",
    "evaluate": "sla_dsl.reports.report",
    "Report": "sla_dsl.reports.report",
    "Verdict": "sla_dsl.reports.report",
    "DueList": "sla_dsl.reports.due_list",
    "evaluate_shard": "sla_dsl.evaluation.shards",
    "merge": "sla_dsl.reports.sharded",
    "simulate": "sla_dsl.planning.simulation",
    "Simulation": "sla_dsl.planning.simulation",
}

__all__ = ["Diagnostic", "DueList", "History", "HistoryError", "Policy", "PolicyError",
           "Report", "Simulation", "Verdict", "__version__", "check", "evaluate",
           "evaluate_shard", "load_history", "load_policy", "merge", "simulate"]

if TYPE_CHECKING:
    from sla_dsl.diagnostics.diagnostic import Diagnostic
    from sla_dsl.evaluation.inputs import load_history
    from sla_dsl.evaluation.shards import evaluate_shard
    from sla_dsl.history.columns import History, HistoryError
    from sla_dsl.language.model import Policy
    from sla_dsl.planning.simulation import Simulation, simulate
    from sla_dsl.policy_file import PolicyError, check, load_policy
    from sla_dsl.reports.due_list import DueList
    from sla_dsl.reports.report import Report, Verdict, evaluate
    from sla_dsl.reports.sharded import merge


def __getattr__(name: str) -> object:
    module = _ENTRY_POINTS.get(name)
    if module is None:
        raise AttributeError(f"module 'sla_dsl' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # looked up once: the next use is a plain attribute
    return value


def __dir__() -> list[str]:
    """What a notebook's tab completion offers: the entry points, not this module's helpers."""
    return sorted(__all__)
