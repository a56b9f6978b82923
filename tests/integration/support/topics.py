from __future__ import annotations

import time
import uuid
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, Message, TopicPartition

from gateway.config import TopicNames


def read_all(bootstrap: str, topic: str, *, timeout: float = 30.0, committed_only: bool = True) -> list[Message]:
    """Every message of a topic from the beginning to its end (read_committed by default)."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"reader-{uuid.uuid4().hex[:8]}",
            "enable.auto.commit": False,
            "enable.partition.eof": True,
            "isolation.level": "read_committed" if committed_only else "read_uncommitted",
        }
    )
    try:
        meta = consumer.list_topics(topic, timeout=10).topics[topic]
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in meta.partitions])
        pending = set(meta.partitions)
        out: list[Message] = []
        deadline = time.monotonic() + timeout
        while pending and time.monotonic() < deadline:
            msg = consumer.poll(0.5)
            if msg is None:
                continue
            if msg.error():
                if msg.error().code() == KafkaError._PARTITION_EOF:
                    pending.discard(msg.partition())
                    continue
                raise RuntimeError(msg.error())
            out.append(msg)
        if pending:
            raise TimeoutError(f"{topic}: partitions {sorted(pending)} did not reach their end")
        return out
    finally:
        consumer.close()


def fresh_topics(prefix: str, **options: Any) -> TopicNames:
    """Topic names no earlier test run used, so tests sharing a broker never read each other's messages."""
    run = f"{prefix}-{uuid.uuid4().hex[:8]}"
    return TopicNames(
        canonical=f"{run}.events",
        dlq_prefix=f"{run}.dlq.",
        raw_prefix=f"{run}.raw.",
        progress=f"{run}.progress",
        **options,
    )
