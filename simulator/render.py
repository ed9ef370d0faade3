"""`sla simulate`'s text output: per decay preset, each clause's attainment with its interval,
utilisation per team, the backlog, the months against the goals, and the consequences fired."""

from __future__ import annotations

from sla_dsl.language import model as m
from sla_dsl.language.formatter import item_line
from sla_dsl.simulator.outcomes import Decay

_ITEM_OF_CLAUSE = {"first touch": "first_touch", "touches": "touches",
                   "disposition": "disposition", "threshold": "when"}
_MONTHLY = (("leads", "leads"), ("sqls", "SQLs"), ("opportunities", "opportunities"),
            ("customers", "customers"), ("revenue", "revenue"))


def _wording(policy: m.Policy, handoff: str, clause: str) -> str:
    block = next((h for h in policy.handoffs if h.label == handoff), None)
    item = block.item(_ITEM_OF_CLAUSE.get(clause, "")) if block else None
    return item_line(item) if item is not None else clause


def _percent(estimate: dict) -> str:
    if estimate["mean"] is None:
        return "no lead decided"
    low, high = estimate["ci95"]
    interval = f" ({100 * low:.1f}-{100 * high:.1f}%)" if low is not None else ""
    return f"{100 * estimate['mean']:.1f}%{interval}"


def _count(estimate: dict, digits: int = 1) -> str:
    return "-" if estimate["mean"] is None else f"{estimate['mean']:,.{digits}f}"


def _decay_line(name: str) -> str:
    if name == "custom":
        return "decay: the scenario's own table"
    if name == "none":
        return "decay none: the base connect probability at any delay"
    points = Decay.of(name).points
    steps = ", ".join(f"x{v:.3g} at {h * 60:g} min" if h < 1 else f"x{v:.3g} at {h:g} h"
                      for h, v in points)
    return f"decay {name}: connect probability {steps}"


def render_run(policy: m.Policy, run: dict) -> list[str]:
    out = [_decay_line(run["decay"])]
    out.append(f"  leads {_count(run['leads'], 0)} a run, touches {_count(run['touches'], 0)}")
    out.append("  attainment per clause (mean, 95% interval over replications):")
    width = max((len(f"{c['handoff']}: {_wording(policy, c['handoff'], c['clause'])}")
                 for c in run["clauses"]), default=0)
    for clause in run["clauses"]:
        name = f"{clause['handoff']}: {_wording(policy, clause['handoff'], clause['clause'])}"
        wait = clause.get("mean_wait_hours", {}).get("mean")
        waited = f", mean wait {wait:.2f} elapsed h" if wait is not None else ""
        out.append(f"    {name:<{width}}  {_percent(clause['attainment'])}, breached "
                   f"{_count(clause['breached'])} a run{waited}")
        rounds = clause.get("attempts", [])
        if len(rounds) > 1:  # recycled leads handed off again: each round apart
            out.append(" " * 6 + "; ".join(
                f"attempt {r['attempt']}: {_percent(r['attainment'])} of "
                f"{_count(r['leads'])} leads" for r in rounds))
    out.append("  utilisation (touch time over open rep time):")
    for team in run["teams"]:
        reps = f"{team['reps']} rep" + ("" if team["reps"] == 1 else "s")
        out.append(f"    {team['team']}: {reps}, {_percent(team['utilisation'])}")
    backlog = run["backlog"]
    out.append(f"  backlog (touches waiting): mean {_count(backlog['mean'])}, peak "
               f"{_count(backlog['peak'])}, at the end {_count(backlog['final'])}")
    weekly = backlog["weekly_mean"]
    for row in range(0, len(weekly), 13):
        label = "by week" if row == 0 else "       "
        out.append(f"    {label}: " + " ".join(f"{w:,.0f}" for w in weekly[row:row + 13]))
    if run["months"]:
        out.append("  per month (mean a run; goal and P(goal met) over replications):")
    for month in run["months"]:
        cells = []
        for key, word in _MONTHLY:
            entry = month[key]
            cell = f"{word} {_count(entry, 0)}"
            if "goal" in entry:
                cell += f" (goal {entry['goal']:,.0f}, P {100 * entry['p_goal_met']:.0f}%)"
            cells.append(cell)
        partial = "" if month["whole"] else "  [part of the month]"
        out.append(f"    {month['month']}  " + ", ".join(cells) + partial)
    fired = [c for c in run["consequences"] if c["fired"]["mean"]]
    if fired:
        out.append("  consequences fired (mean a run):")
    for row in fired:
        to = f" to {row['to']}" if row["to"] else ""
        out.append(f"    {row['action']}{to} on {row['handoff']}: {row['clause']}  "
                   f"{_count(row['fired'])}")
    if run["strike_rules_triggered"]["mean"]:
        out.append(f"  strike limits reached: {_count(run['strike_rules_triggered'])} a run")
    life = run.get("lifecycle")
    if life:
        out.append(f"  lifecycle (mean a run): handed off again {_count(life['handed_off_again'])}"
                   f", reassigned {_count(life['reassigned'])}, rep-days absent "
                   f"{_count(life['rep_days_absent'])}")
    if run.get("team_limits_reached", {}).get("mean"):
        out.append(f"  party or team breach limits reached (periods): "
                   f"{_count(run['team_limits_reached'])} a run")
    return out


def render_text(policy: m.Policy, doc: dict) -> str:
    out = [f"{doc['policy'] or 'Policy'}: {doc['replications']} replications, seed "
           f"{doc['seed']}, from {doc['start']} for {doc['horizon_hours'] / 24:g} days, "
           f"queue discipline {doc['discipline']}"]
    out += [f"note: {note}" for note in doc.get("notes", [])]
    for run in doc["runs"]:
        out += ["", *render_run(policy, run)]
    if len(doc["runs"]) > 1:
        out += ["", "The decay presets come from observational studies (docs/simulate.md): "
                "read the runs as a range, not a forecast."]
    if "emitted" in doc:
        out += ["", f"replication 0 ({doc['emitted']['decay']}) written to "
                f"{doc['emitted']['path']}: 'sla evaluate' on it gives the same counts"]
        if doc["emitted"].get("absences"):
            out.append(f"  with its reps' absences in {doc['emitted']['absences']}: pass it "
                       "as 'sla evaluate --absences'")
        if doc["emitted"].get("reps"):
            out.append(f"  with its reps' own hours in {doc['emitted']['reps']}: pass it "
                       "as 'sla evaluate --reps'")
    return "\n".join(out) + "\n"
