"""The documented limits (docs/limits.md): input past a limit is refused with a diagnostic that
names it, and input at a limit works in every command, without a crash."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest

from sla_dsl.checks.names import MAX_EXPANDED_NESTING
from sla_dsl.language.parser import MAX_NESTING
from sla_dsl.language.source import MAX_POLICY_BYTES, Source
from sla_dsl.policy_file import check_text, format_source
from tests.test_cli import run

ROOT = Path(__file__).resolve().parent.parent
COMPANY_X = ROOT / "policies" / "company-x.sla"
HISTORY = ROOT / "examples" / "company-x" / "history.csv"
SCENARIO = ROOT / "examples" / "scenarios" / "company-x.toml"


def _policy(extra: str) -> str:
    return COMPANY_X.read_text(encoding="utf-8") + "\n" + extra + "\n"


def _nested(levels: int) -> str:
    """A condition `levels` deep, mixing `not`, `and` and `or` in parentheses."""
    condition = "score >= 1"
    for level in range(levels):
        if level % 3 == 0:
            condition = f"not {condition}"
        elif level % 3 == 1:
            condition = f"(score > {level} and {condition})"
        else:
            condition = f"(score < {level} or {condition})"
    return condition


def _chain(length: int, first: str = "score >= 1") -> str:
    """Stages c0 .. c{length}, each using the one before."""
    return f"stage c0 when {first}\n" + "".join(
        f"stage c{i} when c{i - 1}\n" for i in range(1, length + 1))


def _codes(text: str) -> list[str]:
    return [d.code.code for d in check_text(text, "deep.sla").errors]


# ---------------------------------------------------------------- nesting


@pytest.mark.parametrize("opening, closing", [("(", ")"), ("not ", "")])
def test_a_thousand_levels_are_refused_where_the_limit_is_crossed(tmp_path, capsys, opening,
                                                                  closing):
    line = "stage deep when " + opening * 1000 + "score >= 1" + closing * 1000
    path = tmp_path / "deep.sla"
    path.write_text(_policy(line), encoding="utf-8")
    code, out, _ = run(capsys, "check", path)
    assert code == 1
    number = len(COMPANY_X.read_text(encoding="utf-8").split("\n")) + 1
    column = len("stage deep when ") + len(opening) * MAX_NESTING + 1
    assert f"deep.sla:{number}:{column}: error: the condition nests more than 64 levels deep" \
        in out
    assert "[E112]" in out
    shown = next(line for line in out.splitlines() if line.startswith(f"{number} | "))
    caret = next(line for line in out.splitlines() if "^" in line)
    assert len(shown) < 200  # a window of the long line, around the caret
    assert shown[caret.index("^")] == opening[0]


def test_deep_triggers_are_refused_too():
    trigger = "(" * 65 + "attainment of first touch < 50%" + ")" * 65
    assert _codes(_policy(f"cancel when {trigger}")) == ["E112"]


def test_a_statement_too_deep_is_left_out_without_false_alarms_about_its_name():
    """The refused stage is not declared, but a handoff naming it is not also an unknown name."""
    text = _policy("stage deep when " + "not " * 100 + "score >= 1\n"
                   "handoff deep from marketing to sales {\n  first touch within 1 hour\n}")
    assert _codes(text) == ["E112"]


def test_fmt_refuses_a_policy_too_deep():
    text = _policy("stage deep when " + "(" * 70 + "score >= 1" + ")" * 70)
    formatted, diagnostics = format_source(Source("deep.sla", text))
    assert formatted is None
    assert [d.code.code for d in diagnostics] == ["E112"]


def test_a_chain_of_definitions_is_bounded_once_written_out():
    assert _codes(_policy(_chain(MAX_EXPANDED_NESTING))) == []
    errors = check_text(_policy(_chain(1000)), "chain.sla").errors
    assert [d.code.code for d in errors] == ["E112"]  # once, where the chain crosses the limit
    assert re.search(r"'c129' nests 129 levels deep .* at most 128", errors[0].message)


def test_a_circle_of_segments_is_reported_not_followed(tmp_path, capsys):
    path = tmp_path / "circle.sla"
    path.write_text('sla "circle"\nsegment a when b\nsegment b when a\n'
                    "handoff a to nobody\nhandoff b to nobody\n", encoding="utf-8")
    code, out, _ = run(capsys, "check", path)
    assert code == 1
    assert "[E202]" in out


def test_every_command_runs_on_a_policy_at_the_limits(tmp_path, capsys):
    """A condition 64 levels deep, a chain of definitions 128 deep that a segment uses (so
    evaluation, the coverage check and the plain-words rendering follow it), a trigger 64 deep:
    every command that reads a policy finishes."""
    text = COMPANY_X.read_text(encoding="utf-8").replace(
        "segment hot     when fit good and interest high",
        "segment hot     when fit good and interest high and c62")
    text += "\n" + _chain(64, first=_nested(MAX_NESTING))
    text += "stage negated when " + "not " * MAX_NESTING + "score >= 1\n"
    text += "cancel when " + "(" * 63 + "attainment of first touch < 50%" + ")" * 63 + "\n"
    path = tmp_path / "limits.sla"
    path.write_text(text, encoding="utf-8")
    assert run(capsys, "check", path)[0] == 0
    assert run(capsys, "check", "--format", "json", path)[0] == 0
    assert run(capsys, "check", "--dump-json", path)[0] == 0
    assert run(capsys, "fmt", "--check", path)[0] in (0, 1)
    assert run(capsys, "explain", path)[0] == 0
    assert run(capsys, "evaluate", path, "--history", HISTORY, "--format", "json",
               "--html", tmp_path / "report.html")[0] == 0
    assert run(capsys, "diff", COMPANY_X, path, "--history", HISTORY, "--format", "json")[0] \
        in (0, 1)
    assert run(capsys, "plan", path, "--scenario", SCENARIO)[0] == 0
    assert run(capsys, "simulate", path, "--scenario", SCENARIO, "--replications", "2")[0] == 0


# ---------------------------------------------------------------- size


def _regions_up_to(limit: int) -> str:
    """The benchmark's many-region policy, as many whole regions as fit in `limit` bytes."""
    import sys

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from check_speed import HEADER, REGION

    parts, size, i = [HEADER], len(HEADER), 0
    while size + len(REGION.format(i=i)) + 1 <= limit:
        parts.append(REGION.format(i=i))
        size += len(parts[-1]) + 1
        i += 1
    return "\n".join(parts)


def test_a_policy_at_the_size_limit_is_checked(tmp_path, capsys):
    text = _regions_up_to(MAX_POLICY_BYTES)
    assert MAX_POLICY_BYTES - 2000 < len(text.encode()) <= MAX_POLICY_BYTES
    path = tmp_path / "big.sla"
    path.write_text(text, encoding="utf-8")
    code, out, _ = run(capsys, "check", path)
    assert code == 0, out


def test_a_policy_past_the_size_limit_is_refused_with_its_size(tmp_path, capsys, monkeypatch):
    path = tmp_path / "big.sla"
    path.write_text(_regions_up_to(MAX_POLICY_BYTES) + "#" * 2000 + "\n", encoding="utf-8")
    code, out, _ = run(capsys, "check", path)
    assert code == 1
    assert re.search(r"big\.sla: error: file is 25\d KiB; a policy may be at most 256 KiB "
                     r"\[E003\]", out)
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"#" * 10_000_000)))
    code, out, _ = run(capsys, "check", "-")
    assert code == 1
    assert "<stdin>: error: file is more than 256 KiB; a policy may be at most 256 KiB" in out


# ---------------------------------------------------------------- scenarios


INBOUND = ROOT / "policies" / "inbound-desk.sla"
INBOUND_SCENARIO = ROOT / "examples" / "scenarios" / "inbound-desk.toml"


def _scenario(tmp_path: Path, replace: dict[str, str] | None = None, extra: str = "") -> Path:
    text = SCENARIO.read_text(encoding="utf-8")
    for old, new in (replace or {}).items():
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / "scenario.toml"
    path.write_text(text + extra, encoding="utf-8")
    return path


@pytest.mark.parametrize("replace, key, allowed", [
    ({'horizon = "90 days"': 'horizon = "36500 days"'}, "horizon", "at most 366 days"),
    ({'horizon = "90 days"': 'horizon = "100 years"'}, "horizon", "at most 366 days"),
    ({"reps = 3 ": "reps = 1000000000 "}, "team.sdr.reps", "from 1 to 1,000"),
    ({"start = 2026-01-01": "start = 9999-01-01"}, "start", "from 1900-01-01 to 2200-10-02"),
    ({"start = 2026-01-01": "start = 1899-12-31"}, "start", "from 1900-01-01"),
    ({'rate = "900 per month"': 'rate = "900 per minute"'}, "arrivals.rate",
     "at most 100,000"),
    ({"jan = 0.8": "jan = 1e300"}, "arrivals.month.jan", "from 0 to 1000"),
    ({'"exponential 6 minutes"': '"exponential 60 days"'}, "work.follow_up",
     "amounts up to 30 days"),
    ({'"exponential 20 days"': '"fixed 36500 days"'}, "outcomes.sales_cycle",
     "amounts up to 3653 days"),
    ({'"lognormal 100 sd 40"': '"fixed 1e15"'}, "outcomes.deal_size",
     "amounts up to 1,000,000,000,000"),
    ({'"poisson 4"': '"poisson 99999999999999999"'}, "arrivals.fields.page_views",
     "numbers from -1,000,000,000,000 to 1,000,000,000,000"),
])
def test_a_scenario_value_out_of_range_is_refused_with_file_key_and_range(
        tmp_path, capsys, replace, key, allowed):
    path = _scenario(tmp_path, replace)
    for command in (("simulate", COMPANY_X, "--scenario", path, "--replications", "2"),
                    ("plan", COMPANY_X, "--scenario", path)):
        code, _, err = run(capsys, *command)
        assert code == 2
        assert f"{path}: {key}: " in err and "out of range" in err and allowed in err, err


def test_the_limits_of_a_scenario_are_accepted(tmp_path, capsys):
    """A year-long horizon from the last start allowed, the most reps in a team: planned and
    simulated, for a policy in force then."""
    policy = tmp_path / "late.sla"
    policy.write_text(COMPANY_X.read_text(encoding="utf-8").replace(
        "effective 2026-01-01 until 2026-12-31", "effective 2199-01-01 until 2200-12-31"),
        encoding="utf-8")
    path = _scenario(tmp_path, {'horizon = "90 days"': 'horizon = "366 days"',
                                "start = 2026-01-01": "start = 2199-12-30",
                                "reps = 1          #": "reps = 1000       #",
                                'decay = "both"': 'decay = "hbr-2011"'})
    assert run(capsys, "plan", policy, "--scenario", path, "--from", "2200-12")[0] == 0
    code, out, _ = run(capsys, "simulate", policy, "--scenario", path, "--replications", "2",
                       "--format", "json")
    assert code == 0
    assert json.loads(out)["start"] == "2199-12-30"


def test_a_scenario_nested_a_thousand_deep_is_refused(tmp_path, capsys):
    path = _scenario(tmp_path, extra="\n[extra]\nx = " + "[" * 1000 + "]" * 1000 + "\n")
    code, _, err = run(capsys, "plan", COMPANY_X, "--scenario", path)
    assert code == 2
    assert "nested too deep" in err


@pytest.mark.parametrize("options, message", [
    (("--replications", "1000000000"), "--replications 1,000,000,000 is out of range: from 2"),
    (("--replications", "1001"), "from 2 to 1,000"),
    (("--seed", "-1"), "--seed -1 is out of range"),
    (("--seed", str(2**64)), "is out of range"),
    (("--sweep", "team.sdr.reps=999999999", "--replications", "2"),
     "team.sdr.reps: 999,999,999 is out of range"),
    (("--sweep", "team.sdr.reps=1..1000000"), "at most 400"),
    (("--target", "first touch >= 90%", "--max-reps", "1000000"),
     "--max-reps 1,000,000 is out of range"),
    (("--target", "first touch >= 90%", "--replications", "5000"), "from 1 to 1,000"),
])
def test_simulator_options_out_of_range_are_refused(capsys, options, message):
    code, _, err = run(capsys, "simulate", COMPANY_X, "--scenario", SCENARIO, *options)
    assert code == 2
    assert message in err, err


@pytest.mark.parametrize("month", ["9999-01", "1899-12", "2201-01"])
def test_plan_from_a_month_out_of_range_is_refused(capsys, month):
    code, _, err = run(capsys, "plan", INBOUND, "--from", month)
    assert code == 2
    assert f"--from {month} is out of range: a month from 1900-01 to 2200-12" in err


def test_plan_from_the_last_month_plans_no_month_past_it(capsys, tmp_path):
    # a goal's policy with no end planned twelve months from 2200-12: into 2201, past the
    # supported times
    policy = tmp_path / "open-ended.sla"
    policy.write_text("\n".join(line for line in COMPANY_X.read_text(encoding="utf-8")
                                 .splitlines() if not line.startswith("effective")) + "\n")
    code, out, err = run(capsys, "plan", str(policy), "--from", "2200-12", "--format", "json")
    assert code == 0, err
    assert json.loads(out)["months"] == {"from": "2200-12", "to": "2200-12",
                                         "source": "as asked with --from"}
    assert "2201" not in out


def test_policy_dates_out_of_range_are_refused():
    text = COMPANY_X.read_text(encoding="utf-8").replace(
        "effective 2026-01-01 until 2026-12-31", "effective 9999-01-01 until 9999-12-31")
    errors = check_text(text, "far.sla").errors
    assert [d.code.code for d in errors] == ["E110", "E110"]
    assert errors[0].help == "dates run from 1900-01-01 to 2200-12-31"


def test_a_cadence_of_more_than_a_thousand_touches_is_refused():
    text = COMPANY_X.read_text(encoding="utf-8").replace(
        "touches at least 6 within", "touches at least 999999 within").replace(
        "  spacing at least 4 hours\n", "")
    errors = check_text(text, "touches.sla").errors
    assert [(d.code.code, d.message) for d in errors] == [
        ("E406", "the number of touches may be at most 1,000")]


def test_a_run_of_more_than_two_million_touches_is_refused_before_it_starts(tmp_path, capsys):
    """The inbound desk's 10,800 leads with a cadence of 1,000 touches each held 2.7 GB in one
    process (25 GB at the 100,000 leads a run may have); refused up front now."""
    policy = tmp_path / "cadence.sla"
    policy.write_text((ROOT / "policies" / "inbound-desk.sla").read_text(encoding="utf-8")
                      .replace("touches at least 3 within 5 business days",
                               "touches at least 1000 within 400 business days"),
                      encoding="utf-8")
    scenario = ROOT / "examples" / "scenarios" / "inbound-desk.toml"
    code, _, err = run(capsys, "simulate", policy, "--scenario", scenario, "--replications",
                       "2")
    assert code == 2
    assert ("about 10,800,000 touches in one run (10,800 leads, handoff 'every lead' with a "
            "cadence of 1,000 touches) is more than the 2,000,000 a run may make") in err
    assert "help: shorten the horizon or lower arrivals.rate" in err


def test_a_scenario_or_mapping_of_megabytes_is_refused_unread(tmp_path, capsys):
    path = _scenario(tmp_path, extra="#" * (2 * 1024 * 1024) + "\n")
    code, _, err = run(capsys, "plan", COMPANY_X, "--scenario", path)
    assert code == 2
    assert f"{path}: the scenario is more than 1,024 KiB" in err
    mapping = tmp_path / "mapping.toml"
    mapping.write_text((ROOT / "examples" / "olist" / "mapping.toml").read_text(encoding="utf-8")
                       + "#" * (2 * 1024 * 1024) + "\n", encoding="utf-8")
    code, _, err = run(capsys, "evaluate", COMPANY_X, "--mapping", mapping)
    assert code == 2
    assert f"{mapping}: the mapping is more than 1,024 KiB" in err


@pytest.mark.parametrize("command", ["evaluate", "diff"])
@pytest.mark.parametrize("as_of", ["9999-12-31T23:59Z", "0001-01-01T00:00Z"])
def test_as_of_outside_the_supported_times_is_refused(capsys, command, as_of):
    versions = (COMPANY_X,) if command == "evaluate" else (COMPANY_X, COMPANY_X)
    code, _, err = run(capsys, command, *versions, "--history", HISTORY, "--as-of", as_of)
    assert code == 2
    assert (f"--as-of '{as_of}' is outside the supported times, 1900-01-01 to 2200-12-31 UTC"
            in err)


def test_many_findings_on_one_long_line_show_a_window_of_it_each(tmp_path, capsys):
    weights = ", ".join(f'"rep{i}": 0' for i in range(5000))
    path = tmp_path / "weights.sla"
    path.write_text(COMPANY_X.read_text(encoding="utf-8").replace(
        'weights { "alice": 2, "bob": 1, "chen": 1 }', "weights { " + weights + " }"),
        encoding="utf-8")
    code, out, _ = run(capsys, "check", path)
    assert code == 1
    assert out.count("[E402]") == 5000
    assert len(out) < 5000 * 600  # each finding shows a window, not the 70,000-character line


@pytest.mark.parametrize("share", ["nan", "inf", "1e300"])
def test_shares_that_are_not_numbers_are_refused(tmp_path, capsys, share):
    path = tmp_path / "mix.toml"
    path.write_text('horizon = "30 days"\n[arrivals]\nrate = "20 per hour"\n'
                    f"[arrivals.mix]\nhot = {share}\nsmall = 0.5\n"
                    "[team.sdr]\nreps = 3\n[team.smb]\nreps = 2\n[team.marketing]\nreps = 1\n"
                    '[work]\ntouch = "exponential 12 minutes"\n', encoding="utf-8")
    code, _, err = run(capsys, "simulate", COMPANY_X, "--scenario", path, "--replications", "2")
    assert code == 2
    assert f"{path}: arrivals.mix.hot: {share if share != '1e300' else '1e+300'} is not a share" \
        in err


def test_a_pattern_of_thousands_of_nested_groups_is_an_error_not_a_crash():
    text = _policy('persona deep when title matches "' + "(" * 3000 + "a" + ")" * 3000 + '"')
    assert _codes(text) == ["E404"]


def test_a_file_of_broken_lines_reports_the_first_hundred_and_stops_reading(capsys, tmp_path):
    path = tmp_path / "broken.sla"
    path.write_text('sla "x"\n' + "x\n" * 100_000, encoding="utf-8")
    code, out, _ = run(capsys, "check", path)
    assert code == 1
    assert out.count("[E100]") == 100
    assert "error: at least 901 more syntax errors are not shown [E199]" in out


def _closed(dates: str, text: str | None = None) -> str:
    text = text or COMPANY_X.read_text(encoding="utf-8")
    return text.replace("  closed 2026-11-26, 2026-12-25, 2027-01-01", "  closed " + dates)


def test_a_calendar_closed_for_years_on_end_is_refused_not_a_crash(tmp_path, capsys):
    """Closed from 1900 to 2200 every clock on it waited for ever: exit 70 in evaluate."""
    path = tmp_path / "closed.sla"
    path.write_text(_closed(", ".join(["1900-01-02 to 2200-12-30"] * 200)), encoding="utf-8")
    code, out, _ = run(capsys, "check", path)
    assert code == 1
    assert "calendar 'business' is closed for more than 1,450 days in a row from 1900-01-02" \
        in out and "[E301]" in out
    assert run(capsys, "evaluate", path, "--history", HISTORY, "-q")[0] == 2


def test_closed_dates_join_across_the_days_the_calendar_is_never_open():
    import datetime as dt

    saturdays = [dt.date(2026, 1, 3) + dt.timedelta(weeks=i) for i in range(230)]
    text = _closed(", ".join(d.isoformat() for d in saturdays)).replace(
        "  open mon-fri 09:00-17:00\n", "")  # open on saturdays only
    assert _codes(text) == ["E301"]
    assert _codes(_closed(", ".join(d.isoformat() for d in saturdays[:200]))) == []


def test_a_calendar_closed_for_almost_the_limit_is_evaluated_and_planned(tmp_path, capsys):
    path = tmp_path / "closed.sla"
    path.write_text(_closed("2026-01-01 to 2029-11-30"), encoding="utf-8")
    assert run(capsys, "check", path)[0] == 0
    assert run(capsys, "evaluate", path, "--history", HISTORY, "-q")[0] == 0
    code, out, _ = run(capsys, "plan", path, "--scenario", SCENARIO)
    assert code == 0  # a division by the open share was exit 70
    assert ("hot: no lead is touched: the calendar of team sdr is not open in the scenario's "
            "90 days") in out


def test_a_condition_over_a_thousand_fields_is_checked_not_a_crash(tmp_path, capsys):
    """The made-up leads of a condition are the product of its fields' kinds of value: 2 ** 1100
    as a float is infinity, and `int(inf)` was exit 70 before the size limit was asked."""
    condition = " or ".join(f"f{i} == {i}" for i in range(1100))
    text = (f'sla "Wide"\nparty marketing\nparty sales\nstage mql when {condition}\n'
            "handoff mql from marketing to sales\n")
    assert check_text(text, "wide.sla").errors == []
    path = tmp_path / "wide.sla"
    path.write_text(text, encoding="utf-8")
    assert run(capsys, "check", str(path))[0] == 0
    assert run(capsys, "explain", str(path))[0] == 0


# ---------------------------------------------------------------- scenario shapes and work times


DESK_TEXT = 'horizon = "14 days"\n[arrivals]\nrate = "5 per hour"\n[team.sales]\nreps = 5\n' \
    '[work]\ntouch = "exponential 12 minutes"\n'


@pytest.mark.parametrize("text, key, says", [
    ('team = 5\n[arrivals]\nrate = "5 per hour"\n', "team", "should be a table"),
    ('team = [1]\n[arrivals]\nrate = "5 per hour"\n', "team", "should be a table"),
    ('team = "sales"\n[arrivals]\nrate = "5 per hour"\n', "team", "should be a table"),
    ('[team]\nsales = 5\n[arrivals]\nrate = "5 per hour"\n', "team.sales", "should be a table"),
    ('[team.sales]\nreps = 5\nspeed = 2\n[arrivals]\nrate = "5 per hour"\n', "team.sales.speed",
     "unknown key"),
    ('arrivals = "5 per hour"\n', "arrivals", "should be a table"),
    ("arrivals = 5\n", "arrivals", "should be a table"),
    ('[arrivals]\nrate = "5 per hour"\nfields = 5\n', "arrivals.fields", "should be a table"),
    ('[arrivals]\nrate = "5 per hour"\nmonth = 5\n', "arrivals.month", "should be a table"),
    ('work = 5\n[arrivals]\nrate = "5 per hour"\n', "work", "should be a table"),
    ('outcomes = 5\n[arrivals]\nrate = "5 per hour"\n', "outcomes", "should be a table"),
    ('recycle = 5\n[arrivals]\nrate = "5 per hour"\n', "recycle", "should be a table"),
    ('reassign = 5\n[arrivals]\nrate = "5 per hour"\n', "reassign", "should be a table"),
    ('absence = 5\n[arrivals]\nrate = "5 per hour"\n', "absence", "should be a table"),
    ('reps = 5\n[arrivals]\nrate = "5 per hour"\n', "reps", "should be a table"),
    ('[arrivals]\nrate = "5 per hour"\n[arrivals.fields]\nregion = [{ a = 1 }]\n',
     "arrivals.fields.region", "a list holds texts, numbers or true/false, not tables"),
    ('horizon = "14 days"\n[team.sales]\nreps = 5\n', "arrivals.rate",
     'missing: the one key every scenario gives\n  help: write [arrivals] then rate = '
     '"20 per hour"'),
])
def test_a_value_where_a_table_belongs_is_refused_not_a_crash(tmp_path, capsys, text, key,
                                                                 says):
    """`team = 5` was an AttributeError (exit 70) in plan and simulate alike."""
    path = tmp_path / "shape.toml"
    path.write_text(text, encoding="utf-8")
    for command in (("plan", INBOUND, "--scenario", path),
                    ("simulate", INBOUND, "--scenario", path, "--replications", "2", "-q")):
        code, _, err = run(capsys, *command)
        assert code == 2, err
        assert f"{path}: {key}: {says}" in err, err


@pytest.mark.parametrize("draw, allowed", [
    ("normal 50 sd -5", 'SD at least 0 in "normal MEAN sd SD"'),
    ("uniform 50 10", 'LOW at most HIGH in "uniform LOW HIGH"'),
    ("poisson -4", 'MEAN at least 0 in "poisson MEAN"'),
    ("lognormal -300 sd 600", 'MEAN above 0 in "lognormal MEAN sd SD"'),
    ("lognormal 0 sd 600", 'MEAN above 0 in "lognormal MEAN sd SD"'),
    ("lognormal 300 sd -600", 'SD at least 0 in "lognormal MEAN sd SD"'),
])
def test_a_field_draw_out_of_its_own_range_is_refused(tmp_path, capsys, draw, allowed):
    """A negative sd and a reversed uniform were numpy's ValueError (exit 70); a negative
    poisson or lognormal mean ran with its value clamped or squared."""
    path = _scenario(tmp_path, {'"normal 55 sd 20"': f'"{draw}"'})
    for command in (("plan", COMPANY_X, "--scenario", path),
                    ("simulate", COMPANY_X, "--scenario", path, "--replications", "2", "-q")):
        code, _, err = run(capsys, *command)
        assert code == 2, err
        assert f"{path}: arrivals.fields.score: '{draw}' is out of range: {allowed}" in err


def test_field_draws_at_the_edges_of_their_ranges_run(tmp_path, capsys):
    path = _scenario(tmp_path, {'"normal 55 sd 20"': '"normal 55 sd 0"',
                                '"poisson 4"': '"poisson 0"\nbudget = "uniform 7 7"',
                                '"lognormal 300 sd 600"': '"lognormal 300 sd 0"'})
    code, _, err = run(capsys, "simulate", COMPANY_X, "--scenario", path, "--replications",
                       "2", "-q")
    assert code == 0, err


@pytest.mark.parametrize("key, written", [
    ("touch", "fixed 0.1 seconds"),
    ("touch", "0.0001 seconds"),
    ("follow_up", "empirical [0.5, 30] seconds"),
    ("response", "lognormal 10 minutes sd 0.5 seconds"),
    ("response", "exponential 0.01 minutes"),
])
def test_a_work_time_under_a_second_is_refused(tmp_path, capsys, key, written):
    """`fixed 0.1 seconds` took sla plan 82 s and `0.0001 seconds` never ended, while the
    simulator drew a second for either."""
    path = tmp_path / "short.toml"
    path.write_text(DESK_TEXT + f'{key} = "{written}"\n' if key != "touch"
                    else DESK_TEXT.replace("exponential 12 minutes", written), encoding="utf-8")
    for command in (("plan", INBOUND, "--scenario", path),
                    ("simulate", INBOUND, "--scenario", path, "--replications", "2", "-q")):
        code, _, err = run(capsys, *command)
        assert code == 2, err
        assert (f"{path}: work.{key}: '{written}' is out of range: at least 1 second") in err


def test_a_work_time_of_one_second_is_planned_and_simulated(tmp_path, capsys):
    path = tmp_path / "second.toml"
    path.write_text(DESK_TEXT.replace('"14 days"', '"3 days"')
                    .replace("exponential 12 minutes", "fixed 1 second"), encoding="utf-8")
    assert run(capsys, "plan", INBOUND, "--scenario", path)[0] == 0
    assert run(capsys, "simulate", INBOUND, "--scenario", path, "--replications", "2",
               "-q")[0] == 0


def test_the_plans_work_at_the_fastest_touch_is_bounded(tmp_path, monkeypatch):
    """A year of 120 reps around the clock at a 1-second touch: the limits' slowest plan.
    Each half hour's 216,000 touches ended were solved in 13,500 pieces of 16, over an hour
    of CPU for the year; the queue reaches its steady state within a few pieces and the rest
    are skipped, so the year takes a few pieces in all. Counted, not timed: the pieces solved
    past a budget of 4 a step stop the plan."""
    from sla_dsl.planning import queueing
    from sla_dsl.planning.plan import first_touch_estimates
    from sla_dsl.planning.scenario import load_scenario
    from sla_dsl.policy_file import load_policy

    path = tmp_path / "fastest.toml"
    path.write_text('horizon = "366 days"\n[arrivals]\nrate = "11 per hour"\n'
                    '[team.sales]\nreps = 120\n[work]\ntouch = "fixed 1 second"\n',
                    encoding="utf-8")
    budget = 4 * 366 * 48
    solved = []
    apply = queueing.Backlog._apply

    def counted(self, move):
        solved.append(1)
        assert len(solved) <= budget, "more than 4 pieces a step"
        apply(self, move)

    monkeypatch.setattr(queueing.Backlog, "_apply", counted)
    policy = load_policy(ROOT / "tests" / "fixtures" / "simulation" / "desk.sla")
    [row] = first_touch_estimates(policy, load_scenario(path))
    assert row["attainment"] == 1.0 and row["note"] is None


def test_a_calendar_never_open_in_the_horizon_is_said_so_by_simulate(tmp_path, capsys):
    """A weekend of the weekday desk was refused as 'overloaded ... 0% of the time'."""
    path = tmp_path / "weekend.toml"
    path.write_text(DESK_TEXT.replace('"14 days"', '"2 days"\nstart = 2026-01-03'),
                    encoding="utf-8")
    code, _, err = run(capsys, "simulate", INBOUND, "--scenario", path, "--replications", "2",
                       "-q")
    assert code == 2
    assert "the calendar of team sales is not open in the scenario's 2 days" in err
    assert "overloaded" not in err


def test_max_reps_without_target_is_a_usage_error(capsys):
    code, _, err = run(capsys, "simulate", INBOUND, "--scenario", INBOUND_SCENARIO,
                       "--max-reps", "5")
    assert code == 2
    assert "--max-reps bounds the teams a --target search tries" in err


def test_the_json_of_an_emitted_run_is_strict(tmp_path, capsys):
    """`emitted.clauses` held `"wait_hours": NaN` for clauses that are not a first touch."""
    code, out, _ = run(capsys, "simulate", COMPANY_X, "--scenario", SCENARIO, "--replications",
                       "2", "-q", "--format", "json", "--emit-history", tmp_path / "cx.csv")
    assert code == 0

    def refuse(constant):
        raise ValueError(constant)

    doc = json.loads(out, parse_constant=refuse)
    waits = {c["clause"]: c["wait_hours"] for c in doc["emitted"]["clauses"]}
    assert waits["first touch"] > 0
    assert all(w is None for clause, w in waits.items() if clause != "first touch")
