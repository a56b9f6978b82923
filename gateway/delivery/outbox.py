"""The outbox contract: what a producing stage writes to ``gateway.out.<target>`` for `gateway deliver` to send.

A producing stage builds `OutboxMessage` values, gives each the id `message_id_for` derives from its content, and
writes them with `outbox_record` in the same Kafka transaction as the offsets of the input they came from. The value
is Avro single-object encoded (``schemas/avro/outbox/``), so messages written by a released schema stay readable.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gateway.codec.schemas import SCHEMA_DIR
from gateway.kafka.producer import OutboundMessage
from gateway.state.codec import AvroValueCodec

__all__ = [
    "KIND_HEADER",
    "MESSAGE_ID_HEADER",
    "OUTBOX_NAMESPACE",
    "OUTBOX_ROOT",
    "OUTBOX_SCHEMA_DIR",
    "SEQUENCE_HEADER",
    "TARGET_HEADER",
    "OutboxCodec",
    "OutboxMessage",
    "message_id_for",
    "outbox_codec",
    "outbox_record",
]

OUTBOX_SCHEMA_DIR: Path = SCHEMA_DIR / "outbox"
OUTBOX_ROOT = "eu.returns.gateway.outbox.v1.OutboxMessage"

OUTBOX_NAMESPACE = uuid.UUID("ef15f300-0ebf-532a-a9ff-09e211b6fc7b")
"""The uuid5 namespace of message ids: ``uuid5(NAMESPACE_URL, "urn:eu.returns.gateway:outbox:v1")``. Never change
it: the targets de-duplicate by these ids."""

MESSAGE_ID_HEADER = "gw.message.id"
KIND_HEADER = "gw.message.kind"
TARGET_HEADER = "gw.target"
SEQUENCE_HEADER = "gw.sequence"


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    """One message for a target, delivered as is.

    Attributes:
        message_id: Stable, content-derived id (`message_id_for`); the target's idempotency key.
        target: ``sis``, ``eurodac`` ...
        kind: What it is for the target (``SIS_CREATE``, ``SIS_UPDATE``, ``EURODAC_AVRR_UPDATE`` ...).
        ordering_key: One case: order is kept per ordering key.
        sequence: 1, 2, 3 ... per ordering key, assigned by the producing stage.
        created_at: When the producing stage built it (UTC, milliseconds); not part of the id.
        source_event_id: The canonical event it came from, if one.
        source_event_at: Kafka timestamp of that canonical event (for end-to-end latency).
        content_type: Media type of the body (``application/xml``).
        body: The payload the transport sends as is.
    """

    message_id: str
    target: str
    kind: str
    ordering_key: str
    sequence: int
    created_at: dt.datetime
    source_event_id: str | None
    source_event_at: dt.datetime | None
    content_type: str
    body: bytes


def message_id_for(target: str, kind: str, ordering_key: str, source_event_id: str | None, body: bytes) -> str:
    """The stable id of a message: ``uuid5(OUTBOX_NAMESPACE, sha256 of the parts)`` as text.

    Each part is length-prefixed before hashing, so no two different part lists hash the same bytes (``("ab", "c")``
    and ``("a", "bc")`` differ). The build time is deliberately not a part: a stage that builds the same message again
    after a restart must give it the same id, or the target would accept it twice.
    """
    digest = hashlib.sha256()
    source = b"\x00" if source_event_id is None else b"\x01" + source_event_id.encode()
    for part in (target.encode(), kind.encode(), ordering_key.encode(), source, body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return str(uuid.uuid5(OUTBOX_NAMESPACE, digest.hexdigest()))


def outbox_to_avro(message: OutboxMessage) -> dict[str, Any]:
    """The message as an Avro record of ``eu.returns.gateway.outbox.v1.OutboxMessage``."""
    return {
        "message_id": message.message_id,
        "target": message.target,
        "kind": message.kind,
        "ordering_key": message.ordering_key,
        "sequence": message.sequence,
        "created_at": message.created_at,
        "source_event_id": message.source_event_id,
        "source_event_at": message.source_event_at,
        "content_type": message.content_type,
        "body": message.body,
    }


def outbox_from_avro(record: Mapping[str, Any]) -> OutboxMessage:
    """A message from an Avro record read with the current schema."""
    return OutboxMessage(
        message_id=str(record["message_id"]),
        target=record["target"],
        kind=record["kind"],
        ordering_key=record["ordering_key"],
        sequence=int(record["sequence"]),
        created_at=record["created_at"],
        source_event_id=record["source_event_id"],
        source_event_at=record["source_event_at"],
        content_type=record["content_type"],
        body=bytes(record["body"]),
    )


class OutboxCodec:
    """Outbox messages as Avro single-object bytes, readable from every released schema version.

    Args:
        schema_dir: Folder of the outbox schema.
        history: Released versions of the schema, so that messages they wrote stay readable.
    """

    def __init__(self, schema_dir: Path = OUTBOX_SCHEMA_DIR, history: Iterable[dict[str, Any]] = ()) -> None:
        # Outbox bytes are read once each: remembering decoded values would only cost memory.
        self._avro = AvroValueCodec(schema_dir, OUTBOX_ROOT, outbox_to_avro, outbox_from_avro, history, remember=0)

    @property
    def schema(self) -> dict[str, Any]:
        """The current (parsed) schema."""
        return self._avro.schema

    def encode(self, message: OutboxMessage) -> bytes:
        """Single-object bytes of the message."""
        return self._avro.encode(message)

    def decode(self, data: bytes) -> OutboxMessage:
        """The message of single-object bytes; raise ``DecodeError`` if they are not one."""
        return self._avro.decode(data)


def outbox_codec() -> OutboxCodec:
    """The codec of a deployment: the current schema, and every released one kept readable."""
    from gateway.codec.history import load_history

    return OutboxCodec(history=[s.schema for s in load_history(root=OUTBOX_ROOT)])


def outbox_record(topic: str, message: OutboxMessage, codec: OutboxCodec) -> OutboundMessage:
    """The Kafka record of a message: keyed by its ordering key, with its id, kind, target and sequence as headers.

    The key puts every message of a case in one partition, which is what keeps them in order; the headers let tools
    (``gateway outbox status``, a DLQ inspector) see what a record is without decoding it.
    """
    headers = (
        (MESSAGE_ID_HEADER, message.message_id.encode()),
        (KIND_HEADER, message.kind.encode()),
        (TARGET_HEADER, message.target.encode()),
        (SEQUENCE_HEADER, str(message.sequence).encode()),
    )
    return OutboundMessage(topic, message.ordering_key.encode(), codec.encode(message), headers)
