"""The broker probe's reading: lag against the committed offsets, reachability into readiness."""

from __future__ import annotations

from confluent_kafka import KafkaError, KafkaException, TopicPartition
from prometheus_client import CollectorRegistry

from gateway.observability import BrokerProbe, PrometheusMetrics, Readiness


class _Consumer:
    """A consumer's answers: committed offsets and watermarks, or a broker that is away."""

    def __init__(self, committed: dict[tuple[str, int], int], high: int, *, down: bool = False) -> None:
        self.committed_offsets, self.high, self.down = committed, high, down

    def list_topics(self, timeout: float) -> object:
        if self.down:
            raise KafkaException(KafkaError(KafkaError._TRANSPORT, "all brokers down"))
        return object()

    def committed(self, partitions: list[TopicPartition], timeout: float) -> list[TopicPartition]:
        return [
            TopicPartition(tp.topic, tp.partition, self.committed_offsets.get((tp.topic, tp.partition), -1001))
            for tp in partitions
        ]

    def get_watermark_offsets(self, tp: TopicPartition, timeout: float, cached: bool) -> tuple[int, int]:
        return (5, self.high)


def test_lag_per_assigned_partition_and_pending_total() -> None:
    registry, readiness = CollectorRegistry(), Readiness()
    totals: list[int] = []
    assigned = [("in", 0), ("in", 1)]
    probe = BrokerProbe(
        {},
        metrics=PrometheusMetrics(registry, "deliver-sis"),
        readiness=readiness,
        group_id="g",
        partitions=lambda: assigned,
        on_total=totals.append,
    )
    assert readiness.status() == (False, {"broker": "broker not reached yet"})
    probe.read(_Consumer({("in", 0): 90}, high=100))  # type: ignore[arg-type]

    def lag(partition: int) -> float | None:
        labels = {"service": "deliver-sis", "topic": "in", "partition": str(partition)}
        return registry.get_sample_value("gateway_consumer_lag", labels)

    assert (lag(0), lag(1)) == (10, 95)  # partition 1 has no committed offset: all from the low watermark
    assert totals == [105]
    assert readiness.status() == (True, {})

    assigned.remove(("in", 1))
    probe.read(_Consumer({("in", 0): 100}, high=100))  # type: ignore[arg-type]
    assert (lag(0), lag(1)) == (0, None)

    probe.read(_Consumer({}, high=0, down=True))  # type: ignore[arg-type]
    ready, reasons = readiness.status()
    assert not ready
    assert reasons["broker"].startswith("broker unreachable")
