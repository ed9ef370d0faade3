"""Segments: a lead belongs to the first segment that matches, so order matters.

A segment whose condition can only hold when an earlier segment's does is dead code in the
agreement. The check treats every comparison, field and fit/interest level as an independent
yes/no and asks whether any assignment reaches the segment: a warning is then never a false
alarm, though it may miss overlaps that only the numbers reveal.
"""

from __future__ import annotations

import numpy as np

from sla_dsl.checks.names import has_unbounded_names
from sla_dsl.diagnostics.codes import Code
from sla_dsl.diagnostics.diagnostic import Reporter
from sla_dsl.language import model as m

# The codes this module reports: one owner per code (sla_dsl/diagnostics/codes.py).
UNREACHABLE_SEGMENT = Code(
    "W500", "unreachable-segment", "a segment an earlier one always covers",
    owner=__name__, doc="docs/rules/W500.md")
NO_HANDOFF = Code(
    "W502", "segment-without-handoff", "a segment no handoff applies to",
    owner=__name__, doc="docs/rules/W502.md")
CODES = (UNREACHABLE_SEGMENT, NO_HANDOFF)


MOST_ATOMS = 14


def _atom_key(node: m.Expr) -> str:
    """Two atoms written alike are the same yes/no, wherever they stand."""
    return repr(m.without_spans(node.model_dump(mode="json")))


class _Logic:
    """Each condition as a column of yes/no over every assignment of its atoms, computed with
    numpy once per segment: a per-assignment, per-earlier-segment loop was quadratic in the
    number of segments."""

    def __init__(self, segments: dict[str, m.Expr]) -> None:
        self.segments = segments
        self.atoms: dict[str, int] = {}
        self._seen: set[str] = set()
        self._columns: dict[str, np.ndarray] = {}
        self.table = np.zeros((1, 0), dtype=bool)

    def atoms_of(self, expr: m.Expr) -> None:
        for node in m.walk_expr(expr):
            if len(self.atoms) > MOST_ATOMS:
                return
            if isinstance(node, (m.Not, m.All, m.AnyOf)):
                continue
            if isinstance(node, m.Ref) and node.name.value in self.segments:
                if node.name.value not in self._seen:  # a segment's atoms are read once
                    self._seen.add(node.name.value)
                    self.atoms_of(self.segments[node.name.value])
                continue
            self.atoms.setdefault(_atom_key(node), len(self.atoms))

    def tabulate(self) -> None:
        """Every assignment of yes/no to the atoms, one row each."""
        count = len(self.atoms)
        rows = np.arange(2 ** count)[:, None]
        self.table = ((rows >> np.arange(count)) & 1).astype(bool)

    def holds(self, expr: m.Expr) -> np.ndarray:
        if isinstance(expr, m.Not):
            return ~self.holds(expr.operand)
        if isinstance(expr, m.All):
            return np.logical_and.reduce([self.holds(o) for o in expr.operands])
        if isinstance(expr, m.AnyOf):
            return np.logical_or.reduce([self.holds(o) for o in expr.operands])
        if isinstance(expr, m.Ref) and expr.name.value in self.segments:
            name = expr.name.value
            if name not in self._columns:
                self._columns[name] = self.holds(self.segments[name])
            return self._columns[name]
        return self.table[:, self.atoms[_atom_key(expr)]]


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
                NO_HANDOFF, segment.name.span,
                f"no handoff applies to segment '{segment.name.value}'",
                f"add 'handoff {segment.name.value} to nobody' if its leads are not handed off",
            )


MOST_NAMED = 5  # earlier segments named in one W500; the rest are counted


def _check_reachable(segments: list[m.Definition], reporter: Reporter) -> None:
    if len(segments) < 2:
        return
    logic = _Logic({s.name.value: s.when for s in segments})
    for segment in segments:
        logic.atoms_of(segment.when)
    if len(logic.atoms) > MOST_ATOMS:
        return
    logic.tabulate()
    earlier: list[m.Definition] = []
    taken = np.zeros(len(logic.table), dtype=bool)  # the assignments an earlier segment takes
    for segment in segments:
        holds = logic.holds(segment.when)
        if not holds.any():
            reporter.warning(
                UNREACHABLE_SEGMENT, segment.name.span,
                f"segment '{segment.name.value}' can never match: its condition contradicts "
                "itself", "check the 'and' and 'not' in its condition")
        elif not (holds & ~taken).any():
            reporter.warning(
                UNREACHABLE_SEGMENT, segment.name.span,
                f"segment '{segment.name.value}' can never match: every lead it covers "
                f"falls in an earlier segment first ({_named(earlier)})",
                "segments are checked in order; move it up or narrow the earlier ones",
            )
        earlier.append(segment)
        taken |= holds


def _named(segments: list[m.Definition]) -> str:
    shown = ", ".join(f"'{s.name.value}'" for s in segments[:MOST_NAMED])
    hidden = len(segments) - MOST_NAMED
    return shown + (f" and {hidden} more" if hidden > 0 else "")
