"""Whose hours a clock runs on, in a block that says `clocks run on owner hours`: each rep's
own calendar as far as the inputs tell it, and what the report says of the clocks whose owner
nothing was known of (counted on the policy calendar instead)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

import numpy as np

from sla_dsl.business_time.rep_hours import OwnerCalendars, RepHours
from sla_dsl.history.columns import History


def owner_calendars(history: History) -> OwnerCalendars:
    """Each rep's own calendar as far as it is known: the reps file's timezone and hours,
    else the zone the export gives its user (Salesforce's User.TimeZoneSidKey)."""
    zones = {str(name).lower(): zone for name, zone in history.actor_zones.items()}
    hours = {name: RepHours(zone, None, "the export's user zone")
             for name, zone in zones.items()}
    reps = history.reps
    for name, rep in (reps.hours.items() if reps is not None else ()):
        export = zones.get(name.lower())
        source = rep.source if rep.zone or export is None else \
            f"{rep.source}, zone from the export"
        hours[name.lower()] = RepHours(rep.zone or export, rep.weekly, source)
    return OwnerCalendars(hours)


def owner_hours_notes(clauses: Iterable, calendars: OwnerCalendars | None) -> list[str]:
    """Per block on owner hours, how many clocks ran on their owner's own calendar and how
    many on the policy calendar's, naming the owners nothing was known of: a rep missing
    from the reps file is said, never silently counted on other hours. `clauses` are the
    evaluation's `ClauseResult`s."""
    own: Counter[str] = Counter()
    fallback: dict[str, Counter[str]] = {}
    for result in clauses:
        if result.hours_of is None or not len(result.hours_of):
            continue
        owners = np.where(result.hours_of == None, "", result.hours_of)  # noqa: E711
        names, counts = np.unique(owners.astype(str), return_counts=True)
        for name, count in zip(names.tolist(), counts.tolist(), strict=True):
            if name and calendars is not None and calendars.knows(name) is not None:
                own[result.handoff] += count
            else:
                missing = fallback.setdefault(result.handoff, Counter())
                missing[name or "no owner"] += count
    notes = []
    for label in dict.fromkeys([*own, *fallback]):
        missing = fallback.get(label, Counter())
        text = (f"handoff {label} runs its clocks on owner hours: {own[label]} clocks on "
                f"their owner's own hours, {sum(missing.values())} on the calendar's")
        if missing:
            names = ", ".join(f"{name} ({count})" for name, count in missing.most_common())
            text += f" (not in the reps file, no zone from the export: {names})"
        notes.append(text)
    return notes
