"""Text that quotes a CRM's values, made safe to print.

A lead's id, an owner's name or a form field comes from whoever filled the form. Printed as it
is, `ESC [ 2 J` clears the reader's screen, `ESC ] 0 ; ... BEL` retitles the window, a carriage
return writes over what the line said, and a right-to-left override turns the rest of a line
around. The text reports therefore show such characters as the escapes that name them
(`\\x1b`, `\\r`, `\\u202e`), as a value is shown in Python; line breaks between the report's
own lines stay what they are. The data formats (JSON, CSV) carry the values unchanged: their
writers quote them. The HTML pages are read, not parsed: they show the escapes too
(`escape_html`), where an override reversed the rest of a line and a NUL broke the page.
"""

from __future__ import annotations

import html
import re

# C0 controls but the line feed, DEL, C1 controls, and the invisible marks and overrides that
# change the direction of what follows them (U+061C, U+200E, U+200F, U+202A to U+202E,
# U+2066 to U+2069)
_HIDDEN = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\t": "\\t", "\r": "\\r"}


def _escape(found: re.Match) -> str:
    char = found.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """`text` with every control character but the line feed, and every direction override,
    written as its escape."""
    return _HIDDEN.sub(_escape, text)


def escape_html(text: str, quote: bool = True) -> str:
    """`html.escape` of `printable(text)`: what an HTML page shows of a CRM's or a policy's
    text."""
    return html.escape(printable(text), quote)


def escape_markdown(text: str) -> str:
    """`printable(text)` as Markdown shows it verbatim: the characters that would format (a
    link, an image, an HTML tag, a table's pipe) are escaped. A lead id like
    `![x](http://...)` made a pull-request comment load an image from anywhere."""
    out = printable(text).replace("\\", "\\\\")
    for char in "*_`[]<>|":
        out = out.replace(char, "\\" + char)
    return out
