"""Transactions against the real broker: abort hides, commit shows, and the processor copies exactly once."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable

import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, Message, Producer, TopicPartition

from gateway.kafka.producer import IdempotentProducer, OutboundMessage
from gateway.kafka.retry import KafkaRefusedError
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


def assert_nothing_committed(kafka: KafkaSettings, source: str, output: str, group: str) -> None:
    assert read_to_end(kafka.bootstrap_servers, output, "read_committed", PARTITIONS) == []
    reader = Consumer({"bootstrap.servers": kafka.bootstrap_servers, "group.id": group})
    try:
        committed = reader.committed([TopicPartition(source, p) for p in range(PARTITIONS)], timeout=10)
    finally:
        reader.close()
    assert all(tp.offset < 0 for tp in committed)  # nothing was committed past the failing batch


def test_a_message_librdkafka_refuses_stops_the_processor_at_once_without_committing(
    pipeline: tuple[KafkaSettings, str, str, list[bytes], ConsumerSettings, TransactionSettings],
) -> None:
    kafka, source, output, _, consumer, txn = pipeline
    too_large = b"x" * 2_000_000  # above the producer's message.max.bytes: redoing the batch cannot cure it

    def transform(batch: list[Message]) -> list[OutboundMessage]:
        return [
            OutboundMessage(output, m.key(), too_large if i == len(batch) - 1 else m.value())
            for i, m in enumerate(batch)
        ]

    limits = BatchLimits(max_records=15, max_wait_s=0.5, max_attempts=5)
    with TransactionalProcessor(kafka, consumer, txn, transform, topics=[source], limits=limits) as processor:
        with pytest.raises(KafkaRefusedError, match=f"topic {output}: MSG_SIZE_TOO_LARGE"):
            processor.run(idle_timeout=10)
        stats = processor.stats

    assert stats.batches_committed == 0
    assert stats.batches_aborted == 1  # not redone: the same batch would be refused again
    assert_nothing_committed(kafka, source, output, consumer.group_id)


def test_a_message_over_the_topics_max_message_bytes_stops_the_processor_within_seconds(
    pipeline: tuple[KafkaSettings, str, str, list[bytes], ConsumerSettings, TransactionSettings],
    new_topic: Callable[..., str],
) -> None:
    kafka, source, _, _, consumer, txn = pipeline
    small = new_topic("eos-small", partitions=PARTITIONS, config={"max.message.bytes": "1000"})
    big = os.urandom(5000)  # random, so lz4 cannot squeeze it under the limit

    def transform(batch: list[Message]) -> list[OutboundMessage]:
        return [OutboundMessage(small, m.key(), big if i == 0 else m.value()) for i, m in enumerate(batch)]

    started = time.monotonic()
    with TransactionalProcessor(kafka, consumer, txn, transform, topics=[source], limits=LIMITS) as processor:
        with pytest.raises(KafkaRefusedError) as refused:
            processor.run(idle_timeout=10)
        stats = processor.stats
    assert time.monotonic() - started < 15

    message = str(refused.value)
    assert "\n" not in message
    assert f"topic {small}" in message
    assert "MSG_SIZE_TOO_LARGE" in message
    assert re.search(r"about 50\d\d bytes", message)  # value and key
    assert "max.message.bytes is 1000" in message
    assert (refused.value.topic, refused.value.limit) == (small, 1000)
    assert stats.batches_aborted == 1
    assert_nothing_committed(kafka, source, small, consumer.group_id)


def test_a_refused_commit_aborts_the_transaction_at_once(kafka_bootstrap: str, new_topic: Callable[..., str]) -> None:
    small = new_topic("txn-small", config={"max.message.bytes": "1000"})
    kafka = KafkaSettings(bootstrap_servers=kafka_bootstrap, client_id="it-refused")
    txn = TransactionSettings(transactional_id=f"it-refused-{uuid.uuid4().hex[:8]}")
    with TransactionalProducer(kafka, txn) as producer:
        producer.init_transactions()
        producer.begin()
        producer.produce(small, b"fits", key=b"k")
        producer.produce(small, os.urandom(5000), key=b"k", headers=[("gw.errors.exception.message", b"m" * 100)])
        started = time.monotonic()
        # The broker refuses the whole request; the error names the oversized record, not its small neighbour.
        with pytest.raises(KafkaRefusedError, match=r"about 5128 bytes.*max\.message\.bytes is 1000"):
            producer.commit()
        assert time.monotonic() - started < 5
        assert not producer.in_transaction
        # Aborted, not left open until transaction.timeout.ms: a read_committed reader reaches the end at once.
        started = time.monotonic()
        assert read_to_end(kafka_bootstrap, small, "read_committed", timeout=10) == []
        assert time.monotonic() - started < 5


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


LEAVE_OPEN = """
import sys
from confluent_kafka import Producer
producer = Producer({"bootstrap.servers": sys.argv[1], "transactional.id": sys.argv[2]})
producer.init_transactions(30)
producer.begin_transaction()
producer.produce(sys.argv[3], b"left open")
producer.flush(30)
"""  # and exit without commit or abort, as a process that is killed does


def test_a_restart_after_a_transaction_left_open_logs_no_warning(
    kafka_bootstrap: str,
    new_topic: Callable[..., str],
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    topic = new_topic("txn-restart")
    kafka = KafkaSettings(bootstrap_servers=kafka_bootstrap, client_id="it-restart")
    txn = TransactionSettings(transactional_id=f"it-restart-{uuid.uuid4().hex[:8]}")
    subprocess.run(
        [sys.executable, "-c", LEAVE_OPEN, kafka_bootstrap, txn.transactional_id, topic], check=True, timeout=60
    )
    capfd.readouterr()

    # Fences the old epoch; the coordinator aborts its transaction, and init_transactions retries meanwhile.
    with caplog.at_level(logging.INFO), TransactionalProducer(kafka, txn) as restarted:
        restarted.init_transactions()
        restarted.poll(0.5)  # serves librdkafka's log lines
        restarted.begin()
        restarted.produce(topic, b"after the restart", key=b"k")
        restarted.commit()

    assert "Failed to acquire transactional PID" not in capfd.readouterr().err  # not librdkafka's own stderr line
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING and r.name.startswith("gateway")]
    assert warnings == []
    explained = [r for r in caplog.records if "expected after a restart" in r.getMessage()]
    assert len(explained) <= 1  # at INFO, once
    assert values(read_to_end(kafka_bootstrap, topic, "read_committed", timeout=10)) == [b"after the restart"]
