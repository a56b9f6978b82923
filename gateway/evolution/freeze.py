"""Release the current schema as the next snapshot, only when it passes the gate and has changed."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from gateway.codec.schemas import ROOT_TYPE, SCHEMA_DIR
from gateway.evolution.compat import DEFAULT_DATUMS, CompatReport, RegistryCheck, check
from gateway.evolution.history import HISTORY_DIR, expand, fingerprint, load_history, write_snapshot

FreezeStatus = Literal["written", "unchanged", "incompatible"]


@dataclass(frozen=True, slots=True)
class FreezeResult:
    """What ``freeze`` did.

    Attributes:
        status: ``written`` (a new version), ``unchanged`` (same canonical form as the latest version; nothing
            written) or ``incompatible`` (refused; see ``report``).
        version: The version written, or the latest released one (None if there is none).
        path: The snapshot written, or None.
        report: The compatibility report the decision rests on.
    """

    status: FreezeStatus
    version: int | None
    path: Path | None
    report: CompatReport


def freeze(
    schema_dir: Path = SCHEMA_DIR,
    history_dir: Path = HISTORY_DIR,
    *,
    root: str = ROOT_TYPE,
    datums: int = DEFAULT_DATUMS,
    registry_check: RegistryCheck | None = None,
) -> FreezeResult:
    """Write the current schema as version N+1 if it passes ``check`` and its fingerprint differs from version N.

    Versions are told apart by Parsing Canonical Form, as on the wire: a change of docs or defaults alone keeps the
    fingerprint, so it is not a new version (readers find writer schemas by fingerprint).

    Args:
        schema_dir: The current ``.avsc`` files.
        history_dir: Released versions; the new snapshot is written here.
        root: Full name of the root type.
        datums: Datums per writer schema for the resolution check.
        registry_check: Optionally also ask a schema registry (see ``check``).
    """
    report = check(schema_dir, history_dir, root=root, datums=datums, registry_check=registry_check)
    history = load_history(history_dir, root)
    latest = history[-1] if history else None
    if not report.ok:
        return FreezeResult("incompatible", latest.version if latest else None, None, report)
    current = expand(schema_dir, root)
    if latest is not None and fingerprint(latest.schema) == report.fingerprint:
        return FreezeResult("unchanged", latest.version, None, report)
    version = latest.version + 1 if latest else 1
    path = write_snapshot(current, version, history_dir, root)
    return FreezeResult("written", version, path, report)
