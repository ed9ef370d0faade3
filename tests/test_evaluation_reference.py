"""The vectorised evaluator against a slow reference that walks time minute by minute.

`tests/reference_evaluator.py` holds the reference: a plain loop per lead per event, with
deadlines found by stepping through local wall time with zoneinfo (no `sla_dsl.business_time`,
no numpy). Its own rules are pinned first to the examples of the language reference; then the
two implementations must agree on status, due time and `at` for every lead and clause: on
hand-picked edges, and on random calendars, policies and histories around DST changes.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, note, settings
from hypothesis import strategies as st

from sla_dsl.evaluation.replay import NONE, STATUS_NAMES, evaluate
from sla_dsl.history.columns import EVENT_CODE, History
from sla_dsl.policy_file import check_text
from tests.reference_evaluator import (
    MINUTE,
    SECOND,
    ReferenceCalendar,
    Verdict,
    calendar_of,
    deadline,
    evaluate_reference,
)

NY = ZoneInfo("America/New_York")
AMS = ZoneInfo("Europe/Amsterdam")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
FEASIBILITY = {"E400", "E409"}  # a cadence the checker finds impossible is still evaluable


# ---------------------------------------------------------------- building inputs


def policy_text(clauses: list[str], open_lines: list[str], closed: list[dt.date],
                timezone: str = "America/New_York") -> str:
    calendar = "\n".join(f"  {line}" for line in open_lines)
    if closed:
        calendar += "\n  closed " + ", ".join(d.isoformat() for d in sorted(closed))
    body = "\n".join(f"  {clause}" for clause in clauses)
    return f"""\
sla "Reference desk"
timezone "{timezone}"
party marketing contact "m@desk.example"
party sales contact "s@desk.example"

calendar business {{
{calendar}
}}

handoff every lead from marketing to sales {{
{body}
}}
"""


def checked_policy(text: str):
    checked = check_text(text)
    unexpected = [d for d in checked.errors if d.code.code not in FEASIBILITY]
    assert checked.policy is not None and not unexpected, [d.message for d in checked.errors]
    return checked.policy


def us(moment: dt.datetime) -> int:
    return int(moment.timestamp()) * SECOND + moment.microsecond


def at(*args, zone=NY) -> dt.datetime:
    return dt.datetime(*args, tzinfo=zone)


def make_history(leads: list[list[tuple[str, int]]]) -> History:
    """Leads L0, L1, … each a list of (event, µs); touches are made by `ana`."""
    rows = sorted((lead, when, n, event)
                  for lead, events in enumerate(leads) for n, (event, when) in enumerate(events))
    touching = {"touch", "connected", "accepted", "rejected"}
    return History(
        lead=np.array([r[0] for r in rows], dtype=np.int64),
        at=np.array([r[1] for r in rows], dtype=np.int64),
        event=np.array([EVENT_CODE[r[3]] for r in rows], dtype=np.int8),
        actor=np.array([0 if r[3] in touching else -1 for r in rows], dtype=np.int64),
        row=np.arange(1, len(rows) + 1),
        lead_ids=np.array([f"L{k}" for k in range(len(leads))], dtype=object),
        actors=np.array(["ana"], dtype=object),
        rows_read=len(rows),
    )


def fast_verdicts(policy, history: History, as_of: int | None
                  ) -> dict[tuple[str, int, int], Verdict]:
    found = {}
    for result in evaluate(policy, history, as_of).clauses:
        for lead, status, due, done, attempt in zip(result.leads, result.status, result.due,
                                                    result.at, result.attempt, strict=True):
            found[result.clause, int(lead), int(attempt)] = Verdict(
                STATUS_NAMES[int(status)], int(due), None if done == NONE else int(done))
    return found


def readable(instant: int | None, zone: ZoneInfo) -> str:
    if instant is None:
        return "-"
    return dt.datetime.fromtimestamp(instant / SECOND, zone).isoformat()


def assert_agree(policy, history: History, as_of: int | None, zone: ZoneInfo) -> None:
    expected = evaluate_reference(policy, history, as_of)
    got = fast_verdicts(policy, history, as_of)
    differences = [
        f"{key}: reference {v.status} due {readable(v.due, zone)} at {readable(v.at, zone)}; "
        f"fast {g.status} due {readable(g.due, zone)} at {readable(g.at, zone)}"
        for key in sorted(set(expected) | set(got))
        if (v := expected.get(key, Verdict("-", 0, None))) != (g := got.get(key, Verdict(
            "-", 0, None)))
    ]
    assert not differences, "\n".join(differences)


# ---------------------------------------------------------------- the reference, pinned to the docs

WEEKDAY_9_TO_5 = ReferenceCalendar("America/New_York", {d: [(540, 1020)] for d in range(5)},
                                   {dt.date(2026, 11, 26)})


@pytest.mark.parametrize(("start", "due"), [
    (at(2026, 3, 2, 16, 0), at(2026, 3, 3, 16, 0)),      # Monday 16:00 -> Tuesday 16:00
    (at(2026, 3, 6, 16, 0), at(2026, 3, 9, 16, 0)),      # Friday -> Monday, across spring-forward
    (at(2026, 3, 7, 11, 0), at(2026, 3, 10, 9, 0)),      # Saturday: starts Monday 09:00
    (at(2026, 3, 2, 8, 0), at(2026, 3, 3, 9, 0)),        # before opening
    (at(2026, 3, 2, 17, 30), at(2026, 3, 4, 9, 0)),      # after closing
    (at(2026, 11, 25, 10, 0), at(2026, 11, 27, 10, 0)),  # the 26th is closed
])
def test_reference_business_day_follows_the_language_reference(start, due):
    assert WEEKDAY_9_TO_5.add_open_days(us(start), 1) == us(due)


@pytest.mark.parametrize(("start", "due"), [
    (at(2026, 3, 2, 16, 0), at(2026, 3, 2, 17, 0)),   # runs out at the close: the close
    (at(2026, 3, 2, 16, 30), at(2026, 3, 3, 9, 30)),
    (at(2026, 3, 6, 16, 30), at(2026, 3, 9, 9, 30)),
    (at(2026, 3, 7, 11, 0), at(2026, 3, 9, 10, 0)),
    (at(2026, 3, 2, 12, 0, 30), at(2026, 3, 2, 13, 0, 30)),  # off the minute grid
])
def test_reference_business_hour_follows_the_language_reference(start, due):
    assert WEEKDAY_9_TO_5.add_open_time(us(start), 3600 * SECOND) == us(due)


def test_reference_wall_times_skipped_and_repeated():
    always = ReferenceCalendar.always_open("America/New_York")
    # 02:30 on the spring-forward night is the jump, 03:00 EDT
    assert always.add_wall_days(us(at(2026, 3, 7, 2, 30)), 1) == us(at(2026, 3, 8, 3, 0))
    # 01:30 on the fall-back night is its first occurrence (EDT)
    first = dt.datetime(2026, 11, 1, 5, 30, tzinfo=dt.UTC)
    assert always.add_wall_days(us(at(2026, 10, 31, 1, 30)), 1) == us(first)
    # a day across DST keeps the wall time: 23 hours
    assert always.add_wall_days(us(at(2026, 3, 7, 12, 0)), 1) - us(at(2026, 3, 7, 12, 0)) \
        == 23 * 60 * MINUTE


def test_reference_open_hours_around_dst():
    sunday_night = ReferenceCalendar("America/New_York", {6: [(60, 150), (150, 180)]})
    # spring forward: 01:00-02:30 is one hour of open time, 02:30-03:00 does not open
    assert sunday_night.stretches(dt.date(2026, 3, 8)) == [
        (us(at(2026, 3, 8, 1, 0)), us(at(2026, 3, 8, 3, 0)))]
    # fall back: 01:00 first occurrence to 02:30 EST is two and a half hours
    (opens, closes), (second, end) = sunday_night.stretches(dt.date(2026, 11, 1))
    assert (closes - opens, end - second) == (150 * MINUTE, 30 * MINUTE)


# ---------------------------------------------------------------- hand-picked agreement

HANDPICKED = [
    pytest.param(
        ["touches at least 3 within 1 business day until connected", "spacing at least 2 hours"],
        ["open mon-fri 09:00-17:00"], [],
        # spaced exactly 2 hours, then one a minute short; a burst counts once
        [[("handoff", at(2026, 3, 4, 9, 0)), ("touch", at(2026, 3, 4, 9, 0)),
          ("touch", at(2026, 3, 4, 9, 5)), ("touch", at(2026, 3, 4, 11, 5)),
          ("touch", at(2026, 3, 4, 13, 4)), ("touch", at(2026, 3, 4, 15, 4))]],
        None, "America/New_York", id="spacing-exactly-and-a-minute-short"),
    pytest.param(
        ["touches at least 2 within 4 business hours until connected"],
        ["open mon-fri 09:00-17:00"], [],
        # at the window's last instant both count; a connect equal to the N-th touch
        [[("handoff", at(2026, 3, 4, 15, 0)), ("touch", at(2026, 3, 4, 16, 0)),
          ("touch", at(2026, 3, 5, 11, 0))],
         [("handoff", at(2026, 3, 4, 15, 0)), ("touch", at(2026, 3, 4, 16, 0)),
          ("connected", at(2026, 3, 5, 11, 1))],
         [("handoff", at(2026, 3, 4, 15, 0)), ("connected", at(2026, 3, 4, 16, 0)),
          ("touch", at(2026, 3, 4, 16, 0))]],
        None, "America/New_York", id="window-end-inclusive"),
    pytest.param(
        ["first touch within 1 business day", "disposition within 2 business days"],
        ["open mon-sun 00:00-24:00"], [dt.date(2026, 11, 2)],
        # handed off in the repeated hour (second occurrence, 01:30 EST) of fall-back
        [[("handoff", us(dt.datetime(2026, 11, 1, 6, 30, tzinfo=dt.UTC))),
          ("touch", us(at(2026, 11, 3, 1, 30))),
          ("accepted", us(at(2026, 11, 4, 1, 30)))]],
        None, "America/New_York", id="business-days-from-the-repeated-hour"),
    pytest.param(
        ["first touch within 1 business day", "disposition within 90 business minutes"],
        ["open mon-fri 09:00-12:00, 13:00-17:00", "open sat 12:00-13:00"], [dt.date(2026, 3, 5)],
        # handed off over lunch the clock starts at 13:00; a closed date is skipped; from
        # Saturday 12:30 the day is due Monday 12:30, kept as it is in the lunch break
        [[("handoff", at(2026, 3, 4, 12, 30)), ("touch", at(2026, 3, 6, 12, 30))],
         [("handoff", at(2026, 3, 4, 11, 0)), ("rejected", at(2026, 3, 4, 13, 30))],
         [("handoff", at(2026, 3, 7, 12, 30)), ("touch", at(2026, 3, 9, 12, 30))]],
        None, "America/New_York", id="split-shift"),
    pytest.param(
        ["first touch within 2 business hours", "touches at least 2 within 1 business day"],
        ["open mon-fri 22:00-24:00", "open tue-sat 00:00-06:00"], [],
        [[("handoff", at(2026, 3, 3, 23, 30)), ("touch", at(2026, 3, 4, 1, 30)),
          ("touch", at(2026, 3, 4, 23, 0))],
         [("handoff", at(2026, 3, 7, 5, 30)), ("touch", at(2026, 3, 9, 23, 30))]],
        None, "America/New_York", id="night-desk-across-midnight"),
    pytest.param(
        ["first touch within 1 business hour", "touches at least 2 within 1 business day"],
        ["open sun 01:00-02:30", "open sun 02:30-03:00", "open mon 09:00-10:00"], [],
        # Sunday 8 March opens 01:00-03:00 EDT jump; its 02:30-03:00 shift is skipped
        [[("handoff", at(2026, 3, 8, 1, 30)), ("touch", at(2026, 3, 9, 9, 30))],
         [("handoff", at(2026, 3, 1, 2, 45)), ("touch", at(2026, 3, 8, 1, 45))]],
        None, "America/New_York", id="shift-inside-the-skipped-hour"),
    pytest.param(
        ["first touch within 1 business day", "disposition within 2 business days"],
        ["open sun 02:00-02:30", "open mon, wed 09:00-10:00"], [],
        # Sunday 8 March's only shift is skipped by spring-forward: not an open day
        [[("handoff", at(2026, 3, 6, 12, 0)), ("touch", at(2026, 3, 9, 9, 0)),
          ("accepted", at(2026, 3, 11, 9, 0))]],
        None, "America/New_York", id="a-day-whose-only-shift-is-skipped"),
    pytest.param(
        ["first touch within 1 day", "disposition within 36 hours"],
        ["open mon-fri 09:00-17:00"], [],
        [[("handoff", at(2026, 3, 28, 12, 0, zone=AMS)),
          ("touch", at(2026, 3, 29, 12, 0, zone=AMS)),
          ("accepted", at(2026, 3, 30, 0, 0, zone=AMS))]],
        None, "Europe/Amsterdam", id="wall-day-and-hours-across-spring-forward"),
    pytest.param(
        ["first touch within 1 business hour", "disposition within 1 business day"],
        ["open mon-fri 09:00-17:00"], [],
        # two handoffs: the first starts the clock; a touch before it and one after as-of
        [[("touch", at(2026, 3, 4, 8, 0)), ("handoff", at(2026, 3, 4, 9, 0)),
          ("handoff", at(2026, 3, 4, 9, 30)), ("touch", at(2026, 3, 4, 10, 30)),
          ("accepted", at(2026, 3, 4, 10, 0))],
         [("created", at(2026, 3, 4, 9, 0))]],
        us(at(2026, 3, 4, 10, 15)), "America/New_York", id="first-handoff-and-as-of"),
    pytest.param(
        ["first touch within 30 business minutes", "disposition within 2 business days"],
        ["open mon-sat 09:30-18:30"], [],
        [[("handoff", at(2026, 3, 6, 18, 10, 30, zone=ZoneInfo("Asia/Kolkata"))),
          ("touch", at(2026, 3, 7, 9, 40, 30, zone=ZoneInfo("Asia/Kolkata")))]],
        None, "Asia/Kolkata", id="kolkata-seconds-off-the-minute"),
    pytest.param(
        ["first touch within 2.5 business minutes", "disposition within 1 week",
         "touches at least 2 within 0.75 business hours"],
        ["open mon-fri 09:00-17:00"], [],
        [[("handoff", at(2026, 3, 6, 16, 58, 0)), ("touch", at(2026, 3, 9, 9, 0, 30)),
          ("accepted", at(2026, 3, 13, 16, 58, 0))],
         [("handoff", at(2026, 3, 6, 16, 58, 59)), ("touch", at(2026, 3, 9, 9, 1, 29)),
          ("touch", at(2026, 3, 9, 9, 43, 59))]],
        None, "America/New_York", id="fractions-of-a-minute-and-a-wall-week"),
]


@pytest.mark.parametrize(("clauses", "open_lines", "closed", "leads", "as_of", "timezone"),
                         HANDPICKED)
def test_handpicked_cases_agree(clauses, open_lines, closed, leads, as_of, timezone):
    policy = checked_policy(policy_text(clauses, open_lines, closed, timezone))
    history = make_history([[(event, when if isinstance(when, int) else us(when))
                             for event, when in events] for events in leads])
    assert_agree(policy, history, as_of, ZoneInfo(timezone))


def test_a_calendar_in_its_own_timezone_agrees():
    text = policy_text(["first touch within 1 business day", "disposition within 2 days",
                        "touches at least 2 within 3 business hours"],
                       ["open mon-fri 08:00-16:30"], [dt.date(2026, 3, 30)])
    text = text.replace("calendar business {", 'calendar business timezone "Europe/London" {')
    policy = checked_policy(text)
    # London springs forward on 29 March, three weeks after New York
    history = make_history([
        [("handoff", us(at(2026, 3, 27, 11, 0))), ("touch", us(at(2026, 3, 31, 11, 0)))],
        [("handoff", us(at(2026, 3, 28, 20, 30))), ("touch", us(at(2026, 3, 31, 4, 0)))],
        [("handoff", us(at(2026, 3, 6, 11, 0))), ("touch", us(at(2026, 3, 9, 6, 0)))],
    ])
    assert_agree(policy, history, None, NY)


# ---------------------------------------------------------------- random agreement

# Local midnights of days with a DST change (Kolkata has none: any fortnight will do).
ANCHORS = {
    "America/New_York": [dt.date(2026, 3, 8), dt.date(2026, 11, 1)],
    "Europe/Amsterdam": [dt.date(2026, 3, 29), dt.date(2026, 10, 25)],
    "Asia/Kolkata": [dt.date(2026, 3, 8)],
}
DAY_MINUTES = 24 * 60


def hhmm(half_hours: int) -> str:
    return f"{half_hours // 2:02d}:{30 * (half_hours % 2):02d}"


@st.composite
def calendars(draw) -> list[str]:
    """1-3 open ranges on the half-hour grid, each on its own random weekdays; ranges never
    overlap in time, so days with two or three of them are split shifts."""
    count = draw(st.integers(1, 3))
    points = sorted(draw(st.sets(st.integers(0, 48), min_size=2 * count, max_size=2 * count)))
    lines = []
    for k in range(count):
        days = sorted(draw(st.sets(st.integers(0, 6), min_size=1, max_size=7)))
        lines.append(f"open {', '.join(WEEKDAYS[d] for d in days)} "
                     f"{hhmm(points[2 * k])}-{hhmm(points[2 * k + 1])}")
    return lines


DURATIONS = st.one_of(
    st.integers(1, 600).map(lambda n: f"{n} minutes"),
    st.integers(1, 48).map(lambda n: f"{n} hours"),
    st.integers(0, 3).map(lambda n: f"{n}.5 hours"),
    st.integers(1, 4).map(lambda n: f"{n} days"),
    st.integers(1, 480).map(lambda n: f"{n} business minutes"),
    st.integers(1, 10).map(lambda n: f"{n} business hours"),
    st.integers(0, 3).map(lambda n: f"{n}.5 business hours"),
    st.integers(1, 4).map(lambda n: f"{n} business days"),
    st.integers(1, 2).map(lambda n: f"{n} business days"),
    st.integers(1, 3).map(lambda n: f"{n} business hours"),
)
SPACINGS = st.one_of(st.integers(5, 240).map(lambda n: f"{n} minutes"),
                     st.integers(1, 6).map(lambda n: f"{n} hours"))


@st.composite
def clause_lists(draw) -> list[str]:
    clauses = []
    if draw(st.booleans()):
        clauses.append(f"first touch within {draw(DURATIONS)}")
    if draw(st.booleans()):
        until = " until connected" if draw(st.booleans()) else ""
        clauses.append(f"touches at least {draw(st.integers(1, 5))} within {draw(DURATIONS)}"
                       f"{until}")
        if draw(st.booleans()):
            clauses.append(f"spacing at least {draw(SPACINGS)}")
    if draw(st.booleans()) or not clauses:
        clauses.append(f"disposition within {draw(DURATIONS)}")
    return clauses


# minutes from the anchor's local midnight: anywhere in four weeks, or close to the change
MOMENTS = st.one_of(st.integers(-14 * DAY_MINUTES, 14 * DAY_MINUTES), st.integers(0, 6 * 60))
# minutes from the handoff: before it, soon after, days after, or a burst
OFFSETS = st.one_of(st.integers(-240, 600), st.integers(-DAY_MINUTES, 8 * DAY_MINUTES),
                    st.integers(0, 10))
KINDS = st.sampled_from(["touch", "touch", "touch", "connected", "accepted", "rejected",
                         "created", "handoff", "lost"])
LEADS = st.lists(st.fixed_dictionaries({
    "handoff": st.one_of(st.none(), MOMENTS, MOMENTS),
    "events": st.lists(st.tuples(KINDS, OFFSETS), max_size=8),
    # events pinned to a clause's due time, give or take a minute
    "pins": st.lists(st.tuples(st.sampled_from(["touch", "connected", "accepted"]),
                               st.integers(0, 2), st.integers(-1, 1)), max_size=2),
    # touches from the handoff on, each exactly a spacing after the one before, the last one
    # moved by a minute or not
    "cadence": st.one_of(st.none(), st.tuples(st.integers(1, 5), st.integers(-1, 1))),
}), min_size=1, max_size=6)
AS_OF = st.one_of(st.none(), MOMENTS, st.tuples(st.integers(0, 5), st.integers(0, 2),
                                                st.integers(-1, 1)),
                  st.tuples(st.integers(0, 5), st.integers(0, 2), st.just(0)))


@settings(derandomize=True, deadline=None, max_examples=400,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(timezone=st.sampled_from(sorted(ANCHORS)), anchor=st.integers(0, 1),
       open_lines=calendars(), closed_days=st.sets(st.integers(-12, 14), max_size=3),
       clauses=clause_lists(), leads=LEADS, as_of_choice=AS_OF)
# handed off, rejected and handed off again at one instant: the rejection is the first round's
@example(timezone="America/New_York", anchor=0, open_lines=["open mon 00:00-00:30"],
         closed_days=set(), clauses=["disposition within 1 minutes"],
         leads=[{"handoff": 0, "events": [("rejected", 0), ("handoff", 0)], "pins": [],
                 "cadence": None}], as_of_choice=None)
# and a touch written before the re-handoff at that instant is the first round's too
@example(timezone="America/New_York", anchor=0, open_lines=["open mon 00:00-00:30"],
         closed_days=set(), clauses=["first touch within 5 minutes",
                                     "touches at least 1 within 5 minutes"],
         leads=[{"handoff": 0, "events": [("touch", 0), ("rejected", 0), ("handoff", 0)],
                 "pins": [], "cadence": None}], as_of_choice=None)
def test_fast_path_agrees_with_the_reference(timezone, anchor, open_lines, closed_days,
                                             clauses, leads, as_of_choice):
    zone = ZoneInfo(timezone)
    day = ANCHORS[timezone][anchor % len(ANCHORS[timezone])]
    midnight = us(dt.datetime.combine(day, dt.time(), tzinfo=zone))
    closed = [day + dt.timedelta(days=k) for k in closed_days]
    text = policy_text(clauses, open_lines, closed, timezone)
    policy = checked_policy(text)
    block = policy.handoffs[0]
    windows = [item.within for item in block.items if hasattr(item, "within")]
    spacing = block.item("spacing")
    gap = deadline(0, spacing.at_least, ReferenceCalendar.always_open("UTC")) \
        if spacing else 60 * MINUTE

    events, dues = [], []
    for lead in leads:
        mine = []
        handoff = None if lead["handoff"] is None else midnight + lead["handoff"] * MINUTE
        base = midnight if handoff is None else handoff
        if handoff is not None:
            mine.append(("handoff", handoff))
        mine.append(("created", base - 30 * MINUTE))
        mine += [(kind, base + offset * MINUTE) for kind, offset in lead["events"]]
        due_times = [deadline(base, w, calendar_of(policy, w)) for w in windows]
        for kind, target, offset in lead["pins"]:
            mine.append((kind, due_times[target % len(due_times)] + offset * MINUTE))
        if lead["cadence"] is not None:
            count, offset = lead["cadence"]
            mine += [("touch", base + k * gap + (offset * MINUTE if k == count - 1 else 0))
                     for k in range(count)]
        events.append(mine)
        dues.append(due_times)

    if as_of_choice is None:
        as_of = None
    elif isinstance(as_of_choice, int):
        as_of = midnight + as_of_choice * MINUTE
    else:
        lead, target, offset = as_of_choice
        due_times = dues[lead % len(dues)]
        as_of = due_times[target % len(due_times)] + offset * MINUTE

    note(text)
    note("events: " + "; ".join(
        f"L{n}: " + ", ".join(f"{kind} {readable(when, zone)}" for kind, when in sorted(
            mine, key=lambda pair: pair[1])) for n, mine in enumerate(events)))
    note(f"as of {readable(as_of, zone) if as_of is not None else 'latest event'}")
    assert_agree(policy, make_history(events), as_of, zone)
