"""Segments: a lead belongs to the first segment that matches, so order matters.

A segment whose condition can only hold when an earlier segment's does is dead code in the
agreement. The check treats every comparison, field and fit/interest level as an independent
yes/no and asks whether any assignment reaches the segment: a warning is then never a false
alarm, though it may miss overlaps that only the numbers reveal.
"""

from __future__ import annotations

import itertools

from sla_dsl import codes
from sla_dsl import model as m
from sla_dsl.checks.names import has_unbounded_names
from sla_dsl.diagnostics import Reporter

MOST_ATOMS = 14


def _atom_key(node: m.Expr) -> str:
    """Two atoms written alike are the same yes/no, wherever they stand."""
    return repr(m.without_spans(node.model_dump(mode="json")))


class _Logic:
    def __init__(self, segments: dict[str, m.Expr]) -> None:
        self.segments = segments
        self.atoms: dict[str, int] = {}

    def atoms_of(self, expr: m.Expr) -> None:
        for node in m.walk_expr(expr):
            if isinstance(node, (m.Not, m.All, m.AnyOf)):
                continue
            if isinstance(node, m.Ref) and node.name.value in self.segments:
                self.atoms_of(self.segments[node.name.value])
                continue
            self.atoms.setdefault(_atom_key(node), len(self.atoms))

    def holds(self, expr: m.Expr, values: tuple[bool, ...]) -> bool:
        if isinstance(expr, m.Not):
            return not self.holds(expr.operand, values)
        if isinstance(expr, m.All):
            return all(self.holds(o, values) for o in expr.operands)
        if isinstance(expr, m.AnyOf):
            return any(self.holds(o, values) for o in expr.operands)
        if isinstance(expr, m.Ref) and expr.name.value in self.segments:
            return self.holds(self.segments[expr.name.value], values)
        return values[self.atoms[_atom_key(expr)]]


def check_segments(policy: m.Policy, reporter: Reporter) -> None:
    segments = policy.definitions_of("segment")
    if not has_unbounded_names(reporter):  # its walks follow names, as far as they go
        _check_reachable(segments, reporter)
    handed = {h.label for h in policy.handoffs}
    if "every lead" in handed:
        return
    for segment in segments:
        if segment.name.value not in handed:
            reporter.warning(
                codes.NO_HANDOFF, segment.name.span,
                f"no handoff applies to segment '{segment.name.value}'",
                f"add 'handoff {segment.name.value} to nobody' if its leads are not handed off",
            )


def _check_reachable(segments: list[m.Definition], reporter: Reporter) -> None:
    if len(segments) < 2:
        return
    logic = _Logic({s.name.value: s.when for s in segments})
    for segment in segments:
        logic.atoms_of(segment.when)
    if len(logic.atoms) > MOST_ATOMS:
        return
    assignments = list(itertools.product((False, True), repeat=len(logic.atoms)))
    earlier: list[m.Definition] = []
    for segment in segments:
        reachable = any(
            logic.holds(segment.when, values)
            and not any(logic.holds(e.when, values) for e in earlier)
            for values in assignments
        )
        if not any(logic.holds(segment.when, values) for values in assignments):
            reporter.warning(
                codes.UNREACHABLE_SEGMENT, segment.name.span,
                f"segment '{segment.name.value}' can never match: its condition contradicts "
                "itself", "check the 'and' and 'not' in its condition")
        elif not reachable:
            covering = ", ".join(f"'{e.name.value}'" for e in earlier)
            reporter.warning(
                codes.UNREACHABLE_SEGMENT, segment.name.span,
                f"segment '{segment.name.value}' can never match: every lead it covers "
                f"falls in an earlier segment first ({covering})",
                "segments are checked in order; move it up or narrow the earlier ones",
            )
        earlier.append(segment)
