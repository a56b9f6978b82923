"""``gateway detect``: the secondary-movement detector as a service, exactly once, on the state runtime.

Reads the canonical topic (``read_committed``) and the erasure requests, keyed alike by subject key and
co-partitioned, so one process holds everything about a subject. Per subject it keeps a ``SubjectTimeline`` in the
``subjects`` store; each relevant event goes through ``observe`` and its alerts go to the alerts topic, in the same
Kafka transaction as the store's changelog records and the input offsets. Processes of one deployment share the
consumer group and split the partitions; a partition that moves is restored from its changelog first.

Messages the detector cannot decode are not skipped: they go to the detector's dead-letter topic with the reason
and the original bytes, as the ingest stage's dead letters do.
"""

from __future__ import annotations

import datetime as dt
import logging
import socket
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import cast

from confluent_kafka import Message
from confluent_kafka.admin import AdminClient

from gateway.codec.codec import EventCodec, event_codec
from gateway.config import GatewaySettings
from gateway.detect.alerts import SecondaryMovementSuspected
from gateway.detect.config import DetectorConfig
from gateway.detect.observe import observe
from gateway.detect.timeline import FACT_EVENT_TYPES, SubjectTimeline
from gateway.dlq.headers import consumed_dead_letter
from gateway.errors import DecodeError
from gateway.events.headers import EVENT_TYPE_HEADER
from gateway.kafka.producer import OutboundMessage
from gateway.kafka.topics import ensure_topics
from gateway.kafka.transactions import ProcessorStats, Transform
from gateway.observability import Observation
from gateway.observability.observer import ALERT_RULE_HEADER
from gateway.state import StateRuntime, StateSettings, ValueCodec
from gateway.state.service import ServiceRun, run_stateful

__all__ = ["SUBJECTS", "DetectorCodecs", "DetectorOptions", "default_codecs", "detector_transform", "run_detector"]

_log = logging.getLogger(__name__)

SUBJECTS = "subjects"
"""The detector's store: subject key -> ``SubjectTimeline``."""

_RELEVANT = frozenset(str(t).encode() for t in FACT_EVENT_TYPES)
_EXPIRY_SWEEP = 1_000


@dataclass(frozen=True, slots=True)
class DetectorOptions:
    """How one detector process runs.

    Attributes:
        application: Names the changelog topics, the transactional ids and (by default) the consumer group; one per
            deployment.
        instance: Stable name of this process (its transactional id), so a restart fences its zombie.
        group_id: Consumer group of the processes sharing the partitions; None: the application name.
        idle_exit_s: Stop after this long without input (batch jobs, tests); None runs until stopped.
        batch_records: Most records per transaction.
        outage_deadline_s: Longest broker outage to wait out before giving up.
        session_timeout_s: Group session timeout: a takeover of a stopped instance's partitions waits this long.
    """

    application: str = "gateway-detect"
    instance: str = socket.gethostname()
    group_id: str | None = None
    idle_exit_s: float | None = None
    batch_records: int = 2_000
    outage_deadline_s: float = 600.0
    session_timeout_s: float = 45.0


@dataclass(frozen=True, slots=True)
class DetectorCodecs:
    """The encodings the detector reads and writes.

    Attributes:
        events: Canonical events (both framings).
        timelines: The store's values.
        alerts: Alert values.
    """

    events: EventCodec
    timelines: ValueCodec[SubjectTimeline]
    alerts: ValueCodec[SecondaryMovementSuspected]


def _millis(at: dt.datetime) -> int:
    return int(at.timestamp() * 1000)


def detector_transform(
    runtime: StateRuntime,
    config: DetectorConfig,
    codecs: DetectorCodecs,
    settings: GatewaySettings,
    on_alert: Callable[[SecondaryMovementSuspected], None] | None = None,
) -> Transform:
    """The batch transform: canonical events and erasure requests -> alerts, dead letters and state changes.

    Pure apart from the store it reads and writes through ``runtime`` (whose changes it returns with the outputs),
    so a batch that is aborted and redone gives the same outputs.
    """
    topics = settings.topics
    alerts_topic, erasures, dlq = topics.alerts, topics.erasures, topics.detector_dlq

    def transform(batch: Sequence[Message]) -> list[OutboundMessage]:
        out: list[OutboundMessage] = []
        touched: set[int] = set()
        timelines = _BatchTimelines(runtime, codecs.timelines)
        for message in batch:
            partition, key = message.partition() or 0, message.key() or b""
            store = runtime.store(SUBJECTS, partition)
            touched.add(partition)
            if message.topic() == erasures:
                timelines.erase(partition, key)
                _log.info(
                    "erased the state of one subject (partition %d, request at offset %d)",
                    partition,
                    message.offset() or 0,
                )
                continue
            headers = cast(list[tuple[str, bytes]], message.headers() or [])
            declared = next((v for k, v in headers if k == EVENT_TYPE_HEADER), None)
            if declared is not None and declared not in _RELEVANT:
                continue  # an event type no rule reads: not even decoded
            try:
                event = codecs.events.decode(message.value() or b"", message.topic() or "", trusted=True)
            except DecodeError as exc:
                out.append(consumed_dead_letter(dlq, message, exc, connector="detector", stage="VALUE_CONVERTER"))
                continue
            if event.event_type not in FACT_EVENT_TYPES:
                continue
            timeline = timelines.get(partition, key)
            store.advance(_millis(event.occurred_at))
            seen = observe(timeline, event, config)
            if seen.timeline is not timeline:
                timelines.set(partition, key, seen.timeline)
            for alert in seen.alerts:
                out.append(
                    OutboundMessage(
                        alerts_topic, key, codecs.alerts.encode(alert), ((ALERT_RULE_HEADER, alert.rule_id.encode()),)
                    )
                )
                if on_alert is not None:
                    on_alert(alert)
        timelines.flush()
        for partition in sorted(touched):
            store = runtime.store(SUBJECTS, partition)
            for expired in store.expired(store.stream_time_ms, _EXPIRY_SWEEP):
                store.delete(expired)  # retention over: the subject's entry goes, with a tombstone in the changelog
        return out + runtime.changes()

    return transform


class _BatchTimelines:
    """The timelines one batch reads and writes: each read from the store at most once, written back once.

    A subject's events often share a batch; between them its timeline stays here instead of going through Avro and
    SQLite each time. A value served from here passes the same expiry test as a read from the store (the entry's
    expiry against the partition's event time), so the outcome never depends on where batches begin and end. The
    values are exact: events read from the topic carry instants to the millisecond, as the state schema does.
    """

    def __init__(self, runtime: StateRuntime, codec: ValueCodec[SubjectTimeline]) -> None:
        self._runtime = runtime
        self._codec = codec
        self._values: dict[tuple[int, bytes], SubjectTimeline | None] = {}
        self._changed: set[tuple[int, bytes]] = set()

    def get(self, partition: int, key: bytes) -> SubjectTimeline | None:
        slot = (partition, key)
        if slot not in self._values:
            raw = self._runtime.store(SUBJECTS, partition).get(key)
            self._values[slot] = None if raw is None else self._codec.decode(raw)
            return self._values[slot]
        value = self._values[slot]
        expires = None if value is None else value.expires_at
        if expires is not None and _millis(expires) <= self._runtime.store(SUBJECTS, partition).stream_time_ms:
            return None  # what the store would answer: retention over
        return value

    def set(self, partition: int, key: bytes, value: SubjectTimeline | None) -> None:
        self._values[(partition, key)] = value
        self._changed.add((partition, key))

    def erase(self, partition: int, key: bytes) -> None:
        self._runtime.store(SUBJECTS, partition).delete(key)
        self._values[(partition, key)] = None
        self._changed.discard((partition, key))

    def flush(self) -> None:
        """Write each changed timeline to its store once (a tombstone for one no longer kept)."""
        for partition, key in sorted(self._changed):
            store, value = self._runtime.store(SUBJECTS, partition), self._values[(partition, key)]
            if value is None:
                store.delete(key)
            else:
                expires = None if value.expires_at is None else _millis(value.expires_at)
                store.put(key, self._codec.encode(value), expires)
        self._changed.clear()


def default_codecs(settings: GatewaySettings) -> DetectorCodecs:
    """The codecs of a deployment: its event framing, and the released state and alert schemas kept readable."""
    from gateway.codec.history import load_history
    from gateway.detect.alerts import ALERT_ROOT, alert_codec
    from gateway.detect.state_codec import TIMELINE_ROOT, timeline_codec

    return DetectorCodecs(
        events=event_codec(settings.registry_url),
        timelines=timeline_codec(history=[s.schema for s in load_history(root=TIMELINE_ROOT)]),
        alerts=alert_codec(history=[s.schema for s in load_history(root=ALERT_ROOT)]),
    )


def state_runtime(settings: GatewaySettings, options: DetectorOptions) -> StateRuntime:
    """The detector's state runtime (one store, ``subjects``)."""
    state = StateSettings(
        directory=settings.state_dir,
        application=options.application,
        stores=(SUBJECTS,),
        replication_factor=settings.topics.replication_factor,
    )
    return StateRuntime(settings.kafka, state)


def provision_detector(settings: GatewaySettings, runtime: StateRuntime) -> None:
    """Create the detector's topics and changelogs where missing (the canonical topic must exist)."""
    admin = AdminClient(dict(settings.kafka.to_librdkafka()))
    ensure_topics(admin, settings.topics.detector_specs())
    runtime.ensure_changelogs_for(admin, settings.topics.canonical)


def run_detector(
    settings: GatewaySettings,
    config: DetectorConfig,
    codecs: DetectorCodecs,
    options: DetectorOptions,
    stop: threading.Event | None = None,
    observation: Observation | None = None,
) -> ProcessorStats:
    """Run the detector until stopped, idle or failed for good; wait out broker outages.

    ``observation`` (none by default) gets the metrics (alerts by rule among them), lag and readiness.
    """
    runtime = state_runtime(settings, options)
    provision_detector(settings, runtime)
    transform = detector_transform(runtime, config, codecs, settings)
    run = ServiceRun(
        application=options.application,
        instance=options.instance,
        group_id=options.group_id,
        idle_exit_s=options.idle_exit_s,
        batch_records=options.batch_records,
        outage_deadline_s=options.outage_deadline_s,
        session_timeout_s=options.session_timeout_s,
        tick_s=None,
    )
    topics = [settings.topics.canonical, settings.topics.erasures]
    return run_stateful(
        settings.kafka,
        settings.producer,
        runtime,
        transform,
        topics,
        run,
        stop,
        observation,
        alert_header=ALERT_RULE_HEADER,
    )
