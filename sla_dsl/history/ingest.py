"""Out-of-core ingest: event logs larger than memory cut into N buckets of whole leads, each a
Parquet event log that the ordinary reader reads and one evaluation shard can take.

    manifest = ingest([Path("events.csv")], Path("buckets/"), buckets=64,
                      timezone="Europe/Amsterdam", memory_limit="4GB")

Two passes, so that no more than one bucket is ever held by Python:

1. DuckDB (the optional extra `sla_dsl[duckdb]`) reads each file, numbers its rows as the
   reader numbers them (1 from the first data row; empty lines are no rows), deals every row
   to the bucket of its lead id (`lead_hash`) and writes the rows, untouched, as Parquet
   partitions, within `memory_limit` and spilling to `temp_directory`.
2. Each bucket in turn is read by `history.read.history_from_raw`: the reader's own rules,
   so a row the reader rejects is rejected here with the same reason and row number, and
   time zones are converted as the reader converts them. Its accepted events are written to
   `bucket-000.parquet` ... in the evaluator's columns, times as UTC timestamps.

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

import datetime as dt
import json
import shutil
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from sla_dsl.history.columns import EVENTS, NO_ACTOR, History, HistoryError, Reject
from sla_dsl.history.csv_cells import QUOTED_PATTERN, restored
from sla_dsl.history.lead_hash import LEAD_HASH, lead_bucket_sql
from sla_dsl.history.mapping import format_of
from sla_dsl.history.read import RawRows, csv_header, history_from_raw, read_rows
from sla_dsl.history.write import write_reject_list

__all__ = ["BucketCounts", "Manifest", "bucket_name", "event_log_table", "ingest",
           "read_manifest"]

MANIFEST = "manifest.json"
REJECTS = "rejects.csv"
_ROW = "__sla_row"
_BUCKET = "__sla_bucket"
_EVENT_COLUMNS = frozenset({"lead_id", "at", "event", "actor"})


def bucket_name(index: int) -> str:
    return f"bucket-{index:03d}.parquet"


@dataclass
class BucketCounts:
    """One bucket: its file, its rows (read = accepted + rejected), its leads."""

    file: str
    rows_read: int
    accepted: int
    rejected: int
    leads: int


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

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, ensure_ascii=False) + "\n"


def read_manifest(directory: Path) -> Manifest:
    data = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
    data["buckets"] = [BucketCounts(**b) for b in data["buckets"]]
    return Manifest(**data)


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
    out.mkdir(parents=True, exist_ok=True)
    work = out / ".ingest-work"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    spill = temp_directory or work / "spill"
    con = duckdb.connect()
    try:
        if memory_limit:
            con.execute(f"SET memory_limit = '{_setting(memory_limit)}'")
        if threads:
            con.execute(f"SET threads = {int(threads)}")
        con.execute(f"SET temp_directory = '{_setting(str(spill))}'")
        parts: list[_Split] = []
        for index, path in enumerate(paths):
            say(f"dealing {path} to {buckets} buckets")
            parts.append(_split(con, Path(path), work / f"source-{index}", buckets))
    except duckdb.Error as error:
        raise HistoryError(f"the ingest engine failed: {error}\n  help: give it more "
                           f"memory (--memory-limit) or disk for spilling") from None
    finally:
        con.close()

    fields = list(dict.fromkeys(name for part in parts for name in part.names()
                                if name not in _EVENT_COLUMNS))
    counts: list[BucketCounts] = []
    rejects: list[Reject] = []
    latest: int | None = None
    for bucket in range(buckets):
        say(f"reading bucket {bucket + 1} of {buckets}")
        history = history_from_raw([raw for part in parts
                                    if (raw := part.rows_of(bucket)) is not None],
                                   timezone=timezone)
        name = bucket_name(bucket)
        pq.write_table(event_log_table(history, fields), out / name)
        rejects += history.rejects
        counts.append(BucketCounts(name, history.counts.read, history.counts.accepted,
                                   history.counts.rejected, len(history.lead_ids)))
        if len(history.at):
            latest = max(latest if latest is not None else int(history.at.max()),
                         int(history.at.max()))
    shutil.rmtree(work, ignore_errors=True)

    rejects.sort(key=lambda r: ([str(p) for p in paths].index(r.source), r.row))
    write_reject_list(rejects, out / REJECTS)
    manifest = Manifest(
        buckets=counts, hash=LEAD_HASH, timezone=timezone, sources=[str(p) for p in paths],
        as_of_default=None if latest is None else _iso(latest),
        rows_read=sum(c.rows_read for c in counts), accepted=sum(c.accepted for c in counts),
        rejected=sum(c.rejected for c in counts),
        in_memory=[str(p.path) for p in parts if p.in_memory])
    (out / MANIFEST).write_text(manifest.to_json(), encoding="utf-8")
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


# ============================================================================ the split


@dataclass
class _Split:
    """One file dealt to buckets: its partitions, and what the reader needs of each."""

    path: Path
    directory: Path
    form: str
    columns: list[str]
    broken: list[Reject]
    in_memory: bool

    def names(self) -> list[str]:
        """Its columns as the reader names them."""
        return [restored(n) for n in self.columns] if self.form == "csv" else self.columns

    def rows_of(self, bucket: int) -> RawRows | None:
        """The file's rows in `bucket`, in file order (None: it has none there)."""
        place = self.directory / f"{_BUCKET}={bucket}"
        broken = self.broken if bucket == 0 else []
        if not place.is_dir():
            if not broken:
                return None
            table = pa.table({name: pa.array([], pa.string()) for name in self.columns})
            return RawRows(str(self.path), table, np.zeros(0, np.int64), broken, self.form)
        table = pq.read_table(place, partitioning=None)
        table = table.sort_by(_ROW)
        rows = table.column(_ROW).to_numpy().astype(np.int64)
        table = table.drop_columns([_ROW])
        return RawRows(str(self.path), table, rows, broken, self.form)


def _split(con, path: Path, directory: Path, buckets: int) -> _Split:
    import duckdb

    fmt = format_of(path, None)
    if fmt is None or not path.is_file():
        read_rows(path)  # the reader's own error for an unknown format or a missing file
    if fmt == "csv":
        header = csv_header(path)
        lead = '"lead_id"'
        source = (f"read_csv({_literal(str(path))}, header = true, auto_detect = false, "
                  "delim = ',', quote = '\"', "
                  "escape = '\"', strict_mode = true, null_padding = false, columns = {"
                  + ", ".join(f"{_literal(name)}: 'VARCHAR'" for name in header) + "})")
        if "lead_id" in header:  # as the reader holds it: the spreadsheet's quote taken off
            try:
                _copy(con, f"SELECT *, row_number() OVER () AS {_ROW}", source,
                      f"regexp_replace({lead}, {_literal(QUOTED_PATTERN)}, '\\1')",
                      directory, buckets)
                return _Split(path, directory, "csv", header, [], False)
            except duckdb.Error:
                shutil.rmtree(directory, ignore_errors=True)  # a damaged row: read it as we do
    elif fmt == "parquet":
        import pyarrow.parquet as pq_schema

        try:
            names = pq_schema.read_schema(path).names
        except (pa.ArrowInvalid, OSError):
            names = []
        if "lead_id" in names:
            try:
                _copy(con, f"SELECT * EXCLUDE (file_row_number), file_row_number + 1 AS {_ROW}",
                      f"read_parquet({_literal(str(path))}, file_row_number = true)",
                      'CAST("lead_id" AS VARCHAR)', directory, buckets)
                return _Split(path, directory, "parquet", names, [], False)
            except duckdb.Error:
                shutil.rmtree(directory, ignore_errors=True)
    raw = read_rows(path)  # JSON Lines, a damaged CSV, a file without lead_id: as the reader
    table = pa.table([pc.cast(c, c.type.value_type) if pa.types.is_dictionary(c.type) else c
                      for c in raw.table.columns], names=raw.table.column_names)
    table = table.append_column(_ROW, pa.array(raw.rows, pa.int64()))
    con.register("raw_rows", table)
    lead = 'CAST("lead_id" AS VARCHAR)' if "lead_id" in table.column_names else "NULL"
    _copy(con, "SELECT *", "raw_rows", lead, directory, buckets)
    con.unregister("raw_rows")
    return _Split(path, directory, "read", raw.table.column_names, raw.broken, True)


def _copy(con, select: str, source: str, lead: str, directory: Path, buckets: int) -> None:
    """Rows of `source` with their bucket, written as Parquet partitions by bucket."""
    bucket = lead_bucket_sql(f"coalesce({lead}, '')", buckets)
    query = (f"COPY ({select}, {bucket} AS {_BUCKET} FROM {source}) TO "
             f"{_literal(str(directory))} (FORMAT PARQUET, PARTITION_BY ({_BUCKET}))")
    con.execute(query)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _setting(text: str) -> str:
    return text.replace("'", "''")


def _iso(us: int) -> str:
    moment = dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=us)
    return moment.isoformat().replace("+00:00", "Z")
