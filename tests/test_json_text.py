"""The column-wise JSON writer (`reports.json_text`) writes the very bytes `json.dumps` writes
of the whole document, per-lead records included, and the records built from the lead table
are the dicts the document always had."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from sla_dsl import evaluate, load_history, load_policy
from sla_dsl.business_time.zones import iso_texts, local_time
from sla_dsl.history.synthetic import generate
from sla_dsl.history.write import write_csv
from sla_dsl.reports import json_text
from sla_dsl.reports.json_text import json_values
from sla_dsl.reports.lead_table import LeadRows, lead_table

ROOT = Path(__file__).resolve().parent.parent

EXAMPLES = {
    "company-x": ("company-x.sla", ["company-x/history.csv"], None, "2026-04-06T00:00Z"),
    "new-breed": ("new-breed.sla", ["new-breed/history.csv"], None, None),
    "olist": ("olist.sla", ["olist/olist_marketing_qualified_leads_dataset.csv",
                            "olist/olist_closed_deals_dataset.csv"], "olist/mapping.toml", None),
}


def _same_bytes(policy, history, as_of=None) -> str:
    fast = evaluate(policy, history, as_of).json()
    slow = evaluate(policy, history, as_of)
    assert fast == json.dumps(slow.document, indent=2) + "\n"
    assert slow.json() == fast  # the document already built: written by json.dumps
    # in parts, as `sla evaluate --format json` writes them: the same bytes
    assert b"".join(evaluate(policy, history, as_of).json_parts()) == fast.encode()
    assert b"".join(slow.json_parts()) == fast.encode()
    return fast


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_shipped_examples(name: str) -> None:
    policy_file, histories, mapping, as_of = EXAMPLES[name]
    policy = load_policy(ROOT / "policies" / policy_file)
    history = load_history([ROOT / "examples" / h for h in histories],
                           mapping=ROOT / "examples" / mapping if mapping else None,
                           policy=policy)
    text = _same_bytes(policy, history, as_of)
    assert bool(json.loads(text)["leads"]) == (name != "olist")  # olist's policy has no clock


def test_fifty_thousand_synthetic_leads(tmp_path: Path) -> None:
    path = tmp_path / "history.csv"
    write_csv(generate(50_000, dt.date(2026, 1, 5), 120, seed=16), path)
    policy = load_policy(ROOT / "policies" / "inbound-desk.sla")
    text = _same_bytes(policy, load_history([path], policy=policy))
    assert len(json.loads(text)["leads"]) > 10_000


def test_odd_strings_escaped_as_json_dumps(tmp_path: Path) -> None:
    """Lead ids and owners with quotes, backslashes, control and non-ASCII characters."""
    columns = generate(300, dt.date(2026, 1, 5), 20, seed=3)
    ids = columns["lead_id"].astype(object)
    odd = ['L"1', "L\\2", "Lé3", "L\t4", "L😀5", "L\u20286", "L\x7f7"]
    for n, suffix in enumerate(odd):
        ids[ids == ids[n * 7]] = suffix
    columns["lead_id"] = ids
    actors = columns["actor"].astype(object)
    actors[actors == actors[actors != ""][0]] = "Zoë \"Z\" Ström"
    columns["actor"] = actors
    path = tmp_path / "history.csv"
    write_csv(columns, path)
    policy = load_policy(ROOT / "policies" / "inbound-desk.sla")
    text = _same_bytes(policy, load_history([path], policy=policy))
    assert "\\u00e9" in text and "\\ud83d\\ude00" in text


def test_values_of_other_types_fall_back_to_json_dumps() -> None:
    values = np.array(["a", None, 3, 1.5, True, "é"], dtype=object)
    assert json_values(values).to_pylist() == [json.dumps(v) for v in values.tolist()]
    plain = np.array(["a", None, 'q"', "\x00", ""], dtype=object)
    assert json_values(plain).to_pylist() == [json.dumps(v) for v in plain.tolist()]


def test_written_in_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Leads written a few at a time, in threads, join to the same bytes."""
    monkeypatch.setattr(json_text, "CHUNK_LEADS", 7)
    policy_file, histories, _, as_of = EXAMPLES["new-breed"]
    policy = load_policy(ROOT / "policies" / policy_file)
    history = load_history([ROOT / "examples" / h for h in histories], policy=policy)
    _same_bytes(policy, history, as_of)


@pytest.mark.parametrize("size", [1, 7, 100])
def test_lead_records_made_a_chunk_at_a_time_are_the_whole_tables(size: int) -> None:
    """The JSON's records are made a chunk of leads at a time (`LeadRows`): any chunk is the
    whole table's rows, leads only a later level took (named by their first clause) too."""
    policy_file, histories, _, _ = EXAMPLES["new-breed"]
    policy = load_policy(ROOT / "policies" / policy_file)
    history = load_history([ROOT / "examples" / h for h in histories], policy=policy)
    evaluation = evaluate(policy, history).evaluation
    zone = ZoneInfo(policy.timezone)
    whole, lazy = lead_table(evaluation, zone), LeadRows(evaluation, zone)
    assert len(lazy) == len(whole) and (evaluation.handoff[lazy.leads] == None).any()  # noqa: E711
    for start in range(0, len(lazy), size):
        stop = min(start + size, len(lazy))
        chunk, want = lazy.rows(start, stop), whole.rows(start, stop)
        for name in ("lead_id", "handoff", "segment", "owner", "handed_off_at", "clause",
                     "status", "due", "at", "bounds"):
            assert getattr(chunk, name).tolist() == getattr(want, name).tolist(), name


def test_the_leads_text_is_made_a_few_chunks_ahead_of_the_writer() -> None:
    """A big report's text is never held whole: a chunk is made when the writer nears it."""
    made = []

    def make(chunk: int) -> int:
        made.append(chunk)
        return chunk

    parts = json_text._ahead(make, iter(range(100)), 2)
    assert next(parts) == 0 and len(made) <= 3
    assert list(parts) == list(range(1, 100)) and sorted(made) == list(range(100))


@pytest.mark.parametrize("zone", ["UTC", "America/New_York", "Africa/Monrovia",
                                  "Australia/Lord_Howe", "Asia/Kolkata"])
def test_iso_texts_written_by_arithmetic_as_isoformat(zone: str) -> None:
    """Years 1 to 9999, fractions of a second, offsets with seconds (local mean time)."""
    rng = np.random.default_rng(16)
    seconds = np.concatenate([rng.integers(-62_000_000_000, 253_000_000_000, 20),
                              rng.integers(-3_000_000_000, 3_000_000_000, 3000)])
    us = np.concatenate([seconds * 1_000_000,
                         seconds * 1_000_000 + rng.integers(1, 10**6, len(seconds))])
    tz = ZoneInfo(zone)
    assert iso_texts(us, tz).tolist() == [local_time(int(u), tz).isoformat() for u in us]


def test_the_command_writes_the_reports_json(tmp_path: Path, capsysbinary) -> None:
    """`sla evaluate --format json` writes `Report.json()`'s bytes, to a file or stdout."""
    from sla_dsl.cli import main

    policy_path = ROOT / "policies" / "new-breed.sla"
    history_path = ROOT / "examples" / "new-breed" / "history.csv"
    policy = load_policy(policy_path)
    expected = evaluate(policy, load_history([history_path], policy=policy)).json().encode()
    out = tmp_path / "report.json"
    args = ["evaluate", str(policy_path), "--history", str(history_path), "--format", "json",
            "-q"]
    assert main([*args, "-o", str(out)]) in (0, 1)
    assert out.read_bytes() == expected
    capsysbinary.readouterr()
    assert main(args) in (0, 1)
    assert capsysbinary.readouterr().out == expected
