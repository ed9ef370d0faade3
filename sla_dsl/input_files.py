"""The files a user names (on the command line, in a mapping, a scenario or a test case),
opened so that no path can hang the process or fill its memory.

`open()` of a named pipe waits for a writer that may never come, and a device such as
/dev/zero says its size is 0 and never ends: a size check before reading passes both. So a
small input is opened without waiting (a pipe nobody writes to then reads as empty; one being
written to, as `<(command)` gives, reads as it is written) and read no further than one byte
past its reader's limit. The readers that map or seek a file (histories, partials) need a
regular file and say what else they were given (`not_a_file`).
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from pathlib import Path
from typing import BinaryIO

_NO_WAIT = getattr(os, "O_NONBLOCK", 0)
NO_SUCH_FILE = "no such file"


def not_a_file(path: Path | str) -> str | None:
    """Why `path` (symbolic links followed) is no regular file, worded to follow the path in a
    message ("no such file", "is a named pipe, not a file"); None when it is one."""
    try:
        mode = os.stat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return NO_SUCH_FILE
    except OSError as error:
        return f"cannot be read: {error.strerror or error}"
    except ValueError:  # a NUL byte in the name
        return NO_SUCH_FILE
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "is a directory, not a file"
    if stat.S_ISFIFO(mode):
        return "is a named pipe, not a file"
    if stat.S_ISSOCK(mode):
        return "is a socket, not a file"
    return "is a device, not a file"


def open_input(path: Path | str) -> BinaryIO:
    """`path` opened for reading in binary, never waiting for a pipe's writer. Raises OSError as
    `open()` does (IsADirectoryError for a directory, which `os.open` would otherwise open)."""
    fd = os.open(path, os.O_RDONLY | _NO_WAIT | getattr(os, "O_CLOEXEC", 0))
    try:
        if stat.S_ISDIR(os.fstat(fd).st_mode):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
        if _NO_WAIT:
            os.set_blocking(fd, True)  # reads wait for a writer's data, never for a writer
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_input(path: Path | str, most: int) -> bytes:
    """The file's bytes, at most `most + 1` of them: more than `most` means too large, and a
    file that never ends is not read into memory. Raises OSError as `open_input` does."""
    with open_input(path) as stream:
        return stream.read(most + 1)


class InputFileError(Exception):
    """A small input that cannot be read as text, with the file and why in its message."""


def read_input_text(path: Path | str, most: int, what: str) -> str:
    """The UTF-8 text (a byte-order mark dropped) of `path`, `what` it is ("the reps file")
    naming it in the message of the `InputFileError` raised when it cannot be read, is more
    than `most` bytes or is not UTF-8."""
    try:
        data = read_input(path, most)
    except OSError as error:
        raise InputFileError(f"{path}: cannot read {what}: {error.strerror or error}") from None
    if len(data) > most:
        raise InputFileError(f"{path}: {what} is more than {most // 1024:,} KiB, the most it "
                             f"may be\n  help: check that this is the file you meant")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InputFileError(f"{path}: {what} is not UTF-8 CSV: {error}") from None


def file_sha256(path: Path | str) -> str:
    """The SHA-256 of a regular file's bytes, read in pieces (a file of gigabytes is never
    held whole): what names a file's content in an ingest's manifest and a shard's history."""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()
