"""A Parquet event log read with only the columns a policy needs (issue 16, item 1) says the
same as the file read whole: the same events, the same rejects with every column's raw value,
a value too long in a column nobody reads still rejecting its row, and a column that cannot be
read still the error it always was."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sla_dsl.history import read
from sla_dsl.history.columns import HistoryError
from sla_dsl.history.read import MOST_VALUE_BYTES, load_history

ZONE = "Europe/Amsterdam"


def _events(history):
    return list(zip(history.lead_ids[history.lead].tolist(), history.at.tolist(),
                    history.event.tolist(), history.actor.tolist(), history.row.tolist(),
                    strict=True))


def _rejects(history):
    return [(r.source, r.row, r.reason, r.raw, r.column) for r in history.rejects]


def _log(notes_long: bool) -> pa.Table:
    """Six rows: a good lead, an unknown event, a month 13, a typed status column, and (when
    `notes_long`) a note of 2 MiB in a column no policy reads."""
    notes = ["called back", "x" * (2 * MOST_VALUE_BYTES) if notes_long else "short", None,
             "", "left a voicemail", None]
    return pa.table({
        "lead_id": ["A", "A", "B", "B", "C", "C"],
        "at": ["2026-03-02T09:00:00+01:00", "2026-03-02T10:00:00+01:00",
               "2026-03-02T11:00:00", "2026-13-02T11:00:00", "2026-03-03", "2026-03-03T08:00Z"],
        "event": ["created", "touch", "created", "handoff", "created", "teleport"],
        "actor": ["ana", "ana", None, "bo", "bo", "bo"],
        "status": ["new", "on hold", None, "new", "new", "new"],
        "notes": notes,
        "score": pa.array([10, None, 30, 40, 50, 60], pa.int64()),
        "won_at": pa.array([None] * 5 + [1_770_000_000_000_000], pa.timestamp("us", "UTC")),
    })


@pytest.mark.parametrize("notes_long", [False, True])
def test_projected_parquet_reads_as_the_whole_file(tmp_path, notes_long):
    path = tmp_path / "log.parquet"
    pq.write_table(_log(notes_long), path)
    whole = load_history([path], timezone=ZONE)
    narrow = load_history([path], timezone=ZONE, fields={"status"})
    assert _events(narrow) == _events(whole)
    assert narrow.counts == whole.counts
    assert _rejects(narrow) == _rejects(whole)
    assert list(narrow.fields) == ["status"]
    assert narrow.fields["status"].tolist() == whole.fields["status"].tolist()
    reasons = {r.row: r.reason for r in narrow.rejects}
    assert "there is no month 13" in reasons[4]
    assert reasons[6].startswith("unknown event 'teleport'")
    assert set(narrow.rejects[0].raw) == {"lead_id", "at", "event", "actor", "status", "notes",
                                          "score", "won_at"}  # every column, as read whole
    if notes_long:  # the long note, in a column nobody reads, rejects its row as before
        assert reasons[2].startswith("a value is longer than 1,048,576 bytes")
        assert len(narrow.rejects[0].raw["notes"]) < 1000  # shown clipped
    else:
        assert 2 not in reasons


def test_only_the_needed_columns_are_read(tmp_path):
    path = tmp_path / "log.parquet"
    pq.write_table(_log(False), path)
    schema = pq.read_schema(path)
    spec = read.SourceSpec.canonical(path)
    projection = read._parquet_projection(schema, spec, {"status"})
    assert projection == ["lead_id", "at", "event", "actor", "status"]
    # the notes column's pages are small: no value of it can be too long, and it is not read
    assert read._unread_oversize(path, schema, projection) is None
    # a file read whole: no fields named, or every column needed
    assert read._parquet_projection(schema, spec, None) is None
    assert read._parquet_projection(schema, spec, {"status", "notes", "score", "won_at"}) \
        is None


@pytest.mark.parametrize(("column", "words"), [
    (pa.array([[1], [2], [3], [4], [5], [6]]), r"holds list<\w+: int64>, not single values"),
    (pa.array([b"ok", b"\xff\xfe", b"", b"a", b"b", b"c"], pa.binary()), "is not UTF-8 text"),
])
def test_a_column_nobody_reads_is_still_the_error_it_was(tmp_path, column, words):
    path = tmp_path / "log.parquet"
    pq.write_table(_log(False).append_column("extra", column), path)
    for fields in (None, {"status"}):
        with pytest.raises(HistoryError, match=words):
            load_history([path], timezone=ZONE, fields=fields)


def test_a_missing_column_lists_every_column_of_the_file(tmp_path):
    path = tmp_path / "log.parquet"
    pq.write_table(_log(False).drop_columns(["event"]), path)
    with pytest.raises(HistoryError, match="this file has lead_id, at, actor, status, notes, "
                                           "score, won_at"):
        load_history([path], timezone=ZONE, fields={"status"})
