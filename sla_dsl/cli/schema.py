"""`sla schema`: the JSON Schemas of what the tool reads and writes."""

from __future__ import annotations

import argparse
import json

from sla_dsl.cli.common import EXIT_OK
from sla_dsl.language.model import Policy


def policy_schema() -> dict:
    schema = Policy.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "sla_dsl policy"
    return schema


def history_schema() -> dict:
    from sla_dsl.history.read import event_schema

    return event_schema()


SCHEMAS = {"policy": policy_schema, "history": history_schema}


def run(args: argparse.Namespace) -> int:
    print(json.dumps(SCHEMAS[args.which](), indent=2))
    return EXIT_OK


def add(commands: argparse._SubParsersAction) -> None:
    schema = commands.add_parser(
        "schema", help="print a JSON Schema",
        description="Print the JSON Schema of a data format the tool reads or writes.")
    schema.add_argument("which", choices=sorted(SCHEMAS),
                        help="policy: the checked policy model; history: one event of a history")
    schema.set_defaults(run=run)
