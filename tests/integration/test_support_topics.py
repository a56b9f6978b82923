"""The tests' own topic reader (`support.topics.read_all`) against the real broker."""

from __future__ import annotations

import time
import uuid

from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic

from tests.integration.support.topics import _MARKER_GRACE_S, read_all


def _topic(bootstrap: str, partitions: int = 1) -> str:
    name = f"read-all-{uuid.uuid4().hex[:8]}"
    admin = AdminClient({"bootstrap.servers": bootstrap})  # kept alive until the futures resolve
    for future in admin.create_topics([NewTopic(name, partitions, 1)]).values():
        future.result()
    return name


def test_committed_messages_are_read_at_once(kafka_bootstrap: str) -> None:
    topic = _topic(kafka_bootstrap)
    producer = Producer({"bootstrap.servers": kafka_bootstrap, "transactional.id": topic})
    producer.init_transactions()
    producer.begin_transaction()
    for i in range(3):
        producer.produce(topic, str(i).encode())
    producer.commit_transaction()
    started = time.monotonic()
    assert [m.value() for m in read_all(kafka_bootstrap, topic)] == [b"0", b"1", b"2"]
    # At the high watermark: no grace is waited out.
    assert time.monotonic() - started < _MARKER_GRACE_S


def test_empty_partitions_are_at_their_end_at_once(kafka_bootstrap: str) -> None:
    # Nothing consumed from a partition leaves its position unset (OFFSET_INVALID), which is not "short".
    topic = _topic(kafka_bootstrap, partitions=3)
    producer = Producer({"bootstrap.servers": kafka_bootstrap, "transactional.id": topic})
    producer.init_transactions()
    producer.begin_transaction()
    producer.produce(topic, b"only", partition=1)
    producer.commit_transaction()
    started = time.monotonic()
    assert [m.value() for m in read_all(kafka_bootstrap, topic)] == [b"only"]
    assert time.monotonic() - started < _MARKER_GRACE_S


def test_an_open_transaction_ends_the_read_after_the_grace_not_with_a_timeout(kafka_bootstrap: str) -> None:
    topic = _topic(kafka_bootstrap)
    producer = Producer({"bootstrap.servers": kafka_bootstrap, "transactional.id": topic})
    producer.init_transactions()
    producer.begin_transaction()
    producer.produce(topic, b"committed")
    producer.commit_transaction()
    producer.begin_transaction()
    producer.produce(topic, b"open")
    producer.flush()  # on the broker, uncommitted: the end a read_committed reader sees stays short
    try:
        started = time.monotonic()
        assert [m.value() for m in read_all(kafka_bootstrap, topic, timeout=20)] == [b"committed"]
        assert time.monotonic() - started >= _MARKER_GRACE_S
    finally:
        producer.abort_transaction()
