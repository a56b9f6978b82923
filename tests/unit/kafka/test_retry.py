"""The retry policy and the confluent error mapping (no broker needed)."""

from __future__ import annotations

import pytest
from confluent_kafka import KafkaError, KafkaException

from gateway.errors import FatalError, MappingError, RecordError, TransientError
from gateway.kafka.retry import (
    KafkaErrorInfo,
    KafkaFatalError,
    KafkaRefusedError,
    KafkaTransientError,
    RetrySettings,
    classify,
    error_of,
    is_transient,
    retrying,
)

FAST = RetrySettings(max_attempts=4, initial_delay_s=0.01, max_delay_s=0.02, jitter_s=0.0, deadline_s=30.0)


class Flaky:
    """Raises the given exceptions in turn, then returns "ok"."""

    def __init__(self, *errors: BaseException) -> None:
        self.errors = list(errors)
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


def _no_sleep(_: float) -> None:
    return None


def test_transient_errors_are_retried_until_success() -> None:
    call = Flaky(TransientError("blip"), TransientError("blip"))
    assert retrying(FAST, sleep=_no_sleep)(call) == "ok"
    assert call.calls == 3


def test_last_transient_error_is_reraised_after_max_attempts() -> None:
    call = Flaky(*(TransientError(f"blip {i}") for i in range(10)))
    with pytest.raises(TransientError, match="blip 3"):
        retrying(FAST, sleep=_no_sleep)(call)
    assert call.calls == FAST.max_attempts


@pytest.mark.parametrize(
    "error", [ValueError("bug"), RecordError("bad record"), MappingError("unknown code"), FatalError("fenced")]
)
def test_other_errors_are_never_retried(error: Exception) -> None:
    call = Flaky(error)
    with pytest.raises(type(error)):
        retrying(FAST, sleep=_no_sleep)(call)
    assert call.calls == 1


def test_deadline_stops_retrying() -> None:
    import time

    settings = RetrySettings(max_attempts=1000, initial_delay_s=0.02, max_delay_s=0.05, jitter_s=0.0, deadline_s=0.3)
    call = Flaky(*(TransientError("down") for _ in range(1000)))
    started = time.monotonic()
    with pytest.raises(TransientError):
        retrying(settings)(call)
    assert time.monotonic() - started < 2.0
    assert 2 < call.calls < 1000


def test_backoff_grows_exponentially_with_cap() -> None:
    slept: list[float] = []
    settings = RetrySettings(max_attempts=6, initial_delay_s=0.5, max_delay_s=2.0, jitter_s=0.0)
    call = Flaky(*(TransientError("down") for _ in range(5)))
    assert retrying(settings, sleep=slept.append)(call) == "ok"
    assert slept == [0.5, 1.0, 2.0, 2.0, 2.0]


def test_retry_settings_validate() -> None:
    with pytest.raises(ValueError):
        RetrySettings(max_attempts=0)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (KafkaError(KafkaError._FENCED, "fenced", fatal=True), KafkaFatalError),
        (KafkaError(KafkaError.PRODUCER_FENCED, "fenced", fatal=True), KafkaFatalError),
        (KafkaError(KafkaError.REQUEST_TIMED_OUT, "slow", retriable=True), KafkaTransientError),
        (KafkaError(KafkaError._MSG_TIMED_OUT, "no broker"), KafkaTransientError),
        (KafkaError(KafkaError._TRANSPORT, "connection reset"), KafkaTransientError),
        (KafkaError(KafkaError.NOT_ENOUGH_REPLICAS, "isr"), KafkaTransientError),
        (KafkaError(KafkaError.INVALID_PRODUCER_EPOCH, "abort me", txn_requires_abort=True), KafkaTransientError),
        # refused for good: neither a retry nor a new producer helps, so not a KafkaFatalError either
        (KafkaError(KafkaError.TOPIC_AUTHORIZATION_FAILED, "denied"), KafkaRefusedError),
        (KafkaError(KafkaError.MSG_SIZE_TOO_LARGE, "too big"), KafkaRefusedError),
        (KafkaError(KafkaError.MSG_SIZE_TOO_LARGE, "too big", retriable=True), KafkaRefusedError),
        (KafkaError(KafkaError.INVALID_RECORD, "bad", txn_requires_abort=True), KafkaRefusedError),
        (KafkaError(KafkaError._INVALID_ARG, "bad config"), KafkaRefusedError),
        (KafkaError(KafkaError._STATE, "wrong state"), KafkaFatalError),
        # fatal wins over every other flag
        (KafkaError(KafkaError._TRANSPORT, "x", fatal=True, retriable=True), KafkaFatalError),
    ],
)
def test_classify(error: KafkaError, expected: type[Exception]) -> None:
    mapped = classify(error, "produce")
    assert type(mapped) is expected
    assert mapped.info.code == error.code()
    assert mapped.info.operation == "produce"
    assert mapped.info.fatal == error.fatal()
    assert mapped.info.retriable == error.retriable()
    assert mapped.info.txn_requires_abort == error.txn_requires_abort()
    assert error.name() in str(mapped)


def test_transient_and_fatal_map_onto_the_gateway_tree() -> None:
    assert issubclass(KafkaTransientError, TransientError)
    assert issubclass(KafkaFatalError, FatalError)
    assert is_transient(KafkaError(KafkaError.COORDINATOR_LOAD_IN_PROGRESS))
    assert not is_transient(KafkaError(KafkaError.COORDINATOR_LOAD_IN_PROGRESS, fatal=True))


def test_error_of_unwraps_kafka_exception() -> None:
    inner = KafkaError(KafkaError._TIMED_OUT, "late", retriable=True)
    assert error_of(KafkaException(inner)) is inner
    assert error_of(KafkaException("plain text")).code() == KafkaError._FAIL


def test_mapped_errors_are_retried_by_the_policy() -> None:
    call = Flaky(classify(KafkaError(KafkaError._TRANSPORT, "reset"), "flush"))
    assert retrying(FAST, sleep=_no_sleep)(call) == "ok"
    fatal = Flaky(classify(KafkaError(KafkaError._FENCED, "fenced", fatal=True), "commit"))
    with pytest.raises(KafkaFatalError):
        retrying(FAST, sleep=_no_sleep)(fatal)
    assert fatal.calls == 1


def test_a_refusal_is_not_retried_and_names_topic_size_and_limit() -> None:
    calls = []

    def refused() -> None:
        calls.append(1)
        info = KafkaErrorInfo.of(KafkaError(KafkaError.MSG_SIZE_TOO_LARGE, "Broker: Message size too large"), "deliver")
        raise KafkaRefusedError(info, topic="gateway.dlq.nl-xml", size=1_500_000, limit=1_048_588)

    with pytest.raises(KafkaRefusedError) as caught:
        retrying(RetrySettings(max_attempts=5), sleep=lambda _: None)(refused)
    assert calls == [1]
    assert isinstance(caught.value, FatalError)
    assert not isinstance(caught.value, KafkaFatalError)
    assert str(caught.value) == (
        "Kafka refused a record for topic gateway.dlq.nl-xml: MSG_SIZE_TOO_LARGE (record of about 1500000 bytes; "
        "the topic's max.message.bytes is 1048588): Broker: Message size too large; not retried"
    )
