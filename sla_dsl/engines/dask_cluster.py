"""The Dask engine (`pip install 'sla_dsl[dask]'`): a scheduler somewhere, or a cluster of
processes started on this machine.

Each item is one Dask task (`Client.map` with `pure=False`: two equal items are still two
pieces of work), and the results are gathered in the items' order whatever order the workers
finish in. Workers must run the same sla_dsl as the client: the function travels by name, so
a worker without it, or with another release, is refused before any work is sent.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import metadata
from types import ModuleType
from typing import Any

from sla_dsl.engines.errors import EngineError
from sla_dsl.engines.protocol import OnDone

INSTALL = "  help: pip install 'sla_dsl[dask]' (on this machine and every worker)"
NO_SCHEDULER = ("  help: start one ('dask scheduler', then 'dask worker ADDRESS' on each "
                "worker machine), or leave out --scheduler for a cluster on this machine\n"
                "  (DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT=10s sets how long to wait)")


# No dashboard, and the scheduler's HTTP server on a free port rather than 8787 (taken when
# another cluster runs here, which Dask warns of on stderr).
QUIET = {"dashboard_address": ":0"}


class DaskEngine:
    name = "dask"

    def __init__(self, client: Any) -> None:
        self.client = client

    def map(self, fn: Callable, items: list, on_done: OnDone | None = None) -> list:
        if not items:
            return []
        from distributed import KilledWorker, as_completed

        futures = self.client.map(fn, items, pure=False)
        try:
            for done, _ in enumerate(as_completed(futures, loop=self.client.loop), start=1):
                if on_done is not None:
                    on_done(done, len(futures))
            return self.client.gather(futures)
        except KilledWorker as error:  # the cluster's trouble (memory, a lost machine), not ours
            raise EngineError(f"the Dask cluster lost the workers running a task: {error}\n"
                              "  help: see the workers' logs (a worker out of memory is "
                              "the usual cause); run again, or with fewer workers a machine"
                              ) from None
        finally:
            self.client.cancel(futures)  # nothing left running after a failure or ^C


@contextmanager
def dask_engine(*, workers: int | None = None, address: str | None = None
                ) -> Iterator[DaskEngine]:
    """A client of the scheduler at `address` (its workers are the cluster's own: `workers`
    is not used), or of a cluster of `workers` single-threaded processes on this machine."""
    distributed = _distributed()
    if address is None:
        cluster = distributed.LocalCluster(
            n_workers=workers or os.cpu_count() or 1, threads_per_worker=1, processes=True,
            dashboard_address=None, silence_logs=logging.ERROR, scheduler_kwargs=QUIET)
        with cluster, distributed.Client(cluster, set_as_default=False) as client:
            yield DaskEngine(client)
        return
    client = _connect(distributed, address)
    with client:
        _check_workers(client, address)
        yield DaskEngine(client)


def _distributed() -> ModuleType:
    """The `distributed` package, imported only when asked for: `sla simulate` on one machine
    does not pay for loading it."""
    try:
        import distributed
    except ImportError:
        raise EngineError(f"--engine dask needs Dask, which is not installed\n{INSTALL}"
                          ) from None
    return distributed


def _connect(distributed: ModuleType, address: str) -> Any:
    try:
        # Read first: a client refused a malformed address leaves a half-made client behind,
        # whose clean-up at exit waits a minute and prints a traceback.
        distributed.comm.resolve_address(address)
        return distributed.Client(address, set_as_default=False)
    except (OSError, ValueError, TypeError) as error:
        raise EngineError(f"cannot reach the Dask scheduler at {address}: {error}\n"
                          f"{NO_SCHEDULER}") from None


def _check_workers(client: Any, address: str) -> None:
    """A scheduler without workers would hold the tasks for ever; workers without sla_dsl
    would fail each one. Both are said before any work is sent."""
    import dask

    wait = dask.config.get("distributed.comm.timeouts.connect")
    try:
        client.wait_for_workers(1, timeout=wait)
    except TimeoutError:
        raise EngineError(f"the Dask scheduler at {address} has no workers (waited {wait})\n"
                          "  help: start workers with 'dask worker ADDRESS'") from None
    try:
        ours = metadata.version("sla_dsl")
    except metadata.PackageNotFoundError:  # a checkout run without installing: nothing to hold
        return
    try:
        theirs = client.run(metadata.version, "sla_dsl")
    except metadata.PackageNotFoundError:
        raise EngineError(f"a worker of the Dask scheduler at {address} has no sla_dsl\n"
                          f"{INSTALL}") from None
    other = sorted({v for v in theirs.values() if v != ours})
    if other:
        raise EngineError(f"workers of the Dask scheduler at {address} run sla_dsl "
                          f"{', '.join(other)}, this machine {ours}\n"
                          "  help: install the same release everywhere, so that every "
                          "replication runs the same model")
