"""Which test files read the wall clock: the list CI's clock-moved runs are limited to.

CI runs the suite once on the real clock, then again with the clock moved (SLA_TEST_NOW) to
prove that no result depends on the day. The move (time-machine) reaches a test only through
the wall-clock functions it patches (time.time, time.time_ns, time.localtime, time.gmtime,
time.strftime, datetime.now, datetime.utcnow, date.today). A test that called none of them
from its own code or the project's (libraries they call included) took no path that asked the
clock, so moving the clock cannot change it: only files with a test that did are worth running
again. `SLA_TEST_CLOCK_READERS=FILE python -m pytest` writes those files to FILE, one a line
(several processes, as pytest-xdist's workers, append to the same FILE).

How a read is seen: the run travels (time-machine, ticking) to the real instant, so every read
of the patched functions goes through the traveller, and the traveller looks at the stack. A
read counts when a frame of the project (sla_dsl, installed or not) or of the tests is on it;
reads by pytest, pytest-xdist, hypothesis's engine or a Dask cluster's own threads with no such
frame are their bookkeeping, not a test's result. The file is the test's file whatever phase
read (a module- or class-scoped fixture's value is shared only within its file); a read with no
test running is charged to the test module on the stack (a clock read at import), or, with none,
to the whole folder (`tests`), so nothing is left out.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

ENV = "SLA_TEST_CLOCK_READERS"
_TESTS = Path(__file__).resolve().parent
_PROJECT_MODULES = ("sla_dsl", "tests")


class ClockReaders:
    """Travels to now and writes, the first time, each test file whose code read the clock."""

    def __init__(self, out: Path, root: Path) -> None:
        self._out = out
        self._root = root
        self._current: Path | None = None
        self._written: set[str] = set()
        self._travel = None

    def start(self) -> None:
        import time_machine

        self._travel = time_machine.travel(time.time(), tick=True)
        traveller = self._travel.start()
        moved = traveller.time_ns

        def time_ns() -> int:
            self.read(sys._getframe(1))
            return moved()

        # The patched clock functions ask the traveller on top of time-machine's stack for the
        # time: this one tells the watch first. A test's own travel (test_planning) sits on top
        # of it and answers alone; the moved clock of SLA_TEST_NOW would not reach it either.
        traveller.time_ns = time_ns

    def stop(self) -> None:
        if self._travel is not None:
            self._travel.stop()
            self._travel = None

    def read(self, frame) -> None:
        if self._current is not None and self._relative(self._current) in self._written:
            return
        module_file = None
        project = False
        while frame is not None:
            name = frame.f_globals.get("__name__", "")
            if name.split(".", 1)[0] in _PROJECT_MODULES:
                project = True
                if name.startswith("tests.test_") and module_file is None:
                    module_file = Path(frame.f_code.co_filename)
            frame = frame.f_back
        if not project:
            return
        if self._current is not None:
            self._write(self._relative(self._current))
        elif module_file is not None:
            self._write(self._relative(module_file))
        else:
            self._write(self._relative(_TESTS))

    def _relative(self, path: Path) -> str:
        try:
            return str(Path(path).resolve().relative_to(self._root))
        except ValueError:
            return str(path)

    def _write(self, name: str) -> None:
        if name in self._written:
            return
        self._written.add(name)
        # One short append per name: the workers of one run share the file.
        with self._out.open("a", encoding="utf-8") as out:
            out.write(name + "\n")

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item, nextitem: pytest.Item | None):
        self._current = item.path
        try:
            yield
        finally:
            self._current = None


def install(config: pytest.Config) -> None:
    """Starts the watch when SLA_TEST_CLOCK_READERS names a file (not with SLA_TEST_NOW)."""
    out = os.environ.get(ENV)
    if not out:
        return
    readers = ClockReaders(Path(out), Path(config.rootpath).resolve())
    readers.start()
    config.add_cleanup(readers.stop)
    config.pluginmanager.register(readers, "sla-clock-readers")
