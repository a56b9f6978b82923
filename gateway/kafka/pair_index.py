"""A read-only, in-memory view of a compacted topic of pairs: key ``"<left>:<right>"``, value per pair.

Several parts of the gateway publish what they learn as pairs on a compacted topic, so that another process can
look one side up: the EES document index (document key → subject keys) and the RIAT referral index (referral id →
subject keys). A value of None (a tombstone) removes the pair. `PairIndex` reads such a topic whole at start, then
what came since on each `refresh`; it never writes or commits.
"""

from __future__ import annotations

import time
import uuid
from types import MappingProxyType, TracebackType
from typing import Self

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, Message, TopicPartition

from gateway.errors import TransientError
from gateway.kafka.settings import KafkaSettings

__all__ = ["PairIndex"]


class PairIndex:
    """A read-only, in-memory view of a compacted topic of pairs.

    Use as a context manager. Construction reads the topic to its current end (``read_committed``: pairs of open or
    aborted transactions are not seen); `refresh` reads what came since.

    Subclasses choose how a key splits into its two sides (`split_key`): the left side at the first colon by default.

    Args:
        kafka: Connection settings.
        topic: The index topic.
        timeout_s: Longest silence while reading before giving up with ``TransientError``.
        group_prefix: Prefix of the throwaway consumer group's name (it shows in the broker's logs).
    """

    def __init__(
        self, kafka: KafkaSettings, topic: str, *, timeout_s: float = 30.0, group_prefix: str = "gateway-pair-index"
    ) -> None:
        self.topic = topic
        self._timeout_s = timeout_s
        self._pairs: dict[str, dict[str, bytes]] = {}
        self._next: dict[int, int] = {}
        self._consumer = Consumer(
            {
                **kafka.to_librdkafka(),
                # A throwaway group: assign() reads without joining, and nothing is ever committed.
                "group.id": f"{group_prefix}-{uuid.uuid4().hex[:8]}",
                "enable.auto.commit": False,
                "enable.partition.eof": True,
                "isolation.level": "read_committed",
                # At the end of a partition the broker would hold each fetch up to 500 ms waiting for new data.
                "fetch.wait.max.ms": 10,
            }
        )
        try:
            meta = self._consumer.list_topics(topic, timeout=timeout_s).topics.get(topic)
            if meta is None or meta.error is not None:
                raise TransientError(f"topic {topic} is not available: {meta.error if meta else 'missing'}")
            self._partitions = sorted(meta.partitions)
            self._next = dict.fromkeys(self._partitions, 0)
            self._consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in self._partitions])
            self.refresh()
        except BaseException:
            self._consumer.close()
            raise

    @staticmethod
    def split_key(key: str) -> tuple[str, str]:
        """Split a pair key into (left, right); an empty right side means "not a pair key"."""
        left, _, right = key.partition(":")
        return left, right

    def rights(self, left: str) -> frozenset[str]:
        """The right sides paired with ``left`` (empty when none is)."""
        return frozenset(self._pairs.get(left, ()))

    def values(self, left: str) -> MappingProxyType[str, bytes]:
        """The pairs of ``left``: right side -> the value last published for the pair (a read-only copy)."""
        return MappingProxyType(dict(self._pairs.get(left, {})))

    def __len__(self) -> int:
        """Left sides in the index."""
        return len(self._pairs)

    def refresh(self) -> int:
        """Read what was committed to the topic since the last read, up to its current end.

        Returns:
            Index messages read.

        Raises:
            TransientError: The end was not reached within the timeout of silence.
        """
        ends = self._ends()
        pending = {p for p, end in ends.items() if self._next[p] < end}
        read = 0
        deadline = time.monotonic() + self._timeout_s
        while pending:
            if time.monotonic() > deadline:
                raise TransientError(f"reading {self.topic} did not reach its end within {self._timeout_s:.0f} s")
            msg = self._consumer.poll(0.2)
            if msg is None:
                continue
            error = msg.error()
            partition = msg.partition() or 0
            if error is not None:
                if error.code() != KafkaError._PARTITION_EOF:
                    raise TransientError(f"reading {self.topic}: {error.str()}")
                self._next[partition] = msg.offset() or 0
            else:
                self._apply(msg)
                self._next[partition] = (msg.offset() or 0) + 1
                read += 1
                deadline = time.monotonic() + self._timeout_s  # the limit is for silence, not for size
            if self._next[partition] >= ends[partition]:
                pending.discard(partition)
        return read

    def _ends(self) -> dict[int, int]:
        # With read_committed the end reported is the last stable offset: an open transaction does not hold us.
        ends = {}
        for p in self._partitions:
            _, high = self._consumer.get_watermark_offsets(
                TopicPartition(self.topic, p), timeout=self._timeout_s, cached=False
            )
            ends[p] = high
        return ends

    def _apply(self, msg: Message) -> None:
        key = msg.key()
        if key is None:
            return
        left, right = self.split_key(key.decode("utf-8", "replace"))
        if not right:
            return  # not a pair key: ignore rather than guess
        value = msg.value()
        if value is None:
            pairs = self._pairs.get(left)
            if pairs is not None:
                pairs.pop(right, None)
                if not pairs:
                    del self._pairs[left]
        else:
            self._pairs.setdefault(left, {})[right] = value

    def close(self) -> None:
        """Release the consumer."""
        self._consumer.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
