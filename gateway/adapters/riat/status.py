"""A RIAT status report to a canonical ``ReintegrationStatusChanged``, to review, or to the dead letters (pure).

A report (``schemas/json/riat-status-v1.schema.json``) names its referral; the referral index gives the subjects the
referral was sent for. Exactly one → the event, keyed by that subject. None or several → review, with the original
bytes and the reason: never dropped. Bytes that are not JSON, or JSON the schema rejects → a dead letter with the
original bytes and a reason that names schema keywords and paths, never a value.

The event's id is a UUID5 of the report's ``status_id``, so a report read twice gives the same event and consumers
recognise the repeat. Its Member State and case reference come from the index (the referring case); a record that
does not carry them falls back to the deployment's Member State and an empty case reference.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from gateway.adapters.riat.referrals import ReferralEntry
from gateway.adapters.riat.render import load_json_schema
from gateway.events.models import (
    BudgetLine,
    CaseEvent,
    EventType,
    MemberState,
    ReintegrationStage,
    ReintegrationStatusChanged,
    Source,
)

__all__ = [
    "CONNECTOR",
    "CONNECTOR_VERSION",
    "NO_REFERRAL",
    "SEVERAL_SUBJECTS",
    "STATUS_EVENT_NAMESPACE",
    "STATUS_SCHEMA",
    "Inbound",
    "Review",
    "StatusDeadLetter",
    "StatusReport",
    "parse_status",
    "route_status",
    "status_event_id",
    "to_event",
]

CONNECTOR = "riat"
CONNECTOR_VERSION = "1"
STATUS_SCHEMA = "riat-status-v1.schema.json"
STATUS_EVENT_NAMESPACE = uuid.UUID("8c1d2f3a-6b7e-5d40-9a1b-2c3d4e5f6a7b")
"""Namespace of the status events' ids; fixed forever, or repeats would no longer be recognised."""

NO_REFERRAL = "no referral known for this id"
SEVERAL_SUBJECTS = "referral id known for several subjects"


@dataclass(frozen=True, slots=True)
class StatusReport:
    """A status report that passed its schema.

    Attributes:
        status_id: The report's id.
        referral_id: The referral it is about.
        stage: The case's key moment.
        reported_at: When RIAT reported it (UTC, milliseconds).
        arrival_date: Confirmed date of arrival (KM2).
        budget_lines: The reintegration plan's budget lines.
        note: Free text.
        original: The report's bytes as received.
    """

    status_id: str
    referral_id: str
    stage: ReintegrationStage
    reported_at: dt.datetime
    arrival_date: dt.date | None
    budget_lines: tuple[BudgetLine, ...]
    note: str | None
    original: bytes


@dataclass(frozen=True, slots=True)
class Inbound:
    """A report placed with one subject.

    Attributes:
        key: The subject key (the message key on the canonical topic).
        event: The ``ReintegrationStatusChanged`` event.
    """

    key: str
    event: CaseEvent


@dataclass(frozen=True, slots=True)
class Review:
    """A report the gateway could not place, for a person to look at; never dropped.

    Attributes:
        reason: Why it could not be placed.
        status_id: The report's id.
        referral_id: The referral it names.
        original: The report's bytes as received.
    """

    reason: str
    status_id: str
    referral_id: str
    original: bytes


@dataclass(frozen=True, slots=True)
class StatusDeadLetter:
    """A report that cannot be read.

    Attributes:
        code: ``not-json``, ``schema-invalid`` or ``invalid-value``.
        reason: Schema keywords and paths, never a value.
        original: The report's bytes as received.
    """

    code: str
    reason: str
    original: bytes


def status_event_id(status_id: str) -> uuid.UUID:
    """The event id of a status report: the same report always gives the same id."""
    return uuid.uuid5(STATUS_EVENT_NAMESPACE, status_id)


def parse_status(original: bytes) -> StatusReport | StatusDeadLetter:
    """Read one status report against ``riat-status-v1.schema.json``.

    Args:
        original: The report's bytes (UTF-8 JSON).

    Returns:
        The report, or a dead letter with the original bytes.
    """
    try:
        data: Any = json.loads(original.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        return StatusDeadLetter("not-json", f"not UTF-8 JSON: {type(exc).__name__}", original)
    errors = sorted(load_json_schema(STATUS_SCHEMA).iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        found = "; ".join(f"{e.validator} at /{'/'.join(str(p) for p in e.absolute_path)}" for e in errors[:5])
        return StatusDeadLetter("schema-invalid", f"not valid against {STATUS_SCHEMA}: {found}", original)
    try:
        reported = dt.datetime.fromisoformat(data["reported_at"].replace("Z", "+00:00"))
        arrival = data.get("arrival_date")
        return StatusReport(
            status_id=data["status_id"],
            referral_id=data["referral_id"],
            stage=ReintegrationStage(data["stage"]),
            reported_at=_millis_utc(reported),
            arrival_date=None if arrival is None else dt.date.fromisoformat(arrival),
            budget_lines=tuple(
                BudgetLine(description=b["description"], amount_eur=Decimal(b["amount_eur"]))
                for b in data.get("budget_lines", ())
            ),
            note=data.get("note"),
            original=original,
        )
    except (ValueError, OverflowError) as exc:
        # A date the pattern lets through but the calendar does not (2026-02-30), or one beyond it.
        return StatusDeadLetter("invalid-value", f"a date or amount cannot be read: {type(exc).__name__}", original)


def to_event(
    report: StatusReport,
    entries: tuple[ReferralEntry, ...],
    member_state: str,
    now: dt.datetime,
    *,
    correlation_id: str = "riat:status-feed",
) -> Inbound | Review:
    """Turn a report into the status event of the one subject its referral was sent for.

    Args:
        report: The report.
        entries: The subjects of its referral (`ReferralIndex.entries`).
        member_state: The deployment's Member State, for an index record that names none.
        now: The time of recording (aware).
        correlation_id: Correlates the events of one pull.

    Returns:
        ``Inbound`` for exactly one subject; ``Review`` with the original bytes otherwise.
    """
    if len(entries) != 1:
        reason = NO_REFERRAL if not entries else SEVERAL_SUBJECTS
        return Review(reason, report.status_id, report.referral_id, report.original)
    (entry,) = entries
    state = entry.member_state if entry.member_state in MemberState.__members__ else member_state
    payload = ReintegrationStatusChanged(
        referral_id=report.referral_id,
        stage=report.stage,
        arrival_date=report.arrival_date,
        budget_lines=report.budget_lines,
        note=report.note,
    )
    event = CaseEvent(
        event_id=status_event_id(report.status_id),
        event_type=EventType.REINTEGRATION_STATUS_CHANGED,
        occurred_at=report.reported_at,
        recorded_at=_millis_utc(now),
        member_state=MemberState(state),
        source=Source(connector=CONNECTOR, version=CONNECTOR_VERSION),
        case_reference=entry.case_reference,
        subject_key=entry.subject_key,
        correlation_id=correlation_id,
        payload=payload,
    )
    return Inbound(entry.subject_key, event)


def route_status(
    original: bytes,
    lookup: Callable[[str], tuple[ReferralEntry, ...]],
    member_state: str,
    now: dt.datetime,
    *,
    correlation_id: str = "riat:status-feed",
) -> Inbound | Review | StatusDeadLetter:
    """Parse one report and place it (pure apart from ``lookup``): an event, a review or a dead letter."""
    report = parse_status(original)
    if isinstance(report, StatusDeadLetter):
        return report
    return to_event(report, lookup(report.referral_id), member_state, now, correlation_id=correlation_id)


def _millis_utc(moment: dt.datetime) -> dt.datetime:
    # The canonical timestamps are timestamp-millis in UTC: rounding here keeps a re-read report's event identical.
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    utc = moment.astimezone(dt.UTC)
    return utc.replace(microsecond=utc.microsecond // 1000 * 1000)
