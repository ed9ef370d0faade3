"""Sharded evaluation: every shard's partial, merged, is the single run's report byte for byte
(issue 16, items 2 and 5), on the shipped policies and example histories."""

from __future__ import annotations

import contextlib
import io
import json
import tempfile
from functools import cache
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sla_dsl
from sla_dsl.cli import main
from sla_dsl.evaluation.partial_file import read_partial, write_partial
from sla_dsl.evaluation.shards import (
    PartialMismatch,
    cut,
    evaluate_shard,
    shard_of,
)
from sla_dsl.history.lead_hash import lead_bucket, lead_hash
from sla_dsl.reports.sharded import (
    ShardTask,
    evaluate_mapped,
    evaluate_sharded,
    merge,
    run_shard,
    shard_tasks,
)

from .conftest import FIXTURES, ROOT

POLICY = str(ROOT / "policies" / "company-x.sla")
HISTORY = str(ROOT / "examples" / "company-x" / "history.csv")
BROKEN = str(FIXTURES / "histories" / "broken.csv")
# Every example history shipped as an event log, each with a policy that reads it (the trial
# policy has handoff rounds, reassignment and absences rules; fusion two levels).
EXAMPLES = [
    ("company-x.sla", ("examples/company-x/history.csv",)),
    ("company-x-trial.sla", ("examples/company-x/history.csv",)),
    ("new-breed.sla", ("examples/new-breed/history.csv",)),
    ("fusion.sla", ("examples/company-x/history.csv",)),
    ("inbound-desk.sla", ("examples/company-x/history.csv",)),
    ("sales-floor.sla", ("examples/company-x/history.csv",)),
    ("company-x.sla", ("examples/salesforce/events/history.csv",)),
    ("company-x.sla", ("examples/hubspot/events/history.csv",)),
    ("company-x.sla", ("tests/fixtures/histories/broken.csv", "examples/company-x/history.csv")),
    ("company-x.sla", ("tests/fixtures/histories/events.csv",)),  # 9 leads: empty shards
    # CRM exports read through a mapping and a preset
    ("olist.sla", ("mapping", "examples/olist/mapping.toml")),
    ("inbound-desk.sla", ("preset", "salesforce", *(f"examples/salesforce/{name}.csv" for name
                                                    in ("Lead", "LeadHistory", "Task", "Event",
                                                        "User")))),
]


@cache
def _inputs(policy: str, history: tuple[str, ...]):
    loaded = sla_dsl.load_policy(ROOT / "policies" / policy)
    if history[0] == "mapping":
        return loaded, sla_dsl.load_history([], mapping=ROOT / history[1], policy=loaded)
    if history[0] == "preset":
        return loaded, sla_dsl.load_history([ROOT / h for h in history[2:]], preset=history[1],
                                            policy=loaded)
    return loaded, sla_dsl.load_history([ROOT / h for h in history], policy=loaded)


@cache
def _single(policy: str, history: tuple[str, ...]) -> tuple[str, str]:
    report = sla_dsl.evaluate(*_inputs(policy, history))
    return report.json(), report.text()


def _merged_through_files(policy: str, history: tuple[str, ...], of: int):
    loaded, events = _inputs(policy, history)
    with tempfile.TemporaryDirectory() as folder:
        paths = []
        for shard in reversed(range(of)):  # any order
            path = Path(folder) / f"shard-{shard}.parquet"
            write_partial(evaluate_shard(loaded, events, shard, of), path)
            paths.append(path)
        return merge(loaded, [read_partial(p) for p in paths])


@settings(max_examples=40, deadline=None)
@given(example=st.sampled_from(EXAMPLES), of=st.integers(1, 7))
def test_merged_shards_are_the_single_run_byte_for_byte(example, of):
    report = _merged_through_files(*example, of)
    single_json, single_text = _single(*example)
    assert report.json() == single_json
    assert report.text() == single_text


def test_merged_shards_name_each_clause_s_owner_and_clock_start():
    """The two-level example: its advisors' clauses carry their own owner and clock start in
    the merged run exactly as in the single one (the sampled test above may not draw it)."""
    example = ("new-breed.sla", ("examples/new-breed/history.csv",))
    merged = json.loads(_merged_through_files(*example, 3).json())
    assert merged == json.loads(_single(*example)[0])
    # a lead marketing handed to an MDR first: its advisors' clocks start at the MDR's handoff
    sql = [r for lead in merged["leads"] if lead["handoff"] != "sql"
           for r in lead["clauses"] if r["handoff"] == "sql"]
    assert sql and all("clock_start" in r and r["owner"] for r in sql)


def test_shards_without_a_lead_merge_too():
    example = ("company-x.sla", ("tests/fixtures/histories/events.csv",))
    _, history = _inputs(*example)
    assert set(shard_of(history.lead_ids, 7).tolist()) != set(range(7))  # some shards empty
    report = _merged_through_files(*example, 7)
    assert (report.json(), report.text()) == _single(*example)


def test_merged_page_and_leads_in_the_single_runs_order(tmp_path):
    # the history's rows backwards: the single run lists leads in the order they first
    # appear, which is then not the order of their ids, and the merge must keep it
    header, *rows = Path(HISTORY).read_text().splitlines()
    backwards = tmp_path / "backwards.csv"
    backwards.write_text("\n".join([header, *reversed(rows)]) + "\n")
    loaded = sla_dsl.load_policy(ROOT / "policies" / "company-x-trial.sla")
    history = sla_dsl.load_history(backwards, policy=loaded)
    single = sla_dsl.evaluate(loaded, history)
    partials = [evaluate_shard(loaded, history, i, 4) for i in range(4)]
    for i, partial in enumerate(partials):
        write_partial(partial, tmp_path / f"{i}.parquet")
    report = merge(loaded, [read_partial(tmp_path / f"{i}.parquet") for i in (2, 0, 3, 1)])
    assert report.html() == single.html()
    assert report.json() == single.json()
    merged_ids = [lead["lead_id"] for lead in json.loads(report.json())["leads"]]
    assert merged_ids == [lead["lead_id"] for lead in json.loads(single.json())["leads"]]
    assert merged_ids != sorted(merged_ids)
    assert list(report.history.lead_ids) == list(single.history.lead_ids)


def test_the_shard_hash_is_blake2b_of_the_id_and_partitions_the_leads():
    # documented in docs/scale.md: BLAKE2b, 8-byte digest, little endian, modulo N
    assert lead_hash("L-0001") == 0x123CC8CCB3D1E7F9
    assert lead_hash("L-0001") % 4 == 1 == lead_bucket("L-0001", 4)
    _, history = _inputs("company-x.sla", ("examples/company-x/history.csv",))
    shards = shard_of(history.lead_ids, 5)
    assert set(shards.tolist()) == set(range(5))
    cuts = [cut(history, i, 5) for i in range(5)]
    assert sorted(np.concatenate([c[1] for c in cuts]).tolist()) == list(
        range(len(history.lead_ids)))
    assert sum(len(c[0]) for c in cuts) == len(history)
    for i, (sub, leads, _) in enumerate(cuts):
        assert (shard_of(sub.lead_ids, 5) == i).all()
        assert list(sub.lead_ids) == list(history.lead_ids[leads])


def test_each_shard_counts_its_rows_and_the_counts_add_up():
    loaded, history = _inputs("company-x.sla", ("tests/fixtures/histories/broken.csv",
                                                "examples/company-x/history.csv"))
    assert history.counts.rejected > 1
    partials = [sla_dsl.evaluate_shard(loaded, history, i, 3) for i in range(3)]
    counts = [p.history.counts for p in partials]
    assert sum(c.read for c in counts) == history.counts.read
    assert sum(c.accepted for c in counts) == history.counts.accepted
    assert sum(c.rejected for c in counts) == history.counts.rejected
    for c in counts:
        assert c.read == c.accepted + c.rejected
    merged = sla_dsl.merge(loaded, partials)
    assert [r.row for r in merged.history.rejects] == [r.row for r in history.rejects]


def test_a_partial_file_reads_back_as_written(tmp_path):
    loaded, history = _inputs("company-x-trial.sla", ("examples/company-x/history.csv",))
    partial = evaluate_shard(loaded, history, 1, 3)
    write_partial(partial, tmp_path / "p.parquet")
    back = read_partial(tmp_path / "p.parquet")
    assert (back.shard, back.of, back.as_of, back.fingerprint) == (
        1, 3, partial.as_of, partial.fingerprint)
    assert (back.lead_index == partial.lead_index).all()
    for name in ("lead", "at", "event", "actor", "row", "source"):
        assert (getattr(back.history, name) == getattr(partial.history, name)).all(), name
    for mine, theirs in zip(back.clauses, partial.clauses, strict=True):
        assert (mine.leads == theirs.leads).all() and (mine.status == theirs.status).all()
        assert (mine.attempt == theirs.attempt).all()


def test_the_map_step_reads_its_inputs_from_paths():
    task = ShardTask(policy=POLICY, history=(HISTORY,), shard=0, of=2)
    partials = [run_shard(task), run_shard(ShardTask(POLICY, (HISTORY,), 1, 2))]
    loaded = sla_dsl.load_policy(POLICY)
    assert merge(loaded, partials).json() == _single("company-x.sla",
                                                     ("examples/company-x/history.csv",))[0]


def test_partials_of_another_policy_time_or_missing_shards_are_refused():
    loaded, history = _inputs("company-x.sla", ("examples/company-x/history.csv",))
    partials = [evaluate_shard(loaded, history, i, 3) for i in range(3)]
    with pytest.raises(PartialMismatch, match="shard 1 of 3 missing"):
        merge(loaded, [partials[0], partials[2]])
    with pytest.raises(PartialMismatch, match="shard 2/3 is given twice"):
        merge(loaded, [*partials, partials[2]])
    other = sla_dsl.load_policy(ROOT / "policies" / "new-breed.sla")
    with pytest.raises(PartialMismatch, match="another policy"):
        merge(other, partials)
    earlier = evaluate_shard(loaded, history, 1, 3, as_of=int(history.at.max()) - 1)
    with pytest.raises(PartialMismatch, match="another time"):
        merge(loaded, [partials[0], earlier, partials[2]])
    with pytest.raises(PartialMismatch, match="is shard 3/4 but partial 1 is of 3 shards"):
        merge(loaded, [*partials, evaluate_shard(loaded, history, 3, 4)])
    # the same policy and as-of time, but another export: its leads are not these
    _, other_history = _inputs("company-x.sla", ("tests/fixtures/histories/broken.csv",
                                                 "examples/company-x/history.csv"))
    other_shard = evaluate_shard(loaded, other_history, 1, 3, as_of=partials[0].as_of)
    same_time = [evaluate_shard(loaded, history, i, 3, as_of=partials[0].as_of)
                 for i in range(3)]
    with pytest.raises(PartialMismatch, match="partial 2 was cut from another history"):
        merge(loaded, [same_time[0], other_shard, same_time[2]])
    assert merge(loaded, same_time).json() != merge(loaded, partials).json()  # given: said so


def _cli(*args: str) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of one `sla` command."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


def test_sla_merge_prints_the_single_runs_report(tmp_path):
    shards = [str(tmp_path / f"{i}.parquet") for i in range(3)]
    for i, path in enumerate(shards):
        assert _cli("evaluate", POLICY, "--history", BROKEN, HISTORY, "--shard", f"{i}/3",
                    "--partial", path, "--as-of", "2026-04-01T12:00")[0] == 0
    for fmt in ("json", "text", "html"):
        code, merged, said = _cli("merge", *shards, "--policy", POLICY, "--format", fmt)
        args = ["--format", "json"] if fmt == "json" else (
            ["--html", str(tmp_path / "single.html")] if fmt == "html" else [])
        single_code, single, single_said = _cli("evaluate", POLICY, "--history", BROKEN,
                                                HISTORY, "--as-of", "2026-04-01T12:00", *args)
        assert code == single_code == 0
        assert said == single_said  # the same rejected rows listed on stderr
        if fmt == "html":
            assert merged == (tmp_path / "single.html").read_text()
        else:
            assert merged == single
    # a shard of another export, or as of another time, is refused with exit 2 and why
    assert _cli("evaluate", POLICY, "--history", HISTORY, "--shard", "1/3", "--partial",
                shards[1], "--as-of", "2026-04-01T12:00")[0] == 0
    code, _, said = _cli("merge", *shards, "--policy", POLICY)
    assert code == 2 and "1.parquet was cut from another history than" in said
    assert _cli("evaluate", POLICY, "--history", BROKEN, HISTORY, "--shard", "1/3",
                "--partial", shards[1])[0] == 0
    code, _, said = _cli("merge", *shards, "--policy", POLICY)
    assert code == 2 and "is as of another time" in said
    code, _, said = _cli("merge", shards[0], shards[2], "--policy", POLICY)
    assert code == 2 and "shard 1 of 3 missing" in said
    code, _, said = _cli("merge", shards[0], shards[0], shards[2], "--policy", POLICY)
    assert code == 2 and "given twice" in said
    code, _, said = _cli("merge", *shards, "--policy", str(ROOT / "policies" / "olist.sla"))
    assert code == 2 and "another policy" in said
    code, _, said = _cli("merge", HISTORY, "--policy", POLICY)
    assert code == 2 and "not a Parquet file" in said


def test_shard_options_that_do_not_go_together_are_usage_errors(tmp_path):
    partial = str(tmp_path / "p.parquet")
    for args in (["--shard", "0/2"], ["--partial", partial], ["--shard", "2/2", "--partial",
                 partial], ["--shard", "a/2", "--partial", partial],
                 ["--shard", "0/2", "--partial", partial, "--format", "json"],
                 ["--shards", "2", "--shard", "0/2", "--partial", partial],
                 ["--workers", "2"], ["--shards", "0"], ["--shards", "1025"],
                 ["--shard", "0/1025", "--partial", partial],
                 ["--shard", "+0/2", "--partial", partial],
                 ["--shard", "0/1_0", "--partial", partial],
                 ["--shard", "\u0660/2", "--partial", partial],  # an Arabic-Indic zero
                 ["--shard", " 0/2", "--partial", partial],
                 ["--shards", "2", "--workers", "257"]):
        try:
            code = _cli("evaluate", POLICY, "--history", HISTORY, *args)[0]
        except SystemExit as stop:  # argparse's own errors (a shard that is not I/N)
            code = stop.code
        assert code == 2, args
    assert not Path(partial).exists()


@pytest.mark.parametrize("workers", [1, 2])
def test_evaluate_with_shards_is_the_single_run(workers):
    for fmt in ("json", "text"):
        code, sharded, _ = _cli("evaluate", POLICY, "--history", HISTORY, "--shards", "3",
                             "--workers", str(workers), "--format", fmt, "--quiet")
        assert code == 0
        json_text, text = _single("company-x.sla", ("examples/company-x/history.csv",))
        assert sharded == (json_text if fmt == "json" else text)


def test_progress_counts_every_block_of_every_shard_across_workers():
    loaded, history = _inputs("company-x-trial.sla", ("examples/company-x/history.csv",))
    blocks = sum(h.receiver is not None for h in loaded.handoffs)
    told: list[int] = []
    report = evaluate_sharded(loaded, history, 4, workers=2, on_block=told.append)
    assert sorted(told) == sorted(list(range(4)) * blocks)
    assert report.json() == _single("company-x-trial.sla",
                                    ("examples/company-x/history.csv",))[0]


def test_one_bar_over_the_blocks_of_every_shard():
    from sla_dsl.cli.stage_progress import StageProgress

    loaded, history = _inputs("company-x.sla", ("examples/company-x/history.csv",))
    blocks = sum(h.receiver is not None for h in loaded.handoffs)
    stream = io.StringIO()
    with StageProgress(3 * blocks, "sla evaluate", stream=stream, enabled=True, delay=0,
                       tick=0.01) as bar, bar.stage("evaluating 3 shards", 3 * blocks):
        evaluate_sharded(loaded, history, 3, workers=2, on_block=lambda _: bar.advance())
        assert bar.bar.done == 3 * blocks  # every shard's blocks, before the stage ends
    assert f"sla evaluate: evaluating 3 shards [{'#' * 30}] {3 * blocks}/{3 * blocks}" \
        in stream.getvalue()


def _events_changed(table, name: str, change) -> object:
    import pyarrow as pa

    column = table.column(name)
    lists = [change(v or []) for v in column.to_pylist()]
    return table.set_column(table.column_names.index(name), name,
                            pa.array(lists, column.type))


@pytest.mark.parametrize(("column", "change"), [
    ("event.at", lambda at: at[:1]),  # was exit 70: a ValueError in a broadcast
    ("event.at", lambda at: [None] * len(at)),  # was exit 70: an OverflowError
    ("event.event", lambda codes: [99] * len(codes)),  # was exit 70: an IndexError
    ("event.event", lambda codes: [1] * len(codes)),  # codes that exist: was a silent change
    ("clause.0.status", lambda status: [1 - s for s in status]),  # met <-> breached: silent
])
def test_a_partial_whose_values_were_changed_is_refused(tmp_path, column, change):
    """A partial rewritten with its metadata kept: exit 70 in sla merge, or a report that
    differed from the single run's without a word."""
    import pyarrow.parquet as pq

    good = tmp_path / "good.parquet"
    assert _cli("evaluate", POLICY, "--history", HISTORY, "--shard", "0/1", "--partial",
                str(good))[0] == 0
    table = pq.read_table(good)
    changed = _events_changed(table, column, change).replace_schema_metadata(
        table.schema.metadata)
    pq.write_table(changed, tmp_path / "changed.parquet")
    code, _, err = _cli("merge", str(tmp_path / "changed.parquet"), "--policy", POLICY)
    assert code == 2
    assert (f"changed.parquet: a damaged partial (column `{column}` is not as the shard wrote "
            "it: changed since)\n  help: evaluate the shard again") in err


@pytest.mark.parametrize(("key", "value"), [("shard", 1), ("of", 2), ("of", 10**9),
                                            ("as_of", 0), ("rows_read", 1)])
def test_a_partial_whose_metadata_was_changed_is_refused(tmp_path, key, value):
    # `of` a billion was a MemoryError (exit 70), a partial renumbered as another shard of
    # two merged alongside that shard's copy into a report of every lead twice
    import pyarrow.parquet as pq

    good = tmp_path / "good.parquet"
    assert _cli("evaluate", POLICY, "--history", HISTORY, "--shard", "0/1", "--partial",
                str(good))[0] == 0
    table = pq.read_table(good)
    meta = json.loads(table.schema.metadata[b"sla_dsl.partial"])
    assert meta[key] != value  # (the test changes something)
    meta[key] = value
    pq.write_table(table.replace_schema_metadata({b"sla_dsl.partial": json.dumps(meta)}),
                   tmp_path / "changed.parquet")
    code, _, err = _cli("merge", str(tmp_path / "changed.parquet"), "--policy", POLICY)
    assert code == 2
    assert "changed.parquet: a damaged partial (its metadata was changed since the shard " \
        "wrote it)" in err


@pytest.mark.parametrize("between", ["edit", "absences"])
def test_shards_of_a_history_changed_between_their_runs_do_not_merge(tmp_path, between):
    # the same path, rows and leads: a score edited between two shards' runs, or one shard
    # run with an absences file and the other without, merged into a report neither run
    # makes, without a word
    history = tmp_path / "history.csv"
    history.write_text(Path(HISTORY).read_text())
    absences = tmp_path / "absences.csv"
    absences.write_text("rep,start,end,reason\neli,2026-01-12,2026-01-23,leave\n")
    first = ["--absences", str(absences)] if between == "absences" else []
    assert _cli("evaluate", POLICY, "--history", str(history), *first, "--shard", "0/2",
                "--partial", str(tmp_path / "0.parquet"))[0] == 0
    if between == "edit":
        history.write_text(Path(HISTORY).read_text().replace(",created,", ",created, "))
    assert _cli("evaluate", POLICY, "--history", str(history), "--shard", "1/2",
                "--partial", str(tmp_path / "1.parquet"))[0] == 0
    code, _, err = _cli("merge", str(tmp_path / "0.parquet"), str(tmp_path / "1.parquet"),
                        "--policy", POLICY)
    assert code == 2
    assert "1.parquet was cut from another history than " in err
    assert "help: evaluate every shard on the same --history, --absences and --reps" in err


def test_a_partial_without_a_column_the_merge_reads_is_refused(tmp_path):
    # a field's columns are read where they are there: dropping one changed the report's
    # funnel without a word
    import pyarrow.parquet as pq

    good = tmp_path / "good.parquet"
    assert _cli("evaluate", POLICY, "--history", HISTORY, "--shard", "0/1", "--partial",
                str(good))[0] == 0
    table = pq.read_table(good)
    [dropped, *_] = [name for name in table.column_names if name.startswith("at_handoff.")]
    pq.write_table(table.drop_columns([dropped]), tmp_path / "less.parquet")
    code, _, err = _cli("merge", str(tmp_path / "less.parquet"), "--policy", POLICY)
    assert code == 2
    assert f"less.parquet: a damaged partial (column `{dropped}` is gone)" in err


def test_a_partial_with_damaged_bytes_is_refused_not_a_crash(tmp_path):
    # half a data page overwritten (Arrow's "Corrupt snappy compressed data", an OSError)
    # and a column name's byte in the footer made not UTF-8 were exit 70
    import pyarrow.parquet as pq

    good = tmp_path / "good.parquet"
    assert _cli("evaluate", POLICY, "--history", HISTORY, "--shard", "0/1", "--partial",
                str(good))[0] == 0
    data = good.read_bytes()
    meta = pq.ParquetFile(good).metadata
    names = [meta.schema.column(i).path for i in range(meta.num_columns)]
    chunk = meta.row_group(0).column(names.index("lead_index"))
    start, end = chunk.data_page_offset, chunk.data_page_offset + chunk.total_compressed_size
    page = bytearray(data)
    page[(start + end) // 2:end] = b"\xff" * (end - (start + end) // 2)
    name = bytearray(data)
    name[data.index(b"lead.owner") + 2] = 0x8C
    for damaged in (page, name):
        (tmp_path / "damaged.parquet").write_bytes(bytes(damaged))
        code, _, err = _cli("merge", str(tmp_path / "damaged.parquet"), "--policy", POLICY)
        assert code == 2, err
        assert "damaged.parquet: " in err and "help: evaluate the shard again" in err


def test_a_partial_rewritten_unchanged_by_another_tool_merges(tmp_path):
    # the digests are of the values, not of the file's bytes: other row groups, dictionary
    # pages and compression leave the partial good
    import pyarrow.parquet as pq

    good = tmp_path / "good.parquet"
    assert _cli("evaluate", POLICY, "--history", HISTORY, "--shard", "0/1", "--partial",
                str(good))[0] == 0
    pq.write_table(pq.read_table(good), tmp_path / "again.parquet", row_group_size=7,
                   use_dictionary=True, compression="zstd")
    assert _cli("merge", str(tmp_path / "again.parquet"), "--policy", POLICY) == \
        _cli("merge", str(good), "--policy", POLICY)


def test_a_damaged_partial_is_an_input_error_not_a_crash(tmp_path):
    import pyarrow.parquet as pq

    good = tmp_path / "good.parquet"
    assert _cli("evaluate", POLICY, "--history", HISTORY, "--shard", "0/1", "--partial",
                str(good))[0] == 0
    table = pq.read_table(good)
    pq.write_table(table.drop_columns(["lead.owner"]), tmp_path / "damaged.parquet")
    code, _, said = _cli("merge", str(tmp_path / "damaged.parquet"), "--policy", POLICY)
    assert code == 2 and "a damaged partial" in said
    pq.write_table(table.replace_schema_metadata({}), tmp_path / "plain.parquet")
    code, _, said = _cli("merge", str(tmp_path / "plain.parquet"), "--policy", POLICY)
    assert code == 2 and "not a partial" in said
    code, merged, _ = _cli("merge", str(good), "--policy", POLICY)
    assert code == 0 and merged == _single("company-x.sla",
                                           ("examples/company-x/history.csv",))[1]


def test_owner_absences_pause_the_clocks_of_every_shard_alike(tmp_path):
    text = (ROOT / "policies" / "company-x.sla").read_text()
    opening = next(line for line in text.splitlines() if line.startswith("handoff "))
    policy = tmp_path / "absent.sla"
    policy.write_text(text.replace(opening, opening + "\n  when owner absent pause", 1))
    absences = tmp_path / "absences.csv"
    absences.write_text("rep,start,end,reason\neli,2026-01-12,2026-01-23,leave\n"
                        "chen,2026-02-02T13:00,2026-02-06T17:00,training\n"
                        "alice,2026-03-09,2026-03-01,typo\n")
    common = [str(policy), "--history", HISTORY, "--absences", str(absences)]
    shards = [str(tmp_path / f"{i}.parquet") for i in range(3)]
    for i, path in enumerate(shards):
        assert _cli("evaluate", *common, "--shard", f"{i}/3", "--partial", path)[0] == 0
    code, merged, said = _cli("merge", *shards, "--policy", str(policy), "--format", "json")
    single_code, single, single_said = _cli("evaluate", *common, "--format", "json")
    assert code == single_code == 0 and merged == single
    assert said == single_said and "rejected absence" in said
    _, unpaused, _ = _cli("evaluate", str(policy), "--history", HISTORY, "--format", "json")
    assert unpaused != single  # the absences changed some verdicts: the test can fail
    code, merged_page, _ = _cli("merge", *shards, "--policy", str(policy), "--format", "html")
    _cli("evaluate", *common, "--html", str(tmp_path / "single.html"))
    assert merged_page == (tmp_path / "single.html").read_text()


def test_the_map_step_runs_on_spawned_workers_as_an_engine_would_run_it():
    # a cluster's workers share nothing with this process: the task and the partial travel
    # pickled, as with spawn
    import multiprocessing
    import pickle
    from concurrent.futures import ProcessPoolExecutor

    tasks = shard_tasks(POLICY, [HISTORY], 3)
    assert tasks[2] == ShardTask(POLICY, (HISTORY,), 2, 3)
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        partials = list(pool.map(run_shard, tasks))
        loaded = sla_dsl.load_policy(POLICY)
        single = _single("company-x.sla", ("examples/company-x/history.csv",))[0]
        assert evaluate_mapped(loaded, tasks, pool.map).json() == single
    partials = [pickle.loads(pickle.dumps(p)) for p in partials]
    assert merge(loaded, partials).json() == single
    # the policy's text does for its path, and the builtin map for an engine
    text_tasks = shard_tasks(Path(POLICY).read_text(), [HISTORY], 2)
    assert evaluate_mapped(loaded, text_tasks).json() == single


def test_buckets_of_one_run_merge_when_named_alike():
    # a pipeline that bucketed the history by the same hash gives each shard only its bucket,
    # with the run's as-of time and one history_id
    loaded, history = _inputs("company-x.sla", ("examples/company-x/history.csv",))
    as_of = int(history.at.max())
    buckets = [cut(history, i, 3)[0] for i in range(3)]
    partials = [evaluate_shard(loaded, bucket, i, 3, as_of, history_id="run-1")
                for i, bucket in enumerate(buckets)]
    merged = json.loads(merge(loaded, partials).json())
    single = json.loads(sla_dsl.evaluate(loaded, history, as_of).json())
    by_id = {lead["lead_id"]: lead for lead in single.pop("leads")}
    leads = merged.pop("leads")
    for doc in (merged, single):  # what lists leads lists them bucket by bucket: sort them
        doc["attribution"]["deals"].sort(key=lambda deal: (deal["lead_id"], deal["won_at"]))
    assert merged == single  # every measure, count and sum
    assert sorted(lead["lead_id"] for lead in leads) == sorted(by_id)
    assert all(lead == by_id[lead["lead_id"]] for lead in leads)
    with pytest.raises(PartialMismatch, match="another history"):
        merge(loaded, [evaluate_shard(loaded, b, i, 3, as_of) for i, b in enumerate(buckets)])


def _cases_history(policy: str, folder: Path) -> Path:
    """One history of every shipped `sla test` case of a policy, each case's leads renamed
    apart: recycled and reassigned leads, reps on leave, clocks on owner hours."""
    import csv
    import tomllib

    rows, columns = [], ["lead_id"]
    for case in sorted((ROOT / "policies" / "tests" / policy).glob("*.toml")):
        text = tomllib.loads(case.read_text())["events"]
        lines = [line for line in text.strip().splitlines() if not line.startswith("#")]
        for row in csv.DictReader(lines):
            row["lead_id"] = f"{case.stem}/{row['lead_id']}"
            rows.append(row)
            columns += [c for c in row if c not in columns]
    path = folder / f"{policy}.csv"
    with path.open("w", newline="") as out:
        writer = csv.DictWriter(out, columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.mark.parametrize(("policy", "extra"), [
    ("company-x-trial", ("--absences", "absences-march-2027.csv")),
    ("coast-to-coast", ("--reps", "reps.csv")),
])
def test_rounds_absences_and_owner_hours_survive_the_merge(tmp_path, policy, extra):
    option, name = extra
    common = [str(ROOT / "policies" / f"{policy}.sla"), "--history",
              str(_cases_history(policy, tmp_path)), option,
              str(ROOT / "policies" / "tests" / policy / name)]
    single_code, single, _ = _cli("evaluate", *common, "--format", "json")
    shards = [str(tmp_path / f"{i}.parquet") for i in range(3)]
    for i, path in enumerate(shards):
        assert _cli("evaluate", *common, "--shard", f"{i}/3", "--partial", path)[0] == 0
    code, merged, _ = _cli("merge", *shards, "--policy", common[0], "--format", "json")
    assert code == single_code == 0 and merged == single
    document = json.loads(single)
    if policy == "company-x-trial":  # the recycled lead's second round, an absence used
        assert any(r.get("attempt", 1) > 1 for r in document["leads"] for r in r["clauses"]) \
            or '"attempt": 2' in single
        assert document["rows"]["absences"]["used"] > 0
    else:
        assert any("own hours" in note for note in document["rows"]["notes"])
