"""Operator tools over a dead-letter topic: statistics, inspection and replay.

Replay re-injects chosen dead letters, original bytes untouched, into the connector's raw inbound topic after a
fix (a code table, a rule's configuration, the connector's version). Each replayed message carries
``gw.replay.from = <dlq topic>:<partition>:<offset>``; service mode gives the events made from it the correlation
id ``replay:<that value>`` and, should it fail again, its new dead letter keeps the header: every replayed
record can be traced to its dead letter.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import cast

from gateway.dlq import headers as H
from gateway.kafka.producer import IdempotentProducer, OutboundMessage
from gateway.kafka.reader import read_to_end
from gateway.kafka.settings import KafkaSettings


@dataclass(frozen=True, slots=True)
class DeadLetterRecord:
    """One message of a dead-letter topic.

    Attributes:
        topic: The dead-letter topic.
        partition: Its partition.
        offset: Its offset.
        key: Message key.
        value: The original record's bytes.
        headers: Headers as text (binary Spring headers decoded).
        raw_headers: Headers as they are.
    """

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: dict[str, str]
    raw_headers: tuple[tuple[str, bytes], ...]

    @property
    def ref(self) -> str:
        """``topic:partition:offset``, the reference replay records."""
        return f"{self.topic}:{self.partition}:{self.offset}"


@dataclass(slots=True)
class DlqStats:
    """Counts over a dead-letter topic.

    Attributes:
        topic: The topic.
        total: Dead letters in it.
        by_stage: By stage.
        by_error: By exception class.
        by_rule: By validation rule id.
        by_source: By source file or topic.
    """

    topic: str
    total: int = 0
    by_stage: Counter[str] = field(default_factory=Counter)
    by_error: Counter[str] = field(default_factory=Counter)
    by_rule: Counter[str] = field(default_factory=Counter)
    by_source: Counter[str] = field(default_factory=Counter)

    def add(self, rec: DeadLetterRecord) -> None:
        """Count one dead letter."""
        h = rec.headers
        self.total += 1
        self.by_stage[h.get(H.STAGE, "?")] += 1
        self.by_error[h.get(H.EXC_CLASS, "?").rsplit(".", 1)[-1]] += 1
        for rule in filter(None, h.get(H.RULE_IDS, "").split(",")):
            self.by_rule[rule] += 1
        self.by_source[h.get(H.SOURCE_FILE) or h.get(H.TOPIC, "?")] += 1


def read_dead_letters(kafka: KafkaSettings, topic: str, *, timeout_s: float = 30.0) -> Iterator[DeadLetterRecord]:
    """Every committed message of a dead-letter topic, from the start to the end."""
    for msg in read_to_end(kafka, topic, timeout_s=timeout_s):
        listed = cast(list[tuple[str, bytes | str | None]], msg.headers() or [])
        raw = tuple((k, v if isinstance(v, bytes) else v.encode()) for k, v in listed if v is not None)
        yield DeadLetterRecord(
            topic, msg.partition() or 0, msg.offset() or 0, msg.key(), msg.value() or b"", H.as_text(raw), raw
        )


def stats(kafka: KafkaSettings, topic: str) -> DlqStats:
    """Count the dead letters of a topic by stage, error, rule and source."""
    out = DlqStats(topic)
    for rec in read_dead_letters(kafka, topic):
        out.add(rec)
    return out


Selector = Callable[[DeadLetterRecord], bool]

STAGES = ("read", "parse", "map", "validate", "encode", "value_converter", "route", "outbound_render", "deliver")
"""Stage names a dead letter's ``__connect.errors.stage`` header can carry (matched case-insensitively): a
connector's record stages (``gateway.errors.RecordError.stage`` and ``read``), then the downstream stages'."""


def unknown_stage(stage: str | None) -> str | None:
    """Why ``stage`` selects nothing, naming the valid stages; None if it is valid or not given."""
    if stage is None or stage.lower() in STAGES:
        return None
    return f"unknown stage {stage!r}; valid stages: {', '.join(STAGES)}"


def missing_refs(refs: frozenset[tuple[int, int]], seen: Iterable[DeadLetterRecord]) -> list[str]:
    """The ``PARTITION:OFFSET`` references of ``refs`` that no record of ``seen`` has, in order."""
    found = {(rec.partition, rec.offset) for rec in seen}
    return [f"{partition}:{offset}" for partition, offset in sorted(refs - found)]


def select(
    *, refs: frozenset[tuple[int, int]] = frozenset(), rule: str | None = None, stage: str | None = None
) -> Selector:
    """A filter over dead letters: by ``(partition, offset)``, by rule id, by stage; no criterion selects all."""

    def chosen(rec: DeadLetterRecord) -> bool:
        if refs and (rec.partition, rec.offset) not in refs:
            return False
        if rule is not None and rule not in rec.headers.get(H.RULE_IDS, "").split(","):
            return False
        return stage is None or rec.headers.get(H.STAGE, "").lower() == stage.lower()

    return chosen


def replay_message(rec: DeadLetterRecord, raw_topic: str) -> OutboundMessage:
    """The message that re-injects a dead letter: its original bytes and headers, the error headers stripped."""
    keep = tuple(
        (k, v)
        for k, v in rec.raw_headers
        if not k.startswith((H.CONNECT, "gw.errors.", "kafka_dlt-")) and k != H.CORRELATION
    )
    return OutboundMessage(raw_topic, rec.key, rec.value, (*keep, (H.REPLAYED_FROM, rec.ref.encode())))


def replay(
    kafka: KafkaSettings, dlq_topic: str, raw_topic: str, chosen: Selector, *, dry_run: bool = False
) -> list[DeadLetterRecord]:
    """Re-inject the chosen dead letters into the raw topic; return them (nothing is sent on a dry run)."""
    picked = [rec for rec in read_dead_letters(kafka, dlq_topic) if chosen(rec)]
    if dry_run or not picked:
        return picked
    with IdempotentProducer(kafka) as producer:
        for rec in picked:
            producer.send(replay_message(rec, raw_topic))
        producer.flush()
    return picked
