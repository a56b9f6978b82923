"""The canonical Avro schemas: loading ``schemas/avro`` and naming its types.

Each named type lives in its own ``<full name>.avsc`` file, which is the layout fastavro's
``load_schema`` resolves references from.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from fastavro.schema import load_schema

NAMESPACE = "eu.returns.gateway.v1"
ROOT_TYPE = f"{NAMESPACE}.CaseEvent"


def _schema_root() -> Path:
    # An installed wheel carries the schemas as package data (setup.py copies them to gateway/_schemas); a
    # source checkout, editable installs included, reads them from the repository's schemas/ folder.
    package = Path(__file__).resolve().parents[1]
    packaged = package / "_schemas"
    return packaged if packaged.is_dir() else package.parent / "schemas"


SCHEMA_DIR = _schema_root() / "avro"


def read_named_types(schema_dir: Path = SCHEMA_DIR) -> dict[str, dict[str, Any]]:
    """Read every ``.avsc`` file of a folder as raw JSON, keyed by the type's full name."""
    types: dict[str, dict[str, Any]] = {}
    for path in sorted(schema_dir.glob("*.avsc")):
        raw = json.loads(path.read_text(encoding="utf-8"))
        full = f"{raw.get('namespace', '')}.{raw['name']}".lstrip(".")
        if path.stem != full:
            raise ValueError(f"{path.name} defines {full}; the file must be named {full}.avsc")
        types[full] = raw
    return types


def load_root(schema_dir: Path = SCHEMA_DIR, root: str = ROOT_TYPE) -> dict[str, Any]:
    """Load the root type with every referenced type expanded, parsed for fastavro."""
    schema = load_schema(str(schema_dir / f"{root}.avsc"))
    if not isinstance(schema, dict):
        raise TypeError(f"{root} is not a named record")
    return schema


@cache
def canonical_schema() -> dict[str, Any]:
    """The current canonical ``CaseEvent`` schema (parsed, cached for the process)."""
    return load_root()
