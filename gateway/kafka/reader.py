"""Reading a topic from its beginning to its end: committed messages only, every partition, then stop.

A topic that does not exist is `MissingTopicError` at once, not an outage to wait out: waiting does not create it.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, Message, TopicPartition

from gateway.errors import FatalError, TransientError
from gateway.kafka.retry import classify, is_permanent
from gateway.kafka.settings import KafkaSettings

__all__ = ["MissingTopicError", "read_to_end"]


class MissingTopicError(FatalError):
    """A topic the gateway reads does not exist: provision the topics first.

    ``gateway ingest``, ``watch`` and ``run`` create their topics at start-up; this is a library caller that did not.

    Attributes:
        topic: The topic.
    """

    def __init__(self, topic: str) -> None:
        super().__init__(f"topic {topic} does not exist; create it (provision the gateway's topics) and run again")
        self.topic = topic


def read_to_end(kafka: KafkaSettings, topic: str, *, timeout_s: float = 30.0) -> Iterator[Message]:
    """Yield every committed message of ``topic``, partition by partition as they arrive, then stop.

    ``read_committed`` stops at the last stable offset, so an open transaction of a live producer would hold the
    read back; callers that must not wait for one (the progress store) fence that producer first.

    Raises:
        MissingTopicError: The topic does not exist.
        TransientError: The topic is not available, or its end was not reached within ``timeout_s``.
    """
    consumer = Consumer(
        {
            **kafka.to_librdkafka(),
            # A throwaway group: assign() reads without joining, and nothing is ever committed.
            "group.id": f"gateway-reader-{uuid.uuid4().hex[:8]}",
            "enable.auto.commit": False,
            "enable.partition.eof": True,
            "isolation.level": "read_committed",
            # At the end of a partition the broker would hold each fetch for up to this long (default 500 ms)
            # waiting for new data, delaying the end-of-partition event that tells us we are done.
            "fetch.wait.max.ms": 10,
        }
    )
    try:
        meta = _metadata(consumer, topic, timeout_s)
        if meta.error is not None:
            if is_permanent(meta.error.code()):  # not authorized to read it: waiting will not help
                raise classify(meta.error, f"read {topic}")
            raise TransientError(f"topic {topic} is not available: {meta.error if meta else 'missing'}")
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in meta.partitions])
        pending = set(meta.partitions)
        deadline = time.monotonic() + timeout_s
        while pending:
            if time.monotonic() > deadline:
                raise TransientError(f"reading {topic} did not reach its end within {timeout_s:.0f} s")
            msg = consumer.poll(0.5)
            if msg is None:
                continue
            err = msg.error()
            if err is not None:
                if err.code() == KafkaError._PARTITION_EOF:
                    pending.discard(msg.partition())
                    continue
                if is_permanent(err.code()):  # e.g. GROUP_AUTHORIZATION_FAILED: no retry will be allowed either
                    raise classify(err, f"read {topic}")
                raise TransientError(f"reading {topic}: {err}")
            deadline = time.monotonic() + timeout_s  # progress: the limit is for silence, not for size
            yield msg
    finally:
        consumer.close()


# A topic created a moment ago may not be in every broker's metadata yet; longer than this, it does not exist.
_MISSING_GRACE_S = 3.0


def _metadata(consumer: Consumer, topic: str, timeout_s: float) -> Any:
    """The topic's metadata, or `MissingTopicError` once it stayed unknown for ``_MISSING_GRACE_S``."""
    give_up = time.monotonic() + _MISSING_GRACE_S
    while True:
        meta = consumer.list_topics(topic, timeout=timeout_s).topics.get(topic)
        missing = meta is None or (meta.error is not None and meta.error.code() == KafkaError.UNKNOWN_TOPIC_OR_PART)
        if not missing:
            return meta
        if time.monotonic() >= give_up:
            raise MissingTopicError(topic)
        time.sleep(0.5)
