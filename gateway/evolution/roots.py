"""Every schema the gate guards: the canonical event, and the roots of ``schemas/avro``'s subfolders.

Besides the canonical ``CaseEvent`` (``schemas/avro``), the project keeps schemas of its own in subfolders of
``schemas/avro`` (``state/`` for state-store values, ``alerts/`` for the detector's alerts), each folder self-contained
with one ``<full name>.avsc`` per named type. A folder's roots are its records that no other type in the folder refers
to; each is released and checked on its own, under ``schemas/history/<short name>/``. Finding them from the files,
rather than from a list kept by hand, means a new root cannot escape the gate.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gateway.codec.schemas import ROOT_TYPE, SCHEMA_DIR, read_named_types

__all__ = ["SchemaRoot", "schema_roots"]


@dataclass(frozen=True, slots=True)
class SchemaRoot:
    """One root type and the folder its named types live in.

    Attributes:
        root: Full name of the root record.
        schema_dir: Its folder.
    """

    root: str
    schema_dir: Path

    @property
    def short(self) -> str:
        """The root's name without its namespace (its history folder's name)."""
        return self.root.rpartition(".")[2]


def schema_roots(schema_dir: Path = SCHEMA_DIR) -> list[SchemaRoot]:
    """The canonical event's root, then each subfolder's roots (folders and roots in name order).

    Raises:
        ValueError: Two roots share a short name (their histories would share a folder).
    """
    roots = [SchemaRoot(ROOT_TYPE, schema_dir)]
    for folder in sorted(p for p in schema_dir.iterdir() if p.is_dir() and any(p.glob("*.avsc"))):
        types = read_named_types(folder)
        used = {ref for t in types.values() for ref in _references(t, t.get("namespace", ""))}
        roots += [
            SchemaRoot(name, folder) for name, t in sorted(types.items()) if t["type"] == "record" and name not in used
        ]
    shorts = [r.short for r in roots]
    clash = sorted({s for s in shorts if shorts.count(s) > 1})
    if clash:
        raise ValueError(f"schema roots share a short name, so their histories would mix: {clash}")
    return roots


def _references(t: Any, namespace: str) -> Iterator[str]:
    """Full names of the named types a schema fragment refers to."""
    if isinstance(t, str):
        if "." in t:
            yield t
        elif t not in {"null", "boolean", "int", "long", "float", "double", "bytes", "string"}:
            yield f"{namespace}.{t}"
    elif isinstance(t, list):
        for member in t:
            yield from _references(member, namespace)
    elif isinstance(t, dict):
        kind = t.get("type")
        namespace = t.get("namespace", namespace)
        if kind == "record":
            for f in t.get("fields", ()):
                yield from _references(f["type"], namespace)
        elif kind == "array":
            yield from _references(t["items"], namespace)
        elif kind == "map":
            yield from _references(t["values"], namespace)
        elif kind not in ("enum", "fixed"):
            yield from _references(kind, namespace)
