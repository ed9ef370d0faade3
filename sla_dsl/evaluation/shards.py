"""Evaluation as a map over shards of leads, and the merge of their partials into one.

Leads are independent while their clocks are replayed; what crosses leads (round-robin shares
and caps, commitments per period, medians, attribution, team triggers, coverage) is measured
afterwards from the replayed leads and the history's events. So a shard replays its own leads
and keeps, as a `Partial`, everything the measures read of them: its leads' events and replay
results, as columns. `merge_evaluations` puts the partials of every shard back into the one
`Evaluation` a single run makes, array for array, one partial at a time
(`merge_stream.Merger`), and the report is then measured and written from it as usual: the
same bytes. Its history holds only the events the measures read (`slim`,
`merged_history.needed_rows`): a clock audit reads a lead's every event from its own shard.

Which shard a lead belongs to is a documented, stable hash of its id (not Python's `hash`,
which is salted per process): the first 8 bytes of BLAKE2b (digest size 8) of the id's UTF-8
bytes, read as a little-endian unsigned integer, modulo the number of shards
(`history.lead_hash`, which `sla ingest` buckets by, so bucket i of N is shard i/N). Spark or
Dask can bucket a history the same way; DuckDB through the function the ingest gives it.

The as-of time: by default a run is judged as of the latest event of the *whole* history. A
shard that reads the whole history (as `sla evaluate --shard i/N` does) knows it and uses it,
and records it with whether it was given; the merge refuses partials whose as-of times (or
policies) differ. A shard given only its own leads' events must be given the as-of time
(`evaluate_shard(..., as_of=...)`), since its own latest event is not the whole history's.

`evaluate_shard` is the map step on a History already read (a plain function of picklable
values); `sla_dsl.reports.sharded.run_shard` is the same from file paths, for a process pool
or a cluster's `map`, and `partial_file` writes a partial as Parquet and reads it back.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from sla_dsl.arguments import expect_history, expect_policy
from sla_dsl.evaluation import replay
from sla_dsl.evaluation.inputs import as_of_instant
from sla_dsl.evaluation.merge_stream import (
    LEAD_ARRAYS,
    PartialHead,
    PartialMismatch,
    head_of,
    merge_stream,
)
from sla_dsl.evaluation.merged_history import SlimEvents, merged_events, slim_events, touches_read
from sla_dsl.history.buckets import WholePart
from sla_dsl.history.columns import History, Reject
from sla_dsl.history.lead_hash import lead_buckets
from sla_dsl.input_files import file_sha256, not_a_file
from sla_dsl.language.model import Policy


def shard_of(lead_ids: Sequence[str] | np.ndarray, of: int) -> np.ndarray:
    """Per lead id, the shard (0..of-1) it belongs to: `sla ingest`'s bucket of the same N
    (`history.lead_hash`, the one definition of the hash)."""
    if of < 1:
        raise ValueError(f"the number of shards must be at least 1, not {of}")
    ids = lead_ids.tolist() if isinstance(lead_ids, np.ndarray) else lead_ids
    return lead_buckets([str(i) for i in ids], of)


def policy_fingerprint(policy: Policy) -> str:
    """The policy as parsed, hashed: partials of two policies never merge (any change of its
    text, a comment included, is another policy)."""
    return hashlib.sha256(policy.model_dump_json().encode()).hexdigest()[:32]


def history_fingerprint(history: History) -> str:
    """The history a shard was cut from, hashed: its files (path, content, rows, records,
    rejected and left out), its number of leads, and the absences and reps files read with
    it. Shards of two exports never merge, nor shards of one file changed between their runs
    (a score edited), nor shards run with and without an absences file: each merged into a
    report that was neither run's, without a word."""
    said = json.dumps([[s.path, _content(s.path), s.rows, s.records, s.rejected, s.left_out]
                       for s in history.sources] + [len(history.lead_ids), history.rows_read]
                      + [[side.source, _content(side.source)] for side in
                         (history.absences, history.reps) if side is not None])
    return hashlib.sha256(said.encode()).hexdigest()[:32]


def _content(path: str) -> str | None:
    """A file's SHA-256, or None for a source that is no file (rows given in memory)."""
    return file_sha256(path) if path and not_a_file(path) is None else None


@dataclass
class Partial:
    """One shard's replay: its leads' events and replay results, with what the merge checks.

    `history` holds the shard's leads only (its `lead` indexes `history.lead_ids`), with the
    whole history's `actors`, sources, notes and absences; `lead_index` is each lead's index
    in the history the shard was cut from, which is the single run's lead order when that was
    the whole history (a bucket's partial holds a sortable place instead, the place of the
    lead's first row in the files: the merge only sorts by it). `rejects` are the shard's
    share of the rejected rows (every N-th, by `reject_ordinal`, their place in the whole
    history's list), and `history.rows_read` its share of the rows read, so that the shards'
    counts add up to the single run's.
    `history` is None where the run that made the partial keeps the whole history itself
    (`sla evaluate --shards N` with workers: only the replay results travel back)."""

    shard: int
    of: int
    fingerprint: str
    as_of: int
    as_of_given: bool
    lead_index: np.ndarray
    history: History | None
    reject_ordinal: np.ndarray
    lead_arrays: dict[str, np.ndarray]
    block_leads: dict[str, np.ndarray]
    block_start: dict[str, np.ndarray]
    clauses: list[replay.ClauseResult]
    at_handoff: dict[str, np.ndarray]
    now: dict[str, np.ndarray]
    meta: dict = field(default_factory=dict)
    # per level of handoffs after the first, its `Evaluation.later_at_handoff` attributes
    later_at_handoff: list[dict[str, np.ndarray]] = field(default_factory=list)
    # per block label, its later rounds as `Evaluation.block_rounds` holds them (number, the
    # shard's leads, starts and handoffs' places per lead of the shard), and per lead of the
    # shard its absence spans: a recycled lead's rounds and a paused clock are measured after
    # the merge too
    block_rounds: dict[str, list[replay.LaterRound]] = field(default_factory=dict)
    absence_spans: dict[int, list[tuple[int, int, int]]] = field(default_factory=dict)
    pause_spans: dict[str, dict[int, list[tuple[int, int]]]] = field(default_factory=dict)
    history_id: str = ""
    """The history the shard was cut from (`history_fingerprint`): the merge refuses shards of
    different ones."""
    events: SlimEvents | None = None
    """Once slimmed (`slim`), the events the measures read; `history` then holds no events."""

    @property
    def lead_count(self) -> int:
        return len(self.lead_index)

    @property
    def attribute_spaces(self) -> dict[str, dict[str, np.ndarray]]:
        """Every set of per-lead attributes by the name a partial file stores it under:
        `at_handoff`, `now`, then `later.1`, ... for the levels after the first."""
        return {"at_handoff": self.at_handoff, "now": self.now,
                **{f"later.{k}": values for k, values in enumerate(self.later_at_handoff, 1)}}


def cut(history: History, shard: int, of: int, assigned: np.ndarray | None = None
        ) -> tuple[History, np.ndarray, np.ndarray]:
    """The shard's part of a history: (sub-history, the leads' indexes in `history`, the
    ordinals of the rejects it keeps). Events keep their order; actors stay whole.
    `assigned` is `shard_of(history.lead_ids, of)` when the caller has it (hashing a million
    ids takes a second: a run of every shard hashes them once)."""
    if not 0 <= shard < of:
        raise ValueError(f"shard {shard} of {of}: a shard is 0 to {of - 1}")
    mine = (shard_of(history.lead_ids, of) if assigned is None else assigned) == shard
    leads = np.flatnonzero(mine)
    renumber = np.full(len(history.lead_ids), -1, dtype=np.int64)
    renumber[leads] = np.arange(len(leads))
    events = mine[history.lead]
    ordinals = np.arange(shard, len(history.rejects), of, dtype=np.int64)
    rejects = [history.rejects[i] for i in ordinals.tolist()]
    kept = int(np.count_nonzero(events))
    # rows read that are neither an event nor a reject (none today) count in shard 0
    rest = history.rows_read - len(history) - len(history.rejects)
    sub = replace(
        history, lead=renumber[history.lead[events]], at=history.at[events],
        event=history.event[events], actor=history.actor[events], row=history.row[events],
        lead_ids=history.lead_ids[leads],
        fields={name: column[events] for name, column in history.fields.items()},
        rejects=rejects, rows_read=kept + len(rejects) + (rest if shard == 0 else 0),
        source=None if history.source is None else history.source[events])
    return sub, leads, ordinals


def evaluate_shard(policy: Policy, history: History, shard: int, of: int,
                   as_of: str | dt.datetime | int | None = None, *, on_block=None,
                   assigned: np.ndarray | None = None, history_id: str | None = None
                   ) -> Partial:
    """Replay the leads of shard `shard` of `of` in `history` (the whole history, or a part
    holding at least those leads' events) as of `as_of` (ISO 8601 text, a datetime or µs, as
    `evaluate` reads it; default the latest event of `history`: give it when `history` is not
    the whole history). `on_block` is told each
    handoff block done; `assigned` is each lead's shard, if known (see `cut`). `history_id`
    names the history the run is of (default: `history_fingerprint(history)`); a pipeline that
    gives each shard only its own bucket gives every bucket of one run the same id."""
    expect_policy(policy)
    expect_history(history)
    if not all(isinstance(n, int) and not isinstance(n, bool) for n in (shard, of)):
        raise TypeError(f"shard {shard!r} of {of!r}: both are whole numbers, such as 0 of 4")
    try:
        given = as_of_instant(as_of, policy.timezone or "UTC")
    except ValueError as error:
        raise ValueError(f"as_of {as_of!r} {error}") from None
    instant = given if given is not None else (int(history.at.max()) if len(history) else 0)
    sub, leads, ordinals = cut(history, shard, of, assigned)
    return _replayed(policy, sub, shard, of, instant, as_of is not None, leads, ordinals,
                     history_fingerprint(history) if history_id is None else history_id,
                     on_block)


def evaluate_bucket(policy: Policy, part: WholePart, shard: int, of: int, as_of: int,
                    as_of_given: bool, *, on_block=None) -> Partial:
    """Replay bucket `shard` of an ingest of `of` buckets, read as its part of the whole
    history (`history.buckets.as_whole_part`), as of `as_of` (the manifest's default unless
    `as_of_given`): the partial of shard `shard/of` of the whole history, which merges with
    the other buckets' into the single run's report."""
    return _replayed(policy, part.history, shard, of, as_of, as_of_given, part.lead_place,
                     part.reject_ordinal, part.history_id, on_block)


def _replayed(policy: Policy, sub: History, shard: int, of: int, instant: int,
              as_of_given: bool, leads: np.ndarray, ordinals: np.ndarray, history_id: str,
              on_block) -> Partial:
    evaluation = replay.evaluate(policy, sub, instant, on_block=on_block)
    return Partial(
        shard=shard, of=of, fingerprint=policy_fingerprint(policy), as_of=instant,
        as_of_given=as_of_given, lead_index=leads, history=sub,
        reject_ordinal=ordinals,
        lead_arrays={name: getattr(evaluation, name) for name in LEAD_ARRAYS},
        block_leads=dict(evaluation.block_leads), block_start=dict(evaluation.block_start),
        clauses=list(evaluation.clauses),
        at_handoff=dict(evaluation.at_handoff.attributes),
        now=dict(evaluation.now.attributes),
        later_at_handoff=[dict(c.attributes) for c in evaluation.later_at_handoff],
        block_rounds={label: list(rounds) for label, rounds in evaluation.block_rounds.items()},
        absence_spans=dict(evaluation.absence_spans),
        pause_spans={label: dict(found) for label, found in evaluation.pause_spans.items()},
        history_id=history_id)


def check_partials(policy: Policy, partials: Sequence[Partial],
                   names: Sequence[str] | None = None) -> None:
    """Raise `PartialMismatch` unless the partials are every shard of one run of `policy`,
    each once."""
    names = list(names) if names is not None else [f"partial {i + 1}"
                                                   for i in range(len(partials))]
    if not partials:
        raise PartialMismatch("no partials to merge")
    fingerprint = policy_fingerprint(policy)
    for name, p in zip(names, partials, strict=True):
        if p.fingerprint != fingerprint:
            raise PartialMismatch(
                f"{name} was evaluated with another policy than the one given\n  help: merge "
                "with --policy the file the shards were evaluated with, or evaluate them again")
    first = partials[0]
    for name, p in zip(names, partials, strict=True):
        if p.history_id != first.history_id:
            raise PartialMismatch(
                f"{name} was cut from another history than {names[0]} (other files, the "
                "same files changed, or other --absences or --reps)\n  help: evaluate every "
                "shard on the same --history, --absences and --reps")
        if (p.as_of, p.as_of_given) != (first.as_of, first.as_of_given):
            raise PartialMismatch(
                f"{name} is as of another time than {names[0]}\n  help: evaluate every shard "
                "with the same --as-of (or every one on the whole history)")
        if p.of != first.of:
            raise PartialMismatch(
                f"{name} is shard {p.shard}/{p.of} but {names[0]} is of {first.of} "
                "shards\n  help: merge the shards of one run")
    seen: dict[int, str] = {}
    for name, p in zip(names, partials, strict=True):
        if p.shard in seen:
            raise PartialMismatch(f"shard {p.shard}/{p.of} is given twice: {seen[p.shard]} "
                                  f"and {name}\n  help: give each shard once")
        seen[p.shard] = name
    missing = [str(i) for i in range(first.of) if i not in seen]
    if missing:
        raise PartialMismatch(f"shard{'s' if len(missing) > 1 else ''} "
                              f"{', '.join(missing)} of {first.of} missing\n  help: give "
                              "the partial of every shard")


def merge_evaluations(policy: Policy, partials: Sequence[Partial],
                      names: Sequence[str] | None = None, *,
                      history: History | None = None, consume: bool = False
                      ) -> replay.Evaluation:
    """The one `Evaluation` the partials of every shard make: the single run's, array for
    array. `history` is the whole history the shards were cut from, when the caller still
    holds it (`sla evaluate --shards`): the partials' own events are then not needed;
    without it, the merged history holds only the events the measures read (`slim`), in
    the single run's order. `consume`: each partial's arrays are let go as soon as they are
    merged (the partials are then of no further use). Raises `PartialMismatch`."""
    check_partials(policy, partials, names)
    partials = sorted(partials, key=lambda p: p.shard)

    def load(i: int) -> Partial:
        return partials[i] if history is not None else slim(policy, partials[i])

    return merged_evaluation(policy, [head_of(p) for p in partials], load, history=history,
                             consume=consume)


def merged_evaluation(policy: Policy, heads: Sequence[PartialHead],
                      load: Callable[[int], Partial], *, history: History | None = None,
                      consume: bool = False) -> replay.Evaluation:
    """The merged `Evaluation` of checked partials given by their heads, in shard order, and
    read one at a time (`load(i)`, slimmed unless `history` is the whole history): each is
    written into the merged arrays and only its needed events, rounds and rejects are kept
    (`merge_stream`). `consume`: a partial's arrays are let go of once merged."""

    def light(partial: Partial) -> Partial:
        kept = replace(partial, lead_arrays={}, block_leads={}, block_start={}, clauses=[],
                       at_handoff={}, now={}, later_at_handoff=[],
                       lead_index=np.zeros(0, dtype=np.int64))
        if consume:
            partial.lead_arrays, partial.block_leads, partial.block_start = {}, {}, {}
            partial.clauses, partial.at_handoff, partial.now = [], {}, {}
            partial.later_at_handoff = []
        return kept

    merger, kept = merge_stream(heads, load, light)
    places, size = merger.places, merger.size
    if history is None:
        history = _merged_history(policy, kept, places, size, consume)
    evaluation = merger.evaluation(policy, history, heads[0].as_of, heads[0].as_of_given)
    evaluation.block_rounds = _merged_rounds(kept, places, size)
    evaluation.absence_spans = dict(sorted(
        (int(place[lead]), spans) for p, place in zip(kept, places, strict=True)
        for lead, spans in p.absence_spans.items()))
    for p, place in zip(kept, places, strict=True):
        for label, found in p.pause_spans.items():
            merged = evaluation.pause_spans.setdefault(label, {})
            merged.update((int(place[lead]), spans) for lead, spans in found.items())
    evaluation.pause_spans = {label: dict(sorted(found.items()))
                              for label, found in sorted(evaluation.pause_spans.items())}
    return evaluation


def _merged_rounds(partials: Sequence[Partial], places: Sequence[np.ndarray], size: int
                   ) -> dict[str, list[replay.LaterRound]]:
    """Every block's later rounds over all shards, in round order as a single run lists
    them. A shard without a round leaves its leads' starts at NONE there (and their handoffs
    at -1): a round's start is read only at the round's own leads. A handoff's place is
    counted among the lead's own handoffs, so it is the same in the merged history."""
    merged: dict[str, list[replay.LaterRound]] = {}
    labels = dict.fromkeys(label for p in partials for label in p.block_rounds)
    for label in labels:
        numbered = [{r.number: r for r in p.block_rounds.get(label, [])} for p in partials]
        for number in sorted({n for rounds in numbered for n in rounds}):
            leads = np.sort(np.concatenate(
                [place[rounds[number].leads] for rounds, place in zip(numbered, places,
                                                                      strict=True)
                 if number in rounds]))

            def column(name: str, missing: int, numbered=numbered, number=number
                       ) -> np.ndarray:
                return _scatter([getattr(rounds[number], name) if number in rounds
                                 else np.full(len(place), missing, dtype=np.int64)
                                 for rounds, place in zip(numbered, places, strict=True)],
                                places, size)

            merged.setdefault(label, []).append(replay.LaterRound(
                number, leads, column("start", replay.NONE), column("handoff", -1)))
    return merged


def _scatter(parts: Sequence[np.ndarray], places: Sequence[np.ndarray], size: int
             ) -> np.ndarray:
    out = np.empty(size, dtype=parts[0].dtype)
    if out.dtype == object:
        out[:] = None
    for part, place in zip(parts, places, strict=True):
        out[place] = part
    return out


def slim(policy: Policy, partial: Partial) -> Partial:
    """The partial with only the events the measures read after the replay
    (`merged_history.slim_events`), and none of its other events: what the merge keeps of
    each shard, so that merging holds no more than the events the report reads. Its history
    keeps its leads' ids, rejects, rows read and the files' notes."""
    if partial.events is not None or partial.history is None:
        return partial
    history = partial.history
    events = slim_events(policy, history, partial.as_of, touches_read(policy, partial.clauses))
    none = np.zeros(0, dtype=np.int64)
    shell = replace(history, lead=none, at=none, event=none, actor=none, row=none, fields={},
                    source=None)
    return replace(partial, history=shell, events=events)


def _merged_history(policy: Policy, partials: Sequence[Partial],
                    places: Sequence[np.ndarray], size: int, consume: bool) -> History:
    """The whole history's leads and rejects, and the events the measures read (every
    partial slimmed, `slim`), in the single run's order. The files' row numbers are not
    kept: every row reads 0 (only a clock audit reads them, from the lead's own shard)."""
    partials = [slim(policy, p) for p in partials]
    actors, codes = _actors([p.events.actors for p in partials])
    columns = merged_events([p.events for p in partials], places, size, codes, consume)
    lead_ids = _scatter([p.history.lead_ids for p in partials], places, size)
    ordinals = np.concatenate([p.reject_ordinal for p in partials])
    rejects: list[Reject] = [r for p in partials for r in p.history.rejects]
    rejects = [rejects[i] for i in np.argsort(ordinals, kind="stable").tolist()]
    whole = partials[0].history
    total = len(columns["at"])
    return replace(whole, lead=columns["lead"], at=columns["at"], event=columns["event"],
                   actor=columns["actor"], row=np.broadcast_to(np.int32(0), (total,)),
                   lead_ids=lead_ids, actors=actors,
                   fields={name[len("field."):]: column for name, column in columns.items()
                           if name.startswith("field.")},
                   rejects=rejects, rows_read=sum(p.history.rows_read for p in partials),
                   source=None)


def _actors(each: Sequence[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
    """One actors array for every partial's (`each`) and, per partial, its codes' new values
    (with -1, no actor, kept: the last element)."""
    first = each[0]
    if all(len(actors) == len(first) and (actors == first).all() for actors in each):
        same = np.append(np.arange(len(first), dtype=np.int64), -1)
        return first, [same] * len(each)
    names = list(dict.fromkeys(str(a) for actors in each for a in actors))
    index = {name: i for i, name in enumerate(names)}
    codes = [np.array([index[str(a)] for a in actors] + [-1], dtype=np.int64)
             for actors in each]
    return np.array(names, dtype=object), codes

