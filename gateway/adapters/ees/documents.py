"""Travel documents to subject keys: a keyed hash of the document, and a local view of the index topic.

EES knows a traveller by travel document; the gateway knows a person by subject key (an HMAC of the national person
reference, ``gateway.pipeline.pseudonym``). The outbound stage, which sees the decisions with their identity blocks,
publishes every (document key, subject key) pair it learns on a compacted topic, ``gateway.ees.documents.v1``:
key ``"<document key>:<subject key>"``, value the subject key; a tombstone removes a pair. The document key is an
HMAC too, so the topic holds no document number in clear.

`DocumentIndex` (a `gateway.kafka.pair_index.PairIndex`) reads that topic into memory: from the beginning to its
current end at start, then what came since on each `refresh`. It is a read-only view; it never writes or commits.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from gateway.kafka.pair_index import PairIndex
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


class DocumentIndex(PairIndex):
    """A read-only, in-memory view of the document index topic (a `PairIndex` of document key -> subject keys).

    Use as a context manager. Construction reads the topic to its current end (``read_committed``: pairs of open or
    aborted transactions are not seen); `refresh` reads what came since.

    Args:
        kafka: Connection settings.
        topic: The index topic.
        timeout_s: Longest silence while reading before giving up with ``TransientError``.
    """

    def __init__(self, kafka: KafkaSettings, topic: str = DOCUMENT_INDEX_TOPIC, *, timeout_s: float = 30.0) -> None:
        super().__init__(kafka, topic, timeout_s=timeout_s, group_prefix="gateway-ees-index")

    def subjects(self, document_key: str) -> frozenset[str]:
        """The subjects known to hold the document (empty when none is)."""
        return self.rights(document_key)
