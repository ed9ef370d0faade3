"""business_time.zones and business_time.periods: the one home of local time and of periods.

Every array answer must be what the scalar one says for each item, and the scalar ones what
zoneinfo says, on the nights the clocks change (both directions, a half-hour shift, two
hemispheres) and before 1970; period bounds must agree between the date and the array forms.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from sla_dsl.business_time.periods import (
    PERIODS,
    next_period_start,
    period_start,
    period_starts,
    period_starts_between,
)
from sla_dsl.business_time.zones import (
    US_PER_DAY,
    US_PER_HOUR,
    US_PER_MINUTE,
    US_PER_SECOND,
    ZoneOffsets,
    date_of,
    day_number,
    day_start_us,
    iso_texts,
    local_dates,
    local_day,
    local_text,
    local_time,
    resolve_local,
    resolve_wall,
    resolve_walls,
    to_us,
    wall_readings,
)

UTC = dt.UTC
NAIVE_EPOCH = dt.datetime(1970, 1, 1)

# (zone, UTC instants at which its offset changes): both directions, each hemisphere
CHANGES = {
    "Europe/Amsterdam": [dt.datetime(2026, 3, 29, 1, tzinfo=UTC),
                         dt.datetime(2026, 10, 25, 1, tzinfo=UTC)],
    "America/New_York": [dt.datetime(2026, 3, 8, 7, tzinfo=UTC),
                         dt.datetime(2026, 11, 1, 6, tzinfo=UTC)],
    # +10:30 standard, +11 summer: the clocks move by half an hour
    "Australia/Lord_Howe": [dt.datetime(2026, 4, 4, 15, tzinfo=UTC),
                            dt.datetime(2026, 10, 3, 15, 30, tzinfo=UTC)],
    # before 1970: Amsterdam's +00:19:32 to +00:20 (1937), New York's war time (1945)
    "Europe/Amsterdam ": [dt.datetime(1937, 6, 30, 23, 40, 28, tzinfo=UTC),
                          dt.datetime(1945, 9, 30, 6, tzinfo=UTC)],
}


def _instants(zone: str) -> np.ndarray:
    """Instants around each change: every 7.5 minutes for two hours each side, and the
    microseconds either side of the change itself."""
    out = []
    for change in CHANGES[zone]:
        at = to_us(change)
        out += [at + k * 450 * US_PER_SECOND for k in range(-16, 17)]
        out += [at - 1, at, at + 1]
    return np.array(out, dtype=np.int64)


def _zone(key: str) -> ZoneInfo:
    return ZoneInfo(key.strip())


def _reference(us: int, zone: ZoneInfo) -> dt.datetime:
    """zoneinfo's reading, computed without the module: whole seconds, then the rest (by
    `replace`, which keeps the fold, where adding a timedelta would drop it)."""
    seconds, micros = divmod(us, US_PER_SECOND)
    return dt.datetime.fromtimestamp(seconds, zone).replace(microsecond=micros)


@pytest.mark.parametrize("key", CHANGES)
def test_scalar_local_time_is_zoneinfos(key):
    zone = _zone(key)
    for us in _instants(key).tolist():
        expected = _reference(us, zone)
        got = local_time(us, zone)
        assert (got.isoformat(), got.utcoffset()) == (expected.isoformat(), expected.utcoffset())
        assert to_us(got) == us
        assert local_day(us, zone) == day_number(expected.date())


@pytest.mark.parametrize("key", CHANGES)
def test_vectorised_readings_agree_with_the_scalar_ones(key):
    zone = _zone(key)
    instants = _instants(key)
    scalar = [local_time(us, zone) for us in instants.tolist()]
    walls = [(s.replace(tzinfo=None) - NAIVE_EPOCH) // dt.timedelta(microseconds=1)
             for s in scalar]
    assert wall_readings(instants, zone).tolist() == walls
    offsets = ZoneOffsets(zone, int(instants.min()) - US_PER_DAY, int(instants.max()) + US_PER_DAY)
    assert offsets.wall(instants).tolist() == walls
    assert offsets.local_days(instants).tolist() == [day_number(s.date()) for s in scalar]
    assert local_dates(instants, zone).tolist() == [s.date() for s in scalar]
    assert iso_texts(instants, zone).tolist() == [s.isoformat() for s in scalar]


@pytest.mark.parametrize("key", CHANGES)
def test_wall_times_resolve_to_the_first_instant_reading_them(key):
    """Skipped wall times are the jump, repeated ones their first occurrence, by the scalar
    and the vectorised resolution alike."""
    zone = _zone(key)
    walls = wall_readings(_instants(key), zone)
    walls = np.unique(np.concatenate((walls, walls + 13 * US_PER_MINUTE)))
    got = resolve_walls(walls, zone)
    for wall, instant in zip(walls.tolist(), got.tolist(), strict=True):
        naive = NAIVE_EPOCH + dt.timedelta(microseconds=wall)
        assert to_us(resolve_local(naive, zone)) == instant == resolve_wall(wall, zone)
        reads = local_time(instant, zone).replace(tzinfo=None)
        assert reads >= naive
        assert local_time(instant - 1, zone).replace(tzinfo=None) < naive


def test_known_skipped_and_repeated_times():
    amsterdam, new_york = ZoneInfo("Europe/Amsterdam"), ZoneInfo("America/New_York")
    lord_howe = ZoneInfo("Australia/Lord_Howe")
    cases = [
        (dt.datetime(2026, 3, 29, 2, 30), amsterdam, dt.datetime(2026, 3, 29, 1, tzinfo=UTC)),
        (dt.datetime(2026, 10, 25, 2, 30), amsterdam, dt.datetime(2026, 10, 25, 0, 30, tzinfo=UTC)),
        (dt.datetime(2026, 3, 8, 2, 30), new_york, dt.datetime(2026, 3, 8, 7, tzinfo=UTC)),
        (dt.datetime(2026, 11, 1, 1, 30), new_york, dt.datetime(2026, 11, 1, 5, 30, tzinfo=UTC)),
        (dt.datetime(2026, 10, 4, 2, 15), lord_howe, dt.datetime(2026, 10, 3, 15, 30, tzinfo=UTC)),
        (dt.datetime(2026, 4, 5, 1, 45), lord_howe, dt.datetime(2026, 4, 4, 14, 45, tzinfo=UTC)),
    ]
    for wall, zone, expected in cases:
        assert resolve_local(wall, zone) == expected, (wall, zone)


def test_a_skipped_midnight_starts_the_day_at_the_jump():
    """Sao Paulo skipped midnight to 01:00 on 2017-10-15: that day starts at the jump."""
    zone = ZoneInfo("America/Sao_Paulo")
    start = day_start_us(dt.date(2017, 10, 15), zone)
    assert local_time(start, zone).isoformat() == "2017-10-15T01:00:00-02:00"
    assert day_start_us(dt.date(2026, 1, 5), ZoneInfo("America/New_York")) == to_us(
        dt.datetime(2026, 1, 5, 5, tzinfo=UTC))


def test_instants_before_1970_keep_their_fraction_of_a_second():
    moment = dt.datetime(1969, 12, 31, 23, 59, 59, 500_000, tzinfo=UTC)
    assert to_us(moment) == -500_000
    assert local_time(-500_000, UTC) == moment
    assert local_dates(np.array([-1, 0], dtype=np.int64), UTC).tolist() == [
        dt.date(1969, 12, 31), dt.date(1970, 1, 1)]
    assert date_of(-1) == dt.date(1969, 12, 31) and day_number(dt.date(1969, 12, 31)) == -1


def test_texts_show_seconds_only_where_they_matter():
    zone = ZoneInfo("Europe/Amsterdam")
    assert local_text(to_us(dt.datetime(2026, 3, 2, 9, tzinfo=UTC)), zone) == \
        "2026-03-02 10:00+01:00"
    assert local_text(to_us(dt.datetime(2026, 3, 2, 9, 0, 5, tzinfo=UTC)), zone) == \
        "2026-03-02 10:00:05+01:00"


def test_the_units_are_what_their_names_say():
    assert (US_PER_SECOND, US_PER_MINUTE, US_PER_HOUR, US_PER_DAY) == (
        10**6, 60 * 10**6, 3600 * 10**6, 86400 * 10**6)


def test_empty_columns_give_empty_answers():
    empty = np.zeros(0, dtype=np.int64)
    zone = ZoneInfo("Europe/Amsterdam")
    assert wall_readings(empty, zone).size == 0
    assert local_dates(empty, zone).size == 0
    assert iso_texts(empty, zone).size == 0
    assert resolve_walls(empty, zone).size == 0


# ---------------------------------------------------------------- periods

# a leap day, a year's end, a week across a month and a year, and before 1970
_SPANS = [(dt.date(2024, 1, 20), dt.date(2024, 3, 10)),
          (dt.date(2024, 12, 15), dt.date(2025, 1, 15)),
          (dt.date(1969, 12, 20), dt.date(1970, 1, 12)),
          (dt.date(1900, 2, 20), dt.date(1900, 3, 5))]
DATES = [first + dt.timedelta(days=n) for first, last in _SPANS
         for n in range((last - first).days + 1)]


@pytest.mark.parametrize("period", PERIODS)
def test_period_starts_agree_between_the_scalar_and_the_array_form(period):
    column = np.array(DATES, dtype="datetime64[D]")
    assert period_starts(column, period).tolist() == [period_start(d, period) for d in DATES]


@pytest.mark.parametrize("period", PERIODS)
def test_a_period_runs_up_to_the_next_periods_start(period):
    for day in DATES:
        start, after = period_start(day, period), next_period_start(day, period)
        assert start <= day < after
        assert period_start(after, period) == after
        assert period_start(after - dt.timedelta(days=1), period) == start
        assert next_period_start(start, period) == after


@pytest.mark.parametrize(("day", "period", "start", "after"), [
    (dt.date(2024, 2, 29), "day", dt.date(2024, 2, 29), dt.date(2024, 3, 1)),
    (dt.date(2024, 2, 29), "week", dt.date(2024, 2, 26), dt.date(2024, 3, 4)),
    (dt.date(2024, 2, 29), "month", dt.date(2024, 2, 1), dt.date(2024, 3, 1)),
    (dt.date(2024, 2, 29), "quarter", dt.date(2024, 1, 1), dt.date(2024, 4, 1)),
    (dt.date(2024, 2, 29), "year", dt.date(2024, 1, 1), dt.date(2025, 1, 1)),
    (dt.date(2024, 12, 31), "week", dt.date(2024, 12, 30), dt.date(2025, 1, 6)),
    (dt.date(2024, 12, 31), "month", dt.date(2024, 12, 1), dt.date(2025, 1, 1)),
    (dt.date(2024, 12, 31), "quarter", dt.date(2024, 10, 1), dt.date(2025, 1, 1)),
    (dt.date(2024, 12, 31), "year", dt.date(2024, 1, 1), dt.date(2025, 1, 1)),
    (dt.date(1970, 1, 1), "week", dt.date(1969, 12, 29), dt.date(1970, 1, 5)),
])
def test_known_period_bounds(day, period, start, after):
    assert period_start(day, period) == start
    assert next_period_start(day, period) == after
    column = np.array([day], dtype="datetime64[D]")
    assert period_starts(column, period).tolist() == [start]


def test_periods_between_two_dates():
    assert list(period_starts_between(dt.date(2024, 1, 15), dt.date(2024, 4, 2), "month")) == [
        dt.date(2024, 1, 1), dt.date(2024, 2, 1), dt.date(2024, 3, 1), dt.date(2024, 4, 1)]
    assert list(period_starts_between(dt.date(2024, 5, 1), dt.date(2024, 4, 2), "month")) == []


def test_periods_hold_dates_not_instants():
    with pytest.raises(TypeError):
        period_start(dt.datetime(2026, 1, 5, 12), "week")
    with pytest.raises(ValueError):
        period_start(dt.date(2026, 1, 5), "fortnight")
