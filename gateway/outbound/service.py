"""``gateway outbound``: the outbound stage as a service, exactly once, on the state runtime.

Reads the canonical topic and the EES inbound topic (``read_committed``), both keyed by subject key and
co-partitioned, so one process holds everything about a subject. For each canonical event it steps the subject's
parts (deadline monitor, EES index, SIS alerts, Eurodac updates) and writes what they produce; for each EES exit it
matches the subject's open decisions. After each batch, and on a tick while the input is quiet, it fires the
deadline timers that came due. Outputs, the store's changelog records and the input offsets commit in one Kafka
transaction:

* outbox messages per target (``gateway.out.<target>``), each rendered and XSD-valid, with a stable id and a
  sequence number per case; a message that fails its XSD never leaves: it goes to the stage's dead-letter topic;
* derived canonical events, into the subject's own partition of the canonical topic: ``NonReturnRecorded`` (source
  MONITOR) when a period ended with no departure, ``DepartureConfirmed`` (evidence EES_EXIT_RECORD) when an exit
  matched a case; the stage reads them back like any event, which is what turns them into SIS messages;
* review records: EES exits it cannot place, with the reason and the original bytes;
* the travel-document index the EES ingest routes exits with.

Input it cannot decode goes to the stage's dead-letter topic with the reason and the original bytes.
"""

from __future__ import annotations

import datetime as dt
import logging
import socket
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import cast

from confluent_kafka import Message
from confluent_kafka.admin import AdminClient

from gateway.adapters.ees.convert import Review as ExitReview
from gateway.adapters.ees.documents import document_key, index_record
from gateway.adapters.ees.match import Duplicate, Matched, match_exit
from gateway.adapters.ees.match import observe as observe_case
from gateway.adapters.eurodac.render import render as render_eurodac
from gateway.adapters.eurodac.update import eurodac_step
from gateway.adapters.riat.lifecycle import riat_step
from gateway.adapters.riat.referrals import index_for
from gateway.adapters.riat.render import CONTENT_TYPE as JSON_CONTENT
from gateway.adapters.riat.render import render as render_riat
from gateway.adapters.sis.lifecycle import sis_step
from gateway.adapters.sis.render import render as render_sis
from gateway.codec.codec import EventCodec, event_codec
from gateway.config import GatewaySettings
from gateway.delivery.outbox import OutboxCodec, OutboxMessage, message_id_for, outbox_record
from gateway.dlq.headers import consumed_dead_letter
from gateway.errors import DecodeError
from gateway.events.headers import EVENT_TYPE_HEADER
from gateway.events.models import BiometricsCaptured, CaseEvent, ReturnDecisionIssued
from gateway.kafka.producer import OutboundMessage
from gateway.kafka.topics import ensure_topics
from gateway.kafka.transactions import ProcessorStats, Transform
from gateway.monitor.clock import Clock, WallClock
from gateway.monitor.monitor import fire, monitor_step
from gateway.observability import Observation
from gateway.outbound.config import OutboundConfig
from gateway.outbound.state import OutboundSubject
from gateway.state import StateRuntime, StateSettings, ValueCodec
from gateway.state.service import ServiceRun, run_stateful

__all__ = [
    "REVIEW_REASON_HEADER",
    "SUBJECTS",
    "OutboundCodecs",
    "OutboundOptions",
    "default_codecs",
    "outbound_transform",
    "run_outbound",
]

_log = logging.getLogger(__name__)

SUBJECTS = "subjects"
"""The stage's store: subject key -> ``OutboundSubject``."""

REVIEW_REASON_HEADER = "gw.review.reason"
REVIEW_SOURCE_HEADER = "gw.review.source"
_XML = "application/xml"


@dataclass(frozen=True, slots=True)
class OutboundOptions:
    """How one outbound process runs.

    Attributes:
        application: Names the changelog topics, the transactional ids and (by default) the consumer group.
        instance: Stable name of this process (its transactional id), so a restart fences its zombie.
        group_id: Consumer group of the processes sharing the partitions; None: the application name.
        idle_exit_s: Stop after this long without input (batch jobs, tests); None runs until stopped.
        batch_records: Most records per transaction.
        outage_deadline_s: Longest broker outage to wait out before giving up.
        session_timeout_s: Group session timeout: a takeover of a stopped instance's partitions waits this long.
        tick_s: How often timers are checked while the input is quiet.
        clock: The monitor's clock (`gateway.monitor.clock`); the wall clock by default.
        timers_per_pass: Most timers fired per partition and transaction (the rest follow on the next pass).
    """

    application: str = "gateway-outbound"
    instance: str = socket.gethostname()
    group_id: str | None = None
    idle_exit_s: float | None = None
    batch_records: int = 2_000
    outage_deadline_s: float = 600.0
    session_timeout_s: float = 45.0
    tick_s: float = 1.0
    clock: Clock = field(default_factory=WallClock)
    timers_per_pass: int = 5_000


@dataclass(frozen=True, slots=True)
class OutboundCodecs:
    """The encodings the stage reads and writes.

    Attributes:
        events: Canonical events (both framings), also those it writes.
        subjects: The store's values.
        outbox: Outbox messages.
    """

    events: EventCodec
    subjects: ValueCodec[OutboundSubject]
    outbox: OutboxCodec


def _millis(at: dt.datetime) -> int:
    return int(at.timestamp() * 1000)


def _instant(ms: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC)


@dataclass(slots=True)
class _Context:
    runtime: StateRuntime
    config: OutboundConfig
    codecs: OutboundCodecs
    settings: GatewaySettings
    secret: bytes
    version: str
    clock: Clock


def outbound_transform(
    runtime: StateRuntime,
    config: OutboundConfig,
    codecs: OutboundCodecs,
    settings: GatewaySettings,
    *,
    clock: Clock,
    version: str,
    timers_per_pass: int = 5_000,
) -> Transform:
    """The batch transform: canonical events and EES exits -> outbox messages, derived events, reviews, state.

    Pure apart from the store it reads and writes through ``runtime`` and the clock it reads; a batch that is
    aborted and redone gives the same outputs, but for the ``recorded_at`` of events a timer writes.
    """
    ctx = _Context(
        runtime, config, codecs, settings, settings.subject_key_secret.get_secret_value().encode(), version, clock
    )
    topics = settings.topics

    def transform(batch: Sequence[Message]) -> list[OutboundMessage]:
        out: list[OutboundMessage] = []
        subjects = _BatchSubjects(runtime, codecs.subjects)
        for message in batch:
            partition, key = message.partition() or 0, message.key() or b""
            try:
                event = codecs.events.decode(message.value() or b"", message.topic() or "", trusted=True)
            except DecodeError as exc:
                out.append(
                    consumed_dead_letter(
                        topics.outbound_dlq, message, exc, connector="outbound", stage="VALUE_CONVERTER"
                    )
                )
                continue
            if message.topic() == topics.ees_inbound:
                out.extend(_on_exit(ctx, subjects, message, event))
            else:
                runtime.store(SUBJECTS, partition).advance(_millis(event.occurred_at))
                out.extend(_on_event(ctx, subjects, message, event, partition, key))
        for partition in runtime.partitions:
            out.extend(_fire_due(ctx, subjects, partition, timers_per_pass))
        subjects.flush()
        return out + runtime.changes()

    return transform


def _on_event(
    ctx: _Context, subjects: _BatchSubjects, message: Message, event: CaseEvent, partition: int, key: bytes
) -> list[OutboundMessage]:
    out: list[OutboundMessage] = []
    before = subjects.get(partition, key) or OutboundSubject()
    sub = before
    store = ctx.runtime.store(SUBJECTS, partition)
    if ctx.config.monitor.enabled:
        step = monitor_step(sub.monitor, event, ctx.config.monitor)
        for timer in step.timers:
            if timer.due_ms is None:
                store.cancel(key, timer.name)
            else:
                store.schedule(key, timer.name, timer.due_ms)
        sub = sub.model_copy(update={"monitor": step.state})
    if ctx.config.ees_match:
        sub = sub.model_copy(update={"ees": observe_case(sub.ees, event)})
        sub, index = _index_documents(ctx, sub, event)
        out.extend(index)
    at = message.timestamp()[1]
    source_at = _instant(at) if at > 0 else None
    if "sis" in ctx.config.targets:
        sis = sis_step(sub.sis, event, ctx.config.sis)
        sub = sub.model_copy(update={"sis": sis.state})
        for sis_message in sis.messages:
            sub, record = _to_outbox(
                ctx, sub, "sis", render_sis(sis_message, ctx.config.sis), event, message, source_at
            )
            out.append(record)
    if "eurodac" in ctx.config.targets:
        eurodac = eurodac_step(sub.eurodac, event, ctx.config.eurodac)
        sub = sub.model_copy(update={"eurodac": eurodac.state})
        for update in eurodac.updates:
            rendered = render_eurodac(update, ctx.config.eurodac)
            sub, record = _to_outbox(ctx, sub, "eurodac", rendered, event, message, source_at)
            out.append(record)
    if "riat" in ctx.config.targets and ctx.config.riat.enabled:
        riat = riat_step(sub.riat, event, ctx.config.riat)
        sub = sub.model_copy(update={"riat": riat.state})
        for riat_message in riat.messages:
            as_json = render_riat(riat_message, ctx.config.riat)
            sub, record = _to_outbox(ctx, sub, "riat", as_json, event, message, source_at, JSON_CONTENT)
            out.append(record)
        # Only referrals that left are indexed: a partner can only report on those.
        out.extend(index_for(riat, event.subject_key, ctx.settings.topics.riat_referrals))
    if sub != before:
        subjects.set(partition, key, sub)
    return out


def _to_outbox(
    ctx: _Context,
    sub: OutboundSubject,
    target: str,
    rendered: object,
    event: CaseEvent,
    message: Message,
    source_at: dt.datetime | None,
    content_type: str = _XML,
) -> tuple[OutboundSubject, OutboundMessage]:
    body = getattr(rendered, "xml", None) or getattr(rendered, "body", None)
    if body is None:
        reason = str(getattr(rendered, "reason", rendered))
        # The reason may quote a value of the message: it goes to the dead letter (which holds the event anyway),
        # not to the log.
        _log.error(
            "a %s message for event %s failed its schema; it went to the dead-letter topic", target, event.event_id
        )
        refused = RuntimeError(f"{target} message refused by its schema: {reason}")
        return sub, consumed_dead_letter(
            ctx.settings.topics.outbound_dlq, message, refused, connector="outbound", stage="OUTBOUND_RENDER"
        )
    kind = str(getattr(rendered, "kind", ""))
    ordering_key = f"{event.member_state}:{event.case_reference}"
    sub, sequence = sub.next_sequence(target, ordering_key)
    outbox = OutboxMessage(
        message_id=message_id_for(target, kind, ordering_key, str(event.event_id), body),
        target=target,
        kind=kind,
        ordering_key=ordering_key,
        sequence=sequence,
        created_at=event.recorded_at,
        source_event_id=str(event.event_id),
        source_event_at=source_at,
        content_type=content_type,
        body=body,
    )
    return sub, outbox_record(ctx.settings.topics.outbox(target), outbox, ctx.codecs.outbox)


def _index_documents(
    ctx: _Context, sub: OutboundSubject, event: CaseEvent
) -> tuple[OutboundSubject, list[OutboundMessage]]:
    p = event.payload
    if not isinstance(p, ReturnDecisionIssued | BiometricsCaptured) or p.identity.travel_document is None:
        return sub, []
    doc = p.identity.travel_document
    doc_key = document_key(ctx.secret, doc.issuing_country, doc.number)
    if doc_key in sub.documents:
        return sub, []
    record = index_record(ctx.settings.topics.ees_documents, doc_key, event.subject_key)
    return sub.model_copy(update={"documents": (*sub.documents, doc_key)}), [record]


def _on_exit(ctx: _Context, subjects: _BatchSubjects, message: Message, inbound: CaseEvent) -> list[OutboundMessage]:
    partition, key = message.partition() or 0, message.key() or b""
    sub = subjects.get(partition, key) or OutboundSubject()
    outcome = match_exit(sub.ees, inbound)
    if isinstance(outcome, Duplicate):
        return []
    if isinstance(outcome, ExitReview):
        return [_review(ctx, message, outcome.reason)]
    assert isinstance(outcome, Matched)
    # Folding the match in at once closes the decision and remembers the exit, so the same record sent again
    # before the derived departure comes back is a duplicate too.
    subjects.set(partition, key, sub.model_copy(update={"ees": observe_case(sub.ees, outcome.event)}))
    return [_canonical(ctx, outcome.event, key, partition)]


def _fire_due(ctx: _Context, subjects: _BatchSubjects, partition: int, limit: int) -> list[OutboundMessage]:
    store = ctx.runtime.store(SUBJECTS, partition)
    now = ctx.clock.now_ms()
    watermark = store.stream_time_ms if now is None else max(store.stream_time_ms, now)
    out: list[OutboundMessage] = []
    for key, name, _due in store.due_timers(watermark, limit):
        store.cancel(key, name)
        sub = subjects.get(partition, key)
        if sub is None or sub.monitor is None:
            continue  # the subject was erased after its timer was set
        state, event = fire(sub.monitor, name, key.decode(), _instant(watermark), ctx.config.monitor, ctx.version)
        subjects.set(partition, key, sub.model_copy(update={"monitor": state}))
        if event is not None:
            out.append(_canonical(ctx, event, key, partition))
    return out


def _canonical(ctx: _Context, event: CaseEvent, key: bytes, partition: int) -> OutboundMessage:
    # The subject's own partition: the stage (and every other consumer) reads it back in order with the subject's
    # other events.
    topic = ctx.settings.topics.canonical
    value = ctx.codecs.events.encode(event, topic)
    headers = ((EVENT_TYPE_HEADER, str(event.event_type).encode()),)
    return OutboundMessage(topic, key, value, headers, partition=partition)


def _review(ctx: _Context, message: Message, reason: str) -> OutboundMessage:
    original = cast(list[tuple[str, bytes]], message.headers() or [])
    headers = (
        *original,
        (REVIEW_REASON_HEADER, reason.encode()),
        (REVIEW_SOURCE_HEADER, b"ees"),
        ("__connect.errors.topic", (message.topic() or "").encode()),
        ("__connect.errors.partition", str(message.partition() or 0).encode()),
        ("__connect.errors.offset", str(message.offset() or 0).encode()),
    )
    return OutboundMessage(ctx.settings.topics.review, message.key(), message.value(), headers)


class _BatchSubjects:
    """The subjects one batch reads and writes: each read from the store at most once, written back once."""

    def __init__(self, runtime: StateRuntime, codec: ValueCodec[OutboundSubject]) -> None:
        self._runtime = runtime
        self._codec = codec
        self._values: dict[tuple[int, bytes], OutboundSubject | None] = {}
        self._changed: set[tuple[int, bytes]] = set()

    def get(self, partition: int, key: bytes) -> OutboundSubject | None:
        slot = (partition, key)
        if slot not in self._values:
            raw = self._runtime.store(SUBJECTS, partition).get(key)
            self._values[slot] = None if raw is None else self._codec.decode(raw)
        return self._values[slot]

    def set(self, partition: int, key: bytes, value: OutboundSubject) -> None:
        self._values[(partition, key)] = value
        self._changed.add((partition, key))

    def flush(self) -> None:
        for partition, key in sorted(self._changed):
            value = self._values[(partition, key)]
            if value is not None:
                self._runtime.store(SUBJECTS, partition).put(key, self._codec.encode(value))
        self._changed.clear()


def default_codecs(settings: GatewaySettings) -> OutboundCodecs:
    """The codecs of a deployment: its event framing, and the released schemas kept readable."""
    from gateway.codec.history import load_history
    from gateway.delivery.outbox import outbox_codec
    from gateway.outbound.state import OUTBOUND_ROOT, subject_codec

    history = tuple(s.schema for s in load_history(root=OUTBOUND_ROOT))
    return OutboundCodecs(
        events=event_codec(settings.registry_url), subjects=subject_codec(history), outbox=outbox_codec()
    )


def state_runtime(settings: GatewaySettings, options: OutboundOptions) -> StateRuntime:
    """The stage's state runtime (one store, ``subjects``)."""
    state = StateSettings(
        directory=settings.state_dir,
        application=options.application,
        stores=(SUBJECTS,),
        replication_factor=settings.topics.replication_factor,
    )
    return StateRuntime(settings.kafka, state)


def provision_outbound(settings: GatewaySettings, config: OutboundConfig, runtime: StateRuntime) -> None:
    """Create the stage's topics and changelogs where missing (the canonical topic must exist)."""
    admin = AdminClient(dict(settings.kafka.to_librdkafka()))
    ensure_topics(admin, settings.topics.outbound_specs(config.targets))
    runtime.ensure_changelogs_for(admin, settings.topics.canonical)


def run_outbound(
    settings: GatewaySettings,
    config: OutboundConfig,
    codecs: OutboundCodecs,
    options: OutboundOptions,
    stop: threading.Event | None = None,
    observation: Observation | None = None,
) -> ProcessorStats:
    """Run the stage until stopped, idle or failed for good; wait out broker outages.

    ``observation`` (none by default) gets the metrics (outbox messages are outputs by topic), lag and readiness.
    """
    from importlib.metadata import version

    runtime = state_runtime(settings, options)
    provision_outbound(settings, config, runtime)
    transform = outbound_transform(
        runtime,
        config,
        codecs,
        settings,
        clock=options.clock,
        version=version("returns-gateway"),
        timers_per_pass=options.timers_per_pass,
    )
    run = ServiceRun(
        application=options.application,
        instance=options.instance,
        group_id=options.group_id,
        idle_exit_s=options.idle_exit_s,
        batch_records=options.batch_records,
        outage_deadline_s=options.outage_deadline_s,
        session_timeout_s=options.session_timeout_s,
        tick_s=options.tick_s,
    )
    topics = [settings.topics.canonical, settings.topics.ees_inbound]
    return run_stateful(settings.kafka, settings.producer, runtime, transform, topics, run, stop, observation)
