"""Attribution: revenue promised only where the policy says how to credit it, and a half-life
that the evaluator can count.

A zero half-life is a duration that must be above zero (E406, checked with every duration);
a second `attribution` line is E205 (checked with the header's once-only statements).
"""

from __future__ import annotations

from sla_dsl.diagnostics.codes import Code
from sla_dsl.diagnostics.diagnostic import Reporter
from sla_dsl.language import model as m

# The codes this module reports: one owner per code (sla_dsl/diagnostics/codes.py).
UNATTRIBUTED_REVENUE = Code(
    "E410", "revenue-without-attribution", "revenue promised with no `attribution` to credit it",
    owner=__name__)
BUSINESS_HALF_LIFE = Code(
    "E411", "business-half-life", "an attribution half-life in business time",
    owner=__name__)
UNMEASURED_SHARE = Code(
    "W510", "unmeasured-share", "a goal's party share with no `attribution` to measure it",
    owner=__name__, doc="docs/rules/W510.md")
CODES = (UNATTRIBUTED_REVENUE, BUSINESS_HALF_LIFE, UNMEASURED_SHARE)


def check_attribution(policy: m.Policy, reporter: Reporter) -> None:
    statement = policy.attribution
    if statement is None:
        _check_shares(policy, reporter)
        for commitment in policy.commitments:
            for item in commitment.items:
                if isinstance(item, m.DeliverMoney) and item.measure == "revenue":
                    reporter.error(
                        UNATTRIBUTED_REVENUE, item.span,
                        f"'{commitment.giver.value}' promises revenue, but the policy does not "
                        "say how revenue is credited to a party",
                        "add an attribution line, such as: attribution last touch",
                        notes=("the revenue of a won deal is split over the touchpoints before "
                               "the win by the `attribution` model; the promising party's "
                               "part is what it delivered",))
    elif statement.half_life is not None and statement.half_life.business:
        reporter.error(BUSINESS_HALF_LIFE, statement.half_life.span,
                       "a half-life is counted in elapsed time: a touchpoint ages at night "
                       "and on weekends too",
                       f"write it without 'business', such as: {_elapsed(statement.half_life)}")


def _check_shares(policy: m.Policy, reporter: Reporter) -> None:
    """A share of a revenue goal is measured on won deals, which `sla evaluate` reads only
    where the policy has an attribution line; without one the share is never measured and
    `goal missed` never reads it. The message says which reading the share has (a bare share
    is sourced), because the fix differs: an attributed share needs a model to credit
    anything, and may have meant sourced."""
    for goal in policy.goals:
        for item in goal.items:
            if isinstance(item, m.Share):
                party, percent = item.party.value, f"{item.percent.value:g}%"
                if item.measure == "attributed":
                    message = (f"'{party}' share {percent} is measured on attributed revenue, "
                               "but without an attribution line no revenue is credited to it")
                else:
                    message = (f"'{party}' share {percent} is measured on sourced revenue, but "
                               "without an attribution line `sla evaluate` reads no won deal "
                               "to measure it")
                reporter.warning(UNMEASURED_SHARE, item.span, message,
                                 "add an attribution line, such as: attribution last touch",
                                 notes=_SHARE_READINGS)


_SHARE_READINGS = (
    "a share is sourced unless it says `attributed`: sourced counts whole each deal won from "
    "a lead the party generated (one it handed off; for marketing, also one with an `engaged` "
    "touchpoint); attributed counts the part of each deal the attribution model credits it",)


def _elapsed(duration: m.Duration) -> str:
    unit = duration.unit if duration.amount == 1 else f"{duration.unit}s"
    return f"half-life {duration.amount:g} {unit}"
