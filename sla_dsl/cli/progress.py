"""A progress bar on stderr for work that takes longer than a person waits without a sign.

It draws only on a terminal, only once the work has run for `delay` seconds (a bar that flashes
for a tenth of a second is noise), and never more than ten times a second, so that a tight loop
calling `advance` does not spend its time printing.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO


class ProgressBar:
    def __init__(self, total: int, label: str, *, stream: TextIO | None = None,
                 enabled: bool | None = None, delay: float = 1.0, width: int = 30) -> None:
        self.total = max(int(total), 0)
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.delay = delay
        self.width = width
        self.done = 0
        self.drawn = False
        self._started = time.monotonic()
        self._last_draw = 0.0

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def advance(self, count: int = 1) -> None:
        self.done = min(self.done + count, self.total) if self.total else self.done + count
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._started < self.delay or now - self._last_draw < 0.1:
            return
        self._last_draw = now
        self._draw(now)

    def line(self, now: float | None = None) -> str:
        """The bar as text: label, bar, count and the time left at the pace so far."""
        now = time.monotonic() if now is None else now
        elapsed = now - self._started
        if not self.total:
            return f"{self.label}: {self.done} ({elapsed:.0f} s)"
        share = self.done / self.total
        filled = round(share * self.width)
        left = ""
        if 0 < self.done < self.total:
            left = f", about {elapsed * (1 - share) / share:.0f} s left"
        return (f"{self.label} [{'#' * filled}{'.' * (self.width - filled)}] "
                f"{self.done}/{self.total}{left}")

    def _draw(self, now: float) -> None:
        self.stream.write("\r" + self.line(now) + "\x1b[K")
        self.stream.flush()
        self.drawn = True

    def close(self) -> None:
        """Finish the line the bar was drawn on, so that what follows starts clean."""
        if self.drawn:
            self._draw(time.monotonic())
            self.stream.write("\n")
            self.stream.flush()
            self.drawn = False
