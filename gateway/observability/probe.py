"""The broker probe: a daemon thread that reads the consumer lag and tells whether the broker answers.

It has a consumer of its own (never subscribed, so it joins no group) and, every interval, reads the group's
committed offsets and the high watermarks of the partitions assigned to this process. Lag is measured against what
the group committed, the durable position: a batch in flight is not progress yet. Reading it from another consumer
keeps the processing loop free of monitoring calls. Each reading also sets the readiness condition ``broker``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any, Self

from confluent_kafka import Consumer, KafkaException, TopicPartition

from gateway.observability.health import Readiness
from gateway.observability.metrics import NULL_METRICS, Metrics

__all__ = ["BrokerProbe"]

_log = logging.getLogger(__name__)


class BrokerProbe:
    """Reads lag and broker reachability every ``interval_s`` in a daemon thread; use as a context manager.

    Args:
        config: librdkafka configuration of the connection (``KafkaSettings.to_librdkafka()``).
        metrics: Gets ``gateway_consumer_lag`` per partition.
        readiness: Gets the condition ``broker``; None leaves readiness alone.
        group_id: The consumer group whose committed offsets count; None only checks the broker.
        partitions: The (topic, partition) pairs assigned to this process now (`BatchObserver.partitions`).
        on_total: Called with the summed lag after each reading (the delivery worker's pending outbox).
        interval_s: Seconds between readings.
        timeout_s: Limit of each broker call.
    """

    def __init__(
        self,
        config: Mapping[str, Any],
        *,
        metrics: Metrics = NULL_METRICS,
        readiness: Readiness | None = None,
        group_id: str | None = None,
        partitions: Callable[[], list[tuple[str, int]]] = list,
        on_total: Callable[[int], None] | None = None,
        interval_s: float = 15.0,
        timeout_s: float = 5.0,
    ) -> None:
        self._config = {
            **config,
            "group.id": group_id or "gateway-observability-probe",
            "enable.auto.commit": False,
            "enable.partition.eof": False,
        }
        self._has_group = group_id is not None
        self._metrics = metrics
        self._readiness = readiness
        self._partitions = partitions
        self._on_total = on_total
        self._interval_s = interval_s
        self._timeout_s = timeout_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="broker-probe", daemon=True)
        self._reported: set[tuple[str, int]] = set()
        if readiness is not None:
            readiness.require("broker", "broker not reached yet")

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join(timeout=self._timeout_s * 3)

    def _loop(self) -> None:
        consumer = Consumer(self._config)
        try:
            while True:
                self.read(consumer)
                if self._stop.wait(self._interval_s):
                    return
        finally:
            consumer.close()

    def read(self, consumer: Consumer) -> None:
        """One reading: broker reachability, then the lag of each assigned partition."""
        try:
            consumer.list_topics(timeout=self._timeout_s)
            lags = self._lags(consumer) if self._has_group else {}
        except KafkaException as exc:
            if self._readiness is not None:
                self._readiness.unmet("broker", f"broker unreachable: {exc.args[0] if exc.args else exc}")
            return
        if self._readiness is not None:
            self._readiness.met("broker")
        for slot in self._reported - lags.keys():
            self._metrics.lag(*slot, None)
        for (topic, partition), lag in lags.items():
            self._metrics.lag(topic, partition, lag)
        self._reported = set(lags)
        if self._on_total is not None and self._has_group:
            self._on_total(sum(lags.values()))

    def _lags(self, consumer: Consumer) -> dict[tuple[str, int], int]:
        wanted = [TopicPartition(topic, partition) for topic, partition in self._partitions()]
        if not wanted:
            return {}
        lags: dict[tuple[str, int], int] = {}
        for tp in consumer.committed(wanted, timeout=self._timeout_s):
            low, high = consumer.get_watermark_offsets(tp, timeout=self._timeout_s, cached=False)
            # No committed offset yet: everything still in the partition is ahead of the group.
            position = tp.offset if tp.offset >= 0 else low
            lags[(tp.topic, tp.partition)] = max(high - position, 0)
        return lags
