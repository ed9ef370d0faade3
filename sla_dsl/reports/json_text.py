"""The evaluation document as `json.dumps(document, indent=2)` writes it, with the per-lead
records written column-wise.

A million leads' records as Python dicts through `json.dumps` take about 20 s; here their text
is put together by Arrow's string kernels from the `LeadTable` columns (timestamps written by
array arithmetic, `zones.iso_text_bytes`), and the rest of the document (small) goes through
`json.dumps`. The bytes are the same as `json.dumps` of the whole document (a test compares
both): strings escaped as its `ensure_ascii` escaping does, None as `null`, its `indent=2`
layout. Each row's text ends with what follows it (a comma, or the close of its list), so a
lead's verdicts and all the leads are each one run of bytes, joined without a copy.
"""

from __future__ import annotations

import json
import os
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from json.encoder import encode_basestring_ascii
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sla_dsl.business_time.zones import ISO_WIDTH, iso_text_bytes
from sla_dsl.evaluation.replay import NONE, STATUS_NAMES, STOPPED
from sla_dsl.reports.lead_table import LeadRows, LeadTable

INDENT = "  "
# what `encode_basestring_ascii` writes as it is: printable ASCII but `"` and `\`
NEEDS_ESCAPE = r'[^\x20\x21\x23-\x5b\x5d-\x7e]'
LEADS_KEY = f'\n{INDENT}"leads": '


def _s(text: str) -> pa.Scalar:
    """A piece of constant text, of the columns' type (Arrow joins only alike strings)."""
    return pa.scalar(text, pa.large_string())


def _line(depth: int) -> str:
    return "\n" + INDENT * depth


def json_values(values: np.ndarray) -> pa.Array:
    """Each value of an object array (str or None) as its JSON text, as `json.dumps` writes
    it; other values go through `json.dumps` one by one."""
    try:
        text = pa.array(values, type=pa.large_string(), from_pandas=False)
    except (pa.ArrowTypeError, pa.ArrowInvalid):
        return pa.array([json.dumps(v) for v in values.tolist()], type=pa.large_string())
    quoted = pc.binary_join_element_wise(_s('"'), text, _s('"'), _s(""))
    escape = pc.match_substring_regex(text, NEEDS_ESCAPE).fill_null(False)
    if pc.any(escape).as_py():  # only the values with something to escape, one by one
        where = np.flatnonzero(escape.to_numpy(zero_copy_only=False))
        quoted = pc.replace_with_mask(
            quoted, escape, pa.array([encode_basestring_ascii(v) for v in values[where].tolist()],
                                     type=pa.large_string()))
    return pc.fill_null(quoted, _s("null"))


def json_times(us: np.ndarray, zone: ZoneInfo) -> pa.Array:
    """Each instant as `json.dumps` writes `iso_text`'s answer: quoted local ISO 8601 text, or
    `null` for NONE and STOPPED. The texts are made for the instants that have one and spread
    to their rows by Arrow (a take and a choice), not copied row by row into a matrix of all."""
    valid = (us != NONE) & (us != STOPPED)
    if not valid.any():
        return _strings(np.tile(np.frombuffer(b"null", dtype=np.uint8), (len(us), 1)),
                        np.full(len(us), 4, dtype=np.int64))
    text, lengths = iso_text_bytes(us if valid.all() else us[valid], zone)
    quoted = np.empty((len(lengths), ISO_WIDTH + 2), dtype=np.uint8)
    quoted[:, 0] = ord('"')
    quoted[:, 1:ISO_WIDTH + 1] = text
    quoted[np.arange(len(lengths)), lengths + 1] = ord('"')
    texts = _strings(quoted, lengths + 2)
    if len(texts) == len(us):
        return texts
    place = np.cumsum(valid) - 1  # each row's text among the valid ones (any, for the others)
    spread = texts.take(pa.array(np.maximum(place, 0)))
    return pc.if_else(pa.array(valid), spread, _s("null"))


def _strings(matrix: np.ndarray, size: np.ndarray) -> pa.Array:
    """Row i's first size[i] bytes of a uint8 matrix, as a string array."""
    if len(size) and int(size.min()) == int(size.max()):  # one width: whole columns
        data = np.ascontiguousarray(matrix[:, :int(size[0])]).reshape(-1)
    else:
        data = matrix[np.arange(matrix.shape[1]) < size[:, None]]
    offsets = np.concatenate([[0], np.cumsum(size)]).astype(np.int64)
    return pa.LargeStringArray.from_buffers(len(size), pa.py_buffer(offsets),
                                            pa.py_buffer(data))


def _choice(texts: list[str], index: np.ndarray) -> pa.Array:
    return pa.array(texts, pa.large_string()).take(pa.array(index))


def _verdicts(table: LeadTable) -> pa.Array:
    """Each verdict's object, each lead's first opening its `clauses` list and its last
    closing it; the others end with a comma."""
    first = np.zeros(len(table.clause), dtype=bool)
    first[table.bounds[:-1]] = True
    last = np.zeros(len(table.clause), dtype=bool)
    last[table.bounds[1:] - 1] = True
    heads = []  # per (clause, status, first)
    for handoff, clause in table.clauses:
        for status in STATUS_NAMES:
            head = "".join(f'{_line(5)}{json.dumps(k)}: {json.dumps(v)},' for k, v in
                           (("handoff", handoff), ("clause", clause), ("status", status)))
            body = "{" + head + _line(5) + '"due": '
            heads += [_line(4) + body, "[" + _line(4) + body]
    code = (table.clause.astype(np.int64) * len(STATUS_NAMES) + table.status) * 2 + first
    tail = _choice([_line(4) + "},", _line(4) + "}" + _line(3) + "]"], last.astype(np.int8))
    return pc.binary_join_element_wise(
        _choice(heads, code), json_times(table.due, table.zone), _s("," + _line(5) + '"at": '),
        json_times(table.at, table.zone), _s("," + _line(5) + '"owner": '),
        json_values(table.verdict_owner), _clock_starts(table), tail, _s(""))


def _clock_starts(table: LeadTable) -> pa.Array:
    """Each verdict's `clock_start` member, written only where its clock started elsewhere
    than at its lead's `handed_off_at` (`LeadTable.starts_elsewhere`); empty text for the
    rest, so most verdicts cost nothing more."""
    elsewhere = table.starts_elsewhere()
    if not elsewhere.any():
        return pa.repeat(_s(""), len(elsewhere))
    keyed = pc.binary_join_element_wise(_s("," + _line(5) + '"clock_start": '),
                                        json_times(table.start, table.zone), _s(""))
    return pc.if_else(pa.array(elsewhere), keyed, _s(""))


# leads a writer's chunk holds: Arrow's kernels run one per thread, and the chunks made ahead
# of the writer hold about 1 KB a lead while they are made (50,000: as fast as 250,000)
CHUNK_LEADS = 50_000


def _leads_bytes(table: LeadTable) -> memoryview:
    """The leads' objects as list items, each ending with a comma."""
    verdicts = _verdicts(table)
    # each lead's verdicts, one run of the verdicts' bytes (offsets at the lead bounds)
    verdict_offsets = np.frombuffer(verdicts.buffers()[1], dtype=np.int64,
                                    count=len(verdicts) + 1, offset=verdicts.offset * 8)
    clauses = pa.LargeStringArray.from_buffers(
        len(table), pa.py_buffer(np.ascontiguousarray(verdict_offsets[table.bounds])),
        verdicts.buffers()[2])
    pieces = [_s(_line(2) + "{" + _line(3) + '"lead_id": ')]
    for name, after in (("lead_id", "handoff"), ("handoff", "segment"), ("segment", "owner"),
                        ("owner", "handed_off_at")):
        pieces += [json_values(getattr(table, name)), _s("," + _line(3) + f'"{after}": ')]
    pieces += [json_times(table.handed_off_at, table.zone), _s("," + _line(3) + '"clauses": '),
               clauses, _s(_line(2) + "},")]
    leads = pc.binary_join_element_wise(*pieces, _s(""))
    offsets = np.frombuffer(leads.buffers()[1], dtype=np.int64, count=len(leads) + 1,
                            offset=leads.offset * 8)
    return memoryview(leads.buffers()[2])[offsets[0]:offsets[-1]]


def leads_parts(table: LeadTable | LeadRows) -> Iterator[str | memoryview]:
    """The document's `leads` list as `json.dumps(..., indent=2)` writes it as the value of a
    top-level key (its first line unindented), in parts (str and ASCII bytes) to be joined,
    each chunk's records and text made as the parts are asked for (`_ahead`)."""
    if not len(table):
        yield "[]"
        return
    yield "["
    starts = range(0, len(table), CHUNK_LEADS)

    def chunk(start: int) -> memoryview:
        return _leads_bytes(table.rows(start, min(start + CHUNK_LEADS, len(table))))

    for i, part in enumerate(_ahead(chunk, iter(starts), min(len(starts), os.cpu_count() or 1))):
        yield part if i < len(starts) - 1 else part[:-1]  # the last lead's comma off
    yield _line(1) + "]"


def _ahead(make: Callable, items: Iterator, workers: int) -> Iterator:
    """`make(item)` of each item in order, by `workers` threads, made at most `workers` items
    ahead of the one asked for: a writer holds a few chunks' text at a time (about 420 bytes a
    lead), where a pool's `map` would make and hold every chunk's at once."""
    with ThreadPoolExecutor(max_workers=workers) as pool:
        pending: deque[Future] = deque()
        for item in items:
            pending.append(pool.submit(make, item))
            if len(pending) > workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def document_json(doc: dict, leads: LeadTable | LeadRows) -> str:
    """`json.dumps(doc, indent=2) + "\n"` for `doc` with its `leads` filled from `leads`:
    `doc["leads"]` must be an empty list, standing for them."""
    return b"".join(document_json_parts(doc, leads)).decode("ascii")


def document_json_parts(doc: dict, leads: LeadTable | LeadRows
                        ) -> Iterator[bytes | memoryview]:
    """`document_json`'s text as ASCII bytes in parts, made as they are written one after
    the other (`sla evaluate --format json`): a million leads' 400 MB are never held at
    once, nor joined, decoded and encoded again."""
    assert doc["leads"] == []
    text = json.dumps(doc, indent=2) + "\n"
    # a string's newlines are escaped, so a newline and two spaces start a top-level key
    at = text.index(LEADS_KEY + "[]") + len(LEADS_KEY)
    yield text[:at].encode("ascii")
    for part in leads_parts(leads):
        yield part.encode("ascii") if isinstance(part, str) else part
    yield text[at + 2:].encode("ascii")
