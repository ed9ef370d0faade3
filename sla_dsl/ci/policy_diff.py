"""The semantic diff of two policy versions: what the agreement now says differently, in words.

Two versions are compared as models, never as text, so a comment, a blank line or the layout
never shows. Statements are matched by what they are about (a definition by its name, a
handoff by its label, a calendar by its name, a consequence by its clause, a commitment by its
parties, a block item by its clause), so that an edit reads as one "changed" line and not as a
removal and an addition. Values are worded as the policy writes them, through the formatter, so
the reader of a pull request sees `1 business hour -> 2 business hours`, not a field name.

Order matters in three places of the language (the first matching handoff block, segment and
lead value wins); a reordering there is reported too, and nowhere else.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from sla_dsl.language import model as m
from sla_dsl.language.formatter import block_items, header_line, item_line, quote

ChangeKind = Literal["added", "removed", "changed", "reordered"]


@dataclass(frozen=True)
class Change:
    """One difference. `path` names where it is (statement, then block item); `old` and `new`
    are the words of the value before and after (None for the side where it does not exist);
    the lines point into each version, for annotations on a pull request."""

    kind: ChangeKind
    section: str
    path: tuple[str, ...]
    old: str | None
    new: str | None
    old_line: int | None = None
    new_line: int | None = None

    @property
    def where(self) -> str:
        return " > ".join(self.path)

    @property
    def text(self) -> str:
        """The change as one sentence: `handoff 'hot' > first touch within: 1 ... -> 2 ...`."""
        if self.kind in ("changed", "reordered"):
            return f"{self.where}: {self.old or '(nothing)'} -> {self.new or '(nothing)'}"
        words = self.new if self.kind == "added" else self.old
        return f"{self.where}: {words}" if words else self.where

    def to_dict(self) -> dict:
        return {"change": self.kind, "section": self.section, "path": list(self.path),
                "old": self.old, "new": self.new, "old_line": self.old_line,
                "new_line": self.new_line, "text": self.text}


@dataclass
class PolicyDiff:
    old_path: str
    new_path: str
    changes: list[Change] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"old": self.old_path, "new": self.new_path,
                "changes": [c.to_dict() for c in self.changes]}


# ---------------------------------------------------------------- how each thing is named


@dataclass(frozen=True)
class _Shape:
    """How one kind of statement or block item is matched and worded.

    `key` is its identity; `label` what the reader calls it; `words` everything about it that
    is not in the key. `pair_leftovers` says when an unmatched old and new one of a group are
    one thing changed rather than two different things: `always` for what a block holds one
    of (a `first touch`), `alone` for named things (one calendar renamed, but not any two
    definitions), `never` for items of a set (two closed dates are two dates)."""

    key: Callable[[m.Node], tuple]
    label: Callable[[m.Node], str]
    words: Callable[[m.Node], str]
    pair_leftovers: Literal["always", "alone", "never"] = "always"
    group_size: int = 1

    def group(self, node: m.Node) -> tuple:
        """What an unmatched one may be paired with: the leading part of its key."""
        return self.key(node)[: self.group_size]


def _tail(node: m.Node) -> str:
    return header_line(node)[1]


def _head(node: m.Node) -> str:
    return header_line(node)[0]


def _after(prefix: str) -> Callable[[m.Node], str]:
    """The item's line without its leading keywords, which the label already says."""
    def words(item: m.Node) -> str:
        line = item_line(item)
        return line[len(prefix):].strip() if line.startswith(prefix) else line
    return words


def _const(text: str) -> Callable[[m.Node], str]:
    return lambda _node: text


def _handoff_words(handoff: m.Handoff) -> str:
    sender = f"from {handoff.sender.value} " if handoff.sender else ""
    return sender + f"to {handoff.receiver.value if handoff.receiver else 'nobody'}"


_STATEMENTS: dict[str, _Shape] = {
    "sla": _Shape(lambda s: ("sla",), _const("title"), _tail),
    "version": _Shape(lambda s: ("version",), _const("version"), _tail),
    "timezone": _Shape(lambda s: ("timezone",), _const("timezone"), _tail),
    "effective": _Shape(lambda s: ("effective",), _const("effective"), _tail),
    "party": _Shape(lambda s: ("party", s.name.value), _head, _tail, "alone"),
    "calendar": _Shape(lambda s: ("calendar", s.name.value),
                       lambda s: f"calendar '{s.name.value}'",
                       lambda s: f"timezone {quote(s.timezone.value)}" if s.timezone else "",
                       "alone"),
    "definition": _Shape(lambda s: ("definition", s.category, s.name.value),
                         lambda s: f"{s.category} '{s.name.value}'", _tail, "alone", 2),
    "handoff": _Shape(lambda s: ("handoff", s.label), lambda s: f"handoff '{s.label}'",
                      _handoff_words, "alone"),
    "commit": _Shape(lambda s: ("commit", s.giver.value, s.receiver.value), _head,
                     _const(""), "alone"),
    "value": _Shape(lambda s: ("value", s.persona.value if s.persona else None),
                    lambda s: f"value for {s.persona.value}" if s.persona else "default value",
                    _tail, "alone"),
    "goal": _Shape(lambda s: ("goal",), _const("goal revenue"),
                   lambda s: _head(s).removeprefix("goal revenue ")),
    "attribution": _Shape(lambda s: ("attribution",), _const("attribution"), _tail),
    "on": _Shape(lambda s: ("on", s.trigger, s.clause.name, s.scope_label), _head, _const(""),
                 "always", 3),
    "strikes": _Shape(lambda s: ("strikes",), _const("strikes"), _tail),
    "cancel": _Shape(lambda s: ("cancel", _tail(s)), _const("cancel"), _tail),
    "review_every": _Shape(lambda s: ("review every",), _const("review"), _tail),
    "review_when": _Shape(lambda s: ("review when", _tail(s)), _const("review"), _tail),
}

_SECTIONS = {"sla": "header", "version": "header", "timezone": "header",
             "effective": "header", "on": "consequence", "commit": "commitment",
             "value": "lead value", "strikes": "strike rule", "review_every": "review",
             "review_when": "review"}


def _item(key: Callable[[m.Node], tuple], label: str, prefix: str | None = None,
          pair_leftovers: Literal["always", "alone", "never"] = "always") -> _Shape:
    return _Shape(key, _const(label), _after(label if prefix is None else prefix),
                  pair_leftovers)


_ITEMS: dict[str, _Shape] = {
    "when": _item(lambda i: ("when",), "when"),
    "round_robin": _item(lambda i: ("assign",), "assign"),
    "owner": _item(lambda i: ("assign",), "assign"),
    "first_touch": _item(lambda i: ("first touch",), "first touch within"),
    "touches": _item(lambda i: ("touches",), "touches"),
    "spacing": _item(lambda i: ("spacing",), "spacing at least"),
    "disposition": _item(lambda i: ("disposition",), "disposition within"),
    "pause": _item(lambda i: ("pause", item_line(i)), "pause while"),
    "owner_absent": _item(lambda i: ("owner absent",), "when owner absent"),
    "owner_hours": _item(lambda i: ("owner hours",), "clocks run on owner hours"),
    "rehandoff": _item(lambda i: ("re-handoff",), "re-handoff"),
    "on_reassign": _item(lambda i: ("on reassign", tuple(c.name for c in i.clauses)),
                         "on reassign"),
    "open": _item(lambda i: ("open", *((d.first, d.last) for d in i.days)), "open"),
    "closed": _item(lambda i: ("closed", item_line(i)), "closed", pair_leftovers="never"),
    "deliver_count": _item(lambda i: ("deliver", i.what.value), "deliver"),
    "deliver_money": _item(lambda i: ("deliver", i.measure), "deliver"),
    "report": _item(lambda i: ("report", i.subject), "report"),
    "share": _Shape(lambda i: ("share", i.party.value), lambda i: f"{i.party.value} share",
                    lambda i: f"{item_line(i).split(' share ', 1)[1].split()[0]} {i.measure}"),
    "deal_size": _item(lambda i: ("deal size",), "deal size"),
    "close_rate": _item(lambda i: ("close rate",), "close rate"),
    "warn": _item(lambda i: ("warn",), "warn at"),
    "escalate": _item(lambda i: ("escalate", i.to.value), "escalate to"),
    "reassign": _item(lambda i: ("reassign",), "reassign"),
    "strike": _item(lambda i: ("strike",), "strike owner"),
    "grace": _item(lambda i: ("grace",), "grace"),
    "credit_share": _item(lambda i: ("credit",), "credit"),
    "credit_amount": _item(lambda i: ("credit",), "credit"),
}


def _shape(shapes: dict[str, _Shape], node: m.Node) -> _Shape:
    """The node's shape; a kind the language gains later is matched by kind and worded by
    the formatter until it gets its own, rather than stopping the diff."""
    found = shapes.get(node.kind)
    if found is not None:
        return found
    if shapes is _STATEMENTS:
        return _Shape(lambda s: (s.kind, _head(s)), _head, _tail, "alone")
    return _Shape(lambda i: (i.kind,), _const(node.kind.replace("_", " ")), item_line)


def _items(statement: m.Node) -> list[m.Node] | None:
    """A block's items, one per thing a change can name: each closed date range of a calendar
    is its own item, so an extra holiday reads as one added date."""
    if isinstance(statement, m.Calendar):
        out: list[m.Node] = []
        for item in statement.items:
            if isinstance(item, m.ClosedDates):
                out += [m.ClosedDates(dates=[d], span=d.span) for d in item.dates]
            else:
                out.append(item)
        return out
    if isinstance(statement, m.Handoff | m.Commitment | m.RevenueGoal):
        return list(statement.items)
    if isinstance(statement, m.Consequence):
        return list(statement.actions)
    return None


def _same(old: m.Node, new: m.Node) -> bool:
    return _meaning(m.without_spans(old.model_dump())) == \
        _meaning(m.without_spans(new.model_dump()))


# units that are whole multiples of a smaller one, by the language's own arithmetic: `60
# minutes` is `1 hour` and `2 weeks` is `14 days` (business or not); a month is a calendar
# month, so quarters and years are months too
_IN_SMALLER = {"hour": ("minute", 60), "week": ("day", 7), "quarter": ("month", 3),
               "year": ("month", 12)}


# a lead's field compared with a duration: a bare number in the field is read in the unit the
# policy wrote (`timeline <= 2 weeks`: a timeline of 1 is a week), so there the unit is meaning
_FIELD_TESTS = ("compare", "in")


def _meaning(data: object, as_written: bool = False) -> object:
    """A dumped model with every duration in its smallest unit (but those a field is tested
    against, `as_written`) and every share's reading spelled out, so that a respelling with the
    same meaning is no change."""
    if isinstance(data, list):
        return [_meaning(v, as_written) for v in data]
    if not isinstance(data, dict):
        return data
    inside = as_written or data.get("kind") in _FIELD_TESTS
    out = {k: _meaning(v, inside) for k, v in data.items()}
    if out.get("kind") == "share" and out.get("reading") is None:
        out["reading"] = "sourced"  # a bare share is sourced: writing the word changes nothing
    if out.get("kind") == "duration" and out.get("unit") in _IN_SMALLER and not as_written:
        unit, factor = _IN_SMALLER[out["unit"]]
        out["unit"], out["amount"] = unit, out["amount"] * factor
    return out


def _whole_words(shape: _Shape, node: m.Node) -> str:
    """An added or removed statement in full: its words and, for a block, every line in it."""
    words = shape.words(node)
    items = block_items(node)
    if items:
        block = "{ " + "; ".join(item_line(i) for i in items) + " }"
        words = f"{words} {block}" if words else block
    return words


# ---------------------------------------------------------------- matching


def _match(old: Sequence[m.Node], new: Sequence[m.Node], shapes: dict[str, _Shape]
           ) -> list[tuple[m.Node | None, m.Node | None]]:
    """Pairs (old, new) by identity, then leftovers of one group (see `_Shape`); unpaired
    nodes come with None on the other side. The result follows the new version's order, each
    removal after the node that preceded it in the old one."""
    by_key: dict[tuple, list[m.Node]] = {}
    for node in old:
        by_key.setdefault(_shape(shapes, node).key(node), []).append(node)
    paired: dict[int, m.Node] = {}
    unmatched_new: list[m.Node] = []
    for node in new:
        candidates = by_key.get(_shape(shapes, node).key(node))
        if candidates:
            paired[id(node)] = candidates.pop(0)
        else:
            unmatched_new.append(node)
    leftovers = [n for nodes in by_key.values() for n in nodes]
    position = {id(n): i for i, n in enumerate(old)}
    leftovers.sort(key=lambda n: position[id(n)])

    def group(node: m.Node) -> tuple:
        return _shape(shapes, node).group(node)

    for node in unmatched_new:
        mode = _shape(shapes, node).pair_leftovers
        partners = [o for o in leftovers if group(o) == group(node)]
        if mode == "never" or not partners:
            continue
        if mode == "alone" and (len(partners) > 1 or sum(
                group(n) == group(node) for n in unmatched_new) > 1):
            continue
        leftovers.remove(partners[0])
        paired[id(node)] = partners[0]
    pairs: list[tuple[m.Node | None, m.Node | None]] = [(paired.get(id(n)), n) for n in new]
    return _with_removals(pairs, leftovers, position)


def _with_removals(pairs: list[tuple[m.Node | None, m.Node | None]], removed: list[m.Node],
                   position: dict[int, int]) -> list[tuple[m.Node | None, m.Node | None]]:
    """Each removed node placed after what stood before it in the old version, so that a
    removal reads next to its neighbours rather than at the end."""
    slot = {position[id(o)]: k for k, (o, _) in enumerate(pairs) if o is not None}
    keyed = [((k, 0, 0), pair) for k, pair in enumerate(pairs)]
    for node in removed:
        at = position[id(node)]
        before = max((i for i in slot if i < at), default=None)
        keyed.append(((slot[before] if before is not None else -1, 1, at), (node, None)))
    return [pair for _, pair in sorted(keyed, key=lambda kv: kv[0])]


# ---------------------------------------------------------------- comparing


def _section(statement: m.Node) -> str:
    return _SECTIONS.get(statement.kind, statement.kind)


def _compare_statement(old: m.Node | None, new: m.Node | None) -> list[Change]:
    either = new if new is not None else old
    assert either is not None
    shape = _shape(_STATEMENTS, either)
    section = _section(either)
    if old is None or new is None:
        node = old if new is None else new
        words = _whole_words(shape, node)
        line = node.span.line
        if old is None:
            return [Change("added", section, (shape.label(new),), None, words, None, line)]
        return [Change("removed", section, (shape.label(old),), words, None, line, None)]
    if _same(old, new):
        return []
    path = (shape.label(old),)
    changes = []
    old_words, new_words = shape.words(old), shape.words(new)
    if old_words != new_words or shape.label(old) != shape.label(new):
        if shape.label(old) != shape.label(new):
            old_words = f"{shape.label(old)} {old_words}".strip()
            new_words = f"{shape.label(new)} {new_words}".strip()
        changes.append(Change("changed", section, path, old_words, new_words,
                              old.span.line, new.span.line))
    old_items, new_items = _items(old) or [], _items(new) or []
    for old_item, new_item in _match(old_items, new_items, _ITEMS):
        changes += _compare_item(section, path, old_item, new_item, old, new)
    if not changes and either.kind not in _STATEMENTS:  # a kind this module cannot see into
        changes.append(Change("changed", section, path, _whole_words(shape, old),
                              _whole_words(shape, new), old.span.line, new.span.line))
    return changes


def _compare_item(section: str, path: tuple[str, ...], old: m.Node | None,
                  new: m.Node | None, old_parent: m.Node, new_parent: m.Node) -> list[Change]:
    if old is not None and new is not None and _same(old, new):
        return []
    either = new if new is not None else old
    assert either is not None
    shape = _shape(_ITEMS, either)
    where = (*path, shape.label(either))
    if old is None:
        return [Change("added", section, where, None, shape.words(new), old_parent.span.line,
                       new.span.line)]
    if new is None:
        return [Change("removed", section, where, shape.words(old), None, old.span.line,
                       new_parent.span.line)]
    old_words, new_words = shape.words(old), shape.words(new)
    if shape.label(old) != shape.label(new):  # a credit share that became an amount, say
        old_words, new_words = item_line(old), item_line(new)
    return [Change("changed", section, where, old_words, new_words, old.span.line,
                   new.span.line)]


def _order_changes(old: m.Policy, new: m.Policy) -> list[Change]:
    """Where the first match wins, the order of the things both versions have."""
    lists: list[tuple[str, str, Callable[[m.Policy], list], Callable[[m.Node], str]]] = [
        ("handoff", "order of handoff blocks (the first that fits a lead applies)",
         lambda p: p.handoffs, lambda s: s.label),
        ("definition", "order of segments (a lead is in the first that fits)",
         lambda p: p.definitions_of("segment"), lambda s: s.name.value),
        ("lead value", "order of lead values (the first matching persona wins)",
         lambda p: [v for v in p.lead_values if v.persona], lambda s: s.persona.value),
    ]
    changes = []
    for section, label, of, name in lists:
        old_names = [name(s) for s in of(old)]
        new_names = [name(s) for s in of(new)]
        common = set(old_names) & set(new_names)
        old_order = [n for n in old_names if n in common]
        new_order = [n for n in new_names if n in common]
        if old_order != new_order:
            first = of(new)[0].span.line if of(new) else None
            changes.append(Change("reordered", section, (label,), ", ".join(old_order),
                                  ", ".join(new_order), of(old)[0].span.line, first))
    return changes


def diff_policies(old: m.Policy, new: m.Policy, old_path: str = "old",
                  new_path: str = "new") -> PolicyDiff:
    """Every difference in meaning between two versions, in the new version's order."""
    changes: list[Change] = []
    for old_statement, new_statement in _match(old.statements, new.statements, _STATEMENTS):
        changes += _compare_statement(old_statement, new_statement)
    changes += _order_changes(old, new)
    return PolicyDiff(old_path, new_path, changes)
