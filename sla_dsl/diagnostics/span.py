"""Where in a policy's text a thing is: the one location type of diagnostics and model nodes.

It lives with the diagnostics, which point at it, so that they need nothing of the language."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Span(BaseModel):
    """1-based line and column of the first character, and of the character after the last."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    line: int
    column: int
    end_line: int
    end_column: int
