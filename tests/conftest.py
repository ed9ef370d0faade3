from __future__ import annotations

import os
from pathlib import Path

import pytest

from . import clock_readers

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
POLICIES = sorted((ROOT / "policies").glob("*.sla"))
OLIST_FULL = ROOT / "examples" / "olist" / "full"  # Olist's whole export, shipped


@pytest.fixture
def policies_dir() -> Path:
    return ROOT / "policies"


def pytest_configure(config: pytest.Config) -> None:
    """`SLA_TEST_NOW=2028-02-29T12:00:00+00:00 python -m pytest` runs the whole suite with the
    clock moved to that instant (time-machine: time.time, datetime.now and date.today all
    agree), so CI proves that no result depends on the day the tests run."""
    now = os.environ.get("SLA_TEST_NOW")
    if now:
        import time_machine

        traveller = time_machine.travel(now, tick=True)
        traveller.start()
        config.add_cleanup(traveller.stop)
    else:
        clock_readers.install(config)


def pytest_report_header(config: pytest.Config) -> str | None:
    now = os.environ.get("SLA_TEST_NOW")
    return f"clock moved to {now} (SLA_TEST_NOW)" if now else None
