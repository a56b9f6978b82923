"""Replaying the canonical topic from its start into per-person facts, and building a period's outputs.

The statistics are a batch job: every build reads the whole canonical topic (``read_committed``, every partition,
to its end), so a re-run over the same topic gives the same numbers and a late event lands in the period it
belongs to. Event types the statistics do not read are skipped by their ``gw.event.type`` header without decoding;
the others are read through the projection (``gateway.statistics.projection``: only the fields the facts need,
folded without models; the same facts as the codec's trusted path, which Confluent-framed messages still take).
Messages are consumed in large batches (``Consumer.consume``). A message that cannot be decoded stops the build: a
figure built without it would be silently wrong.
"""

from __future__ import annotations

import datetime as dt
import gc
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, Message, TopicPartition

from gateway.codec.codec import CONFLUENT_MAGIC, EventCodec
from gateway.config import GatewaySettings
from gateway.errors import DecodeError, FatalError, TransientError
from gateway.events.headers import EVENT_TYPE_HEADER
from gateway.kafka.settings import KafkaSettings
from gateway.statistics.config import StatisticsConfig
from gateway.statistics.facts import RELEVANT_TYPES, Facts, fold_into
from gateway.statistics.output import PeriodOutput, write_period
from gateway.statistics.projection import ProjectedReader, fold_record
from gateway.statistics.tables import Period, count

__all__ = ["BuildReport", "ReplayStats", "build", "fold_messages", "read_batches", "replay_facts"]

_RELEVANT = frozenset(str(t).encode() for t in RELEVANT_TYPES)
_CONFLUENT = bytes((CONFLUENT_MAGIC,))
BATCH = 100_000
"""Messages per ``Consumer.consume`` call: one call returns what librdkafka has fetched, up to this many."""


@dataclass(frozen=True, slots=True)
class ReplayStats:
    """What a replay read.

    Attributes:
        messages: Messages read from the topic.
        decoded: Messages decoded (the relevant types).
        persons: Persons with at least one relevant fact.
        seconds: Wall time of the read and fold.
    """

    messages: int
    decoded: int
    persons: int
    seconds: float

    @property
    def events_per_s(self) -> float:
        """Messages read per second."""
        return self.messages / self.seconds if self.seconds else 0.0


def read_batches(
    kafka: KafkaSettings, topic: str, *, timeout_s: float = 30.0, batch: int = BATCH
) -> Iterator[list[Message]]:
    """Every committed message of ``topic``, in batches as ``Consumer.consume`` returns them, then stop.

    As ``gateway.kafka.reader.read_to_end`` (read_committed, every partition from its beginning to its end, a
    throwaway group that commits nothing), but a batch per call instead of a message: the per-message
    ``poll`` was a third of the replay's time. End-of-partition events and errors are taken out of the batches.

    Raises:
        TransientError: The topic is not available, or its end was not reached within ``timeout_s``.
    """
    consumer = Consumer(
        {
            **kafka.to_librdkafka(),
            "group.id": f"gateway-stats-{uuid.uuid4().hex[:8]}",
            "enable.auto.commit": False,
            "enable.partition.eof": True,
            "isolation.level": "read_committed",
            "fetch.wait.max.ms": 10,
            # Larger fetches than the defaults: the whole topic is read, as fast as it can be.
            "fetch.max.bytes": 64 * 1024 * 1024,
            "max.partition.fetch.bytes": 8 * 1024 * 1024,
            "queued.min.messages": 200_000,
        }
    )
    try:
        meta = consumer.list_topics(topic, timeout=timeout_s).topics.get(topic)
        if meta is None or meta.error is not None:
            raise TransientError(f"topic {topic} is not available: {meta.error if meta else 'missing'}")
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in meta.partitions])
        pending = set(meta.partitions)
        deadline = time.monotonic() + timeout_s
        while pending:
            if time.monotonic() > deadline:
                raise TransientError(f"reading {topic} did not reach its end within {timeout_s:.0f} s")
            msgs = consumer.consume(batch, 0.05)
            if not msgs:
                continue
            out = [msg for msg in msgs if msg.error() is None]
            if len(out) != len(msgs):
                for msg in msgs:
                    err = msg.error()
                    if err is None:
                        continue
                    if err.code() != KafkaError._PARTITION_EOF:
                        raise TransientError(f"reading {topic}: {err}")
                    pending.discard(msg.partition())
            if out:
                deadline = time.monotonic() + timeout_s  # progress: the limit is for silence, not for size
                yield out
    finally:
        consumer.close()


def fold_messages(messages: Iterable[Message], codec: EventCodec | ProjectedReader, facts: Facts) -> tuple[int, int]:
    """Fold Kafka messages of the canonical topic into ``facts``; returns (messages, decoded).

    Args:
        messages: The messages.
        codec: A ``ProjectedReader`` (the statistics' read) or an ``EventCodec`` (every event decoded in full on
            the trusted path, then folded: the reference the projection must equal).
        facts: Folded into, in place.

    Raises:
        FatalError: A message of a relevant (or undeclared) type cannot be decoded.
    """
    seen = decoded = 0
    relevant = _RELEVANT
    header = EVENT_TYPE_HEADER
    projected = codec if isinstance(codec, ProjectedReader) else None
    full = codec if isinstance(codec, EventCodec) else None
    for msg in messages:
        seen += 1
        headers = cast(list[tuple[str, bytes]] | None, msg.headers())
        if headers:
            declared = None
            for k, v in headers:
                if k == header:
                    declared = v
                    break
            if declared is not None and declared not in relevant:
                continue
        value = msg.value() or b""
        try:
            if projected is not None and value[:1] != _CONFLUENT:
                fold_record(facts, projected.read(value))
            elif full is not None:
                fold_into(facts, full.decode(value, msg.topic() or "", trusted=True))
            elif projected is not None:
                projected.fold(facts, value, msg.topic() or "")
        except DecodeError as exc:
            raise FatalError(
                f"statistics: message at {msg.topic()}[{msg.partition()}]@{msg.offset()} is not a canonical event: "
                f"{exc}"
            ) from exc
        decoded += 1
    return seen, decoded


def replay_facts(
    settings: GatewaySettings, *, timeout_s: float = 30.0, codec: EventCodec | ProjectedReader | None = None
) -> tuple[Facts, ReplayStats]:
    """Read the canonical topic from its start to its end and fold it into per-person facts.

    Args:
        settings: The Kafka settings and the canonical topic.
        timeout_s: How long a silent topic is waited for.
        codec: The read (see ``fold_messages``); by default the projection.
    """
    facts: Facts = {}
    reader = codec if codec is not None else ProjectedReader()
    t0 = time.perf_counter()
    seen = decoded = 0
    # The fold makes millions of small objects and no reference cycles: the cyclic collector's passes over the
    # growing facts cost more than the fold itself (reference counting still frees everything as usual).
    collecting = gc.isenabled()
    gc.disable()
    try:
        for batch in read_batches(settings.kafka, settings.topics.canonical, timeout_s=timeout_s):
            s, d = fold_messages(batch, reader, facts)
            seen += s
            decoded += d
    finally:
        if collecting:
            gc.enable()
    return facts, ReplayStats(seen, decoded, len(facts), time.perf_counter() - t0)


@dataclass(frozen=True, slots=True)
class BuildReport:
    """The outcome of ``build``: what was read and what was written per period."""

    replay: ReplayStats
    periods: tuple[PeriodOutput, ...]


def build(
    settings: GatewaySettings,
    periods: list[Period],
    config: StatisticsConfig,
    out: Path,
    *,
    prepared: dt.datetime | None = None,
) -> BuildReport:
    """Replay the canonical topic and write the tables of each period under ``out`` (see ``output``)."""
    facts, stats = replay_facts(settings)
    when = prepared or dt.datetime.now(dt.UTC).replace(microsecond=0)
    written = tuple(write_period(count(facts, p, config), config, out, prepared=when) for p in periods)
    return BuildReport(stats, written)
