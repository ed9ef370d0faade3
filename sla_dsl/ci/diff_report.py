"""`sla diff` as people and CI read it: text for a terminal, markdown for a pull-request
comment, GitHub annotations and SARIF for code scanning. All are views of one document (what
`--format json` prints), so no format says something the JSON does not.

Lead lists are cut to a few ids with a count in the views a person reads; the JSON has them all.
"""

from __future__ import annotations

from sla_dsl.diagnostics import github, sarif
from sla_dsl.language.plain_words import counted
from sla_dsl.printable import escape_markdown, printable

SHOWN_LEADS = 10
_KIND_WIDTH = len("reordered")


def leads_text(ids: list[str], shown: int = SHOWN_LEADS) -> str:
    head = ", ".join(ids[:shown])
    return head + (f" and {len(ids) - shown} more" if len(ids) > shown else "")


def _signed(number: int) -> str:
    return f"+{number}" if number > 0 else str(number)


def _verdict(doc: dict) -> str | None:
    gate = doc.get("gate")
    if not gate:
        return None
    word = "FAILS" if gate["failed"] else "passes"
    breaches = doc["impact"]["breaches"]
    return (f"{word} --fail-on-more-breaches {gate['limit']}: breaches {breaches['old']} -> "
            f"{breaches['new']} ({_signed(gate['change'])}), at most +{gate['limit']} allowed")


# ---------------------------------------------------------------- text


def render_text(doc: dict) -> str:
    changes = doc["changes"]
    out = [f"{doc['old']} -> {doc['new']}: "
           + (counted(len(changes), "change") if changes else "no change in meaning")]
    out += [f"  {c['change']:<{_KIND_WIDTH}}  {c['text']}" for c in changes]
    impact = doc.get("impact")
    if impact:
        out += _impact_text(impact, _history_words(doc))
    verdict = _verdict(doc)
    if verdict:
        out += ["", verdict]
    return printable("\n".join(out) + "\n")


def _history_words(doc: dict, mark: str = "") -> str:
    """The history replayed, each file between `mark`s (a backtick in markdown)."""
    files = ", ".join(f"{mark}{path}{mark}" for path in doc.get("history") or [])
    return files or f"the files {mark}{doc.get('mapping')}{mark} names"


def _impact_text(impact: dict, history: str) -> list[str]:
    breaches = impact["breaches"]
    out = ["", f"replayed over {history}: {counted(impact['leads'], 'lead', grouped=False)}, as of "
               f"{impact['as_of']}",
           f"breaches: {breaches['old']} -> {breaches['new']} ({_signed(breaches['change'])})"]
    flipped = [c for c in impact["clauses"] if c["flipped"]]
    if not flipped:
        out.append("no lead's verdict changes")
    else:
        out += ["", "clauses whose verdicts flip:"]
        for clause in flipped:
            out.append(f"  {clause['handoff']}: {_clause_words(clause)}")
            old, new = clause["old"], clause["new"]
            out.append("    " + ", ".join(f"{k} {old[k]} -> {new[k]}" for k in old
                                          if old[k] or new[k]))
            for transition, ids in clause["flips"].items():
                out.append(f"    {transition}: {counted(len(ids), 'lead')}: {leads_text(ids)}")
    if impact["owners"]:
        out += ["", "owners (breaches of their clauses):"]
        for row in impact["owners"]:
            out.append(f"  {row['owner'] or '(no owner)'}: {row['old_breached']} -> "
                       f"{row['new_breached']} ({_signed(row['change'])})")
            if row["newly_breached"]:
                out.append(f"    newly breached: {leads_text(row['newly_breached'])}")
            if row["no_longer_breached"]:
                out.append(f"    no longer breached: {leads_text(row['no_longer_breached'])}")
    out += _strikes_text(impact["strikes"]) + _actions_text(impact["actions"])
    out += _credits_text(impact["credits"])
    return out


def _clause_words(clause: dict) -> str:
    old, new = clause["old_wording"], clause["new_wording"]
    if old == new:
        return old
    return f"{old or '(not in the old version)'} -> {new or '(not in the new version)'}"


def _strikes_text(strikes: dict) -> list[str]:
    moved = [r for r in strikes["rows"] if r["gained"] or r["lost"]
             or r["old_triggered"] != r["new_triggered"]]
    if not moved and strikes["old"] == strikes["new"]:
        return []
    out = ["", f"strikes: {strikes['old']} -> {strikes['new']}"]
    for row in moved:
        out.append(f"  {row['owner']}, {row['period']} from {row['start']}: {row['old']} -> "
                   f"{row['new']} (limit {row['limit']}, then {row['then']}: "
                   f"{_triggered(row)})")
        if row["gained"]:
            out.append(f"    gained: {leads_text(row['gained'])}")
        if row["lost"]:
            out.append(f"    lost: {leads_text(row['lost'])}")
    return out


def _triggered(row: dict) -> str:
    words = {True: "triggered", False: "not triggered"}
    if row["old_triggered"] == row["new_triggered"]:
        return f"{words[row['new_triggered']]} before and after"
    return f"{words[row['old_triggered']]} -> {words[row['new_triggered']]}"


def _actions_text(actions: list[dict]) -> list[str]:
    moved = [a for a in actions if a["old"] != a["new"] or a["gained"] or a["lost"]]
    if not moved:
        return []
    out = ["", "consequence actions fired:"]
    for row in moved:
        out.append(f"  {row['action']}: {row['old']} -> {row['new']}"
                   + (f"; now also for {leads_text(row['gained'])}" if row["gained"] else "")
                   + (f"; no longer for {leads_text(row['lost'])}" if row["lost"] else ""))
    return out


def _credits_text(credits: dict) -> list[str]:
    owed = credits["credits_owed"]
    if not credits["rows"] and owed["old"] == owed["new"]:
        return []
    out = ["", f"credits owed: {owed['old']} -> {owed['new']}"]
    for row in credits["rows"]:
        out.append(f"  {row['from']} to {row['to']}: {row['deliver']} per {row['per']} from "
                   f"{row['start']}: {_period_words(row['old'])} -> {_period_words(row['new'])}")
        for key, label in (("counted_only_before", "counted only before"),
                           ("counted_only_after", "counted only after"),
                           ("value_changed", "value changed")):
            if row.get(key):
                out.append(f"    {label}: {leads_text(row[key])}")
    return out


def _period_words(period: dict | None) -> str:
    if period is None:
        return "(no such commitment)"
    state = ("missed" if period["counts_as_miss"] else "missed, in grace" if period["missed"]
             else "met" if period["complete"] else "in progress")
    credit = f", credit {', '.join(period['credits_owed'])}" if period["credits_owed"] else ""
    return f"{period['delivered']:g} / {period['goal']:g} {state}{credit}"


# ---------------------------------------------------------------- markdown


def _cell(text: object) -> str:
    """A table cell of text shown as it is (a lead id, an owner: what a CRM holds)."""
    return escape_markdown(str(text)).replace("\n", " ")


def _code(text: str | None) -> str:
    """A code span: only its pipes escaped (GitHub unescapes them even inside code spans),
    and a backtick, which would end it, shown as a quote."""
    if not text:
        return "—"
    return "`" + printable(text).replace("|", "\\|").replace("\n", " ").replace("`", "'") + "`"


def _arrow(old: object, new: object) -> str:
    return str(new) if old == new else f"{old} → {new}"


def render_markdown(doc: dict) -> str:
    """A pull-request comment: the changes as a table, then what they would have done."""
    changes = doc["changes"]
    out = [f"### Policy change: `{doc['old']}` → `{doc['new']}`", ""]
    if not changes:
        out.append("No change in meaning (layout and comments only).")
    else:
        out += [f"**{counted(len(changes), 'change')}**", "",
                "| change | where | before | after |", "| --- | --- | --- | --- |"]
        out += [f"| {c['change']} | {_cell(' › '.join(c['path']))} | {_code(c['old'])} | "
                f"{_code(c['new'])} |" for c in changes]
    impact = doc.get("impact")
    if impact:
        out += _impact_markdown(impact, _history_words(doc, "`"))
    verdict = _verdict(doc)
    if verdict:
        out += ["", ("❌ " if doc["gate"]["failed"] else "✅ ") + verdict]
    return "\n".join(out) + "\n"


def _impact_markdown(impact: dict, history: str) -> list[str]:
    breaches = impact["breaches"]
    out = ["", f"#### Replayed over {history}", "",
           f"{counted(impact['leads'], 'lead', grouped=False)}, as of {impact['as_of']}. "
           f"**Breaches: {breaches['old']} → {breaches['new']} "
           f"({_signed(breaches['change'])})**", ""]
    flipped = [c for c in impact["clauses"] if c["flipped"]]
    if not flipped:
        out.append("No lead's verdict changes.")
    else:
        out += ["| handoff | clause | met | breached | pending | leads that flip |",
                "| --- | --- | --- | --- | --- | --- |"]
        for c in flipped:
            flips = "<br>".join(f"{_cell(t.replace('->', '→'))}: {len(ids)} "
                                f"({_cell(leads_text(ids))})"
                                for t, ids in c["flips"].items())
            out.append(f"| {_cell(c['handoff'])} | {_clause_markdown(c)} | "
                       f"{_arrow(c['old']['met'], c['new']['met'])} | "
                       f"{_arrow(c['old']['breached'], c['new']['breached'])} | "
                       f"{_arrow(c['old']['pending'], c['new']['pending'])} | {flips} |")
    if impact["owners"]:
        out += ["", "| owner | breaches | newly breached | no longer breached |",
                "| --- | --- | --- | --- |"]
        out += [f"| {_cell(r['owner'] or '(no owner)')} | "
                f"{r['old_breached']} → {r['new_breached']} ({_signed(r['change'])}) | "
                f"{_cell(leads_text(r['newly_breached'])) or '—'} | "
                f"{_cell(leads_text(r['no_longer_breached'])) or '—'} |"
                for r in impact["owners"]]
    strikes, owed = impact["strikes"], impact["credits"]["credits_owed"]
    actions = [a for a in impact["actions"] if a["old"] != a["new"]]
    out += ["", f"Strikes: {_arrow(strikes['old'], strikes['new'])}. "
                f"Credits owed: {_arrow(owed['old'], owed['new'])}."
            + ("" if not actions else " Actions fired: " + ", ".join(
                f"{a['action']} {a['old']} → {a['new']}" for a in actions) + ".")]
    details = _strikes_text(strikes)[2:] + _credits_text(impact["credits"])[2:]
    if details:
        out += ["", "<details><summary>Strikes and credits, lead by lead</summary>", "",
                "```", *details, "```", "", "</details>"]
    return out


def _clause_markdown(clause: dict) -> str:
    old, new = clause["old_wording"], clause["new_wording"]
    return _code(old) if old == new else f"{_code(old)} → {_code(new)}"


# ---------------------------------------------------------------- CI annotations


def _file_of(spec: str) -> str:
    """The path inside a `REV:PATH` spec; a plain file as given."""
    rev, sep, path = spec.partition(":")
    return path if sep and len(rev) > 1 and path else spec


def render_github(doc: dict) -> str:
    """Workflow commands: a notice on the new version's line for each change, and the impact
    as a notice (an error when it fails the gate)."""
    new_file = _file_of(doc["new"])
    out = [github.annotation("notice", new_file, change["text"],
                                         title=f"policy {change['change']}",
                                         line=change["new_line"] or None)
           for change in doc["changes"]]
    impact = doc.get("impact")
    if impact:
        level = "error" if doc.get("gate", {}).get("failed") else "notice"
        message = _impact_summary(impact) + ("\n" + _verdict(doc) if doc.get("gate") else "")
        out.append(github.annotation(level, new_file, message,
                                                 title="sla diff impact"))
    return "\n".join(out) + ("\n" if out else "")


def _impact_summary(impact: dict) -> str:
    breaches = impact["breaches"]
    lines = [f"breaches {breaches['old']} -> {breaches['new']} "
             f"({_signed(breaches['change'])}) over "
             f"{counted(impact['leads'], 'lead', grouped=False)}"]
    for clause in impact["clauses"]:
        for transition, ids in clause["flips"].items():
            lines.append(f"{clause['handoff']}: {clause['clause']}: {transition}: "
                         f"{len(ids)} ({leads_text(ids)})")
    return "\n".join(lines)


_SARIF_RULES = {
    "added": "something the new version says that the old one did not",
    "removed": "something the old version said that the new one does not",
    "changed": "a statement or clause whose value changed",
    "reordered": "an order that decides which block, segment or value applies",
    "impact": "what the change would have done to the replayed history",
}


def render_sarif(doc: dict) -> str:
    """SARIF 2.1.0, for code scanning: one result per change, located in the new version,
    and one for the replay's impact (an error when it fails the gate). Not `sla check`'s
    SARIF (`diagnostics.sarif_log`): a change is no diagnostic and has no code; the rules
    here are the kinds of change."""
    new_file = _file_of(doc["new"])
    results = []
    for change in doc["changes"]:
        region = {"startLine": change["new_line"]} if change["new_line"] else None
        results.append(_sarif_result(f"policy-{change['change']}", "note", change["text"],
                                     new_file, region))
    impact = doc.get("impact")
    if impact:
        failed = bool(doc.get("gate", {}).get("failed"))
        message = _impact_summary(impact) + ("\n" + _verdict(doc) if doc.get("gate") else "")
        results.append(_sarif_result("policy-impact", "error" if failed else "note", message,
                                     new_file, None))
    rules = [sarif.rule(f"policy-{name}", text) for name, text in _SARIF_RULES.items()]
    return sarif.dumps(sarif.log("sla diff", rules, results))


def _sarif_result(rule: str, level: str, text: str, file: str, region: dict | None) -> dict:
    return sarif.result(rule, level, text, file, region=region)
