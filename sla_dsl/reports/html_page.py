"""The markup every HTML page of ours shares: the page skeleton and the table.

The evaluation report (`sla_dsl.reports.html`) and the agreement (`sla_dsl.reports.agreement`)
are both one self-contained file that opens offline: stylesheet inline, no script, real
headings and tables so that a screen reader and a copy into a word processor keep the form.
Writing the skeleton and the table once keeps the two pages alike in that.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sla_dsl.printable import escape_html as escape


def page(title: str, style: str, body: str) -> str:
    """A whole page: `style` goes into the `<style>` element as given, `body` (markup,
    ending in a line break) into `<body>`."""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>{style}</style>\n</head>\n<body>\n"
        f"{body}</body>\n</html>\n"
    )


def table(headers: Sequence[str], rows: Iterable[Sequence[str]], *,
          caption: str | None = None, numeric: Iterable[int] = (), row_headers: bool = False,
          css_class: str | None = None, separator: str = "") -> str:
    """A table with column headers. Cells are markup already (escaped by the caller, so a
    cell may hold a small bar beside its number); headers and caption are text. `numeric`
    columns align right; with `row_headers` each row's first cell heads its row; `separator`
    goes between the table's parts (a line break keeps a long table readable as source)."""
    right = set(numeric)
    head = "".join(f'<th scope="col"{" class=num" if i in right else ""}>{escape(h)}</th>'
                   for i, h in enumerate(headers))
    body = []
    for row in rows:
        cells = [f'<th scope="row">{row[0]}</th>' if row_headers and i == 0
                 else f'<td{" class=num" if i in right else ""}>{cell}</td>'
                 for i, cell in enumerate(row)]
        body.append(f"<tr>{''.join(cells)}</tr>")
    attributes = f' class="{css_class}"' if css_class else ""
    parts = [f"<table{attributes}>"]
    if caption is not None:
        parts.append(f"<caption>{escape(caption)}</caption>")
    parts += [f"<thead><tr>{head}</tr></thead>", "<tbody>", separator.join(body), "</tbody>",
              "</table>"]
    return separator.join(parts)
