"""The watch CI trusts to pick the files its clock-moved runs repeat (tests/clock_readers.py):
a test that reads the clock is named, one that does not is left out. Were the watch to go blind
(a time-machine that no longer asks the traveller, say), the list would shrink to nothing and
the moved clock would be tried on nothing: this says so first."""

from __future__ import annotations

import os
import subprocess
import sys

from .clock_readers import ENV
from .conftest import ROOT


def test_a_test_that_reads_the_clock_is_listed_and_one_that_does_not_is_not(tmp_path):
    readers = tmp_path / "readers"
    env = {k: v for k, v in os.environ.items() if k != "SLA_TEST_NOW"}
    env[ENV] = str(readers)
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
         "tests/test_due.py::test_as_of_now_reads_the_clock",
         "tests/test_grammar.py::test_grammar_is_lalr_without_conflicts_or_terminal_collisions"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "2 passed" in run.stdout
    assert readers.read_text(encoding="utf-8").splitlines() == ["tests/test_due.py"]


def test_with_the_clock_moved_nothing_is_watched(tmp_path):
    readers = tmp_path / "readers"
    env = dict(os.environ, SLA_TEST_NOW="2028-02-29T23:30:00+00:00")
    env[ENV] = str(readers)
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
         "tests/test_due.py::test_as_of_now_reads_the_clock"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert not readers.exists()
