"""Reading a policy file into text, with a diagnostic for anything that is not a policy."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import BinaryIO

from sla_dsl.diagnostics.codes import Code
from sla_dsl.diagnostics.diagnostic import Diagnostic
from sla_dsl.input_files import open_input
from sla_dsl.printable import printable

# The codes this module reports: one owner per code (sla_dsl/diagnostics/codes.py).
UNREADABLE = Code(
    "E001", "unreadable-file", "the file cannot be read",
    owner=__name__)
NOT_TEXT = Code(
    "E002", "not-text", "the file is not UTF-8 text",
    owner=__name__)
TOO_LARGE = Code(
    "E003", "file-too-large", "the file is larger than a policy can be",
    owner=__name__)
EMPTY = Code(
    "E004", "empty-policy", "the file holds no statements",
    owner=__name__)
CODES = (UNREADABLE, NOT_TEXT, TOO_LARGE, EMPTY)


# A real agreement is a few KiB; 256 KiB is dozens of times the largest seen, and keeps the
# slowest `sla check` of a file at the limit to seconds (docs/limits.md has the figures).
MAX_POLICY_BYTES = 256 * 1024
_LINE_END = re.compile(r"\r+\n")
# Control characters but the tab and line ends, and the overrides and isolates that turn
# the text after them around (U+202A to U+202E, U+2066 to U+2069): in a name they reached
# every text a policy's words are quoted in (`sla explain`, the diffs, the annotations), an
# escape sequence clearing a reviewer's terminal, or a line that reads other than it runs.
_HIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


@dataclass(frozen=True)
class Source:
    path: str
    text: str

    @cached_property
    def lines(self) -> list[str]:
        """Split once: every diagnostic shown reads them, and a split per diagnostic made a
        file of thousands of findings quadratic."""
        return self.text.split("\n")


def _refuse(path: str, code: Code, message: str, help: str | None = None) -> Diagnostic:
    return Diagnostic(code, "error", message, path, None, help)


def too_large(path: str, size: int | None) -> Diagnostic:
    """`size` is None when only the first MAX_POLICY_BYTES + 1 bytes were read."""
    shown = f"{size / 1024:,.0f} KiB" if size is not None else \
        f"more than {MAX_POLICY_BYTES // 1024} KiB"
    return _refuse(path, TOO_LARGE,
                   f"file is {shown}; a policy may be at most {MAX_POLICY_BYTES // 1024} KiB",
                   "split the policy or check that this is the file you meant")


def refuse_empty(source: Source) -> Diagnostic | None:
    """E004 for a file with no statements (empty, or only blank and comment lines): a file
    error, found before parsing, like the others of this module."""
    if source.text.strip() and any(
        line.strip() and not line.lstrip().startswith("#") for line in source.lines
    ):
        return None
    return _refuse(source.path, EMPTY, "the policy is empty",
                   'start with a title line such as: sla "Marketing and sales"')


def read_bounded(stream: BinaryIO) -> bytes:
    """At most one byte past the limit: a policy too large is refused without reading it
    all into memory (a pipe or a device has no size to ask for first)."""
    return stream.read(MAX_POLICY_BYTES + 1)


def decode_policy(path: str, data: bytes) -> Source | Diagnostic:
    """Why a separate step: a policy arrives as bytes from disk, stdin or a git blob alike."""
    if len(data) > MAX_POLICY_BYTES:  # one byte past: read_bounded stopped there
        return too_large(path, None if len(data) == MAX_POLICY_BYTES + 1 else len(data))
    nul = data.find(b"\x00")
    if nul >= 0:
        return _refuse(path, NOT_TEXT, f"file is binary, not a policy (a NUL byte at "
                       f"{_place(data, nul)})", "policies are UTF-8 text files ending in `.sla`")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        return _refuse(path, NOT_TEXT, "file is not UTF-8 text (a byte that is not UTF-8 at "
                       f"{_place(data, error.start)})", "save the policy as UTF-8")
    hidden = _HIDDEN.search(text)
    if hidden is not None:
        at = len(text[:hidden.start()].encode())
        return _refuse(path, NOT_TEXT, f"file holds a control character, "
                       f"{printable(hidden.group())} (at {_place(data, at)})",
                       "a policy is plain text: delete the character")
    # a line ends at its line feed, whatever carriage returns come before it (`\r\r\n`, a
    # CRLF file saved again with CRLF: one replace of `\r\n` left `\r\n`)
    text = _LINE_END.sub("\n", text.removeprefix("\ufeff"))
    return Source(path, text)


def _place(data: bytes, at: int) -> str:
    """Where byte `at` is, as an editor counts lines (the text cannot be shown: it is not
    text), so that the byte can be found without a hex dump."""
    line = data.count(b"\n", 0, at) + 1
    start = data.rfind(b"\n", 0, at) + 1
    return f"line {line}, byte {at - start + 1} of it"


def read_policy(path: str | Path) -> Source | Diagnostic:
    shown = str(path)
    try:
        with open_input(path) as stream:
            size = os.fstat(stream.fileno()).st_size
            if size > MAX_POLICY_BYTES:
                return too_large(shown, size)
            data = read_bounded(stream)
    except IsADirectoryError:
        return _refuse(shown, UNREADABLE, "is a directory, not a policy file")
    except FileNotFoundError:
        return _refuse(shown, UNREADABLE, "no such file")
    except OSError as error:
        return _refuse(shown, UNREADABLE, f"cannot read file: {error.strerror or error}")
    return decode_policy(shown, data)
