"""Hand-checked clocks: every edge the agreement's arithmetic has, in real timezones."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from sla_dsl.evaluation.replay import BREACHED, MET, NONE, PENDING, evaluate
from sla_dsl.history.columns import EVENT_CODE, History
from sla_dsl.policy_file import check_text

NY = ZoneInfo("America/New_York")
AMS = ZoneInfo("Europe/Amsterdam")


def policy(body: str, timezone: str = "America/New_York", hours: str = "mon-fri 09:00-17:00",
           closed: str = "2026-11-26"):
    text = f"""\
sla "Test desk"
timezone "{timezone}"
party marketing contact "m@desk.example"
party sales contact "s@desk.example"

calendar business {{
  open {hours}
  closed {closed}
}}

handoff every lead from marketing to sales {{
{body}
}}
"""
    checked = check_text(text)
    assert checked.ok, [d.message for d in checked.diagnostics]
    return checked.policy


def us(moment: dt.datetime) -> int:
    return int(moment.timestamp()) * 1_000_000 + moment.microsecond


def history(*events: tuple[str, dt.datetime, str], **fields: list) -> History:
    """Events of one lead, `L1`, unless a tuple names another as its fourth element."""
    rows = sorted(((e[3] if len(e) > 3 else "L1"), us(e[1]), n, e[0], e[2])
                  for n, e in enumerate(events))
    lead_ids = sorted({r[0] for r in rows})
    actors = sorted({r[4] for r in rows if r[4]})
    return History(
        lead=np.array([lead_ids.index(r[0]) for r in rows]),
        at=np.array([r[1] for r in rows], dtype=np.int64),
        event=np.array([EVENT_CODE[r[3]] for r in rows], dtype=np.int8),
        actor=np.array([actors.index(r[4]) if r[4] else -1 for r in rows]),
        row=np.array([r[2] + 1 for r in rows]),
        lead_ids=np.array(lead_ids, dtype=object), actors=np.array(actors, dtype=object),
        fields={name: np.array(values, dtype=object) for name, values in fields.items()},
        rows_read=len(rows),
    )


def verdict(evaluation, clause: str, lead: int = 0) -> tuple[int, int, int]:
    result = next(r for r in evaluation.clauses if r.clause == clause)
    i = int(np.flatnonzero(result.leads == lead)[0])
    return int(result.status[i]), int(result.due[i]), int(result.at[i])


def at(*args, zone=NY) -> dt.datetime:
    return dt.datetime(*args, tzinfo=zone)


FIRST_HOUR = policy("  first touch within 1 business hour")


@pytest.mark.parametrize(("handoff", "due"), [
    (at(2026, 3, 6, 16, 55), at(2026, 3, 9, 9, 55)),     # Friday 16:55 -> Monday
    (at(2026, 3, 7, 11, 0), at(2026, 3, 9, 10, 0)),      # Saturday -> Monday's first hour
    (at(2026, 11, 26, 10, 0), at(2026, 11, 27, 10, 0)),  # Thanksgiving, closed all day
    (at(2026, 3, 4, 9, 0), at(2026, 3, 4, 10, 0)),       # exactly at opening
    (at(2026, 3, 4, 17, 0), at(2026, 3, 5, 10, 0)),      # exactly at closing: next day
    (at(2026, 3, 4, 7, 30), at(2026, 3, 4, 10, 0)),      # before opening
])
def test_first_touch_due_time_on_the_calendar(handoff, due):
    evaluation = evaluate(FIRST_HOUR, history(("handoff", handoff, "marketing"),
                                              ("touch", due, "ana")))
    status, due_us, done = verdict(evaluation, "first touch")
    assert due_us == us(due)
    assert (status, done) == (MET, us(due))


def test_touch_at_the_due_instant_is_met_and_a_second_later_is_breached():
    handoff, due = at(2026, 3, 4, 10, 0), at(2026, 3, 4, 11, 0)
    on_time = evaluate(FIRST_HOUR, history(("handoff", handoff, ""), ("touch", due, "ana")))
    assert verdict(on_time, "first touch")[0] == MET
    late = evaluate(FIRST_HOUR, history(("handoff", handoff, ""),
                                        ("touch", due + dt.timedelta(seconds=1), "ana")))
    assert verdict(late, "first touch")[0] == BREACHED


def test_lunch_break_does_not_count():
    lunch = policy("  first touch within 2 business hours",
                   hours="mon-fri 09:00-12:00\n  open mon-fri 13:00-17:00")
    evaluation = evaluate(lunch, history(("handoff", at(2026, 3, 4, 11, 30), "")))
    assert verdict(evaluation, "first touch")[1] == us(at(2026, 3, 4, 14, 30))
    during = evaluate(lunch, history(("handoff", at(2026, 3, 4, 12, 20), "")))
    assert verdict(during, "first touch")[1] == us(at(2026, 3, 4, 15, 0))


@pytest.mark.parametrize(("zone", "handoff", "due"), [
    # spring forward: the night is shorter, office hours are the same wall hours
    (NY, at(2026, 3, 6, 16, 30), at(2026, 3, 9, 9, 30)),
    (AMS, at(2026, 3, 27, 16, 30, zone=AMS), at(2026, 3, 30, 9, 30, zone=AMS)),
    # fall back
    (NY, at(2026, 10, 30, 16, 30), at(2026, 11, 2, 9, 30)),
    (AMS, at(2026, 10, 23, 16, 30, zone=AMS), at(2026, 10, 26, 9, 30, zone=AMS)),
])
def test_business_hours_across_both_dst_changes(zone, handoff, due):
    tz = "America/New_York" if zone is NY else "Europe/Amsterdam"
    evaluation = evaluate(policy("  first touch within 1 business hour", timezone=tz),
                          history(("handoff", handoff, "")))
    assert verdict(evaluation, "first touch")[1] == us(due)


@pytest.mark.parametrize(("zone", "handoff"), [
    ("America/New_York", at(2026, 3, 7, 12, 0)), ("America/New_York", at(2026, 10, 31, 12, 0)),
    ("Europe/Amsterdam", at(2026, 3, 28, 12, 0, zone=AMS)),
    ("Europe/Amsterdam", at(2026, 10, 24, 12, 0, zone=AMS)),
])
def test_a_wall_clock_day_across_dst_keeps_the_local_time(zone, handoff):
    around = policy("  first touch within 1 day", timezone=zone, hours="mon-sun 00:00-24:00")
    evaluation = evaluate(around, history(("handoff", handoff, "")))
    due = verdict(evaluation, "first touch")[1]
    assert due == us(handoff + dt.timedelta(days=1))  # same wall time, 23 or 25 hours later
    assert due - us(handoff) != 24 * 3600 * 1_000_000


def test_pending_until_the_due_time_passes_the_as_of_time():
    handoff = at(2026, 3, 4, 10, 0)
    events = history(("handoff", handoff, ""), ("created", handoff - dt.timedelta(hours=1), ""))
    before_due = evaluate(FIRST_HOUR, events, as_of=us(at(2026, 3, 4, 10, 59)))
    assert verdict(before_due, "first touch")[0] == PENDING
    after_due = evaluate(FIRST_HOUR, events, as_of=us(at(2026, 3, 4, 11, 1)))
    assert verdict(after_due, "first touch")[0] == BREACHED


def test_events_after_the_as_of_time_are_ignored():
    handoff = at(2026, 3, 4, 10, 0)
    events = history(("handoff", handoff, ""), ("touch", at(2026, 3, 4, 10, 30), "ana"))
    assert verdict(evaluate(FIRST_HOUR, events, as_of=us(at(2026, 3, 4, 10, 20))),
                   "first touch")[0] == PENDING


def test_touches_before_the_handoff_do_not_count_and_connected_does():
    handoff = at(2026, 3, 4, 10, 0)
    evaluation = evaluate(FIRST_HOUR, history(
        ("touch", at(2026, 3, 4, 9, 30), "ana"), ("handoff", handoff, ""),
        ("connected", at(2026, 3, 4, 10, 45), "ana")))
    assert verdict(evaluation, "first touch") == (MET, us(at(2026, 3, 4, 11, 0)),
                                                  us(at(2026, 3, 4, 10, 45)))


CADENCE = policy("  touches at least 3 within 2 business days until connected\n"
                 "  spacing at least 2 hours")


def test_touches_closer_than_the_spacing_count_as_one():
    handoff = at(2026, 3, 4, 9, 0)
    burst = [("touch", at(2026, 3, 4, 9, 10 + 10 * k), "ana") for k in range(5)]
    events = history(("handoff", handoff, ""), *burst)
    assert verdict(evaluate(CADENCE, events), "touches")[0] == PENDING  # window still open
    closed = evaluate(CADENCE, events, as_of=us(at(2026, 3, 9, 9, 0)))
    assert verdict(closed, "touches")[0] == BREACHED  # five quick dials are one attempt
    spaced = [("touch", at(2026, 3, 4, 9 + 2 * k, 30), "ana") for k in range(3)]
    evaluation = evaluate(CADENCE, history(("handoff", handoff, ""), *spaced))
    assert verdict(evaluation, "touches")[0:3:2] == (MET, us(at(2026, 3, 4, 13, 30)))


def test_a_connect_meets_the_cadence():
    handoff = at(2026, 3, 4, 9, 0)
    evaluation = evaluate(CADENCE, history(("handoff", handoff, ""),
                                           ("connected", at(2026, 3, 5, 16, 0), "ana")))
    assert verdict(evaluation, "touches") == (MET, us(at(2026, 3, 6, 9, 0)),
                                              us(at(2026, 3, 5, 16, 0)))


def test_touches_after_the_window_do_not_count():
    handoff = at(2026, 3, 4, 9, 0)
    late = [("touch", at(2026, 3, 6, 9, 0) + dt.timedelta(hours=3 * k), "ana") for k in range(3)]
    evaluation = evaluate(CADENCE, history(("handoff", handoff, ""), *late))
    assert verdict(evaluation, "touches")[0] == BREACHED


def test_disposition_is_met_by_accepted_or_rejected():
    desk = policy("  disposition within 1 business day")
    handoff = at(2026, 3, 4, 9, 0)
    for decision in ("accepted", "rejected"):
        evaluation = evaluate(desk, history(("handoff", handoff, ""),
                                            (decision, at(2026, 3, 5, 8, 0), "ana")))
        assert verdict(evaluation, "disposition")[0] == MET


def test_handing_off_below_the_threshold_is_the_senders_breach():
    desk = policy("  when score >= 70")
    handoff = at(2026, 3, 4, 9, 0)
    evaluation = evaluate(desk, history(("created", handoff - dt.timedelta(hours=1), ""),
                                        ("handoff", handoff, ""), score=["55", None]))
    result = evaluation.clauses[0]
    assert (result.clause, result.party, int(result.status[0])) == ("threshold", "marketing",
                                                                     BREACHED)


@pytest.mark.parametrize("score", ["inf", "Infinity", "1e309", "nan"])
def test_a_score_that_is_no_finite_number_meets_no_threshold(score):
    # read as infinity, `inf` met `score >= 70`: the handoff was on time by the threshold
    desk = policy("  when score >= 70")
    handoff = at(2026, 3, 4, 9, 0)
    evaluation = evaluate(desk, history(("created", handoff - dt.timedelta(hours=1), ""),
                                        ("handoff", handoff, ""), score=[score, None]))
    assert int(evaluation.clauses[0].status[0]) == BREACHED


def test_a_lead_never_handed_off_has_no_clocks():
    evaluation = evaluate(FIRST_HOUR, history(("created", at(2026, 3, 4, 9, 0), "")))
    assert evaluation.handoff_at[0] == NONE
    assert len(evaluation.clauses[0].leads) == 0


ON_HOLD = policy("  first touch within 4 business hours\n  pause while status == \"on hold\"")


def test_a_pause_stops_the_clock_for_its_open_time():
    handoff = at(2026, 3, 4, 9, 0)
    events = history(("handoff", handoff, ""),
                     ("updated", at(2026, 3, 4, 10, 0), ""),
                     ("updated", at(2026, 3, 4, 12, 0), ""),
                     status=[None, "on hold", "active"])
    due = verdict(evaluate(ON_HOLD, events), "first touch")[1]
    assert due == us(at(2026, 3, 4, 15, 0))  # 09:00 + 4 open hours + 2 hours on hold


def test_a_pause_over_the_night_costs_only_its_open_time():
    handoff = at(2026, 3, 4, 15, 0)
    events = history(("handoff", handoff, ""),
                     ("updated", at(2026, 3, 4, 16, 0), ""),
                     ("updated", at(2026, 3, 5, 10, 0), ""),
                     status=[None, "on hold", "active"])
    # 15:00-16:00 runs (1 h), on hold 16:00-17:00 and 09:00-10:00 (2 open hours), then 3 h more
    assert verdict(evaluate(ON_HOLD, events), "first touch")[1] == us(at(2026, 3, 5, 13, 0))


def test_a_pause_that_begins_after_the_touch_leaves_the_due_time_alone():
    # the clock stopped at the touch: a hold an hour later, before the due time, has
    # nothing left to pause
    events = history(("handoff", at(2026, 3, 4, 9, 0), ""),
                     ("touch", at(2026, 3, 4, 10, 0), "ana"),
                     ("updated", at(2026, 3, 4, 11, 0), ""),
                     ("updated", at(2026, 3, 6, 10, 0), ""),
                     status=[None, None, "on hold", "active"])
    assert verdict(evaluate(ON_HOLD, events), "first touch") == (
        MET, us(at(2026, 3, 4, 13, 0)), us(at(2026, 3, 4, 10, 0)))


def test_a_pause_before_the_touch_still_moves_the_due_time():
    events = history(("handoff", at(2026, 3, 4, 9, 0), ""),
                     ("updated", at(2026, 3, 4, 10, 0), ""),
                     ("updated", at(2026, 3, 4, 11, 0), ""),
                     ("touch", at(2026, 3, 4, 12, 0), "ana"),
                     ("updated", at(2026, 3, 4, 13, 0), ""),
                     ("updated", at(2026, 3, 6, 10, 0), ""),
                     status=[None, "on hold", "active", None, "on hold", "active"])
    # one hour on hold before the touch; the hold after it is not counted
    assert verdict(evaluate(ON_HOLD, events), "first touch")[1] == us(at(2026, 3, 4, 14, 0))


@pytest.mark.parametrize("spacing", ["", "\n  spacing at least 1 business hour"])
def test_touches_met_by_a_connect_keep_their_due_time_through_a_later_hold(spacing):
    cadence = policy("  touches at least 3 within 2 business days until connected\n"
                     '  pause while status == "on hold"' + spacing)
    events = history(("handoff", at(2026, 3, 4, 9, 0), ""),
                     ("connected", at(2026, 3, 4, 10, 0), "ana"),
                     ("updated", at(2026, 3, 4, 11, 0), ""),
                     ("updated", at(2026, 3, 9, 11, 0), ""),
                     status=[None, None, "on hold", "active"])
    assert verdict(evaluate(cadence, events), "touches") == (
        MET, us(at(2026, 3, 6, 9, 0)), us(at(2026, 3, 4, 10, 0)))


def test_a_pause_still_running_keeps_the_clause_pending():
    handoff = at(2026, 3, 4, 9, 0)
    events = history(("handoff", handoff, ""), ("updated", at(2026, 3, 4, 10, 0), ""),
                     status=[None, "on hold"])
    status, due, _ = verdict(evaluate(ON_HOLD, events, as_of=us(at(2026, 3, 20, 9, 0))),
                             "first touch")
    assert status == PENDING and due == np.iinfo(np.int64).max


def test_a_pause_before_the_handoff_or_of_another_value_does_not_stop_the_clock():
    handoff = at(2026, 3, 4, 9, 0)
    events = history(("created", at(2026, 3, 3, 9, 0), ""), ("handoff", handoff, ""),
                     ("updated", at(2026, 3, 4, 10, 0), ""),
                     status=["on hold", None, "nurturing"])
    # on hold until 10:00 on the day of the handoff: 09:00-10:00 paused, then 4 hours
    assert verdict(evaluate(ON_HOLD, events), "first touch")[1] == us(at(2026, 3, 4, 14, 0))
