"""A `deliver at least` line counts the leads its giver hands its receiver, as they stood at that
handoff (docs/language.md): an MDR's SQLs at the MDR's handoff to sales, not at marketing's
handoff to the MDR, and none of the leads marketing kept nurturing or discarded."""

from __future__ import annotations

import json
from zoneinfo import ZoneInfo

import numpy as np

from sla_dsl.business_time.zones import local_dates
from sla_dsl.evaluation.inputs import load_history
from sla_dsl.evaluation.replay import NONE, evaluate
from sla_dsl.measures.deliveries import handed_over, lead_values
from sla_dsl.policy_file import load_policy
from sla_dsl.reports.report import Report

from .conftest import ROOT


def _periods(policy_name: str, history: str) -> tuple[dict, object]:
    policy = load_policy(ROOT / "policies" / policy_name)
    evaluation = evaluate(policy, load_history([ROOT / history], policy=policy))
    doc = json.loads(Report(evaluation).json())
    by: dict = {}
    for period in doc["periods"]:
        c = period["commitment"]
        by.setdefault((c["from"], c["to"], c["deliver"]), []).append(period["delivered"])
    return by, evaluation


def test_an_mdr_s_sqls_are_counted_at_the_mdr_s_handoff_to_sales():
    # Read off the CSV by hand (each lead's fields as they stood at its first handoff by an
    # MDR, under the policy's definition of sql): 5, 18, 17 and 6 SQLs in January to April.
    # Counted at marketing's handoff, the same line read 12, 22, 21 and 3, and charged March.
    by, evaluation = _periods("new-breed.sla", "examples/new-breed/history.csv")
    assert by[("mdr", "sales", "sql")][:4] == [5.0, 18.0, 17.0, 6.0]
    assert by[("marketing", "mdr", "mql")][:4] == [68.0, 69.0, 84.0, 14.0]
    handed = handed_over(evaluation, "mdr", "sales")
    sql_block = evaluation.leads_of("sql")
    assert sorted(handed.leads.tolist()) == sorted(sql_block.tolist())
    # most were handed to the MDRs by marketing before; the MDRs' own prospects never were,
    # and counted at marketing's handoff they were not counted at all
    first = evaluation.handoff_at[handed.leads]
    by_marketing = first != NONE
    assert 0 < by_marketing.sum() < len(first)
    assert (handed.at[by_marketing] > first[by_marketing]).all()


def test_leads_marketing_keeps_or_discards_are_not_delivered_to_sales():
    by, evaluation = _periods("company-x.sla", "examples/company-x/history.csv")
    handed = handed_over(evaluation, "marketing", "sales")
    blocks = evaluation.handoff[handed.leads]
    assert set(blocks.tolist()) == {"hot", "small"}
    kept = np.flatnonzero(np.isin(evaluation.handoff, ["nurture", "discard"]))
    assert len(kept) == 12 and not np.isin(kept, handed.leads).any()
    # March's lead value: only what reached sales, which misses the 5,000 USD line
    values = lead_values(evaluation.policy, evaluation.at_handoff, evaluation.lead_count)
    zone = ZoneInfo(evaluation.policy.timezone)
    march = handed.leads[local_dates(handed.at, zone).astype("datetime64[M]")
                         == np.datetime64("2026-03")]
    assert by[("marketing", "sales", "USD of lead value")][2] == values[march].sum() == 4930.0
    kept_in_march = kept[local_dates(evaluation.handoff_at[kept], zone).astype("datetime64[M]")
                         == np.datetime64("2026-03")]
    assert values[kept_in_march].sum() > 0  # which the report counted before
