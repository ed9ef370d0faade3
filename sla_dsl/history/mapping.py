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

This module parses and checks the file itself; `sla_dsl.history.read` reads the data with it.
Every mistake becomes a `MappingError` that names the file, the key and the fix.
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sla_dsl.history.columns import EVENTS, HistoryError

__all__ = [
    "FORMATS",
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
                "event_names", "fields", "lookup")
_COLUMN_KEYS = ("at", "event", "actor")
_WIDE_EVENT_KEYS = ("at", "actor")


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
        full export can stand in for the excerpt the mapping names); a mapping with one source
        takes every path (monthly exports of one shape). Then every source must have a file."""
        given = [Path(p) for p in paths]
        bound: dict[int, list[Path]] = {i: [] for i in range(len(self.sources))}
        if given:
            for path in given:
                matches = [i for i, s in enumerate(self.sources)
                           if s.file is not None and s.file.name == path.name]
                if not matches and len(self.sources) == 1:
                    matches = [0]
                if not matches:
                    names = [s.file.name for s in self.sources if s.file is not None]
                    raise MappingError(
                        f"{self.path}: the file `{path}` matches no source's `file` "
                        f"({_listing(names)})\n  help: give each file the name its source's "
                        f"`file` has in the mapping, or leave the paths out to read the files "
                        f"the mapping names")
                for i in matches:
                    bound[i].append(path)
            missing = [s for i, s in enumerate(self.sources) if not bound[i]]
            if missing:
                spec = missing[0]
                raise spec.error(
                    "file", f"no file given for this source (it reads `{spec.file}`)",
                    "give a file for every source, or leave the paths out to read the files "
                    "the mapping names")
        else:
            for i, spec in enumerate(self.sources):
                if spec.file is None:
                    raise spec.error(None, "this source names no `file`",
                                     'add `file = "export.csv"` (relative to the mapping '
                                     "file), or give the file's path on the command line")
                bound[i].append(spec.file)
        return [(spec, bound[i]) for i, spec in enumerate(self.sources)]


# ---------------------------------------------------------------------------- parsing

def load_mapping(path: Path | str) -> Mapping:
    """Read and check a mapping file. Raises `MappingError` (never a raw traceback)."""
    path = Path(path)
    try:
        if path.stat().st_size > MOST_MAPPING_BYTES:
            raise MappingError(f"{path}: the mapping is more than {MOST_MAPPING_BYTES // 1024:,} "
                               "KiB, the most a mapping may be\n  help: a mapping names "
                               "columns; check that this is the mapping and not an export")
        text = path.read_text(encoding="utf-8-sig")
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
        for column, other in spec.lookup.items():
            if other not in seen:
                raise spec.error(f"lookup.{column}", f"no source is named `{other}`",
                                 f"{_suggest(other, list(seen))}sources are named "
                                 f"{_listing(list(seen))}")
            if other == spec.name:
                raise spec.error(f"lookup.{column}", "a source cannot look up its own columns",
                                 "name another source")
    return Mapping(path=path, sources=tuple(specs))


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
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise r.error("timezone", f"unknown timezone `{timezone}`",
                          'use an IANA name such as "Europe/Amsterdam" or "UTC"') from None
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
    names: dict[str, str] = {}
    for crm_name, event in event_names.items():
        names[crm_name] = _event_name(r, event, f'event_names."{crm_name}"')

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
            else:
                at, actor = r.text(item, key), None
            wide.append(WideEvent(event, at, actor, f"{key}.at" if isinstance(item, dict)
                                  else key))

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

    actor = columns.get("actor")
    return SourceSpec(
        name=r.name, file=file_path, format=fmt, timezone=timezone, lead_id=lead_id,
        at=r.text(columns.get("at", "at"), "columns.at"),
        event=r.text(columns.get("event", "event"), "columns.event"),
        actor=r.text(actor, "columns.actor") if actor is not None else "actor",
        actor_required=actor is not None,
        event_names=names, events=tuple(wide), fields=fields, lookup=lookup,
        mapping_path=path, index=index,
    )
