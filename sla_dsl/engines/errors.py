"""The one error an engine raises for what a user can fix: a missing extra, a scheduler that
does not answer, workers that cannot run our code. The command line prints it and exits 2."""

from __future__ import annotations


class EngineError(Exception):
    pass
