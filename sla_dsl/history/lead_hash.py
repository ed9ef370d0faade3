"""The one stable hash that deals leads to buckets and shards: `sla ingest --buckets N` and
`sla evaluate --shard i/N` must put a lead in the same place, in every process, on any machine
and any version.

    bucket = int.from_bytes(blake2b(lead_id.encode("utf-8"), digest_size=8).digest(),
                            "little") % N

BLAKE2b with an 8-byte digest (not Python's `hash`, salted per process, nor DuckDB's `hash()`,
which may change between versions), read as a little-endian unsigned integer: the one
definition, which the sharded evaluation deals its shards by too (`evaluation/shards.shard_of`).
DuckDB has no BLAKE2b, so the ingest gives it this very function as a vectorised Python
function (`register_lead_bucket`), one call per chunk of rows, rather than a second definition
in SQL that could drift.
The lead id is hashed as the reader reads it (after `csv_cells.restored`, before any trimming:
the reader keeps an id as written).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import numpy as np
import pyarrow as pa

__all__ = ["LEAD_BUCKET_SQL", "LEAD_HASH", "lead_bucket", "lead_buckets", "lead_hash",
           "register_lead_bucket"]

LEAD_HASH = ("blake2b-64: BLAKE2b (8-byte digest) of the UTF-8 lead id, little-endian, "
             "modulo N")
"""How the hash is written in an ingest's manifest, so that a reader can check it agrees."""

LEAD_BUCKET_SQL = "sla_lead_bucket"
"""The name `register_lead_bucket` gives the function in DuckDB: `sla_lead_bucket(id, N)`."""


def lead_hash(lead_id: str) -> int:
    """The 64-bit hash of one lead id, before the modulo."""
    digest = hashlib.blake2b(lead_id.encode("utf-8", "surrogateescape"), digest_size=8)
    return int.from_bytes(digest.digest(), "little")


def lead_bucket(lead_id: str, buckets: int) -> int:
    """The bucket (0 .. buckets-1) of one lead id."""
    return lead_hash(lead_id) % buckets


def lead_buckets(lead_ids: Iterable[str], buckets: int) -> np.ndarray:
    """`lead_bucket` of each id, as int64: the digests joined and read as one array, with no
    Python integer per id (a History's `lead_ids`, or a chunk of DuckDB's rows)."""
    blake2b = hashlib.blake2b
    digests = b"".join([blake2b(lead.encode("utf-8", "surrogateescape"), digest_size=8).digest()
                        for lead in lead_ids])
    return (np.frombuffer(digests, dtype="<u8") % np.uint64(buckets)).astype(np.int64)


def register_lead_bucket(connection) -> None:
    """Give a DuckDB connection `sla_lead_bucket(VARCHAR id, BIGINT n)`: `lead_bucket` of
    each row (NULL for a NULL id), computed by `lead_buckets` on Arrow chunks."""
    import duckdb

    def chunk(ids: pa.Array, counts: pa.Array) -> pa.Array:
        if not len(ids):
            return pa.array([], pa.int64())
        texts = ids.to_pylist()
        found = lead_buckets([text or "" for text in texts], int(counts[0].as_py()))
        return pa.array(found, pa.int64(), mask=np.array([t is None for t in texts]))

    connection.create_function(LEAD_BUCKET_SQL, chunk, [duckdb.sqltype("VARCHAR"),
                                                        duckdb.sqltype("BIGINT")],
                               duckdb.sqltype("BIGINT"), type="arrow")
