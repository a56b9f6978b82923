"""The gateway's metrics: what the loops report (`Metrics`), a no-op default and the Prometheus implementation.

Loops report per batch, never per record, and only what their transaction committed (a batch that is aborted and
redone counts once): `BatchObserver` holds a batch's figures until the commit. Every metric is declared once in
`METRICS` (name, type, labels, help); the README table, the dashboards and the alert rules are checked against it.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal, Protocol

from prometheus_client import CollectorRegistry
from prometheus_client import Counter as PromCounter
from prometheus_client import Gauge as PromGauge
from prometheus_client import Histogram as PromHistogram

__all__ = [
    "METRICS",
    "NULL_METRICS",
    "MAX_LABEL_SETS",
    "MetricSpec",
    "Metrics",
    "NullMetrics",
    "OutcomeTally",
    "PrometheusMetrics",
    "TransactionResult",
]

TransactionResult = Literal["committed", "aborted"]

MAX_LABEL_SETS = 500
"""Most label sets one metric keeps; later ones are counted under ``other`` (bounded cardinality, whatever comes)."""

_OTHER = "other"
_MAX_LABEL_CHARS = 120

# Batches take milliseconds to a minute (transaction.timeout bounds them); end-to-end spans seconds to hours of lag.
_BATCH_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
_E2E_BUCKETS = (0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0, 1800.0, 3600.0, 14_400.0)


@dataclass(frozen=True, slots=True)
class MetricSpec:
    """One metric of the gateway.

    Attributes:
        name: Its Prometheus name (counters without the ``_total`` suffix the exposition adds).
        kind: ``counter``, ``gauge`` or ``histogram``.
        labels: Its label names.
        help: What it measures.
        processes: The commands that report it.
    """

    name: str
    kind: Literal["counter", "gauge", "histogram"]
    labels: tuple[str, ...]
    help: str
    processes: str

    @property
    def exposed(self) -> tuple[str, ...]:
        """The series names a scrape shows for it."""
        if self.kind == "counter":
            return (f"{self.name}_total",)
        if self.kind == "histogram":
            return tuple(f"{self.name}{s}" for s in ("_bucket", "_sum", "_count"))
        return (self.name,)


_INGEST = "run, watch, ingest"
_LOOPS = "run, detect, outbound, deliver"

METRICS: tuple[MetricSpec, ...] = (
    MetricSpec("gateway_records_in", "counter", ("connector",), "Records read whose outcome committed.", _INGEST),
    MetricSpec("gateway_events_out", "counter", ("connector", "event_type"), "Canonical events committed.", _INGEST),
    MetricSpec(
        "gateway_dead_letters",
        "counter",
        ("connector", "stage", "error_class", "rule"),
        "Dead letters committed, by stage, error class and first failed rule (empty if none).",
        _INGEST,
    ),
    MetricSpec(
        "gateway_transactions",
        "counter",
        ("service", "result"),
        "Kafka transactions committed or aborted (an aborted batch is redone).",
        f"{_LOOPS}, watch, ingest",
    ),
    MetricSpec(
        "gateway_last_commit_timestamp_seconds",
        "gauge",
        ("service",),
        "Unix time of the last committed transaction.",
        f"{_LOOPS}, watch, ingest",
    ),
    MetricSpec("gateway_input_records", "counter", ("service",), "Input messages whose offsets committed.", _LOOPS),
    MetricSpec(
        "gateway_output_messages",
        "counter",
        ("service", "topic"),
        "Messages committed, by topic (events, dead letters, alerts, outbox messages, changelog records).",
        _LOOPS,
    ),
    MetricSpec(
        "gateway_batch_duration_seconds",
        "histogram",
        ("service",),
        "Time from a batch's start to its commit.",
        f"{_LOOPS}, watch, ingest",
    ),
    MetricSpec(
        "gateway_end_to_end_seconds",
        "histogram",
        ("service",),
        "Age at commit of each batch's oldest input message (its Kafka timestamp to the commit).",
        _LOOPS,
    ),
    MetricSpec(
        "gateway_consumer_lag",
        "gauge",
        ("service", "topic", "partition"),
        "Messages after the group's committed offset, per partition assigned to this process.",
        _LOOPS,
    ),
    MetricSpec(
        "gateway_kafka_retries",
        "counter",
        ("service",),
        "Kafka calls retried after a transient failure (produce, flush, transaction calls).",
        f"{_LOOPS}, watch, ingest",
    ),
    MetricSpec("gateway_alerts", "counter", ("rule",), "Secondary-movement alerts committed, by rule.", "detect"),
    MetricSpec(
        "gateway_outbox_delivered",
        "counter",
        ("target", "outcome"),
        "Outbox messages finished: delivered, duplicate, rejected (dead letter), undecodable (dead letter).",
        "deliver",
    ),
    MetricSpec(
        "gateway_outbox_pending",
        "gauge",
        ("target",),
        "Outbox messages not yet delivered (the worker's lag).",
        "deliver",
    ),
    MetricSpec("gateway_ready", "gauge", ("service",), "1 when /readyz answers 200, else 0.", "all"),
)
"""Every metric the gateway exposes."""


@dataclass(slots=True)
class OutcomeTally:
    """What a batch of records became, for one connector: filled per batch, reported once it committed.

    Attributes:
        connector: The connector's name.
        records: Records accounted for.
        events: Events, by event type.
        dead_letters: Dead letters, by (stage, error class, first failed rule or "").
    """

    connector: str
    records: int = 0
    events: Counter[str] = field(default_factory=Counter)
    dead_letters: Counter[tuple[str, str, str]] = field(default_factory=Counter)

    def merge(self, other: OutcomeTally) -> None:
        """Add another tally of the same connector to this one."""
        self.records += other.records
        self.events.update(other.events)
        self.dead_letters.update(other.dead_letters)

    @property
    def empty(self) -> bool:
        """Whether nothing was counted."""
        return self.records == 0


class Metrics(Protocol):
    """What the loops report. Calls are per batch and cheap; implementations are thread-safe."""

    def outcomes(self, tally: OutcomeTally) -> None:
        """Records, events and dead letters of a committed batch."""
        ...

    def transaction(self, result: TransactionResult, *, seconds: float | None = None) -> None:
        """A transaction committed or aborted; ``seconds`` from its batch's start to the commit."""
        ...

    def batch(
        self, *, records: int, outputs: Mapping[str, int], oldest_age_s: float | None, alerts: Mapping[str, int]
    ) -> None:
        """A committed batch: input messages, outputs by topic, its oldest input's age, alerts by rule."""
        ...

    def lag(self, topic: str, partition: int, lag: int | None) -> None:
        """The consumer lag of one partition; None: the partition is no longer this process's."""
        ...

    def kafka_retry(self) -> None:
        """A Kafka call is retried after a transient failure."""
        ...

    def outbox(self, target: str, outcomes: Mapping[str, int], pending: int | None = None) -> None:
        """Outbox messages finished (by outcome), and the messages still pending if known."""
        ...


class NullMetrics:
    """Reports nothing: the default of every loop, so tests and library users need no registry."""

    def outcomes(self, tally: OutcomeTally) -> None:
        """Ignore."""

    def transaction(self, result: TransactionResult, *, seconds: float | None = None) -> None:
        """Ignore."""

    def batch(
        self, *, records: int, outputs: Mapping[str, int], oldest_age_s: float | None, alerts: Mapping[str, int]
    ) -> None:
        """Ignore."""

    def lag(self, topic: str, partition: int, lag: int | None) -> None:
        """Ignore."""

    def kafka_retry(self) -> None:
        """Ignore."""

    def outbox(self, target: str, outcomes: Mapping[str, int], pending: int | None = None) -> None:
        """Ignore."""


NULL_METRICS: Metrics = NullMetrics()
"""The shared no-op `Metrics` (it has no state)."""


class _Bounded:
    """Label sets of one metric, at most `MAX_LABEL_SETS`; values cut to a sane length."""

    def __init__(self) -> None:
        self._seen: set[tuple[str, ...]] = set()
        self._lock = threading.Lock()

    def __call__(self, values: tuple[str, ...]) -> tuple[str, ...]:
        values = tuple(v[:_MAX_LABEL_CHARS] for v in values)
        with self._lock:
            if values in self._seen:
                return values
            if len(self._seen) >= MAX_LABEL_SETS:
                return tuple(_OTHER for _ in values)
            self._seen.add(values)
            return values


class PrometheusMetrics:
    """`Metrics` kept in one process's own ``CollectorRegistry`` (never prometheus_client's global one).

    Args:
        registry: The process's registry; the HTTP server exposes it.
        service: The process's service (``run``, ``detect``, ``deliver-sis`` ...): the ``service`` label.
        clock: Wall clock (Unix seconds), for the last-commit gauge.
    """

    def __init__(self, registry: CollectorRegistry, service: str, *, clock: Callable[[], float] = time.time) -> None:
        self.registry = registry
        self.service = service
        self._clock = clock
        specs = {s.name: s for s in METRICS}
        self._bounds: dict[str, _Bounded] = {name: _Bounded() for name in specs}

        def counter(name: str) -> PromCounter:
            s = specs[name]
            return PromCounter(s.name, s.help, s.labels, registry=registry)

        def gauge(name: str) -> PromGauge:
            s = specs[name]
            return PromGauge(s.name, s.help, s.labels, registry=registry)

        def histogram(name: str, buckets: tuple[float, ...]) -> PromHistogram:
            s = specs[name]
            return PromHistogram(s.name, s.help, s.labels, registry=registry, buckets=buckets)

        self._records_in = counter("gateway_records_in")
        self._events_out = counter("gateway_events_out")
        self._dead_letters = counter("gateway_dead_letters")
        self._transactions = counter("gateway_transactions")
        self._last_commit = gauge("gateway_last_commit_timestamp_seconds")
        self._input = counter("gateway_input_records")
        self._outputs = counter("gateway_output_messages")
        self._batch_seconds = histogram("gateway_batch_duration_seconds", _BATCH_BUCKETS)
        self._e2e_seconds = histogram("gateway_end_to_end_seconds", _E2E_BUCKETS)
        self._lag = gauge("gateway_consumer_lag")
        self._retries = counter("gateway_kafka_retries")
        self._alerts = counter("gateway_alerts")
        self._delivered = counter("gateway_outbox_delivered")
        self._pending = gauge("gateway_outbox_pending")
        self.ready = gauge("gateway_ready")
        # Series that exist from the start, so rates and absence alerts work before the first batch.
        for result in ("committed", "aborted"):
            self._transactions.labels(service, result)
        self._retries.labels(service)
        self._input.labels(service)
        self.ready.labels(service).set(0)

    def _labels(self, name: str, *values: str) -> tuple[str, ...]:
        return self._bounds[name](values)

    def outcomes(self, tally: OutcomeTally) -> None:
        """Records, events and dead letters of a committed batch."""
        if tally.empty:
            return
        connector = self._labels("gateway_records_in", tally.connector)
        self._records_in.labels(*connector).inc(tally.records)
        for event_type, n in tally.events.items():
            self._events_out.labels(*self._labels("gateway_events_out", tally.connector, event_type)).inc(n)
        for (stage, error_class, rule), n in tally.dead_letters.items():
            labels = self._labels("gateway_dead_letters", tally.connector, stage, error_class, rule)
            self._dead_letters.labels(*labels).inc(n)

    def transaction(self, result: TransactionResult, *, seconds: float | None = None) -> None:
        """A transaction committed or aborted; ``seconds`` from its batch's start to the commit."""
        self._transactions.labels(self.service, result).inc()
        if result == "committed":
            self._last_commit.labels(self.service).set(self._clock())
            if seconds is not None:
                self._batch_seconds.labels(self.service).observe(seconds)

    def batch(
        self, *, records: int, outputs: Mapping[str, int], oldest_age_s: float | None, alerts: Mapping[str, int]
    ) -> None:
        """A committed batch: input messages, outputs by topic, its oldest input's age, alerts by rule."""
        if records:
            self._input.labels(self.service).inc(records)
        for topic, n in outputs.items():
            self._outputs.labels(*self._labels("gateway_output_messages", self.service, topic)).inc(n)
        if oldest_age_s is not None:
            self._e2e_seconds.labels(self.service).observe(max(oldest_age_s, 0.0))
        for rule, n in alerts.items():
            self._alerts.labels(*self._labels("gateway_alerts", rule)).inc(n)

    def lag(self, topic: str, partition: int, lag: int | None) -> None:
        """The consumer lag of one partition; None: the partition is no longer this process's."""
        labels = (self.service, topic, str(partition))
        if lag is None:
            with contextlib.suppress(KeyError):  # never reported
                self._lag.remove(*labels)
            return
        self._lag.labels(*self._labels("gateway_consumer_lag", *labels)).set(lag)

    def kafka_retry(self) -> None:
        """A Kafka call is retried after a transient failure."""
        self._retries.labels(self.service).inc()

    def outbox(self, target: str, outcomes: Mapping[str, int], pending: int | None = None) -> None:
        """Outbox messages finished (by outcome), and the messages still pending if known."""
        for outcome, n in outcomes.items():
            if n:
                self._delivered.labels(*self._labels("gateway_outbox_delivered", target, outcome)).inc(n)
        if pending is not None:
            self._pending.labels(target).set(pending)

    def set_ready(self, ready: bool) -> None:
        """Mirror the readiness in ``gateway_ready`` (alert rules cannot read ``/readyz``)."""
        self.ready.labels(self.service).set(1 if ready else 0)
