"""A run split into shards of leads: the map step from file paths, the merge of the shards'
partials into the one `Report` a single run makes, and a sharded run on one machine.

`evaluation/shards.py` says how leads are sharded and what a partial holds; here are the
pieces another engine maps: `run_shard(ShardTask)` is a plain function of plain values (the
policy's path, the history's paths and options, the shard, the as-of time), so a process
pool, Dask or Spark can send it to a worker, and `merge(policy, partials)` makes the report.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import queue
import tempfile
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from sla_dsl.arguments import expect_policy, given
from sla_dsl.evaluation.clock_audit import AUDITS_IN_REPORT, audit_lead, audit_texts
from sla_dsl.evaluation.clock_audit import render_text as audit_text
from sla_dsl.evaluation.inputs import load_history
from sla_dsl.evaluation.merged_history import fields_read
from sla_dsl.evaluation.partial_file import (
    PartialFileError,
    read_head,
    read_partial,
    write_partial,
)
from sla_dsl.evaluation.shards import (
    Partial,
    check_partials,
    evaluate_bucket,
    evaluate_shard,
    history_fingerprint,
    merge_evaluations,
    merged_evaluation,
    shard_of,
    slim,
)
from sla_dsl.history.buckets import (
    WholePart,
    as_whole_part,
    bucket_path,
    check_bucket,
    manifest_of,
)
from sla_dsl.history.columns import History, HistoryError
from sla_dsl.language.model import Policy
from sla_dsl.policy_file import load_policy
from sla_dsl.reports.report import Report


@dataclass(frozen=True)
class ShardTask:
    """What one shard of a run needs, as plain values: a worker reads the policy (its path or
    its text) and the history itself (`run_shard`). `as_of` is µs; None judges as of the
    latest event of the history read, which is the whole history's when every shard reads
    every file."""

    policy: str
    history: tuple[str, ...]
    shard: int
    of: int
    as_of: int | None = None
    mapping: str | None = None
    preset: str | None = None
    export_timezone: str | None = None
    absences: str | None = None
    reps: str | None = None


def run_shard(task: ShardTask) -> Partial:
    """The map step: read the policy and the history as `sla evaluate` does and replay one
    shard's leads. Raises `PolicyError` and `HistoryError` as loading them does."""
    policy = load_policy(task.policy)
    history = load_history(list(task.history), mapping=task.mapping, policy=policy,
                           preset=task.preset, export_timezone=task.export_timezone,
                           absences=task.absences, reps=task.reps)
    return evaluate_shard(policy, history, task.shard, task.of, task.as_of)


def shard_tasks(policy: str, history: Sequence[str], of: int, *, as_of: int | None = None,
                mapping: str | None = None, preset: str | None = None,
                export_timezone: str | None = None, absences: str | None = None,
                reps: str | None = None) -> list[ShardTask]:
    """The tasks of every shard of one run (`of` of them), for `evaluate_mapped`."""
    return [ShardTask(policy, tuple(str(h) for h in history), shard, of, as_of, mapping,
                      preset, export_timezone, absences, reps) for shard in range(of)]


def evaluate_mapped(policy: Policy, tasks: Sequence[ShardTask],
                    run_map: Callable[[Callable[[ShardTask], Partial], Sequence[ShardTask]],
                                      Iterable[Partial]] = map, *,
                    include_leads: bool = True) -> Report:
    """Run every shard's task through an engine's `run_map(fn, items)` (the builtin `map`, a
    process pool's `map`, a cluster client's) and merge what comes back: the single run's
    report. Raises `PartialMismatch` as `merge` does."""
    return merge(policy, list(run_map(run_shard, tasks)), include_leads=include_leads)


def merge(policy: Policy, partials: Sequence[Partial], *, names: Sequence[str] | None = None,
          include_leads: bool = True, history: History | None = None,
          shard_history: Callable[[int], History] | None = None) -> Report:
    """The report of one run from the partials of all its shards (`sla merge`): the same
    document, text and page, byte for byte. `names` name the partials in messages (their
    files); `history` is the whole history, when the caller holds it. Without it, the
    merged history holds only the events the measures read (`shards.slim`), and the page's
    clock audits read a breached lead's events from its shard: `shard_history(i)` gives
    shard i's history (default: the partials' own, when they still hold it). Raises
    `PartialMismatch` for partials of another policy or as-of time, or shards missing or
    given twice."""
    expect_policy(policy)
    if not isinstance(partials, Sequence) or not all(isinstance(p, Partial) for p in partials):
        raise TypeError(f"partials are {given(partials)}, not evaluate_shard's Partials: "
                        "merge partial files with sla merge, or read each with "
                        "sla_dsl.evaluation.partial_file.read_partial")
    if history is not None:
        return Report(merge_evaluations(policy, partials, names, history=history),
                      include_leads=include_leads)
    if shard_history is None:
        kept = {p.shard: p.history for p in partials if p.events is None}
        shard_history = kept.__getitem__
    evaluation = merge_evaluations(policy, partials, names)
    return MergedReport(evaluation, partials[0].of, shard_history,
                        include_leads=include_leads)


def merge_files(policy: Policy, paths: Sequence[str | Path], *, include_leads: bool = True,
                on_partial: Callable[[], None] | None = None,
                shard_history: Callable[[int], History] | None = None) -> Report:
    """`sla merge`: the report of one run from its partial files, read one at a time. Each
    file's head is read first (`read_head`: its run, its leads' places, its clause rows),
    then each file whole but for the fields no measure reads, slimmed, written into the
    merged arrays and let go (`merged_evaluation`); `on_partial` is told each one done.
    The page's clock audits read shard i's events from `shard_history(i)` (default: its
    partial file again, which must then still be there). Raises `PartialFileError` and
    `PartialMismatch`."""
    heads = [read_head(path) for path in paths]
    check_partials(policy, heads, [str(p) for p in paths])
    ordered = sorted(range(len(paths)), key=lambda i: heads[i].shard)
    fields = fields_read(policy)

    def load(i: int) -> Partial:
        partial = slim(policy, read_partial(paths[ordered[i]], fields=fields, rows=False))
        if on_partial is not None:
            on_partial()
        return partial

    evaluation = merged_evaluation(policy, [heads[i] for i in ordered], load, consume=True)
    files = {heads[i].shard: paths[i] for i in ordered}

    def from_file(shard: int) -> History:
        partial = read_partial(files[shard])
        if partial.events is not None:
            raise PartialFileError(f"{files[shard]}: a slimmed partial, without every event "
                                   "of its leads: no clock audit reads it\n  help: merge the "
                                   "partials sla evaluate --shard wrote")
        return partial.history

    return MergedReport(evaluation, heads[0].of, shard_history or from_file,
                        include_leads=include_leads)


class MergedReport(Report):
    """A merged run's report: its history holds only the events the measures read, so the
    page's clock audits replay each breached lead from its own shard's history."""

    def __init__(self, evaluation, of: int, shard_history: Callable[[int], History], *,
                 include_leads: bool = True) -> None:
        super().__init__(evaluation, include_leads=include_leads)
        self.of = of
        self.shard_history = shard_history

    def audits(self, lead_ids: list[str]) -> dict[str, str]:
        chosen = list(dict.fromkeys(lead_ids))[:AUDITS_IN_REPORT]
        shards = shard_of(chosen, self.of).tolist() if chosen else []
        done: dict[str, str] = {}
        for shard in sorted(set(shards)):  # one shard's history read at a time
            history = self.shard_history(shard)
            mine = [lead for lead, s in zip(chosen, shards, strict=True) if s == shard]
            done.update(audit_texts(self.policy, history, mine, self.evaluation.as_of))
            del history
        return {lead: done[lead] for lead in chosen}

    def explain(self, lead_id: str) -> str:
        history = self.shard_history(int(shard_of([lead_id], self.of)[0]))
        return audit_text(audit_lead(self.policy, history, lead_id, self.evaluation.as_of))


def bucket_partial(policy: Policy, directory: str | Path, shard: int, *,
                   as_of: int | None = None, absences: str | None = None,
                   reps: str | None = None, on_block=None) -> Partial:
    """Shard `shard` of an `sla ingest` directory: read its bucket only and replay it as its
    part of the whole history, as of `as_of` (µs; default the manifest's `as_of_default`, the
    single run's). Raises `HistoryError` for a directory or bucket that is not an ingest's."""
    manifest = manifest_of(directory)
    part = _bucket_part(policy, directory, shard, absences, reps)
    instant = as_of if as_of is not None else _instant(manifest.as_of_default)
    return evaluate_bucket(policy, part, shard, len(manifest.buckets), instant,
                           as_of is not None, on_block=on_block)


def _bucket_part(policy: Policy, directory: str | Path, shard: int, absences: str | None,
                 reps: str | None) -> WholePart:
    manifest = manifest_of(directory)
    of = len(manifest.buckets)
    if not 0 <= shard < of:
        raise HistoryError(f"{directory} holds {of} buckets: shard {shard} is not one\n  "
                           f"help: give --shard I/{of}, I from 0 to {of - 1}")
    check_bucket(directory, shard, manifest)
    path = bucket_path(directory, shard)
    try:
        bucket = load_history([path], policy=policy, absences=absences, reps=reps)
    except HistoryError as error:
        if not _is_bucket_damage(error, path):
            raise
        first = str(error).split("\n")[0]
        raise HistoryError(f"{first}\n  help: bucket {shard} of {directory} is damaged or "
                           f"gone: run sla ingest again into that directory") from None
    return as_whole_part(directory, shard, bucket, manifest)


@dataclass(frozen=True)
class BucketTask:
    """One bucket of an `sla ingest` directory as plain values, for a worker: the policy (its
    path or its text), the directory, the bucket, the as-of time (µs, None: the manifest's),
    the absences and reps files, and the file its partial goes to (None: sent back)."""

    policy: str
    directory: str
    shard: int
    as_of: int | None = None
    absences: str | None = None
    reps: str | None = None
    partial: str | None = None


def run_bucket(task: BucketTask) -> Partial | None:
    """The map step over buckets: read the policy and the bucket, replay it. With
    `task.partial` in a directory this worker sees, the partial is written there, slimmed
    (`_write`), and None comes back, so that the caller never holds more than one partial;
    otherwise (no file asked for, or a cluster's worker on a machine without the caller's
    directory) the partial itself comes back."""
    policy = load_policy(task.policy)
    partial = bucket_partial(policy, task.directory, task.shard, as_of=task.as_of,
                             absences=task.absences, reps=task.reps)
    if task.partial is None or not Path(task.partial).parent.is_dir():
        return partial
    _write(policy, partial, task.partial)
    return None


def evaluate_buckets(policy: Policy, directory: str | Path, *, as_of: int | None = None,
                     absences: str | None = None, reps: str | None = None,
                     include_leads: bool = True,
                     on_bucket: Callable[[int, int], None] | None = None,
                     on_block: Callable[[int], None] | None = None,
                     on_partial: Callable[[], None] | None = None,
                     policy_source: str | None = None, run_map=None) -> Report:
    """Every bucket of an `sla ingest` directory, merged: the single run's report, in the
    memory `sla merge` needs, whatever the number of buckets. Each bucket's partial is
    written to a file in a temporary directory (tempfile's, so under `TMPDIR`; removed
    when this returns or raises, Ctrl-C included) and the files are merged by `merge_files`,
    one at a time: no bucket's replay is held beside another's (`_write`). The buckets run
    in this process, one at a time (`on_bucket(i, of)` told before each, `on_block` each
    handoff block); or, given `run_map(fn, items)` (a process pool's or a cluster's map) and the
    policy's path or text (`policy_source`), each bucket a `BucketTask` run by `run_bucket`
    on a worker, which writes its partial itself. `on_partial` is told each partial merged.
    The page's clock audits read a breached lead's events from its bucket again. Raises
    `HistoryError` (a bucket not an ingest's, a partial that cannot be written) and
    `PartialMismatch`."""
    of = len(manifest_of(directory).buckets)
    with tempfile.TemporaryDirectory(prefix="sla-partials-") as work:
        paths = [Path(work) / f"partial-{shard:04d}.parquet" for shard in range(of)]
        if run_map is not None and policy_source is not None:
            tasks = [BucketTask(policy_source, str(directory), shard, as_of, absences, reps,
                                str(path)) for shard, path in enumerate(paths)]
            sent = list(run_map(run_bucket, tasks))
            for i, path in enumerate(paths):  # the partials of workers that did not see `work`
                partial, sent[i] = sent[i], None
                if partial is not None:
                    _write(policy, partial, path)
                del partial
        else:
            told = on_block or (lambda _shard: None)
            for shard, path in enumerate(paths):
                if on_bucket is not None:
                    on_bucket(shard, of)
                _write(policy, bucket_partial(policy, directory, shard, as_of=as_of,
                                              absences=absences, reps=reps,
                                              on_block=lambda _label, i=shard: told(i)),
                       path)
        return merge_files(policy, paths, include_leads=include_leads, on_partial=on_partial,
                           shard_history=lambda shard: _bucket_part(
                               policy, directory, shard, absences, reps).history)


def _write(policy: Policy, partial: Partial, path: str | Path) -> None:
    """A bucket's partial to its temporary file, slimmed (`shards.slim`: only the events the
    measures read, about half a bucket's, and none of its fields): the merge reads no more,
    and the page's clock audits read the bucket itself. A `HistoryError` says where the room
    is wanted when the file cannot be written."""
    try:
        write_partial(slim(policy, partial), path)
    except OSError as error:
        raise HistoryError(
            f"cannot write bucket {partial.shard}'s partial to {path}: "
            f"{error.strerror or error}\n  help: the buckets' partials go to the temporary "
            f"directory ({tempfile.gettempdir()}; set TMPDIR to another) until they are "
            "merged: see docs/ingest.md for the room they take") from None


def _is_bucket_damage(error: HistoryError, path: Path) -> bool:
    """Whether the error is of the bucket file itself (missing, unreadable, not Parquet), not
    of the absences or reps files read beside it: only the ingest can write a bucket again."""
    return str(error).startswith(str(path))


def _instant(iso: str | None) -> int:
    if iso is None:
        return 0
    moment = dt.datetime.fromisoformat(iso.replace("Z", "+00:00"))
    return (moment - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(microseconds=1)


# What a forked worker inherits: the run's policy and history (read once, by the parent) and
# the queue its replay reports each finished handoff block on.
_shared: dict[str, object] = {}


def _replay_in_worker(shard: int, of: int, as_of: int | None) -> Partial:
    policy, history, blocks = _shared["policy"], _shared["history"], _shared["blocks"]
    partial = evaluate_shard(policy, history, shard, of, as_of,
                             on_block=lambda _label: blocks.put(shard),
                             assigned=_shared["assigned"], history_id=_shared["history_id"])
    return replace(partial, history=None)  # the parent holds the history: only results travel


def evaluate_sharded(policy: Policy, history: History, of: int, *, workers: int = 1,
                     as_of: int | None = None, include_leads: bool = True,
                     on_block: Callable[[int], None] | None = None) -> Report:
    """Evaluate `history` as `of` shards, in this process (`workers` 1) or in a pool of
    `workers` forked processes, and merge them: the single run's report. `on_block` is told
    the shard of each handoff block done, as the shards' replays finish them (a progress bar
    over every shard)."""
    instant = as_of if as_of is not None else (int(history.at.max()) if len(history) else 0)
    told = on_block or (lambda _shard: None)
    assigned = shard_of(history.lead_ids, of)
    history_id = history_fingerprint(history)  # once: it reads the files through
    if workers <= 1 or of == 1 or "fork" not in multiprocessing.get_all_start_methods():
        partials = [replace(evaluate_shard(policy, history, i, of, instant,
                                           on_block=lambda _label, i=i: told(i),
                                           assigned=assigned, history_id=history_id),
                            history=None)
                    for i in range(of)]
    else:
        partials = _in_pool(policy, history, of, workers, instant, told, assigned, history_id)
    partials = [replace(p, as_of_given=as_of is not None) for p in partials]
    return merge(policy, partials, include_leads=include_leads, history=history)


def _in_pool(policy: Policy, history: History, of: int, workers: int, as_of: int,
             told: Callable[[int], None], assigned: np.ndarray, history_id: str
             ) -> list[Partial]:
    """The shards on forked workers, which inherit the history rather than read or unpickle
    it; a thread passes their finished blocks on to `told` as they come."""
    context = multiprocessing.get_context("fork")
    blocks = context.Queue()
    _shared.update(policy=policy, history=history, blocks=blocks, assigned=assigned,
                   history_id=history_id)
    done = threading.Event()

    def relay() -> None:
        while not done.is_set():
            try:
                told(blocks.get(timeout=0.1))
            except queue.Empty:
                continue

    relaying = threading.Thread(target=relay, daemon=True)
    relaying.start()
    try:
        with ProcessPoolExecutor(max_workers=min(workers, of), mp_context=context) as pool:
            futures = [pool.submit(_replay_in_worker, i, of, as_of) for i in range(of)]
            partials = [f.result() for f in as_completed(futures)]
    finally:
        done.set()
        relaying.join()
        while True:  # blocks reported just before the end
            try:
                told(blocks.get_nowait())
            except queue.Empty:
                break
        blocks.close()
        _shared.clear()
    return sorted(partials, key=lambda p: p.shard)
