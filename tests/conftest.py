from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
POLICIES = sorted((ROOT / "policies").glob("*.sla"))


@pytest.fixture
def policies_dir() -> Path:
    return ROOT / "policies"
