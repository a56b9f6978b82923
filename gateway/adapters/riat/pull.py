"""``gateway riat pull``: RIAT's status feed in, exactly once per page: events, reviews, dead letters, cursor.

The partner's feed answers ``GET <url>/statuses?after=<cursor>`` with ``{"statuses": [...], "next": "<cursor>"}``
(no ``after`` on the first call; an empty ``statuses`` list means "nothing new"). Each status is a JSON object (or a
string holding one) per ``schemas/json/riat-status-v1.schema.json``. Every status ends in exactly one output, so
records in = events + reviews + dead letters, always:

* a status whose referral one subject was sent for → ``ReintegrationStatusChanged`` on the canonical topic, keyed by
  subject key (`gateway.adapters.riat.status`);
* a status of a referral no subject or several subjects were sent for → the review topic, original bytes and reason;
* a status that is not JSON or not valid → ``gateway.dlq.riat``, original bytes and Kafka-Connect-style headers.

A page's outputs and the next cursor (on a compacted progress topic) commit in one Kafka transaction. A restart
fences its predecessor, reads the committed cursor and asks for the page after it: a crash between pages loses
nothing and duplicates nothing. HTTP failures that may pass (connection errors, time-outs, 429, 5xx) are retried
with the gateway's one retry policy; anything else stops the pull (`FeedError`) with nothing committed for that page.

`route_page` is the pure core; the rest is I/O.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
from confluent_kafka.admin import AdminClient

from gateway.adapters.riat.referrals import REFERRAL_INDEX_TOPIC, ReferralEntry, ReferralIndex, index_topic_spec
from gateway.adapters.riat.status import CONNECTOR, Inbound, Review, StatusDeadLetter, route_status
from gateway.codec.codec import EventCodec
from gateway.config import GatewaySettings
from gateway.dlq import headers as H
from gateway.errors import FatalError, RecordError, TransientError
from gateway.events.headers import EVENT_TYPE_HEADER
from gateway.kafka.producer import OutboundMessage
from gateway.kafka.reader import read_to_end
from gateway.kafka.retry import KafkaFatalError, RetrySettings, retrying
from gateway.kafka.settings import TransactionSettings
from gateway.kafka.topics import TopicSpec, ensure_topics
from gateway.kafka.transactions import AbortableTransactionError, TransactionalProducer
from gateway.observability import NULL_METRICS, Metrics, OutcomeTally

__all__ = [
    "DLQ_TOPIC",
    "PROGRESS_TOPIC",
    "FeedError",
    "FeedPage",
    "PullSummary",
    "RiatPull",
    "RiatTopics",
    "StatusFeed",
    "progress_record",
    "read_cursor",
    "route_page",
]

_log = logging.getLogger(__name__)

DLQ_TOPIC = "gateway.dlq.riat"
PROGRESS_TOPIC = "gateway.riat.progress.v1"
REVIEW_REASON = "gw.review.reason"
REVIEW_SOURCE = "gw.review.source"
STATUS_ID = "gw.riat.status.id"
REFERRAL_ID = "gw.riat.referral.id"
ERROR_CODE = "gw.errors.code"
_ERROR_CLASS = {
    "not-json": "gateway.errors.ParseError",
    "schema-invalid": "gateway.errors.SchemaValidationError",
    "invalid-value": "gateway.errors.MappingError",
}
_PARSER_CLASS = "gateway.adapters.riat.status.parse_status"
_TXN_ATTEMPTS = 5


class FeedError(FatalError):
    """The feed answered something that retrying will not fix (a 4xx, a page not of the agreed shape)."""


@dataclass(frozen=True, slots=True)
class RiatTopics:
    """Where the pull writes.

    Attributes:
        canonical: Status events, keyed by subject key.
        review: Statuses no single subject's referral matches.
        dlq: Statuses that cannot be read.
        progress: The feed's committed cursor (compacted).
        index: The referral index it reads (compacted).
    """

    canonical: str
    review: str
    dlq: str = DLQ_TOPIC
    progress: str = PROGRESS_TOPIC
    index: str = REFERRAL_INDEX_TOPIC

    @classmethod
    def of(cls, settings: GatewaySettings, **overrides: str | None) -> RiatTopics:
        """The canonical and review topics of the settings; the RIAT topics' defaults unless overridden."""
        given = {k: v for k, v in overrides.items() if v}
        return cls(canonical=settings.topics.canonical, review=settings.topics.review, **given)


@dataclass(slots=True)
class PullSummary:
    """What a pull committed; ``records == events + review + dead_letters`` when nothing was lost.

    Attributes:
        pages: Pages committed.
        records: Statuses accounted for.
        events: Status events written.
        review: Statuses sent to review.
        dead_letters: Statuses dead-lettered.
        review_reasons: Reviews by reason.
        error_codes: Dead letters by code.
        cursor: The last committed cursor.
    """

    pages: int = 0
    records: int = 0
    events: int = 0
    review: int = 0
    dead_letters: int = 0
    review_reasons: Counter[str] = field(default_factory=Counter)
    error_codes: Counter[str] = field(default_factory=Counter)
    cursor: str | None = None

    @property
    def balanced(self) -> bool:
        """Every status is in exactly one output."""
        return self.records == self.events + self.review + self.dead_letters

    def add(self, other: PullSummary) -> None:
        """Add another summary's counts; its cursor, if any, becomes this one's."""
        self.pages += other.pages
        self.records += other.records
        self.events += other.events
        self.review += other.review
        self.dead_letters += other.dead_letters
        self.review_reasons.update(other.review_reasons)
        self.error_codes.update(other.error_codes)
        self.cursor = other.cursor or self.cursor

    def tally(self) -> OutcomeTally:
        """The counts as metrics see them: status events and reviews as outputs, dead letters by error code."""
        return OutcomeTally(
            connector=CONNECTOR,
            records=self.records,
            events=Counter({k: n for k, n in (("status", self.events), ("review", self.review)) if n}),
            dead_letters=Counter({("riat", code, ""): n for code, n in self.error_codes.items()}),
        )

    def to_dict(self) -> dict[str, Any]:
        """The summary as plain data."""
        return {
            "pages": self.pages,
            "records": self.records,
            "events": self.events,
            "review": self.review,
            "dead_letters": self.dead_letters,
            "balanced": self.balanced,
            "review_reasons": dict(self.review_reasons),
            "error_codes": dict(self.error_codes),
            "cursor": self.cursor,
        }


@dataclass(frozen=True, slots=True)
class FeedPage:
    """One page of the feed.

    Attributes:
        statuses: Each status's bytes as received (a status given as a JSON object is written back compactly).
        next: The cursor after this page.
        after: The cursor this page was asked for with (None: the start).
    """

    statuses: tuple[bytes, ...]
    next: str | None
    after: str | None


class StatusFeed:
    """An HTTP client of the partner's status feed (httpx; transient failures retried).

    Args:
        url: Base URL of the feed (``/statuses`` is appended).
        timeout_s: Time-out of each request phase.
        token: Bearer token, if the feed requires one.
        retry: How hard to retry a transient failure.
        transport: An httpx transport (tests); the default network transport when None.
    """

    def __init__(
        self,
        url: str,
        *,
        timeout_s: float = 10.0,
        token: str | None = None,
        retry: RetrySettings | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self._retry = retry or RetrySettings(max_attempts=8, deadline_s=120.0, max_delay_s=5.0)
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._client = httpx.Client(timeout=timeout_s, headers=headers, transport=transport)

    def page(self, after: str | None) -> FeedPage:
        """The page after ``after`` (the first page when None), retrying transient failures.

        Raises:
            TransientError: The feed stayed unreachable or failing beyond the retry policy.
            FeedError: The feed answered a client error or a page not of the agreed shape.
        """
        page: FeedPage = retrying(self._retry)(self._get, after)
        return page

    def _get(self, after: str | None) -> FeedPage:
        params = {} if after is None else {"after": after}
        try:
            response = self._client.get(f"{self.url}/statuses", params=params)
        except httpx.TransportError as exc:  # connect, read, write, pool time-outs and network errors
            raise TransientError(f"status feed unreachable: {type(exc).__name__}") from exc
        if response.status_code == 429 or response.status_code >= 500:
            raise TransientError(f"status feed answered {response.status_code}")
        if response.status_code != 200:
            raise FeedError(f"status feed answered {response.status_code}")
        return _page(response.content, after)

    def close(self) -> None:
        """Release the HTTP connections."""
        self._client.close()


def _page(content: bytes, after: str | None) -> FeedPage:
    try:
        data = json.loads(content)
    except ValueError as exc:
        raise FeedError("status feed page is not JSON") from exc
    if not isinstance(data, dict) or not isinstance(data.get("statuses"), list):
        raise FeedError("status feed page has no list 'statuses'")
    cursor = data.get("next")
    if cursor is not None and not isinstance(cursor, str | int):
        raise FeedError("status feed page's 'next' is neither text nor a number")
    statuses = tuple(_bytes(s) for s in data["statuses"])
    following = None if cursor is None else str(cursor)
    if statuses and (following is None or following == after):
        # Committing such a page would read it again next time: duplicates. Stop instead.
        raise FeedError("status feed page with statuses does not move the cursor")
    return FeedPage(statuses, following, after)


def _bytes(status: Any) -> bytes:
    if isinstance(status, str):
        return status.encode("utf-8", "surrogatepass")  # a status sent as text: its bytes, whatever they hold
    return json.dumps(status, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8", "replace")


@dataclass(frozen=True, slots=True)
class Routed:
    """One page's outputs and counts."""

    messages: tuple[OutboundMessage, ...]
    summary: PullSummary


def route_page(
    page: FeedPage,
    lookup: Callable[[str], tuple[ReferralEntry, ...]],
    member_state: str,
    topics: RiatTopics,
    codec: EventCodec,
    now: dt.datetime,
    *,
    feed_id: str,
) -> Routed:
    """Route one page's statuses to event, review and dead-letter messages, plus the cursor (pure but ``lookup``).

    Args:
        page: The page.
        lookup: The subjects a referral was sent for (`ReferralIndex.entries`).
        member_state: The deployment's Member State.
        topics: Output topics.
        codec: The canonical codec.
        now: Recording time.
        feed_id: The feed's key on the progress topic.

    Returns:
        The messages in status order, the progress record last, and the counts.
    """
    summary = PullSummary(pages=1, cursor=page.next)
    messages: list[OutboundMessage] = []
    now_ms = int(now.timestamp() * 1000)
    correlation = f"riat-pull:{feed_id}:{page.after or ''}"
    for index, raw in enumerate(page.statuses):
        summary.records += 1
        position = f"{page.after or ''}#{index}"
        routed = route_status(raw, lookup, member_state, now, correlation_id=correlation)
        if isinstance(routed, Inbound):
            try:
                value = codec.encode(routed.event, topics.canonical)
            except RecordError as exc:
                routed = StatusDeadLetter("invalid-value", f"canonical encoding failed: {type(exc).__name__}", raw)
            else:
                headers = ((EVENT_TYPE_HEADER, str(routed.event.event_type).encode()),)
                messages.append(OutboundMessage(topics.canonical, routed.key.encode(), value, headers))
                summary.events += 1
                continue
        if isinstance(routed, Review):
            messages.append(_review(routed, topics.review, feed_id, position))
            summary.review += 1
            summary.review_reasons[routed.reason] += 1
        else:
            messages.append(_dead_letter(routed, topics.dlq, feed_id, position, correlation, now_ms))
            summary.dead_letters += 1
            summary.error_codes[routed.code] += 1
    messages.append(progress_record(topics.progress, feed_id, page.next, now))
    return Routed(tuple(messages), summary)


def progress_record(topic: str, feed_id: str, cursor: str | None, now: dt.datetime) -> OutboundMessage:
    """The message that records the feed's cursor (compacted: the latest per feed is what counts)."""
    value = {"cursor": cursor, "committed_at": now.astimezone(dt.UTC).isoformat(timespec="milliseconds")}
    return OutboundMessage(topic, feed_id.encode(), json.dumps(value, sort_keys=True).encode())


def read_cursor(settings: GatewaySettings, topic: str, feed_id: str, *, timeout_s: float = 30.0) -> str | None:
    """The feed's committed cursor, None before the first page.

    Call it after ``init_transactions`` of the pull's producer: that aborts whatever a crashed predecessor left open,
    so the ``read_committed`` read reaches the end of the topic instead of waiting at an open transaction.
    """
    cursor = None
    for msg in read_to_end(settings.kafka, topic, timeout_s=timeout_s):
        key, value = msg.key(), msg.value()
        if key == feed_id.encode() and value is not None:
            found = json.loads(value).get("cursor")
            cursor = None if found is None else str(found)
    return cursor


def _review(review: Review, topic: str, feed_id: str, position: str) -> OutboundMessage:
    headers = (
        (REVIEW_REASON, review.reason.encode()),
        (REVIEW_SOURCE, CONNECTOR.encode()),
        (H.SOURCE_FILE, feed_id.encode("utf-8", "replace")),
        (H.SOURCE_POSITION, position.encode("utf-8", "replace")),
        (STATUS_ID, review.status_id.encode("utf-8", "replace")),
        (REFERRAL_ID, review.referral_id.encode("utf-8", "replace")),
    )
    # Keyed by referral id: the reports of one referral land in one partition, in order, for the reviewer.
    return OutboundMessage(topic, review.referral_id.encode("utf-8", "replace"), review.original, headers)


def _dead_letter(
    dead: StatusDeadLetter, topic: str, feed_id: str, position: str, correlation: str, now_ms: int
) -> OutboundMessage:
    headers = (
        (H.SOURCE_FILE, feed_id),
        (H.SOURCE_POSITION, position),
        (H.CONNECTOR, CONNECTOR),
        (H.STAGE, "MAP" if dead.code == "invalid-value" else "PARSE"),
        (H.CLASS, _PARSER_CLASS),
        (H.EXC_CLASS, _ERROR_CLASS[dead.code]),
        (H.EXC_MESSAGE, dead.reason[:4000]),
        (ERROR_CODE, dead.code),
        (H.TIMESTAMP, str(now_ms)),
        (H.CORRELATION, correlation),
    )
    encoded = tuple((k, v.encode("utf-8", "replace")) for k, v in headers)
    return OutboundMessage(topic, f"{feed_id}|{position}".encode("utf-8", "replace"), dead.original, encoded)


def topic_specs(topics: RiatTopics, partitions: int, replication_factor: int) -> list[TopicSpec]:
    """The topics the pull writes and reads (the canonical topic must exist already)."""
    return [
        TopicSpec(name=topics.review, partitions=partitions, replication_factor=replication_factor),
        TopicSpec(name=topics.dlq, partitions=partitions, replication_factor=replication_factor),
        TopicSpec(name=topics.progress, partitions=1, replication_factor=replication_factor, cleanup_policy="compact"),
        index_topic_spec(topics.index, partitions, replication_factor),
    ]


class RiatPull:
    """Pulls the RIAT status feed into Kafka, one transaction per page.

    Args:
        settings: Gateway settings (Kafka, topics, producer tuning).
        member_state: The Member State running the gateway (for index records that name none).
        feed: The status feed client.
        topics: Output topics; the settings' canonical and review topics and the RIAT defaults when None.
        instance: Stable name of this process (its transactional id), so a restart fences its zombie.
        feed_id: The feed's key on the progress topic; defaults to ``riat:<url>``.
        lookup: The referral index; a `ReferralIndex` on ``topics.index``, opened on first use, when None.
        codec: The canonical codec; a plain `EventCodec` when None.
        clock: The time of recording.
    """

    def __init__(
        self,
        settings: GatewaySettings,
        member_state: str,
        feed: StatusFeed,
        *,
        topics: RiatTopics | None = None,
        instance: str = "0",
        feed_id: str | None = None,
        lookup: ReferralIndex | None = None,
        codec: EventCodec | None = None,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self.settings = settings
        self.member_state = member_state
        self.feed = feed
        self.topics = topics or RiatTopics.of(settings)
        self.feed_id = feed_id or f"riat:{feed.url}"
        self.clock = clock
        self._instance = instance
        self._index = lookup
        self._own_index = lookup is None
        self._codec = codec or EventCodec()

    def ensure_topics(self) -> None:
        """Create the review, dead-letter, progress and index topics where missing."""
        admin = AdminClient(dict(self.settings.kafka.to_librdkafka()))
        topics = self.settings.topics
        ensure_topics(admin, topic_specs(self.topics, topics.partitions, topics.replication_factor))

    def run(
        self,
        *,
        max_pages: int | None = None,
        follow_s: float | None = None,
        stop: threading.Event | None = None,
        metrics: Metrics = NULL_METRICS,
    ) -> PullSummary:
        """Pull pages until the feed has nothing new (or ``max_pages``), committing each with its cursor.

        Args:
            max_pages: Stop after this many pages.
            follow_s: Instead of stopping when the feed is drained, ask again after this many seconds, until
                ``stop`` is set.
            stop: Stop between pages when set.
            metrics: Gets each committed page's statuses, outputs and dead letters, and its transaction.

        Returns:
            The counts of the committed pages.
        """
        stop = stop or threading.Event()
        producer = _Producer(self.settings, f"gateway-riat-pull-{self._instance}")
        total = PullSummary()
        try:
            cursor = read_cursor(self.settings, self.topics.progress, self.feed_id)
            total.cursor = cursor
            while not stop.is_set() and (max_pages is None or total.pages < max_pages):
                page = self.feed.page(cursor)
                if not page.statuses and page.next in (None, cursor):
                    if follow_s is None:
                        break
                    stop.wait(follow_s)
                    continue
                started = time.monotonic()
                index = self._lookup()
                index.refresh()
                routed = route_page(
                    page, index.entries, self.member_state, self.topics, self._codec, self.clock(), feed_id=self.feed_id
                )
                producer.commit_all(routed.messages)
                metrics.transaction("committed", seconds=time.monotonic() - started)
                metrics.outcomes(routed.summary.tally())
                total.add(routed.summary)
                cursor = page.next
        finally:
            producer.close()
        return total

    def close(self) -> None:
        """Release the referral index (if this object opened it) and the feed client."""
        if self._own_index and self._index is not None:
            self._index.close()
        self._index = None
        self.feed.close()

    def _lookup(self) -> ReferralIndex:
        if self._index is None:
            self._index = ReferralIndex(self.settings.kafka, self.topics.index)
        return self._index


class _Producer:
    """One transactional producer for a pull: one transaction per page, redone on failure."""

    def __init__(self, settings: GatewaySettings, transactional_id: str) -> None:
        self._settings = settings
        self._txn = TransactionSettings(transactional_id=transactional_id)
        self._producer = self._new()

    def _new(self) -> TransactionalProducer:
        producer = TransactionalProducer(self._settings.kafka, self._txn, self._settings.producer)
        try:
            # Fences a predecessor with the same id and aborts what it left open.
            producer.init_transactions()
        except BaseException:
            producer.discard()
            raise
        return producer

    def commit_all(self, messages: Sequence[OutboundMessage]) -> None:
        """Produce the messages in one transaction; redo it after an abortable or fatal error."""
        for attempt in range(1, _TXN_ATTEMPTS + 1):
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
        raise TransientError(f"a page's transaction failed {_TXN_ATTEMPTS} times; it is pulled again next run")

    def _abort(self) -> None:
        try:
            self._producer.abort()
        except (TransientError, FatalError, AbortableTransactionError):
            self._producer.discard()
            self._producer = self._new()

    def close(self) -> None:
        self._producer.discard()
