"""An idempotent producer that never drops a message silently.

Delivery reports are served with ``poll(0)`` after every ``produce``; a full local queue (``BufferError``) is drained
by polling and the message is offered again. Failed deliveries are collected and surface from ``flush``: a message
Kafka refuses for good (too large for the topic, not authorized) as ``KafkaRefusedError``, which no retry policy
retries; other failures as ``UndeliveredError``, a transient error.
"""

from __future__ import annotations

import functools
import logging
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Self

from confluent_kafka import KafkaError, KafkaException, Message, Producer

from gateway.errors import TransientError
from gateway.kafka.retry import KafkaErrorInfo, KafkaFatalError, KafkaRefusedError, classify, error_of, is_permanent
from gateway.kafka.settings import KafkaSettings, LibrdkafkaConfig, ProducerSettings, TransactionSettings
from gateway.kafka.topics import max_message_bytes

__all__ = [
    "DeliveryFailure",
    "Headers",
    "IdempotentProducer",
    "OutboundMessage",
    "UndeliveredError",
    "record_size",
]

_log = logging.getLogger(__name__)

Headers = tuple[tuple[str, bytes], ...]
"""Message headers in order; a name may repeat, as Kafka allows."""

_QUEUE_FULL_POLL_S = 0.05
# A queued message leaves the local queue within message.timeout.ms (delivered or failed), so waiting somewhat longer
# than that for room is the most that can ever be needed.
_QUEUE_FULL_GRACE_S = 5.0


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    """One record to produce.

    Attributes:
        topic: Destination topic.
        key: Key bytes (decides the partition), or None.
        value: Value bytes, or None for a tombstone on a compacted topic.
        headers: Headers in order.
        partition: Partition to write to; None lets the partitioner choose by key. A state store's changelog
            names it: its partitions follow the input's, not the key's hash.
    """

    topic: str
    key: bytes | None
    value: bytes | None
    headers: Headers = ()
    partition: int | None = None


@dataclass(frozen=True, slots=True)
class DeliveryFailure:
    """A message the broker did not accept.

    Attributes:
        topic: Destination topic.
        partition: Partition, if one had been chosen.
        key: The message key.
        error: Why delivery failed.
        size: Approximate size of the record in bytes (`record_size`).
    """

    topic: str
    partition: int | None
    key: bytes | None
    error: KafkaErrorInfo
    size: int = 0


def record_size(key: bytes | None, value: bytes | None, headers: Sequence[tuple[str, bytes | None]] | None) -> int:
    """Bytes of a record's key, value and headers: what counts against ``max.message.bytes``, less batch overhead."""
    names_and_values = sum(len(name.encode()) + len(data or b"") for name, data in headers or ())
    return len(key or b"") + len(value or b"") + names_and_values


class UndeliveredError(TransientError):
    """``flush`` ended with messages still queued or failed; the caller must send them again.

    Attributes:
        remaining: Messages still in the local queue when the flush timed out.
        failures: Messages whose delivery failed since the previous flush.
    """

    def __init__(self, remaining: int, failures: tuple[DeliveryFailure, ...]) -> None:
        first = f"; first failure: {failures[0].error}" if failures else ""
        super().__init__(f"{remaining} message(s) still queued, {len(failures)} failed{first}")
        self.remaining = remaining
        self.failures = failures


class IdempotentProducer:
    """A producer with ``enable.idempotence=true`` and ``acks=all``, used as a context manager.

    Leaving the ``with`` block flushes and raises like `flush`; when an exception is already propagating it delivers
    what it can and only logs failures, so the original exception is not masked.

    Args:
        kafka: Connection settings.
        settings: Producer tuning; defaults to ``ProducerSettings()``.
        transaction: Makes the producer transactional (see ``gateway.kafka.transactions``).
    """

    def __init__(
        self,
        kafka: KafkaSettings,
        settings: ProducerSettings | None = None,
        *,
        transaction: TransactionSettings | None = None,
    ) -> None:
        settings = settings or ProducerSettings()
        config: LibrdkafkaConfig = (
            transaction.to_librdkafka(kafka, settings) if transaction else settings.to_librdkafka(kafka)
        )
        self._kafka = kafka
        self._queue_full_wait_s = int(config["message.timeout.ms"]) / 1000 + _QUEUE_FULL_GRACE_S
        self._failures: list[DeliveryFailure] = []
        self._fatal: KafkaErrorInfo | None = None
        self._delivered = 0
        self._offsets: dict[tuple[str, int], int] = {}
        self._closed = False
        self._client = Producer({**config, "error_cb": self._on_error})

    @property
    def delivered(self) -> int:
        """Messages acknowledged by the broker so far."""
        return self._delivered

    def __len__(self) -> int:
        """Messages in the local queue or in flight."""
        return len(self._client)

    def produce(
        self,
        topic: str,
        value: bytes | None,
        key: bytes | None = None,
        headers: Sequence[tuple[str, bytes]] | None = None,
    ) -> None:
        """Queue one message; see `send`."""
        self.send(OutboundMessage(topic=topic, key=key, value=value, headers=tuple(headers or ())))

    def send(self, message: OutboundMessage) -> None:
        """Queue one message, waiting for room in the local queue if needed; never drops it.

        Raises:
            KafkaFatalError: The producer is unusable (fatal idempotence or transaction error).
            KafkaRefusedError: librdkafka refused the message before sending it (larger than ``message.max.bytes``).
            KafkaTransientError: The local queue stayed full for longer than a message can live in it.
        """
        self._raise_if_fatal()
        deadline = time.monotonic() + self._queue_full_wait_s
        while not self._try_produce(message):
            if time.monotonic() >= deadline:
                raise classify(KafkaError(KafkaError._QUEUE_FULL, "local queue stayed full"), "produce")
            # Serving delivery reports is what frees queue slots; raising the limits only postpones this.
            self._client.poll(_QUEUE_FULL_POLL_S)
        self._client.poll(0)

    def _try_produce(self, message: OutboundMessage) -> bool:
        try:
            self._client.produce(
                message.topic,
                value=message.value,
                key=message.key,
                partition=-1 if message.partition is None else message.partition,
                headers=list(message.headers) or None,
                # Delivery reports do not carry the headers: the message is kept for the size a refusal names,
                # which is computed only for a failure (it cost ~1 µs a message on the hot path).
                on_delivery=functools.partial(self._on_delivery, message),
            )
        except BufferError:
            return False
        except KafkaException as exc:
            error = error_of(exc)
            if is_permanent(error.code()):
                size = record_size(message.key, message.value, message.headers)
                raise self.refused(KafkaErrorInfo.of(error, "produce"), message.topic, size) from exc
            raise classify(error, "produce") from exc
        return True

    def poll(self, timeout: float = 0.0) -> int:
        """Serve delivery reports; return how many were served."""
        return self._client.poll(timeout)

    def flush(self, timeout: float = 30.0) -> None:
        """Wait until every queued message is delivered or failed.

        Raises:
            KafkaFatalError: The producer is unusable, or a delivery failed fatally.
            KafkaRefusedError: Kafka refused a message for good (too large for its topic, not authorized ...).
            UndeliveredError: Messages remain queued after ``timeout`` or failed since the last flush; send them
                again (the batch since the last successful flush is the unit to retry).
        """
        remaining = self._client.flush(timeout)
        failures = self.take_failures()
        self._raise_if_fatal()
        fatal = next((failure for failure in failures if failure.error.fatal), None)
        if fatal is not None:
            raise KafkaFatalError(fatal.error)
        refused = self.refusal(failures)
        if refused is not None:
            raise refused
        if remaining or failures:
            raise UndeliveredError(remaining, failures)

    def refusal(self, failures: Sequence[DeliveryFailure]) -> KafkaRefusedError | None:
        """The error for the largest failure Kafka will refuse again, if any (`gateway.kafka.retry.is_permanent`).

        The largest, because the broker refuses a whole request batch for one oversized record: its small
        neighbours fail with the same code but are not the cause.
        """
        refused = [failure for failure in failures if is_permanent(failure.error.code)]
        if not refused:
            return None
        worst = max(refused, key=lambda failure: failure.size)
        return self.refused(worst.error, worst.topic, worst.size)

    def refused(self, info: KafkaErrorInfo, topic: str, size: int) -> KafkaRefusedError:
        """A `KafkaRefusedError` naming the topic, the record's size and, for a size refusal, the topic's limit."""
        limit = None
        if info.code == KafkaError.MSG_SIZE_TOO_LARGE:
            limit = max_message_bytes(self._kafka, topic)
        return KafkaRefusedError(info, topic=topic, size=size, limit=limit)

    def take_delivered_offsets(self) -> dict[tuple[str, int], int]:
        """Return and forget the highest offset delivered per (topic, partition) since the last call."""
        offsets, self._offsets = self._offsets, {}
        return offsets

    def take_failures(self) -> tuple[DeliveryFailure, ...]:
        """Return and forget the delivery failures collected so far."""
        failures, self._failures = tuple(self._failures), []
        return failures

    def close(self, timeout: float = 30.0) -> None:
        """Flush what can be delivered within ``timeout``, then release the client; failures are logged, not raised."""
        if self._closed:
            return
        remaining = self._client.flush(timeout)
        if remaining:
            _log.error("closing producer with %d message(s) undelivered", remaining)
        for failure in self.take_failures():
            _log.error("undelivered message to %s: %s", failure.topic, failure.error)
        self._release()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc is not None:
            self.close()  # deliver what was queued before the failure, without masking it
            return
        try:
            self.flush()
        finally:
            self._release()

    def _release(self) -> None:
        if not self._closed:
            self._closed = True
            # Anything still queued here was reported by flush or close already; don't let close() block on it.
            self._client.purge()
            # close() aborts an open transaction first, which a fenced producer cannot do; it says so as a
            # RuntimeWarning (or an exception, by version), and the handle is destroyed with the client object anyway.
            # Under `-W error` the warning would surface as a SystemError, so it is caught and logged here.
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                try:
                    self._client.close()
                except KafkaException as exc:
                    _log.info("producer closed with an error: %s", error_of(exc).str())
            for warning in caught:
                _log.info("producer closed with a warning: %s", warning.message)

    def _raise_if_fatal(self) -> None:
        if self._fatal is not None:
            raise KafkaFatalError(self._fatal)

    def _on_delivery(self, sent: OutboundMessage, error: KafkaError | None, message: Message) -> None:
        # Runs inside poll()/flush() on the caller's thread, so no locking is needed.
        if error is None:
            self._delivered += 1
            # One partition's messages are acknowledged in order, so the last report is the highest offset.
            self._offsets[(message.topic() or "", message.partition() or 0)] = message.offset() or 0
            return
        info = KafkaErrorInfo.of(error, "deliver")
        size = record_size(sent.key, sent.value, sent.headers)
        self._failures.append(DeliveryFailure(message.topic() or "", message.partition(), message.key(), info, size))

    def _on_error(self, error: KafkaError) -> None:
        # Most client-level errors (a broker connection dropping) are informational: librdkafka recovers by itself.
        if error.fatal():
            self._fatal = KafkaErrorInfo.of(error, "producer")
            _log.error("fatal producer error: %s", error.str())
        else:
            _log.warning("producer: %s", error.str())
