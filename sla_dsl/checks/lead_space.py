"""Every kind of lead a policy's definitions can tell apart, as a table of made-up leads.

Lead fields are independent of each other, and each comparison splits one field's values at the
constants the policy writes (`score >= 40` splits at 40). So a few values per field (missing,
empty, each constant, a value just below and above it, a text no list names) stand for every
value the conditions can tell apart, and the product of those values over the fields stands for
every lead. Evaluating the real conditions (`ConditionEvaluator`, as `sla evaluate` does) on
that table answers questions such as "does some lead fall in no segment?" with a concrete
example lead.

A field is *exact* when its few values provably stand for all of its values: comparisons with
numbers, durations or dates, equality with text, `in` lists, `is set` and true/false. A field
tested with `matches`, compared as text with `<` or `>`, or compared with values of several
kinds is not exact: the table may miss leads there. So an example found in the table is always
a real lead, but "no lead does X" is only proven when every field is exact.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field

import numpy as np

from sla_dsl.evaluation.conditions import UNIT_DAYS, ConditionEvaluator
from sla_dsl.language import model as m
from sla_dsl.language.patterns import compile_pattern, matches

MOST_LEADS = 20_000
MOST_ANSWERS = 1_000_000
_OTHER_TEXT = "something else"


@dataclass
class _FieldValues:
    """The constants one field is compared with, by kind, to pick its stand-in values."""

    numbers: set[float] = field(default_factory=set)
    days: set[float] = field(default_factory=set)
    # a bare number compared with a duration is read in that duration's unit (`timeline <=
    # 2 weeks`: a timeline of 1 is one week), so bare numbers split at each amount as written
    amounts: set[float] = field(default_factory=set)
    dates: set[dt.date] = field(default_factory=set)
    texts: set[str] = field(default_factory=set)
    kinds: set[str] = field(default_factory=set)
    exact: bool = True
    atoms: list[m.Expr] = field(default_factory=list)
    patterns: list[str] = field(default_factory=list)

    def add(self, value: m.Value, op: str = "==") -> None:
        if isinstance(value, m.Number | m.Percent):
            self.kinds.add("number")
            self.numbers.add(float(value.value))
        elif isinstance(value, m.Duration):
            self.kinds.add("duration")
            self.days.add(float(value.amount) * UNIT_DAYS[value.unit])
            self.amounts.add(float(value.amount))
        elif isinstance(value, m.DateValue):
            self.kinds.add("date")
            self.dates.add(value.value)
        elif isinstance(value, m.Boolean):
            self.kinds.add("bool")
        else:
            self.kinds.add("text")
            self.texts.add(value.value)
            if op not in ("==", "!="):
                self.exact = False

    def values(self) -> list[str | None]:
        """Written constants first, so that an example lead reads like the policy."""
        out: list[str | None] = sorted(self.texts)
        out += [text for pattern in self.patterns for text in pattern_examples(pattern)]
        out += [_number_text(x) for x in _around(sorted(self.numbers))]
        out += [f"{_number_text(x)} days" for x in _around(sorted(self.days))]
        out += [_number_text(x) for x in _around(sorted(self.amounts))]
        out += [d.isoformat() for d in _dates_around(sorted(self.dates))]
        if "bool" in self.kinds:
            out += ["true", "false"]
        out += [None, "", _OTHER_TEXT]  # a missing field reads best in an example
        return list(dict.fromkeys(out))

    @property
    def is_exact(self) -> bool:
        return self.exact and len(self.kinds) <= 1


def _number_text(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(x)


def _around(points: list[float]) -> list[float]:
    """Each constant, one value on each side, and one between neighbours: every region the
    comparisons can tell apart."""
    if not points:
        return []
    out = [points[0] - 1]
    for a, b in itertools.pairwise(points):
        out += [a, (a + b) / 2]
    out += [points[-1], points[-1] + 1]
    return sorted(set(out), key=lambda x: (x not in points, x))


def _dates_around(points: list[dt.date]) -> list[dt.date]:
    one = dt.timedelta(days=1)
    out = {d + k * one for d in points for k in (-1, 0, 1)}
    return sorted(out, key=lambda d: (d not in points, d))


@dataclass
class LeadSpace:
    """Made-up leads standing for every kind of lead, as the columns the evaluator reads."""

    fields: list[str]
    columns: dict[str, np.ndarray]
    size: int
    exact: bool
    conditions: ConditionEvaluator

    def describe(self, index: int) -> str:
        """One lead in words, as a note under a warning: `score 39, no industry`."""
        parts = []
        for name in self.fields:
            value = self.columns[name][index]
            if value is None:
                parts.append(f"no {name}")
            elif value == "":
                parts.append(f'{name} ""')
            elif _looks_numeric(value) or value in ("true", "false") or value.endswith(" days"):
                parts.append(f"{name} {value}")
            else:
                parts.append(f'{name} "{value}"')
        return ", ".join(parts) if parts else "any lead"


def _looks_numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _definitions_used(policy: m.Policy, roots: list[m.Expr]) -> list[m.Expr]:
    """The conditions of `roots` and of every definition they use, each once."""
    by_name = {("fit" if d.category == "fit" else "interest" if d.category == "interest"
                else "bare", d.name.value): d for d in reversed(policy.definitions)}
    seen: set[tuple[str, str]] = set()
    out: list[m.Expr] = []
    stack = list(roots)
    while stack:
        expr = stack.pop()
        out.append(expr)
        for node in m.walk_expr(expr):
            key = None
            if isinstance(node, m.FitRef):
                key = ("fit", node.name.value)
            elif isinstance(node, m.InterestRef):
                key = ("interest", node.name.value)
            elif isinstance(node, m.Ref):
                key = ("bare", node.name.value)
            if key in by_name and key not in seen:
                seen.add(key)
                stack.append(by_name[key].when)
    return out


def _field_values(policy: m.Policy, exprs: list[m.Expr]) -> dict[str, _FieldValues]:
    names = {d.name.value for d in policy.definitions if d.category not in ("fit", "interest")}
    found: dict[str, _FieldValues] = {}
    for expr in exprs:
        for node in m.walk_expr(expr):
            if isinstance(node, m.Ref):
                if node.name.value not in names:
                    values = found.setdefault(node.name.value, _FieldValues())
                    values.kinds.add("bool")
                    values.atoms.append(node)
                continue
            if not isinstance(node, m.Compare | m.Membership | m.PatternMatch | m.Presence):
                continue
            values = found.setdefault(node.field.value, _FieldValues())
            values.atoms.append(node)
            if isinstance(node, m.Compare):
                values.add(node.value, node.op)
            elif isinstance(node, m.Membership):
                for value in node.values:
                    values.add(value)
            elif isinstance(node, m.PatternMatch):
                values.exact = False
                values.patterns.append(node.pattern.value)
    return found


def _example(items, k: int) -> str:
    """A text the parsed pattern matches, taking the k-th choice of every alternation."""
    out = []
    for op, arg in items:
        name = str(op)
        if name == "LITERAL":
            out.append(chr(arg))
        elif name in ("NOT_LITERAL", "ANY"):
            out.append("a" if arg != ord("a") else "b")
        elif name == "IN":
            first_op, first_arg = arg[0]
            kinds = {"LITERAL": lambda a: chr(a), "RANGE": lambda a: chr(a[0]),
                     "CATEGORY": lambda a: {"CATEGORY_DIGIT": "0",
                                            "CATEGORY_SPACE": " "}.get(str(a), "a")}
            out.append(kinds.get(str(first_op), lambda a: "a")(first_arg))
        elif name == "BRANCH":
            choices = arg[1]
            out.append(_example(choices[min(k, len(choices) - 1)], k))
        elif name == "SUBPATTERN":
            out.append(_example(arg[-1], k))
        elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            low, _, inner = arg
            if low > 50:
                raise ValueError("a long repetition: no short example")
            out.append(_example(inner, k) * max(low, 1))
        elif name not in ("AT", "ASSERT", "ASSERT_NOT"):
            raise ValueError(name)
    text = "".join(out)
    if len(text) > 1000:
        raise ValueError("no short example")
    return text


def pattern_examples(pattern: str, most: int = 6) -> list[str]:
    """A few texts that `pattern` matches (one per alternative of its alternations), each
    checked with `re.search`; none when the pattern is beyond this small generator."""
    try:
        from re import _parser  # the parser `re` itself uses; private, so guarded

        parsed = list(_parser.parse(pattern))
        texts = {_example(parsed, k) for k in range(most)}
    except Exception:  # an unusual pattern only means fewer example leads
        return []
    compiled = compile_pattern(pattern)
    return sorted(t for t in texts if matches(compiled, t))


def _distinct(policy: m.Policy, name: str, values: _FieldValues) -> list[str | None]:
    """One stand-in per pattern of yes/no answers the field's tests give: values that every
    test answers alike are one kind of value."""
    candidates = values.values()
    if values.kinds <= {"text"} and values.exact:
        return candidates  # each written text is its own kind of value already
    column = np.empty(len(candidates), dtype=object)
    column[:] = candidates
    evaluator = ConditionEvaluator(policy, {name: column}, len(candidates))
    answers = np.array([evaluator.evaluate(atom) for atom in values.atoms]).T
    kept: dict[bytes, str | None] = {}
    for value, row in zip(candidates, answers, strict=True):
        kept.setdefault(row.tobytes(), value)
    return list(kept.values())


def lead_space(policy: m.Policy, roots: list[m.Expr]) -> LeadSpace | None:
    """The made-up leads for the conditions `roots` (and the definitions they use), or None
    when there would be more than `MOST_LEADS` of them, or when sorting one field's values into
    kinds would take more than `MOST_ANSWERS` tests (values x comparisons: thousands of
    comparisons of one field made this quadratic)."""
    per_field = _field_values(policy, _definitions_used(policy, roots))
    if any(len(v.values()) * len(v.atoms) > MOST_ANSWERS for v in per_field.values()):
        return None
    fields = sorted(per_field)
    choices = [_distinct(policy, name, per_field[name]) for name in fields]
    size = 1
    for choice in choices:  # in Python integers: a float product of a thousand fields is inf
        size *= len(choice)
        if size > MOST_LEADS:
            return None
    columns: dict[str, np.ndarray] = {}
    if fields:
        grids = np.meshgrid(*[np.arange(len(c)) for c in choices], indexing="ij")
        for name, values, grid in zip(fields, choices, grids, strict=True):
            column = np.empty(len(values), dtype=object)
            column[:] = values
            columns[name] = column[grid.ravel()]
    exact = all(per_field[name].is_exact for name in fields)
    return LeadSpace(fields, columns, size, exact, ConditionEvaluator(policy, columns, size))
