"""`warn at P%` is meant to come before anyone acts on a breach. It fires when P% of the
clause's allowed time has passed; escalations and reassignments fire at the breach or a
duration after it (see `sla_dsl/evaluation/consequences.py`). So a warning comes too late when it is
due at the breach itself (100%) while an escalation or reassignment without `after` fires at that
same moment, and never comes at all for a clause with no deadline (`threshold`; nothing on
`spacing`, which is never breached, fires at all: W515).
"""

from __future__ import annotations

from sla_dsl.diagnostics.codes import Code
from sla_dsl.diagnostics.diagnostic import Reporter
from sla_dsl.language import model as m

# The codes this module reports: one owner per code (sla_dsl/diagnostics/codes.py).
LATE_WARNING = Code(
    "W506", "late-warning", "a `warn at` that cannot fire before the breach is acted on",
    owner=__name__, doc="docs/rules/W506.md")
CODES = (LATE_WARNING,)


_NO_DEADLINE = frozenset({"threshold"})


def _overlap(a: m.Consequence, b: m.Consequence) -> bool:
    """Whether two blocks can act on the same lead: same clause, and scopes that meet."""
    return (a.clause.name == b.clause.name
            and (a.scope_label is None or b.scope_label is None
                 or a.scope_label == b.scope_label))


def _acts_at_breach(block: m.Consequence) -> list[str]:
    out = []
    for action in block.actions:
        if isinstance(action, m.Escalate) and action.after is None:
            out.append(f"the escalation to \"{action.to.value}\"")
        elif isinstance(action, m.Reassign) and action.after is None:
            out.append("the reassignment")
    return out


def check_warning_timing(policy: m.Policy, reporter: Reporter) -> None:
    blocks = [c for c in policy.consequences if c.trigger == "breach"]
    for block in blocks:
        for action in block.actions:
            if not isinstance(action, m.Warn):
                continue
            clause = block.clause.name
            if clause in _NO_DEADLINE:
                reporter.warning(
                    LATE_WARNING, action.span,
                    f"'{clause}' has no deadline to warn ahead of, so this warning never fires",
                    "remove the 'warn at' line; warn on 'first touch', 'touches' or "
                    "'disposition' instead")
                continue
            if action.at.value < 100:
                continue
            together = [what for other in blocks if _overlap(block, other)
                        for what in _acts_at_breach(other)]
            if together:
                reporter.warning(
                    LATE_WARNING, action.at.span,
                    f"'warn at {action.at.value:g}%' fires at the breach, at the same moment "
                    f"as {together[0]}, so it warns of nothing",
                    "warn earlier, such as 'warn at 75%', or give the escalation an 'after'")
