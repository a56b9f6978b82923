"""Exactly-once consume-transform-produce with Kafka transactions.

Each batch is one transaction: the outputs of ``transform`` and the input offsets commit together, or neither does.
Failures are handled as librdkafka prescribes (``examples/eos_transactions.py``):

* ``retriable()``: the same call is retried (the one retry policy, `gateway.kafka.retry.retrying`);
* ``txn_requires_abort()``: the transaction is aborted and the consumer rewound to the committed offsets, so the
  batch is read and transformed again;
* ``fatal()`` (a fenced producer, a broken idempotence sequence): the producer is discarded, a new one is made with
  the same ``transactional.id`` (``init_transactions`` fences the old epoch and aborts what it left open) and the
  consumer is rewound;
* a refusal for good (``gateway.kafka.retry.is_permanent``: a message over the topic's ``max.message.bytes``, a
  denied ACL), which librdkafka reports as abortable: the transaction is aborted and ``KafkaRefusedError`` raised at
  once. Redoing the batch would produce the same message and be refused again, forever.

``transform`` must be a pure function of its batch: it may run more than once for the same records. If it raises
(a bug), the transaction is aborted, the consumer rewound, and the exception propagates out of `run`.

``TransactionSettings.transaction_timeout_ms`` must stay at or below the broker's ``transaction.max.timeout.ms``;
one batch must also finish within it and within the consumer's ``max.poll.interval.ms``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from types import TracebackType
from typing import Any, Protocol, Self

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition

from gateway.errors import FatalError, GatewayError
from gateway.kafka.producer import IdempotentProducer, OutboundMessage
from gateway.kafka.retry import (
    KafkaErrorInfo,
    KafkaFatalError,
    KafkaRefusedError,
    KafkaTransientError,
    RetrySettings,
    classify,
    error_of,
    is_permanent,
    retrying,
)
from gateway.kafka.settings import ConsumerSettings, KafkaSettings, ProducerSettings, TransactionSettings

__all__ = [
    "BatchLimits",
    "ProcessorStats",
    "AbortableTransactionError",
    "TransactionalProcessor",
    "TransactionParticipant",
    "TransactionalProducer",
    "Transform",
    "transaction_error",
]

_log = logging.getLogger(__name__)

# Closing must not hang on a broker that is away: a failed abort is left to the coordinator.
_RELEASE_ABORT_S = 5.0

Transform = Callable[[list[Message]], Sequence[OutboundMessage]]
"""A pure function from a batch of input records to the records to produce."""


class TransactionParticipant(Protocol):
    """Local state that must follow the processor's transactions (``gateway.state.StateRuntime``).

    Its changes travel in the batch's outputs (``transform`` adds them); these hooks tell it when they became
    durable, when they were thrown away, and which partitions it must be ready for.
    """

    def assigned(self, partitions: Sequence[TopicPartition]) -> None:
        """Partitions were assigned; be ready (restored) before this returns: their records come next."""
        ...

    def revoked(self, partitions: Sequence[TopicPartition]) -> None:
        """Partitions were taken away (any open transaction was aborted first)."""
        ...

    def committed(self, delivered: Mapping[tuple[str, int], int]) -> None:
        """The batch's transaction committed; ``delivered`` has the last offset written per (topic, partition)."""
        ...

    def aborted(self) -> None:
        """The batch's transaction was aborted; its transform will run again."""
        ...


class AbortableTransactionError(GatewayError):
    """The current transaction failed and must be aborted; its batch is then redone.

    Deliberately not a ``TransientError``: retrying the failed call itself would fail again.

    Attributes:
        info: The underlying error.
    """

    def __init__(self, info: KafkaErrorInfo) -> None:
        super().__init__(str(info))
        self.info = info


class TransactionalProducer(IdempotentProducer):
    """An idempotent producer with a ``transactional.id`` and the transaction calls, their errors classified.

    Each call raises ``KafkaTransientError`` (retry the call), `AbortableTransactionError` (abort, redo the batch),
    ``KafkaFatalError`` (discard this producer and make a new one) or ``KafkaRefusedError`` (Kafka refused a message
    or request for good; `commit` has aborted the transaction already: stop).

    Args:
        kafka: Connection settings.
        transaction: Transactional id and timeout.
        settings: Producer tuning.
        timeout_s: Time limit for each transaction call.
    """

    def __init__(
        self,
        kafka: KafkaSettings,
        transaction: TransactionSettings,
        settings: ProducerSettings | None = None,
        *,
        timeout_s: float = 30.0,
    ) -> None:
        super().__init__(kafka, settings, transaction=transaction)
        self._timeout_s = timeout_s
        self._open = False

    @property
    def in_transaction(self) -> bool:
        """Whether a transaction was begun and has not been committed or aborted yet."""
        return self._open

    def init_transactions(self) -> None:
        """Register the transactional id, fencing older producers with it and aborting what they left open."""
        self._call("init_transactions", self._client.init_transactions, self._timeout_s)

    def begin(self) -> None:
        """Start a transaction (a local operation)."""
        self._call("begin_transaction", self._client.begin_transaction)
        self._open = True

    def send_offsets(self, offsets: list[TopicPartition], group_metadata: Any) -> None:
        """Make the consumer offsets part of the transaction (bounded by the producer's call timeout).

        Unbounded, as confluent-kafka's default is, the call can wait for ever on a group coordinator that a killed
        broker took with it; bounded, it fails as a transaction error and the batch is redone.
        """
        self._call(
            "send_offsets_to_transaction",
            self._client.send_offsets_to_transaction,
            offsets,
            group_metadata,
            self._timeout_s,
        )

    def commit(self) -> None:
        """Flush the outputs and commit them together with the offsets.

        Raises:
            KafkaRefusedError: Kafka refused one of the transaction's messages for good; the transaction was aborted
                (if the abort itself fails, the producer is left to be discarded, which aborts at the coordinator).
        """
        try:
            self._call("commit_transaction", self._client.commit_transaction, self._timeout_s)
        except (AbortableTransactionError, KafkaFatalError, KafkaRefusedError) as exc:
            refused = self.refusal(self.take_failures())
            if refused is None and isinstance(exc, KafkaRefusedError):
                refused = exc
            if refused is None:
                raise
            if not exc.info.fatal:
                self._abort_quietly()
            raise refused from exc
        self._open = False

    def abort(self, timeout_s: float | None = None) -> None:
        """Abort the open transaction, if any; its outputs stay invisible to ``read_committed`` consumers."""
        if not self._open:
            return
        self._call("abort_transaction", self._client.abort_transaction, timeout_s or self._timeout_s)
        self._open = False

    def _abort_quietly(self, timeout_s: float | None = None) -> None:
        try:
            self.abort(timeout_s)
        except GatewayError as exc:
            # Whatever made us abort is the news; the coordinator aborts on its own when the next producer with this
            # id starts, or after transaction.timeout.ms.
            _log.info("abort failed; the coordinator will abort the transaction: %s", exc)

    def _release(self) -> None:
        if self._open and not self._closed and self._fatal is None:
            # Left open, the transaction is aborted by the coordinator only when the next producer with this id calls
            # init_transactions, which then waits for it (librdkafka warns "Failed to acquire transactional PID ...
            # concurrent operation ... retrying") and read_committed consumers wait until then. Abort it now.
            self._client.purge()
            self._abort_quietly(_RELEASE_ABORT_S)
        super()._release()

    def discard(self) -> None:
        """Release a producer whose transaction is dead, without waiting for its queued messages."""
        self.take_failures()
        self._release()

    def _call(self, operation: str, fn: Callable[..., None], *args: Any) -> None:
        try:
            fn(*args)
        except KafkaException as exc:
            raise transaction_error(error_of(exc), operation) from exc


def transaction_error(error: KafkaError, operation: str) -> GatewayError:
    """Map an error of a transaction call to what the caller must do.

    Returns:
        ``KafkaRefusedError`` if Kafka refused for good (`is_permanent`, even when abortable or fatal: redoing, or a
        new producer, would be refused again); ``KafkaFatalError`` if ``fatal()``; `AbortableTransactionError` if
        ``txn_requires_abort()``; ``KafkaTransientError`` if ``retriable()``; otherwise ``KafkaFatalError``, as
        librdkafka prescribes ("treat any other error as a fatal error").
    """
    info = KafkaErrorInfo.of(error, operation)
    if is_permanent(error.code()):
        return KafkaRefusedError(info)
    if error.fatal():
        return KafkaFatalError(info)
    if error.txn_requires_abort():
        return AbortableTransactionError(info)
    if error.retriable():
        return KafkaTransientError(info)
    return KafkaFatalError(info)


@dataclass(frozen=True, slots=True)
class BatchLimits:
    """How big one batch (one transaction) may grow.

    Attributes:
        max_records: Most input records per batch.
        max_wait_s: Longest wait for a batch to fill.
        max_attempts: Aborted attempts in a row after which the processor gives up with ``FatalError``, so that a
            failure which redoing cannot cure (an output too large for the broker, a denied ACL) stops the pipeline
            instead of looping.
    """

    max_records: int = 500
    max_wait_s: float = 1.0
    max_attempts: int = 5

    def __post_init__(self) -> None:
        if self.max_records < 1 or self.max_wait_s <= 0 or self.max_attempts < 1:
            raise ValueError(f"batch limits must be positive: {self}")


@dataclass(frozen=True, slots=True)
class ProcessorStats:
    """Counters of a processor; records count only once their transaction committed.

    Attributes:
        batches_committed: Transactions committed.
        batches_aborted: Transactions aborted (their batches are redone).
        records_in: Input records whose offsets were committed.
        records_out: Output records committed.
        producers_recreated: Producers replaced after a fatal error (such as being fenced).
        ticks_committed: Transactions without input committed on a tick (see `TransactionalProcessor.run`).
    """

    batches_committed: int = 0
    batches_aborted: int = 0
    records_in: int = 0
    records_out: int = 0
    producers_recreated: int = 0
    ticks_committed: int = 0

    def __add__(self, other: ProcessorStats) -> ProcessorStats:
        """The counters of two runs together (a service adds up the processors it rebuilt after outages)."""
        return ProcessorStats(*(getattr(self, f) + getattr(other, f) for f in self.__dataclass_fields__))


class TransactionalProcessor:
    """Consume a batch, transform it, and commit outputs and input offsets in one transaction, in a loop.

    Use as a context manager (``close`` on exit) and drive with `run`.

    Args:
        kafka: Connection settings.
        consumer: Consumer group settings (``isolation_level`` should stay ``read_committed``).
        transaction: Transactional id and timeout; one id per processor instance.
        transform: Pure function from a batch of input records to output records.
        topics: Input topics.
        producer: Producer tuning.
        limits: Batch size and wait.
        retry: Retry policy for retriable Kafka calls.
        timeout_s: Time limit for each blocking Kafka call.
        participant: Local state kept in step with the transactions (restored on assignment, committed after
            each Kafka commit, rolled back after each abort).
    """

    def __init__(
        self,
        kafka: KafkaSettings,
        consumer: ConsumerSettings,
        transaction: TransactionSettings,
        transform: Transform,
        *,
        topics: Sequence[str],
        producer: ProducerSettings | None = None,
        limits: BatchLimits | None = None,
        retry: RetrySettings | None = None,
        timeout_s: float = 30.0,
        participant: TransactionParticipant | None = None,
    ) -> None:
        if not topics:
            raise ValueError("at least one input topic is needed")
        self._kafka = kafka
        self._consumer_settings = consumer
        self._transaction = transaction
        self._producer_settings = producer
        self._transform = transform
        self._topics = list(topics)
        self._limits = limits or BatchLimits()
        self._retry = retrying(retry or RetrySettings())
        self._timeout_s = timeout_s
        self._participant = participant
        self._consumer: Consumer | None = None
        self._producer: TransactionalProducer | None = None
        self._in_txn = False
        self._failures_in_row = 0
        self._stats = ProcessorStats()

    @property
    def stats(self) -> ProcessorStats:
        """A snapshot of the counters."""
        return self._stats

    def start(self) -> None:
        """Create the producer (``init_transactions``) and subscribe the consumer; `run` calls this."""
        if self._producer is None:
            self._producer = self._new_producer()
        if self._consumer is None:
            consumer = Consumer(self._consumer_settings.to_librdkafka(self._kafka))
            consumer.subscribe(
                self._topics, on_assign=self._on_assign, on_revoke=self._on_revoke, on_lost=self._on_revoke
            )
            self._consumer = consumer

    def run(
        self,
        max_batches: int | None = None,
        idle_timeout: float | None = None,
        stop: threading.Event | None = None,
        tick_s: float | None = None,
    ) -> ProcessorStats:
        """Process batches until a bound is reached.

        Args:
            max_batches: Stop after this many batches (committed or aborted); None for no limit.
            idle_timeout: Stop after this many seconds without input; None to keep waiting.
            stop: Stop when this event is set (checked between batches).
            tick_s: When no input came for this long, call ``transform`` with an empty batch (and commit what it
                returns, without offsets), so work that time alone makes due (timers on a wall clock) is done while
                the input is quiet. None: only input drives ``transform``.

        Returns:
            The counters at the end.

        Raises:
            Exception: Whatever ``transform`` raised (after the batch was aborted and rewound).
            TransientError: A retriable failure outlasted the retry policy (after abort and rewind).
            FatalError: A batch failed ``limits.max_attempts`` times in a row, a new producer could not be
                initialised, or the consumer failed fatally.
        """
        self.start()
        handled = 0
        idle_since = last_work = time.monotonic()
        while not (stop is not None and stop.is_set()) and (max_batches is None or handled < max_batches):
            batch = self._poll_batch()
            if batch:
                self._process(batch)
                handled += 1
                idle_since = last_work = time.monotonic()
                continue
            if tick_s is not None and time.monotonic() - last_work >= tick_s and self._need_consumer().assignment():
                self._tick()
                last_work = time.monotonic()
            if idle_timeout is not None:
                # Idle means caught up with partitions to read, not waiting for a rebalance to hand some out.
                if not self._need_consumer().assignment():
                    idle_since = time.monotonic()
                elif time.monotonic() - idle_since >= idle_timeout:
                    break
        return self._stats

    def close(self) -> None:
        """Abort an open transaction, leave the group and release both clients."""
        if self._in_txn:
            self._abort()
        if self._consumer is not None:
            # close() revokes the assignment, which closes the participant's partitions.
            self._consumer.close()
            self._consumer = None
        if self._producer is not None:
            self._producer.close(self._timeout_s)
            self._producer = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- one batch -------------------------------------------------------------------------------------------------

    def _poll_batch(self) -> list[Message]:
        consumer = self._need_consumer()
        messages = consumer.consume(self._limits.max_records, self._limits.max_wait_s)
        records: list[Message] = []
        for message in messages:
            error = message.error()
            if error is None:
                records.append(message)
            elif error.fatal():
                raise KafkaFatalError(KafkaErrorInfo.of(error, "consume"))
            else:
                # Consumer-side errors in the stream are events (a broker went away, partition EOF); librdkafka
                # recovers from them on its own.
                _log.warning("consumer: %s", error.str())
        # A rebalance inside consume() may have taken partitions away; their records belong to the new owner now.
        assigned = {(tp.topic, tp.partition) for tp in consumer.assignment()}
        return [m for m in records if (m.topic(), m.partition()) in assigned]

    def _process(self, batch: list[Message]) -> None:
        try:
            produced = self._transact(batch)
        except (AbortableTransactionError, KafkaFatalError) as exc:
            self._redo_later(batch, exc)
        except BaseException:
            # A bug in transform, an outage past the retry budget, or an interrupt: leave nothing half done.
            self._give_up(batch)
            raise
        else:
            self._failures_in_row = 0
            self._count(batches_committed=1, records_in=len(batch), records_out=produced)

    def _tick(self) -> None:
        """One transaction without input: the transform's outputs for an empty batch, or nothing at all."""
        producer = self._need_producer()
        producer.begin()
        self._in_txn = True
        try:
            producer.take_delivered_offsets()
            outputs = self._transform([])
            if not outputs:
                self._abort()  # nothing was sent, so the abort stays local to the producer
                return
            for output in outputs:
                producer.send(output)
            self._retry(producer.commit)
        except (AbortableTransactionError, KafkaFatalError) as exc:
            # Nothing was consumed, so there is nothing to rewind: the next tick computes the same outputs again.
            _log.warning("tick transaction failed, retrying on the next tick: %s", exc)
            if isinstance(exc, KafkaFatalError):
                self._recreate_producer()
                if self._participant is not None:
                    self._participant.aborted()
            else:
                self._abort()
            self._count(batches_aborted=1)
            return
        except BaseException:
            self._abort()
            raise
        self._in_txn = False
        if self._participant is not None:
            producer.poll(0)
            self._participant.committed(producer.take_delivered_offsets())
        self._count(ticks_committed=1, records_out=len(outputs))

    def _redo_later(self, batch: list[Message], exc: AbortableTransactionError | KafkaFatalError) -> None:
        """Abort (or, for a fatal error, replace the producer) and rewind, so the batch is read again."""
        self._failures_in_row += 1
        if self._failures_in_row >= self._limits.max_attempts:
            attempts = self._failures_in_row
            self._give_up(batch)
            raise FatalError(f"batch failed {attempts} times in a row; last: {exc}") from exc
        if isinstance(exc, AbortableTransactionError):
            _log.warning("aborting the transaction and redoing the batch: %s", exc)
            self._abort()
        else:
            _log.error("producer unusable; recreating it and redoing the batch: %s", exc)
            self._recreate_producer()
            if self._participant is not None:
                self._participant.aborted()
        self._rewind(batch)
        self._count(batches_aborted=1)

    def _give_up(self, batch: list[Message]) -> None:
        self._failures_in_row = 0
        self._count(batches_aborted=1)
        self._abort()
        self._rewind(batch)

    def _transact(self, batch: list[Message]) -> int:
        producer = self._need_producer()
        producer.begin()
        self._in_txn = True
        producer.take_delivered_offsets()  # offsets of earlier transactions say nothing about this one
        outputs = self._transform(list(batch))
        for output in outputs:
            producer.send(output)
        consumer = self._need_consumer()
        self._retry(producer.send_offsets, _next_offsets(batch), consumer.consumer_group_metadata())
        self._retry(producer.commit)
        self._in_txn = False
        if self._participant is not None:
            producer.poll(0)  # commit flushed every message; serve the reports that carry their offsets
            self._participant.committed(producer.take_delivered_offsets())
        return len(outputs)

    # -- recovery --------------------------------------------------------------------------------------------------

    def _abort(self) -> None:
        producer = self._producer
        if producer is None or not self._in_txn:
            return
        try:
            self._retry(producer.abort)
        except GatewayError as exc:
            # A producer that cannot abort is replaced; init_transactions on the new one aborts at the coordinator.
            _log.error("abort failed, recreating the producer: %s", exc)
            self._recreate_producer()
        producer.take_failures()  # deliveries of an aborted transaction failing is expected, not news
        self._in_txn = False
        if self._participant is not None:
            self._participant.aborted()

    def _recreate_producer(self) -> None:
        old, self._producer, self._in_txn = self._producer, None, False
        if old is not None:
            old.discard()
        self._producer = self._new_producer()
        self._count(producers_recreated=1)

    def _new_producer(self) -> TransactionalProducer:
        producer = TransactionalProducer(
            self._kafka, self._transaction, self._producer_settings, timeout_s=self._timeout_s
        )
        try:
            self._retry(producer.init_transactions)
        except BaseException:
            producer.discard()
            raise
        return producer

    def _rewind(self, batch: list[Message]) -> None:
        """Seek every partition of the batch back to its committed offset, so the batch is read again."""
        try:
            self._seek_to_committed(batch)
        except BaseException:
            # A consumer left past uncommitted records would skip them once a later batch commits; a new consumer
            # (made by the next start()) resumes from the committed offsets instead.
            consumer, self._consumer = self._consumer, None
            if consumer is not None:
                consumer.close()
            raise

    def _seek_to_committed(self, batch: list[Message]) -> None:
        consumer = self._need_consumer()
        first = _first_offsets(batch)
        assigned = {(tp.topic, tp.partition) for tp in consumer.assignment()}
        wanted = [TopicPartition(topic, partition) for topic, partition in first if (topic, partition) in assigned]
        if not wanted:
            return
        for tp in self._retry(self._committed, wanted):
            # No committed offset yet: the group's first batch starts at its first record.
            offset = tp.offset if tp.offset >= 0 else first[(tp.topic, tp.partition)]
            try:
                consumer.seek(TopicPartition(tp.topic, tp.partition, offset))
            except KafkaException as exc:
                raise classify(error_of(exc), "seek") from exc

    def _committed(self, partitions: list[TopicPartition]) -> list[TopicPartition]:
        try:
            committed = self._need_consumer().committed(partitions, self._timeout_s)
        except KafkaException as exc:
            raise classify(error_of(exc), "committed") from exc
        for tp in committed:
            if tp.error is not None:
                raise classify(tp.error, "committed")
        return committed

    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        # Runs inside consume() before any record of these partitions is handed out: the state is restored first.
        if self._participant is not None:
            self._participant.assigned(partitions)

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        # Revocation only runs inside consume() or close(), between batches; an open transaction here is a leftover
        # that must not commit offsets for partitions another member now owns.
        if self._in_txn:
            _log.warning("partitions revoked with a transaction open; aborting it")
            self._abort()
        if self._participant is not None:
            self._participant.revoked(partitions)

    # -- helpers ---------------------------------------------------------------------------------------------------

    def _count(self, **increments: int) -> None:
        current = {name: getattr(self._stats, name) for name in increments}
        self._stats = replace(self._stats, **{name: current[name] + step for name, step in increments.items()})

    def _need_consumer(self) -> Consumer:
        if self._consumer is None:
            raise RuntimeError("processor not started")
        return self._consumer

    def _need_producer(self) -> TransactionalProducer:
        if self._producer is None:
            raise RuntimeError("processor not started")
        return self._producer


def _first_offsets(batch: list[Message]) -> dict[tuple[str, int], int]:
    """The first offset of each partition in a batch (records of one partition arrive in offset order)."""
    first: dict[tuple[str, int], int] = {}
    for message in batch:
        first.setdefault((message.topic() or "", message.partition() or 0), message.offset() or 0)
    return first


def _next_offsets(batch: list[Message]) -> list[TopicPartition]:
    """The offsets to commit for a batch: one past the last record of each partition."""
    last: dict[tuple[str, int], int] = {}
    for message in batch:
        last[(message.topic() or "", message.partition() or 0)] = message.offset() or 0
    return [TopicPartition(topic, partition, offset + 1) for (topic, partition), offset in last.items()]
