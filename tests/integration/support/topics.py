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
    probe = (
        Consumer({"bootstrap.servers": bootstrap, "group.id": "unused", "isolation.level": "read_uncommitted"})
        if committed_only
        else None
    )
    try:
        meta = consumer.list_topics(topic, timeout=10).topics[topic]
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in meta.partitions])
        pending = set(meta.partitions)
        out: list[Message] = []
        deadline = time.monotonic() + timeout
        short_eof: dict[int, float] = {}  # partition -> when its end first looked short of the high watermark
        while pending and time.monotonic() < deadline:
            msg = consumer.poll(0.5)
            if msg is None:
                # An end that looked short may be followed by markers only, which bring no second EOF: look again.
                for waiting in [p for p in short_eof if p in pending]:
                    if _at_end(consumer, probe, topic, waiting, short_eof):
                        pending.discard(waiting)
                continue
            error = msg.error()
            if error is not None:
                if error.code() == KafkaError._PARTITION_EOF:
                    partition = msg.partition()
                    assert partition is not None
                    if _at_end(consumer, probe, topic, partition, short_eof):
                        pending.discard(partition)
                    continue
                raise RuntimeError(error)
            out.append(msg)
        if pending:
            raise TimeoutError(f"{topic}: partitions {sorted(pending)} did not reach their end")
        return out
    finally:
        consumer.close()
        if probe is not None:
            probe.close()


# A commit's markers are written after commit_transaction returns, so a read_committed reader can meet the end of a
# partition (its last stable offset) just before them. Such an end is only believed after this grace: an open
# transaction of a killed producer keeps the end short until it times out, and that must not fail the read.
_MARKER_GRACE_S = 3.0


def _at_end(
    consumer: Consumer, probe: Consumer | None, topic: str, partition: int, short_eof: dict[int, float]
) -> bool:
    """Whether a partition-EOF means the end: the position is the high watermark, or the grace has passed.

    ``probe`` reads uncommitted: a read_committed client's watermark query answers the last stable offset, the very
    end that may be short.
    """
    if probe is None:
        return True
    tp = TopicPartition(topic, partition)
    low, high = probe.get_watermark_offsets(tp, timeout=10, cached=False)
    position = consumer.position([tp])[0].offset
    if position < 0:  # nothing consumed yet (OFFSET_INVALID): the reader is at the partition's start
        position = low
    if position >= high:
        return True
    first = short_eof.setdefault(partition, time.monotonic())
    return time.monotonic() - first >= _MARKER_GRACE_S


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
