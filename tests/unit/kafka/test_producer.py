"""The producer without a broker: a full local queue waits for room, and failed deliveries surface from flush.

librdkafka is real here; it simply has no broker to talk to (a closed loopback port), so messages time out.
"""

from __future__ import annotations

import time

import pytest

from gateway.kafka.producer import IdempotentProducer, OutboundMessage, UndeliveredError
from gateway.kafka.retry import KafkaTransientError
from gateway.kafka.settings import KafkaSettings, ProducerSettings

NOWHERE = KafkaSettings(bootstrap_servers="127.0.0.1:1")


def test_outbound_message_is_frozen_and_hashable() -> None:
    message = OutboundMessage("t", b"k", b"v", (("h", b"1"),))
    with pytest.raises(AttributeError):
        message.topic = "other"  # type: ignore[misc]
    assert hash(message) == hash(OutboundMessage("t", b"k", b"v", (("h", b"1"),)))


def test_full_queue_waits_for_room_and_failures_surface_from_flush() -> None:
    settings = ProducerSettings(queue_buffering_max_messages=2, message_timeout_ms=300, linger_ms=0)
    producer = IdempotentProducer(NOWHERE, settings)
    started = time.monotonic()
    for i in range(3):
        # The queue holds 2: each further produce waits until timed-out messages free a slot, and never drops.
        producer.produce("t", f"v{i}".encode(), key=b"k", headers=[("n", str(i).encode())])
    with pytest.raises(UndeliveredError) as caught:
        producer.flush(timeout=5.0)
    assert time.monotonic() - started < 10.0
    assert caught.value.remaining == 0
    assert len(caught.value.failures) == 3
    assert {f.error.name for f in caught.value.failures} == {"_MSG_TIMED_OUT"}
    assert all(f.key == b"k" for f in caught.value.failures)
    assert producer.take_failures() == ()
    producer.close(timeout=0)


def test_queue_that_stays_full_raises_transient_error() -> None:
    settings = ProducerSettings(queue_buffering_max_messages=1, message_timeout_ms=60_000)
    producer = IdempotentProducer(NOWHERE, settings)
    producer._queue_full_wait_s = 0.3  # the real bound is message.timeout.ms plus a margin
    producer.produce("t", b"first")
    with pytest.raises(KafkaTransientError, match="_QUEUE_FULL"):
        producer.produce("t", b"second")
    assert len(producer) == 1
    producer.close(timeout=0)


def test_context_manager_flushes_and_raises_on_exit() -> None:
    settings = ProducerSettings(message_timeout_ms=200)
    with pytest.raises(UndeliveredError), IdempotentProducer(NOWHERE, settings) as producer:
        producer.send(OutboundMessage("t", None, b"v"))


def test_context_manager_does_not_mask_the_original_error() -> None:
    def fail_inside() -> None:
        with IdempotentProducer(NOWHERE, ProducerSettings(message_timeout_ms=200)) as producer:
            producer.send(OutboundMessage("t", None, b"v"))
            raise RuntimeError("original")

    with pytest.raises(RuntimeError, match="original"):
        fail_inside()


class _ClientWarningOnClose:
    """Stands in for a fenced transactional client: close() cannot abort the open transaction and warns."""

    def flush(self, timeout: float) -> int:
        return 0

    def purge(self) -> None:
        pass

    def close(self) -> None:
        import warnings

        warnings.warn("Producer abort_transaction failed during close: fenced", RuntimeWarning, stacklevel=1)


def test_a_warning_from_close_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    # pytest runs with -W error: an unguarded warning inside the C close() surfaces as SystemError (seen in CI).
    producer = IdempotentProducer(NOWHERE)
    real = producer._client
    producer._client = _ClientWarningOnClose()  # type: ignore[assignment]
    with caplog.at_level("INFO", logger="gateway.kafka.producer"):
        producer.close()
    assert "abort_transaction failed during close" in caplog.text
    real.close()
