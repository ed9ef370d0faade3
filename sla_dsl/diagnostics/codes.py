"""What a diagnostic code is, and the catalogue that gathers them.

Each code is declared by the module that reports it, at the top of that module, as constants
listed in a tuple `CODES`, so that a rule's code, name and summary sit beside the rule:

    UNKNOWN_TIMEZONE = Code(
        "E300", "unknown-timezone", "a timezone name that does not exist",
        owner=__name__)
    CODES = (DUPLICATE_STATEMENT, UNKNOWN_TIMEZONE, ...)

A warning also names its page: `doc="docs/rules/W500.md"`. A code reported by several modules
is owned by one of them and imported from it by the others.

This module knows none of them: it sits below every owner. `sla_dsl.catalogue` sits above them
all and gathers their `CODES` into one `Catalogue`, which is handed to whatever needs the whole
list (suppressions, SARIF rules, `sla check --explain`, the reference documentation).

Codes are stable: tools and CI configurations match on them, so a code is never reused for a
different problem.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from types import ModuleType


@dataclass(frozen=True)
class Code:
    code: str
    name: str
    summary: str
    owner: str  # the module that reports it and lists it in its CODES
    doc: str | None = None  # its page, relative to the repository root, where it has one


class Catalogue:
    """Every code of the owner modules given, in code order.

    Gathering refuses a code listed by a module that does not own it, and a code or name
    declared twice, so a clash is an import error rather than a silent overwrite."""

    def __init__(self, owners: Iterable[ModuleType]) -> None:
        by_code: dict[str, Code] = {}
        names: set[str] = set()
        for module in owners:
            for code in module.CODES:
                if code.owner != module.__name__:
                    raise ValueError(f"{module.__name__} lists {code.code}, owned by {code.owner}")
                if code.code in by_code or code.name in names:
                    raise ValueError(f"{code.code} `{code.name}` is declared twice")
                by_code[code.code] = code
                names.add(code.name)
        self._by_code = dict(sorted(by_code.items()))

    def __iter__(self) -> Iterator[Code]:
        return iter(self._by_code.values())

    def __len__(self) -> int:
        return len(self._by_code)

    def __contains__(self, code: object) -> bool:
        """Whether a code, written as text such as "W504", exists."""
        return code in self._by_code

    def get(self, code: str) -> Code | None:
        return self._by_code.get(code)
