"""The assignments section of the report (`sla_dsl.measures.assignments` builds it) as the
text summary's lines: each rep's share of a block's leads against its weight, and the cap.
"""

from __future__ import annotations


def assignments_text(summaries: list[dict]) -> list[str]:
    """A line per rep of each block whose distribution was not as the policy says."""
    out = []
    for block in summaries:
        if not any(r["assigned"] for r in block["reps"]):
            continue
        rule = block["rule"] + (f" (team {block['team']})" if block["team"] else "") + (
            f", cap {block['cap']['count']} per {block['cap']['per']}" if block["cap"] else "")
        out += ["", f"assignments in {block['handoff']}: {rule}, {block['leads']} leads"
                    + (f", {block['unassigned']} never assigned" if block["unassigned"] else "")]
        for rep in block["reps"]:
            share = "-" if rep["share"] is None else f"{rep['share']:.1f}%"
            line = (f"  {rep['rep']:<20} {rep['assigned']:>6} leads  {share:>6} of them, "
                    + (f"weight {rep['expected_share']:.1f}%" if rep["in_rotation"]
                       else "not in the rotation"))
            if block["cap"]:
                line += (f"; at cap {rep['periods_at_cap']}x, skipped for "
                         f"{rep['skipped_at_cap']}, over cap {rep['over_cap']}")
            out.append(line)
    return out
