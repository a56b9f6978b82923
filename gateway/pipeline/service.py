"""Service mode: a connector's raw inbound topic → canonical topic + dead-letter queue, exactly once.

Each batch's events, dead letters and the input offsets commit in one Kafka transaction (``TransactionalProcessor``).
A broker outage aborts the open batch; the service waits, rebuilds its clients and resumes from the committed
offsets. A record that fails under ``errors_tolerance = "none"`` stops the service before it is committed.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from confluent_kafka import Message

from gateway.config import GatewaySettings
from gateway.connectors.base import Connector, RawRecord
from gateway.dlq.headers import REPLAYED_FROM, KafkaOrigin, dead_letter_headers
from gateway.errors import FatalError, TransientError
from gateway.kafka.producer import OutboundMessage
from gateway.kafka.retry import RetrySettings, retrying
from gateway.kafka.settings import ConsumerSettings, TransactionSettings
from gateway.kafka.transactions import BatchLimits, ProcessorStats, TransactionalProcessor
from gateway.pipeline.file_ingest import EVENT_TYPE_HEADER, IngestStoppedError
from gateway.pipeline.processor import RecordProcessor
from gateway.pipeline.wiring import build_processor

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ServiceOptions:
    """How one service process runs.

    Attributes:
        instance: Stable name of this process; its transactional id, so a restart fences its zombie.
        idle_exit_s: Stop after this long without input (batch jobs and tests); None runs until stopped.
        outage_deadline_s: Longest broker outage to wait out before giving up.
        batch_records: Most records per transaction.
        group_id: Consumer group of the processes that share the raw topic; None: ``gateway-<connector>``. Two
            deployments on one cluster need groups of their own, or they take each other's partitions.
    """

    instance: str = socket.gethostname()
    idle_exit_s: float | None = None
    outage_deadline_s: float = 600.0
    batch_records: int = 500
    group_id: str | None = None


def transform_for(connector: Connector[Any], processor: RecordProcessor, settings: GatewaySettings) -> Any:
    """The pure batch transform: raw messages → canonical events and dead letters."""
    canonical, dlq = settings.topics.canonical, settings.topics.dlq(connector.name)
    connector_class = f"{type(connector).__module__}.{type(connector).__qualname__}"
    tolerance = connector.config.errors_tolerance

    def transform(batch: Sequence[Message]) -> list[OutboundMessage]:
        records: list[RawRecord] = []
        correlations: list[str | None] = []
        origins: list[tuple[KafkaOrigin, list[tuple[str, bytes]]]] = []
        for msg in batch:
            topic, partition, offset = msg.topic() or "", msg.partition() or 0, msg.offset() or 0
            raw_headers = cast(list[tuple[str, bytes | str | None]], msg.headers() or [])
            original = [(k, v if isinstance(v, bytes) else v.encode()) for k, v in raw_headers if v is not None]
            replayed = next((v.decode() for k, v in original if k == REPLAYED_FROM), None)
            correlations.append(f"replay:{replayed}" if replayed else None)
            origins.append((KafkaOrigin(topic, partition, offset), original))
            position = f"{topic}/{partition}/{offset}"
            records.append(connector.from_message(msg.value() or b"", topic, position, offset, dict(original)))
        out: list[OutboundMessage] = []
        outcomes = processor.process_batch(records, correlations)
        for msg, outcome, correlation, (origin, original) in zip(batch, outcomes, correlations, origins, strict=True):
            dead = outcome.dead_letter
            if dead is None:
                out.extend(
                    OutboundMessage(canonical, e.key, e.value, ((EVENT_TYPE_HEADER, e.event_type.encode()),))
                    for e in outcome.events
                )
                continue
            if tolerance == "none":
                raise IngestStoppedError(dead)
            headers = dead_letter_headers(
                dead,
                connector=connector.name,
                connector_class=connector_class,
                correlation_id=correlation or processor.context.correlation_id,
                origin=origin,
                original=original,
            )
            out.append(OutboundMessage(dlq, msg.key(), msg.value(), tuple(headers)))
        return out

    return transform


def run_service(
    connector: Connector[Any],
    settings: GatewaySettings,
    options: ServiceOptions,
    stop: threading.Event | None = None,
) -> ProcessorStats:
    """Run one connector's raw topic through the pipeline until stopped, idle or failed for good."""
    stop = stop or threading.Event()
    processor = build_processor(connector, settings, correlation_id=f"run:{options.instance}:{uuid.uuid4().hex[:8]}")
    transform = transform_for(connector, processor, settings)
    group = options.group_id or f"gateway-{connector.name}"
    consumer = ConsumerSettings(group_id=group, group_instance_id=f"{group}-{options.instance}")
    txn = TransactionSettings(transactional_id=f"gateway-run-{connector.name}-{options.instance}")
    outage = retrying(RetrySettings(max_attempts=10_000, deadline_s=options.outage_deadline_s, max_delay_s=5.0))
    total = ProcessorStats()
    for attempt in outage:
        with attempt:
            stats = _run_once(connector, settings, options, consumer, txn, transform, stop)
            total = _add(total, stats)
    return total


def _run_once(
    connector: Connector[Any],
    settings: GatewaySettings,
    options: ServiceOptions,
    consumer: ConsumerSettings,
    txn: TransactionSettings,
    transform: Any,
    stop: threading.Event,
) -> ProcessorStats:
    limits = BatchLimits(max_records=options.batch_records, max_wait_s=1.0, max_attempts=5)
    proc = TransactionalProcessor(
        settings.kafka,
        consumer,
        txn,
        transform,
        topics=[settings.topics.raw(connector.name)],
        producer=settings.producer,
        limits=limits,
    )
    try:
        with proc:
            proc.run(idle_timeout=options.idle_exit_s, stop=stop)
    except IngestStoppedError:
        raise
    except FatalError as exc:
        # After a broker outage the processor gives up on its batch; rebuilding clients and resuming from the
        # committed offsets is safe, because nothing of that batch was committed.
        _log.warning("processor stopped (%s); rebuilding it", exc)
        time.sleep(1.0)
        raise TransientError(str(exc)) from exc
    return proc.stats


def _add(a: ProcessorStats, b: ProcessorStats) -> ProcessorStats:
    values = {f: getattr(a, f) + getattr(b, f) for f in a.__dataclass_fields__}
    return ProcessorStats(**values)
