"""The agreement document (`sla explain`), generated from every policy in `policies/`.

Each `tests/fixtures/agreements/NAME.md` is the document of `policies/NAME.sla`, read once by a
person. After an intended change to wording, regenerate with `SLA_UPDATE_GOLDEN=1 pytest
tests/test_agreement.py` and read the diff.
"""

from __future__ import annotations

import os
from html.parser import HTMLParser

import pytest

from sla_dsl.cli import main
from sla_dsl.evaluation.conditions import ConditionEvaluator
from sla_dsl.language.plain_words import Conditions, calendar_words
from sla_dsl.planning.funnel import goal_plans
from sla_dsl.policy_file import check_text, load_policy
from sla_dsl.reports.agreement import Table, agreement, render_html, render_markdown, trigger_words

from .conftest import FIXTURES, POLICIES

GOLDEN = FIXTURES / "agreements"
SECTIONS = ["1. Summary of the agreement", "2. Goals of each party",
            "3. What each party needs from the other", "4. Points of contact",
            "5. If goals are not met", "6. Cancellation and review", "Signatures"]


@pytest.mark.parametrize("path", POLICIES, ids=lambda p: p.stem)
def test_the_agreement_matches_its_golden_file(path):
    expected = GOLDEN / f"{path.stem}.md"
    actual = render_markdown(agreement(load_policy(path)))
    if os.environ.get("SLA_UPDATE_GOLDEN"):
        GOLDEN.mkdir(exist_ok=True)
        expected.write_text(actual, encoding="utf-8")
    assert expected.exists(), f"no golden file for {path.name}: run with SLA_UPDATE_GOLDEN=1"
    assert actual == expected.read_text(encoding="utf-8")


def test_every_golden_file_belongs_to_a_policy():
    assert {p.stem for p in GOLDEN.glob("*.md")} <= {p.stem for p in POLICIES}


@pytest.mark.parametrize("path", POLICIES, ids=lambda p: p.stem)
def test_the_sections_come_in_the_seed_material_s_order(path):
    document = agreement(load_policy(path))
    headings = [b.text for b in document.blocks if getattr(b, "level", None) == 2]
    assert headings == SECTIONS


def test_the_commitments_stand_side_by_side_one_column_per_party():
    company_x = agreement(load_policy(POLICIES_BY_NAME["company-x"]))
    table = next(b for b in company_x.blocks if isinstance(b, Table)
                 and b.headers[0].endswith("commits"))
    assert table.headers == ["Marketing commits", "Sales commits"]
    assert "Deliver at least 100 SQLs a month to sales." in [r[0] for r in table.rows]
    assert "Make the first touch on every hot lead within 1 business hour." in \
        [r[1] for r in table.rows]
    new_breed = agreement(load_policy(POLICIES_BY_NAME["new-breed"]))
    table = next(b for b in new_breed.blocks if isinstance(b, Table)
                 and b.headers[0].endswith("commits"))
    assert table.headers == ["Marketing commits", "MDR commits", "Sales commits"]


POLICIES_BY_NAME = {p.stem: p for p in POLICIES}


def test_the_funnel_arithmetic_is_the_planner_s_written_out():
    policy = load_policy(POLICIES_BY_NAME["fusion"])
    [plan] = goal_plans(policy)
    text = render_markdown(agreement(policy))
    assert (plan.sourced_revenue, plan.customers, plan.leads) == (300_000, 12, 150)
    assert "| Marketing-sourced revenue | 750,000 USD x 40% | 300,000 USD a month |" in text
    assert "| Customers needed | 300,000 USD / 25,000 USD a deal | 12 customers a month |" in text
    assert "| Leads needed | 12 customers / 8% close rate | 150 leads a month |" in text


def test_explain_says_which_reading_a_share_has():
    """Fusion writes `marketing share 40% sourced`; the same line `attributed` is worded as
    credit, in the funnel table and in how contributions are measured."""
    path = POLICIES_BY_NAME["fusion"]
    sourced = render_markdown(agreement(load_policy(path)))
    assert ("- Marketing's share of the revenue goal is sourced: it counts every deal won from a "
            "lead marketing generated (one it handed over, or one its campaigns engaged) whole, "
            "whatever the attribution credits.") in sourced
    text = path.read_text(encoding="utf-8").replace("share 40% sourced", "share 40% attributed")
    attributed = render_markdown(agreement(check_text(text).policy))
    row = "| Marketing-attributed revenue | 750,000 USD x 40% | 300,000 USD a month |"
    assert row in attributed
    assert "of which 40% is credited to marketing: 300,000 USD a month" in attributed
    assert ("- Marketing's share of the revenue goal is attributed: it counts the part of each "
            "won deal the attribution below credits to marketing.") in attributed
    assert "sourced" not in attributed.split("## 3.")[0]


def condition(text: str) -> str:
    checked = check_text(f'sla "t"\nstage x when {text}\n')
    assert checked.ok, checked.diagnostics
    policy = checked.policy
    return Conditions(policy).words(policy.definitions[0].when)


@pytest.mark.parametrize(("written", "said"), [
    ('score >= 80 and industry in ["software", "fintech"]',
     "has a score of 80 or more and an industry of software or fintech"),
    ("employees >= 50", "has 50 or more employees"),
    ('need != ""', "has a need filled in"),
    ("timeline <= 90 days", "has a timeline of 90 days or less"),
    ("budget > 0 and authority", "has a budget above 0 and authority marked yes"),
    ("not email is set", "has no email"),
    ('title matches "(?i)\\b(ceo|vp)\\b"', "has a title with one of the words CEO or VP"),
    ('title matches "^[A-Z]+$"', 'has a title matching the pattern "^[A-Z]+$"'),
    ("score >= 60 or (page_views >= 5 and region == \"emea\")",
     "has a score of 60 or more or both has 5 or more page views and a region of emea"),
])
def test_conditions_read_as_plain_english(written, said):
    assert condition(written) == said


def test_a_calendar_reads_as_days_hours_and_place():
    policy = load_policy(POLICIES_BY_NAME["company-x"])
    assert calendar_words(policy.calendars[0], policy.timezone) == (
        "Monday to Friday, 9:00 to 17:00, and Saturday, 10:00 to 14:00, New York time; "
        "closed on 26 November 2026, 25 December 2026 and 1 January 2027")


def test_review_triggers_read_as_plain_english():
    policy = load_policy(POLICIES_BY_NAME["company-x"])
    review = next(r for r in policy.reviews if r.kind == "review_when")
    assert trigger_words(review.when) == (
        "fewer than 30% of MQLs become SQLs or the median time to first touch is more than "
        "2 days")


def test_markdown_escapes_what_would_format():
    policy = load_policy(POLICIES_BY_NAME["olist"])
    text = render_markdown(agreement(policy))
    assert "an origin of paid\\_search, social" in text


class _Outline(HTMLParser):
    """Headings, table headers and the nesting of a page, as a browser would read them."""

    VOID = frozenset({"meta", "br", "img", "link", "hr", "input"})

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.headings: list[tuple[str, str]] = []
        self.headers: list[str] = []
        self.text: list[str] = []
        self.tags: set[str] = set()
        self.mismatched: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        if tag not in self.VOID:
            self.open.append(tag)
            self.text = []

    def handle_endtag(self, tag):
        if not self.open or self.open[-1] != tag:
            self.mismatched.append(tag)
            return
        self.open.pop()
        content = "".join(self.text)
        if tag in ("h1", "h2", "h3"):
            self.headings.append((tag, content))
        elif tag == "th":
            self.headers.append(content)

    def handle_data(self, data):
        self.text.append(data)


@pytest.mark.parametrize("name", ["company-x", "new-breed"])
def test_the_html_page_has_real_headings_and_tables(name):
    page = render_html(agreement(load_policy(POLICIES_BY_NAME[name])))
    outline = _Outline()
    outline.feed(page)
    assert outline.mismatched == [] and outline.open == []
    assert page.startswith("<!DOCTYPE html>")
    assert {"style", "table", "thead", "tbody", "ul"} <= outline.tags
    assert not {"script", "link", "img"} & outline.tags  # self-contained
    assert [text for tag, text in outline.headings if tag == "h2"] == SECTIONS
    assert "Marketing commits" in outline.headers and "Sales commits" in outline.headers
    assert {"Step", "Arithmetic", "Result"} <= set(outline.headers)


def test_html_escapes_the_policy_s_text():
    checked = check_text('sla "R&D <inbound> desk"\nparty marketing\nparty sales\n'
                         "handoff every lead from marketing to sales {\n"
                         "  first touch within 1 hour\n}\n")
    page = render_html(agreement(checked.policy))
    assert "<title>R&amp;D &lt;inbound&gt; desk</title>" in page
    assert "<h1>R&amp;D &lt;inbound&gt; desk</h1>" in page


def test_sla_explain_writes_markdown_and_html(tmp_path, capsys):
    path = POLICIES_BY_NAME["inbound-desk"]
    assert main(["explain", str(path)]) == 0
    assert capsys.readouterr().out == (GOLDEN / "inbound-desk.md").read_text(encoding="utf-8")
    out = tmp_path / "desk.html"
    assert main(["explain", str(path), "--format", "html", "-o", str(out)]) == 0
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_sla_explain_refuses_a_broken_policy(tmp_path, capsys):
    broken = tmp_path / "broken.sla"
    broken.write_text('sla "x"\nhandoff every lead from marketing to saless\n', encoding="utf-8")
    assert main(["explain", str(broken)]) == 2
    err = capsys.readouterr().err
    assert "not explained: fix the policy first" in err
    assert main(["explain", str(tmp_path / "missing.sla")]) == 2
    desk = POLICIES_BY_NAME["inbound-desk"]
    assert main(["explain", str(desk), "-o", str(tmp_path / "no" / "dir.md")]) == 2
    assert "cannot write" in capsys.readouterr().err


# ---------------------------------------------------------------- grouping and missing fields

WORDS_POLICY = """\
sla "Words"
timezone "UTC"
party marketing
party sales
stage x when not (a or b) and c
segment target when not industry in ["retail"] and not email matches "@gmail\\."
segment rest when not target
handoff target from marketing to sales {
  first touch within 1 day
  touches at least 3 within 2 days
  disposition within 2 days
}
handoff rest to nobody
review when attainment of first touch < 90% and (attainment of disposition < 80%
                                                 or median first touch > 2 days)
cancel when p90 touches < 2
"""


def test_the_words_keep_the_policy_s_grouping_and_its_missing_fields():
    """`not (a or b) and c` is (not (a or b)) and c; `A and (B or C)` is not `(A and B) or C`;
    `not industry in [...]` takes a lead with no industry; `p90 touches` counts touches."""
    checked = check_text(WORDS_POLICY)
    assert checked.ok, checked.diagnostics
    text = render_markdown(agreement(checked.policy))
    assert ("A lead is an x when it meets all of these: (1) meets none of these: (1.1) has a "
            "marked yes; (1.2) has b marked yes; (2) has c marked yes.") in text
    assert ("A lead is a target lead when it has an industry other than retail (or no "
            "industry at all) and an email not containing @gmail. (or no email at all).") in text
    assert ("- It is reviewed sooner when fewer than 90% of first touches are on time and "
            "either fewer than 80% of dispositions are on time or the median time to first "
            "touch is more than 2 days.") in text
    assert ("- It is cancelled when the 90th-percentile number of touches per lead is less "
            "than 2.") in text


@pytest.mark.parametrize(("written", "said"), [
    # one group of the other operator: a sentence, the group said last
    ("(a or b) and c", "has c marked yes and either has a marked yes or has b marked yes"),
    ("a and b or c", "has c marked yes or both has a marked yes and b marked yes"),
    ("a and (b and c)", "has a marked yes, b marked yes and c marked yes"),
    ("not not a", "has a marked yes"),
    # deeper, or a `not` over a group: an outline numbered by its nesting
    ("not (a or b)", "meets none of these: (1) has a marked yes; (2) has b marked yes"),
    ("not (a and b)", "fails at least one of these: (1) has a marked yes; (2) has b marked yes"),
    ("(a or b) and (c or d)", "meets all of these: (1) has a marked yes or has b marked yes; "
     "(2) has c marked yes or has d marked yes"),
    ("a or (b and (c or not (d and e)))",
     "meets at least one of these: (1) has a marked yes; (2) meets all of these: (2.1) has b "
     "marked yes; (2.2) meets at least one of these: (2.2.1) has c marked yes; (2.2.2) fails "
     "at least one of these: (2.2.2.1) has d marked yes; (2.2.2.2) has e marked yes"),
])
def test_and_or_and_not_over_groups_read_unambiguously(written, said):
    assert condition(written) == said


@pytest.mark.parametrize(("written", "said"), [
    ('industry in ["retail"]', "has an industry of retail"),
    ('industry not in ["retail"]', "has an industry other than retail"),
    ('not industry in ["retail", "media"]',
     "has an industry other than retail or media (or no industry at all)"),
    ('not industry not in ["retail"]', "has an industry of retail (or no industry at all)"),
    ('industry != "retail"', "has an industry other than retail"),
    ('not industry == "retail"', "has an industry other than retail (or no industry at all)"),
    ('not need == ""', "has a need filled in (or no need at all)"),
    ('email matches "@gmail\\."', "has an email containing @gmail."),
    ('not email matches "@gmail\\."', "has an email not containing @gmail. (or no email at all)"),
    ('not title matches "(?i)\\b(ceo|vp)\\b"',
     "has a title without any of the words CEO or VP (or no title at all)"),
    ("not score >= 60", "does not have a score of 60 or more"),
    # the group settles the lead with no field already
    ('email is set and not email matches "@gmail\\."',
     "has an email and an email not containing @gmail."),
    ('industry is not set or not industry in ["retail"]',
     "has no industry or has an industry other than retail"),
])
def test_a_negated_test_says_whether_a_lead_without_the_field_passes(written, said):
    assert condition(written) == said


@pytest.mark.parametrize("written", [
    'industry in ["retail"]', 'industry not in ["retail"]', 'not industry in ["retail"]',
    'not industry not in ["retail"]', 'industry == "retail"', 'industry != "retail"',
    'not industry == "retail"', 'not industry != "retail"', 'industry matches "ret"',
    'not industry matches "ret"',
])
def test_or_no_field_at_all_is_said_exactly_when_the_evaluator_takes_such_a_lead(written):
    """The words follow the evaluator, not a guess: a lead with no industry passes the forms
    under `not`, and none of the others (docs/language.md, "A field the lead does not have")."""
    checked = check_text(f'sla "t"\nstage x when {written}\n')
    assert checked.ok, checked.diagnostics
    takes = bool(ConditionEvaluator(checked.policy, {}, 1).evaluate(
        checked.policy.definitions[0].when)[0])
    assert takes == written.startswith("not ")
    assert ("(or no industry at all)" in condition(written)) == takes


TRIGGER_POLICY = """\
sla "t"
timezone "UTC"
party marketing
party sales
stage mql when score >= 60
stage sales_ready when mql and budget > 0
segment hot when score > 80
segment rest when not hot
handoff hot from marketing to sales {
  when mql
  first touch within 1 day
  touches at least 3 within 2 days
  spacing at least 4 hours
  disposition within 2 days
}
handoff rest to nobody
commit marketing to sales {
  deliver at least 10 hot per month
  report "pipeline" weekly
}
goal revenue 1000 USD per month {
  marketing share 50%
  deal size 100 USD
  close rate 10%
}
attribution last touch
"""


def review(trigger: str) -> str:
    checked = check_text(TRIGGER_POLICY + f"review when {trigger}\n")
    assert checked.ok, checked.diagnostics
    lines = render_markdown(agreement(checked.policy)).splitlines()
    [line] = [t for t in lines if t.startswith("- It is reviewed sooner when ")]
    return line.removeprefix("- It is reviewed sooner when ").removesuffix(".")


@pytest.mark.parametrize(("written", "said"), [
    ("rate hot to sales_ready < 5%", "fewer than 5% of hot leads become sales ready"),
    ("rate lead to mql < 10%", "fewer than 10% of leads become MQLs"),
    ("rate mql to won < 10%", "fewer than 10% of MQLs are won"),
    ("mean first touch > 1 hour", "the average time to first touch is more than 1 hour"),
    ("median disposition > 2 days", "the median time to disposition is more than 2 days"),
    ("p90 first touch >= 1 day", "the 90th-percentile time to first touch is at least 1 day"),
    ("mean touches < 3", "the average number of touches per lead is less than 3"),
    ("median touches <= 2", "the median number of touches per lead is at most 2"),
    ("p90 touches < 2", "the 90th-percentile number of touches per lead is less than 2"),
    ("attainment of first touch < 90%", "fewer than 90% of first touches are on time"),
    ("attainment of touches < 90%", "fewer than 90% of leads get their touches in time"),
    ("attainment of disposition < 90%", "fewer than 90% of dispositions are on time"),
    ("attainment of threshold < 90%", "fewer than 90% of handoffs meet the bar"),
    ("attainment of spacing < 90%",
     "fewer than 90% of leads have their touches spaced as agreed"),
    ("attainment of deliver < 90%", "fewer than 90% of periods meet the delivery commitment"),
    ("attainment of report < 90%",
     "fewer than 90% of periods have their report made as agreed"),
    ("attainment of goal < 90%", "fewer than 90% of periods meet the revenue goal"),
])
def test_every_metric_reads_as_what_it_measures(written, said):
    assert review(written) == said


@pytest.mark.parametrize(("written", "said"), [
    ("attainment of deliver < 80% or (attainment of report < 100% and mean touches < 2)",
     "fewer than 80% of periods meet the delivery commitment or both fewer than 100% of "
     "periods have their report made as agreed and the average number of touches per lead is "
     "less than 2"),
    ("(attainment of deliver < 80% or attainment of report < 100%) and attainment of goal < 50%",
     "fewer than 50% of periods meet the revenue goal and either fewer than 80% of periods "
     "meet the delivery commitment or fewer than 100% of periods have their report made as "
     "agreed"),
    ("(attainment of deliver < 80% or attainment of report < 100%) and (mean touches < 2 "
     "or p90 touches < 1)",
     "all of these hold: (1) fewer than 80% of periods meet the delivery commitment or fewer "
     "than 100% of periods have their report made as agreed; (2) the average number of "
     "touches per lead is less than 2 or the 90th-percentile number of touches per lead is "
     "less than 1"),
    ("(attainment of goal < 80% and (attainment of report < 100% or mean touches < 2)) "
     "or p90 touches < 1",
     "at least one of these holds: (1) fewer than 80% of periods meet the revenue goal and "
     "either fewer than 100% of periods have their report made as agreed or the average "
     "number of touches per lead is less than 2; (2) the 90th-percentile number of touches "
     "per lead is less than 1"),
])
def test_triggers_keep_their_grouping(written, said):
    assert review(written) == said


def test_letters_names_and_won_read_as_spoken():
    # "a f lead", "Partners's share", "a lead is a won when"
    from sla_dsl.language import plain_words as say

    assert [say.with_article(w) for w in ("f lead", "h lead", "b lead", "MQL", "raw lead")] == [
        "an f lead", "an h lead", "a b lead", "an MQL", "a raw lead"]
    assert (say.possessive("Partners"), say.possessive("Sales team")) == (
        "Partners'", "Sales team's")
