"""BatchObserver: a batch counts once, when its transaction commits; assignment drives readiness."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from confluent_kafka import TopicPartition
from prometheus_client import CollectorRegistry

from gateway.kafka.producer import OutboundMessage
from gateway.observability import BatchObserver, OutcomeTally, PrometheusMetrics, Readiness
from gateway.observability.observer import ALERT_RULE_HEADER


class _Message:
    """What the observer reads of a consumed message: its timestamp."""

    def __init__(self, timestamp_ms: int) -> None:
        self._ts = timestamp_ms

    def timestamp(self) -> tuple[int, int]:
        return (1, self._ts)


class _Inner:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def assigned(self, partitions: Sequence[TopicPartition]) -> None:
        self.calls.append("assigned")

    def revoked(self, partitions: Sequence[TopicPartition]) -> None:
        self.calls.append("revoked")

    def committed(self, delivered: Mapping[tuple[str, int], int]) -> None:
        self.calls.append("committed")

    def aborted(self) -> None:
        self.calls.append("aborted")


def _setup(**kwargs: Any) -> tuple[CollectorRegistry, BatchObserver, _Inner, Readiness]:
    registry = CollectorRegistry()
    readiness = Readiness()
    inner = _Inner()
    observer = BatchObserver(PrometheusMetrics(registry, "svc"), inner, readiness, clock=lambda: 100.0, **kwargs)
    return registry, observer, inner, readiness


def _transform(observer: BatchObserver) -> Any:
    def transform(batch: list[Any]) -> list[OutboundMessage]:
        observer.stage(OutcomeTally("c", records=len(batch)))
        return [OutboundMessage("out", b"k", b"v", ((ALERT_RULE_HEADER, b"SM-2"),)) for _ in batch]

    return observer.wrap(transform)


def test_an_aborted_and_redone_batch_counts_once() -> None:
    registry, observer, inner, _ = _setup(alert_header=ALERT_RULE_HEADER)
    transform = _transform(observer)
    batch: list[Any] = [_Message(90_000), _Message(95_000)]
    transform(batch)
    observer.aborted()
    transform(batch)
    observer.committed({})

    def value(name: str, **labels: str) -> float | None:
        return registry.get_sample_value(name, labels)

    assert value("gateway_records_in_total", connector="c") == 2
    assert value("gateway_input_records_total", service="svc") == 2
    assert value("gateway_output_messages_total", service="svc", topic="out") == 2
    assert value("gateway_alerts_total", rule="SM-2") == 2
    assert value("gateway_transactions_total", service="svc", result="aborted") == 1
    assert value("gateway_transactions_total", service="svc", result="committed") == 1
    assert value("gateway_end_to_end_seconds_sum", service="svc") == 10.0  # 100 s now - the oldest at 90 s
    assert inner.calls == ["aborted", "committed"]


def test_an_idle_tick_that_produced_nothing_is_not_an_abort() -> None:
    registry, observer, _, _ = _setup()
    observer.wrap(lambda batch: [])([])
    observer.aborted()  # the processor aborts the empty tick transaction
    assert registry.get_sample_value("gateway_transactions_total", {"service": "svc", "result": "aborted"}) == 0


def test_alert_headers_are_not_read_unless_asked() -> None:
    registry, observer, _, _ = _setup()
    _transform(observer)([_Message(1)])
    observer.committed({})
    assert registry.get_sample_value("gateway_alerts_total", {"rule": "SM-2"}) is None


def test_readiness_follows_assignment_after_the_inner_restore() -> None:
    _, observer, inner, readiness = _setup()
    readiness.met("broker")
    assert readiness.status() == (
        False,
        {"partitions": "waiting for the consumer group to assign partitions", "store": "state not restored yet"},
    )
    observer.assigned([TopicPartition("in", 0), TopicPartition("in", 1)])
    assert readiness.status() == (True, {})
    assert observer.partitions() == [("in", 0), ("in", 1)]
    observer.revoked([TopicPartition("in", 0)])
    assert readiness.status() == (True, {})
    observer.revoked([TopicPartition("in", 1)])
    ready, reasons = readiness.status()
    assert not ready
    assert "partitions" in reasons
    assert inner.calls == ["assigned", "revoked", "revoked"]
