"""Mapping files: how a real CRM export becomes the event log the evaluator reads.

A mapping is a small TOML file a revenue-ops analyst writes once per CRM. Each `[[source]]` is
one export; several sources are read into one history, joined by lead id.

    [[source]]                      # an event log: one row per activity
    file = "activities.csv"         # relative to this file; a path on the command line wins
    lead_id = "Contact ID"
    timezone = "America/New_York"   # for times written without an offset (default: the policy's)
    [source.columns]
    at = "Activity date"
    event = "Activity type"
    actor = "Owner"
    [source.event_names]            # the CRM's words for the product's events
    "Call" = "touch"
    "Meeting held" = "connected"
    [source.fields]                 # field name = column; without this table, every other column
    channel = "Channel"             # is kept under its own name

    [[source]]                      # a wide export: one row per lead, one date column per event
    name = "leads"
    file = "leads.csv"
    lead_id = "id"
    [source.events]                 # event = date column; listed events of one row that share
    created = "created_date"        # a time keep this order
    handoff = "mql_date"
    won = { at = "won_date", actor = "owner" }   # an event may name who did it
    touch = ["first_call", "second_call"]        # or come from several columns

    [[source]]
    name = "deals"
    file = "deals.csv"
    lead_id = "lead"
    [source.lookup]                 # a column borrowed from another source's row of the lead
    created_date = "leads"
    [source.events]
    assigned = { at = "created_date", actor = "sdr" }

A source is an event log unless it has [source.events]. In a wide export each non-empty date
cell is one record; a row with no date at all is one record, rejected. Names of sources default
to their file's stem.

A CRM's own objects (a Salesforce or HubSpot export, as it comes) need a few more keys; the
presets in `sla_dsl/history/presets/` use every one of them:

    [[source]]
    name = "Task"
    file = "Task.csv"
    lead_id = "WhoId"
    where = { IsDeleted = "false", Status = "Completed", WhoId = ["00Q*", "003*"] }
    datetime_format = ["%m/%d/%Y %I:%M %p"]   # besides ISO 8601, which is always read
    join = { source = "Lead", match = ["Id", "ConvertedContactId"] }
    [source.columns]
    at = ["CompletedDateTime", "CreatedDate"]   # the first of these that is not empty
    event = ["TaskSubtype", "CallDisposition"]  # an event keyed on two columns
    actor = "OwnerId"
    [source.event_names]
    Email = "touch"                 # a key alone: every row of it is this event
    [source.event_names.Call]       # a key with a table: by the second column's value
    "Connected" = "connected"
    "*" = "touch"                   # `*`: any other value, the empty one included
                                    # (in a one-column event_names too)

- `where`: a table of column = value; only the rows that match every column are read. A value
  is text (`*` matches any run of characters, so "00Q*" is every value that starts with 00Q)
  or a list of such texts, any of which may match; "" matches an empty cell. A value may
  also be `{ not = "Open" }` (or `{ not = ["Open", "New*"] }`): the row matches when the cell
  matches none of them (`{ not = "" }`: a cell that is not empty). Rows left out
  make no record: they are counted per file as left out (`SourceStats.left_out`), never
  silently dropped.
- `duplicates = { key = ["LeadId", "Field", "CreatedDate"], keep = { NewValue = "005*" } }`:
  rows equal in every `key` column are one row of the CRM's; of each such group the first row
  matching `keep` (a table like `where`) is read, or the first row when none matches. The
  others are left out, counted.
- `duplicates = { key = [...], keep = { NewValue = ["005*", "00G*"] }, twins = true }`: rows
  equal in `key` are not copies of one row but changes, some written twice (Salesforce writes
  an owner change once with user Ids and once with display names; two changes can share a
  second): every row matching `keep` is read, and so is every other row but each `keep` row's
  twin, the group's first row not matching `keep` not yet paired (the first such row with
  the first `keep` row, the second with the second). A group with no `keep` row (two status
  changes in one second) is read whole. The twins are left out, counted.
- `chain = ["OldValue", "NewValue"]` in such a `duplicates` (with `twins`): the changes read
  of a group are put in the order their values link, each one's new value the next one's old
  (Open -> Working, then Working -> Closed), whatever order the file has them in: an export
  made in parallel chunks writes one second's changes in no set order. A group whose values
  make no single chain (a branch, a loop, a value twice) keeps the file's order.
- `datetime_format`: a strptime format (or a list), for times a CRM writes as localized text
  (`3/15/2024 2:30 PM` is "%m/%d/%Y %I:%M %p"). ISO 8601 is always read as well; without `%z`
  the time is a wall reading in the source's `timezone`. `"epoch_ms"` in the list reads a
  cell of only digits as milliseconds since 1970-01-01 UTC (`1710513000000`, as HubSpot's v1
  API writes a time): an exact instant.
- `timezone = "required"`: the export's times carry no offset and the zone is not known in
  advance (a HubSpot portal's): the command line must name it (`--timezone`).
- `join = { source = "Lead", match = ["Id", "ConvertedContactId"] }`: the `lead_id` cell is
  looked up in those columns of the other source's rows (the first column that has it wins);
  the record belongs to the lead of the row found (that source's own `lead_id`). A value found
  in several rows of that column makes one record per lead. A value found nowhere is a
  rejected record, with that reason.
- `join_only = true`: the source is read only for other sources' `join` (HubSpot's table of
  which contact an engagement was with); it makes no events and no records.
- `optional = true` (with `when_missing = "..."`): the source may be left out; the report then
  carries the `when_missing` note (what the evaluation cannot see without it).
- `actor_names = { id = "Id", name = "Name" }` (a `join_only` source such as Salesforce's
  User): every actor that is one of the `id` column's values is written as that row's `name`,
  so a policy's reps are named as people call them. With `zone = "TimeZoneSidKey"`, that
  column holds each one's IANA time zone: the history's `actor_zones` (name -> zone), which
  the due list writes each owner's times in unless the caller names the owner's zone.
- `ids = "salesforce"` (on a source others join through, Salesforce's Lead, or one that names
  actors, its User): its ids and every id compared with them are Salesforce record ids, read
  in the 18-character form (a 15-character id gets the 3 characters that spell its letter
  case: `salesforce_ids`), so a report's 15-character ids find a Data Loader file's
  18-character ones.
- `optional_fields = true`: a [source.fields] column the file does not have is left out
  rather than an error (an export leaves out the fields nobody filled in, or was not asked for).
- `tracked_since_first_row = true`: the CRM kept this history only since tracking was switched
  on (Salesforce's field history): leads created before its first row are named in a note,
  since their first changes (the first owner, the first status) are missing.
- [source.aliases]: `"Record ID" = ["hs_object_id"]`: a column may come under other names (a
  HubSpot export writes either labels or internal names); the first present is used.
- [source.columns] `at` may be a list (the first non-empty); `event` may be two columns, the
  kind of change and its value, with [source.event_names] keyed on the first and, where a key
  holds a table, on the second (`*`: any other value).
- [source.actors]: `assigned = "NewValue"`: for that event, who it is comes from this column
  rather than `columns.actor` (an owner change names the new owner).
- [source.before]: `assigned = "OldValue"`: of each lead, the earliest event of that kind this
  source reads names in that column who it was before the change; the lead's events of that
  kind read from other sources before it take that as their actor. Salesforce keeps a lead's
  first owner only as its first owner change's OldValue: the Lead's creation `assignment`
  (read with the current OwnerId) gets the first owner instead.
- [source.value_fields]: `Status = "status"`: rows of that key carry the value column as that
  field (a status change carries the new status).
- A wide event may say `unless = "source"`: it is read only when that source was not given
  (HubSpot's contacts export has the latest owner only; its property history has them all).

This module parses and checks the file itself; `sla_dsl.history.read` reads the data with it.
Every mistake becomes a `MappingError` that names the file, the key and the fix.
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sla_dsl.history.columns import EVENTS, HistoryError
from sla_dsl.history.salesforce_ids import SALESFORCE
from sla_dsl.input_files import NO_SUCH_FILE, not_a_file, read_input

__all__ = [
    "EPOCH_MS",
    "FORMATS",
    "Condition",
    "Duplicates",
    "Join",
    "Mapping",
    "MappingError",
    "SourceSpec",
    "WideEvent",
    "format_of",
    "load_mapping",
    "parse_mapping",
]

FORMATS: dict[str, str] = {
    ".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet",
}
"""File extension -> format. `format = "csv"` in a source overrides the extension."""

RESERVED = ("lead_id", "at", "event", "actor")
"""Column names with a meaning of their own: never field names."""

_SOURCE_KEYS = ("name", "file", "format", "timezone", "lead_id", "columns", "events",
                "event_names", "fields", "lookup", "where", "duplicates", "datetime_format",
                "join", "join_only", "optional", "when_missing", "tracked_since_first_row",
                "aliases", "actors", "value_fields", "actor_names", "optional_fields",
                "before", "ids")
_COLUMN_KEYS = ("at", "event", "actor")
_WIDE_EVENT_KEYS = ("at", "actor", "unless")
ANY_VALUE = "*"
"""In a two-column [source.event_names] table: any value not listed (the empty one too)."""
REQUIRED_ZONE = "required"
EPOCH_MS = "epoch_ms"
"""`datetime_format = "epoch_ms"`: a time written as milliseconds since 1970-01-01 UTC."""
"""`timezone = "required"`: the zone must come from the command line."""


MOST_MAPPING_BYTES = 1 << 20  # docs/limits.md
"""A mapping names columns and events: a file larger than this is not one."""


class MappingError(HistoryError):
    """A mapping file that cannot be used as written. The message reads

        <file>: <where>: <what is wrong>
          help: <how to fix it>
    """


def _suggest(word: str, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"did you mean `{close[0]}`? " if close else ""


def _listing(names: Sequence[str], limit: int = 20) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f", ... ({len(names)} in all)" if len(names) > limit else "")


def format_of(path: Path, declared: str | None = None) -> str | None:
    """The format to read `path` with: the declared one, else the one its extension names."""
    return declared or FORMATS.get(path.suffix.lower())


@dataclass(frozen=True)
class WideEvent:
    """One date column of a wide export: each non-empty cell is one `event` at that time."""

    event: str
    at: str
    actor: str | None
    key: str  # where it is written in the mapping, e.g. "events.won.at"
    unless: str | None = None  # read only when this source is not given


@dataclass(frozen=True)
class Condition:
    """One column of a `where` (or a `keep`): the row matches when its cell matches one of
    `patterns` (`*` any run of characters; "" an empty cell)."""

    column: str
    patterns: tuple[str, ...]
    key: str
    negated: bool = False  # `{ not = ... }`: the row matches when its cell matches none


@dataclass(frozen=True)
class Duplicates:
    """Rows alike in `key` are one: the first matching `keep` (else the first) is read. With
    `twins`, they are changes, each `keep` row with a twin written beside it: only the twins
    are left out (module docstring)."""

    key: tuple[str, ...]
    keep: tuple[Condition, ...]
    twins: bool = False
    chain: tuple[str, str] | None = None  # (old, new) value columns: changes read linked


@dataclass(frozen=True)
class Join:
    """The lead id cell is found in `match` columns of `source`; the lead is that row's."""

    source: str
    match: tuple[str, ...]


@dataclass(frozen=True)
class SourceSpec:
    """How to read one export. Built by `load_mapping`, or `SourceSpec.canonical` for a file
    already in the product's own layout (columns lead_id, at, event, actor; every other column
    a field)."""

    name: str
    file: Path | None = None
    format: str | None = None
    timezone: str | None = None
    lead_id: str = "lead_id"
    at: str = "at"
    event: str = "event"
    actor: str | None = "actor"
    actor_required: bool = False  # False: `actor` is used only if the file has that column
    event_names: dict[str, str] = field(default_factory=dict)
    events: tuple[WideEvent, ...] = ()
    fields: dict[str, str] | None = None  # None: every column not otherwise used, as itself
    lookup: dict[str, str] = field(default_factory=dict)  # column -> source name
    mapping_path: Path | None = None
    index: int = 0  # 1-based position among the mapping's sources; 0 for canonical files
    # What a CRM's own objects need (see the module docstring); all empty for plain sources.
    filters: tuple[Condition, ...] = ()  # `where`
    duplicates: Duplicates | None = None
    datetime_formats: tuple[str, ...] = ()
    join: Join | None = None
    join_only: bool = False
    optional: bool = False
    when_missing: str | None = None
    tracked_since_first_row: bool = False
    aliases: dict[str, tuple[str, ...]] = field(default_factory=dict)
    at_columns: tuple[str, ...] = ()  # `columns.at` as a list: the first non-empty
    event_value: str | None = None  # the second column of a two-column event
    event_values: dict[str, dict[str, str]] = field(default_factory=dict)
    actors: dict[str, str] = field(default_factory=dict)  # event -> its actor column
    value_fields: dict[str, str] = field(default_factory=dict)  # key -> field name
    before: dict[str, str] = field(default_factory=dict)  # event -> who it was before
    actor_names: tuple[str, str] | None = None  # (id column, name column)
    actor_zone: str | None = None  # with actor_names: the column of each actor's IANA zone
    optional_fields: bool = False  # a [source.fields] column the file lacks is left out
    salesforce_ids: bool = False  # `ids = "salesforce"`: its ids compared in 18 characters

    def coded_columns(self) -> set[str]:
        """Columns of few distinct values (events, actors, filters, fields), worth reading
        dictionary-encoded; a CRM object's other columns (ids, times, text) are read plain."""
        columns = {self.event, self.actor, *self.actors.values(),
                   *(c.column for c in self.filters), *(w.actor for w in self.events if w.actor)}
        if self.event_value:
            columns.add(self.event_value)
        if self.fields is not None:
            columns |= set(self.fields.values())
        for name, others in self.aliases.items():
            if name in columns:
                columns |= set(others)
        return {c for c in columns if c}

    def columns_read(self, fields: Collection[str], others: Collection[str] = ()) -> set[str]:
        """The columns a prepared source's records are made of when only `fields` are kept:
        its rules' and events' columns, the kept fields' columns, `others` (what other sources
        join or look up through), each under its aliases too. The rest of an export (a Task's
        Subject, Description, ...) need not be converted at all."""
        columns = {self.lead_id, self.at, self.event, self.actor, *self.at_columns,
                   *self.actors.values(), *self.before.values(), *others,
                   *(c.column for c in self.filters)}
        if self.event_value:
            columns.add(self.event_value)
        if self.duplicates is not None:
            columns |= {*self.duplicates.key, *(c.column for c in self.duplicates.keep),
                        *(self.duplicates.chain or ())}
        for wide in self.events:
            columns |= {wide.at, wide.actor} - {None}
        if self.fields is not None:
            columns |= {column for name, column in self.fields.items() if name in fields}
        else:
            columns |= set(fields)
        if self.actor_names:
            columns |= set(self.actor_names) | ({self.actor_zone} - {None})
        for name, other_names in self.aliases.items():
            if name in columns:
                columns |= set(other_names)
        return {c for c in columns if c}

    @property
    def prepared(self) -> bool:
        """Whether rows are reshaped before they are read as records (`history.prepare`)."""
        return bool(self.filters or self.duplicates or self.datetime_formats or self.join
                    or self.aliases or self.at_columns or self.event_value or self.actors
                    or self.value_fields or self.join_only or ANY_VALUE in self.event_names
                    or self.before
                    or self.optional_fields)

    @classmethod
    def canonical(cls, path: Path) -> SourceSpec:
        return cls(name=path.stem, file=path)

    @property
    def wide(self) -> bool:
        return bool(self.events)

    def where(self, key: str | None = None) -> str:
        """Where something is written, for messages: `mapping.toml: [[source]] 2 ("deals"), key
        `events.won.at``."""
        place = f'[[source]] {self.index} ("{self.name}")'
        if key:
            place += f", key `{key}`"
        return f"{self.mapping_path}: {place}"

    def error(self, key: str | None, problem: str, fix: str) -> MappingError:
        return MappingError(f"{self.where(key)}: {problem}\n  help: {fix}")


PRESET_FOLDER = Path(__file__).parent / "presets"


def is_preset(mapping_path: Path) -> bool:
    """Whether a mapping is one of the shipped presets, whose files all come from the command
    line: advice about the files "the mapping names" or "relative to the mapping's folder"
    would send the user into the installed package."""
    return mapping_path.parent == PRESET_FOLDER


@dataclass(frozen=True)
class Mapping:
    """A parsed mapping file: its sources, in the order written."""

    path: Path
    sources: tuple[SourceSpec, ...]

    def source(self, name: str) -> SourceSpec | None:
        return next((s for s in self.sources if s.name == name), None)

    def bind(self, paths: Sequence[Path | str] = ()) -> list[tuple[SourceSpec, list[Path]]]:
        """The files each source reads. Without `paths`, each source's own `file`. With them,
        each path goes to the source whose `file` has the same name (so a folder holding the
        full export can stand in for the excerpt the mapping names; the case of the letters
        does not matter when no name matches exactly); a mapping with one source takes every
        path (monthly exports of one shape). Then every source must have a file, except an
        `optional` one, which is left out (see `missing`). A wide event `unless` a source
        that is given is left out of its source."""
        given = [Path(p) for p in paths]
        bound: dict[int, list[Path]] = {i: [] for i in range(len(self.sources))}
        if given:
            for path in given:
                matches = self._matching(path)
                if not matches and len(self.sources) == 1:
                    matches = [0]
                if not matches and not path.exists():  # (a glob the shell left as it was)
                    raise MappingError(f"{path}: no such file\n  help: check the path")
                if not matches:
                    names = [s.file.name for s in self.sources if s.file is not None]
                    raise MappingError(
                        f"{self.path}: the file `{path}` matches no source's `file` "
                        f"({_listing(names)})\n  help: " + (
                            "name each file as the CRM exports it" if is_preset(self.path)
                            else "give each file the name its source's `file` has in the "
                            "mapping, or leave the paths out to read the files the mapping "
                            "names"))
                for i in matches:
                    bound[i].append(path)
            missing = [s for i, s in enumerate(self.sources) if not bound[i] and not s.optional]
            if missing:
                spec = missing[0]
                raise spec.error(
                    "file", f"no file given for this source (it reads `{spec.file.name}`)"
                    if spec.file is not None else "no file given for this source",
                    "give the export's file for every object it reads" if is_preset(self.path)
                    else "give a file for every source, or leave the paths out to read the "
                    "files the mapping names")
        else:
            for i, spec in enumerate(self.sources):
                if spec.file is None:
                    if spec.optional:
                        continue
                    raise spec.error(None, "this source names no `file`",
                                     'add `file = "export.csv"` (relative to the mapping '
                                     "file), or give the file's path on the command line")
                bound[i].append(spec.file)
        present = {s.name for i, s in enumerate(self.sources) if bound[i]}
        out = []
        for i, spec in enumerate(self.sources):
            if not bound[i]:
                continue
            if any(w.unless for w in spec.events):
                spec = replace(spec, events=tuple(w for w in spec.events
                                                  if w.unless not in present))
            out.append((spec, bound[i]))
        return out

    def missing(self, bound: Sequence[tuple[SourceSpec, list[Path]]]) -> list[SourceSpec]:
        """The optional sources `bind` left out, each with what that means (`when_missing`)."""
        given = {spec.name for spec, _ in bound}
        return [s for s in self.sources if s.name not in given]

    def _matching(self, path: Path) -> list[int]:
        named = [(i, s.file.name) for i, s in enumerate(self.sources) if s.file is not None]
        exact = [i for i, name in named if name == path.name]
        return exact or [i for i, name in named if name.lower() == path.name.lower()]


# ---------------------------------------------------------------------------- parsing

def load_mapping(path: Path | str) -> Mapping:
    """Read and check a mapping file. Raises `MappingError` (never a raw traceback)."""
    path = Path(path)
    try:
        data = read_input(path, MOST_MAPPING_BYTES)
        why = not_a_file(path) if not data else None
        if why is not None and why != NO_SUCH_FILE:  # else "the mapping has no [[source]]"
            raise MappingError(f"{path}: {why}, and nothing was read from it\n  help: give "
                               f"the mapping's TOML file")
        if len(data) > MOST_MAPPING_BYTES:
            raise MappingError(f"{path}: the mapping is more than {MOST_MAPPING_BYTES // 1024:,} "
                               "KiB, the most a mapping may be\n  help: a mapping names "
                               "columns; check that this is the mapping and not an export")
        text = data.decode("utf-8-sig")
    except FileNotFoundError:
        raise MappingError(f"{path}: no such mapping file\n  help: check the path") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise MappingError(f"{path}: cannot read the mapping file ({exc})\n"
                           f"  help: a mapping is a UTF-8 TOML text file") from None
    return parse_mapping(text, path)


def parse_mapping(text: str, path: Path | str = "mapping.toml") -> Mapping:
    """Parse mapping text; `path` names it in messages and anchors relative `file`s."""
    path = Path(path)
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise MappingError(
            f"{path}: not valid TOML: {exc}\n  help: check quotes, `=` signs and [table] "
            f"headers near that line; text values need quotes, e.g. lead_id = \"mql_id\""
        ) from None
    except RecursionError:  # tomllib recurses per nested array or inline table
        raise MappingError(f"{path}: arrays or tables nested too deep to read\n  help: a "
                           f"mapping nests at most a few levels, e.g. [source.events]") from None
    unknown = [key for key in document if key != "source"]
    if unknown:
        raise MappingError(
            f"{path}: unknown key `{unknown[0]}` at the top level\n  help: "
            f"{_suggest(unknown[0], ['source'])}a mapping holds only [[source]] tables, one "
            f"per export")
    raw_sources = document.get("source")
    if not raw_sources:
        raise MappingError(f"{path}: the mapping has no [[source]]\n  help: add one per "
                           f"export, e.g.\n    [[source]]\n    file = \"leads.csv\"\n"
                           f"    lead_id = \"id\"")
    if not isinstance(raw_sources, list) or not all(isinstance(s, dict) for s in raw_sources):
        raise MappingError(f"{path}: `source` must be written as [[source]] tables\n  help: "
                           f"start each export's section with a [[source]] line")
    specs = [_source(raw, i, path) for i, raw in enumerate(raw_sources, 1)]
    seen: dict[str, SourceSpec] = {}
    for spec in specs:
        if spec.name in seen:
            raise spec.error("name", f"two sources are named `{spec.name}`",
                             "give each source its own `name`")
        seen[spec.name] = spec
    for spec in specs:
        _check_references(spec, seen)
        for column, other in spec.lookup.items():
            if other not in seen:
                raise spec.error(f"lookup.{column}", f"no source is named `{other}`",
                                 f"{_suggest(other, list(seen))}sources are named "
                                 f"{_listing(list(seen))}")
            if other == spec.name:
                raise spec.error(f"lookup.{column}", "a source cannot look up its own columns",
                                 "name another source")
    return Mapping(path=path, sources=tuple(specs))


def _check_references(spec: SourceSpec, seen: dict[str, SourceSpec]) -> None:
    """A `join` or `unless` names another source that exists; joins do not go round."""
    for wide in spec.events:
        if wide.unless == spec.name:  # (it was never read, without a word)
            raise spec.error(wide.key.removesuffix(".at") + ".unless",
                             "an event cannot be read only when its own source is not given",
                             "name another source, whose file gives the event instead")
        if wide.unless is not None and wide.unless not in seen:
            raise spec.error(wide.key.removesuffix(".at") + ".unless",
                             f"no source is named `{wide.unless}`",
                             f"{_suggest(wide.unless, list(seen))}sources are named "
                             f"{_listing(list(seen))}")
    if spec.join is None:
        return
    other = spec.join.source
    if spec.salesforce_ids:
        raise spec.error("ids", "a source that joins another compares its ids as that one "
                         "says", f'move ids = "salesforce" to the source `{other}`, whose '
                         "ids these are looked up in")
    if other not in seen:
        raise spec.error("join.source", f"no source is named `{other}`",
                         f"{_suggest(other, list(seen))}sources are named "
                         f"{_listing(list(seen))}")
    path, step = [spec.name], seen[other]
    while True:
        if step.name in path:
            raise spec.error("join.source", "joins go round: " + " -> ".join(
                [*path, step.name]), "a source must reach its lead without coming back")
        path.append(step.name)
        if step.join is None or step.join.source not in seen:
            return  # (a join to no source is reported at its own source)
        step = seen[step.join.source]


class _Reader:
    """Typed access to one [[source]] table, each mistake a MappingError at its key."""

    def __init__(self, raw: dict, index: int, path: Path) -> None:
        self.raw, self.index, self.path = raw, index, path
        name = raw.get("name")
        self.name = name if isinstance(name, str) and name else _default_name(raw, index)

    def error(self, key: str | None, problem: str, fix: str) -> MappingError:
        place = f'[[source]] {self.index} ("{self.name}")' + (f", key `{key}`" if key else "")
        return MappingError(f"{self.path}: {place}: {problem}\n  help: {fix}")

    def text(self, value: object, key: str, what: str = "a column name") -> str:
        if not isinstance(value, str) or not value.strip():
            shown = repr(value) if not isinstance(value, dict) else "a table"
            raise self.error(key, f"must be {what} in quotes, got {shown}",
                             f'write it as {key.rsplit(".", 1)[-1]} = "..."')
        return value

    def table(self, key: str) -> dict:
        value = self.raw.get(key, {})
        if not isinstance(value, dict):
            raise self.error(key, "must be a table",
                             f"write it as a [source.{key}] section of `name = \"value\"` lines")
        return value

    def check_keys(self, table: dict, allowed: Sequence[str], prefix: str, fix: str) -> None:
        for key in table:
            if key not in allowed:
                where = f"{prefix}{key}"
                raise self.error(where, "unknown key",
                                 f"{_suggest(key, allowed)}{fix}: {', '.join(allowed)}")


def _default_name(raw: dict, index: int) -> str:
    file = raw.get("file")
    return Path(file).stem if isinstance(file, str) and file else f"source{index}"


def _event_name(reader: _Reader, value: object, key: str) -> str:
    name = reader.text(value, key, "an event name")
    if name not in EVENTS:
        raise reader.error(key, f"unknown event `{name}`",
                           f"{_suggest(name, EVENTS)}events are {', '.join(EVENTS)}")
    return name


def _source(raw: dict, index: int, path: Path) -> SourceSpec:
    r = _Reader(raw, index, path)
    if "actor" in raw or "at" in raw or "event" in raw:
        key = next(k for k in ("actor", "at", "event") if k in raw)
        raise r.error(key, f"`{key}` is not a key of [[source]] itself",
                      "for an event log, write it in [source.columns]; for a wide export, "
                      "give each event its own, e.g. won = { at = \"won_date\", "
                      "actor = \"owner\" } in [source.events]")
    r.check_keys(raw, _SOURCE_KEYS, "", "a [[source]] takes the keys")
    if "name" in raw:
        r.text(raw["name"], "name", "a name")
    file = raw.get("file")
    file_path = None
    if file is not None:
        file_path = Path(r.text(file, "file", "a file path"))
        if not file_path.is_absolute():
            file_path = path.parent / file_path
    fmt = raw.get("format")
    if fmt is not None:
        fmt = r.text(fmt, "format", "a format")
        if fmt not in set(FORMATS.values()):
            raise r.error("format", f"unknown format `{fmt}`",
                          f"{_suggest(fmt, ['csv', 'jsonl', 'parquet'])}formats are csv, "
                          f"jsonl and parquet")
    elif file_path is not None and format_of(file_path) is None:
        raise r.error("file", f"cannot tell the format of `{file}` from its extension",
                      'name it .csv, .jsonl, .ndjson or .parquet, or add format = "csv"')
    timezone = raw.get("timezone")
    if timezone is not None:
        timezone = r.text(timezone, "timezone", "a timezone name")
        try:
            if timezone != REQUIRED_ZONE:
                ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise r.error("timezone", f"unknown timezone `{timezone}`",
                          'use an IANA name such as "Europe/Amsterdam" or "UTC" (or '
                          '"required": the command line names it)') from None
    lead_id = r.text(raw.get("lead_id", "lead_id"), "lead_id")

    columns = r.table("columns")
    events_table = r.table("events")
    if "lead_id" in columns:
        raise r.error("columns.lead_id", "the lead id column is named at the source's top level",
                      f'write lead_id = "{columns["lead_id"]}" directly under [[source]]')
    r.check_keys(columns, _COLUMN_KEYS, "columns.", "[source.columns] names the columns")
    event_names = r.table("event_names")
    if events_table and (columns or event_names):
        key = "columns" if columns else "event_names"
        raise r.error(key, "a source has either [source.events] (a wide export: one date column "
                      "per event) or an event column, not both",
                      f"keep [source.events] and remove [source.{key}], or split the export "
                      f"into two [[source]] tables")

    wide: list[WideEvent] = []
    for event, value in events_table.items():
        key = f"events.{event}"
        if event not in EVENTS:
            raise r.error(key, f"unknown event `{event}`",
                          f"{_suggest(event, EVENTS)}events are {', '.join(EVENTS)}")
        items = value if isinstance(value, list) else [value]
        if not items:
            raise r.error(key, "names no column", f'write {event} = "date column"')
        for item in items:
            if isinstance(item, dict):
                r.check_keys(item, _WIDE_EVENT_KEYS, f"{key}.",
                             "an event's table takes the keys")
                if "at" not in item:
                    raise r.error(key, "names no date column",
                                  f'write {event} = {{ at = "date column" }}')
                at = r.text(item["at"], f"{key}.at")
                actor = r.text(item["actor"], f"{key}.actor") if "actor" in item else None
                unless = (r.text(item["unless"], f"{key}.unless", "a source name")
                          if "unless" in item else None)
            else:
                at, actor, unless = r.text(item, key), None, None
            wide.append(WideEvent(event, at, actor, f"{key}.at" if isinstance(item, dict)
                                  else key, unless))
    if wide and all(w.unless for w in wide):
        raise r.error("events", "every event has `unless`: with those sources given, this "
                      "source would read nothing", "read at least one event always")

    fields_table = raw.get("fields")
    fields: dict[str, str] | None = None
    if fields_table is not None:
        fields = {}
        for name, column in r.table("fields").items():
            if name in RESERVED:
                raise r.error(f"fields.{name}", f"`{name}` is not a field name: it has a "
                              "meaning of its own", "name the field something else")
            fields[name] = r.text(column, f"fields.{name}")
    lookup = {column: r.text(other, f"lookup.{column}", "a source name")
              for column, other in r.table("lookup").items()}

    at_value = columns.get("at", "at")
    at_columns: tuple[str, ...] = ()
    if isinstance(at_value, list):
        at_columns = _column_list(r, at_value, "columns.at", "time columns")
        at_value = at_columns[0]
    event_value = columns.get("event", "event")
    second: str | None = None
    if isinstance(event_value, list):
        pair = _column_list(r, event_value, "columns.event", "columns")
        if len(pair) != 2:
            raise r.error("columns.event", f"names {len(pair)} columns",
                          'an event is one column, or two: the kind of change and its value, '
                          'e.g. event = ["Field", "NewValue"]')
        event_value, second = pair
    actor = columns.get("actor")
    rules = _crm_rules(r, event_names, second)
    return SourceSpec(
        name=r.name, file=file_path, format=fmt, timezone=timezone, lead_id=lead_id,
        at=r.text(at_value, "columns.at"),
        event=r.text(event_value, "columns.event"),
        actor=r.text(actor, "columns.actor") if actor is not None else "actor",
        actor_required=actor is not None,
        event_names=rules["names"], events=tuple(wide), fields=fields, lookup=lookup,
        mapping_path=path, index=index, at_columns=at_columns, event_value=second,
        event_values=rules["values"], filters=rules["where"], duplicates=rules["duplicates"],
        datetime_formats=rules["formats"], join=rules["join"], join_only=rules["join_only"],
        optional=rules["optional"], when_missing=rules["when_missing"],
        tracked_since_first_row=rules["tracked"], aliases=rules["aliases"],
        actors=rules["actors"], value_fields=rules["value_fields"],
        actor_names=rules["actor_names"], optional_fields=rules["optional_fields"],
        actor_zone=rules["actor_zone"],
        before=rules["before"], salesforce_ids=rules["salesforce_ids"],
    )


def _column_list(r: _Reader, value: list, key: str, what: str) -> tuple[str, ...]:
    if not value:
        raise r.error(key, f"names no {what}", f'write {key.rsplit(".", 1)[-1]} = "column"')
    return tuple(r.text(item, f"{key}[{i}]") for i, item in enumerate(value, 1))


def _patterns(r: _Reader, value: object, key: str) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    if not items:
        raise r.error(key, "lists no value", f'write {key.rsplit(".", 1)[-1]} = "value"')
    out = []
    for item in items:
        if isinstance(item, bool):
            item = "true" if item else "false"  # CSV cells are text: true reads as "true"
        elif isinstance(item, int | float):
            item = str(item)
        if not isinstance(item, str):
            raise r.error(key, f"must be text or a list of texts, got {item!r}",
                          'write it as column = "value" or column = ["value", "other*"]')
        out.append(item)
    return tuple(out)


def _conditions(r: _Reader, key: str) -> tuple[Condition, ...]:
    table = r.raw.get(key, {})
    if not isinstance(table, dict):
        raise r.error(key, "must be a table of column = value",
                      f'write it as {key} = {{ IsDeleted = "false" }}')
    return tuple(_condition(r, r.text(column, f"{key}.{column}"), value, f"{key}.{column}")
                 for column, value in table.items())


def _condition(r: _Reader, column: str, value: object, key: str) -> Condition:
    """`column = "value"`, a list of values, or `column = { not = ... }` (none of them)."""
    if not isinstance(value, dict):
        return Condition(column, _patterns(r, value, key), key)
    if set(value) != {"not"}:
        other = next((k for k in value if k != "not"), "not")
        raise r.error(f"{key}.{other}" if value else key,
                      "a table here takes the one key `not`",
                      f'write {column} = {{ not = "value" }} (or a list: {{ not = ["a", "b"] '
                      f'}}) to read the rows whose {column} is none of them')
    return Condition(column, _patterns(r, value["not"], f"{key}.not"), key, negated=True)


def _twins(r: _Reader, duplicates: dict) -> bool:
    """`duplicates.twins`: true or false, and true only with a `keep` that tells the row read
    from its twin."""
    twins = duplicates.get("twins", False)
    if not isinstance(twins, bool):
        raise r.error("duplicates.twins", f"must be true or false, got {twins!r}",
                      "write twins = true")
    if twins and not duplicates.get("keep"):
        raise r.error("duplicates.twins", "needs `keep`: which row of a pair is read",
                      'write duplicates = { key = [...], keep = { NewValue = "005*" }, '
                      'twins = true }')
    return twins


def _chain(r: _Reader, duplicates: dict) -> tuple[str, str] | None:
    """`duplicates.chain`: the two columns of a change's old and new value, with `twins`
    only (without it a group is one row of the CRM's, and there is nothing to order)."""
    chain = duplicates.get("chain")
    if chain is None:
        return None
    if not isinstance(chain, list) or len(chain) != 2:
        raise r.error("duplicates.chain", f"must name two columns, got {chain!r}",
                      'write chain = ["OldValue", "NewValue"]: the old value, then the new')
    if not duplicates.get("twins", False):
        raise r.error("duplicates.chain", "needs `twins = true`: only changes are chained",
                      'write duplicates = { key = [...], keep = { ... }, twins = true, '
                      'chain = ["OldValue", "NewValue"] }')
    old, new = _column_list(r, chain, "duplicates.chain", "columns")
    return old, new


def _crm_rules(r: _Reader, event_names: dict, second: str | None) -> dict:
    """The keys a CRM's own objects need, each checked at its key (module docstring)."""
    raw = r.raw
    out: dict = {"where": _conditions(r, "where"), "duplicates": None, "join": None}
    dup = raw.get("duplicates")
    if dup is not None:
        if not isinstance(dup, dict) or "key" not in dup:
            raise r.error("duplicates", "must be a table with `key` (and `keep`)",
                          'write duplicates = { key = ["LeadId", "CreatedDate"], keep = '
                          '{ NewValue = "005*" } }')
        r.check_keys(dup, ("key", "keep", "twins", "chain"), "duplicates.",
                     "duplicates takes the keys")
        key = dup["key"]
        key = _column_list(r, key if isinstance(key, list) else [key], "duplicates.key",
                           "columns")
        keep = dup.get("keep", {})
        if not isinstance(keep, dict):
            raise r.error("duplicates.keep", "must be a table of column = value",
                          'write keep = { NewValue = "005*" }')
        out["duplicates"] = Duplicates(key, tuple(
            _condition(r, column, value, f"duplicates.keep.{column}")
            for column, value in keep.items()), _twins(r, dup), _chain(r, dup))
    formats = raw.get("datetime_format", [])
    formats = formats if isinstance(formats, list) else [formats]
    out["formats"] = tuple(r.text(f, "datetime_format", "a strptime format such as "
                                  '"%m/%d/%Y %I:%M %p"') for f in formats)
    for fmt in out["formats"]:
        if "%" not in fmt and fmt != EPOCH_MS:
            raise r.error("datetime_format", f"`{fmt}` has no % directive",
                          'write a strptime format, e.g. "%m/%d/%Y %I:%M %p" for '
                          f'3/15/2024 2:30 PM, or "{EPOCH_MS}" for milliseconds since 1970 '
                          'UTC (1710513000000)')
    join = raw.get("join")
    if join is not None:
        if not isinstance(join, dict) or "source" not in join or "match" not in join:
            raise r.error("join", "must be a table with `source` and `match`",
                          'write join = { source = "Lead", match = ["Id", '
                          '"ConvertedContactId"] }')
        r.check_keys(join, ("source", "match"), "join.", "join takes the keys")
        match = join["match"]
        out["join"] = Join(r.text(join["source"], "join.source", "a source name"),
                           _column_list(r, match if isinstance(match, list) else [match],
                                        "join.match", "columns"))
    for flag in ("join_only", "optional", "tracked_since_first_row", "optional_fields"):
        value = raw.get(flag, False)
        if not isinstance(value, bool):
            raise r.error(flag, f"must be true or false, got {value!r}",
                          f"write {flag} = true")
        out["tracked" if flag == "tracked_since_first_row" else flag] = value
    ids = raw.get("ids")
    if ids is not None and ids != SALESFORCE:
        raise r.error("ids", f"unknown kind of ids {ids!r}",
                      f'write ids = "{SALESFORCE}" (a 15-character id and its 18-character '
                      "form are one id), or leave it out (ids compared as written)")
    out["salesforce_ids"] = ids == SALESFORCE
    when = raw.get("when_missing")
    out["when_missing"] = r.text(when, "when_missing", "a note") if when is not None else None
    if when is not None and not out["optional"]:
        raise r.error("when_missing", "only an optional source can be missing",
                      "add optional = true, or remove when_missing")
    out["aliases"] = {r.text(name, "aliases"): _column_list(
        r, other if isinstance(other, list) else [other], f'aliases."{name}"', "columns")
        for name, other in r.table("aliases").items()}
    names_of = raw.get("actor_names")
    out["actor_names"] = out["actor_zone"] = None
    if names_of is not None:
        if not isinstance(names_of, dict) or not {"id", "name"} <= set(names_of) \
                or not set(names_of) <= {"id", "name", "zone"}:
            raise r.error("actor_names", "must be a table with `id` and `name` (and `zone`)",
                          'write actor_names = { id = "Id", name = "Name" } (a column of '
                          'each one\'s time zone too: zone = "TimeZoneSidKey")')
        out["actor_names"] = (r.text(names_of["id"], "actor_names.id"),
                              r.text(names_of["name"], "actor_names.name"))
        if "zone" in names_of:
            out["actor_zone"] = r.text(names_of["zone"], "actor_names.zone")
    out["actors"] = {}
    for event, column in r.table("actors").items():
        _event_name(r, event, f"actors.{event}")
        out["actors"][event] = r.text(column, f"actors.{event}")
    out["before"] = {}
    for event, column in r.table("before").items():
        if r.raw.get("events"):
            raise r.error(f"before.{event}", "a wide export has no change to read this from",
                          "write [source.before] in the source of changes (LeadHistory)")
        _event_name(r, event, f"before.{event}")
        out["before"][event] = r.text(column, f"before.{event}")
    out["value_fields"] = {}
    for key, name in r.table("value_fields").items():
        if second is None:
            raise r.error(f"value_fields.{key}", "needs an event of two columns",
                          'write event = ["Field", "NewValue"] in [source.columns]')
        name = r.text(name, f"value_fields.{key}", "a field name")
        if name in RESERVED:
            raise r.error(f"value_fields.{key}", f"`{name}` is not a field name: it has a "
                          "meaning of its own", "name the field something else")
        out["value_fields"][key] = name
    names: dict[str, str] = {}
    values: dict[str, dict[str, str]] = {}
    for crm_name, event in event_names.items():
        key = f'event_names."{crm_name}"'
        if isinstance(event, dict):
            if second is None:
                raise r.error(key, "a table of values needs an event of two columns",
                              'write event = ["Field", "NewValue"] in [source.columns], or '
                              f'"{crm_name}" = "touch"')
            values[crm_name] = {value: _event_name(r, name, f'{key}."{value}"')
                                for value, name in event.items()}
        else:
            names[crm_name] = _event_name(r, event, key)
    out["names"], out["values"] = names, values
    return out
