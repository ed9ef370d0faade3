"""The semantic diff on real policy pairs: Company X and versions of it a reviewer would see."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from sla_dsl.ci.policy_diff import diff_policies
from sla_dsl.cli import main
from sla_dsl.policy_file import check_text, load_policy

from .conftest import FIXTURES, ROOT

COMPANY_X = ROOT / "policies" / "company-x.sla"
PAIRS = FIXTURES / "diff"


def company_x_text() -> str:
    return COMPANY_X.read_text(encoding="utf-8")


def changes_to(new_text: str):
    new = check_text(new_text)
    assert new.ok, [d.message for d in new.errors]
    return diff_policies(load_policy(COMPANY_X), new.policy).changes


def changes_to_fixture(name: str):
    return diff_policies(load_policy(COMPANY_X), load_policy(PAIRS / name)).changes


def test_layout_and_comments_make_no_change():
    # the reformatted copy rewords comments, moves a party below a comment, drops the
    # alignment, adds end-of-line comments and swaps two commitments: none of it is meaning
    assert changes_to_fixture("company-x-reformatted.sla") == []


def test_the_canonical_layout_of_every_policy_is_no_change():
    from sla_dsl.language.source import read_policy
    from sla_dsl.policy_file import format_source

    for path in sorted((ROOT / "policies").glob("*.sla")):
        formatted, problems = format_source(read_policy(path))
        assert not problems
        assert diff_policies(load_policy(path), check_text(formatted).policy).changes == []


def test_closed_dates_are_a_set_however_they_are_written():
    text = company_x_text().replace("  closed 2026-11-26, 2026-12-25, 2027-01-01\n",
                                    "  closed 2027-01-01, 2026-12-25\n  closed 2026-11-26\n")
    assert text != company_x_text()
    assert changes_to(text) == []


def test_relaxed_first_touch_reads_as_one_changed_value():
    [change] = changes_to_fixture("company-x-first-touch-2h.sla")
    assert change.kind == "changed"
    assert change.path == ("handoff 'hot'", "first touch within")
    assert (change.old, change.new) == ("1 business hour", "2 business hours")
    assert change.text == "handoff 'hot' > first touch within: 1 business hour -> 2 business hours"
    assert (change.old_line, change.new_line) == (42, 42)


def test_an_extra_closed_date_is_one_added_date():
    [change] = changes_to_fixture("company-x-mlk-day.sla")
    assert (change.kind, change.section) == ("added", "calendar")
    assert change.text == "calendar 'business' > closed: 2026-01-19"
    assert change.new_line == 17


def test_a_removed_consequence_lists_what_no_longer_happens():
    [change] = changes_to_fixture("company-x-no-breach-consequence.sla")
    assert (change.kind, change.section) == ("removed", "consequence")
    assert change.path == ("on breach of first touch",)
    assert change.old == ('{ warn at 75%; escalate to "sales manager" after 30 minutes; '
                          "reassign after 2 business hours; strike owner }")
    assert (change.old_line, change.new_line) == (89, None)


def test_a_changed_goal_names_the_amount_and_the_rate():
    changes = changes_to_fixture("company-x-goal-raised.sla")
    assert [c.text for c in changes] == [
        "goal revenue: 5000 USD per month -> 6000 USD per month",
        "goal revenue > close rate: 50% -> 40%",
    ]


def test_a_share_changed_from_sourced_to_attributed_is_a_change_of_reading():
    [change] = changes_to(company_x_text().replace("marketing share 100%\n",
                                                   "marketing share 100% attributed\n"))
    assert change.text == "goal revenue > marketing share: 100% sourced -> 100% attributed"
    assert change.new_line == 82


def test_writing_sourced_on_a_bare_share_is_no_change():
    assert changes_to(company_x_text().replace("marketing share 100%\n",
                                               "marketing share 100% sourced\n")) == []


def test_a_changed_definition_is_matched_by_its_name():
    [change] = changes_to(company_x_text().replace("timeline <= 90 days", "timeline <= 30 days"))
    assert change.path == ("stage 'sql'",)
    assert change.new == ('when mql and budget > 0 and authority and need != "" and '
                          "timeline <= 30 days")


def test_a_changed_escalation_target_is_one_change_not_two():
    [change] = changes_to(company_x_text().replace('"sales manager" after 30 minutes',
                                                   '"head of sales" after 30 minutes'))
    assert change.kind == "changed"
    assert change.path == ("on breach of first touch", "escalate to")
    assert (change.old, change.new) == ('"sales manager" after 30 minutes',
                                        '"head of sales" after 30 minutes')


def test_an_added_block_item_names_its_handoff():
    text = company_x_text().replace(
        "  first touch within 1 business day\n",
        "  first touch within 1 business day\n  disposition within 3 business days\n")
    [change] = changes_to(text)
    assert change.text == "handoff 'small' > disposition within: 3 business days"
    assert change.kind == "added"


def test_swapping_handoff_blocks_is_a_change_because_the_first_that_fits_applies():
    text = company_x_text()
    hot = text[text.index("# Hot leads"):text.index("# Small-company")]
    small = text[text.index("# Small-company"):text.index("# Good fit but")]
    [change] = changes_to(text.replace(hot + small, small + hot))
    assert change.kind == "reordered"
    assert (change.old, change.new) == ("hot, small, nurture, discard",
                                        "small, hot, nurture, discard")


def test_different_policies_never_pair_unrelated_definitions():
    changes = diff_policies(load_policy(COMPANY_X),
                            load_policy(ROOT / "policies" / "new-breed.sla")).changes
    changed = {c.path[0] for c in changes if c.kind == "changed"}
    # stages that both policies define are compared; personas and segments of other names
    # are removed and added, never "changed" into each other
    assert {"stage 'mql'", "stage 'sql'", "stage 'opportunity'"} <= changed
    assert not any(p.startswith(("persona", "segment")) for p in changed)
    assert "removed" in {c.kind for c in changes if c.path == ("segment 'hot'",)}


# ---------------------------------------------------------------- the command


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["diff", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_text_and_json(capsys):
    new = str(PAIRS / "company-x-goal-raised.sla")
    code, out, _ = run(capsys, str(COMPANY_X), new)
    assert code == 0
    assert out.splitlines()[1].split() == ["changed", "goal", "revenue:", "5000", "USD", "per",
                                           "month", "->", "6000", "USD", "per", "month"]
    code, out, _ = run(capsys, str(COMPANY_X), new, "--format", "json")
    doc = json.loads(out)
    assert code == 0 and "impact" not in doc
    assert [c["path"] for c in doc["changes"]] == [["goal revenue"],
                                                    ["goal revenue", "close rate"]]


def test_cli_formatting_only_says_so(capsys):
    code, out, _ = run(capsys, str(COMPANY_X), str(PAIRS / "company-x-reformatted.sla"),
                       "--format", "markdown")
    assert code == 0
    assert "No change in meaning" in out


def test_cli_github_and_sarif_point_at_the_new_line(capsys):
    new = str(PAIRS / "company-x-first-touch-2h.sla")
    _, out, _ = run(capsys, str(COMPANY_X), new, "--format", "github")
    assert out == (f"::notice file={new.replace(':', '%3A')},line=42,title=policy changed::"
                   "handoff 'hot' > first touch within: 1 business hour -> 2 business hours\n")
    _, out, _ = run(capsys, str(COMPANY_X), new, "--format", "sarif")
    sarif = json.loads(out)
    [result] = sarif["runs"][0]["results"]
    assert sarif["version"] == "2.1.0"
    assert result["ruleId"] == "policy-changed"
    assert result["locations"][0]["physicalLocation"]["region"] == {"startLine": 42}


def test_cli_missing_file_is_a_clear_usage_error(capsys):
    code, _, err = run(capsys, str(COMPANY_X), "no-such-policy.sla")
    assert code == 2
    assert "no-such-policy.sla: error: no such file" in err
    assert "Traceback" not in err


def test_cli_broken_policy_shows_its_diagnostics(capsys, tmp_path):
    broken = tmp_path / "broken.sla"
    broken.write_text(company_x_text().replace("when mql and score >= 70",
                                               "when sqll and score >= 70"), encoding="utf-8")
    code, out, err = run(capsys, str(COMPANY_X), str(broken))
    assert code == 2 and out == ""
    assert "unknown stage 'sqll'" in err
    assert "cannot compare this version" in err


def _git_available() -> bool:
    return shutil.which("git") is not None and subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True).returncode == 0


@pytest.mark.skipif(not _git_available(), reason="needs a git checkout")
def test_cli_reads_rev_path_from_git(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    code, out, _ = run(capsys, "HEAD:policies/inbound-desk.sla", "policies/inbound-desk.sla")
    assert code == 0
    assert out.startswith("HEAD:policies/inbound-desk.sla -> policies/inbound-desk.sla: ")
    code, out, _ = run(capsys, "tests/fixtures/diff/company-x-first-touch-2h.sla",
                       "HEAD:policies/company-x.sla", "--format", "sarif")
    [run_log] = json.loads(out)["runs"]
    assert code == 0
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            for r in run_log["results"]}
    assert uris == {"policies/company-x.sla"}  # the path inside the revision
    code, _, err = run(capsys, "no-such-revision-here:policies/company-x.sla",
                       "policies/company-x.sla")
    assert code == 2
    assert "git cannot read it as REV:PATH" in err and "no-such-revision-here" in err


def test_a_duration_spelled_another_way_with_the_same_meaning_is_no_change():
    text = company_x_text()
    respelled = (text.replace("first touch within 1 business hour",
                              "first touch within 60 business minutes")
                 .replace("spacing at least 4 hours", "spacing at least 240 minutes"))
    assert respelled != text
    assert changes_to(respelled) == []
    # and a real change still shows: 90 minutes is not an hour
    (change,) = changes_to(text.replace("first touch within 1 business hour",
                                        "first touch within 90 business minutes"))
    assert "1 business hour -> 90 business minutes" in change.text


def test_a_duration_a_field_is_tested_against_keeps_its_unit():
    """A timeline of 10 is ten days under `timeline <= 84 days` and ten weeks under
    `timeline <= 12 weeks`: the replay flips, so the diff may not call it a respelling."""
    text = company_x_text()
    assert "timeline <= 90 days" in text
    days = text.replace("timeline <= 90 days", "timeline <= 84 days")
    weeks = text.replace("timeline <= 90 days", "timeline <= 12 weeks")
    old, new = (check_text(t).policy for t in (days, weeks))
    (change,) = diff_policies(old, new).changes
    assert "timeline <= 84 days -> when" in change.text and "12 weeks" in change.text
    # the same respelling of a clock is no change
    clocks = [t.replace("first touch within 1 business day", f"first touch within {d}")
              for t, d in ((text, "7 days"), (text, "1 week"))]
    assert clocks[0] != text
    old, new = (check_text(t).policy for t in clocks)
    assert diff_policies(old, new).changes == []


@pytest.mark.skipif(not _git_available(), reason="needs a git checkout")
def test_a_version_that_looks_like_an_option_never_reaches_git_as_one(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    code, _, err = run(capsys, "--", "--path=x:policies/company-x.sla", "policies/company-x.sla")
    assert code == 2
    assert "a revision cannot start with '-'" in err


def test_a_pull_request_comment_shows_the_historys_values_as_text(tmp_path, capsys):
    # a lead id that is a Markdown image loaded it from anywhere, an owner's HTML tag was
    # live, and an escape sequence reached the terminal
    old = tmp_path / "a.sla"
    old.write_text('sla "m"\ntimezone "Europe/Amsterdam"\nparty marketing\nparty sales\n'
                   'calendar business {\n  open mon-fri 08:00-18:00\n}\n'
                   'handoff every lead from marketing to sales {\n'
                   '  first touch within 1 business hour\n}\n')
    new = tmp_path / "b.sla"
    new.write_text(old.read_text().replace("1 business hour", "40 business hours"))
    history = tmp_path / "h.csv"
    history.write_text('lead_id,at,event,actor\n'
                       '"![x](http://evil.example/p.png)",2026-03-02T09:00,handoff,marketing\n'
                       '"![x](http://evil.example/p.png)",2026-03-03T09:00,touch,<b>rep</b>\n'
                       '"e\x1b[2Jz",2026-03-02T09:00,handoff,marketing\n'
                       '"e\x1b[2Jz",2026-03-03T09:00,touch,<b>rep</b>\n')
    main(["diff", str(old), str(new), "--history", str(history), "--format", "markdown", "-q"])
    out = capsys.readouterr().out
    assert "\x1b" not in out and "<b>" not in out and "![x](" not in out
    assert "\\<b\\>rep\\</b\\>" in out and "!\\[x\\](http://evil.example/p.png)" in out
    assert "e\\\\x1b\\[2Jz" in out
