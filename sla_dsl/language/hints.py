"""Hints for what people write out of habit from emails and spreadsheets: `$5,000`, `9am-5pm`,
`unless connected`. A syntax error alone says what the grammar expected; these say what the
writer meant, in the language's own form, so the fix can be copied from the diagnostic.

Each function reads the one line the error is on and returns a help text, or None when the slip
is not one it knows.
"""

from __future__ import annotations

import re

# Currency signs and the code the language writes them as.
CURRENCY_SIGNS = {"$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY"}

# Words used for a keyword of the language, and the keyword. Only offered where the grammar
# expects the keyword, so `unless` elsewhere gets the ordinary error.
SYNONYMS = {"unless": "until", "till": "until", "til": "until"}

_AMOUNT = re.compile(r"\s*(\d[\d,]*(?:\.\d+)?)")
_CLOCK = r"(\d{1,2})(?::(\d{2}))?\s*([ap])\.?m\.?"
_CLOCK_RANGE = re.compile(rf"{_CLOCK}(?:\s*(?:-|to)\s*{_CLOCK})?", re.IGNORECASE)
_GROUPED = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?")


def currency_sign_hint(sign: str, rest: str) -> str | None:
    """`$5,000` (`rest` is the line after the sign): the amount as the language writes it."""
    code = CURRENCY_SIGNS.get(sign)
    if code is None:
        return None
    amount = _AMOUNT.match(rest)
    if amount is None:
        return f"amounts are a number and a currency code, such as '5000 {code}'"
    written = plain_number(amount.group(1))
    return f"amounts are a number and a currency code: write '{written} {code}'"


def plain_number(text: str) -> str:
    """`5,000` as the language writes it: `5000`."""
    return text.replace(",", "")


def grouped_number_hint(line: str, column: int) -> str | None:
    """`5,000 USD`: a thousands separator at `column` (1-based, the comma's)."""
    for match in _GROUPED.finditer(line):
        if match.start() < column - 1 < match.end():
            return (f"numbers are written without thousands separators: "
                    f"write '{plain_number(match.group(0))}'")
    return None


def _clock(hour: str, minute: str | None, half: str, *, end: bool) -> str | None:
    value = int(hour)
    if not 1 <= value <= 12 or (minute is not None and int(minute) >= 60):
        return None
    value %= 12
    if half.lower() == "p":
        value += 12
    if end and value == 0 and not minute:
        value = 24  # `9am-12am` runs to midnight: the end of the day
    return f"{value:02d}:{minute or '00'}"


def clock_hint(line: str, column: int) -> str | None:
    """`9am-5pm` (a time or a range around `column`, 1-based) on the 24-hour clock."""
    for match in _CLOCK_RANGE.finditer(line):
        if not match.start() <= column - 1 < match.end():
            continue
        first = _clock(*match.group(1, 2, 3), end=False)
        if match.group(4) is None:
            return f"times are written on the 24-hour clock: write '{first}'" if first else None
        last = _clock(*match.group(4, 5, 6), end=True)
        if first and last:
            return f"times are written on the 24-hour clock: write '{first}-{last}'"
    return None


def synonym_hint(word: str, keywords: set[str], rest: str) -> str | None:
    """`unless connected` where `until` is expected: the keyword, with the rest of the phrase
    (`rest` is the line after the word) when there is one."""
    keyword = SYNONYMS.get(word.lower())
    if keyword is None or keyword not in keywords:
        return None
    phrase = rest.split("#", 1)[0].strip()
    return f"did you mean '{keyword} {phrase}'?" if phrase else f"did you mean '{keyword}'?"
