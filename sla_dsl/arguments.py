"""The library's entry points check what they are given before anything reads it: a path where
a loaded policy or history belongs is the commonest slip of a notebook, and it surfaced as an
AttributeError ten frames deep (`'str' object has no attribute 'timezone'`). Each check says
what was given and which call makes the right thing of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from os import PathLike

from sla_dsl.history.columns import History
from sla_dsl.language.model import Policy


def expect_policy(value: object, name: str = "policy") -> None:
    """TypeError unless `value` is a loaded `Policy`."""
    if not isinstance(value, Policy):
        raise TypeError(f"{name} is {given(value)}, not a Policy: load one with "
                        "sla_dsl.load_policy('policy.sla')")


def expect_history(value: object, name: str = "history") -> None:
    """TypeError unless `value` is a loaded `History`."""
    if not isinstance(value, History):
        raise TypeError(f"{name} is {given(value)}, not a History: load one with "
                        "sla_dsl.load_history(['history.csv'], policy=policy)")


def expect_files(value: object, name: str = "paths") -> None:
    """TypeError unless `value` is a file (a str or a path) or a sequence of them."""
    many = isinstance(value, Sequence) and not isinstance(value, str | bytes)
    if not (isinstance(value, str | PathLike)
            or (many and all(isinstance(p, str | PathLike) for p in value))):
        raise TypeError(f"{name} is {given(value)}, not a file or a list of files: write "
                        "'history.csv' or ['leads.csv', 'tasks.csv']")


def given(value: object) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text[:60] + '...' if len(text) > 60 else text}"
