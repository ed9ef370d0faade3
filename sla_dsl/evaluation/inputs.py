"""What an evaluation reads besides the policy: the history, read the way the policy needs it,
and the as-of time it is judged at.

`sla evaluate`, `sla calibrate`, `sla diff` and the Python API (`sla_dsl.load_history`) all read
through here, so a notebook sees the very rows, rejects and times the command line does.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from pathlib import Path
from zoneinfo import ZoneInfo

from sla_dsl.business_time.zones import resolve_local, to_us
from sla_dsl.evaluation.replay import fields_needed
from sla_dsl.history import read
from sla_dsl.history.columns import SUPPORTED_TIMES, History, in_supported_range
from sla_dsl.history.mapping import Mapping, load_mapping
from sla_dsl.language.model import Policy

Paths = str | Path | Sequence[str | Path]


def load_history(paths: Paths = (), mapping: str | Path | Mapping | None = None,
                 policy: Policy | None = None, *,
                 fields: Collection[str] | None = None) -> History:
    """Event logs (or, with a `mapping`, CRM exports) as one History, exactly as `sla evaluate`
    reads them: times without an offset in the policy's timezone (UTC without a policy), and
    only the field columns the policy's conditions read (all of them without a policy), since
    turning text columns into Python strings is most of a big read. `fields` names the columns
    to keep instead (calibration also reads `stage`).

    `paths` is one file or several; with a mapping, none reads the files the mapping names.
    The result's `counts` (read, accepted, rejected) and `rejects` say what was left out.
    Raises `HistoryError` (`MappingError` for a mapping's own mistakes) when a file cannot be
    read at all; a bad row never raises."""
    files = [paths] if isinstance(paths, str | Path) else list(paths)
    if isinstance(mapping, str | Path):
        mapping = load_mapping(mapping)
    if fields is None and policy is not None:
        fields = fields_needed(policy)
    timezone = (policy.timezone if policy is not None else None) or "UTC"
    return read.load_history(files, timezone=timezone, mapping=mapping, fields=fields)


def as_of_instant(moment: str | dt.datetime | int | None, timezone: str) -> int | None:
    """An as-of time as µs since the epoch: ISO 8601 text or a datetime, read in `timezone`
    when it has no offset, or µs already. Raises ValueError saying what is wrong with it: not
    a time, or outside the times a history may hold (so no table is built out to it)."""
    if moment is None:
        return None
    if isinstance(moment, int):
        instant = moment
    else:
        try:
            if isinstance(moment, str):
                moment = dt.datetime.fromisoformat(moment.replace("Z", "+00:00"))
            if moment.tzinfo is None:  # a wall time, read by the history's rule
                moment = resolve_local(moment, ZoneInfo(timezone))
            instant = to_us(moment)
        except (ValueError, OverflowError):
            raise ValueError("is not a date and time") from None
    if not in_supported_range(instant):
        raise ValueError(f"is outside the supported times, {SUPPORTED_TIMES}")
    return instant
