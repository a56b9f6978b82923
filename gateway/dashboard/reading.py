"""Reading parts of a dead-letter topic by offset: its watermarks, an offset range per partition, one offset.

What a page costs is bounded by what it shows: the recent list reads the last ``N`` offsets of each partition, a
record's detail reads exactly one offset (`TopicReader.read_at`), and the summary reads only the offsets it has not
counted yet. Nothing here reads a topic from its start unless asked to (the summary's first build).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import cast

from confluent_kafka import Consumer, KafkaError, Message, TopicPartition

from gateway.dlq import headers as H
from gateway.dlq.tools import DeadLetterRecord
from gateway.errors import TransientError
from gateway.kafka.reader import MissingTopicError
from gateway.kafka.retry import classify, is_permanent
from gateway.kafka.settings import KafkaSettings

__all__ = ["Watermarks", "TopicReader"]


@dataclass(frozen=True, slots=True)
class Watermarks:
    """The offsets of a topic's partitions: ``low`` (oldest kept) and ``high`` (next to be written), per partition.

    ``high - low`` counts offsets, which include transaction markers and aborted records: an upper bound on the
    dead letters, exact for a topic written without transactions.
    """

    offsets: Mapping[int, tuple[int, int]]

    @property
    def total(self) -> int:
        """Offsets held, over every partition."""
        return sum(high - low for low, high in self.offsets.values())


def to_record(topic: str, msg: Message) -> DeadLetterRecord:
    """A consumed message as a `DeadLetterRecord` (binary Spring headers decoded, as ``gateway dlq`` does)."""
    listed = cast(list[tuple[str, bytes | str | None]], msg.headers() or [])
    raw = tuple((k, v if isinstance(v, bytes) else v.encode()) for k, v in listed if v is not None)
    return DeadLetterRecord(
        topic, msg.partition() or 0, msg.offset() or 0, msg.key(), msg.value() or b"", H.as_text(raw), raw
    )


class TopicReader:
    """Reads one topic by offset, with a short-lived consumer per call (no group, nothing committed).

    Args:
        kafka: Where to connect.
        topic: The dead-letter topic.
        timeout_s: Longest silence while reading.
    """

    def __init__(self, kafka: KafkaSettings, topic: str, *, timeout_s: float = 30.0) -> None:
        self._kafka = kafka
        self.topic = topic
        self._timeout_s = timeout_s

    def _consumer(self) -> Consumer:
        return Consumer(
            {
                **self._kafka.to_librdkafka(),
                "group.id": f"gateway-dashboard-{uuid.uuid4().hex[:8]}",  # assign() only: never joined
                "enable.auto.commit": False,
                "enable.partition.eof": True,
                "isolation.level": "read_committed",
                "fetch.wait.max.ms": 10,  # see gateway.kafka.reader: do not hold the end-of-partition event back
            }
        )

    def watermarks(self) -> Watermarks:
        """Low and high offsets of every partition (one metadata and one offsets request per partition).

        Raises:
            MissingTopicError: The topic does not exist.
            TransientError: The broker did not answer.
        """
        consumer = self._consumer()
        try:
            return self._watermarks(consumer)
        finally:
            consumer.close()

    def _watermarks(self, consumer: Consumer) -> Watermarks:
        try:
            meta = consumer.list_topics(self.topic, timeout=self._timeout_s).topics.get(self.topic)
        except Exception as exc:  # KafkaException: metadata timed out
            raise TransientError(f"topic {self.topic} metadata: {exc}") from exc
        if meta is None or (meta.error is not None and meta.error.code() == KafkaError.UNKNOWN_TOPIC_OR_PART):
            raise MissingTopicError(self.topic)
        if meta.error is not None:
            if is_permanent(meta.error.code()):
                raise classify(meta.error, f"read {self.topic}")
            raise TransientError(f"topic {self.topic} is not available: {meta.error}")
        out: dict[int, tuple[int, int]] = {}
        for p in sorted(meta.partitions):
            try:
                low, high = consumer.get_watermark_offsets(TopicPartition(self.topic, p), timeout=self._timeout_s)
            except Exception as exc:  # KafkaException
                raise TransientError(f"offsets of {self.topic}[{p}]: {exc}") from exc
            out[p] = (int(low), int(high))
        return Watermarks(out)

    def read_ranges(self, ranges: Mapping[int, tuple[int, int]]) -> Iterator[DeadLetterRecord]:
        """The committed records at ``start <= offset < end`` of each partition (``{partition: (start, end)}``).

        Raises:
            TransientError: The broker went silent for ``timeout_s`` before the ranges were read.
        """
        wanted = {p: (start, end) for p, (start, end) in ranges.items() if end > start}
        if not wanted:
            return
        consumer = self._consumer()
        try:
            consumer.assign([TopicPartition(self.topic, p, start) for p, (start, _) in wanted.items()])
            pending = set(wanted)
            deadline = time.monotonic() + self._timeout_s
            while pending:
                if time.monotonic() > deadline:
                    raise TransientError(f"reading {self.topic} went silent for {self._timeout_s:.0f} s")
                msg = consumer.poll(0.5)
                if msg is None:
                    continue
                err, p = msg.error(), msg.partition() or 0
                if err is not None:
                    if err.code() == KafkaError._PARTITION_EOF:
                        pending.discard(p)
                        continue
                    if is_permanent(err.code()):
                        raise classify(err, f"read {self.topic}")
                    raise TransientError(f"reading {self.topic}: {err}")
                deadline = time.monotonic() + self._timeout_s
                if p not in pending:
                    continue
                offset = msg.offset() or 0
                end = wanted[p][1]
                if offset < end:
                    yield to_record(self.topic, msg)
                if offset >= end - 1:
                    pending.discard(p)
                    # Stop fetching a finished partition, so the others are not held up by its data.
                    consumer.pause([TopicPartition(self.topic, p)])
        finally:
            consumer.close()

    def read_at(self, refs: Iterable[tuple[int, int]]) -> list[DeadLetterRecord]:
        """The records at exactly these ``(partition, offset)`` pairs; those not there are left out.

        Offsets close together (a selection from one page of the list) are read as one span, so a few hundred
        chosen dead letters cost a few reads, not one each; nothing outside the spans is read.

        Raises:
            TransientError: The broker did not answer.
        """
        wanted = set(refs)
        if not wanted:
            return []
        marks = self.watermarks().offsets
        inside = sorted((p, o) for p, o in wanted if marks.get(p, (0, 0))[0] <= o < marks.get(p, (0, 0))[1])
        out = []
        for partition, start, end in _spans(inside):
            # Offsets not in ``wanted`` are dropped: another offset, a marker or an aborted record, is not the one.
            out += [r for r in self.read_ranges({partition: (start, end)}) if (r.partition, r.offset) in wanted]
        return sorted(out, key=lambda r: (r.partition, r.offset))


# Chosen offsets at most this far apart are read as one span: reading a few between costs less than a new consumer.
_SPAN_GAP = 64


def _spans(refs: list[tuple[int, int]]) -> list[tuple[int, int, int]]:
    """Sorted ``(partition, offset)`` pairs as ``(partition, start, end)`` spans (end exclusive)."""
    spans: list[tuple[int, int, int]] = []
    for p, o in refs:
        if spans and spans[-1][0] == p and o - spans[-1][2] < _SPAN_GAP:
            spans[-1] = (p, spans[-1][1], o + 1)
        else:
            spans.append((p, o, o + 1))
    return spans
