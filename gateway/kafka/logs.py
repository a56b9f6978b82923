"""librdkafka's own log lines, through Python logging: warnings and errors only, each repeat shown once a window.

Without a ``logger`` librdkafka writes every line to stderr itself: against a broker that is down, one
``Connect ... failed`` line per client and reconnect, a thousand a minute. Every client configuration the layer
builds (`gateway.kafka.settings.KafkaSettings.to_librdkafka`) carries a `LibrdkafkaLog` instead: lines reach the
``gateway.kafka.librdkafka`` logger, at WARNING and above, and a line that only differs from an earlier one by its
numbers is dropped for ``repeat_window_s``. The lines are served by the client's ``poll``.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable

__all__ = ["LIBRDKAFKA_LOG_LEVEL", "LibrdkafkaLog", "RepeatFilter"]

LIBRDKAFKA_LOG_LEVEL = 4
"""librdkafka's ``log_level`` (syslog scale): 4 is warning, so informational lines are not even produced."""

_NUMBERS = re.compile(r"\d+")

# init_transactions retries by itself while the coordinator finishes the previous producer's transaction with the same
# id (CONCURRENT_TRANSACTIONS: it was left open by a process that ended without aborting) or loads its transaction log
# (COORDINATOR_LOAD_IN_PROGRESS, after a broker start). librdkafka calls that a warning; it is expected and passes.
_EXPECTED_GETPID = re.compile(r"^GETPID .*(concurrent operation|Coordinator load in progress).*: retrying$")
_GETPID_WHY = "expected after a restart: the coordinator is finishing the previous transaction of this id; retried"


class RepeatFilter:
    """Says whether a line is new: the first of its kind in a window passes, repeats within it do not.

    Lines are of one kind when they differ only by numbers (timestamps, durations, counts, ports stay apart only in
    the first line). State is per instance: one per client, nothing global.

    Args:
        window_s: How long a kind of line stays quiet after it was shown.
        clock: Monotonic seconds; tests pass their own.
    """

    def __init__(self, window_s: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._window_s = window_s
        self._clock = clock
        self._shown: dict[str, float] = {}

    def first(self, line: str) -> bool:
        """Whether ``line`` should be shown now (and remember that it was)."""
        kind = _NUMBERS.sub("#", line)
        now = self._clock()
        shown = self._shown.get(kind)
        if shown is not None and now - shown < self._window_s:
            return False
        self._shown[kind] = now
        return True


class LibrdkafkaLog:
    """What confluent-kafka's ``logger`` setting takes (an object with ``log``), forwarding to Python logging.

    Args:
        logger: Where lines go; ``gateway.kafka.librdkafka`` by default.
        repeats: Drops repeated lines; a new `RepeatFilter` by default.
    """

    def __init__(self, logger: logging.Logger | None = None, repeats: RepeatFilter | None = None) -> None:
        self._logger = logger or logging.getLogger("gateway.kafka.librdkafka")
        self._repeats = repeats or RepeatFilter()

    def log(self, level: int, msg: str, *args: object) -> None:
        """Called by confluent-kafka with a Python level and ``"%s [%s] %s", facility, client, text``."""
        if level < logging.WARNING:
            return
        line = msg % args if args else msg
        if not self._repeats.first(line):
            return
        if _EXPECTED_GETPID.search(line):
            self._logger.info("librdkafka: %s (%s)", line, _GETPID_WHY)
            return
        self._logger.log(level, "librdkafka: %s", line)

    def __repr__(self) -> str:
        return f"LibrdkafkaLog({self._logger.name})"
