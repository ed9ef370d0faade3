"""Text to syntax tree: the lark parser, readable syntax errors, and recovery.

A file that parses is parsed once. A file that does not is cut into logical lines (one
statement, or one line of a block) and each is parsed alone, so that every syntax error of the
file is reported at once rather than only the first. Nothing from lark reaches the user.
"""

from __future__ import annotations

import difflib
import hashlib
import re
import tempfile
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from sla_dsl import grammar
from sla_dsl.diagnostics.codes import Code
from sla_dsl.diagnostics.diagnostic import Reporter
from sla_dsl.diagnostics.span import Span
from sla_dsl.language import hints
from sla_dsl.language.source import Source
from sla_dsl.version import __version__

# The codes this module reports: one owner per code (sla_dsl/diagnostics/codes.py).
SYNTAX = Code(
    "E100", "syntax-error", "the text does not follow the grammar",
    owner=__name__)
BAD_CHARACTER = Code(
    "E101", "unexpected-character", "a character the language does not use",
    owner=__name__)
UNTERMINATED_STRING = Code(
    "E102", "unterminated-string", "a string with no closing quote",
    owner=__name__)
UNCLOSED_BLOCK = Code(
    "E103", "unclosed-block", "a `{` with no matching `}`",
    owner=__name__)
UNMATCHED_BRACE = Code(
    "E104", "unmatched-brace", "a `}` with no block to close",
    owner=__name__)
TOO_DEEP = Code(
    "E112", "too-deeply-nested",
    "a condition nested deeper than the language allows (docs/limits.md)",
    owner=__name__)
TOO_MANY = Code(
    "E199", "too-many-errors", "the file has more errors than are shown",
    owner=__name__)
CODES = (
    SYNTAX, BAD_CHARACTER, UNTERMINATED_STRING, UNCLOSED_BLOCK, UNMATCHED_BRACE, TOO_DEEP, TOO_MANY,
)


GRAMMAR_FILE = "sla.lark"
MAX_SYNTAX_ERRORS = 100
# Recovery stops once it has found this many: each costs lark about a millisecond to describe,
# and a file of 100,000 broken lines would take minutes to report 100 of them.
MOST_RECOVERED_ERRORS = 10 * MAX_SYNTAX_ERRORS
# The deepest a condition or trigger may nest: each `not` and each pair of parentheses is a
# level (docs/limits.md). Everything after the parser walks conditions by recursion, so the
# depth is bounded here, once, before any of it runs.
MAX_NESTING = 64

TOP_LEVEL_KEYWORDS = frozenset({
    "sla", "version", "timezone", "effective", "party", "calendar", "persona", "stage", "fit",
    "interest", "segment", "handoff", "commit", "value", "goal", "attribution", "on", "strikes",
    "cancel", "review",
})

# A block whose header is broken still has its lines checked, inside a stand-in header of the
# same kind, so that the errors reported for them are the ones of that block.
STAND_IN_HEADERS = {
    "calendar": "calendar c {",
    "handoff": "handoff h to h {",
    "commit": "commit a to b {",
    "goal": "goal revenue 1 USD per month {",
    "on": "on breach of first touch {",
}

# The block each kind of inner line belongs to, by its first word.
BLOCK_OF_ITEM = {
    **dict.fromkeys(("open", "closed"), "calendar"),
    **dict.fromkeys(("when", "assign", "first", "touches", "spacing", "disposition", "pause"),
                    "handoff"),
    **dict.fromkeys(("deliver", "report"), "commit"),
    **dict.fromkeys(("deal", "close"), "goal"),
    **dict.fromkeys(("warn", "escalate", "reassign", "strike", "grace", "credit"), "on"),
}

_BLOCK_SHAPES = {
    "calendar": "calendar NAME { ... }",
    "handoff": "handoff SEGMENT from PARTY to PARTY { ... }",
    "commit": "commit PARTY to PARTY { ... }",
    "goal": "goal revenue AMOUNT per PERIOD { ... }",
    "on": "on breach of CLAUSE { ... }",
}

_DESCRIPTIONS = {
    "NAME": "a name",
    "STRING": "a quoted string",
    "NUMBER": "a number",
    "DATE": "a date like 2026-01-31",
    "TIME": "a time like 09:00",
    "PERCENT": "a percentage like 75%",
    "CURRENCY": "a currency code like USD",
    "COMPARE_OP": "a comparison (== != < <= > >=)",
    "_NL": "end of line",
    "$END": "end of file",
}
_TIME_UNITS = frozenset(
    f"{unit}{plural}".upper()
    for unit in ("minute", "hour", "day", "week", "month", "quarter", "year")
    for plural in ("", "s")
)


def grammar_path() -> Path:
    """The grammar is edited at the top level, `grammar/`, and installed as the package
    `sla_dsl.grammar` (pyproject's package-dir), so one lookup serves a wheel and a checkout."""
    return Path(str(resources.files(grammar) / GRAMMAR_FILE))


def grammar_text() -> str:
    return grammar_path().read_text("utf-8")


class _Newlines:
    """Folds runs of newlines into one, drops them inside ( ) and [ ], ends the file with one.

    Why a post-lexer: newlines end statements, but a long condition may be wrapped inside
    parentheses or a list, and blank or comment lines must not count as empty statements.
    """

    always_accept = ("_NL", "NAME")

    def process(self, stream):
        # no look-ahead: the contextual lexer lexes each token in the parser's current state
        depth = 0
        last: Token | None = None
        for token in stream:
            if token.type == "_NL" and (depth > 0 or last is None or last.type == "_NL"):
                continue
            if token.type in ("LPAR", "LSQB"):
                depth += 1
            elif token.type in ("RPAR", "RSQB"):
                depth = max(0, depth - 1)
            last = token
            yield token
        if last is not None and last.type != "_NL":
            yield Token.new_borrow_pos("_NL", "\n", last)


def _cache_key() -> str:
    """Lark keys its cache on the grammar and options but not the post-lexer: add that."""
    settings = f"{_Newlines.always_accept}{__version__}".encode()
    return hashlib.sha256(settings).hexdigest()[:16]


@cache
def lark_parser() -> Lark:
    return Lark(
        grammar_text(),
        parser="lalr",
        lexer="contextual",
        strict=True,
        keep_all_tokens=True,
        maybe_placeholders=False,
        postlex=_Newlines(),
        cache=str(Path(tempfile.gettempdir()) / f"sla_dsl-{_cache_key()}.lark-cache"),
    )


# ---------------------------------------------------------------- syntax errors as diagnostics


def _terminal_text(name: str) -> str:
    if name in _DESCRIPTIONS:
        return _DESCRIPTIONS[name]
    try:
        pattern = lark_parser().get_terminal(name).pattern
    except KeyError:
        return name.lower()
    if pattern.type == "str":
        return f"'{pattern.value}'"
    return name.lower()


def _keyword(name: str) -> str | None:
    try:
        pattern = lark_parser().get_terminal(name).pattern
    except KeyError:
        return None
    return pattern.value if pattern.type == "str" and pattern.value.isalpha() else None


def describe_expected(names: set[str]) -> str:
    names = set(names)
    parts: list[str] = []
    if names >= _TIME_UNITS:
        names -= _TIME_UNITS
        parts.append("a unit ('minutes', 'hours', 'days', 'weeks', 'months', ...)")
    keywords = sorted(_terminal_text(n) for n in names if n not in _DESCRIPTIONS)
    others = [_DESCRIPTIONS[n] for n in _DESCRIPTIONS if n in names]
    parts = keywords + parts + others
    if len(parts) > 12:
        parts = [*parts[:11], f"{len(parts) - 11} more"]
    if len(parts) == 1:
        return parts[0]
    return ", ".join(parts[:-1]) + " or " + parts[-1]


def _describe_token(token: Token) -> str:
    if token.type == "_NL":
        return "end of line"
    if token.type == "$END":
        return "end of file"
    if token.type == "NAME":
        return f"name '{token.value}'"
    if token.type == "STRING":
        return f"string {token.value}"
    if token.type in ("NUMBER", "DATE", "TIME", "PERCENT", "CURRENCY"):
        return f"{_DESCRIPTIONS[token.type].split(' like ')[0].removeprefix('a ')} '{token.value}'"
    return f"'{token.value}'"


def _token_span(token: Token) -> Span:
    line = token.line or 1
    column = token.column or 1
    if token.type in ("_NL", "$END"):
        return Span(line=line, column=column, end_line=line, end_column=column + 1)
    end_line = token.end_line or line
    end_column = token.end_column or column + len(token.value)
    return Span(line=line, column=column, end_line=end_line, end_column=end_column)


def _did_you_mean(token: Token, expected: set[str]) -> str | None:
    if not token.value or not str(token.value).isidentifier():
        return None
    words = [w for w in (_keyword(n) for n in expected) if w]
    close = difflib.get_close_matches(str(token.value).lower(), words, n=1, cutoff=0.7)
    return f"did you mean '{close[0]}'?" if close else None


def _statement_help(token: Token, expected: set[str]) -> str | None:
    word = str(token.value)
    if word in TOP_LEVEL_KEYWORDS and "_NL" not in expected:
        return f"'{word}' starts a statement of its own; put it on a new line"
    if word in BLOCK_OF_ITEM and "HANDOFF" in expected:
        return f"'{word}' belongs inside a block: {_BLOCK_SHAPES[BLOCK_OF_ITEM[word]]}"
    if token.type == "_NL" and "RBRACE" in expected and len(expected) <= 3:
        return "close the block with '}'"
    return None


def _placement_help(token: Token, text: str, first_line: int = 1) -> str | None:
    """Hints for two slips the expected-token list does not make obvious."""
    line = _text_line(text, (token.line or first_line) - first_line)
    before = line[: (token.column or 1) - 1]
    if token.value == "-" and before[-1:].isalnum():
        word = re.match(r"[A-Za-z0-9_-]*", line[len(before) - len(before.split()[-1]):]).group(0)
        return f"names use '_', not '-': write '{word.replace('-', '_')}'"
    if token.value == "on" and "within" in before:
        return "'on calendar NAME' goes right after the duration it applies to"
    return None


def _habit_help(token: Token, expected: set[str], text: str, first_line: int) -> str | None:
    """What a writer used to emails meant: `9am-5pm`, `5,000`, `unless connected`."""
    line = _text_line(text, (token.line or first_line) - first_line)
    column = token.column or 1
    if token.type in ("NUMBER", "NAME", "TIME"):
        clock = hints.clock_hint(line, column)
        if clock:
            return clock
    if token.value == ",":
        return hints.grouped_number_hint(line, column)
    if token.type == "NAME":
        keywords = {w for w in (_keyword(n) for n in expected) if w}
        return hints.synonym_hint(str(token.value), keywords, line[token.end_column - 1:]
                                  if token.end_column else "")
    return None


def _text_line(text: str, index: int) -> str:
    """Line `index` (from 0) of `text`, without splitting all of it."""
    start = 0
    for _ in range(index):
        start = text.find("\n", start) + 1
        if start == 0:
            return ""
    end = text.find("\n", start)
    return text[start:] if end < 0 else text[start:end]


def report_syntax_error(error: UnexpectedInput, text: str, reporter: Reporter,
                        first_line: int = 1) -> None:
    """`text` starts at line `first_line` of the file; the error's positions are the file's."""
    if isinstance(error, UnexpectedToken):
        expected = set(error.accepts or error.expected)
        token = error.token
        message = f"unexpected {_describe_token(token)}; expected {describe_expected(expected)}"
        help_ = (_statement_help(token, expected) or _habit_help(token, expected, text, first_line)
                 or _did_you_mean(token, expected) or _placement_help(token, text, first_line))
        reporter.error(SYNTAX, _token_span(token), message, help_)
        return
    if isinstance(error, UnexpectedCharacters):
        line, column = error.line, error.column
        if error.char == '"':
            rest = _text_line(text, line - first_line)[column - 1:]
            span = Span(line=line, column=column, end_line=line, end_column=column + len(rest))
            reporter.error(UNTERMINATED_STRING, span, "string is never closed",
                           'end the string with `"` on the same line')
            return
        span = Span(line=line, column=column, end_line=line, end_column=column + 1)
        shown = f"'{error.char}'" if error.char.isprintable() else repr(error.char)
        message, help_ = f"unexpected character {shown}", None
        if error.char == "'":
            message, help_ = "unexpected single quote", 'strings are written in double quotes'
        elif error.char in "=!<>":
            help_ = "comparisons are == != < <= > >="
        elif error.char in hints.CURRENCY_SIGNS:
            rest = _text_line(text, line - first_line)[column:]
            help_ = hints.currency_sign_hint(error.char, rest)
        reporter.error(BAD_CHARACTER, span, message, help_)
        return
    reporter.error(SYNTAX, None, "the file cannot be parsed")


# ---------------------------------------------------------------- recovery


_LEXEME = re.compile(r'"(?:[^"\\\n]|\\.)*"|#[^\n]*|[{}()\[\]]')


@dataclass
class _Line:
    number: int
    text: str
    braces: int = 0
    parens: int = 0
    first_word: str = ""
    starts_with_close: bool = False
    indent: int = 0
    brace_columns: list[int] = field(default_factory=list)


def _scan_line(number: int, text: str) -> _Line:
    line = _Line(number, text)
    stripped = text.lstrip()
    line.indent = len(text) - len(stripped)
    line.starts_with_close = stripped.startswith("}")
    match = re.match(r"[A-Za-z_]+", stripped)
    line.first_word = match.group(0) if match else ""
    for lexeme in _LEXEME.finditer(text):
        token = lexeme.group(0)
        if token == "{":
            line.braces += 1
            line.brace_columns.append(lexeme.start() + 1)
        elif token == "}":
            line.braces -= 1
        elif token in "([":
            line.parens += 1
        elif token in ")]":
            line.parens -= 1
    return line


def _is_blank(line: _Line) -> bool:
    stripped = line.text.strip()
    return not stripped or stripped.startswith("#")


def _starts_statement(line: _Line) -> bool:
    return line.indent == 0 and line.first_word in TOP_LEVEL_KEYWORDS


def _logical_lines(lines: list[_Line], start: int, stop: int,
                   most: int | None = None) -> list[list[_Line]]:
    """Group physical lines that belong to one statement: open ( [ or an inner { }; at most
    `most` groups (the recovery asks for one at a time, and grouping the rest of the file each
    time made recovery quadratic)."""
    groups: list[list[_Line]] = []
    i = start
    while i < stop and (most is None or len(groups) < most):
        if _is_blank(lines[i]):
            i += 1
            continue
        group = [lines[i]]
        braces, parens = lines[i].braces, lines[i].parens
        i += 1
        while i < stop and (braces > 0 or parens > 0) and not _starts_statement(lines[i]):
            braces += lines[i].braces
            parens += lines[i].parens
            group.append(lines[i])
            i += 1
        groups.append(group)
    return groups


def _try_parse(text: str, reporter: Reporter, first_line: int = 1) -> Tree | None:
    """Parse a piece of the file that starts at line `first_line`: its tokens and errors are
    moved to the file's lines afterwards. (Padding the piece with newlines instead made
    recovery quadratic: every piece lexed every line above it.)"""
    offset = first_line - 1
    try:
        tree = lark_parser().parse(text)
    except UnexpectedInput as error:
        if offset:
            _shift_error(error, offset)
        report_syntax_error(error, text, reporter, first_line)
        return None
    if offset:
        for token in _tokens(tree):
            _shift_token(token, offset)
    return tree


def _tokens(tree: Tree) -> list[Token]:
    """Every token of a tree, by a loop with its own stack: lark's `scan_values` recurses once
    per level, and a piece may nest as deep as its text (the nesting limit is checked later)."""
    tokens, stack = [], [tree]
    while stack:
        for child in stack.pop().children:
            if isinstance(child, Tree):
                stack.append(child)
            elif isinstance(child, Token):
                tokens.append(child)
    return tokens


def _shift_token(token: Token, offset: int) -> None:
    if token.line is not None:
        token.line += offset
    if token.end_line is not None:
        token.end_line += offset


def _shift_error(error: UnexpectedInput, offset: int) -> None:
    if isinstance(error, UnexpectedToken):
        _shift_token(error.token, offset)
    if getattr(error, "line", None) is not None and error.line > 0:
        error.line += offset


def _joined(lines: list[_Line]) -> tuple[str, int]:
    """The text of consecutive lines, and the file's line it starts at."""
    return "\n".join(line.text for line in lines), lines[0].number


@dataclass
class ParseResult:
    """What parsed. After a syntax error, `trees` holds the statements that parsed whole,
    `fragments` the lines of broken blocks parsed alone (good for checking their values, not
    their meaning), and `broken` the text of each statement or block header that did not parse."""

    trees: list[Tree]
    recovered: bool = False
    fragments: list[Tree] = field(default_factory=list)
    broken: list[str] = field(default_factory=list)


class _Recovery:
    def __init__(self, source: Source, reporter: Reporter) -> None:
        self.reporter = reporter
        self.lines = [_scan_line(n, text) for n, text in enumerate(source.lines, start=1)]
        self.result = ParseResult([], recovered=True)
        self.start = len(reporter.diagnostics)
        self.stopped = False

    def _parse(self, text: str, first_line: int, reporter: Reporter | None = None) -> bool:
        tree = _try_parse(text, reporter or self.reporter, first_line)
        if tree is None:
            return False
        self.result.trees.append(tree)
        return True

    def run(self) -> ParseResult:
        lines, i = self.lines, 0
        while i < len(lines):
            if len(self.reporter.diagnostics) - self.start > MOST_RECOVERED_ERRORS:
                self.stopped = True  # only MAX_SYNTAX_ERRORS are shown: the rest is not read
                break
            line = lines[i]
            if _is_blank(line):
                i += 1
            elif line.starts_with_close and line.braces < 0:
                column = line.indent + 1
                self.reporter.error(UNMATCHED_BRACE,
                                    Span(line=line.number, column=column, end_line=line.number,
                                         end_column=column + 1),
                                    "'}' closes no block",
                                    "remove it, or open the block it should close")
                i += 1
            elif line.braces <= 0:
                group = _logical_lines(lines, i, len(lines), most=1)[0]
                i = lines.index(group[-1], i) + 1
                if not self._parse(*_joined(group)):
                    self.result.broken.append(" ".join(g.text for g in group))
            else:
                i = self._block(i)
        return self.result

    def _block(self, i: int) -> int:
        """A block: up to its closing line, or to the next top-level statement if it has none."""
        lines, line = self.lines, self.lines[i]
        depth, j = line.braces, i + 1
        while j < len(lines) and depth > 0:
            if _starts_statement(lines[j]):
                break
            depth += lines[j].braces
            j += 1
        if depth > 0:
            column = line.brace_columns[0] if line.brace_columns else 1
            self.reporter.error(UNCLOSED_BLOCK,
                                Span(line=line.number, column=column, end_line=line.number,
                                     end_column=column + 1),
                                f"the '{line.first_word}' block opened here is never closed",
                                "add a line with '}' after its last statement")
        block = lines[i:j]
        text, first_line = _joined(block)
        closed = text + ("\n}" if depth > 0 else "")
        if not self._parse(closed, first_line, Reporter(self.reporter.path)):
            self.result.broken.append(line.text)
            self._block_lines(block, closes=depth <= 0)
        return j

    def _block_lines(self, block: list[_Line], closes: bool) -> None:
        header = block[0]
        stop = len(block) - 1 if closes else len(block)
        _try_parse(header.text + "\n}", self.reporter, header.number)
        kind = difflib.get_close_matches(header.first_word, list(STAND_IN_HEADERS), n=1,
                                         cutoff=0.6)
        if not kind:
            return
        stand_in = STAND_IN_HEADERS[kind[0]]
        for group in _logical_lines(block, 1, stop):
            body = "\n".join(line.text for line in group)
            tree = _try_parse(stand_in + "\n" + body + "\n}", self.reporter,
                              group[0].number - 1)
            if tree is not None:
                self.result.fragments.append(tree)


def parse_source(source: Source, reporter: Reporter) -> ParseResult:
    """Parse a whole file; on failure report every syntax error and keep what did parse."""
    try:
        result = ParseResult([lark_parser().parse(source.text)])
    except UnexpectedInput as first_error:
        before = len(reporter.diagnostics)
        recovery = _Recovery(source, reporter)
        result = recovery.run()
        if len(reporter.diagnostics) == before:
            # recovery found nothing wrong line by line: report what the whole parse saw
            report_syntax_error(first_error, source.text, reporter)
        _deduplicate(reporter, before, recovery.stopped)
    _drop_too_deep(result, source, reporter)
    return result


# ---------------------------------------------------------------- nesting depth


def too_deep(tree: Tree) -> Token | None:
    """The `(` or `not` that opens level MAX_NESTING + 1 of a condition, if any.

    A loop with its own stack, not recursion: the depth it measures is the input's."""
    stack = [(tree, 0)]
    while stack:
        node, level = stack.pop()
        current = level
        for child in node.children:
            if isinstance(child, Tree):
                stack.append((child, current))
            elif child.type == "LPAR" or (child.type == "NOT" and node.data == "negation"):
                current = level + 1
                if current > MAX_NESTING:
                    return child
            elif child.type == "RPAR":
                current = level
    return None


# The statements that hold conditions or triggers, the only places `(` and `not` nest.
_WITH_CONDITIONS = frozenset({"definition", "handoff", "cancel", "review_when"})


def _first_token(tree: Tree) -> Token | None:
    node = tree
    while isinstance(node, Tree):
        if not node.children:
            return None
        node = node.children[0]
    return node


def _drop_too_deep(result: ParseResult, source: Source, reporter: Reporter) -> None:
    """Report each statement nested too deep and take it out of the trees, as if it had not
    parsed, so that nothing downstream walks it."""
    for tree in [*result.trees, *result.fragments]:
        kept = []
        for statement in tree.children:
            opener = too_deep(statement) if isinstance(statement, Tree) \
                and statement.data in _WITH_CONDITIONS else None
            if opener is None:
                kept.append(statement)
                continue
            reporter.error(TOO_DEEP, _token_span(opener),
                           f"the condition nests more than {MAX_NESTING} levels deep here",
                           "each `not` and each pair of parentheses is a level: name an inner "
                           "part as a definition of its own and use its name")
            first = _first_token(statement)
            if first is not None and first.line:
                result.broken.append(source.lines[first.line - 1])
            result.recovered = True
        tree.children = kept


def _deduplicate(reporter: Reporter, start: int, stopped: bool = False) -> None:
    seen: set[tuple] = set()
    kept = reporter.diagnostics[:start]
    for diagnostic in reporter.diagnostics[start:]:
        key = (diagnostic.span, diagnostic.message)
        if key not in seen:
            seen.add(key)
            kept.append(diagnostic)
    if len(kept) - start > MAX_SYNTAX_ERRORS:
        hidden = len(kept) - start - MAX_SYNTAX_ERRORS
        kept = kept[: start + MAX_SYNTAX_ERRORS]
        reporter.diagnostics = kept
        reporter.error(TOO_MANY, None,
                       f"{'at least ' if stopped else ''}{hidden} more syntax errors are not "
                       "shown", "fix the errors above and check again")
        return
    reporter.diagnostics = kept


# ---------------------------------------------------------------- comments, for the formatter


@dataclass(frozen=True)
class Comment:
    line: int
    column: int
    text: str
    own_line: bool


def comments(source: Source) -> list[Comment]:
    """Comments are not in the syntax tree; the formatter puts them back by line."""
    found: list[Comment] = []
    for number, text in enumerate(source.lines, start=1):
        for lexeme in _LEXEME.finditer(text):
            if lexeme.group(0).startswith("#"):
                own = not text[: lexeme.start()].strip()
                found.append(Comment(number, lexeme.start() + 1, lexeme.group(0).rstrip(), own))
    return found
