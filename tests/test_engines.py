"""Where work runs (sla_dsl.engines): this machine's process pool, or a real Dask cluster.

The simulation's promise is that the same seeds give the same JSON, byte for byte, whichever
engine ran the replications. These tests start a real `distributed.LocalCluster` of two worker
processes on this machine (processes, not threads: a worker then shares no memory with the
test, as on a real cluster) and compare its output with the local engine's on the shipped
inbound-desk scenario. They skip, saying so, only where Dask is not installed; the test extra
installs it, so CI runs them.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import pytest

from sla_dsl import load_policy
from sla_dsl.cli import main
from sla_dsl.cli.engine_options import ENGINE_NAMES, LOCAL_WORKERS
from sla_dsl.engines import ENGINES, EngineError, open_engine, run_map
from sla_dsl.engines.dask_cluster import QUIET
from sla_dsl.planning import simulation as library
from sla_dsl.simulator.simulation import LOCAL_WORKERS as SIMULATOR_WORKERS

from .conftest import ROOT

POLICY = ROOT / "policies" / "inbound-desk.sla"


def square_with_pid(item: int) -> tuple[int, int]:
    """A module-level function, as an evaluation shard's will be: it travels by name."""
    return item * item, os.getpid()


def end_the_process(item: int) -> None:
    """A worker lost mid-task, as to a machine's out-of-memory killer."""
    os._exit(1)


def fail_or_write_late(item: tuple[str, str]) -> None:
    """Item "fail" fails at once; item "write" writes its file half a second later, as a
    bucket's worker writes its partial into a directory its caller removes on failure."""
    kind, path = item
    if kind == "fail":
        raise ValueError("this item is bad")
    time.sleep(0.5)
    Path(path).write_text("late")


@pytest.fixture(scope="module")
def week(tmp_path_factory):
    """The shipped inbound-desk scenario, two weeks long (a weekend's backlog, and quick)."""
    text = (ROOT / "examples" / "scenarios" / "inbound-desk.toml").read_text()
    path = tmp_path_factory.mktemp("scenario") / "desk-week.toml"
    path.write_text(text.replace('horizon = "90 days"', 'horizon = "14 days"'))
    return path


@pytest.fixture(scope="module")
def cluster():
    """A real Dask cluster: a scheduler in this process, two single-threaded worker
    processes. Started once for the module (a few seconds), closed after it."""
    distributed = pytest.importorskip(
        "distributed", reason="Dask is not installed: pip install 'sla_dsl[dask]' (the test "
                              "extra has it) to run the cluster tests")
    import logging

    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None, scheduler_kwargs=QUIET,
                                  silence_logs=logging.ERROR) as started:
        yield started


def simulate_json(capsys, *extra: str) -> str:
    assert main(["simulate", str(POLICY), *extra, "--format", "json"]) == 0
    return capsys.readouterr().out


# ---------------------------------------------------------------- the local engine


def test_local_map_gives_results_in_the_items_order_from_other_processes():
    told = []
    results = run_map(square_with_pid, range(7), workers=2,
                      on_done=lambda done, total: told.append((done, total)))
    assert [square for square, _ in results] == [i * i for i in range(7)]
    assert os.getpid() not in {pid for _, pid in results}
    assert told == [(k, 7) for k in range(1, 8)]


def test_one_local_worker_runs_in_this_process():
    assert run_map(square_with_pid, [3, 4], workers=1) == [(9, os.getpid()), (16, os.getpid())]
    assert run_map(square_with_pid, []) == []


def test_a_failed_local_map_leaves_no_worker_running_after_it(tmp_path):
    """The caller of a failed map removes what the items wrote (a temporary directory of
    partials): a worker still running would write there afterwards, and the removal fail."""
    late = tmp_path / "late.txt"
    with pytest.raises(ValueError, match="this item is bad"):
        run_map(fail_or_write_late, [("write", str(late)), ("fail", "")], workers=2)
    written = late.exists()
    time.sleep(1.0)
    assert late.exists() == written


def test_an_unknown_engine_and_a_scheduler_for_the_local_one_are_refused():
    with pytest.raises(EngineError, match="unknown engine 'spark'"):
        run_map(square_with_pid, [1], engine="spark")
    with pytest.raises(EngineError, match="--scheduler names a Dask scheduler"):
        run_map(square_with_pid, [1], address="tcp://127.0.0.1:8786")


def test_the_command_line_names_the_engines_the_package_has():
    assert ENGINE_NAMES == ENGINES
    assert LOCAL_WORKERS == SIMULATOR_WORKERS


def test_scheduler_without_the_dask_engine_is_a_usage_error(week, capsys):
    assert main(["simulate", str(POLICY), "--scenario", str(week), "--replications", "2",
                 "--scheduler", "tcp://127.0.0.1:8786"]) == 2
    assert "add --engine dask" in capsys.readouterr().err


def test_without_dask_installed_the_engine_says_how_to_add_it(week, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # `import distributed` now fails
    with pytest.raises(EngineError, match=r"pip install 'sla_dsl\[dask\]'"):
        run_map(square_with_pid, [1], engine="dask")
    assert main(["simulate", str(POLICY), "--scenario", str(week), "--replications", "2",
                 "--engine", "dask"]) == 2
    err = capsys.readouterr().err
    assert "--engine dask needs Dask, which is not installed" in err
    assert "Traceback" not in err


# ---------------------------------------------------------------- a real Dask cluster


def test_dask_map_gives_results_in_the_items_order_from_the_workers(cluster):
    told = []
    with open_engine("dask", address=cluster.scheduler_address) as engine:
        worker_pids = set(engine.client.run(os.getpid).values())
        results = run_map(square_with_pid, range(9), engine=engine,
                          on_done=lambda done, total: told.append((done, total)))
    assert [square for square, _ in results] == [i * i for i in range(9)]
    assert len(worker_pids) == 2 and os.getpid() not in worker_pids
    assert {pid for _, pid in results} <= worker_pids
    assert told == [(k, 9) for k in range(1, 10)]


def test_a_simulation_on_the_cluster_is_the_local_one_byte_for_byte(cluster, week, capsys):
    common = ["--scenario", str(week), "--replications", "3", "--seed", "17"]
    local = simulate_json(capsys, *common)
    on_cluster = simulate_json(capsys, *common, "--engine", "dask",
                               "--scheduler", cluster.scheduler_address)
    assert on_cluster == local
    assert json.loads(local)["replications"] == 3
    other_seed = simulate_json(capsys, "--scenario", str(week), "--replications", "3",
                               "--seed", "18", "--engine", "dask",
                               "--scheduler", cluster.scheduler_address)
    assert other_seed != local  # the cluster runs the seeds it is given, not a fixed answer


def test_a_sweep_on_the_cluster_is_the_local_one_byte_for_byte(cluster, week, capsys):
    common = ["--scenario", str(week), "--replications", "2", "--seed", "4",
              "--sweep", "team.sales.reps=4,6"]
    local = simulate_json(capsys, *common)
    on_cluster = simulate_json(capsys, *common, "--engine", "dask",
                               "--scheduler", cluster.scheduler_address)
    assert on_cluster == local
    points = json.loads(local)["points"]
    assert [p["values"] for p in points] == [{"team.sales.reps": 4}, {"team.sales.reps": 6}]


def test_emitted_history_is_written_here_and_equal_on_either_engine(cluster, week, tmp_path):
    desk = load_policy(POLICY)
    local = library.simulate(desk, week, 2, seed=3, emit_history=tmp_path / "local.csv")
    finished = []
    remote = library.simulate(desk, week, 2, seed=3, emit_history=tmp_path / "dask.csv",
                              engine="dask", scheduler=cluster.scheduler_address,
                              on_replication=lambda: finished.append(1))
    assert len(finished) == 2 * 2  # two replications under each of the two decay presets
    assert (tmp_path / "dask.csv").read_bytes() == (tmp_path / "local.csv").read_bytes()
    local.document["emitted"].pop("path")
    remote.document["emitted"].pop("path")
    assert remote.json() == local.json()


def test_an_unreachable_scheduler_is_a_usage_error_without_a_traceback(cluster, week, capsys):
    import dask

    closed = "tcp://127.0.0.1:9"  # the discard port: nothing listens on it here
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        assert main(["simulate", str(POLICY), "--scenario", str(week), "--replications", "2",
                     "--engine", "dask", "--scheduler", closed]) == 2
    err = capsys.readouterr().err
    assert f"cannot reach the Dask scheduler at {closed}" in err
    assert "Traceback" not in err
    assert main(["simulate", str(POLICY), "--scenario", str(week), "--replications", "2",
                 "--engine", "dask", "--scheduler", "nonsense:::"]) == 2
    assert "invalid address 'nonsense:::'" in capsys.readouterr().err


def test_a_scheduler_without_workers_is_said_not_waited_on_for_ever(cluster):
    import logging

    import dask
    import distributed

    with distributed.LocalCluster(n_workers=0, processes=True, dashboard_address=None,
                                  scheduler_kwargs=QUIET, silence_logs=logging.ERROR) as empty, \
            dask.config.set({"distributed.comm.timeouts.connect": "1s"}), \
            pytest.raises(EngineError, match="has no workers"):
        run_map(square_with_pid, [1, 2], engine="dask", address=empty.scheduler_address)


def test_an_engine_held_open_serves_several_maps(cluster):
    with open_engine("dask", address=cluster.scheduler_address) as engine:
        assert engine.name == "dask"
        first = run_map(square_with_pid, [1, 2], engine=engine)
        second = run_map(square_with_pid, [3], engine=engine)
    assert [r[0] for r in first + second] == [1, 4, 9]


def test_without_a_scheduler_the_dask_engine_starts_a_cluster_here(cluster):
    results = run_map(square_with_pid, [5, 6, 7], engine="dask", workers=1)
    assert [square for square, _ in results] == [25, 36, 49]
    assert len({pid for _, pid in results} - {os.getpid()}) == 1  # its one worker process


def test_a_worker_lost_mid_task_is_the_clusters_trouble_said_plainly(cluster):
    # The scheduler gives up on a task at once rather than retrying it on three more workers
    # (Dask's `allowed-failures`), so the test costs one worker's restart by its nanny.
    import distributed

    scheduler = cluster.scheduler
    allowed, scheduler.allowed_failures = scheduler.allowed_failures, 0
    try:
        with pytest.raises(EngineError, match="lost the workers running a task"):
            run_map(end_the_process, [1], engine="dask", address=cluster.scheduler_address)
    finally:
        scheduler.allowed_failures = allowed
        with distributed.Client(cluster, set_as_default=False) as client:
            client.wait_for_workers(2, timeout=60)  # the nanny has started it again


# ---------------------------------------------------------------- evaluation shards on it

@pytest.mark.parametrize(("policy", "history", "extra"), [
    ("company-x.sla", ["examples/company-x/history.csv"], []),
    ("coast-to-coast.sla", ["examples/company-x/history.csv"],
     ["--reps", "policies/tests/coast-to-coast/reps.csv"]),
    ("inbound-desk.sla", [f"examples/salesforce/{name}.csv" for name in
                          ("Lead", "LeadHistory", "Task", "Event", "User")],
     ["--preset", "salesforce"]),
])
def test_an_evaluation_sharded_on_the_cluster_is_the_single_run_byte_for_byte(
        cluster, capsys, policy, history, extra):
    common = ["evaluate", str(ROOT / "policies" / policy), "--history",
              *(str(ROOT / h) for h in history), *[str(ROOT / e) if "/" in e else e
                                                   for e in extra], "--format", "json", "-q"]
    assert main(common) == 0
    single = capsys.readouterr().out
    assert main([*common, "--shards", "3", "--engine", "dask",
                 "--scheduler", cluster.scheduler_address]) == 0
    assert capsys.readouterr().out == single
    assert json.loads(single)["summary"]["leads"] > 0


def test_the_dask_engine_on_evaluate_needs_shards_and_no_local_workers(capsys):
    history = str(ROOT / "examples" / "company-x" / "history.csv")
    assert main(["evaluate", str(POLICY), "--history", history, "--engine", "dask"]) == 2
    assert "give --shards N too" in capsys.readouterr().err
    assert main(["evaluate", str(POLICY), "--history", history, "--shards", "2",
                 "--engine", "dask", "--workers", "2"]) == 2
    assert "leave out --workers" in capsys.readouterr().err
    assert main(["evaluate", str(POLICY), "--history", history, "--shards", "2",
                 "--scheduler", "tcp://127.0.0.1:1"]) == 2
    assert "add --engine dask" in capsys.readouterr().err
