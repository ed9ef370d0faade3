"""One bucket of an `sla ingest`, read as its part of the whole history it was cut from.

A bucket is a plain event log, so `load_history` reads it as a history of its own: its rows
numbered 1 to n in the bucket, its actors and leads in the bucket's order, no rejects. Its
evaluation as a shard of the whole needs what the single run of the whole history holds:
each event's file and row in the files cut (the bucket's reserved column `__sla_place`), each
lead's place in the single run's lead order (`__sla_lead_place`, the place of the lead's
first row), the actors numbered as the single run numbers them, the files' counts and the
rejected rows (`manifest.json`, `rejects.jsonl`). `as_whole_part` puts them back, so that the
bucket's partial is the partial of shard `i/N` of the whole history: same arrays, same lead
order once merged, same counts.

The rejected rows and the rows read that are neither an event nor a reject belong to no lead:
bucket 0's part carries all of them, the others none, so that the merged counts and the
merged list of rejects are the single run's.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from sla_dsl.history.columns import NO_ACTOR, History, HistoryError, Reject, SourceStats
from sla_dsl.history.ingest import (
    EVENT_PLACE,
    LEAD_PLACE,
    MANIFEST,
    PLACE_BITS,
    Manifest,
    bucket_name,
    manifest_digest,
    read_manifest,
)
from sla_dsl.input_files import file_sha256

__all__ = ["WholePart", "as_whole_part", "bucket_path", "buckets_read_alone", "check_bucket",
           "is_ingest", "manifest_of"]


@dataclass
class WholePart:
    """A bucket as its part of the whole history: `history` (the bucket's leads, with the
    whole history's files, actors and, in bucket 0, its rejects), each lead's place in the
    single run's lead order (`lead_place`, sortable), the ordinals of the rejects it holds in
    the whole list, and the whole history's id."""

    history: History
    lead_place: np.ndarray
    reject_ordinal: np.ndarray
    history_id: str


def is_ingest(path: str | Path) -> bool:
    """Whether `path` is a directory an ingest wrote (it holds `manifest.json`)."""
    return Path(path).is_dir() and (Path(path) / MANIFEST).is_file()


def manifest_of(directory: str | Path) -> Manifest:
    """The ingest's manifest; `HistoryError` when it is unreadable or written before buckets
    carried their places (ingest again)."""
    try:
        manifest = read_manifest(Path(directory))
    except (OSError, ValueError, TypeError, KeyError) as error:
        raise HistoryError(f"{directory}: cannot read its {MANIFEST}: {error}\n  help: "
                           "run sla ingest again into that directory") from None
    if not manifest.history_id or not manifest.files or not manifest.digest:
        raise HistoryError(f"{directory}: its buckets were written by an older sla ingest, "
                           "without each event's place in the files or the files' digests\n"
                           "  help: run sla ingest again into that directory")
    if manifest.digest != manifest_digest(manifest):
        raise HistoryError(f"{directory}: its {MANIFEST} was changed since sla ingest wrote "
                           "it\n  help: run sla ingest again into that directory")
    return manifest


def check_bucket(directory: str | Path, index: int, manifest: Manifest) -> None:
    """Bucket `index` is the file the ingest wrote (its SHA-256), else HistoryError: a bucket
    edited, cut short, copied over another or swapped with one was evaluated as if the
    ingest wrote it, into a report wrong without a word."""
    path = bucket_path(directory, index)
    try:
        same = file_sha256(path) == manifest.buckets[index].sha256
    except OSError as error:
        raise HistoryError(f"{path}: {error.strerror or error}\n  help: bucket {index} of "
                           f"{directory} is gone: run sla ingest again into that "
                           "directory") from None
    if not same:
        raise HistoryError(f"{path}: not the bucket sla ingest wrote (changed since)\n  help: "
                           "run sla ingest again into that directory")


def buckets_read_alone(paths: Sequence[str | Path]) -> list[str]:
    """Notes for event logs given to be read alone that are an ingest's buckets (they carry
    its reserved column `__sla_place`), one per directory. A bucket holds accepted events
    only: the rows the ingest rejected or left out, its counts and its notes (Salesforce's
    tracked history) are in the manifest, so a bucket read as a file of its own would say
    "0 rejected" of an export that had rejects, with no word of where they went."""
    found: dict[Path, list[Path]] = {}
    for path in map(Path, paths):
        if path.suffix.lower() == ".parquet" and _has_places(path):
            found.setdefault(path.parent, []).append(path)
    return [_read_alone_note(directory, files) for directory, files in found.items()]


def _has_places(path: Path) -> bool:
    """Whether a Parquet file has the column an ingest's bucket carries (a schema read only)."""
    try:
        return EVENT_PLACE in pq.read_schema(path).names
    except (OSError, pa.ArrowException):  # not Parquet: the reader says what is wrong
        return False


def _read_alone_note(directory: Path, files: Sequence[Path]) -> str:
    """What the report says of buckets of `directory` read as event logs of their own."""
    one = len(files) == 1
    names = " and ".join(f.name for f in files) if len(files) < 3 else \
        f"{files[0].name} and {len(files) - 1} other buckets"
    try:
        manifest = read_manifest(directory)
    except (OSError, ValueError, TypeError, KeyError):
        manifest = None
    if manifest is None:
        what = ("is a bucket" if one else "are buckets") + " of an sla ingest"
        counts = ""
        where = f"the {MANIFEST} of the directory the ingest wrote (none is in {directory})"
        whole = "DIR, that directory,"
    else:
        of = len(manifest.buckets)
        what = "is one of" if one else ("are" if len(files) == of else f"are {len(files)} of")
        what += f" the {of} buckets of an sla ingest"
        counts = (f" ({manifest.rows_read:,} rows read, {manifest.accepted:,} accepted, "
                  f"{manifest.rejected:,} rejected)")
        where = f"{directory / MANIFEST} and {directory / manifest.rejects_file}"
        whole = str(directory)
    whose, read_as = ("its", "an event log of its own") if one else \
        ("their", "event logs of their own")
    return (f"{names} {what} ({whose} column {EVENT_PLACE} says so), read here as {read_as}: "
            f"the ingest's counts{counts}, its rejected rows and its notes are in {where}, not "
            f"in the {'bucket' if one else 'buckets'}, so this history's counts are of "
            f"{whose} accepted events alone; sla evaluate --history {whole} reads every "
            f"bucket, as one history")


def bucket_path(directory: str | Path, index: int) -> Path:
    return Path(directory) / bucket_name(index)


def as_whole_part(directory: str | Path, index: int, bucket: History,
                  manifest: Manifest | None = None) -> WholePart:
    """Bucket `index`, read by `load_history` as `bucket`, as its part of the whole history
    (see the module's docstring)."""
    directory = Path(directory)
    manifest = manifest or manifest_of(directory)
    path = bucket_path(directory, index)
    places = [EVENT_PLACE, LEAD_PLACE]
    schema = pq.read_schema(path)
    table = None
    if all(schema.get_all_field_indices(name) == [schema.get_field_index(name)]
           and schema.field(name).type == pa.int64() for name in places):
        table = pq.read_table(path, columns=places)
    if table is None or any(column.null_count for column in table.columns):
        raise HistoryError(f"{path}: not the bucket the ingest wrote (its columns "
                           f"{' and '.join(places)} are missing, or not whole numbers)\n"
                           "  help: run sla ingest again into that directory")
    if table.num_rows != len(bucket) or bucket.rejects:
        raise HistoryError(f"{path}: not the bucket the ingest wrote ({len(bucket)} events "
                           f"read, {table.num_rows} written)\n  help: run sla ingest again")
    at_row = np.asarray(bucket.row, dtype=np.int64) - 1  # the bucket's own rows, 1 to n
    place = table.column(EVENT_PLACE).to_numpy()[at_row]
    lead_place = np.empty(len(bucket.lead_ids), dtype=np.int64)
    lead_place[bucket.lead] = table.column(LEAD_PLACE).to_numpy()[at_row]
    actors = np.array(manifest.actors, dtype=object)
    code = {name: i for i, name in enumerate(manifest.actors)}
    try:
        recode = np.array([code[str(a)] for a in bucket.actors] + [NO_ACTOR], dtype=np.int64)
    except KeyError as error:
        raise HistoryError(f"{path}: actor {error} is not in {MANIFEST}\n  help: run sla "
                           "ingest again") from None
    rejects = _rejects(directory, manifest) if index == 0 else []
    events_and_rejects = manifest.accepted + manifest.rejected
    rest = manifest.rows_read - events_and_rejects if index == 0 else 0
    history = replace(
        bucket, row=place & ((1 << PLACE_BITS) - 1),
        source=(place >> PLACE_BITS).astype(np.int16), actors=actors,
        actor=recode[np.where(bucket.actor == NO_ACTOR, len(bucket.actors), bucket.actor)]
        if len(bucket.actors) else bucket.actor,
        sources=[SourceStats(**f) for f in manifest.files], rejects=rejects,
        rows_read=len(bucket) + len(rejects) + rest, notes=list(manifest.notes),
        actor_zones=dict(manifest.actor_zones))
    return WholePart(history, lead_place, np.arange(len(rejects), dtype=np.int64),
                     manifest.history_id)


def _rejects(directory: Path, manifest: Manifest) -> list[Reject]:
    path = directory / manifest.rejects_records
    try:
        if file_sha256(path) != manifest.rejects_sha256:
            raise ValueError("changed since sla ingest wrote it")
        with path.open(encoding="utf-8") as handle:
            rejects = [Reject(**json.loads(line)) for line in handle if line.strip()]
    except (OSError, ValueError, TypeError) as error:
        raise HistoryError(f"{path}: cannot read the ingest's rejected rows: {error}\n  "
                           "help: run sla ingest again into that directory") from None
    if len(rejects) != manifest.rejected:
        raise HistoryError(f"{path}: {len(rejects)} rejected rows, the manifest says "
                           f"{manifest.rejected}\n  help: run sla ingest again")
    return rejects
