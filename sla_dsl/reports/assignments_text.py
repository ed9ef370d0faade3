"""The assignments section of the report (`sla_dsl.measures.assignments` builds it) as the
text summary's lines: each rep's share of a block's leads against its weight, and the cap.
"""

from __future__ import annotations

from sla_dsl.language.plain_words import counted


def assignments_text(summaries: list[dict]) -> list[str]:
    """A line per rep of each block whose distribution was not as the policy says."""
    out = []
    for block in summaries:
        if not any(r["assigned"] for r in block["reps"]):
            continue
        rule = block["rule"] + (f" (team {block['team']})" if block["team"] else "") + (
            f", cap {block['cap']['count']} per {block['cap']['per']}" if block["cap"] else "") + (
            f", cap {block['open_cap']} open leads" if block.get("open_cap") else "")
        unit = dealt_unit(block)
        out += ["", f"assignments in {block['handoff']}: {rule}, {dealt_words(block)}"
                    + (f", {block['unassigned']} never assigned" if block["unassigned"] else "")]
        out += _rotation_unused(block["reps"])
        for rep in block["reps"]:
            share = "-" if rep["share"] is None else f"{rep['share']:.1f}%"
            counted_as = (unit[:-1] if rep["assigned"] == 1 else unit).ljust(len(unit))
            line = (f"  {rep['rep']:<20} {rep['assigned']:>6,} {counted_as}  {share:>6} of them, "
                    + (f"promised {rep['expected_share']:.1f}%" if rep["in_rotation"]
                       else "not in the rotation"))
            if block["cap"]:
                line += (f"; at cap {rep['periods_at_cap']}x, skipped for "
                         f"{rep['skipped_at_cap']}, over cap {rep['over_cap']}")
            out.append(line)
            if "open_cap" in rep:
                out += _open_cap_lines(rep["open_cap"])
    return out


def _rotation_unused(reps: list[dict]) -> list[str]:
    """A line when the rotation's reps got none of the leads that went to reps outside it:
    rep by rep, "0 leads" reads as a rep left out, where the likely cause is the policy
    naming the team's reps otherwise than the CRM does."""
    rotation = [r["rep"] for r in reps if r["in_rotation"]]
    if not rotation or any(r["assigned"] for r in reps if r["in_rotation"]):
        return []
    return [f"  none of the rotation's reps ({', '.join(rotation)}) was assigned a lead: every "
            "lead went to a rep outside it; check that the policy names the reps as the "
            "history does"]


def dealt_unit(block: dict) -> str:
    """What a block's counts are of: its leads, or where a recycled lead was dealt again in a
    later round, its handoffs (each round is a deal of its own)."""
    return "leads" if block.get("handoffs", block["leads"]) == block["leads"] else "handoffs"


def dealt_words(block: dict) -> str:
    """A block's deals in words, both numbers when they differ: "119 leads", or "208
    handoffs of 192 leads (16 of them a recycled lead's handoff again)"."""
    handoffs = block.get("handoffs", block["leads"])
    if handoffs == block["leads"]:
        return counted(block["leads"], "lead")
    return (f"{handoffs:,} handoffs of {counted(block['leads'], 'lead')} "
            f"({handoffs - block['leads']:,} of them a recycled lead's handoff again)")


def _open_cap_lines(held: dict) -> list[str]:
    """Who held too many open leads, and when the rotation passed them over."""
    line = (f"    open leads: at most {held['most_open']} at once, skipped at the cap for "
            f"{held['skipped']}, over the cap {held['over']}")
    skips = held["latest_skips"][-3:]
    if skips:
        line += "; latest skipped at " + ", ".join(
            f"{s['at']} ({s['lead_id']} went to {s['went_to']})" for s in skips)
    return [line]
