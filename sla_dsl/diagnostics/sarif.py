"""SARIF 2.1.0, the format code scanning reads: one home for its envelope, rules, results and
file addresses, which `sla check`, `sla test` and `sla diff` fill with their own findings."""

from __future__ import annotations

import json
from pathlib import Path, PurePath
from urllib.parse import quote

from sla_dsl.version import __version__

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def uri(path: Path | str) -> str:
    """Relative paths stay relative: code scanning resolves them against the checkout."""
    pure = PurePath(path)
    return Path(path).as_uri() if pure.is_absolute() else quote(pure.as_posix())


def rule(rule_id: str, text: str, *, name: str | None = None, level: str | None = None,
         help_text: str | None = None) -> dict:
    entry: dict = {"id": rule_id}
    if name:
        entry["name"] = name
    entry["shortDescription"] = {"text": text}
    entry["fullDescription"] = {"text": text}
    if help_text:
        entry["help"] = {"text": help_text}
    if level:
        entry["defaultConfiguration"] = {"level": level}
    return entry


def result(rule_id: str, level: str, text: str, path: Path | str, *,
           region: dict | None = None, rule_index: int | None = None) -> dict:
    """One finding at one place; `region` as SARIF writes it (startLine, startColumn...)."""
    location: dict = {"artifactLocation": {"uri": uri(path)}}
    if region:
        location["region"] = region
    found: dict = {"ruleId": rule_id}
    if rule_index is not None:
        found["ruleIndex"] = rule_index
    found.update({"level": level, "message": {"text": text},
                  "locations": [{"physicalLocation": location}]})
    return found


def log(tool: str, rules: list[dict], results: list[dict], *,
        version: str | None = None, column_kind: str | None = None) -> dict:
    """A log of one run of one tool."""
    run: dict = {"tool": {"driver": {"name": tool, "version": version or __version__,
                                     "rules": rules}}}
    if column_kind:
        run["columnKind"] = column_kind
    run["results"] = results
    return {"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}


def dumps(document: dict) -> str:
    return json.dumps(document, indent=2) + "\n"
