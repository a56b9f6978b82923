"""The dashboard's I/O at the edge: reading dead-letter topics, replaying, writing the audit trail.

`DeadLetterBackend` is the small interface the web app needs; `KafkaBackend` implements it over the gateway's own
dead-letter tools (`gateway.dlq.tools`: the same reading, selection and replay as ``gateway dlq``), and tests pass a
fake.
"""

from __future__ import annotations

from typing import Protocol

from confluent_kafka.admin import AdminClient

from gateway.config import GatewaySettings
from gateway.dashboard.audit import AuditEntry, audit_message
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

    def dead_letters(self, connector: str) -> list[DeadLetterRecord]:
        """Every dead letter of a connector, oldest first per partition."""
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
        read_timeout_s: Longest silence while reading a topic to its end.
    """

    def __init__(self, settings: GatewaySettings, audit_topic: str, *, read_timeout_s: float = 30.0) -> None:
        self._settings = settings
        self._audit_topic = audit_topic
        self._timeout_s = read_timeout_s

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

    def dead_letters(self, connector: str) -> list[DeadLetterRecord]:
        """Every committed dead letter of a connector."""
        return list(tools.read_dead_letters(self._settings.kafka, self.dlq_topic(connector), timeout_s=self._timeout_s))

    def replay(self, connector: str, refs: frozenset[tuple[int, int]]) -> list[DeadLetterRecord]:
        """Replay with `gateway.dlq.tools.replay`, exactly as ``gateway dlq replay --at P:O ...`` does."""
        if not refs:
            return []
        chosen = tools.select(refs=refs)
        return tools.replay(self._settings.kafka, self.dlq_topic(connector), self.raw_topic(connector), chosen)

    def audit(self, entry: AuditEntry) -> None:
        """Write one audit record and flush (raises if the broker does not acknowledge it)."""
        with IdempotentProducer(self._settings.kafka, self._settings.producer) as producer:
            producer.send(audit_message(entry, self._audit_topic))
            producer.flush()
