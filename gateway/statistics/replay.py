"""Replaying the canonical topic from its start into per-person facts, and building a period's outputs.

The statistics are a batch job: every build reads the whole canonical topic (``read_committed``, every partition,
to its end), so a re-run over the same topic gives the same numbers and a late event lands in the period it
belongs to. Event types the statistics do not read are skipped by their ``gw.event.type`` header without decoding;
the others are decoded on the codec's trusted path (the topic is written by this gateway's codec). A message that
cannot be decoded stops the build: a figure built without it would be silently wrong.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from confluent_kafka import Message

from gateway.codec.codec import EventCodec
from gateway.config import GatewaySettings
from gateway.errors import DecodeError, FatalError
from gateway.events.headers import EVENT_TYPE_HEADER
from gateway.kafka.reader import read_to_end
from gateway.statistics.config import StatisticsConfig
from gateway.statistics.facts import RELEVANT_TYPES, Facts, fold_into
from gateway.statistics.output import PeriodOutput, write_period
from gateway.statistics.tables import Period, count

__all__ = ["BuildReport", "ReplayStats", "build", "fold_messages", "replay_facts"]

_RELEVANT = frozenset(str(t).encode() for t in RELEVANT_TYPES)


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


def fold_messages(messages: Iterable[Message], codec: EventCodec, facts: Facts) -> tuple[int, int]:
    """Fold Kafka messages of the canonical topic into ``facts``; returns (messages, decoded).

    Raises:
        FatalError: A message of a relevant (or undeclared) type cannot be decoded.
    """
    seen = decoded = 0
    for msg in messages:
        seen += 1
        headers = cast(list[tuple[str, bytes]], msg.headers() or [])
        declared = next((v for k, v in headers if k == EVENT_TYPE_HEADER), None)
        if declared is not None and declared not in _RELEVANT:
            continue
        try:
            event = codec.decode(msg.value() or b"", msg.topic() or "", trusted=True)
        except DecodeError as exc:
            raise FatalError(
                f"statistics: message at {msg.topic()}[{msg.partition()}]@{msg.offset()} is not a canonical event: "
                f"{exc}"
            ) from exc
        decoded += 1
        fold_into(facts, event)
    return seen, decoded


def replay_facts(settings: GatewaySettings, *, timeout_s: float = 30.0) -> tuple[Facts, ReplayStats]:
    """Read the canonical topic from its start to its end and fold it into per-person facts."""
    facts: Facts = {}
    t0 = time.perf_counter()
    seen, decoded = fold_messages(
        read_to_end(settings.kafka, settings.topics.canonical, timeout_s=timeout_s), EventCodec(), facts
    )
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
