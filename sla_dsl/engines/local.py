"""This machine's engine: a pool of processes, or this process when one worker is enough.

What `sla simulate` always did. A pool is started per map, not kept: its workers hold no state
between maps, and a command that runs one map pays for one start.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed

from sla_dsl.engines.protocol import OnDone


class LocalEngine:
    name = "local"

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers if workers is not None else (os.cpu_count() or 1)

    def map(self, fn: Callable, items: list, on_done: OnDone | None = None) -> list:
        total = len(items)
        if self.workers <= 1 or total <= 1:
            results = []
            for item in items:
                results.append(fn(item))
                if on_done is not None:
                    on_done(len(results), total)
            return results
        with ProcessPoolExecutor(max_workers=min(self.workers, total)) as pool:
            futures = {pool.submit(fn, item): i for i, item in enumerate(items)}
            results: list = [None] * total
            try:
                for done, future in enumerate(as_completed(futures), start=1):
                    results[futures[future]] = future.result()
                    if on_done is not None:
                        on_done(done, total)
            except BaseException:  # a failed item or ^C: the rest is not worth waiting for
                _stop(pool)
                raise
        return results


def _stop(pool: ProcessPoolExecutor) -> None:
    """End the pool's workers now and wait until they have ended: the caller of a failed map
    removes what its items wrote (`evaluate_buckets`' temporary partials), and a worker left
    running would go on writing there. `shutdown` alone cancels only the items not started."""
    workers = list((pool._processes or {}).values())  # the pool names no public way to them
    pool.shutdown(wait=False, cancel_futures=True)
    for worker in workers:
        worker.terminate()
    for worker in workers:
        worker.join()
