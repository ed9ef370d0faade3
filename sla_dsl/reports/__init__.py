"""The evaluation as a person reads it: the report document (its JSON), text, the one-page HTML
with its SVG charts, and the agreement written out in plain words."""
