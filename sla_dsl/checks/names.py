"""Names: what each name in a policy refers to, and every reference that does not resolve."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from sla_dsl.diagnostics.codes import Code
from sla_dsl.diagnostics.diagnostic import Reporter
from sla_dsl.language import model as m
from sla_dsl.language.parser import TOO_DEEP

# The codes this module reports: one owner per code (sla_dsl/diagnostics/codes.py).
UNKNOWN_NAME = Code(
    "E200", "unknown-name", "a name that is not defined",
    owner=__name__)
DUPLICATE_NAME = Code(
    "E201", "duplicate-name", "a name defined twice",
    owner=__name__)
CYCLE = Code(
    "E202", "definition-cycle", "definitions that use each other in a circle",
    owner=__name__)
UNDECLARED_PARTY = Code(
    "E203", "undeclared-party", "a party used but not declared",
    owner=__name__)
WRONG_KIND = Code(
    "E204", "wrong-kind", "a name of the wrong kind for where it is used",
    owner=__name__)
CODES = (UNKNOWN_NAME, DUPLICATE_NAME, CYCLE, UNDECLARED_PARTY, WRONG_KIND)


# Names that need no declaration: `deliver at least 100 leads per month`, `rate lead to mql`,
# `rate sql to won` (a lead with a `won` event).
BUILTIN_LEAD_NAMES = frozenset({"lead", "leads", "won"})

# `fit` and `interest` names are written with their keyword (`fit good`), so they live apart
# from the names a condition may use bare (personas, stages, segments).
BARE_CATEGORIES = ("persona", "stage", "segment")


def did_you_mean(name: str, candidates: list[str] | set[str] | dict) -> str | None:
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.75)
    return f"did you mean '{close[0]}'?" if close else None


@dataclass
class Symbols:
    """The declared names of a policy, by namespace; the first declaration of a name wins."""

    bare: dict[str, m.Definition] = field(default_factory=dict)
    fits: dict[str, m.Definition] = field(default_factory=dict)
    interests: dict[str, m.Definition] = field(default_factory=dict)
    parties: dict[str, m.Party] = field(default_factory=dict)
    calendars: dict[str, m.Calendar] = field(default_factory=dict)

    def namespace(self, category: str) -> dict[str, m.Definition]:
        if category == "fit":
            return self.fits
        if category == "interest":
            return self.interests
        return self.bare

    def kind_of(self, name: str) -> str | None:
        if name in self.bare:
            return self.bare[name].category
        if name in self.fits:
            return "fit"
        if name in self.interests:
            return "interest"
        if name in self.parties:
            return "party"
        if name in self.calendars:
            return "calendar"
        return None


def collect_symbols(policy: m.Policy, reporter: Reporter) -> Symbols:
    symbols = Symbols()
    for definition in policy.definitions:
        table = symbols.namespace(definition.category)
        _declare(table, definition.name, definition, definition.category, reporter)
    for party in policy.parties:
        _declare(symbols.parties, party.name, party, "party", reporter)
    for calendar in policy.calendars:
        _declare(symbols.calendars, calendar.name, calendar, "calendar", reporter)
    return symbols


def _declare(table: dict, name: m.Name, node: m.Node, kind: str, reporter: Reporter) -> None:
    if name.value in table:
        first = table[name.value]
        reporter.error(
            DUPLICATE_NAME, name.span,
            f"{kind} '{name.value}' is defined twice",
            "rename one of them, or delete the one you do not mean",
            notes=(f"first defined on line {first.span.line}",),
        )
        return
    table[name.value] = node


class NameChecks:
    """Resolves every reference; a bare name that is not a definition is a lead field."""

    def __init__(self, policy: m.Policy, symbols: Symbols, reporter: Reporter) -> None:
        self.policy = policy
        self.symbols = symbols
        self.reporter = reporter

    def run(self) -> None:
        for statement in self.policy.statements:
            self._statement(statement)
        self._cycles()

    # ------------------------------------------------------------ references

    def _unknown(self, name: m.Name, kind: str, where: str, candidates) -> None:
        help_ = did_you_mean(name.value, candidates)
        self.reporter.error(UNKNOWN_NAME, name.span,
                            f"unknown {kind} '{name.value}' {where}", help_)

    def _party(self, name: m.Name | None, where: str) -> None:
        if name is None or name.value in self.symbols.parties:
            return
        help_ = did_you_mean(name.value, self.symbols.parties) or (
            f"declare it: party {name.value} contact \"...\"")
        self.reporter.error(UNDECLARED_PARTY, name.span,
                            f"party '{name.value}' is used {where} but not declared", help_)

    def _condition(self, expr: m.Expr, where: str) -> None:
        for node in m.walk_expr(expr):
            if isinstance(node, m.Ref):
                self._bare_ref(node.name, where)
            elif isinstance(node, m.FitRef):
                self._keyword_ref(node.name, "fit", self.symbols.fits, where)
            elif isinstance(node, m.InterestRef):
                self._keyword_ref(node.name, "interest", self.symbols.interests, where)

    def _bare_ref(self, name: m.Name, where: str) -> None:
        if name.value in self.symbols.bare:
            return
        for keyword, table in (("fit", self.symbols.fits), ("interest", self.symbols.interests)):
            if name.value in table:
                self.reporter.error(WRONG_KIND, name.span,
                                    f"'{name.value}' is a {keyword} level {where}",
                                    f"write '{keyword} {name.value}'")
                return
        close = difflib.get_close_matches(name.value, list(self.symbols.bare), n=1, cutoff=0.75)
        if close:
            # A near miss of a definition is far likelier a typo than a field of that name.
            kind = self.symbols.bare[close[0]].category
            self.reporter.error(
                UNKNOWN_NAME, name.span, f"unknown {kind} '{name.value}' {where}",
                f"did you mean '{close[0]}'?",
                notes=(f"if '{name.value}' is a lead field, write '{name.value} == true'",),
            )

    def _keyword_ref(self, name: m.Name, kind: str, table: dict, where: str) -> None:
        if name.value not in table:
            self._unknown(name, f"{kind} level", where, table)

    def _lead_set(self, name: m.Name, where: str) -> None:
        """A name that counts leads: a definition, or `leads` for all of them."""
        if name.value in self.symbols.bare or name.value in BUILTIN_LEAD_NAMES:
            return
        kind = self.symbols.kind_of(name.value)
        if kind:
            self.reporter.error(WRONG_KIND, name.span,
                                f"'{name.value}' is a {kind}, not a set of leads, {where}")
            return
        self._unknown(name, "stage or segment", where,
                      list(self.symbols.bare) + sorted(BUILTIN_LEAD_NAMES))

    def _calendar(self, duration: m.Duration | None, where: str) -> None:
        calendar = duration.calendar if duration is not None else None
        if calendar is not None and calendar.value not in self.symbols.calendars:
            self._unknown(calendar, "calendar", where, self.symbols.calendars)

    def _statement(self, statement: m.Statement) -> None:
        if isinstance(statement, m.Definition):
            self._condition(statement.when,
                            f"in {statement.category} '{statement.name.value}'")
        elif isinstance(statement, m.Handoff):
            self._handoff(statement)
        elif isinstance(statement, m.Commitment):
            where = f"in commitment '{statement.giver.value} to {statement.receiver.value}'"
            self._party(statement.giver, where)
            self._party(statement.receiver, where)
            for item in statement.items:
                if isinstance(item, m.DeliverCount):
                    self._lead_set(item.what, where)
        elif isinstance(statement, m.LeadValue) and statement.persona is not None:
            self._persona(statement.persona)
        elif isinstance(statement, m.RevenueGoal):
            for item in statement.items:
                if isinstance(item, m.Share):
                    self._party(item.party, "in the revenue goal")
        elif isinstance(statement, m.Consequence):
            self._consequence(statement)
        elif isinstance(statement, (m.Cancel, m.ReviewWhen)):
            self._trigger(statement.when)

    def _persona(self, name: m.Name) -> None:
        kind = self.symbols.kind_of(name.value)
        if kind == "persona":
            return
        if kind:
            self.reporter.error(WRONG_KIND, name.span,
                                f"'{name.value}' is a {kind}; a lead value is set per persona")
            return
        personas = [n for n, d in self.symbols.bare.items() if d.category == "persona"]
        self._unknown(name, "persona", "in lead value", personas)

    def _handoff(self, handoff: m.Handoff) -> None:
        where = f"in handoff '{handoff.label}'"
        target = handoff.target
        kind = self.symbols.kind_of(target.value) if target is not None else None
        if target is not None and kind not in ("segment", "stage"):
            if kind:
                self.reporter.error(WRONG_KIND, target.span,
                                    f"handoff '{target.value}' names a {kind}; "
                                    "a handoff applies to a segment or a stage")
            else:
                self._unknown(target, "segment or stage", "after 'handoff'",
                              [*self.symbols.bare, "every lead"])
        self._party(handoff.sender, where)
        self._party(handoff.receiver, where)
        for item in handoff.items:
            if isinstance(item, (m.Threshold, m.Pause)):
                self._condition(item.condition, where)
            for duration in _durations(item):
                self._calendar(duration, where)

    def _consequence(self, consequence: m.Consequence) -> None:
        scope = consequence.scope
        labels = self.policy.handoffs_by_label
        if scope is not None and scope.value not in labels:
            self._unknown(scope, "handoff", "after 'in'", labels)
        for action in consequence.actions:
            for duration in _durations(action):
                self._calendar(duration, f"in 'on {consequence.trigger} of "
                                         f"{consequence.clause.name}'")

    def _trigger(self, trigger: m.Trigger) -> None:
        for node in m.walk_trigger(trigger):
            if isinstance(node, m.MetricCompare) and isinstance(node.metric, m.RateMetric):
                self._lead_set(node.metric.source, "in the rate")
                self._lead_set(node.metric.target, "in the rate")
            elif isinstance(node, m.MissedCount):
                self._party(node.party, "after 'missed ... by'")
                teams = {item.team.value for h in self.policy.handoffs for item in h.items
                         if isinstance(item, m.RoundRobin)}
                if node.team is not None and node.team.value not in teams:
                    help_ = did_you_mean(node.team.value, teams) or (
                        "name a team of an 'assign round robin team' line, or count by party")
                    self.reporter.error(UNKNOWN_NAME, node.team.span,
                                        f"unknown team '{node.team.value}' after 'missed ... by "
                                        "team'", help_)

    # ------------------------------------------------------------ cycles and depth

    def _uses(self, definition: m.Definition) -> tuple[list[tuple[str, str, m.Name, int]], int]:
        """The definitions a condition names, each with the levels above the name; and the
        condition's own depth."""
        found = []
        nodes = levels(definition.when)
        for node, above in nodes:
            if isinstance(node, m.Ref) and node.name.value in self.symbols.bare:
                found.append(("bare", node.name.value, node.name, above))
            elif isinstance(node, m.FitRef) and node.name.value in self.symbols.fits:
                found.append(("fit", node.name.value, node.name, above))
            elif isinstance(node, m.InterestRef) and node.name.value in self.symbols.interests:
                found.append(("interest", node.name.value, node.name, above))
        return found, max(above for _, above in nodes)

    def _cycles(self) -> None:
        """Circles of definitions, and definitions nested too deep once the names they use are
        written out in place. A loop with its own stack: a chain of definitions may be as long
        as the file allows, and every later walk that follows names relies on this bound."""
        tables = {"bare": self.symbols.bare, "fit": self.symbols.fits,
                  "interest": self.symbols.interests}

        def key(definition: m.Definition) -> tuple[str, str]:
            space = definition.category if definition.category in ("fit", "interest") else "bare"
            return (space, definition.name.value)

        state: dict[tuple[str, str], int] = {}  # 1 = on the current path, 2 = done
        depth: dict[tuple[str, str], int] = {}
        reported: set[frozenset] = set()

        def enter(node: tuple[str, str]) -> None:
            state[node] = 1
            path.append(node)
            uses, own = self._uses(tables[node[0]][node[1]])
            stack.append((node, uses, own, iter(uses)))

        def finish(node, uses, own) -> None:
            state[node] = 2
            path.pop()
            deepest, at = own, None
            for space, name, ref, above in uses:
                through = above + 1 + depth.get((space, name), 0)
                if through > deepest:
                    deepest, at = through, (ref, depth.get((space, name), 0))
            depth[node] = deepest
            if at is not None and deepest > MAX_EXPANDED_NESTING >= at[1]:
                self.reporter.error(
                    TOO_DEEP, at[0].span,
                    f"'{node[1]}' nests {deepest} levels deep once the definitions it uses are "
                    f"written out in place; at most {MAX_EXPANDED_NESTING} are allowed",
                    "use the definitions at the bottom of the chain directly, or join "
                    "definitions that only pass one another on")

        for definition in self.policy.definitions:
            root = key(definition)
            if tables[root[0]].get(root[1]) is not definition or root in state:
                continue
            path: list[tuple[str, str]] = []
            stack: list = []
            enter(root)
            while stack:
                node, uses, own, pending = stack[-1]
                for space, name, ref, _ in pending:
                    nxt = (space, name)
                    if state.get(nxt) == 1:
                        self._cycle(path[path.index(nxt):], nxt, ref, reported)
                    elif nxt not in state:
                        enter(nxt)
                        break
                else:
                    stack.pop()
                    finish(node, uses, own)

    def _cycle(self, cycle: list[tuple[str, str]], back: tuple[str, str], ref: m.Name,
               reported: set[frozenset]) -> None:
        if frozenset(cycle) in reported:
            return
        reported.add(frozenset(cycle))
        names = " -> ".join(f"'{n}'" for _, n in [*cycle, back])
        self.reporter.error(CYCLE, ref.span,
                            f"definitions use each other in a circle: {names}",
                            "a definition may use others only if none of them uses it back")


# With every name a condition uses written out in place, the most levels it may nest: twice a
# single condition's limit (parser.MAX_NESTING), so that a condition the parser accepts is never
# refused here alone. Every walk that follows names (conditions.py, plain_words.py, the segment
# check) recurses at most this deep.
MAX_EXPANDED_NESTING = 128


def levels(expr: m.Expr) -> list[tuple[m.Expr, int]]:
    """Every node of a condition with the `not`, `and` and `or` levels above it."""
    found, stack = [], [(expr, 0)]
    while stack:
        node, above = stack.pop()
        found.append((node, above))
        if isinstance(node, m.Not):
            stack.append((node.operand, above + 1))
        elif isinstance(node, (m.All, m.AnyOf)):
            stack.extend((o, above + 1) for o in reversed(node.operands))
    return found


def has_unbounded_names(reporter: Reporter) -> bool:
    """Whether a circle or a chain too deep was found: then no check may follow names."""
    return any(d.code in (CYCLE, TOO_DEEP) for d in reporter.diagnostics)


def _durations(node: m.Node) -> list[m.Duration]:
    return [value for value in node.__dict__.values() if isinstance(value, m.Duration)]


def check_names(policy: m.Policy, reporter: Reporter) -> Symbols:
    symbols = collect_symbols(policy, reporter)
    NameChecks(policy, symbols, reporter).run()
    return symbols
