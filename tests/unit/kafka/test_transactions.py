"""Transaction error handling and processor arguments (no broker needed)."""

from __future__ import annotations

import pytest
from confluent_kafka import KafkaError

from gateway.kafka.retry import KafkaFatalError, KafkaRefusedError, KafkaTransientError
from gateway.kafka.settings import ConsumerSettings, KafkaSettings, TransactionSettings
from gateway.kafka.transactions import (
    AbortableTransactionError,
    BatchLimits,
    ProcessorStats,
    TransactionalProcessor,
    transaction_error,
)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (KafkaError(KafkaError._FENCED, "fenced", fatal=True), KafkaFatalError),
        (KafkaError(KafkaError.INVALID_PRODUCER_EPOCH, "x", txn_requires_abort=True), AbortableTransactionError),
        (KafkaError(KafkaError._TIMED_OUT, "slow", retriable=True), KafkaTransientError),
        (KafkaError(KafkaError._STATE, "no transaction"), KafkaFatalError),
        # an abortable error is aborted, never retried as is, even when also flagged retriable
        (KafkaError(KafkaError._TIMED_OUT, "x", retriable=True, txn_requires_abort=True), AbortableTransactionError),
        (KafkaError(KafkaError._FENCED, "x", fatal=True, txn_requires_abort=True), KafkaFatalError),
        # librdkafka reports a message the broker refused as abortable; redoing the batch would be refused again
        (KafkaError(KafkaError.MSG_SIZE_TOO_LARGE, "x", txn_requires_abort=True), KafkaRefusedError),
        (KafkaError(KafkaError.TOPIC_AUTHORIZATION_FAILED, "x", txn_requires_abort=True), KafkaRefusedError),
    ],
)
def test_transaction_error(error: KafkaError, expected: type[Exception]) -> None:
    mapped = transaction_error(error, "commit_transaction")
    assert type(mapped) is expected
    assert "commit_transaction" in str(mapped)


def test_abortable_error_is_not_retried_by_the_policy() -> None:
    from gateway.errors import TransientError

    assert not issubclass(AbortableTransactionError, TransientError)


def test_batch_limits_validate() -> None:
    with pytest.raises(ValueError):
        BatchLimits(max_records=0)
    with pytest.raises(ValueError):
        BatchLimits(max_wait_s=0)


def test_processor_needs_topics() -> None:
    with pytest.raises(ValueError):
        TransactionalProcessor(
            KafkaSettings(),
            ConsumerSettings(group_id="g"),
            TransactionSettings(transactional_id="t"),
            lambda batch: [],
            topics=[],
        )


def test_stats_start_at_zero_and_are_frozen() -> None:
    stats = ProcessorStats()
    assert (stats.batches_committed, stats.batches_aborted, stats.records_in, stats.records_out) == (0, 0, 0, 0)
    with pytest.raises(AttributeError):
        stats.records_in = 1  # type: ignore[misc]


class _RecordingClient:
    """Stands in for confluent-kafka's Producer: records the transaction calls and their arguments."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[object, ...]]] = []

    def __getattr__(self, name: str) -> object:
        def call(*args: object) -> None:
            self.calls.append((name, args))

        return call


def test_every_blocking_transaction_call_is_bounded() -> None:
    # confluent-kafka waits for ever when no timeout is given; a coordinator lost with a broker must not stall us.
    from gateway.kafka.transactions import TransactionalProducer

    producer = TransactionalProducer(KafkaSettings(), TransactionSettings(transactional_id="t"), timeout_s=7.5)
    real = producer._client
    fake = _RecordingClient()
    producer._client = fake  # type: ignore[assignment]
    try:
        producer.init_transactions()
        producer.begin()
        producer.send_offsets([], object())
        producer.commit()
    finally:
        producer._client = real
        producer._closed = True  # nothing was produced; the real client is released with the object
    timeouts = {name: args[-1] if args else None for name, args in fake.calls}
    assert timeouts == {
        "init_transactions": 7.5,
        "begin_transaction": None,  # local, never blocks
        "send_offsets_to_transaction": 7.5,
        "commit_transaction": 7.5,
    }
