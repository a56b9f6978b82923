"""Receipts: what became of each outbox message at its target, as events on ``gateway.receipts.v1``.

A receipt is written in the same Kafka transaction as the outbox offsets it reports on, keyed by the message's
ordering key. Its value is Avro single-object encoded (``schemas/avro/delivery/``).
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gateway.codec.schemas import SCHEMA_DIR
from gateway.kafka.producer import OutboundMessage
from gateway.state.codec import AvroValueCodec

__all__ = [
    "OUTCOME_HEADER",
    "RECEIPT_ROOT",
    "RECEIPT_SCHEMA_DIR",
    "RESPONSE_MAX_CHARS",
    "Outcome",
    "Receipt",
    "ReceiptCodec",
    "excerpt",
    "receipt_codec",
    "receipt_record",
]

RECEIPT_SCHEMA_DIR: Path = SCHEMA_DIR / "delivery"
RECEIPT_ROOT = "eu.returns.gateway.delivery.v1.Receipt"
RESPONSE_MAX_CHARS = 1000
"""Most characters of a target's answer kept in a receipt or dead letter: enough to read why, never a whole page."""

OUTCOME_HEADER = "gw.delivery.outcome"


class Outcome(enum.StrEnum):
    """How a delivery ended; ``UNKNOWN`` is what a reader sees for an outcome a newer writer added."""

    DELIVERED = "DELIVERED"
    DUPLICATE = "DUPLICATE"
    REJECTED = "REJECTED"
    UNKNOWN = "UNKNOWN"


def excerpt(text: str | None, limit: int = RESPONSE_MAX_CHARS) -> str | None:
    """The start of a text, at most ``limit`` characters (an ellipsis marks a cut); None stays None."""
    if text is None or len(text) <= limit:
        return text
    return text[: limit - 1] + "…"


@dataclass(frozen=True, slots=True)
class Receipt:
    """What became of one outbox message.

    Attributes:
        message_id: The message's id.
        target: The delivery target.
        kind: The message's kind.
        ordering_key: The message's ordering key.
        sequence: The message's sequence within its ordering key.
        outcome: How the delivery ended.
        attempts: Sends in the run that ended it.
        status_code: Status of the final answer (HTTP status), if the transport has one.
        response: Start of the final answer (`excerpt`), if any.
        transport: Name of the transport.
        delivered_at: When the final answer came (UTC).
        source_event_at: Kafka timestamp of the canonical event the message came from.
    """

    message_id: str
    target: str
    kind: str
    ordering_key: str
    sequence: int
    outcome: Outcome
    attempts: int
    status_code: int | None
    response: str | None
    transport: str
    delivered_at: dt.datetime
    source_event_at: dt.datetime | None = None

    def __post_init__(self) -> None:
        if self.response is not None and len(self.response) > RESPONSE_MAX_CHARS:
            object.__setattr__(self, "response", excerpt(self.response))

    @property
    def succeeded(self) -> bool:
        """Whether the target has the message (delivered now or before)."""
        return self.outcome in (Outcome.DELIVERED, Outcome.DUPLICATE)


def receipt_to_avro(receipt: Receipt) -> dict[str, Any]:
    """The receipt as an Avro record of ``eu.returns.gateway.delivery.v1.Receipt``."""
    return {
        "message_id": receipt.message_id,
        "target": receipt.target,
        "kind": receipt.kind,
        "ordering_key": receipt.ordering_key,
        "sequence": receipt.sequence,
        "outcome": receipt.outcome.value,
        "attempts": receipt.attempts,
        "status_code": receipt.status_code,
        "response": receipt.response,
        "transport": receipt.transport,
        "delivered_at": receipt.delivered_at,
        "source_event_at": receipt.source_event_at,
    }


def receipt_from_avro(record: Mapping[str, Any]) -> Receipt:
    """A receipt from an Avro record read with the current schema."""
    return Receipt(
        message_id=str(record["message_id"]),
        target=record["target"],
        kind=record["kind"],
        ordering_key=record["ordering_key"],
        sequence=int(record["sequence"]),
        outcome=Outcome(record["outcome"]),
        attempts=int(record["attempts"]),
        status_code=record["status_code"],
        response=record["response"],
        transport=record["transport"],
        delivered_at=record["delivered_at"],
        source_event_at=record["source_event_at"],
    )


class ReceiptCodec:
    """Receipts as Avro single-object bytes, readable from every released schema version.

    Args:
        schema_dir: Folder of the receipt schema.
        history: Released versions of the schema, so that receipts they wrote stay readable.
    """

    def __init__(self, schema_dir: Path = RECEIPT_SCHEMA_DIR, history: Iterable[dict[str, Any]] = ()) -> None:
        self._avro = AvroValueCodec(schema_dir, RECEIPT_ROOT, receipt_to_avro, receipt_from_avro, history, remember=0)

    @property
    def schema(self) -> dict[str, Any]:
        """The current (parsed) schema."""
        return self._avro.schema

    def encode(self, receipt: Receipt) -> bytes:
        """Single-object bytes of the receipt."""
        return self._avro.encode(receipt)

    def decode(self, data: bytes) -> Receipt:
        """The receipt of single-object bytes; raise ``DecodeError`` if they are not one."""
        return self._avro.decode(data)


def receipt_codec() -> ReceiptCodec:
    """The codec of a deployment: the current schema, and every released one kept readable."""
    from gateway.codec.history import load_history

    return ReceiptCodec(history=[s.schema for s in load_history(root=RECEIPT_ROOT)])


def receipt_record(topic: str, receipt: Receipt, codec: ReceiptCodec) -> OutboundMessage:
    """The Kafka record of a receipt: keyed by the ordering key, with the message id, target and outcome as headers."""
    headers = (
        ("gw.message.id", receipt.message_id.encode()),
        ("gw.target", receipt.target.encode()),
        (OUTCOME_HEADER, receipt.outcome.value.encode()),
    )
    return OutboundMessage(topic, receipt.ordering_key.encode(), codec.encode(receipt), headers)
