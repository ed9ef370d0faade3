"""The merge keeps only the events the measures read (issue 16 item 3: a merge whose memory
does not hold every event): the merged report is still the single run's byte for byte, at
any as-of time, with every shipped policy; the merged history holds fewer events, in compact
types; the page's clock audits and `explain` read a lead's every event from its shard."""

from __future__ import annotations

import datetime as dt
from functools import cache

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sla_dsl
from sla_dsl.evaluation.merge_stream import head_of
from sla_dsl.evaluation.merged_history import needed_rows, touches_read
from sla_dsl.evaluation.partial_file import (
    PartialFileError,
    read_head,
    read_partial,
    write_partial,
)
from sla_dsl.evaluation.shards import evaluate_shard, shard_of, slim
from sla_dsl.history.columns import EVENT_CODE
from sla_dsl.history.synthetic import generate
from sla_dsl.history.write import write_csv
from sla_dsl.reports.sharded import MergedReport, merge, merge_files

from .conftest import ROOT

POLICIES = sorted(p.name for p in (ROOT / "policies").glob("*.sla") if p.name != "olist.sla")
HISTORIES = ("examples/company-x/history.csv", "examples/new-breed/history.csv")


@cache
def _inputs(policy: str, history: str):
    loaded = sla_dsl.load_policy(ROOT / "policies" / policy)
    return loaded, sla_dsl.load_history([ROOT / history], policy=loaded)


def _merged(policy, history, of: int, as_of: int | None = None) -> MergedReport:
    partials = [slim(policy, evaluate_shard(policy, history, i, of, as_of))
                for i in range(of)]
    return merge(policy, partials, shard_history=lambda i: evaluate_shard(
        policy, history, i, of, as_of).history)


@settings(max_examples=30, deadline=None)
@given(policy=st.sampled_from(POLICIES), history=st.sampled_from(HISTORIES),
       of=st.integers(1, 5), cut=st.floats(0.02, 1.0))
def test_the_slim_merge_is_the_single_run_at_any_as_of_time(policy, history, of, cut):
    loaded, events = _inputs(policy, history)
    first, last = int(events.at.min()), int(events.at.max())
    as_of = first + int((last - first) * cut)  # events after it are left out of the merge
    single = sla_dsl.evaluate(loaded, events, as_of)
    merged = _merged(loaded, events, of, as_of)
    assert merged.json() == single.json()
    assert merged.text() == single.text()
    assert merged.html() == single.html()


def _count(history, kind: str, as_of: int) -> int:
    return int(np.count_nonzero((history.event == EVENT_CODE[kind]) & (history.at <= as_of)))


def test_the_merged_history_keeps_the_events_the_measures_read_and_no_other(tmp_path):
    # a busy week (2,000 leads in 5 days: several events in most quarter hours)
    path = tmp_path / "week.csv"
    write_csv(generate(2000, dt.date(2026, 3, 2), 5, "Europe/Amsterdam", 3), path)
    loaded = sla_dsl.load_policy(ROOT / "policies" / "inbound-desk.sla")
    events = sla_dsl.load_history(path, policy=loaded)
    as_of = int(events.at.max())
    merged = _merged(loaded, events, 3).history
    assert merged_report_is_single(loaded, events, 3)
    assert not touches_read(loaded, sla_dsl.evaluate(loaded, events).evaluation.clauses)
    assert len(merged) < 0.8 * len(events)
    assert (merged.lead.dtype, merged.event.dtype, merged.actor.dtype) == (
        np.int32, np.int8, np.int32)
    for kind in ("engaged", "handoff", "assigned", "connected", "rejected", "won", "lost"):
        assert _count(merged, kind, as_of) == _count(events, kind, as_of)
    # no measure of this policy reads a touch or an acceptance: only what dates the days
    # (one event per quarter hour), each lead's first event and the latest are kept of them
    assert _count(merged, "touch", as_of) < _count(events, "touch", as_of) / 2
    assert _count(merged, "accepted", as_of) < _count(events, "accepted", as_of)
    assert merged.fields == {}
    assert merged.counts == events.counts  # rows read, accepted and rejected: the files'


def test_touches_are_all_kept_where_the_depth_counts_them_and_attribution_fields_kept():
    # company-x has a block without a `touches` clause (its depth counts touches itself) and
    # an attribution statement (amount, campaign, channel of the won leads' touchpoints)
    loaded, events = _inputs("company-x.sla", HISTORIES[0])
    as_of = int(events.at.max())
    assert touches_read(loaded, sla_dsl.evaluate(loaded, events).evaluation.clauses)
    merged = _merged(loaded, events, 4).history
    assert _count(merged, "touch", as_of) == _count(events, "touch", as_of)
    assert set(merged.fields) == {"amount", "campaign", "channel"} & set(events.fields)
    keep = needed_rows(loaded, events, as_of, touches=True)
    won = keep & (events.event == EVENT_CODE["won"])
    assert won.sum() == _count(events, "won", as_of) > 0


def test_an_as_of_before_some_events_leaves_them_out_of_the_merge():
    loaded, events = _inputs("inbound-desk.sla", HISTORIES[0])
    as_of = int(np.median(events.at))
    merged = _merged(loaded, events, 2, as_of).history
    assert len(merged) and int(merged.at.max()) <= as_of


def merged_report_is_single(policy, history, of: int) -> bool:
    single, merged = sla_dsl.evaluate(policy, history), _merged(policy, history, of)
    return (merged.json(), merged.text()) == (single.json(), single.text())


@pytest.mark.parametrize("of", [1, 3])
def test_explain_and_the_pages_audits_read_the_leads_every_event_from_its_shard(of):
    loaded, events = _inputs("company-x-trial.sla", HISTORIES[0])
    single = sla_dsl.evaluate(loaded, events)
    merged = _merged(loaded, events, of)
    breached = [r["lead_id"] for r in single.summary_document["summary"]["latest_breaches"]]
    assert breached  # the page shows audits of these
    shards = set(shard_of(breached, of).tolist())
    assert of == 1 or len(shards) > 1  # read from more than one shard
    assert merged.audits(breached) == single.audits(breached)
    for lead in breached[:3]:
        assert merged.explain(lead) == single.explain(lead)


def test_a_partials_head_is_what_the_merge_places_before_reading_it_whole(tmp_path):
    loaded, events = _inputs("company-x-trial.sla", HISTORIES[0])
    for shard in range(3):
        partial = evaluate_shard(loaded, events, shard, 3)
        write_partial(partial, tmp_path / f"{shard}.parquet")
        head, want = read_head(tmp_path / f"{shard}.parquet"), head_of(partial)
        assert (head.shard, head.of, head.fingerprint, head.history_id, head.as_of) == (
            want.shard, want.of, want.fingerprint, want.history_id, want.as_of)
        assert head.lead_index.tolist() == want.lead_index.tolist()
        assert [r.tolist() for r in head.clause_rows] == [r.tolist() for r in want.clause_rows]
        assert sum(int(r.sum()) for r in head.clause_rows) == sum(
            len(c.leads) for c in partial.clauses) > 0


def test_merging_files_reads_them_one_at_a_time_into_the_single_runs_report(tmp_path):
    loaded, events = _inputs("company-x.sla", HISTORIES[0])
    paths = []
    for shard in (2, 0, 3, 1):  # any order
        paths.append(tmp_path / f"{shard}.parquet")
        write_partial(evaluate_shard(loaded, events, shard, 4), paths[-1])
    read = []
    merged = merge_files(loaded, paths, on_partial=lambda: read.append(1))
    single = sla_dsl.evaluate(loaded, events)
    assert len(read) == 4
    assert (merged.json(), merged.text(), merged.html()) == (
        single.json(), single.text(), single.html())
    # a file damaged after its head was read is still said as a damaged partial
    import pyarrow.parquet as pq

    table = pq.read_table(paths[1])
    pq.write_table(table.drop_columns(["lead.owner"]), paths[1])
    with pytest.raises(PartialFileError, match="a damaged partial"):
        merge_files(loaded, paths)


@pytest.mark.parametrize(("policy", "history"), [("company-x.sla", HISTORIES[0]),
                                                  ("new-breed.sla", HISTORIES[1]),
                                                  ("inbound-desk.sla", HISTORIES[0])])
def test_slimmed_partials_written_to_files_merge_to_the_single_runs_report(policy, history,
                                                                           tmp_path):
    # what `sla evaluate --history DIR` keeps of each bucket until the merge
    loaded, events = _inputs(policy, history)
    paths = []
    for shard in range(3):
        partial = slim(loaded, evaluate_shard(loaded, events, shard, 3))
        paths.append(tmp_path / f"{shard}.parquet")
        write_partial(partial, paths[-1])
        back = read_partial(paths[-1])
        assert back.history.lead.size == 0 and len(back.events) == len(partial.events) > 0
        for name in ("lead", "at", "event", "actor"):
            want = getattr(partial.events, name)
            assert getattr(back.events, name).dtype == want.dtype
            assert getattr(back.events, name).tolist() == want.tolist()
        assert {name: column.tolist() for name, column in back.events.fields.items()} == {
            name: column.tolist() for name, column in partial.events.fields.items()}
    single = sla_dsl.evaluate(loaded, events)
    merged = merge_files(loaded, paths, shard_history=lambda i: evaluate_shard(
        loaded, events, i, 3).history)
    assert (merged.json(), merged.text(), merged.html()) == (
        single.json(), single.text(), single.html())
    lead = str(events.lead_ids[0])
    with pytest.raises(PartialFileError, match="a slimmed partial"):  # no audit from them
        merge_files(loaded, paths).explain(lead)


def test_one_event_a_quarter_hour_is_what_coverage_reads():
    from sla_dsl.evaluation import merged_history
    from sla_dsl.measures import coverage

    # coverage dates events by their quarter hour: one kept a quarter hour dates the same days
    assert merged_history.QUARTER_HOUR == coverage._QUARTER_HOUR
