"""`--engine` and `--scheduler`: where a verb's independent pieces of work run.

Shared by every verb that maps work over an engine (`sla simulate` today; `sla evaluate
--shard` is meant to take the same two options), so the words and the errors are the same.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager

# sla_dsl.engines.ENGINES, written out so that building the parser loads no engine code
# (tests/test_engines.py holds the two equal).
ENGINE_NAMES = ("local", "dask")
# The simulator's LOCAL_WORKERS (both cores of a laptop), likewise written out and held equal.
LOCAL_WORKERS = 2


def add_arguments(parser: argparse.ArgumentParser, work: str) -> None:
    parser.add_argument("--engine", choices=ENGINE_NAMES, default="local",
                        help=f"where the {work} run: 'local' (default), processes on this "
                             "machine; 'dask', a Dask cluster (pip install 'sla_dsl[dask]'), "
                             "one started on this machine unless --scheduler names one")
    parser.add_argument("--scheduler", metavar="ADDRESS",
                        help="with --engine dask: the address of a running Dask scheduler, "
                             "such as tcp://10.0.0.5:8786")


def problem(args: argparse.Namespace) -> str | None:
    if args.scheduler is not None and args.engine != "dask":
        return ("--scheduler names a Dask scheduler\n"
                "  help: add --engine dask, or leave out --scheduler")
    return None


@contextmanager
def opened(args: argparse.Namespace) -> Iterator[object]:
    """The engine the options ask for, open for the block (a cluster started once for every
    map a sweep or a sizing makes). Raises `sla_dsl.engines.EngineError`."""
    from sla_dsl.engines import open_engine

    workers = LOCAL_WORKERS if args.engine == "local" else None
    with open_engine(args.engine, workers=workers, address=args.scheduler) as engine:
        yield engine
