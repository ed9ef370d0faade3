"""Issue 15, item 6: a rep on leave. `when owner absent pause|run` in a handoff block, and the
absences file (`rep,start,end[,reason]`) that says who is absent when."""

from __future__ import annotations

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


def test_without_the_line_the_clocks_run():
    checked = check_text(desk_text("on reassign continue"))
    assert not checked.policy.handoffs[0].pauses_for_absence


@pytest.mark.parametrize("line, message", [
    ("when owner absent pause\n  when owner absent run", "says what an absent owner does twice"),
])
def test_misused_absence_rules_are_e421(line, message):
    checked = check_text(desk_text(line))
    assert [d.code.code for d in checked.diagnostics] == ["E421"]
    assert message in checked.diagnostics[0].message

