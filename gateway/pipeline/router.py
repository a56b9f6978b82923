"""The outcome router: one record's outcome → the messages to produce, for every driver alike.

File ingest, the drop directory (through file ingest) and service mode differ in where records come from and how
their transactions are driven; what an outcome becomes does not: events go to the canonical topic with their type
header, a dead letter goes to the connector's dead-letter queue with the error headers, cut to fit the topic, and
under ``errors_tolerance = "none"`` a dead letter stops the run instead. `route` decides all of that and is pure;
the drivers only hand its messages to their producers.
"""

from __future__ import annotations

import concurrent.futures
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from confluent_kafka import KafkaException

# confluent_kafka.admin re-exports these without an __all__, which strict mypy reads as private; the path is public.
from confluent_kafka.admin import AdminClient, ConfigResource, ResourceType  # type: ignore[attr-defined]

from gateway.connectors.base import Connector
from gateway.dlq import DeadLetter
from gateway.dlq.headers import KAFKA_DEFAULT_MAX_MESSAGE_BYTES, KafkaOrigin, dead_letter_headers, fit
from gateway.errors import FatalError
from gateway.events.headers import EVENT_TYPE_HEADER
from gateway.kafka.producer import OutboundMessage
from gateway.observability.metrics import OutcomeTally
from gateway.pipeline.outcome import Outcome

_log = logging.getLogger(__name__)


class IngestStoppedError(FatalError):
    """A record failed and the connector's error tolerance is ``none``: processing stopped before it.

    Attributes:
        dead_letter: Why the record failed (it was not dead-lettered; it stays in its source).
    """

    def __init__(self, dead_letter: DeadLetter) -> None:
        # The record's own message stays out: it may quote the record's values (a name where a date belongs), and
        # this text reaches logs and stderr. Position, stage, error class and rules say where to look.
        rules = f"; rules {', '.join(dead_letter.rule_ids)}" if dead_letter.rule_ids else ""
        super().__init__(
            f"{dead_letter.record.position}: {dead_letter.stage} failed ({dead_letter.error_class}{rules}); "
            "errors_tolerance is 'none', so ingestion stopped before this record (`gateway validate` on the file "
            "shows its error)"
        )
        self.dead_letter = dead_letter


@dataclass(frozen=True, slots=True)
class Routing:
    """Where one connector's outcomes go.

    Attributes:
        canonical: The canonical topic.
        dlq: The connector's dead-letter topic.
        connector: The connector's name (``__connect.errors.connector.name``).
        connector_class: Its class, fully qualified (``__connect.errors.class.name``).
        tolerance: ``all`` dead-letters failed records; ``none`` stops at the first.
        dlq_max_bytes: Largest message the dead-letter topic takes (`dlq_message_limit`).
    """

    canonical: str
    dlq: str
    connector: str
    connector_class: str
    tolerance: Literal["none", "all"] = "all"
    dlq_max_bytes: int = KAFKA_DEFAULT_MAX_MESSAGE_BYTES

    @classmethod
    def of(cls, connector: Connector[Any], canonical: str, dlq: str, dlq_max_bytes: int) -> Routing:
        """The routing of a connector's outcomes."""
        return cls(
            canonical=canonical,
            dlq=dlq,
            connector=connector.name,
            connector_class=f"{type(connector).__module__}.{type(connector).__qualname__}",
            tolerance=connector.config.errors_tolerance,
            dlq_max_bytes=dlq_max_bytes,
        )


def route(
    outcome: Outcome,
    routing: Routing,
    *,
    correlation_id: str,
    origin: KafkaOrigin | None = None,
    key: bytes | None = None,
    original_headers: Sequence[tuple[str, bytes]] = (),
    now_ms: int | None = None,
) -> list[OutboundMessage]:
    """The messages one outcome becomes: its events, or its dead letter (fitted to the dead-letter topic).

    Args:
        outcome: The record's outcome.
        routing: Where outcomes go.
        correlation_id: The dead letter's correlation id.
        origin: The record's Kafka coordinates, for a record consumed from a topic; None for a file's record.
        key: The dead letter's key; None for the record's source (a file's records keep their file together).
        original_headers: The consumed message's headers (service mode), kept on its dead letter.
        now_ms: The dead letter's timestamp; None for the clock.

    Raises:
        IngestStoppedError: The record failed and the tolerance is ``none``.
    """
    dead = outcome.dead_letter
    if dead is None:
        return [
            OutboundMessage(routing.canonical, e.key, e.value, ((EVENT_TYPE_HEADER, e.event_type.encode()),))
            for e in outcome.events
        ]
    if routing.tolerance == "none":
        raise IngestStoppedError(dead)
    headers = dead_letter_headers(
        dead,
        connector=routing.connector,
        connector_class=routing.connector_class,
        correlation_id=correlation_id,
        origin=origin,
        original=original_headers,
        now_ms=now_ms,
    )
    record = dead.record
    dlq_key = record.source.encode() if key is None else key
    # Readers set these on a record they could not keep whole (its data is then only a prefix).
    value, fitted = fit(
        dlq_key,
        record.data,
        headers,
        routing.dlq_max_bytes,
        original_length=record.original_length,
        original_sha256=record.original_sha256,
    )
    return [OutboundMessage(routing.dlq, dlq_key, value, tuple(fitted))]


def tally(connector: str, outcomes: Iterable[Outcome]) -> OutcomeTally:
    """What routed outcomes count in the metrics: records, events by type, dead letters by stage, class and rule.

    Pure, and called once per batch by the drivers beside `route`, so that counting costs no call per record. A
    dead letter counts under its first failed rule (``""`` when no rule failed): rule ids, stages and error classes
    are closed sets, none of which carries anything of the record itself.
    """
    counts = OutcomeTally(connector)
    events, dead_letters = counts.events, counts.dead_letters
    for outcome in outcomes:
        counts.records += 1
        dead = outcome.dead_letter
        if dead is None:
            for event in outcome.events:
                events[event.event_type] += 1
        else:
            dead_letters[(dead.stage, dead.error_class, dead.rule_ids[0] if dead.rule_ids else "")] += 1
    return counts


def dlq_message_limit(admin: AdminClient, topic: str, *, timeout_s: float = 30.0) -> int:
    """The largest message a dead-letter topic takes: its ``max.message.bytes``, at most librdkafka's own limit.

    An edge function (it asks the broker). A topic that cannot be described yields the default: the ingest then
    fails on its first over-long dead letter as before, with the broker's error, rather than not starting.
    """
    resource = ConfigResource(ResourceType.TOPIC, topic)
    try:
        configs = admin.describe_configs([resource], request_timeout=timeout_s)[resource].result(timeout=timeout_s)
        entry = configs.get("max.message.bytes")
        configured = int(entry.value) if entry is not None and entry.value is not None else None
    except (KafkaException, concurrent.futures.TimeoutError) as exc:
        _log.warning(
            "could not read max.message.bytes of %s (%s); assuming %d", topic, exc, KAFKA_DEFAULT_MAX_MESSAGE_BYTES
        )
        return KAFKA_DEFAULT_MAX_MESSAGE_BYTES
    return KAFKA_DEFAULT_MAX_MESSAGE_BYTES if configured is None else min(configured, KAFKA_DEFAULT_MAX_MESSAGE_BYTES)
