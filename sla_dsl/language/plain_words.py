"""Policy parts in plain English, for people who never read the `.sla` file.

The agreement document and the clock audit both speak to a VP of Sales or a rep, not to the
analyst who wrote the policy: `score >= 80 and industry in ["software", "fintech"]` has to read
"has a score of 80 or more and an industry of software or fintech", a calendar "Monday to
Friday, 9:00 to 17:00, New York time". One module, so the two never word a thing differently.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

from sla_dsl.language import model as m

ACRONYMS = frozenset({
    "mql", "sql", "mqls", "sqls", "mdr", "mdrs", "sdr", "sdrs", "smb", "emea", "apac", "amer",
    "cmo", "ceo", "cfo", "cto", "coo", "cio", "cro", "vp", "bant", "us", "uk", "eu", "crm",
})
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_PERIOD_ADVERB = {"day": "a day", "week": "a week", "month": "a month", "quarter": "a quarter",
                  "year": "a year"}
_CADENCE = {"daily": "every day", "weekly": "every week", "monthly": "every month",
            "quarterly": "every quarter", "yearly": "every year"}


# ---------------------------------------------------------------- words and numbers


def words(name: str) -> str:
    """An identifier or team name as words: `good_fit_interested` -> `good fit interested`,
    `sql` -> `SQL`, so nobody reading aloud has to pronounce an underscore."""
    return " ".join(w.upper() if w.lower() in ACRONYMS else w
                    for w in re.split(r"[_\s]+", name.strip()) if w)


def article(phrase: str) -> str:
    """`a` or `an` by sound: an MQL, an SQL, a raw lead, an hour."""
    first = phrase.split(" ", 1)[0]
    if (first.isupper() and len(first) > 1) or len(first) == 1:  # said letter by letter
        return "an" if first[0].upper() in "AEFHILMNORSX" else "a"
    if first.lower().startswith(("hour", "honest")):
        return "an"
    return "an" if first[:1].lower() in "aeiou" else "a"


def possessive(name: str) -> str:
    """`sales's` is `sales'`: a name ending in s takes the apostrophe alone."""
    return f"{name}'" if name.endswith("s") else f"{name}'s"


def with_article(phrase: str) -> str:
    return f"{article(phrase)} {phrase}"


def plural(phrase: str) -> str:
    """The plural of a noun phrase's last word: SQLs, raw leads, opportunities."""
    head, _, last = phrase.rpartition(" ")
    if last.isupper():
        last += "s"
    elif last.endswith("s"):
        pass
    elif last.endswith("y") and last[-2:-1] not in ("a", "e", "o", "u"):
        last = last[:-1] + "ies"
    elif last.endswith(("ch", "sh", "x")):
        last += "es"
    else:
        last += "s"
    return f"{head} {last}" if head else last


def listing(items: Sequence[str], conjunction: str = "and") -> str:
    """`a`, `a and b`, `a, b and c`: the way a person lists things aloud."""
    items = [i for i in items if i]
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {conjunction} {items[-1]}"


def number(value: float) -> str:
    """5000 -> `5,000`, 12.5 -> `12.5`, 14.000000001 -> `14`."""
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def money(value: m.Money) -> str:
    return f"{number(value.amount)} {value.currency}"


def percent(value: float) -> str:
    return f"{number(value)}%"


def per(period: str) -> str:
    """`per month` as people say it: `a month`."""
    return _PERIOD_ADVERB[period]


def cadence(word: str) -> str:
    return _CADENCE[word]


def counted(amount: float, unit: str, *, grouped: bool = True) -> str:
    """`1 row`, `3 rows`, `5,000 leads`: the count and its noun agree, whatever the count
    (`grouped=False`: `2164 rows`, as the lines that print counts as they are)."""
    shown = number(amount) if grouped else str(amount)
    return f"{shown} {unit if amount == 1 else plural(unit)}"


def date(day: dt.date) -> str:
    return f"{day.day} {day:%B %Y}"


def date_range(first: dt.date, last: dt.date) -> str:
    if first == last:
        return date(first)
    if (first.year, first.month) == (last.year, last.month):
        return f"{first.day} to {last.day} {last:%B %Y}"
    return f"{date(first)} to {date(last)}"


# ---------------------------------------------------------------- time


def zone(name: str) -> str:
    """`America/New_York` -> `New York time`: how a timezone is said in a meeting."""
    if "/" not in name:
        return name
    return name.rsplit("/", 1)[1].replace("_", " ") + " time"


def clock(minutes: int) -> str:
    return "midnight" if minutes == 1440 else f"{minutes // 60}:{minutes % 60:02d}"


def _day_run(days: m.DayRange) -> str:
    first, last = WEEKDAY_NAMES[days.weekdays[0]], WEEKDAY_NAMES[days.weekdays[-1]]
    if first == last:
        return first
    if len(days.weekdays) == 7:
        return "every day"
    if len(days.weekdays) == 2:
        return f"{first} and {last}"
    return f"{first} to {last}"


def open_hours(item: m.OpenHours) -> str:
    days = listing([_day_run(d) for d in item.days])
    if [(h.start, h.end) for h in item.hours] == [(0, 1440)]:
        return f"{days}, all day"
    hours = listing([f"{clock(h.start)} to {clock(h.end)}" for h in item.hours])
    return f"{days}, {hours}"


def closed_dates(calendar: m.Calendar) -> list[str]:
    return [date_range(r.first, r.last) for item in calendar.items
            if isinstance(item, m.ClosedDates) for r in item.dates]


def calendar_hours(calendar: m.Calendar, policy_timezone: str) -> str:
    """`Monday to Friday, 9:00 to 17:00, and Saturday, 10:00 to 14:00, New York time`."""
    opens = [open_hours(i) for i in calendar.items if isinstance(i, m.OpenHours)]
    where = zone(calendar.timezone.value if calendar.timezone else policy_timezone)
    if not opens:
        return "never open"
    return f"{', and '.join(opens) if len(opens) > 1 else opens[0]}, {where}"


def holiday_sets(calendar: m.Calendar) -> str | None:
    """`the public holidays of US and US-CA (on the days they are observed)`."""
    regions = [r.value for item in calendar.items if isinstance(item, m.ClosedHolidays)
               for r in item.regions]
    if not regions:
        return None
    return (f"the public holidays of {listing(list(dict.fromkeys(regions)))} "
            "(on the days they are observed)")


def opened_dates(calendar: m.Calendar) -> list[str]:
    return [date_range(r.first, r.last) for item in calendar.items
            if isinstance(item, m.OpenDates) for r in item.dates]


def calendar_words(calendar: m.Calendar, policy_timezone: str) -> str:
    """The open hours, the closed dates and holidays, and the exceptions in one sentence part."""
    text = calendar_hours(calendar, policy_timezone)
    holidays = holiday_sets(calendar)
    closed = ([holidays] if holidays else []) + closed_dates(calendar)
    opened = opened_dates(calendar)
    return (text + (f"; closed on {listing(closed)}" if closed else "")
            + (f"; open on {listing(opened)} all the same" if opened else ""))


def duration(value: m.Duration, *, calendar_names: bool = True) -> str:
    """`1 business hour`, `10 business days on the US calendar`, `30 days`."""
    unit = ("business " if value.business else "") + value.unit
    text = counted(value.amount, unit)
    if value.calendar and calendar_names:
        text += f" on the {words(value.calendar.value)} calendar"
    return text


def timedelta(value: dt.timedelta, *, days: bool = True) -> str:
    """A length of time the way a rep says it: `2 days 3 hours`, `45 minutes`, `0 minutes`.
    Business time is said in hours (`days=False`): 31 open hours are not "1 day 7 hours"."""
    seconds = int(value.total_seconds())
    sign = "minus " if seconds < 0 else ""
    seconds = abs(seconds)
    days, rest = divmod(seconds, 86_400) if days else (0, seconds)
    hours, rest = divmod(rest, 3_600)
    minutes, seconds = divmod(rest, 60)
    parts = [counted(n, unit) for n, unit in ((days, "day"), (hours, "hour"),
                                              (minutes, "minute")) if n]
    if not parts:
        parts = [counted(seconds, "second")] if seconds else ["0 minutes"]
    return sign + " ".join(parts)


def short(value: dt.timedelta, *, days: bool = True) -> str:
    """A length of time for a column: `2d 3h`, `1h 18m`, `45s`, `0m` (`days=False`: `51h`)."""
    seconds = int(value.total_seconds())
    days, rest = divmod(abs(seconds), 86_400) if days else (0, abs(seconds))
    hours, rest = divmod(rest, 3_600)
    minutes, seconds = divmod(rest, 60)
    parts = [f"{n}{unit}" for n, unit in ((days, "d"), (hours, "h"), (minutes, "m")) if n]
    return " ".join(parts) or (f"{seconds}s" if seconds else "0m")


# ---------------------------------------------------------------- conditions


class Conditions:
    """Conditions of one policy as sentences about a lead ("has a score of 80 or more").

    Each atom is a (verb, rest) pair, so `and` can say the verb once: "is an MQL and has a
    budget above 0, a need and a timeline of 90 days or less".

    The grouping of `and`, `or` and `not` must survive the words, at any depth. A condition of
    one operator (`a and b and c`, `a or b`) reads as a plain sentence, as does one with a single
    group of the other operator inside, said last where it cannot swallow what follows: "is an
    MQL and either has a score of 60 or more or has a last form of demo request". Anything
    deeper, or a `not` over a group, is a numbered outline whose numbers show the nesting:
    "meets all of these: (1) meets none of these: (1.1) ...; (1.2) ...; (2) ...".
    """

    def __init__(self, policy: m.Policy) -> None:
        self.categories = {d.name.value: d.category for d in reversed(policy.definitions)}

    def words(self, expr: m.Expr) -> str:
        expr = _flattened(expr)
        if _inline(expr):
            return self._sentence(expr)
        return self._outline(expr, "")

    def _sentence(self, expr: m.Expr) -> str:
        return self._joined(self._parts(_group_last(expr)))

    def _outline(self, expr: m.Expr, label: str) -> str:
        if isinstance(expr, m.Not):
            group = expr.operand
            head = "meets none of these" if isinstance(group, m.AnyOf) \
                else "fails at least one of these"
        else:
            group = expr
            head = "meets all of these" if isinstance(group, m.All) \
                else "meets at least one of these"
        assert isinstance(group, m.All | m.AnyOf)
        items = []
        for number, operand in enumerate(group.operands, 1):
            at = f"{label}.{number}" if label else str(number)
            text = self._sentence(operand) if _inline(operand) else self._outline(operand, at)
            items.append(f"({at}) {text}")
        return f"{head}: {'; '.join(items)}"

    # A part is (verb, rest); verb "" means the rest is a whole clause already.
    def _parts(self, expr: m.Expr) -> list[tuple[str, str]]:
        if isinstance(expr, m.All):
            parts: list[tuple[str, str]] = []
            for operand in expr.operands:
                if isinstance(operand, m.AnyOf):
                    parts.append(("", "either " + self._either(operand)))
                else:
                    parts.append(self._atom(operand, expr))
            return parts
        if isinstance(expr, m.AnyOf):
            return [("", self._either(expr))]
        return [self._atom(expr)]

    def _either(self, expr: m.AnyOf) -> str:
        options = []
        for operand in expr.operands:
            if isinstance(operand, m.All):
                text = self._joined(self._parts(operand))
                text = "both " + text if len(operand.operands) == 2 else "all of: " + text
            else:
                text = self._joined([self._atom(operand, expr)])
            options.append(text)
        return " or ".join(options)

    @staticmethod
    def _joined(parts: list[tuple[str, str]]) -> str:
        """Runs of one verb share it: `has a, b and c`; runs are joined with `and`."""
        runs: list[tuple[str, list[str]]] = []
        for verb, rest in parts:
            if runs and verb and runs[-1][0] == verb:
                runs[-1][1].append(rest)
            else:
                runs.append((verb, [rest]))
        texts = [(f"{verb} " if verb else "") + (listing(items) if verb else items[0])
                 for verb, items in runs]
        if any(len(items) > 1 for _, items in runs[:-1]):
            return ", and ".join(texts)  # keep each verb's list apart from the next one
        return listing(texts)

    def _atom(self, expr: m.Expr, group: m.All | m.AnyOf | None = None) -> tuple[str, str]:
        if isinstance(expr, m.Not):
            return self._negated(expr.operand, group)
        if isinstance(expr, m.FitRef):
            return "is", f"{with_article(words(expr.name.value))} fit"
        if isinstance(expr, m.InterestRef):
            return "shows", f"{words(expr.name.value)} interest"
        if isinstance(expr, m.Ref):
            return self._ref(expr.name.value)
        if isinstance(expr, m.Presence):
            return ("has", f"no {field_words(expr.field.value)}") if expr.negated \
                else ("has", _field_with_article(expr.field.value))
        if isinstance(expr, m.PatternMatch):
            return "has", f"{_field_with_article(expr.field.value)} {pattern(expr.pattern.value)}"
        if isinstance(expr, m.Membership):
            options = listing([value(v) for v in expr.values], "or")
            how = f"other than {options}" if expr.negated else f"of {options}"
            return "has", f"{_field_with_article(expr.field.value)} {how}"
        if isinstance(expr, m.Compare):
            return "has", comparison(expr)
        return "meets", str(expr)

    def _ref(self, name: str) -> tuple[str, str]:
        category = self.categories.get(name)
        if category == "segment":
            return "is", f"in the {words(name)} segment"
        if category is not None:  # a persona or a stage: a kind of lead, or a state of one
            said = words(name)
            return "is", said if said.endswith(("ready", "ed", "able")) else with_article(said)
        return "has", f"{field_words(name)} marked yes"

    def _negated(self, expr: m.Expr, group: m.All | m.AnyOf | None) -> tuple[str, str]:
        """`not X` of one test. `not industry in [...]` and `not email matches ...` hold for a
        lead without the field (a comparison with a missing field is false, and `not` turns it
        true), unlike `industry not in [...]`: the words say so, unless the group around them
        settles it (`email is set and not email matches ...`)."""
        if isinstance(expr, m.Presence):
            return self._atom(expr.model_copy(update={"negated": not expr.negated}))
        if isinstance(expr, m.PatternMatch):
            said = (f"{_field_with_article(expr.field.value)} "
                    f"{pattern(expr.pattern.value, negated=True)}")
            return "has", said + _or_none(expr.field.value, group)
        if isinstance(expr, m.Membership):  # `in` as `not in` and back, and no field passes
            flipped = self._atom(expr.model_copy(update={"negated": not expr.negated}))
            return "has", flipped[1] + _or_none(expr.field.value, group)
        if isinstance(expr, m.Compare) and isinstance(expr.value, m.Text) \
                and expr.op in ("==", "!="):
            flipped = comparison(expr.model_copy(update={"op": "!=" if expr.op == "==" else "=="}))
            return "has", flipped + _or_none(expr.field.value, group)
        if isinstance(expr, m.Ref) and self.categories.get(expr.name.value) is None:
            return "has", f"{field_words(expr.name.value)} not marked yes"
        if isinstance(expr, m.InterestRef):
            return "does not show", f"{words(expr.name.value)} interest"
        if isinstance(expr, m.FitRef | m.Ref):
            return "is not", self._atom(expr)[1]
        if isinstance(expr, m.Compare):
            return "does not have", comparison(expr)
        return "", f"does not meet this: {self.words(expr)}"


def _or_none(field: str, group: m.All | m.AnyOf | None) -> str:
    """` (or no industry at all)`, for a negated test that a lead without the field passes;
    nothing when the group around it already decides such a lead (`industry is set and ...`,
    `industry is not set or ...`)."""
    if isinstance(group, m.All | m.AnyOf):
        wanted = isinstance(group, m.AnyOf)  # `is not set` in an or, `is set` in an and
        for operand in group.operands:
            if isinstance(operand, m.Presence) and operand.field.value == field \
                    and operand.negated == wanted:
                return ""
            if isinstance(operand, m.Not) and isinstance(operand.operand, m.Presence) \
                    and operand.operand.field.value == field \
                    and operand.operand.negated != wanted:
                return ""
    return f" (or no {field_words(field)} at all)"


def _flattened(expr: m.Expr) -> m.Expr:
    """The same condition with `a and (b and c)` as `a and b and c` and `not not a` as `a`:
    parentheses that change nothing must not add a level to the words."""
    if isinstance(expr, m.Not):
        inner = _flattened(expr.operand)
        if isinstance(inner, m.Not):
            return inner.operand
        return expr.model_copy(update={"operand": inner})
    if isinstance(expr, m.All | m.AnyOf):
        operands: list[m.Expr] = []
        for operand in (_flattened(o) for o in expr.operands):
            if type(operand) is type(expr):
                operands += operand.operands
            else:
                operands.append(operand)
        return expr.model_copy(update={"operands": operands})
    return expr


def _is_group(expr: m.Expr) -> bool:
    return isinstance(expr, m.All | m.AnyOf) or (
        isinstance(expr, m.Not) and isinstance(expr.operand, m.All | m.AnyOf))


def _flat(expr: m.Expr) -> bool:
    """One test, or one operator over tests: `a`, `not a`, `a and b and c`, `a or b`."""
    if isinstance(expr, m.All | m.AnyOf):
        return not any(_is_group(o) for o in expr.operands)
    return not _is_group(expr)


def _inline(expr: m.Expr) -> bool:
    """Said as one sentence without losing its grouping: flat, or one operator over tests and
    a single flat group of the other operator (said last: "a and either b or c")."""
    if _flat(expr):
        return True
    if not isinstance(expr, m.All | m.AnyOf):
        return False
    groups = [o for o in expr.operands if _is_group(o)]
    return len(groups) == 1 and isinstance(groups[0], m.All | m.AnyOf) and _flat(groups[0])


def _group_last(expr: m.Expr) -> m.Expr:
    """The one inner group moved to the end (`and` and `or` do not care about order), so that
    "either ... or ..." runs to the end of the sentence and nothing after it can be read into
    it."""
    if not isinstance(expr, m.All | m.AnyOf):
        return expr
    tests = [o for o in expr.operands if not _is_group(o)]
    groups = [o for o in expr.operands if _is_group(o)]
    return expr.model_copy(update={"operands": tests + groups})


def field_words(name: str) -> str:
    return words(name).lower() if not any(w.upper() == w and len(w) > 1
                                          for w in words(name).split()) else words(name)


def _plural_field(name: str) -> bool:
    """`employees`, `page_views`: fields that count things, said as "50 or more employees"."""
    last = name.rsplit("_", 1)[-1].lower()
    return last.endswith("s") and not last.endswith(("ss", "us", "is"))


def _field_with_article(name: str) -> str:
    text = field_words(name)
    return text if _plural_field(name) else with_article(text)


_ORDER_WORDS = {">=": "{v} or more", ">": "above {v}", "<=": "{v} or less", "<": "below {v}",
                "==": "{v}", "!=": "other than {v}"}
_COUNT_WORDS = {">=": "{v} or more {f}", ">": "more than {v} {f}", "<=": "{v} or fewer {f}",
                "<": "fewer than {v} {f}", "==": "exactly {v} {f}", "!=": "a number of {f} "
                "other than {v}"}


def comparison(expr: m.Compare) -> str:
    """One comparison as what the lead has: `a score of 80 or more`, `50 or more employees`,
    `a need filled in`, `discovery call booked marked yes`."""
    name, op, target = expr.field.value, expr.op, expr.value
    if isinstance(target, m.Boolean) and op in ("==", "!="):
        truth = target.value == (op == "==")
        return f"{field_words(name)} marked {'yes' if truth else 'no'}"
    if isinstance(target, m.Text) and target.value == "" and op in ("==", "!="):
        return f"{_field_with_article(name)} {'left empty' if op == '==' else 'filled in'}"
    shown = value(target)
    if _plural_field(name) and isinstance(target, m.Number):
        return _COUNT_WORDS[op].format(v=shown, f=field_words(name))
    phrase = _ORDER_WORDS[op].format(v=shown)
    joiner = " of " if op in (">=", "<=", "==") else " "
    return f"{_field_with_article(name)}{joiner}{phrase}"


def value(v: m.Value) -> str:
    if isinstance(v, m.Text):
        return v.value
    if isinstance(v, m.Number):
        return number(v.value)
    if isinstance(v, m.Percent):
        return percent(v.value)
    if isinstance(v, m.DateValue):
        return date(v.value)
    if isinstance(v, m.Boolean):
        return "yes" if v.value else "no"
    return duration(v)


_LITERAL = re.compile(r"^(?:[\w ,'&@.-]|\\[.\-@&])+$")


def pattern(text: str, *, negated: bool = False) -> str:
    """A regular expression said aloud when it is a list of words, as most are:
    `(?i)\\b(ceo|cfo|vp)\\b` -> `with the word CEO, CFO or VP`; others are quoted as written.
    `negated`: what a field that does not match is (`without any of the words CEO or VP`)."""
    body = text
    if body.startswith("(?i)"):
        body = body[4:]
    whole_words = body.startswith(r"\b") and body.endswith(r"\b")
    if whole_words:
        body = body[2:-2]
    found = re.fullmatch(r"([^()|]*)\(([^()]*)\)([^()|]*)", body) or \
        re.fullmatch(r"()([^()]*)()", body)
    if found:
        prefix, options, suffix = found.groups()
        options = options.split("|")
        pieces = [prefix + o.replace(",?", "") + suffix for o in options]
        if all(_LITERAL.fullmatch(p) for p in pieces):
            said = [words(p.replace("\\", "")) if whole_words else p.replace("\\", "")
                    for p in pieces]
            if whole_words and negated:
                noun = "the word" if len(said) == 1 else "any of the words"
                return f"without {noun} {listing(said, 'or')}"
            noun = "the word" if len(said) == 1 else "one of the words"
            if whole_words:
                return f"with {noun} {listing(said, 'or')}"
            return f"{'not ' if negated else ''}containing {listing(said, 'or')}"
    return f'{"not " if negated else ""}matching the pattern "{text}"'
