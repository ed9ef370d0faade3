"""Closed-loop attribution: every won deal's amount split over the touchpoints that led to it.

A touchpoint is a marketing `engaged` event (a form, an email click, an ad, a webinar; with its
`campaign` and `channel`) or a sales `touch` or `connected` event, of the deal's lead, at or
before the win and after the lead's previous win (a lead won twice is two deals). The policy's
`attribution` statement weighs them:

- `first touch`: the earliest touchpoint; touchpoints tied at that instant share it equally;
- `last touch`: the latest touchpoint at or before the win; ties share it equally;
- `linear`: every touchpoint equally;
- `time decay half-life D`: each touchpoint by 2^(-age / D), its age measured back from the win.

A deal with no touchpoint is credited whole to the lead's owner (the last `assigned` actor, else
the first toucher, else the actor of the `won` event), and the deal says so.

Money is split in whole cents so that the splits of a deal add up to its amount exactly: see
`ROUNDING`, which the JSON document and the language reference repeat.

Each credit names a person (the event's actor), a team and a party: a person listed in a
handoff's round robin (or as its fixed owner) belongs to that block's team and receiving party;
anyone else takes the team and receiving party of the block their lead was handed to, and an
`engaged` event belongs to the marketing party (the party called `marketing`, else the one that
sends leads and receives none).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from zoneinfo import ZoneInfo

import numpy as np

from sla_dsl.business_time.zones import US_PER_DAY, local_dates
from sla_dsl.evaluation.conditions import UNIT_DAYS
from sla_dsl.evaluation.instants import iso_many
from sla_dsl.evaluation.replay import NONE, Evaluation
from sla_dsl.history.columns import EVENT_CODE, History
from sla_dsl.language import model as m

ROUNDING = (
    "each amount is first rounded to the cent (half away from zero); each split is its share "
    "of the amount rounded down to the cent, and the cents left over go one each to the splits "
    "that lost the most in rounding (the earlier touchpoint first on a tie), so the splits of "
    "a deal add up to its amount exactly"
)
TOUCHPOINT_EVENTS = ("engaged", "touch", "connected")
_TOUCHPOINT_CODES = np.array([EVENT_CODE[e] for e in TOUCHPOINT_EVENTS])


# ============================================================================ the arithmetic


LARGEST_CENTS = 2**53  # sums of cents stay exact in float64 up to here (90 trillion)


def _number(text: str | None) -> Decimal | None:
    if text is None:
        return None
    try:
        value = Decimal(str(text).strip().replace("_", ""))
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def to_cents(text: str | None) -> int | None:
    """A won event's `amount` in whole cents, or None when it is missing, not a number or
    beyond `LARGEST_CENTS` (`amount_problem` says which)."""
    value = _number(text)
    if value is None or abs(value) * 100 >= LARGEST_CENTS:
        return None
    return int((value * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def amount_problem(text: str | None) -> str:
    """Why `to_cents` gave no amount, in the words of a deal's note."""
    if text is None:
        return "no amount"
    return f"amount {text!r} is {'not a number' if _number(text) is None else 'too large'}"


def half_life_us(attribution: m.Attribution) -> float | None:
    """The half-life as elapsed microseconds (months and years at their average length)."""
    duration = attribution.half_life
    if duration is None:
        return None
    return float(duration.amount) * UNIT_DAYS[duration.unit] * US_PER_DAY


def shares(model: str, at: np.ndarray, won_at: int, half_life: float | None = None) -> np.ndarray:
    """Each touchpoint's share of one deal (they add up to 1), by the attribution model."""
    at = np.asarray(at, dtype=np.int64)
    return weights_by_deal(model, np.zeros(len(at), dtype=np.int64), at,
                           np.array([won_at], dtype=np.int64), half_life)


def split_cents(total: int, parts: Sequence[float]) -> list[int]:
    """`total` cents of one deal split by `parts` (shares adding up to 1) in whole cents that
    add up to `total` exactly: the largest-remainder rule of `ROUNDING`."""
    parts = np.asarray(parts, dtype=float)
    return split_by_deal(np.array([total], dtype=np.int64),
                         np.zeros(len(parts), dtype=np.int64), parts).tolist()


def _runs(deal: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each deal's run of rows starts, and each row's run number (`deal` is sorted)."""
    first = np.r_[True, deal[1:] != deal[:-1]]
    return np.flatnonzero(first), np.cumsum(first) - 1


def _per_run(ufunc: np.ufunc, values: np.ndarray, starts: np.ndarray,
             run: np.ndarray) -> np.ndarray:
    """`ufunc` reduced over each deal's rows, read back per row."""
    return ufunc.reduceat(values, starts)[run]


def weights_by_deal(model: str, deal: np.ndarray, at: np.ndarray, won_at: np.ndarray,
                    half_life: float | None = None) -> np.ndarray:
    """Each touchpoint's share of its deal, for many deals at once: `deal` (sorted) says whose
    touchpoint a row is, `won_at` is per deal.

    Time decay is computed relative to each deal's youngest touchpoint, so that touchpoints
    years old still weigh something instead of all underflowing to zero."""
    if model == "time decay" and not (half_life and half_life > 0):
        raise ValueError("time decay needs a half-life above zero")
    if model not in ("first touch", "last touch", "linear", "time decay"):
        raise ValueError(f"unknown attribution model {model!r}")
    if len(deal) == 0:
        return np.zeros(0)
    starts, run = _runs(deal)
    if model == "first touch":
        weights = (at == _per_run(np.minimum, at, starts, run)).astype(float)
    elif model == "last touch":
        weights = (at == _per_run(np.maximum, at, starts, run)).astype(float)
    elif model == "linear":
        weights = np.ones(len(at))
    else:
        age = (won_at[deal] - at).astype(float)
        weights = np.exp2(-(age - _per_run(np.minimum, age, starts, run)) / half_life)
    return weights / _per_run(np.add, weights, starts, run)


def split_by_deal(total: np.ndarray, deal: np.ndarray, share: np.ndarray) -> np.ndarray:
    """Cents per row for many deals at once: `total` cents per deal, `deal` (sorted) and
    `share` per row. Each row gets its share rounded down; the cents a deal has left go one
    each to its rows that lost the most, the earlier row first on a tie."""
    if len(deal) == 0:
        return np.zeros(0, dtype=np.int64)
    magnitude = np.abs(total)
    raw = share * magnitude[deal]
    base = np.floor(raw).astype(np.int64)
    starts, run = _runs(deal)
    left = magnitude[deal[starts]] - np.add.reduceat(base, starts)
    lost = np.round(raw - base, 9)
    order = np.lexsort((np.arange(len(raw)), -lost, deal))  # most lost first, earlier on a tie
    rank = np.arange(len(order)) - starts[run[order]]
    base[order] += rank < left[run[order]]
    return np.sign(total)[deal] * base


# ============================================================================ deals and credits


@dataclass(frozen=True)
class Credit:
    """One touchpoint's part of one deal (or the owner's whole deal when it had none)."""

    at: int | None
    event: str  # engaged, touch, connected, or "owner" for a deal without touchpoints
    person: str | None
    team: str | None
    party: str | None
    campaign: str | None
    channel: str | None
    share: float
    cents: int | None


@dataclass(frozen=True)
class Deal:
    lead: int
    won_at: int
    cents: int | None
    month: str  # local YYYY-MM of the win
    closer: str | None  # the actor of the `won` event
    owner: str | None
    note: str | None
    credits: list[Credit]


@dataclass
class Attribution:
    """The deals of an evaluation and their credits, as columns (a quarter of a busy team is a
    hundred thousand deals). Deals are in lead and time order; credits are grouped by deal, in
    the order of the deal's touchpoints. `cents` is 0 where a deal has no amount (`priced`)."""

    model: m.Attribution
    marketing: str | None
    # per deal
    lead: np.ndarray
    won_at: np.ndarray
    cents: np.ndarray
    priced: np.ndarray
    amount_text: np.ndarray
    closer: np.ndarray
    owner: np.ndarray
    month: np.ndarray
    # per credit
    deal: np.ndarray
    at: np.ndarray  # NONE for an owner's credit
    event: np.ndarray
    person: np.ndarray
    team: np.ndarray
    party: np.ndarray
    campaign: np.ndarray
    channel: np.ndarray
    share: np.ndarray
    credit_cents: np.ndarray

    @property
    def deal_count(self) -> int:
        return len(self.lead)

    @property
    def without_touchpoints(self) -> np.ndarray:
        """Per deal: credited whole to its owner for want of a touchpoint."""
        owner = np.zeros(self.deal_count, dtype=bool)
        owner[self.deal[self.event == "owner"]] = True
        return owner

    def notes(self) -> list[str | None]:
        """Per deal, what a reader must know: no touchpoint, no amount."""
        owner = self.without_touchpoints
        person = np.full(self.deal_count, None, dtype=object)
        person[self.deal[self.event == "owner"]] = self.person[self.event == "owner"]
        notes = []
        for i in range(self.deal_count):
            parts = []
            if owner[i]:
                parts.append(f"no touchpoints before the win: all credit to the owner, "
                             f"{person[i]}" if person[i] is not None else
                             "no touchpoints before the win and no owner: credited to no one")
            if not self.priced[i]:
                parts.append(amount_problem(self.amount_text[i]))
            notes.append("; ".join(parts) or None)
        return notes

    @property
    def deals(self) -> list[Deal]:
        """The deals as objects, for a person or a test reading a few of them."""
        bounds = np.searchsorted(self.deal, np.arange(self.deal_count + 1))
        notes = self.notes()
        out = []
        for i in range(self.deal_count):
            rows = range(bounds[i], bounds[i + 1])
            cents = int(self.cents[i]) if self.priced[i] else None
            credits = [Credit(
                None if self.at[r] == NONE else int(self.at[r]), self.event[r], self.person[r],
                self.team[r], self.party[r], self.campaign[r], self.channel[r],
                float(self.share[r]), int(self.credit_cents[r]) if cents is not None else None)
                for r in rows]
            out.append(Deal(int(self.lead[i]), int(self.won_at[i]), cents, self.month[i],
                            self.closer[i], self.owner[i], notes[i], credits))
        return out


def marketing_party(policy: m.Policy) -> str | None:
    """Whose touchpoints `engaged` events are: the party called `marketing`, else the one
    party that sends leads to another and receives none."""
    names = [p.name.value for p in policy.parties]
    if "marketing" in names:
        return "marketing"
    passes = [(h.sender.value, h.receiver.value) for h in policy.handoffs
              if h.sender and h.receiver and h.sender.value != h.receiver.value]
    starts = sorted({s for s, _ in passes} - {r for _, r in passes})
    return starts[0] if len(starts) == 1 else None


def roster(policy: m.Policy) -> dict[str, tuple[str | None, str | None]]:
    """Person -> (team, party) for everyone a handoff names (round-robin reps, fixed owners);
    the first block that names a person decides."""
    found: dict[str, tuple[str | None, str | None]] = {}
    for handoff in policy.handoffs:
        party = handoff.receiver.value if handoff.receiver else None
        for item in handoff.items:
            if isinstance(item, m.RoundRobin):
                for weight in item.weights:
                    found.setdefault(weight.rep.value, (handoff.team, party))
            elif isinstance(item, m.FixedOwner):
                found.setdefault(item.owner.value, (handoff.team, party))
    return found


def _deal_of(tp_lead: np.ndarray, tp_at: np.ndarray, deal_lead: np.ndarray,
             deal_at: np.ndarray) -> np.ndarray:
    """Per touchpoint, the deal it counts for: its lead's first win at or after it (so after
    the lead's previous win); -1 when the lead won nothing after it. Both inputs are sorted by
    lead and time."""
    if len(deal_lead) == 0 or len(tp_lead) == 0:
        return np.full(len(tp_lead), -1, dtype=np.int64)
    lead = np.r_[tp_lead, deal_lead]
    is_deal = np.r_[np.zeros(len(tp_lead), dtype=bool), np.ones(len(deal_lead), dtype=bool)]
    order = np.lexsort((is_deal, np.r_[tp_at, deal_at], lead))  # a touch before a win at once
    position = np.empty(len(order), dtype=np.int64)
    position[order] = np.arange(len(order))
    wins = np.flatnonzero(is_deal[order])  # deal k is the k-th win in that order (stable sort)
    k = np.searchsorted(wins, position[: len(tp_lead)])
    found = np.minimum(k, len(deal_lead) - 1)
    return np.where((k < len(deal_lead)) & (deal_lead[found] == tp_lead), found, -1)


class _People:
    """Team and party of each credited person: the roster, else the lead's handoff block;
    `engaged` events are the marketing party's."""

    def __init__(self, evaluation: Evaluation, marketing: str | None) -> None:
        policy = evaluation.policy
        self.roster = roster(policy)
        self.marketing = marketing
        blocks = {h.label: (h.team, h.receiver.value if h.receiver else None)
                  for h in policy.handoffs}
        self.lead_team = np.full(evaluation.lead_count, None, dtype=object)
        self.lead_party = np.full(evaluation.lead_count, None, dtype=object)
        worked = evaluation.handoff if evaluation.handoff_any_period is None \
            else evaluation.handoff_any_period  # a lead out of the period is worked all the same
        for label, (team, party) in blocks.items():
            chosen = worked == label
            self.lead_team[chosen], self.lead_party[chosen] = team, party

    def of(self, person: np.ndarray, lead: np.ndarray,
           engaged: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        team = np.where(engaged, self.marketing, self.lead_team[lead]).astype(object)
        party = np.where(engaged, self.marketing, self.lead_party[lead]).astype(object)
        for name, (their_team, their_party) in self.roster.items():
            chosen = person == name
            if chosen.any():
                team[chosen], party[chosen] = their_team, their_party
        return team, party


def _field(history: History, name: str, rows: np.ndarray) -> np.ndarray:
    column = history.fields.get(name)
    if column is None:
        return np.full(len(rows), None, dtype=object)
    return column[rows]


def months(us: np.ndarray, zone: ZoneInfo) -> np.ndarray:
    """Local YYYY-MM of each instant (each month's text written once)."""
    month = local_dates(us, zone).astype("datetime64[M]").astype(np.int64)
    if not month.size:
        return np.empty(0, dtype=object)
    first = int(month.min())
    span = np.arange(first, int(month.max()) + 1).astype("datetime64[M]")
    return np.datetime_as_string(span).astype(object)[month - first]


def attribute(evaluation: Evaluation) -> Attribution | None:
    """Every deal won by the as-of time, split by the policy's model; None without one."""
    statement = evaluation.policy.attribution
    if statement is None:
        return None
    history = evaluation.history
    marketing = marketing_party(evaluation.policy)
    people = _People(evaluation, marketing)
    names = np.array([*history.actors, None], dtype=object)  # NO_ACTOR (-1) reads None
    seen = history.at <= evaluation.as_of

    won_rows = np.flatnonzero(seen & (history.event == EVENT_CODE["won"]))
    lead, won_at = history.lead[won_rows], history.at[won_rows]
    amount_text = _field(history, "amount", won_rows)
    distinct = {text: to_cents(text) for text in set(amount_text.tolist())}  # few amounts
    cents = np.array([distinct[t] for t in amount_text.tolist()], dtype=object)
    priced = cents != None  # noqa: E711 (elementwise on objects)
    cents = np.where(priced, cents, 0).astype(np.int64)
    closer = names[history.actor[won_rows]]
    owner = evaluation.owner[lead]

    won_lead = np.zeros(len(history.lead_ids), dtype=bool)
    won_lead[lead] = True
    rows = np.flatnonzero(seen & np.isin(history.event, _TOUCHPOINT_CODES)
                          & won_lead[history.lead])
    deal = _deal_of(history.lead[rows], history.at[rows], lead, won_at)
    rows, deal = rows[deal >= 0], deal[deal >= 0]
    at = history.at[rows]
    share = weights_by_deal(statement.model, deal, at, won_at, half_life_us(statement))
    event = np.array([*EVENT_CODE], dtype=object)[history.event[rows]]
    person = names[history.actor[rows]]
    team, party = people.of(person, history.lead[rows], event == "engaged")

    bare = np.setdiff1d(np.arange(len(won_rows)), deal)  # deals without a touchpoint
    bare_person = np.where(owner[bare] != None, owner[bare], closer[bare])  # noqa: E711
    bare_team, bare_party = people.of(bare_person, lead[bare], np.zeros(len(bare), bool))
    nothing = np.full(len(bare), None, dtype=object)
    deal = np.r_[deal, bare]
    order = np.argsort(deal, kind="stable")
    deal = deal[order]
    share = np.r_[share, np.ones(len(bare))][order]

    def join(touchpoints: np.ndarray, owners: np.ndarray) -> np.ndarray:
        return np.r_[touchpoints.astype(object), owners.astype(object)][order]

    return Attribution(
        model=statement, marketing=marketing, lead=lead, won_at=won_at, cents=cents,
        priced=priced, amount_text=amount_text, closer=closer, owner=owner,
        month=months(won_at, ZoneInfo(evaluation.policy.timezone or "UTC")),
        deal=deal, at=np.r_[at, np.full(len(bare), NONE, dtype=np.int64)][order],
        event=join(event, np.full(len(bare), "owner", dtype=object)),
        person=join(person, bare_person), team=join(team, bare_team),
        party=join(party, bare_party),
        campaign=join(_field(history, "campaign", rows), nothing),
        channel=join(_field(history, "channel", rows), nothing),
        share=share, credit_cents=split_by_deal(cents, deal, share))


# ============================================================================ roll-ups

ROLLUPS = ("person", "team", "party", "campaign", "channel")


def group(keys: np.ndarray) -> tuple[list, np.ndarray]:
    """The distinct values of an object column (None kept apart from any text) and, per row,
    the index of its value."""
    text = np.array(["" if k is None else f"={k}" for k in keys.tolist()], dtype=object)
    distinct, inverse = np.unique(text.astype(str), return_inverse=True)
    return [None if d == "" else d[1:] for d in distinct.tolist()], inverse


def rollup(result: Attribution, key: str) -> list[dict]:
    """Credit per person, team, party, campaign or channel (or `month` of the win): the amount
    credited, the deals (each deal's shares add up to 1) and the touchpoints that earned it;
    most credited first."""
    credited = result.share > 0
    keys = (result.month[result.deal] if key == "month" else getattr(result, key))[credited]
    names, index = group(keys)
    size = len(names)
    cents = np.bincount(index, weights=result.credit_cents[credited], minlength=size)
    deals = np.bincount(index, weights=result.share[credited], minlength=size)
    touchpoints = np.bincount(index, weights=result.event[credited] != "owner", minlength=size)
    rows = [{key: name, "amount": int(c) / 100, "deals": round(float(d), 4),
             "touchpoints": int(t)}
            for name, c, d, t in zip(names, cents.tolist(), deals.tolist(),
                                     touchpoints.tolist(), strict=True)]
    if key == "month":
        return rows  # in month order already
    return sorted(rows, key=lambda r: (-r["amount"], -r["deals"], str(r[key])))


def party_credit(result: Attribution | None, party: str) -> tuple[np.ndarray, np.ndarray]:
    """What `party` was credited, deal by deal (in currency units), and the instants of the
    wins: what a revenue commitment of that party is measured with."""
    if result is None:
        return np.zeros(0), np.zeros(0, dtype=np.int64)
    theirs = result.party == party
    cents = np.bincount(result.deal[theirs], weights=result.credit_cents[theirs],
                        minlength=result.deal_count)
    return cents / 100, result.won_at


def deal_records(result: Attribution, evaluation: Evaluation, zone: ZoneInfo) -> list[dict]:
    """Each deal with its splits, as plain data for the JSON document and the HTML report."""
    lead_ids = evaluation.history.lead_ids
    won_at = iso_many(result.won_at, zone)
    at = iso_many(result.at, zone)
    bounds = np.searchsorted(result.deal, np.arange(result.deal_count + 1)).tolist()
    share = np.round(100 * result.share, 2).tolist()
    cents = result.credit_cents.tolist()
    notes = result.notes()
    records = []
    for i in range(result.deal_count):
        priced = bool(result.priced[i])
        records.append({
            "lead_id": str(lead_ids[result.lead[i]]), "won_at": won_at[i],
            "month": result.month[i],
            "amount": int(result.cents[i]) / 100 if priced else None,
            "closer": result.closer[i], "owner": result.owner[i], "note": notes[i],
            "splits": [{
                "at": at[r], "event": result.event[r], "person": result.person[r],
                "team": result.team[r], "party": result.party[r],
                "campaign": result.campaign[r], "channel": result.channel[r],
                "share": share[r], "amount": cents[r] / 100 if priced else None,
            } for r in range(bounds[i], bounds[i + 1])],
        })
    return records
