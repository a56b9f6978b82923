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
from typing import Literal, Protocol, cast

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
    "FileOutcome",
    "TransactionResult",
]

TransactionResult = Literal["committed", "aborted"]
FileOutcome = Literal["processed", "failed"]

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
        buckets: A histogram's bucket bounds (seconds).
    """

    name: str
    kind: Literal["counter", "gauge", "histogram"]
    labels: tuple[str, ...]
    help: str
    processes: str
    buckets: tuple[float, ...] = ()

    @property
    def exposed(self) -> tuple[str, ...]:
        """The series names a scrape shows for it."""
        if self.kind == "counter":
            return (f"{self.name}_total",)
        if self.kind == "histogram":
            return tuple(f"{self.name}{s}" for s in ("_bucket", "_sum", "_count"))
        return (self.name,)


_INGEST = "run, watch, ingest, ees ingest, riat pull"
_LOOPS = "run, detect, outbound, deliver, ees ingest"
_COMMITS = f"{_LOOPS}, watch, ingest, riat pull"

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
        _COMMITS,
    ),
    MetricSpec(
        "gateway_last_commit_timestamp_seconds",
        "gauge",
        ("service",),
        "Unix time of the last committed transaction.",
        _COMMITS,
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
        _COMMITS,
        _BATCH_BUCKETS,
    ),
    MetricSpec(
        "gateway_end_to_end_seconds",
        "histogram",
        ("service",),
        "Age at commit of each batch's oldest input message (its Kafka timestamp to the commit).",
        _LOOPS,
        _E2E_BUCKETS,
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
    MetricSpec(
        "gateway_files",
        "counter",
        ("connector", "outcome"),
        "Files finished: processed (every record became an event or a dead letter) or failed (moved aside).",
        "watch",
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

    def file(self, connector: str, outcome: FileOutcome) -> None:
        """A file of a drop directory was finished."""
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

    def file(self, connector: str, outcome: FileOutcome) -> None:
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


def _make(spec: MetricSpec, registry: CollectorRegistry) -> PromCounter | PromGauge | PromHistogram:
    if spec.kind == "counter":
        return PromCounter(spec.name, spec.help, spec.labels, registry=registry)
    if spec.kind == "gauge":
        return PromGauge(spec.name, spec.help, spec.labels, registry=registry)
    return PromHistogram(spec.name, spec.help, spec.labels, registry=registry, buckets=spec.buckets)


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
        self._bounds: dict[str, _Bounded] = {spec.name: _Bounded() for spec in METRICS}

        made = {spec.name: _make(spec, registry) for spec in METRICS}
        self._records_in = cast(PromCounter, made["gateway_records_in"])
        self._events_out = cast(PromCounter, made["gateway_events_out"])
        self._dead_letters = cast(PromCounter, made["gateway_dead_letters"])
        self._transactions = cast(PromCounter, made["gateway_transactions"])
        self._last_commit = cast(PromGauge, made["gateway_last_commit_timestamp_seconds"])
        self._input = cast(PromCounter, made["gateway_input_records"])
        self._outputs = cast(PromCounter, made["gateway_output_messages"])
        self._batch_seconds = cast(PromHistogram, made["gateway_batch_duration_seconds"])
        self._e2e_seconds = cast(PromHistogram, made["gateway_end_to_end_seconds"])
        self._lag = cast(PromGauge, made["gateway_consumer_lag"])
        self._retries = cast(PromCounter, made["gateway_kafka_retries"])
        self._alerts = cast(PromCounter, made["gateway_alerts"])
        self._delivered = cast(PromCounter, made["gateway_outbox_delivered"])
        self._pending = cast(PromGauge, made["gateway_outbox_pending"])
        self._files = cast(PromCounter, made["gateway_files"])
        self.ready = cast(PromGauge, made["gateway_ready"])
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

    def file(self, connector: str, outcome: FileOutcome) -> None:
        """A file of a drop directory was finished."""
        self._files.labels(*self._labels("gateway_files", connector, outcome)).inc()

    def set_ready(self, ready: bool) -> None:
        """Mirror the readiness in ``gateway_ready`` (alert rules cannot read ``/readyz``)."""
        self.ready.labels(self.service).set(1 if ready else 0)
