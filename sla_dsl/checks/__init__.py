"""The semantic checks, run once a policy has parsed: each module reports and carries on."""

from __future__ import annotations

from sla_dsl.checks.attribution import check_attribution
from sla_dsl.checks.cadences import check_cadences
from sla_dsl.checks.calendars import check_calendars
from sla_dsl.checks.clauses import check_clauses
from sla_dsl.checks.coverage import check_coverage
from sla_dsl.checks.goals import check_goals
from sla_dsl.checks.header import check_header
from sla_dsl.checks.lifecycle import check_lifecycle
from sla_dsl.checks.names import check_names
from sla_dsl.checks.rotation import check_rotation
from sla_dsl.checks.segments import check_segments
from sla_dsl.checks.warnings_timing import check_warning_timing
from sla_dsl.diagnostics.diagnostic import Reporter
from sla_dsl.language import model as m

__all__ = ["run_checks"]


def run_checks(policy: m.Policy, reporter: Reporter) -> None:
    check_header(policy, reporter)
    check_calendars(policy, reporter)
    check_names(policy, reporter)
    check_clauses(policy, reporter)
    check_segments(policy, reporter)
    check_cadences(policy, reporter)
    check_attribution(policy, reporter)
    check_coverage(policy, reporter)
    check_goals(policy, reporter)
    check_warning_timing(policy, reporter)
    check_rotation(policy, reporter)
    check_lifecycle(policy, reporter)
