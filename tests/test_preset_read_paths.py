"""The ways a preset's export is read quickly, each checked against what the reader must still
give: a time column of API instants handed on as instants (a rejected task's raw values still
show its time as written), and every id compared as a code hashed once (leads numbered as
they first appear in Lead; a contact found through the lead it was converted from; an id no
lead has, in a task or a field change, rejected with its reason)."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

from sla_dsl.history.presets import load_preset
from sla_dsl.history.read import load_history

from .conftest import ROOT

SHIPPED = ROOT / "examples" / "salesforce"
FILES = ("Lead.csv", "LeadHistory.csv", "Task.csv", "Event.csv")


def copied(tmp_path: Path) -> Path:
    for name in FILES:
        shutil.copy(SHIPPED / name, tmp_path / name)
    return tmp_path


def rows_of(path: Path) -> list[list[str]]:
    with path.open(newline="") as handle:
        return list(csv.reader(handle))


def write(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", newline="") as handle:
        csv.writer(handle).writerows(rows)


def read(folder: Path):
    history = load_history([folder / name for name in FILES], timezone="UTC",
                           mapping=load_preset("salesforce"))
    assert history.counts.read == history.counts.accepted + history.counts.rejected
    return history


def test_a_rejected_task_shows_its_time_as_written(tmp_path):
    # the shipped Task.csv writes every time as an API instant: read as instants, and the
    # task whose contact is no lead's is rejected with its cells as the file has them
    history = read(copied(tmp_path))
    [reject] = history.rejects
    task = dict(zip(*[rows_of(tmp_path / "Task.csv")[i] for i in (0, reject.row)],
                    strict=True))
    assert reject.raw["at"] == task["CompletedDateTime"] == "2026-03-05T10:00:00.000+0000"
    assert {k: reject.raw[k] for k in task} == task
    assert (reject.raw["lead_id"], reject.raw["event"]) == ("", "touch")


def test_a_time_that_is_no_instant_reads_the_column_as_text(tmp_path):
    # one localized time (a UI report's) makes the column text, parsed as always: the same
    # history but for that one time, and the same reject
    folder = copied(tmp_path)
    base = read(folder)
    rows = rows_of(folder / "Task.csv")
    header = rows[0]
    done = header.index("CompletedDateTime")
    row = next(i for i, r in enumerate(rows[1:], 1)
               if r[done].endswith(":00.000+0000") and r[header.index("Status")] == "Completed"
               and r[header.index("IsDeleted")] == "false" and r[1].startswith("00Q"))
    day, clock = rows[row][done][:10], rows[row][done][11:16]
    hour, minute = int(clock[:2]), clock[3:]
    rows[row][done] = (f"{day[5:7]}/{day[8:10]}/{day[:4]} {(hour + 11) % 12 + 1}:{minute} "
                       f"{'AM' if hour < 12 else 'PM'}")
    write(folder / "Task.csv", rows)
    again = read(folder)
    assert len(again) == len(base)
    assert (again.lead == base.lead).all() and (again.at == base.at).all()
    assert (again.event == base.event).all() and list(again.lead_ids) == list(base.lead_ids)
    assert [(r.row, r.reason) for r in again.rejects] == [(r.row, r.reason)
                                                         for r in base.rejects]


def test_leads_are_numbered_as_they_first_appear(tmp_path):
    # Lead's ids, in its order, though the joins' cells and the contacts were hashed with
    # them; an id only LeadHistory or a task names is no lead: its rows are rejected
    folder = copied(tmp_path)
    history_rows = rows_of(folder / "LeadHistory.csv")
    first, second = list(history_rows[1]), list(history_rows[2])
    first[1], second[1] = "00Q5g0000000778AAA", "00Q5g0000000777AAA"
    write(folder / "LeadHistory.csv", [*history_rows, first, second, list(first)])
    task_rows = rows_of(folder / "Task.csv")
    orphan = list(task_rows[2])
    orphan[1] = "00Q5g0000000776AAA"
    write(folder / "Task.csv", [*task_rows, orphan])
    history = read(folder)
    leads = [r[0] for r in rows_of(folder / "Lead.csv")[1:]]
    assert list(history.lead_ids) == leads
    changes = [r for r in history.rejects if r.source.endswith("LeadHistory.csv")]
    assert [r.row for r in changes] == [len(history_rows) + i for i in range(3)]
    assert changes[1].reason.startswith("LeadId '00Q5g0000000777AAA' matches no lead")
    assert history.rejects[-1].row == len(task_rows)
    assert history.rejects[-1].reason.startswith("WhoId '00Q5g0000000776AAA' matches no lead")


def test_a_contact_of_two_converted_leads_is_a_task_of_each(tmp_path):
    # two leads converted to one contact: each of its kept tasks is a record of each lead
    (tmp_path / "before").mkdir()
    before = read(copied(tmp_path / "before"))
    folder = copied(tmp_path)
    lead_rows = rows_of(folder / "Lead.csv")
    contact = lead_rows[0].index("ConvertedContactId")
    converted = next(r for r in lead_rows[1:] if r[contact])
    twin = list(converted)
    twin[0] = "00Q5g0000000900AAA"
    write(folder / "Lead.csv", [*lead_rows, twin])
    task_rows = rows_of(folder / "Task.csv")
    header = task_rows[0]
    kept = sum(1 for r in task_rows[1:] if r[1] == converted[contact]
               and r[header.index("Status")] == "Completed"
               and r[header.index("IsDeleted")] == "false")
    after = read(folder)

    def task_records(history) -> int:
        return next(s.records for s in history.sources if s.path.endswith("Task.csv"))

    assert kept and task_records(after) == task_records(before) + kept
    assert "00Q5g0000000900AAA" in list(after.lead_ids)


def test_a_byte_that_is_not_utf8_in_a_column_left_unread_rejects_its_row(tmp_path):
    # Excel's Latin-1 in a Company name (a column the preset does not read) and a bad time in
    # a later row: the narrowed read kept the row, the whole read made for the rejects' raw
    # values did not, and its positions no longer matched (an internal error). The file is
    # now read whole, as ingest reads it: that row is rejected as not UTF-8, with its number
    folder = copied(tmp_path)
    lead_rows = rows_of(folder / "Lead.csv")
    header = lead_rows[0]
    company, created = header.index("Company"), header.index("CreatedDate")
    lead_rows[2][created] = "not-a-date"
    write(folder / "Lead.csv", lead_rows)
    data = (folder / "Lead.csv").read_bytes()
    name = lead_rows[1][company].encode()
    (folder / "Lead.csv").write_bytes(data.replace(name, b"M\xfcller GmbH", 1))
    # read as `sla evaluate` reads it for a policy: only the columns the policy needs
    history = load_history([folder / name for name in FILES], timezone="UTC",
                           mapping=load_preset("salesforce"), fields={"status"})
    assert history.counts.read == history.counts.accepted + history.counts.rejected
    reasons = {(r.source.rsplit("/", 1)[-1], r.row): r.reason for r in history.rejects}
    assert reasons[("Lead.csv", 1)] == "row is not valid UTF-8 text"
    assert reasons[("Lead.csv", 2)].startswith("time 'not-a-date' is not a date and time")
