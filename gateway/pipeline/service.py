"""Service mode: a connector's raw inbound topic → canonical topic + dead-letter queue, exactly once.

Each batch's events, dead letters and the input offsets commit in one Kafka transaction (``TransactionalProcessor``).
A broker outage aborts the open batch; the service waits, rebuilds its clients and resumes from the committed
offsets. A record that fails under ``errors_tolerance = "none"`` stops the service before it is committed.

With the rules on, the case states live in the state runtime (``gateway.state``): store ``cases`` of application
``gateway-run-<connector>`` (or the ``--group``, so that two deployments keep apart), one SQLite file per raw
partition under ``state_dir``, its changes committed in the same transaction through the changelog topic
``<application>.cases.changelog``. Each partition's records are validated against that partition's store, so a
kill -9, a restart or a partition moving to another process gives the verdicts of one uninterrupted process, as
long as a case's records share a partition (key raw records by case).
"""

from __future__ import annotations

import gc
import logging
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import Any, cast

from confluent_kafka import Message
from confluent_kafka.admin import AdminClient

from gateway.config import GatewaySettings
from gateway.connectors.base import Connector, RawRecord
from gateway.dlq.headers import KAFKA_DEFAULT_MAX_MESSAGE_BYTES, REPLAYED_FROM, KafkaOrigin
from gateway.errors import FatalError, TransientError
from gateway.kafka.producer import OutboundMessage
from gateway.kafka.reader import MissingTopicError
from gateway.kafka.retry import KafkaRefusedError, RetrySettings, retrying
from gateway.kafka.settings import ConsumerSettings, TransactionSettings
from gateway.kafka.transactions import (
    BatchLimits,
    ProcessorStats,
    TransactionalProcessor,
    TransactionParticipant,
    Transform,
)
from gateway.observability import BatchObserver, Observation, correlation_scope
from gateway.pipeline.case_states import StoredCaseStates, case_state_codec
from gateway.pipeline.file_ingest import CASES_STORE
from gateway.pipeline.outcome import Outcome
from gateway.pipeline.processor import RecordProcessor
from gateway.pipeline.router import IngestStoppedError, Routing, dlq_message_limit, route, tally
from gateway.pipeline.wiring import build_processor
from gateway.state import StateRuntime, StateSettings, ValueCodec
from gateway.validation.state import CaseState, CaseStates

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ServiceOptions:
    """How one service process runs.

    Attributes:
        instance: Stable name of this process; its transactional id, so a restart fences its zombie.
        idle_exit_s: Stop after this long without input (batch jobs and tests); None runs until stopped.
        outage_deadline_s: Longest broker outage to wait out before giving up.
        batch_records: Most records per transaction; None takes the settings' ``batch_size`` (``GATEWAY_BATCH_SIZE``,
            2,000 by default). Fewer transactions cost fewer commit round trips (about 12 ms each on a local broker).
        group_id: Consumer group of the processes that share the raw topic; None: ``gateway-<connector>``. Two
            deployments on one cluster need groups of their own, or they take each other's partitions.
        gc_threshold: The garbage collector's young-generation threshold while the service runs (`young_collections`);
            None keeps the interpreter's (700).
    """

    instance: str = socket.gethostname()
    idle_exit_s: float | None = None
    outage_deadline_s: float = 600.0
    batch_records: int | None = None
    group_id: str | None = None
    gc_threshold: int | None = 20_000


def application_of(connector: str, options: ServiceOptions) -> str:
    """The state runtime's application of a service: its changelog topics and state files are named after it."""
    return options.group_id or f"gateway-run-{connector}"


def batch_limits(options: ServiceOptions, settings: GatewaySettings) -> BatchLimits:
    """A service's transactions: ``options.batch_records`` records at most, else the settings' ``batch_size``."""
    batch = settings.batch_size if options.batch_records is None else options.batch_records
    return BatchLimits(max_records=batch, max_wait_s=1.0, max_attempts=5)


def transform_for(
    connector: Connector[Any],
    processor: RecordProcessor,
    settings: GatewaySettings,
    runtime: StateRuntime | None = None,
    codec: ValueCodec[CaseState] | None = None,
    routing: Routing | None = None,
    observer: BatchObserver | None = None,
) -> Transform:
    """The batch transform: raw messages → canonical events and dead letters (and the case stores' changes).

    Args:
        connector: The connector whose raw topic is read.
        processor: Processes the records.
        settings: Topic names.
        runtime: The state runtime whose store ``cases`` of each partition holds that partition's case states;
            None validates against the processor's own states (rules off: nothing is read or written). Each call
            keeps a partition's states for the batch and writes each changed one back once at its end
            (``StoredCaseStates.flush``), before collecting the changes.
        codec: Case states as bytes; defaults to `case_state_codec`.
        routing: Where outcomes go; defaults to the settings' topics with the default dead-letter size limit.
        observer: Holds each batch's outcome counts until its transaction commits; None counts nothing.
    """
    dlq = settings.topics.dlq(connector.name)
    if routing is None:
        routing = Routing.of(connector, settings.topics.canonical, dlq, KAFKA_DEFAULT_MAX_MESSAGE_BYTES)
    if runtime is not None and codec is None:
        codec = case_state_codec()

    def transform(batch: Sequence[Message]) -> list[OutboundMessage]:
        records: list[RawRecord] = []
        correlations: list[str | None] = []
        originals: list[list[tuple[str, bytes]]] = []
        partitions: list[int] = []
        for msg in batch:
            topic, partition, offset = msg.topic() or "", msg.partition() or 0, msg.offset() or 0
            raw_headers = cast(list[tuple[str, bytes | str | None]] | None, msg.headers())
            if raw_headers:
                original = [(k, v if isinstance(v, bytes) else v.encode()) for k, v in raw_headers if v is not None]
                replayed = next((v.decode() for k, v in original if k == REPLAYED_FROM), None)
                correlations.append(f"replay:{replayed}" if replayed else None)
            else:
                # Most raw messages carry no headers: no per-message lists, look-ups or dicts for them.
                original = []
                correlations.append(None)
            originals.append(original)
            partitions.append(partition)
            position = f"{topic}/{partition}/{offset}"
            records.append(connector.from_message(msg.value() or b"", topic, position, offset, dict(original)))
        out: list[OutboundMessage] = []
        # This batch's case states, one per partition: new each time, so an aborted and redone batch starts afresh.
        opened: list[StoredCaseStates] = []
        if runtime is None or codec is None:
            outcomes = processor.process_batch(records, correlations)
        else:
            outcomes = by_partition(
                processor, partial(_case_states, runtime, codec, opened), records, correlations, partitions
            )
        default_correlation = processor.context.correlation_id
        for msg, outcome, correlation, original in zip(batch, outcomes, correlations, originals, strict=True):
            if outcome.dead_letter is None:
                out.extend(route(outcome, routing, correlation_id=default_correlation))
                continue
            # Only a dead letter names its record's coordinates, key and headers.
            origin = KafkaOrigin(msg.topic() or "", msg.partition() or 0, msg.offset() or 0)
            out.extend(
                route(
                    outcome,
                    routing,
                    correlation_id=correlation or default_correlation,
                    origin=origin,
                    key=msg.key(),
                    original_headers=original,
                )
            )
        if observer is not None:
            observer.stage(tally(routing.connector, outcomes))
        if runtime is not None:
            for states in opened:
                states.flush()  # the batch's state changes become store writes, hence changelog records
            out.extend(runtime.changes())
        return out

    return transform


def run_service(
    connector: Connector[Any],
    settings: GatewaySettings,
    options: ServiceOptions,
    stop: threading.Event | None = None,
    observation: Observation | None = None,
) -> ProcessorStats:
    """Run one connector's raw topic through the pipeline until stopped, idle or failed for good.

    ``observation`` (none by default) gets the committed batches' metrics, the consumer lag and the readiness.

    Raises:
        ConfigError: The raw topic does not exist (provision it first), or a changelog topic has another layout.
    """
    stop = stop or threading.Event()
    processor = build_processor(connector, settings, correlation_id=f"run:{options.instance}:{uuid.uuid4().hex[:8]}")
    runtime = _state_runtime(connector, settings, options) if settings.rules_enabled else None
    admin = AdminClient(dict(settings.kafka.to_librdkafka()))
    dlq = settings.topics.dlq(connector.name)
    routing = Routing.of(connector, settings.topics.canonical, dlq, dlq_message_limit(admin, dlq))
    observation = observation or Observation()
    observer = observation.observer(runtime)
    transform = observer.wrap(
        transform_for(connector, processor, settings, runtime, routing=routing, observer=observer)
    )
    group = options.group_id or f"gateway-{connector.name}"
    consumer = ConsumerSettings(group_id=group, group_instance_id=f"{group}-{options.instance}")
    txn = TransactionSettings(transactional_id=f"gateway-run-{connector.name}-{options.instance}")
    outage = retrying(RetrySettings(max_attempts=10_000, deadline_s=options.outage_deadline_s, max_delay_s=5.0))
    total = ProcessorStats()
    probe = observation.probe(settings.kafka.to_librdkafka(), group_id=group, partitions=observer.partitions)
    try:
        with probe, correlation_scope(processor.context.correlation_id), young_collections(options.gc_threshold):
            for attempt in outage:
                with attempt:
                    stats = _run_once(connector, settings, options, consumer, txn, transform, stop, observer)
                    total += stats
    finally:
        if runtime is not None:
            runtime.close()
    return total


@contextmanager
def young_collections(threshold: int | None) -> Iterator[None]:
    """Collect the young generation every ``threshold`` allocations (None: unchanged) inside the block, then restore.

    Why: a batch's records, events and outcomes (about a hundred container objects a record) live until the batch
    ends, so at the interpreter's 700 the collector ran every ~45 records and re-scanned the batch's survivors over
    and over: 13-17 % of the transform's CPU (``bench/hotpath.py``). Nearly all of them are freed by reference
    counting, so a larger threshold delays only the reclaiming of reference cycles, by a few megabytes at most.
    The setting is the process's; it is restored on leaving, so a caller in the same process (a test) keeps its own.
    """
    if threshold is None:
        yield
        return
    before = gc.get_threshold()
    gc.set_threshold(threshold, *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)


def by_partition(
    processor: RecordProcessor,
    states_of: Callable[[int], CaseStates],
    records: Sequence[RawRecord],
    correlations: Sequence[str | None],
    partitions: Sequence[int],
) -> list[Outcome]:
    """The outcomes of a batch's records, each partition's validated against that partition's case states.

    A partition's records keep their order; a case lives in one partition (raw records are keyed by case), so its
    records are judged in order against its own history. The outcomes come back in the batch's order.

    Args:
        processor: Processes the records.
        states_of: The case states of a partition.
        records: The batch's records, in the order they were consumed.
        correlations: Per record, a correlation id override or None.
        partitions: Per record, its input partition.
    """
    groups: dict[int, list[int]] = {}
    for i, partition in enumerate(partitions):
        groups.setdefault(partition, []).append(i)
    outcomes: dict[int, Outcome] = {}
    for partition, indices in groups.items():
        done = processor.process_batch(
            [records[i] for i in indices], [correlations[i] for i in indices], states=states_of(partition)
        )
        outcomes.update(zip(indices, done, strict=True))
    return [outcomes[i] for i in range(len(records))]


def _case_states(
    runtime: StateRuntime, codec: ValueCodec[CaseState], opened: list[StoredCaseStates], partition: int
) -> CaseStates:
    states = StoredCaseStates(runtime.store(CASES_STORE, partition), codec)
    opened.append(states)
    return states


def _state_runtime(connector: Connector[Any], settings: GatewaySettings, options: ServiceOptions) -> StateRuntime:
    """The case stores of a service, their changelogs made with as many partitions as the raw topic has."""
    state = StateSettings(
        directory=settings.state_dir,
        application=application_of(connector.name, options),
        stores=(CASES_STORE,),
        replication_factor=settings.topics.replication_factor,
    )
    runtime = StateRuntime(settings.kafka, state)
    admin = AdminClient(dict(settings.kafka.to_librdkafka()))
    runtime.ensure_changelogs_for(admin, settings.topics.raw(connector.name))
    return runtime


def _run_once(
    connector: Connector[Any],
    settings: GatewaySettings,
    options: ServiceOptions,
    consumer: ConsumerSettings,
    txn: TransactionSettings,
    transform: Transform,
    stop: threading.Event,
    participant: TransactionParticipant | None,
) -> ProcessorStats:
    limits = batch_limits(options, settings)
    proc = TransactionalProcessor(
        settings.kafka,
        consumer,
        txn,
        transform,
        topics=[settings.topics.raw(connector.name)],
        producer=settings.producer,
        limits=limits,
        participant=participant,
    )
    try:
        with proc:
            proc.run(idle_timeout=options.idle_exit_s, stop=stop)
    except (IngestStoppedError, KafkaRefusedError, MissingTopicError):
        # Rebuilding the processor cannot cure these: the same batch would be refused again, the topic stay missing.
        raise
    except FatalError as exc:
        # After a broker outage the processor gives up on its batch; rebuilding clients and resuming from the
        # committed offsets is safe, because nothing of that batch was committed.
        _log.warning("processor stopped (%s); rebuilding it", exc)
        time.sleep(1.0)
        raise TransientError(str(exc)) from exc
    return proc.stats
