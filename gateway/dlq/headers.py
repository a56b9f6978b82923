"""Dead-letter headers: Kafka Connect's ``__connect.errors.*`` names, so existing tooling reads them, plus ours.

All values are UTF-8 text (numbers as decimal text), as Connect writes them. ``topic``/``partition``/``offset``
are written only for records that came from a Kafka topic; records from files carry ``gw.source.file`` and
``gw.source.position`` instead. The stage is the gateway's own stage name in upper case (``PARSE``, ``MAP``,
``VALIDATE``, ``ENCODE``, ``READ``), since Connect's stage names describe Connect's own pipeline.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import cast

from confluent_kafka import Message

from gateway.kafka.producer import OutboundMessage
from gateway.pipeline.outcome import DeadLetter

CONNECT = "__connect.errors."
TOPIC = CONNECT + "topic"
PARTITION = CONNECT + "partition"
OFFSET = CONNECT + "offset"
CONNECTOR = CONNECT + "connector.name"
STAGE = CONNECT + "stage"
CLASS = CONNECT + "class.name"
EXC_CLASS = CONNECT + "exception.class.name"
EXC_MESSAGE = CONNECT + "exception.message"
EXC_TRACE = CONNECT + "exception.stacktrace"
SOURCE_FILE = "gw.source.file"
SOURCE_POSITION = "gw.source.position"
SOURCE_INDEX = "gw.source.index"
SOURCE_ENCODING = "gw.source.encoding"
SOURCE_CONTEXT = "gw.source.context"
RULE_IDS = "gw.errors.rule.ids"
LEGAL_REFS = "gw.errors.legal.references"
TIMESTAMP = "gw.errors.ts"
CORRELATION = "gw.correlation.id"
REPLAYED_FROM = "gw.replay.from"

Headers = list[tuple[str, bytes]]


@dataclass(frozen=True, slots=True)
class KafkaOrigin:
    """Coordinates of a record that came from a Kafka topic."""

    topic: str
    partition: int
    offset: int


def dead_letter_headers(
    dead: DeadLetter,
    *,
    connector: str,
    connector_class: str,
    correlation_id: str,
    origin: KafkaOrigin | None = None,
    original: Sequence[tuple[str, bytes]] = (),
    now_ms: int | None = None,
) -> Headers:
    """Headers of a dead letter: the original record's headers first, then the error headers appended."""
    h: Headers = list(original)

    def put(key: str, value: str) -> None:
        h.append((key, value.encode("utf-8", "replace")))

    if origin is not None:
        put(TOPIC, origin.topic)
        put(PARTITION, str(origin.partition))
        put(OFFSET, str(origin.offset))
    else:
        put(SOURCE_FILE, dead.record.source)
    put(CONNECTOR, connector)
    put(STAGE, dead.stage.upper())
    put(CLASS, connector_class)
    put(EXC_CLASS, dead.error_class)
    put(EXC_MESSAGE, dead.message)
    if dead.stacktrace:
        put(EXC_TRACE, dead.stacktrace)
    put(SOURCE_POSITION, dead.record.position)
    put(SOURCE_INDEX, str(dead.record.index))
    put(SOURCE_ENCODING, dead.record.encoding)
    if dead.record.context:
        h.append((SOURCE_CONTEXT, dead.record.context))
    if dead.rule_ids:
        put(RULE_IDS, ",".join(dead.rule_ids))
        put(LEGAL_REFS, " | ".join(dead.legal_references))
    put(TIMESTAMP, str(now_ms if now_ms is not None else int(time.time() * 1000)))
    put(CORRELATION, correlation_id)
    return h


def consumed_dead_letter(
    topic: str, message: Message, exc: BaseException, *, connector: str, stage: str
) -> OutboundMessage:
    """A consumed Kafka record a downstream stage cannot handle, as a dead letter.

    Same key, value and headers; the error headers appended: the record's coordinates, the stage, the exception's
    class and message.

    Args:
        topic: The dead-letter topic.
        message: The record as consumed.
        exc: Why it cannot be handled.
        connector: The stage's name (``detector``, ``outbound`` ...), in the connector-name header.
        stage: What failed, upper case (``VALUE_CONVERTER``, ``OUTBOUND_RENDER`` ...).
    """
    original = cast(list[tuple[str, bytes]], message.headers() or [])
    headers = (
        *original,
        (TOPIC, (message.topic() or "").encode()),
        (PARTITION, str(message.partition() or 0).encode()),
        (OFFSET, str(message.offset() or 0).encode()),
        (CONNECTOR, connector.encode()),
        (STAGE, stage.encode()),
        (EXC_CLASS, f"{type(exc).__module__}.{type(exc).__qualname__}".encode()),
        (EXC_MESSAGE, str(exc).encode("utf-8", "replace")),
    )
    return OutboundMessage(topic, message.key(), message.value(), headers)


def as_text(headers: Sequence[tuple[str, bytes | None]] | None) -> dict[str, str]:
    """Headers as a dict of text (last value wins), reading Spring Kafka's binary partition/offset too."""
    out: dict[str, str] = {}
    for key, value in headers or ():
        if value is None:
            continue
        if key in ("kafka_dlt-original-partition",) and len(value) == 4:
            out[PARTITION] = str(int.from_bytes(value, "big", signed=True))
        elif key in ("kafka_dlt-original-offset",) and len(value) == 8:
            out[OFFSET] = str(int.from_bytes(value, "big", signed=True))
        elif key == "kafka_dlt-original-topic":
            out[TOPIC] = value.decode("utf-8", "replace")
        else:
            out[key] = value.decode("utf-8", "replace")
    return out


def summary(headers: Mapping[str, str]) -> str:
    """One line for an operator: stage, error class and message, rules, where it came from."""
    where = headers.get(SOURCE_FILE) or headers.get(TOPIC, "?")
    rules = headers.get(RULE_IDS)
    return (
        f"[{headers.get(STAGE, '?')}] {headers.get(EXC_CLASS, '?').rsplit('.', 1)[-1]}: "
        f"{headers.get(EXC_MESSAGE, '')}" + (f" (rules {rules})" if rules else "") + f" @ {where} "
        f"{headers.get(SOURCE_POSITION, '')}"
    )
