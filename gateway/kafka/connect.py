"""Waiting for the cluster at start-up: one line per interval while it is away, then a clear error at a deadline.

A command's first Kafka call goes through `wait_for_broker`, so a broker that is down gives ``waiting for Kafka``
lines (``KafkaSettings.connect_log_interval_s`` apart) and, after ``KafkaSettings.connect_timeout_s``, a
`BrokerUnreachableError`: a ``FatalError`` the CLI prints as one line with exit code
`BrokerUnreachableError.exit_code`. Outages after start-up are the retry policies' business (``gateway.kafka.retry``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient

from gateway.errors import FatalError
from gateway.kafka.refusal import connection_refusal
from gateway.kafka.retry import error_of
from gateway.kafka.settings import KafkaSettings, LibrdkafkaConfig

__all__ = ["BrokerUnreachableError", "wait_for_broker"]

_log = logging.getLogger(__name__)

# One metadata request waits at most this long, so the deadline and the interval lines are kept within a few seconds;
# the first one less, so that a broker that is down is reported at once.
_PROBE_S = 5.0
_FIRST_PROBE_S = 1.0


class BrokerUnreachableError(FatalError):
    """The cluster did not answer within ``kafka.connect_timeout_s``; nothing was done. Try again later.

    Attributes:
        bootstrap_servers: Where the gateway looked.
        waited_s: How long it waited.
        reason: The last error librdkafka gave.
    """

    exit_code = 69
    """``EX_UNAVAILABLE`` (sysexits.h): a supervisor may retry later; configuration errors exit 1."""

    def __init__(self, bootstrap_servers: str, waited_s: float, reason: str) -> None:
        super().__init__(
            f"Kafka at {bootstrap_servers} unreachable for {waited_s:.0f} s (kafka.connect_timeout_s); "
            f"last error: {reason}"
        )
        self.bootstrap_servers = bootstrap_servers
        self.waited_s = waited_s
        self.reason = reason


def wait_for_broker(
    kafka: KafkaSettings,
    *,
    admin: AdminClient | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Return once the cluster answers a metadata request; log a line per interval while it does not.

    Args:
        kafka: Where to connect, the deadline (``connect_timeout_s``) and the interval (``connect_log_interval_s``).
        admin: The client to ask; a new one from ``kafka`` by default.
        clock: Monotonic seconds; tests pass their own.
        sleep: How to pause between probes that failed at once (connection refused); tests pass a no-op.

    Raises:
        BrokerUnreachableError: No answer within ``kafka.connect_timeout_s``.
        BrokerRefusedConnectionError: The broker refused this client (authentication, TLS, a PLAINTEXT client at a
            TLS listener): at once, since waiting will not help.
    """
    # The precise cause of a refusal (bad credentials, untrusted certificate) reaches only the error callback.
    errors: list[KafkaError] = []
    # Its lines are this function's to write: librdkafka's own (a FAIL line per attempt, naming the same refusal)
    # would repeat what the one error line says.
    config: LibrdkafkaConfig = {**kafka.to_librdkafka(), "error_cb": errors.append, "log_level": 0}
    client = admin if admin is not None else AdminClient(config)
    started = clock()
    deadline = started + kafka.connect_timeout_s
    next_line = started
    failed = False  # not the clock: two readings of a real monotonic clock are never equal
    while True:
        probe_started = clock()
        remaining = deadline - probe_started
        try:
            probe_s = _PROBE_S if failed else _FIRST_PROBE_S
            client.list_topics(timeout=max(0.1, min(probe_s, remaining)))
            if failed:
                _log.warning("Kafka at %s reachable again", kafka.bootstrap_servers)
            return
        except KafkaException as exc:
            failed = True
            reason = _reason(error_of(exc))
            refused = None
            if admin is None:
                client.poll(0)  # serves the error callback
                refused = connection_refusal(kafka, errors)
            if refused is not None:
                raise refused from exc
        now = clock()
        if now >= deadline:
            raise BrokerUnreachableError(kafka.bootstrap_servers, now - started, reason)
        if now >= next_line:
            _log.warning(
                "waiting for Kafka at %s (%s); giving up in %.0f s",
                kafka.bootstrap_servers,
                reason,
                deadline - now,
            )
            next_line = now + kafka.connect_log_interval_s
        # A refused connection fails at once; don't spin.
        sleep(max(0.0, min(1.0, deadline - now) - (now - probe_started)))


def _reason(error: KafkaError) -> str:
    return f"{error.name()}: {error.str()}"
