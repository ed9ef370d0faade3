"""Out-of-core ingest: event logs larger than memory cut into N buckets of whole leads, each a
Parquet event log that the ordinary reader reads and one evaluation shard can take.

    manifest = ingest([Path("events.csv")], Path("buckets/"), buckets=64,
                      timezone="Europe/Amsterdam", memory_limit="4GB")

Two passes, so that no more than one bucket is ever held by Python:

1. DuckDB (the optional extra `sla_dsl[duckdb]`) reads each file, numbers its rows as the
   reader numbers them (1 from the first data row; empty lines are no rows), gives every row
   the bucket of its lead id (`lead_hash`) and sorts the rows, untouched, by bucket and row,
   within `memory_limit` and spilling to `temp_directory`.
2. The buckets are taken off the sorted results in order, and each in turn is read by
   `history.read.history_from_raw`: the reader's own rules, so a row the reader rejects is
   rejected here with the same reason and row number, and time zones are converted as the
   reader converts them. Its accepted events are written to `bucket-000.parquet` ... in the
   evaluator's columns, times as UTC timestamps.

A lead's rows all land in one bucket, so the rules that span a lead's rows (nothing before its
`created` event) hold as in one read. Rows that are not rows at all (a CSV row of the wrong
width, bytes that are not UTF-8, an over-long line) have no lead; they are counted with
bucket 0's, with their row numbers. A CSV file DuckDB's strict parser refuses for such a row,
and every JSON Lines file, is read by the tool's own reader, in memory, and then dealt the same
way: exact, but not out of core (`Manifest.in_memory` names them).

`manifest.json` holds the counts per bucket (rows read = accepted + rejected, each bucket and
the whole), the as-of default of an evaluation of all of it (the latest event), the hash and
the files; `rejects.csv` every rejected row, as `sla evaluate --rejects` writes them.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import mmap
import re
import shutil
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from sla_dsl.history import width
from sla_dsl.history.columns import (
    EVENTS,
    NO_ACTOR,
    RESERVED_PREFIX,
    History,
    HistoryError,
    Reject,
    SourceStats,
)
from sla_dsl.history.csv_cells import QUOTED_PATTERN, restored
from sla_dsl.history.lead_hash import LEAD_BUCKET_SQL, LEAD_HASH, register_lead_bucket
from sla_dsl.history.mapping import format_of
from sla_dsl.history.read import (
    RawRows,
    csv_header,
    history_from_raw,
    load_history,
    read_rows,
)
from sla_dsl.history.write import write_reject_list
from sla_dsl.input_files import file_sha256, not_a_file

__all__ = ["BUCKET_COLUMN", "EVENT_PLACE", "LEAD_PLACE", "PLACE_BITS", "ROW_COLUMN",
           "BucketCounts", "Manifest", "bucket_name", "check_inputs", "csv_source",
           "event_log_table", "ingest", "iso_utc", "manifest_digest",
           "manifest_history_id", "read_manifest", "sql_literal", "sql_setting", "typed_as",
           "write_manifest"]

MANIFEST = "manifest.json"
REJECTS = "rejects.csv"
REJECTS_JSON = "rejects.jsonl"
# Per event of a bucket: its place in the files cut (file index << PLACE_BITS | row) and its
# lead's first place (of any of the lead's rows, rejected ones too: the single run numbers
# leads, and actors, in the order they first appear). Reserved names: never fields.
EVENT_PLACE = RESERVED_PREFIX + "place"
LEAD_PLACE = RESERVED_PREFIX + "lead_place"
PLACE_BITS = 40
ROW_COLUMN = "__sla_row"
BUCKET_COLUMN = "__sla_bucket"
_BATCH_ROWS = 1 << 16
_EVENT_COLUMNS = frozenset({"lead_id", "at", "event", "actor"})


def bucket_name(index: int) -> str:
    return f"bucket-{index:03d}.parquet"


@dataclass
class BucketCounts:
    """One bucket: its file, its rows (read = accepted + rejected), its leads, and the
    SHA-256 of the file as written (`sha256`: a bucket changed since is refused)."""

    file: str
    rows_read: int
    accepted: int
    rejected: int
    leads: int
    sha256: str = ""

    @classmethod
    def of(cls, path: Path, history: History) -> BucketCounts:
        """The counts of the bucket written to `path`, as its history read them
        (`RowCounts`), so the sum holds."""
        rows = history.counts
        return cls(path.name, rows.read, rows.accepted, rows.rejected, len(history.lead_ids),
                   file_sha256(path))


@dataclass
class Manifest:
    """What an ingest wrote, as `manifest.json` holds it."""

    buckets: list[BucketCounts]
    hash: str
    timezone: str
    sources: list[str]
    as_of_default: str | None
    """The latest accepted event (ISO 8601, UTC): `sla evaluate`'s default as-of time over
    the whole history, which no single bucket knows."""
    rows_read: int = 0
    accepted: int = 0
    rejected: int = 0
    in_memory: list[str] = field(default_factory=list)
    """Files read whole by the tool's own reader (JSON Lines, a CSV DuckDB refused)."""
    rejects_file: str = REJECTS
    files: list[dict] = field(default_factory=list)
    """Per file read, as the single run's history counts it (`SourceStats`: path, rows,
    records, rejected, left out)."""
    actors: list[str] = field(default_factory=list)
    """Every actor of an accepted event, in the order the single run numbers them (the order
    they first appear in the files): every bucket's evaluation codes actors alike."""
    history_id: str = ""
    """Names the whole history: every bucket's partial carries it, so `sla merge` takes them
    as shards of one run."""
    rejects_records: str = REJECTS_JSON
    """The rejected rows, one JSON object a line, as the reader made them (`Reject`)."""
    notes: list[str] = field(default_factory=list)
    """What the exports cannot show (`History.notes`), said once for the whole history: a CRM
    export's (`--preset`, `--mapping`); none for event logs."""
    actor_zones: dict[str, str] = field(default_factory=dict)
    """Actor -> IANA time zone, where the export says (`History.actor_zones`)."""
    mapping: str = ""
    """What read the files: "" for event logs, else the preset or the mapping file."""
    rejects_sha256: str = ""
    """The SHA-256 of `rejects_records` as written."""
    digest: str = ""
    """The SHA-256 of the manifest itself, this field empty (`manifest_digest`): the counts,
    actors and as-of time are trusted only as the ingest wrote them."""

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, ensure_ascii=False) + "\n"


def manifest_digest(manifest: Manifest) -> str:
    said = json.dumps(asdict(replace(manifest, digest="")), sort_keys=True)
    return hashlib.sha256(said.encode()).hexdigest()


def write_manifest(out: Path, manifest: Manifest) -> None:
    """Seal and write the manifest, last of an ingest's files: with the digest of the
    rejected rows' list, and its own (an edited bucket, list or manifest is refused, and a
    bucket edited by hand or swapped with another was evaluated as if the ingest wrote it)."""
    manifest.rejects_sha256 = file_sha256(out / manifest.rejects_records)
    manifest.digest = manifest_digest(manifest)
    (out / MANIFEST).write_text(manifest.to_json(), encoding="utf-8")


def manifest_history_id(manifest: Manifest) -> str:
    """The whole history's id: its files and counts, its buckets and their hash."""
    said = json.dumps([manifest.files, manifest.rows_read, manifest.accepted,
                       manifest.rejected, [asdict(b) for b in manifest.buckets],
                       manifest.hash], sort_keys=True)
    return "ingest-" + hashlib.sha256(said.encode()).hexdigest()[:32]


def read_manifest(directory: Path) -> Manifest:
    """The manifest as `ingest` wrote it. Raises ValueError, TypeError or KeyError naming the
    first field that is not: a manifest edited by hand or cut short is refused here, not
    half-used by the evaluation."""
    data = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not isinstance(data.get("buckets"), list):
        raise TypeError("it is not an object with a list of buckets")
    data["buckets"] = [BucketCounts(**_typed(BucketCounts, b)) for b in data["buckets"]]
    manifest = Manifest(**_typed(Manifest, data))
    if manifest.as_of_default is not None:
        dt.datetime.fromisoformat(manifest.as_of_default)  # ValueError: not a time
    return manifest


_JSON_TYPES = {"str": str, "int": int, "str | None": (str, type(None)), "list[str]": list,
               "list[dict]": list, "dict[str, str]": dict, "list[BucketCounts]": list}


def _typed(kind: type, data: object) -> dict:
    """`data` when each of its fields has the JSON type `kind` declares (ints not booleans)."""
    if not isinstance(data, dict):
        raise TypeError(f"{kind.__name__}: {data!r} is not an object")
    declared = {f.name: f.type for f in fields(kind)}
    for name, value in data.items():
        expected = _JSON_TYPES.get(str(declared.get(name)))
        if expected is None:
            raise KeyError(f"unknown field {name!r}")
        if not isinstance(value, expected) or isinstance(value, bool):
            raise TypeError(f"field {name!r} holds {value!r}, not {declared[name]}")
    return data


def check_inputs(paths: Sequence[Path], out: Path) -> None:
    """Every input is a file, and none is one of the files an ingest into `out` removes:
    checked before anything is removed, where a mistyped path, or re-bucketing the buckets of
    `out` into `out`, had removed the earlier ingest (and the inputs) before failing."""
    written = {out.resolve() / name for name in (MANIFEST, REJECTS, REJECTS_JSON)}
    for path in map(Path, paths):
        why = not_a_file(path)
        if why is not None:
            raise HistoryError(f"{path}: {why}\n  help: check the path; nothing in {out} was "
                               "changed")
        resolved = path.resolve()
        if resolved in written or (resolved.parent == out.resolve()
                                   and resolved.match("bucket-*.parquet")):
            raise HistoryError(f"{path}: an output of the ingest into {out}, which removes an "
                               "earlier ingest's buckets, manifest and rejects before it "
                               "writes its own\n  help: give another --out, or move the "
                               "file out of it")


def remove_outputs(out: Path) -> None:
    """An ingest's buckets, manifest and reject lists in `out`: removed before one starts, and
    when one stops half-way, so that a glob of the buckets never picks up a stale or partial
    set."""
    for written in [*out.glob("bucket-*.parquet"), out / MANIFEST, out / REJECTS,
                    out / REJECTS_JSON]:
        written.unlink(missing_ok=True)


def engine_failure(error: BaseException, out: Path) -> BaseException:
    """What a failure inside the ingest engine is raised as, its partial output removed: an
    interrupt (Ctrl-C reaches DuckDB as its own InterruptException, or as a RuntimeError
    'Query interrupted' from a result being fetched) stays an interrupt, so the command exits
    130 and not as an internal error; DuckDB's other errors (memory, disk) are an input error
    saying what to give it; anything else is raised as it is."""
    import duckdb

    remove_outputs(out)
    if isinstance(error, KeyboardInterrupt | duckdb.InterruptException) or (
            isinstance(error, RuntimeError) and "interrupted" in str(error).lower()):
        return KeyboardInterrupt()
    if isinstance(error, duckdb.Error):
        return HistoryError(f"the ingest engine failed: {error}\n  help: give it more "
                            f"memory (--memory-limit) or disk for spilling")
    return error


def ingest(paths: Sequence[Path], out: Path, *, buckets: int, timezone: str,
           memory_limit: str | None = None, temp_directory: Path | None = None,
           threads: int | None = None,
           progress: Callable[[str], None] | None = None) -> Manifest:
    """Cut event logs into `buckets` Parquet event logs of whole leads in `out` (see the
    module's docstring). Raises `HistoryError` for a file the reader cannot read at all."""
    import duckdb

    if buckets < 1:
        raise HistoryError("--buckets must be at least 1")
    say = progress or (lambda _text: None)
    check_inputs(paths, out)
    out.mkdir(parents=True, exist_ok=True)
    remove_outputs(out)  # an earlier ingest's: a glob must not pick them up
    spill = temp_directory or out / ".ingest-spill"
    con = duckdb.connect()
    try:
        if memory_limit:
            con.execute(f"SET memory_limit = '{sql_setting(memory_limit)}'")
        if threads:
            con.execute(f"SET threads = {int(threads)}")
        con.execute(f"SET temp_directory = '{sql_setting(str(spill))}'")
        register_lead_bucket(con)  # in the catalog: every cursor's query sees it
        sources: list[_Source] = []
        for path in paths:
            say(f"sorting {path} into {buckets} buckets")
            sources.append(_source(con, Path(path), buckets))
        fields = list(dict.fromkeys(name for source in sources for name in source.names()
                                    if name not in _EVENT_COLUMNS
                                    and not name.startswith(RESERVED_PREFIX)))
        counts: list[BucketCounts] = []
        rejects: list[Reject] = []
        latest: int | None = None
        files = [SourceStats(str(p), 0, 0, 0) for p in paths]
        actor_keys: dict[str, int] = {}
        for bucket in range(buckets):
            say(f"reading bucket {bucket + 1} of {buckets}")
            taken = [(index, raw) for index, source in enumerate(sources)
                     if (raw := source.rows_of(bucket)) is not None]
            history = history_from_raw([raw for _, raw in taken], timezone=timezone)
            name = bucket_name(bucket)
            table = event_log_table(history, fields)
            pq.write_table(_with_places(table, history, taken, actor_keys), out / name)
            for stats, (index, _raw) in zip(history.sources, taken, strict=True):
                was = files[index]
                files[index] = SourceStats(was.path, was.rows + stats.rows,
                                           was.records + stats.records,
                                           was.rejected + stats.rejected)
            rejects += history.rejects
            counts.append(BucketCounts.of(out / name, history))
            if len(history.at):
                most = int(history.at.max())
                latest = most if latest is None else max(latest, most)
    except BaseException as error:
        raise engine_failure(error, out) from None
    finally:
        con.close()
        if temp_directory is None:
            shutil.rmtree(spill, ignore_errors=True)

    order = {str(p): i for i, p in enumerate(paths)}
    rejects.sort(key=lambda r: (order.get(r.source, 0), r.row))
    write_reject_list(rejects, out / REJECTS)
    with (out / REJECTS_JSON).open("w", encoding="utf-8") as handle:
        for reject in rejects:
            handle.write(json.dumps(asdict(reject), ensure_ascii=False) + "\n")
    manifest = Manifest(
        buckets=counts, hash=LEAD_HASH, timezone=timezone, sources=[str(p) for p in paths],
        as_of_default=None if latest is None else iso_utc(latest),
        rows_read=sum(c.rows_read for c in counts), accepted=sum(c.accepted for c in counts),
        rejected=sum(c.rejected for c in counts),
        in_memory=[str(s.path) for s in sources if s.in_memory],
        files=[asdict(f) for f in files],
        actors=sorted(actor_keys, key=actor_keys.__getitem__))
    manifest.history_id = manifest_history_id(manifest)
    write_manifest(out, manifest)
    return manifest


def event_log_table(history: History, fields: Sequence[str] = ()) -> pa.Table:
    """A history as an event log the reader reads back to the same events: lead_id, at (UTC
    timestamps), event, actor, then `fields` (empty where the history has none of it: every
    bucket has the same columns) and its own; lead ids and actors dictionary-encoded."""
    lead = pa.DictionaryArray.from_arrays(
        pa.array(history.lead, pa.int32()), pa.array(history.lead_ids, pa.string()))
    at = pa.array(history.at, pa.timestamp("us", "UTC"))
    event = pa.DictionaryArray.from_arrays(pa.array(history.event, pa.int32()),
                                           pa.array(EVENTS, pa.string()))
    none = history.actor == NO_ACTOR
    actor = pa.DictionaryArray.from_arrays(
        pa.array(np.where(none, 0, history.actor), pa.int32(), mask=none),
        pa.array(history.actors, pa.string()) if len(history.actors) else pa.array(
            [""], pa.string()))
    columns = {"lead_id": lead, "at": at, "event": event, "actor": actor}
    for name in dict.fromkeys([*fields, *history.fields]):
        values = history.fields.get(name)
        columns[name] = (pa.nulls(len(history.at), pa.string()) if values is None
                         else pa.array(values, pa.string()))
    return pa.table(columns)


def _with_places(table: pa.Table, history: History, taken: list[tuple[int, RawRows]],
                 actor_keys: dict[str, int]) -> pa.Table:
    """The bucket's table with each event's place and its lead's first place in the files
    cut; `actor_keys` gets each of the bucket's actors' first place (kept where lower)."""
    to_file = np.array([index for index, _ in taken], dtype=np.int64)
    n = len(history.at)
    source = history.source if history.source is not None else np.zeros(n, np.int64)
    place = (to_file[source.astype(np.int64)] << PLACE_BITS) | history.row.astype(np.int64)
    # a lead's first place: its first accepted event's, or a rejected row's before it
    lead_first = np.full(len(history.lead_ids), np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(lead_first, history.lead, place)
    _lower(lead_first, history.lead_ids, _first_places(taken, "lead_id"))
    actor_first = np.full(len(history.actors), np.iinfo(np.int64).max, dtype=np.int64)
    acted = history.actor != NO_ACTOR
    np.minimum.at(actor_first, history.actor[acted], place[acted])
    _lower(actor_first, history.actors, _first_places(taken, "actor"))
    for name, first in zip(history.actors.tolist(), actor_first.tolist(), strict=True):
        actor_keys[name] = min(first, actor_keys.get(name, first))
    return (table.append_column(EVENT_PLACE, pa.array(place, pa.int64()))
            .append_column(LEAD_PLACE, pa.array(lead_first[history.lead], pa.int64())))


def _first_places(taken: list[tuple[int, RawRows]], column: str
                  ) -> tuple[pa.Array, np.ndarray]:
    """Each distinct value of `column` (as the reader holds it) in the rows taken, and the
    place of its first row (rows come in file order, files in the order given)."""
    values: list[pa.Array] = []
    places: list[np.ndarray] = []
    for index, raw in taken:
        if column not in raw.table.column_names or not raw.table.num_rows:
            continue
        cells = raw.table.column(column)
        if pa.types.is_dictionary(cells.type):
            cells = pc.cast(cells, cells.type.value_type)
        cells = pc.cast(cells, pa.string()).combine_chunks()
        if raw.form == "csv":
            cells = pc.replace_substring_regex(cells, QUOTED_PATTERN, "\\1")
        distinct = pc.unique(cells)
        first = pc.index_in(distinct, value_set=cells).to_numpy(zero_copy_only=False)
        values.append(distinct)
        places.append((np.int64(index) << PLACE_BITS)
                      | np.asarray(raw.rows, np.int64)[first.astype(np.int64)])
    if not values:
        return pa.array([], pa.string()), np.zeros(0, np.int64)
    return pa.concat_arrays(values), np.concatenate(places)


def _lower(first: np.ndarray, names: np.ndarray, seen: tuple[pa.Array, np.ndarray]) -> None:
    """Lower each name's first place to its earliest row among `seen` (a rejected row)."""
    values, places = seen
    if not len(values) or not len(names):
        return
    at = pc.index_in(values, value_set=pa.array(names.tolist(), pa.string()))
    found = ~np.asarray(at.is_null().to_numpy(zero_copy_only=False), dtype=bool)
    where = at.to_numpy(zero_copy_only=False)[found].astype(np.int64)
    np.minimum.at(first, where, places[found])


# ============================================================================ the sort


class _Source:
    """One file's rows sorted by (bucket, row) in DuckDB, taken bucket by bucket."""

    def __init__(self, path: Path, form: str, columns: list[str],
                 batches: Iterator[pa.RecordBatch], broken: list[Reject],
                 in_memory: bool) -> None:
        self.path, self.form, self.columns = path, form, columns
        self.broken, self.in_memory = broken, in_memory
        self.batches = batches
        self.ahead: pa.RecordBatch | None = None
        self.schema: pa.Schema | None = None  # a Parquet file's own types

    def names(self) -> list[str]:
        """Its columns as the reader names them."""
        return [restored(n) for n in self.columns] if self.form == "csv" else self.columns

    def rows_of(self, bucket: int) -> RawRows | None:
        """The file's rows in `bucket`, in file order (None: it has none there). Buckets are
        asked for in order; the rows come off DuckDB's sorted result as they are needed."""
        taken: list[pa.RecordBatch] = []
        while True:
            batch = self.ahead if self.ahead is not None else next(self.batches, None)
            self.ahead = None
            if batch is None:
                break
            where = batch.column(BUCKET_COLUMN).to_numpy()
            mine = int(np.searchsorted(where, bucket, side="right"))
            if mine:
                taken.append(batch.slice(0, mine))
            if mine < len(batch):
                self.ahead = batch.slice(mine)
                break
        broken = self.broken if bucket == 0 else []
        if not taken and not broken:
            return None
        if taken:
            table = pa.Table.from_batches(taken).combine_chunks()
            rows = table.column(ROW_COLUMN).to_numpy().astype(np.int64)
            table = table.drop_columns([ROW_COLUMN, BUCKET_COLUMN]).rename_columns(
                self.columns)  # (DuckDB's names: `c0`..., or the file's own)
            if self.schema is not None:
                table = typed_as(table, self.schema)
        else:
            table = pa.table({name: pa.array([], pa.string()) for name in self.columns})
            rows = np.zeros(0, np.int64)
        return RawRows(str(self.path), table, rows, broken, self.form)


def csv_source(path: Path, header: Sequence[str]) -> str:
    """DuckDB's reading of a CSV file as the reader reads it: every column text, nothing
    guessed, and a damaged row an error (the file is then read by the reader's own rules)."""
    return (f"read_csv({sql_literal(str(path))}, header = true, auto_detect = false, "
            "delim = ',', quote = '\"', escape = '\"', strict_mode = true, "
            "null_padding = false, columns = {"
            + ", ".join(f"{sql_literal(name)}: 'VARCHAR'" for name in header) + "})")


_SPACE_AFTER_QUOTE = re.compile(rb'"[ \t]+(?:,|\r|\n|\Z)')


def spaced_after_quote(path: Path) -> bool:
    """Whether a quoted CSV cell may have spaces after its closing quote (`"CFO" ,`): DuckDB's
    parser drops them and the reader's (Arrow's, as Python's `csv`) keeps them, so such a
    file is read by the reader's rules, as a damaged one is. A quote and a space inside a
    quoted cell (`"a "" b"`) count too: the file is then read the slower way, never
    differently. One scan of the file, at the speed of a search for two bytes where neither
    comes."""
    if path.stat().st_size == 0:
        return False
    with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0,
                                               access=mmap.ACCESS_READ) as data:
        found = [at for at in (data.find(b'" '), data.find(b'"\t')) if at >= 0]
        return bool(found) and _SPACE_AFTER_QUOTE.search(data, min(found)) is not None


def _source(con, path: Path, buckets: int) -> _Source:
    import duckdb

    fmt = format_of(path, None)
    if fmt is None or not path.is_file():
        read_rows(path)  # the reader's own error for an unknown format or a missing file
    if fmt == "csv":
        header = csv_header(path)
        source = csv_source(path, header)
        if "lead_id" in header and not spaced_after_quote(path) and not case_twins(header):
            # the lead id as the reader holds it: the spreadsheet's quote taken off
            lead = (f"CASE WHEN starts_with(\"lead_id\", '''') THEN regexp_replace("
                    f"\"lead_id\", {sql_literal(QUOTED_PATTERN)}, '\\1') ELSE \"lead_id\" END")
            try:
                batches = _sorted(con, f"SELECT *, row_number() OVER () AS {ROW_COLUMN} "
                                       f"FROM {source}", lead, buckets)
                return _Source(path, "csv", header, batches, [], False)
            except duckdb.Error:
                pass  # a damaged row DuckDB's strict parser refuses: read it as we do
    elif fmt == "parquet":
        try:
            names = pq.read_schema(path).names
            if not pq.read_metadata(path).num_rows:  # no bucket's read would check its types
                load_history([path], timezone="UTC")
        except (pa.ArrowInvalid, OSError):
            names = []
        if "lead_id" in names and width.repeated(names) is None \
                and len(names) <= width.MOST_COLUMNS and not case_twins(names):
            try:
                batches = _sorted(con, f"SELECT * EXCLUDE (file_row_number), "
                                       f"file_row_number + 1 AS {ROW_COLUMN} FROM read_parquet("
                                       f"{sql_literal(str(path))}, file_row_number = true)",
                                  'CAST("lead_id" AS VARCHAR)', buckets)
                source = _Source(path, "parquet", names, batches, [], False)
                source.schema = pq.read_schema(path)
                return source
            except duckdb.Error:
                pass  # a file DuckDB cannot read: the reader's own error, or its rows
    raw = read_rows(path)  # JSON Lines, a damaged CSV, a file without lead_id: as the reader
    table = pa.table([pc.cast(c, c.type.value_type) if pa.types.is_dictionary(c.type) else c
                      for c in raw.table.columns], names=raw.table.column_names)
    # DuckDB's names ignore case (`Score` and `score` are one name, the second made
    # `score_1`): the columns go in by their places, and `rows_of` names them again
    names = raw.table.column_names
    table = table.rename_columns([f"c{i}" for i in range(len(names))]).append_column(
        ROW_COLUMN, pa.array(raw.rows, pa.int64()))
    lead = f'CAST("c{names.index("lead_id")}" AS VARCHAR)' if "lead_id" in names else "NULL"
    batches = _sorted(con, "SELECT * FROM raw_rows", lead, buckets, table)
    return _Source(path, "read", names, batches, raw.broken, True)


def case_twins(names: Sequence[str]) -> bool:
    """Whether two column names differ only in letter case: DuckDB, which reads names
    without regard to case, would rename one (`score_1`), or take one for the other."""
    return len({name.casefold() for name in names}) < len(set(names))


# What the reader trims from a cell (Arrow's `utf8_trim_whitespace`): DuckDB's `trim` alone
# trims spaces but not a tab, a line break or U+2028, so `Completed<TAB>` matched a `where`
# in one run and not in the buckets
SPACES = ("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680"
          + "".join(map(chr, range(0x2000, 0x200b))) + "\u2028\u2029\u202f\u205f\u3000")


def trimmed_sql(text: str) -> str:
    return f"trim({text}, {sql_literal(SPACES)})"


def bucket_sql(lead: str, buckets: int) -> str:
    """The bucket of a lead id's text: trimmed, as the reader holds a lead id (`L1 ` is
    `L1`), so that ids it holds as one are in one bucket."""
    return f"{LEAD_BUCKET_SQL}(coalesce({trimmed_sql(lead)}, ''), {int(buckets)})"


def _sorted(con, select: str, lead: str, buckets: int, raw_rows: pa.Table | None = None
            ) -> Iterator[pa.RecordBatch]:
    """The rows of `select` with their bucket, sorted by bucket then row (DuckDB's sort,
    spilling to disk past its memory limit), as batches. The sort is done, and a damaged
    file has raised, before this returns. `raw_rows`: the table `select` reads by that name."""
    bucket = bucket_sql(lead, buckets)
    cursor = con.cursor()
    if raw_rows is not None:
        cursor.register("raw_rows", raw_rows)
    reader = cursor.sql(f"SELECT *, {bucket} AS {BUCKET_COLUMN} FROM ({select}) "
                        f"ORDER BY {BUCKET_COLUMN}, {ROW_COLUMN}"
                        ).to_arrow_reader(batch_size=_BATCH_ROWS)
    first = next(reader, None)

    def batches() -> Iterator[pa.RecordBatch]:
        if first is not None:
            yield first
            yield from reader
        reader.close()
        cursor.close()

    return batches()


def typed_as(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """Columns back in the file's own types where DuckDB's differ only in name (a time zone
    written `+00:00` for `UTC`), so that a value reads as the same text as from the file."""
    columns = []
    for name, column in zip(table.column_names, table.columns, strict=True):
        kind = schema.field(name).type if name in schema.names else column.type
        if kind != column.type and (pa.types.is_timestamp(kind) or pa.types.is_date(kind)):
            with contextlib.suppress(pa.ArrowInvalid, pa.ArrowNotImplementedError):
                column = column.cast(kind)
        columns.append(column)
    return pa.table(columns, names=table.column_names)


def sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def sql_setting(text: str) -> str:
    return text.replace("'", "''")


def iso_utc(us: int) -> str:
    moment = dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=us)
    return moment.isoformat().replace("+00:00", "Z")
