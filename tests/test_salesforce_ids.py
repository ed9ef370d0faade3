"""Salesforce ids of 15 and 18 characters as one id (`sla_dsl.history.salesforce_ids`).

The rule is checked against an id converted by Salesforce's own documented method, then the
vectorised and the DuckDB forms against the rule, value by value, on ids of every length
and case, blanks, nulls and text that is no id.
"""

from __future__ import annotations

import random
import string

import duckdb
import pyarrow as pa
import pytest

from sla_dsl.history.mapping import MappingError, parse_mapping
from sla_dsl.history.salesforce_ids import full_id, full_id_sql, full_ids


def test_a_15_character_id_gets_the_3_characters_that_spell_its_case():
    assert full_id("00558000001N0Ke") == "00558000001N0KeAAK"  # chunks 00558 / 00000 / 1N0Ke
    assert full_id("001A0000006Vm9r") == "001A0000006Vm9rIAC"
    assert full_id("zzzzzZZZZZzZzZz") == "zzzzzZZZZZzZzZzA5K"
    for other in ("00558000001N0KeAAK", "0055800000", "", "00558000001N0K ", "00558000001N0Kë"):
        assert full_id(other) == other  # 18 characters, too short, not letters and digits


def _values() -> list[str | None]:
    rng = random.Random(11)
    letters = string.ascii_letters + string.digits
    made = ["".join(rng.choice(letters) for _ in range(rng.choice([14, 15, 15, 16, 18])))
            for _ in range(5000)]
    return [*made, None, "", "é" * 15, "a b" + "c" * 12, "00558000001N0Ke", "日本語" * 5]


def test_the_vectorised_rule_is_the_rule_value_by_value():
    values = _values()
    expected = [None if v is None else full_id(v) for v in values]
    array = pa.array(values, pa.string())
    assert full_ids(array).to_pylist() == expected
    assert full_ids(array.slice(7, 500)).to_pylist() == expected[7:507]
    eighteen = pa.array(["00558000001N0KeAAK", None])
    assert full_ids(eighteen) is eighteen  # nothing to convert: the array itself


def test_the_sql_rule_is_the_rule_value_by_value():
    values = _values()
    con = duckdb.connect()
    con.register("ids", pa.table({"id": pa.array(values, pa.string())}))
    got = [row[0] for row in con.sql(f"SELECT {full_id_sql('id')} FROM ids").fetchall()]
    assert got == [None if v is None else full_id(v) for v in values]


def test_a_source_names_a_kind_of_ids_the_reader_knows(tmp_path):
    text = '[[source]]\nfile = "Lead.csv"\nlead_id = "Id"\nids = "hubspot"\n'
    with pytest.raises(MappingError, match=r"key `ids`: unknown kind of ids 'hubspot'"):
        parse_mapping(text, tmp_path / "m.toml")
    spec = parse_mapping(text.replace("hubspot", "salesforce"), tmp_path / "m.toml").sources[0]
    assert spec.salesforce_ids


def test_ids_are_said_of_the_source_others_join_through(tmp_path):
    text = ('[[source]]\nname = "Lead"\nfile = "Lead.csv"\nlead_id = "Id"\n'
            '[[source]]\nname = "Task"\nfile = "Task.csv"\nlead_id = "WhoId"\n'
            'ids = "salesforce"\njoin = { source = "Lead", match = ["Id"] }\n')
    with pytest.raises(MappingError, match='move ids = "salesforce" to the source `Lead`'):
        parse_mapping(text, tmp_path / "m.toml")
