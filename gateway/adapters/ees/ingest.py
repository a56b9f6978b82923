"""EES exit files in, routed to three topics exactly once per commit: inbound exits, review, dead letters.

Every record ends in exactly one of them, so records in = inbound + review + dead letters, always:

* a record whose travel document one subject holds → a provisional ``DepartureConfirmed`` (canonical codec) on
  ``topics.ees_inbound``, keyed by subject key, for the matching stage;
* a record no subject or several subjects hold → ``topics.review``: the record's XML with the reason in headers;
* a file or record that cannot be read → ``gateway.dlq.ees``: the original bytes with Kafka-Connect-style headers.

Files come from a drop directory (one transaction per file, then the file moves to ``processed/`` or ``failed/``,
as ``gateway.pipeline.dropdir`` does) or from an inbound topic of raw files (consume-transform-produce, the input
offsets committed in the outputs' transaction). A file committed but not yet moved when the process dies is ingested
again on restart: its exits keep their event ids (matching reports them as duplicates), its reviews and dead letters
come again with the same record ids in their headers.

``route_exit_file`` is the pure core; the rest is I/O.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, cast

from confluent_kafka import Message, TopicPartition
from confluent_kafka.admin import AdminClient

from gateway.adapters.ees.convert import CONNECTOR, Inbound, to_inbound
from gateway.adapters.ees.documents import DOCUMENT_INDEX_TOPIC, DocumentIndex, document_key, index_topic_spec
from gateway.adapters.ees.exits import ExitError, ExitRecord, parse_exit_file
from gateway.codec.codec import EventCodec
from gateway.config import GatewaySettings
from gateway.dlq import headers as H
from gateway.errors import FatalError, RecordError, TransientError
from gateway.events.headers import EVENT_TYPE_HEADER
from gateway.kafka.producer import OutboundMessage
from gateway.kafka.retry import KafkaFatalError
from gateway.kafka.settings import ConsumerSettings, TransactionSettings
from gateway.kafka.topics import TopicSpec, ensure_topics
from gateway.kafka.transactions import (
    AbortableTransactionError,
    BatchLimits,
    TransactionalProcessor,
    TransactionalProducer,
)
from gateway.observability import Observation, OutcomeTally

_log = logging.getLogger(__name__)

DLQ_TOPIC = "gateway.dlq.ees"
REVIEW_REASON = "gw.review.reason"
REVIEW_SOURCE = "gw.review.source"
RECORD_ID = "gw.ees.record.id"
ERROR_CODE = "gw.errors.code"
_PARSER_CLASS = "gateway.adapters.ees.exits.parse_exit_file"
# Exit-file error codes as the gateway's error classes, so DLQ tooling reads them like any connector's dead letters.
_ERROR_CLASS = {
    "forbidden-dtd": "gateway.errors.ParseError",
    "not-well-formed": "gateway.errors.ParseError",
    "not-exit-records": "gateway.errors.ParseError",
    "xsd-invalid": "gateway.errors.XsdValidationError",
    "invalid-value": "gateway.errors.MappingError",
}
_FILE_ATTEMPTS = 5


class SubjectLookup(Protocol):
    """Where the subjects holding a travel document are found (`DocumentIndex`, or a fake in tests)."""

    def subjects(self, document_key: str) -> frozenset[str]:
        """The subjects holding the document."""
        ...

    def refresh(self) -> int:
        """Catch up with what was published since the last call."""
        ...


@dataclass(frozen=True, slots=True)
class EesTopics:
    """Where the three kinds of output go.

    Attributes:
        inbound: Provisional departures, keyed by subject key (``topics.ees_inbound``).
        review: Records no single subject holds (``topics.review``).
        dlq: Files and records that cannot be read.
    """

    inbound: str
    review: str
    dlq: str = DLQ_TOPIC

    @classmethod
    def of(cls, settings: GatewaySettings, dlq: str | None = None) -> EesTopics:
        """The topics named by the gateway settings."""
        return cls(
            inbound=settings.topics.ees_inbound, review=settings.topics.review, dlq=dlq or settings.topics.ees_dlq
        )


@dataclass(slots=True)
class EesSummary:
    """What an ingest did; ``records == inbound + review + dead_letters`` when nothing was lost.

    Attributes:
        files: Files (or raw topic messages) read.
        records: Records accounted for (a file that cannot be read counts as one).
        inbound: Exits placed with one subject.
        review: Records sent to review.
        dead_letters: Files or records dead-lettered.
        review_reasons: Reviews by reason.
        error_codes: Dead letters by error code.
    """

    files: int = 0
    records: int = 0
    inbound: int = 0
    review: int = 0
    dead_letters: int = 0
    review_reasons: Counter[str] = field(default_factory=Counter)
    error_codes: Counter[str] = field(default_factory=Counter)

    @property
    def balanced(self) -> bool:
        """Every record is in exactly one output."""
        return self.records == self.inbound + self.review + self.dead_letters

    def add(self, other: EesSummary) -> None:
        """Add another summary's counts to this one."""
        self.files += other.files
        self.records += other.records
        self.inbound += other.inbound
        self.review += other.review
        self.dead_letters += other.dead_letters
        self.review_reasons.update(other.review_reasons)
        self.error_codes.update(other.error_codes)

    def tally(self) -> OutcomeTally:
        """The counts as metrics see them: exits placed and reviews as outputs, dead letters by error code."""
        return OutcomeTally(
            connector=CONNECTOR,
            records=self.records,
            events=Counter({k: n for k, n in (("exit", self.inbound), ("review", self.review)) if n}),
            dead_letters=Counter({("ees", code, ""): n for code, n in self.error_codes.items()}),
        )

    def to_dict(self) -> dict[str, Any]:
        """The summary as plain data."""
        return {
            "files": self.files,
            "records": self.records,
            "inbound": self.inbound,
            "review": self.review,
            "dead_letters": self.dead_letters,
            "balanced": self.balanced,
            "review_reasons": dict(self.review_reasons),
            "error_codes": dict(self.error_codes),
        }


@dataclass(frozen=True, slots=True)
class RouteContext:
    """What routing needs besides the file.

    Attributes:
        lookup: The subjects holding a document key.
        secret: The subject-key secret (document keys use it too).
        member_state: The Member State running the gateway.
        topics: Output topics.
        codec: The canonical codec.
        correlation_id: Correlation id of the ingest.
    """

    lookup: Callable[[str], frozenset[str]]
    secret: bytes
    member_state: str
    topics: EesTopics
    codec: EventCodec
    correlation_id: str


@dataclass(frozen=True, slots=True)
class Routed:
    """One file's outputs and counts."""

    messages: tuple[OutboundMessage, ...]
    summary: EesSummary


def route_exit_file(
    data: bytes,
    source: str,
    context: RouteContext,
    now: dt.datetime,
    *,
    origin: H.KafkaOrigin | None = None,
    original_headers: Sequence[tuple[str, bytes]] = (),
) -> Routed:
    """Route one exit file's records to inbound, review and dead-letter messages (pure apart from ``lookup``).

    Args:
        data: The file's bytes.
        source: File name or topic coordinates.
        context: Lookup, secret, Member State, topics, codec.
        now: Recording time of the events.
        origin: Coordinates of the raw message, when the file came from a topic.
        original_headers: That message's headers, kept first on its dead letters.

    Returns:
        The messages, in record order, and the counts.
    """
    summary = EesSummary(files=1)
    messages: list[OutboundMessage] = []
    now_ms = int(now.timestamp() * 1000)
    for item in parse_exit_file(data, source):
        summary.records += 1
        if isinstance(item, ExitError):
            messages.append(_dead_letter(item, context, origin, original_headers, now_ms))
            summary.dead_letters += 1
            summary.error_codes[item.code] += 1
            continue
        subjects = context.lookup(document_key(context.secret, item.issuing_country, item.document_number))
        routed = to_inbound(item, subjects, context.member_state, now, correlation_id=context.correlation_id)
        if isinstance(routed, Inbound):
            try:
                value = context.codec.encode(routed.event, context.topics.inbound)
            except RecordError as exc:
                error = ExitError("invalid-value", f"canonical encoding failed: {exc}", item.xml, source, item.index)
                messages.append(_dead_letter(error, context, origin, original_headers, now_ms))
                summary.dead_letters += 1
                summary.error_codes[error.code] += 1
                continue
            event_type = str(routed.event.event_type).encode()
            messages.append(
                OutboundMessage(context.topics.inbound, routed.key.encode(), value, ((EVENT_TYPE_HEADER, event_type),))
            )
            summary.inbound += 1
        else:
            messages.append(_review(item, routed.reason, context.topics.review))
            summary.review += 1
            summary.review_reasons[routed.reason] += 1
    return Routed(tuple(messages), summary)


def _review(record: ExitRecord, reason: str, topic: str) -> OutboundMessage:
    headers = (
        (REVIEW_REASON, reason.encode()),
        (REVIEW_SOURCE, CONNECTOR.encode()),
        (H.SOURCE_FILE, record.source.encode("utf-8", "replace")),
        (H.SOURCE_INDEX, str(record.index).encode()),
        (RECORD_ID, record.record_id.encode()),
    )
    # Keyed by record id: copies of one record land in one partition, in order, for the reviewer to see together.
    return OutboundMessage(topic, record.record_id.encode(), record.xml, headers)


def _dead_letter(
    error: ExitError,
    context: RouteContext,
    origin: H.KafkaOrigin | None,
    original: Sequence[tuple[str, bytes]],
    now_ms: int,
) -> OutboundMessage:
    h: list[tuple[str, bytes]] = list(original)

    def put(key: str, value: str) -> None:
        h.append((key, value.encode("utf-8", "replace")))

    if origin is not None:
        put(H.TOPIC, origin.topic)
        put(H.PARTITION, str(origin.partition))
        put(H.OFFSET, str(origin.offset))
    else:
        put(H.SOURCE_FILE, error.source)
    put(H.CONNECTOR, CONNECTOR)
    put(H.STAGE, "PARSE" if error.code != "invalid-value" else "MAP")
    put(H.CLASS, _PARSER_CLASS)
    put(H.EXC_CLASS, _ERROR_CLASS[error.code])
    put(H.EXC_MESSAGE, error.message[:4000])
    put(ERROR_CODE, error.code)
    put(H.SOURCE_POSITION, error.position)
    put(H.SOURCE_INDEX, str(error.index if error.index is not None else 0))
    put(H.TIMESTAMP, str(now_ms))
    put(H.CORRELATION, context.correlation_id)
    return OutboundMessage(context.topics.dlq, error.source.encode("utf-8", "replace"), error.data, tuple(h))


def topic_specs(
    topics: EesTopics, partitions: int, replication_factor: int, index_topic: str = DOCUMENT_INDEX_TOPIC
) -> list[TopicSpec]:
    """The topics the EES ingest writes and reads.

    Args:
        topics: The output topics.
        partitions: Their partition count: the canonical topic's, so the inbound topic is co-partitioned with it.
        replication_factor: Replicas per partition.
        index_topic: The document index (compacted).
    """
    return [
        TopicSpec(name=topics.inbound, partitions=partitions, replication_factor=replication_factor),
        TopicSpec(name=topics.review, partitions=partitions, replication_factor=replication_factor),
        TopicSpec(name=topics.dlq, partitions=partitions, replication_factor=replication_factor),
        index_topic_spec(index_topic, partitions, replication_factor),
    ]


def canonical_partitions(admin: AdminClient, settings: GatewaySettings, timeout_s: float = 30.0) -> int:
    """Partitions of the canonical topic on the broker; the configured count when it does not exist yet."""
    topic = settings.topics.canonical
    meta = admin.list_topics(topic, timeout=timeout_s).topics.get(topic)
    if meta is None or meta.error is not None or not meta.partitions:
        return settings.topics.partitions
    return len(meta.partitions)


class EesIngest:
    """Ingests EES exit files from a drop directory or a raw topic.

    Args:
        settings: Gateway settings (Kafka, topics, the subject-key secret).
        member_state: The Member State running the gateway.
        topics: Output topics; defaults to the settings' ``ees_inbound`` and ``review`` and ``gateway.dlq.ees``.
        index_topic: The document index topic; default the settings' ``ees_documents``.
        lookup: The subjects holding a document; defaults to a `DocumentIndex` on ``index_topic``, opened on first
            use.
        clock: The time of recording.
    """

    def __init__(
        self,
        settings: GatewaySettings,
        member_state: str,
        *,
        topics: EesTopics | None = None,
        index_topic: str | None = None,
        lookup: SubjectLookup | None = None,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self.settings = settings
        self.member_state = member_state
        self.topics = topics or EesTopics.of(settings)
        self.index_topic = index_topic or settings.topics.ees_documents
        self.clock = clock
        self._lookup = lookup
        self._codec = EventCodec()
        self._secret = settings.subject_key_secret.get_secret_value().encode()

    def ensure_topics(self) -> None:
        """Create the output and index topics that are missing, with the canonical topic's partition count."""
        admin = AdminClient(dict(self.settings.kafka.to_librdkafka()))
        partitions = canonical_partitions(admin, self.settings)
        rf = self.settings.topics.replication_factor
        ensure_topics(admin, topic_specs(self.topics, partitions, rf, self.index_topic))

    def close(self) -> None:
        """Release the document index, if this object opened it."""
        if isinstance(self._lookup, DocumentIndex):
            self._lookup.close()
        self._lookup = None

    def route(
        self,
        data: bytes,
        source: str,
        correlation_id: str,
        *,
        origin: H.KafkaOrigin | None = None,
        original_headers: Sequence[tuple[str, bytes]] = (),
    ) -> Routed:
        """Route one file against the freshly refreshed index (see `route_exit_file`)."""
        lookup = self._index()
        lookup.refresh()
        context = RouteContext(
            lookup.subjects, self._secret, self.member_state, self.topics, self._codec, correlation_id
        )
        return route_exit_file(data, source, context, self.clock(), origin=origin, original_headers=original_headers)

    def _index(self) -> SubjectLookup:
        if self._lookup is None:
            self._lookup = DocumentIndex(self.settings.kafka, self.index_topic)
        return self._lookup

    # -- drop directory ----------------------------------------------------------------------------------------------

    def process_folder(self, folder: Path, *, instance: str | None = None) -> list[tuple[Path, EesSummary]]:
        """Ingest every file in ``folder`` once, each in one transaction, then move it to ``processed/``.

        Files named ``*.part``, ``*.tmp`` or starting with a dot are still being written and are left alone. A file
        that cannot be read from disk moves to ``failed/``. A broker outage that outlasts the retries stops the run
        with ``TransientError``; the file stays and is ingested at the next run.

        Args:
            folder: The drop directory.
            instance: Names the transactional id; defaults to one derived from the folder's path, so that a restart
                on the same folder fences its predecessor.
        """
        name = instance or uuid.uuid5(uuid.NAMESPACE_URL, str(folder.resolve())).hex[:16]
        producer = _Producer(self.settings, f"gateway-ees-ingest-{name}")
        done: list[tuple[Path, EesSummary]] = []
        try:
            for path in _candidates(folder):
                try:
                    data = path.read_bytes()
                except OSError as exc:
                    _move(path, folder / "failed", {"file": str(path), "error": str(exc)})
                    continue
                correlation = f"ees-ingest:{uuid.uuid4()}"
                routed = self.route(data, path.name, correlation)
                producer.commit_all(routed.messages)
                _move(path, folder / "processed", {"file": str(path), **routed.summary.to_dict()})
                done.append((path, routed.summary))
        finally:
            producer.close()
        return done

    # -- raw topic ---------------------------------------------------------------------------------------------------

    def run_topic(
        self,
        topic: str,
        *,
        group_id: str = "gateway-ees-ingest",
        instance: str = "0",
        idle_timeout_s: float | None = None,
        stop: threading.Event | None = None,
        observation: Observation | None = None,
    ) -> EesSummary:
        """Consume raw exit files from ``topic`` (one file per message) until idle or stopped, exactly once.

        Args:
            topic: The raw topic.
            group_id: Consumer group of the processes sharing the topic.
            instance: Stable name of this process (part of its transactional id).
            idle_timeout_s: Stop after this long without input; None to run until ``stop``.
            stop: Stop when set.
            observation: Gets the committed batches' records, outputs and dead letters, the transactions, the
                consumer lag and the readiness; none by default.

        Returns:
            The counts of committed batches.
        """
        tally = _Tally()
        observation = observation or Observation()
        observer = observation.observer(tally)

        def transform(batch: list[Message]) -> list[OutboundMessage]:
            pending = EesSummary()
            out: list[OutboundMessage] = []
            for msg in batch:
                origin = H.KafkaOrigin(msg.topic() or topic, msg.partition() or 0, msg.offset() or 0)
                source = f"{origin.topic}/{origin.partition}/{origin.offset}"
                routed = self.route(
                    msg.value() or b"",
                    source,
                    f"ees-ingest:{source}",
                    origin=origin,
                    original_headers=_headers(msg),
                )
                out.extend(routed.messages)
                pending.add(routed.summary)
            tally.pending = pending
            observer.stage(pending.tally())
            return out

        processor = TransactionalProcessor(
            self.settings.kafka,
            ConsumerSettings(group_id=group_id),
            TransactionSettings(transactional_id=f"gateway-ees-topic-{group_id}-{instance}"),
            observer.wrap(transform),
            topics=[topic],
            producer=self.settings.producer,
            limits=BatchLimits(max_records=50),
            participant=observer,
        )
        probe = observation.probe(
            self.settings.kafka.to_librdkafka(), group_id=group_id, partitions=observer.partitions
        )
        with probe, processor:
            processor.run(idle_timeout=idle_timeout_s, stop=stop)
        return tally.total


class _Tally:
    """Counts only what committed: a transform may run again after an abort."""

    def __init__(self) -> None:
        self.total = EesSummary()
        self.pending = EesSummary()

    def assigned(self, partitions: Sequence[TopicPartition]) -> None:
        pass

    def revoked(self, partitions: Sequence[TopicPartition]) -> None:
        pass

    def committed(self, delivered: Any) -> None:
        self.total.add(self.pending)
        self.pending = EesSummary()

    def aborted(self) -> None:
        self.pending = EesSummary()


class _Producer:
    """One transactional producer for a run over a folder: one transaction per file, redone on failure."""

    def __init__(self, settings: GatewaySettings, transactional_id: str) -> None:
        self._settings = settings
        self._txn = TransactionSettings(transactional_id=transactional_id)
        self._producer = self._new()

    def _new(self) -> TransactionalProducer:
        producer = TransactionalProducer(self._settings.kafka, self._txn, self._settings.producer)
        try:
            producer.init_transactions()
        except BaseException:
            producer.discard()
            raise
        return producer

    def commit_all(self, messages: Sequence[OutboundMessage]) -> None:
        """Produce the messages in one transaction; redo it after an abortable or fatal error."""
        for attempt in range(1, _FILE_ATTEMPTS + 1):
            try:
                self._producer.begin()
                for message in messages:
                    self._producer.send(message)
                self._producer.commit()
                return
            except AbortableTransactionError as exc:
                _log.warning("transaction aborted (attempt %d): %s", attempt, exc)
                self._abort()
            except KafkaFatalError as exc:
                _log.error("producer unusable (attempt %d), recreating it: %s", attempt, exc)
                self._producer.discard()
                self._producer = self._new()
            time.sleep(min(0.2 * 2**attempt, 5.0))
        raise TransientError(f"a file's transaction failed {_FILE_ATTEMPTS} times; it stays for the next run")

    def _abort(self) -> None:
        try:
            self._producer.abort()
        except (TransientError, FatalError, AbortableTransactionError):
            self._producer.discard()
            self._producer = self._new()

    def close(self) -> None:
        self._producer.discard()


def _headers(msg: Message) -> list[tuple[str, bytes]]:
    # Kafka allows a header without a value; kept as empty bytes, so a dead letter still lists it.
    out = []
    for key, value in cast(list[tuple[str, str | bytes | None]], msg.headers() or []):
        out.append((key, value.encode() if isinstance(value, str) else value or b""))
    return out


def _candidates(folder: Path) -> list[Path]:
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and not p.name.startswith(".") and not p.name.endswith((".part", ".tmp", ".result.json"))
    )


def _move(path: Path, folder: Path, note: dict[str, Any]) -> None:
    folder.mkdir(exist_ok=True)
    target = folder / path.name
    path.replace(target)  # a rename within one file system: atomic
    target.with_name(target.name + ".result.json").write_text(json.dumps(note, indent=1), encoding="utf-8")
