"""Delivery that loses nothing: per-target outbox topics, sent through transport plugins, with receipts.

A producing stage writes `OutboxMessage` records (``outbox_record``) to ``gateway.out.<target>`` in its Kafka
transaction; ``gateway deliver --target <target>`` (`gateway.delivery.worker.run_delivery`) sends them through a
transport (``http``, ``filedrop`` or a plugin of the ``gateway.transports`` entry-point group) and writes a receipt
or a dead letter for each, in the transaction of the consumed offsets. See ``docs/delivery.md``.
"""

from gateway.delivery.outbox import OutboxCodec, OutboxMessage, message_id_for, outbox_codec, outbox_record
from gateway.delivery.receipts import Outcome, Receipt, receipt_codec
from gateway.delivery.transport import SendOutcome, SendResult, TransientDeliveryError, Transport

__all__ = [
    "OutboxCodec",
    "OutboxMessage",
    "Outcome",
    "Receipt",
    "SendOutcome",
    "SendResult",
    "TransientDeliveryError",
    "Transport",
    "message_id_for",
    "outbox_codec",
    "outbox_record",
    "receipt_codec",
]
