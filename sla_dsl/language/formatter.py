"""`Policy` back to text, in one canonical layout, with every comment put back.

Printing from the model (not from the source text) is what makes the layout canonical: two
spellings of one policy print the same. Comments are not in the model, so they are placed by
line: a comment on its own line goes before the statement that follows it (or, inside a statement
broken over lines, before that statement), a comment at the end of a line stays at the end of that
statement's line. Blank lines between statements are kept (at most one); runs of alike one-line
statements are aligned, as the language examples are.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sla_dsl.language import model as m
from sla_dsl.language.parser import Comment

INDENT = "  "


# ---------------------------------------------------------------- values and expressions


def number(value: int | float) -> str:
    if isinstance(value, int):
        return str(value)
    text = format(Decimal(repr(value)), "f")
    return text if "." in text else text + ".0"


def quote(text: str) -> str:
    """Only `\\"` and `\\\\` are escapes, so a backslash is doubled only where it must be."""
    out = []
    for i, char in enumerate(text):
        if char == '"':
            out.append('\\"')
        elif char == "\\":
            following = text[i + 1] if i + 1 < len(text) else None
            out.append("\\\\" if following in ('"', "\\", None) else "\\")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def counted(amount: int | float, unit: str) -> str:
    return f"{number(amount)} {unit if amount == 1 else unit + 's'}"


def duration(d: m.Duration) -> str:
    business = "business " if d.business else ""
    unit = d.unit if d.amount == 1 else d.unit + "s"
    text = f"{number(d.amount)} {business}{unit}"
    return text + (f" on calendar {d.calendar.value}" if d.calendar else "")


def money(value: m.Money) -> str:
    return f"{number(value.amount)} {value.currency}"


def value(v: m.Value) -> str:
    if isinstance(v, m.Text):
        return quote(v.value)
    if isinstance(v, m.Percent):
        return f"{number(v.value)}%"
    if isinstance(v, m.DateValue):
        return v.value.isoformat()
    if isinstance(v, m.Boolean):
        return "true" if v.value else "false"
    if isinstance(v, m.Duration):
        return duration(v)
    return number(v.value)


_PRECEDENCE = {"or": 1, "and": 2, "not": 3}


def _operand(node, parent: int, render) -> str:
    text = render(node)
    if _PRECEDENCE.get(node.kind, 4) <= parent:
        return f"({text})"
    return text


def expr(e: m.Expr) -> str:
    if isinstance(e, m.AnyOf):
        return " or ".join(_operand(o, 1, expr) for o in e.operands)
    if isinstance(e, m.All):
        return " and ".join(_operand(o, 2, expr) for o in e.operands)
    if isinstance(e, m.Not):
        return "not " + _operand(e.operand, 2, expr)
    if isinstance(e, m.Compare):
        return f"{e.field.value} {e.op} {value(e.value)}"
    if isinstance(e, m.Membership):
        word = "not in" if e.negated else "in"
        return f"{e.field.value} {word} [{', '.join(value(v) for v in e.values)}]"
    if isinstance(e, m.PatternMatch):
        return f"{e.field.value} matches {quote(e.pattern.value)}"
    if isinstance(e, m.Presence):
        return f"{e.field.value} is {'not ' if e.negated else ''}set"
    if isinstance(e, m.FitRef):
        return f"fit {e.name.value}"
    if isinstance(e, m.InterestRef):
        return f"interest {e.name.value}"
    return e.name.value


def metric(x: m.Metric) -> str:
    if isinstance(x, m.RateMetric):
        return f"rate {x.source.value} to {x.target.value}"
    if isinstance(x, m.StatisticMetric):
        return f"{x.statistic} {x.clause.name}"
    return f"attainment of {x.clause.name}"


def trigger(t: m.Trigger) -> str:
    if isinstance(t, m.AnyTrigger):
        return " or ".join(_operand(o, 1, trigger) for o in t.operands)
    if isinstance(t, m.AllTriggers):
        return " and ".join(_operand(o, 2, trigger) for o in t.operands)
    if isinstance(t, m.Missed):
        return f"{t.clause.name} missed {counted(t.count.value, t.unit)} in a row"
    if isinstance(t, m.MissedCount):
        by = f" by {t.party.value}" if t.party else f" by team {quote(t.team.value)}" \
            if t.team else ""
        return f"{t.clause.name} missed {number(t.count.value)} times per {t.per}{by}"
    return f"{metric(t.metric)} {t.op} {value(t.value)}"


# ---------------------------------------------------------------- statements


def _days(days: m.DayRange) -> str:
    return days.first if days.first == days.last else f"{days.first}-{days.last}"


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _dates(dates: m.DateRange) -> str:
    first = dates.first.isoformat()
    return first if dates.first == dates.last else f"{first} to {dates.last.isoformat()}"


def item_line(item) -> str:
    """One line inside a block."""
    if isinstance(item, m.OpenHours):
        days = ", ".join(_days(d) for d in item.days)
        hours = ", ".join(f"{_clock(h.start)}-{_clock(h.end)}" for h in item.hours)
        return f"open {days} {hours}"
    if isinstance(item, m.ClosedDates):
        return "closed " + ", ".join(_dates(d) for d in item.dates)
    if isinstance(item, m.OpenDates):
        return "open " + ", ".join(_dates(d) for d in item.dates)
    if isinstance(item, m.ClosedHolidays):
        return "closed holidays " + ", ".join(quote(r.value) for r in item.regions)
    if isinstance(item, m.Threshold):
        return f"when {expr(item.condition)}"
    if isinstance(item, m.RoundRobin):
        text = f"assign round robin team {quote(item.team.value)}"
        if item.weights:
            pairs = ", ".join(f"{quote(w.rep.value)}: {number(w.weight.value)}"
                              for w in item.weights)
            text += f" weights {{ {pairs} }}"
        if item.cap:
            text += f" cap {number(item.cap.count.value)} per {item.cap.per}"
        if item.open_cap:
            text += f" cap {number(item.open_cap.value)} open leads"
        return text
    if isinstance(item, m.FixedOwner):
        return f"assign to {quote(item.owner.value)}"
    if isinstance(item, m.FirstTouch):
        return f"first touch within {duration(item.within)}"
    if isinstance(item, m.Touches):
        text = f"touches at least {number(item.count.value)} within {duration(item.within)}"
        return text + (" until connected" if item.until_connected else "")
    if isinstance(item, m.Spacing):
        return f"spacing at least {duration(item.at_least)}"
    if isinstance(item, m.Disposition):
        return f"disposition within {duration(item.within)}"
    if isinstance(item, m.Pause):
        return f"pause while {expr(item.condition)}"
    if isinstance(item, m.OwnerAbsent):
        return f"when {item.who} absent {item.mode}"
    if isinstance(item, m.OwnerHours):
        return f"clocks run on {item.who} hours"
    if isinstance(item, m.Rehandoff):
        return ("" if item.restart else "no ") + "restart on re-handoff"
    if isinstance(item, m.OnReassign):
        named = ", ".join(c.name for c in item.clauses)
        return f"on reassign {item.mode}" + (f" for {named}" if named else "")
    if isinstance(item, m.DeliverCount):
        return f"deliver at least {number(item.count.value)} {item.what.value} per {item.per}"
    if isinstance(item, m.DeliverMoney):
        return f"deliver at least {money(item.amount)} of {item.measure} per {item.per}"
    if isinstance(item, m.Report):
        subject = quote(item.subject) if item.quoted else item.subject
        return f"report {subject} {item.cadence}"
    if isinstance(item, m.Share):
        reading = f" {item.reading}" if item.reading else ""
        return f"{item.party.value} share {number(item.percent.value)}%{reading}"
    if isinstance(item, m.DealSize):
        return f"deal size {money(item.amount)}"
    if isinstance(item, m.CloseRate):
        return f"close rate {number(item.percent.value)}%"
    return _action(item)


def _action(action: m.Action) -> str:
    if isinstance(action, m.Warn):
        return f"warn at {number(action.at.value)}%"
    if isinstance(action, m.Escalate):
        after = f" after {duration(action.after)}" if action.after else ""
        return f"escalate to {quote(action.to.value)}{after}"
    if isinstance(action, m.Reassign):
        return "reassign" + (f" after {duration(action.after)}" if action.after else "")
    if isinstance(action, m.Strike):
        return "strike owner"
    if isinstance(action, m.Grace):
        return f"grace {counted(action.count.value, action.unit)}"
    if isinstance(action, m.CreditShare):
        return f"credit {number(action.percent.value)}% of {action.of}"
    return f"credit {money(action.amount)}"


def header_line(statement: m.Statement) -> tuple[str, str]:
    """The statement's first line as (head, tail): alike heads are padded to align tails."""
    s = statement
    if isinstance(s, m.Title):
        return ("sla", quote(s.text.value))
    if isinstance(s, m.Version):
        return ("version", quote(s.text.value))
    if isinstance(s, m.Timezone):
        return ("timezone", quote(s.zone.value))
    if isinstance(s, m.Effective):
        until = f" until {s.until.value.isoformat()}" if s.until else ""
        return ("effective", s.start.value.isoformat() + until)
    if isinstance(s, m.Party):
        contacts = ", ".join(quote(c.value) for c in s.contacts)
        return (f"party {s.name.value}", f"contact {contacts}" if contacts else "")
    if isinstance(s, m.Calendar):
        zone = f" timezone {quote(s.timezone.value)}" if s.timezone else ""
        return (f"calendar {s.name.value}{zone}", "{")
    if isinstance(s, m.Definition):
        return (f"{s.category} {s.name.value}", f"when {expr(s.when)}")
    if isinstance(s, m.Handoff):
        target = s.target.value if s.target else "every lead"
        sender = f" from {s.sender.value}" if s.sender else ""
        receiver = s.receiver.value if s.receiver else "nobody"
        return (f"handoff {target}{sender} to {receiver}", "{" if s.items else "")
    if isinstance(s, m.Commitment):
        return (f"commit {s.giver.value} to {s.receiver.value}", "{")
    if isinstance(s, m.LeadValue):
        return ("value" + (f" {s.persona.value}" if s.persona else ""), money(s.amount))
    if isinstance(s, m.RevenueGoal):
        return (f"goal revenue {money(s.amount)} per {s.per}", "{")
    if isinstance(s, m.Attribution):
        model = s.model
        if s.half_life is not None:
            model += f" half-life {duration(s.half_life)}"
        return ("attribution", model)
    if isinstance(s, m.Consequence):
        scope = f" in {s.scope_label}" if s.scope_label else ""
        return (f"on {s.trigger} of {s.clause.name}{scope}", "{")
    if isinstance(s, m.StrikeRule):
        then = f"escalate to {quote(s.escalate_to.value)}" if s.escalate_to else s.then
        return ("strikes", f"{number(s.count.value)} per {s.per} then {then}")
    if isinstance(s, m.Cancel):
        return ("cancel", f"when {trigger(s.when)}")
    if isinstance(s, m.ReviewEvery):
        return ("review", f"every {counted(s.count.value, s.unit)}")
    return ("review", f"when {trigger(s.when)}")


def block_items(statement: m.Statement) -> list | None:
    """The lines inside a statement's braces, or None for a one-line statement."""
    if isinstance(statement, m.Handoff):
        return statement.items or None
    if isinstance(statement, (m.Calendar, m.Commitment, m.RevenueGoal)):
        return statement.items
    if isinstance(statement, m.Consequence):
        return statement.actions
    return None


def _align_key(statement: m.Statement) -> str | None:
    if isinstance(statement, m.Definition):
        return statement.category
    if isinstance(statement, m.Party):
        return "party"
    return None


# ---------------------------------------------------------------- layout with comments


@dataclass
class _Printer:
    source_lines: list[str]
    comments: list[Comment]

    def __post_init__(self) -> None:
        self.out: list[tuple[str, str | None]] = []  # (code, end-of-line comment)
        self.own = sorted((c for c in self.comments if c.own_line), key=lambda c: c.line)
        self.trailing = {c.line: c.text for c in self.comments if not c.own_line}
        self.next_own = 0

    def _blank_before(self, line: int) -> bool:
        return line >= 2 and not self.source_lines[line - 2].strip()

    def _emit(self, text: str, line: int, first_in_block: bool,
              comment: str | None = None) -> None:
        if not first_in_block and self.out and self.out[-1][0] and self._blank_before(line):
            self.out.append(("", None))
        self.out.append((text, comment))

    def comments_before(self, line: int, indent: str, first_in_block: bool) -> bool:
        """Own-line comments above `line`; returns whether the block still has nothing in it."""
        while self.next_own < len(self.own) and self.own[self.next_own].line < line:
            comment = self.own[self.next_own]
            self._emit(indent + comment.text, comment.line, first_in_block)
            first_in_block = False
            self.next_own += 1
        return first_in_block

    def take_trailing(self, first: int, last: int, indent: str,
                      first_in_block: bool) -> tuple[str | None, bool]:
        """The end-of-line comment of a statement on lines `first` to `last`. The comments that
        cannot stay where they were in a statement that was broken over lines (end-of-line ones
        but the last, and ones on their own lines inside it) go on their own lines above it, in
        their order, so that none is lost and none drifts below it to the next statement.
        Returns the comment and whether the block still has nothing in it."""
        found = [(line, self.trailing.pop(line)) for line in range(first, last + 1)
                 if line in self.trailing]
        above = found[:-1]
        while self.next_own < len(self.own) and self.own[self.next_own].line <= last:
            comment = self.own[self.next_own]
            above.append((comment.line, comment.text))
            self.next_own += 1
        for _, text in sorted(above):
            self._emit(indent + text, first, first_in_block)
            first_in_block = True  # a blank line before the statement went above these
        return (found[-1][1] if found else None), first_in_block

    def _comment_inside(self, first: int, last: int) -> bool:
        """Whether a comment stands on its own line strictly between `first` and `last`."""
        return any(first < comment.line < last for comment in self.own[self.next_own:])

    def statement(self, statement: m.Statement, indent: str, first: bool,
                  head_width: int = 0) -> None:
        span = statement.span
        first = self.comments_before(span.line, indent, first)
        head, tail = header_line(statement)
        items = block_items(statement)
        if (items is None and isinstance(statement, m.Handoff)
                and self._comment_inside(span.line, span.end_line)):
            # A block holding only comments is not empty: dropping its braces would leave the
            # comments under the next statement, which they would then seem to belong to.
            items, tail = [], "{"
        text = f"{head.ljust(head_width)} {tail}".rstrip() if tail else head
        if items is None:
            comment, first = self.take_trailing(span.line, span.end_line, indent, first)
            self._emit(indent + text, span.line, first, comment)
            return
        comment, first = self.take_trailing(span.line, span.line, indent, first)
        self._emit(indent + text, span.line, first, comment)
        inner = indent + INDENT
        inner_first = True
        for item in items:
            inner_first = self.comments_before(item.span.line, inner, inner_first)
            comment, inner_first = self.take_trailing(item.span.line, item.span.end_line,
                                                      inner, inner_first)
            self._emit(inner + item_line(item), item.span.line, inner_first, comment)
            inner_first = False
        self.comments_before(span.end_line, inner, inner_first)
        self.out.append((indent + "}", self.trailing.pop(span.end_line, None)))

    def policy(self, policy: m.Policy) -> str:
        statements = policy.statements
        widths = _alignment(statements, self.source_lines, self.comments)
        for index, statement in enumerate(statements):
            self.statement(statement, "", index == 0, widths[index])
        self.comments_before(len(self.source_lines) + 2, "", not statements)
        self.out.extend((text, None) for _, text in sorted(self.trailing.items()))
        return "\n".join(_aligned_comments(self.out)).rstrip("\n") + "\n"


def _aligned_comments(lines: list[tuple[str, str | None]]) -> list[str]:
    """End-of-line comments on consecutive alike lines start in one column, two spaces past
    the longest line of the run; a brace line keeps its comment close."""
    out: list[str] = []
    run: list[tuple[str, str]] = []

    def flush() -> None:
        width = max((len(code) for code, _ in run), default=0)
        out.extend(f"{code.ljust(width)}  {comment}" for code, comment in run)
        run.clear()

    def indent(code: str) -> int:
        return len(code) - len(code.lstrip())

    for code, comment in lines:
        brace = code.endswith("{") or code.strip() == "}"
        if run and (comment is None or brace or indent(code) != indent(run[-1][0])):
            flush()
        if comment is None:
            out.append(code)
        elif brace:
            out.append(f"{code}  {comment}")
        else:
            run.append((code, comment))
    flush()
    return out


def _alignment(statements: list[m.Statement], source_lines: list[str],
               comments: list[Comment]) -> list[int]:
    """Pad heads within runs of alike one-line statements with nothing between them, as
    printed: the comments that move above a statement that was broken over lines end a run."""
    comment_lines = {c.line for c in comments if c.own_line}
    trailing_lines = {c.line for c in comments if not c.own_line}

    def comments_move_above(statement: m.Statement) -> bool:
        lines = range(statement.span.line, statement.span.end_line + 1)
        return (any(line in comment_lines for line in lines)
                or sum(line in trailing_lines for line in lines) > 1)
    widths = [0] * len(statements)
    run: list[int] = []

    def close_run() -> None:
        if len(run) > 1:
            width = max(len(header_line(statements[i])[0]) for i in run)
            for i in run:
                widths[i] = width
        run.clear()

    for index, statement in enumerate(statements):
        key = _align_key(statement)
        if run:
            previous = statements[run[-1]]
            gap = range(previous.span.end_line + 1, statement.span.line)
            adjacent = all(source_lines[line - 1].strip() and line not in comment_lines
                           for line in gap)
            if (key is None or key != _align_key(previous) or not adjacent
                    or comments_move_above(statement)):
                close_run()
        if key is not None:  # parties and definitions always print on one line
            run.append(index)
        else:
            close_run()
    close_run()
    return widths


def format_policy(policy: m.Policy, comments: list[Comment], source_lines: list[str]) -> str:
    return _Printer(source_lines, comments).policy(policy)
