"""A synthetic quarter of a New Breed-style funnel, with marketing touchpoints, for attribution.

Most leads convert on a campaign (an `engaged` event with its `campaign` and `channel`), keep
engaging with content, become MQLs and are handed to a marketing development rep (MDR) of the
region's desk; a quarter are outbound, prospected by an MDR with no campaign and no handoff. The
MDR calls until connected and books a discovery call; an inbound advisor runs it, sends the
proposal, and closes some of the deals with a last touch at the win (the seed's "closer"). Names
of reps are the ones `policies/new-breed.sla` lists; marketers and campaigns are made up.

    python -m sla_dsl.history.synthetic --profile new-breed --leads 600 --out history.csv
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np

from sla_dsl.business_time.zones import US_PER_DAY, US_PER_HOUR, US_PER_MINUTE
from sla_dsl.history.arrivals import office_hours_arrivals

TITLES = np.array(["CMO", "VP Marketing", "Head of Sales", "CEO", "Founder", "Director of Sales",
                   "Marketing Manager", "Analyst", "Sales Operations Specialist", "Student"])
INDUSTRIES = np.array(["software", "saas", "fintech", "healthtech", "professional services",
                       "retail", "education", "manufacturing"])
FORMS = np.array(["assessment request", "consultation request", "ebook", "webinar",
                  "newsletter"])
CAMPAIGNS = np.array(["ppc-revops-q1", "seo-sla-guide", "webinar-smarketing-101",
                      "ebook-lead-scoring", "abm-linkedin-saas", "nurture-email-3"])
CAMPAIGN_CHANNEL = np.array(["paid search", "organic search", "webinar", "content",
                             "paid social", "email"])
MARKETERS = np.array(["wren", "ottilie", "cassius"])  # who runs each campaign, by index % 3
MDR_US = np.array(["Inez", "Rafferty", "Solveig"])
MDR_EMEA = np.array(["Anouk", "Tobiah"])
ADVISORS = np.array(["Marguerite", "Oskar", "Leontyne"])


def generate(leads: int, start: dt.date, days: int, timezone: str = "America/New_York",
             seed: int = 7) -> dict[str, np.ndarray]:
    """The history as columns (lead_id, at as µs, event, actor and field columns)."""
    rng = np.random.default_rng(seed)
    created = office_hours_arrivals(rng, leads, start, days, ZoneInfo(timezone))
    ids = np.array([f"NB{n:05d}" for n in range(leads)])
    parts: list[dict[str, np.ndarray]] = []

    def add(mask: np.ndarray, at: np.ndarray, event: str, actor=None, **fields) -> None:
        count = int(mask.sum())
        part = {"lead_id": ids[mask], "at": at[mask].astype(np.int64),
                "event": np.full(count, event, dtype=object),
                "actor": actor[mask] if actor is not None else np.full(count, "", dtype=object)}
        part.update({name: values[mask] for name, values in fields.items()})
        parts.append(part)

    def pick(choices: np.ndarray) -> np.ndarray:
        return choices[rng.integers(0, len(choices), leads)]

    everyone = np.ones(leads, dtype=bool)
    inbound = rng.random(leads) < 0.75  # the rest an MDR prospected: no campaign, no handoff
    emea = rng.random(leads) < 0.15
    score = rng.integers(10, 100, leads)
    mdr = np.where(emea, pick(MDR_EMEA), pick(MDR_US))
    add(everyone, created, "created", np.where(inbound, "", mdr),
        email=np.array([f"contact{n}@prospect{n % 97}.example" for n in range(leads)]),
        score=score.astype(str), title=pick(TITLES), industry=pick(INDUSTRIES),
        employees=rng.integers(5, 3000, leads).astype(str),
        page_views=rng.integers(0, 15, leads).astype(str),
        content_downloads=rng.integers(0, 4, leads).astype(str),
        region=np.where(emea, "emea", "na"), last_form=pick(FORMS),
        budget=np.where(rng.random(leads) < 0.7, rng.integers(5, 60, leads) * 1000, 0)
        .astype(str),
        need=np.where(rng.random(leads) < 0.75, "sales and marketing alignment", ""),
        timeline=rng.integers(14, 180, leads).astype(str))

    # Marketing touchpoints: the converting campaign, then more content over the weeks.
    engaged_at = created.copy()
    for k in range(5):
        campaign = rng.integers(0, len(CAMPAIGNS), leads)
        touched = inbound & ((k == 0) | (rng.random(leads) < 0.55))
        add(touched, engaged_at, "engaged", MARKETERS[campaign % len(MARKETERS)],
            campaign=CAMPAIGNS[campaign], channel=CAMPAIGN_CHANNEL[campaign])
        engaged_at = engaged_at + (rng.exponential(4, leads) * US_PER_DAY).astype(np.int64)

    # An inbound MQL is handed to the region's MDR desk; an outbound lead is the MDR's own.
    mql = inbound & (score >= 40)
    handoff = np.where(inbound, created + (rng.exponential(2, leads) * US_PER_DAY).astype(np.int64)
                       + US_PER_HOUR, created)
    add(mql, handoff, "handoff", np.full(leads, "marketing", dtype=object))
    worked = mql | ~inbound
    add(worked, handoff + US_PER_MINUTE, "assigned", mdr)
    attempts = np.where(worked, rng.integers(1, 7, leads), 0)
    at = handoff + (rng.lognormal(np.log(1.5), 1.0, leads) * US_PER_HOUR).astype(np.int64)
    for k in range(int(attempts.max(initial=0))):
        if k:
            at = at + (rng.exponential(1.3, leads) * US_PER_DAY).astype(np.int64)
        add(attempts > k, at, "touch", mdr, channel=np.full(leads, "call", dtype=object))
    connected = worked & (rng.random(leads) < 0.45)
    add(connected, at + 15 * US_PER_MINUTE, "connected", mdr, channel=np.full(leads, "call",
                                                                         dtype=object))
    booked_at = at + US_PER_HOUR
    add(connected, booked_at, "updated", mdr,
        discovery_call_booked=np.full(leads, "true", dtype=object))
    # the MDR hands the SQL on to the advisors (the agreement's second level), who take it
    advisor = pick(ADVISORS)
    add(connected, booked_at + 5 * US_PER_MINUTE, "handoff", mdr)
    add(connected, booked_at + 10 * US_PER_MINUTE, "assigned", advisor)

    # The inbound advisor: discovery call, proposal, and the close.
    call = booked_at + (rng.integers(1, 4, leads) * US_PER_DAY)
    add(connected, call, "connected", advisor, channel=np.full(leads, "meeting", dtype=object))
    accepted = connected & (rng.random(leads) < 0.8)
    add(accepted, call + US_PER_HOUR, "accepted", advisor)
    add(connected & ~accepted, call + US_PER_HOUR, "rejected", advisor,
        reason=np.full(leads, "no budget this year", dtype=object))
    add(accepted, call + 2 * US_PER_DAY, "updated", advisor,
        proposal_sent=np.full(leads, "true", dtype=object))
    won = accepted & (rng.random(leads) < 0.45)
    won_at = call + (rng.exponential(18, leads) * US_PER_DAY).astype(np.int64) + 3 * US_PER_DAY
    add(won, won_at, "touch", advisor, channel=np.full(leads, "meeting", dtype=object))
    add(won, won_at, "won", advisor,
        amount=(np.round(rng.lognormal(np.log(15000), 0.35, leads) / 50) * 50).astype(int)
        .astype(str))
    lost = accepted & ~won & (rng.random(leads) < 0.6)
    add(lost, won_at, "lost", advisor, reason=np.full(leads, "chose a competitor", dtype=object))

    columns = sorted({name for part in parts for name in part})
    merged = {name: np.concatenate([
        part[name] if name in part else np.full(len(part["at"]), "", dtype=object)
        for part in parts]).astype(object) for name in columns}
    order = np.lexsort((merged["at"].astype(np.int64), merged["lead_id"].astype(str)))
    return {name: values[order] for name, values in merged.items()}
