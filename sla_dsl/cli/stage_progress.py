"""One progress bar across the stages of a long command (reading, evaluating, reporting).

A stage such as reading a big CSV is one call into pyarrow with nothing to count inside it, so
a bar advanced only by the work itself would freeze exactly when a person starts to wonder. A
small thread redraws the bar a few times a second while a stage runs, which keeps the elapsed
time moving; the work advances it between steps. Drawing is `ProgressBar`'s: only on a
terminal, only after a second, never more than ten times a second. Messages (`note`) print on
their own line above the bar, and nothing at all is written when the bar is disabled (output
is not a terminal, or `--quiet`).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from sla_dsl.cli.progress import ProgressBar
from sla_dsl.printable import printable


class StageProgress:
    def __init__(self, total: int, label: str, *, stream: TextIO | None = None,
                 enabled: bool | None = None, delay: float = 1.0, tick: float = 0.25) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.label = label
        self.bar = ProgressBar(total, label, stream=self.stream, enabled=self.enabled,
                               delay=delay)
        self.tick = tick
        self._lock = threading.Lock()

    def __enter__(self) -> StageProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def stage(self, name: str, units: int = 1) -> Iterator[None]:
        """Run a stage worth `units` of the total; whatever the stage did not advance itself
        is advanced when it ends, so the bar is right however the stage counts."""
        with self._lock:
            self.bar.label = f"{self.label}: {name}"
        begun = self.bar.done
        stop = threading.Event()
        ticker = threading.Thread(target=self._redraw_until, args=(stop,), daemon=True)
        if self.enabled:
            ticker.start()
        try:
            yield
        finally:
            stop.set()
            if self.enabled:
                ticker.join()
            self.advance(max(units - (self.bar.done - begun), 0))

    def advance(self, count: int = 1) -> None:
        with self._lock:
            self.bar.advance(count)

    def note(self, message: str) -> None:
        """A progress message (`sla: message`); silent when the bar is."""
        if self.enabled:
            self.above(f"sla: {message}")

    def above(self, line: str) -> None:
        """A line that is always written (a rejected row, say), on its own line above a bar
        already drawn, which is drawn again below it. A rejected row quotes its values, so the
        line is written printable."""
        with self._lock:
            if self.bar.drawn:
                self.stream.write("\r\x1b[K")
            self.stream.write(printable(line) + "\n")
            if self.bar.drawn:
                self.stream.write(self.bar.line() + "\x1b[K")
            self.stream.flush()

    def close(self) -> None:
        with self._lock:
            self.bar.close()

    def _redraw_until(self, stop: threading.Event) -> None:
        while not stop.wait(self.tick):
            self.advance(0)
