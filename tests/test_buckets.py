"""An ingest's buckets evaluated shard by shard: `sla evaluate POLICY --history DIR --shard
I/N --partial FILE`, `sla merge` and `--history DIR --shards N` give the single run's report,
byte for byte, with only one bucket read at a time."""

from __future__ import annotations

import dataclasses
import json
import tempfile
from pathlib import Path

import pyarrow.parquet as pq
import pytest

import sla_dsl
from sla_dsl.cli import main
from sla_dsl.history.read import load_history
from sla_dsl.policy_file import load_policy
from sla_dsl.reports.sharded import evaluate_buckets

pytest.importorskip("duckdb")

from sla_dsl.history.ingest import EVENT_PLACE, LEAD_PLACE, MANIFEST, ingest

from .test_shards import _cases_history

ROOT = Path(__file__).resolve().parent.parent
HISTORIES = ROOT / "tests" / "fixtures" / "histories"
CASES = [
    ("company-x.sla", [ROOT / "examples" / "company-x" / "history.csv"]),
    ("new-breed.sla", [ROOT / "examples" / "new-breed" / "history.csv"]),
    ("company-x.sla", [HISTORIES / "broken.csv"]),  # rows of the wrong width: rejects
    ("company-x.sla", [ROOT / "examples" / "company-x" / "history.csv",
                       HISTORIES / "broken.csv", HISTORIES / "events.jsonl"]),
]


def _ingest(paths: list[Path], policy: Path, out: Path, buckets: int) -> None:
    zone = load_policy(str(policy)).timezone or "UTC"
    ingest(paths, out, buckets=buckets, timezone=zone)


def _run(args: list[str], capsys) -> tuple[int, str]:
    code = main(args)
    return code, capsys.readouterr().out


@pytest.mark.parametrize(("policy_name", "paths"), CASES)
@pytest.mark.parametrize("buckets", [1, 2, 5])
def test_bucket_partials_merge_to_the_single_runs_report(policy_name, paths, buckets,
                                                         tmp_path, capsys):
    policy = str(ROOT / "policies" / policy_name)
    history = [str(p) for p in paths]
    out = tmp_path / "buckets"
    _ingest(paths, Path(policy), out, buckets)
    partials = [str(tmp_path / f"p{i}.parquet") for i in range(buckets)]
    for i, partial in enumerate(partials):
        assert main(["evaluate", policy, "-q", "--history", str(out), "--shard",
                     f"{i}/{buckets}", "--partial", partial]) == 0
    capsys.readouterr()
    for form in ("json", "text"):
        single = _run(["evaluate", policy, "-q", "--history", *history, "--format", form],
                      capsys)
        merged = _run(["merge", *reversed(partials), "--policy", policy, "-q", "--format",
                       form], capsys)
        in_one = _run(["evaluate", policy, "-q", "--history", str(out), "--shards",
                       str(buckets), "--format", form], capsys)
        assert merged == single
        assert in_one == single


def test_the_html_page_and_rejects_are_the_single_runs(tmp_path, capsys):
    paths = CASES[3][1]
    policy = str(ROOT / "policies" / "company-x.sla")
    out = tmp_path / "buckets"
    _ingest(paths, Path(policy), out, 3)
    assert main(["evaluate", policy, "-q", "--history", *map(str, paths), "--html",
                 str(tmp_path / "single.html"), "--rejects", str(tmp_path / "r1.csv")]) == 0
    assert main(["evaluate", policy, "-q", "--history", str(out), "--html",
                 str(tmp_path / "buckets.html"), "--rejects", str(tmp_path / "r2.csv")]) == 0
    assert (tmp_path / "single.html").read_bytes() == (tmp_path / "buckets.html").read_bytes()
    rejects = (tmp_path / "r1.csv").read_text()
    assert rejects == (tmp_path / "r2.csv").read_text() and rejects.count("\n") > 1


def test_an_as_of_given_applies_to_every_bucket(tmp_path, capsys):
    paths = CASES[0][1]
    policy = str(ROOT / "policies" / "company-x.sla")
    out = tmp_path / "buckets"
    _ingest(paths, Path(policy), out, 2)
    args = ["-q", "--as-of", "2026-05-01T12:00", "--format", "json"]
    single = _run(["evaluate", policy, "--history", str(paths[0]), *args], capsys)
    sharded = _run(["evaluate", policy, "--history", str(out), *args], capsys)
    assert sharded == single and single[1]


def test_a_bucket_still_reads_as_a_plain_history_its_places_no_field(tmp_path):
    paths = CASES[0][1]
    out = tmp_path / "buckets"
    _ingest(paths, ROOT / "policies" / "company-x.sla", out, 2)
    assert LEAD_PLACE in pq.read_schema(out / "bucket-000.parquet").names
    bucket = load_history([out / "bucket-000.parquet"], timezone="UTC")
    whole = load_history(paths, timezone="UTC")
    assert list(bucket.fields) == list(whole.fields)
    assert not any(name.startswith("__sla_") for name in bucket.fields)


def test_buckets_of_another_count_or_an_old_ingest_are_usage_errors(tmp_path, capsys):
    paths = CASES[0][1]
    policy = str(ROOT / "policies" / "company-x.sla")
    out = tmp_path / "buckets"
    _ingest(paths, Path(policy), out, 2)
    assert main(["evaluate", policy, "-q", "--history", str(out), "--shards", "3"]) == 2
    assert "holds 2 buckets" in capsys.readouterr().err
    # the buckets hold instants: a --timezone for them was ignored without a word
    assert main(["evaluate", policy, "-q", "--history", str(out), "--timezone",
                 "Asia/Tokyo"]) == 2
    assert "without --mapping, --preset, --timezone or --explain" in capsys.readouterr().err
    manifest = json.loads((out / MANIFEST).read_text())
    manifest["history_id"] = ""
    (out / MANIFEST).write_text(json.dumps(manifest))
    assert main(["evaluate", policy, "-q", "--history", str(out)]) == 2
    assert "run sla ingest again" in capsys.readouterr().err


@pytest.mark.parametrize("damage", ["drop", "nulls"])
@pytest.mark.parametrize("column", [EVENT_PLACE, LEAD_PLACE])
def test_a_bucket_without_its_places_is_refused(tmp_path, capsys, damage, column):
    """A bucket rewritten without a place column, or with it emptied, was exit 70
    (ArrowInvalid, TypeError) in sla evaluate; the bucket's digest now refuses it first."""
    import pyarrow as pa

    paths = CASES[0][1]
    policy = str(ROOT / "policies" / "company-x.sla")
    out = tmp_path / "buckets"
    _ingest(paths, Path(policy), out, 2)
    bucket = out / "bucket-001.parquet"
    table = pq.read_table(bucket)
    table = table.drop_columns([column]) if damage == "drop" else table.set_column(
        table.column_names.index(column), column, pa.nulls(table.num_rows, pa.int64()))
    pq.write_table(table, bucket)
    for shard in ([], ["--shard", "1/2", "--partial", str(tmp_path / "p.parquet")]):
        assert main(["evaluate", policy, "-q", "--history", str(out), *shard]) == 2
        err = capsys.readouterr().err
        assert f"{bucket}: not the bucket sla ingest wrote (changed since)" in err
        assert "help: run sla ingest again into that directory" in err


@pytest.mark.parametrize("damage", ["swap", "copy", "cut", "manifest", "as_of", "rejects"])
def test_a_bucket_directory_changed_since_the_ingest_is_refused(tmp_path, capsys, damage):
    """Each was evaluated as if the ingest wrote it: swapped buckets gave the same text and an
    internal error for the page (a lead not in its bucket's history), a copied or cut bucket
    and an edited manifest other counts and leads without a word, an as-of time of 9999 an
    internal error."""
    paths = CASES[3][1]
    policy = str(ROOT / "policies" / "company-x.sla")
    out = tmp_path / "b"
    _ingest(paths, Path(policy), out, 3)
    first, second = out / "bucket-000.parquet", out / "bucket-001.parquet"
    manifest = json.loads((out / MANIFEST).read_text())
    if damage == "swap":
        first.rename(tmp_path / "t.parquet")
        second.rename(first)
        (tmp_path / "t.parquet").rename(second)
    elif damage == "copy":
        second.write_bytes(first.read_bytes())
    elif damage == "cut":
        pq.write_table(pq.read_table(first).slice(0, 5), first)
    elif damage in ("manifest", "as_of"):
        manifest.update(rows_read=99999) if damage == "manifest" else manifest.update(
            as_of_default="9999-12-31T00:00:00+00:00")
        (out / MANIFEST).write_text(json.dumps(manifest))
    else:
        with (out / manifest["rejects_records"]).open("a") as handle:
            handle.write("\n")
    said = {"swap": f"{first}: not the bucket sla ingest wrote (changed since)",
            "copy": f"{second}: not the bucket sla ingest wrote (changed since)",
            "cut": f"{first}: not the bucket sla ingest wrote (changed since)",
            "manifest": f"{out}: its {MANIFEST} was changed since sla ingest wrote it",
            "as_of": f"{out}: its {MANIFEST} was changed since sla ingest wrote it",
            "rejects": "changed since sla ingest wrote it"}[damage]
    for output in (["--format", "json"], ["--html", str(tmp_path / "page.html")]):
        assert main(["evaluate", policy, "-q", "--history", str(out), *output]) == 2
        err = capsys.readouterr().err
        assert said in err and "run sla ingest again" in err


@pytest.mark.parametrize(("policy_name", "option", "name"), [
    ("company-x-trial", "--absences", "absences-march-2027.csv"),
    ("coast-to-coast", "--reps", "reps.csv"),
])
def test_rounds_absences_and_owner_hours_from_buckets(policy_name, option, name, tmp_path,
                                                      capsys):
    # every shipped `sla test` case of the policy in one history: recycled and reassigned
    # leads, reps on leave, clocks on owner hours
    history = _cases_history(policy_name, tmp_path)
    policy = ROOT / "policies" / f"{policy_name}.sla"
    extra = [option, str(ROOT / "policies" / "tests" / policy_name / name)]
    _ingest([history], policy, tmp_path / "b", 3)
    single = _run(["evaluate", str(policy), "-q", "--history", str(history), *extra,
                   "--format", "json"], capsys)
    partials = [str(tmp_path / f"p{i}.parquet") for i in range(3)]
    for i, partial in enumerate(partials):
        assert main(["evaluate", str(policy), "-q", "--history", str(tmp_path / "b"), *extra,
                     "--shard", f"{i}/3", "--partial", partial]) == 0
    capsys.readouterr()
    merged = _run(["merge", *partials, "--policy", str(policy), "-q", "--format", "json"],
                  capsys)
    assert merged == single and len(json.loads(single[1])["leads"]) > 3


def test_strict_and_a_timezone_other_than_the_policys_are_said(tmp_path, capsys):
    paths = [HISTORIES / "broken.csv"]
    policy = str(ROOT / "policies" / "company-x.sla")
    out = tmp_path / "buckets"
    ingest(paths, out, buckets=2, timezone="Asia/Tokyo")
    single = main(["evaluate", policy, "-q", "--history", str(paths[0]), "--strict"])
    capsys.readouterr()
    assert main(["evaluate", policy, "-q", "--history", str(out), "--strict"]) == single == 2
    err = capsys.readouterr().err
    assert "ingested with --timezone Asia/Tokyo" in err and "rejected" in err


ORDER_FROM_A_REJECTED_ROW = """lead_id,at,event,actor
L-b,not a time,created,rep-z
L-a,2026-03-02T09:00:00Z,created,rep-y
L-a,2026-03-02T09:05:00Z,handoff,rep-y
L-b,2026-03-02T10:00:00Z,created,rep-x
L-b,2026-03-02T10:01:00Z,handoff,rep-x
L-c,2026-03-02T11:00:00Z,created,rep-z
L-c,2026-03-02T11:30:00Z,handoff,rep-x
"""


@pytest.mark.parametrize("buckets", [2, 3, 4])
def test_a_lead_and_an_actor_first_seen_in_a_rejected_row_keep_their_place(buckets, tmp_path,
                                                                           capsys):
    # one run numbers L-b (and rep-z) from its rejected first row: before L-a
    history = tmp_path / "h.csv"
    history.write_text(ORDER_FROM_A_REJECTED_ROW)
    policy = str(ROOT / "policies" / "inbound-desk.sla")
    _ingest([history], Path(policy), tmp_path / "b", buckets)
    single = _run(["evaluate", policy, "-q", "--history", str(history), "--format", "json"],
                  capsys)
    sharded = _run(["evaluate", policy, "-q", "--history", str(tmp_path / "b"), "--format",
                    "json"], capsys)
    assert [lead["lead_id"] for lead in json.loads(single[1])["leads"]] == ["L-b", "L-a", "L-c"]
    assert sharded == single


@pytest.mark.parametrize("engine", [["--workers", "2"], ["--engine", "dask"]])
def test_buckets_on_a_pool_or_a_dask_cluster_give_the_single_runs_report(engine, tmp_path,
                                                                        capsys):
    if engine[1] == "dask":
        pytest.importorskip("distributed")
    paths = CASES[3][1]
    policy = str(ROOT / "policies" / "company-x.sla")
    _ingest(paths, Path(policy), tmp_path / "b", 3)
    single = _run(["evaluate", policy, "-q", "--history", *map(str, paths), "--format",
                   "json"], capsys)
    mapped = _run(["evaluate", policy, "-q", "--history", str(tmp_path / "b"), "--shards",
                   "3", *engine, "--format", "json"], capsys)
    assert mapped == single


@pytest.fixture
def own_tmpdir(tmp_path, monkeypatch) -> Path:
    """A TMPDIR of the test's own, read afresh by tempfile (which caches the first it finds)."""
    tmp = tmp_path / "tmpdir"
    tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp))
    monkeypatch.setattr(tempfile, "tempdir", None)
    return tmp


def _partials_left(tmp: Path) -> list[Path]:
    """The run's own temporary directories left in `tmp` (lark's parser cache may be there
    too: it is meant to stay)."""
    return list(tmp.glob("sla-partials-*"))


def test_the_buckets_partials_wait_in_tmpdir_and_are_gone_after(own_tmpdir, tmp_path):
    paths = CASES[3][1]
    policy = load_policy(str(ROOT / "policies" / "company-x.sla"))
    _ingest(paths, ROOT / "policies" / "company-x.sla", tmp_path / "b", 3)
    seen = []
    report = evaluate_buckets(policy, tmp_path / "b", on_partial=lambda: seen.append(
        sorted(p.name for p in own_tmpdir.glob("sla-partials-*/*"))))
    assert seen == [[f"partial-000{i}.parquet" for i in range(3)]] * 3
    assert report.text() and _partials_left(own_tmpdir) == []


def test_the_partials_are_gone_after_ctrl_c(own_tmpdir, tmp_path):
    paths = CASES[0][1]
    policy = load_policy(str(ROOT / "policies" / "company-x.sla"))
    _ingest(paths, ROOT / "policies" / "company-x.sla", tmp_path / "b", 3)

    def interrupt(shard: int, _of: int) -> None:
        if shard == 2:  # two partials written
            assert len(list(own_tmpdir.glob("sla-partials-*/*"))) == 2
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        evaluate_buckets(policy, tmp_path / "b", on_bucket=interrupt)
    assert _partials_left(own_tmpdir) == []


@pytest.mark.parametrize("engine", [[], ["--shards", "3", "--workers", "2"]])
def test_the_partials_are_gone_after_a_failure(engine, own_tmpdir, tmp_path, capsys):
    paths = CASES[3][1]
    policy = str(ROOT / "policies" / "company-x.sla")
    out = tmp_path / "b"
    _ingest(paths, Path(policy), out, 3)
    run = ["evaluate", policy, "-q", "--history", str(out), *engine]
    assert main([*run, "-o", str(tmp_path / "no-such-dir" / "report.txt")]) == 2
    assert "report.txt" in capsys.readouterr().err
    assert _partials_left(own_tmpdir) == []
    (out / "bucket-002.parquet").write_bytes(b"not parquet")  # the last bucket damaged
    assert main(run) == 2
    err = capsys.readouterr().err
    assert "bucket-002.parquet: not the bucket sla ingest wrote (changed since)" in err
    assert "run sla ingest again into that directory" in err  # not "write it with pyarrow"
    assert _partials_left(own_tmpdir) == []


def test_a_worker_that_does_not_see_the_temporary_directory_sends_its_partial_back(
        own_tmpdir, tmp_path):
    # a cluster's worker on another machine: the run's directory is not there
    paths = CASES[3][1]
    policy_path = ROOT / "policies" / "company-x.sla"
    policy = load_policy(str(policy_path))
    _ingest(paths, policy_path, tmp_path / "b", 3)
    elsewhere = str(tmp_path / "not-on-this-machine" / "partial.parquet")

    def remote_map(fn, tasks):
        return [fn(dataclasses.replace(task, partial=elsewhere)) for task in tasks]

    report = evaluate_buckets(policy, tmp_path / "b", policy_source=str(policy_path),
                              run_map=remote_map)
    single = sla_dsl.evaluate(policy, sla_dsl.load_history(paths, policy=policy))
    assert report.json() == single.json()
    assert _partials_left(own_tmpdir) == [] and not (tmp_path / "not-on-this-machine").exists()
