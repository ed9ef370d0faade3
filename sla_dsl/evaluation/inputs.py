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

from sla_dsl.arguments import expect_files, expect_policy
from sla_dsl.business_time.zones import read_iso, resolve_local, to_us
from sla_dsl.evaluation.replay import fields_needed
from sla_dsl.history import read
from sla_dsl.history.absences import read_absences
from sla_dsl.history.buckets import buckets_read_alone
from sla_dsl.history.columns import SUPPORTED_TIMES, History, in_supported_range
from sla_dsl.history.mapping import Mapping, MappingError, load_mapping
from sla_dsl.history.presets import load_preset
from sla_dsl.history.reps import read_reps
from sla_dsl.language.model import Policy

Paths = str | Path | Sequence[str | Path]


def load_history(paths: Paths = (), mapping: str | Path | Mapping | None = None,
                 policy: Policy | None = None, *,
                 fields: Collection[str] | None = None,
                 preset: str | None = None,
                 export_timezone: str | None = None,
                 absences: str | Path | None = None,
                 reps: str | Path | None = None) -> History:
    """Event logs (or, with a `mapping`, CRM exports) as one History, exactly as `sla evaluate`
    reads them: times without an offset in the policy's timezone (UTC without a policy), and
    only the field columns the policy's conditions read (all of them without a policy), since
    turning text columns into Python strings is most of a big read. `fields` names the columns
    to keep instead (calibration also reads `stage`).

    `preset` ("salesforce", "hubspot") reads a CRM's export as it comes, by the mapping shipped
    for it (`sla evaluate --preset`), instead of a `mapping`; `export_timezone` is the zone of
    the export's times written without an offset (`--timezone`: a HubSpot portal's), where it
    differs from the policy's. The result's `notes` say what such an export cannot show.

    `paths` is one file or several; with a mapping, none reads the files the mapping names.
    The result's `counts` (read, accepted, rejected), `left_out` (rows a mapping's filters
    dropped) and `rejects` say what was left out.

    `absences` is a CSV of `rep,start,end[,reason]` (`sla evaluate --absences`): who was absent
    when, for the blocks that say `when owner absent pause`; the result's `absences` holds the
    spans, its own `counts` and `rejects` (a bad row never raises).
    `reps` is a CSV of `rep,timezone,hours` (`sla evaluate --reps`): each rep's own calendar,
    for the blocks that say `clocks run on owner hours`; in the result's `reps`, with its own
    `counts` and `rejects`.
    Raises `HistoryError` (`MappingError` for a mapping's own mistakes, or a mapping and a
    preset both given) when a file cannot be read at all; a bad row never raises."""
    expect_files(paths)
    if policy is not None:
        expect_policy(policy)
    files = [paths] if isinstance(paths, str | Path) else list(paths)
    if preset is not None:
        if mapping is not None:
            raise MappingError(f"a mapping and the preset {preset!r} both say how to read the "
                               "export\n  help: give one: a preset adapted to your CRM is a "
                               "mapping")
        mapping = load_preset(preset)
    elif isinstance(mapping, str | Path):
        mapping = load_mapping(mapping)
    if fields is None and policy is not None:
        fields = fields_needed(policy)
    timezone = (policy.timezone if policy is not None else None) or "UTC"
    history = read.load_history(files, timezone=timezone, mapping=mapping, fields=fields,
                                export_timezone=export_timezone)
    if mapping is None:  # an ingest's bucket given as a file: its rejects are elsewhere
        history.notes += buckets_read_alone(files)
    if absences is not None:
        history.absences = read_absences(absences, timezone)
    if reps is not None:
        history.reps = read_reps(reps)
    return history


def as_of_instant(moment: str | dt.datetime | int | None, timezone: str) -> int | None:
    """An as-of time as µs since the epoch: ISO 8601 text or a datetime, read in `timezone`
    when it has no offset, or µs already. Raises ValueError saying what is wrong with it: not
    a time, or outside the times a history may hold (so no table is built out to it)."""
    if moment is None:
        return None
    if isinstance(moment, bool) or not isinstance(moment, int | str | dt.datetime):
        raise ValueError(f"is not a date and time: a {type(moment).__name__}, where ISO 8601 "
                         "text, a datetime or µs since the epoch is read")
    if isinstance(moment, int):
        instant = moment
    else:
        try:
            if isinstance(moment, str):
                instant = read_iso(moment, ZoneInfo(timezone))
            else:
                if moment.tzinfo is None:  # a wall time, read by the history's rule
                    moment = resolve_local(moment, ZoneInfo(timezone))
                instant = to_us(moment)
        except (ValueError, OverflowError) as error:
            raise ValueError(f"is not a date and time{_detail(str(error))}") from None
    if not in_supported_range(instant):
        raise ValueError(f"is outside the supported times, {SUPPORTED_TIMES}")
    return instant


def _detail(reason: str) -> str:
    """What `parse_time` found wrong with text of the right form (`: there is no month 13`);
    nothing for text of another form, which the command's help line answers with examples."""
    _, _, detail = reason.partition(" is not a date and time: ")
    return "" if not detail or detail.startswith("expected ") else f": {detail}"
