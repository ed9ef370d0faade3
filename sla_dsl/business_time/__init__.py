"""Business-time arithmetic: the one place where calendars, holidays, timezones and DST meet.

The evaluator asks "was this clock breached?" and the simulator asks "when will it be?"; if they
answered from two implementations, a policy could pass in one and fail in the other. So every
business-time question goes through this package, and it is written to be called ~10^5 times a
run: each local date's open intervals are computed once, lazily, and cached.

Its modules:

- `calendar`: `BusinessCalendar` (open hours, closed dates, the scalar clock arithmetic),
  `deadline` and `to_timedelta` (what a duration means), `calendar_for`, `open_share`.
- `open_time`: the same questions over arrays (`OpenTimeTable`, `deadlines`, ...).
- `zones`: every conversion between instants (int64 µs since the epoch, UTC) and local time,
  scalar and vectorised, and the unit constants (`US_PER_SECOND` ... `US_PER_DAY`).
- `periods`: the local calendar periods (day, week, month, quarter, year) and their bounds.

Callers import each name from the module that defines it; this file holds only this statement.

Conventions that hold throughout:

- Every instant passed in must be timezone-aware (a naive datetime is a wall reading, not an
  instant, and guessing its zone is how DST bugs start); naive input raises `ValueError`.
- Arithmetic is done in UTC. Python compares and subtracts two datetimes that share a `tzinfo`
  by their wall times, ignoring DST, so e.g. 01:30 EDT and 01:30 EST compare equal. Results are
  returned in the calendar's timezone for readability; to compare or subtract them, use
  `open_time_between` or convert them to UTC first.
- A wall time T on a local date denotes *the first instant at which the local clock reads T or
  later*. A time skipped by spring-forward (02:30 in New York on the spring-forward night) is
  the instant of the jump (03:00 EDT); a time repeated by fall-back is its first occurrence.
  The same rule resolves opening and closing times, `24:00` (the next local midnight) and
  wall-clock deadlines, so open time and deadlines never disagree about an instant.

The evaluator asks the same questions for millions of leads at once, so `deadlines`,
`next_open_many` and `open_time_between_many` answer them over numpy arrays of int64
microseconds since the Unix epoch (UTC), from an `OpenTimeTable` that holds the calendar's open
intervals as arrays. They agree exactly with the scalar functions, because the table is built
from the same cached days and the same wall-time rule, not from a second reading of the
calendar.
"""
