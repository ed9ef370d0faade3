"""Named holiday sets: `closed holidays "US"`, `"US-CA"`, `"NL"`, `"GB-ENG"`.

The days come from the `holidays` package (public holidays, with the days they are observed on
when they fall on a weekend: 4 July 2027 is a Sunday, so Monday 5 July is closed), one year at
a time and only for the years a clock asks about, so a policy never lists next year's dates and
a calendar costs nothing for years no lead reaches. A region is a country code (ISO 3166-1
alpha-2), optionally a subdivision after a hyphen, written exactly as the package spells them.
"""

from __future__ import annotations

import datetime as dt
import difflib
from functools import cache

import holidays
from holidays.registry import COUNTRIES

# What people write for a country whose code is another.
_COUNTRY_ALIASES = {"EN": "GB", "ENG": "GB-ENG"}


@cache
def _supported() -> dict[str, tuple[str, ...]]:
    """Country code to its subdivision codes, as the installed package has them."""
    return {code: tuple(subdivisions)
            for code, subdivisions in holidays.list_supported_countries().items()}


def _squeezed(name: str) -> str:
    return "".join(c for c in name.upper() if c.isalpha())


@cache
def _country_names() -> dict[str, str]:
    """Countries by name, squeezed (`UNITEDSTATES` -> `US`), for `"Netherlands"` -> `"NL"`."""
    return {_squeezed(entry[0]): entry[1] for entry in COUNTRIES.values()}


@cache
def _subdivision_names(country: str) -> dict[str, str]:
    """A country's subdivisions by name (`England` -> `ENG`), where the package knows them."""
    return dict(getattr(holidays.country_holidays(country), "subdivisions_aliases", {}) or {})


def split_region(region: str) -> tuple[str, str | None]:
    """`US-CA` -> (`US`, `CA`); `NL` -> (`NL`, None)."""
    country, _, subdivision = region.partition("-")
    return country, subdivision or None


def region_problem(region: str) -> str | None:
    """None when `region` names a holiday set; else what to write instead, for a diagnostic."""
    supported = _supported()
    country, subdivision = split_region(region)
    if country not in supported:
        meant = (_COUNTRY_ALIASES.get(country.upper())
                 or (country.upper() if country.upper() in supported else None)
                 or _country_names().get(_squeezed(country))
                 or next(iter(difflib.get_close_matches(country.upper(), list(supported), 1,
                                                        cutoff=0.6)), None))
        where = f"-{subdivision}" if subdivision else ""
        if meant:
            return f"no country '{country}' has a holiday set: did you mean '{meant}{where}'?"
        return ("a holiday set is a country code (ISO 3166-1), such as 'US' or 'NL', "
                "optionally with a subdivision: 'US-CA'")
    if subdivision is None or subdivision in supported[country]:
        return None
    subdivisions = supported[country]
    by_case = {s.upper(): s for s in subdivisions}
    by_case |= {name.upper(): code for name, code in _subdivision_names(country).items()}
    close = difflib.get_close_matches(subdivision.upper(), list(by_case), 1, cutoff=0.6)
    meant = by_case.get(subdivision.upper()) or (by_case[close[0]] if close else None)
    if meant:
        return f"'{country}' has no subdivision '{subdivision}': did you mean '{country}-{meant}'?"
    listed = ", ".join(subdivisions[:12]) + (", ..." if len(subdivisions) > 12 else "")
    if not subdivisions:
        return f"'{country}' has no subdivisions: write '{country}'"
    return f"'{country}' has no subdivision '{subdivision}'; its subdivisions are {listed}"


@cache
def holidays_in(region: str, year: int) -> dict[dt.date, str]:
    """A region's public holidays in one year, observed days included, with their names.

    Cached per (region, year): a clock asks day by day, a calendar year by year."""
    country, subdivision = split_region(region)
    try:
        found = holidays.country_holidays(country, subdiv=subdivision, years=year)
    except NotImplementedError:  # the library's word for a region it does not have
        raise ValueError(f"no holiday set for region '{region}'") from None
    return {day: name for day, name in found.items() if day.year == year}


def holiday_name(regions: tuple[str, ...], day: dt.date) -> str | None:
    """What the holiday on `day` is called, in the first region that has one; None if none."""
    for region in regions:
        name = holidays_in(region, day.year).get(day)
        if name is not None:
            return name
    return None
