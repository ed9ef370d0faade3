"""The evaluation as a person reads it: the `Report` a notebook holds (report), the report
document, its JSON (document), the text summary (text, with the sentences it shares with the
page), the one-page HTML with its SVG charts (html, html_page, svg_charts), and the agreement
written out in plain words (agreement)."""
