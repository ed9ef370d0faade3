"""`sla ingest --preset salesforce|hubspot` and `--mapping`: a CRM export cut out of core into
buckets of whole leads, evaluated bucket by bucket, gives the report (JSON, text, rejects) of
`sla evaluate --preset ... --history FILES` byte for byte: the shipped exports, a damaged copy
(rows that join no lead, a lead found through two contacts' leads in other buckets, a row of
the wrong width, rejected first records), and the Olist mapping."""

from __future__ import annotations

import csv
import json
import re
import shutil
from pathlib import Path

import pytest

from sla_dsl.cli import main

pytest.importorskip("duckdb")

from sla_dsl.history.ingest import MANIFEST
from sla_dsl.history.ingest_mapped import ingest_mapped
from sla_dsl.history.lead_hash import lead_bucket
from sla_dsl.history.mapping import MappingError, parse_mapping
from sla_dsl.history.salesforce_ids import full_id
from sla_dsl.policy_file import load_policy

ROOT = Path(__file__).resolve().parent.parent
POLICY = str(ROOT / "policies" / "inbound-desk.sla")
ZONE = "Europe/Amsterdam"  # the policy's, and the HubSpot portal's in the shipped example
SHIPPED = {crm: sorted(str(p) for p in (ROOT / "examples" / crm).glob("*.csv"))
           for crm in ("salesforce", "hubspot")}


def _run(args: list[str], capsys) -> tuple[int, str, str]:
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _same_as_one_run(policy: str, reading: list[str], buckets: int, tmp_path: Path,
                     capsys) -> dict:
    """Ingest with `reading` (--preset/--mapping, --history, --timezone), evaluate the
    buckets, and assert every output is the single run's; the manifest."""
    out = tmp_path / f"buckets-{buckets}"
    code, _, err = _run(["ingest", *reading, "--buckets", str(buckets), "--out", str(out),
                            *([] if "--timezone" in reading else
                              ["--timezone", load_policy(policy).timezone or "UTC"]),
                            "-q"], capsys)
    assert code == 0, err
    for form in ("json", "text"):
        single = _run(["evaluate", policy, *reading, "-q", "--format", form, "--rejects",
                       str(tmp_path / "single.csv")], capsys)
        cut = _run(["evaluate", policy, "--history", str(out), "-q", "--format", form,
                    "--rejects", str(tmp_path / "cut.csv")], capsys)
        assert single[0] == 0, single[2]
        assert cut == single
        assert (tmp_path / "cut.csv").read_bytes() == (tmp_path / "single.csv").read_bytes()
    return json.loads((out / MANIFEST).read_text())


@pytest.mark.parametrize("buckets", [1, 2, 5])
def test_the_shipped_salesforce_export_cut_into_buckets_is_the_single_run(buckets, tmp_path,
                                                                          capsys):
    manifest = _same_as_one_run(POLICY, ["--preset", "salesforce", "--history",
                                         *SHIPPED["salesforce"]], buckets, tmp_path, capsys)
    assert (manifest["rows_read"], manifest["accepted"], manifest["rejected"]) == (407, 406, 1)
    assert manifest["mapping"] == "preset salesforce"
    assert any("LeadHistory.csv starts on 2026-03-04" in note for note in manifest["notes"])
    assert manifest["actor_zones"]  # User.TimeZoneSidKey, by owner name
    tasks = next(f for f in manifest["files"] if f["path"].endswith("Task.csv"))
    assert tasks["rows"] == 184  # each row once, whichever buckets hold a copy


@pytest.mark.parametrize("buckets", [1, 2, 5])
def test_the_shipped_hubspot_export_cut_into_buckets_is_the_single_run(buckets, tmp_path,
                                                                       capsys):
    _same_as_one_run(POLICY, ["--preset", "hubspot", "--timezone", ZONE, "--history",
                              *SHIPPED["hubspot"]], buckets, tmp_path, capsys)


def _rows(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(newline="", encoding="utf-8") as handle:
        header, *rows = list(csv.reader(handle))
    return header, rows


def _write(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\n").writerows([header, *rows])


def _damaged_salesforce(folder: Path) -> list[str]:
    """The shipped Salesforce export with the damage a real one has."""
    shutil.copytree(ROOT / "examples" / "salesforce", folder)
    header, leads = _rows(folder / "Lead.csv")
    at = {name: i for i, name in enumerate(header)}
    ids = [row[at["Id"]] for row in leads]
    # two leads in different buckets (of 2 and of 5) converted into one contact: a task
    # on that contact is a record of each
    pair = next((a, b) for a in ids for b in ids
                if lead_bucket(a, 2) != lead_bucket(b, 2) and lead_bucket(a, 5) != lead_bucket(
                    b, 5))
    for row in leads:
        if row[at["Id"]] in pair:
            row[at["ConvertedContactId"]] = "0035gSHARED00000AAA"
    deleted = ids[7]
    leads[7][at["IsDeleted"]] = "true"  # its tasks match no lead: rejected once each
    leads[3][at["CreatedDate"]] = "not a date"  # its first records rejected, later ones kept
    _write(folder / "Lead.csv", header, leads)

    header, tasks = _rows(folder / "Task.csv")
    at = {name: i for i, name in enumerate(header)}
    shared = list(tasks[0])
    shared[at["Id"]], shared[at["WhoId"]] = "00T5gSHARED0001AAA", "0035gSHARED00000AAA"
    tasks.append(shared)
    tasks.append([*tasks[1], "one cell too many"])  # DuckDB refuses: read as the reader does
    tasks[2][at["CompletedDateTime"]] = "2026-13-40T25:00:00Z"
    tasks[2][at["CreatedDate"]] = ""
    tasks[5][at["WhoId"]] = tasks[5][at["WhoId"]] + " "  # as written: matches no lead
    tasks[9][at["WhoId"]] = deleted
    _write(folder / "Task.csv", header, tasks)

    header, changes = _rows(folder / "LeadHistory.csv")
    at = {name: i for i, name in enumerate(header)}
    changes[4][at["CreatedDate"]] = "yesterday"
    changes[6][at["LeadId"]] = ""
    _write(folder / "LeadHistory.csv", header, changes)
    return sorted(str(p) for p in folder.glob("*.csv"))


@pytest.mark.parametrize("buckets", [1, 2, 5])
def test_a_damaged_salesforce_export_cut_into_buckets_is_the_single_run(buckets, tmp_path,
                                                                        capsys):
    files = _damaged_salesforce(tmp_path / "export")
    manifest = _same_as_one_run(POLICY, ["--preset", "salesforce", "--history", *files],
                                buckets, tmp_path, capsys)
    rejects = [json.loads(line) for line in
               (tmp_path / f"buckets-{buckets}" / "rejects.jsonl").read_text().splitlines()]
    assert len(rejects) == manifest["rejected"] > 5
    reasons = [r["reason"] for r in rejects if r["source"].endswith("Task.csv")]
    assert sum("matches no lead" in r for r in reasons) >= 3  # each once, in one bucket
    assert manifest["in_memory"] == [f for f in files if f.endswith("Task.csv")]


@pytest.mark.parametrize("buckets", [1, 3])
def test_a_damaged_hubspot_export_cut_into_buckets_is_the_single_run(buckets, tmp_path,
                                                                     capsys):
    folder = tmp_path / "export"
    shutil.copytree(ROOT / "examples" / "hubspot", folder)
    header, links = _rows(folder / "engagement_contacts.csv")
    # one engagement with three contacts (likely in other buckets), one with none
    links += [["1003", links[0][1]], ["1011", links[0][1]]]
    links = [row for row in links if row[1] != links[5][1]]
    _write(folder / "engagement_contacts.csv", header, links)
    header, changes = _rows(folder / "property_history.csv")
    changes[3][2] = "3/4/2026"
    _write(folder / "property_history.csv", header, changes)
    files = sorted(str(p) for p in folder.glob("*.csv"))
    _same_as_one_run(POLICY, ["--preset", "hubspot", "--timezone", ZONE, "--history", *files],
                     buckets, tmp_path, capsys)


@pytest.mark.parametrize("buckets", [1, 2, 5])
def test_the_olist_mapping_cut_into_buckets_is_the_single_run(buckets, tmp_path, capsys):
    mapping = ROOT / "examples" / "olist" / "mapping.toml"
    _same_as_one_run(str(ROOT / "policies" / "olist.sla"), ["--mapping", str(mapping)],
                     buckets, tmp_path, capsys)


def test_rules_the_cut_cannot_keep_exact_are_refused(tmp_path):
    events = tmp_path / "events.csv"
    events.write_text("who,when,what,seq\nL-1,2026-03-02T09:00:00Z,created,1\n")
    mapping = tmp_path / "m.toml"
    mapping.write_text('[[source]]\nfile = "events.csv"\nlead_id = "who"\n'
                       'duplicates = { key = ["when", "what"] }\n'
                       '[source.columns]\nat = "when"\nevent = "what"\n')
    with pytest.raises(MappingError, match=r"duplicates\.key.*leaves out the lead id `who`"):
        ingest_mapped(parse_mapping(mapping.read_text(), mapping), [], tmp_path / "b",
                      buckets=2, timezone="UTC")


def test_ingest_options_for_an_export_are_checked(tmp_path, capsys):
    code, _, err = _run(["ingest", "--preset", "salesforce", "--buckets", "2", "--out",
                         str(tmp_path / "b"), "--timezone", ZONE], capsys)
    assert code == 2 and "reads the export's files, and none was given" in err
    code, _, err = _run(["ingest", "--preset", "hubspot", "--mapping", "m.toml", "--history",
                         *SHIPPED["hubspot"], "--buckets", "2", "--out", str(tmp_path / "b"),
                         "--timezone", ZONE], capsys)
    assert code == 2 and "both name a mapping" in err
    code, _, err = _run(["ingest", "--buckets", "2", "--out", str(tmp_path / "b"),
                         "--timezone", ZONE], capsys)
    assert code == 2 and "no history given" in err
    missing = [*SHIPPED["salesforce"][:-1], str(tmp_path / "User.csv")]
    code, _, err = _run(["ingest", "--preset", "salesforce", "--history", *missing,
                         "--buckets", "2", "--out", str(tmp_path / "b"), "--timezone", ZONE],
                        capsys)
    # a preset's file comes from the command line: no help about the mapping's folder
    assert code == 2 and f"{tmp_path / 'User.csv'}: no such file\n  help: check the path" in err


def test_a_mapping_of_parquet_and_json_lines_exports_cut_into_buckets_is_the_single_run(
        tmp_path, capsys):
    """The Olist mapping's two exports as Parquet (read by DuckDB in its own types) and JSON
    Lines (read in memory by the tool's reader, then dealt out)."""
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    olist = ROOT / "examples" / "olist"
    leads = pcsv.read_csv(olist / "olist_marketing_qualified_leads_dataset.csv",
                          convert_options=pcsv.ConvertOptions(strings_can_be_null=True))
    pq.write_table(leads, tmp_path / "mqls.parquet")
    deals = list(csv.DictReader((olist / "olist_closed_deals_dataset.csv").open()))
    deals[2]["won_date"] = "not a date"
    (tmp_path / "deals.jsonl").write_text("".join(json.dumps(row) + "\n" for row in deals))
    text = (olist / "mapping.toml").read_text()
    text = text.replace("olist_marketing_qualified_leads_dataset.csv", "mqls.parquet")
    text = text.replace("olist_closed_deals_dataset.csv", "deals.jsonl")
    (tmp_path / "mapping.toml").write_text(text)
    manifest = _same_as_one_run(str(ROOT / "policies" / "olist.sla"),
                                ["--mapping", str(tmp_path / "mapping.toml")], 3, tmp_path,
                                capsys)
    assert manifest["rejected"] >= 1
    assert manifest["in_memory"] == [str(tmp_path / "deals.jsonl")]


@pytest.mark.parametrize("buckets", [1, 3])
def test_an_object_exported_in_two_files_cut_into_buckets_is_the_single_run(buckets, tmp_path,
                                                                            capsys):
    """Lead and Task each in two files (two exports of one object, in two folders): a task
    joins leads of either Lead file."""
    shipped = ROOT / "examples" / "salesforce"
    files = []
    for name in ("Lead.csv", "LeadHistory.csv", "Task.csv", "Event.csv", "User.csv"):
        header, rows = _rows(shipped / name)
        halves = [rows[:len(rows) // 2], rows[len(rows) // 2:]] \
            if name in ("Lead.csv", "Task.csv") else [rows]
        for part, chunk in enumerate(halves):
            (tmp_path / f"part{part}").mkdir(exist_ok=True)
            _write(tmp_path / f"part{part}" / name, header, chunk)
            files.append(str(tmp_path / f"part{part}" / name))
    manifest = _same_as_one_run(POLICY, ["--preset", "salesforce", "--history", *files],
                                buckets, tmp_path, capsys)
    assert len(manifest["files"]) == 6  # Lead, Task twice; LeadHistory, Event; not User


@pytest.mark.parametrize("buckets", [1, 3])
def test_a_where_cell_ending_in_a_tab_is_read_alike_in_buckets(buckets, tmp_path, capsys):
    # `Completed<TAB>`: the reader trims every space the way Arrow does, DuckDB's `trim` only
    # spaces, so the task matched the preset's `where` in one run and not in the buckets
    folder = tmp_path / "export"
    shutil.copytree(ROOT / "examples" / "salesforce", folder)
    header, tasks = _rows(folder / "Task.csv")
    status = header.index("Status")
    tabbed = [i for i, row in enumerate(tasks) if row[status] == "Completed"][:3]
    for i, end in zip(tabbed, ("\t", "\u2028", "\x0b"), strict=True):
        tasks[i][status] += end
    _write(folder / "Task.csv", header, tasks)
    files = sorted(str(p) for p in folder.glob("*.csv"))
    manifest = _same_as_one_run(POLICY, ["--preset", "salesforce", "--history", *files],
                                buckets, tmp_path, capsys)
    assert manifest["in_memory"] == []  # DuckDB read it: its trim is the one compared


def test_the_buckets_trim_what_the_reader_trims():
    import pyarrow as pa
    import pyarrow.compute as pc

    from sla_dsl.history.ingest import SPACES

    chars = [chr(c) for c in range(0x3001) if not 0xD800 <= c <= 0xDFFF]
    trimmed = pc.utf8_trim_whitespace(pa.array([f"{c}x{c}" for c in chars])).to_pylist()
    assert set(SPACES) == {c for c, t in zip(chars, trimmed, strict=True) if t == "x"}


@pytest.mark.parametrize("buckets", [1, 3])
def test_an_export_with_column_names_alike_but_for_case_is_ingested(buckets, tmp_path, capsys):
    # DuckDB's names ignore case: a Lead.csv with `ID` beside `Id` was refused ("no column
    # `Id`: did you mean `Id_1`?"), and one with `status` beside `Status` read the wrong one
    folder = tmp_path / "export"
    shutil.copytree(ROOT / "examples" / "salesforce", folder)
    header, leads = _rows(folder / "Lead.csv")
    _write(folder / "Lead.csv", ["ID", "status", *header],
           [[f"x{i}", "junk", *row] for i, row in enumerate(leads)])
    files = sorted(str(p) for p in folder.glob("*.csv"))
    reading = ["--preset", "salesforce", "--history", *files]
    _same_as_one_run(POLICY, reading, buckets, tmp_path, capsys)


@pytest.mark.parametrize("buckets", [1, 2])
def test_an_owner_name_longer_than_a_value_may_be_is_not_read(buckets, tmp_path, capsys):
    # read as the owner's name, 1.1 MB of it went into the buckets' actor column, and the
    # buckets' own read rejected those events: "not the bucket the ingest wrote"
    folder = tmp_path / "export"
    shutil.copytree(ROOT / "examples" / "hubspot", folder)
    (folder / "owners.csv").write_text("id,name\n51000000," + "x" * 1_100_000 + "\n")
    files = sorted(str(p) for p in folder.glob("*.csv"))
    reading = ["--preset", "hubspot", "--timezone", ZONE, "--history", *files]
    _same_as_one_run(POLICY, reading, buckets, tmp_path, capsys)
    doc = json.loads(_run(["evaluate", POLICY, *reading, "-q", "--format", "json"],
                          capsys)[1])
    assert "51000000" in {lead["owner"] for lead in doc["leads"]}  # shown by its id


def _checksummed(folder: Path) -> None:
    """The shipped export's made-up 18-character ids (each ending in AAA) as Salesforce
    writes them: the last 3 characters spelling the case of the first 15."""
    for path in folder.glob("*.csv"):
        header, rows = _rows(path)
        _write(path, header, [[full_id(cell[:15]) if _SALESFORCE_ID.fullmatch(cell) else cell
                               for cell in row] for row in rows])


_SALESFORCE_ID = re.compile(r"[0-9A-Za-z]{15}AAA")


def _shortened(path: Path, columns: list[str]) -> int:
    """Ids of those columns cut to the 15 characters a report writes; how many."""
    header, rows = _rows(path)
    cut = 0
    for row in rows:
        for column in columns:
            cell = row[header.index(column)]
            if len(cell) == 18:
                row[header.index(column)] = cell[:15]
                cut += 1
    _write(path, header, rows)
    return cut


@pytest.mark.parametrize(("short", "buckets"), [
    # a Lead report beside Data Loader files
    ({"Lead.csv": ["Id", "ConvertedContactId", "OwnerId"]}, 1),
    ({"Lead.csv": ["Id", "ConvertedContactId", "OwnerId"]}, 3),
    # and the other way round, the owners named by the users export all the same
    ({"Task.csv": ["WhoId", "OwnerId"], "LeadHistory.csv": ["LeadId"]}, 3),
])
def test_salesforce_ids_of_15_and_18_characters_are_one_id(short, buckets, tmp_path, capsys):
    whole = tmp_path / "whole"
    shutil.copytree(ROOT / "examples" / "salesforce", whole)
    _checksummed(whole)
    mixed = tmp_path / "mixed"
    shutil.copytree(whole, mixed)
    assert all(_shortened(mixed / name, columns) > 10 for name, columns in short.items())
    reading = ["--preset", "salesforce", "--history", *sorted(str(p) for p in
                                                             mixed.glob("*.csv"))]
    _same_as_one_run(POLICY, reading, buckets, tmp_path, capsys)
    mine = json.loads(_run(["evaluate", POLICY, *reading, "-q", "--format", "json"],
                           capsys)[1])
    theirs = json.loads(_run(["evaluate", POLICY, "--preset", "salesforce", "--history",
                              *sorted(str(p) for p in whole.glob("*.csv")), "-q", "--format",
                              "json"], capsys)[1])
    assert mine["leads"] == theirs["leads"] and mine["rows"] == theirs["rows"]
    assert all(len(lead["lead_id"]) == 18 for lead in mine["leads"])


@pytest.mark.parametrize("buckets", [1, 3])
def test_an_id_with_spaces_around_it_is_the_id_in_every_file(buckets, tmp_path, capsys):
    # a Lead.Id written `00Q… ` and a WhoId and LeadId written ` 00Q…`: one lead, its
    # tasks and changes joined to it, read directly and through the buckets alike
    folder = tmp_path / "export"
    shutil.copytree(ROOT / "examples" / "salesforce", folder)
    header, leads = _rows(folder / "Lead.csv")
    lead = leads[0][header.index("Id")]
    leads[0][header.index("Id")] = lead + " "
    _write(folder / "Lead.csv", header, leads)
    spaced = 0
    for name, column in (("Task.csv", "WhoId"), ("LeadHistory.csv", "LeadId")):
        header, rows = _rows(folder / name)
        for row in rows:
            if row[header.index(column)] == lead:
                row[header.index(column)] = " " + lead
                spaced += 1
        _write(folder / name, header, rows)
    assert spaced >= 2
    files = sorted(str(p) for p in folder.glob("*.csv"))
    reading = ["--preset", "salesforce", "--history", *files]
    _same_as_one_run(POLICY, reading, buckets, tmp_path, capsys)
    code, out, _ = _run(["evaluate", POLICY, *reading, "-q", "--format", "json"], capsys)
    assert code in (0, 1)
    plain = _run(["evaluate", POLICY, "--preset", "salesforce", "--history",
                  *SHIPPED["salesforce"], "-q", "--format", "json"], capsys)[1]
    assert json.loads(out)["leads"] == json.loads(plain)["leads"]
    assert json.loads(out)["rows"] == json.loads(plain)["rows"]


@pytest.mark.parametrize("buckets", [1, 3])
def test_a_hubspot_change_of_a_contact_not_exported_makes_no_lead(buckets, tmp_path, capsys):
    # a property_history row of a contact missing from contacts.csv (deleted, or outside the
    # view exported) became a lead of its own with no `created`, and could move the as-of time
    folder = tmp_path / "export"
    shutil.copytree(ROOT / "examples" / "hubspot", folder)
    header, changes = _rows(folder / "property_history.csv")
    stray = list(changes[0])
    stray[header.index("contact_id")] = "999999"
    changes.append(stray)
    _write(folder / "property_history.csv", header, changes)
    files = sorted(str(p) for p in folder.glob("*.csv"))
    reading = ["--preset", "hubspot", "--timezone", ZONE, "--history", *files]
    manifest = _same_as_one_run(POLICY, reading, buckets, tmp_path, capsys)
    code, out, _ = _run(["evaluate", POLICY, *reading, "-q", "--format", "json"], capsys)
    doc = json.loads(out)
    assert code == 0 and "999999" not in {lead["lead_id"] for lead in doc["leads"]}
    rejects = (tmp_path / f"buckets-{buckets}" / "rejects.jsonl").read_text().splitlines()
    assert any("'999999' matches no lead" in json.loads(r)["reason"] for r in rejects)
    assert manifest["rejected"] == 1


def test_a_warehouse_export_of_epoch_milliseconds_as_numbers_is_read(tmp_path, capsys):
    # a warehouse sync writes HubSpot's epoch milliseconds as int64: the whole file was
    # refused ("holds int64, not times") though the mapping reads epoch_ms
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({
        "id": ["A", "A", "B", "B"],
        "t": pa.array([1772442000000, 1772445600000, 1772449200000, 1772452800000], pa.int64()),
        "kind": ["created", "handoff", "created", "handoff"], "by": [None, None, None, None],
    }), tmp_path / "log.parquet")
    mapping = tmp_path / "m.toml"
    mapping.write_text('[[source]]\nfile = "log.parquet"\nlead_id = "id"\n'
                       'datetime_format = "epoch_ms"\n[source.columns]\nat = "t"\n'
                       'event = "kind"\nactor = "by"\n')
    manifest = _same_as_one_run(POLICY, ["--mapping", str(mapping)], 2, tmp_path, capsys)
    assert (manifest["accepted"], manifest["rejected"]) == (4, 0)
    assert manifest["as_of_default"] == "2026-03-02T12:00:00Z"
