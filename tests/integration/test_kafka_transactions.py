"""Transactions against the real broker: abort hides, commit shows, and the processor copies exactly once."""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable

import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, Message, Producer, TopicPartition

from gateway.errors import FatalError
from gateway.kafka.producer import IdempotentProducer, OutboundMessage
from gateway.kafka.settings import ConsumerSettings, KafkaSettings, TransactionSettings
from gateway.kafka.transactions import BatchLimits, ProcessorStats, TransactionalProcessor, TransactionalProducer

# See test_kafka_producer.py: conftest's Docker probe leaks a socket that would otherwise fail a random test.
pytestmark = pytest.mark.integration


N_INPUT = 120
PARTITIONS = 3


def read_to_end(
    bootstrap: str, topic: str, isolation: str, partitions: int = 1, timeout: float = 30.0
) -> list[Message]:
    """Read a whole topic with the given isolation level, until every partition's position reaches its end."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"reader-{uuid.uuid4().hex[:8]}",
            "enable.auto.commit": False,
            "isolation.level": isolation,
        }
    )
    tps = [TopicPartition(topic, p) for p in range(partitions)]
    ends = {tp.partition: consumer.get_watermark_offsets(tp, timeout=10, cached=False)[1] for tp in tps}
    consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(partitions)])
    records: list[Message] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            records += [m for m in consumer.consume(500, 0.3) if m.error() is None]
            positions = consumer.position(consumer.assignment())
            # Control records (commit/abort markers) count in the end offset and the position moves past them, so
            # "position reached the end" means everything visible at this isolation level has been read.
            if all(tp.offset >= ends[tp.partition] for tp in positions if ends[tp.partition] > 0):
                break
    finally:
        consumer.close()
    return records


def values(records: list[Message]) -> list[bytes]:
    return [m.value() or b"" for m in records]


def test_abort_hides_a_transaction_and_commit_shows_it(kafka_bootstrap: str, new_topic: Callable[..., str]) -> None:
    topic = new_topic("txn-visibility")
    kafka = KafkaSettings(bootstrap_servers=kafka_bootstrap)
    producer = TransactionalProducer(kafka, TransactionSettings(transactional_id=f"it-vis-{uuid.uuid4().hex[:8]}"))
    try:
        producer.init_transactions()
        producer.begin()
        for i in range(5):
            producer.produce(topic, f"aborted-{i}".encode(), key=b"k")
        producer.flush()  # the records are in the log now, inside the open transaction
        producer.abort()

        assert read_to_end(kafka_bootstrap, topic, "read_committed") == []
        assert values(read_to_end(kafka_bootstrap, topic, "read_uncommitted")) == [
            f"aborted-{i}".encode() for i in range(5)
        ]

        producer.begin()
        for i in range(3):
            producer.produce(topic, f"committed-{i}".encode(), key=b"k")
        producer.commit()
    finally:
        producer.close()

    committed = [f"committed-{i}".encode() for i in range(3)]
    assert values(read_to_end(kafka_bootstrap, topic, "read_committed")) == committed
    assert len(read_to_end(kafka_bootstrap, topic, "read_uncommitted")) == 8


# -- the processor ---------------------------------------------------------------------------------------------------


def fill(kafka: KafkaSettings, topic: str) -> list[bytes]:
    with IdempotentProducer(kafka) as producer:
        for i in range(N_INPUT):
            producer.produce(topic, f"v-{i:04d}".encode(), key=f"case-{i % 11}".encode(), headers=[("n", b"%d" % i)])
    return [f"v-{i:04d}".encode() for i in range(N_INPUT)]


def copy_to(topic: str) -> Callable[[list[Message]], list[OutboundMessage]]:
    def transform(batch: list[Message]) -> list[OutboundMessage]:
        return [
            OutboundMessage(topic, m.key(), (m.value() or b"").upper(), (("from-offset", b"%d" % (m.offset() or 0)),))
            for m in batch
        ]

    return transform


def assert_exactly_once(bootstrap: str, source: str, output: str, group: str, sent: list[bytes]) -> None:
    out = values(read_to_end(bootstrap, output, "read_committed", PARTITIONS))
    counts = Counter(out)
    assert sorted(counts) == sorted(v.upper() for v in sent)
    assert set(counts.values()) == {1}, {v: c for v, c in counts.items() if c != 1}

    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False})
    try:
        tps = [TopicPartition(source, p) for p in range(PARTITIONS)]
        committed = {tp.partition: tp.offset for tp in consumer.committed(tps, timeout=10)}
        ends = {tp.partition: consumer.get_watermark_offsets(tp, timeout=10, cached=False)[1] for tp in tps}
    finally:
        consumer.close()
    assert committed == ends


@pytest.fixture
def pipeline(
    kafka_bootstrap: str, new_topic: Callable[..., str], group_id: str
) -> tuple[KafkaSettings, str, str, list[bytes], ConsumerSettings, TransactionSettings]:
    kafka = KafkaSettings(bootstrap_servers=kafka_bootstrap, client_id="it-eos")
    source = new_topic("eos-in", partitions=PARTITIONS)
    output = new_topic("eos-out", partitions=PARTITIONS)
    sent = fill(kafka, source)
    consumer = ConsumerSettings(group_id=group_id, session_timeout_ms=10_000)
    txn = TransactionSettings(transactional_id=f"it-eos-{uuid.uuid4().hex[:8]}", transaction_timeout_ms=15_000)
    return kafka, source, output, sent, consumer, txn


LIMITS = BatchLimits(max_records=15, max_wait_s=0.5)


def test_processor_copies_exactly_once_across_a_failed_batch(
    pipeline: tuple[KafkaSettings, str, str, list[bytes], ConsumerSettings, TransactionSettings],
) -> None:
    kafka, source, output, sent, consumer, txn = pipeline
    copy = copy_to(output)
    calls = Counter[str]()

    def transform(batch: list[Message]) -> list[OutboundMessage]:
        calls["batches"] += 1
        if calls["batches"] == 3:
            raise RuntimeError("bug in transform, first attempt of the third batch")
        return copy(batch)

    with TransactionalProcessor(kafka, consumer, txn, transform, topics=[source], limits=LIMITS) as processor:
        stopped = threading.Event()
        stopped.set()
        assert processor.run(stop=stopped) == ProcessorStats()
        first = processor.run(max_batches=2)
        assert first.batches_committed == 2
        with pytest.raises(RuntimeError, match="first attempt"):
            processor.run(idle_timeout=10)
        assert processor.stats.batches_aborted == 1
        stats = processor.run(idle_timeout=2)

    assert stats.records_in == N_INPUT
    assert stats.records_out == N_INPUT
    assert stats.batches_aborted == 1
    assert stats.producers_recreated == 0
    assert_exactly_once(kafka.bootstrap_servers, source, output, consumer.group_id, sent)


def test_fenced_producer_is_recreated_and_output_stays_exactly_once(
    pipeline: tuple[KafkaSettings, str, str, list[bytes], ConsumerSettings, TransactionSettings],
) -> None:
    kafka, source, output, sent, consumer, txn = pipeline
    copy = copy_to(output)
    calls = Counter[str]()

    def transform(batch: list[Message]) -> list[OutboundMessage]:
        calls["batches"] += 1
        if calls["batches"] == 3:
            # Another instance starts with our transactional.id: the broker fences the processor's producer epoch
            # while its transaction for this batch is open.
            intruder = Producer(
                {"bootstrap.servers": kafka.bootstrap_servers, "transactional.id": txn.transactional_id}
            )
            intruder.init_transactions(30)
            intruder.close()
        return copy(batch)

    with TransactionalProcessor(kafka, consumer, txn, transform, topics=[source], limits=LIMITS) as processor:
        stats = processor.run(idle_timeout=3)

    assert calls["batches"] > 3
    assert stats.producers_recreated == 1
    assert stats.batches_aborted == 1
    assert stats.records_in == N_INPUT
    assert_exactly_once(kafka.bootstrap_servers, source, output, consumer.group_id, sent)


def test_a_batch_that_keeps_failing_stops_the_processor_without_committing(
    pipeline: tuple[KafkaSettings, str, str, list[bytes], ConsumerSettings, TransactionSettings],
) -> None:
    kafka, source, output, _, consumer, txn = pipeline
    too_large = b"x" * 2_000_000  # above the producer's message.max.bytes: redoing the batch cannot cure it

    def transform(batch: list[Message]) -> list[OutboundMessage]:
        return [
            OutboundMessage(output, m.key(), too_large if i == len(batch) - 1 else m.value())
            for i, m in enumerate(batch)
        ]

    limits = BatchLimits(max_records=15, max_wait_s=0.5, max_attempts=2)
    with TransactionalProcessor(kafka, consumer, txn, transform, topics=[source], limits=limits) as processor:
        with pytest.raises(FatalError, match="2 times in a row"):
            processor.run(idle_timeout=10)
        stats = processor.stats

    assert stats.batches_committed == 0
    assert stats.batches_aborted == 2
    assert read_to_end(kafka.bootstrap_servers, output, "read_committed", PARTITIONS) == []
    reader = Consumer({"bootstrap.servers": kafka.bootstrap_servers, "group.id": consumer.group_id})
    try:
        committed = reader.committed([TopicPartition(source, p) for p in range(PARTITIONS)], timeout=10)
    finally:
        reader.close()
    assert all(tp.offset < 0 for tp in committed)  # nothing was committed past the failing batch


def test_ticks_run_the_transform_while_the_input_is_quiet_and_commit_only_what_it_returns(
    pipeline: tuple[KafkaSettings, str, str, list[bytes], ConsumerSettings, TransactionSettings],
) -> None:
    kafka, source, output, sent, consumer, txn = pipeline
    copy = copy_to(output)
    empty_calls = Counter[str]()

    def transform(batch: list[Message]) -> list[OutboundMessage]:
        if batch:
            return copy(batch)
        empty_calls["ticks"] += 1
        # Every other tick has something to say (a timer came due), the others nothing.
        if empty_calls["ticks"] % 2:
            return [OutboundMessage(output, b"tick", b"TICK-%d" % empty_calls["ticks"])]
        return []

    with TransactionalProcessor(kafka, consumer, txn, transform, topics=[source], limits=LIMITS) as processor:
        stats = processor.run(idle_timeout=3.0, tick_s=0.5)

    assert empty_calls["ticks"] >= 3, "quiet input must still call the transform on ticks"
    assert stats.records_in == N_INPUT
    ticked = (empty_calls["ticks"] + 1) // 2
    assert stats.ticks_committed == ticked
    assert stats.records_out == N_INPUT + ticked
    out = values(read_to_end(kafka.bootstrap_servers, output, "read_committed", PARTITIONS))
    assert sorted(v for v in out if v.startswith(b"TICK")) == sorted(
        b"TICK-%d" % i for i in range(1, empty_calls["ticks"] + 1, 2)
    )
    assert sorted(v for v in out if not v.startswith(b"TICK")) == sorted(v.upper() for v in sent)


def test_without_tick_an_idle_processor_never_calls_the_transform_on_nothing(
    pipeline: tuple[KafkaSettings, str, str, list[bytes], ConsumerSettings, TransactionSettings],
) -> None:
    kafka, source, output, _, consumer, txn = pipeline
    seen: list[int] = []

    def transform(batch: list[Message]) -> list[OutboundMessage]:
        seen.append(len(batch))
        return copy_to(output)(batch)

    with TransactionalProcessor(kafka, consumer, txn, transform, topics=[source], limits=LIMITS) as processor:
        processor.run(idle_timeout=2.0)
    assert seen
    assert 0 not in seen
