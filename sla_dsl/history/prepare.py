"""A CRM's own objects, reshaped into records before they are read as events.

A Salesforce or HubSpot export is not an event log: deleted rows and other objects' rows sit
among the lead's, an owner change is written twice, the event is a pair of columns (the field
that changed and its new value), the time is the first of several columns or localized text,
and a task names a contact that is found only through the lead it was converted from. The
mapping says how (`sla_dsl.history.mapping`, module docstring); this module does it, on whole
Arrow columns, and hands `sla_dsl.history.read` a table of one row per record with the plain
columns it reads (lead id, time, event, actor, fields) added.

Nothing is dropped unseen. A row a `where` or `duplicates` rule leaves out makes no record and
is counted as left out (per file); a row that should have been an event and cannot be (its
contact is no lead's, its status is in no table) is a record rejected with that reason.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sla_dsl.business_time.zones import local_time
from sla_dsl.history.columns import EVENT_CODE, MOST_VALUE_BYTES, History, HistoryError
from sla_dsl.history.mapping import ANY_VALUE, EPOCH_MS, Condition, Mapping, SourceSpec
from sla_dsl.history.salesforce_ids import full_id, full_ids
from sla_dsl.language.plain_words import counted

__all__ = ["JoinTarget", "Prepared", "actor_zones", "actors_before", "aliased", "coded_in",
           "hashed_with", "history_notes", "matches", "named_actors", "prepare",
           "shares_one_dictionary"]


@dataclass(frozen=True)
class JoinTarget:
    """A source other sources join through: its rows (after its own rules) and the column
    holding each row's lead id.

    `together` names the other id columns that are compared with its ids (a source coded in
    its leads, Salesforce's LeadHistory.LeadId; a join's cells, Task.WhoId; the target's own
    match columns, Lead.ConvertedContactId), keyed by `together_key` or the column's name:
    they are hashed with its lead ids in one pass (`_hashed`), the longest step of reading
    an export, so that each id is hashed once and every later comparison is of integers."""

    spec: SourceSpec
    table: pa.Table
    lead: str
    path: Path
    together: dict[object, pa.ChunkedArray | pa.Array] = field(default_factory=dict)
    filtered: bool = False  # its rows are those its `where` keeps (a deleted Lead is none)

    @cached_property
    def _hashed(self) -> tuple[pa.Array, dict[object, np.ndarray]]:
        """(the distinct ids, per column of `together` its codes into them, -1 for none;
        None for the target's lead ids). The target's ids are hashed first, so the first
        distinct ids are its leads in the order its rows first name them, and a column's
        ids that are no lead follow in the order of `together` (its sources' order)."""
        own = _strings(self.table.column(self.lead))
        columns = [own, *(_strings(c) for c in self.together.values())]
        chunks = [self._compared(chunk.cast(own.type) if chunk.type != own.type else chunk)
                  for column in columns for chunk in _chunks(column)]
        if not sum(len(c) for c in chunks):
            return pa.array([], own.type), {key: np.full(len(c), -1, dtype=np.int64)
                                            for key, c in zip([None, *self.together], columns,
                                                              strict=True)}
        encoded = pa.chunked_array(chunks, own.type).dictionary_encode()
        every = _indices(encoded.chunks)
        codes, start = {}, 0
        for key, column in zip([None, *self.together], columns, strict=True):
            codes[key] = every[start:start + len(column)]
            start += len(column)
        return encoded.chunks[-1].dictionary, codes

    def _compared(self, ids: pa.Array) -> pa.Array:
        """Ids as they are compared: without the spaces around them, and Salesforce's in
        their 18-character form where the target says its ids are Salesforce's."""
        ids = pc.utf8_trim_whitespace(ids)
        return full_ids(ids) if self.spec.salesforce_ids else ids

    @cached_property
    def lead_codes(self) -> tuple[np.ndarray, pa.Array]:
        """(per row, its lead's code, -1 for none; the distinct lead ids, in the order rows
        first name them): hashed once, however many sources join through the target, and
        the target's own records read their leads from it (`coded_leads`)."""
        dictionary, codes = self._hashed
        own = codes[None]
        return own, dictionary.slice(0, int(own.max(initial=-1)) + 1)

    def coded_leads(self) -> pa.DictionaryArray:
        """The target's lead id column as `lead_codes` encodes it (for its own records)."""
        codes, ids = self.lead_codes
        return pa.DictionaryArray.from_arrays(pa.array(codes, pa.int32(), mask=codes < 0), ids)

    def codes_of(self, key: object, column: pa.ChunkedArray | pa.Array) -> np.ndarray:
        """`column`'s codes among the ids hashed (-1: none), `together[key]`'s when it was
        hashed with them; else (not expected) it is hashed now, its new ids added after the
        others, so that every code given out stays as it was."""
        dictionary, codes = self._hashed
        if key not in codes:
            encoded = pc.dictionary_encode(pa.concat_arrays([dictionary, self._compared(
                _plain(column).cast(dictionary.type))]))
            codes[key] = _indices([encoded.indices.slice(len(dictionary))])
            self.__dict__["_hashed"] = (encoded.dictionary, codes)  # (the cached property's)
        return codes[key]

    def coded_like_leads(self, key: object, column: pa.ChunkedArray | pa.Array
                         ) -> pa.DictionaryArray:
        """Another source's lead id column coded in a dictionary that starts with the
        target's lead ids (ids it does not know follow, in the order it first names them):
        LeadHistory's LeadId by Lead's ids, so that the reader merges the two sources' leads
        by comparing that start, not by hashing a million ids again. Its dictionary may
        also hold, before its own new ids, those of sources hashed before it, which the
        reader has merged already: the leads are numbered the same."""
        _, ids = self.lead_codes
        if key not in self.together:  # (not expected) hashed now, with the lead ids only
            encoded = pc.dictionary_encode(pa.concat_arrays([ids, self._compared(
                _plain(column).cast(ids.type))]))
            return pa.DictionaryArray.from_arrays(encoded.indices.slice(len(ids)),
                                                  encoded.dictionary)
        dictionary, codes = self._hashed
        mine = codes[key]
        size = max(len(ids), int(mine.max(initial=-1)) + 1)
        return pa.DictionaryArray.from_arrays(pa.array(mine, pa.int32(), mask=mine < 0),
                                              dictionary.slice(0, size))

    def keys(self, column: str) -> tuple[np.ndarray, np.ndarray]:
        """(the target rows whose `column` cell and lead id are not blank, the codes of those
        cells): a join's match column, found once however many sources join by it."""
        found = self.__dict__.setdefault("_keys", {})
        if column not in found:
            where = np.flatnonzero(~_empty(self.table.column(column))
                                   & ~_empty(self.table.column(self.lead)))
            codes = self.codes_of(column, self.table.column(column))[where]
            found[column] = (where[codes >= 0], codes[codes >= 0])
        return found[column]

    def leads_of(self, codes: np.ndarray, joiner: SourceSpec) -> pa.DictionaryArray:
        """Lead codes (-1: none) as a dictionary-encoded column: the ids are neither copied
        per record nor hashed again when read. The dictionary is in the order the records
        first name each lead, as the reader's own encoding would be; or, when the target's
        records are read before the joiner's (Salesforce's Lead before its Task), the target's
        whole dictionary, which is then the target's own lead dictionary and is not hashed
        again when the files' leads are merged (either way, the same lead codes)."""
        _, ids = self.lead_codes
        if not self.spec.join_only and self.spec.index < joiner.index:
            return pa.DictionaryArray.from_arrays(pa.array(codes, pa.int32(), mask=codes < 0),
                                                  ids)
        encoded = pc.dictionary_encode(pa.array(codes, mask=codes < 0))
        return pa.DictionaryArray.from_arrays(encoded.indices, ids.take(encoded.dictionary))


def coded_in(spec: SourceSpec, table: pa.Table, targets: dict[str, JoinTarget]
             ) -> JoinTarget | None:
    """The join target a source with records of its own (no join) is coded in the leads of,
    if any: the first target read before it (Salesforce's LeadHistory in Lead's ids)."""
    if spec.join is not None or spec.join_only or spec.wide or not spec.prepared \
            or spec.lead_id not in table.column_names \
            or pa.types.is_dictionary(table.column(spec.lead_id).type):
        return None
    return next((t for t in targets.values() if not t.spec.join_only
                 and t.spec.index < spec.index), None)


def hashed_with(target: JoinTarget, sources: Sequence[tuple[SourceSpec, pa.Table, Path]],
                targets: dict[str, JoinTarget]) -> dict[object, pa.ChunkedArray]:
    """The id columns to hash with a new join target's lead ids (`JoinTarget.together`),
    from every source's file (its spec, table as read and path): the sources `coded_in`
    its leads, then the cells of the sources that join through it, then its own match
    columns; each under the key its user asks for it by."""
    name = target.spec.name
    coded, joins, keys = {}, {}, {}
    for spec, table, path in sources:
        if spec.join is not None and spec.join.source == name:
            table = aliased(spec, table)
            if spec.lead_id in table.column_names:
                joins[(spec.name, str(path))] = table.column(spec.lead_id)
            keys.update({column: target.table.column(column) for column in spec.join.match
                         if column != target.lead and column in target.table.column_names})
        elif spec.index > target.spec.index and coded_in(
                spec, table, {**targets, name: target}) is target:
            coded[(spec.name, str(path))] = table.column(spec.lead_id)
    return {**coded, **joins, **keys}


@dataclass
class Prepared:
    """A source's records: `table` (one row per record), `rows` (per record, the row of the
    file's table `source` it came from), `reasons` (per record, why it cannot be an event, or
    None), `left_out` (rows `where` and `duplicates` left out) and the spec to read `table`
    with."""

    table: pa.Table
    rows: np.ndarray
    reasons: np.ndarray | None
    left_out: int
    spec: SourceSpec
    source: pa.Table  # the file's table, every column: a rejected record's raw values
    before: dict[str, pa.Array] | None = None  # per record, `[source.before]`'s cell
    # a column of the records' table held as values (the time, as instants), by name: its
    # text for rows of `source`, as a rejected record's raw values show it
    texts: dict[str, Callable[[np.ndarray], pa.ChunkedArray | pa.Array]] | None = None

    def target(self, path: Path) -> JoinTarget:
        return JoinTarget(self.spec, self.table, self.spec.lead_id, path)


# ---------------------------------------------------------------------------- text columns


def _strings(column: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    """A column as plain text (dictionary-encoded columns decoded)."""
    kind = column.type
    if pa.types.is_dictionary(kind):
        column = pc.cast(column, kind.value_type)
        kind = column.type
    if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
        column = pc.cast(column, pa.string())
    return column


def _blank(values: pa.ChunkedArray | pa.Array) -> np.ndarray:
    return np.asarray(pc.fill_null(pc.equal(pc.utf8_trim_whitespace(values), ""), True))


def _no_blanks(values: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    """Text with its blank cells (empty, only spaces) as nulls: a CSV's empty cells are nulls
    already, so most columns are returned as they are."""
    spaces = pc.fill_null(pc.or_(pc.utf8_is_space(values), pc.equal(values, "")), False)
    if not pc.any(spaces).as_py():
        return values
    return pc.if_else(spaces, pa.scalar(None, values.type), values)


def _like(pattern: str) -> str:
    escaped = pattern.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped.replace(ANY_VALUE, "%")


def shares_one_dictionary(column: pa.ChunkedArray) -> bool:
    """Whether every chunk of a dictionary-encoded column shares one dictionary (the same
    buffers: a column coded once, then cut into chunks), which needs no unifying: unifying
    would hash that dictionary again for every chunk."""
    if column.num_chunks < 2:
        return True

    def key(chunk: pa.DictionaryArray) -> tuple:
        values = chunk.dictionary
        return (len(values), values.offset,
                [b.address if b is not None else 0 for b in values.buffers()])

    first = key(column.chunk(0))
    return all(key(chunk) == first for chunk in column.chunks[1:])


def _coded(column: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, pa.Array]:
    """(codes, values): each row's code into `values`, its distinct texts as written, -1 for
    no value. A dictionary-encoded column (a CSV's few-valued columns) keeps its dictionary;
    text is hashed in one pass (one dictionary, none to unify)."""
    if not pa.types.is_dictionary(column.type):
        column = _strings(column).dictionary_encode()
    if isinstance(column, pa.ChunkedArray) and not shares_one_dictionary(column):
        column = column.unify_dictionaries()
    chunks = _chunks(column)
    if not chunks:
        return np.zeros(0, dtype=np.int32), pa.array([], pa.string())
    return _indices(chunks), _strings(chunks[-1].dictionary)


def _distinct(column: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, pa.Array]:
    """(codes, values): each row's code into `values`, the distinct texts, trimmed, "" for no
    value. A dictionary-encoded column (a CSV's few-valued columns) keeps its dictionary."""
    codes, dictionary = _coded(column)
    codes[codes < 0] = len(dictionary)
    trimmed = dictionary
    if _may_need_trim(dictionary):
        trimmed = pc.utf8_trim_whitespace(dictionary)
        if not pc.all(pc.equal(trimmed, dictionary)).as_py():  # " a" and "a": one value
            again = pc.dictionary_encode(trimmed)
            codes = np.append(np.asarray(again.indices, dtype=np.int64),
                              len(again.dictionary))[codes]
            trimmed = again.dictionary
    return codes, pa.concat_arrays([trimmed, pa.array([""], trimmed.type)])


_WHITE_BYTES = np.zeros(256, dtype=bool)
_WHITE_BYTES[[9, 10, 11, 12, 13, 32]] = True
_WHITE_BYTES[0x80:] = True  # a character of more than one byte: perhaps a Unicode space


def _may_need_trim(values: pa.ChunkedArray | pa.Array) -> bool:
    """Whether a text value may start or end with white space: its first or last byte is an
    ASCII space, or starts a character of more bytes. Only then is trimming worth its copy
    (told from the offsets and bytes Arrow holds, no value copied)."""
    for chunk in _chunks(values):
        if not len(chunk) or chunk.null_count == len(chunk):
            continue
        if not (pa.types.is_string(chunk.type) or pa.types.is_large_string(chunk.type)):
            return True
        _, offsets_buffer, data_buffer = chunk.buffers()
        if data_buffer is None:
            continue
        kind = np.dtype(np.int32 if pa.types.is_string(chunk.type) else np.int64)
        offsets = np.frombuffer(offsets_buffer, kind, len(chunk) + 1,
                                chunk.offset * kind.itemsize)
        data = np.frombuffer(data_buffer, np.uint8)
        full = offsets[1:] > offsets[:-1]
        if _WHITE_BYTES[data[offsets[:-1][full]]].any() \
                or _WHITE_BYTES[data[offsets[1:][full] - 1]].any():
            return True
    return False


def matches(column: pa.ChunkedArray | pa.Array, patterns: Sequence[str]) -> np.ndarray:
    """Per row, whether the cell matches one of `patterns` ("" an empty cell, `*` any run)."""
    if pa.types.is_dictionary(column.type):  # decided once per distinct value
        codes, values = _distinct(column)
        return matches(values, patterns)[codes]
    values = _strings(column)
    out = np.zeros(len(values), dtype=bool)
    exact = [p for p in patterns if ANY_VALUE not in p and p != ""]
    if "" in patterns:
        out |= _blank(values)
    trimmed = pc.utf8_trim_whitespace(values) if _may_need_trim(values) else values
    if exact:
        out |= np.asarray(pc.fill_null(pc.is_in(trimmed, value_set=pa.array(exact)), False))
    for pattern in patterns:
        if ANY_VALUE in pattern:
            out |= np.asarray(pc.fill_null(pc.match_like(trimmed, _like(pattern)), False))
    return out


def _all_match(table: pa.Table, conditions: Sequence[Condition]) -> np.ndarray:
    out = np.ones(table.num_rows, dtype=bool)
    for condition in conditions:
        found = matches(table.column(condition.column), condition.patterns)
        out &= ~found if condition.negated else found
    return out


def _free_name(table: pa.Table | Collection[str], wanted: str) -> str:
    taken = table.column_names if isinstance(table, pa.Table) else table
    name = wanted
    while name in taken:
        name = f"sla_{name}"
    return name


# ---------------------------------------------------------------------------- the steps


def aliased(spec: SourceSpec, table: pa.Table) -> pa.Table:
    """Columns named by an alias take the name the mapping uses."""
    names = list(table.column_names)
    for name, others in spec.aliases.items():
        if name in names:
            continue
        found = next((other for other in others if other in names), None)
        if found is not None:
            names[names.index(found)] = name
    return table.rename_columns(names)


def _needed(spec: SourceSpec, table: pa.Table, path: Path) -> None:
    """Every column the rules name is in the file, or a MappingError at its key."""
    columns = table.column_names
    needed: list[tuple[str, str]] = [("lead_id", spec.lead_id)]
    needed += [(c.key, c.column) for c in spec.filters]
    if spec.duplicates is not None:
        needed += [("duplicates.key", c) for c in spec.duplicates.key]
        needed += [(c.key, c.column) for c in spec.duplicates.keep]
        needed += [("duplicates.chain", c) for c in spec.duplicates.chain or ()]
    if spec.wide:  # (an aliased date column missing was an internal error further on)
        needed += [(w.key, w.at) for w in spec.events]
        needed += [(w.key.removesuffix(".at") + ".actor", w.actor) for w in spec.events
                   if w.actor]
    if not spec.wide and not spec.join_only:
        needed += [("columns.at", c) for c in spec.at_columns or (spec.at,)]
        needed.append(("columns.event", spec.event))
        if spec.event_value is not None:
            needed.append(("columns.event", spec.event_value))
        if spec.actor_required:
            needed.append(("columns.actor", spec.actor))
        needed += [(f"actors.{event}", column) for event, column in spec.actors.items()]
        needed += [(f"before.{event}", column) for event, column in spec.before.items()]
    for key, name in needed:
        if name not in columns and name not in spec.lookup:  # (looked up: another source's)
            close = difflib.get_close_matches(name, columns, n=1, cutoff=0.6)
            hint = f"did you mean `{close[0]}`? " if close else ""
            alias = [n for n, others in spec.aliases.items() if n == name]
            also = f" (nor {', '.join(spec.aliases[name])})" if alias else ""
            raise spec.error(key, f"`{path.name}` has no column `{name}`{also}",
                             f"{hint}its columns are {', '.join(columns) or 'none'}")


def _kept_rows(spec: SourceSpec, table: pa.Table, times: _Times
               ) -> tuple[np.ndarray, np.ndarray | None]:
    """The rows `where` and `duplicates` keep, in file order, and the order to read them in
    (positions in those rows) when a `duplicates.chain` links some out of it, else None."""
    keep = _all_match(table, spec.filters) if spec.filters else np.ones(table.num_rows, bool)
    rows = np.flatnonzero(keep)
    if spec.duplicates is None or len(rows) < 2:
        return rows, None
    shared, key = _shared_rows(spec.duplicates.key, table, rows, times)
    if not len(shared):
        return rows, None
    keep_columns = list(dict.fromkeys(c.column for c in spec.duplicates.keep))
    preferred = (_all_match(table.select(keep_columns).take(pa.array(rows[shared])),
                            spec.duplicates.keep)
                 if spec.duplicates.keep else np.ones(len(shared), dtype=bool))
    drop = np.zeros(len(rows), dtype=bool)
    if spec.duplicates.twins:
        drop[shared[_twins(key, shared, preferred)]] = True
        alive = ~drop[shared]
        place = np.cumsum(~drop) - 1  # a kept row's position among the kept
        order = (_chain_order(spec.duplicates.chain, table, rows[~drop], place[shared[alive]],
                              key[alive]) if spec.duplicates.chain else None)
        return rows[~drop], order
    # per group, the first preferred row, else the first row
    order = np.lexsort((shared, ~preferred, key))
    first = np.r_[True, key[order][1:] != key[order][:-1]]
    drop[shared] = True
    drop[shared[order[first]]] = False
    return rows[~drop], None


def _twins(key: np.ndarray, shared: np.ndarray, preferred: np.ndarray) -> np.ndarray:
    """Per shared row (`shared`: positions in file order, `key`: their groups), whether it is
    the twin of a preferred row of its group (`duplicates.twins`): the n-th row of a group not
    preferred is the twin of its n-th preferred row, if it has one. Salesforce writes an owner
    change twice (user Ids, then names), and two changes in one second share a key: pairing
    by count leaves out one name row per Id row and keeps every change of a chain."""
    order = np.lexsort((shared, key))
    group = key[order]
    other = ~preferred[order]
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    sizes = np.diff(np.r_[starts, len(order)])
    pairs = np.repeat(np.add.reduceat(preferred[order].astype(np.int64), starts), sizes)
    seen = np.cumsum(other)  # rows not preferred up to here, this one included
    before = np.repeat(seen[starts] - other[starts], sizes)  # ... before the group
    twin = np.zeros(len(order), dtype=bool)
    twin[order] = other & (seen - before <= pairs)
    return twin


def _chain_order(chain: tuple[str, str], table: pa.Table, rows: np.ndarray,
                 shared: np.ndarray, key: np.ndarray) -> np.ndarray | None:
    """Positions in `rows` (file rows) that put each group of changes alike in the
    `duplicates` key (`shared`: positions in `rows`, `key`: their groups) in the order their
    values link (`duplicates.chain`), each group keeping its places; None when the file's
    order is that already. A record's place among its lead's events at one instant is its
    place in the file: the history is sorted stably."""
    by_group = np.lexsort((shared, key))  # each group's rows together, in file order
    shared, key = shared[by_group], key[by_group]
    taken = pa.array(rows[shared], pa.int64())
    old, new = (np.array(pc.utf8_trim_whitespace(_strings(table.column(c)).take(taken))
                         .to_pylist(), dtype=object) for c in chain)
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    order = np.arange(len(rows))
    moved = False
    for start, stop in zip(starts.tolist(), [*starts[1:].tolist(), len(key)], strict=True):
        group = slice(start, stop)  # (groups are few: most changes have a second alone)
        linked = _linked(old[group].tolist(), new[group].tolist())
        if linked is not None and linked != sorted(linked):
            order[shared[group]] = shared[group][linked]
            moved = True
    return order if moved else None


def _linked(old: list, new: list) -> list[int] | None:
    """One group's changes in the order their values link, each one's new value the next
    one's old; None when they make no single chain."""
    targets = set(new)
    if len(set(old)) != len(old) or len(targets) != len(new):
        return None
    starts = [i for i, value in enumerate(old) if value not in targets]
    if len(starts) != 1:
        return None
    from_value = {value: i for i, value in enumerate(old)}
    chain, seen = starts, set(starts)
    while len(chain) < len(old):
        following = from_value.get(new[chain[-1]])
        if following is None or following in seen:
            return None
        chain.append(following)
        seen.add(following)
    return chain


def _shared_rows(columns: Sequence[str], table: pa.Table, rows: np.ndarray, times: _Times
                 ) -> tuple[np.ndarray, np.ndarray]:
    """(positions in `rows` of rows equal to another in every column, their group numbers).

    Most rows have no twin, so the cheap columns (few values, or ISO 8601 instants) go first
    and each column drops the rows already alone; the costly ones (ids) are hashed only for
    the rows still sharing a group."""
    ordered = sorted(columns, key=lambda c: not pa.types.is_dictionary(table.column(c).type))
    candidates = np.arange(len(rows))
    key = np.zeros(len(rows), dtype=np.int64)
    bound = 1  # every key is below it
    for column in ordered:
        codes, count = _key_codes(table.column(column), rows[candidates], times(column))
        key = key * count + codes  # below rows x values: no overflow
        bound *= count
        if bound > 4 * len(key) + (1 << 20):  # too sparse to count: numbered again
            key = _renumbered(key)
            bound = int(key.max(initial=0)) + 1
        alone = np.bincount(key, minlength=bound)[key] == 1
        if alone.any():
            candidates, key = candidates[~alone], key[~alone]
        if not len(candidates):
            break
    return candidates, key


def _renumbered(key: np.ndarray) -> np.ndarray:
    """Equal keys, equal small numbers (0, 1, ...): Arrow hashes integers, no sort."""
    if not len(key):
        return key
    encoded = pc.dictionary_encode(pa.array(key, pa.int64()))
    return np.asarray(encoded.indices, dtype=np.int64)


_ISO_START = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


def _key_codes(column: pa.ChunkedArray | pa.Array, rows: np.ndarray,
               instants: pa.ChunkedArray | pa.Array | None) -> tuple[np.ndarray, int]:
    """For `rows`, equal values, equal codes, and a bound on the codes: a column of ISO 8601
    instants (a CreatedDate; `instants`, the whole column read as instants) by its instants,
    which is cheaper than hashing its text; others by text (trimmed, blanks one value)."""
    if pa.types.is_dictionary(column.type):
        codes, values = _distinct(column)
        return codes[rows], len(values)
    if instants is not None:
        raw = np.asarray(pc.fill_null(pc.cast(instants, pa.int64()), np.iinfo(np.int64).min))
        codes = _renumbered(raw[rows])
        return codes, int(codes.max(initial=0)) + 1
    codes, values = _distinct(_strings(column).take(pa.array(rows, pa.int64())))
    return codes, len(values)


_AWARE = pa.timestamp("us", "UTC")


def _instants(column: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array | None:
    """A text column of ISO 8601 times with offsets (as an API export writes them) as UTC
    instants, cast as the reader casts a time (`read._parse_chunk`), so the same instants;
    None when a cell is not one (a localized time, a blank of spaces, a bad value)."""
    if pa.types.is_dictionary(column.type):
        return None
    text = _strings(column)
    first = pc.drop_null(text[:100]).to_pylist()[:1]
    if first and not _ISO_START.match(first[0]):  # (a failed cast is slow: times only)
        return None
    try:
        return pc.cast(text, _AWARE)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None


class _Times:
    """A file table's text columns as instants (`_instants`), each cast once however many
    rules read it (LeadHistory's CreatedDate: its `duplicates` key and its records' time)."""

    def __init__(self, table: pa.Table) -> None:
        self.table = table
        self.cast: dict[str, pa.ChunkedArray | pa.Array | None] = {}

    def __call__(self, name: str) -> pa.ChunkedArray | pa.Array | None:
        if name not in self.cast:
            self.cast[name] = _instants(self.table.column(name))
        return self.cast[name]


def _join(spec: SourceSpec, path: Path, cells: pa.ChunkedArray | pa.Array, kept: np.ndarray,
          target: JoinTarget, codes: np.ndarray
          ) -> tuple[np.ndarray, pa.Array, np.ndarray | None]:
    """(records' rows, as positions in `kept`; their leads; reasons): each kept row's lead id
    cell (`cells` holds every file row's) found in the target's `match` columns, the first
    column that has it; one record per lead found.

    The kept cells come as `codes` (per kept row, its code among the ids the target hashed
    with its own, `JoinTarget.codes_of`), and so do the target's columns: a cell is a lead's
    own id when its code is a lead's, and is found in a key column by comparing integers;
    rows found in several of the target's rows are expanded with numpy, never a Python loop
    over rows."""
    assert spec.join is not None
    other = target.table
    for column in spec.join.match:
        if column not in other.column_names:
            raise spec.error("join.match", f"source `{target.spec.name}` "
                             f"(`{target.path.name}`) has no column `{column}`",
                             f"its columns are {', '.join(other.column_names)}")
    # Ids are compared without the spaces around them (as the reader keeps a lead id) and
    # otherwise as written; blank ones never match.
    lead_codes, lead_ids = target.lead_codes
    n = len(kept)
    found = 0  # rows of the target found by rows found in several
    other_code = np.full(n, -1, dtype=np.int64)  # the one lead found (the usual case)
    several: list[tuple[np.ndarray, np.ndarray]] = []  # (rows, leads) found in several rows
    unresolved = ~_empty(cells)[kept]
    for column in spec.join.match:
        if not unresolved.any():
            break
        if column == target.lead:  # the value is a lead's own id: its code
            hit = unresolved & (codes >= 0) & (codes < len(lead_ids))
            other_code[hit] = codes[hit]
            unresolved &= ~hit
            continue
        where, key_code = target.keys(column)  # each usable row, and its key as a code
        size = int(max(key_code.max(initial=-1), codes.max(initial=-1))) + 1
        counts = np.bincount(key_code, minlength=size)
        mine = np.flatnonzero(unresolved)
        my_code = codes[mine]
        hit = my_code >= 0
        hit[hit] = counts[my_code[hit]] > 0
        if not hit.any():
            continue
        rows_hit, codes_hit = mine[hit], my_code[hit]
        first = np.empty(size, dtype=np.int64)
        first[key_code[::-1]] = np.arange(len(key_code) - 1, -1, -1)  # first row of each key
        single = counts[codes_hit] == 1
        other_code[rows_hit[single]] = lead_codes[where[first[codes_hit[single]]]]
        if not single.all():
            by_key = np.argsort(key_code, kind="stable")
            starts = np.searchsorted(key_code[by_key], np.arange(size), side="left")
            rows_m, codes_m = rows_hit[~single], codes_hit[~single]
            repeat = counts[codes_m]
            found += int(repeat.sum())
            _check_fan_out(spec, path, target, n, found)
            offsets = np.arange(int(repeat.sum())) - np.repeat(np.cumsum(repeat) - repeat,
                                                               repeat)
            several.append((np.repeat(rows_m, repeat), lead_codes[
                where[by_key[np.repeat(starts[codes_m], repeat) + offsets]]]))
        unresolved[rows_hit] = False
    missing = np.flatnonzero(unresolved)
    if not several:
        rows = np.arange(n, dtype=np.int64)
        leads = target.leads_of(other_code, spec)
    else:
        found = np.flatnonzero(other_code >= 0)
        pairs_rows = np.concatenate([found, *(r for r, _ in several)])
        pairs_lead = np.concatenate([other_code[found], *(c for _, c in several)])
        # one record per (row, lead): a lead found in two rows of the other source is one
        key = pairs_rows * (int(pairs_lead.max(initial=0)) + 2) + pairs_lead
        _, first_pair = np.unique(key, return_index=True)
        pairs_rows, pairs_lead = pairs_rows[first_pair], pairs_lead[first_pair]
        lost = np.flatnonzero(other_code < 0)
        lost = lost[~np.isin(lost, pairs_rows)]
        rows = np.concatenate([pairs_rows, lost])
        lead_of = np.concatenate([pairs_lead, np.full(len(lost), -1)])
        order = np.argsort(rows, kind="stable")
        rows, lead_of = rows[order], lead_of[order]
        leads = target.leads_of(lead_of, spec)
    reasons = None
    if len(missing):
        reasons = np.full(len(rows), None, dtype=object)
        lost = np.flatnonzero(np.isin(rows, missing))
        texts = _strings(cells).take(pa.array(kept[rows[lost]])).to_pylist()
        reasons[lost] = [_no_lead(spec, target, value) for value in texts]
    return rows, leads, reasons


def _no_lead(spec: SourceSpec, target: JoinTarget, value: str) -> str:
    """Why a joined row's id cell finds no lead. It names what is compared, so that a row of
    a deleted lead (a Lead row its `where` leaves out) or an id in other letter case is
    understood, not taken for a bug: ids are matched whole, as written but for the spaces
    around them (and, where the target says so, Salesforce's in 18 characters)."""
    assert spec.join is not None
    kept = " kept by its `where`" if target.filtered else ""
    return (f"{spec.lead_id} '{value}' matches no lead: no row of {target.spec.name} "
            f"({target.path.name}){kept} has it as {' or '.join(spec.join.match)} (ids are "
            f"compared in full and case-sensitively)")


LEAST_JOIN_FOUND = 1_000_000
"""Rows a join may find in its target through values found in several of them: ten for each
row of the two files, or a million if more. A value repeated in many rows of both files finds
rows x rows (4,000 of each in 800 KB of CSV made 16 million records and 2 GB)."""


def _check_fan_out(spec: SourceSpec, path: Path, target: JoinTarget, rows: int,
                   found: int) -> None:
    most = max(LEAST_JOIN_FOUND, 10 * (rows + target.table.num_rows))
    if found > most:
        names = " or ".join(spec.join.match) if spec.join else spec.lead_id
        raise HistoryError(
            f"{path}: source `{spec.name}` joins `{target.spec.name}` ({target.path}) by "
            f"{names}: its {spec.lead_id} values find {found:,} rows there, more than the "
            f"{most:,} a join may find ({rows:,} rows joined to {target.table.num_rows:,})\n"
            f"  help: a value repeated in many rows of both files makes every pair of them a "
            f"record; leave out the repeated rows (a `duplicates` rule in the mapping)")


def _empty(values: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """No value: null, empty, or only spaces (the reader's rule for every column)."""
    values = _strings(values)
    return np.asarray(pc.fill_null(pc.or_(pc.equal(values, ""), pc.utf8_is_space(values)),
                                   True))


def _plain(array: pa.ChunkedArray | pa.Array) -> pa.Array:
    array = _strings(array)
    return array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array


def _chunks(array: pa.ChunkedArray | pa.Array) -> list[pa.Array]:
    return array.chunks if isinstance(array, pa.ChunkedArray) else [array]


def _indices(chunks: Sequence[pa.Array]) -> np.ndarray:
    """Dictionary arrays' (or index arrays') indices as one int32 array, -1 for null."""
    out = np.empty(sum(len(c) for c in chunks), dtype=np.int32)
    start = 0
    for chunk in chunks:
        if isinstance(chunk, pa.DictionaryArray):
            chunk = chunk.indices
        end = start + len(chunk)
        out[start:end] = (chunk.to_numpy(zero_copy_only=False) if not chunk.null_count
                          else np.asarray(chunk.fill_null(-1)))
        start = end
    return out


def _formatted(column: pa.ChunkedArray | pa.Array, formats: Sequence[str]
               ) -> pa.ChunkedArray | pa.Array:
    """Localized times (`formats`) rewritten as ISO 8601 text; every other value as it was."""
    values = _strings(column)
    out = values
    iso = pc.fill_null(pc.equal(pc.utf8_slice_codeunits(values, 4, 5), "-"), True)
    if pc.all(iso).as_py():  # every value is ISO 8601 (YYYY-...) or empty: nothing to do
        return values
    for fmt in formats:
        if fmt == EPOCH_MS:
            out = _from_epoch_ms(values, out)
            continue
        parsed = pc.strptime(values, format=fmt, unit="us", error_is_null=True)
        if not pc.any(pc.is_valid(parsed)).as_py():
            continue
        suffix = "Z" if getattr(parsed.type, "tz", None) else ""
        iso = pc.strftime(parsed, format="%Y-%m-%dT%H:%M:%S" + suffix)
        out = pc.if_else(pc.is_valid(parsed), iso, out)
    return out


def _from_epoch_ms(values: pa.Array, out: pa.Array) -> pa.Array:
    """Cells of only digits (milliseconds since 1970 UTC, as HubSpot's API writes a time)
    rewritten as ISO 8601 UTC text; the others as in `out`."""
    trimmed = pc.utf8_trim_whitespace(values)
    digits = pc.fill_null(pc.match_substring_regex(trimmed, r"^\d{1,15}$"), False)
    if not pc.any(digits).as_py():
        return out
    millis = pc.cast(pc.if_else(digits, trimmed, "0"), pa.int64())
    stamps = pc.cast(millis, pa.timestamp("ms", "UTC"))
    return pc.if_else(digits, pc.strftime(stamps, format="%Y-%m-%dT%H:%M:%SZ"), out)


def _events(spec: SourceSpec, table: pa.Table, mapping_name: str
            ) -> tuple[pa.Array, np.ndarray | None]:
    """The event of each row (codes into its names), and the reasons of rows whose kind, or
    pair of kind and value, is in no table. Decided once per distinct kind and value."""
    kind_codes, kinds = _distinct(table.column(spec.event))
    kinds = kinds.to_pylist()
    n = len(kind_codes)
    other = spec.event_names.get(ANY_VALUE)
    if spec.event_value is None:  # one column: names translated, others left to the reader
        names = [spec.event_names.get(k, other or k) if k else None for k in kinds]
        return pa.array(names, pa.string()).take(pa.array(kind_codes)), None
    value_codes, values = _distinct(table.column(spec.event_value))
    values = values.to_pylist()
    names = sorted(set(spec.event_names.values()) | {
        e for table_of in spec.event_values.values() for e in table_of.values()})
    code_of = {name: i for i, name in enumerate(names)}
    per_kind = np.full(len(kinds), -1, dtype=np.int32)  # a kind that is an event alone
    said: list[tuple[np.ndarray, str]] = []  # (rows, why they are no event)
    for code, kind in enumerate(kinds):
        if kind in spec.event_names:
            per_kind[code] = code_of[spec.event_names[kind]]
    out = per_kind[kind_codes]
    present_kinds = np.bincount(kind_codes, minlength=len(kinds)) > 0
    for code, kind in enumerate(kinds):
        if per_kind[code] >= 0 or not present_kinds[code]:
            continue
        rows = np.flatnonzero(kind_codes == code)
        table_of = spec.event_values.get(kind)
        if table_of is None:
            listed = ", ".join(list(spec.event_names) + list(spec.event_values))
            said.append((rows, f"{spec.event} '{kind}' is not in [source.event_names] of "
                               f"{mapping_name} (it lists {listed})"))
            continue
        mine = value_codes[rows]
        present = np.flatnonzero(np.bincount(mine, minlength=len(values)))
        lookup = np.full(len(values), -1, dtype=np.int32)
        for value_code in present.tolist():
            event = table_of.get(values[value_code], table_of.get(ANY_VALUE))
            if event is not None:
                lookup[value_code] = code_of[event]
        out[rows] = lookup[mine]
        for value_code in present[lookup[present] < 0].tolist():
            cell = values[value_code]
            said.append((rows[mine == value_code], (
                f"{spec.event} '{kind}' with {spec.event_value} '{cell}' is in no table: add "
                f"it to [source.event_names.\"{kind}\"] of {mapping_name}, or a \"*\" for "
                f"any other value")))
    column = pa.DictionaryArray.from_arrays(pa.array(out, mask=out < 0),
                                            pa.array(names, pa.string()))
    if not said:
        return column, None
    reasons = np.full(n, None, dtype=object)
    for rows, reason in said:
        reasons[rows] = reason
    return column, reasons


def _is_event(events: pa.Array, name: str) -> pa.BooleanArray:
    """Per record, whether its event is `name` (no event: False); on a dictionary-encoded
    column (a two-column event's), decided once per name, not per record."""
    if not pa.types.is_dictionary(events.type):
        return pc.fill_null(pc.equal(_plain(events), name), False)
    chosen = np.append(np.asarray(pc.equal(events.dictionary, name)), False)
    codes = np.asarray(pc.fill_null(events.indices, len(events.dictionary)), dtype=np.int64)
    return pa.array(chosen[codes])


def _actors(spec: SourceSpec, table: pa.Table, events: pa.Array) -> pa.DictionaryArray:
    """Who did each row's event: the event's own actor column, else `columns.actor`; as codes
    into the columns' distinct values (their dictionaries merged, no text copied per row)."""
    codes = np.full(table.num_rows, -1, dtype=np.int64)
    dictionaries: list[pa.Array] = []
    size = 0
    for event, column in [(None, spec.actor), *spec.actors.items()]:
        if event is None and spec.actor not in table.column_names:
            continue
        mine, values = _coded(table.column(column))
        chosen = np.ones(len(codes), dtype=bool) if event is None else np.asarray(
            _is_event(events, event))
        codes[chosen] = np.where(mine[chosen] >= 0, mine[chosen] + size, -1)
        dictionaries.append(values.cast(pa.string()))
        size += len(values)
    return _merged_codes(codes, dictionaries)


def _merged_codes(codes: np.ndarray, dictionaries: list[pa.Array]) -> pa.DictionaryArray:
    """Codes into the dictionaries laid end to end (-1: none) as a dictionary-encoded column
    of their distinct values: a value in two dictionaries is one value."""
    if not dictionaries:
        return pa.DictionaryArray.from_arrays(pa.nulls(len(codes), pa.int32()),
                                              pa.array([], pa.string()))
    merged = pc.dictionary_encode(pa.concat_arrays(dictionaries))
    lookup = np.append(_indices([merged.indices]), -1)
    codes = lookup[codes]
    return pa.DictionaryArray.from_arrays(pa.array(codes, pa.int32(), mask=codes < 0),
                                          merged.dictionary)


def _value_fields(spec: SourceSpec, table: pa.Table) -> dict[str, pa.Array]:
    kind_codes, kinds = _distinct(table.column(spec.event))  # each kind compared once
    kinds = kinds.to_pylist()
    value_codes, values = _coded(table.column(spec.event_value))
    values = values.cast(pa.string())
    out: dict[str, np.ndarray] = {}
    for key, name in spec.value_fields.items():
        chosen = np.isin(kind_codes, [i for i, k in enumerate(kinds) if k == key])
        codes = out.setdefault(name, np.full(len(kind_codes), -1, dtype=np.int64))
        codes[chosen & (codes < 0)] = value_codes[chosen & (codes < 0)]
    return {name: _merged_codes(codes, [values]) for name, codes in out.items()}


def _used_columns(spec: SourceSpec) -> set[str]:
    used = {spec.lead_id, spec.at, spec.event, spec.actor, *spec.at_columns,
            *spec.actors.values()}
    if spec.event_value:
        used.add(spec.event_value)
    return used


# ---------------------------------------------------------------------------- one source


def _first_time(spec: SourceSpec, table: pa.Table, times: _Times | None = None
                ) -> pa.ChunkedArray | pa.Array:
    """Per row, its first time column not blank (`columns.at`), read as the file table holds
    it: chunk by chunk, no copy of a column taken whole. As instants when every time column
    reads as instants (`_Times`): the text need not be made (a rejected record's is made
    then, `Prepared.texts`) nor parsed again; else as text."""
    columns = spec.at_columns or (spec.at,)
    if times is not None:
        cast = [times(column) for column in columns]
        if all(c is not None for c in cast):
            return pc.coalesce(*cast) if len(cast) > 1 else cast[0]
    at = _strings(table.column(columns[0]))
    for other in columns[1:]:
        at = pc.coalesce(_no_blanks(at), _strings(table.column(other)))
    return at




def _narrowed(spec: SourceSpec, table: pa.Table, also: Collection[str],
              spared: Collection[str] = ()) -> pa.Table:
    """Only the columns the records are made of (and `also`, which other sources join or look
    up through): the rest are read again only for a rejected row's raw values. `spared`:
    the lead id or time columns the caller reads from the whole file table instead, left
    out unless they are needed for something else too."""
    if spec.fields is None and not spec.join_only:
        return table  # every other column is a field
    keep = {spec.event, spec.actor, *spec.actors.values(), *(spec.fields or {}).values(),
            *also} | ({spec.lead_id, spec.at, *spec.at_columns} - set(spared))
    keep |= {w.at for w in spec.events} | {w.actor for w in spec.events if w.actor}
    keep |= set(spec.before.values())
    if spec.event_value:
        keep.add(spec.event_value)
    if spec.actor_names:
        keep |= set(spec.actor_names)
        if spec.actor_zone:
            keep.add(spec.actor_zone)
    return table.select([name for name in table.column_names if name in keep])


def prepare(spec: SourceSpec, table: pa.Table, path: Path,
            targets: dict[str, JoinTarget], also: Collection[str] = ()) -> Prepared:
    """`spec`'s rules applied to the file's `table`: see the module docstring. `also` names
    columns other sources need of this one's rows. The records' table holds only the columns
    they are made of; `Prepared.rows` index the (aliased) file table, `Prepared.source`."""
    table = aliased(spec, table)
    if spec.optional_fields and spec.fields:
        spec = replace(spec, fields={name: column for name, column in spec.fields.items()
                                     if column in table.column_names})
    _needed(spec, table, path)
    source = table
    original = list(table.column_names)
    times = _Times(table)
    kept, chained = _kept_rows(spec, table, times)
    left_out = table.num_rows - len(kept)
    # Read from the whole file table, not copied with the rows kept: a join's lead id cells
    # (compared as codes) and the record's time (the first time column not blank).
    records = not spec.wide and not spec.join_only
    spared = ([spec.lead_id] if spec.join is not None else []) + (
        [spec.at, *spec.at_columns] if records else [])
    names = list(_narrowed(spec, table, also).column_names)  # (new columns' names avoid them)
    narrow = _narrowed(spec, table, also, spared)
    table = narrow if narrow.num_columns else _narrowed(spec, table, also)
    at = _first_time(spec, source, times) if records else None
    instants = at is not None and pa.types.is_timestamp(at.type)
    if left_out:
        # Most rows are kept: a mask copies runs, cheaper than taking row by row. Column by
        # column, so that each keeps its own chunks (a table's filter cuts every column at
        # the others' chunk bounds, and a lead column coded in one dictionary would then be
        # hundreds of chunks of it).
        mask = np.zeros(source.num_rows, dtype=bool)
        mask[kept] = True
        mask = pa.array(mask)
        table = pa.table([c.filter(mask) for c in table.columns], names=table.column_names)
        at = at.filter(mask) if at is not None else None
    rows = kept.astype(np.int64)
    every_row = not left_out  # one record per file row, in order
    reasons = None
    lead_column = spec.lead_id
    if spec.join is not None:
        target = targets[spec.join.source]
        cells = source.column(spec.lead_id)
        codes = target.codes_of((spec.name, str(path)), cells)[kept]
        join_rows, leads, reasons = _join(spec, path, cells, kept, target, codes)
        if len(join_rows) != len(kept):  # else one record a row, in order
            taken = pa.array(join_rows, pa.int64())
            table = table.take(taken)
            at = at.take(taken) if at is not None else None
            rows = rows[join_rows]
            every_row = False
        lead_column = _free_name(names, "lead_id")
        names.append(lead_column)
        table = table.append_column(lead_column, leads)
    if chained is not None:
        # each record in its kept row's chained place (a join may have left rows out or
        # found some in several leads: the records stay in their rows' order)
        rank = np.empty(len(kept), dtype=np.int64)
        rank[chained] = np.arange(len(kept))
        own = rank[join_rows] if spec.join is not None else rank
        chained = np.argsort(own, kind="stable")
        taken = pa.array(chained, pa.int64())
        table, rows = table.take(taken), rows[chained]
        at = at.take(taken) if at is not None else None
        reasons = reasons[chained] if reasons is not None else None
        every_row = False
    derived = replace(spec, lead_id=lead_column, aliases={}, filters=(), duplicates=None,
                      join=None, datetime_formats=(), at_columns=(), event_value=None,
                      event_values={}, actors={}, value_fields={})
    if spec.wide:
        # A time column that reads as instants is handed on as them (a rejected record's
        # raw values show the file's text); else localized times are rewritten as ISO text.
        for column in dict.fromkeys(w.at for w in spec.events):
            if column in spec.lookup:  # another source's cells, found for the records later
                continue
            index = table.column_names.index(column)
            cast = times(column)
            if cast is not None:
                table = table.set_column(index, column, cast if every_row
                                         else cast.take(pa.array(rows, pa.int64())))
            elif spec.datetime_formats:
                table = table.set_column(index, column, _formatted(
                    table.column(column), spec.datetime_formats))
        return Prepared(table, rows, reasons, left_out, derived, source)
    if spec.join_only:
        return Prepared(table, rows, reasons, left_out, derived, source)

    if spec.datetime_formats and not instants:
        at = _formatted(at, spec.datetime_formats)
    at_column = _free_name(names, "at")
    names.append(at_column)
    texts = {at_column: lambda rows: _first_time(spec, source.take(pa.array(rows, pa.int64())))
             } if instants else None
    table = table.append_column(at_column, at)
    events, unmapped = _events(spec, table, spec.mapping_path.name if spec.mapping_path
                               else "the mapping")
    if unmapped is not None:
        reasons = unmapped if reasons is None else np.where(
            np.array([r is None for r in reasons]), unmapped, reasons)
    event_column = _free_name(names, "event")
    names.append(event_column)
    table = table.append_column(event_column, events)
    actor_column = spec.actor
    if spec.actors:
        actor_column = _free_name(names, "actor")
        names.append(actor_column)
        table = table.append_column(actor_column, _actors(spec, table, events))
    fields = dict(spec.fields) if spec.fields is not None else {
        name: name for name in original if name not in _used_columns(spec)}
    if spec.value_fields:
        for name, values in _value_fields(spec, table).items():
            column = _free_name(names, name)
            names.append(column)
            table = table.append_column(column, values)
            fields[name] = column
    derived = replace(derived, at=at_column, event=event_column, actor=actor_column,
                      actor_required=False, event_names={}, fields=fields, before={})
    before = None
    if spec.before:
        # (only the cells of the event's own rows are ever read: `actors_before`)
        before = {event: table.column(column) for event, column in spec.before.items()}
    return Prepared(table, rows, reasons, left_out, derived, source, before, texts)


# ---------------------------------------------------------------------------- notes


def history_notes(mapping: Mapping, bound: Sequence[tuple[SourceSpec, list[Path]]],
                  history: History, source_of_part: Sequence[str]) -> list[str]:
    """What the report must say about what the exports cannot show: optional sources not
    given, and leads created before a tracked history's first row (`_tracked_late`)."""
    notes = [s.when_missing for s in mapping.missing(bound) if s.when_missing]
    for spec, files in bound:
        if not spec.tracked_since_first_row or history.source is None:
            continue
        parts = [i for i, name in enumerate(source_of_part) if name == spec.name]
        mine = np.isin(history.source, parts)
        if not mine.any():
            notes.append(f"{', '.join(f.name for f in files)} holds no change at all: the CRM "
                         f"keeps this history only since tracking was switched on")
            continue
        note = _tracked_late(spec, files, history, mine, source_of_part)
        if note:
            notes.append(note)
    return notes


_SHOWN_LEADS = 5
_BEFORE_WORDS = {"assigned": "owner"}  # what a `[source.before]` event's actor is called


def _tracked_late(spec: SourceSpec, files: Sequence[Path], history: History, mine: np.ndarray,
                  source_of_part: Sequence[str]) -> str | None:
    """Which leads were created before a tracked history's first row, so that their changes
    from before it are missing; and, for each `[source.before]` event (Salesforce's owner),
    how many of them take it from their first tracked change's old value, and how many from
    what the other files say now (Lead.OwnerId: the current owner)."""
    first = int(history.at[mine].min())
    created = history.event == EVENT_CODE["created"]
    early = np.unique(history.lead[created & (history.at < first)])
    if not len(early):
        return None
    names = ", ".join(f.name for f in files)
    day = local_time(first, dt.UTC).date().isoformat()
    shown = ", ".join(str(lead) for lead in history.lead_ids[early[:_SHOWN_LEADS]])
    if len(early) > _SHOWN_LEADS:
        shown += f" and {len(early) - _SHOWN_LEADS:,} more"
    note = (f"{names} starts on {day} (the CRM keeps this history only since tracking was "
            f"switched on): {counted(len(early), 'lead')} "
            f"{'was' if len(early) == 1 else 'were'} created before that ({shown}), and "
            f"{'its' if len(early) == 1 else 'their'} changes from before it (a first owner, a "
            f"first status) are missing")
    for event, column in spec.before.items():
        code = history.event == EVENT_CODE[event]
        changed = np.isin(early, history.lead[code & mine])
        word = _BEFORE_WORDS.get(event, f"{event} actor")
        others = sorted({Path(history.sources[int(s)].path).name for s in np.unique(
            history.source[code & ~mine & np.isin(history.lead, early[~changed])])})
        now = f"the {word} {' and '.join(others) or 'no file'} holds now"
        tracked = f"their first tracked change's {column}"
        if changed.all():
            note += f"; their {word} from creation is {tracked}"
        elif not changed.any():
            note += f"; their {word} from creation is {now}"
        else:
            note += (f"; {int(changed.sum()):,} of them take their {word} from creation from "
                     f"{tracked}, the other {int((~changed).sum()):,} {now}")
        note += f", so a change of {word} before {day} is not seen"
    return note


def actors_before(history: History, part: int, event: str, rows: np.ndarray,
                  values: pa.Array) -> None:
    """`[source.before]`: the lead's `event`s read from other sources before its earliest one
    read from source `part` (whose records are file rows `rows`, with cells `values`) take that
    cell as their actor. Changes `history` in place; run before actors are named."""
    kind = np.flatnonzero(history.event == EVENT_CODE[event])  # few of all the records
    from_part = history.source[kind] == part
    mine = kind[from_part]
    if not len(mine):
        return
    lead = history.lead
    first = mine[np.r_[True, lead[mine][1:] != lead[mine][:-1]]]  # sorted: each lead's earliest
    in_order = np.argsort(rows, kind="stable")  # (chained changes leave rows out of order)
    place = in_order[np.searchsorted(rows[in_order], history.row[first])]
    cells = values.take(pa.array(place, pa.int64()))
    texts = pc.utf8_trim_whitespace(_plain(cells))
    named = ~_empty(texts)
    first, texts = first[named], texts.filter(pa.array(named))
    # each distinct cell once: an actor already listed keeps its code, a new one is added
    encoded = pc.dictionary_encode(texts)
    actors = list(history.actors)
    code_of = {name: i for i, name in enumerate(actors)}
    to_actor = np.array([code_of.setdefault(name, len(code_of))
                         for name in encoded.dictionary.to_pylist()], dtype=np.int64)
    by_lead = np.full(len(history.lead_ids), -1, dtype=np.int64)
    position = np.full(len(history.lead_ids), -1, dtype=np.int64)
    by_lead[lead[first]] = to_actor[np.asarray(encoded.indices, dtype=np.int64)]
    position[lead[first]] = first
    actors += list(code_of)[len(actors):]
    others = kind[~from_part]
    change = others[position[lead[others]] > others]  # before the earliest, in sorted order
    if not len(change):
        return
    actor = history.actor
    actor[change] = by_lead[lead[change]]
    history.actors = np.array(actors, dtype=object)
    _drop_unused_actors(history)


def _drop_unused_actors(history: History) -> None:
    """An actor left with no record is not listed (the reader's rule)."""
    used = np.bincount(history.actor + 1, minlength=len(history.actors) + 1)[1:] > 0
    if used.all():
        return
    renumber = np.append(np.where(used, np.cumsum(used) - 1, -1), -1)
    history.actor = renumber[history.actor]
    history.actors = history.actors[used]


Naming = tuple[pa.Table, str, str, bool]
"""Where actors are named: (a `join_only` source's table, its id column, the column of each
one's name or zone, whether its ids are Salesforce's: `ids = "salesforce"`)."""


def _first_values(sources: Sequence[Naming]) -> dict[str, str]:
    """Per user id, the first non-blank value of (table, id column, value column), trimmed:
    a user's name or zone, from the first export that gives one. A users export without the
    column (a zone is optional: not every org exports TimeZoneSidKey) gives none, as an empty
    cell does: the owner is shown by id, or works the calendar's hours. Salesforce's ids are
    kept in 18 characters, and `_by_id` looks an actor up in that form too."""
    values: dict[str, str] = {}
    for table, id_column, value_column, salesforce in sources:
        if not {id_column, value_column} <= set(table.column_names):
            continue
        keys = pc.utf8_trim_whitespace(_plain(table.column(id_column)))
        keys = (full_ids(keys) if salesforce else keys).to_pylist()
        cells = _plain(table.column(value_column)).to_pylist()
        for key, value in zip(keys, cells, strict=True):
            if key and value and value.strip() and len(value.encode()) <= MOST_VALUE_BYTES:
                values.setdefault(key, value.strip())  # (a longer one is not read, as a cell)
    return values


def _by_id(values: dict[str, str], sources: Sequence[Naming]) -> Callable[[str], str | None]:
    """The value of an actor id: as written, else (a report's 15-character owner id, where
    the users export has 18) in Salesforce's 18-character form."""
    if not any(salesforce for *_, salesforce in sources):
        return values.get
    return lambda actor: values.get(actor) or values.get(full_id(actor))


def named_actors(actors: np.ndarray, sources: Sequence[Naming]) -> np.ndarray:
    """Actors (ids) as names, by each (table, id column, name column); others as they are."""
    name_of = _by_id(_first_values(sources), sources)
    return np.array([name_of(a) or a for a in actors.tolist()], dtype=object)


def actor_zones(ids: np.ndarray, names: np.ndarray, sources: Sequence[Naming]
                ) -> dict[str, str]:
    """Each actor's IANA time zone (by its name, as `named_actors` writes it), from each
    (table, id column, zone column); an empty cell or a name the tz database does not know
    gives none."""
    zone_of = _by_id(_first_values(sources), sources)
    out = {}
    for actor_id, name in zip(ids.tolist(), names.tolist(), strict=True):
        zone = zone_of(actor_id)
        if zone is not None and _known_zone(zone):
            out.setdefault(name, zone)
    return out


def _known_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True
