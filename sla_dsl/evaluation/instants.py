"""An evaluation's instants as its documents write them: ISO 8601 text in the policy's zone.

NONE (no such moment) and STOPPED (a clock paused with no due time) are written as None. The
report's document and the measures that list deals (attribution) both write instants this
way; the rule lives here, beside the evaluation's markers it reads, below both.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

import numpy as np

from sla_dsl.business_time.zones import iso_texts, local_time
from sla_dsl.evaluation.replay import NONE, STOPPED


def iso_text(us: int, zone: ZoneInfo) -> str | None:
    """The instant as local ISO 8601 text in `zone`; None for NONE and STOPPED."""
    if us in (NONE, STOPPED):
        return None
    return local_time(us, zone).isoformat()


def iso_many(us: np.ndarray, zone: ZoneInfo) -> np.ndarray:
    """`iso_text` for a column of instants at once (`zones.iso_texts`), None where there is none."""
    out = np.full(len(us), None, dtype=object)
    valid = (us != NONE) & (us != STOPPED)
    if valid.any():
        out[valid] = iso_texts(us[valid], zone)
    return out
