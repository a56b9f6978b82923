"""Metrics and readiness of a consume-transform-produce loop, kept in step with its transactions.

`BatchObserver` wraps a loop's transform (to time the batch and count its inputs and outputs) and its transaction
participant (``gateway.kafka.transactions.TransactionParticipant``, which it satisfies itself): a batch's figures
are held until its transaction commits and dropped when it aborts, so a redone batch counts once. The assignment
hooks feed the readiness (``partitions``, ``store``: the inner participant restores its stores before ``assigned``
returns) and tell the lag probe which partitions are this process's.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from operator import attrgetter, methodcaller
from typing import Any, Protocol

from confluent_kafka import Message, TopicPartition

from gateway.observability.health import Readiness
from gateway.observability.metrics import NULL_METRICS, Metrics, OutcomeTally

__all__ = ["BatchObserver", "Participant"]

_Transform = Callable[[list[Message]], Sequence[Any]]

ALERT_RULE_HEADER = "gw.alert.rule"
"""The header that names an alert's rule (``gateway.detect``): outputs carrying it count as alerts."""

# librdkafka's timestamp types: 0 is "not available".
_NO_TIMESTAMP = 0


class Participant(Protocol):
    """The transaction participant protocol of ``gateway.kafka.transactions`` (restated: this layer is below it)."""

    def assigned(self, partitions: Sequence[TopicPartition]) -> None: ...  # noqa: D102

    def revoked(self, partitions: Sequence[TopicPartition]) -> None: ...  # noqa: D102

    def committed(self, delivered: Mapping[tuple[str, int], int]) -> None: ...  # noqa: D102

    def aborted(self) -> None: ...  # noqa: D102


class BatchObserver:
    """Counts a loop's committed batches and tracks its partitions.

    Args:
        metrics: Where the figures go.
        inner: The loop's own participant (a state runtime), called first; None if it has none.
        readiness: Gets the conditions ``partitions`` and ``store``; None leaves readiness alone.
        alert_header: Outputs carrying this header count as alerts of the rule it names (the detector's
            `ALERT_RULE_HEADER`); None looks at no header, so other loops pay nothing per output.
        clock: Wall clock in seconds (message timestamps are wall-clock milliseconds).
    """

    def __init__(
        self,
        metrics: Metrics = NULL_METRICS,
        inner: Participant | None = None,
        readiness: Readiness | None = None,
        *,
        alert_header: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._metrics = metrics
        self._inner = inner
        self._readiness = readiness
        self._clock = clock
        self._alert_header = alert_header
        self._lock = threading.Lock()
        self._partitions: set[tuple[str, int]] = set()
        self._reset()
        if readiness is not None:
            readiness.require("partitions", "waiting for the consumer group to assign partitions")
            readiness.require("store", "state not restored yet")

    def _reset(self) -> None:
        self._started: float | None = None
        self._records = 0
        self._oldest_ms: int | None = None
        self._outputs: Counter[str] = Counter()
        self._alerts: Counter[str] = Counter()
        self._tallies: dict[str, OutcomeTally] = {}

    # -- the transform ---------------------------------------------------------------------------------------------

    def wrap(self, transform: _Transform) -> _Transform:
        """The transform, its batches timed and their inputs and outputs held for the commit."""

        def observed(batch: list[Message]) -> Sequence[Any]:
            self._reset()  # a redone batch starts afresh: its earlier attempt was aborted
            self._started = time.monotonic()
            # Per message only C-level work (the bench watches the per-record cost).
            oldest = min((stamp for kind, stamp in map(_timestamp, batch) if kind != _NO_TIMESTAMP), default=None)
            outputs = transform(batch)
            self._records, self._oldest_ms = len(batch), oldest
            self._outputs = Counter(map(_topic, outputs))
            if self._alert_header is not None:
                self._alerts = Counter(_header_values(outputs, self._alert_header))
            return outputs

        return observed

    def stage(self, tally: OutcomeTally) -> None:
        """Hold a batch's outcome counts until it commits (call from the transform, after `wrap`'s reset)."""
        held = self._tallies.get(tally.connector)
        if held is None:
            self._tallies[tally.connector] = tally
        else:
            held.merge(tally)

    # -- the participant -------------------------------------------------------------------------------------------

    def assigned(self, partitions: Sequence[TopicPartition]) -> None:
        """Restore (the inner participant), then mark the partitions this process's."""
        if self._readiness is not None:
            self._readiness.unmet("store", f"restoring state for {len(partitions)} partitions")
        if self._inner is not None:
            self._inner.assigned(partitions)
        with self._lock:
            self._partitions.update((tp.topic, tp.partition) for tp in partitions)
            held = bool(self._partitions)
        if self._readiness is not None:
            self._readiness.met("store")
            if held:
                self._readiness.met("partitions")

    def revoked(self, partitions: Sequence[TopicPartition]) -> None:
        """Release the partitions (inner participant first); their lag is no longer this process's."""
        if self._inner is not None:
            self._inner.revoked(partitions)
        gone = {(tp.topic, tp.partition) for tp in partitions}
        with self._lock:
            self._partitions -= gone
            held = bool(self._partitions)
        for topic, partition in gone:
            self._metrics.lag(topic, partition, None)
        if self._readiness is not None and not held:
            self._readiness.unmet("partitions", "no partitions assigned (rebalancing, or more members than partitions)")

    def committed(self, delivered: Mapping[tuple[str, int], int]) -> None:
        """The batch committed: its figures count."""
        if self._inner is not None:
            self._inner.committed(delivered)
        seconds = None if self._started is None else time.monotonic() - self._started
        self._metrics.transaction("committed", seconds=seconds)
        age = None if self._oldest_ms is None else self._clock() - self._oldest_ms / 1000
        self._metrics.batch(records=self._records, outputs=self._outputs, oldest_age_s=age, alerts=self._alerts)
        for tally in self._tallies.values():
            self._metrics.outcomes(tally)
        self._reset()

    def aborted(self) -> None:
        """The batch is dropped (and redone); an empty tick that produced nothing is not a failure."""
        if self._inner is not None:
            self._inner.aborted()
        if self._started is not None and (self._records or self._outputs):
            self._metrics.transaction("aborted")
        self._reset()

    def partitions(self) -> list[tuple[str, int]]:
        """The (topic, partition) pairs assigned to this process now."""
        with self._lock:
            return sorted(self._partitions)


_timestamp = methodcaller("timestamp")
_topic = attrgetter("topic")


def _header_values(outputs: Sequence[Any], header: str) -> list[str]:
    values = []
    for output in outputs:
        for key, value in output.headers:
            if key == header:
                values.append(value.decode() if isinstance(value, bytes) else str(value))
    return values
