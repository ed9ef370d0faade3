"""Local time: every conversion between instants and what a clock on the wall reads.

Instants are int64 microseconds since the Unix epoch, UTC (`to_us`), in a column or one at a
time; local dates as "day numbers" are days since 1970-01-01. Every question of the form "what
did the clock in this zone read then?" or "when did it read this?" is answered here, once, so a
report, a reader, the evaluator and the simulator cannot disagree about a DST night. The array
answers come from `ZoneOffsets` (the instants where a zone's offset changes), so a million
instants cost a few array operations; they agree with `zoneinfo` to the microsecond.

numpy is imported inside the functions that use it so the checker, which only needs the scalar
answers and the unit constants, does not pay for it.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

if TYPE_CHECKING:
    import numpy as np

US_PER_SECOND = 1_000_000
US_PER_MINUTE = 60 * US_PER_SECOND
US_PER_HOUR = 60 * US_PER_MINUTE
US_PER_DAY = 24 * US_PER_HOUR
UTC = dt.UTC
EPOCH = dt.datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = dt.timedelta(microseconds=1)
_EPOCH_ORDINAL = EPOCH.date().toordinal()
_WALL_EPOCH = EPOCH.replace(tzinfo=None)  # what wall readings count from
SAMPLE_US = 6 * US_PER_HOUR
"""How often offsets are sampled to find DST changes. Two changes closer than this that cancel
out would be missed; since 1900 tzdata has none closer than 95 hours (Africa/Freetown, 1939)."""
BEFORE_ALL = -(2**62)
"""An instant before every instant a history or a table holds (a sentinel for searches)."""
AFTER_ALL = 2**62
"""An instant after every instant a history or a table holds."""
APART_DAYS = 8 * 366
"""Instants further apart than this get tables of their own (`far_apart`): twice the longest a
business-time clock waits for an opening, so a clock never needs the table of another group."""


# What people write for a timezone when they mean a place's clock. The abbreviations name an
# offset, not a place (CST is also China's; IST India's, Ireland's and Israel's), and a fixed
# offset has no daylight saving time, so the checker refuses them and names the zone most
# agreements mean (`checks/header.py`). EST, MST, HST, CET, EET and WET are also (legacy) IANA
# names, accepted as they are, so they never reach this table.
ABBREVIATIONS: dict[str, str] = {
    "EST": "America/New_York", "EDT": "America/New_York", "ET": "America/New_York",
    "CST": "America/Chicago", "CDT": "America/Chicago", "CT": "America/Chicago",
    "MST": "America/Denver", "MDT": "America/Denver", "MT": "America/Denver",
    "PST": "America/Los_Angeles", "PDT": "America/Los_Angeles", "PT": "America/Los_Angeles",
    "AKST": "America/Anchorage", "AKDT": "America/Anchorage", "HST": "Pacific/Honolulu",
    "GMT": "Europe/London", "BST": "Europe/London", "WET": "Europe/Lisbon",
    "WEST": "Europe/Lisbon", "CET": "Europe/Paris", "CEST": "Europe/Paris",
    "EET": "Europe/Athens", "EEST": "Europe/Athens", "MSK": "Europe/Moscow",
    "IST": "Asia/Kolkata", "SGT": "Asia/Singapore", "HKT": "Asia/Hong_Kong",
    "JST": "Asia/Tokyo", "KST": "Asia/Seoul", "AEST": "Australia/Sydney",
    "AEDT": "Australia/Sydney", "ACST": "Australia/Adelaide", "AWST": "Australia/Perth",
    "NZST": "Pacific/Auckland", "NZDT": "Pacific/Auckland", "BRT": "America/Sao_Paulo",
}
_ABBREVIATION_NOTES = {"IST": "IST is also Irish (Europe/Dublin) and Israel (Asia/Jerusalem) time"}


MACHINE_ZONE = "localtime"
"""A name the system's zone database may list (a link to the machine's own zone): read as a
zone, the same policy or reps file would give other verdicts on another machine."""


def iana_zone(name: str) -> ZoneInfo:
    """The IANA zone `name`; ZoneInfoNotFoundError (or ValueError) when there is none, and
    for the machine's own zone (`MACHINE_ZONE`)."""
    if name.lower() == MACHINE_ZONE:
        raise ZoneInfoNotFoundError(f"{name} is the machine's own zone, not an IANA zone")
    return ZoneInfo(name)


def abbreviation_hint(name: str) -> str | None:
    """The IANA zone meant by a timezone abbreviation (`CST`), as a diagnostic's help; None
    when `name` is no abbreviation the table knows."""
    zone = ABBREVIATIONS.get(name.strip().upper())
    if zone is None:
        return None
    note = _ABBREVIATION_NOTES.get(name.strip().upper())
    return (f"'{name}' is an abbreviation, not a place: did you mean '{zone}'?"
            + (f" ({note})" if note else ""))


def to_us(instant: dt.datetime) -> int:
    """An aware instant as whole µs since the epoch, exact before 1970 too (floor division,
    where `int(timestamp())` would round a fractional second towards 1970)."""
    return (instant - EPOCH) // MICROSECOND


def local_time(us: int, zone: dt.tzinfo) -> dt.datetime:
    """An instant held as µs since the epoch, as an aware datetime in `zone` (for people and
    for the scalar arithmetic)."""
    return (EPOCH + dt.timedelta(microseconds=int(us))).astimezone(zone)


def local_text(us: int, zone: dt.tzinfo) -> str:
    """An instant as a person compares it: local, to the minute unless seconds matter."""
    local = local_time(us, zone)
    spec = "seconds" if local.second or local.microsecond else "minutes"
    return local.isoformat(sep=" ", timespec=spec)


def day_number(day: dt.date) -> int:
    """A date as days since 1970-01-01 (negative before)."""
    return day.toordinal() - _EPOCH_ORDINAL


def date_of(number: int) -> dt.date:
    """The date `number` days after 1970-01-01."""
    return dt.date.fromordinal(number + _EPOCH_ORDINAL)


def local_day(us: int, zone: dt.tzinfo) -> int:
    """The local date of an instant in `zone`, as a day number."""
    return day_number(local_time(us, zone).date())


def resolve_local(wall: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    """The first instant (in UTC) at which the clock in `zone` reads the naive wall time
    `wall` or later: business_time's wall-time rule, so a time skipped by a forward jump is
    the jump and a repeated one its first occurrence."""
    wall = wall.replace(fold=0)
    first = wall.replace(tzinfo=zone).astimezone(UTC)  # fold=0: earlier instant
    if first.astimezone(zone).replace(tzinfo=None) == wall:
        return first
    # `wall` was skipped by a forward jump. fold=1 maps it to an instant before the jump
    # and fold=0 to one after it; the jump itself is the first instant reading >= wall.
    low = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    high = first
    steps = (high - low) // MICROSECOND
    lo, hi = 0, steps
    while lo < hi:
        mid = (lo + hi) // 2
        probe = low + mid * MICROSECOND
        if probe.astimezone(zone).replace(tzinfo=None) >= wall:
            hi = mid
        else:
            lo = mid + 1
    return low + lo * MICROSECOND


def resolve_wall(wall: int, zone: ZoneInfo) -> int:
    """`resolve_local` for a wall reading held as µs since the local 1970-01-01 00:00."""
    return to_us(resolve_local(_WALL_EPOCH + dt.timedelta(microseconds=wall), zone))


_TIME_RE = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})"
    r"(?:[Tt ](\d{2})(?::(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?"
    r"([Zz]|[+-]\d{2}(?::?\d{2})?)?)?")
_EXPECTED_TIME = ("expected ISO 8601 such as 2026-03-02T09:30:00+01:00, 2026-03-02 09:30 "
                  "or 2026-03-02")


def quoted_value(text: str, most: int = 100) -> str:
    """A value quoted in a reason: whole when short, else its start, so that a reason stays a
    line however long the value it quotes (the raw value is in the reject's columns)."""
    return text if len(text) <= most else f"{text[:most]}... ({len(text):,} characters)"


def parse_time(text: str) -> tuple[int, bool] | str:
    """One timestamp, the slow exact way: (microseconds, naive) or the reason it is not one.
    For naive times the microseconds are the wall reading as if it were UTC. This is the
    reference the history reader's vectorised path falls back to and is tested against, and
    the one grammar of a time typed by hand (`--as-of`, an absence's start): a form a row
    would refuse is refused there too."""
    value = text.strip()
    match = _TIME_RE.fullmatch(value)
    bad = f"time '{quoted_value(text)}' is not a date and time"
    if not match:
        return f"{bad}: {_EXPECTED_TIME}"
    y, mo, d, h, mi, s, frac, zone = match.groups()
    year, month, day = int(y), int(mo), int(d)
    if not 1 <= month <= 12:
        return f"{bad}: there is no month {month}"
    if year == 0:
        return f"{bad}: there is no year 0"
    try:
        number = day_number(dt.date(year, month, day))
    except ValueError:
        return f"{bad}: {year:04d}-{month:02d} has no day {day}"
    hour, minute, second = int(h or 0), int(mi or 0), int(s or 0)
    micros = int((frac or "").ljust(6, "0")[:6] or 0)
    if hour > 24 or (hour == 24 and (minute or second or int(frac or 0))):
        return f"{bad}: there is no hour {h}" + (":" + mi if hour == 24 and mi else "")
    if minute > 59:
        return f"{bad}: there is no minute {mi}"
    if second > 59:
        return f"{bad}: there is no second {s}"
    wall = number * US_PER_DAY + ((hour * 60 + minute) * 60 + second) * US_PER_SECOND + micros
    if zone is None:
        return wall, True
    offset = 0
    if zone not in "Zz":
        digits = zone[1:].replace(":", "")
        oh, om = int(digits[:2]), int(digits[2:] or 0)
        if oh > 23 or om > 59:
            return f"{bad}: offset {zone} is out of range"
        offset = (oh * 60 + om) * 60 * US_PER_SECOND * (-1 if zone[0] == "-" else 1)
    return wall - offset, False


def read_iso(text: str, zone: ZoneInfo) -> int:
    """ISO 8601 date-time text as µs, by `parse_time`'s grammar: with its offset (or `Z`)
    where it has one, else read in `zone` by the wall-time rule (`resolve_local`), as the
    history's own times are. Raises ValueError, saying why, for text that is not a date and
    time."""
    parsed = parse_time(text)
    if isinstance(parsed, str):
        raise ValueError(parsed)
    value, naive = parsed
    return resolve_wall(value, zone) if naive else value


def day_start_us(day: dt.date, zone: ZoneInfo) -> int:
    """The first instant of a local date: its midnight, or the instant of the jump when a
    clock change skips midnight."""
    return to_us(resolve_local(dt.datetime.combine(day, dt.time()), zone))


def rank(bounds: np.ndarray, values: np.ndarray) -> np.ndarray:
    """`np.searchsorted(bounds, values, side="right")`; for the handful of DST changes in a
    table's span, one comparison pass per change beats a binary search per value."""
    import numpy as np

    if bounds.size > 8:
        return np.searchsorted(bounds, values, side="right")
    ranks = np.zeros(values.shape, dtype=np.intp)
    for bound in bounds:
        ranks += values >= bound
    return ranks


_APART_US = APART_DAYS * US_PER_DAY


def far_apart(lo: np.ndarray, hi: np.ndarray) -> list[np.ndarray] | None:
    """Items, each reaching from `lo` to `hi` (µs), in groups more than `APART_DAYS` apart, as
    index arrays; None when they make one group. Tables (offsets, open time) are built over a
    span, so a history with one row dated two centuries from the rest costs two small tables
    this way instead of one spanning the centuries between. Every answer is per item, so the
    grouping changes only the cost, never a result."""
    import numpy as np

    if lo.size < 2 or int(hi.max()) - int(lo.min()) <= _APART_US:
        return None  # one group, known without sorting a million instants
    order = np.argsort(lo, kind="stable")
    reach = np.maximum.accumulate(hi[order])
    breaks = np.flatnonzero(lo[order][1:] - reach[:-1] > _APART_US) + 1
    return np.split(order, breaks) if breaks.size else None


def wall_readings(instants: np.ndarray, zone: ZoneInfo) -> np.ndarray:
    """Local wall readings of instants (µs since the local 1970-01-01 00:00), with offset tables
    built only around the instants (see `far_apart`)."""
    import numpy as np

    if not instants.size:
        return instants.copy()
    groups = far_apart(instants, instants)
    if groups is None:  # one table for them all, read in place
        return ZoneOffsets(zone, int(instants.min()) - US_PER_DAY,
                           int(instants.max()) + US_PER_DAY).wall(instants).astype(
                               instants.dtype, copy=False)
    out = np.empty_like(instants)
    for index in groups:
        part = instants[index]
        offsets = ZoneOffsets(zone, int(part.min()) - US_PER_DAY, int(part.max()) + US_PER_DAY)
        out[index] = offsets.wall(part)
    return out


class ZoneOffsets:
    """One timezone's UTC offset over a span of instants, as the instants where it changes.

    With them, local wall readings and business_time's wall-time rule become two `searchsorted`
    calls. Between [lo, hi] they are exact (sampled every `SAMPLE_US`, each change then found to
    the microsecond); outside, the nearest known offset is assumed, so callers build them wide
    enough.
    """

    def __init__(self, zone: ZoneInfo, lo: int, hi: int) -> None:
        import numpy as np

        def offset(value: int) -> int:
            return local_time(value, zone).utcoffset() // MICROSECOND

        self.zone, self.lo, self.hi = zone, lo, hi
        changes: list[int] = [BEFORE_ALL]
        offsets: list[int] = [offset(lo)]
        cursor = lo
        while cursor < hi:
            step = min(cursor + SAMPLE_US, hi)
            after = offset(step)
            while offsets[-1] != after:  # the first instant in (cursor, step] with a new offset
                low, high = cursor, step
                while high - low > 1:
                    middle = (low + high) // 2
                    if offset(middle) == offsets[-1]:
                        low = middle
                    else:
                        high = middle
                changes.append(high)
                offsets.append(offset(high))
                cursor = high
            cursor = step
        self.changes = np.array(changes, dtype=np.int64)
        self.offsets = np.array(offsets, dtype=np.int64)
        # Segment k reads [changes[k] + offsets[k], changes[k + 1] + offsets[k]) on the wall; the
        # first instant reading W or later lies in the first segment whose reading passes W.
        # The running maximum makes "first segment" a `searchsorted` even if a backward jump
        # were longer than the segment before it.
        wall_ends = np.append(self.changes[1:] + self.offsets[:-1], AFTER_ALL)
        self.wall_ends = np.maximum.accumulate(wall_ends)

    def covers(self, lo: int, hi: int) -> bool:
        return self.lo <= lo and hi <= self.hi

    def wall(self, instants: np.ndarray) -> np.ndarray:
        """Local wall readings, as microseconds since the local 1970-01-01 00:00."""
        if self.offsets.size == 1:
            return instants + self.offsets[0]
        return instants + self.offsets[rank(self.changes[1:], instants)]

    def local_days(self, instants: np.ndarray) -> np.ndarray:
        """Local date of each instant, as a day number (what `.astimezone(zone).date()` says)."""
        import numpy as np

        return np.floor_divide(self.wall(instants), US_PER_DAY)

    def resolve(self, walls: np.ndarray) -> np.ndarray:
        """`resolve_local` for arrays: the first instant reading each wall time or
        later, so a skipped time is the jump and a repeated one its first occurrence."""
        import numpy as np

        segment = rank(self.wall_ends[:-1], walls)  # the last is `AFTER_ALL`, passed by none
        return np.maximum(self.changes[segment], walls - self.offsets[segment])



def resolve_walls(walls: np.ndarray, zone: ZoneInfo) -> np.ndarray:
    """`resolve_local` for a column of wall readings (µs since the local 1970-01-01 00:00).
    Offsets are sampled only around the days that occur, so a typo'd year costs two small
    tables, not a century of them."""
    import numpy as np

    if not len(walls):
        return walls
    days = np.floor_divide(walls, US_PER_DAY)
    lo, hi = int(days.min()), int(days.max())
    if hi - lo <= 3660:
        spans = [(lo, hi)]
    else:
        unique = np.unique(days)
        breaks = np.flatnonzero(np.diff(unique) > 31)
        starts = np.r_[unique[0], unique[breaks + 1]]
        ends = np.r_[unique[breaks], unique[-1]]
        spans = list(zip(starts.tolist(), ends.tolist(), strict=True))
    out = np.empty_like(walls)
    for first, last in spans:
        offsets = ZoneOffsets(zone, (first - 2) * US_PER_DAY, (last + 3) * US_PER_DAY)
        mask = (days >= first) & (days <= last) if len(spans) > 1 else slice(None)
        out[mask] = offsets.resolve(walls[mask])
    return out


def local_dates(instants: np.ndarray, zone: ZoneInfo) -> np.ndarray:
    """Local calendar dates of instants, as datetime64[D]."""
    import numpy as np

    return np.floor_divide(wall_readings(instants, zone), US_PER_DAY).astype("datetime64[D]")


def iso_texts(instants: np.ndarray, zone: ZoneInfo) -> np.ndarray:
    """What `local_time(us, zone).isoformat()` says, for a column of instants at once (an
    object array of str), from `iso_text_bytes`."""

    text, _ = iso_text_bytes(instants, zone)
    return text.view(f"S{ISO_WIDTH}").ravel().astype(f"U{ISO_WIDTH}").astype(object)


ISO_WIDTH = 35  # 2026-03-31T18:00:00.000001-04:56:02: a fraction and an offset with seconds


def iso_text_bytes(instants: np.ndarray, zone: ZoneInfo) -> tuple[np.ndarray, np.ndarray]:
    """What `local_time(us, zone).isoformat()` says, for a column of instants at once, as ASCII
    bytes: row i of an (n, ISO_WIDTH) uint8 matrix holds text i in its first `lengths[i]`
    bytes, zeros after. The digits are written by array arithmetic and each offset once, so
    a writer of millions of timestamps makes no str per timestamp."""
    import numpy as np

    wall = wall_readings(instants, zone)
    seconds = np.floor_divide(wall, US_PER_SECOND)
    fraction = wall - seconds * US_PER_SECOND
    days = np.floor_divide(seconds, 86_400)
    of_day = seconds - days * 86_400
    date = days.astype("datetime64[D]")
    year_start, month_start = date.astype("datetime64[Y]"), date.astype("datetime64[M]")
    text = np.zeros((ISO_WIDTH, len(wall)), dtype=np.uint8)  # by column: each write is one row

    def write(rows, column: int, value: np.ndarray, width: int) -> None:
        value = value.astype(np.int32)  # every field fits; narrower division is faster
        for k in range(width):
            value, digit = np.divmod(value, 10)
            text[column + width - 1 - k, rows] = digit + 48

    every = slice(None)
    write(every, 0, year_start.astype(np.int64) + 1970, 4)
    write(every, 5, (month_start - year_start.astype("datetime64[M]")).astype(np.int64) + 1, 2)
    write(every, 8, (date - month_start.astype("datetime64[D]")).astype(np.int64) + 1, 2)
    write(every, 11, of_day // 3600, 2)
    write(every, 14, of_day // 60 % 60, 2)
    write(every, 17, of_day % 60, 2)
    text[[4, 7]], text[10], text[[13, 16]] = ord("-"), ord("T"), ord(":")
    finer = np.flatnonzero(fraction)  # isoformat shows microseconds only where there are some
    text[19, finer] = ord(".")
    write(finer, 20, fraction[finer], 6)
    lengths = np.where(fraction != 0, 26, 19).astype(np.int64)
    shift = (wall - instants) // US_PER_SECOND  # zoneinfo's offsets are whole seconds
    plain = not len(finer)
    single = not len(shift) or bool((shift == shift[0]).all())  # one offset: the usual case
    for seconds_east in shift[:1] if single else np.unique(shift):
        suffix = np.frombuffer(_offset_text(int(seconds_east)).encode(), dtype=np.uint8)
        here = slice(None) if single else shift == seconds_east
        for start in (19,) if plain else (19, 26):
            rows = slice(None) if single and plain else np.flatnonzero(
                (lengths == start) if single else here & (lengths == start))
            for k, byte in enumerate(suffix.tolist()):
                text[start + k, rows] = byte
        lengths[here] += len(suffix)
    text = np.ascontiguousarray(text.T)
    return text, lengths


def _offset_text(seconds: int) -> str:
    """A UTC offset as isoformat writes it: seconds only where the offset has some (local mean
    time before a zone's first standard offset)."""
    sign = "+" if seconds >= 0 else "-"
    minutes, second = divmod(abs(seconds), 60)
    hours, minute = divmod(minutes, 60)
    return f"{sign}{hours:02d}:{minute:02d}" + (f":{second:02d}" if second else "")
