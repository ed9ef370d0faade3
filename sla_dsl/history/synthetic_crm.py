"""Synthetic CRM exports: the same leads as Salesforce and HubSpot write them, and as events.

The exports have the objects' documented columns and the quirks the presets must handle; the
event log beside them is what the export records, written plainly. Replaying both through a
policy must give the same verdicts (tests/test_presets.py), which is what shows a preset reads
the export as the CRM meant it.

    python -m sla_dsl.history.synthetic_crm salesforce examples/salesforce --leads 60
    python -m sla_dsl.history.synthetic_crm hubspot examples/hubspot --leads 60

Salesforce quirks: owner changes written twice (user Id row and display-name row), ActivityDate
a UTC-midnight due date, tasks of converted leads on their contacts (003...), open, deleted and
account tasks (left out), a task on a contact that is no lead's (rejected), field history only
since tracking was switched on, and Event.csv as a UI report writes it (`3/15/2026 2:30 PM`,
local time). HubSpot quirks: contacts' times without an offset (in the portal's zone), both
labels and internal names, owner ids in the history and engagements, owner names in contacts.

The event log goes in `events/history.csv` below the export's folder, so `--history
folder/*.csv` reads the export alone.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from sla_dsl.business_time.zones import local_time, to_us
from sla_dsl.history.csv_cells import write_csv_rows

__all__ = ["EXPORT_ZONE", "TRACKING_START", "Lead", "hubspot", "leads", "main", "salesforce"]

EXPORT_ZONE = "Europe/Amsterdam"
"""The zone of times written without an offset (the UI report, HubSpot's contacts)."""
START = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)
TRACKING_START = dt.datetime(2026, 3, 4, tzinfo=dt.UTC)
"""Salesforce field history tracking switched on: no LeadHistory row before it."""
REPS = [("0055g00000A1b2cAAA", "Avery Example"), ("0055g00000A1b2dAAA", "Blake Example"),
        ("0055g00000A1b2eAAA", "Casey Example"), ("0055g00000A1b2fAAA", "Drew Example")]
INTEGRATION_USER = "0055g00000Z9y8xAAA"
INDUSTRIES = ["Technology", "Finance", "Healthcare", "Retail", "Education"]
SOURCES = ["Web", "Webinar", "Partner Referral", "Purchased List"]


@dataclass
class Lead:
    """One lead's story: what happened and when (UTC), in the CRM's words."""

    number: int
    created: dt.datetime
    owners: list[tuple[dt.datetime, int]]  # (when, rep index); the first at creation
    statuses: list[tuple[dt.datetime, str, str]]  # (when, status, event)
    touches: list[tuple[dt.datetime, str, str]] = field(default_factory=list)
    # (when, "Call"/"Email", disposition)
    meetings: list[dt.datetime] = field(default_factory=list)
    converted: dt.datetime | None = None
    industry: str = ""
    source: str = ""
    employees: int = 0
    title: str = ""

    @property
    def id(self) -> str:
        return f"00Q5g{self.number:010d}AAA"

    @property
    def contact(self) -> str:
        return f"0035g{self.number:010d}AAA"


def _minute(moment: dt.datetime) -> dt.datetime:
    return moment.replace(second=0, microsecond=0)


def leads(count: int, seed: int = 14) -> list[Lead]:
    """`count` leads over two weeks from 2 March 2026, worked at varied speed."""
    rng = random.Random(seed)
    out = []
    for n in range(count):
        day = rng.randrange(12)
        created = START + dt.timedelta(days=day, seconds=rng.randrange(7 * 3600, 17 * 3600))
        if created.weekday() >= 5:
            created += dt.timedelta(days=7 - created.weekday())
        rep = rng.randrange(len(REPS))
        owners = [(created, rep)]
        if rng.random() < 0.25:  # reassigned a little later
            owners.append((created + dt.timedelta(minutes=rng.randrange(5, 240)),
                           (rep + 1) % len(REPS)))
        lead = Lead(n, created, owners, [], industry=rng.choice(INDUSTRIES),
                    source=rng.choice(SOURCES), employees=rng.choice([8, 40, 250, 1200]),
                    title=rng.choice(["VP Sales", "Marketing Manager", "Analyst", "CEO"]))
        at = created + dt.timedelta(minutes=rng.choice([20, 90, 300, 1500, 3000]))
        for k in range(rng.randrange(0, 5)):
            kind = rng.choice(["Call", "Call", "Email"])
            disposition = rng.choice(["No answer", "Left voicemail", "Connected"]) \
                if kind == "Call" else ""
            lead.touches.append((at, kind, disposition))
            if k == 0:
                lead.statuses.append((at + dt.timedelta(seconds=30), "Working - Contacted",
                                      "stage"))
            at += dt.timedelta(hours=rng.choice([3, 20, 26, 50]))
        if lead.touches and rng.random() < 0.2:
            hold = lead.touches[0][0] + dt.timedelta(hours=1)
            lead.statuses.append((hold, "on hold", "updated"))
            lead.statuses.append((hold + dt.timedelta(days=2), "Working - Contacted", "stage"))
        if lead.touches and rng.random() < 0.3:
            lead.meetings.append(_minute(at + dt.timedelta(days=1)))
        ending = rng.random()
        last = max([created] + [t[0] for t in lead.touches] + lead.meetings)
        if ending < 0.3 and lead.touches:
            lead.converted = last + dt.timedelta(hours=2)
            lead.statuses.append((lead.converted, "Closed - Converted", "accepted"))
            # the rep keeps working the contact after the conversion
            lead.touches.append((lead.converted + dt.timedelta(days=1), "Email", ""))
        elif ending < 0.5:
            lead.statuses.append((last + dt.timedelta(hours=3), "Closed - Not Converted",
                                  "rejected"))
        lead.statuses.sort()
        lead.touches.sort()
        out.append(lead)
    return out


# ---------------------------------------------------------------------------- formats


def _in(moment: dt.datetime, zone: dt.tzinfo) -> dt.datetime:
    """The moment read in `zone`, converted where all local time is (business_time.zones)."""
    return local_time(to_us(moment), zone)


def _api(moment: dt.datetime) -> str:
    return _in(moment, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def _ui(moment: dt.datetime) -> str:
    local = _in(moment, ZoneInfo(EXPORT_ZONE))
    return f"{local.month}/{local.day}/{local.year} {local.strftime('%I:%M %p').lstrip('0')}"


def _iso(moment: dt.datetime) -> str:
    return _in(moment, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _hubspot_local(moment: dt.datetime) -> str:
    return _in(moment, ZoneInfo(EXPORT_ZONE)).strftime("%Y-%m-%d %H:%M")


def _write(path: Path, header: Sequence[str], rows: list[list[object]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_csv_rows(path, list(header), rows)


# ---------------------------------------------------------------------------- events


_EVENT_HEADER = ["lead_id", "at", "event", "actor", "status", "channel", "industry",
                 "employees", "title", "lead_source"]


def _event_rows(story: Sequence[Lead], *, tracked: bool, touches_of, lead_id,
                handoff_at, owner_name) -> list[list[object]]:
    rows: list[list[object]] = []
    for lead in story:
        key = lead_id(lead)
        rows.append([key, _iso(lead.created), "created", "", "", "", lead.industry,
                     lead.employees, lead.title, lead.source])
        handoff = handoff_at(lead)
        if handoff is not None:
            rows.append([key, _iso(handoff), "handoff", "", "", "", "", "", "", ""])
        for when, rep in lead.owners:
            rows.append([key, _iso(when), "assigned", owner_name(rep), "", "", "", "", "", ""])
        for when, status, event in lead.statuses:
            if tracked and when < TRACKING_START:
                continue
            rows.append([key, _iso(when), event, "", status, "", "", "", "", ""])
        for when, kind, disposition, rep in touches_of(lead):
            event = "connected" if disposition == "Connected" or kind == "Meeting" else "touch"
            rows.append([key, _iso(when), event, owner_name(rep), "", kind, "", "", "", ""])
    return rows


def _owner_at(lead: Lead, when: dt.datetime) -> int:
    return [rep for at, rep in lead.owners if at <= when][-1]


# ---------------------------------------------------------------------------- Salesforce


def salesforce(story: Sequence[Lead], folder: Path) -> None:
    """Lead, LeadHistory, Task, Event and User CSVs, and events/history.csv."""
    folder = Path(folder)
    _write(folder / "User.csv", ["Id", "Name", "IsActive", "TimeZoneSidKey"],
           [[uid, name, "true", EXPORT_ZONE] for uid, name in REPS])
    lead_rows, history_rows, task_rows, event_rows = [], [], [], []
    task_number = event_number = history_number = 0

    def task_id() -> str:
        nonlocal task_number
        task_number += 1
        return f"00T5g{task_number:010d}AAA"

    for lead in story:
        final = REPS[lead.owners[-1][1]][0]
        status = lead.statuses[-1][1] if lead.statuses else "Open - Not Contacted"
        lead_rows.append([
            lead.id, final, status, lead.source, _api(lead.created),
            "true" if lead.converted else "false",
            lead.converted.date().isoformat() if lead.converted else "",
            lead.contact if lead.converted else "",
            f"0065g{lead.number:010d}AAA" if lead.converted else "", "Warm", lead.industry,
            lead.employees, lead.employees * 90_000, lead.title, f"Company {lead.number}",
            "Netherlands", "false"])
        for (when, rep), (_, before) in zip(lead.owners[1:], lead.owners, strict=False):
            if when < TRACKING_START:
                continue
            for old, new, kind in ((REPS[before][0], REPS[rep][0], "EntityId"),
                                   (REPS[before][1], REPS[rep][1], "Text")):
                history_number += 1
                history_rows.append([f"0175g{history_number:010d}AAA", lead.id, "Owner", old,
                                     new, kind, _api(when), INTEGRATION_USER])
        previous = "Open - Not Contacted"
        for when, status_text, _ in lead.statuses:
            if when >= TRACKING_START:
                history_number += 1
                history_rows.append([f"0175g{history_number:010d}AAA", lead.id, "Status",
                                     previous, status_text, "Picklist", _api(when),
                                     REPS[_owner_at(lead, when)][0]])
            previous = status_text
        for when, kind, disposition in lead.touches:
            on_contact = lead.converted is not None and when > lead.converted
            completed = _api(when) if kind == "Call" else ""  # an email logs when it was sent
            midnight = when.date().isoformat()  # ActivityDate: the due date, UTC midnight
            task_rows.append([task_id(), lead.contact if on_contact else lead.id,
                              REPS[_owner_at(lead, when)][0], midnight, _api(when), completed,
                              "Completed", kind, kind, disposition,
                              60 if disposition == "Connected" else 0, f"{kind} {lead.number}",
                              "false"])
        if lead.touches:  # quirks: an open task, a deleted one: left out
            when = lead.touches[-1][0] + dt.timedelta(days=3)
            task_rows.append([task_id(), lead.id, REPS[0][0], when.date().isoformat(),
                              _api(when), "", "Not Started", "Call", "Call", "", 0,
                              "Follow up", "false"])
        if lead.number % 7 == 3 and lead.touches:
            when = lead.touches[0][0]
            task_rows.append([task_id(), lead.id, REPS[0][0], when.date().isoformat(),
                              _api(when), _api(when), "Completed", "Call", "Call", "Connected",
                              60, "Deleted call", "true"])
        for when in lead.meetings:
            event_number += 1
            event_rows.append([f"00U5g{event_number:010d}AAA", lead.id,
                               REPS[_owner_at(lead, when)][0], _ui(when),
                               _ui(when - dt.timedelta(days=1)), "Meeting", "Demo"])
    # a task on an account (no WhoId: left out) and one on a contact that is no lead's
    # (rejected, with its reason)
    stray = START + dt.timedelta(days=3, hours=10)
    task_rows.append([task_id(), "", REPS[1][0], stray.date().isoformat(), _api(stray),
                      _api(stray), "Completed", "Call", "Call", "No answer", 0,
                      "Account call", "false"])
    task_rows.append([task_id(), "0035g9999999999AAA", REPS[1][0], stray.date().isoformat(),
                      _api(stray), _api(stray), "Completed", "Email", "Email", "", 0,
                      "Old contact", "false"])
    _write(folder / "Lead.csv", ["Id", "OwnerId", "Status", "LeadSource", "CreatedDate",
                                 "IsConverted", "ConvertedDate", "ConvertedContactId",
                                 "ConvertedOpportunityId", "Rating", "Industry",
                                 "NumberOfEmployees", "AnnualRevenue", "Title", "Company",
                                 "Country", "IsDeleted"], lead_rows)
    _write(folder / "LeadHistory.csv", ["Id", "LeadId", "Field", "OldValue", "NewValue",
                                        "DataType", "CreatedDate", "CreatedById"], history_rows)
    _write(folder / "Task.csv", ["Id", "WhoId", "OwnerId", "ActivityDate", "CreatedDate",
                                 "CompletedDateTime", "Status", "Type", "TaskSubtype",
                                 "CallDisposition", "CallDurationInSeconds", "Subject",
                                 "IsDeleted"], task_rows)
    _write(folder / "Event.csv", ["Id", "WhoId", "OwnerId", "StartDateTime", "CreatedDate",
                                  "Type", "Subject"], event_rows)

    def touches(lead: Lead):
        out = [(when, kind, disposition, _owner_at(lead, when))
               for when, kind, disposition in lead.touches]
        return out + [(when, "Meeting", "", _owner_at(lead, when)) for when in lead.meetings]

    _write(folder / "events" / "history.csv", _EVENT_HEADER, _event_rows(
        story, tracked=True, touches_of=touches, lead_id=lambda lead: lead.id,
        handoff_at=lambda lead: lead.created, owner_name=lambda rep: REPS[rep][1]))


# ---------------------------------------------------------------------------- HubSpot

_HUBSPOT_STATUS = {"Working - Contacted": ("IN_PROGRESS", "stage"),
                   "on hold": ("BAD_TIMING", "updated"),
                   "Closed - Converted": ("OPEN_DEAL", "accepted"),
                   "Closed - Not Converted": ("UNQUALIFIED", "rejected")}


def _owner_id(rep: int) -> str:
    return str(51_000_000 + rep)


def hubspot(story: Sequence[Lead], folder: Path) -> None:
    """contacts.csv (labels), property_history.csv, engagements.csv, engagement_contacts.csv
    and owners.csv, and events/history.csv."""
    folder = Path(folder)
    contacts, history, engagements, links = [], [], [], []
    number = 0
    for lead in story:
        contact = str(1000 + lead.number)
        mql = lead.created + dt.timedelta(minutes=5)
        first = lead.touches[0][0] if lead.touches else None
        status = (_HUBSPOT_STATUS[lead.statuses[-1][1]][0] if lead.statuses else "NEW")
        contacts.append([contact, _hubspot_local(lead.created), "marketingqualifiedlead",
                         status, REPS[lead.owners[-1][1]][1], _hubspot_local(mql), "",
                         _hubspot_local(lead.owners[-1][0]),
                         _hubspot_local(first) if first else "", len(lead.touches),
                         _hubspot_local(first) if first else ""])
        for when, rep in lead.owners:
            history.append([contact, "hubspot_owner_id", _iso(when), _owner_id(rep),
                            "CRM_UI"])
        for when, text, _ in lead.statuses:
            history.append([contact, "hs_lead_status", _iso(when), _HUBSPOT_STATUS[text][0],
                            "CRM_UI"])
        history.append([contact, "lifecyclestage", _iso(mql), "marketingqualifiedlead",
                        "AUTOMATION"])
        for when, kind, disposition in lead.touches:
            number += 1
            engagements.append([str(number), kind.upper(), _iso(when),
                                _owner_id(_owner_at(lead, when)), disposition])
            links.append([contact, str(number)])
        for when in lead.meetings:
            number += 1
            engagements.append([str(number), "MEETING", _iso(when),
                                _owner_id(_owner_at(lead, when)), ""])
            links.append([contact, str(number)])
    number += 1  # a note is no touch: left out
    engagements.append([str(number), "NOTE", _iso(START), _owner_id(0), ""])
    links.append(["1000", str(number)])
    _write(folder / "contacts.csv", [
        "Record ID", "Create Date", "Lifecycle Stage", "Lead Status", "Contact owner",
        "Became a Marketing Qualified Lead Date", "Became a Sales Qualified Lead Date",
        "Owner assigned date", "Last Activity Date", "Number of Sales Activities",
        "hs_sa_first_engagement_date"], contacts)
    _write(folder / "property_history.csv", ["contact_id", "name", "timestamp", "value",
                                             "source"], history)
    _write(folder / "engagements.csv", ["id", "type", "timestamp", "owner_id",
                                        "call_disposition"], engagements)
    _write(folder / "engagement_contacts.csv", ["contact_id", "engagement_id"], links)
    _write(folder / "owners.csv", ["id", "name"],
           [[_owner_id(i), name] for i, (_, name) in enumerate(REPS)])

    def touches(lead: Lead):
        out = [(when, kind.upper(), disposition, _owner_at(lead, when))
               for when, kind, disposition in lead.touches]
        return out + [(when, "Meeting", "", _owner_at(lead, when)) for when in lead.meetings]

    rows = _event_rows(
        story, tracked=False, touches_of=touches, lead_id=lambda lead: str(1000 + lead.number),
        handoff_at=lambda lead: _minute(lead.created + dt.timedelta(minutes=5)),
        owner_name=lambda rep: REPS[rep][1])
    for row in rows:  # HubSpot's own words for the statuses and channels
        if row[4]:
            row[4] = _HUBSPOT_STATUS[row[4]][0]
            row[2] = _HUBSPOT_STATUS_EVENT.get(row[4], row[2])
        if row[5] == "Meeting":
            row[5] = "MEETING"
        if row[2] == "created":  # contacts carry no firmographics, and minutes only
            row[6:] = ["", "", "", ""]
            row[1] = row[1][:17] + "00Z"
    _write(folder / "events" / "history.csv", _EVENT_HEADER, rows)


_HUBSPOT_STATUS_EVENT = {code: event for code, event in _HUBSPOT_STATUS.values()}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write a synthetic Salesforce or HubSpot "
                                                 "export and the same leads as events.")
    parser.add_argument("crm", choices=("salesforce", "hubspot"))
    parser.add_argument("folder", type=Path)
    parser.add_argument("--leads", type=int, default=60)
    parser.add_argument("--seed", type=int, default=14)
    args = parser.parse_args(argv)
    story = leads(args.leads, args.seed)
    (salesforce if args.crm == "salesforce" else hubspot)(story, args.folder)
    print(f"wrote {args.crm} export of {args.leads} leads to {args.folder}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
