"""Released versions of the canonical schema, as the codec reads them: snapshots under ``schemas/history``.

Reading the released versions belongs to the codec layer: every reader needs them to resolve events written with
an older schema. Writing and checking them (freezing, compatibility) is ``gateway.evolution``'s, which imports
the reading side from here, so that the codec does not depend on the evolution tooling.
"""

from __future__ import annotations

import json
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastavro.schema import parse_schema

from gateway.codec.schemas import ROOT_TYPE, SCHEMA_DIR

HISTORY_DIR = SCHEMA_DIR.parent / "history"

_SNAPSHOT_NAME = re.compile(r"v([1-9][0-9]*)\.avsc")


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One released version of a root type.

    Attributes:
        version: The release number, 1 for the first.
        path: The snapshot file.
        schema: The self-contained schema as JSON values.
    """

    version: int
    path: Path
    schema: dict[str, Any]


def snapshot_dir(history_dir: Path = HISTORY_DIR, root: str = ROOT_TYPE) -> Path:
    """The folder holding a root type's snapshots: ``<history>/<short name>/``."""
    return history_dir / root.rpartition(".")[2]


def _snapshot_paths(folder: Path) -> list[tuple[int, Path]]:
    found = []
    for path in sorted(folder.glob("*.avsc")) if folder.is_dir() else ():
        match = _SNAPSHOT_NAME.fullmatch(path.name)
        if match is None:
            raise ValueError(f"{path}: snapshots are named v<N>.avsc")
        found.append((int(match[1]), path))
    return sorted(found)


def load_history(history_dir: Path = HISTORY_DIR, root: str = ROOT_TYPE) -> list[Snapshot]:
    """Every released version of ``root``, oldest first; empty when nothing was released yet.

    Raises:
        ValueError: A file in the folder is not named ``v<N>.avsc`` or is not JSON.
    """
    return [
        Snapshot(version, path, json.loads(path.read_text(encoding="utf-8")))
        for version, path in _snapshot_paths(snapshot_dir(history_dir, root))
    ]


def _parsed(schema: dict[str, Any]) -> dict[str, Any]:
    parsed = parse_schema(schema)
    if not isinstance(parsed, dict):
        raise TypeError("a released snapshot is a named record")
    return parsed


class _SnapshotCache:
    """Released schemas by the identity of their files (path, size, modification time), at most ``size`` sets.

    Bounded and keyed by what is on disk, so a version frozen while the process runs is read at the next lookup.
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[Any, ...], tuple[dict[str, Any], ...]] = OrderedDict()

    def get(self, history_dir: Path, root: str) -> tuple[dict[str, Any], ...]:
        paths = _snapshot_paths(snapshot_dir(history_dir, root))
        key = tuple((str(p), (s := p.stat()).st_size, s.st_mtime_ns) for _, p in paths)
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
                return found
        schemas = tuple(_parsed(json.loads(p.read_text(encoding="utf-8"))) for _, p in paths)
        with self._lock:
            self._entries[key] = schemas
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
        return schemas


# The one process-wide cache of this module: bounded (a few history folders), keyed by file identity.
_RELEASED = _SnapshotCache(size=8)


def released_schemas(history_dir: Path = HISTORY_DIR, root: str = ROOT_TYPE) -> tuple[dict[str, Any], ...]:
    """Every released version of ``root``, parsed for fastavro, oldest first; read and parsed once per set of files.

    The parsed schemas are shared between callers, as ``canonical_schema()`` is: treat them as read-only.
    """
    return _RELEASED.get(history_dir, root)
