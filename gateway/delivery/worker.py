"""``gateway deliver``: a target's outbox to the target, losing nothing, each message accepted once, in order per case.

A `TransactionalProcessor` reads the target's outbox topic (``read_committed``). Per batch, the messages are grouped
by ordering key, keeping their order; different keys are delivered concurrently (up to ``max_in_flight``), each key's
messages one after another, the next only once the previous one has its final answer. Transient failures are
retried with tenacity (exponential back-off with jitter, the target's ``Retry-After`` honoured); nothing else is.

Each message ends in exactly one of two places, written in the batch's transaction together with the consumed
offsets: a ``DELIVERED``/``DUPLICATE`` receipt on the receipts topic, or a dead letter on the target's dead-letter
topic (a permanent rejection, which also gets a ``REJECTED`` receipt, or a record that is not an outbox message at
all). So records in = success receipts + dead letters.

If a message is still unfinished when its retries run out (the target is down), the whole batch is aborted and
redone after a back-off: the consumer rewinds to the committed offsets and every message of the batch is sent again
with the same ``Idempotency-Key``; those the target already has come back as duplicates. The same happens after a
crash (kill -9): delivery is at least once on the wire and exactly once in what the target accepts.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import TypeVar, cast

import tenacity
from confluent_kafka import Message, TopicPartition
from confluent_kafka.admin import AdminClient

from gateway.config import GatewaySettings
from gateway.delivery.outbox import OutboxCodec, OutboxMessage
from gateway.delivery.receipts import Outcome, Receipt, ReceiptCodec, receipt_record
from gateway.delivery.settings import DeliverySettings, RetryPolicy
from gateway.delivery.transport import SendOutcome, SendResult, TransientDeliveryError, Transport
from gateway.errors import DecodeError, FatalError, RecordError, TransientError
from gateway.kafka.producer import Headers, OutboundMessage
from gateway.kafka.retry import RetrySettings, retrying
from gateway.kafka.settings import ConsumerSettings, TransactionSettings
from gateway.kafka.topics import ensure_topics
from gateway.kafka.transactions import (
    BatchLimits,
    ProcessorStats,
    TransactionalProcessor,
    TransactionParticipant,
    Transform,
)
from gateway.observability import NULL_METRICS, Metrics, Observation, correlation_scope

__all__ = [
    "DeliveryIncompleteError",
    "DeliveryStats",
    "delivery_transform",
    "group_by_key",
    "message_retrying",
    "provision_delivery",
    "run_delivery",
]

_log = logging.getLogger(__name__)

T = TypeVar("T")

_CONNECT = "__connect.errors."


class DeliveryIncompleteError(TransientError):
    """Some messages of a batch have no final answer (retries ran out, or a stop was asked); the batch is redone.

    Attributes:
        unfinished: How many messages were left without a final answer.
    """

    def __init__(self, unfinished: int, last: BaseException | None) -> None:
        super().__init__(f"{unfinished} message(s) left without a final answer; last failure: {last}")
        self.unfinished = unfinished


@dataclass(frozen=True, slots=True)
class DeliveryStats:
    """What a delivery run did; outcomes count only once their transaction committed.

    Attributes:
        processor: The processor's counters (records in, records out, transactions).
        delivered: Messages the target accepted now.
        duplicates: Messages the target already had.
        rejected: Messages the target refused for good (dead-lettered, with a ``REJECTED`` receipt).
        undecodable: Records that were not outbox messages for this target (dead-lettered).
        sends: Sends made for committed messages, retries included.
    """

    processor: ProcessorStats = field(default_factory=ProcessorStats)
    delivered: int = 0
    duplicates: int = 0
    rejected: int = 0
    undecodable: int = 0
    sends: int = 0

    @property
    def dead_letters(self) -> int:
        """Records written to the dead-letter topic."""
        return self.rejected + self.undecodable


def group_by_key(items: Iterable[T], key: Callable[[T], str]) -> list[list[T]]:
    """Group items by key: groups in order of first appearance, each keeping its items' order."""
    groups: dict[str, list[T]] = {}
    for item in items:
        groups.setdefault(key(item), []).append(item)
    return list(groups.values())


def message_retrying(
    policy: RetryPolicy,
    *,
    give_up_at: float | None = None,
    stop: threading.Event | None = None,
    sleep: Callable[[float], None] | None = None,
) -> tenacity.Retrying:
    """The retry policy of one message: `TransientDeliveryError` only, exponential back-off with jitter.

    A back-off is never shorter than the target's ``Retry-After`` (capped at ``max_retry_after_s``). Retrying stops
    after ``max_attempts`` sends, when the next wait would pass ``deadline_s`` from the first send or the monotonic
    instant ``give_up_at`` (the batch's deadline), or once ``stop`` is set. The last error is then raised as is.

    Args:
        policy: Attempts, back-offs and deadline.
        give_up_at: ``time.monotonic()`` instant after which no send starts.
        stop: Ends waiting and retrying early (a shutdown).
        sleep: How to wait; default waits on ``stop``, so a shutdown cuts a back-off short.
    """
    base = tenacity.wait_exponential(multiplier=policy.initial_backoff_s, max=policy.max_backoff_s)
    jitter = tenacity.wait_random(0, policy.jitter_s)

    def wait(state: tenacity.RetryCallState) -> float:
        delay = float(base(state) + jitter(state))
        error = state.outcome.exception() if state.outcome is not None else None
        if isinstance(error, TransientDeliveryError) and error.retry_after_s is not None:
            delay = max(delay, min(error.retry_after_s, policy.max_retry_after_s))
        return delay

    def should_stop(state: tenacity.RetryCallState) -> bool:
        upcoming = float(getattr(state, "upcoming_sleep", 0.0))
        return (
            state.attempt_number >= policy.max_attempts
            or (stop is not None and stop.is_set())
            or (state.seconds_since_start or 0.0) + upcoming > policy.deadline_s
            or (give_up_at is not None and time.monotonic() + upcoming > give_up_at)
        )

    def log_retry(state: tenacity.RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome is not None else None
        delay = state.next_action.sleep if state.next_action is not None else 0.0
        _log.info("transient delivery failure (send %d), retrying in %.2f s: %s", state.attempt_number, delay, error)

    if sleep is None:
        waiter = stop or threading.Event()

        def sleep(seconds: float) -> None:
            waiter.wait(seconds)

    return tenacity.Retrying(
        retry=tenacity.retry_if_exception_type(TransientDeliveryError),
        stop=should_stop,
        wait=wait,
        sleep=sleep,
        before_sleep=log_retry,
        reraise=True,
    )


@dataclass(frozen=True, slots=True)
class _Item:
    record: Message
    message: OutboxMessage


@dataclass(frozen=True, slots=True)
class _Done:
    result: SendResult
    sends: int
    at: dt.datetime


class _Outcomes:
    """Counts of the batch being committed; a `TransactionParticipant`, so aborted batches never count."""

    def __init__(self, target: str = "", metrics: Metrics = NULL_METRICS) -> None:
        self.pending = DeliveryStats()
        self.total = DeliveryStats()
        self._target = target
        self._metrics = metrics

    def assigned(self, partitions: Sequence[TopicPartition]) -> None:
        """Nothing to restore: the worker keeps no state of its own."""

    def revoked(self, partitions: Sequence[TopicPartition]) -> None:
        """Nothing to release."""

    def committed(self, delivered: object) -> None:
        """The batch committed: its outcomes count."""
        p, t = self.pending, self.total
        finished = {"delivered": p.delivered, "duplicate": p.duplicates, "rejected": p.rejected}
        self._metrics.outbox(self._target, {**finished, "undecodable": p.undecodable})
        self.total = replace(
            t,
            delivered=t.delivered + p.delivered,
            duplicates=t.duplicates + p.duplicates,
            rejected=t.rejected + p.rejected,
            undecodable=t.undecodable + p.undecodable,
            sends=t.sends + p.sends,
        )
        self.pending = DeliveryStats()

    def aborted(self) -> None:
        """The batch will be redone: forget its outcomes."""
        self.pending = DeliveryStats()


def _now() -> dt.datetime:
    now = dt.datetime.now(dt.UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


class _Deliverer:
    """Delivers one batch: keys concurrently, each key's messages in order, transient failures retried."""

    def __init__(
        self, transport: Transport, options: DeliverySettings, pool: ThreadPoolExecutor, stop: threading.Event
    ) -> None:
        self._transport = transport
        self._options = options
        self._pool = pool
        self._stop = stop

    def deliver(self, items: Sequence[_Item]) -> tuple[dict[int, _Done], BaseException | None]:
        """Final answers by position in ``items``, and the last failure of a message left unfinished (if any)."""
        give_up_at = time.monotonic() + self._options.batch_deadline_s
        indexed = list(enumerate(items))
        groups = group_by_key(indexed, lambda pair: pair[1].message.ordering_key)
        done: dict[int, _Done] = {}
        failures: list[BaseException] = []
        for answers, failure in self._pool.map(lambda g: self._deliver_case(g, give_up_at), groups):
            done.update(answers)
            if failure is not None:
                failures.append(failure)
        return done, (failures[-1] if failures else None)

    def _deliver_case(
        self, case: list[tuple[int, _Item]], give_up_at: float
    ) -> tuple[dict[int, _Done], BaseException | None]:
        answers: dict[int, _Done] = {}
        for index, item in case:
            if self._stop.is_set() or time.monotonic() >= give_up_at:
                return answers, TransientError("batch deadline reached or stop asked before this message")
            sends = [0]
            try:
                result = message_retrying(self._options.retry, give_up_at=give_up_at, stop=self._stop)(
                    self._send, item.message, sends
                )
            except TransientDeliveryError as exc:
                # Later messages of this case must not overtake this one: the case stops here for this batch.
                return answers, exc
            answers[index] = _Done(result, sends[0], _now())
        return answers, None

    def _send(self, message: OutboxMessage, sends: list[int]) -> SendResult:
        sends[0] += 1
        return self._transport.send(message)


def delivery_transform(
    target: str,
    transport: Transport,
    options: DeliverySettings,
    settings: GatewaySettings,
    *,
    codec: OutboxCodec,
    receipts: ReceiptCodec,
    pool: ThreadPoolExecutor,
    stop: threading.Event,
    outcomes: _Outcomes | None = None,
) -> Transform:
    """The batch transform: outbox records -> deliveries -> receipts and dead letters, in input order.

    Raises (from the transform):
        DeliveryIncompleteError: A message has no final answer; the processor aborts and rewinds the batch.
    """
    receipts_topic, dlq = settings.topics.receipts, settings.topics.outbox_dlq(target)
    deliverer = _Deliverer(transport, options, pool, stop)

    def transform(batch: list[Message]) -> list[OutboundMessage]:
        items: list[_Item] = []
        dead: dict[int, OutboundMessage] = {}
        for position, record in enumerate(batch):
            try:
                message = codec.decode(record.value() or b"")
            except DecodeError as exc:
                dead[position] = _dead_letter(dlq, record, target, exc, "VALUE_CONVERTER")
                continue
            if message.target != target:
                error = RecordError(f"a message for target {message.target!r} on the outbox of {target!r}")
                dead[position] = _dead_letter(dlq, record, target, error, "ROUTE")
                continue
            items.append(_Item(record, message))
        done, failure = deliverer.deliver(items)
        if len(done) < len(items):
            raise DeliveryIncompleteError(len(items) - len(done), failure)
        counts = DeliveryStats(undecodable=len(dead))
        by_record = {id(item.record): (item, done[i]) for i, item in enumerate(items)}
        out: list[OutboundMessage] = []
        for position, record in enumerate(batch):
            if position in dead:
                out.append(dead[position])
                continue
            item, answer = by_record[id(record)]
            receipt = _receipt(item.message, answer, transport.name)
            out.append(receipt_record(receipts_topic, receipt, receipts))
            if receipt.outcome is Outcome.REJECTED:
                out.append(_rejected_letter(dlq, item, answer, target, transport))
            counts = _count(counts, receipt)
        if outcomes is not None:
            outcomes.pending = counts
        return out

    return transform


def _count(counts: DeliveryStats, receipt: Receipt) -> DeliveryStats:
    field_name = {Outcome.DELIVERED: "delivered", Outcome.DUPLICATE: "duplicates", Outcome.REJECTED: "rejected"}
    name = field_name[receipt.outcome]
    return replace(counts, **{name: getattr(counts, name) + 1, "sends": counts.sends + receipt.attempts})


def _receipt(message: OutboxMessage, answer: _Done, transport: str) -> Receipt:
    outcome = {
        SendOutcome.ACCEPTED: Outcome.DELIVERED,
        SendOutcome.DUPLICATE: Outcome.DUPLICATE,
        SendOutcome.REJECTED: Outcome.REJECTED,
    }[answer.result.outcome]
    return Receipt(
        message_id=message.message_id,
        target=message.target,
        kind=message.kind,
        ordering_key=message.ordering_key,
        sequence=message.sequence,
        outcome=outcome,
        attempts=answer.sends,
        status_code=answer.result.status_code,
        response=answer.result.response,
        transport=transport,
        delivered_at=answer.at,
        source_event_at=message.source_event_at,
    )


def _error_headers(record: Message, target: str, error: Exception, stage: str) -> Headers:
    original = cast(list[tuple[str, bytes]], record.headers() or [])
    return (
        *original,
        (_CONNECT + "topic", (record.topic() or "").encode()),
        (_CONNECT + "partition", str(record.partition() or 0).encode()),
        (_CONNECT + "offset", str(record.offset() or 0).encode()),
        (_CONNECT + "connector.name", f"deliver-{target}".encode()),
        (_CONNECT + "stage", stage.encode()),
        (_CONNECT + "exception.class.name", f"{type(error).__module__}.{type(error).__qualname__}".encode()),
        (_CONNECT + "exception.message", str(error).encode("utf-8", "replace")),
        ("gw.errors.ts", str(int(time.time() * 1000)).encode()),
    )


def _dead_letter(topic: str, record: Message, target: str, error: Exception, stage: str) -> OutboundMessage:
    return OutboundMessage(topic, record.key(), record.value(), _error_headers(record, target, error, stage))


def _rejected_letter(topic: str, item: _Item, answer: _Done, target: str, transport: Transport) -> OutboundMessage:
    result = answer.result
    headers = (
        *_error_headers(item.record, target, result.rejection(), "DELIVER"),
        (_CONNECT + "class.name", f"{type(transport).__module__}.{type(transport).__qualname__}".encode()),
        ("gw.delivery.transport", transport.name.encode()),
        ("gw.delivery.code", result.code.encode()),
        ("gw.delivery.status", b"" if result.status_code is None else str(result.status_code).encode()),
        ("gw.delivery.response", (result.response or "").encode("utf-8", "replace")),
        ("gw.delivery.attempts", str(answer.sends).encode()),
    )
    return OutboundMessage(topic, item.record.key(), item.record.value(), headers)


def provision_delivery(settings: GatewaySettings, target: str) -> None:
    """Create the target's outbox, dead-letter and receipts topics where missing."""
    admin = AdminClient(dict(settings.kafka.to_librdkafka()))
    ensure_topics(admin, settings.topics.delivery_specs(target))


def run_delivery(
    settings: GatewaySettings,
    target: str,
    transport: Transport,
    options: DeliverySettings,
    stop: threading.Event | None = None,
    *,
    codec: OutboxCodec | None = None,
    receipts: ReceiptCodec | None = None,
    observation: Observation | None = None,
) -> DeliveryStats:
    """Deliver the target's outbox until stopped, idle or failed for good; wait out broker and target outages.

    Args:
        settings: The gateway's settings (Kafka connection, topic names).
        target: The target (``sis`` ...): reads ``settings.topics.outbox(target)``.
        transport: Sends the messages; the caller closes it.
        options: Concurrency, batches, retries, group and instance names.
        stop: Ends the run after the current batch (and cuts back-offs short).
        codec: Outbox codec; default `outbox_codec()`.
        receipts: Receipt codec; default `receipt_codec()`.
        observation: Gets the metrics (messages finished by outcome, pending ones), lag and readiness; none by
            default.

    Returns:
        The run's counters.

    Raises:
        FatalError: An outage outlasted ``options.outage_deadline_s``, or the processor failed for good.
    """
    from gateway.delivery.outbox import outbox_codec
    from gateway.delivery.receipts import receipt_codec

    stop = stop or threading.Event()
    provision_delivery(settings, target)
    group = options.group(target)
    consumer = ConsumerSettings(
        group_id=group,
        group_instance_id=f"{group}-{options.instance}",
        max_poll_interval_ms=options.max_poll_interval_ms,
    )
    txn = TransactionSettings(transactional_id=f"{options.application}-{target}-{options.instance}")
    observation = observation or Observation()
    outcomes = _Outcomes(target, observation.metrics)
    observer = observation.observer(outcomes)
    total = ProcessorStats()

    def wait(seconds: float) -> None:
        stop.wait(seconds)

    outage = retrying(
        RetrySettings(max_attempts=1_000_000, deadline_s=options.outage_deadline_s, max_delay_s=5.0), sleep=wait
    )
    with ThreadPoolExecutor(max_workers=options.max_in_flight, thread_name_prefix=f"deliver-{target}") as pool:
        transform = delivery_transform(
            target,
            transport,
            options,
            settings,
            codec=codec or outbox_codec(),
            receipts=receipts or receipt_codec(),
            pool=pool,
            stop=stop,
            outcomes=outcomes,
        )
        probe = observation.probe(
            settings.kafka.to_librdkafka(),
            group_id=group,
            partitions=observer.partitions,
            on_total=lambda pending: observation.metrics.outbox(target, {}, pending),
        )
        try:
            with probe, correlation_scope(f"deliver:{target}:{options.instance}"):
                for attempt in outage:
                    with attempt:
                        if stop.is_set():
                            break
                        total += _run_processor(
                            settings, options, consumer, txn, observer.wrap(transform), target, observer, stop
                        )
        except TransientError as exc:
            raise FatalError(f"delivery to {target} stalled for {options.outage_deadline_s:.0f} s: {exc}") from exc
    return replace(outcomes.total, processor=total)


def _run_processor(
    settings: GatewaySettings,
    options: DeliverySettings,
    consumer: ConsumerSettings,
    txn: TransactionSettings,
    transform: Transform,
    target: str,
    outcomes: TransactionParticipant,
    stop: threading.Event,
) -> ProcessorStats:
    """One processor's life: its batches, with unfinished ones redone after a back-off, until idle or stopped."""
    proc = TransactionalProcessor(
        settings.kafka,
        consumer,
        txn,
        transform,
        topics=[settings.topics.outbox(target)],
        producer=settings.producer,
        limits=BatchLimits(max_records=options.batch_size, max_wait_s=options.batch_wait_s),
        participant=outcomes,
    )
    redo = message_retrying(
        options.retry.model_copy(update={"max_attempts": 1_000_000, "deadline_s": options.outage_deadline_s}),
        stop=stop,
    )
    try:
        with proc:
            for attempt in redo:
                with attempt:
                    try:
                        proc.run(idle_timeout=options.idle_exit_s, stop=stop)
                    except DeliveryIncompleteError as exc:
                        if stop.is_set():
                            return proc.stats
                        # The processor aborted and rewound the batch; the same processor redoes it after a back-off.
                        _log.warning("delivery to %s incomplete, redoing the batch: %s", target, exc)
                        raise TransientDeliveryError(str(exc), code="incomplete") from exc
            return proc.stats
    except FatalError as exc:
        _log.warning("delivery worker stopped (%s); rebuilding it", exc)
        stop.wait(1.0)
        raise TransientError(str(exc)) from exc
