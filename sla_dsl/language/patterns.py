"""`matches` patterns, run by RE2 so that no pattern can hang an evaluation.

Python's `re` backtracks: `^(a+)+$` against a title of 36 `a`s and a `b` runs for minutes, and
a policy is written by people and copied between teams. RE2 answers in time linear in the text
whatever the pattern, so a policy that passes `sla check` evaluates in bounded time. The price
is a few features RE2 does not have (backreferences, lookaround, possessive and atomic groups);
`sla check` names them with a fix (`unsupported`), and nothing falls back to a backtracking
engine.

The syntax is otherwise Python's (inline flags such as `(?i)`, `\\b`, `\\d`, named groups); a
pattern must compile under both `re` and RE2. Two differences in meaning remain, documented in
docs/language.md: `\\w`, `\\d`, `\\s` and `\\b` know ASCII letters and digits only, and `$`
matches only at the very end of the text (Python also matches before a final newline).
"""

from __future__ import annotations

import functools
import re
import warnings
from dataclasses import dataclass

import re2

# RE2 refuses a repetition count above this (Python accepts up to 4294967294).
MOST_REPEAT = 1000

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # a refused pattern is reported by `sla check`, not on stderr
_OPTIONS.never_capture = True  # conditions only ask whether it matches


@dataclass(frozen=True)
class Unsupported:
    """Why RE2 cannot run a pattern Python accepts: what, where (0-based offset into the
    pattern) and how to write it instead."""

    problem: str
    offset: int
    fix: str


# Constructs Python has and RE2 lacks, found on the pattern text (escapes skipped), with the
# fix for each. Order matters: `(?<=` before `(?<name>`.
_CONSTRUCTS: tuple[tuple[re.Pattern[str], str, str], ...] = (
    (re.compile(r"\(\?[=!]"), "looks ahead (`(?=` or `(?!`)",
     "match the text itself, or split the test in two: `title matches \"x\" and not title "
     "matches \"y\"`"),
    (re.compile(r"\(\?<[=!]"), "looks behind (`(?<=` or `(?<!`)",
     "match the text itself, or split the test in two: `title matches \"x\" and not title "
     "matches \"y\"`"),
    (re.compile(r"\\[1-9]|\(\?P="), "refers back to a group (`\\1` or `(?P=name)`)",
     "write out what the group matches instead"),
    (re.compile(r"\(\?\("), "has a conditional group (`(?(`)", "write the alternatives out "
     "with `|`"),
    (re.compile(r"\(\?>"), "has an atomic group (`(?>`)",
     "write `(?:` instead: patterns never backtrack, so it means the same here"),
    (re.compile(r"(?:[*+?}])\+"), "has a possessive repetition (`*+`, `++`, `?+`)",
     "drop the second `+`: patterns never backtrack"),
    (re.compile(r"\\Z"), "uses `\\Z`", "write `$` (the end of the text)"),
    (re.compile(r"\\[uUN]"), "escapes a character by its code (`\\u`, `\\U`, `\\N`)",
     "write the character itself, or `\\x{00e9}`"),
    (re.compile(r"\(\?[a-zA-Z]*[xauL]"), "uses a flag other than `i`, `s` and `m`",
     "use `(?i)`, `(?s)` or `(?m)` only; write the pattern without the verbose layout"),
    (re.compile(r"\{\s*\d*\s*,?\s*\d{4,}\s*\}|\{\s*(?:[1-9]\d{3,})"),
     f"repeats more than {MOST_REPEAT} times", f"repeat at most {MOST_REPEAT} times, e.g. "
     f"`a{{1,{MOST_REPEAT}}}`, or `a+` for any number"),
)
# Constructs both engines take but read differently: Python's syntax is the language's (the
# policy's author tests patterns with it), so a pattern that would mean something else when
# run is refused rather than run with another meaning.
_READ_DIFFERENTLY: tuple[tuple[re.Pattern[str], str, str], ...] = (
    (re.compile(r"\{\s*,\s*\d*\s*\}"),
     "writes a repeat with no lower bound (`{,3}`): Python reads it as 0 to 3 times, the "
     "engine patterns run on as the text `{,3}`", "write the lower bound: `{0,3}`"),
    (re.compile(r"\[:[a-zA-Z]+:\]"),
     "names a POSIX class (`[[:alpha:]]`): the engine patterns run on reads it as a class, "
     "Python as the characters `[:alph` and a `]`", "write the characters out: `[a-zA-Z]`"),
)
_ESCAPE = re.compile(r"\\.", re.DOTALL)


def _unescaped_hits(pattern: re.Pattern[str], text: str) -> list[int]:
    """Offsets where `pattern` occurs in `text` outside an escape such as `\\(`."""
    escaped = {m.start() + 1 for m in _ESCAPE.finditer(text)}
    return [m.start() for m in pattern.finditer(text) if m.start() not in escaped]


def unsupported(text: str) -> Unsupported | None:
    """Why a pattern Python compiles cannot be run here, or None when it can."""
    try:
        re2.compile(text, _OPTIONS)
    except re2.error as error:
        for construct, problem, fix in _CONSTRUCTS:
            hits = _unescaped_hits(construct, text)
            if hits:
                return Unsupported(f"the pattern {problem}; patterns run in time proportional "
                                   f"to the text, which rules that out", hits[0], fix)
        detail = error.args[0] if error.args else error
        if isinstance(detail, bytes):
            detail = detail.decode("utf-8", "replace")
        return Unsupported(f"the pattern cannot be run in linear time ({detail})", 0,
                           "simplify the pattern")
    for construct, problem, fix in _READ_DIFFERENTLY:
        hits = _unescaped_hits(construct, text)
        if hits:
            return Unsupported(f"the pattern {problem}", hits[0], fix)
    return None


@functools.lru_cache(maxsize=512)
def compile_pattern(text: str) -> re2._Regexp | None:
    """The pattern compiled once (per process, so once per policy however many leads), or
    None when it cannot be run (`sla check` has said why; such a pattern matches nothing)."""
    try:
        python_compiles(text)
        return re2.compile(text, _OPTIONS)
    except (re.error, re2.error):
        return None


def python_compiles(text: str) -> None:
    """Compile with Python's `re`, the syntax the language promises (raises `re.error`), its
    FutureWarnings (a nested set, `[[:alpha:]]`) kept off the user's terminal: the check says
    what is wrong with such a pattern in its own words."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        re.compile(text)


def matches(compiled: re2._Regexp | None, value: str | None) -> bool:
    """Whether `value` has a match anywhere (`re.search`'s meaning)."""
    if compiled is None or value is None:
        return False
    try:
        return compiled.search(value) is not None
    except UnicodeEncodeError:  # a lone surrogate from a JSON `\\ud800` escape
        return compiled.search(value.encode("utf-8", "replace").decode("utf-8")) is not None
