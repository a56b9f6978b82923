"""The idempotent producer against the real broker: keyed messages with headers arrive, in order per key."""

from __future__ import annotations

import os
import time
import uuid
from collections import defaultdict
from collections.abc import Callable

import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, Message, TopicPartition

from gateway.kafka.producer import IdempotentProducer, OutboundMessage
from gateway.kafka.retry import KafkaRefusedError
from gateway.kafka.settings import KafkaSettings, ProducerSettings

pytestmark = pytest.mark.integration


def read_topic(bootstrap: str, topic: str, partitions: int, expected: int, timeout: float = 30.0) -> list[Message]:
    """Read a topic from the beginning until ``expected`` records arrived (or the timeout)."""
    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": f"reader-{uuid.uuid4().hex[:8]}", "enable.auto.commit": False}
    )
    consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(partitions)])
    records: list[Message] = []
    deadline = time.monotonic() + timeout
    try:
        while len(records) < expected and time.monotonic() < deadline:
            records += [m for m in consumer.consume(500, 0.5) if m.error() is None]
    finally:
        consumer.close()
    return records


def test_delivers_keyed_messages_with_headers_in_order_per_key(
    kafka_bootstrap: str, new_topic: Callable[..., str]
) -> None:
    topic = new_topic("producer", partitions=3)
    kafka = KafkaSettings(bootstrap_servers=kafka_bootstrap, client_id="it-producer")
    n = 300
    with IdempotentProducer(kafka, ProducerSettings(linger_ms=10)) as producer:
        for seq in range(n):
            key = f"case-{seq % 7}".encode()
            producer.produce(topic, f"{seq}".encode(), key=key, headers=[("seq", f"{seq}".encode()), ("src", b"it")])
        producer.send(OutboundMessage(topic, b"case-0", None, (("tombstone", b"1"),)))
    assert producer.delivered == n + 1

    records = read_topic(kafka_bootstrap, topic, 3, n + 1)
    assert len(records) == n + 1
    by_key: dict[bytes, list[int]] = defaultdict(list)
    for record in records:
        headers = dict(record.headers() or [])
        if record.value() is None:
            assert headers == {"tombstone": b"1"}
            continue
        assert headers == {"seq": record.value(), "src": b"it"}
        by_key[record.key() or b""].append(int(record.value() or b""))
    assert sorted(by_key) == [f"case-{k}".encode() for k in range(7)]
    for key, seqs in by_key.items():
        assert seqs == sorted(seqs), f"{key!r} out of order"
        assert seqs == list(range(int(key.decode()[-1]), n, 7))
    # every key hashes to one partition
    partitions = defaultdict(set)
    for record in records:
        partitions[record.key()].add(record.partition())
    assert all(len(p) == 1 for p in partitions.values())


def test_tiny_local_queue_waits_instead_of_dropping(kafka_bootstrap: str, new_topic: Callable[..., str]) -> None:
    topic = new_topic("producer-queue", partitions=1)
    kafka = KafkaSettings(bootstrap_servers=kafka_bootstrap)
    settings = ProducerSettings(queue_buffering_max_messages=5, linger_ms=1)
    n = 400
    with IdempotentProducer(kafka, settings) as producer:
        for seq in range(n):
            producer.produce(topic, f"{seq}".encode())
    assert producer.delivered == n
    values = [int(m.value() or b"") for m in read_topic(kafka_bootstrap, topic, 1, n)]
    assert values == list(range(n))


def test_a_message_over_the_topics_limit_is_refused_at_flush_naming_topic_size_and_limit(
    kafka_bootstrap: str, new_topic: Callable[..., str]
) -> None:
    topic = new_topic("producer-small", config={"max.message.bytes": "1000"})
    kafka = KafkaSettings(bootstrap_servers=kafka_bootstrap, client_id="it-producer-refused")
    producer = IdempotentProducer(kafka)
    producer.produce(topic, os.urandom(3000), key=b"key")  # random, so lz4 cannot squeeze it under the limit
    started = time.monotonic()
    with pytest.raises(KafkaRefusedError) as refused:
        producer.flush(20)  # an UndeliveredError here would be retried as transient, forever
    producer.close()

    assert time.monotonic() - started < 5
    assert str(refused.value) == (
        f"Kafka refused a record for topic {topic}: MSG_SIZE_TOO_LARGE (record of about 3003 bytes; the topic's "
        "max.message.bytes is 1000): Broker: Message size too large; not retried"
    )
