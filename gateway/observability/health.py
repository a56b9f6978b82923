"""Readiness: the named conditions a process needs before it does its work, each met or not with a reason."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping

__all__ = ["Readiness"]


class Readiness:
    """Conditions of a process (``partitions``, ``broker``, ``store`` ...), set from the loop, read by ``/readyz``.

    A condition is unmet from the moment it is required until it is reported met; the process is ready when every
    required condition is met, and not before the loop has required any (it is still starting). Thread-safe: the
    loop writes, the HTTP server reads.

    Args:
        on_change: Called with the new overall readiness whenever it changes (the ``gateway_ready`` gauge).
    """

    def __init__(self, on_change: Callable[[bool], None] | None = None) -> None:
        self._lock = threading.Lock()
        self._unmet: dict[str, str | None] = {}
        self._on_change = on_change

    def require(self, name: str, reason: str) -> None:
        """Add a condition, unmet for ``reason`` until `met` is called."""
        self._set(name, reason)

    def met(self, name: str) -> None:
        """A condition holds now."""
        self._set(name, None)

    def unmet(self, name: str, reason: str) -> None:
        """A condition does not hold (any more), for ``reason``."""
        self._set(name, reason)

    def status(self) -> tuple[bool, Mapping[str, str]]:
        """Whether the process is ready, and the reason of each unmet condition."""
        with self._lock:
            if not self._unmet:
                return (False, {"process": "starting (no condition reported yet)"})
            reasons = {name: reason for name, reason in self._unmet.items() if reason is not None}
            return (not reasons, reasons)

    def _set(self, name: str, reason: str | None) -> None:
        with self._lock:
            before = bool(self._unmet) and all(r is None for r in self._unmet.values())
            self._unmet[name] = reason
            after = all(r is None for r in self._unmet.values())
        if before != after and self._on_change is not None:
            self._on_change(after)
