"""Dead-letter headers: Kafka Connect's ``__connect.errors.*`` names, so existing tooling reads them, plus ours.

All values are UTF-8 text (numbers as decimal text), as Connect writes them. ``topic``/``partition``/``offset``
are written only for records that came from a Kafka topic; records from files carry ``gw.source.file`` and
``gw.source.position`` instead. The stage is the gateway's own stage name in upper case (``PARSE``, ``MAP``,
``VALIDATE``, ``ENCODE``, ``READ``), since Connect's stage names describe Connect's own pipeline.

One source per dead letter: the record's current one. A replayed record that fails again is described by the raw
topic it came from, not by the file of its first failure; the way back is the replay chain, one
``gw.replay.from = <dlq topic>:<partition>:<offset>`` header per hop, oldest first, kept from hop to hop.

A dead letter always fits its topic (`fit`): when the record with its headers would pass the topic's
``max.message.bytes`` (less a margin for the batch's framing), the value is a prefix of the original bytes, and
``gw.original.length`` (decimal) and ``gw.original.sha256`` (hex) describe the WHOLE record. The two headers are
also written when a reader could not keep a record whole (``RawRecord.original_length``/``original_sha256``); they
are absent when the value is the whole record.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import cast

from confluent_kafka import Message

from gateway.dlq import DeadLetter
from gateway.kafka.producer import OutboundMessage

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
ORIGINAL_LENGTH = "gw.original.length"
ORIGINAL_SHA256 = "gw.original.sha256"

# Headers a dead letter writes itself, from its current record: copies carried in from an earlier life of the
# record (a replayed dead letter) are dropped, so each dead letter names one source.
_SOURCE_HEADERS = frozenset({TOPIC, PARTITION, OFFSET, SOURCE_FILE, SOURCE_POSITION, SOURCE_INDEX, SOURCE_ENCODING})
_REWRITTEN_PREFIXES = (CONNECT, "gw.errors.", "kafka_dlt-")

KAFKA_DEFAULT_MAX_MESSAGE_BYTES = 1_000_000
"""The smaller of librdkafka's ``message.max.bytes`` (1 000 000) and the broker's ``max.message.bytes`` (1 048 588)."""

# Room for what the broker counts besides key, value and headers: the record batch header (61 bytes), the record's
# own varints and attributes, and some slack for the producer's framing. Generous, since cutting a dead letter
# slightly shorter costs nothing and a refused one stops the ingest.
_BATCH_MARGIN = 1024
_PER_HEADER = 10  # the varint lengths of a header's key and value
# An error message may quote its record (a parser showing the bad text); the header keeps its start, so that the
# headers of a dead letter stay small beside the topic's limit whatever the record.
_MAX_MESSAGE_CHARS = 8192

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
    """Headers of a dead letter: the original record's headers first, then the error headers appended.

    The error message is cut to its first 8 192 characters. Of the original headers, those this function writes
    from the current record (source coordinates, error headers) are dropped, so a replayed record that fails again
    names one source; the replay chain (``gw.replay.from``, one per hop) and everything else is kept in order.
    """
    rewritten = _SOURCE_HEADERS | ({SOURCE_CONTEXT} if dead.record.context else set())
    h: Headers = [(k, v) for k, v in original if k not in rewritten and not k.startswith(_REWRITTEN_PREFIXES)]

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
    message = dead.message
    if len(message) > _MAX_MESSAGE_CHARS:
        message = f"{message[:_MAX_MESSAGE_CHARS]}… ({len(message)} characters)"
    put(EXC_MESSAGE, message)
    if dead.stacktrace:
        put(EXC_TRACE, dead.stacktrace[-_MAX_MESSAGE_CHARS:])
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


def fit(
    key: bytes | None,
    value: bytes,
    headers: Sequence[tuple[str, bytes]],
    limit: int,
    *,
    original_length: int | None = None,
    original_sha256: str | None = None,
) -> tuple[bytes, Headers]:
    """A dead letter's value and headers cut to fit a topic whose messages may be ``limit`` bytes at most.

    Pure. When the value is not the whole record (``original_length`` given, as a reader sets it for a record it
    could not keep whole) or must be cut to fit, the value becomes a prefix of the bytes and ``gw.original.length``
    and ``gw.original.sha256`` describe the whole record; headers describing it already (a replayed dead letter)
    are kept as they are.

    Args:
        key: The message key.
        value: The record's bytes as held (the whole record, or the prefix a reader kept).
        headers: The dead letter's headers.
        limit: The topic's ``max.message.bytes`` (or the producer's, if smaller).
        original_length: Length of the whole record when ``value`` is only its start; None when it is whole.
        original_sha256: SHA-256 (hex) of the whole record, with ``original_length``.

    Raises:
        ValueError: The headers alone leave no room within ``limit`` (a configuration error, not a record's).
    """
    out: Headers = list(headers)
    budget = limit - _BATCH_MARGIN - len(key or b"") - sum(len(k) + len(v) + _PER_HEADER for k, v in out)
    partial = original_length is not None and original_length != len(value)
    if not partial and len(value) <= budget:
        return value, out
    if not any(k == ORIGINAL_LENGTH for k, _ in out):
        described: Headers = [(ORIGINAL_LENGTH, str(original_length if partial else len(value)).encode())]
        # Only the reader can hash a record it did not keep; without its digest, no digest rather than a wrong one.
        digest = original_sha256 if partial else hashlib.sha256(value).hexdigest()
        if digest is not None:
            described.append((ORIGINAL_SHA256, digest.encode()))
        out.extend(described)
        budget -= sum(len(k) + len(v) + _PER_HEADER for k, v in described)
    if budget < 0:
        raise ValueError(f"dead-letter headers alone exceed the topic's limit of {limit} bytes")
    return value[:budget], out


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
