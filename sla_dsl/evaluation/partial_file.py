"""A shard's `Partial` as one Parquet file, and back: what `sla evaluate --shard i/N
--partial FILE` writes and `sla merge` reads.

One row per lead of the shard, in the shard's lead order. Per-lead values are plain columns;
a lead's events and its rows of each clause (one per round of its handoffs) are list columns,
so any Arrow reader (DuckDB, Spark, pandas) can open the file. What is not per lead (the
shard, the policy's and the history's fingerprints, the as-of time, the rows read, accepted
and rejected, the rejected rows themselves, the actors, the files read) is JSON in the schema's
metadata under `sla_dsl.partial`, with each column's NumPy type, so that reading it back gives
the very arrays the shard's replay made.

A partial is trusted only as the shard wrote it: the metadata holds a SHA-256 of every
column's values and one of the metadata itself, and a file edited since (a value, a shard
number, a column rewritten by another tool) is refused as damaged, before any of it is
merged. Without them an edited partial merged into a report that was wrong without a word,
or into an internal error.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from sla_dsl.business_time.rep_hours import RepHours
from sla_dsl.evaluation import replay
from sla_dsl.evaluation.merge_stream import CLAUSE_ARRAYS, LEAD_ARRAYS, PartialHead
from sla_dsl.evaluation.merged_history import SlimEvents
from sla_dsl.evaluation.shards import Partial
from sla_dsl.history.absences import Absences
from sla_dsl.history.columns import (
    EVENTS,
    History,
    HistoryError,
    Reject,
    SourceStats,
    in_supported_range,
)
from sla_dsl.history.reps import Reps
from sla_dsl.input_files import not_a_file

KEY = b"sla_dsl.partial"
VERSION = 5
_EVENT_ARRAYS = ("at", "event", "actor", "row", "source")


class PartialFileError(HistoryError):
    """A file that is not a partial `sla evaluate --shard` wrote (or of another version)."""


def _arrow(values: np.ndarray) -> pa.Array:
    if values.dtype == object:
        return pa.array(values, type=pa.string())
    return pa.array(values)


def _numpy(values: pa.Array, dtype: str) -> np.ndarray:
    if dtype == "object":
        return _texts(values)
    if values.null_count:  # written from NumPy, which has none: a file changed since
        raise ValueError(f"{values.null_count:,} numbers missing")
    return np.asarray(values.to_numpy(zero_copy_only=False), dtype=dtype)


def _texts(values: pa.Array) -> np.ndarray:
    """A text column as an object array in which equal texts are one Python string, as in
    the replay that wrote it (a block's label or an owner's name repeated on every lead):
    Arrow's `to_numpy` makes a string per row, which for a merge of millions of leads is
    gigabytes of copies of a few names."""
    if len(values) == 0:
        return np.empty(0, dtype=object)
    encoded = pc.dictionary_encode(values)
    words = np.empty(len(encoded.dictionary) + 1, dtype=object)  # the last: None, for nulls
    words[:-1] = encoded.dictionary.to_numpy(zero_copy_only=False)
    codes = pc.fill_null(encoded.indices, len(words) - 1).to_numpy(zero_copy_only=False)
    return words[codes]


def _listed(values: np.ndarray, counts: np.ndarray) -> pa.Array:
    offsets = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    return pa.LargeListArray.from_arrays(pa.array(offsets), _arrow(values))


def _events_of(partial: Partial) -> tuple[np.ndarray, dict[str, np.ndarray],
                                           dict[str, np.ndarray]]:
    """The events a partial's file holds, as (each event's lead, its columns, its fields): the
    shard's every event, or once slimmed (`shards.slim`) only those the measures read."""
    slim = partial.events
    if slim is not None:
        return slim.lead, {"at": slim.at, "event": slim.event, "actor": slim.actor}, slim.fields
    history = partial.history
    return history.lead, {name: getattr(history, name) for name in _EVENT_ARRAYS
                          if getattr(history, name) is not None}, history.fields


def write_partial(partial: Partial, path: str | Path) -> None:
    """Write `partial` to `path` (Parquet). A slimmed partial (`shards.slim`: what `sla
    evaluate --history DIR` keeps of each bucket until the merge) is written as one, with only
    the events the measures read: it merges as the whole partial does, but a clock audit
    cannot be read from it. Raises OSError when the file cannot be written."""
    n = partial.lead_count
    history = partial.history
    lead, event_columns, event_fields = _events_of(partial)
    columns: dict[str, pa.Array] = {}
    types: dict[str, str] = {}

    def put(name: str, values: np.ndarray, counts: np.ndarray | None = None) -> None:
        types[name] = str(values.dtype)
        columns[name] = _arrow(values) if counts is None else _listed(values, counts)

    put("lead_id", history.lead_ids)
    put("lead_index", partial.lead_index)
    for name in LEAD_ARRAYS:
        put(f"lead.{name}", partial.lead_arrays[name])
    labels = list(partial.block_leads)
    groups: dict[int, int] = {}  # blocks of one level share their start array
    for i, label in enumerate(labels):
        member = np.zeros(n, dtype=bool)
        member[partial.block_leads[label]] = True
        put(f"block.{i}", member)
        group = groups.setdefault(id(partial.block_start[label]), len(groups))
        if f"start.{group}" not in columns:
            put(f"start.{group}", partial.block_start[label])
    spaces = partial.attribute_spaces
    fields = list(dict.fromkeys([*event_fields, *(name for attributes in spaces.values()
                                                  for name in attributes)]))
    for space, attributes in spaces.items():
        for i, name in enumerate(fields):
            if name in attributes:
                put(f"{space}.{i}", attributes[name])
    per_lead = np.bincount(lead, minlength=n) if n else np.zeros(0, dtype=np.int64)
    for name, values in event_columns.items():
        put(f"event.{name}", values, per_lead)
    for i, name in enumerate(fields):
        if name in event_fields:
            put(f"event.field.{i}", event_fields[name], per_lead)
    clauses = []
    for k, result in enumerate(partial.clauses):
        counts = np.bincount(result.leads, minlength=n) if n else np.zeros(0, dtype=np.int64)
        present = [name for name in CLAUSE_ARRAYS if getattr(result, name) is not None]
        for name in present:
            put(f"clause.{k}.{name}", getattr(result, name), counts)
        clauses.append({"clause": result.clause, "handoff": result.handoff,
                        "party": result.party, "reassign": result.reassign,
                        "columns": present})
    rounds = []  # a later round of a block: who is in it, its clocks' starts, its handoffs
    for label, numbered in partial.block_rounds.items():
        for later in numbered:
            member = np.zeros(n, dtype=bool)
            member[later.leads] = True
            put(f"round.{len(rounds)}.member", member)
            put(f"round.{len(rounds)}.start", later.start)
            put(f"round.{len(rounds)}.handoff", later.handoff)
            rounds.append([label, later.number])
    meta = {
        "version": VERSION, "shard": partial.shard, "of": partial.of,
        "fingerprint": partial.fingerprint, "history": partial.history_id,
        "as_of": partial.as_of,
        "as_of_given": partial.as_of_given, "types": types, "labels": labels,
        "starts": [groups[id(partial.block_start[label])] for label in labels],
        "fields": fields, "levels": len(partial.later_at_handoff), "clauses": clauses,
        "rows_read": history.rows_read, "events": len(lead),
        "slim": partial.events is not None,
        "counts": {"read": history.counts.read, "accepted": history.counts.accepted,
                   "rejected": history.counts.rejected},
        "rejects": [asdict(r) for r in history.rejects],
        "reject_ordinal": partial.reject_ordinal.tolist(),
        "actors": [None if a is None else str(a) for a in history.actors],
        "sources": [asdict(s) for s in history.sources], "notes": list(history.notes),
        "actor_zones": dict(history.actor_zones),
        "absences": _absences_json(history.absences), "reps": _reps_json(history.reps),
        "rounds": rounds,
        "pause_spans": [[label, lead, *span] for label, found in partial.pause_spans.items()
                        for lead, spans in found.items() for span in spans],
        "absence_spans": [[lead, *span] for lead, spans in partial.absence_spans.items()
                          for span in spans],
        "extra": partial.meta,
    }
    meta["columns"] = {name: _digest(values) for name, values in columns.items()}
    meta["digest"] = _meta_digest(meta)
    table = pa.table(columns).replace_schema_metadata({KEY: json.dumps(meta).encode()})
    # no dictionary pages: the columns are mostly distinct numbers, and building the
    # dictionaries was three quarters of the writing time
    pq.write_table(table, str(path), use_dictionary=False)


def read_partial(path: str | Path, *, fields: Collection[str] | None = None,
                 rows: bool = True) -> Partial:
    """The partial written to `path`. `fields`: read only these fields of its events (None:
    every one); `rows`: read the events' row numbers and files (else every row reads 0): what
    `sla merge` reads of each partial before slimming it (`shards.slim`), so that a field no
    measure reads never becomes a Python string. Raises `PartialFileError` for a file that is
    not one, and OSError when it cannot be read."""
    _refuse_other_than_file(path)
    try:
        schema = pq.read_schema(str(path))
    except (pa.ArrowException, OSError, ValueError) as error:
        raise _unreadable(path, error) from None
    meta = _metadata(path, schema)
    try:
        wanted = {f"event.field.{i}" for i, name in enumerate(meta.get("fields", []))
                  if fields is None or name in fields}

        def read(name: str) -> bool:
            return (not (name.startswith("event.field.") and name not in wanted)
                    and (rows or name not in ("event.row", "event.source")))

        columns = [name for name in schema.names if read(name)]
        table = pq.read_table(str(path), columns=columns)
    except (pa.ArrowException, OSError, ValueError) as error:
        raise _unreadable(path, error) from None
    _check_columns(path, table, meta, [name for name in meta.get("columns", {})
                                       if read(name)])
    try:
        return _decoded(table, meta)
    except (KeyError, ValueError, TypeError, IndexError, pa.ArrowException) as error:
        raise PartialFileError(f"{path}: a damaged partial ({type(error).__name__}: {error})"
                               "\n  help: evaluate the shard again") from None


def read_head(path: str | Path) -> PartialHead:
    """What the merge checks and places before reading the partial at `path` whole (its
    metadata, its leads' places and each clause's rows per lead): a few bytes a lead.
    Raises `PartialFileError` as `read_partial` does."""
    _refuse_other_than_file(path)
    try:
        schema = pq.read_schema(str(path))
    except (pa.ArrowException, OSError, ValueError) as error:
        raise _unreadable(path, error) from None
    meta = _metadata(path, schema)
    try:
        names = ["lead_index", *(f"clause.{k}.{spec['columns'][0]}"
                                 for k, spec in enumerate(meta["clauses"]))]
        table = pq.read_table(str(path), columns=names)
        _check_columns(path, table, meta, names)
        rows = [table.column(name).combine_chunks().value_lengths().to_numpy(
                    zero_copy_only=False).astype(np.int64) for name in names[1:]]
        return PartialHead(meta["shard"], meta["of"], meta["fingerprint"], meta["history"],
                           meta["as_of"], meta["as_of_given"],
                           _numpy(table.column("lead_index").combine_chunks(),
                                  meta["types"]["lead_index"]), rows)
    except (KeyError, ValueError, TypeError, IndexError, OSError, pa.ArrowException) as error:
        raise PartialFileError(f"{path}: a damaged partial ({type(error).__name__}: {error})"
                               "\n  help: evaluate the shard again") from None


def _refuse_other_than_file(path: str | Path) -> None:
    """Arrow would wait on a named pipe for a writer, and a directory is no partial."""
    why = not_a_file(path)
    if why is not None:
        raise PartialFileError(f"{path}: {why}")


def _unreadable(path: str | Path, error: Exception) -> PartialFileError:
    if isinstance(error, FileNotFoundError):
        return PartialFileError(f"{path}: no such file")
    return PartialFileError(f"{path}: not a Parquet file, or a damaged one ({error})\n  "
                            "help: evaluate the shard again")


def _metadata(path: str | Path, schema: pa.Schema) -> dict:
    """The partial's own metadata, refused with a fix when the file is no partial or one of
    another format: checked before any column is trusted."""
    raw = (schema.metadata or {}).get(KEY)
    if raw is None:
        raise PartialFileError(f"{path}: not a partial (no {KEY.decode()} metadata)\n  help: "
                               "write partials with sla evaluate --shard i/N --partial FILE")
    try:
        meta = json.loads(raw)
        version = meta.get("version")
    except (ValueError, AttributeError):
        meta, version = {}, None
    if version != VERSION:
        raise PartialFileError(f"{path}: a partial of format {version}, this version reads "
                               f"{VERSION}\n  help: evaluate the shard again")
    if meta.get("digest") != _meta_digest(meta):
        raise PartialFileError(f"{path}: a damaged partial (its metadata was changed since "
                               "the shard wrote it)\n  help: evaluate the shard again")
    levels, labels = meta.get("levels"), meta.get("labels")
    if not isinstance(levels, int) or not isinstance(labels, list) \
            or not 0 <= levels <= len(labels):  # (each level has a block at least)
        raise PartialFileError(f"{path}: a damaged partial (its levels of handoffs are "
                               f"{levels!r})\n  help: evaluate the shard again")
    return meta


def _meta_digest(meta: dict) -> str:
    """The metadata's own SHA-256, itself left out."""
    said = json.dumps({k: v for k, v in meta.items() if k != "digest"}, sort_keys=True)
    return hashlib.sha256(said.encode()).hexdigest()


def _check_columns(path: str | Path, table: pa.Table, meta: dict, wanted: list[str]
                   ) -> None:
    """Every column `wanted` was read and holds the values the shard wrote (`_digest`), else
    PartialFileError: a column dropped (a field's, read where it is there) changed the
    report without a word."""
    written = meta.get("columns")
    if not isinstance(written, dict):
        raise PartialFileError(f"{path}: a damaged partial (no digest of its columns)\n  "
                               "help: evaluate the shard again")
    missing = [name for name in wanted if name not in table.column_names]
    if missing:
        raise PartialFileError(f"{path}: a damaged partial (column `{missing[0]}` is gone)\n  "
                               "help: evaluate the shard again")
    for name in table.column_names:
        try:
            same = written.get(name) == _digest(table.column(name).combine_chunks())
        except (pa.ArrowException, ValueError, TypeError):
            same = False
        if not same:
            raise PartialFileError(f"{path}: a damaged partial (column `{name}` is not as the "
                                   "shard wrote it: changed since)\n  help: evaluate the "
                                   "shard again")


def _digest(values: pa.Array) -> str:
    """SHA-256 of a column's values, the same for the array written and the array read back
    (whose chunks, offsets and list field names Parquet may change)."""
    hasher = hashlib.sha256()
    _feed(hasher, values)
    return hasher.hexdigest()


def _feed(hasher, values: pa.Array) -> None:
    hasher.update(len(values).to_bytes(8, "little"))
    if values.null_count:  # (most columns have none: their flags are not made)
        hasher.update(np.asarray(pc.is_null(values)))
    kind = values.type
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        lengths = pc.fill_null(pc.list_value_length(values), 0)
        hasher.update(np.asarray(lengths, dtype=np.int64))
        _feed(hasher, values.flatten())
    elif pa.types.is_string(kind) or pa.types.is_large_string(kind):
        width = 8 if pa.types.is_large_string(kind) else 4
        _, offsets, data = values.buffers()
        bounds = np.frombuffer(offsets, dtype=f"<i{width}", count=len(values) + 1,
                               offset=values.offset * width)
        hasher.update(np.diff(bounds.astype(np.int64)))  # each text's length
        if data is not None and len(bounds):
            hasher.update(memoryview(data)[int(bounds[0]):int(bounds[-1])])
    else:
        hasher.update(np.ascontiguousarray(values.to_numpy(zero_copy_only=False)))


def _decoded(table: pa.Table, meta: dict) -> Partial:
    types = meta["types"]
    n = table.num_rows

    def column(name: str) -> np.ndarray:
        return _numpy(table.column(name).combine_chunks(), types[name])

    def listed(name: str) -> tuple[np.ndarray, np.ndarray]:
        values = table.column(name).combine_chunks()
        return (_numpy(values.flatten(), types[name]),
                values.value_lengths().to_numpy(zero_copy_only=False).astype(np.int64))

    def present(name: str) -> bool:
        return name in table.column_names

    lead_arrays = {name: column(f"lead.{name}") for name in LEAD_ARRAYS}
    starts = {g: column(f"start.{g}") for g in sorted(set(meta["starts"]))}
    block_leads = {label: np.flatnonzero(column(f"block.{i}"))
                   for i, label in enumerate(meta["labels"])}
    block_start = {label: starts[g] for label, g in zip(meta["labels"], meta["starts"],
                                                        strict=True)}
    fields = meta["fields"]
    spaces = ["at_handoff", "now", *(f"later.{k}" for k in range(1, meta["levels"] + 1))]
    attributes = {space: {name: column(f"{space}.{i}") for i, name in enumerate(fields)
                          if present(f"{space}.{i}")} for space in spaces}
    events = {}
    lead = np.zeros(0, dtype=np.int64)
    every: np.ndarray | None = None  # each lead's events, as the first list column holds them
    for name in _EVENT_ARRAYS:
        if present(f"event.{name}"):
            events[name], counts = listed(f"event.{name}")
            every = _same_counts(f"event.{name}", counts, every)
            lead = np.repeat(np.arange(n, dtype=np.int64), counts)
    _check_events(events)
    event_fields = {name: listed(f"event.field.{i}")[0] for i, name in enumerate(fields)
                    if present(f"event.field.{i}")}
    actors = np.array(meta["actors"], dtype=object)
    slim = None
    if meta.get("slim"):  # the events go to the partial's `events`, its history holds none
        slim = SlimEvents(lead.astype(np.int32), events["at"], events["event"],
                          events["actor"], actors, event_fields)
        lead, event_fields = np.zeros(0, dtype=np.int64), {}
        events = {name: lead for name in ("at", "event", "actor", "row")}
    clauses = []
    for k, spec in enumerate(meta["clauses"]):
        values, counts = {}, np.zeros(n, dtype=np.int64)
        rows: np.ndarray | None = None
        for name in spec["columns"]:
            values[name], counts = listed(f"clause.{k}.{name}")
            rows = _same_counts(f"clause.{k}.{name}", counts, rows)
        clauses.append(replay.ClauseResult(
            spec["clause"], spec["handoff"], spec["party"],
            np.repeat(np.arange(n, dtype=np.int64), counts), values["status"], values["due"],
            values["at"], reassign=spec["reassign"],
            **{name: values.get(name) for name in CLAUSE_ARRAYS
               if name not in ("status", "due", "at")}))
    history = History(
        lead=lead, at=events["at"], event=events["event"], actor=events["actor"],
        row=events["row"] if "row" in events else np.broadcast_to(np.int64(0), (len(lead),)),
        lead_ids=column("lead_id"),
        actors=actors, fields=event_fields,
        rejects=[Reject(**r) for r in meta["rejects"]], rows_read=meta["rows_read"],
        source=events.get("source"), sources=[SourceStats(**s) for s in meta["sources"]],
        notes=meta["notes"], actor_zones=meta["actor_zones"],
        absences=_absences(meta["absences"]), reps=_reps(meta["reps"]))
    block_rounds: dict[str, list[replay.LaterRound]] = {}
    for i, (label, number) in enumerate(meta["rounds"]):
        block_rounds.setdefault(label, []).append(replay.LaterRound(
            number, np.flatnonzero(column(f"round.{i}.member")), column(f"round.{i}.start"),
            column(f"round.{i}.handoff")))
    absence_spans: dict[int, list[tuple[int, int, int]]] = {}
    for lead, begin, end, k in meta["absence_spans"]:
        absence_spans.setdefault(lead, []).append((begin, end, k))
    pause_spans: dict[str, dict[int, list[tuple[int, int]]]] = {}
    for label, lead, begin, end in meta["pause_spans"]:
        pause_spans.setdefault(label, {}).setdefault(lead, []).append((begin, end))
    return Partial(
        shard=meta["shard"], of=meta["of"], fingerprint=meta["fingerprint"],
        as_of=meta["as_of"], as_of_given=meta["as_of_given"],
        lead_index=column("lead_index"), history=history,
        reject_ordinal=np.array(meta["reject_ordinal"], dtype=np.int64),
        lead_arrays=lead_arrays, block_leads=block_leads, block_start=block_start,
        clauses=clauses, at_handoff=attributes["at_handoff"], now=attributes["now"],
        later_at_handoff=[attributes[space] for space in spaces[2:]],
        meta=meta["extra"], history_id=meta["history"], block_rounds=block_rounds,
        absence_spans=absence_spans, pause_spans=pause_spans, events=slim)


def _same_counts(name: str, counts: np.ndarray, first: np.ndarray | None) -> np.ndarray:
    """A list column's lengths, which must be those of the columns listed with it (every
    event array a lead's events, every clause array its rows): raises ValueError if not."""
    if first is not None and not np.array_equal(counts, first):
        raise ValueError(f"{name} lists {int(counts.sum()):,} values, the columns beside it "
                         f"{int(first.sum()):,}")
    return counts


def _check_events(events: dict[str, np.ndarray]) -> None:
    """The events' codes and times as a replay holds them (accepted events only): raises
    ValueError for a file whose values were changed since."""
    codes, at = events.get("event"), events.get("at")
    if codes is not None and len(codes) and not 0 <= codes.min() <= codes.max() < len(EVENTS):
        raise ValueError(f"event codes {codes.min()} to {codes.max()}, not 0 to "
                         f"{len(EVENTS) - 1}")
    if at is not None and len(at) and not (in_supported_range(int(at.min()))
                                           and in_supported_range(int(at.max()))):
        raise ValueError("event times outside the supported times")


def _absences_json(absences: Absences | None) -> dict | None:
    if absences is None:
        return None
    return {"rep": absences.rep.tolist(), "begin": absences.begin.tolist(),
            "end": absences.end.tolist(), "reason": absences.reason.tolist(),
            "said": [list(s) for s in absences.said],
            "rejects": [asdict(r) for r in absences.rejects],
            "rows_read": absences.rows_read, "source": absences.source,
            "types": [str(absences.rep.dtype), str(absences.begin.dtype),
                      str(absences.end.dtype), str(absences.reason.dtype)]}


def _absences(data: dict | None) -> Absences | None:
    if data is None:
        return None
    rep, begin, end, reason = data["types"]
    return Absences(np.array(data["rep"], dtype=rep), np.array(data["begin"], dtype=begin),
                    np.array(data["end"], dtype=end), np.array(data["reason"], dtype=reason),
                    said=[tuple(s) for s in data["said"]],
                    rejects=[Reject(**r) for r in data["rejects"]],
                    rows_read=data["rows_read"], source=data["source"])



def _reps_json(reps: Reps | None) -> dict | None:
    if reps is None:
        return None
    return {"hours": {name: {"zone": rep.zone, "source": rep.source,
                             "weekly": None if rep.weekly is None else
                             [[day, [list(span) for span in spans]]
                              for day, spans in rep.weekly.items()]}
                      for name, rep in reps.hours.items()},
            "rejects": [asdict(r) for r in reps.rejects], "rows_read": reps.rows_read,
            "source": reps.source}


def _reps(data: dict | None) -> Reps | None:
    if data is None:
        return None
    hours = {name: RepHours(rep["zone"], None if rep["weekly"] is None else
                            {day: tuple(tuple(span) for span in spans)
                             for day, spans in rep["weekly"]}, rep["source"])
             for name, rep in data["hours"].items()}
    return Reps(hours, [Reject(**r) for r in data["rejects"]], data["rows_read"],
                data["source"])
