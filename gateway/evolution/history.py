"""Released versions of the canonical schema, stored as self-contained snapshots under ``schemas/history``.

A snapshot is the root type with every named type it uses written out at its first use and referred to by full
name afterwards: the form any Avro implementation parses without the ``schemas/avro`` folder. Snapshots keep docs
and defaults (schema resolution needs the defaults), so they are not the Parsing Canonical Form; identity between
versions is decided by the PCF fingerprint, as on the wire.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastavro.schema import parse_schema, to_parsing_canonical_form

# Reading released versions is the codec's (every reader needs them); re-exported for the evolution tooling.
from gateway.codec.history import HISTORY_DIR, Snapshot, load_history, snapshot_dir
from gateway.codec.schemas import ROOT_TYPE, SCHEMA_DIR, read_named_types
from gateway.codec.single_object import schema_fingerprint

__all__ = [
    "HISTORY_DIR",
    "Snapshot",
    "canonical_form",
    "dumps",
    "expand",
    "fingerprint",
    "load_history",
    "snapshot_dir",
    "write_snapshot",
]

_PRIMITIVES = frozenset({"null", "boolean", "int", "long", "float", "double", "bytes", "string"})
_NAMED = frozenset({"record", "enum", "fixed"})


def expand(schema_dir: Path = SCHEMA_DIR, root: str = ROOT_TYPE) -> dict[str, Any]:
    """The root type of a schema folder as one self-contained schema, in the files' own key order.

    Raises:
        ValueError: A file is misnamed or not JSON.
        KeyError: A type refers to a name no file defines.
    """
    types = read_named_types(schema_dir)
    defined: set[str] = set()

    def walk(t: Any, namespace: str) -> Any:
        if isinstance(t, list):
            return [walk(member, namespace) for member in t]
        if isinstance(t, str):
            if t in _PRIMITIVES:
                return t
            full = t if t in types or "." in t else f"{namespace}.{t}"
            if full in defined:
                return full
            return walk(types[full], namespace)
        out = dict(t)
        kind = t["type"]
        if kind in _NAMED:
            namespace = t.get("namespace", namespace)
            defined.add(f"{namespace}.{t['name']}" if "." not in t["name"] else t["name"])
        if kind == "record":
            out["fields"] = [{**f, "type": walk(f["type"], namespace)} for f in t["fields"]]
        elif kind == "array":
            out["items"] = walk(t["items"], namespace)
        elif kind == "map":
            out["values"] = walk(t["values"], namespace)
        elif kind not in _NAMED and kind not in _PRIMITIVES:
            out["type"] = walk(kind, namespace)  # {"type": "<a named type>"}, a wrapped reference
        return out

    expanded = walk(root, root.rpartition(".")[0])
    if not isinstance(expanded, dict):
        raise TypeError(f"{root} is not a named type")
    return expanded


def dumps(schema: dict[str, Any]) -> str:
    """Stable text of a snapshot: two-space indent, keys in schema order, UTF-8 kept readable."""
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def canonical_form(schema: dict[str, Any]) -> str:
    """The Parsing Canonical Form, by fastavro (the project's fingerprint authority; Apache avro's differs)."""
    return str(to_parsing_canonical_form(parse_schema(schema)))


def fingerprint(schema: dict[str, Any]) -> str:
    """The CRC-64-AVRO fingerprint as hex, little-endian as in the single-object header."""
    return schema_fingerprint(parse_schema(schema)).hex()


def write_snapshot(
    schema: dict[str, Any], version: int, history_dir: Path = HISTORY_DIR, root: str = ROOT_TYPE
) -> Path:
    """Write ``schema`` as version ``version``; refuse to overwrite a released version.

    Raises:
        FileExistsError: That version is already stored.
    """
    folder = snapshot_dir(history_dir, root)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"v{version}.avsc"
    with path.open("x", encoding="utf-8") as fh:  # "x": a released version is never rewritten
        fh.write(dumps(schema))
    return path
