"""Every diagnostic code, gathered in one place from the modules that report them.

Each owner declares its codes at its top (`CODES`, see `sla_dsl.diagnostics.codes`); this module
sits above all of them and below whatever needs the whole list: the policy file's suppression
comments (is `W599` a code at all?), the SARIF rules of `sla check`, `sla check --explain` and
the reference documentation. A new owner is added to OWNERS, and tests/test_codes.py fails
until it is.
"""

from __future__ import annotations

from sla_dsl.checks import (
    attribution,
    cadences,
    calendars,
    clauses,
    coverage,
    goals,
    header,
    lifecycle,
    names,
    rotation,
    segments,
    warnings_timing,
)
from sla_dsl.diagnostics.codes import Catalogue
from sla_dsl.language import builder, parser, source, suppressions

OWNERS = (
    source, parser, builder, suppressions,
    header, calendars, names, clauses, segments, cadences, attribution, coverage, goals,
    warnings_timing, rotation, lifecycle,
)

CATALOGUE = Catalogue(OWNERS)
