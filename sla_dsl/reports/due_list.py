"""The due list as people and programs read it: text for a manager's morning, JSON for a
webhook sender, CSV for a CRM import.

The clocks come from `evaluation.due` (columns, worked over all leads at once); here each
listed clock becomes one item, with its instants in its owner's local time. An owner's zone
is the one the caller gives (`owner_zones`, `sla due --owner-zone NAME=ZONE`), else the reps
file's (`sla due --reps`), else the one the export gives (`History.actor_zones`: Salesforce's
User.TimeZoneSidKey through the preset), else the policy's; each item says which
(`zone_source`: `owner` for the first three). Every rendering
is made from `document`, so the three cannot disagree.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from functools import cached_property
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from sla_dsl.business_time.zones import US_PER_HOUR, US_PER_SECOND, local_time, to_us
from sla_dsl.evaluation.due import DUE, OVERDUE, OpenClocks, open_clocks
from sla_dsl.evaluation.instants import iso_many, iso_text
from sla_dsl.evaluation.replay import Evaluation
from sla_dsl.history.csv_cells import csv_text
from sla_dsl.language import plain_words as say
from sla_dsl.printable import printable
from sla_dsl.reports.document import clause_wording

FORMAT_VERSION = 1
DEFAULT_WITHIN_HOURS = 24.0
MAX_WITHIN_HOURS = 24.0 * 366  # a year: a window longer than that is not a due list
CSV_COLUMNS = ("key", "state", "lead_id", "handoff", "clause", "owner", "party", "due_at",
               "zone", "business_time", "left_seconds", "left", "next_action",
               "next_action_at", "actions")


def within_us(hours: float) -> int:
    """The window after the as-of time, in µs. Raises ValueError for a window that is not a
    number of hours from 0 to a year."""
    if isinstance(hours, bool) or not isinstance(hours, int | float) or hours != hours \
            or not 0 <= hours <= MAX_WITHIN_HOURS:
        raise ValueError(f"must be a number of hours from 0 to {MAX_WITHIN_HOURS:g} "
                         f"(a year), not {hours!r}")
    return round(hours * US_PER_HOUR)


def zones_of(owner_zones: Mapping[str, str] | None) -> dict[str, ZoneInfo]:
    """Owners' timezones by name (matched without regard to case). Raises ValueError naming
    a zone the tz database does not know."""
    zones = {}
    for owner, name in (owner_zones or {}).items():
        try:
            zones[str(owner).lower()] = ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown timezone {name!r} for {owner!r}; write an IANA name "
                             "such as America/Chicago") from None
    return zones


class DueList:
    """What `sla due` prints: every open clock at the as-of time, most urgent first, with what
    fires on it within the window. `document` is the JSON; `text()`, `json()` and `csv()`
    are its renderings."""

    def __init__(self, evaluation: Evaluation, within_hours: float = DEFAULT_WITHIN_HOURS, *,
                 overdue: str = "recent", owner_zones: Mapping[str, str] | None = None,
                 as_of_source: str | None = None) -> None:
        self.evaluation = evaluation
        self.within_hours = float(within_hours)
        self.clocks: OpenClocks = open_clocks(evaluation, within_us(within_hours), overdue)
        self.overdue = overdue
        self.zone = ZoneInfo(evaluation.policy.timezone or "UTC")
        # the export's own zones of its users (Salesforce's TimeZoneSidKey), the reps file's
        # over them, the caller's over both
        reps = evaluation.history.reps
        own = {name: rep.zone for name, rep in reps.hours.items() if rep.zone} if reps else {}
        self.owner_zones = {**zones_of(evaluation.history.actor_zones), **zones_of(own),
                            **zones_of(owner_zones)}
        self.as_of_source = as_of_source or (
            "given" if evaluation.as_of_given
            else "latest event" if len(evaluation.history) else "no events")

    def __len__(self) -> int:
        return len(self.clocks)

    @cached_property
    def document(self) -> dict:
        clocks, zone = self.clocks, self.zone
        overdue = int(clocks.overdue.sum())
        timeless = self.as_of_source == "no events"  # no instant to list as of (not 1970)
        return {
            "format": FORMAT_VERSION,
            "policy": self.evaluation.policy.title,
            "timezone": zone.key,
            "as_of": None if timeless else iso_text(clocks.as_of, zone),
            "as_of_source": self.as_of_source,
            "within_hours": self.within_hours,
            "window_end": None if timeless else iso_text(clocks.window_end, zone),
            "overdue_listed": self.overdue,
            "counts": {"due": len(clocks) - overdue, "overdue": overdue,
                       "overdue_not_listed": clocks.overdue_left_out, "paused": clocks.paused},
            "items": self._items(),
        }

    def _items(self) -> list[dict]:
        clocks, history = self.clocks, self.evaluation.history
        zones = [self.owner_zones.get(str(owner).lower()) if owner is not None else None
                 for owner in clocks.owner.tolist()]
        # instants as text a zone at a time (a column each), not one conversion per item
        started, due = (np.empty(len(clocks), dtype=object) for _ in range(2))
        fired = np.array([f.at for f in clocks.firings], dtype=np.int64)
        fired_rows = np.array([f.row for f in clocks.firings], dtype=np.int64)
        fired_text = np.empty(len(fired), dtype=object)
        for zone in {*zones}:
            here = np.array([z is zone for z in zones], dtype=bool)
            started[here] = iso_many(clocks.start[here], zone or self.zone)
            due[here] = iso_many(clocks.due[here], zone or self.zone)
            at = here[fired_rows] if len(fired) else np.zeros(0, dtype=bool)
            fired_text[at] = iso_many(fired[at], zone or self.zone)
        wordings = {key: clause_wording(self.evaluation, *key)
                    for key in zip(clocks.handoff.tolist(), clocks.clause.tolist(), strict=True)}
        actions: list[list[dict]] = [[] for _ in range(len(clocks))]
        for firing, at in zip(clocks.firings, fired_text.tolist(), strict=True):
            actions[firing.row].append({"action": firing.action, "to": firing.to,
                                        "percent": firing.percent, "at": at})
        items = []
        for row, (lead, handoff, clause, owner, zone) in enumerate(zip(
                history.lead_ids[clocks.lead].tolist(), clocks.handoff.tolist(),
                clocks.clause.tolist(), clocks.owner.tolist(), zones, strict=True)):
            business = bool(clocks.business[row])
            left = int(clocks.left[row])
            attempt = int(clocks.attempt[row]) if clocks.attempt is not None else 1
            again = f"/attempt-{attempt}" if attempt > 1 else ""  # a recycled lead's later round
            items.append({
                "key": f"{lead}/{handoff}/{clause}{again}",
                **({"attempt": attempt} if again else {}),
                "state": OVERDUE if clocks.overdue[row] else DUE,
                "lead_id": str(lead), "handoff": handoff, "clause": clause,
                "wording": wordings[handoff, clause],
                "party": clocks.party[row], "owner": owner,
                "zone": (zone or self.zone).key,
                "zone_source": "policy" if zone is None else "owner",
                "started_at": started[row], "due_at": due[row],
                "business_time": business,
                "left_seconds": left // US_PER_SECOND,
                "left": _left_words(left, business,
                                    bool(clocks.overdue[row])
                                    and int(clocks.due[row]) == self.evaluation.as_of),
                "actions": actions[row],
            })
        return items

    def json(self) -> str:
        """The document as `sla due --format json` prints it."""
        return json.dumps(self.document, indent=2) + "\n"

    def csv(self) -> str:
        """One row per item, for a CRM import: cells a spreadsheet would run as formulas are
        neutralised (`csv_cells`), as in every CSV the tool writes."""
        rows = []
        for item in self.document["items"]:
            first = item["actions"][0] if item["actions"] else None
            rows.append([item["key"], item["state"], item["lead_id"], item["handoff"],
                         item["clause"], item["owner"], item["party"], item["due_at"],
                         item["zone"], str(item["business_time"]).lower(),
                         item["left_seconds"], item["left"],
                         _action_words(first) if first else None,
                         first["at"] if first else None,
                         "; ".join(f"{_action_words(a)} {a['at']}" for a in item["actions"])])
        return csv_text(list(CSV_COLUMNS), rows)

    def text(self) -> str:
        """The list a manager reads in the morning: what is due, most urgent first, then what
        is overdue and still not done."""
        doc = self.document
        if doc["as_of"] is None:
            return printable(f"{doc['policy'] or 'policy'}: the history has no events, so no "
                             "clock is open\n")
        as_of = _when(doc["as_of"], doc["timezone"])
        source = {"given": "as given", "now": "now",
                  "latest event": "the latest event in the history"}[doc["as_of_source"]]
        zones = sorted({i["zone"] for i in doc["items"] if i["zone_source"] == "owner"})
        out = [f"{doc['policy'] or 'policy'}: due list as of {as_of} ({source})",
               f"window: what fires by {_when(doc['window_end'], doc['timezone'])} "
               f"(the next {_hours(doc['within_hours'])})",
               f"times in {doc['timezone']} (the policy's timezone)"
               + (f"; an owner's own zone where given ({', '.join(zones)})" if zones else "")]
        counts = doc["counts"]
        due = [i for i in doc["items"] if i["state"] == DUE]
        overdue = [i for i in doc["items"] if i["state"] == OVERDUE]
        out += ["", f"due: {_clocks(counts['due'])}" + (", most urgent first" if due else "")]
        out += [line for item in due for line in _item_lines(item)]
        if self.overdue != "none":
            what = {"recent": f"breached in the last {_hours(doc['within_hours'])} or with "
                              "an action still to fire",
                    "all": "breached"}[self.overdue]
            out += ["", f"overdue: {_clocks(counts['overdue'])} {what}, still not done"]
            out += [line for item in overdue for line in _item_lines(item)]
        if counts["overdue_not_listed"]:
            earlier = "" if self.overdue == "none" else " earlier"  # (none: every one of them)
            out.append(f"  ({_clocks(counts['overdue_not_listed'])} breached{earlier} and still "
                       "not done are not listed: --overdue all lists them)")
        if counts["paused"]:
            out += ["", f"paused: {_clocks(counts['paused'])} with no due time until the "
                        "pause ends"]
        return printable("\n".join(out) + "\n")


def _clocks(count: int) -> str:
    return say.counted(count, "clock") if count else "no clocks"


def _hours(hours: float) -> str:
    return say.counted(int(hours), "hour") if hours == int(hours) else f"{hours:g} hours"


def _left_words(left_us: int, business: bool, due_now: bool) -> str:
    """A clock due at the as-of time itself is breached (nothing done by its due time): not
    "0 minutes left", which a clock due at the next opening after a closed night has, nor
    "overdue by 0 minutes", which one due before a closed night has."""
    if due_now:
        return "due at the as-of time, not done"
    kind = "business time" if business else "time"
    amount = say.timedelta(dt.timedelta(microseconds=abs(left_us)), days=not business)
    return f"{amount} of {kind} left" if left_us >= 0 else f"overdue by {amount} of {kind}"


def _action_words(action: dict) -> str:
    if action["action"] == "warn":
        return f"warn at {action['percent']:g}%"
    if action["action"] == "escalate":
        return f"escalate to {action['to']}"
    return "strike owner" if action["action"] == "strike" else action["action"]


def _when(iso: str | None, zone: str) -> str:
    """An ISO instant as a rep reads it: weekday, date, time and the zone's abbreviation
    (EST or EDT), so a daylight-saving change shows."""
    if iso is None:
        return "-"
    moment = local_time(to_us(dt.datetime.fromisoformat(iso)), ZoneInfo(zone))
    return moment.strftime("%a %Y-%m-%d %H:%M %Z")


def _item_lines(item: dict) -> list[str]:
    owner = item["owner"] or f"no owner yet ({item['party'] or 'no party'})"
    lines = [f"  {_when(item['due_at'], item['zone'])}  {item['left']}",
             f"    {item['lead_id']}  {item['handoff']}: {item['wording']}  owner {owner}"]
    if item["actions"]:
        lines.append("    " + "; ".join(f"{_action_words(a)} {_when(a['at'], item['zone'])}"
                                         for a in item["actions"]))
    return lines
