"""The agreement document: the policy as the text both VPs sign.

The seed material gives an SLA's outline: a summary of the agreement; the goals of each party;
what each party needs from the other; points of contact; what happens when goals are not met;
the conditions of cancellation (and, from the New Breed article, review). It recommends the
two-column "marketing commits / sales commits" table of HubSpot's template, and the funnel
arithmetic written out: quota x marketing share = marketing-sourced revenue; / deal size =
customers; / close rate = leads.

Generating the document from the policy that `sla evaluate` enforces means the signed text and
the measured rules cannot drift apart. The document is built once as blocks (headings,
paragraphs, lists, tables) and printed as Markdown or as one self-contained HTML page, so the
two formats never say different things. Every sentence is in plain words (`plain_words`): a VP
of Sales reads it aloud without a glossary.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sla_dsl.language import model as m
from sla_dsl.language import plain_words as say
from sla_dsl.measures.attribution import marketing_party
from sla_dsl.planning.funnel import GoalPlan, daily_needs, goal_plans, plan_shares
from sla_dsl.printable import escape_html as escape
from sla_dsl.printable import escape_markdown as _md
from sla_dsl.reports.html_page import page, table

# ---------------------------------------------------------------- the document as blocks


@dataclass
class Heading:
    level: int
    text: str


@dataclass
class Paragraph:
    text: str


@dataclass
class Bullets:
    items: list[str]


@dataclass
class Table:
    headers: list[str]
    rows: list[list[str]]
    even: bool = False  # columns of equal width: the parties side by side


Block = Heading | Paragraph | Bullets | Table


@dataclass
class Agreement:
    title: str
    blocks: list[Block] = field(default_factory=list)


# ---------------------------------------------------------------- naming things in a policy


class _Names:
    """How the policy's names read in the document: `hot` -> `hot lead`, `sql` -> `SQL`."""

    def __init__(self, policy: m.Policy) -> None:
        self.policy = policy
        self.categories = {d.name.value: d.category for d in reversed(policy.definitions)}
        self.conditions = say.Conditions(policy)

    def lead(self, handoff: m.Handoff) -> str:
        """What one lead of a handoff block is called: `hot lead`, `SQL`, `lead`."""
        if handoff.target is None:
            return "lead"
        return self.kind(handoff.target.value)

    def kind(self, name: str) -> str:
        said = say.words(name)
        if name not in self.categories and said in ("lead", "leads"):
            return "lead"  # `deliver at least 600 leads`: every lead counts
        if self.categories.get(name) in ("stage", "persona") and not _adjective(said):
            return said
        return said if said.endswith("lead") else f"{said} lead"

    def party(self, name: str | None) -> str:
        return say.words(name) if name else "nobody"

    def every(self, handoff: m.Handoff) -> str:
        return f"every {self.lead(handoff)}"


def _adjective(phrase: str) -> bool:
    return phrase.endswith(("ready", "ed", "able")) or phrase in ("won", "lost")


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _role(text: str) -> str:
    """`sales manager` -> `the sales manager`, `cmo` -> `the CMO`."""
    return "the " + say.words(text)


# ---------------------------------------------------------------- what each party promises


def _clock_promises(handoff: m.Handoff, names: _Names) -> list[str]:
    """The receiving party's promises in one handoff block, as sentences."""
    every = names.every(handoff)
    spacing = handoff.item("spacing")
    out = []
    for item in handoff.items:
        if isinstance(item, m.FirstTouch):
            out.append(f"Make the first touch on {every} within {say.duration(item.within)}.")
        elif isinstance(item, m.Touches):
            text = (f"Touch {every} at least {say.counted(item.count.value, 'time')} within "
                    f"{say.duration(item.within)}")
            text += ", unless connected sooner" if item.until_connected else ""
            if isinstance(spacing, m.Spacing):
                gap = say.duration(spacing.at_least,  # its calendar named if not the window's
                                   calendar_names=_calendar(spacing.at_least)
                                   != _calendar(item.within))
                text += f"; attempts less than {gap} apart count as one"
            out.append(text + ".")
        elif isinstance(item, m.Disposition):
            out.append(f"Accept or reject {every}, with a reason, within "
                       f"{say.duration(item.within)}.")
    return out


def _threshold_promise(handoff: m.Handoff, names: _Names) -> str | None:
    threshold = handoff.item("when")
    if not isinstance(threshold, m.Threshold) or handoff.receiver is None:
        return None
    return (f"Hand {names.party(handoff.receiver.value)} {say.with_article(names.lead(handoff))} "
            f"only when it {names.conditions.words(threshold.condition)}.")


def _deliver(item: m.DeliverCount | m.DeliverMoney, names: _Names) -> str:
    if isinstance(item, m.DeliverCount):
        what = say.plural(names.kind(item.what.value)) if item.count.value != 1 \
            else names.kind(item.what.value)
        return f"at least {say.number(item.count.value)} {what} {say.per(item.per)}"
    return f"at least {say.money(item.amount)} of {item.measure} {say.per(item.per)}"


def _report(item: m.Report) -> str:
    return f"{item.subject} {say.cadence(item.cadence)}"


def _commitments(policy: m.Policy, names: _Names) -> dict[str, list[str]]:
    """Per party, in policy order, everything it commits to."""
    promises: dict[str, list[str]] = {p.name.value: [] for p in policy.parties}
    for handoff in policy.handoffs:
        threshold = _threshold_promise(handoff, names)
        if threshold and handoff.sender:
            promises.setdefault(handoff.sender.value, []).append(threshold)
        if handoff.receiver:
            promises.setdefault(handoff.receiver.value, []).extend(
                _clock_promises(handoff, names))
    for commitment in policy.commitments:
        to = names.party(commitment.receiver.value)
        for item in commitment.items:
            text = (f"Deliver {_deliver(item, names)} to {to}." if not isinstance(item, m.Report)
                    else f"Report {item.subject} to {to} {say.cadence(item.cadence)}.")
            promises.setdefault(commitment.giver.value, []).append(text)
    return promises


# ---------------------------------------------------------------- sections


def agreement(policy: m.Policy) -> Agreement:
    """The whole document, in the seed material's order."""
    names = _Names(policy)
    document = Agreement(policy.title or "Service-level agreement")
    document.blocks += _preamble(policy)
    document.blocks += _summary(policy, names)
    document.blocks += _goals(policy, names)
    document.blocks += _needs(policy, names)
    document.blocks += _contacts(policy, names)
    document.blocks += _consequences(policy, names)
    document.blocks += _cancellation(policy, names)
    document.blocks += _signatures(policy, names)
    return document


def _preamble(policy: m.Policy) -> list[Block]:
    facts = []
    version = next((s for s in policy.statements if isinstance(s, m.Version)), None)
    if version:
        facts.append(f"Version {version.text.value}.")
    facts.append(_in_force(policy.effective))
    if policy.timezone:
        facts.append(f"Times and days are {say.zone(policy.timezone)}.")
    facts.append("This document is generated from the policy file that is enforced; to change "
                 "the agreement, change the policy.")
    return [Paragraph(" ".join(facts))]


def _in_force(effective: m.Effective | None) -> str:
    if effective is None:
        return "It has no start or end date: it is in force until it is cancelled."
    start = say.date(effective.start.value)
    if effective.until is None:
        return f"In force from {start} until it is cancelled."
    return f"In force from {start} to {say.date(effective.until.value)}."


def _party_summary(policy: m.Policy, party: str, names: _Names) -> str:
    parts = []
    sends: dict[str, list[str]] = {}
    works = []
    for handoff in policy.handoffs:
        if handoff.sender and handoff.sender.value == party and handoff.receiver \
                and handoff.receiver.value != party:
            sends.setdefault(handoff.receiver.value, []).append(
                say.plural(names.lead(handoff)))
        if handoff.receiver and handoff.receiver.value == party \
                and _clock_promises(handoff, names):
            works.append(say.plural(names.lead(handoff)))
    for receiver, kinds in sends.items():
        parts.append(f"hands {say.listing(kinds)} to {names.party(receiver)}")
    if works:
        parts.append(f"works {say.listing(works)} to agreed deadlines")
    for commitment in policy.commitments:
        if commitment.giver.value != party:
            continue
        to = names.party(commitment.receiver.value)
        delivers = [_deliver(i, names) for i in commitment.items if not isinstance(i, m.Report)]
        reports = [_report(i) for i in commitment.items if isinstance(i, m.Report)]
        if delivers:
            parts.append(f"delivers {say.listing(delivers)} to {to}")
        if reports:
            parts.append(f"reports {say.listing(reports)} to {to}")
    if not parts:
        received = [names.party(c.giver.value) for c in policy.commitments
                    if c.receiver.value == party]
        givers = sorted(set(received))
        verb = "commits" if len(givers) == 1 else "commit"
        parts.append(f"receives what {say.listing(givers)} {verb} to it"
                     if received else "is a party to the agreement with no promises of its own")
    return f"{_capital(names.party(party))} {say.listing(parts)}."


def _summary(policy: m.Policy, names: _Names) -> list[Block]:
    parties = [names.party(p.name.value) for p in policy.parties]
    blocks: list[Block] = [Heading(2, "1. Summary of the agreement")]
    who = say.listing(parties) if parties else "the teams named below"
    blocks.append(Paragraph(
        f"This agreement is between {who}. It says what each promises the others, how each "
        "promise is measured, and what happens when one is not kept."))
    blocks.append(Bullets([_party_summary(policy, p.name.value, names)
                           for p in policy.parties]))
    measured = []
    if any(isinstance(i, m.FirstTouch | m.Touches | m.Disposition)
           for h in policy.handoffs for i in h.items):  # (Olist's policy has none)
        measured.append("each deadline on a lead is met or breached, lead by lead")
    if any(isinstance(i, m.DeliverCount | m.DeliverMoney)
           for c in policy.commitments for i in c.items):
        measured.append("each delivery commitment is met or missed, period by period")
    if measured:
        blocks.append(Paragraph(f"How success is measured: {'; '.join(measured)}."))
    blocks += _calendars(policy)
    return blocks


def _calendars(policy: m.Policy) -> list[Block]:
    timezone = policy.timezone or "UTC"
    if not policy.calendars:
        return [Paragraph(f"Deadlines run around the clock, {say.zone(timezone)}.")]
    if len(policy.calendars) == 1:
        calendar = policy.calendars[0]
        return [Paragraph("Deadlines in business hours and business days count only while "
                          f"the {say.words(calendar.name.value)} calendar is open: "
                          f"{say.calendar_words(calendar, timezone)}.{_owner_hours(policy)}")]
    return [Paragraph("Deadlines in business hours and business days count only while their "
                      f"calendar is open:{_owner_hours(policy)}"),
            Bullets([f"The {say.words(c.name.value)} calendar: "
                     f"{say.calendar_words(c, timezone)}." for c in policy.calendars])]


def _owner_hours(policy: m.Policy) -> str:
    """The calendar sentence's exception for the leads whose clocks run on their owner's own
    hours (`clocks run on owner hours`)."""
    labels = [h.label for h in policy.handoffs if h.on_owner_hours and h.receiver is not None]
    if not labels:
        return ""
    which = "every lead" if labels == ["every lead"] else \
        f"the leads of {say.listing([say.words(label) for label in labels])}"
    return (f" For {which}, the hours and the timezone are those of the lead's owner (each "
            "rep's own, from the reps file); the calendar's closed days and holidays close "
            "them too.")


def _goals(policy: m.Policy, names: _Names) -> list[Block]:
    blocks: list[Block] = [Heading(2, "2. Goals of each party")]
    plans = goal_plans(policy)
    for plan, share in zip(plans, plan_shares(policy), strict=True):
        blocks += _funnel(plan, share, policy, names)
    promises = {party: items for party, items in _commitments(policy, names).items() if items}
    if promises:
        blocks.append(Heading(3, "What each party commits to"))
        blocks.append(_side_by_side(promises, names))
    blocks += _measurement(policy, names)
    if len(blocks) == 1:
        blocks.append(Paragraph("The policy sets no goals or commitments yet."))
    return blocks


def _funnel(plan: GoalPlan, share: m.Share | None, policy: m.Policy,
            names: _Names) -> list[Block]:
    """The seed material's arithmetic, step by step: quota -> marketing-sourced revenue ->
    customers -> leads, each step with its sum written out. An attributed share is worded as
    credit, so the reader sees which revenue the promise counts."""
    currency = plan.currency
    period = say.per(plan.per)
    party = names.party(plan.party) if plan.party else "the teams together"
    revenue = f"{say.number(plan.revenue)} {currency}"
    sourced = f"{say.number(plan.sourced_revenue)} {currency}"
    rows = [["Revenue goal", "", f"{revenue} {period}"]]
    attributed = share is not None and share.measure == "attributed"
    if plan.party is None:  # no share line: the whole goal is what the funnel must bring
        words = [f"The revenue goal is {revenue} {period}; no party's share of it is set, so "
                 "all of it counts."]
    else:
        rows.append([f"{_capital(party)}-{'attributed' if attributed else 'sourced'} revenue",
                     f"{revenue} x {say.percent(plan.share)}", f"{sourced} {period}"])
        part = (f"{say.percent(plan.share)} is credited to {party}" if attributed
                else f"{party} sources {say.percent(plan.share)}")
        words = [f"The revenue goal is {revenue} {period}, of which {part}: {sourced} {period}."]
    if plan.customers is not None:
        customers = say.number(round(plan.customers, 2))
        rows.append(["Customers needed", f"{sourced} / {say.number(plan.deal_size)} "
                     f"{currency} a deal", f"{customers} customers {period}"])
        words.append(f"At {say.number(plan.deal_size)} {currency} a deal, that is {customers} "
                     f"new customers {period}.")
    if plan.leads is not None:
        leads = say.number(round(plan.leads, 2))
        rows.append(["Leads needed", f"{say.number(round(plan.customers, 2))} customers / "
                     f"{say.percent(plan.close_rate)} close rate", f"{leads} leads {period}"])
        words.append(f"At a {say.percent(plan.close_rate)} close rate, that is {leads} "
                     f"leads' worth {period}; the credit may come from leads any party brought "
                     "in." if attributed else
                     f"At a {say.percent(plan.close_rate)} close rate, {party} must bring in "
                     f"{leads} leads {period}.")
        words += _per_open_day(policy, plan)
    if plan.missing:
        words.append(f"The policy sets no {say.listing(plan.missing, 'or')}, so the "
                     "arithmetic stops here.")
    return [Heading(3, "The revenue goal"),
            Table(["Step", "Arithmetic", "Result"], rows),
            Paragraph(" ".join(words))]


def _per_open_day(policy: m.Policy, plan: GoalPlan) -> list[str]:
    needs = [row for row in daily_needs(policy, [plan]) if row["leads_per_day"] is not None]
    if not needs:
        return []
    first = needs[0]
    month = dt.date.fromisoformat(first["month"] + "-01")
    return [f"Over the {first['open_days']} open days of {month:%B %Y}, the first month, "
            f"that is about {say.number(first['leads_per_day'])} leads a day."]


def _side_by_side(promises: dict[str, list[str]], names: _Names) -> Table:
    """HubSpot's two columns (one per party): who is responsible for what, side by side."""
    parties = list(promises)
    depth = max(len(items) for items in promises.values())
    rows = [[promises[p][i] if i < len(promises[p]) else "" for p in parties]
            for i in range(depth)]
    return Table([f"{_capital(names.party(p))} commits" for p in parties], rows, even=True)


def _measurement(policy: m.Policy, names: _Names) -> list[Block]:
    sentences = []
    values = policy.lead_values
    if values:
        worth = [f"{say.with_article(names.kind(v.persona.value))} is worth {say.money(v.amount)}"
                 if v.persona else f"any other lead {say.money(v.amount)}" for v in values]
        sentences.append(f"Lead value: {say.listing(worth)} (the first that fits counts).")
    marketing = marketing_party(policy)
    attribution = policy.attribution
    sentences += [_share_reading(share, share.party.value == marketing, names, attribution)
                  for goal in policy.goals for share in goal.shares]
    if attribution is not None:
        sentences.append(_attribution(attribution))
    if not sentences:
        return []
    return [Heading(3, "How contributions are measured"), Bullets(sentences)]


def _share_reading(share: m.Share, is_marketing: bool, names: _Names,
                   attribution: m.Attribution | None) -> str:
    """Which revenue a party's share counts: the one question a VP of Sales asks of it."""
    party = names.party(share.party.value)
    start = f"{say.possessive(_capital(party))} share of the revenue goal is {share.measure}: " \
        "it counts "
    if share.measure == "attributed":
        credit = "below" if attribution else "(the policy sets none yet)"
        return start + f"the part of each won deal the attribution {credit} credits to {party}."
    generated = "one it handed over" + (", or one its campaigns engaged" if is_marketing
                                        else "")
    whatever = ", whatever the attribution credits" if attribution else ""
    return start + f"every deal won from a lead {party} generated ({generated}) whole{whatever}."


def _attribution(attribution: m.Attribution) -> str:
    start = "Revenue from a won deal is credited "
    if attribution.model == "first touch":
        return start + "to the first touchpoint that brought the lead in."
    if attribution.model == "last touch":
        return start + "to the last touchpoint before the win."
    if attribution.model == "linear":
        return start + "in equal shares to every touchpoint that led to it."
    half = say.duration(attribution.half_life) if attribution.half_life else "a set time"
    return (start + "to the touchpoints that led to it, more to those closer to the win: a "
            f"touch {half} before the win counts half as much as one at the win.")


def _needs(policy: m.Policy, names: _Names) -> list[Block]:
    blocks: list[Block] = [Heading(2, "3. What each party needs from the other")]
    needs: dict[tuple[str, str], list[str]] = {}
    for handoff in policy.handoffs:
        if handoff.sender and handoff.receiver and handoff.sender.value != handoff.receiver.value:
            key = (handoff.receiver.value, handoff.sender.value)
            needs.setdefault(key, []).append(
                f"{_capital(say.plural(names.lead(handoff)))}, handed over as they qualify.")
            disposition = handoff.item("disposition")
            if isinstance(disposition, m.Disposition):
                needs.setdefault((handoff.sender.value, handoff.receiver.value), []).append(
                    f"An accept or a reject, with a reason, for {names.every(handoff)} within "
                    f"{say.duration(disposition.within)}.")
    for commitment in policy.commitments:
        key = (commitment.receiver.value, commitment.giver.value)
        for item in commitment.items:
            needs.setdefault(key, []).append(
                f"A {item.subject} report {say.cadence(item.cadence)}."
                if isinstance(item, m.Report) else f"{_capital(_deliver(item, names))}.")
    for (needer, provider), items in needs.items():
        blocks.append(Heading(3, f"What {names.party(needer)} needs from "
                                 f"{names.party(provider)}"))
        blocks.append(Bullets(items))
    blocks += _definitions(policy, names)
    blocks += _routing(policy, names)
    return blocks


_CATEGORY_WORDS = {"persona": "Buyer personas", "stage": "Lifecycle stages",
                   "fit": "Fit", "interest": "Interest", "segment": "Segments"}


def _definitions(policy: m.Policy, names: _Names) -> list[Block]:
    if not policy.definitions:
        return []
    rows = []
    for definition in policy.definitions:
        name = definition.name.value
        condition = names.conditions.words(definition.when)
        said = say.words(name)
        if definition.category == "fit":
            term = f"{said} fit"
            sentence = f"A lead is {say.with_article(said)} fit when it {condition}."
        elif definition.category == "interest":
            term = f"{said} interest"
            sentence = f"A lead shows {said} interest when it {condition}."
        elif definition.category == "segment":
            term = say.plural(names.kind(name))
            kind = say.with_article(names.kind(name))
            sentence = (f"Every {names.kind(name)}, as defined above." if condition == f"is {kind}"
                        else f"A lead is {kind} when it {condition}.")
        else:
            kind = names.kind(name)
            term = kind
            subject = "A contact" if kind == "lead" else "A lead"  # not "a lead is a lead"
            sentence = (f"{subject} is {kind if _adjective(kind) else say.with_article(kind)} "
                        f"when it {condition}.")
        rows.append([_CATEGORY_WORDS[definition.category], _capital(term),
                     sentence.replace("..", ".")])
    blocks: list[Block] = [Heading(3, "What counts as what"),
                           Paragraph("Both teams use these definitions, word for word. A lead "
                                     "belongs to the first segment it fits, in this order.")
                           if policy.definitions_of("segment") else
                           Paragraph("Both teams use these definitions, word for word."),
                           Table(["Kind", "Term", "Meaning"], rows)]
    return blocks


def _assignment(handoff: m.Handoff) -> str:
    assign = handoff.item("round_robin")
    if isinstance(assign, m.RoundRobin):
        text = f"in turn among the {say.words(assign.team.value)} team"
        if assign.weights:
            shares = [f"{w.rep.value} {say.counted(w.weight.value, 'share')}"
                      for w in assign.weights]
            text += f" ({say.listing(shares)})"
        if assign.cap:
            text += (f", at most {say.number(assign.cap.count.value)} new leads "
                     f"{say.per(assign.cap.per)} each")
        if assign.open_cap:
            text += (f", {'and ' if assign.cap else ''}no more than "
                     f"{say.counted(assign.open_cap.value, 'open lead')} each at a time (a rep "
                     "holding that many is skipped until one connects or is decided)")
        return text
    owner = handoff.item("owner")
    if isinstance(owner, m.FixedOwner):
        return f"always to {owner.owner.value}"
    return ""


def _routing(policy: m.Policy, names: _Names) -> list[Block]:
    if not policy.handoffs:
        return []
    rows = []
    for handoff in policy.handoffs:
        leads = _capital(say.plural(names.lead(handoff))) if handoff.target else "Every lead"
        if handoff.receiver is None:
            rows.append([leads, names.party(handoff.sender.value) if handoff.sender else "",
                         "nobody", "not handed over"])
            continue
        notes = [_assignment(handoff)]
        for pause in (i for i in handoff.items if isinstance(i, m.Pause)):
            held = names.conditions.words(pause.condition)
            notes.append(f"every clock stops while the lead {held}")
        notes += _lifecycle_notes(handoff)
        rows.append([leads, names.party(handoff.sender.value) if handoff.sender else "",
                     names.party(handoff.receiver.value),
                     "; ".join(n for n in notes if n) or "-"])
    return [Heading(3, "How leads are handed over"),
            Paragraph("Each lead is handed over by the first line that fits it; every "
                      "deadline starts at the handoff. Unless its line says otherwise, a lead "
                      "handed over again after a rejection, a loss or a return to nurture "
                      "starts every deadline anew (a new attempt), and a lead reassigned to "
                      "another rep keeps its deadlines, the new owner answering for them."),
            Table(["Leads", "From", "To", "Who works them"], rows)]


_REASSIGN_WORDS = {
    "continue": "keeps running for the new owner, who answers for it at the due time",
    "restart": "starts again for the new owner",
    "split": "keeps running, its time before the change the old owner's and after it the new "
             "owner's",
}


def _lifecycle_notes(handoff: m.Handoff) -> list[str]:
    """What a re-handoff and a reassignment do to the block's deadlines, when it says so."""
    notes = []
    if handoff.item("rehandoff") is not None:
        notes.append("a lead handed over again after a rejection, a loss or a return to "
                     "nurture " + ("starts every deadline anew (a new attempt)"
                                   if handoff.restarts else "keeps its first deadlines"))
    for rule in (i for i in handoff.items if isinstance(i, m.OnReassign)):
        which = say.listing([c.name for c in rule.clauses]) if rule.clauses else "every clause"
        notes.append(f"when the lead is reassigned, the clock of {which} "
                     f"{_REASSIGN_WORDS[rule.mode]}")
    if handoff.on_owner_hours:
        notes.append("business time is counted on the lead's owner's own hours and timezone "
                     "(the reps file), the calendar's holidays and closed dates still closed; "
                     "an owner the file does not know works the calendar's hours")
    absent = handoff.item("owner_absent")
    if isinstance(absent, m.OwnerAbsent):
        notes.append("while the lead's owner is absent (on leave), every clock stops"
                     if absent.mode == "pause" else
                     "while the lead's owner is absent (on leave), the clocks run on: the "
                     "manager reassigns the lead")
    return notes


def _contacts(policy: m.Policy, names: _Names) -> list[Block]:
    blocks: list[Block] = [Heading(2, "4. Points of contact")]
    rows = []
    for party in policy.parties:
        who = []
        for handoff in policy.handoffs:
            if handoff.receiver and handoff.receiver.value == party.name.value:
                assign = handoff.item("round_robin")
                owner = handoff.item("owner")
                if isinstance(assign, m.RoundRobin):
                    team = f"the {say.words(assign.team.value)} team"
                    reps = [w.rep.value for w in assign.weights]
                    if not any(w.startswith(team + " (") or w == team for w in who):
                        who.append(team + (f" ({say.listing(reps)})" if reps else ""))
                elif isinstance(owner, m.FixedOwner):
                    who.append(owner.owner.value)
        unique = list(dict.fromkeys(who, None))
        rows.append([_capital(names.party(party.name.value)),
                     ", ".join(c.value for c in party.contacts) or "none named",
                     say.listing(unique) or "-"])
    blocks.append(Table(["Party", "Contact", "Who works its leads"], rows))
    escalations = _escalations(policy, names)
    if escalations:
        blocks.append(Paragraph("Escalations go to:"))
        blocks.append(Bullets(escalations))
    return blocks


def _escalations(policy: m.Policy, names: _Names) -> list[str]:
    out = []
    for consequence in policy.consequences:
        for action in consequence.actions:
            if isinstance(action, m.Escalate):
                out.append(f"{_capital(_role(action.to.value))}, when "
                           f"{_clause_event(consequence)}{_scope(consequence, names)}.")
    for rule in policy.strike_rules:
        if rule.escalate_to is not None:
            out.append(f"{_capital(_role(rule.escalate_to.value))}, when an owner reaches "
                       f"{say.counted(rule.count.value, 'strike')} in a {rule.per}.")
    return out


_BREACH_WORDS = {
    "first touch": "a first touch is late",
    "touches": "a lead does not get its touches in time",
    "disposition": "a lead is not accepted or rejected in time",
    "threshold": "a lead is handed over without meeting the bar for it",
    "spacing": "touches are closer together than agreed",
}
_MISS_WORDS = {"deliver": "a delivery commitment is missed", "report": "a report is missed",
               "goal": "the revenue goal is missed"}


def _clause_event(consequence: m.Consequence) -> str:
    table = _BREACH_WORDS if consequence.trigger == "breach" else _MISS_WORDS
    return table.get(consequence.clause.name, f"{consequence.clause.name} is missed")


def _scope(consequence: m.Consequence, names: _Names) -> str:
    label = consequence.scope_label
    if label is None or label == "every lead":
        return ""
    handoff = next((h for h in names.policy.handoffs if h.label == label), None)
    kind = names.lead(handoff) if handoff else say.words(label)
    return f" (for {say.plural(kind)} only)"


def _action(action: m.Action, consequence: m.Consequence) -> str:
    breach = consequence.trigger == "breach"
    if isinstance(action, m.Warn):
        return (f"The lead's owner is warned when {say.percent(action.at.value)} of the "
                "allowed time has passed and it is still not done.")
    if isinstance(action, m.Escalate):
        if not breach:
            return f"{_capital(_role(action.to.value))} is told."
        return f"It goes to {_role(action.to.value)} {_after(action.after, consequence)}."
    if isinstance(action, m.Reassign):
        return f"The lead is given to another rep {_after(action.after, consequence)}."
    if isinstance(action, m.Strike):
        return "The lead's owner gets a strike."
    if isinstance(action, m.Grace):
        amount = action.count.value
        if amount == 1:
            return (f"A miss in the first {action.unit} of the agreement does not count, while "
                    "the numbers settle.")
        return (f"Misses in the first {say.counted(amount, action.unit)} of the agreement do "
                "not count, while the numbers settle.")
    if isinstance(action, m.CreditShare):
        return (f"The party that missed owes a credit of {say.percent(action.percent.value)} "
                f"of the {action.of}.")
    return f"The party that missed owes a credit of {say.money(action.amount)}."


def _calendar(duration: m.Duration) -> str | None:
    return duration.calendar.value if duration.calendar else None


def _after(after: m.Duration | None, consequence: m.Consequence) -> str:
    if after is not None:
        return f"{say.duration(after)} after the deadline"
    return "at once" if consequence.clause.name == "threshold" else "at the deadline"


def _covers(policy: m.Policy, consequence: m.Consequence, names: _Names) -> str | None:
    if consequence.trigger != "miss" or consequence.clause.name != "deliver":
        return None
    lines = [f"{names.party(c.giver.value)} delivering {_deliver(i, names)}"
             for c in policy.commitments for i in c.items if not isinstance(i, m.Report)]
    return f"This covers {say.listing(lines)}." if lines else None


def _consequences(policy: m.Policy, names: _Names) -> list[Block]:
    blocks: list[Block] = [Heading(2, "5. If goals are not met")]
    for consequence in policy.consequences:
        blocks.append(Heading(3, f"When {_clause_event(consequence)}"
                                 f"{_scope(consequence, names)}"))
        items = [_action(a, consequence) for a in consequence.actions]
        covers = _covers(policy, consequence, names)
        blocks.append(Bullets(items + ([covers] if covers else [])
                              or ["It is reported; nothing more happens."]))
    for rule in policy.strike_rules:
        then = {"review": "the agreement is reviewed", "cancel": "the agreement is cancelled",
                "escalate": f"it goes to {_role(rule.escalate_to.value)}"
                if rule.escalate_to else "it is escalated"}[rule.then]
        blocks.append(Paragraph(f"Strikes: when one owner collects "
                                f"{say.counted(rule.count.value, 'strike')} in a {rule.per}, "
                                f"{then}."))
    if len(blocks) == 1:
        blocks.append(Paragraph("The agreement sets no consequences: a missed deadline or "
                                "goal is reported, and nothing more happens."))
    return blocks


def _cancellation(policy: m.Policy, names: _Names) -> list[Block]:
    items = [_in_force(policy.effective)]
    items += [f"It is cancelled when {trigger_words(c.when, names)}."
              for c in policy.cancel_triggers]
    for review in policy.reviews:
        if isinstance(review, m.ReviewEvery):
            every = review.unit if review.count.value == 1 \
                else say.counted(review.count.value, review.unit)
            items.append(f"It is reviewed every {every}.")
        else:
            items.append(f"It is reviewed sooner when {trigger_words(review.when, names)}.")
    if not policy.cancel_triggers:
        items.append("It names no condition that cancels it.")
    return [Heading(2, "6. Cancellation and review"), Bullets(items)]


def _signatures(policy: m.Policy, names: _Names) -> list[Block]:
    """Room for each party to sign: the policy is enforced, the document is what is agreed."""
    if not policy.parties:
        return []
    return [Heading(2, "Signatures"),
            Table(["Party", "Name", "Signature", "Date"],
                  [[_capital(names.party(p.name.value)), "", "", ""] for p in policy.parties])]


# ---------------------------------------------------------------- triggers in words

_COMPARE_WORDS = {"<": "fewer than", "<=": "at most", ">": "more than", ">=": "at least",
                  "==": "exactly", "!=": "other than"}
_TIME_WORDS = {"<": "less than", "<=": "at most", ">": "more than", ">=": "at least",
               "==": "exactly", "!=": "other than"}
# `attainment of CLAUSE`: the share of leads (a lead clause) or of periods (a period clause)
# in which the clause was kept, as "fewer than 90% of <this>".
_ON_TIME = {"first touch": "first touches are on time", "disposition": "dispositions are on "
            "time", "touches": "leads get their touches in time", "threshold": "handoffs "
            "meet the bar", "spacing": "leads have their touches spaced as agreed",
            "deliver": "periods meet the delivery commitment", "report": "periods have "
            "their report made as agreed", "goal": "periods meet the revenue goal"}
_STATISTIC_WORDS = {"mean": "average", "median": "median", "p90": "90th-percentile"}
_GROUP = (m.AnyTrigger, m.AllTriggers)


def trigger_words(trigger: m.Trigger, names: _Names | None = None) -> str:
    """A cancel or review trigger as a sentence part: `fewer than 30% of MQLs become SQLs`.

    Grouping is kept as conditions keep it (`plain_words.Conditions`): one operator reads as
    a plain sentence, as does one group of the other operator said last ("a and either b or
    c"); anything deeper is a numbered outline ("all of these hold: (1) ...; (2) at least one
    of these holds: (2.1) ...; (2.2) ...")."""
    trigger = _flat_trigger(trigger)
    if _inline_trigger(trigger):
        return _trigger_sentence(trigger, names)
    return _trigger_outline(trigger, "", names)


def _flat_trigger(trigger: m.Trigger) -> m.Trigger:
    """`a and (b and c)` as `a and b and c`: parentheses that change nothing add no level."""
    if not isinstance(trigger, _GROUP):
        return trigger
    operands: list[m.Trigger] = []
    for operand in (_flat_trigger(t) for t in trigger.operands):
        operands += operand.operands if type(operand) is type(trigger) else [operand]
    return trigger.model_copy(update={"operands": operands})


def _inline_trigger(trigger: m.Trigger) -> bool:
    if not isinstance(trigger, _GROUP):
        return True
    groups = [t for t in trigger.operands if isinstance(t, _GROUP)]
    return len(groups) <= 1 and all(
        not isinstance(t, _GROUP) for g in groups for t in g.operands)


def _trigger_sentence(trigger: m.Trigger, names: _Names | None) -> str:
    if not isinstance(trigger, _GROUP):
        return _trigger_atom(trigger, names)
    parts = [_trigger_atom(t, names) for t in trigger.operands if not isinstance(t, _GROUP)]
    for group in (t for t in trigger.operands if isinstance(t, _GROUP)):  # said last
        inner = [_trigger_atom(t, names) for t in group.operands]
        if isinstance(group, m.AnyTrigger):
            parts.append("either " + " or ".join(inner))
        elif len(inner) == 2:
            parts.append(f"both {inner[0]} and {inner[1]}")
        else:
            parts.append("all of: " + say.listing(inner))
    return (" or " if isinstance(trigger, m.AnyTrigger) else " and ").join(parts)


def _trigger_outline(trigger: m.AnyTrigger | m.AllTriggers, label: str,
                     names: _Names | None) -> str:
    head = "all of these hold" if isinstance(trigger, m.AllTriggers) \
        else "at least one of these holds"
    items = []
    for number, operand in enumerate(trigger.operands, 1):
        at = f"{label}.{number}" if label else str(number)
        text = _trigger_sentence(operand, names) if _inline_trigger(operand) \
            else _trigger_outline(operand, at, names)
        items.append(f"({at}) {text}")
    return f"{head}: {'; '.join(items)}"


def _rate_kind(name: str, names: _Names | None) -> str:
    return names.kind(name) if names is not None else say.words(name)


def _trigger_atom(trigger: m.Trigger, names: _Names | None) -> str:
    if isinstance(trigger, m.Missed):
        event = _MISS_WORDS.get(trigger.clause.name, f"{trigger.clause.name} is missed")
        return f"{event} {say.counted(trigger.count.value, trigger.unit)} in a row"
    if isinstance(trigger, m.MissedCount):
        who = f" by {say.words(trigger.party.value)}" if trigger.party else \
            f" by the {say.words(trigger.team.value)} team" if trigger.team else ""
        return (f"{trigger.clause.name} is breached {say.counted(trigger.count.value, 'time')} "
                f"in one {trigger.per}{who}")
    assert isinstance(trigger, m.MetricCompare)
    metric, op, value = trigger.metric, trigger.op, say.value(trigger.value)
    if isinstance(metric, m.RateMetric):
        source = say.plural(_rate_kind(metric.source.value, names))
        said = say.words(metric.target.value)
        becomes = "are won" if metric.target.value == "won" else (
            f"become {said}" if _adjective(said)
            else f"become {say.plural(_rate_kind(metric.target.value, names))}")
        return f"{_COMPARE_WORDS[op]} {value} of {source} {becomes}"
    if isinstance(metric, m.StatisticMetric):
        statistic = _STATISTIC_WORDS[metric.statistic]
        if metric.clause.name == "touches":  # a count of touches per lead, not a time
            return (f"the {statistic} number of touches per lead is {_TIME_WORDS[op]} "
                    f"{value}")
        if isinstance(trigger.value, m.Duration):
            value = say.duration(trigger.value)
        return f"the {statistic} time to {metric.clause.name} is {_TIME_WORDS[op]} {value}"
    on_time = _ON_TIME.get(metric.clause.name, f"{metric.clause.name} clauses are met")
    return f"{_COMPARE_WORDS[op]} {value} of {on_time}"


# ---------------------------------------------------------------- Markdown




def render_markdown(document: Agreement) -> str:
    lines = [f"# {_md(document.title)}", ""]
    for block in document.blocks:
        if isinstance(block, Heading):
            lines += [f"{'#' * block.level} {_md(block.text)}", ""]
        elif isinstance(block, Paragraph):
            lines += [_md(block.text), ""]
        elif isinstance(block, Bullets):
            lines += [f"- {_md(item)}" for item in block.items] + [""]
        else:
            lines.append("| " + " | ".join(_md(h) for h in block.headers) + " |")
            lines.append("|" + "|".join(" --- " for _ in block.headers) + "|")
            lines += ["| " + " | ".join(_md(c) for c in row) + " |" for row in block.rows]
            lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


# ---------------------------------------------------------------- HTML

_STYLE = """
body { font: 16px/1.5 Georgia, 'Times New Roman', serif; color: #1d1d1f; margin: 0;
       background: #fafaf7; }
main { max-width: 60rem; margin: 0 auto; padding: 2rem 1.5rem 4rem; }
h1 { font-size: 2rem; margin: 0 0 .5rem; }
h2 { font-size: 1.4rem; margin: 2.2rem 0 .6rem; border-bottom: 1px solid #c9c9c0;
     padding-bottom: .2rem; }
h3 { font-size: 1.1rem; margin: 1.5rem 0 .4rem; }
table { border-collapse: collapse; width: 100%; margin: .6rem 0 1rem; background: #fff; }
th, td { border: 1px solid #c9c9c0; padding: .45rem .6rem; text-align: left;
         vertical-align: top; }
th { background: #efeee6; }
table.even { table-layout: fixed; }
ul { padding-left: 1.4rem; }
@media print { body { background: #fff; } main { padding: 0; } }
""".strip()


def render_html(document: Agreement) -> str:
    """One page that opens anywhere, prints well and needs nothing else: CSS inline, real
    headings and tables so a screen reader and a copy into a word processor keep the form."""
    e = escape
    body = [f"<h1>{e(document.title)}</h1>"]
    for block in document.blocks:
        if isinstance(block, Heading):
            body.append(f"<h{block.level}>{e(block.text)}</h{block.level}>")
        elif isinstance(block, Paragraph):
            body.append(f"<p>{e(block.text)}</p>")
        elif isinstance(block, Bullets):
            body.append("<ul>" + "".join(f"<li>{e(i)}</li>" for i in block.items) + "</ul>")
        else:
            body.append(table(block.headers, ([e(c) for c in row] for row in block.rows),
                              css_class="even" if block.even else None))
    return page(document.title, f"\n{_STYLE}\n", "<main>\n" + "\n".join(body) + "\n</main>\n")
