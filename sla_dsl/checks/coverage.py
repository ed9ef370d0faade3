"""Which leads reach which segment and which handoff, read from the numbers too.

`checks/segments.py` treats each comparison as an independent yes/no; here the conditions are
evaluated on made-up leads that stand for every kind of lead (`sla_dsl.checks.lead_space`), so
`employees >= 5000` after `employees >= 1000` is seen, and a lead that falls through the
segments comes with an example. A warning that says "some lead" always shows a real one; a
warning that says "no lead" is only given when every field involved can be read exactly.
"""

from __future__ import annotations

import numpy as np

from sla_dsl.checks.lead_space import LeadSpace, lead_space
from sla_dsl.checks.segments import MOST_NAMED, UNREACHABLE_SEGMENT
from sla_dsl.diagnostics.codes import Code
from sla_dsl.diagnostics.diagnostic import Reporter
from sla_dsl.language import model as m

# The codes this module reports: one owner per code (sla_dsl/diagnostics/codes.py).
UNCOVERED_LEADS = Code(
    "W503", "uncovered-leads", "segments that leave some leads with no segment and no handoff",
    owner=__name__, doc="docs/rules/W503.md")
UNREACHABLE_HANDOFF = Code(
    "W504", "unreachable-handoff", "a handoff whose leads all take an earlier handoff",
    owner=__name__, doc="docs/rules/W504.md")
CODES = (UNCOVERED_LEADS, UNREACHABLE_HANDOFF)


def _target_conditions(policy: m.Policy) -> dict[str, m.Expr]:
    """What a handoff target names: a segment or stage (persona too, though that is E204)."""
    return {d.name.value: d.when for d in reversed(policy.definitions)
            if d.category not in ("fit", "interest")}


def _segment_of(space: LeadSpace, segments: list[m.Definition]) -> np.ndarray:
    """Per made-up lead, the index of its segment (first match), or -1."""
    out = np.full(space.size, -1)
    for index, segment in enumerate(segments):
        hit = (out == -1) & space.conditions.definition("bare", segment.name.value)
        out[hit] = index
    return out


def _applies(space: LeadSpace, handoff: m.Handoff, segment: np.ndarray,
             names: list[str]) -> np.ndarray:
    """The leads a handoff's target takes, as `sla evaluate` assigns blocks."""
    if handoff.target is None:
        return np.ones(space.size, dtype=bool)
    if handoff.target.value in names:
        return segment == names.index(handoff.target.value)
    return space.conditions.definition("bare", handoff.target.value)


def check_coverage(policy: m.Policy, reporter: Reporter) -> None:
    if reporter.has_errors:
        return  # the names and definitions must be right before their leads can be counted
    segments = policy.definitions_of("segment")
    conditions = _target_conditions(policy)
    handoffs = [h for h in policy.handoffs if h.target is None or h.target.value in conditions]
    roots = [s.when for s in segments] + [
        conditions[h.target.value] for h in handoffs if h.target is not None]
    if not roots:
        return
    space = lead_space(policy, roots)
    if space is None:
        return
    segment = _segment_of(space, segments)
    names = [s.name.value for s in segments]
    applies = [_applies(space, h, segment, names) for h in handoffs]
    _shadowed_segments(space, segments, reporter)
    _uncovered(policy, space, segments, segment, applies, reporter)
    _unreachable_handoffs(space, handoffs, applies, reporter)


def _shadowed_segments(space: LeadSpace, segments: list[m.Definition],
                       reporter: Reporter) -> None:
    """W500 where only the numbers show it; the yes/no reasoning already reported the rest."""
    if not space.exact:
        return
    reported = {(d.span.line, d.span.column) for d in reporter.diagnostics
                if d.code == UNREACHABLE_SEGMENT and d.span}
    taken = np.zeros(space.size, dtype=bool)
    for index, segment in enumerate(segments):
        holds = space.conditions.definition("bare", segment.name.value)
        span = segment.name.span
        found = None if (span.line, span.column) in reported else \
            _why_unreachable(space, segments[:index], holds, taken)
        if found:
            why, fix = found
            reporter.warning(UNREACHABLE_SEGMENT, span,
                             f"segment '{segment.name.value}' can never match: {why}", fix)
        taken |= holds


def _why_unreachable(space: LeadSpace, earlier: list[m.Definition], holds: np.ndarray,
                     taken: np.ndarray) -> tuple[str, str] | None:
    if not holds.any():
        return ("no lead has values that satisfy its condition",
                "check the numbers and values it compares with")
    if earlier and not (holds & ~taken).any():
        return (f"every lead it covers falls in an earlier segment first "
                f"({_covering(space, earlier, holds)})",
                "segments are checked in order; move it up or narrow the earlier ones")
    return None


def _covering(space: LeadSpace, earlier: list[m.Definition], holds: np.ndarray) -> str:
    """The first few earlier segments that share leads with this one: naming every one made
    a policy of thousands of segments quadratic, in time and in the size of the report."""
    named: list[str] = []
    for segment in earlier:
        if (holds & space.conditions.definition("bare", segment.name.value)).any():
            if len(named) == MOST_NAMED:
                return ", ".join(named) + " and more"
            named.append(f"'{segment.name.value}'")
    return ", ".join(named)


def _uncovered(policy: m.Policy, space: LeadSpace, segments: list[m.Definition],
               segment: np.ndarray, applies: list[np.ndarray], reporter: Reporter) -> None:
    targets = {h.target.value for h in policy.handoffs if h.target is not None}
    if not segments or any(h.target is None for h in policy.handoffs) \
            or not all(s.name.value in targets for s in segments):
        return  # every lead has a handoff, or W502 says first which segment lacks one
    routed = np.zeros(space.size, dtype=bool)
    for hit in applies:
        routed |= hit
    lost = np.flatnonzero((segment == -1) & ~routed)
    if not lost.size:
        return
    last = segments[-1]
    reporter.warning(
        UNCOVERED_LEADS, last.name.span,
        "some leads fall in no segment, and no handoff applies to them",
        "add a last segment for the rest (with its handoff, or 'to nobody'), or widen one",
        notes=(f"for example a lead with {space.describe(int(lost[0]))}",))


def _unreachable_handoffs(space: LeadSpace, handoffs: list[m.Handoff],
                          applies: list[np.ndarray], reporter: Reporter) -> None:
    """A lead takes the first handoff, in file order, that applies to it; a lead may go
    through one handoff per sending party (marketing to MDR, then MDR to sales)."""
    if not space.exact:
        return
    taken: dict[str | None, np.ndarray] = {}
    takes: list[np.ndarray] = []  # what each handoff really takes, after the earlier ones
    for index, handoff in enumerate(handoffs):
        sender = handoff.sender.value if handoff.sender else None
        before = taken.setdefault(sender, np.zeros(space.size, dtype=bool))
        mine = applies[index]
        takes.append(mine & ~before)
        taken[sender] = before | mine
        if not mine.any() or takes[-1].any():
            continue
        takers = ", ".join(
            f"'{h.label}'" for h, took in zip(handoffs[:index], takes, strict=False)
            if (h.sender.value if h.sender else None) == sender and (took & mine).any())
        span = handoff.target.span if handoff.target else handoff.span
        reporter.warning(
            UNREACHABLE_HANDOFF, span,
            f"handoff '{handoff.label}' never applies: every lead it would take goes to an "
            f"earlier handoff first ({takers})",
            "a lead takes the first handoff that applies; move this one up or narrow those")
