"""The monitor's clocks: what time it is, as far as deadlines go.

The monitor's time in a partition is the later of its event time (the latest ``occurred_at`` it has read) and the
clock's time. The wall clock makes a period that ended while the gateway was down, or while no record arrived, fire
on the next tick; the event-time clock adds nothing, for replays of history where the wall clock would make every
old period look expired before its departure was read; tests move a manual or file clock themselves.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Protocol

from gateway.errors import ConfigError

__all__ = ["Clock", "EventTimeClock", "FileClock", "ManualClock", "WallClock", "clock_from_spec"]


class Clock(Protocol):
    """A source of the current time for deadlines."""

    def now_ms(self) -> int | None:
        """Milliseconds since the epoch, or None when only event time counts."""
        ...


class WallClock:
    """The machine's clock."""

    def now_ms(self) -> int | None:
        """The current time."""
        return int(time.time() * 1000)


class EventTimeClock:
    """No clock at all: only the events' own times move deadlines forward (replays, demos of past data)."""

    def now_ms(self) -> int | None:
        """Always None."""
        return None


class ManualClock:
    """A clock a test sets."""

    def __init__(self, now_ms: int | None = None) -> None:
        self._now = now_ms

    def set(self, now_ms: int | None) -> None:
        """Move the clock (or stop it with None)."""
        self._now = now_ms

    def now_ms(self) -> int | None:
        """The time set last."""
        return self._now


class FileClock:
    """A clock read from a file holding milliseconds since the epoch, so a test can move the clock of a process."""

    def __init__(self, path: Path) -> None:
        self._path = path

    def now_ms(self) -> int | None:
        """The file's number, or None while the file is missing or empty."""
        try:
            text = self._path.read_text(encoding="ascii").strip()
        except FileNotFoundError:
            return None
        return int(text) if text else None


def clock_from_spec(spec: str) -> Clock:
    """``wall``, ``event`` or ``file:<path>``.

    Raises:
        ConfigError: Any other text.
    """
    if spec == "wall":
        return WallClock()
    if spec == "event":
        return EventTimeClock()
    if spec.startswith("file:") and len(spec) > len("file:"):
        return FileClock(Path(spec[len("file:") :]))
    raise ConfigError(f"unknown clock {spec!r}: use wall, event or file:<path>")
