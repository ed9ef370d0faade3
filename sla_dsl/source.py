"""Reading a policy file into text, with a diagnostic for anything that is not a policy."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sla_dsl import codes
from sla_dsl.diagnostics import Diagnostic

MAX_POLICY_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Source:
    path: str
    text: str

    @property
    def lines(self) -> list[str]:
        return self.text.split("\n")


def _refuse(path: str, code: codes.Code, message: str, help: str | None = None) -> Diagnostic:
    return Diagnostic(code, "error", message, path, None, help)


def decode_policy(path: str, data: bytes) -> Source | Diagnostic:
    """Why a separate step: a policy arrives as bytes from disk, stdin or a git blob alike."""
    if len(data) > MAX_POLICY_BYTES:
        size = len(data) / (1024 * 1024)
        return _refuse(
            path, codes.TOO_LARGE,
            f"file is {size:.1f} MiB; a policy may be at most {MAX_POLICY_BYTES // 1024} KiB",
            "split the policy or check that this is the file you meant",
        )
    if b"\x00" in data:
        return _refuse(path, codes.NOT_TEXT, "file is binary, not a policy",
                       "policies are UTF-8 text files ending in `.sla`")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        return _refuse(path, codes.NOT_TEXT,
                       f"file is not UTF-8 text (bad byte at offset {error.start})",
                       "save the policy as UTF-8")
    text = text.removeprefix("\ufeff").replace("\r\n", "\n")
    return Source(path, text)


def read_policy(path: str | Path) -> Source | Diagnostic:
    shown = str(path)
    try:
        data = Path(path).read_bytes()
    except IsADirectoryError:
        return _refuse(shown, codes.UNREADABLE, "is a directory, not a policy file")
    except FileNotFoundError:
        return _refuse(shown, codes.UNREADABLE, "no such file")
    except OSError as error:
        return _refuse(shown, codes.UNREADABLE, f"cannot read file: {error.strerror or error}")
    return decode_policy(shown, data)
