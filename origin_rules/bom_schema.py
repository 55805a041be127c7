"""The JSON Schema of `tmec-bom/1` (draft 2020-12), shipped as package data.

`docs/bom-format.md` is the definitive text of the format; the schema is its machine form
for tools outside the project (editors, other languages' validators, CI of a supplier's
export). It agrees with the reader (`origin_rules.reader`): a document the schema refuses
the reader refuses too, and a document the reader accepts passes the schema
(`tests/origin_rules/test_bom_schema.py` checks both ways). What only the reader can check
— ids that name items, the graph, sums across fields, the JSON text itself, read limits —
is listed in the schema's own ``description`` and in docs/bom-format.md ("JSON Schema").

Only a file is read here: validating needs a JSON Schema library (the tests use
`jsonschema`), which the base install does not carry; the reader needs none.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

__all__ = ["SCHEMA_FILE", "bom_schema", "bom_schema_text"]

#: The schema's file in the package `origin_rules.data`.
SCHEMA_FILE = "tmec-bom-1.schema.json"


def bom_schema_text() -> str:
    """The schema as it is shipped (what `tmec bom schema` prints)."""
    return resources.files("origin_rules.data").joinpath(SCHEMA_FILE).read_text("utf-8")


def bom_schema() -> dict[str, Any]:
    """The schema as a JSON object."""
    schema: dict[str, Any] = json.loads(bom_schema_text())
    return schema
