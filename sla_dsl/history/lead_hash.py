"""The one stable hash that deals leads to buckets and shards: `sla ingest --buckets N` and
`sla evaluate --shard i/N` must put a lead in the same place, in Python and in DuckDB's SQL, on
any machine and any version.

    bucket = int.from_bytes(md5(lead_id.encode("utf-8")).digest()[:8], "big") % N

MD5 is not here for secrecy: it is a fixed, standard function that both Python's `hashlib`
and DuckDB (`md5`, hexadecimal) compute the same way, where DuckDB's own `hash()` may change
between versions and DuckDB has no BLAKE2. The first 8 bytes, read big-endian, are the first
16 hexadecimal digits of `md5(...)`, which SQL turns into a UBIGINT exactly (`LEAD_BUCKET_SQL`).
The lead id is hashed as the reader reads it (after `csv_cells.restored`, before any
trimming: the reader keeps an id as written).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import numpy as np

__all__ = ["LEAD_HASH", "lead_bucket", "lead_bucket_sql", "lead_buckets"]

LEAD_HASH = "md5-64: first 8 bytes of MD5 of the UTF-8 lead id, big-endian, modulo N"
"""How the hash is written in an ingest's manifest, so that a reader can check it agrees."""


def lead_bucket(lead_id: str, buckets: int) -> int:
    """The bucket (0 .. buckets-1) of one lead id."""
    digest = hashlib.md5(lead_id.encode("utf-8", "surrogateescape")).digest()
    return int.from_bytes(digest[:8], "big") % buckets


def lead_buckets(lead_ids: Iterable[str], buckets: int) -> np.ndarray:
    """`lead_bucket` of each id, as int64: once per distinct id (a History's `lead_ids`), so
    the Python loop runs over leads, never over events."""
    return np.fromiter((lead_bucket(lead, buckets) for lead in lead_ids), dtype=np.int64)


def lead_bucket_sql(expression: str, buckets: int) -> str:
    """The same bucket as a DuckDB SQL expression of a VARCHAR `expression`."""
    return (f"(('0x' || substr(md5({expression}), 1, 16))::UBIGINT % {int(buckets)})"
            f"::BIGINT")
