"""`sla evaluate` as a manager and a CI job use it: real policy, real histories, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sla_dsl.cli import main

from .conftest import OLIST_FULL, ROOT

POLICY = str(ROOT / "policies" / "company-x.sla")
HISTORY = str(ROOT / "examples" / "company-x" / "history.csv")
OLIST = ROOT / "examples" / "olist"


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["evaluate", *args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def company_x_json() -> dict:
    import contextlib
    import io

    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        assert main(["evaluate", POLICY, "--history", HISTORY, "--format", "json"]) == 0
    return json.loads(buffer.getvalue())


def test_text_report_leads_with_the_worst_clause(capsys):
    code, out, _ = run(capsys, POLICY, "--history", HISTORY)
    assert code == 0
    lines = out.splitlines()
    # the first lines say what the as-of time is, what the agreement and the data cover
    assert lines[:3] == [
        "Company X: marketing and sales: as of 2026-05-27T15:29:52-04:00 (the latest event in "
        "the history, a won event)",
        "agreement in force 2026-01-01 to 2026-12-31; data ends 2026-04-03 (leads came in "
        "from 2026-01-05)",
        "history: 2164 rows read, 2164 accepted, 0 rejected"]
    # what is owed and what fired comes before the tables it sums up
    short = lines.index("in short:")
    assert lines[short + 1] == "  348 breaches, 0 pending and 425 met, over 7 clauses of 271 leads."
    table = lines.index("clauses, worst first (met / breached / pending, attainment of decided "
                        "leads):")
    assert short < table
    first_clause = lines[table + 1]
    assert first_clause.strip().startswith("hot: touches")  # the lowest attainment first
    assert "owners with the most breaches" in out
    # April's leads stop on the 3rd and May has none: two counted misses, not three in a row
    assert "cancel when deliver missed 3 months in a row: not triggered" in out


def test_json_has_the_documented_shape(company_x_json):
    doc = company_x_json
    assert set(doc) >= {"as_of", "rows", "leads", "periods", "consequences"}
    assert doc["rows"] == {"read": 2164, "accepted": 2164, "rejected": 0}
    lead = doc["leads"][0]
    assert set(lead) >= {"lead_id", "handoff", "owner", "clauses"}
    clause = lead["clauses"][0]
    assert set(clause) == {"handoff", "clause", "status", "due", "at", "owner"}
    assert clause["clause"] in {"first touch", "touches", "disposition", "threshold"}
    assert clause["status"] in {"met", "breached", "pending"}
    assert {c["action"] for c in doc["consequences"]} == {"warn", "escalate", "reassign",
                                                           "strike"}


def test_read_equals_accepted_plus_rejected_and_rejects_are_listed(capsys, tmp_path):
    rejects = tmp_path / "rejects.csv"
    broken = str(ROOT / "tests" / "fixtures" / "histories" / "broken.csv")
    code, out, err = run(capsys, POLICY, "--history", broken, "--format", "json",
                         "--rejects", str(rejects))
    assert code == 0
    rows = json.loads(out)["rows"]
    assert rows["read"] == rows["accepted"] + rows["rejected"] and rows["rejected"] > 0
    assert "rejected:" in err and "broken.csv:" in err
    assert len(rejects.read_text().splitlines()) == rows["rejected"] + 1


@pytest.mark.parametrize("where", ["no-such-folder/rejects.csv", "."])
@pytest.mark.parametrize("run_as", ["whole", "shard", "ingested"])
def test_a_rejects_file_that_cannot_be_written_is_a_usage_error(capsys, tmp_path, where, run_as):
    """A folder that does not exist, or a directory named as the file, was exit 70
    (FileNotFoundError, IsADirectoryError) in each of the three places --rejects is written."""
    broken = str(ROOT / "tests" / "fixtures" / "histories" / "broken.csv")
    history = [broken]
    if run_as == "ingested":
        pytest.importorskip("duckdb")
        history = [str(tmp_path / "buckets")]
        assert main(["ingest", "--history", broken, "--buckets", "2", "--out", history[0],
                     "--timezone", "UTC", "-q"]) == 0
    extra = ["--shard", "0/2", "--partial", str(tmp_path / "p.parquet")] \
        if run_as == "shard" else []
    code, _, err = run(capsys, POLICY, "--history", *history, "--rejects",
                       str(tmp_path / where), *extra)
    assert code == 2
    assert f"sla evaluate: cannot write {tmp_path / where}: " in err
    assert "help: name a file in a directory that exists" in err


def test_strict_makes_a_reject_an_input_error(capsys):
    broken = str(ROOT / "tests" / "fixtures" / "histories" / "broken.csv")
    assert run(capsys, POLICY, "--history", broken, "--strict")[0] == 2


def test_fail_on_breach_is_for_ci(capsys):
    assert run(capsys, POLICY, "--history", HISTORY, "--fail-on-breach")[0] == 1


def test_as_of_ignores_later_events(capsys):
    code, out, _ = run(capsys, POLICY, "--history", HISTORY, "--format", "json",
                       "--as-of", "2026-01-09T12:00")
    doc = json.loads(out)
    assert code == 0 and doc["as_of"] == "2026-01-09T12:00:00-05:00"
    assert all(lead["handed_off_at"] <= doc["as_of"] for lead in doc["leads"])
    assert any(c["status"] == "pending" for lead in doc["leads"] for c in lead["clauses"])


@pytest.mark.parametrize("args", [
    ["--history", "no-such-file.csv"],
    ["--history", HISTORY, "--as-of", "next tuesday"],
    ["--history", HISTORY, "--mapping", "no-such-mapping.toml"],
])
def test_input_errors_exit_2_without_a_traceback(capsys, args):
    code, out, err = run(capsys, POLICY, *args)
    assert code == 2
    assert "Traceback" not in out + err and err.strip()


def test_a_broken_policy_is_not_evaluated(capsys, tmp_path):
    policy = tmp_path / "broken.sla"
    policy.write_text('sla "x"\nhandoff every lead from marketing to sales\n')
    code, _, err = run(capsys, str(policy), "--history", HISTORY)
    assert code == 2 and "party 'marketing' is used" in err


def test_olist_excerpt_through_its_mapping(capsys):
    code, out, err = run(capsys, str(ROOT / "policies" / "olist.sla"),
                         "--mapping", str(OLIST / "mapping.toml"), "--format", "json")
    doc = json.loads(out)
    assert code == 0
    assert doc["rows"]["rejected"] == 1 and "before the lead was created" in err
    assert doc["rows"]["read"] == doc["rows"]["accepted"] + doc["rows"]["rejected"]
    [review] = [t for t in doc["triggers"] if t["when"] == "rate lead to won < 10%"]
    assert review["readings"][0].startswith("rate lead to won = ")


def test_history_schema_is_printed(capsys):
    assert main(["schema", "history"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert "lead_id" in schema["properties"] and "event" in schema["required"]


def test_full_olist_data_end_to_end(capsys):
    data = OLIST_FULL
    code, out, _ = run(capsys, str(ROOT / "policies" / "olist.sla"),
                       "--mapping", str(OLIST / "mapping.toml"), "--format", "json",
                       "--history", str(data / "olist_marketing_qualified_leads_dataset.csv"),
                       str(data / "olist_closed_deals_dataset.csv"))
    doc = json.loads(out)
    assert code == 0
    # a record is a date cell the mapping reads: created and handoff of each MQL, assigned and
    # won of each deal
    records = 2 * 8000 + 2 * 842
    assert doc["rows"] == {"read": records, "accepted": records - 1, "rejected": 1}
    assert doc["summary"]["leads"] == 8000
    # the 2,002 MQLs of 2017 came in before the agreement is in force: counted, not judged
    assert doc["coverage"]["leads"] == {"in_period": 5998, "before": 2002, "after": 0,
                                        "not_yet": 0}
    lead, won = doc["funnel"][0], next(s for s in doc["funnel"] if s["stage"] == "won")
    # of the 841 wins (the deal won before its first contact is rejected), 780 are of 2018 MQLs
    assert (lead["leads"], won["leads"]) == (5998, 780)


def test_the_example_history_is_what_the_generator_makes(tmp_path):
    from sla_dsl.history.synthetic import main as generate

    out = tmp_path / "history.csv"
    assert generate(["--leads", "400", "--start", "2026-01-05", "--days", "90",
                     "--out", str(out)]) == 0
    assert out.read_text() == Path(HISTORY).read_text()


def test_the_documented_json_keys_are_the_real_ones(company_x_json):
    doc_text = (ROOT / "docs" / "evaluate.md").read_text()
    example = json.loads(doc_text.split("```json\n")[1].split("```")[0])
    assert set(example) == set(company_x_json)
    assert set(example["summary"]) == set(company_x_json["summary"])
    for key in ("leads", "periods", "consequences", "strikes", "funnel", "triggers",
                "assignments"):
        assert set(example[key][0]) == set(company_x_json[key][0]), key
    assert set(example["leads"][0]["clauses"][0]) == set(company_x_json["leads"][0]["clauses"][0])
    for key in ("speed", "depth"):
        assert set(example["follow_up"][key][0]) == set(company_x_json["follow_up"][key][0])
    assert set(example["summary"]["teams"][0]) == set(company_x_json["summary"]["teams"][0])
    assert set(example["coverage"]) == set(company_x_json["coverage"])
    assert set(example["coverage"]["leads"]) == set(company_x_json["coverage"]["leads"])
    assert set(example["summary"]["by_month"][0]["months"][0]) == set(
        company_x_json["summary"]["by_month"][0]["months"][0])


def test_bulk_timestamps_read_like_single_ones():
    from zoneinfo import ZoneInfo

    import numpy as np

    from sla_dsl.evaluation.instants import iso_many, iso_text
    from sla_dsl.evaluation.replay import NONE, STOPPED

    zone = ZoneInfo("America/New_York")
    # around both 2026 changes, with and without microseconds, and the no-time markers
    instants = np.array([1772953200_000000, 1772956800_000000, 1793512800_000000,
                         1793516400_000001, 1767225600_000000, NONE, STOPPED])
    assert iso_many(instants, zone).tolist() == [iso_text(int(v), zone) for v in instants]


def test_a_lead_only_a_later_level_took_is_listed_under_that_level(capsys):
    """New Breed: NB00018 was never handed off by marketing; an MDR passed it to sales."""
    code = main(["evaluate", str(ROOT / "policies" / "new-breed.sla"), "--history",
                 str(ROOT / "examples" / "new-breed" / "history.csv"), "--format", "json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0
    lead = next(r for r in doc["leads"] if r["lead_id"] == "NB00018")
    assert (lead["handoff"], lead["owner"], lead["handed_off_at"]) == (
        "sql", "Oskar", "2026-01-10T18:21:35-05:00")
    assert {c["handoff"] for c in lead["clauses"]} == {"sql"}
    assert doc["summary"]["handed_off"] == 360  # 298 by marketing and 62 MDR prospects


def test_speed_in_business_hours_counts_only_open_time():
    """Company X's hot leads (1 business hour, Mon-Fri 9-17 and Saturday 10-14 in New York):
    January's mean delay in open time, recounted lead by lead with the scalar calendar."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    import numpy as np

    from sla_dsl.business_time.calendar import calendar_for
    from sla_dsl.evaluation.replay import NONE, evaluate
    from sla_dsl.history.read import load_history
    from sla_dsl.measures.period_measures import PeriodMeasures
    from sla_dsl.policy_file import load_policy

    policy = load_policy(ROOT / "policies" / "company-x.sla")
    evaluation = evaluate(policy, load_history([HISTORY], timezone=policy.timezone))
    row = next(r for r in PeriodMeasures(evaluation).speed()
               if (r["handoff"], r["period"], r["start"]) == ("hot", "month", "2026-01-01"))
    result = next(r for r in evaluation.clauses
                  if (r.handoff, r.clause) == ("hot", "first touch"))
    calendar = calendar_for(policy, policy.handoffs[0].item("first_touch").within)
    zone, utc = ZoneInfo("America/New_York"), dt.UTC
    hours = []
    for start, at in zip(result.start.tolist(), result.at.tolist(), strict=True):
        begun = dt.datetime.fromtimestamp(start / 1e6, utc)
        if at != NONE and begun.astimezone(zone).month == 1:
            done = dt.datetime.fromtimestamp(at / 1e6, utc)
            hours.append(calendar.open_time_between(begun, done).total_seconds() / 3600)
    assert row["touched"] == len(hours)
    assert row["mean_business_hours"] == round(float(np.mean(hours)), 2)
    assert row["mean_business_hours"] < row["mean_hours"]  # nights and weekends left out


def test_counts_and_their_nouns_agree_at_one(capsys, tmp_path):
    """One row, one lead, one breach: the report says each in the singular (it said `1 rows
    read`), and two of a thing are still plural."""
    history = tmp_path / "history.csv"
    history.write_text("lead_id,at,event,actor\nL1,2026-03-02T09:10:00Z,handoff,rep\n")
    floor = str(ROOT / "policies" / "sales-floor.sla")
    # an hour past the first touch's due time (10:00 in Chicago); the cadence still runs
    page = tmp_path / "report.html"
    code, out, _ = run(capsys, floor, "--history", str(history), "--as-of",
                       "2026-03-02T17:00:00Z", "--html", str(page))
    assert code == 0
    assert "history: 1 row read, 1 accepted, 0 rejected\n" in out
    assert "No row was rejected: the one row read was accepted." in page.read_text()
    assert "  1 breach, 1 pending and 0 met, over 2 clauses of 1 lead.\n" in out
    with history.open("a") as handle:
        handle.write("L2,2026-03-02T09:20:00Z,handoff,rep\n")
    code, out, _ = run(capsys, floor, "--history", str(history), "--as-of",
                       "2026-03-20T00:00:00Z")
    assert "history: 2 rows read, 2 accepted, 0 rejected\n" in out
    assert "  4 breaches, 0 pending and 0 met, over 2 clauses of 2 leads.\n" in out


def test_a_lead_first_seen_after_the_as_of_time_is_no_lead_yet(capsys, tmp_path):
    """Three leads come in a week after the as-of time: they were counted as leads of the
    period, and `rate lead to mql` fell to 25% and fired a review nobody could have seen."""
    policy = tmp_path / "rate.sla"
    policy.write_text('sla "Rate test"\ntimezone "Europe/Amsterdam"\nparty marketing\n'
                      "party sales\nstage mql when score >= 60\n"
                      "handoff every lead from marketing to sales {\n"
                      "  first touch within 4 hours\n}\nreview when rate lead to mql < 60%\n")
    history = tmp_path / "history.csv"
    history.write_text("lead_id,at,event,actor,score\nA,2026-03-02T10:00,created,,90\n"
                       "A,2026-03-02T10:05,handoff,marketing,\nB,2026-03-10T10:00,created,,90\n"
                       "C,2026-03-10T10:00,created,,10\nD,2026-03-10T10:00,created,,10\n")
    common = [str(policy), "--history", str(history), "--as-of", "2026-03-05T12:00"]
    assert main(["evaluate", *common, "--format", "json", "-o", str(tmp_path / "r.json")]) == 0
    doc = json.loads((tmp_path / "r.json").read_text())
    assert doc["coverage"]["leads"] == {"in_period": 1, "before": 0, "after": 0, "not_yet": 3}
    assert doc["funnel"][0] == {"stage": "lead", "leads": 1, "rate_from_previous": None,
                                "rate": None, "rate_of": None}
    [review] = doc["triggers"]
    assert review["triggered"] is False
    capsys.readouterr()
    assert main(["evaluate", *common]) == 0
    assert "leads: 4 (1 in the agreement's period; 3 first seen after the as-of time: not " \
           "judged)" in capsys.readouterr().out
    assert main(["evaluate", *common, "--explain", "B"]) == 0
    assert "no event of the lead by the as-of time" in capsys.readouterr().out


@pytest.mark.parametrize("outputs", [
    lambda tmp: ["--html", str(tmp / "r"), "-o", str(tmp / "r")],
    lambda tmp: ["-o", str(tmp / "r"), "--rejects", str(tmp / "." / "r")],
    lambda tmp: ["-o", str(tmp / "h.csv")],
    lambda tmp: ["--shard", "0/2", "--partial", str(tmp / "h.csv")],
])
def test_an_output_on_another_output_or_an_input_is_refused(outputs, tmp_path, capsys):
    # `--html X -o X` left one report of the two; `--partial` on the history overwrote it
    history = tmp_path / "h.csv"
    history.write_bytes((ROOT / "examples" / "company-x" / "history.csv").read_bytes())
    before = history.read_bytes()
    code, _, err = run(capsys, POLICY, "--history", str(history), *outputs(tmp_path))
    assert code == 2
    assert "both write" in err or "is one of the files read" in err
    assert history.read_bytes() == before and not (tmp_path / "r").exists()


SCENARIOS = ROOT / "examples" / "scenarios"


@pytest.mark.parametrize(("command", "target"), [
    (["due", POLICY, "--history", "HISTORY", "-o"], "HISTORY"),
    (["calibrate", "--policy", POLICY, "--history", "HISTORY", "-o"], "HISTORY"),
    (["explain", "POLICY_COPY", "-o"], "POLICY_COPY"),
    (["diff", "POLICY_COPY", POLICY, "--history", "HISTORY", "-o"], "HISTORY"),
    (["diff", POLICY, "POLICY_COPY", "-o"], "POLICY_COPY"),
    (["test", "POLICY_COPY", "-o"], "POLICY_COPY"),
    (["test", "POLICY_COPY", "-o"], "CASE"),
    (["simulate", "POLICY_COPY", "--scenario", str(SCENARIOS / "company-x.toml"),
      "--replications", "2", "--emit-history"], "POLICY_COPY"),
])
def test_the_other_commands_refuse_an_output_on_an_input(command, target, tmp_path, capsys):
    # each wrote its output over the history, the policy or the test case it had read
    history = tmp_path / "h.csv"
    history.write_bytes((ROOT / "examples" / "company-x" / "history.csv").read_bytes())
    policy = tmp_path / "company-x.sla"
    policy.write_bytes(Path(POLICY).read_bytes())
    case = tmp_path / "tests" / "company-x" / "case.toml"
    case.parent.mkdir(parents=True)
    case.write_bytes(next((ROOT / "policies" / "tests" / "company-x").glob("*.toml"))
                     .read_bytes())
    files = {"HISTORY": history, "POLICY_COPY": policy, "CASE": case}
    before = files[target].read_bytes()
    assert main([str(files.get(a, a)) for a in command] + [str(files[target])]) == 2
    assert "is one of the files read" in capsys.readouterr().err
    assert files[target].read_bytes() == before


def test_simulate_refuses_to_emit_its_history_over_the_scenarios_reps_file(tmp_path, capsys):
    for name in ("coast-to-coast.toml", "coast-to-coast-reps.csv"):
        (tmp_path / name).write_bytes((SCENARIOS / name).read_bytes())
    reps = tmp_path / "coast-to-coast-reps.csv"
    before = reps.read_bytes()
    assert main(["simulate", str(ROOT / "policies" / "coast-to-coast.sla"), "--scenario",
                 str(tmp_path / "coast-to-coast.toml"), "--replications", "2",
                 "--emit-history", str(reps)]) == 2
    assert "is one of the files read" in capsys.readouterr().err
    assert reps.read_bytes() == before
