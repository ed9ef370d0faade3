"""GitHub workflow commands (`::error file=...,line=...::message`): one way to write them for
`sla check`, `sla test` and `sla diff`, so each shows its findings on a pull request's lines."""

from __future__ import annotations

from pathlib import Path

from sla_dsl.printable import printable


def escape(text: str, *, property_value: bool = False) -> str:
    """Percent-encode what the workflow command syntax would read as its own, and show any
    other control character as its escape (`printable`): a policy's or a case's text could
    otherwise send `ESC [ 2 J` or a window title to the CI log's terminal."""
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if property_value:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return printable(text)


def annotation(level: str, path: Path | str, message: str, *, title: str | None = None,
               line: int | None = None, column: int | None = None,
               end_line: int | None = None, end_column: int | None = None) -> str:
    """One command: `level` is error, warning or notice."""
    props = [f"file={escape(str(path), property_value=True)}"]
    for name, value in (("line", line), ("col", column), ("endLine", end_line),
                        ("endColumn", end_column)):
        if value:
            props.append(f"{name}={value}")
    if title:
        props.append(f"title={escape(title, property_value=True)}")
    return f"::{level} {','.join(props)}::{escape(message)}"
