"""What every engine offers: a map whose results come back in the items' order."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

# Told (items finished so far, items in all) as each item finishes.
OnDone = Callable[[int, int], None]


class Engine(Protocol):
    name: str

    def map(self, fn: Callable, items: list, on_done: OnDone | None = None) -> list: ...
