"""The catalogue of diagnostic codes.

Codes are stable: tools and CI configurations match on them, so a code is never reused for a
different problem. The language reference lists this table.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Code:
    code: str
    name: str
    summary: str


_ALL: dict[str, Code] = {}


def _code(code: str, name: str, summary: str) -> Code:
    entry = Code(code, name, summary)
    _ALL[code] = entry
    return entry


# files
UNREADABLE = _code("E001", "unreadable-file", "the file cannot be read")
NOT_TEXT = _code("E002", "not-text", "the file is not UTF-8 text")
TOO_LARGE = _code("E003", "file-too-large", "the file is larger than a policy can be")
EMPTY = _code("E004", "empty-policy", "the file holds no statements")

# syntax
SYNTAX = _code("E100", "syntax-error", "the text does not follow the grammar")
BAD_CHARACTER = _code("E101", "unexpected-character", "a character the language does not use")
UNTERMINATED_STRING = _code("E102", "unterminated-string", "a string with no closing quote")
UNCLOSED_BLOCK = _code("E103", "unclosed-block", "a `{` with no matching `}`")
UNMATCHED_BRACE = _code("E104", "unmatched-brace", "a `}` with no block to close")
BAD_VALUE = _code("E110", "invalid-value", "a date, time, day or number that does not exist")
BAD_UNIT = _code("E111", "invalid-unit", "a unit that cannot be used here")
TOO_DEEP = _code("E112", "too-deeply-nested",
                 "a condition nested deeper than the language allows (docs/limits.md)")
TOO_MANY = _code("E199", "too-many-errors", "the file has more errors than are shown")

# names
UNKNOWN_NAME = _code("E200", "unknown-name", "a name that is not defined")
DUPLICATE_NAME = _code("E201", "duplicate-name", "a name defined twice")
CYCLE = _code("E202", "definition-cycle", "definitions that use each other in a circle")
UNDECLARED_PARTY = _code("E203", "undeclared-party", "a party used but not declared")
WRONG_KIND = _code("E204", "wrong-kind", "a name of the wrong kind for where it is used")
DUPLICATE_STATEMENT = _code("E205", "duplicate-statement", "a statement that may appear once")
DUPLICATE_HANDOFF = _code("E206", "duplicate-handoff", "two handoffs for the same leads")

# header and calendars
UNKNOWN_TIMEZONE = _code("E300", "unknown-timezone", "a timezone name that does not exist")
NEVER_OPEN = _code("E301", "calendar-never-open", "a calendar with no open hours")
HOURS_OVERLAP = _code("E302", "overlapping-hours", "open hours that overlap on a day")
HOURS_INVERTED = _code("E303", "inverted-hours", "open hours that end before they start")
EFFECTIVE_ORDER = _code("E304", "effective-after-until", "an agreement that ends before it starts")
DATES_INVERTED = _code("E305", "inverted-dates", "a closed date range that ends before it starts")
NO_CALENDAR = _code("E306", "calendar-required", "business time with no calendar to count on")
AMBIGUOUS_CALENDAR = _code(
    "E307", "calendar-ambiguous", "business time with several calendars and none named"
)
MISSING_TIMEZONE = _code("E308", "timezone-required", "a calendar with no timezone to read it in")

# clauses
IMPOSSIBLE_CADENCE = _code("E400", "impossible-cadence", "more touches than the window allows")
WARN_RANGE = _code("E401", "warn-out-of-range", "a `warn at` not above 0% and at most 100%")
BAD_WEIGHT = _code("E402", "bad-weight", "a round-robin weight that is zero or negative")
DUPLICATE_REP = _code("E403", "duplicate-rep", "a rep named twice in one weights list")
BAD_REGEX = _code("E404", "invalid-regex",
                  "a `matches` pattern that does not compile or cannot run in linear time")
BAD_PERCENT = _code("E405", "percent-out-of-range", "a share or rate outside 0% to 100%")
NOT_POSITIVE = _code("E406", "not-positive", "a count or duration that must be above zero")
WRONG_CONSEQUENCE = _code(
    "E407", "wrong-consequence", "`breach` used for a goal or `miss` for a lead clause"
)
DUPLICATE_CLAUSE = _code("E408", "duplicate-clause", "the same clause twice in one block")
WINDOW_TOO_SHORT = _code(
    "E409", "deadline-outside-window", "a first touch due after the touch window closes"
)
UNATTRIBUTED_REVENUE = _code(
    "E410", "revenue-without-attribution", "revenue promised with no `attribution` to credit it"
)
BUSINESS_HALF_LIFE = _code(
    "E411", "business-half-life", "an attribution half-life in business time"
)

# warnings
UNREACHABLE_SEGMENT = _code("W500", "unreachable-segment", "a segment an earlier one always covers")
NEVER_APPLIES = _code(
    "W501", "consequence-never-applies", "a consequence or metric of a clause no handoff has"
)
NO_HANDOFF = _code("W502", "segment-without-handoff", "a segment no handoff applies to")
UNCOVERED_LEADS = _code(
    "W503", "uncovered-leads", "segments that leave some leads with no segment and no handoff"
)
UNREACHABLE_HANDOFF = _code(
    "W504", "unreachable-handoff", "a handoff whose leads all take an earlier handoff"
)
GOAL_BEYOND_COMMITMENT = _code(
    "W505", "goal-beyond-commitment", "a goal that needs more leads than are committed"
)
LATE_WARNING = _code(
    "W506", "late-warning", "a `warn at` that cannot fire before the breach is acted on"
)
REP_LEFT_OUT = _code(
    "W507", "rep-left-out", "a rep weighted in one handoff of a team but left out of another"
)
BAD_SUPPRESSION = _code(
    "W508", "bad-suppression", "a suppression comment with no reason or an unknown code"
)
UNUSED_SUPPRESSION = _code("W509", "unused-suppression", "a suppression that silences nothing")
UNMEASURED_SHARE = _code(
    "W510", "unmeasured-share", "a goal's party share with no `attribution` to measure it"
)
LEAD_COUNT_MISMATCH = _code(
    "W511", "commitment-off-goal",
    "a lead-count commitment far from what the revenue goal's arithmetic needs"
)


def all_codes() -> list[Code]:
    """Every code, in code order, for the reference documentation."""
    return sorted(_ALL.values(), key=lambda c: c.code)
