"""Schema evolution: released snapshots of the canonical schema and the FULL_TRANSITIVE compatibility gate.

``check`` proves the current schemas compatible with every snapshot in ``schemas/history`` both statically (Apache
avro's checker) and by resolving random data (fastavro); ``freeze`` releases the next version only when they are.
"""

from gateway.evolution.compat import CompatReport, Finding, RegistryCheck, check
from gateway.evolution.freeze import FreezeResult, freeze
from gateway.evolution.history import HISTORY_DIR, Snapshot, expand, fingerprint, load_history

__all__ = [
    "HISTORY_DIR",
    "CompatReport",
    "Finding",
    "FreezeResult",
    "RegistryCheck",
    "Snapshot",
    "check",
    "expand",
    "fingerprint",
    "freeze",
    "load_history",
]
