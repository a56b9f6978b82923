"""One process's observability, made at the edge and handed to its loop: metrics, readiness, the HTTP server.

`observe_process` is what a command calls: it makes the process's own registry and `PrometheusMetrics`, its
`Readiness`, serves them when a port is configured, and yields an `Observation` for the loop. The loop makes its
`BatchObserver` and `BrokerProbe` from it. `Observation()` observes nothing and is every loop's default.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry

from gateway.observability.health import Readiness
from gateway.observability.metrics import NULL_METRICS, Metrics, PrometheusMetrics
from gateway.observability.observer import BatchObserver, Participant
from gateway.observability.probe import BrokerProbe
from gateway.observability.server import ObservabilityServer
from gateway.observability.settings import ObservabilitySettings

__all__ = ["RETRY_LOGGER", "Observation", "observe_process"]

RETRY_LOGGER = "gateway.kafka.retry"
"""The logger of the Kafka retry policy: each retry is one warning there, and counts in ``gateway_kafka_retries``."""

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Observation:
    """What a loop reports to. The default observes nothing and costs nothing.

    Attributes:
        metrics: The process's metrics.
        readiness: The process's readiness conditions; None when nothing reads them.
        lag_interval_s: Seconds between two lag readings.
    """

    metrics: Metrics = NULL_METRICS
    readiness: Readiness | None = None
    lag_interval_s: float = 15.0

    def observer(self, inner: Participant | None = None, *, alert_header: str | None = None) -> BatchObserver:
        """A `BatchObserver` of a transactional loop, around its own participant."""
        return BatchObserver(self.metrics, inner, self.readiness, alert_header=alert_header)

    def probe(
        self,
        config: Mapping[str, Any],
        *,
        group_id: str | None = None,
        partitions: Callable[[], list[tuple[str, int]]] = list,
        on_total: Callable[[int], None] | None = None,
    ) -> AbstractContextManager[object]:
        """A running `BrokerProbe` while the block lasts; nothing when nothing reads readiness."""
        if self.readiness is None:
            return nullcontext()
        return BrokerProbe(
            config,
            metrics=self.metrics,
            readiness=self.readiness,
            group_id=group_id,
            partitions=partitions,
            on_total=on_total,
            interval_s=self.lag_interval_s,
        )


class _RetryCounter(logging.Handler):
    """Counts the retry policy's warnings (one per retry) without changing the policy or where it logs."""

    def __init__(self, metrics: Metrics) -> None:
        super().__init__(logging.WARNING)
        self._metrics = metrics

    def emit(self, record: logging.LogRecord) -> None:
        self._metrics.kafka_retry()


@contextmanager
def observe_process(settings: ObservabilitySettings, service: str) -> Iterator[Observation]:
    """The process's observation; with ``settings.metrics_port`` set, served on it until the block ends.

    Args:
        settings: Port, host and lag interval.
        service: The process's service, the ``service`` label of its metrics.
    """
    if settings.metrics_port is None:
        yield Observation(lag_interval_s=settings.lag_interval_s)
        return
    registry = CollectorRegistry(auto_describe=True)
    metrics = PrometheusMetrics(registry, service)
    readiness = Readiness(on_change=metrics.set_ready)
    retries = _RetryCounter(metrics)
    retry_log = logging.getLogger(RETRY_LOGGER)
    retry_log.addHandler(retries)
    try:
        with ObservabilityServer(registry, readiness, host=settings.metrics_host, port=settings.metrics_port) as http:
            _log.info("metrics, health and readiness on http://%s:%d/", settings.metrics_host, http.port)
            yield Observation(metrics, readiness, settings.lag_interval_s)
    finally:
        retry_log.removeHandler(retries)
