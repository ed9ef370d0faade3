"""The typed `Policy` model that every later stage reads.

The model keeps statements in source order (a discriminated union on `kind`) so that the
formatter can print a policy back without reordering it and the checker can see duplicates;
the accessors on `Policy` give the evaluator, planner and simulator the grouped views they need.
Every node carries the `Span` it came from so any stage can point back at the source.
"""

from __future__ import annotations

import datetime as dt
from functools import cached_property
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from sla_dsl.diagnostics.span import Span


class Node(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    span: Span


# The days the product reasons about: a policy's dates, a scenario's start, a history's
# instants. Wide enough for any CRM's records and any deadline ten years past them, narrow
# enough that every table built over the span of a history (offsets, open time) stays small: a
# row dated 9999 would otherwise have business-time tables built out to it, and one dated 0001
# overflow `datetime` (docs/limits.md).
FIRST_DAY = dt.date(1900, 1, 1)
LAST_DAY = dt.date(2200, 12, 31)

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
TimeUnit = Literal["minute", "hour", "day", "week", "month", "quarter", "year"]
Period = Literal["day", "week", "month", "quarter", "year"]
CompareOp = Literal["==", "!=", "<", "<=", ">", ">="]
DefinitionCategory = Literal["persona", "stage", "fit", "interest", "segment"]
ClauseName = Literal[
    "first touch", "touches", "disposition", "threshold", "spacing", "deliver", "report", "goal"
]
LEAD_CLAUSES: frozenset[str] = frozenset(
    {"first touch", "touches", "disposition", "threshold", "spacing"}
)
PERIOD_CLAUSES: frozenset[str] = frozenset({"deliver", "report", "goal"})


class Name(Node):
    """An identifier as written: a declaration or a reference to one."""

    value: str


# ---------------------------------------------------------------- literal values


class Number(Node):
    kind: Literal["number"] = "number"
    value: int | float


class Text(Node):
    kind: Literal["string"] = "string"
    value: str


class Percent(Node):
    kind: Literal["percent"] = "percent"
    value: int | float


class DateValue(Node):
    kind: Literal["date"] = "date"
    value: dt.date


class Boolean(Node):
    kind: Literal["bool"] = "bool"
    value: bool


class Duration(Node):
    """`N [business] unit [on calendar NAME]`; business time is counted on a calendar."""

    kind: Literal["duration"] = "duration"
    amount: int | float
    unit: TimeUnit
    business: bool = False
    calendar: Name | None = None


Value = Annotated[
    Number | Text | Percent | DateValue | Boolean | Duration, Field(discriminator="kind")
]


class Money(Node):
    amount: int | float
    currency: str


# ---------------------------------------------------------------- expressions over lead fields


class Compare(Node):
    kind: Literal["compare"] = "compare"
    field: Name
    op: CompareOp
    value: Value


class Membership(Node):
    kind: Literal["in"] = "in"
    field: Name
    values: list[Value]
    negated: bool = False


class PatternMatch(Node):
    kind: Literal["matches"] = "matches"
    field: Name
    pattern: Text


class Presence(Node):
    kind: Literal["is_set"] = "is_set"
    field: Name
    negated: bool = False


class Ref(Node):
    """A bare name: a definition when one has that name, otherwise a true-valued field."""

    kind: Literal["ref"] = "ref"
    name: Name


class FitRef(Node):
    kind: Literal["fit"] = "fit"
    name: Name


class InterestRef(Node):
    kind: Literal["interest"] = "interest"
    name: Name


class Not(Node):
    kind: Literal["not"] = "not"
    operand: Expr


class All(Node):
    kind: Literal["and"] = "and"
    operands: list[Expr]


class AnyOf(Node):
    kind: Literal["or"] = "or"
    operands: list[Expr]


Expr = Annotated[
    Compare | Membership | PatternMatch | Presence | Ref | FitRef | InterestRef | Not | All | AnyOf,
    Field(discriminator="kind"),
]

# ---------------------------------------------------------------- header


class Title(Node):
    kind: Literal["sla"] = "sla"
    text: Text


class Version(Node):
    kind: Literal["version"] = "version"
    text: Text


class Timezone(Node):
    kind: Literal["timezone"] = "timezone"
    zone: Text


class Effective(Node):
    kind: Literal["effective"] = "effective"
    start: DateValue
    until: DateValue | None = None


class Party(Node):
    kind: Literal["party"] = "party"
    name: Name
    contacts: list[Text] = []


# ---------------------------------------------------------------- calendars


class DayRange(Node):
    first: Weekday
    last: Weekday

    @property
    def weekdays(self) -> list[int]:
        """Monday = 0; `fri-mon` wraps around the week, as a reader of the policy expects."""
        start, stop = WEEKDAYS.index(self.first), WEEKDAYS.index(self.last)
        return [(start + k) % 7 for k in range((stop - start) % 7 + 1)]


class HourRange(Node):
    """Minutes after local midnight; `end` may be 1440 (`24:00`)."""

    start: int
    end: int


class OpenHours(Node):
    kind: Literal["open"] = "open"
    days: list[DayRange]
    hours: list[HourRange]


class DateRange(Node):
    first: dt.date
    last: dt.date


class ClosedDates(Node):
    kind: Literal["closed"] = "closed"
    dates: list[DateRange]


class OpenDates(Node):
    """Dates a closed date or a holiday set would close, open their weekday's usual hours."""

    kind: Literal["open dates"] = "open dates"
    dates: list[DateRange]


class ClosedHolidays(Node):
    """`closed holidays "US", "US-CA"`: each region's public holidays, every year, the days
    they are observed on included; which days they are is `business_time.holiday_sets`'."""

    kind: Literal["holidays"] = "holidays"
    regions: list[Text]


CalendarItem = Annotated[OpenHours | ClosedDates | OpenDates | ClosedHolidays,
                         Field(discriminator="kind")]


class Calendar(Node):
    """Open hours; read in the policy's timezone unless the calendar names its own."""

    kind: Literal["calendar"] = "calendar"
    name: Name
    timezone: Text | None = None
    items: list[CalendarItem] = []


# ---------------------------------------------------------------- definitions


class Definition(Node):
    kind: Literal["definition"] = "definition"
    category: DefinitionCategory
    name: Name
    when: Expr


# ---------------------------------------------------------------- handoffs


class Threshold(Node):
    kind: Literal["when"] = "when"
    condition: Expr


class Weight(Node):
    rep: Text
    weight: Number


class Cap(Node):
    count: Number
    per: Period


class RoundRobin(Node):
    kind: Literal["round_robin"] = "round_robin"
    team: Text
    weights: list[Weight] = []
    cap: Cap | None = None
    open_cap: Number | None = None  # `cap N open leads`: the most one rep holds open at once


class FixedOwner(Node):
    kind: Literal["owner"] = "owner"
    owner: Text


class FirstTouch(Node):
    kind: Literal["first_touch"] = "first_touch"
    within: Duration


class Touches(Node):
    kind: Literal["touches"] = "touches"
    count: Number
    within: Duration
    until_connected: bool = False


class Spacing(Node):
    kind: Literal["spacing"] = "spacing"
    at_least: Duration


class Disposition(Node):
    kind: Literal["disposition"] = "disposition"
    within: Duration


class Pause(Node):
    kind: Literal["pause"] = "pause"
    condition: Expr


class OwnerAbsent(Node):
    """`when owner absent pause|run`: whether the block's clocks run while the lead's owner is
    absent (an absences file names the spans); `run`, the default, leaves it to the manager."""

    kind: Literal["owner_absent"] = "owner_absent"
    mode: Literal["pause", "run"] = "run"
    who: str = "owner"  # the word before `absent`: only `owner` means anything (E421)


class OwnerHours(Node):
    """`clocks run on owner hours`: the block's business time is counted on the lead's
    owner's own timezone and working hours (a reps file names them), the calendar's closed
    dates and holidays still closed; an owner the file does not know keeps the calendar's."""

    kind: Literal["owner_hours"] = "owner_hours"
    who: str = "owner"  # the word before `hours`: only `owner` means anything (E422)


class Rehandoff(Node):
    """`restart on re-handoff` (the default) or `no restart on re-handoff`: whether a handoff
    after a rejection, a loss or a return to nurture starts a new round of the block's clocks."""

    kind: Literal["rehandoff"] = "rehandoff"
    restart: bool = True


ReassignMode = Literal["continue", "restart", "split"]
REASSIGN_CLAUSES = ("first touch", "touches", "disposition")


class OnReassign(Node):
    """`on reassign continue|restart|split [for CLAUSE, ...]`: what a reassignment does to a
    running clock; without `for`, to every timed clause of the block."""

    kind: Literal["on_reassign"] = "on_reassign"
    mode: ReassignMode
    clauses: list[Clause] = []


HandoffItem = Annotated[
    Threshold | RoundRobin | FixedOwner | FirstTouch | Touches | Spacing | Disposition | Pause
    | OwnerAbsent | OwnerHours | Rehandoff | OnReassign,
    Field(discriminator="kind"),
]


class Handoff(Node):
    """`handoff TARGET [from PARTY] to PARTY|nobody`; `target` None means every lead."""

    kind: Literal["handoff"] = "handoff"
    target: Name | None
    sender: Name | None = None
    receiver: Name | None
    items: list[HandoffItem] = []

    @property
    def label(self) -> str:
        return self.target.value if self.target else "every lead"

    def item(self, kind: str) -> HandoffItem | None:
        return next((i for i in self.items if i.kind == kind), None)

    @property
    def restarts(self) -> bool:
        """Whether a re-handoff after a rejection, a loss or a return to nurture starts a new
        round of this block's clocks (`restart on re-handoff`, the default)."""
        item = self.item("rehandoff")
        return not isinstance(item, Rehandoff) or item.restart

    @property
    def pauses_for_absence(self) -> bool:
        """Whether the block's clocks stop while the lead's owner is absent
        (`when owner absent pause`); without the line, they run."""
        item = self.item("owner_absent")
        return isinstance(item, OwnerAbsent) and item.mode == "pause"

    @property
    def on_owner_hours(self) -> bool:
        """Whether the block's clocks count business time on the owner's own hours
        (`clocks run on owner hours`); without the line, on the calendar's."""
        return isinstance(self.item("owner_hours"), OwnerHours)

    def on_reassign(self, clause: str) -> ReassignMode:
        """What a reassignment does to one clause's clock: the `on reassign` line naming the
        clause, else the one naming none, else `continue`."""
        rules = [i for i in self.items if isinstance(i, OnReassign)]
        named = [r for r in rules if clause in {c.name for c in r.clauses}]
        general = [r for r in rules if not r.clauses]
        chosen = (named or general or [None])[0]
        return "continue" if chosen is None else chosen.mode

    @property
    def team(self) -> str | None:
        """Who works these leads: the round-robin team, else the team named after the
        receiving party (so a scenario staffs `[team.sales]` for `to sales`)."""
        assign = self.item("round_robin")
        if isinstance(assign, RoundRobin):
            return assign.team.value
        return self.receiver.value if self.receiver else None


# ---------------------------------------------------------------- commitments and goals


class DeliverCount(Node):
    kind: Literal["deliver_count"] = "deliver_count"
    count: Number
    what: Name
    per: Period


class DeliverMoney(Node):
    kind: Literal["deliver_money"] = "deliver_money"
    amount: Money
    measure: Literal["lead value", "revenue"]
    per: Period


class Report(Node):
    kind: Literal["report"] = "report"
    subject: str
    quoted: bool
    cadence: Literal["daily", "weekly", "monthly", "quarterly", "yearly"]


CommitmentItem = Annotated[DeliverCount | DeliverMoney | Report, Field(discriminator="kind")]


class Commitment(Node):
    kind: Literal["commit"] = "commit"
    giver: Name
    receiver: Name
    items: list[CommitmentItem] = []

    @property
    def handed_items(self) -> list[DeliverCount | DeliverMoney]:
        """The items counted on leads handed off (`deliver at least N X`, `... of lead
        value`): the giver delivers them only by handing leads to the receiver. A report is
        not measured, and revenue is credited by the attribution, not by a handoff."""
        return [i for i in self.items if isinstance(i, DeliverCount)
                or (isinstance(i, DeliverMoney) and i.measure == "lead value")]


class LeadValue(Node):
    """`value [PERSONA] AMOUNT`: first matching persona wins, no persona is the default."""

    kind: Literal["value"] = "value"
    persona: Name | None = None
    amount: Money


ShareReading = Literal["sourced", "attributed"]


class Share(Node):
    """`PARTY share P% [sourced | attributed]`. A bare share is sourced, as in the seed's
    arithmetic (quota x % of revenue from marketing-generated leads): the revenue of won deals
    whose leads the party generated. `attributed` counts what the `attribution` model credits
    the party instead. `reading` is the word as written (None when bare), so that `sla fmt`
    keeps the line as its author wrote it; `measure` is what it means."""

    kind: Literal["share"] = "share"
    party: Name
    percent: Percent
    reading: ShareReading | None = None

    @property
    def measure(self) -> ShareReading:
        return self.reading or "sourced"


class DealSize(Node):
    kind: Literal["deal_size"] = "deal_size"
    amount: Money


class CloseRate(Node):
    kind: Literal["close_rate"] = "close_rate"
    percent: Percent


GoalItem = Annotated[Share | DealSize | CloseRate, Field(discriminator="kind")]


class RevenueGoal(Node):
    kind: Literal["goal"] = "goal"
    amount: Money
    per: Period
    items: list[GoalItem] = []

    @property
    def shares(self) -> list[Share]:
        return [i for i in self.items if isinstance(i, Share)]


class Attribution(Node):
    kind: Literal["attribution"] = "attribution"
    model: Literal["first touch", "last touch", "linear", "time decay"]
    half_life: Duration | None = None


# ---------------------------------------------------------------- consequences


class Clause(Node):
    name: ClauseName


class Warn(Node):
    kind: Literal["warn"] = "warn"
    at: Percent


class Escalate(Node):
    kind: Literal["escalate"] = "escalate"
    to: Text
    after: Duration | None = None


class Reassign(Node):
    kind: Literal["reassign"] = "reassign"
    after: Duration | None = None


class Strike(Node):
    kind: Literal["strike"] = "strike"


class Grace(Node):
    kind: Literal["grace"] = "grace"
    count: Number
    unit: TimeUnit


class CreditShare(Node):
    kind: Literal["credit_share"] = "credit_share"
    percent: Percent
    of: str


class CreditAmount(Node):
    kind: Literal["credit_amount"] = "credit_amount"
    amount: Money


Action = Annotated[
    Warn | Escalate | Reassign | Strike | Grace | CreditShare | CreditAmount,
    Field(discriminator="kind"),
]


class Consequence(Node):
    """`on breach|miss of CLAUSE [in HANDOFF] { actions }`; `in every lead` is `every_lead`."""

    kind: Literal["on"] = "on"
    trigger: Literal["breach", "miss"]
    clause: Clause
    scope: Name | None = None
    every_lead: bool = False
    actions: list[Action] = []

    @property
    def scope_label(self) -> str | None:
        """The label of the handoff this applies to, as `Handoff.label` gives it."""
        return "every lead" if self.every_lead else (self.scope.value if self.scope else None)


class StrikeRule(Node):
    kind: Literal["strikes"] = "strikes"
    count: Number
    per: Period
    then: Literal["review", "cancel", "escalate"]
    escalate_to: Text | None = None


class RateMetric(Node):
    kind: Literal["rate"] = "rate"
    source: Name
    target: Name


class StatisticMetric(Node):
    kind: Literal["statistic"] = "statistic"
    statistic: Literal["mean", "median", "p90"]
    clause: Clause


class AttainmentMetric(Node):
    kind: Literal["attainment"] = "attainment"
    clause: Clause


Metric = Annotated[
    RateMetric | StatisticMetric | AttainmentMetric, Field(discriminator="kind")
]


class Missed(Node):
    kind: Literal["missed"] = "missed"
    clause: Clause
    count: Number
    unit: TimeUnit


class MissedCount(Node):
    """`CLAUSE missed N times per PERIOD [by PARTY | by team "T"]`: a lead clause breached N
    times within one period, counted for a whole party, one team, or (without `by`) everyone."""

    kind: Literal["missed_count"] = "missed_count"
    clause: Clause
    count: Number
    per: Period
    party: Name | None = None
    team: Text | None = None


class MetricCompare(Node):
    kind: Literal["metric"] = "metric"
    metric: Metric
    op: CompareOp
    value: Value


class AnyTrigger(Node):
    kind: Literal["or"] = "or"
    operands: list[Trigger]


class AllTriggers(Node):
    kind: Literal["and"] = "and"
    operands: list[Trigger]


Trigger = Annotated[
    Missed | MissedCount | MetricCompare | AnyTrigger | AllTriggers, Field(discriminator="kind")
]


class Cancel(Node):
    kind: Literal["cancel"] = "cancel"
    when: Trigger


class ReviewEvery(Node):
    kind: Literal["review_every"] = "review_every"
    count: Number
    unit: TimeUnit


class ReviewWhen(Node):
    kind: Literal["review_when"] = "review_when"
    when: Trigger


Statement = Annotated[
    Title | Version | Timezone | Effective | Party | Calendar | Definition | Handoff
    | Commitment | LeadValue | RevenueGoal | Attribution | Consequence | StrikeRule | Cancel
    | ReviewEvery | ReviewWhen,
    Field(discriminator="kind"),
]


class Policy(Node):
    """A whole `.sla` file: its statements in source order."""

    statements: list[Statement] = []

    @cached_property
    def _by_kind(self) -> dict[str, list]:
        grouped: dict[str, list] = {}
        for statement in self.statements:
            grouped.setdefault(statement.kind, []).append(statement)
        return grouped

    def _of(self, cls: type) -> list:
        return self._by_kind.get(cls.model_fields["kind"].default, [])

    def _first(self, cls: type):
        found = self._of(cls)
        return found[0] if found else None

    @cached_property
    def title(self) -> str | None:
        node = self._first(Title)
        return node.text.value if node else None

    @cached_property
    def timezone(self) -> str | None:
        node = self._first(Timezone)
        return node.zone.value if node else None

    @cached_property
    def effective(self) -> Effective | None:
        return self._first(Effective)

    @cached_property
    def parties(self) -> list[Party]:
        return self._of(Party)

    @cached_property
    def calendars(self) -> list[Calendar]:
        return self._of(Calendar)

    @cached_property
    def definitions(self) -> list[Definition]:
        return self._of(Definition)

    def definitions_of(self, category: DefinitionCategory) -> list[Definition]:
        return [d for d in self.definitions if d.category == category]

    @cached_property
    def handoffs(self) -> list[Handoff]:
        return self._of(Handoff)

    @cached_property
    def handoffs_by_label(self) -> dict[str, list[Handoff]]:
        """Looked up once per consequence: a scan per lookup made large policies quadratic."""
        found: dict[str, list[Handoff]] = {}
        for handoff in self.handoffs:
            found.setdefault(handoff.label, []).append(handoff)
        return found

    @cached_property
    def commitments(self) -> list[Commitment]:
        return self._of(Commitment)

    def hands_off(self, sender: str, receiver: str) -> bool:
        """Whether a handoff block may pass leads from `sender` to `receiver` (a block that
        names no sender may be anyone's): what a lead-count commitment of one to the other
        is counted on. Without one, the commitment can never be delivered."""
        return any(h.receiver is not None and h.receiver.value == receiver
                   and (h.sender is None or h.sender.value == sender) for h in self.handoffs)

    @cached_property
    def lead_values(self) -> list[LeadValue]:
        return self._of(LeadValue)

    @cached_property
    def goals(self) -> list[RevenueGoal]:
        return self._of(RevenueGoal)

    @cached_property
    def attribution(self) -> Attribution | None:
        return self._first(Attribution)

    @cached_property
    def consequences(self) -> list[Consequence]:
        return self._of(Consequence)

    @cached_property
    def strike_rules(self) -> list[StrikeRule]:
        return self._of(StrikeRule)

    @cached_property
    def cancel_triggers(self) -> list[Cancel]:
        return self._of(Cancel)

    @cached_property
    def _nodes_by_type(self) -> dict[type, list[tuple[Statement, Node]]]:
        """Every node under each statement, walked once for all the checks that look inside."""
        found: dict[type, list[tuple[Statement, Node]]] = {}
        for statement in self.statements:
            for node in walk(statement):
                found.setdefault(type(node), []).append((statement, node))
        return found

    def nodes_of(self, *classes: type) -> list[tuple[Statement, Node]]:
        """The nodes of exactly these classes, with the statement each stands in."""
        if len(classes) == 1:
            return self._nodes_by_type.get(classes[0], [])
        return [pair for cls in classes for pair in self._nodes_by_type.get(cls, [])]

    @cached_property
    def reviews(self) -> list[ReviewEvery | ReviewWhen]:
        return [s for s in self.statements if isinstance(s, ReviewEvery | ReviewWhen)]


def without_spans(data):
    """A dumped model with every `span` removed: what two policies are compared by."""
    if isinstance(data, dict):
        return {k: without_spans(v) for k, v in data.items() if k != "span"}
    if isinstance(data, list):
        return [without_spans(v) for v in data]
    return data


_CHILD_FIELDS: dict[type, tuple[str, ...]] = {}


def _child_fields(cls: type) -> tuple[str, ...]:
    """The fields of a node class that can hold nodes: spans and plain values cannot."""
    if cls not in _CHILD_FIELDS:
        _CHILD_FIELDS[cls] = tuple(
            name for name, info in cls.model_fields.items()
            if name != "span" and ("Node" in repr(info.annotation) or "list" in repr(
                info.annotation) or info.annotation not in (str, int, float, bool)))
    return _CHILD_FIELDS[cls]


def walk(node: Node):
    """Every node below `node` (itself included), in source order."""
    yield node
    for name in _child_fields(type(node)):
        value = getattr(node, name)
        if isinstance(value, Node):
            yield from walk(value)
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, Node):
                    yield from walk(item)


def walk_expr(expr: Expr):
    """Every node of a condition, parents before children."""
    yield expr
    if isinstance(expr, Not):
        yield from walk_expr(expr.operand)
    elif isinstance(expr, (All, AnyOf)):
        for operand in expr.operands:
            yield from walk_expr(operand)


def walk_trigger(trigger: Trigger):
    yield trigger
    if isinstance(trigger, (AnyTrigger, AllTriggers)):
        for operand in trigger.operands:
            yield from walk_trigger(operand)


for _model in (Not, All, AnyOf, AnyTrigger, AllTriggers, Definition, Threshold, Pause, Policy):
    _model.model_rebuild()
