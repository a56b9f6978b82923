"""The replay audit trail: who replayed which dead letters, when, why, and how it ended.

Each replay writes two records to the audit topic, keyed by connector: ``requested`` before anything is replayed
(so no replay can happen without its audit record: if the audit topic refuses, nothing is replayed) and ``done`` or
``failed`` after. Values are JSON (`AuditEntry`), readable by any consumer. The entries name offsets, never record
contents: the audit trail holds no personal data beyond the operator's name.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict

from gateway.kafka.producer import OutboundMessage

__all__ = ["AuditEntry", "audit_message"]

AUDIT_CONTENT_TYPE = b"application/json; schema=gateway.audit.dlq-replay.v1"


class AuditEntry(BaseModel):
    """One audit record of a replay.

    Attributes:
        action: Always ``dlq.replay``.
        phase: ``requested`` (before), ``done`` or ``failed`` (after).
        request_id: Links the records of one replay.
        user: Who (user name from the configuration or the proxy).
        role: Their role at the time.
        via: How they were identified (``password`` or ``proxy``).
        at: When (UTC).
        client: The client address of the request.
        connector: Whose dead letters.
        dlq_topic: The dead-letter topic.
        raw_topic: Where they were replayed to.
        refs: The dead letters chosen, ``PARTITION:OFFSET``.
        reason: Why, in the operator's words.
        replayed: The dead letters actually replayed (``done``).
        error: What went wrong (``failed``).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    action: Literal["dlq.replay"] = "dlq.replay"
    phase: Literal["requested", "done", "failed"]
    request_id: str
    user: str
    role: str
    via: str
    at: dt.datetime
    client: str
    connector: str
    dlq_topic: str
    raw_topic: str
    refs: tuple[str, ...]
    reason: str
    replayed: tuple[str, ...] = ()
    error: str = ""


def audit_message(entry: AuditEntry, topic: str) -> OutboundMessage:
    """The Kafka message of an audit entry: JSON value, keyed by connector (one connector's trail stays in order)."""
    return OutboundMessage(
        topic,
        entry.connector.encode(),
        entry.model_dump_json().encode(),
        (("content-type", AUDIT_CONTENT_TYPE), ("gw.audit.phase", entry.phase.encode())),
    )
