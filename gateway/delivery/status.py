"""``gateway outbox status``: what is pending, delivered, duplicate and rejected, counted exactly from the topics.

The outbox topic and the receipts topic are read from beginning to end, committed records only. Each distinct
message id on the outbox is in one state: ``delivered`` (a ``DELIVERED`` receipt), else ``duplicate`` (only
``DUPLICATE`` receipts: the target had it before, e.g. from a run that crashed before committing), else ``rejected``
(a ``REJECTED`` receipt), else ``pending``. Records that are not outbox messages at all are counted apart: they are
in the dead-letter topic, never in the target's hands.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import cast

from confluent_kafka import Message
from confluent_kafka.admin import AdminClient

from gateway.config import GatewaySettings
from gateway.delivery.outbox import MESSAGE_ID_HEADER, OutboxCodec
from gateway.delivery.receipts import Outcome, ReceiptCodec
from gateway.errors import DecodeError
from gateway.kafka.reader import read_to_end
from gateway.kafka.settings import KafkaSettings

__all__ = ["OutboxStatus", "outbox_status", "outbox_targets"]

_RANK = {Outcome.DELIVERED: 3, Outcome.DUPLICATE: 2, Outcome.REJECTED: 1}
_STATE = {3: "delivered", 2: "duplicate", 1: "rejected"}


@dataclass(frozen=True, slots=True)
class OutboxStatus:
    """The delivery state of one target's outbox.

    Attributes:
        target: The target.
        records: Committed records on the outbox topic.
        messages: Distinct message ids among them.
        pending: Messages without a receipt yet.
        delivered: Messages the target accepted (a ``DELIVERED`` receipt).
        duplicate: Messages whose only receipts say the target already had them.
        rejected: Messages the target refused for good (in the dead-letter topic).
        undecodable: Records that are not outbox messages (in the dead-letter topic).
        pending_ids: The pending messages' ids, in outbox order.
    """

    target: str
    records: int
    messages: int
    pending: int
    delivered: int
    duplicate: int
    rejected: int
    undecodable: int
    pending_ids: tuple[str, ...] = field(repr=False, default=())


def _exists(kafka: KafkaSettings, topic: str) -> bool:
    admin = AdminClient(dict(kafka.to_librdkafka()))
    meta = admin.list_topics(topic, timeout=30).topics.get(topic)
    return meta is not None and meta.error is None


def _read(kafka: KafkaSettings, topic: str) -> Iterator[Message]:
    if _exists(kafka, topic):
        yield from read_to_end(kafka, topic)


def _message_id(record: Message, codec: OutboxCodec) -> str | None:
    for key, value in cast(list[tuple[str, bytes | None]], record.headers() or []):
        if key == MESSAGE_ID_HEADER and value:
            return value.decode()
    try:
        return codec.decode(record.value() or b"").message_id
    except DecodeError:
        return None


def outbox_status(
    settings: GatewaySettings,
    target: str,
    *,
    codec: OutboxCodec | None = None,
    receipts: ReceiptCodec | None = None,
) -> OutboxStatus:
    """Count the target's outbox messages by delivery state (see the module doc)."""
    from gateway.delivery.outbox import outbox_codec
    from gateway.delivery.receipts import receipt_codec

    codec = codec or outbox_codec()
    receipts = receipts or receipt_codec()
    ids: dict[str, None] = {}
    records = undecodable = 0
    for record in _read(settings.kafka, settings.topics.outbox(target)):
        records += 1
        message_id = _message_id(record, codec)
        if message_id is None:
            undecodable += 1
        else:
            ids.setdefault(message_id)
    best: dict[str, int] = {}
    for record in _read(settings.kafka, settings.topics.receipts):
        try:
            receipt = receipts.decode(record.value() or b"")
        except DecodeError:
            continue  # not a receipt this version can read; it says nothing about this target's ids
        if receipt.target == target and receipt.message_id in ids:
            rank = _RANK.get(receipt.outcome, 0)
            best[receipt.message_id] = max(best.get(receipt.message_id, 0), rank)
    counts = {"delivered": 0, "duplicate": 0, "rejected": 0}
    pending: list[str] = []
    for message_id in ids:
        state = _STATE.get(best.get(message_id, 0))
        if state is None:
            pending.append(message_id)
        else:
            counts[state] += 1
    return OutboxStatus(
        target=target,
        records=records,
        messages=len(ids),
        pending=len(pending),
        undecodable=undecodable,
        pending_ids=tuple(pending),
        **counts,
    )


def outbox_targets(settings: GatewaySettings) -> list[str]:
    """The targets that have an outbox topic on the broker, by name."""
    admin = AdminClient(dict(settings.kafka.to_librdkafka()))
    prefix, dlq = settings.topics.outbox_prefix, settings.topics.outbox_dlq_prefix
    names = admin.list_topics(timeout=30).topics
    return sorted(n[len(prefix) :] for n in names if n.startswith(prefix) and not n.startswith(dlq))
