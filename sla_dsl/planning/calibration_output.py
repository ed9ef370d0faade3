"""A calibration as the scenario TOML it implies, as a goodness-of-fit report, and as JSON.

The TOML is written by hand (the project reads TOML with the standard library and writes so
little of it that a writer dependency would not pay): every figure has a comment saying what in
the history it came from, so that a planner who edits the file knows what they are overriding.
"""

from __future__ import annotations

import dataclasses
import json
import re
import textwrap

from sla_dsl.planning.calibration import (
    MIN_WORK_SAMPLE,
    WEEKDAYS,
    Arrivals,
    Calibration,
    SimulatorView,
)
from sla_dsl.planning.fitting import Fit, duration_words, round_figure

DEFAULT_TOUCH = "exponential 12 minutes"
_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _key(name: str) -> str:
    return name if _BARE_KEY.match(name) else json.dumps(name)


_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def _toml_line(line: str) -> str:
    """A line as TOML allows it: comments hold names and paths from the history, and TOML
    forbids control characters anywhere (a NUL in a rep's name made the written scenario
    unreadable; a newline in a file name would end its comment). Shown as escapes instead;
    values are JSON strings, which escape their own."""
    return _CONTROL.sub(lambda found: f"\\u{ord(found.group()):04x}", line)


def _string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _shares(mix: dict[str, float]) -> dict[str, str]:
    """Shares to four places that still sum to exactly 1 (the scenario insists): the
    rounding's remainder goes to the largest share."""
    ten_thousandths = {k: round(v * 10_000) for k, v in mix.items()}
    largest = max(mix, key=mix.__getitem__)
    ten_thousandths[largest] += 10_000 - sum(ten_thousandths.values())
    return {k: f"{v / 10_000:.4f}" for k, v in ten_thousandths.items()}


def _names(actors: list[str]) -> str:
    """A few of the team's names, enough to recognise it (CRM ids are long)."""
    shown = [a if len(a) <= 16 else a[:8] + "..." for a in actors[:6]]
    return ", ".join(shown) + (f" and {len(actors) - 6} more" if len(actors) > 6 else "")


def _fit_comment(fits: list[Fit], what: str) -> str:
    best = fits[0]
    if best.family == "fixed":
        return f"# {what}: {best.n} values, every one the same"
    others = ", ".join(f"{f.family} {f.aic:.0f}" for f in fits[1:])
    return (f"# {what}: {best.n} values; {best.family} has the lowest AIC ({best.aic:.0f}"
            + (f"; {others}" if others else "") + f"), KS p = {best.ks_p:.3f}")


def _rate_words(per_hour: float) -> str:
    for unit, hours in (("hour", 1), ("day", 24), ("week", 168)):
        if per_hour * hours >= 1:
            return f"{round_figure(per_hour * hours)} per {unit}"
    return f"{round_figure(per_hour * 730.5)} per month"


def _profile_lines(arrivals: Arrivals) -> list[str]:
    rows = []
    for index, row in enumerate(arrivals.profile):
        cells = ", ".join(f"{v:.3g}" for v in row)
        rows.append(f"  [{cells}],  # {WEEKDAYS[index]}")
    return ["profile = [", *rows, "]"]


def scenario_toml(cal: Calibration, source: str, view: SimulatorView | None = None) -> str:
    """The scenario the calibration implies, every figure commented with its source; `view`
    (the simulator's answer on a draft of this file) adds whether `sla simulate` runs it and
    the room its teams leave for a response."""
    a = cal.arrivals
    last = a.first_day.toordinal() + a.days - 1
    out = [f"# Calibrated by `sla calibrate` from {source}",
           f"# against the policy {cal.policy or '(untitled)'!s}: {cal.leads} leads, times in "
           f"{cal.timezone}.",
           "# Every figure says what it came from; edit freely to ask what-if questions."]
    if view is not None and view.refusal is not None:
        out += ["# sla simulate refuses this scenario as written, whatever the history says:",
                *(f"#   {line}" for line in view.refusal.splitlines())]
    out += ["",
           f"# the history's own span ({a.first_day} to "
           f"{a.first_day.fromordinal(last)}); change both to plan another period",
           f'horizon = "{a.days} days"', f"start = {a.first_day.isoformat()}", "",
           "[arrivals]",
           f"# {a.count} {'handed-off' if a.source == 'handoff' else 'created'} leads over "
           f"{a.days} days; the rate of a month whose factor is 1",
           f"rate = {_string(_rate_words(a.rate_per_hour))}",
           "# arrivals per weekday (rows mon..sun) and hour (columns 00..23), relative to the "
           "mean hour"]
    if a.dates_only:
        out.append("# the history has dates without times: each day's arrivals are spread "
                   "evenly over its hours")
    out += _profile_lines(a)
    out.append("# each observed calendar month's rate relative to the whole history "
               "(months not observed: 1)")
    out.append("month = { " + ", ".join(f"{name} = {round_figure(value)}"
                                        for name, value in a.months.items()) + " }")
    if len(cal.mix) > 1:
        out += ["", "[arrivals.mix]",
                "# shares of the handed-off leads per handoff block, as the evaluator assigns "
                "them (by segment or stage at the handoff)"]
        if cal.unsegmented > 0:
            out.append(f"# ({100 * cal.unsegmented:.1f}% of them fall in no block; the shares "
                       "are of the rest)")
        out += [f"{_key(name)} = {share}" for name, share in _shares(cal.mix).items()]
    for team, facts in cal.teams.items():
        out += ["", f"[team.{_key(team)}]"]
        if facts["reps"]:
            out.append(f"# distinct reps assigned or attempting its leads over the history "
                       f"({_names(facts['actors'])}); {facts['median_month']:g} in the median "
                       "month")
            out.append(f"reps = {facts['reps']}")
        else:
            out += ["# nobody is recorded working its leads: set the team you have",
                    "reps = 1"]
    out += ["", "[work]", *_touch_lines(cal), *_response_lines(cal, view), "", "[outcomes]"]
    out += _outcome_lines(cal)
    return "\n".join(map(_toml_line, out)) + "\n"


def _touch_lines(cal: Calibration) -> list[str]:
    """`work.touch` from back-to-back attempts, or a placeholder saying why there is no fit."""
    shorter = (f"; {cal.work_too_short} under a second apart left out, logged together rather "
               "than worked one after the other" if cal.work_too_short else "")
    if cal.work:
        return [_fit_comment(cal.work, "back-to-back attempts of one rep within an hour (an "
                                       f"upper bound on an attempt's work{shorter})"),
                f"touch = {_string(cal.work[0].time_words())}"]
    if cal.work_sample >= MIN_WORK_SAMPLE:
        why = (f"no fit of the {cal.work_sample} back-to-back attempts in the history is a work "
               "time a scenario can hold")
    else:
        apart = " a second or more apart" if cal.work_too_short else ""
        why = f"only {cal.work_sample} back-to-back attempts{apart} in the history, too few to fit"
    return [f"# {why}{shorter}: a placeholder, replace it with a timed sample",
            f"touch = {_string(DEFAULT_TOUCH)}"]


def _room(view: SimulatorView | None) -> float | None:
    return None if view is None else view.response_room_hours


def _response_bounds(cal: Calibration, view: SimulatorView | None) -> str:
    """The two bounds a planner's figure must keep: the history's (the open hours its delays
    held) and the reps' (the mean at which their open hours no longer carry the touches)."""
    bounds = []
    if cal.response_open_hours is not None:
        bounds.append(f"a mean of at most the {duration_words(cal.response_open_hours)} the "
                      "history's delays spent in open hours")
    room = _room(view)
    if room is not None and room <= 0:
        bounds.append("none at all: the reps' open hours cannot carry any beside the touches")
    elif room is not None:
        bounds.append(f"under {duration_words(room)}, the most the reps' open hours can "
                      "carry beside the touches (sla simulate refuses from there)")
    return ", and ".join(bounds)


def _response_lines(cal: Calibration, view: SimulatorView | None) -> list[str]:
    """Why the scenario has no `work.response`, what the history shows instead and what a
    planner should put there: the comment where the key would be."""
    if not cal.response:
        return []
    measured, room = cal.response[0], _room(view)
    inside = "" if cal.response_open_hours is None else (
        f", {duration_words(cal.response_open_hours)} of it on average in the open hours of "
        "the reps' calendars")
    too_much = (f"; at its mean of {duration_words(measured.mean)} it is more than the reps' "
                "open hours can carry" if room is not None and measured.mean >= room else "")
    bounds = _response_bounds(cal, view)
    text = (
        "work.response is rep time before each attempt (the simulator counts it as work), and "
        "a CRM history records when an attempt was made, not how long a rep took over it. What "
        f"the history shows is the delay from handoff to first attempt, elapsed: "
        f"{measured.time_words()} ({measured.n} leads{inside}). That delay is mostly waiting: "
        "for the calendar to open and for a free rep, which the simulator plays itself from "
        "the arrivals, the reps and the calendar, and for a rep to get to the lead, which the "
        "history cannot tell from work. Written here, all of it would be rep time and its "
        f"waiting counted twice{too_much}. Without it, a simulated first touch comes as soon "
        "as a rep is free in open hours, which is sooner than the history's wherever its reps "
        "took longer than their queue explains. Leave it out (no reaction time), or set it "
        "from a timed sample of the time a rep takes before an attempt (a dialer's logs, a "
        "stopwatch study)" + (f": {bounds}." if bounds else "."))
    return ["# response: left out, because the history cannot measure it.",
            *(f"# {line}" for line in _wrapped(text, 94))]


def _response_report(cal: Calibration, view: SimulatorView | None) -> list[str]:
    """The report's shorter word on the same: the figure measured, why it is not written, and
    the bounds for a planner's own."""
    bounds = _response_bounds(cal, view)
    text = ("Not written as work.response, which is rep time: a history records when "
            "attempts were made, not how long a rep took, and this delay is mostly waiting: for "
            "the calendar to open and for a free rep, which the simulator plays itself, and for "
            "a rep to get to the lead, which the history cannot tell from work. Without it, "
            "simulated first touches may come sooner than the history's. Leave it out, or set "
            "it from a timed sample" + (f": {bounds}." if bounds else "."))
    return [f"    {line}" for line in _wrapped(text, 92)]


def _wrapped(text: str, width: int) -> list[str]:
    return textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=False)


def _outcome_lines(cal: Calibration) -> list[str]:
    f = cal.funnel
    out = []
    if f.connect is not None:
        out += ["# per attempt: the chance under which the simulator, making each block's "
                "attempts,", f"# connects {f.connected_leads} of the {f.handed_off} handed-off "
                f"leads as the history did ({f.connected_attempts} connects",
                f"# logged in {f.attempts} attempts"
                + (f", and {f.implied_connects} leads a later stage shows connected)"
                   if f.implied_connects else ")"),
                f"connect = {f.connect:.4f}",
                "# the history's connect rate already holds whatever decay its delays caused",
                'decay = "none"']
    else:
        out += ["# no attempts in the history: every handed-off lead counts as connected",
                "connect = 1.0", 'decay = "none"']
    later = f.later
    if later is not None:
        out += ["# an attempt at the later level: the chance under which its blocks' attempts "
                "connect", f"# {later.connected} of the {later.leads} leads handed on to it, "
                f"as the history did", f"connect_later = {later.connect:.4f}"]
    over = "" if later is None or f.opportunity is None or later.connected_share >= 1 else \
        f", over the {100 * later.connected_share:.0f}% the later level connects"
    for key, rate, words in (
            ("qualify", f.qualify, f"connected leads that became an SQL ({f.sql} of "
                                   f"{f.connected_leads})"),
            ("opportunity", f.opportunity_rate, f"SQLs that became an opportunity "
                                                f"({f.opportunity} of {f.sql}){over}"),
            ("win", f.win, f"{'opportunities' if f.opportunity is not None else 'of those'} "
                           f"won ({f.won} of {_before_won(f)})")):
        unknown = (key == "qualify" and f.sql is None) or \
                  (key == "opportunity" and f.opportunity is None)
        if unknown:
            stage = "SQL" if key == "qualify" else "opportunity"
            out += [f"# no lead reaches {stage} in the history (no stage events, or the "
                    "policy's definition reads fields it lacks): passed through",
                    f"{key} = 1.0"]
        elif rate is None:
            out += [f"# nothing to count {key} from", f"{key} = 0.0"]
        else:
            out += [f"# {words}", f"{key} = {rate:.4f}"]
    if cal.deal_size:
        out += [_fit_comment(cal.deal_size, "amounts of won deals"),
                f"deal_size = {_string(cal.deal_size[0].words())}"]
    else:
        out.append("# no amounts on won events: deal_size left to the scenario's default")
    if cal.sales_cycle:
        out += [_fit_comment(cal.sales_cycle, "days from handoff to won"),
                f"sales_cycle = {_string(cal.sales_cycle[0].words('days'))}"]
    return out


def _before_won(f) -> int:
    """The leads at the stage before won: opportunities, else SQLs, else connected leads."""
    return next(n for n in (f.opportunity, f.sql, f.connected_leads) if n is not None)


# ---------------------------------------------------------------- the report


def _p(value: float) -> str:
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def _fit_line(label: str, fits: list[Fit], words, empty: str = "too few values to fit") -> str:
    if not fits:
        return f"  {label}: {empty}"
    best = fits[0]
    if best.family == "fixed":
        return f"  {label}: {words(best)} (n = {best.n}; every value the same)"
    rest = "; ".join(f"{f.family} AIC {f.aic:.1f} KS p {_p(f.ks_p)}" for f in fits[1:])
    verdict = "fits" if best.ks_p >= 0.05 else "does not fit well (KS p < 0.05)"
    return (f"  {label}: {words(best)} (n = {best.n}; AIC {best.aic:.1f}, KS p "
            f"{_p(best.ks_p)}: {verdict})" + (f"\n    others: {rest}" if rest else ""))


def render_report(cal: Calibration, view: SimulatorView | None = None) -> str:
    a, f = cal.arrivals, cal.funnel
    out = [f"{cal.policy or 'Policy'}: calibrated from {cal.leads} leads ({cal.timezone})", "",
           f"  arrivals: {a.count} {'handed-off' if a.source == 'handoff' else 'created'} "
           f"leads in {a.days} days from {a.first_day}: {_rate_words(a.rate_per_hour)}"]
    weekday = "  ".join(f"{WEEKDAYS[i]} {a.by_weekday[i]:.0f}/{a.expected_weekday[i]:.0f}"
                        for i in range(7))
    out.append(f"    by weekday (history/scenario): {weekday}")
    chi, p = a.weekday_flat
    out.append(f"    weekday pattern against a flat week: chi-square {chi:.1f} (6 df), p "
               f"{_p(p)}: " + ("the profile is needed" if p < 0.05 else "a flat week would do"))
    if a.hour_flat is None:
        out.append("    by hour: the history has dates only; the hour profile is flat")
    else:
        chi, p = a.hour_flat
        out.append(f"    hour pattern against a flat day: chi-square {chi:.1f} (23 df), p "
                   f"{_p(p)}")
    months = ", ".join(f"{k} {v:.2f}" for k, v in a.months.items())
    out.append(f"    month factors: {months}")
    chi, df, p = a.daily
    steady = ("as steady as a Poisson stream" if p >= 0.05 else
              f"{chi / df:.1f} times the variance of a Poisson stream: bursts (campaigns?) the "
              "simulator's Poisson arrivals smooth out")
    out.append(f"    daily counts against the fitted stream: chi-square {chi:.0f} ({df} df), "
               f"p {_p(p)}: {steady}")
    if cal.mix:
        mix = ", ".join(f"{k} {100 * v:.1f}%" for k, v in cal.mix.items())
        out.append(f"  handoff blocks: {mix}"
                   + (f" ({100 * cal.unsegmented:.1f}% in none)" if cal.unsegmented else ""))
    for team, facts in cal.teams.items():
        out.append(f"  team {team}: {facts['reps']} reps over the history"
                   + (f", {facts['median_month']:g} in the median month"
                      if facts["median_month"] is not None else ""))
    no_attempts = "no attempts in the history" if not f.attempts else "too few values to fit"
    out.append(_fit_line("response (handoff to first attempt, elapsed)", cal.response,
                         lambda fit: fit.time_words(), no_attempts))
    if cal.response:
        out += _response_report(cal, view)
    shorter = f", {cal.work_too_short} under a second apart left out" \
        if cal.work_too_short else ""
    out.append(_fit_line(f"work time (back-to-back attempts, {cal.work_sample} found{shorter})",
                         cal.work, lambda fit: fit.time_words(),
                         no_attempts + "; the scenario keeps a placeholder"))
    connect = "no attempts recorded" if f.connect is None else \
        f"{100 * f.connect:.1f}% per attempt ({f.connected_leads} leads connected, " \
        f"{f.connected_attempts} connects logged in {f.attempts} attempts)"
    out.append(f"  funnel: {f.handed_off} handed off; connect {connect}; "
               f"SQL {'-' if f.sql is None else f.sql}, opportunity "
               f"{'-' if f.opportunity is None else f.opportunity}, won {f.won}")
    out.append(_fit_line("deal size", cal.deal_size, lambda fit: fit.words(),
                         "no amounts on won events"))
    out.append(_fit_line("sales cycle (days)", cal.sales_cycle, lambda fit: fit.words("days")))
    out += [f"  note: {note}" for note in cal.notes]
    if view is not None and view.refusal is not None:
        out.append("  warning: sla simulate refuses the scenario as written: "
                   + view.refusal.replace("\n", "\n    "))
    return "\n".join(out) + "\n"


def calibration_dict(cal: Calibration, view: SimulatorView | None = None) -> dict:
    a, f = cal.arrivals, cal.funnel
    return {
        "policy": cal.policy, "timezone": cal.timezone, "leads": cal.leads,
        "arrivals": {
            "source": a.source, "count": a.count, "first_day": a.first_day.isoformat(),
            "days": a.days, "rate_per_hour": round(a.rate_per_hour, 6),
            "dates_only": a.dates_only,
            "profile": [[round(float(v), 4) for v in row] for row in a.profile],
            "months": {k: round(v, 4) for k, v in a.months.items()},
            "by_weekday": dict(zip(WEEKDAYS, a.by_weekday.tolist(), strict=True)),
            "expected_weekday": dict(zip(WEEKDAYS, [round(v, 2) for v in a.expected_weekday],
                                         strict=True)),
            "weekday_against_flat": {"chi_square": round(a.weekday_flat[0], 3),
                                     "p": a.weekday_flat[1]},
            "hour_against_flat": None if a.hour_flat is None else
            {"chi_square": round(a.hour_flat[0], 3), "p": a.hour_flat[1]},
            "daily_counts": {"chi_square": round(a.daily[0], 3), "df": a.daily[1],
                             "p": a.daily[2]}},
        "mix": cal.mix, "in_no_block": cal.unsegmented,
        "teams": cal.teams,
        "response_hours": [fit.to_dict() for fit in cal.response],
        "response_open_hours": None if cal.response_open_hours is None
        else round(cal.response_open_hours, 4),
        "response_written": False,
        "work_hours": [fit.to_dict() for fit in cal.work], "work_sample": cal.work_sample,
        "work_too_short": cal.work_too_short,
        "funnel": dataclasses.asdict(f),
        "deal_size": [fit.to_dict() for fit in cal.deal_size],
        "sales_cycle_days": [fit.to_dict() for fit in cal.sales_cycle],
        "notes": cal.notes,
        "simulate": None if view is None else view.to_dict()}
