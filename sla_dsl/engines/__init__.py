"""Where many independent pieces of work run: this machine's processes, or a Dask cluster.

The simulator's replications and sweep points, and evaluation's lead shards, are maps of a
picklable module-level function over items that do not depend on each other. `run_map` runs
such a map on the engine asked for and gives the results back in the items' order, so a result
cannot depend on which worker finished first: the same seeds give the same bytes on one core,
on a process pool and on a cluster.

This package imports no other part of sla_dsl: every stage may hand it work.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

from sla_dsl.engines.dask_cluster import dask_engine
from sla_dsl.engines.errors import EngineError
from sla_dsl.engines.local import LocalEngine
from sla_dsl.engines.protocol import Engine, OnDone

ENGINES = ("local", "dask")

__all__ = ["ENGINES", "Engine", "EngineError", "LocalEngine", "OnDone", "open_engine",
           "run_map"]


@contextmanager
def open_engine(engine: str = "local", *, workers: int | None = None,
                address: str | None = None) -> Iterator[Engine]:
    """An engine held open for several maps (a sizing runs one per team size tried, and a
    cluster is worth starting once). `address` names a running Dask scheduler; without it
    `dask` starts a cluster of `workers` processes on this machine for the block's length."""
    if engine == "local":
        if address is not None:
            raise EngineError("--scheduler names a Dask scheduler\n"
                              "  help: add --engine dask, or leave out --scheduler")
        yield LocalEngine(workers)
    elif engine == "dask":
        with dask_engine(workers=workers, address=address) as opened:
            yield opened
    else:
        raise EngineError(f"unknown engine {engine!r}\n  help: one of {', '.join(ENGINES)}")


def run_map(fn: Callable, items: Iterable, *, engine: str | Engine = "local",
            workers: int | None = None, address: str | None = None,
            on_done: OnDone | None = None) -> list:
    """`[fn(item) for item in items]`, run on the engine: `local` (a process pool of `workers`,
    this machine's cores by default; in this process for one worker or one item) or `dask`
    (the scheduler at `address`, or a cluster started on this machine for this map). An
    engine already opened with `open_engine` is used as it is. `on_done(done, total)` is told
    as each item finishes, in the order they finish (a progress bar). Raises `EngineError`
    when the engine cannot be had (the extra not installed, the scheduler not reachable)."""
    if not isinstance(engine, str):
        return engine.map(fn, list(items), on_done)
    with open_engine(engine, workers=workers, address=address) as opened:
        return opened.map(fn, list(items), on_done)
