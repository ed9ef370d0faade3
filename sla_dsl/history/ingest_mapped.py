"""Out-of-core ingest of a CRM's export (`--preset`, `--mapping`): several files, joined, cut
into N buckets of whole leads, each bucket read by the mapping's own in-memory reader.

    manifest = ingest_mapped(load_preset("salesforce"), [Path("Lead.csv"), ...],
                             Path("buckets/"), buckets=16, timezone="UTC")

1. DuckDB (the optional extra `sla_dsl[duckdb]`) reads each file into a table of an on-disk
   database (text as written, each row's number in the file), and gives each row the bucket
   of the lead it belongs to (`lead_hash` of the lead id):
   - a source with its own lead id column (Salesforce's Lead), or one that joins by the
     other source's lead id alone (LeadHistory.LeadId in Lead.Id): that id's;
   - a source that finds its lead through another's rows (`join`: a Task's WhoId in Lead's
     Id, else its ConvertedContactId): the bucket of each row of the other source it matches,
     by the reader's rule (the first `match` column that has it, among the rows the other
     source's `where` keeps); a row matching leads of several buckets goes to each, and
     makes there the records of that bucket's leads; a row that matches none, or that its
     own `where` leaves out, goes to bucket 0 alone, where the reader rejects it (or leaves it
     out) once, with the single read's reason;
   - a `join_only` source nobody joins through (User, owners: names and zones) goes whole
     into every bucket.
   The rows are sorted by bucket then row, within `memory_limit`, spilling to disk.
2. Each bucket's rows of each file, in file order, are read by `read.load_history` with the
   mapping (`pieces`): the same rules, joins, reasons and row numbers as the whole export read
   at once. Its events are written as `bucket-000.parquet` ... with the places the buckets'
   evaluation needs (`history.ingest`), its rejects and counts added up in `manifest.json`.

What spans leads is put together at the end: each file's counts (a file's rows counted once,
not once per bucket that holds a copy of one), the actors in one order, the owners' zones,
and the notes of a tracked history (`history_notes`: which leads were created before its
first row), computed on the few records they need.

Rules the cut cannot keep exact are refused, with the reason: a `duplicates` rule whose key
leaves out the lead id (duplicates of one lead must be in one bucket), a `join` through a
source that itself joins or drops duplicates, a `duplicates` rule on a source that joins by
other columns than its target's lead id. (A join by the target's lead id alone, Salesforce's
LeadHistory.LeadId in Lead.Id, is routed by the row's own id: its duplicates stay together.)
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from sla_dsl.history.columns import (
    EVENT_CODE,
    NO_ACTOR,
    History,
    HistoryError,
    Reject,
    SourceStats,
)
from sla_dsl.history.csv_cells import QUOTED_PATTERN, restored
from sla_dsl.history.ingest import (
    BUCKET_COLUMN,
    EVENT_PLACE,
    LEAD_PLACE,
    PLACE_BITS,
    REJECTS,
    REJECTS_JSON,
    ROW_COLUMN,
    SPACES,
    BucketCounts,
    Manifest,
    bucket_name,
    bucket_sql,
    case_twins,
    check_inputs,
    csv_source,
    engine_failure,
    event_log_table,
    iso_utc,
    manifest_history_id,
    remove_outputs,
    spaced_after_quote,
    sql_literal,
    sql_setting,
    trimmed_sql,
    typed_as,
    write_manifest,
)
from sla_dsl.history.lead_hash import LEAD_HASH, register_lead_bucket
from sla_dsl.history.mapping import ANY_VALUE, Condition, Mapping, SourceSpec
from sla_dsl.history.prepare import history_notes
from sla_dsl.history.read import RawRows, csv_header, load_history, read_rows, source_format
from sla_dsl.history.salesforce_ids import full_id, full_id_sql
from sla_dsl.history.write import write_reject_list

__all__ = ["ingest_mapped"]

_WORK = ".ingest-work"


@dataclass
class _File:
    """One file of the export in the ingest's database: its table, how its columns read."""

    index: int  # among the files read, in the order the reader reads them
    spec: SourceSpec
    path: Path
    table: str
    form: str  # RawRows.form: "csv", "parquet" or "read"
    columns: list[str]  # as in the table
    restored: dict[str, str]  # name as the mapping means it -> the table's column
    rows: int  # the file's data rows (read ones and broken ones)
    broken: list[Reject] = field(default_factory=list)
    schema: pa.Schema | None = None
    names: list[str] | None = None  # the file's own names, where the table's are places

    def as_read(self, table: pa.Table) -> pa.Table:
        """Rows of the table (without the row and bucket columns) as the reader reads the
        file: its own column names, a Parquet file's own types."""
        if self.names is not None:
            table = table.rename_columns(self.names)
        return typed_as(table, self.schema) if self.schema is not None else table

    def column(self, name: str) -> str | None:
        """The table column the mapping's `name` reads (its aliases too), or None."""
        for candidate in (name, *self.spec.aliases.get(name, ())):
            if candidate in self.restored:
                return self.restored[candidate]
        return None

    def text(self, name: str, alias: str = "") -> str:
        """SQL for the cell of `name` as the reader holds it (a spreadsheet quote taken off);
        NULL when the file has no such column."""
        column = self.column(name)
        if column is None:
            return "CAST(NULL AS VARCHAR)"
        ref = f"{alias}{_quoted(column)}"
        if self.form == "parquet":
            return f"CAST({ref} AS VARCHAR)"
        if self.form == "csv":
            return (f"(CASE WHEN starts_with({ref}, '''') THEN regexp_replace({ref}, "
                    f"{sql_literal(QUOTED_PATTERN)}, '\\1') ELSE {ref} END)")
        return ref


def ingest_mapped(mapping: Mapping, paths: Sequence[Path], out: Path, *, buckets: int,
                  timezone: str, memory_limit: str | None = None,
                  temp_directory: Path | None = None, threads: int | None = None,
                  progress: Callable[[str], None] | None = None,
                  described: str = "") -> Manifest:
    """Cut a CRM export read by `mapping` into `buckets` Parquet event logs of whole leads in
    `out` (see the module's docstring). `timezone`: of times written without an offset, as
    `sla evaluate --timezone` reads them. Raises `HistoryError` (a `MappingError` for the
    mapping's mistakes) for what the single read would refuse, or the cut cannot keep exact."""
    import duckdb

    if buckets < 1:
        raise HistoryError("--buckets must be at least 1")
    say = progress or (lambda _text: None)
    jobs = mapping.bind(paths)
    reads = [(spec, path) for spec, files in jobs for path in files]
    _refuse_inexact(reads)
    check_inputs([path for _, path in reads], out)
    out.mkdir(parents=True, exist_ok=True)
    remove_outputs(out)
    work = out / _WORK
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    spill = temp_directory or work / "spill"
    con = duckdb.connect(str(work / "export.duckdb"))
    try:
        if memory_limit:
            con.execute(f"SET memory_limit = '{sql_setting(memory_limit)}'").fetchall()
        if threads:
            con.execute(f"SET threads = {int(threads)}").fetchall()
        con.execute(f"SET temp_directory = '{sql_setting(str(spill))}'").fetchall()
        con.execute("SET enable_progress_bar = false").fetchall()  # (inherited by cursors)
        register_lead_bucket(con)
        files = []
        for index, (spec, path) in enumerate(reads):
            say(f"reading {path}")
            files.append(_load(con, index, spec, Path(path)))
        whole: dict[int, RawRows] = {}
        targets = {spec.join.source for spec, _ in reads if spec.join is not None}
        targets |= {other for spec, _ in reads for other in spec.lookup.values()}
        for file in files:
            if file.spec.join_only and file.spec.name not in targets:
                whole[file.index] = _whole(con, file)
            else:
                say(f"sorting {file.path} into {buckets} buckets")
                _route(con, file, files, buckets)
        result = _read_buckets(con, mapping, paths, files, whole, out, buckets, timezone,
                               say)
        _order_rejects(con, files, result)
    except BaseException as error:
        raise engine_failure(error, out) from None
    finally:
        con.close()
        shutil.rmtree(work, ignore_errors=True)
        if temp_directory is not None:
            shutil.rmtree(spill, ignore_errors=True)
    manifest = _manifest(result, mapping, jobs, files, paths, timezone, described)
    _write(out, manifest, result.rejects)
    return manifest


def _refuse_inexact(reads: Sequence[tuple[SourceSpec, Path]]) -> None:
    """A `MappingError` for a rule whose outcome depends on rows of other buckets: the single
    run's result would not be the buckets' (module docstring)."""
    by_name = {spec.name: spec for spec, _ in reads}
    for spec, _ in reads:
        if spec.duplicates is not None and spec.join is not None \
                and not _joins_by_lead_id(spec, by_name.get(spec.join.source)):
            raise spec.error("duplicates", "sla ingest cannot cut a source that both joins "
                             "and drops duplicates into buckets exactly",
                             "evaluate the export in one run (sla evaluate --mapping)")
        if spec.duplicates is not None and spec.lead_id not in spec.duplicates.key:
            raise spec.error("duplicates.key", f"sla ingest keeps a lead's rows together, and "
                             f"this key leaves out the lead id `{spec.lead_id}`",
                             f"add `{spec.lead_id}` to the key, or evaluate the export in one "
                             "run")
        if spec.join is not None:
            target = by_name.get(spec.join.source)
            if target is not None and target.duplicates is not None:
                raise spec.error("join.source", f"`{target.name}` drops duplicates: which of "
                                 "its rows a row here joins is decided in one bucket, and "
                                 "sla ingest cannot route by it exactly",
                                 "evaluate the export in one run")
            if target is not None and target.join is not None:
                raise spec.error("join.source", f"`{target.name}` finds its own leads through "
                                 "a join: sla ingest follows one join, not two",
                                 "evaluate the export in one run")


# ============================================================================ the files


def _load(con, index: int, spec: SourceSpec, path: Path) -> _File:
    """The file as table `f{index}` of the ingest's database, each row numbered as the reader
    numbers it; a file DuckDB's strict parser refuses (a damaged row), and JSON Lines, read
    by the reader's own rules and then stored (`form` "read")."""
    import duckdb

    fmt = source_format(path, spec)  # as the reader says it
    table = f"f{index}"
    header = csv_header(path) if fmt == "csv" else []
    if fmt == "csv" and not spaced_after_quote(path) and not case_twins(header):
        source = csv_source(path, header)
        try:
            _sql(con, f"CREATE TABLE {table} AS SELECT *, row_number() OVER () AS {ROW_COLUMN} "
                        f"FROM {source}")
            rows = _sql(con, f"SELECT count(*) FROM {table}")[0][0]
            return _File(index, spec, path, table, "csv", header,
                         {restored(n): n for n in header}, int(rows))
        except duckdb.Error:
            _sql(con, f"DROP TABLE IF EXISTS {table}")
    elif fmt == "parquet":
        try:
            schema = pq.read_schema(path)
            if case_twins(schema.names):
                raise pa.ArrowInvalid("column names DuckDB takes for one")  # read here
            _sql(con, f"CREATE TABLE {table} AS SELECT * EXCLUDE (file_row_number), "
                        f"file_row_number + 1 AS {ROW_COLUMN} FROM read_parquet("
                        f"{sql_literal(str(path))}, file_row_number = true)")
            rows = _sql(con, f"SELECT count(*) FROM {table}")[0][0]
            return _File(index, spec, path, table, "parquet", schema.names,
                         {n: n for n in schema.names}, int(rows), schema=schema)
        except (duckdb.Error, pa.ArrowInvalid, OSError):
            _sql(con, f"DROP TABLE IF EXISTS {table}")
    raw = read_rows(path)
    # in by their places (`c0`...): DuckDB's names ignore case, `Score` and `score` are one
    names = raw.table.column_names
    places = [f"c{i}" for i in range(len(names))]
    arrow = pa.table([c.cast(c.type.value_type) if pa.types.is_dictionary(c.type) else c
                      for c in raw.table.columns], names=places)
    arrow = arrow.append_column(ROW_COLUMN, pa.array(raw.rows, pa.int64()))
    cursor = con.cursor()
    try:
        cursor.register("raw_rows", arrow)
        cursor.execute(f"CREATE TABLE {table} AS SELECT * FROM raw_rows").fetchall()
        cursor.unregister("raw_rows")
    finally:
        cursor.close()
    return _File(index, spec, path, table, "read", places, dict(zip(names, places,
                                                                    strict=True)),
                 arrow.num_rows + len(raw.broken), list(raw.broken), names=names)


def _whole(con, file: _File) -> RawRows:
    """A file every bucket reads whole (the users' names and zones): its rows in file order."""
    cursor = con.cursor()
    table = cursor.sql(f"SELECT * FROM {file.table} ORDER BY {ROW_COLUMN}").to_arrow_table()
    cursor.close()
    rows = table.column(ROW_COLUMN).to_numpy().astype(np.int64)
    table = file.as_read(table.drop_columns([ROW_COLUMN]))
    return RawRows(str(file.path), table, rows, list(file.broken), file.form)


def _sql(con, statement: str) -> list[tuple]:
    """Run one statement on its own cursor, every row fetched: DuckDB refuses the next
    statement on a connection whose result is not done."""
    cursor = con.cursor()
    try:
        return cursor.execute(statement).fetchall()
    finally:
        cursor.close()


def _joins_by_lead_id(spec: SourceSpec, target: SourceSpec | None) -> bool:
    """Whether `spec` joins only by its target's own lead id (Salesforce's LeadHistory.LeadId
    in Lead.Id): a row finds at most the lead of its own id, whose bucket is its own id's, so
    it can be routed by that id like a source with leads of its own. A row that finds no lead
    then goes to the bucket of its id, where the target's rows of that id are (a deleted
    Lead's), not to bucket 0: rows alike in a `duplicates` key stay in one bucket."""
    return (spec.join is not None and target is not None and target.join is None
            and set(spec.join.match) == {target.lead_id})


def _route(con, file: _File, files: Sequence[_File], buckets: int) -> None:
    """The file's rows with their bucket (a row matching leads of several buckets once for
    each), stored sorted by bucket then row as table `r{index}`: one sort at a time, within
    the memory limit, and each bucket's rows then a range of the table (`_bucket_rows`)."""
    spec = file.spec
    target = next((f.spec for f in files if spec.join and f.spec.name == spec.join.source),
                  None)
    if spec.join is None or _joins_by_lead_id(spec, target):
        salesforce = spec.salesforce_ids or (target is not None and target.salesforce_ids)
        lead = _id_sql(file.text(spec.lead_id), salesforce)
        select = f"SELECT *, {bucket_sql(lead, buckets)} AS {BUCKET_COLUMN} FROM {file.table}"
    else:
        select = _joined_select(file, [f for f in files if f.spec.name == spec.join.source],
                                buckets)
    _sql(con, f"CREATE TABLE r{file.index} AS SELECT * FROM ({select}) "
                f"ORDER BY {BUCKET_COLUMN}, {ROW_COLUMN}")


def _bucket_rows(con, file: _File, bucket: int) -> RawRows:
    """The file's rows in `bucket`, in file order (bucket 0 also carries the rows that are no
    rows at all); read off the sorted table, whose zone maps skip the other buckets."""
    cursor = con.cursor()
    try:
        table = cursor.sql(f"SELECT * EXCLUDE ({BUCKET_COLUMN}) FROM r{file.index} "
                           f"WHERE {BUCKET_COLUMN} = {int(bucket)} ORDER BY {ROW_COLUMN}"
                           ).to_arrow_table()
    finally:
        cursor.close()
    rows = table.column(ROW_COLUMN).to_numpy().astype(np.int64)
    table = file.as_read(table.drop_columns([ROW_COLUMN]))
    return RawRows(str(file.path), table, rows, file.broken if bucket == 0 else [], file.form)


def _joined_select(file: _File, targets: Sequence[_File], buckets: int) -> str:
    """A joining source's rows with the buckets of the leads they join (see the module's
    docstring): the reader's rule, the first `match` column with a row the target keeps."""
    spec = file.spec
    assert spec.join is not None
    keys = []
    salesforce = any(target.spec.salesforce_ids for target in targets)
    for target in targets:
        lead = target.text(target.spec.lead_id)
        kept = _conditions_sql(target, target.spec.filters)
        for k, column in enumerate(spec.join.match):
            if target.column(column) is None:
                raise spec.error("join.match", f"source `{target.spec.name}` "
                                 f"(`{target.path.name}`) has no column `{column}`",
                                 f"its columns are {', '.join(target.restored)}")
            key = target.text(column)
            keys.append(f"SELECT {k} AS k, {_id_sql(key, salesforce)} AS key, "
                        f"{bucket_sql(_id_sql(lead, salesforce), buckets)} AS b "
                        f"FROM {target.table} WHERE {kept} AND NOT {_blank(key)} "
                        f"AND NOT {_blank(lead)}")
    mine = file.text(spec.lead_id, "s.")
    own = _conditions_sql(file, spec.filters, "s.")
    keys_sql = " UNION ALL ".join(keys) if keys else \
        "SELECT 0 AS k, CAST(NULL AS VARCHAR) AS key, 0 AS b WHERE false"
    return (f"WITH keys AS ({keys_sql}), "
            f"found AS (SELECT s.{ROW_COLUMN} AS r, keys.k, keys.b FROM {file.table} s JOIN keys "
            f"ON {_id_sql(mine, salesforce)} = keys.key WHERE {own}), "
            f"best AS (SELECT r, min(k) AS k FROM found GROUP BY r), "
            f"routes AS (SELECT DISTINCT found.r, found.b FROM found JOIN best "
            f"ON found.r = best.r AND found.k = best.k) "
            f"SELECT f.*, coalesce(routes.b, 0) AS {BUCKET_COLUMN} FROM {file.table} f "
            f"LEFT JOIN routes ON f.{ROW_COLUMN} = routes.r")


def _blank(text: str) -> str:
    return f"coalesce({trimmed_sql(text)} = '', true)"


def _conditions_sql(file: _File, conditions: Sequence[Condition], alias: str = "") -> str:
    """`where` as SQL, as `prepare.matches` decides it: the trimmed cell against each pattern
    (`*` any run, "" an empty cell); a column the file lacks matches nothing."""
    parts = ["true"]
    for condition in conditions:
        text = file.text(condition.column, alias)
        trimmed = trimmed_sql(text)
        tests = []
        for pattern in condition.patterns:
            if pattern == "":
                tests.append(_blank(text))
            elif ANY_VALUE in pattern:
                like = (pattern.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
                        .replace(ANY_VALUE, "%"))
                tests.append(f"coalesce({trimmed} LIKE {sql_literal(like)} ESCAPE '\\', false)")
            else:
                tests.append(f"coalesce({trimmed} = {sql_literal(pattern)}, false)")
        found = "(" + " OR ".join(tests) + ")"
        parts.append(f"NOT {found}" if condition.negated else found)
    return "(" + " AND ".join(parts) + ")"


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# ============================================================================ the buckets


@dataclass
class _Result:
    counts: list[BucketCounts]
    rejects: list[Reject]
    stats: list[SourceStats]  # per part (file with records), rows counted once
    actor_first: dict[str, int]
    zones: dict[str, str]
    latest: int | None
    tracked: list[dict]  # per bucket: the few records the notes need
    part_files: list[_File]


def _read_buckets(con, mapping: Mapping, paths: Sequence[Path], files: Sequence[_File],
                  whole: dict[int, RawRows], out: Path, buckets: int, timezone: str,
                  say: Callable[[str], None]) -> _Result:
    parts = [f for f in files if not f.spec.join_only]
    stats = [SourceStats(str(f.path), f.rows, 0, 0, 0) for f in parts]
    counts: list[BucketCounts] = []
    rejects: list[Reject] = []
    actor_first: dict[str, int] = {}
    zones: dict[str, str] = {}
    tracked: list[dict] = []
    latest: int | None = None
    fields: list[str] | None = None
    tracked_parts = [i for i, f in enumerate(parts) if f.spec.tracked_since_first_row]
    before_codes = sorted({EVENT_CODE[e] for f in parts for e in f.spec.before})
    for bucket in range(buckets):
        say(f"reading bucket {bucket + 1} of {buckets}")
        pieces = {}
        for file in files:
            piece = whole.get(file.index)
            pieces[str(file.path)] = piece if piece is not None else _bucket_rows(
                con, file, bucket)
        history = load_history(paths, timezone=timezone, mapping=mapping,
                               export_timezone=timezone, pieces=pieces)
        if len(history.sources) != len(parts):
            raise HistoryError(f"bucket {bucket}: read {len(history.sources)} files, the "
                               f"export has {len(parts)}\n  help: this is a bug; evaluate "
                               "the export in one run")
        if fields is None:
            fields = list(history.fields)
        place = (np.asarray(history.source, np.int64) << PLACE_BITS) | history.row
        lead_first = _lead_first(history, place, parts)
        table = event_log_table(history, fields)
        table = (table.append_column(EVENT_PLACE, pa.array(place, pa.int64()))
                 .append_column(LEAD_PLACE, pa.array(lead_first[history.lead], pa.int64())))
        name = bucket_name(bucket)
        pq.write_table(table, out / name)
        _actor_places(history, place, actor_first)
        for actor, zone in history.actor_zones.items():
            zones.setdefault(actor, zone)
        for i, got in enumerate(history.sources):
            was = stats[i]
            stats[i] = replace(was, records=was.records + got.records,
                               rejected=was.rejected + got.rejected,
                               left_out=was.left_out + got.left_out)
        rejects += history.rejects
        counts.append(BucketCounts.of(out / name, history))
        if len(history.at):
            most = int(history.at.max())
            latest = most if latest is None else max(latest, most)
        if tracked_parts:
            tracked.append(_tracked_records(history, lead_first, tracked_parts, before_codes))
    return _Result(counts, rejects, stats, actor_first, zones, latest, tracked, parts)


def _order_rejects(con, files: Sequence[_File], result: _Result) -> None:
    """The rejects in the single read's order: by file, row and date column; the records of
    one joined row that several leads share (one per lead, perhaps in several buckets) in the
    order of the rows of the source they were found in, as the join makes them."""
    parts = result.part_files
    order = {str(f.path): i for i, f in enumerate(parts)}
    columns = [{w.at: k for k, w in enumerate(f.spec.events)} for f in parts]

    def key(reject: Reject) -> tuple[int, int, int]:
        part = order.get(reject.source, 0)
        return part, reject.row, columns[part].get(reject.column, -1) if parts else -1

    rejects = result.rejects
    rejects.sort(key=key)
    start = 0
    while start < len(rejects):
        end = start + 1
        while end < len(rejects) and key(rejects[end]) == key(rejects[start]):
            end += 1
        spec = parts[key(rejects[start])[0]].spec if parts else None
        if end - start > 1 and spec is not None and spec.join is not None:
            rank = _join_order(con, spec, files, rejects[start])
            rejects[start:end] = sorted(rejects[start:end], key=lambda r: rank.get(
                _reject_lead(r, spec) or "", len(rank)))
        start = end


def _join_order(con, spec: SourceSpec, files: Sequence[_File], reject: Reject
                ) -> dict[str, int]:
    """The leads a joined cell finds, in the order of the rows they are found in."""
    assert spec.join is not None
    value = next((reject.raw[n] for n in (spec.lead_id, *spec.aliases.get(spec.lead_id, ()))
                  if n in reject.raw), None)
    if value is None:
        return {}
    targets = [f for f in files if f.spec.name == spec.join.source]
    salesforce = any(target.spec.salesforce_ids for target in targets)
    value = _id_value(value, salesforce)
    for column in spec.join.match:
        found = []
        for target in targets:
            lead = _id_sql(target.text(target.spec.lead_id), salesforce)
            key = _id_sql(target.text(column), salesforce)
            kept = _conditions_sql(target, target.spec.filters)
            cursor = con.cursor()
            found += [(target.index, row, text) for row, text in cursor.execute(
                f"SELECT {ROW_COLUMN}, {lead} FROM {target.table} WHERE {kept} AND {key} = ? "
                f"AND NOT {_blank(lead)} ORDER BY {ROW_COLUMN}", [value]).fetchall()]
            cursor.close()
        if found:
            rank: dict[str, int] = {}
            for _, _, text in sorted(found):
                rank.setdefault(text, len(rank))
            return rank
    return {}


def _lead_first(history: History, place: np.ndarray, parts: Sequence[_File]) -> np.ndarray:
    """Each lead's first place (of its accepted events and of its rejected records): the
    single read numbers leads in the order their first record comes, rejected ones too."""
    first = np.full(len(history.lead_ids), np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first, history.lead, place)
    if history.rejects and len(history.lead_ids):
        code = {str(lead): i for i, lead in enumerate(history.lead_ids.tolist())}
        by_path = {str(f.path): i for i, f in enumerate(parts)}
        for reject in history.rejects:
            part = by_path.get(reject.source)
            if part is None:
                continue
            lead = _reject_lead(reject, parts[part].spec)
            i = code.get(lead) if lead is not None else None
            if i is None and lead is not None:
                i = code.get(_id_value(lead, parts[part].spec.salesforce_ids))
            if i is not None:
                first[i] = min(first[i], (part << PLACE_BITS) | reject.row)
    return first


def _id_sql(text: str, salesforce: bool) -> str:
    """An id as the reader compares it (`prepare.JoinTarget`): without the spaces around it,
    and a Salesforce id in its 18-character form where the target says so."""
    return full_id_sql(trimmed_sql(text)) if salesforce else trimmed_sql(text)


def _id_value(text: str, salesforce: bool) -> str:
    """`_id_sql` of one value, here."""
    return full_id(text.strip(SPACES)) if salesforce else text.strip(SPACES)


def _reject_lead(reject: Reject, spec: SourceSpec) -> str | None:
    """The lead of a rejected record, from its raw values: a joined record's lead is the
    column the join added (`lead_id`, or `sla_lead_id` when the file has a `lead_id`)."""
    if spec.join is not None:
        names = [n for n in ("sla_sla_lead_id", "sla_lead_id", "lead_id") if n in reject.raw]
        return reject.raw[names[0]] if names else None
    for name in (spec.lead_id, *spec.aliases.get(spec.lead_id, ())):
        if name in reject.raw:
            return reject.raw[name]
    return None


def _actor_places(history: History, place: np.ndarray, first: dict[str, int]) -> None:
    """Each actor's first place among the bucket's events, kept where lower."""
    acted = history.actor != NO_ACTOR
    if not acted.any():
        return
    lowest = np.full(len(history.actors), np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(lowest, history.actor[acted], place[acted])
    for name, at in zip(history.actors.tolist(), lowest.tolist(), strict=True):
        first[str(name)] = min(at, first.get(str(name), at))


def _tracked_records(history: History, lead_first: np.ndarray, tracked_parts: list[int],
                     before_codes: list[int]) -> dict:
    """The records a tracked history's note needs of this bucket: its earliest tracked
    record, and the created and `[source.before]` events of the leads created before it (the
    whole history's earliest is no later, so its early leads are among them)."""
    source = np.asarray(history.source)
    mine = np.isin(source, tracked_parts)
    first = int(history.at[mine].min()) if mine.any() else None
    created = history.event == EVENT_CODE["created"]
    candidate = created if first is None else created & (history.at < first)
    leads = np.unique(history.lead[candidate])
    keep = np.isin(history.lead, leads) & (created | np.isin(history.event, before_codes))
    if first is not None:
        keep[np.flatnonzero(mine)[np.argmin(history.at[mine])]] = True
    chosen = np.flatnonzero(keep)
    lead = history.lead[chosen]
    return {"place": lead_first[lead], "id": history.lead_ids[lead], "at": history.at[chosen],
            "event": history.event[chosen], "source": source[chosen]}


def _notes(mapping: Mapping, jobs, result: _Result) -> list[str]:
    """The whole export's notes (`history_notes`), on the records `_tracked_records` kept."""
    names = [f.spec.name for f in result.part_files]
    sources = [SourceStats(s.path, s.rows, s.records, s.rejected, s.left_out)
               for s in result.stats]
    if result.tracked:
        place = np.concatenate([t["place"] for t in result.tracked])
        ids = np.concatenate([t["id"] for t in result.tracked])
        order, lead = np.unique(place, return_inverse=True)
        lead_ids = np.empty(len(order), dtype=object)
        lead_ids[lead] = ids
        at = np.concatenate([t["at"] for t in result.tracked])
        event = np.concatenate([t["event"] for t in result.tracked])
        source = np.concatenate([t["source"] for t in result.tracked]).astype(np.int16)
    else:
        lead = at = np.zeros(0, np.int64)
        event = np.zeros(0, np.int8)
        source = np.zeros(0, np.int16)
        lead_ids = np.zeros(0, dtype=object)
    n = len(at)
    mini = History(lead=lead.astype(np.int64), at=at.astype(np.int64),
                   event=event.astype(np.int8), actor=np.full(n, NO_ACTOR, np.int64),
                   row=np.zeros(n, np.int64), lead_ids=lead_ids,
                   actors=np.zeros(0, dtype=object), source=source, sources=sources)
    return history_notes(mapping, jobs, mini, names)


def _manifest(result: _Result, mapping: Mapping, jobs, files: Sequence[_File],
              paths: Sequence[Path], timezone: str, described: str) -> Manifest:
    counts = result.counts
    actors = sorted(result.actor_first, key=lambda a: (result.actor_first[a], a))
    manifest = Manifest(
        buckets=counts, hash=LEAD_HASH, timezone=timezone,
        sources=[str(f.path) for f in files],
        as_of_default=None if result.latest is None else iso_utc(result.latest),
        rows_read=sum(c.rows_read for c in counts), accepted=sum(c.accepted for c in counts),
        rejected=sum(c.rejected for c in counts),
        in_memory=[str(f.path) for f in files if f.form == "read"],
        files=[asdict(s) for s in result.stats], actors=actors,
        notes=_notes(mapping, jobs, result),
        actor_zones={a: result.zones[a] for a in actors if a in result.zones},
        mapping=described)
    manifest.history_id = manifest_history_id(manifest)
    return manifest


def _write(out: Path, manifest: Manifest, rejects: list[Reject]) -> None:
    write_reject_list(rejects, out / REJECTS)
    with (out / REJECTS_JSON).open("w", encoding="utf-8") as handle:
        for reject in rejects:
            handle.write(json.dumps(asdict(reject), ensure_ascii=False) + "\n")
    write_manifest(out, manifest)
