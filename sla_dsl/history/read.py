"""Reading lead histories (CSV, JSON Lines, Parquet) into the evaluator's columnar `History`.

    history = load_history([Path("q1.csv")], timezone="Europe/Amsterdam")
    history = load_history([], timezone="America/Sao_Paulo",
                           mapping=load_mapping("examples/olist/mapping.toml"))

pyarrow reads every format into string columns (multi-threaded, in C++; dictionary-encoded as
read where values repeat: an event log's lead ids, events, actors), and validation is done on
whole columns: timestamps by Arrow's ISO 8601 cast (an event log's CSV times parsed so by the
CSV reader itself, when it takes them all), event names and blank ids on the dictionary of
distinct values, order and "nothing before `created`" by sorting. Python touches
single rows only on the unhappy path: a chunk of timestamps Arrow refuses is bisected down to
the rows it refuses, and only rejected records are turned into `Reject`s with a reason.

Rules, each applied the same way in every format:

- A record is a row of an event log, or one non-empty date cell of a wide export. A wide row
  whose date cells are all empty is one record, rejected. Records read = accepted + rejected.
- Rows are numbered 1, 2, ... from the first data row, not counting empty lines (nothing between
  two line breaks; for a CSV file without multi-line values or empty lines, data row n is line
  n + 1). A line with anything on it is a row, counted: one of only spaces is rejected as blank.
- Bounds: a line of more than MOST_LINE_BYTES, a value of more than MOST_VALUE_BYTES, a time
  outside `history.SUPPORTED_TIMES` and a JSON record nested deeper than MOST_JSON_DEPTH are
  rejected rows, found without holding the line whole or parsing the nesting.
- Times: ISO 8601 `YYYY-MM-DD[( |T)HH[:MM[:SS[.fraction]]]][Z|±HH[:MM]]`. With an offset (or
  `Z`) the instant is exact. Without one it is a wall reading in the source's timezone, resolved
  by `sla_dsl.business_time`'s rule: a time skipped by a DST jump is the jump, a repeated time
  its first occurrence. A date alone is local midnight (by the same rule). Fractions beyond
  microseconds are truncated.
- The empty string and whitespace-only text are "no value" (None) for every column.
- An event of a lead earlier than the lead's first `created` event is rejected (a deal won
  before the lead existed). A lead with no `created` event at all keeps its events: histories
  are usually cut from a longer one, and the lead may have been created before the cut.
- Events are sorted by lead, time, then the order they were read in (files in the order given,
  rows in file order, a wide row's date columns in mapping order), so a mapping that lists
  `created` before `handoff` for the same date gets them in that order. Lead codes number leads
  in the order they first appear.
- Columns of the result: `lead`, `actor` int64 codes (`actor` NO_ACTOR = -1 for none), `at`
  int64 µs UTC, `event` int8, `row` int64 (1-based data row within its file), `source` int16
  (index into `History.sources`, one `SourceStats` per file read), `lead_ids`/`actors` and each
  field object arrays of str (fields None where empty). Leads or actors whose every record was
  rejected are not listed.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import json
import mmap
import os
import re
from collections.abc import Callable, Collection, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sla_dsl.business_time.zones import (
    US_PER_DAY,
    US_PER_SECOND,
    iana_zone,
    local_text,
    parse_time,
    quoted_value,
    resolve_walls,
)
from sla_dsl.history import width
from sla_dsl.history.columns import (
    EARLIEST_US,
    EVENT_CODE,
    EVENTS,
    LATEST_US,
    MOST_VALUE_BYTES,
    RESERVED_PREFIX,
    SUPPORTED_TIMES,
    History,
    HistoryError,
    Reject,
    SourceStats,
)
from sla_dsl.history.csv_cells import QUOTED_PATTERN, restored
from sla_dsl.history.mapping import (
    EPOCH_MS,
    REQUIRED_ZONE,
    Mapping,
    SourceSpec,
    format_of,
    is_preset,
)
from sla_dsl.history.prepare import (
    JoinTarget,
    actor_zones,
    actors_before,
    aliased,
    coded_in,
    hashed_with,
    history_notes,
    named_actors,
    prepare,
    shares_one_dictionary,
)
from sla_dsl.input_files import NO_SUCH_FILE, not_a_file
from sla_dsl.printable import printable

__all__ = ["HistoryError", "RawRows", "csv_header", "event_schema", "history_from_raw",
           "history_from_rows", "load_history", "parse_time", "read_rows", "source_format"]

# Walls are checked against the range before they are resolved (no offset table is built out
# to the year 9999), with a day to spare for any UTC offset; instants after, exactly.
_MIN_WALL_US = EARLIEST_US - US_PER_DAY
_MAX_WALL_US = LATEST_US + US_PER_DAY
_BOM = b"\xef\xbb\xbf"

# Bounds on one record, so that one hostile row costs a reject, not the process: a value (a
# cell, a JSON field) of more than MOST_VALUE_BYTES of UTF-8, a line (a CSV row's line, a JSON
# Lines line) of more than MOST_LINE_BYTES, or JSON nested deeper than MOST_JSON_DEPTH (the
# record's own object is level 1) is a rejected row. Nesting is measured before any parser
# sees the line: parsers recurse, and 30,000 levels overflow the stack.
MOST_LINE_BYTES = 16 << 20
MOST_JSON_DEPTH = 64
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_CREATED = EVENT_CODE["created"]

# Event codes of records that are not events (negative, so never a valid code).
_NO_EVENT, _UNKNOWN_EVENT, _EMPTY_ROW = -1, -2, -3

_DATE = r"\d{4}-\d{2}-\d{2}"
_CLOCK = r"\d{2}(?::\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?)?"
_ZONE = r"[Zz]|[+-]\d{2}(?::?\d{2})?"
TIME_PATTERN = f"^{_DATE}(?:[Tt ]{_CLOCK}(?:{_ZONE})?)?$"
"""What `at` may look like (also the JSON Schema's pattern for `at`)."""



# ============================================================================ public API


def load_history(paths: Sequence[Path | str], *, timezone: str,
                 mapping: Mapping | None = None,
                 fields: Collection[str] | None = None,
                 export_timezone: str | None = None,
                 pieces: dict[str, RawRows] | None = None) -> History:
    """Read event logs (or, with a `mapping`, CRM exports) into one sorted, validated History.

    `timezone` reads times written without an offset (a mapping's source may name its own).
    Without a mapping each path is an event log with columns lead_id, at, event and optionally
    actor; every other column is a field, but for the tool's own (`RESERVED_PREFIX`, an
    ingest's bucket's places). With one, `paths` replace the files the mapping names
    (see `Mapping.bind`); an empty list reads the mapping's own files.

    Raises `HistoryError` (`MappingError` for the mapping's own mistakes) when a file cannot be
    read at all; a bad record never raises, it becomes a `Reject`.

    `fields`, when given, names the only field columns to keep: turning text columns into
    Python strings is most of a big read, and a policy reads a few of them.

    `export_timezone` is the zone of the exports' times written without an offset (a HubSpot
    portal's, a Salesforce user's), where a source names none of its own; a source whose
    `timezone = "required"` needs it. A mapping's notes (`History.notes`) say what its exports
    cannot show (`history.prepare.history_notes`).

    `pieces` (an out-of-core ingest's bucket, `history.ingest_mapped`): by each bound file's
    path, the rows of it to read instead of the file (`RawRows`, with the file's own row
    numbers), so that rejects and counts name the file and its rows as a whole read would.
    """
    zone = _zone(export_timezone or timezone)
    if mapping is not None:
        jobs = mapping.bind(paths)
    else:
        if not paths:
            raise HistoryError("no history file given\n  help: name at least one CSV, JSON "
                               "Lines or Parquet file")
        jobs = [(SourceSpec.canonical(Path(p)), [Path(p)]) for p in paths]

    if mapping is None:  # each event log is a job of its own
        _named_once([path for _, named in jobs for path in named])
    else:  # a mapping's files, source by source (one file may feed two sources)
        for _, named in jobs:
            _named_once(named)
    reads: list[tuple[SourceSpec, _Read]] = []
    also = _shared_columns([spec for spec, _ in jobs]) if mapping is not None else {}
    for spec, files in jobs:
        for path in files:
            if pieces is not None:
                reads.append((spec, _piece_read(pieces[str(path)], spec)))
            elif mapping is None:
                reads.append((spec, _read(path, spec, fields, as_events=True)))
            elif fields is not None and spec.prepared and _narrowable(spec, path, fields):
                narrow = spec if spec.fields is None else replace(spec, fields={
                    name: column for name, column in spec.fields.items() if name in fields})
                reads.append((narrow, _read(path, spec, None, spec.columns_read(
                    fields, also.get(spec.name, ())))))
            else:
                reads.append((spec, _read(path, spec)))
    if any(spec.prepared for spec, _ in reads):
        reads = _prepared(reads)
    by_source: dict[str, list[_Read]] = {}
    for spec, read in reads:
        by_source.setdefault(spec.name, []).append(read)

    parts = []
    names = []
    befores = []  # (part, event, rows, cells): `[source.before]`
    for spec, read in reads:
        if spec.join_only:
            continue
        if spec.timezone == REQUIRED_ZONE and export_timezone is None:
            raise spec.error("timezone", f"`{read.path.name}` writes times without an offset, "
                             "in a time zone the export does not name",
                             "give it on the command line (--timezone America/New_York), or "
                             "write the zone in the mapping: timezone = \"America/New_York\"")
        own = spec.timezone not in (None, REQUIRED_ZONE)
        source_zone = _zone(spec.timezone) if own else zone
        lookups = _lookups(spec, read, mapping, by_source)
        befores += [(len(parts), event, read.rows, cells)
                    for event, cells in (read.before or {}).items()]
        parts.append(_records(spec, read, source_zone, lookups, len(parts),
                              mapping is not None, fields))
        names.append(spec.name)
    history = _assemble(parts, fields)
    if mapping is not None:
        history.notes = history_notes(mapping, jobs, history, names)
        for before in befores:
            actors_before(history, *before)
        naming = [(read.table, *spec.actor_names, spec.salesforce_ids) for spec, read in reads
                  if spec.actor_names is not None]
        if naming and len(history.actors):
            ids = history.actors
            history.actors = named_actors(ids, naming)
            zoning = [(read.table, spec.actor_names[0], spec.actor_zone, spec.salesforce_ids)
                      for spec, read in reads
                      if spec.actor_names is not None and spec.actor_zone is not None]
            if zoning:
                history.actor_zones = actor_zones(ids, history.actors, zoning)
    return history


def _named_once(files: Sequence[Path]) -> None:
    """Refuse a file named twice as one source (`--history a.csv a.csv`, or two globs that
    overlap): its every event would count twice, and a cadence be met by touches made once."""
    seen: dict[str, Path] = {}
    for path in files:
        key = os.path.realpath(path)
        if key in seen:
            same = "twice" if str(seen[key]) == str(path) else f"twice (as {seen[key]})"
            raise HistoryError(f"{path}: named {same}; each of its events would count twice\n"
                               "  help: name each file once")
        seen[key] = path


def _prepared(reads: list[tuple[SourceSpec, _Read]]) -> list[tuple[SourceSpec, _Read]]:
    """Each source's rows reshaped by its CRM rules (`history.prepare`), a join's target
    before the sources that join through it."""
    done: dict[int, tuple[SourceSpec, _Read]] = {}
    targets: dict[str, JoinTarget] = {}
    also = _shared_columns([spec for spec, _ in reads])
    while len(done) < len(reads):
        progress = False
        for i, (spec, read) in enumerate(reads):
            if i in done or (spec.join is not None and spec.join.source not in targets):
                continue
            if not spec.prepared:
                done[i] = (spec, read)
            else:
                ready = prepare(spec, _coded_like_leads(spec, read, targets), read.path,
                                targets, also.get(spec.name, ()))
                oversize = _oversize_rows(ready.source)
                done[i] = (ready.spec, _Read(
                    read.path, ready.table, read.rows[ready.rows], read.broken,
                    data_rows=read.n_rows, left_out=ready.left_out, reasons=ready.reasons,
                    source=(ready.source, ready.rows),
                    oversize=None if oversize is None else oversize[ready.rows],
                    before=ready.before, whole=_aliased_whole(spec, read), texts=ready.texts))
            progress = True
            if all(j in done for j, (other, _) in enumerate(reads) if other.name == spec.name):
                tables = [done[j] for j, (other, _) in enumerate(reads)
                          if other.name == spec.name]
                target = JoinTarget(tables[0][0], _joined_tables([r.table for _, r in tables]),
                                    tables[0][0].lead_id, read.path,
                                    filtered=bool(spec.filters))
                targets[spec.name] = replace(target, together=hashed_with(
                    target, [(s, r.table, r.path) for s, r in reads], targets))
        if not progress:  # a join to a source that was not given
            spec = next(s for i, (s, _) in enumerate(reads) if i not in done)
            raise spec.error("join.source", f"the source `{spec.join.source}` it joins "
                             "through was not given", "give its file too")
    for name, target in targets.items():  # once every source has used its leads
        _leads_coded_once(done, [j for j, (other, _) in enumerate(reads) if other.name == name],
                          target)
    return [done[i] for i in range(len(reads))]


def _leads_coded_once(done: dict[int, tuple[SourceSpec, _Read]], files: list[int],
                      target: JoinTarget) -> None:
    """A join target's own records take their leads from the codes the join hashed
    (`JoinTarget.lead_codes`), so that its ids are hashed once, and the joined sources' leads,
    coded in the same dictionary, are merged with its leads without hashing."""
    spec = done[files[0]][0]
    if spec.join_only or pa.types.is_dictionary(target.table.column(target.lead).type):
        return
    coded = target.coded_leads()
    start = 0
    for j in files:
        spec, read = done[j]
        size = read.table.num_rows
        index = read.table.column_names.index(spec.lead_id)
        read.table = read.table.set_column(index, spec.lead_id, coded.slice(start, size))
        start += size


def _coded_like_leads(spec: SourceSpec, read: _Read, targets: dict[str, JoinTarget]
                      ) -> pa.Table:
    """A source with records of its own (no join) coded in the leads of a join target whose
    records are read before it (Salesforce's LeadHistory in Lead's ids): its ids hashed once,
    for its `duplicates` rule and its records alike (`JoinTarget.coded_like_leads`)."""
    table = read.table
    known = coded_in(spec, table, targets)
    if known is None:
        return table
    index = table.column_names.index(spec.lead_id)
    return table.set_column(index, spec.lead_id, known.coded_like_leads(
        (spec.name, str(read.path)), table.column(spec.lead_id)))


def _narrowable(spec: SourceSpec, path: Path, fields: Collection[str]) -> bool:
    """Whether a CRM object's CSV may be read with only the columns its records need: not
    when a field column the policy does not read is missing, which must still be the error
    it always is (`_records`)."""
    if format_of(path, spec.format) != "csv" or not path.is_file():
        return False
    if spec.fields is None or spec.optional_fields:
        return True
    header = {restored(name) for name in _csv_header(path)}
    return all(column in header for name, column in spec.fields.items() if name not in fields)


def _shared_columns(specs: Sequence[SourceSpec]) -> dict[str, set[str]]:
    """By source name, its columns that other sources join or look up through."""
    also: dict[str, set[str]] = {}
    for spec in specs:
        if spec.join is not None:
            also.setdefault(spec.join.source, set()).update(spec.join.match)
        for column, other in spec.lookup.items():
            also.setdefault(other, set()).update({column, next(
                (s.lead_id for s in specs if s.name == other), column)})
    return also


def _aliased_whole(spec: SourceSpec, read: _Read) -> Callable[[], pa.Table] | None:
    """A narrowed read's whole table, its columns named as the mapping names them."""
    whole = read.whole
    return None if whole is None else lambda: aliased(spec, whole())


def _joined_tables(tables: list[pa.Table]) -> pa.Table:
    if len(tables) == 1:
        return tables[0]
    return pa.concat_tables([_as_text(pa.table([pc.cast(c, c.type.value_type)
                                                if pa.types.is_dictionary(c.type) else c
                                                for c in t.columns], names=t.column_names))
                             for t in tables], promote_options="default")


def history_from_rows(rows: Sequence[dict[str, str | None]], *, timezone: str,
                      source: str = "<inline>") -> History:
    """Events written out in another document (a policy test case's inline events), read by
    the same rules as an event log file: the same columns, times, rejects and row numbers.

    Each row maps column names (lead_id, at, event, actor, fields) to text, None for empty.
    `source` names the rows in rejects and messages."""
    zone = _zone(timezone)
    names = list(dict.fromkeys(name for row in rows for name in row))
    table = pa.table({name: pa.array([row.get(name) for row in rows], pa.string())
                      for name in names})
    read = _Read(Path(source), table, np.arange(1, len(rows) + 1, dtype=np.int64))
    spec = SourceSpec.canonical(Path(source))
    return _assemble([_records(spec, read, zone, {}, 0, False)])


@dataclass
class RawRows:
    """Some rows of one event log file before they are events: its columns, each row's data row
    number in the file, and the rows that could not be read as rows at all (`broken`).

    `form` says what the columns still need to be read as the file's own reader reads them:
    "csv" (text as written, header names as written: the spreadsheet quote is still on, see
    `csv_cells`), "parquet" (the file's own column types) or "read" (already as the reader
    holds them, from `read_rows`). An out-of-core ingest (`history.ingest`) cuts a file into
    such pieces by lead and reads each piece here: the same rules, reasons and row numbers as
    the whole file read at once."""

    source: str
    table: pa.Table
    rows: np.ndarray
    broken: list[Reject] = field(default_factory=list)
    form: str = "read"


def read_rows(path: Path | str) -> RawRows:
    """An event log file read whole, as `load_history` reads it, but not yet made events."""
    path = Path(path)
    read = _read(path, SourceSpec.canonical(path))
    return RawRows(str(path), read.table, read.rows, list(read.broken), "read")


def csv_header(path: Path | str) -> list[str]:
    """A CSV file's column names as written (raises `HistoryError` as the reader does for a
    missing, over-long or repeating header)."""
    return _csv_header(Path(path))


def history_from_raw(parts: Sequence[RawRows], *, timezone: str,
                     fields: Collection[str] | None = None) -> History:
    """Events of rows cut from event log files (`RawRows`), read by the rules `load_history`
    applies to the whole files: the same rejects with the same row numbers, one `SourceStats`
    per part. A lead's rows must all be in `parts` for the `created` rule to hold, and each
    part's rows must be in file order."""
    zone = _zone(timezone)
    records = []
    for index, part in enumerate(parts):
        spec = SourceSpec.canonical(Path(part.source))
        records.append(_records(spec, _piece_read(part, spec), zone, {}, index, False, fields))
    return _assemble(records, fields)


def _piece_read(part: RawRows, spec: SourceSpec) -> _Read:
    """Rows cut from a file (`RawRows`) as the file's reader would hold them."""
    path = Path(part.source)
    table = part.table
    if part.form == "csv":
        names = {name: restored(name) for name in table.column_names}
        table = _restored_table(table.rename_columns([names[n] for n in table.column_names]))
    elif part.form == "parquet":
        table = _parquet_text(path, spec, table)
    return _Read(path, table, np.asarray(part.rows, dtype=np.int64), list(part.broken))


def event_schema() -> dict:
    """JSON Schema (draft 2020-12) of one event of a lead history, as a JSON Lines row."""
    text = {"type": "string"}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://sla-dsl.dev/schemas/history-event.json",
        "title": "Lead history event",
        "description": (
            "One event of a lead history, one per row of a CSV, JSON Lines or Parquet file. "
            "Columns other than lead_id, at, event and actor are fields: stage for stage "
            "events, channel for touches, campaign for engaged, amount for won, reason for "
            "rejected, and lead attributes (score, title, industry, ...) for created and "
            "updated. An empty value means none."),
        "type": "object",
        "required": ["lead_id", "at", "event"],
        "properties": {
            "lead_id": {"description": "the lead", "type": ["string", "integer"],
                        "minLength": 1, "pattern": r"\S"},
            "at": {
                "description": (
                    "when: ISO 8601 with an offset or Z (an exact instant); without one, a "
                    "wall time in the policy's timezone (a time skipped by a DST jump is the "
                    "jump, a repeated one its first occurrence); a date alone is local "
                    "midnight"),
                "type": "string", "pattern": TIME_PATTERN,
                "examples": ["2026-03-02T09:30:00+01:00", "2026-03-02T08:30:00Z",
                             "2026-03-02 09:30", "2026-03-02"],
            },
            "event": {"description": "what happened", "enum": list(EVENTS)},
            "actor": {"description": "who did it (a rep, a team, a system); empty or null "
                                     "where the CRM did not record it",
                      "type": ["string", "null"]},
            "stage": {**text, "description": "the stage entered (stage events)"},
            "channel": {**text, "description": "how the lead was touched (touch events)"},
            "campaign": {**text, "description": "the campaign (engaged events)"},
            "amount": {"description": "deal value (won events)", "type": ["number", "string"]},
            "reason": {**text, "description": "why (rejected and lost events)"},
            "score": {"description": "lead score", "type": ["number", "string"]},
            "title": {**text, "description": "the contact's job title"},
            "industry": {**text, "description": "the company's industry"},
        },
        "additionalProperties": {
            "description": "any other field of the lead or the event",
            "type": ["string", "number", "integer", "boolean", "null"],
        },
    }


# ============================================================================ reading files


@dataclass
class _Read:
    """One file as string columns (a Parquet `at` may keep its timestamp type), with the data
    row number of each table row and the rows that could not be read at all."""

    path: Path
    table: pa.Table
    rows: np.ndarray
    broken: list[Reject] = field(default_factory=list)
    # A prepared source (`history.prepare`): one table row per record, so the file's own count
    # of rows, the rows its rules left out, and per table row the reason it cannot be an event.
    data_rows: int | None = None
    left_out: int = 0
    reasons: np.ndarray | None = None
    # and the file's whole table with each table row's row of it (the table holds only the
    # columns the records are made of), and per table row whether a value of it is too long
    source: tuple[pa.Table, np.ndarray] | None = None
    oversize: np.ndarray | None = None
    before: dict[str, pa.Array] | None = None  # a prepared source's `[source.before]` cells
    # a prepared column held as values (a record's time, as instants): its text for rows of
    # the file's table, as the records' raw values show it (`Prepared.texts`)
    texts: dict[str, Callable[[np.ndarray], pa.ChunkedArray | pa.Array]] | None = None
    # a file read with only the columns its records need: its whole table, on demand
    whole: Callable[[], pa.Table] | None = None
    table_whole: pa.Table | None = None
    # an event log's lead ids as the reader coded them, a dictionary per CSV block or Parquet
    # row group, to be coded by `_leads_as_read` (else `_encode`)
    leads_as_read: bool = False
    # these table rows as written, when the table holds a column typed (None: use `whole`)
    written: Callable[[np.ndarray], pa.Table | None] | None = None

    def raw_table(self, rows: np.ndarray) -> pa.Table:
        """These table rows with every column of the file (the prepared ones added)."""
        taken = _taken(self.table, rows)
        if self.source is None:
            if self.written is not None:
                written = self.written(rows)
                if written is not None:
                    return written
            if self.whole is None:
                return taken
            if self.table_whole is None:  # for rejects only, read once
                self.table_whole = self.whole()
            return _taken(self.table_whole, rows)
        table, index = self.source_whole(), self.source[1]  # (every column: rejects only)
        whole = table.take(pa.array(index[rows], pa.int64()))
        for name, column in zip(taken.column_names, taken.columns, strict=True):
            if name not in whole.column_names:
                if self.texts and name in self.texts:
                    column = self.texts[name](index[rows])
                whole = whole.append_column(name, column)
        return whole

    def source_whole(self) -> pa.Table:
        """The file's table with every column (read now if it was read narrowed)."""
        assert self.source is not None
        if self.whole is not None:
            whole = self.whole()
            if whole.num_rows == self.source[0].num_rows:  # else its rows are not these rows
                self.source = (whole, self.source[1])
            self.whole = None
        return self.source[0]

    @property
    def n_rows(self) -> int:
        if self.data_rows is not None:
            return self.data_rows
        return self.table.num_rows + len(self.broken)


def _taken(table: pa.Table, rows: np.ndarray) -> pa.Table:
    """These rows of a table (rejected ones), a column of text coded in a dictionary per
    chunk (an event log's lead ids, a CSV block's values) taken chunk by chunk, as text:
    Arrow's `take` would merge every chunk's dictionary first."""
    index = pa.array(rows, pa.int64())
    columns = []
    for column in table.columns:
        if not (pa.types.is_dictionary(column.type) and column.num_chunks > 1):
            columns.append(column.take(index))
            continue
        bounds = np.cumsum([0] + [len(chunk) for chunk in column.chunks])
        chunk_of = np.searchsorted(bounds, rows, side="right") - 1
        values: list[object] = [None] * len(rows)
        for number in np.unique(chunk_of).tolist():
            mine = np.flatnonzero(chunk_of == number)
            texts = column.chunk(number).take(pa.array(rows[mine] - bounds[number]))
            for i, text in zip(mine.tolist(), texts.cast(column.type.value_type).to_pylist(),
                               strict=True):
                values[i] = text
        columns.append(pa.array(values, column.type.value_type))
    return pa.table(columns, names=table.column_names)


def _zone(name: str) -> ZoneInfo:
    try:
        return iana_zone(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise HistoryError(f"unknown timezone `{name}`\n  help: use an IANA name such as "
                           f"\"Europe/Amsterdam\", \"America/Sao_Paulo\" or \"UTC\"") from None


def source_format(path: Path, spec: SourceSpec) -> str:
    """The format of a source's file, once it is known to exist: the errors a user sees for a
    file that cannot be read, whichever reader (this one or `sla ingest`'s) meets it first."""
    fmt = format_of(path, spec.format)
    if fmt is None and path.is_dir():  # (not "cannot tell the format from the extension")
        ingest = ("it holds bucket-*.parquet but no manifest.json: an sla ingest that did "
                  "not finish, or its manifest removed; run sla ingest again into it"
                  if any(path.glob("bucket-*.parquet")) else
                  "a directory `sla ingest` wrote (it holds manifest.json) is read whole by "
                  "`sla evaluate POLICY --history DIR`, given alone and without --due")
        raise HistoryError(f"{path}: is a directory, not a file, and not an ingest's (no "
                           f"manifest.json in it)\n  help: give the files in it "
                           f"({path / '*.csv'}); {ingest}")
    why = not_a_file(path)
    if why is not None:
        if spec.mapping_path is not None and not is_preset(spec.mapping_path):
            raise spec.error("file", f"no such file: {path}" if why == NO_SUCH_FILE else
                             f"{path}: {why}",
                             f"`file` is relative to the mapping's folder "
                             f"({spec.mapping_path.parent}); fix it, or give the file's path "
                             f"on the command line")
        raise HistoryError(f"{path}: {why}\n  help: check the path")
    if fmt is None:  # (after the path: a mistyped path is that, whatever its extension)
        raise HistoryError(f"{path}: cannot tell the format from the extension\n  help: name "
                           f"the file .csv, .jsonl, .ndjson or .parquet")
    return fmt


def _read(path: Path, spec: SourceSpec, keep_fields: Collection[str] | None = None,
          columns: Collection[str] | None = None, *, as_events: bool = False) -> _Read:
    """`as_events`: an event log read to be made events at once (not rows to pass on, as
    `read_rows`), so its lead ids may be read as dictionaries (`_Read.leads_as_read`) and a
    CSV's times parsed by Arrow's reader (`_read_csv`): the records made are the same."""
    fmt = source_format(path, spec)
    try:
        if fmt == "csv" and columns is not None:
            read = _read_csv_columns(path, spec, columns)
        elif fmt == "csv":
            read = _read_csv(path, spec, keep_fields, as_events)
        elif fmt == "jsonl":
            read = _read_jsonl(path)
        else:
            read = _read_parquet(path, spec, keep_fields, as_events)
    except OSError as exc:
        raise HistoryError(f"{path}: cannot read the file ({exc.strerror or exc})\n"
                           f"  help: check that it exists and is readable") from None
    return read


_WIDE_TEXT = ((b"\xff\xfe\x00\x00", "UTF-32"), (b"\x00\x00\xfe\xff", "UTF-32"),
              (b"\xff\xfe", "UTF-16"), (b"\xfe\xff", "UTF-16"))


_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")  # a byte that is not UTF-8, surrogate-escaped


def _csv_header(path: Path) -> list[str]:
    with path.open("rb") as handle:
        start = handle.read(4)
    what = next((f"{name} text, not UTF-8" for mark, name in _WIDE_TEXT
                 if start.startswith(mark)), None)
    if what is None and b"\x00" in start:
        what = "not UTF-8 text (it holds NUL bytes: UTF-16 without its mark, or no text at all)"
    if what is not None:  # every other byte a NUL: the header would read as garbage
        raise HistoryError(f"{path}: the file is {what}\n  help: save it as UTF-8 (in "
                           f"Excel: CSV UTF-8; in Python: encoding=\"utf-8\")")
    with path.open(encoding="utf-8-sig", errors="surrogateescape", newline="") as handle:
        try:
            header = next(csv.reader(_bounded_lines(handle)), None)
        except csv.Error as exc:
            raise HistoryError(f"{path}: the header line is not CSV ({exc})\n  help: the first "
                               f"line must name the columns, separated by commas") from None
    if header == [_LINE_TOO_LONG]:
        raise HistoryError(f"{path}: the header line is longer than {MOST_LINE_BYTES:,} "
                           f"characters\n  help: the first line must name the columns, e.g. "
                           f"lead_id,at,event,actor")
    if not header or not any(name.strip() for name in header):
        raise HistoryError(f"{path}: the file is empty or has no header line\n  help: the "
                           f"first line must name the columns, e.g. lead_id,at,event,actor")
    for number, name in enumerate(header, 1):
        # (read with errors="surrogateescape": a byte that is not UTF-8 is a lone surrogate
        # here, and a U+FFFD written in the file a name like any other; Arrow's reader fails
        # on such a byte only when the name is asked for, and DuckDB drops a NUL)
        what = ("holds a NUL byte" if "\x00" in name else
                "is not UTF-8 text" if _ESCAPED_BYTE.search(name) else None)
        if what is not None:
            shown = _ESCAPED_BYTE.sub("?", name.replace("\x00", "\\0"))
            raise HistoryError(f"{path}: column {number} of the header ('{_clipped(shown)}') "
                               f"{what}\n  help: name every column in UTF-8 text (in Excel: "
                               f"save as CSV UTF-8)")
    width.check_columns(path, [restored(name) for name in header], "the header")
    return header


def _may_have_quotes(path: Path) -> bool:
    """Whether the file has a `"` at all: only then can a value span lines, and reading with
    `newlines_in_values` (slower) is needed to split it correctly. Searched in a memory map:
    no copy of the file is made to look."""
    with path.open("rb") as handle:
        if not os.fstat(handle.fileno()).st_size:
            return False
        with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
            return mapped.find(b'"') >= 0


def _odd_quotes(path: Path) -> bool:
    """Whether the file has an odd number of `"`: a quoted value that opens and never closes
    runs to the end of the file, and Arrow reads it so, keeping the rows after it as its text
    (quotes come in pairs otherwise, but for a quote inside an unquoted value: `24" screen`).
    Counted in pieces of a memory map, no copy of the file made."""
    with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0,
                                              access=mmap.ACCESS_READ) as mapped:
        data = np.frombuffer(mapped, dtype=np.uint8)
        try:
            step = 1 << 24
            return sum(int(np.count_nonzero(data[i:i + step] == ord('"')))
                       for i in range(0, len(data), step)) % 2 == 1
        finally:
            del data  # the map cannot close while an array still looks at it


_TEXT_DICT = pa.dictionary(pa.int32(), pa.string())
_EVENT_LOG_COLUMNS = frozenset({"lead_id", "at", "event", "actor"})


def _read_csv(path: Path, spec: SourceSpec,
              keep_fields: Collection[str] | None = None, as_events: bool = False) -> _Read:
    """`keep_fields` (an event log's field columns worth converting) spares Arrow converting
    the columns nobody reads; every column is still parsed, so a short row is still caught.

    `as_events` (an event log's own read) reads the lead ids as dictionaries, on all cores
    (`_Read.leads_as_read`), and, in a file without quotes, lets Arrow's reader parse `at`
    as timestamps, on all cores and without making strings of it, when the first rows show
    its form (`_csv_time_type`): the same ISO 8601 parser `_parse_times` casts text with,
    so the same instants. A value it refuses fails the read, which is then made again with
    `at` as text, and the rows are parsed and rejected as always. A rejected row's raw
    values show `at` as written: taken from its line (`_cells_of_rows`), or, failing that,
    from the file read again with `at` as text (`_Read.written`, `_Read.whole`)."""
    import pyarrow.csv as pcsv

    header = _csv_header(path)
    names = {name: restored(name) for name in header}  # as written -> as meant (`csv_cells`)
    wanted = None if keep_fields is None else [
        name for name in header if names[name] in _EVENT_LOG_COLUMNS or names[name] in keep_fields]
    if wanted is not None and len(wanted) < len(header) and not _unread_is_safe(path):
        wanted = None  # a column left unread could hide a row a whole read rejects
    types = _csv_types(spec, header, names)
    quotes = _may_have_quotes(path)
    if quotes and _odd_quotes(path):  # perhaps a quote never closed: only the slow reader
        return _read_csv_slowly(path, header)  # tells it from a quote inside a value
    as_events = as_events and not spec.wide and spec.mapping_path is None
    time_column = next((name for name in header if names[name] == spec.at), None) \
        if as_events else None
    time_type = None if time_column is None or quotes else _csv_time_type(path, time_column)
    if time_type is not None:
        types[time_column] = time_type
    if as_events:
        types.update({name: _TEXT_DICT for name in header if names[name] == spec.lead_id})
    convert = pcsv.ConvertOptions(
        column_types=types, strings_can_be_null=True, include_columns=wanted,
        null_values=[""], quoted_strings_can_be_null=True)
    parse = pcsv.ParseOptions(newlines_in_values=quotes)
    try:
        table = pcsv.read_csv(path, read_options=pcsv.ReadOptions(block_size=1 << 22),
                              parse_options=parse, convert_options=convert)
    except (pa.ArrowInvalid, UnicodeDecodeError):
        if time_type is not None:  # perhaps a time it refuses: `at` as text, parsed as always
            return _read_csv(path, spec, keep_fields)
        return _read_csv_slowly(path, header)  # a row of the wrong width, or not UTF-8
    table = _restored_table(table.rename_columns([names[n] for n in table.column_names]))
    rows = np.arange(1, table.num_rows + 1, dtype=np.int64)
    narrowed = wanted is not None and len(wanted) < len(header)
    if time_type is None and not narrowed:
        return _Read(path, table, rows, leads_as_read=as_events)

    # A rejected row shows every column as written: `at` typed, or columns not read, are
    # taken from its line (`_cells_of_rows`), or, failing that, from the file read again
    # with every column as text.
    def as_written() -> pa.Table:
        texts = pcsv.read_csv(path, read_options=pcsv.ReadOptions(block_size=1 << 22),
                              parse_options=parse, convert_options=pcsv.ConvertOptions(
                                  column_types=dict.fromkeys(header, pa.string()),
                                  strings_can_be_null=True, null_values=[""],
                                  quoted_strings_can_be_null=True))
        return _restored_table(texts.rename_columns([names[n] for n in texts.column_names]))

    def rows_written(wanted: np.ndarray) -> pa.Table | None:
        lines = _cells_of_rows(path, len(header), wanted + 1)
        if lines is None:
            return None
        # the lines found must be the rows read: their lead ids are compared
        lead = next(i for i, name in enumerate(header) if names[name] == spec.lead_id)
        ids = pc.cast(_taken(table, wanted).column(spec.lead_id), pa.string()).to_pylist()
        if [restored(cells[lead]) or None for cells in lines] != ids:
            return None
        return pa.table({names[name]: pa.array([restored(cells[i]) or None for cells in lines],
                                               pa.string())
                         for i, name in enumerate(header)})

    return _Read(path, table, rows, whole=as_written, leads_as_read=as_events,
                 written=None if quotes else rows_written)


def _cells_of_rows(path: Path, width: int, rows: np.ndarray) -> list[list[str]] | None:
    """The cells of these data rows (1-based) of a CSV file without quotes, as written: a
    rejected row's time, read typed, is shown as written without parsing the file again.
    Each line with something on it is a row there (lines end in LF or CRLF, as Arrow's
    reader splits them); None when a line could end otherwise (a lone CR) or a row is not
    `width` cells."""
    with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0,
                                              access=mmap.ACCESS_READ) as data:
        spans = _lines_of_rows(data, rows)
        if spans is None:
            return None
        cells = []
        for begin, end in spans:
            values = data[begin:end].decode("utf-8").split(",")
            if len(values) != width:
                return None
            cells.append(values)
    return cells


_SCAN = 1 << 24


def _lines_of_rows(data: mmap.mmap, rows: np.ndarray) -> list[tuple[int, int]] | None:
    """(start, end) of these data rows' lines (1-based: the header is line 0 of the lines
    with something on them), the text searched block by block for its line breaks up to the
    last row wanted; None when a CR alone ends a line or the rows are not all there."""
    size = len(data)
    carriage = data.find(b"\r") >= 0  # CRLF: a CR before LF is no part of the line
    wanted = np.unique(rows)
    found: dict[int, tuple[int, int]] = {}
    seen = 0  # lines with something on them before the block
    last = -1  # the last LF before the block
    for start in range(0, size, _SCAN):
        if len(found) == len(wanted):
            break
        block = np.frombuffer(data, np.uint8, count=min(_SCAN, size - start), offset=start)
        ends = np.flatnonzero(block == 10) + start
        returns = np.flatnonzero(block == 13) + start if carriage else None
        del block
        if start + _SCAN >= size and (not len(ends) or ends[-1] != size - 1):
            ends = np.append(ends, size)  # a last line without a break
        if returns is not None and len(returns) and not _crlf_only(data, returns):
            return None
        starts = np.r_[last + 1, ends[:-1] + 1]
        stops = ends.copy()
        if carriage and len(stops):
            stops -= (stops > starts) & _bytes_at(data, stops - 1, 13)
        full = np.flatnonzero(stops > starts)
        mine = wanted[(wanted >= seen) & (wanted < seen + len(full))]
        for row, line in zip(mine.tolist(), full[mine - seen].tolist(), strict=True):
            found[row] = (int(starts[line]), int(stops[line]))
        seen += len(full)
        if len(ends):
            last = int(ends[-1])
    if len(found) < len(wanted):
        return None
    return [found[row] for row in rows.tolist()]


def _crlf_only(data: mmap.mmap, returns: np.ndarray) -> bool:
    """Whether each of these CRs is followed by LF (a CR alone ends a line for Arrow)."""
    after = returns + 1
    return int(after[-1]) < len(data) and bool(_bytes_at(data, after, 10).all())


def _bytes_at(data: mmap.mmap, where: np.ndarray, byte: int) -> np.ndarray:
    view = np.frombuffer(data, np.uint8)
    found = view[np.clip(where, 0, len(data) - 1)] == byte
    del view
    return found


def _csv_time_type(path: Path, column: str) -> pa.DataType | None:
    """The timestamp type a CSV file's `column` (a file without quotes) reads as, told from
    its first rows: with an offset (UTC instants) or without (wall readings), or None when
    they are of neither form alone (mixed, or not times), to be read as text."""
    import pyarrow.csv as pcsv

    with path.open("rb") as handle:
        head = handle.read(1 << 16)
    head = head[: head.rfind(b"\n") + 1]
    try:
        texts = pcsv.read_csv(pa.BufferReader(head), convert_options=pcsv.ConvertOptions(
                column_types={column: pa.string()}, include_columns=[column],
                strings_can_be_null=True, null_values=[""],
                quoted_strings_can_be_null=True)).column(0)
    except (pa.ArrowInvalid, UnicodeDecodeError, KeyError):
        return None
    if texts.null_count == len(texts):
        return None
    for kind in (_AWARE, _NAIVE):
        try:
            pc.cast(texts, kind)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            continue
        return kind
    return None


def _csv_types(spec: SourceSpec, header: list[str], names: dict[str, str]
               ) -> dict[str, pa.DataType]:
    """Columns of few distinct values (events, actors, most fields) are dictionary-encoded
    while Arrow parses, on all cores; the lead id and times stay text."""
    plain = {spec.lead_id, spec.at, *spec.at_columns} | {wide.at for wide in spec.events}
    if spec.prepared:  # a CRM object: ids and times are many, only the coded columns few
        coded = spec.coded_columns()
        plain |= {names[name] for name in header if names[name] not in coded}
    return {name: pa.string() if names[name] in plain else _TEXT_DICT for name in header}


def _read_csv_columns(path: Path, spec: SourceSpec, columns: Collection[str]) -> _Read:
    """A CRM object's CSV with only `columns` converted (`SourceSpec.columns_read`): Arrow
    still parses every column, so a short row is still caught, but an export's long text
    (subjects, descriptions) is never turned into strings. Two rules hold over the columns
    not converted: a value of more than MOST_VALUE_BYTES rejects its row, and a rejected
    row's raw values show every column. So the columns are left out only when `_short_lines`
    shows no value can be that long and each line is one row; a reject's raw values read
    the file whole, once, when asked for (`_Read.whole`)."""
    import pyarrow.csv as pcsv

    header = _csv_header(path)
    names = {name: restored(name) for name in header}
    wanted = [name for name in header if names[name] in columns]
    if len(wanted) == len(header):
        return _read_csv(path, spec)
    convert = pcsv.ConvertOptions(
        column_types=_csv_types(spec, header, names), strings_can_be_null=True,
        include_columns=wanted,
        null_values=[""], quoted_strings_can_be_null=True)
    # The lines are counted on a second thread while Arrow parses (both without the GIL);
    # what they show is decided first, as if they had been counted before.
    with ThreadPoolExecutor(max_workers=1) as pool:
        counted = pool.submit(_short_lines, path)
        try:
            table = pcsv.read_csv(path, read_options=pcsv.ReadOptions(block_size=1 << 22),
                                  parse_options=pcsv.ParseOptions(
                                      newlines_in_values=_may_have_quotes(path)),
                                  convert_options=convert)
        except (pa.ArrowInvalid, UnicodeDecodeError):
            table = None
        _, lines = counted.result()
    if lines is None:
        return _read_csv(path, spec)
    if table is None:
        return _read_csv_slowly(path, header)  # a row of the wrong width, or not UTF-8
    if table.num_rows + 1 != lines:  # an empty line, or a value over lines: read it all
        return _read_csv(path, spec)
    table = _restored_table(table.rename_columns([names[n] for n in table.column_names]))
    return _Read(path, table, np.arange(1, table.num_rows + 1, dtype=np.int64),
                 whole=lambda: _read_csv(path, spec).table)


def _unread_is_safe(path: Path) -> bool:
    """Whether a CSV read without some of its columns rejects the rows a whole read does:
    every byte is UTF-8 and no line is long enough to hold a value over MOST_VALUE_BYTES (a
    line break in each aligned block of half that size), as `_short_lines` asks, without
    counting lines. The bytes are looked at in place: a file of ASCII (the usual export) costs
    one pass at memory speed, about 0.05 s for 400 MB; `sla ingest`, which reads every
    column, then rejects the same rows as `sla evaluate`."""
    size = path.stat().st_size
    if not size:
        return True
    block = MOST_VALUE_BYTES // 2
    with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0,
                                               access=mmap.ACCESS_READ) as data:
        if any(data.find(b"\n", start, start + block) < 0
               for start in range(0, size - size % block, block)):
            return False
        view = np.frombuffer(data, np.uint8)
        ascii_only = int(view.max()) < 128
        del view  # (the map cannot close while an array still reads it)
        if ascii_only:
            return True
        text = codecs.getincrementaldecoder("utf-8")()
        try:
            for start in range(0, size, 1 << 24):
                text.decode(data[start:start + (1 << 24)])
            text.decode(b"", final=True)
        except UnicodeDecodeError:
            return False
    return True


def _short_lines(path: Path) -> tuple[bool, int | None]:
    """(whether the file has a `"`, its count of lines with something on them when no line
    can hold a value of more than MOST_VALUE_BYTES and every byte is UTF-8, else None). A line
    is short when each aligned block of half that size holds a line break: then no two breaks
    are that far apart. Bytes that are not UTF-8 in a column left unread would pass a narrowed
    read and fail the whole one, which then has fewer rows (and ingest, which reads every
    column, rejects the row): such a file is read whole."""
    block = MOST_VALUE_BYTES // 2
    quotes = False
    breaks = 0
    tail = b""
    text = codecs.getincrementaldecoder("utf-8")()
    ascii_so_far = True
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 24):  # a multiple of `block`: blocks stay aligned
            ascii_so_far = ascii_so_far and int(np.frombuffer(chunk, np.uint8).max()) < 128
            if not ascii_so_far:
                try:  # (from the first byte past ASCII on: chunks before it decode alike)
                    text.decode(chunk)
                except UnicodeDecodeError:
                    return quotes, None
            quotes = quotes or b'"' in chunk
            breaks += int(np.count_nonzero(np.frombuffer(chunk, np.uint8) == 10))  # vectorised
            full = len(chunk) - len(chunk) % block
            if any(chunk.find(b"\n", start, start + block) < 0
                   for start in range(0, full, block)):
                return quotes, None
            tail = chunk[-64:]
    try:
        text.decode(b"", final=True)  # a character cut off by the end of the file
    except UnicodeDecodeError:
        return quotes, None
    ending = len(tail) - len(tail.rstrip(b"\r\n"))
    trailing = tail[len(tail) - ending:].count(b"\n") if ending else 0
    lines = breaks - trailing + 1 if trailing else breaks + 1  # empty last lines are no lines
    return quotes, lines


def _restored_table(table: pa.Table) -> pa.Table:
    """`csv_cells.restored` on every text cell: a `'=x` the tool (or a careful CRM) wrote to
    keep a spreadsheet from running it reads as `=x`. Cells starting with a quote are rare, so
    a column without one is left as it is, and a dictionary column is fixed in its dictionary
    (then encoded again, as two codes may now read the same)."""
    columns = []
    for column in table.columns:
        kind = column.type
        coded = pa.types.is_dictionary(kind)
        texts = [c.dictionary for c in column.chunks] if coded else column.chunks
        if not pa.types.is_string(kind.value_type if coded else kind) or not any(
                pc.any(pc.starts_with(text, "'")).as_py() for text in texts):
            columns.append(column)
            continue
        values = pc.cast(column, kind.value_type) if coded else column
        values = pc.replace_substring_regex(values, QUOTED_PATTERN, r"\1")
        columns.append(pc.dictionary_encode(values) if coded else values)
    return pa.table(columns, names=table.column_names)


_LINE_TOO_LONG = "\x00a line longer than the limit\x00"
_BLANK_ROW = "row is blank (only spaces, tabs or an empty quoted value)"
_BLANK_LINE = re.compile(rb"^[ \t\f\v]+\r?$", re.MULTILINE)
_LINE_STARTS_BLANK = re.compile(rb"\n[ \t\f\v]")


def _bounded_lines(handle) -> Iterator[str]:
    """The file's lines for the csv module, each read with a limit: a line longer than
    MOST_LINE_BYTES characters is skipped to its end and stands as `_LINE_TOO_LONG`, so that a
    line of a gigabyte is never held in memory."""
    while line := handle.readline(MOST_LINE_BYTES + 1):
        if len(line) > MOST_LINE_BYTES and not line.endswith(("\n", "\r")):
            while (rest := handle.readline(1 << 20)) and not rest.endswith(("\n", "\r")):
                pass
            yield _LINE_TOO_LONG + "\n"
        else:
            yield line


class _RecordLines:
    """The lines the csv module reads, keeping those of the record being read (a quoted value
    may span lines), so that a record read to the end of the file can be asked whether it
    ended inside a quote. At most a value's limit of them is kept: a longer value is refused
    by the csv module's field limit first."""

    def __init__(self, lines: Iterator[str]) -> None:
        self._lines = lines
        self.read = 0
        self.first = 1  # the line the record being read starts on (1: the header)
        self._record: list[str] = []
        self._ended = False

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        try:
            line = next(self._lines)
        except StopIteration:
            self._ended = True
            raise
        self.read += 1
        self._record.append(line)
        return line

    def begin(self) -> None:
        self.first = self.read + 1
        self._record = []

    def skip_quoted(self) -> bool:
        """After the csv module refused a record for a value over its limit, read on to the
        line where that value's quote closes, so that the next record starts after it (the
        csv module starts afresh on the next line, inside the value, and its closing quote
        then read as a quote opened and never closed). False when the file ends first."""
        quotes = sum(line.count('"') for line in self._record)
        self._record = []
        while quotes % 2:
            try:
                line = next(self._lines)
            except StopIteration:
                self._ended = True
                return False
            self.read += 1
            quotes += line.count('"')
        return True

    def unclosed(self) -> bool:
        """Whether the record just read ran to the end of the file inside a quote (the csv
        module's strict mode says so; its lenient one, which reads the rest, does not)."""
        if not self._ended:
            return False
        try:
            list(csv.reader(self._record, strict=True))
        except csv.Error as error:
            return "unexpected end of data" in str(error)
        return False


def _never_closed(path: Path, line: int) -> str:
    return (f"{path}: line {line}: a quoted value opens here and is never closed, so every "
            f"line after it would be its text\n  help: close the quote, or write a quote "
            f"inside a value twice (\"\")")


def _read_csv_slowly(path: Path, header: list[str]) -> _Read:
    """Row by row with the csv module: exact row numbers, and the rows Arrow refused become
    rejects (wrong number of values, bytes that are not UTF-8, a value or line too long)."""
    # A value up to a line's limit is read, so that its row keeps its cells and is rejected
    # per record by the value's limit (`_oversize_rows`), as when Arrow or DuckDB read it; only
    # a longer one (a quoted value over many lines) is refused here, its cells not read.
    csv.field_size_limit(MOST_LINE_BYTES)
    columns: list[list[str | None]] = [[] for _ in header]
    rows: list[int] = []
    broken: list[Reject] = []
    number = 0
    with path.open(encoding="utf-8-sig", errors="surrogateescape", newline="") as handle:
        lines = _RecordLines(_bounded_lines(handle))
        reader = csv.reader(lines)
        next(reader, None)
        while True:
            lines.begin()
            try:
                values = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                if "field limit" not in str(exc):
                    raise HistoryError(f"{path}: line {reader.line_num}: not CSV ({exc})\n"
                                       f"  help: check the quotes on that line") from None
                first = lines.first
                if not lines.skip_quoted():
                    raise HistoryError(_never_closed(path, first)) from None
                number += 1
                spread = lines.read - first
                broken.append(Reject(str(path), number, f"a value is longer than "
                                     f"{MOST_LINE_BYTES:,} bytes; longer values are not read"
                                     + (f" (a quoted value from line {first} over "
                                        f"{spread + 1:,} lines)" if spread else ""), {}))
                continue
            if not values:
                continue  # an empty line: no row, as Arrow reads it
            if lines.unclosed():
                raise HistoryError(_never_closed(path, lines.first))
            number += 1
            reason = None
            if len(values) > len(header) and not any(values[len(header):]):
                # trailing commas (a spreadsheet's, of columns it once had): nothing in them,
                # and DuckDB's reader (`sla ingest`'s) takes the row without them too
                values = values[:len(header)]
            if len(values) == 1 and not values[0].strip() and len(header) > 1:
                reason = _BLANK_ROW
            elif values == [_LINE_TOO_LONG]:
                values = []
                reason = (f"line is longer than {MOST_LINE_BYTES:,} characters; longer lines "
                          f"are not read")
            elif any(_not_utf8(v) for v in values):
                values = [_repaired(v) for v in values]
                reason = "row is not valid UTF-8 text"
            elif len(values) != len(header):
                reason = (f"row has {len(values)} value{'s' * (len(values) != 1)}; the header "
                          f"has {len(header)} columns")
            if reason:
                raw = {name: (values[i] if i < len(values) else "")
                       for i, name in enumerate(header)}
                raw.update({f"column {i + 1}": v for i, v in enumerate(values)
                            if i >= len(header)})
                broken.append(Reject(str(path), number, reason, raw))
                continue
            rows.append(number)
            for column, value in zip(columns, values, strict=True):
                column.append(restored(value) or None)
    table = pa.table({restored(name): pa.array(col, pa.string())
                      for name, col in zip(header, columns, strict=True)})
    return _Read(path, table, np.array(rows, dtype=np.int64), broken)


def _not_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _repaired(text: str) -> str:
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _read_jsonl(path: Path) -> _Read:
    import pyarrow.json as pj

    data = path.read_bytes()
    if data.startswith(_BOM):
        data = data[len(_BOM):]
    if _may_be_unbounded(data) or _has_blank_line(data) or _NULL_LINE.search(data):
        return _read_jsonl_slowly(path, data)
    try:
        # Infer the columns from the first lines, then read everything with text columns as
        # text: left to itself Arrow would turn `at` into timestamps and drop the offsets.
        # Keys the first lines do not name are read only once the whole file's keys are
        # counted (`width`): lines x keys is the table Arrow builds.
        head = data[: 1 << 20]
        head = head[: head.rfind(b"\n") + 1] or data
        width.check_json_keys(path, data, head)
        sample = pj.read_json(pa.BufferReader(head)).schema if head.strip() else pa.schema([])
        explicit = pa.schema([
            pa.field(f.name, f.type if _plain_scalar(f.type) else pa.string()) for f in sample])
        width.check_json_shape(path, width.line_count(data), len(explicit), data)
        try:
            table = _json_table(data, explicit, "error")
        except pa.ArrowInvalid as exc:
            if "unexpected field" not in str(exc):
                raise
            width.check_json_keys(path, data)
            table = _json_table(data, explicit, "infer")
        if any(not (_plain_scalar(f.type) or pa.types.is_string(f.type)) for f in table.schema):
            raise _SlowPath
        table.validate(full=True)  # Arrow's JSON reader takes a value's bytes unchecked
        table = _as_text(table)
    except (pa.ArrowInvalid, _SlowPath, UnicodeDecodeError):
        # text that is not UTF-8 (a value, or a key, whose name Arrow decodes only when asked
        # for it) fails here, and the slow path rejects its line
        return _read_jsonl_slowly(path, data)
    return _Read(path, table, np.arange(1, table.num_rows + 1, dtype=np.int64))


def _json_table(data: bytes, explicit: pa.Schema, unexpected: str) -> pa.Table:
    import pyarrow.json as pj

    return pj.read_json(pa.BufferReader(data), parse_options=pj.ParseOptions(
        explicit_schema=explicit, unexpected_field_behavior=unexpected))


class _SlowPath(Exception):
    pass


# A line that is JSON's `null` alone: Arrow's JSON reader (pyarrow 26) ends the process with
# a segmentation fault on a block that starts with one, so such a file is read line by line,
# where the line is rejected as "a single value, not a JSON object".
_NULL_LINE = re.compile(rb"(?:^|\n)[ \t\r]*null[ \t\r]*(?:\n|$)")


def _has_blank_line(data: bytes) -> bool:
    """Whether a line holds only spaces or tabs (a row the slow path rejects as blank); Arrow
    would skip it uncounted. Such a line starts with a space or tab: one search for that (a
    literal `\n` first, which the regex engine scans for quickly) rules out almost every
    file before the exact pattern looks."""
    if not data.startswith((b" ", b"\t", b"\f", b"\v")) and not _LINE_STARTS_BLANK.search(data):
        return False
    return _BLANK_LINE.search(data) is not None


def _may_be_unbounded(data: bytes) -> bool:
    """Whether some line may be nested deeper than a record may be: a line nests no deeper than
    it has `[` and `{`. Most files have one `{` a line and no `[`, which three counts at C
    speed tell; otherwise the openers are counted line by line (brackets inside strings, such
    as a title "[VP] Sales", keep a file on the fast path). The slow path then measures each
    suspect line. (A line longer than Arrow's block sends Arrow to the slow path by itself.)"""
    lines = data.count(b"\n") + 1
    if data.count(b"{") + data.count(b"[") - lines < MOST_JSON_DEPTH - 1:
        return False
    raw = np.frombuffer(data, dtype=np.uint8)
    opens = np.flatnonzero((raw == ord("[")) | (raw == ord("{")))
    line_of = np.searchsorted(np.flatnonzero(raw == ord("\n")), opens)
    return int(np.bincount(line_of).max()) > MOST_JSON_DEPTH


def _json_depth(line: bytes) -> int:
    """How deep the line's arrays and objects nest, without parsing it (strings, which may hold
    brackets, are skipped); only called on lines with many brackets."""
    import numpy as np

    bare = np.frombuffer(_JSON_STRING.sub(b'""', line), dtype=np.uint8)
    step = (bare == ord("[")).astype(np.int32) + (bare == ord("{"))
    step -= (bare == ord("]")).astype(np.int32) + (bare == ord("}"))
    return int(np.cumsum(step).max(initial=0))


def _unbounded_line(line: bytes) -> str | None:
    """Why a JSON Lines line is not read (too long, nested too deep), or None."""
    if len(line) > MOST_LINE_BYTES:
        return (f"line is {len(line):,} bytes long; lines of more than {MOST_LINE_BYTES:,} "
                f"bytes are not read")
    if line.count(b"[") + line.count(b"{") > MOST_JSON_DEPTH:
        depth = _json_depth(line)
        if depth > MOST_JSON_DEPTH:
            return (f"line nests arrays or objects {depth:,} deep; records nested more than "
                    f"{MOST_JSON_DEPTH} deep are not read")
    return None


def _plain_scalar(kind: pa.DataType) -> bool:
    """Types Arrow infers from JSON that turn back into the same text: numbers and booleans."""
    return pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind)


def _as_text(table: pa.Table, keep: Sequence[str] = ()) -> pa.Table:
    if not table.num_columns:  # records of no keys (`{}`): rows all the same, to be counted
        return table
    columns = []
    for name, column in zip(table.column_names, table.columns, strict=True):
        if name in keep or pa.types.is_string(column.type) or pa.types.is_dictionary(
                column.type):
            columns.append(column)
        elif pa.types.is_null(column.type):
            columns.append(pa.chunked_array([pa.nulls(len(column), pa.string())]))
        else:
            columns.append(pc.cast(column, pa.string()))
    return pa.table(columns, names=table.column_names)


def _json_text(value: object) -> str | None:
    if value is None or isinstance(value, str):
        return value or None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _read_jsonl_slowly(path: Path, data: bytes) -> _Read:
    columns: dict[str, list[str | None]] = {}
    rows: list[int] = []
    broken: list[Reject] = []
    number = 0
    for line in data.split(b"\n"):
        if line in (b"", b"\r"):
            continue  # an empty line: no record, as Arrow reads it
        number += 1
        reason = _unbounded_line(line) or (None if line.strip() else _BLANK_ROW)
        if reason is not None:
            broken.append(Reject(str(path), number, reason, {"line": _clipped(line.strip())}))
            continue
        try:
            text = line.decode("utf-8")
            value = json.loads(text)
        except UnicodeDecodeError:
            text, reason = line.decode("utf-8", "replace"), "line is not valid UTF-8 text"
        except json.JSONDecodeError as exc:
            reason = f"line is not valid JSON: {exc.msg} at character {exc.colno}"
        except ValueError:  # Python's own limit on a number's digits (its help is Python's)
            reason = ("line holds a number of more than 4,300 digits, longer than any amount "
                      "or score: write it as a string if it is an id")
        else:
            if not isinstance(value, dict):
                kind = {list: "an array", str: "a string"}.get(type(value), "a single value")
                reason = f"line is {kind}, not a JSON object"
            elif _HALF_SURROGATE.search(line) and _not_utf8(
                    json.dumps(value, ensure_ascii=False)):
                reason = ("line escapes half of a surrogate pair (\\ud800 to \\udfff alone), "
                          "which is no character")
        if reason:
            broken.append(Reject(str(path), number, reason, {"line": text.strip()}))
            continue
        count = len(rows)
        for key, item in value.items():
            column = columns.get(key)
            if column is None:
                width.check_json_shape(path, count + 1, len(columns) + 1, data)
                column = columns[key] = [None] * count
            column.append(_json_text(item))
        rows.append(number)
        if count % 1024 == 0:
            width.check_json_shape(path, count + 1, len(columns), data)
        for column in columns.values():
            if len(column) == count:
                column.append(None)
    table = pa.table({k: pa.array(v, pa.string()) for k, v in columns.items()})
    return _Read(path, table, np.array(rows, dtype=np.int64), broken)


_HALF_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]")  # where json.loads may make a lone one


_CLIPPED = re.compile(r"\.\.\. \([\d,]+ (?:bytes|characters)\)\Z")  # `_clipped`'s mark


def _clipped(raw: bytes | str, keep: int = 200) -> str:
    """A value as a reject shows it: whole when short, else its start and its size, so that a
    rejected line of 100 MB is not copied into every report of it."""
    if len(raw) <= MOST_VALUE_BYTES:
        return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    start = raw[:keep]
    if isinstance(start, bytes):
        start = start.decode("utf-8", "replace")
    return f"{start}... ({len(raw):,} {'bytes' if isinstance(raw, bytes) else 'characters'})"


def _read_parquet(path: Path, spec: SourceSpec,
                  keep_fields: Collection[str] | None = None, as_events: bool = False) -> _Read:
    """`keep_fields` (an event log's field columns worth reading) lets the file be read with
    only the columns its records need (`_parquet_projection`): a column Parquet stores apart
    is a column never decoded."""
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(path)
        width.check_columns(path, schema.names, "the schema")
        projection = _parquet_projection(schema, spec, keep_fields)
        # An event log's lead ids written as text are read as each row group's dictionary
        # (`_Read.leads_as_read`); a mapping's sources keep theirs as text. (Ids written as a
        # dictionary are read as one, and keep that dictionary's order.)
        leads = schema.get_all_field_indices(spec.lead_id)
        leads_coded = as_events and spec.mapping_path is None and not spec.wide \
            and len(leads) == 1 and pa.types.is_string(schema.field(leads[0]).type)
        plain = {spec.at} | {wide.at for wide in spec.events} | (
            set() if leads_coded else {spec.lead_id})
        text = [f.name for f in schema if f.name not in plain
                and (pa.types.is_string(f.type) or pa.types.is_large_string(f.type))
                and (projection is None or f.name in projection)]
        oversize = None
        if projection is None:
            table = pq.read_table(path, read_dictionary=text)
        else:
            table = pq.read_table(path, columns=projection, read_dictionary=text)
            oversize = _unread_oversize(path, schema, projection)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError) as exc:
        raise HistoryError(f"{path}: not a readable Parquet file ({exc})\n  help: write it "
                           f"with pyarrow, pandas or DuckDB") from None
    table = _parquet_text(path, spec, table)
    leads_coded = leads_coded and table.column(spec.lead_id).type == _TEXT_DICT
    rows = np.arange(1, table.num_rows + 1, dtype=np.int64)
    if projection is None:
        return _Read(path, table, rows, leads_as_read=leads_coded)
    # a rejected row's raw values name every column, as a whole read shows them
    return _Read(path, table, rows, oversize=oversize,
                 whole=lambda: _read_parquet(path, spec).table, leads_as_read=leads_coded)


def _leads_as_read(column: pa.ChunkedArray) -> _Coded:
    """Lead ids read as dictionaries (a CSV block's own, or a Parquet row group's, which its
    chunks share) coded as `_encode` codes them from text, numbered in the order they first
    appear: the ids are hashed once per dictionary instead of once per row, and the reader
    hashed the rows on all cores. A dictionary lists its values in the order they came, so
    that order is usually already the one; it is checked, and the codes numbered again when
    it is not."""
    groups: list[tuple[pa.Array, list[pa.Array]]] = []  # (dictionary, its chunks' indices)
    for chunk in column.chunks:
        if groups and shares_one_dictionary(pa.chunked_array([groups[-1][0], chunk])):
            groups[-1][1].append(chunk.indices)
        else:
            groups.append((chunk, [chunk.indices]))
    dictionaries = [chunk.dictionary for chunk, _ in groups]
    lookups, dictionary = _merge_in_order(dictionaries) or _merge(dictionaries)
    codes = _concat([lookup[_int_codes(indices, sum(len(i) for i in indices))]
                     for (_, indices), lookup in zip(groups, lookups, strict=True)], np.int32)
    if len(codes) and not _numbered_as_seen(codes):
        codes, dictionary = _numbered_as_seen_again(codes, dictionary)
    return _blank_as_none(codes, dictionary, names=True)


def _merge_in_order(dictionaries: list[pa.Array]) -> tuple[list[np.ndarray], pa.Array] | None:
    """`_merge` of dictionaries of ids in ascending ranges (each one's least id at least the
    greatest before it: a file sorted by lead id, cut in blocks or row groups), without
    hashing: such dictionaries share at most the id where one range ends and the next begins,
    found by comparing ranges. None when the ranges overlap more."""
    lookups: list[np.ndarray] = []
    pieces: list[pa.Array] = []
    size = 0
    top: tuple[str, int] | None = None  # the greatest id so far, and its merged code
    for values in dictionaries:
        n = len(values)
        if not n:
            lookups.append(np.array([-1], dtype=np.int32))
            continue
        if values.null_count or not pa.types.is_string(values.type):
            return None
        least, most = (bound.as_py() for bound in pc.min_max(values).values())
        if top is None or least > top[0]:
            lookup = np.arange(size, size + n, dtype=np.int32)
            pieces.append(values)
            size += n
        elif least == top[0]:  # the id the last range ended with, and new ids
            shared = pc.index(values, least).as_py()
            lookup = np.empty(n, dtype=np.int32)
            lookup[:shared] = np.arange(size, size + shared)
            lookup[shared] = top[1]
            lookup[shared + 1:] = np.arange(size + shared, size + n - 1)
            pieces += [values.slice(0, shared), values.slice(shared + 1)]
            size += n - 1
        else:
            return None
        top = (most, int(lookup[pc.index(values, most).as_py()]))
        lookups.append(np.append(lookup, np.int32(-1)))
    if not pieces:
        return None
    return lookups, pa.concat_arrays(pieces)


def _numbered_as_seen(codes: np.ndarray) -> bool:
    """Whether every code (-1: none) first appears after every smaller one: the highest code
    so far never grows by more than one."""
    highest = np.maximum.accumulate(codes)
    return int(highest[0]) <= 0 and not (np.diff(highest) > 1).any()


def _numbered_as_seen_again(codes: np.ndarray, dictionary: pa.Array
                            ) -> tuple[np.ndarray, pa.Array]:
    """Codes numbered again in the order they first appear (values never used last)."""
    first = np.full(len(dictionary), len(codes), dtype=np.int64)
    present = np.flatnonzero(codes >= 0)
    np.minimum.at(first, codes[present], present)
    order = np.argsort(first, kind="stable")
    renumber = np.empty(len(order) + 1, dtype=np.int32)
    renumber[order] = np.arange(len(order), dtype=np.int32)
    renumber[-1] = -1
    return renumber[codes], dictionary.take(pa.array(order))


def _parquet_projection(schema: pa.Schema, spec: SourceSpec,
                        keep_fields: Collection[str] | None) -> list[str] | None:
    """The columns to read of an event log's Parquet file, or None to read it whole: without
    `keep_fields`, when every column is needed, when a required column is missing (its error
    lists the file's columns) or when a column left out could still make the read fail or a
    row be rejected in a way its type does not bound (binary that may not be UTF-8, nested
    values, duplicated names)."""
    if keep_fields is None or spec.mapping_path is not None or spec.wide:
        return None
    names = schema.names
    if len(set(names)) != len(names) or not {spec.lead_id, spec.at, spec.event} <= set(names):
        return None
    wanted = {spec.lead_id, spec.at, spec.event, spec.actor, *keep_fields}
    projection = [name for name in names if name in wanted]
    if len(projection) == len(names):
        return None
    for item in schema:
        if item.name not in wanted and not _short_or_text(item.type):
            return None
    return projection


def _short_or_text(kind: pa.DataType) -> bool:
    """Types whose values read as text that is either checked (`_unread_oversize`) or short:
    strings, dictionaries of strings, numbers, booleans, dates and times."""
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    return (pa.types.is_string(kind) or pa.types.is_large_string(kind)
            or pa.types.is_integer(kind) or pa.types.is_floating(kind)
            or pa.types.is_boolean(kind) or pa.types.is_date(kind)
            or pa.types.is_timestamp(kind) or pa.types.is_null(kind))


def _unread_oversize(path: Path, schema: pa.Schema, projection: list[str]
                     ) -> np.ndarray | None:
    """Per row, whether a text value in a column not read is longer than MOST_VALUE_BYTES
    (None when none is), as a whole read would reject it. A column chunk whose pages hold at
    most MOST_VALUE_BYTES before compression cannot hold such a value (a value is stored
    whole in a dictionary or data page, or as a suffix of one stored before it), so only the
    text columns with a larger chunk are read, as dictionaries, to look."""
    import pyarrow.parquet as pq

    metadata = pq.read_metadata(path)
    leaf = {metadata.schema.column(i).path: i for i in range(metadata.num_columns)}
    look = []
    for item in schema:
        kind = item.type.value_type if pa.types.is_dictionary(item.type) else item.type
        if item.name in projection or not (pa.types.is_string(kind)
                                           or pa.types.is_large_string(kind)):
            continue
        column = leaf.get(item.name)
        if column is None or any(
                metadata.row_group(g).column(column).total_uncompressed_size > MOST_VALUE_BYTES
                for g in range(metadata.num_row_groups)):
            look.append(item.name)
    if not look:
        return None
    return _oversize_rows(pq.read_table(path, columns=look, read_dictionary=look))


def _parquet_text(path: Path, spec: SourceSpec, table: pa.Table) -> pa.Table:
    """A Parquet table's columns as the records read them: text (dictionary-encoded where it
    was), times kept typed; a column that cannot be text is a `HistoryError`."""
    times = {wide.at for wide in spec.events} | {spec.at}
    keep = [n for n, col in zip(table.column_names, table.columns, strict=True)
            if n in times and (pa.types.is_timestamp(col.type) or pa.types.is_date(col.type))]
    converted = []
    for name, column in zip(table.column_names, table.columns, strict=True):
        kind = column.type
        if pa.types.is_dictionary(kind) and not (pa.types.is_string(kind.value_type)
                                                 or pa.types.is_large_string(kind.value_type)):
            column = pc.cast(column, kind.value_type)
            kind = column.type
        epoch = EPOCH_MS in spec.datetime_formats and pa.types.is_integer(kind)
        if name in times and not (pa.types.is_string(kind) or pa.types.is_large_string(kind)
                                  or pa.types.is_dictionary(kind) or name in keep or epoch):
            raise HistoryError(f"{path}: column `{name}` holds {kind}, not times\n  help: "
                               f"write times as ISO 8601 text (2026-03-02T09:30:00+01:00) or "
                               f"as a timestamp or date column; numbers of milliseconds since "
                               f"1970 read with datetime_format = \"epoch_ms\" in a mapping")
        if pa.types.is_dictionary(kind):
            pass  # text, already encoded: `_encode` takes it as it is
        elif pa.types.is_large_string(kind) or pa.types.is_binary(kind) \
                or pa.types.is_large_binary(kind):
            try:
                column = pc.cast(column, pa.string())
            except pa.ArrowInvalid:
                raise HistoryError(f"{path}: column `{name}` is not UTF-8 text\n  help: "
                                   f"write text columns as UTF-8 strings") from None
        elif pa.types.is_nested(kind):
            raise HistoryError(f"{path}: column `{name}` holds {kind}, not single values\n"
                               f"  help: write one value per cell (text, number, date)")
        converted.append(column)
    return _as_text(pa.table(converted, names=table.column_names), keep)


# ============================================================================ timestamps


def _parse_times(column: pa.ChunkedArray | pa.Array, zone: ZoneInfo
                 ) -> tuple[np.ndarray, np.ndarray]:
    """`at` values as (µs since the epoch UTC, ok). Nulls and unparseable text are not ok."""
    if pa.types.is_dictionary(column.type):
        column = pc.cast(column, column.type.value_type)
    if pa.types.is_large_string(column.type):
        column = pc.cast(column, pa.string())
    kind = column.type
    n = len(column)
    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    values = np.zeros(n, dtype=np.int64)
    naive = np.zeros(n, dtype=bool)
    ok = np.zeros(n, dtype=bool)
    if pa.types.is_timestamp(kind) or pa.types.is_date(kind):
        target = pa.timestamp("us", "UTC" if getattr(kind, "tz", None) else None)
        parsed = pc.cast(pc.cast(column, pa.timestamp("us")) if pa.types.is_date(kind)
                         else column, target)
        ok = ~_nulls(parsed) if parsed.null_count else np.ones(n, dtype=bool)
        values = _int64(parsed)
        naive[:] = target.tz is None
    else:
        start = 0
        first_try = True
        for chunk in chunks:
            end = start + len(chunk)
            v, z, k, first_try = _parse_chunk(chunk, first_try)
            values[start:end], naive[start:end], ok[start:end] = v, z, k
            start = end
    ok = _within(values, ok, _MIN_WALL_US, _MAX_WALL_US)
    if naive.any():
        values[naive & ok] = resolve_walls(values[naive & ok], zone)
    return values, _within(values, ok, EARLIEST_US, LATEST_US)


def _within(values: np.ndarray, ok: np.ndarray, low: int, high: int) -> np.ndarray:
    """`ok` and `low <= values <= high`; the usual case, every value within, told by the
    least and the greatest."""
    if len(values) and int(values.min()) >= low and int(values.max()) <= high:
        return ok
    return ok & (values >= low) & (values <= high)


def _nulls(array: pa.ChunkedArray | pa.Array) -> np.ndarray:
    return np.asarray(pc.is_null(array))


def _int64(array: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Timestamp/integer values as a writeable int64 array (0 where null), copied once from
    Arrow's buffers chunk by chunk (no filled or combined copy in between)."""
    cast = pc.cast(array, pa.int64())
    chunks = cast.chunks if isinstance(cast, pa.ChunkedArray) else [cast]
    return _filled(chunks, len(cast), np.int64, 0)


def _filled(chunks: Sequence[pa.Array], n: int, dtype, null) -> np.ndarray:
    """Integer chunks as one new numpy array of `dtype`, `null` where a value is null."""
    out = np.empty(n, dtype=dtype)
    start = 0
    for chunk in chunks:
        end = start + len(chunk)
        if end == start:
            continue
        out[start:end] = chunk.to_numpy(zero_copy_only=False) if chunk.null_count == 0 \
            else np.asarray(chunk.fill_null(null))
        start = end
    return out


_AWARE = pa.timestamp("us", "UTC")
_NAIVE = pa.timestamp("us")


def _parse_chunk(chunk: pa.Array, aware_first: bool):
    """One chunk of `at` text: Arrow's cast of the whole chunk when it can (all with offsets,
    or all without: the usual case, and the fastest), else `_parse_texts`."""
    order = (_AWARE, _NAIVE) if aware_first else (_NAIVE, _AWARE)
    for target in order:
        try:
            parsed = pc.cast(chunk, target)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            continue
        n = len(chunk)
        return (_int64(parsed), np.full(n, target.tz is None), ~_nulls(parsed),
                target.tz is not None)
    values, naive, ok = _parse_texts(chunk)
    return values, naive, ok, aware_first


def _digits(texts: pa.Array, start: int, stop: int) -> np.ndarray:
    return _int64(pc.cast(pc.utf8_slice_codeunits(texts, start, stop), pa.int64()))


def _parse_texts(chunk: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`parse_time` for a whole array, in Arrow string kernels and numpy: (values, naive, ok).

    For chunks Arrow's cast refuses: mixed offsets and none, lowercase `t`/`z`, decimal commas,
    nanoseconds, `24:00`, or some bad rows among good ones (a file of 03/02/2026 dates must not
    be parsed row by row)."""
    n = len(chunk)
    values = np.zeros(n, dtype=np.int64)
    naive = np.zeros(n, dtype=bool)
    ok = np.zeros(n, dtype=bool)
    texts = pc.utf8_trim_whitespace(chunk)
    shaped = np.asarray(pc.fill_null(pc.match_substring_regex(texts, TIME_PATTERN), False))
    if not shaped.any():
        return values, naive, ok
    where = np.flatnonzero(shaped)
    if len(where) < n:
        texts = texts.take(pa.array(where))
    # Every text is now YYYY-MM-DD, optionally followed by [Tt ] clock and zone.
    year, month, day = _digits(texts, 0, 4), _digits(texts, 5, 7), _digits(texts, 8, 10)
    rest = pc.utf8_slice_codeunits(texts, 11)
    clock = pc.utf8_rpad(pc.replace_substring_regex(rest, r"[Zz+-].*$", ""), 9, "0")
    hour, minute, second = _digits(clock, 0, 2), _digits(clock, 3, 5), _digits(clock, 6, 8)
    fraction = _digits(pc.utf8_rpad(pc.utf8_slice_codeunits(clock, 9), 6, "0"), 0, 6)
    zone = pc.replace_substring_regex(rest, r"^[^Zz+-]*", "")
    has_zone = np.asarray(pc.not_equal(zone, ""))
    offset_text = pc.utf8_rpad(pc.replace_substring(zone, ":", ""), 5, "0")  # Z is Z0000
    sign = np.where(np.asarray(pc.starts_with(zone, "-")), -1, 1)
    offset_hours, offset_minutes = _digits(offset_text, 1, 3), _digits(offset_text, 3, 5)

    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    month_days = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31, 0])
    good = (year >= 1) & (month >= 1) & (month <= 12) & (day >= 1)
    good &= day <= month_days[np.clip(month, 0, 13)] + (leap & (month == 2))
    good &= (hour < 24) | ((hour == 24) & (minute == 0) & (second == 0) & (fraction == 0))
    good &= (minute <= 59) & (second <= 59) & (offset_hours <= 23) & (offset_minutes <= 59)

    # days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil)
    y = year - (month <= 2)
    era = np.floor_divide(y, 400)
    yoe = y - era * 400
    doy = (153 * (month + np.where(month > 2, -3, 9)) + 2) // 5 + day - 1
    days = era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468
    seconds = ((days * 24 + hour) * 60 + minute) * 60 + second
    seconds -= sign * (offset_hours * 60 + offset_minutes) * 60
    values[where] = seconds * US_PER_SECOND + fraction
    naive[where] = ~has_zone
    ok[where] = good
    return values, naive, ok


# ============================================================================ records


@dataclass
class _Coded:
    """A text column as codes into a dictionary of its distinct values (-1: no value)."""

    codes: np.ndarray
    dictionary: pa.Array

    def take(self, index: np.ndarray) -> _Coded:
        return _Coded(self.codes[index], self.dictionary)


def _encode(column: pa.ChunkedArray | pa.Array, *, names: bool = False) -> _Coded:
    """Dictionary-encode text; the empty string and whitespace-only text become no value
    (`names`: see `_blank_as_none`)."""
    n = len(column)
    if n == 0 or column.null_count == n:
        return _Coded(np.full(n, -1, dtype=np.int32), pa.array([], pa.string()))
    if pa.types.is_dictionary(column.type):
        encoded = (column.unify_dictionaries() if isinstance(column, pa.ChunkedArray)
                   and not shares_one_dictionary(column) else column)
        chunks = encoded.chunks if isinstance(encoded, pa.ChunkedArray) else [encoded]
        if pa.types.is_large_string(column.type.value_type):
            chunks = [pa.DictionaryArray.from_arrays(c.indices, pc.cast(c.dictionary,
                                                                         pa.string()))
                      for c in chunks]
    else:
        encoded = pc.dictionary_encode(column)
        chunks = encoded.chunks if isinstance(encoded, pa.ChunkedArray) else [encoded]
    dictionary = chunks[-1].dictionary  # one growing dictionary, shared by every chunk
    return _blank_as_none(_int_codes([c.indices for c in chunks], n), dictionary, names=names)


def _blank_as_none(codes: np.ndarray, dictionary: pa.Array, *, names: bool = False
                   ) -> _Coded:
    """Codes of the empty string and whitespace-only text as no value (-1). With `names` (a
    lead id, an actor: who or what a row is about, not a value it carries), text with spaces
    around it is coded as the text without them, as an event name is read: `L1 ` is lead
    `L1`, whatever a spreadsheet left behind. The values are compared once each, not per
    row, and codes keep the order their values first appear in."""
    if not len(dictionary):
        return _Coded(codes, dictionary)
    blank = np.asarray(pc.or_(pc.utf8_is_space(dictionary), pc.equal(dictionary, "")))
    lookup = None
    if names and _spaced(dictionary):
        merged = pc.dictionary_encode(pc.utf8_trim_whitespace(dictionary))  # a name and its
        lookup = np.append(_int_codes([merged.indices], len(dictionary)), np.int32(-1))
        dictionary = merged.dictionary  # spaced twins: one code
    if blank.any():
        lookup = np.arange(len(blank) + 1, dtype=np.int32) if lookup is None else lookup
        lookup[blank.nonzero()[0]] = -1
        lookup[-1] = -1
    return _Coded(codes if lookup is None else lookup[codes], dictionary)


# The bytes a whitespace character Arrow trims (`utf8_trim_whitespace`) may start or end with
# in UTF-8: ASCII's own, and the lead bytes and continuation bytes of U+0085 ... U+3000.
_MAY_START_SPACE = np.zeros(256, dtype=bool)
_MAY_START_SPACE[[*range(0x09, 0x0E), *range(0x1C, 0x21), 0xC2, 0xE1, 0xE2, 0xE3]] = True
_MAY_END_SPACE = np.zeros(256, dtype=bool)
_MAY_END_SPACE[[*range(0x09, 0x0E), *range(0x1C, 0x21), *range(0x80, 0xC0)]] = True


def _spaced(values: pa.Array) -> bool:
    """Whether some value has whitespace around it. Read off each value's first and last
    byte, and only values those allow are trimmed to be sure: trimming a million lead ids
    to find none changed took 0.07 s, a tenth of a Parquet history's whole replay."""
    if values.type != pa.string():
        return bool(pc.any(pc.not_equal(pc.utf8_trim_whitespace(values), values)).as_py())
    _, offsets, data = values.buffers()
    if data is None:
        return False
    bounds = np.frombuffer(offsets, dtype=np.int32, count=len(values) + 1,
                           offset=values.offset * 4)
    raw = np.frombuffer(data, dtype=np.uint8)
    if not len(raw):
        return False
    starts, ends = bounds[:-1], bounds[1:]
    maybe = (_MAY_START_SPACE[raw[np.minimum(starts, len(raw) - 1)]]
             | _MAY_END_SPACE[raw[ends - 1]]) & (ends > starts)  # (an empty value: neither)
    if not maybe.any():
        return False
    some = values.filter(pa.array(maybe))
    return bool(pc.any(pc.not_equal(pc.utf8_trim_whitespace(some), some)).as_py())


def _int_codes(chunks: Sequence[pa.Array], n: int) -> np.ndarray:
    """Integer arrays (dictionary indices) as one int32 array, -1 for null."""
    return _filled(chunks, n, np.int32, -1)


@dataclass
class _Part:
    """The records of one file, before the files are merged."""

    spec: SourceSpec
    read: _Read
    index: int
    table_row: np.ndarray | None  # per record: its row in read.table (None: the same)
    column: np.ndarray | None  # per record: which wide event (-1: an empty row; None: long)
    lead: _Coded
    at: np.ndarray
    time_ok: np.ndarray
    event: np.ndarray  # codes, or _NO_EVENT / _UNKNOWN_EVENT / _EMPTY_ROW
    actor: _Coded
    fields: dict[str, _Coded]
    lookups: dict[str, pa.Array]
    mapped: bool
    zone: ZoneInfo
    oversize: np.ndarray | None = None  # per record: a value of it is too long to be read

    def rows_in_table(self, records: np.ndarray) -> np.ndarray:
        return records if self.table_row is None else self.table_row[records]

    def column_of(self, record: int) -> int:
        return -1 if self.column is None else int(self.column[record])

    @property
    def bad(self) -> np.ndarray:
        bad = self.lead.codes < 0
        bad |= self.event < 0
        bad |= ~self.time_ok
        if self.oversize is not None:
            bad |= self.oversize
        if self.read.reasons is not None:
            bad |= self.read.reasons[self.rows_in_table(np.arange(len(bad)))] != None  # noqa: E711
        return bad

    def prepared_reason(self, i: int) -> str | None:
        """Why the mapping's CRM rules found record `i` cannot be an event, or None."""
        if self.read.reasons is None:
            return None
        return self.read.reasons[int(self.rows_in_table(np.array([i]))[0])]

    def reason_key(self, i: int, raw: dict[str, str]) -> tuple:
        """What `reasons` depends on."""
        column = self.column_of(i)
        time = self.spec.events[column].at if column >= 0 else self.spec.at
        return (self.prepared_reason(i), bool(self.lead.codes[i] < 0), int(self.event[i]),
                column,
                self.oversize is not None and bool(self.oversize[i]),
                raw.get(self.spec.event) if self.event[i] == _UNKNOWN_EVENT else None,
                None if self.time_ok[i] else raw.get(time))

    def reasons(self, i: int, raw: dict[str, str]) -> list[str]:
        """Why record `i` (whose raw values are `raw`) is rejected."""
        prepared = self.prepared_reason(i)
        if prepared is not None:
            return [prepared]
        out = []
        if self.oversize is not None and self.oversize[i]:
            out.append(f"a value is longer than {MOST_VALUE_BYTES:,} bytes; longer values are "
                       f"not read")
        if self.lead.codes[i] < 0:
            out.append("missing lead id")
        code = int(self.event[i])
        if code == _EMPTY_ROW:
            columns = ", ".join(w.at for w in self.spec.events)
            return [*out, f"row has no date in {columns}"]
        if code == _NO_EVENT:
            out.append("missing event")
        elif code == _UNKNOWN_EVENT:
            name = raw[self.spec.event].strip()
            reason = f"unknown event '{quoted_value(name)}'; expected one of {', '.join(EVENTS)}"
            close = difflib.get_close_matches(name.lower(), EVENTS, n=1, cutoff=0.6)
            if close:
                reason += f"; did you mean '{close[0]}'?"
            if self.mapped:
                reason += (f" (or map it in [source.event_names] of "
                           f"{self.spec.mapping_path.name})")
            out.append(reason)
        if not self.time_ok[i]:
            column = self.column_of(i)
            text = raw[self.spec.events[column].at if column >= 0 else self.spec.at]
            if not text.strip():
                out.append("missing time")
            elif out and out[0].startswith("a value is longer") and _CLIPPED.search(text):
                pass  # the time is the value too long: its clip is no time, nor its length
            else:
                result = parse_time(text)
                out.append(self._time_reason(result, column) if isinstance(result, str)
                           else f"time '{quoted_value(text)}' is out of range (supported: "
                                f"{SUPPORTED_TIMES})")
        return out

    def _time_reason(self, reason: str, column: int) -> str:
        """`parse_time`'s reason, with, for a wide export's date cell, the event it was to be:
        one bad cell read for three events is three rejected records, and three identical
        lines read as one row counted thrice."""
        if column >= 0:
            reason += f" (for its `{self.spec.events[column].event}` event)"
        return reason

    def raw(self, rows: np.ndarray) -> list[dict[str, str]]:
        """The values of these table rows as read ("" for none), lookups included."""
        index = pa.array(rows, pa.int64())
        table = _as_text(self.read.raw_table(rows))
        names = list(table.column_names) + list(self.lookups)
        columns = [[_clipped(v) for v in pc.fill_null(pc.cast(c, pa.string()), "").to_pylist()]
                   for c in table.columns]
        columns += [pc.fill_null(pc.cast(v.take(index), pa.string()), "").to_pylist()
                    for v in self.lookups.values()]
        return [dict(zip(names, values, strict=True))
                for values in zip(*columns, strict=True)] if columns else [{} for _ in rows]


def _missing_columns(spec: SourceSpec, read: _Read, needed: list[tuple[str, str]],
                     available: Sequence[str]) -> None:
    columns = read.table.column_names
    for key, name in needed:
        if name in columns or name in available:
            continue
        if not len(read.rows):  # no record to take it from (an empty JSON Lines file)
            read.table = read.table.append_column(name, pa.nulls(0, pa.string()))
            columns = read.table.column_names
            continue
        have = printable(", ".join(columns)) or "none"  # names as the file wrote them
        close = difflib.get_close_matches(name, columns, n=1, cutoff=0.6)
        hint = f"did you mean `{printable(close[0])}`? " if close else ""
        if spec.mapping_path is None:
            what = {"lead_id": "the lead", "at": "when", "event": "what happened"}.get(key, key)
            raise HistoryError(
                f"{read.path}: no column `{name}` ({what})\n  help: {hint}an event log needs "
                f"the columns lead_id, at and event (actor is optional); this file has {have}."
                f" To read an export with other names, write a mapping file")
        raise spec.error(key, f"`{read.path.name}` has no column `{name}`",
                         f"{hint}its columns are {have}")


def _lookups(spec: SourceSpec, read: _Read, mapping: Mapping | None,
             by_source: dict[str, list[_Read]]) -> dict[str, pa.Array]:
    """Columns borrowed from another source: per row, the first non-empty value of that column
    among the other source's rows of the same lead."""
    out: dict[str, pa.Array] = {}
    if not spec.lookup or mapping is None:
        return out
    lead_column = spec.lead_id
    _missing_columns(spec, read, [("lead_id", lead_column)], ())
    leads = read.table.column(lead_column)
    for column, other_name in spec.lookup.items():
        other = mapping.source(other_name)
        assert other is not None
        if column in read.table.column_names:
            raise spec.error(f"lookup.{column}", f"`{read.path.name}` has a column "
                             f"`{column}` of its own", "remove the lookup, or rename it")
        keys, values = [], []
        for other_read in by_source.get(other_name, []):
            _missing_columns(other, other_read, [("lead_id", other.lead_id)], ())
            names = other_read.table.column_names
            if column not in names:
                raise spec.error(f"lookup.{column}", f"source `{other_name}` "
                                 f"(`{other_read.path.name}`) has no column `{column}`",
                                 f"its columns are {', '.join(names)}")
            keys.append(other_read.table.column(other.lead_id))
            values.append(other_read.table.column(column))
        # (a prepared source's lead ids come coded, as a dictionary: each chunk as text)
        key = pa.chunked_array([pc.cast(c, pa.string()) for k in keys for c in k.chunks],
                               type=pa.string())
        chunks = [c.dictionary_decode() if pa.types.is_dictionary(c.type) else c
                  for v in values for c in v.chunks]
        value = pa.chunked_array(chunks, type=chunks[0].type if chunks else pa.string())
        present = pc.and_(pc.is_valid(key), pc.is_valid(value))
        key, value = key.filter(present), value.filter(present)
        where = pc.index_in(leads, value_set=key.combine_chunks() if len(key.chunks) != 1
                            else key.chunk(0))
        out[column] = value.take(where).combine_chunks() if len(value) else \
            pa.nulls(len(leads), value.type)
    return out


def _records(spec: SourceSpec, read: _Read, zone: ZoneInfo, lookups: dict[str, pa.Array],
             index: int, mapped: bool, keep_fields: Collection[str] | None = None) -> _Part:
    def column(name: str) -> pa.ChunkedArray | pa.Array:
        return lookups[name] if name in lookups else read.table.column(name)

    if spec.wide:
        needed = [("lead_id", spec.lead_id)]
        for wide in spec.events:
            needed.append((wide.key, wide.at))
            if wide.actor:
                needed.append((wide.key.removesuffix(".at") + ".actor", wide.actor))
        used = {spec.lead_id} | {w.at for w in spec.events} | {w.actor for w in spec.events
                                                              if w.actor}
    else:
        needed = [("lead_id", spec.lead_id), ("columns.at" if spec.mapping_path else "at",
                                              spec.at),
                  ("columns.event" if spec.mapping_path else "event", spec.event)]
        if spec.actor_required:
            needed.append(("columns.actor", spec.actor))
        used = {spec.lead_id, spec.at, spec.event, spec.actor}
    if spec.fields is not None:
        needed += [(f"fields.{name}", col) for name, col in spec.fields.items()]
    _missing_columns(spec, read, needed, list(lookups))
    table = read.table
    columns = table.column_names
    field_columns = (dict(spec.fields) if spec.fields is not None
                     else {name: name for name in columns if name not in used
                           and not name.startswith(RESERVED_PREFIX)})
    for name in [w.at for w in spec.events] if spec.wide else [spec.at]:
        kind = column(name).type
        if pa.types.is_dictionary(kind):
            kind = kind.value_type
        if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)
                or pa.types.is_timestamp(kind) or pa.types.is_date(kind)):
            raise HistoryError(f"{read.path}: column `{name}` holds {kind}, not times\n  help: "
                               f"write times as ISO 8601 text (2026-03-02T09:30:00+01:00) or "
                               f"as a timestamp or date column")

    n = table.num_rows
    # Hashing the lead ids is the longest single step and Arrow does it without the GIL: on a
    # second thread, while this one parses times and encodes the other columns.
    with ThreadPoolExecutor(max_workers=1) as pool:
        leads = column(spec.lead_id)  # as read: a dictionary, unless no row had one to read
        pending = pool.submit(_leads_as_read if read.leads_as_read and spec.lead_id not in
                              lookups and pa.types.is_dictionary(leads.type)
                              else partial(_encode, names=True), leads)
        fields = {name: _encode(column(col)) for name, col in field_columns.items()
                  if keep_fields is None or name in keep_fields}
        if not spec.wide:
            at, ok = _parse_times(column(spec.at), zone)
            event_column = column(spec.event)
            events = _event_codes(event_column, spec.event_names)
            actor = (_encode(column(spec.actor), names=True) if spec.actor in columns
                     else _Coded(np.full(n, -1, dtype=np.int32), pa.array([], pa.string())))
        lead = pending.result()
    oversize = _oversize_rows(table)
    if read.oversize is not None:  # a prepared source: over every column of its file
        oversize = read.oversize if oversize is None else oversize | read.oversize
    if not spec.wide:
        return _Part(spec, read, index, None, None, lead, at, ok, events, actor, fields,
                     lookups, mapped, zone, oversize)

    # A wide export: each non-empty date cell is a record, in (row, mapping order) order.
    k = len(spec.events)
    present = []
    times = []
    for wide in spec.events:
        cells = column(wide.at)
        if pa.types.is_dictionary(cells.type):
            cells = pc.cast(cells, cells.type.value_type)
        if pa.types.is_string(cells.type):
            blank = np.asarray(pc.fill_null(pc.or_(pc.utf8_is_space(cells),
                                                   pc.equal(cells, "")), True))
        else:
            blank = _nulls(cells)
        present.append(~blank)
        times.append(cells)
    present_matrix = np.stack(present, axis=1) if k else np.zeros((n, 0), dtype=bool)
    empty_rows = ~present_matrix.any(axis=1)
    rec_rows, rec_cols = np.nonzero(present_matrix)  # row-major: (row, column) order
    rec_rows = np.concatenate([rec_rows, np.flatnonzero(empty_rows)])
    rec_cols = np.concatenate([rec_cols, np.full(int(empty_rows.sum()), -1)])
    order = np.argsort(rec_rows * (k + 1) + rec_cols + 1, kind="stable")
    rec_rows, rec_cols = rec_rows[order].astype(np.int64), rec_cols[order].astype(np.int64)

    m = len(rec_rows)
    at = np.zeros(m, dtype=np.int64)
    ok = np.zeros(m, dtype=bool)
    event = np.full(m, _EMPTY_ROW, dtype=np.int8)
    parsed: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # a column two events share: once
    actors = {w.actor: _encode(column(w.actor), names=True) for w in spec.events if w.actor}
    lookups_of, actor_dictionary = _merge([coded.dictionary for coded in actors.values()])
    to_merged = dict(zip(actors, lookups_of, strict=True))
    actor_codes = np.full(m, -1, dtype=np.int32)
    for j, wide in enumerate(spec.events):
        mine = rec_cols == j
        rows_j = rec_rows[mine]
        if wide.at not in parsed:
            parsed[wide.at] = _parse_times(times[j], zone)
        values, good = parsed[wide.at]
        at[mine], ok[mine] = values[rows_j], good[rows_j]
        event[mine] = EVENT_CODE[wide.event]
        if wide.actor:
            actor_codes[mine] = to_merged[wide.actor][actors[wide.actor].codes[rows_j]]
    ok[rec_cols < 0] = True  # an empty row's reason is its emptiness, not a missing time
    actor = _Coded(actor_codes, actor_dictionary)
    return _Part(spec, read, index, rec_rows, rec_cols, lead.take(rec_rows), at, ok, event,
                 actor, {name: coded.take(rec_rows) for name, coded in fields.items()},
                 lookups, mapped, zone, None if oversize is None else oversize[rec_rows])


def _oversize_rows(table: pa.Table) -> np.ndarray | None:
    """Per row, whether a text value of it is longer than MOST_VALUE_BYTES; None when no value
    is (the usual case, told from each column's, or dictionary's, longest value)."""
    out = None
    for column in table.columns:
        if not (pa.types.is_string(column.type) or pa.types.is_dictionary(column.type)):
            continue
        chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
        start = 0
        for chunk in chunks:
            values = chunk.dictionary if pa.types.is_dictionary(chunk.type) else chunk
            if values.nbytes <= MOST_VALUE_BYTES:  # no value of it can be longer (most chunks)
                start += len(chunk)
                continue
            longest = pc.max(pc.binary_length(values)).as_py() if len(values) else None
            if longest is not None and longest > MOST_VALUE_BYTES:
                long = pc.fill_null(pc.greater(pc.binary_length(values), MOST_VALUE_BYTES),
                                    False)
                if pa.types.is_dictionary(chunk.type):
                    long = pc.fill_null(pc.take(long, chunk.indices), False)
                if out is None:
                    out = np.zeros(table.num_rows, dtype=bool)
                out[start:start + len(chunk)] |= np.asarray(long)
            start += len(chunk)
    return out


def _event_codes(column: pa.ChunkedArray | pa.Array, names: dict[str, str]) -> np.ndarray:
    """Event codes per row, translating CRM names first; work is per distinct name."""
    coded = _encode(column)
    lookup = np.empty(len(coded.dictionary) + 1, dtype=np.int8)
    for i, name in enumerate(coded.dictionary.to_pylist()):
        text = name.strip()
        text = names.get(text, names.get(name, text))
        lookup[i] = EVENT_CODE.get(text, _UNKNOWN_EVENT)
    lookup[-1] = _NO_EVENT
    return lookup[coded.codes]


# ============================================================================ merging


def _merge(dictionaries: list[pa.Array]) -> tuple[list[np.ndarray], pa.Array]:
    """One dictionary for several: per input, a lookup from its codes to the merged codes (with
    -1 kept at -1, as the last entry), and the merged dictionary."""
    if not any(len(d) for d in dictionaries):
        return [np.array([-1], dtype=np.int32) for _ in dictionaries], pa.array([], pa.string())
    # A dictionary equal to an earlier one (a joined source's leads, given its target's own
    # dictionary), or starting with one (a source coded in its target's leads), is compared,
    # and only what follows that start is hashed.
    prefix = [next((j for j in range(i) if 1000 < len(dictionaries[j]) <= len(d)
                    and d.slice(0, len(dictionaries[j])).equals(dictionaries[j])), None)
              for i, d in enumerate(dictionaries)]
    pieces = [d if j is None else d.slice(len(dictionaries[j]))
              for d, j in zip(dictionaries, prefix, strict=True)]
    # When every other dictionary starts with the first (a join target's leads and the
    # sources coded in them), the first is not hashed at all: a dictionary's values are
    # distinct, so what follows that start is none of its values.
    base = len(dictionaries[0]) if len(dictionaries) > 1 and all(
        j == 0 or not len(d) for d, j in zip(dictionaries[1:], prefix[1:], strict=True)) else 0
    if base:
        pieces[0] = pieces[0].slice(base)
    merged = pc.dictionary_encode(pa.concat_arrays(pieces))
    lookups: list[np.ndarray] = []
    start = 0
    for i, (piece, j) in enumerate(zip(pieces, prefix, strict=True)):
        size = len(piece)
        own = _int_codes([merged.indices.slice(start, size)], size) + base
        start += size
        if i == 0 and base:
            own = np.arange(base, dtype=np.int32)
        elif j is not None:
            own = np.concatenate([lookups[j][:-1], own])
        lookups.append(np.append(own, np.int32(-1)))  # codes stay int32: half the bytes
    dictionary = merged.dictionary if not base else pa.concat_arrays(
        [dictionaries[0], merged.dictionary.cast(dictionaries[0].type)])
    return lookups, dictionary


def _unify(parts: list[_Coded]) -> tuple[np.ndarray, pa.Array]:
    """Concatenate coded columns of several files into codes of one shared dictionary."""
    if len(parts) == 1:
        return parts[0].codes, parts[0].dictionary
    lookups, dictionary = _merge([p.dictionary for p in parts])
    return np.concatenate([lookup[p.codes] for lookup, p in zip(lookups, parts,
                                                                  strict=True)]), dictionary


def _objects(codes: np.ndarray, dictionary: pa.Array) -> np.ndarray:
    """Codes to an object array of str, None where there is no value."""
    values = np.empty(len(dictionary) + 1, dtype=object)
    values[:-1] = dictionary.to_numpy(zero_copy_only=False)
    values[-1] = None
    return values[codes]


def _concat(arrays: list[np.ndarray], dtype=np.int64) -> np.ndarray:
    if len(arrays) == 1:
        return arrays[0]
    return np.concatenate(arrays) if arrays else np.zeros(0, dtype=dtype)


def _sort_order(lead: np.ndarray, at: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(order, lead, at) sorted stably by lead then time, or None when they are already.

    One `np.sort` of lead and position packed into an int64 (unique keys, so no stable sort is
    needed, and the sorted leads are the keys' high bits) groups leads in read order; only
    leads whose events were not read in time order are then sorted by time."""
    n = len(lead)
    if n < 2:
        return None
    # Leads are numbered as first read, so they are grouped in read order when the codes
    # never go down; then only a time going back within a lead needs a sort.
    if (lead[1:] >= lead[:-1]).all():
        backwards = at[1:] < at[:-1]
        backwards &= lead[1:] == lead[:-1]
        if not backwards.any():
            return None
    index_bits = max(n - 1, 1).bit_length()
    if (int(lead.max()) + 1).bit_length() + index_bits <= 63:
        key = lead.astype(np.int64)
        key <<= index_bits
        key |= np.arange(n, dtype=np.int64)
        key.sort()
        lead_sorted = key >> index_bits
        key &= (1 << index_bits) - 1
        order = key
    else:
        order = np.argsort(lead, kind="stable")
        lead_sorted = lead[order].astype(np.int64)
    at_sorted = at[order]
    back = at_sorted[1:] < at_sorted[:-1]
    back &= lead_sorted[1:] == lead_sorted[:-1]
    back = np.flatnonzero(back)
    if len(back):
        unsorted = np.zeros(int(lead.max()) + 1, dtype=bool)
        unsorted[lead_sorted[back]] = True
        span = np.flatnonzero(unsorted[lead_sorted])  # runs of whole leads, in lead order
        fix = _time_order_within_runs(lead_sorted[span], at_sorted[span])
        order[span] = order[span][fix]
        at_sorted[span] = at_sorted[span][fix]
    return order, lead_sorted, at_sorted


def _time_order_within_runs(lead: np.ndarray, at: np.ndarray) -> np.ndarray:
    """The stable order of records already grouped in runs of one lead each, by time within
    each run. Packed into one int64 (the run's number above, the time since the run's first
    instant below) when both fit, since one stable sort of nearly sorted keys takes half the
    time of `lexsort`'s two (a CRM export's leads come from several objects, each in time
    order); else `lexsort`."""
    starts = np.flatnonzero(np.r_[True, lead[1:] != lead[:-1]])
    lengths = np.diff(np.r_[starts, len(lead)])
    since = at - np.repeat(np.minimum.reduceat(at, starts), lengths)
    run_bits = max(len(starts) - 1, 1).bit_length()
    if int(since.min()) < 0 or run_bits + max(int(since.max()), 1).bit_length() > 63:
        return np.lexsort((at, lead))
    since |= np.repeat(np.arange(len(starts), dtype=np.int64), lengths) << \
        (63 - run_bits)
    return np.argsort(since, kind="stable")


def _before_created(lead: np.ndarray, at: np.ndarray, event: np.ndarray, leads: int
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Positions (in the sorted records) of events earlier than their lead's first `created`,
    and that first `created` time for each."""
    created = np.flatnonzero(event == _CREATED)
    if not len(created):
        return created, created
    first = np.r_[True, lead[created[1:]] != lead[created[:-1]]]
    created = created[first]  # the first `created` of each lead that has one
    # those with events sorted before them in their lead's run (usually none: only those
    # are looked up)
    leads_created = lead[created]
    has = np.flatnonzero((created > 0) & (lead[np.maximum(created - 1, 0)] == leads_created))
    if not len(has):
        return has, has
    run_start = np.searchsorted(lead, leads_created[has], side="left")
    counts = created[has] - run_start
    candidates = np.repeat(run_start - np.r_[0, np.cumsum(counts)[:-1]], counts)
    candidates += np.arange(len(candidates))
    created_at = np.repeat(at[created[has]], counts)
    early = at[candidates] < created_at
    return candidates[early], created_at[early]


def _assemble(parts: list[_Part], keep_fields: Collection[str] | None = None) -> History:
    empty = _Coded(np.zeros(0, dtype=np.int32), pa.array([], pa.string()))
    starts = np.cumsum([0] + [len(p.at) for p in parts])
    bad = _concat([p.bad for p in parts], bool)
    good = np.flatnonzero(~bad) if bad.any() else None

    def kept(values: np.ndarray) -> np.ndarray:
        return values if good is None else values[good]

    def coded(column: list[_Coded]) -> tuple[np.ndarray, pa.Array]:
        codes, dictionary = _unify(column) if column else (empty.codes, empty.dictionary)
        return kept(codes), dictionary

    lead, lead_dict = coded([p.lead for p in parts])
    at = kept(_concat([p.at for p in parts]))
    event = kept(_concat([p.event for p in parts]))
    sort = _sort_order(lead, at)
    if sort is not None:
        order, lead, at = sort
        event = event[order]
        position = order if good is None else good[order]
    else:
        position = good  # None: every record, in the order read (the usual case)

    # Nothing of a lead may come before its first `created` event.
    early, created_at = _before_created(lead, at, event, len(lead_dict))
    rejects = _rejects(parts, bad, starts, early if position is None else position[early],
                       created_at)
    if len(early):
        keep = np.ones(len(lead), dtype=bool)
        keep[early] = False
        lead, at, event = lead[keep], at[keep], event[keep]
        position = np.flatnonzero(keep) if position is None else position[keep]

    # `position` indexes the concatenated records; everything else is gathered through it.
    def gather(values: np.ndarray) -> np.ndarray:
        return values if position is None else values[position]

    actor, actor_dict = _unify([p.actor for p in parts]) if parts else (empty.codes,
                                                                        empty.dictionary)
    actor = gather(actor)
    names = [name for name in dict.fromkeys(name for p in parts for name in p.fields)
             if keep_fields is None or name in keep_fields]
    fields = {}
    for name in names:
        codes, dictionary = _unify([
            p.fields.get(name) or _Coded(np.full(len(p.at), -1, dtype=np.int32),
                                         empty.dictionary) for p in parts])
        fields[name] = _objects(gather(codes), dictionary)
    if len(parts) == 1 and not parts[0].spec.wide and not parts[0].read.broken \
            and parts[0].read.data_rows is None and _numbered_from_one(parts[0].read.rows):
        # rows 1..n, one record each
        row = parts[0].read.rows if position is None else position + 1
    else:
        row = gather(_concat([p.read.rows[p.table_row] if p.spec.wide else p.read.rows
                              for p in parts]))
    source = gather(np.repeat(np.arange(len(parts), dtype=np.int16), np.diff(starts))) \
        if len(parts) > 1 else np.zeros(len(lead), dtype=np.int16)

    lead, lead_dict = _compact(lead, lead_dict)  # leads whose every record was rejected
    actor, actor_dict = _compact(actor, actor_dict)
    per_part = np.bincount([r[0] for r in rejects], minlength=len(parts))
    stats = [SourceStats(str(p.read.path), p.read.n_rows, len(p.at) + len(p.read.broken),
                         int(per_part[i]), p.read.left_out) for i, p in enumerate(parts)]
    return History(
        lead=lead.astype(np.int64, copy=False), at=at.astype(np.int64, copy=False),
        event=event.astype(np.int8, copy=False), actor=actor.astype(np.int64, copy=False), row=row,
        lead_ids=lead_dict.to_numpy(zero_copy_only=False).astype(object, copy=False),
        actors=actor_dict.to_numpy(zero_copy_only=False).astype(object, copy=False),
        fields=fields, rejects=[r[-1] for r in rejects],
        rows_read=sum(s.records for s in stats), source=source, sources=stats,
    )


def _numbered_from_one(rows: np.ndarray) -> bool:
    """Whether rows in file order are 1, 2, ..., n (a whole file, not a piece of one)."""
    return not len(rows) or (int(rows[0]) == 1 and int(rows[-1]) == len(rows))


def _compact(codes: np.ndarray, dictionary: pa.Array) -> tuple[np.ndarray, pa.Array]:
    """Drop dictionary entries no code refers to (-1 stays -1)."""
    if not len(dictionary):
        return codes, dictionary
    used = np.zeros(len(dictionary) + 1, dtype=bool)
    used[codes] = True  # -1 marks the last: no copy of the codes without the -1s
    used = used[:-1]
    if used.all():
        return codes, dictionary
    renumber = np.append(np.where(used, np.cumsum(used) - 1, -1), -1).astype(codes.dtype)
    return renumber[codes], dictionary.filter(pa.array(used))


def _rejects(parts: list[_Part], bad: np.ndarray, starts: np.ndarray, early: np.ndarray,
             early_created: np.ndarray) -> list[tuple[int, int, int, int, Reject]]:
    """Every rejected record of every file, in the order they were read. `early` holds the
    positions (in the concatenated records) of events before their lead's `created`."""
    out: list[tuple[int, int, int, int, Reject]] = []
    early_part = np.searchsorted(starts, early, side="right") - 1
    for i, p in enumerate(parts):
        for reject in p.read.broken:
            out.append((i, reject.row, -1, 0, reject))
        mine = np.flatnonzero(bad[starts[i]:starts[i + 1]])
        extra = early[early_part == i] - starts[i]
        if not len(mine) and not len(extra):
            continue
        created_at = dict(zip(extra.tolist(), early_created[early_part == i].tolist(),
                              strict=True))
        records = np.concatenate([mine, extra]).astype(np.int64)
        in_table = p.rows_in_table(records)
        raws = p.raw(in_table)
        rows = p.read.rows[in_table].tolist()
        source = str(p.read.path)
        said: dict[tuple, str] = {}  # the same problem with the same values: worded once
        for record, raw, row in zip(records.tolist(), raws, rows, strict=True):
            if record in created_at:
                name = EVENTS[int(p.event[record])]
                reason = (f"'{name}' at {local_text(p.at[record], p.zone)} is before "
                          f"the lead was created "
                          f"({local_text(created_at[record], p.zone)})")
            else:
                key = p.reason_key(record, raw)
                reason = said.get(key)
                if reason is None:
                    reason = said[key] = "; ".join(p.reasons(record, raw))
            column = p.column_of(record)
            out.append((i, row, column, record, Reject(
                source, row, reason, raw, p.spec.events[column].at if column >= 0 else None)))
    out.sort(key=lambda r: r[:4])
    return out
