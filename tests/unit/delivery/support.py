"""Builders shared by the delivery unit tests."""

from __future__ import annotations

import datetime as dt

from gateway.delivery.outbox import OutboxMessage, message_id_for

CREATED = dt.datetime(2026, 5, 4, 9, 0, 0, 123000, tzinfo=dt.UTC)


def message(
    key: str = "case-1",
    sequence: int = 1,
    *,
    target: str = "sis",
    kind: str = "SIS_UPDATE",
    body: bytes | None = None,
    source: str | None = "0b8e3c2a-6f7e-4a43-9b57-4f1c3c8f2a10",
) -> OutboxMessage:
    payload = body if body is not None else f"<update case='{key}' seq='{sequence}'/>".encode()
    return OutboxMessage(
        message_id=message_id_for(target, kind, key, source, payload),
        target=target,
        kind=kind,
        ordering_key=key,
        sequence=sequence,
        created_at=CREATED,
        source_event_id=source,
        source_event_at=CREATED - dt.timedelta(seconds=2),
        content_type="application/xml",
        body=payload,
    )
