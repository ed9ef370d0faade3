"""How fast a Salesforce-shaped export reads through `--preset salesforce`, against the same
events as a plain event log.

Target (issue 14): a million leads (Lead, LeadHistory, Task) through the preset at no less than
half the speed of the same events read as an event log, that is a ratio (event log seconds /
preset seconds) of 0.5 or more.

    python benchmarks/preset_speed.py [--leads 1000000] [--repeat 3] [--dir DIR]

The export is made with numpy and written with pyarrow (a Python loop over a million leads
would take longer than what it measures), with the preset's quirks: every owner change twice
(Id and name), tasks of converted leads on their contacts, open and deleted tasks, emails
without CompletedDateTime. The event log holds the events the preset reads from it, with the
fields the policy reads (the status a status change carries). Each read
is `load_history` in this process with the fields `sla evaluate` keeps for
policies/inbound-desk.sla (its `status`), after one warm-up read of each, the two reads taking
turns; the median of the repeats is printed, in wall seconds (the target) and in CPU seconds,
with each run's times and the machine's load average (the figures are noisy on a shared one).

An export written by an older version of this script (`FORMAT` differs) is written again.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sla_dsl.evaluation.replay import fields_needed  # noqa: E402
from sla_dsl.history.presets import load_preset  # noqa: E402
from sla_dsl.history.read import load_history  # noqa: E402
from sla_dsl.policy_file import load_policy  # noqa: E402

FORMAT = "2"  # what `write` writes: bumped when it changes, so an old export is written again
_US = 1_000_000
START = 1_772_409_600  # 2026-03-02T00:00Z, seconds
POLICY = ROOT / "policies" / "inbound-desk.sla"
REPS = np.array([f"0055g00000A1b2{c}AAA" for c in "cdefgh"])


def _api(seconds: np.ndarray) -> pa.Array:
    stamps = pa.array(seconds, pa.timestamp("s"))
    import pyarrow.compute as pc

    return pc.strftime(stamps, format="%Y-%m-%dT%H:%M:%S.000+0000")


def _iso(seconds: np.ndarray) -> pa.Array:
    stamps = pa.array(seconds, pa.timestamp("s"))
    import pyarrow.compute as pc

    return pc.strftime(stamps, format="%Y-%m-%dT%H:%M:%SZ")


def _ids(prefix: str, numbers: np.ndarray) -> pa.Array:
    import pyarrow.compute as pc

    digits = pc.utf8_lpad(pa.array(numbers.astype(str)), 10, "0")
    return pc.binary_join_element_wise(prefix, digits, "AAA", "")


def write(leads: int, folder: Path, seed: int = 14) -> None:
    """Lead.csv, LeadHistory.csv, Task.csv and events.csv for `leads` leads."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    n = leads
    number = np.arange(n)
    created = START + np.sort(rng.integers(0, 90 * 86_400, n))
    owner = rng.integers(0, len(REPS), n)
    converted = rng.random(n) < 0.2
    lead_id = _ids("00Q5g", number)
    contact = _ids("0035g", number)
    pcsv.write_csv(pa.table({
        "Id": lead_id, "OwnerId": REPS[owner], "Status": np.where(converted, "Qualified",
                                                                  "Working"),
        "LeadSource": rng.choice(["Web", "Partner"], n), "CreatedDate": _api(created),
        "IsConverted": np.where(converted, "true", "false"),
        "ConvertedContactId": pc_where(converted, contact),
        "Industry": rng.choice(["Technology", "Finance", "Retail"], n),
        "NumberOfEmployees": rng.integers(1, 5000, n).astype(str),
        "Title": rng.choice(["CEO", "Analyst", "VP Sales"], n), "IsDeleted": ["false"] * n,
    }), folder / "Lead.csv")

    # LeadHistory: a status change per lead; a quarter reassigned, each written twice
    status_at = created + rng.integers(600, 86_400, n)
    moved = np.flatnonzero(rng.random(n) < 0.25)
    moved_at = created[moved] + rng.integers(60, 3600, len(moved))
    new_owner = (owner[moved] + 1) % len(REPS)
    history = {
        "LeadId": pa.concat_arrays([lead_id, lead_id.take(pa.array(moved)),
                                    lead_id.take(pa.array(moved))]),
        "Field": ["Status"] * n + ["Owner"] * (2 * len(moved)),
        "OldValue": np.concatenate([np.full(n, "Open"), REPS[owner[moved]],
                                    np.char.add("Rep ", owner[moved].astype(str))]),
        "NewValue": np.concatenate([np.where(converted, "Qualified", "Working"),
                                    REPS[new_owner], np.char.add("Rep ", new_owner.astype(str))]),
        "CreatedDate": pa.concat_arrays([_api(status_at), _api(moved_at), _api(moved_at)]),
        "CreatedById": np.concatenate([REPS[owner], np.full(2 * len(moved), REPS[0])]),
    }
    pcsv.write_csv(pa.table(history), folder / "LeadHistory.csv")

    # Task: about three a lead; converted leads' later ones on the contact; some open, deleted
    per = rng.integers(0, 6, n)
    who = np.repeat(number, per)
    k = len(who)
    at = created[who] + rng.integers(300, 10 * 86_400, k)
    call = rng.random(k) < 0.6
    disposition = np.where(call, rng.choice(["No answer", "Left voicemail", "Connected"], k), "")
    on_contact = converted[who] & (rng.random(k) < 0.5)
    open_ = rng.random(k) < 0.05
    deleted = rng.random(k) < 0.02
    whoid = pc_where(on_contact, contact.take(pa.array(who)), lead_id.take(pa.array(who)))
    completed = pc_where(call, _api(at), pa.array([""] * k))
    pcsv.write_csv(pa.table({
        "Id": _ids("00T5g", np.arange(k)), "WhoId": whoid, "OwnerId": REPS[owner[who]],
        "ActivityDate": pa.array((at // 86_400 * 86_400).astype("datetime64[s]").astype(str)),
        "CreatedDate": _api(at), "CompletedDateTime": completed,
        "Status": np.where(open_, "Not Started", "Completed"),
        "TaskSubtype": np.where(call, "Call", "Email"), "CallDisposition": disposition,
        "IsDeleted": np.where(deleted, "true", "false"),
    }), folder / "Task.csv")
    (folder / "Event.csv").write_text("Id,WhoId,OwnerId,StartDateTime,CreatedDate,Type,"
                                      "Subject\n")

    # The same events, as the preset reads them
    kept = ~open_ & ~deleted
    task_event = np.where(disposition == "Connected", "connected", "touch")
    events = pa.table({
        "lead_id": pa.concat_arrays([lead_id, lead_id, lead_id, lead_id,
                                     lead_id.take(pa.array(moved)),
                                     lead_id.take(pa.array(who[kept]))]),
        "at": pa.concat_arrays([_iso(created)] * 3 + [_iso(status_at), _iso(moved_at),
                                                       _iso(at[kept])]),
        "event": np.concatenate([np.full(n, "created"), np.full(n, "handoff"),
                                 np.full(n, "assigned"),
                                 np.where(converted, "accepted", "stage"),
                                 np.full(len(moved), "assigned"), task_event[kept]]),
        "actor": np.concatenate([np.full(n, ""), np.full(n, ""), REPS[owner], REPS[owner],
                                 REPS[new_owner], REPS[owner[who[kept]]]]),
        # the status a status change carries, as the preset reads it ([source.value_fields])
        "status": np.concatenate([np.full(3 * n, ""),
                                  np.where(converted, "Qualified", "Working"),
                                  np.full(len(moved) + int(kept.sum()), "")]),
    })
    pcsv.write_csv(events, folder / "events.csv")
    (folder / "format.txt").write_text(FORMAT + "\n")


def pc_where(mask: np.ndarray, yes, no=None) -> pa.Array:
    import pyarrow.compute as pc

    if no is None:
        no = pa.nulls(len(mask), pa.string())
    return pc.if_else(pa.array(mask), yes, no)


def timed(read) -> tuple[float, float, object]:
    """(wall seconds, CPU seconds of this process and its threads, the history)."""
    start, cpu = time.perf_counter(), time.process_time()
    history = read()
    return time.perf_counter() - start, time.process_time() - cpu, history


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dir", type=Path)
    args = parser.parse_args()
    folder = args.dir or Path(tempfile.gettempdir()) / f"sla-preset-speed-{args.leads}"
    stamp = folder / "format.txt"
    if not stamp.exists() or stamp.read_text().strip() != FORMAT:
        start = time.perf_counter()
        write(args.leads, folder)
        print(f"wrote {folder} in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    files = [folder / name for name in ("Lead.csv", "LeadHistory.csv", "Task.csv",
                                        "Event.csv")]
    preset = load_preset("salesforce")
    fields = fields_needed(load_policy(POLICY))  # as `sla evaluate` reads: the policy's fields

    def through_preset():
        return load_history(files, timezone="UTC", mapping=preset, fields=fields)

    def as_events():
        return load_history([folder / "events.csv"], timezone="UTC", fields=fields)

    through_preset(), as_events()  # warm up
    preset_times, event_times, preset_cpu, event_cpu = [], [], [], []
    for _ in range(args.repeat):
        seconds, cpu, mapped = timed(through_preset)
        preset_times.append(seconds)
        preset_cpu.append(cpu)
        seconds, cpu, plain = timed(as_events)
        event_times.append(seconds)
        event_cpu.append(cpu)
    assert len(mapped) == len(plain), (len(mapped), len(plain))  # the same events
    assert (np.bincount(mapped.event, minlength=16) == np.bincount(plain.event, minlength=16)
            ).all()
    assert sorted(mapped.fields) == sorted(plain.fields) == ["status"]
    p, e = statistics.median(preset_times), statistics.median(event_times)
    size = sum(f.stat().st_size for f in files) / 1e6
    print(f"{args.leads:,} leads, {len(plain):,} events "
          f"(export {size:.0f} MB: {mapped.counts.read:,} records, {mapped.left_out:,} rows "
          f"left out, {mapped.counts.rejected:,} rejected)")
    print(f"  through the preset: {p:.2f} s ({len(mapped) / p:,.0f} events/s)")
    print(f"  as an event log:    {e:.2f} s ({len(plain) / e:,.0f} events/s)")
    print(f"  ratio (event log s / preset s): {e / p:.2f}  (target: 0.50 or more)")
    pc_, ec = statistics.median(preset_cpu), statistics.median(event_cpu)
    print(f"  CPU seconds (all threads): preset {pc_:.2f}, event log {ec:.2f}, ratio "
          f"{ec / pc_:.2f} (less sensitive to other processes on a shared machine)")
    for i, times in enumerate(zip(preset_times, preset_cpu, event_times, event_cpu,
                                  strict=True), 1):
        print("  run {}: preset {:.2f} s wall, {:.2f} s CPU; event log {:.2f} s wall, "
              "{:.2f} s CPU".format(i, *times))
    print("  load average (1, 5, 15 min): " + ", ".join(f"{x:.2f}" for x in os.getloadavg()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
