"""The lead's lifecycle inside a handoff block: what a re-handoff and a reassignment do to its
clocks, and what an absent owner does to them. A block says each once, and `on reassign` names
only clauses that run a clock."""

from __future__ import annotations

from sla_dsl.diagnostics.codes import Code
from sla_dsl.diagnostics.diagnostic import Reporter
from sla_dsl.language import model as m

# The codes this module reports: one owner per code (sla_dsl/diagnostics/codes.py).
BAD_LIFECYCLE_RULE = Code(
    "E420", "bad-lifecycle-rule",
    "a re-handoff or reassignment rule said twice, in a block with no clocks, or for a "
    "clause with no clock", owner=__name__)
BAD_ABSENCE_RULE = Code(
    "E421", "bad-absence-rule",
    "'when owner absent' said twice in a block, in a block whose leads have no owner, or of "
    "someone else than the owner",
    owner=__name__)
BAD_OWNER_HOURS = Code(
    "E422", "bad-owner-hours",
    "'clocks run on owner hours' said twice in a block, in a block whose leads have no owner, "
    "or of someone else than the owner", owner=__name__)
CODES = (BAD_LIFECYCLE_RULE, BAD_ABSENCE_RULE, BAD_OWNER_HOURS)

_CLAUSE_ITEMS = {"first touch": "first_touch", "touches": "touches",
                 "disposition": "disposition"}


def check_lifecycle(policy: m.Policy, reporter: Reporter) -> None:
    for handoff in policy.handoffs:
        _check_rehandoff(handoff, reporter)
        _check_reassign(handoff, reporter)
        _check_absence(handoff, reporter)
        _check_owner_hours(handoff, reporter)


def _check_owner_hours(handoff: m.Handoff, reporter: Reporter) -> None:
    rules = [i for i in handoff.items if isinstance(i, m.OwnerHours)]
    for rule in rules:
        if rule.who != "owner":
            reporter.error(BAD_OWNER_HOURS, rule.span,
                           f"'clocks run on {rule.who} hours': only the lead's owner has hours "
                           "of their own (a reps file names them)",
                           "write 'clocks run on owner hours'")
    _once_and_to_someone(
        handoff, rules, BAD_OWNER_HOURS, "says its clocks run on owner hours twice",
        "keep one 'clocks run on owner hours' line",
        "its leads have no owner whose hours could count", reporter)


def _check_absence(handoff: m.Handoff, reporter: Reporter) -> None:
    rules = [i for i in handoff.items if isinstance(i, m.OwnerAbsent)]
    for rule in rules:
        if rule.who != "owner":
            reporter.error(BAD_ABSENCE_RULE, rule.span,
                           f"'when {rule.who} absent': only the lead's owner can be absent",
                           f"write 'when owner absent {rule.mode}'")
    _once_and_to_someone(
        handoff, rules, BAD_ABSENCE_RULE, "says what an absent owner does twice",
        "keep one 'when owner absent pause' or 'when owner absent run' line",
        "its leads have no owner to be absent", reporter)


def _check_rehandoff(handoff: m.Handoff, reporter: Reporter) -> None:
    rules = [i for i in handoff.items if isinstance(i, m.Rehandoff)]
    _once_and_to_someone(
        handoff, rules, BAD_LIFECYCLE_RULE, "says what a re-handoff does twice",
        "keep one 'restart on re-handoff' or 'no restart on re-handoff' line",
        "it has no clock to restart", reporter)


def _once_and_to_someone(handoff: m.Handoff, rules: list, code, twice: str, keep_one: str,
                         why_nobody: str, reporter: Reporter) -> None:
    """The two misuses every one-line lifecycle rule shares: said twice in a block, or said
    in a block `to nobody`, whose leads have no owner and no clock for it to act on."""
    for extra in rules[1:]:
        reporter.error(code, extra.span, f"handoff '{handoff.label}' {twice}", keep_one)
    if rules and handoff.receiver is None:
        reporter.error(code, rules[0].span,
                       f"handoff '{handoff.label}' goes to nobody: {why_nobody}",
                       "remove the line, or hand the leads to a party")


def _check_reassign(handoff: m.Handoff, reporter: Reporter) -> None:
    said: dict[str, m.OnReassign] = {}
    for rule in (i for i in handoff.items if isinstance(i, m.OnReassign)):
        if handoff.receiver is None:
            reporter.error(BAD_LIFECYCLE_RULE, rule.span,
                           f"handoff '{handoff.label}' goes to nobody: no clock runs to reassign",
                           "remove the line, or hand the leads to a party")
            continue
        for clause in rule.clauses:
            if clause.name not in _CLAUSE_ITEMS:
                reporter.error(BAD_LIFECYCLE_RULE, clause.span,
                               f"'{clause.name}' runs no clock, so a reassignment cannot "
                               "continue, restart or split it",
                               "name first touch, touches or disposition")
            elif handoff.item(_CLAUSE_ITEMS[clause.name]) is None:
                reporter.error(BAD_LIFECYCLE_RULE, clause.span,
                               f"handoff '{handoff.label}' has no '{clause.name}' clause",
                               f"add a '{clause.name}' clause, or leave it out of this line")
        for name in [c.name for c in rule.clauses] or ["every clause"]:
            if name in said:
                reporter.error(BAD_LIFECYCLE_RULE, rule.span,
                               f"what a reassignment does to {name} is said twice in handoff "
                               f"'{handoff.label}'",
                               "keep one 'on reassign' line for it")
            said[name] = rule
