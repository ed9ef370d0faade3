"""The sentences a manager reads first, worded once from the report document: the text
summary (`sla_dsl.reports.text`) and the HTML page (`sla_dsl.reports.html`) both say them, so a
sentence in one cannot disagree with the other, or with the table under it.
"""

from __future__ import annotations

from sla_dsl.language.plain_words import counted, with_article


def headline(owed: dict) -> list[str]:
    """The counts of `owed` as the sentences a manager reads first (text and page alike)."""
    out = [f"{counted(owed['breached'], 'breach')}, "
           f"{owed['pending']:,} pending and {owed['met']:,} met, over "
           f"{counted(owed['clauses'], 'clause')} of "
           f"{counted(owed['leads'], 'lead')}."
           if owed["clauses"] else
           "No clause was judged: no handoff block set a clock for these leads."]
    out += miss_sentences(owed)
    out.append(trigger_sentence(owed))
    if owed["owners_at_strike_limit"]:
        count = owed["owners_at_strike_limit"]
        out.append(f"{counted(count, 'owner')} reached the strike limit.")
    return out


def miss_sentences(owed: dict) -> list[str]:
    """Missed commitment and revenue-goal periods, and what the misses owe."""
    out = _miss_sentence(owed["commitments"], "commitment")
    if owed["revenue_goals"] is not None:
        out += _miss_sentence(owed["revenue_goals"], "revenue goal")
    return out


def trigger_sentence(owed: dict) -> str:
    fired, total = owed["fired"], owed["triggers"]
    if not total:
        return "The policy sets no cancel, review or strike-limit trigger."
    if fired:
        return (f"{len(fired)} of {counted(total, 'trigger')} fired: "
                + "; ".join(fired) + ".")
    return f"None of the {counted(total, 'trigger')} fired."


def _miss_sentence(misses: dict, what: str) -> list[str]:
    if not misses["periods"]:
        return []
    grace = (f" ({misses['in_grace']} more missed in grace)" if misses["in_grace"] else "")
    if not misses["missed"]:
        return [f"No {what} period counts as missed{grace}, so nothing is owed for one."]
    missed = f"{counted(misses['missed'], what + ' period')} " \
             f"missed{grace}"
    owed_text = ("; owed for each: " + ", ".join(c["credit"] for c in misses["credits"])
                 if misses["credits"] else "; the policy sets no credit for a miss")
    escalated = ("; each escalated to " + ", ".join(e["to"] for e in misses["escalations"])
                 if misses["escalations"] else "")
    return [f"{missed}{owed_text}{escalated}."]


# What the teams table counts, in the text's heading and above the page's table alike.
TEAMS_COUNT = ("over every clause: those of the leads the team works, and a threshold for "
               "the team of the party that sent the lead")


def team_thresholds(team: dict) -> str | None:
    """How much of a team's row is thresholds it broke or kept as the sender ("thresholds 66
    breached, 53 met"); None for a team that sent no lead under a threshold."""
    sent = team.get("thresholds") or {}
    if not sent.get("met") and not sent.get("breached"):
        return None
    return f"thresholds {sent['breached']:,} breached, {sent['met']:,} met"


def threshold_counts(summary: dict) -> tuple[int, int]:
    """The thresholds' breached and met, over every block: what the owners' table leaves
    out."""
    thresholds = [c for c in summary["clauses"] if c["clause"] == "threshold"]
    return sum(c["breached"] for c in thresholds), sum(c["met"] for c in thresholds)


def owners_total(summary: dict) -> list[str]:
    """The owners' table summed, then what it leaves out: a threshold is the sending party's
    breach, no rep's, so a reader adds the owners up to the breaches "in short" says:
    ["all 5 owners: 282 breached, 372 met", "left out, the thresholds (the sending party's,
    under teams, no rep's): 66 breached, 53 met; with them 348 breached and 425 met"]."""
    owners = summary["owners"]
    breached, met = threshold_counts(summary)
    owners_met = sum(o["met"] for o in owners)
    owners_breached = sum(o["breached"] for o in owners)
    said = [f"all {counted(len(owners), 'owner')}: {owners_breached:,} breached, "
            f"{owners_met:,} met"]
    if met or breached:
        said.append(f"left out, the thresholds (the sending party's, under teams, no rep's): "
                    f"{breached:,} breached, {met:,} met; with them {owners_breached + breached:,}"
                    f" breached and {owners_met + met:,} met")
    return said


def delivery_words(row: dict) -> str:
    """A delivery commitment by name: "sales to marketing: at least 28 opportunity per
    month"."""
    goal = row["goal"]
    return (f"{row['from']} to {row['to']}: at least {int(goal) if goal == int(goal) else goal:,}"
            f" {row['deliver']} per {row['per']}")


def as_of_why(covered: dict) -> str | None:
    """Why the report's as-of time is the one it is; None when the history has no event, so
    that no one reads 'as of 1970' as a time somebody chose."""
    if covered["as_of"] == "given":
        return "as given: later events are ignored"
    latest = covered["latest_event"]
    return f"the latest event in the history, {with_article(latest)} event" if latest else None


def coverage_parts(covered: dict) -> list[str]:
    """The agreement's period and the days the history's leads cover (the text joins them on
    one line, the page writes them as sentences)."""
    effective = covered["effective"]
    parts = []
    if effective:
        parts.append(f"agreement in force {effective['start']}"
                     + (f" to {effective['until']}" if effective["until"] else " onwards"))
    if covered["leads_from"]:
        parts.append(f"data ends {covered['leads_until']} (leads came in from "
                     f"{covered['leads_from']})")
    return parts


def absence_sentence(absences: dict) -> str:
    """What the absences file held and did (`rows.absences`), for text and page alike."""
    read = (f"absences: {counted(absences['read'], 'row')} read, "
            f"{absences['accepted']:,} accepted, "
            f"{absences['rejected']:,} rejected")
    if not absences["pausing_blocks"]:
        return f"{read}; no handoff block says 'when owner absent pause', so none stops a clock"
    used, leads = absences["used"], absences["leads_paused"]
    return (f"{read}; {counted(used, 'absence')} paused the clocks of "
            f"{counted(leads, 'lead')} "
            f"({'block' if len(absences['pausing_blocks']) == 1 else 'blocks'} "
            f"{', '.join(absences['pausing_blocks'])})")


def unclocked_words(summary: dict, *, grouped: bool = True) -> str | None:
    """Why fewer leads were judged than were handed off, as the words after "handed off: N"
    ("271 judged; 5 in discard, to nobody"); None when every lead handed off was judged.
    `grouped`: thousands separated, as the page writes numbers (the text's `leads:` line
    does not)."""
    rows = summary.get("unclocked") or []
    if not rows:
        return None

    def n(value: int) -> str:
        return f"{value:,}" if grouped else str(value)

    parts = [f"{n(summary['owed']['leads'])} judged"]
    for row in rows:
        if row["handoff"] is None:
            parts.append(f"{n(row['leads'])} in no handoff block")
        else:
            why = "to nobody" if row["to"] is None else "which has no clause"
            parts.append(f"{n(row['leads'])} in {row['handoff']}, {why}")
    return "; ".join(parts)
