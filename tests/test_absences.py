"""Issue 15, item 6: a rep on leave. `when owner absent pause|run` in a handoff block, and the
absences file (`rep,start,end[,reason]`) that says who is absent when."""

from __future__ import annotations

import datetime as dt

import pytest

from sla_dsl.language import model as m
from sla_dsl.language.source import Source
from sla_dsl.policy_file import check_text, format_source


def desk_text(line: str, receiver: str = "sales") -> str:
    return ('sla "t"\ntimezone "America/Chicago"\nparty marketing\nparty sales\n'
            "calendar business {\n  open mon-fri 09:00-17:00\n}\n"
            f"handoff every lead from marketing to {receiver} {{\n"
            f"  first touch within 1 business hour\n  {line}\n}}\n")


@pytest.mark.parametrize("mode", ["pause", "run"])
def test_the_line_parses_builds_and_formats_back(mode):
    checked = check_text(desk_text(f"when   owner absent  {mode}"))
    assert not checked.diagnostics
    item = checked.policy.handoffs[0].item("owner_absent")
    assert isinstance(item, m.OwnerAbsent) and item.mode == mode
    assert checked.policy.handoffs[0].pauses_for_absence == (mode == "pause")
    formatted, problems = format_source(Source("t.sla", desk_text(f"when  owner absent {mode}")))
    assert not problems and f"  when owner absent {mode}\n" in formatted


def test_a_field_called_owner_still_starts_a_when_condition():
    checked = check_text(desk_text('when owner == "ana"'))
    assert not checked.diagnostics
    assert isinstance(checked.policy.handoffs[0].item("when"), m.Threshold)


def test_without_the_line_the_clocks_run():
    checked = check_text(desk_text("on reassign continue"))
    assert not checked.policy.handoffs[0].pauses_for_absence


@pytest.mark.parametrize("line, message", [
    ("when owner absent pause\n  when owner absent run", "says what an absent owner does twice"),
    ("when rep absent pause", "only the lead's owner can be absent"),
])
def test_misused_absence_rules_are_e421(line, message):
    checked = check_text(desk_text(line))
    assert [d.code.code for d in checked.diagnostics] == ["E421"]
    assert message in checked.diagnostics[0].message


def test_the_command_line_reads_the_absences_file_and_reports_bad_rows(tmp_path, capsys):
    from sla_dsl.cli import main

    policy = tmp_path / "desk.sla"
    policy.write_text(desk_text("when owner absent pause"))
    history = tmp_path / "history.csv"
    history.write_text("lead_id,at,event,actor\nL1,2027-03-02T09:30,handoff,marketing\n"
                       "L1,2027-03-02T09:30,assigned,ana\n")
    absences = tmp_path / "absences.csv"
    absences.write_text("rep,start,end\nana,2027-03-02,2027-03-02\nbo,2027-03-05,2027-03-04\n")
    for verb in ("evaluate", "due"):
        code = main([verb, str(policy), "--history", str(history), "--absences", str(absences),
                     "--as-of", "2027-03-02T12:00", "--format", "json"])
        err = capsys.readouterr().err
        assert code == 0
        assert "absences.csv:2: rejected absence: ends before it starts" in err
        assert "absences: 2 rows read, 1 accepted, 1 rejected" in err


def test_an_absences_file_without_its_columns_is_an_input_error(tmp_path, capsys):
    from sla_dsl.cli import main

    policy = tmp_path / "desk.sla"
    policy.write_text(desk_text("when owner absent pause"))
    history = tmp_path / "history.csv"
    history.write_text("lead_id,at,event,actor\nL1,2027-03-02T09:30,handoff,marketing\n")
    absences = tmp_path / "absences.csv"
    absences.write_text("who,from,to\nana,2027-03-02,2027-03-02\n")
    assert main(["evaluate", str(policy), "--history", str(history), "--absences",
                 str(absences)]) == 2
    assert "has no rep, start, end column" in capsys.readouterr().err


def test_a_lead_reassigned_to_a_present_rep_is_paused_only_while_its_owner_was_absent(tmp_path):
    """Tuesday 2 March 2027, Chicago (CST, -06:00), open 09:00-17:00. L1 handed off 09:30 to
    ana, absent all day, and reassigned to bo at 11:00: paused 09:30-11:00, 1 h 30 min, so the
    first touch is due 10:30 + 1 h 30 min = 12:00 CST = 18:00 UTC. bo's clock is not paused."""
    import sla_dsl
    from sla_dsl.business_time.zones import to_us

    policy_path = tmp_path / "desk.sla"
    policy_path.write_text(desk_text("when owner absent pause"))
    policy = sla_dsl.load_policy(policy_path)
    (tmp_path / "history.csv").write_text(
        "lead_id,at,event,actor\nL1,2027-03-02T09:30,handoff,marketing\n"
        "L1,2027-03-02T09:30,assigned,ana\nL1,2027-03-02T11:00,assigned,bo\n")
    (tmp_path / "absences.csv").write_text("rep,start,end\nANA,2027-03-02,2027-03-02\n")
    history = sla_dsl.load_history(tmp_path / "history.csv", policy=policy,
                                   absences=tmp_path / "absences.csv")
    report = sla_dsl.evaluate(policy, history, as_of="2027-03-02T16:00")
    (result,) = [r for r in report.evaluation.clauses if r.clause == "first touch"]
    assert int(result.due[0]) == to_us(dt.datetime(2027, 3, 2, 18, 0, tzinfo=dt.UTC))


@pytest.mark.parametrize("verb", ["evaluate", "due"])
def test_strict_fails_on_a_rejected_absence_row_as_on_a_rejected_event(tmp_path, capsys, verb):
    from sla_dsl.cli import main

    policy = tmp_path / "desk.sla"
    policy.write_text(desk_text("when owner absent pause"))
    history = tmp_path / "history.csv"
    good = "lead_id,at,event,actor\nL1,2027-03-02T09:30,handoff,marketing\n"
    history.write_text(good)
    absences = tmp_path / "absences.csv"
    args = [verb, str(policy), "--history", str(history), "--absences", str(absences),
            "--as-of", "2027-03-02T12:00", "--format", "json", "--strict"]
    absences.write_text("rep,start,end\nana,2027-03-02,2027-03-02\n")
    assert main(args) == 0
    capsys.readouterr()
    absences.write_text("rep,start,end\nana,2027-03-02,2027-03-02\nbo,2027-03-05,2027-03-04\n")
    assert main(args) == 2
    assert f"sla {verb}: 1 row rejected (1 absences) (--strict)" in capsys.readouterr().err
    history.write_text(good + "L2,yesterday,handoff,marketing\n")
    assert main(args) == 2
    assert f"sla {verb}: 2 rows rejected (1 history, 1 absences) (--strict)" in \
        capsys.readouterr().err
    assert main(args[:-1]) == 0  # without --strict the rejects are said and counted only
    if verb == "evaluate":  # --rejects writes both files' rejected rows
        rejects = tmp_path / "rejects.csv"
        assert main([*args[:-1], "--rejects", str(rejects)]) == 0
        rows = rejects.read_text().splitlines()
        assert rows[0].startswith("source,row,column,reason,")
        assert [r.split(",")[:2] for r in rows[1:]] == [[str(history), "2"],
                                                       [str(absences), "2"]]
        # and the reps file's, as its rejected rows are counted; a short absences row's
        # missing cells are empty (they were written as the word None)
        reps = tmp_path / "reps.csv"
        reps.write_text("rep,timezone,hours\nana,Mars/Olympus,\n")
        absences.write_text("rep,start,end,reason\nbo,2027-03-05\n")
        assert main([*args[:-1], "--reps", str(reps), "--rejects", str(rejects)]) == 0
        rows = rejects.read_text().splitlines()
        assert [r.split(",")[:2] for r in rows[1:]] == [[str(history), "2"],
                                                       [str(absences), "1"],
                                                       [str(reps), "1"]]
        assert "None" not in rejects.read_text()
        # listed on stderr no further than --show-rejects: a file of junk listed every row
        absences.write_text("rep,start,end\n" + "bo,x,y\n" * 30)
        capsys.readouterr()
        assert main([*args[:-1], "--show-rejects", "3"]) == 0
        err = capsys.readouterr().err
        assert err.count("rejected absence:") == 3
        assert "... 27 more rejected absences rows; write them all with sla evaluate " \
            "--rejects FILE" in err


def test_a_file_for_a_policy_that_never_pauses_for_absence_is_said_to_change_nothing(tmp_path):
    import sla_dsl

    policy_path = tmp_path / "desk.sla"
    policy_path.write_text(desk_text("when owner absent run"))
    policy = sla_dsl.load_policy(policy_path)
    (tmp_path / "history.csv").write_text(
        "lead_id,at,event,actor\nL1,2027-03-02T09:30,handoff,marketing\n"
        "L1,2027-03-02T09:30,assigned,ana\n")
    (tmp_path / "absences.csv").write_text("rep,start,end\nana,2027-03-02,2027-03-02\n")
    history = sla_dsl.load_history(tmp_path / "history.csv", policy=policy,
                                   absences=tmp_path / "absences.csv")
    report = sla_dsl.evaluate(policy, history, as_of="2027-03-02T16:00")
    said = report.document["rows"]["absences"]
    assert (said["pausing_blocks"], said["used"], said["leads_paused"]) == ([], 0, 0)
    assert ("absences: 1 row read, 1 accepted, 0 rejected; no handoff block says 'when owner "
            "absent pause', so none stops a clock") in report.text()


def test_an_absence_file_spelling_a_rep_two_ways_lists_each_absence_once(tmp_path, capsys):
    """`ana` and `Ana` are one rep: each name's absences were matched once per spelling, so the
    clock audit said every pause twice."""
    from sla_dsl.cli import main

    policy_path = tmp_path / "desk.sla"
    policy_path.write_text(desk_text("when owner absent pause"))
    (tmp_path / "history.csv").write_text(
        "lead_id,at,event,actor\nL1,2027-03-01T16:30,handoff,marketing\n"
        "L1,2027-03-01T16:30,assigned,ana\nL1,2027-03-04T09:30,touch,ana\n")
    (tmp_path / "absences.csv").write_text(
        "rep,start,end,reason\nana,2027-03-02T09:00,2027-03-02T10:00,dentist\n"
        "Ana,2027-03-02T11:00,2027-03-02T12:00,school run\n")
    assert main(["evaluate", str(policy_path), "--history", str(tmp_path / "history.csv"),
                 "--absences", str(tmp_path / "absences.csv"), "--explain", "L1"]) == 0
    out = capsys.readouterr().out
    assert out.count("(dentist)") == 1 and out.count("(school run)") == 1
