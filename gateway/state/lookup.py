"""Reading one entry of a store from outside its application: for operators' commands (``gateway detect explain``).

The local files are opened read-only, so a running application is not disturbed; where no local file holds the key
(another process owns its partition), the changelog is read instead: the latest record of the key is the entry.
"""

from __future__ import annotations

import sqlite3
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, TopicPartition

from gateway.kafka.retry import classify
from gateway.kafka.settings import KafkaSettings
from gateway.state.changelog import decode_change

__all__ = ["Found", "find_in_changelog", "find_in_files"]


@dataclass(frozen=True, slots=True)
class Found:
    """An entry found, and where.

    Attributes:
        value: The entry's bytes.
        where: The file, or ``topic[partition]@offset``.
    """

    value: bytes
    where: str


def find_in_files(paths: Iterable[Path], key: bytes) -> Found | None:
    """The entry ``key`` in the first of these store files that holds it (expiry is not applied)."""
    for path in paths:
        try:
            db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        except sqlite3.Error:
            continue
        try:
            row = db.execute("SELECT value FROM entries WHERE key = ?", (key,)).fetchone()
        except sqlite3.Error:
            row = None  # not a store file, or damaged: the changelog is the authority anyway
        finally:
            db.close()
        if row is not None:
            return Found(bytes(row[0]), str(path))
    return None


def find_in_changelog(kafka: KafkaSettings, topic: str, key: bytes, *, timeout_s: float = 300.0) -> Found | None:
    """The latest entry ``key`` in a changelog topic (None if absent or deleted), reading every partition to its end.

    Raises:
        TransientError: The ends were not reached within ``timeout_s``.
    """
    consumer = Consumer(
        {
            **kafka.to_librdkafka(),
            "group.id": f"gateway-lookup-{uuid.uuid4().hex[:8]}",
            "enable.auto.commit": False,
            "enable.partition.eof": True,
            "isolation.level": "read_committed",
        }
    )
    latest: Found | None = None
    try:
        meta = consumer.list_topics(topic, timeout=30.0).topics.get(topic)
        if meta is None or meta.error is not None:
            return None
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in meta.partitions])
        pending = set(meta.partitions)
        deadline = time.monotonic() + timeout_s
        while pending:
            if time.monotonic() > deadline:
                raise classify(KafkaError(KafkaError._TIMED_OUT, f"{topic} not read to its end"), "lookup")
            for message in consumer.consume(10_000, 0.1):
                error = message.error()
                if error is not None:
                    if error.code() == KafkaError._PARTITION_EOF:
                        pending.discard(message.partition() or 0)
                        continue
                    raise classify(error, "lookup")
                change = decode_change(message.key(), message.value(), message.headers())  # type: ignore[arg-type]
                if change.kind != "entry" or change.key != key:
                    continue
                where = f"{topic}[{message.partition()}]@{message.offset()}"
                latest = None if change.value is None else Found(change.value, where)
    finally:
        consumer.close()
    return latest
