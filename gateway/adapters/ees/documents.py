"""Travel documents to subject keys: a keyed hash of the document, and a local view of the index topic.

EES knows a traveller by travel document; the gateway knows a person by subject key (an HMAC of the national person
reference, ``gateway.pipeline.pseudonym``). The outbound stage, which sees the decisions with their identity blocks,
publishes every (document key, subject key) pair it learns on a compacted topic, ``gateway.ees.documents.v1``:
key ``"<document key>:<subject key>"``, value the subject key; a tombstone removes a pair. The document key is an
HMAC too, so the topic holds no document number in clear.

`DocumentIndex` reads that topic into memory: from the beginning to its current end at start, then what came since
on each `refresh`. It is a read-only view; it never writes or commits.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
import uuid
from types import TracebackType
from typing import Self

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, Message, TopicPartition

from gateway.errors import TransientError
from gateway.kafka.producer import OutboundMessage
from gateway.kafka.settings import KafkaSettings
from gateway.kafka.topics import TopicSpec

DOCUMENT_INDEX_TOPIC = "gateway.ees.documents.v1"
_SEPARATORS = re.compile(r"[\s\-]+")


def normalise_document(issuing_country: str, number: str) -> str:
    """The text hashed into a document key: ``travel-document:<COUNTRY>:<NUMBER>``, upper case, no spaces or hyphens.

    Border systems and national files print the same number with and without separators (``AB 123-456``,
    ``AB123456``); both must give one key.
    """
    country = _SEPARATORS.sub("", issuing_country).upper()
    return f"travel-document:{country}:{_SEPARATORS.sub('', number).upper()}"


def document_key(secret: bytes, issuing_country: str, number: str) -> str:
    """The pseudonymous key of a travel document: HMAC-SHA256 of its normalised form, 32 hex digits.

    Args:
        secret: The deployment's subject-key secret (the same for every process, as for subject keys).
        issuing_country: Three-letter code of the issuing state.
        number: Document number as printed.
    """
    message = normalise_document(issuing_country, number).encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()[:32]


def index_record(topic: str, document_key: str, subject_key: str) -> OutboundMessage:
    """The index message that records one pair (produce it to the compacted index topic).

    Args:
        topic: The index topic (``DOCUMENT_INDEX_TOPIC`` unless configured otherwise).
        document_key: The document's key (`document_key`).
        subject_key: The subject holding the document.
    """
    return OutboundMessage(topic, f"{document_key}:{subject_key}".encode(), subject_key.encode())


def index_tombstone(topic: str, document_key: str, subject_key: str) -> OutboundMessage:
    """The message that removes one pair from the index (erasure, a document no longer the subject's)."""
    return OutboundMessage(topic, f"{document_key}:{subject_key}".encode(), None)


def index_topic_spec(name: str, partitions: int, replication_factor: int) -> TopicSpec:
    """The index topic: compacted, so it keeps the latest state of every pair forever."""
    return TopicSpec(name=name, partitions=partitions, replication_factor=replication_factor, cleanup_policy="compact")


class DocumentIndex:
    """A read-only, in-memory view of the document index topic.

    Use as a context manager. Construction reads the topic to its current end (``read_committed``: pairs of open or
    aborted transactions are not seen); `refresh` reads what came since.

    Args:
        kafka: Connection settings.
        topic: The index topic.
        timeout_s: Longest silence while reading before giving up with ``TransientError``.
    """

    def __init__(self, kafka: KafkaSettings, topic: str = DOCUMENT_INDEX_TOPIC, *, timeout_s: float = 30.0) -> None:
        self.topic = topic
        self._timeout_s = timeout_s
        self._pairs: dict[str, set[str]] = {}
        self._next: dict[int, int] = {}
        self._consumer = Consumer(
            {
                **kafka.to_librdkafka(),
                # A throwaway group: assign() reads without joining, and nothing is ever committed.
                "group.id": f"gateway-ees-index-{uuid.uuid4().hex[:8]}",
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

    def subjects(self, document_key: str) -> frozenset[str]:
        """The subjects known to hold the document (empty when none is)."""
        return frozenset(self._pairs.get(document_key, ()))

    def __len__(self) -> int:
        """Documents in the index."""
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
        document, _, subject = key.decode("utf-8", "replace").partition(":")
        if not subject:
            return  # not a pair key: ignore rather than guess
        if msg.value() is None:
            holders = self._pairs.get(document)
            if holders is not None:
                holders.discard(subject)
                if not holders:
                    del self._pairs[document]
        else:
            self._pairs.setdefault(document, set()).add(subject)

    def close(self) -> None:
        """Release the consumer."""
        self._consumer.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
