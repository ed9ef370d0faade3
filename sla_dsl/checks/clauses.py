"""Clauses: numbers that must make sense, blocks that hold each clause once, and consequences
that fit what they follow."""

from __future__ import annotations

import re

from sla_dsl.checks.names import WRONG_KIND
from sla_dsl.diagnostics.codes import Code
from sla_dsl.diagnostics.diagnostic import Reporter
from sla_dsl.language import model as m
from sla_dsl.language.builder import BAD_VALUE
from sla_dsl.language.formatter import number as number_text
from sla_dsl.language.patterns import python_compiles, unsupported

# The codes this module reports: one owner per code (sla_dsl/diagnostics/codes.py).
BAD_UNIT = Code(
    "E111", "invalid-unit", "a unit that cannot be used here",
    owner=__name__)
DUPLICATE_HANDOFF = Code(
    "E206", "duplicate-handoff", "two handoffs for the same leads",
    owner=__name__)
WARN_RANGE = Code(
    "E401", "warn-out-of-range", "a `warn at` not above 0% and at most 100%",
    owner=__name__)
BAD_WEIGHT = Code(
    "E402", "bad-weight", "a round-robin weight that is zero or negative",
    owner=__name__)
DUPLICATE_REP = Code(
    "E403", "duplicate-rep", "a rep named twice in one weights list",
    owner=__name__)
BAD_REGEX = Code(
    "E404", "invalid-regex",
    "a `matches` pattern that does not compile or cannot run in linear time",
    owner=__name__)
BAD_PERCENT = Code(
    "E405", "percent-out-of-range", "a share or rate outside 0% to 100%",
    owner=__name__)
NOT_POSITIVE = Code(
    "E406", "not-positive", "a count or duration that must be above zero",
    owner=__name__)
WRONG_CONSEQUENCE = Code(
    "E407", "wrong-consequence", "`breach` used for a goal or `miss` for a lead clause",
    owner=__name__)
DUPLICATE_CLAUSE = Code(
    "E408", "duplicate-clause", "the same clause twice in one block",
    owner=__name__)
NEVER_APPLIES = Code(
    "W501", "consequence-never-applies", "a consequence or metric of a clause no handoff has",
    owner=__name__, doc="docs/rules/W501.md")
UNMEASURED_REPORT = Code(
    "W513", "unmeasured-report", "a trigger on a `report` commitment, which no history records",
    owner=__name__, doc="docs/rules/W513.md")
UNDELIVERABLE = Code(
    "W514", "undeliverable-commitment",
    "a delivery commitment whose giver hands no lead to its receiver",
    owner=__name__, doc="docs/rules/W514.md")
UNBREACHED_SPACING = Code(
    "W515", "unbreached-spacing", "a consequence or trigger on `spacing`, which no lead breaches",
    owner=__name__, doc="docs/rules/W515.md")
CODES = (
    BAD_UNIT, DUPLICATE_HANDOFF, WARN_RANGE, BAD_WEIGHT, DUPLICATE_REP, BAD_REGEX, BAD_PERCENT,
    NOT_POSITIVE, WRONG_CONSEQUENCE, DUPLICATE_CLAUSE, NEVER_APPLIES, UNMEASURED_REPORT,
    UNDELIVERABLE, UNBREACHED_SPACING,
)


_ONCE_PER_HANDOFF = {
    "when": "when", "round_robin": "assign", "owner": "assign", "first_touch": "first touch",
    "touches": "touches", "spacing": "spacing", "disposition": "disposition",
}
_LEAD_ACTIONS = (m.Warn, m.Reassign, m.Strike)
_PERIOD_ACTIONS = (m.Grace, m.CreditShare, m.CreditAmount)
_DAYS_PER_UNIT = {"minute": 1 / 1440, "hour": 1 / 24, "day": 1, "week": 7, "month": 30.5,
                  "quarter": 91.5, "year": 366}
LONGEST_DAYS = 3660


def duration_days(duration: m.Duration) -> float:
    """An upper bound in calendar days, to keep later arithmetic away from absurd inputs."""
    business_stretch = 3 if duration.business else 1  # a business hour can span a night
    return duration.amount * _DAYS_PER_UNIT[duration.unit] * business_stretch


def duration_is_usable(duration: m.Duration) -> bool:
    return duration.amount > 0 and duration_days(duration) <= LONGEST_DAYS


def _check_durations(policy: m.Policy, reporter: Reporter) -> None:
    compared = {id(n.value) for _, n in policy.nodes_of(m.Compare, m.MetricCompare)}
    for _, node in policy.nodes_of(m.Duration):
        if node.amount <= 0 and id(node) not in compared:
            reporter.error(NOT_POSITIVE, node.span, "a duration must be longer than zero")
        elif duration_days(node) > LONGEST_DAYS:
            reporter.error(NOT_POSITIVE, node.span,
                           "a duration may be at most ten years", "check the number and unit")
        elif node.unit not in ("minute", "hour") and not float(node.amount).is_integer():
            reporter.error(BAD_UNIT, node.span,
                           f"{node.unit}s are counted in whole numbers",
                           "use a smaller unit, such as hours instead of days")


# The most touches a cadence may ask for: a touch plan is played lead by lead, in the checker,
# the evaluator and the simulator, so the count bounds their work (docs/limits.md).
MOST_TOUCHES = 1000


def _whole_positive(number: m.Number, what: str, reporter: Reporter,
                    allow_zero: bool = False, most: int | None = None) -> None:
    value = number.value
    if isinstance(value, float) and not value.is_integer():
        reporter.error(NOT_POSITIVE, number.span, f"{what} must be a whole number")
    elif value < 0 or (value == 0 and not allow_zero):
        reporter.error(NOT_POSITIVE, number.span,
                       f"{what} must be {'zero or more' if allow_zero else 'at least 1'}")
    elif most is not None and value > most:
        reporter.error(NOT_POSITIVE, number.span, f"{what} may be at most {most:,}",
                       "check the number")


def _percent_in_range(percent: m.Percent, what: str, reporter: Reporter,
                      code: Code = BAD_PERCENT, allow_zero: bool = False) -> None:
    if allow_zero and 0 <= percent.value <= 100:
        return
    if not 0 < percent.value <= 100:
        lowest = "0% or more" if allow_zero else "above 0%"
        reporter.error(code, percent.span, f"{what} must be {lowest} and at most 100%, "
                                           f"not {percent.value}%")


def _check_regexes(policy: m.Policy, reporter: Reporter) -> None:
    """Python's syntax, run by RE2 (`sla_dsl.language.patterns`): a pattern must compile under
    both."""
    for _, node in policy.nodes_of(m.PatternMatch):
        try:
            python_compiles(node.pattern.value)
        except re.error as error:
            reporter.error(BAD_REGEX, _pattern_span(node.pattern, error.pos or 0),
                           f"the pattern does not compile: {error.msg}",
                           "patterns use Python regular expression syntax")
            continue
        except RecursionError:  # `re` parses groups by recursion: thousands deep is a crash
            reporter.error(BAD_REGEX, node.pattern.span,
                           "the pattern nests its groups too deep to compile",
                           "a pattern nests a few groups at most")
            continue
        except OverflowError:  # a repeat count past what `re` can hold, such as a{99999999999}
            reporter.error(BAD_REGEX, node.pattern.span,
                           "the pattern repeats something more times than can be counted",
                           "a counted repeat may be at most {1000}")
            continue
        refused = unsupported(node.pattern.value)
        if refused is not None:
            reporter.error(BAD_REGEX, _pattern_span(node.pattern, refused.offset),
                           refused.problem, refused.fix)


def _pattern_span(pattern: m.Text, offset: int) -> m.Span:
    """The character `offset` characters into a pattern (as written: backslashes are kept)."""
    column = pattern.span.column + 1 + offset
    return m.Span(line=pattern.span.line, column=column, end_line=pattern.span.line,
                  end_column=column + 1)


def _check_handoff(handoff: m.Handoff, reporter: Reporter) -> None:
    seen: dict[str, m.Node] = {}
    for item in handoff.items:
        clause = _ONCE_PER_HANDOFF.get(item.kind)
        if clause is not None:
            if clause in seen:
                reporter.error(DUPLICATE_CLAUSE, item.span,
                               f"handoff '{handoff.label}' has '{clause}' twice",
                               "keep one of them",
                               notes=(f"the first is on line {seen[clause].span.line}",))
            else:
                seen[clause] = item
        if isinstance(item, m.RoundRobin):
            _check_weights(item, reporter)
            if item.cap is not None:
                _whole_positive(item.cap.count, "a cap", reporter)
            if item.open_cap is not None:
                _whole_positive(item.open_cap, "a cap on open leads", reporter)
        elif isinstance(item, m.Touches):
            _whole_positive(item.count, "the number of touches", reporter, most=MOST_TOUCHES)
    if handoff.receiver is None and handoff.items:
        reporter.error(WRONG_KIND, handoff.items[0].span,
                       f"handoff '{handoff.label}' goes to nobody, so nothing in it can be met",
                       "remove the block, or name the party that receives these leads")


def _check_weights(assign: m.RoundRobin, reporter: Reporter) -> None:
    reps: dict[str, m.Weight] = {}
    for weight in assign.weights:
        if weight.weight.value <= 0:
            reporter.error(BAD_WEIGHT, weight.weight.span,
                           f"weight of '{weight.rep.value}' is {weight.weight.value}; "
                           "a weight must be above zero",
                           "leave the rep out of the list to give them no leads")
        if weight.rep.value in reps:
            reporter.error(DUPLICATE_REP, weight.rep.span,
                           f"'{weight.rep.value}' is named twice in the weights",
                           f"give '{weight.rep.value}' one weight",
                           notes=(f"first weight: {reps[weight.rep.value].weight.value}",))
        else:
            reps[weight.rep.value] = weight


_CLAUSE_ITEMS = {"first touch": "first_touch", "touches": "touches", "disposition": "disposition",
                 "spacing": "spacing", "threshold": "when"}


def clause_in_policy(policy: m.Policy, clause: str, scope: str | None = None) -> bool:
    """Whether any handoff (or the one named) has the clause, or any commitment the goal."""
    if clause in _CLAUSE_ITEMS:
        handoffs = policy.handoffs if scope is None else policy.handoffs_by_label.get(scope, [])
        return any(h.receiver is not None and h.item(_CLAUSE_ITEMS[clause]) for h in handoffs)
    if clause == "goal":
        return bool(policy.goals)
    wanted = (m.Report,) if clause == "report" else (m.DeliverCount, m.DeliverMoney)
    return any(isinstance(i, wanted) for c in policy.commitments for i in c.items)


def _check_applies(consequence: m.Consequence, policy: m.Policy, reporter: Reporter) -> None:
    clause, label = consequence.clause.name, consequence.scope_label
    if label is not None and clause in m.PERIOD_CLAUSES:
        span = consequence.scope.span if consequence.scope else consequence.clause.span
        reporter.error(WRONG_CONSEQUENCE, span,
                       f"'{clause}' is a commitment, not part of a handoff; "
                       "'in' names a handoff for lead clauses only",
                       f"write 'on miss of {clause}' without 'in {label}'")
    elif not clause_in_policy(policy, clause, label):
        where = f"handoff '{label}'" if label else "this policy"
        reporter.warning(NEVER_APPLIES, consequence.clause.span,
                         f"'{clause}' is not a clause of {where}, so this never applies",
                         f"add a '{clause}' clause, or remove this block")
    elif clause == "spacing":
        _warn_unbreached_spacing(consequence.clause, "this block never applies", reporter)


def _check_consequence(consequence: m.Consequence, reporter: Reporter) -> None:
    clause = consequence.clause.name
    if consequence.trigger == "breach" and clause in m.PERIOD_CLAUSES:
        reporter.error(WRONG_CONSEQUENCE, consequence.clause.span,
                       f"'{clause}' is a goal for a period: it is missed, not breached",
                       f"write 'on miss of {clause}'")
    elif consequence.trigger == "miss" and clause in m.LEAD_CLAUSES:
        reporter.error(WRONG_CONSEQUENCE, consequence.clause.span,
                       f"'{clause}' is kept or breached lead by lead, not missed",
                       f"write 'on breach of {clause}'")
    for action in consequence.actions:
        if consequence.trigger == "miss" and isinstance(action, _LEAD_ACTIONS):
            reporter.error(WRONG_CONSEQUENCE, action.span,
                           f"'{action.kind}' acts on a lead; a missed goal has no single lead",
                           "use escalate, grace or credit here")
        elif consequence.trigger == "breach" and isinstance(action, _PERIOD_ACTIONS):
            word = "grace" if isinstance(action, m.Grace) else "credit"
            reporter.error(WRONG_CONSEQUENCE, action.span,
                           f"'{word}' applies to goals missed over a period, "
                           "not to a breach on one lead",
                           "move it into an 'on miss of ...' block")
        elif isinstance(action, m.Warn):
            _percent_in_range(action.at, "'warn at'", reporter, WARN_RANGE)
        elif isinstance(action, m.CreditShare):
            _percent_in_range(action.percent, "a credit", reporter)
        elif isinstance(action, m.Grace):
            _whole_positive(action.count, "the grace", reporter, allow_zero=True)
            _period_unit(action.unit, action.span, "grace", reporter)


def _period_unit(unit: str, span: m.Span, what: str, reporter: Reporter) -> None:
    if unit in ("minute", "hour"):
        reporter.error(BAD_UNIT, span, f"{what} is counted in days, weeks, months, "
                                             f"quarters or years, not {unit}s")


_METRIC_VALUES = {"rate": "percent", "attainment": "percent"}
_TIMED_CLAUSES = frozenset({"first touch", "touches", "disposition"})


def _expected_metric_value(metric: m.Metric) -> str:
    if isinstance(metric, m.StatisticMetric):
        return "number" if metric.clause.name == "touches" else "duration"
    return _METRIC_VALUES[metric.kind]


def _periods(policy: m.Policy, clause: str) -> set[str]:
    if clause == "goal":
        return {g.per for g in policy.goals}
    return {item.per for c in policy.commitments for item in c.items
            if isinstance(item, (m.DeliverCount, m.DeliverMoney))}


def _check_trigger(trigger: m.Trigger, policy: m.Policy, reporter: Reporter) -> None:
    for node in m.walk_trigger(trigger):
        if isinstance(node, m.Missed):
            _whole_positive(node.count, "the count", reporter)
            if node.clause.name in m.LEAD_CLAUSES:
                reporter.error(WRONG_CONSEQUENCE, node.clause.span,
                               f"'{node.clause.name}' is breached lead by lead, not missed "
                               "in a period", "use 'attainment of ...' to count how often it holds")
                continue
            if node.clause.name == "report":
                _warn_unmeasured_report(node.clause, reporter)
                continue
            periods = _periods(policy, node.clause.name)
            if periods and node.unit not in periods:
                per = " or ".join(sorted(periods))
                reporter.error(BAD_UNIT, node.span,
                               f"'{node.clause.name}' is measured per {per}, so it is missed in "
                               f"{per}s, not {node.unit}s", f"count {per}s")
        elif isinstance(node, m.MissedCount):
            _whole_positive(node.count, "the count", reporter)
            if node.clause.name in m.PERIOD_CLAUSES:
                reporter.error(WRONG_CONSEQUENCE, node.clause.span,
                               f"'{node.clause.name}' is missed period by period, not breached "
                               "lead by lead", f"count its misses in a row: '{node.clause.name} "
                               f"missed {number_text(node.count.value)} {node.per}s in a row'")
            elif not clause_in_policy(policy, node.clause.name):
                reporter.warning(NEVER_APPLIES, node.clause.span,
                                 f"no handoff has '{node.clause.name}', so this trigger never "
                                 "fires", f"add a '{node.clause.name}' clause")
            elif node.clause.name == "spacing":
                _warn_unbreached_spacing(node.clause, "this part of the trigger never fires",
                                         reporter)
        elif isinstance(node, m.MetricCompare):
            expected = _expected_metric_value(node.metric)
            if node.value.kind == expected == "percent":
                _percent_in_range(node.value, f"a {node.metric.kind}", reporter, allow_zero=True)
            if node.value.kind != expected:
                reporter.error(BAD_VALUE, node.value.span,
                               f"this {node.metric.kind} is compared with a {expected}, "
                               f"not a {node.value.kind}",
                               {"percent": "write it as a percentage, such as 30%",
                                "duration": "write a duration, such as 2 days",
                                "number": "write a number of touches, such as 4"}[expected])
            clause = getattr(node.metric, "clause", None)
            if isinstance(node.metric, m.StatisticMetric) and clause.name not in _TIMED_CLAUSES:
                reporter.error(WRONG_CONSEQUENCE, clause.span,
                               f"'{node.metric.statistic} {clause.name}' has no "
                               "meaning; statistics are of first touch, touches or disposition")
            elif clause is not None and not clause_in_policy(policy, clause.name):
                reporter.warning(NEVER_APPLIES, clause.span,
                                 f"no handoff or commitment has '{clause.name}', so this "
                                 "trigger never fires", f"add a '{clause.name}' clause")
            elif clause is not None and clause.name == "report":
                _warn_unmeasured_report(clause, reporter)
            elif clause is not None and clause.name == "spacing":
                _warn_unbreached_spacing(clause, "this part of the trigger never fires",
                                         reporter)


def _warn_unbreached_spacing(clause: m.Clause, never: str, reporter: Reporter) -> None:
    """`spacing at least D` is how touches are counted (attempts closer together count as
    one), not a clock a lead keeps or breaches: a block or trigger on it reads no breach,
    while `sla explain` promised the parties its strike."""
    reporter.warning(UNBREACHED_SPACING, clause.span,
                     "'spacing' says how touches are counted (attempts closer together count "
                     f"as one touch) and is never breached, so {never}",
                     "act on 'touches', which counts only attempts spaced as agreed")


def _warn_unmeasured_report(clause: m.Clause, reporter: Reporter) -> None:
    """A `report` is promised in the agreement, but no history has an event for a report
    made: a trigger on it would read nothing and never fire, while the report said so only in
    a reading nobody asked for."""
    reporter.warning(UNMEASURED_REPORT, clause.span,
                     "no history records whether a report was made, so 'sla evaluate' "
                     "cannot measure it and this part of the trigger never fires",
                     "remove this part of the trigger; the report stays promised in the "
                     "agreement, for the people who sign it to follow up")


def _check_deliverable(commitment: m.Commitment, policy: m.Policy, reporter: Reporter) -> None:
    """A lead-count (or lead-value) commitment is counted on the leads its giver hands to its
    receiver: with no handoff block from one to the other it is never delivered, and every
    period would be charged as missed for a promise nobody could keep (New Breed's sales,
    which hands nothing back, promising marketing 28 opportunities a month). `sla evaluate`
    lists it as not measured instead."""
    giver, receiver = commitment.giver.value, commitment.receiver.value
    declared = {party.name.value for party in policy.parties}
    if policy.hands_off(giver, receiver) or not {giver, receiver} <= declared:
        return  # an undeclared party is E203 already: a misspelling, not a missing handoff
    for item in commitment.handed_items:
        reporter.warning(
            UNDELIVERABLE, item.span,
            f"{giver} hands no lead to {receiver}: no handoff block is 'from {giver} to "
            f"{receiver}', so 'sla evaluate' counts nothing delivered by this commitment and "
            "does not measure it",
            f"add the handoff from {giver} to {receiver} this commitment counts, make it a "
            "commitment of the party that hands these leads over, or a trigger on the rate it "
            f"stands for (`review when rate ... < N%`)")


def _check_amounts(statement: m.Statement, reporter: Reporter) -> None:
    if isinstance(statement, m.Commitment):
        for item in statement.items:
            if isinstance(item, m.DeliverCount):
                _whole_positive(item.count, "the number delivered", reporter)
            elif isinstance(item, m.DeliverMoney) and item.amount.amount <= 0:
                reporter.error(NOT_POSITIVE, item.amount.span, "the amount must be above 0")
    elif isinstance(statement, m.RevenueGoal):
        shares = [i for i in statement.items if isinstance(i, m.Share)]
        if sum(s.percent.value for s in shares) > 100:
            reporter.error(BAD_PERCENT, shares[-1].percent.span,
                           "the parties' shares of the goal add up to more than 100%",
                           "the shares split one goal; make them add up to 100% at most")
        if statement.amount.amount <= 0:
            reporter.error(NOT_POSITIVE, statement.amount.span, "the goal must be above 0")
        for item in statement.items:
            if isinstance(item, m.Share):
                _percent_in_range(item.percent, "a share", reporter)
            elif isinstance(item, m.CloseRate):
                _percent_in_range(item.percent, "a close rate", reporter)
            elif item.amount.amount <= 0:
                reporter.error(NOT_POSITIVE, item.amount.span, "a deal size must be above 0")
    elif isinstance(statement, m.LeadValue) and statement.amount.amount < 0:
        reporter.error(NOT_POSITIVE, statement.amount.span, "a lead value cannot be negative")
    elif isinstance(statement, m.StrikeRule):
        _whole_positive(statement.count, "the number of strikes", reporter)
    elif isinstance(statement, m.ReviewEvery):
        # at most ten years, as a duration: reviews are dated from the agreement's start
        most = max(1, int(LONGEST_DAYS // _DAYS_PER_UNIT.get(statement.unit, 1)))
        _whole_positive(statement.count, f"the review interval in {statement.unit}s", reporter,
                        most=most if statement.unit not in ("minute", "hour") else None)
        _period_unit(statement.unit, statement.span, "a review interval", reporter)


def check_clauses(policy: m.Policy, reporter: Reporter) -> None:
    _check_durations(policy, reporter)
    _check_regexes(policy, reporter)
    targets: dict[str, m.Handoff] = {}
    for statement in policy.statements:
        _check_amounts(statement, reporter)
        if isinstance(statement, m.Handoff):
            _check_handoff(statement, reporter)
            first = targets.get(statement.label)
            if first is not None:
                reporter.error(DUPLICATE_HANDOFF, statement.span,
                               f"two handoffs apply to '{statement.label}'",
                               "merge them into one block",
                               notes=(f"the first is on line {first.span.line}",))
            else:
                targets[statement.label] = statement
        elif isinstance(statement, m.Consequence):
            _check_consequence(statement, reporter)
            _check_applies(statement, policy, reporter)
        elif isinstance(statement, (m.Cancel, m.ReviewWhen)):
            _check_trigger(statement.when, policy, reporter)
        elif isinstance(statement, m.Commitment):
            _check_deliverable(statement, policy, reporter)
