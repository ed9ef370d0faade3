"""The attribution section of the report (`sla_dsl.measures.revenue` builds it) as the text
summary's lines: credit by party, person, channel and campaign, each revenue goal period by
period, and the seed's monthly recalculation from actuals beside the policy's assumptions.
"""

from __future__ import annotations

from sla_dsl.measures import coverage


def _goals_text(doc: dict) -> list[str]:
    """Each revenue goal period by period: won against the goal, each party's share, state."""
    out: list[str] = []
    for goal in doc["goals"]:
        out.append(f"  goal {goal['goal']:,.0f} {goal['currency']} per {goal['per']} "
                   "(revenue won; each party's sourced or attributed revenue against its "
                   "share):")
        for period in goal["periods"]:
            shares = "; ".join(f"{s['party']} {s['reading']} {s['measured']:,.0f} / "
                               f"{s['goal']:,.0f}" for s in period["shares"])
            state = coverage.period_verdict(period)
            out.append(f"    {period['start']}  {period['revenue']:,.0f} / {period['goal']:,.0f}"
                       + (f"; {shares}" if shares else "") + f"  {state}")
    return out


def attribution_text(doc: dict | None, *, top: int = 5) -> list[str]:
    """The attribution block of the text summary."""
    if doc is None:
        return []
    unit = f" {doc['currency']}" if doc["currency"] else ""
    model = doc["model"] + (f", half-life {doc['half_life']}" if doc["half_life"] else "")
    totals = doc["totals"]
    if not totals["deals"]:  # the goals are still missed, and the summary counts them
        return ["", f"attribution ({model}): no deal won yet", *_goals_text(doc)]
    worth = (f"{totals['amount']:,.2f}{unit}" if totals["without_amount"] < totals["deals"]
             else "none with an amount")
    out = ["", f"attribution ({model}): {_deals(totals['deals'])} won, {worth}"]
    for key, label in (("party", "parties"), ("person", "people"), ("channel", "channels"),
                       ("campaign", "campaigns")):
        shown = _credit_list(doc[f"by_{key}"], key, totals, top)
        if shown:
            out.append(f"  {label}: {shown}")
    if doc["marketing_party"] and not totals["touchpoints"]["engaged"]:
        out.append(f"  no marketing touchpoints (`engaged` events) before any win: "
                   f"{doc['marketing_party']} is credited nothing")
    if totals["without_touchpoints"]:
        out.append(f"  {_deals(totals['without_touchpoints'])} without a touchpoint before "
                   "the win: credited whole to the lead's owner")
    if totals["without_amount"]:
        out.append(f"  {_deals(totals['without_amount'])} without an amount: split as shares "
                   "of a deal, no money")
    out += _goals_text(doc)
    sheet = doc["recalculation"]
    overall, assumed = sheet["overall"], sheet["assumed"]
    out.append("  recalculated from actuals (the policy assumes):")
    out.append(f"    close rate {_maybe(overall['close_rate'], '%')} "
               f"({_maybe(assumed['close_rate'], '%')}), deal size "
               f"{_maybe(overall['deal_size'], unit)} ({_maybe(assumed['deal_size'], unit)}), "
               f"revenue from marketing-generated leads {_maybe(overall['share'], '%')} "
               f"({_maybe(assumed['share'], '%')}), sales cycle "
               f"{_maybe(overall['sales_cycle_days'], ' days')}")
    out.append(f"    {'month':<7}  {'leads':>5}  {'customers':>9}  {'close rate':>10}  "
               f"{'deal size':>10}  {'deals':>5}  {'closed':>9}  {'from marketing':>14}")
    for row in sheet["months"]:
        out.append(f"    {row['month']}  {row['marketing_generated_leads']:>5}  "
                   f"{row['became_customers']:>9}  {_maybe(row['close_rate'], '%'):>10}  "
                   f"{_maybe(row['deal_size'], ''):>10}  {row['deals_closed']:>5}  "
                   f"{row['closed_revenue']:>9,.0f}  "
                   f"{_maybe(row['share'], '%'):>14}")
    return out


def _deals(count: int) -> str:
    return f"{count} deal" if count == 1 else f"{count} deals"


_UNNAMED = {"campaign": "no campaign (sales touches)"}


def _credit_list(rows: list[dict], key: str, totals: dict, top: int) -> str:
    """The `top` named rows, then the rest in one item and the credit with no name (touches
    with no channel): the items add up to the whole, as the page's table does; the first
    five channels alone read as if they were all the revenue."""
    named = [r for r in rows if r[key] is not None]
    if not named:
        return ""
    items = [_credit(r, key, totals) for r in named[:top]]
    rest = named[top:]
    if rest:
        items.append(_credit({key: f"{len(rest)} more", "amount": sum(r["amount"] for r in rest),
                              "deals": sum(r["deals"] for r in rest)}, key, totals))
    items += [_credit(dict(r, **{key: _UNNAMED.get(key, f"no {key}")}), key, totals)
              for r in rows if r[key] is None]
    return ", ".join(items)


def _credit(row: dict, key: str, totals: dict) -> str:
    """A roll-up row: its money and share of it; its share of the deals where no money is
    known (a funnel export without deal amounts)."""
    if totals["amount"]:
        return f"{row[key]} {row['amount']:,.2f} ({100 * row['amount'] / totals['amount']:.1f}%)"
    return f"{row[key]} {row['deals']:.2f} deals ({100 * row['deals'] / totals['deals']:.1f}%)"


def _maybe(value: float | None, suffix: str) -> str:
    """A figure for the text summary, or `-` where there is no data to compute it from."""
    if value is None:
        return "-"
    return f"{value:,.1f}{suffix}" if suffix in ("%", " days") else f"{value:,.0f}{suffix}"
