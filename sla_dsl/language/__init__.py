"""Policy text to the `Policy` model and back: source, parser, builder, the model itself,
the formatter, plain-words wording, suppressions and the pattern (RE2) dialect."""
