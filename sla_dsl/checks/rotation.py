"""Round-robin weights across the handoffs of one team.

Leaving a rep out of a `weights` list is how a policy gives them none of those leads. When the
same team is weighted in another handoff with that rep named, the omission is more likely a
list that was not updated than a decision, so it is worth a second look. A handoff of the team
without weights shares its leads among all the team's reps and leaves nobody out.
"""

from __future__ import annotations

from sla_dsl.diagnostics.codes import Code
from sla_dsl.diagnostics.diagnostic import Reporter
from sla_dsl.language import model as m

# The codes this module reports: one owner per code (sla_dsl/diagnostics/codes.py).
REP_LEFT_OUT = Code(
    "W507", "rep-left-out", "a rep weighted in one handoff of a team but left out of another",
    owner=__name__, doc="docs/rules/W507.md")
CODES = (REP_LEFT_OUT,)


def check_rotation(policy: m.Policy, reporter: Reporter) -> None:
    weighted: dict[str, list[tuple[m.Handoff, m.RoundRobin]]] = {}
    for handoff in policy.handoffs:
        assign = handoff.item("round_robin")
        if isinstance(assign, m.RoundRobin) and assign.weights:
            weighted.setdefault(assign.team.value, []).append((handoff, assign))
    for team, uses in weighted.items():
        if len(uses) < 2:
            continue
        for handoff, assign in uses:
            named = {w.rep.value for w in assign.weights}
            for other, other_assign in uses:
                missing = [w.rep.value for w in other_assign.weights
                           if w.rep.value not in named]
                for rep in missing:
                    named.add(rep)  # one warning per rep
                    reporter.warning(
                        REP_LEFT_OUT, assign.weights[0].span.model_copy(update={
                            "end_line": assign.weights[-1].span.end_line,
                            "end_column": assign.weights[-1].span.end_column}),
                        f"'{rep}' has a weight for team \"{team}\" in handoff "
                        f"'{other.label}' but is left out here, so gets none of the "
                        f"'{handoff.label}' leads",
                        f"give '{rep}' a weight here too, or drop the weights to share "
                        "among the whole team")
