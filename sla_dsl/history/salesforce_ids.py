"""Salesforce record ids in their one comparable form, the 18-character one.

Salesforce writes a record's id in two forms: 15 characters, told apart by letter case (a
report exported from the UI, a formula field), and the same 15 followed by 3 characters that
spell out the case of the first 15 (the API, Data Loader, a warehouse sync). An export that
mixes them (a Lead report beside a Data Loader Task file) names one lead two ways, and
compared as written none of its tasks would find it. A mapping's source that says
`ids = "salesforce"` has its ids, and every id compared with them, read in the 18-character
form: the 3 characters are computed for a 15-character id; any other value is left as it is.

Each group of 5 characters gives one of the 3: bit i is set when character i of the group is
an upper-case letter, and the 5 bits index "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345".
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

SALESFORCE = "salesforce"  # the value of a source's `ids`
_SUFFIX_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_SHORT = r"^[0-9A-Za-z]{15}$"


def full_id(text: str) -> str:
    """One id in the 18-character form (the rule, one value at a time)."""
    if len(text) != 15 or not text.isascii() or not text.isalnum():
        return text
    return text + "".join(
        _SUFFIX_LETTERS[sum(1 << i for i, c in enumerate(text[g:g + 5]) if "A" <= c <= "Z")]
        for g in (0, 5, 10))


def full_ids(values: pa.Array) -> pa.Array:
    """`full_id` of every value of a text array, computed on its bytes: only the values 15
    bytes long are looked at, often none, so a file of 18-character ids costs a length."""
    short = pc.fill_null(pc.equal(pc.binary_length(values), 15), False)
    if not pc.any(short).as_py():
        return values
    short = pc.and_(short, pc.fill_null(pc.match_substring_regex(values, _SHORT), False))
    if not pc.any(short).as_py():
        return values
    picked = pc.filter(values, short).cast(pa.string())
    _, offsets, data = picked.buffers()
    first = int(np.frombuffer(offsets, dtype=np.int32, count=1, offset=picked.offset * 4)[0])
    letters = np.frombuffer(data, dtype=np.uint8, count=15 * len(picked), offset=first)
    upper = ((letters >= ord("A")) & (letters <= ord("Z"))).reshape(-1, 3, 5)
    index = (upper * (1 << np.arange(5))).sum(axis=2)
    suffix = np.frombuffer(_SUFFIX_LETTERS.encode(), dtype=np.uint8)[index]
    tails = pa.array(np.ascontiguousarray(suffix).view("S3").ravel().astype(str), pa.string())
    longer = pc.binary_join_element_wise(picked, tails, "")
    return pc.replace_with_mask(values, short, longer.cast(values.type))


def full_id_sql(text: str) -> str:
    """`full_id` as a DuckDB expression of the text expression `text` (`sla ingest` puts a
    lead in its bucket by this form of its id, as the reader compares it)."""
    def group(start: int) -> str:
        bits = " + ".join(
            f"(CASE WHEN substr({text}, {start + i + 1}, 1) BETWEEN 'A' AND 'Z' THEN {1 << i} "
            f"ELSE 0 END)" for i in range(5))
        return f"substr('{_SUFFIX_LETTERS}', 1 + {bits}, 1)"

    return (f"(CASE WHEN regexp_full_match({text}, '[0-9A-Za-z]{{15}}') THEN {text} || "
            f"{group(0)} || {group(5)} || {group(10)} ELSE {text} END)")
