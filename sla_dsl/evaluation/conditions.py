"""Policy conditions evaluated over many leads at once.

A condition (`score >= 60 and title matches "(?i)vp"`) is evaluated against columns of lead
attributes, one element per lead, giving a boolean column. Attribute values arrive as text
(CRMs export text); each distinct value is interpreted once, so a million leads with a few
hundred distinct scores cost a few hundred conversions, not a million.

The meaning, as the language reference gives it: a field the lead lacks makes a comparison
false (`!=` included); a bare field name is true when its value is true, yes, or a number other
than zero; a bare name that is a definition is that definition.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping

import numpy as np

from sla_dsl.language import model as m
from sla_dsl.language.patterns import compile_pattern, matches

Column = np.ndarray  # object array of str or None, one element per lead

_TRUE_WORDS = frozenset({"true", "yes", "y", "t"})
_FALSE_WORDS = frozenset({"false", "no", "n", "f", ""})
_DURATION_TEXT = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*([a-z]+?)s?\s*$")
# Average lengths, for reading durations that have no start: a field's `3 months`, a trigger's
# `median first touch > 2 days`.
UNIT_DAYS = {"minute": 1 / 1440, "hour": 1 / 24, "day": 1, "week": 7, "month": 30.4375,
              "quarter": 91.3125, "year": 365.25}


class _Distinct:
    """A column split once into its distinct values: conditions test a few hundred distinct
    values instead of a million cells, and a field compared several times is split once."""

    def __init__(self, column: Column) -> None:
        self.present = np.array([v is not None for v in column], dtype=bool) \
            if column.dtype == object else np.ones(len(column), dtype=bool)
        self.values: np.ndarray = np.zeros(0, dtype=str)
        self.inverse: np.ndarray = np.zeros(0, dtype=np.int64)
        if self.present.any():
            self.values, self.inverse = np.unique(column[self.present].astype(str),
                                                  return_inverse=True)

    def apply(self, convert: Callable[[str], object], dtype) -> np.ndarray:
        """`convert` once per distinct value; missing cells get `convert(None)`."""
        out = np.empty(len(self.present), dtype=dtype)
        out[~self.present] = convert(None)
        if len(self.values):
            converted = np.array([convert(v) for v in self.values], dtype=dtype)
            out[self.present] = converted[self.inverse]
        return out


def _number(text: str | None) -> float:
    """A field's number, or NaN (no comparison holds): `inf`, `Infinity` and `1e309` are no
    numbers a form holds, and read as infinity they met `score >= 70`."""
    if text is None:
        return np.nan
    try:
        number = float(text)
    except ValueError:
        return np.nan
    return number if np.isfinite(number) else np.nan


def _truth(text: str | None) -> bool:
    if text is None:
        return False
    word = text.strip().lower()
    if word in _TRUE_WORDS:
        return True
    if word in _FALSE_WORDS:
        return False
    number = _number(word)
    return bool(number) and not np.isnan(number)


def _days(text: str | None, unit: str) -> float:
    """A field compared with a duration: a bare number is in the duration's unit, text such as
    `3 months` carries its own."""
    if text is None:
        return np.nan
    number = _number(text)
    if not np.isnan(number):
        return number * UNIT_DAYS[unit]
    match = _DURATION_TEXT.match(text.lower())
    if match and match.group(2) in UNIT_DAYS:
        return float(match.group(1)) * UNIT_DAYS[match.group(2)]
    return np.nan


def _date_ordinal(text: str | None) -> float:
    if text is None:
        return np.nan
    try:
        return float(dt.date.fromisoformat(text.strip()[:10]).toordinal())
    except ValueError:
        return np.nan


_ORDER = {
    "==": np.equal, "!=": np.not_equal, "<": np.less, "<=": np.less_equal,
    ">": np.greater, ">=": np.greater_equal,
}


def _numeric_compare(values: np.ndarray, op: str, target: float) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        result = _ORDER[op](values, target)
    return result & ~np.isnan(values)


class ConditionEvaluator:
    """Evaluates the definitions and conditions of one policy over one set of leads."""

    def __init__(self, policy: m.Policy, attributes: Mapping[str, Column], size: int) -> None:
        self.size = size
        self.attributes = attributes
        self.definitions = {
            ("bare" if d.category not in ("fit", "interest") else d.category, d.name.value): d
            for d in reversed(policy.definitions)  # the first declaration wins
        }
        self._cache: dict[tuple[str, str], np.ndarray] = {}
        self._missing = np.full(size, None, dtype=object)
        self._distinct: dict[int, _Distinct] = {}

    def _per_distinct(self, column: Column, convert: Callable[[str], object],
                      dtype) -> np.ndarray:
        # keyed by identity: the columns are this evaluator's own attributes, held for its life
        split = self._distinct.get(id(column))
        if split is None:
            split = self._distinct[id(column)] = _Distinct(column)
        return split.apply(convert, dtype)

    def column(self, name: str) -> Column:
        return self.attributes.get(name, self._missing)

    def definition(self, space: str, name: str) -> np.ndarray:
        key = (space, name)
        if key not in self._cache:
            self._cache[key] = np.zeros(self.size, dtype=bool)  # a cycle reads as false
            self._cache[key] = self.evaluate(self.definitions[key].when)
        return self._cache[key]

    def evaluate(self, expr: m.Expr) -> np.ndarray:
        if isinstance(expr, m.AnyOf):
            out = np.zeros(self.size, dtype=bool)
            for operand in expr.operands:
                out |= self.evaluate(operand)
            return out
        if isinstance(expr, m.All):
            out = np.ones(self.size, dtype=bool)
            for operand in expr.operands:
                out &= self.evaluate(operand)
            return out
        if isinstance(expr, m.Not):
            return ~self.evaluate(expr.operand)
        if isinstance(expr, m.FitRef):
            return self.definition("fit", expr.name.value)
        if isinstance(expr, m.InterestRef):
            return self.definition("interest", expr.name.value)
        if isinstance(expr, m.Ref):
            if ("bare", expr.name.value) in self.definitions:
                return self.definition("bare", expr.name.value)
            return self._per_distinct(self.column(expr.name.value), _truth, bool)
        column = self.column(expr.field.value)
        if isinstance(expr, m.Presence):
            present = self._per_distinct(column, lambda v: v is not None and v.strip() != "", bool)
            return ~present if expr.negated else present
        if isinstance(expr, m.PatternMatch):
            pattern = compile_pattern(expr.pattern.value)
            return self._per_distinct(column, lambda v: matches(pattern, v), bool)
        if isinstance(expr, m.Membership):
            hits = np.zeros(self.size, dtype=bool)
            for option in expr.values:
                hits |= self._compare(column, "==", option)
            present = self._per_distinct(column, lambda v: v is not None, bool)
            return present & (~hits if expr.negated else hits)
        return self._compare(column, expr.op, expr.value)

    def _compare(self, column: Column, op: str, value: m.Value) -> np.ndarray:
        if isinstance(value, m.Text):
            if op in ("==", "!="):
                equal = self._per_distinct(column, lambda v: v == value.value, bool)
                present = self._per_distinct(column, lambda v: v is not None, bool)
                return present & (equal if op == "==" else ~equal)
            keys = self._per_distinct(column, lambda v: v, object)
            present = np.array([k is not None for k in keys], dtype=bool)
            out = np.zeros(self.size, dtype=bool)
            out[present] = _ORDER[op](keys[present].astype(str), value.value)
            return out
        if isinstance(value, m.Boolean):
            truth = self._per_distinct(column, _truth, bool)
            present = self._per_distinct(column, lambda v: v is not None, bool)
            equal = truth == value.value
            return present & (equal if op == "==" else ~equal if op == "!=" else False)
        if isinstance(value, m.Duration):
            days = self._per_distinct(column, lambda v: _days(v, value.unit), float)
            return _numeric_compare(days, op, value.amount * UNIT_DAYS[value.unit])
        if isinstance(value, m.DateValue):
            ordinals = self._per_distinct(column, _date_ordinal, float)
            return _numeric_compare(ordinals, op, float(value.value.toordinal()))
        numbers = self._per_distinct(column, _number, float)
        return _numeric_compare(numbers, op, float(value.value))


def fields_used(policy: m.Policy) -> set[str]:
    """Every lead field a condition of the policy reads, so only those columns are built."""
    names = {d.name.value for d in policy.definitions}
    used: set[str] = set()
    for _, node in policy.nodes_of(m.Compare, m.Membership, m.PatternMatch, m.Presence):
        used.add(node.field.value)
    for _, node in policy.nodes_of(m.Ref):
        if node.name.value not in names:
            used.add(node.name.value)
    return used
