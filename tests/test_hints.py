"""The hints for habits from emails: each fix is the language's own form, checked by hand."""

from __future__ import annotations

import pytest

from sla_dsl.business_time.zones import ABBREVIATIONS, abbreviation_hint
from sla_dsl.checks.header import timezone_problem
from sla_dsl.language import hints


@pytest.mark.parametrize("line, column, fix", [
    ("open mon-fri 9am-5pm", 14, "09:00-17:00"),
    ("open mon-fri 8:30am-12pm", 14, "08:30-12:00"),
    ("open sat 10am - 2 pm", 10, "10:00-14:00"),
    ("open mon-fri 6pm-12am", 14, "18:00-24:00"),  # to midnight: the end of the day
    ("open mon-fri 12am-6am", 14, "00:00-06:00"),
    ("open mon-fri 09:00-5pm", 20, "17:00"),
])
def test_twelve_hour_times_are_written_on_the_24_hour_clock(line, column, fix):
    assert hints.clock_hint(line, column).endswith(f"write '{fix}'")


def test_a_time_that_does_not_exist_gets_no_hint():
    assert hints.clock_hint("open mon-fri 13pm-5pm", 14) is None


@pytest.mark.parametrize("sign, rest, fix", [
    ("$", "5,000", "5000 USD"), ("€", "1,250.50 per month", "1250.50 EUR"), ("£", "90", "90 GBP"),
])
def test_currency_signs_become_codes(sign, rest, fix):
    assert hints.currency_sign_hint(sign, rest).endswith(f"write '{fix}'")


def test_a_sign_with_no_amount_still_says_how_amounts_are_written():
    assert "such as '5000 USD'" in hints.currency_sign_hint("$", " per month")
    assert hints.currency_sign_hint("%", "5") is None


def test_thousands_separators_only_inside_a_grouped_number():
    assert hints.grouped_number_hint("value 5,000 USD", 8).endswith("write '5000'")
    assert hints.grouped_number_hint("weights { \"a\": 1, \"b\": 2 }", 17) is None


def test_synonyms_only_where_the_keyword_is_expected():
    assert hints.synonym_hint("unless", {"until", "on"}, " connected") == \
        "did you mean 'until connected'?"
    assert hints.synonym_hint("unless", {"on"}, " connected") is None


@pytest.mark.parametrize("written, zone", [
    ("CST", "America/Chicago"), ("cdt", "America/Chicago"), ("PST", "America/Los_Angeles"),
    ("EDT", "America/New_York"), ("CEST", "Europe/Paris"), ("BST", "Europe/London"),
    ("JST", "Asia/Tokyo"), ("AEST", "Australia/Sydney"), ("IST", "Asia/Kolkata"),
])
def test_timezone_abbreviations_name_the_zone_meant(written, zone):
    assert f"did you mean '{zone}'?" in timezone_problem(written)


def test_abbreviations_point_at_real_zones_and_legacy_names_stay_valid():
    for zone in set(ABBREVIATIONS.values()):
        assert timezone_problem(zone) is None
    assert timezone_problem("EST") is None  # a (legacy) IANA name: accepted as before
    assert abbreviation_hint("Europe/Paris") is None
