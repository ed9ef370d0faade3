"""The mappings of CRMs as they export: `salesforce.toml` and `hubspot.toml`, shipped inside
the package so that `--preset NAME` works after `pip install .`, and printed by
`--print-mapping` for a user to copy and adapt.

Each preset's sources name the files a CRM writes (`Lead.csv`, `contacts.csv`, ...): the files
given on the command line are matched to them by name (`Mapping.bind`).
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from sla_dsl.history.mapping import Mapping, MappingError, load_mapping

__all__ = ["PRESETS", "load_preset", "preset_path", "preset_text"]

PRESETS: tuple[str, ...] = ("salesforce", "hubspot")


def preset_path(name: str) -> Path:
    """The preset's TOML file. Raises MappingError for a name that is no preset."""
    if name not in PRESETS:
        raise MappingError(f"unknown preset `{name}`\n  help: presets are "
                           f"{', '.join(PRESETS)}; for another CRM, write a mapping (--mapping)")
    return Path(str(files(__name__) / f"{name}.toml"))


def preset_text(name: str) -> str:
    """The preset as written, comments and all: the start of a user's own mapping."""
    return preset_path(name).read_text(encoding="utf-8")


def load_preset(name: str) -> Mapping:
    return load_mapping(preset_path(name))
