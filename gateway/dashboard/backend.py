"""The dashboard's I/O at the edge: reading dead-letter topics by offset, their summaries, replay, the audit trail.

`DeadLetterBackend` is the small interface the web app needs; `KafkaBackend` implements it on the broker (reading
by offset with `gateway.dashboard.reading`, replaying the messages ``gateway dlq replay`` sends), and tests pass a
fake. No call reads a whole topic, except a connector's first summary (once per process).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Protocol

from confluent_kafka.admin import AdminClient

from gateway.config import GatewaySettings
from gateway.dashboard.audit import AuditEntry, audit_message
from gateway.dashboard.reading import TopicReader, Watermarks
from gateway.dashboard.summary import Summary, SummaryKeeper
from gateway.dlq import tools
from gateway.dlq.tools import DeadLetterRecord
from gateway.kafka.producer import IdempotentProducer
from gateway.kafka.topics import TopicSpec, ensure_topics

__all__ = ["DeadLetterBackend", "KafkaBackend"]


class DeadLetterBackend(Protocol):
    """What the dashboard reads and writes."""

    def dlq_topic(self, connector: str) -> str:
        """The dead-letter topic of a connector."""
        ...

    def raw_topic(self, connector: str) -> str:
        """The raw inbound topic a connector's dead letters are replayed into."""
        ...

    def watermarks(self, connector: str) -> Watermarks:
        """Low and high offsets of each partition of a connector's dead-letter topic."""
        ...

    def read_ranges(self, connector: str, ranges: Mapping[int, tuple[int, int]]) -> list[DeadLetterRecord]:
        """The dead letters at ``start <= offset < end`` of each partition (``{partition: (start, end)}``)."""
        ...

    def dead_letters_at(self, connector: str, refs: Iterable[tuple[int, int]]) -> list[DeadLetterRecord]:
        """The dead letters at exactly these ``(partition, offset)`` pairs; those not there are left out."""
        ...

    def summary(self, connector: str) -> Summary:
        """The counts of a connector's dead letters, brought up to date (reading only what was added since)."""
        ...

    def replay(self, connector: str, refs: frozenset[tuple[int, int]]) -> list[DeadLetterRecord]:
        """Re-inject the dead letters at ``refs`` into the raw topic; return those found and replayed."""
        ...

    def audit(self, entry: AuditEntry) -> None:
        """Write an audit record, waiting until the broker has it.

        Raises:
            GatewayError: The broker did not take it (the caller must not go on with the replay).
        """
        ...


class KafkaBackend:
    """`DeadLetterBackend` on the real broker, through ``gateway.dlq.tools``.

    Args:
        settings: The gateway's settings (Kafka connection, topic names).
        audit_topic: The audit topic.
        read_timeout_s: Longest silence while reading a topic.
        slot_minutes: Width of a summary's time slot (the chart's bucket).
        clock: Current time (UTC), for the summaries' "as of".
    """

    def __init__(
        self,
        settings: GatewaySettings,
        audit_topic: str,
        *,
        read_timeout_s: float = 30.0,
        slot_minutes: int = 60,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self._settings = settings
        self._audit_topic = audit_topic
        self._timeout_s = read_timeout_s
        self._slot_minutes = slot_minutes
        self._clock = clock
        self._summaries: dict[str, SummaryKeeper] = {}
        self._lock = threading.Lock()  # pages run in a thread pool: one keeper per connector, made once

    def _reader(self, connector: str) -> TopicReader:
        return TopicReader(self._settings.kafka, self.dlq_topic(connector), timeout_s=self._timeout_s)

    def ensure_audit_topic(self, partitions: int = 1) -> None:
        """Create the audit topic if missing, kept forever (``retention.ms = -1``): an audit trail must not expire."""
        spec = TopicSpec(
            name=self._audit_topic,
            partitions=partitions,
            replication_factor=self._settings.topics.replication_factor,
            retention_ms=-1,
        )
        ensure_topics(AdminClient(dict(self._settings.kafka.to_librdkafka())), [spec], on_mismatch="report")

    def dlq_topic(self, connector: str) -> str:
        """The dead-letter topic of a connector."""
        return self._settings.topics.dlq(connector)

    def raw_topic(self, connector: str) -> str:
        """The raw inbound topic of a connector."""
        return self._settings.topics.raw(connector)

    def watermarks(self, connector: str) -> Watermarks:
        """Low and high offsets of each partition of the connector's dead-letter topic."""
        return self._reader(connector).watermarks()

    def read_ranges(self, connector: str, ranges: Mapping[int, tuple[int, int]]) -> list[DeadLetterRecord]:
        """The committed dead letters in these offset ranges."""
        return list(self._reader(connector).read_ranges(ranges))

    def dead_letters_at(self, connector: str, refs: Iterable[tuple[int, int]]) -> list[DeadLetterRecord]:
        """The committed dead letters at exactly these offsets, each read alone."""
        return self._reader(connector).read_at(refs)

    def summary(self, connector: str) -> Summary:
        """The connector's summary, refreshed: the first call reads the topic, later ones only what is new."""
        with self._lock:
            keeper = self._summaries.get(connector)
            if keeper is None:
                keeper = SummaryKeeper(self._reader(connector), self._slot_minutes, self._clock)
                self._summaries[connector] = keeper
        return keeper.refresh()

    def replay(self, connector: str, refs: frozenset[tuple[int, int]]) -> list[DeadLetterRecord]:
        """Send the messages ``gateway dlq replay --at P:O ...`` sends, reading only the chosen offsets.

        The messages are `gateway.dlq.tools.replay_message`'s: original bytes and headers, error headers stripped,
        ``gw.replay.from`` added.
        """
        picked = self.dead_letters_at(connector, refs)
        if not picked:
            return []
        raw_topic = self.raw_topic(connector)
        with IdempotentProducer(self._settings.kafka) as producer:
            for rec in picked:
                producer.send(tools.replay_message(rec, raw_topic))
            producer.flush()
        return picked

    def audit(self, entry: AuditEntry) -> None:
        """Write one audit record and flush (raises if the broker does not acknowledge it)."""
        with IdempotentProducer(self._settings.kafka, self._settings.producer) as producer:
            producer.send(audit_message(entry, self._audit_topic))
            producer.flush()
