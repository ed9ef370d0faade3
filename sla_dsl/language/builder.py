"""Syntax tree to `Policy`: every node gets its span; values the grammar cannot judge are checked.

The grammar accepts `2026-02-30`, `25:00` and `mnd-fri`; this stage is where they are found
out, because only here is the text turned into dates, times and days.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re

from lark import Token, Tree

from sla_dsl.diagnostics.codes import Code
from sla_dsl.diagnostics.diagnostic import Reporter
from sla_dsl.language import model as m
from sla_dsl.language.model import FIRST_DAY, LAST_DAY
from sla_dsl.language.parser import grammar_text

# The codes this module reports: one owner per code (sla_dsl/diagnostics/codes.py).
BAD_VALUE = Code(
    "E110", "invalid-value", "a date, time, day or number that does not exist",
    owner=__name__)
CODES = (BAD_VALUE,)


_UNESCAPE = re.compile(r'\\(["\\])')


def token_span(token: Token) -> m.Span:
    return m.Span(line=token.line, column=token.column, end_line=token.end_line,
                  end_column=token.end_column)


class _Meta:
    """Where a rule's text starts and ends: its first and last token, keywords included."""

    __slots__ = ("first", "last")

    def __init__(self, first: Token | None, last: Token | None) -> None:
        self.first, self.last = first, last


def meta_span(meta: _Meta) -> m.Span:
    if meta.first is None:
        return m.Span(line=1, column=1, end_line=1, end_column=1)
    return m.Span(line=meta.first.line, column=meta.first.column, end_line=meta.last.end_line,
                  end_column=meta.last.end_column)


# The parser keeps every token (cheaper than lark's position tracking), so the builder drops
# keywords itself, except in the grammar's `!` rules, whose keywords are their value.
_VALUE_TERMINALS = frozenset(
    {"NAME", "STRING", "NUMBER", "DATE", "TIME", "PERCENT", "CURRENCY", "COMPARE_OP"})
_KEYWORD_RULES = frozenset(re.findall(r"^!(\w+):", grammar_text(), re.MULTILINE))


def unquote(raw: str) -> str:
    """Only `\\"` and `\\\\` are escapes, so a regex reads as it would anywhere else."""
    return _UNESCAPE.sub(r"\1", raw[1:-1])


def parse_number(raw: str) -> int | float:
    """A number with more digits than a policy may hold is reported by `_too_large`; it reads
    as 0 here, since Python refuses to turn thousands of digits into an int (that was exit 70)."""
    if sum(c.isdigit() for c in raw) > MOST_DIGITS:
        return 0
    return float(raw) if "." in raw else int(raw)


def _name(token: Token) -> m.Name:
    return m.Name(value=str(token), span=token_span(token))


def _text(token: Token) -> m.Text:
    return m.Text(value=unquote(str(token)), span=token_span(token))


def _number(token: Token) -> m.Number:
    return m.Number(value=parse_number(str(token)), span=token_span(token))


def _percent(token: Token) -> m.Percent:
    return m.Percent(value=parse_number(str(token)[:-1]), span=token_span(token))


def _tokens(children: list, kind: str) -> list[Token]:
    return [c for c in children if isinstance(c, Token) and c.type == kind]


def _nodes(children: list, cls: type | tuple) -> list:
    return [c for c in children if isinstance(c, cls)]


def _one(children: list, cls: type | tuple):
    found = _nodes(children, cls)
    return found[0] if found else None


class _Marker(str):
    """A keyword rule's value (`business`, `every lead`, a unit), told apart from names."""


class _Build:
    """One method per grammar rule, called with the rule's position and built children.

    A plain recursive walk rather than lark's Transformer: this runs once per node of every
    check, and the Transformer's per-call wrappers were half of the build time."""

    def __init__(self, reporter: Reporter) -> None:
        self.reporter = reporter

    def transform(self, tree: Tree):
        return self._transform(tree)[0]

    def _transform(self, tree: Tree) -> tuple[object, Token | None, Token | None]:
        children: list = []
        first = last = None
        keywords = tree.data in _KEYWORD_RULES
        for child in tree.children:
            if isinstance(child, Tree):
                value, start, end = self._transform(child)
                children.append(value)
            elif child.type == "_NL":
                continue
            else:
                start = end = child
                if child.type in _NUMERIC and len(child) > MOST_DIGITS:
                    self._too_large(child)
                if keywords or child.type in _VALUE_TERMINALS:
                    children.append(child)
            if start is not None:
                first = first or start
                last = end
        return getattr(self, tree.data)(_Meta(first, last), children), first, last

    def _too_large(self, token: Token) -> None:
        """Numbers beyond any agreement's scale are refused before they can overflow a date."""
        if sum(c.isdigit() for c in str(token)) > MOST_DIGITS:
            self.reporter.error(BAD_VALUE, token_span(token),
                                f"'{token}' is too large a number",
                                f"numbers in a policy have at most {MOST_DIGITS} digits")

    # ------------------------------------------------------------ values

    def _date(self, token: Token) -> m.DateValue:
        try:
            value = dt.date.fromisoformat(str(token))
        except ValueError:
            self.reporter.error(BAD_VALUE, token_span(token),
                                f"'{token}' is not a date", "dates are written YYYY-MM-DD")
            value = dt.date(1970, 1, 1)
        if not FIRST_DAY <= value <= LAST_DAY:
            # the supported range (docs/limits.md): later steps add months and years to dates
            self.reporter.error(BAD_VALUE, token_span(token),
                                f"'{token}' is outside the supported dates",
                                f"dates run from {FIRST_DAY} to {LAST_DAY}")
            value = dt.date(1970, 1, 1)
        return m.DateValue(value=value, span=token_span(token))

    def _minutes(self, token: Token) -> int:
        hours, minutes = (int(p) for p in str(token).split(":"))
        if minutes >= 60 or hours > 24 or (hours == 24 and minutes):
            self.reporter.error(BAD_VALUE, token_span(token),
                                f"'{token}' is not a time of day",
                                "times run from 00:00 to 24:00 (the end of the day)")
            return 0
        return hours * 60 + minutes

    def _day(self, token: Token) -> m.Weekday:
        word = str(token).lower()
        if word in m.WEEKDAYS or word in _FULL_DAYS:
            return word[:3]  # type: ignore[return-value]
        word = str(token).lower()
        close = (difflib.get_close_matches(word, list(m.WEEKDAYS), 1, cutoff=0.5)
                 or difflib.get_close_matches(word, _FULL_DAYS, 1))
        self.reporter.error(BAD_VALUE, token_span(token), f"unknown day '{token}'",
                            f"did you mean '{close[0]}'?" if close else
                            "days are mon, tue, wed, thu, fri, sat, sun")
        return "mon"

    def number(self, meta, children):
        return _number(children[0])

    def string(self, meta, children):
        return _text(children[0])

    def percent(self, meta, children):
        return _percent(children[0])

    def date(self, meta, children):
        return self._date(children[0])

    def true(self, meta, children):
        return m.Boolean(value=True, span=meta_span(meta))

    def false(self, meta, children):
        return m.Boolean(value=False, span=meta_span(meta))

    def value_list(self, meta, children):
        return list(children)

    def business(self, meta, children):
        return _Marker("business")

    def time_unit(self, meta, children):
        return _Marker(str(children[0]).removesuffix("s"))

    def period(self, meta, children):
        return _Marker(str(children[0]))

    def calendar_ref(self, meta, children):
        return _name(children[0])

    def duration(self, meta, children):
        markers = [c for c in children if isinstance(c, _Marker)]
        return m.Duration(
            amount=parse_number(str(children[0])),
            unit=markers[-1],
            business="business" in markers,
            calendar=_one(children, m.Name),
            span=meta_span(meta),
        )

    def period_count(self, meta, children):
        return (_number(children[0]), str(children[1]))

    def money(self, meta, children):
        return m.Money(amount=parse_number(str(children[0])), currency=str(children[1]),
                       span=meta_span(meta))

    # ------------------------------------------------------------ header

    def title(self, meta, children):
        return m.Title(text=_text(children[0]), span=meta_span(meta))

    def version(self, meta, children):
        return m.Version(text=_text(children[0]), span=meta_span(meta))

    def timezone(self, meta, children):
        return m.Timezone(zone=_text(children[0]), span=meta_span(meta))

    def effective(self, meta, children):
        dates = [self._date(t) for t in children]
        return m.Effective(start=dates[0], until=dates[1] if len(dates) > 1 else None,
                           span=meta_span(meta))

    def party(self, meta, children):
        return m.Party(name=_name(children[0]), contacts=[_text(t) for t in children[1:]],
                       span=meta_span(meta))

    # ------------------------------------------------------------ calendars

    def day_span(self, meta, children):
        days = [self._day(t) for t in children]  # each once: a lone day is first and last
        return m.DayRange(first=days[0], last=days[-1], span=meta_span(meta))

    def hour_range(self, meta, children):
        return m.HourRange(start=self._minutes(children[0]), end=self._minutes(children[1]),
                           span=meta_span(meta))

    def open_hours(self, meta, children):
        return m.OpenHours(days=_nodes(children, m.DayRange),
                           hours=_nodes(children, m.HourRange), span=meta_span(meta))

    def date_span(self, meta, children):
        dates = [self._date(t) for t in children]
        return m.DateRange(first=dates[0].value, last=dates[-1].value, span=meta_span(meta))

    def closed_dates(self, meta, children):
        return m.ClosedDates(dates=list(children), span=meta_span(meta))

    def open_dates(self, meta, children):
        return m.OpenDates(dates=list(children), span=meta_span(meta))

    def closed_holidays(self, meta, children):
        return m.ClosedHolidays(regions=[_text(t) for t in _tokens(children, "STRING")],
                                span=meta_span(meta))

    def calendar(self, meta, children):
        zone = _tokens(children, "STRING")
        return m.Calendar(name=_name(children[0]), timezone=_text(zone[0]) if zone else None,
                          items=[c for c in children[1:] if not isinstance(c, Token)],
                          span=meta_span(meta))

    # ------------------------------------------------------------ definitions and expressions

    def definition_kind(self, meta, children):
        return _Marker(str(children[0]))

    def definition(self, meta, children):
        return m.Definition(category=children[0], name=_name(children[1]), when=children[2],
                            span=meta_span(meta))

    def expr(self, meta, children):
        if len(children) == 1:
            return children[0]
        return m.AnyOf(operands=children, span=meta_span(meta))

    def and_expr(self, meta, children):
        if len(children) == 1:
            return children[0]
        return m.All(operands=children, span=meta_span(meta))

    def not_expr(self, meta, children):
        """`( condition )`: the parentheses group, they add no node."""
        return children[0]

    def negation(self, meta, children):
        return m.Not(operand=children[0], span=meta_span(meta))

    def comparison(self, meta, children):
        return m.Compare(field=_name(children[0]), op=str(children[1]), value=children[2],
                         span=meta_span(meta))

    def membership(self, meta, children):
        return m.Membership(field=_name(children[0]), values=children[1], span=meta_span(meta))

    def non_membership(self, meta, children):
        return m.Membership(field=_name(children[0]), values=children[1], negated=True,
                            span=meta_span(meta))

    def pattern_match(self, meta, children):
        return m.PatternMatch(field=_name(children[0]), pattern=_text(children[1]),
                              span=meta_span(meta))

    def presence(self, meta, children):
        return m.Presence(field=_name(children[0]), span=meta_span(meta))

    def absence(self, meta, children):
        return m.Presence(field=_name(children[0]), negated=True, span=meta_span(meta))

    def name_ref(self, meta, children):
        return m.Ref(name=_name(children[0]), span=meta_span(meta))

    def fit_ref(self, meta, children):
        return m.FitRef(name=_name(children[0]), span=meta_span(meta))

    def interest_ref(self, meta, children):
        return m.InterestRef(name=_name(children[0]), span=meta_span(meta))

    # ------------------------------------------------------------ handoffs

    def every_lead(self, meta, children):
        return _Marker("every lead")

    def nobody(self, meta, children):
        return _Marker("nobody")

    def handoff_target(self, meta, children):
        child = children[0]
        return ("target", None if isinstance(child, _Marker) else _name(child))

    def handoff_receiver(self, meta, children):
        child = children[0]
        return ("receiver", None if isinstance(child, _Marker) else _name(child))

    def handoff_block(self, meta, children):
        return ("items", list(children))

    def handoff(self, meta, children):
        parts = dict(c for c in children if isinstance(c, tuple))
        senders = _tokens(children, "NAME")
        return m.Handoff(target=parts["target"], sender=_name(senders[0]) if senders else None,
                         receiver=parts["receiver"], items=parts.get("items", []),
                         span=meta_span(meta))

    def threshold(self, meta, children):
        return m.Threshold(condition=children[0], span=meta_span(meta))

    def weight(self, meta, children):
        return m.Weight(rep=_text(children[0]), weight=_number(children[1]), span=meta_span(meta))

    def weights(self, meta, children):
        return list(children)

    def cap(self, meta, children):
        return m.Cap(count=_number(children[0]), per=children[1], span=meta_span(meta))

    def open_cap(self, meta, children):
        return ("open_cap", _number(children[0]))

    def round_robin(self, meta, children):
        weights = next((c for c in children if isinstance(c, list)), [])
        open_cap = next((c[1] for c in children if isinstance(c, tuple)), None)
        return m.RoundRobin(team=_text(children[0]), weights=weights, cap=_one(children, m.Cap),
                            open_cap=open_cap, span=meta_span(meta))

    def fixed_owner(self, meta, children):
        return m.FixedOwner(owner=_text(children[0]), span=meta_span(meta))

    def first_touch(self, meta, children):
        return m.FirstTouch(within=children[0], span=meta_span(meta))

    def until_connected(self, meta, children):
        return _Marker("until connected")

    def touches(self, meta, children):
        return m.Touches(count=_number(children[0]), within=children[1],
                         until_connected=len(children) > 2, span=meta_span(meta))

    def spacing(self, meta, children):
        return m.Spacing(at_least=children[0], span=meta_span(meta))

    def disposition(self, meta, children):
        return m.Disposition(within=children[0], span=meta_span(meta))

    def pause(self, meta, children):
        return m.Pause(condition=children[0], span=meta_span(meta))

    def absent_mode(self, meta, children):
        return _Marker(str(children[0]))

    def owner_absent(self, meta, children):
        mode = next(c for c in children if isinstance(c, _Marker))
        return m.OwnerAbsent(who=str(children[0]), mode=str(mode), span=meta_span(meta))

    def owner_hours(self, meta, children):
        return m.OwnerHours(who=str(children[0]), span=meta_span(meta))

    def no_restart(self, meta, children):
        return _Marker("no")

    def rehandoff(self, meta, children):
        restart = not any(isinstance(c, _Marker) for c in children)
        return m.Rehandoff(restart=restart, span=meta_span(meta))

    def reassign_mode(self, meta, children):
        return _Marker(str(children[0]))

    def on_reassign(self, meta, children):
        mode = next(c for c in children if isinstance(c, _Marker))
        return m.OnReassign(mode=str(mode), clauses=[c for c in children
                                                     if isinstance(c, m.Clause)],
                            span=meta_span(meta))

    # ------------------------------------------------------------ commitments and goals

    def commitment(self, meta, children):
        return m.Commitment(giver=_name(children[0]), receiver=_name(children[1]),
                            items=children[2:], span=meta_span(meta))

    def deliver_count(self, meta, children):
        return m.DeliverCount(count=_number(children[0]), what=_name(children[1]),
                              per=children[2], span=meta_span(meta))

    def money_measure(self, meta, children):
        return _Marker(" ".join(str(c) for c in children))

    def deliver_money(self, meta, children):
        return m.DeliverMoney(amount=children[0], measure=children[1], per=children[2],
                              span=meta_span(meta))

    def report_subject(self, meta, children):
        if children[0].type == "STRING":
            return (unquote(str(children[0])), True)
        return (" ".join(str(c) for c in children), False)

    def cadence(self, meta, children):
        return _Marker(str(children[0]))

    def report(self, meta, children):
        subject, quoted = children[0]
        return m.Report(subject=subject, quoted=quoted, cadence=children[1], span=meta_span(meta))

    def lead_value(self, meta, children):
        names = _tokens(children, "NAME")
        return m.LeadValue(persona=_name(names[0]) if names else None, amount=children[-1],
                           span=meta_span(meta))

    def goal(self, meta, children):
        return m.RevenueGoal(amount=children[0], per=children[1], items=children[2:],
                             span=meta_span(meta))

    def share(self, meta, children):
        reading = str(children[2]) if len(children) > 2 else None
        return m.Share(party=_name(children[0]), percent=_percent(children[1]),
                       reading=reading, span=meta_span(meta))

    def share_reading(self, meta, children):
        return children[0]

    def deal_size(self, meta, children):
        return m.DealSize(amount=children[0], span=meta_span(meta))

    def close_rate(self, meta, children):
        return m.CloseRate(percent=_percent(children[0]), span=meta_span(meta))

    def attribution_model(self, meta, children):
        words = [str(c) for c in children if isinstance(c, Token)]
        half_life = _one(children, m.Duration)
        model = "time decay" if half_life else " ".join(words)
        return (model, half_life)

    def attribution(self, meta, children):
        model, half_life = children[0]
        return m.Attribution(model=model, half_life=half_life, span=meta_span(meta))

    # ------------------------------------------------------------ consequences

    def consequence_trigger(self, meta, children):
        return _Marker(str(children[0]))

    def clause(self, meta, children):
        return m.Clause(name=" ".join(str(c) for c in children), span=meta_span(meta))

    def consequence(self, meta, children):
        scoped = [c for c in children if isinstance(c, tuple)]
        actions = [c for c in children[2:] if not isinstance(c, tuple)]
        return m.Consequence(trigger=children[0], clause=children[1],
                             scope=scoped[0][1] if scoped else None,
                             every_lead=bool(scoped) and scoped[0][1] is None,
                             actions=actions, span=meta_span(meta))

    def warn(self, meta, children):
        return m.Warn(at=_percent(children[0]), span=meta_span(meta))

    def escalate(self, meta, children):
        return m.Escalate(to=_text(children[0]), after=_one(children, m.Duration),
                          span=meta_span(meta))

    def reassign(self, meta, children):
        return m.Reassign(after=_one(children, m.Duration), span=meta_span(meta))

    def strike(self, meta, children):
        return m.Strike(span=meta_span(meta))

    def grace(self, meta, children):
        count, unit = children[0]
        return m.Grace(count=count, unit=unit, span=meta_span(meta))

    def credit_percent(self, meta, children):
        return m.CreditShare(percent=_percent(children[0]),
                             of=" ".join(str(c) for c in children[1:]), span=meta_span(meta))

    def credit_money(self, meta, children):
        return m.CreditAmount(amount=children[0], span=meta_span(meta))

    def then_review(self, meta, children):
        return ("review", None)

    def then_cancel(self, meta, children):
        return ("cancel", None)

    def then_escalate(self, meta, children):
        return ("escalate", _text(children[0]))

    def strike_rule(self, meta, children):
        then, to = children[2]
        return m.StrikeRule(count=_number(children[0]), per=children[1], then=then,
                            escalate_to=to, span=meta_span(meta))

    def cancel(self, meta, children):
        return m.Cancel(when=children[0], span=meta_span(meta))

    def review_every(self, meta, children):
        count, unit = children[0]
        return m.ReviewEvery(count=count, unit=unit, span=meta_span(meta))

    def review_when(self, meta, children):
        return m.ReviewWhen(when=children[0], span=meta_span(meta))

    def any_trigger(self, meta, children):
        if len(children) == 1:
            return children[0]
        return m.AnyTrigger(operands=children, span=meta_span(meta))

    def all_trigger(self, meta, children):
        if len(children) == 1:
            return children[0]
        return m.AllTriggers(operands=children, span=meta_span(meta))

    def missed(self, meta, children):
        return m.Missed(clause=children[0], count=_number(children[1]), unit=children[2],
                        span=meta_span(meta))

    def missed_by(self, meta, children):
        token = children[0]
        return ("team", _text(token)) if token.type == "STRING" else ("party", _name(token))

    def missed_count(self, meta, children):
        by = dict(children[3:4])
        return m.MissedCount(clause=children[0], count=_number(children[1]), per=children[2],
                             party=by.get("party"), team=by.get("team"), span=meta_span(meta))

    def metric_compare(self, meta, children):
        return m.MetricCompare(metric=children[0], op=str(children[1]), value=children[2],
                               span=meta_span(meta))

    def rate_metric(self, meta, children):
        return m.RateMetric(source=_name(children[0]), target=_name(children[1]),
                            span=meta_span(meta))

    def statistic(self, meta, children):
        return _Marker(str(children[0]))

    def statistic_metric(self, meta, children):
        return m.StatisticMetric(statistic=children[0], clause=children[1], span=meta_span(meta))

    def attainment_metric(self, meta, children):
        return m.AttainmentMetric(clause=children[0], span=meta_span(meta))


_FULL_DAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


MOST_DIGITS = 12
_NUMERIC = frozenset({"NUMBER", "PERCENT"})


def build_statements(tree: Tree, reporter: Reporter) -> tuple[list[m.Statement], list]:
    """The statements of a parsed file, and apart those holding a value that does not exist
    (built with a stand-in value, so their names are known but their meaning is not)."""
    builder = _Build(reporter)
    kept: list[m.Statement] = []
    spoiled: list[m.Statement] = []
    for child in tree.children:
        if not isinstance(child, Tree):
            continue
        errors = len(reporter.diagnostics)
        statement = builder.transform(child)
        (spoiled if len(reporter.diagnostics) > errors else kept).append(statement)
    return kept, spoiled


def build_policy(trees: list[Tree], reporter: Reporter,
                 line_count: int) -> tuple[m.Policy, list[m.Statement]]:
    statements: list[m.Statement] = []
    spoiled: list[m.Statement] = []
    for tree in trees:
        good, bad = build_statements(tree, reporter)
        statements.extend(good)
        spoiled.extend(bad)
    span = m.Span(line=1, column=1, end_line=max(line_count, 1), end_column=1)
    return m.Policy(statements=statements, span=span), spoiled
