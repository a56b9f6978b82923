"""An exit record to a canonical ``DepartureConfirmed`` for the one subject holding its document, or to review (pure).

What leaves this step is what matching and the departure need: the subject key, the time and place of exit and the
decision the border guard's SIS hit named. No name, date of birth, nationality, sex or document number leaves it
(data minimisation); the review path keeps the original record for a person to look at.

The event is provisional: the case is unknown (``case_reference`` is empty) and ``return_type``/``assisted`` are
placeholders until `gateway.adapters.ees.match` places it in a case. Its ``event_id`` is a UUID5 of the EES record
id, so a record sent twice gives the same event and matching recognises the duplicate.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from gateway.adapters.ees.exits import ExitRecord
from gateway.events.models import (
    CaseEvent,
    DepartureConfirmed,
    DepartureEvidence,
    EventType,
    MemberState,
    ReturnType,
    Source,
)

CONNECTOR = "ees"
CONNECTOR_VERSION = "1"
EXIT_EVENT_NAMESPACE = uuid.UUID("3f0e7d52-9c1b-5e8a-8d4f-1a2b3c4d5e6f")
"""Namespace of the exit events' ids; fixed forever, or duplicates would no longer be recognised."""

NO_CASE = "no case known for this travel document"
SEVERAL_SUBJECTS = "travel document known for several subjects"


@dataclass(frozen=True, slots=True)
class Inbound:
    """An exit placed with one subject, on its way to matching.

    Attributes:
        key: The subject key (the message key on the inbound topic).
        event: The provisional ``DepartureConfirmed`` event.
    """

    key: str
    event: CaseEvent


@dataclass(frozen=True, slots=True)
class Review:
    """An input the gateway could not place, for a person to look at; never dropped.

    Attributes:
        reason: Why it could not be placed.
        original: The original record's bytes (empty from matching, whose caller holds the inbound event).
    """

    reason: str
    original: bytes = b""


def exit_event_id(record_id: str) -> uuid.UUID:
    """The event id of an exit record: the same record always gives the same id."""
    return uuid.uuid5(EXIT_EVENT_NAMESPACE, record_id)


def _millis_utc(moment: dt.datetime) -> dt.datetime:
    # The canonical timestamps are timestamp-millis in UTC: rounding here keeps a re-read record's event identical.
    utc = moment.astimezone(dt.UTC)
    return utc.replace(microsecond=utc.microsecond // 1000 * 1000)


def to_inbound(
    record: ExitRecord,
    subjects: frozenset[str],
    member_state: str,
    now: dt.datetime,
    *,
    correlation_id: str | None = None,
) -> Inbound | Review:
    """Turn an exit record into a provisional departure of the one subject holding its travel document.

    Args:
        record: The exit record.
        subjects: Subject keys holding the record's travel document (`DocumentIndex.subjects`).
        member_state: The Member State running the gateway (``MemberState`` symbol).
        now: The time of recording (aware).
        correlation_id: Correlates the events of one ingest; defaults to ``ees:<source>``.

    Returns:
        ``Inbound`` for exactly one subject; ``Review`` with the original record otherwise.
    """
    if not subjects:
        return Review(NO_CASE, record.xml)
    if len(subjects) > 1:
        return Review(SEVERAL_SUBJECTS, record.xml)
    (subject,) = subjects
    departed = _millis_utc(record.exited_at)
    payload = DepartureConfirmed(
        departed_at=departed,
        border_crossing_point=record.border_crossing_point,
        evidence=(DepartureEvidence.EES_EXIT_RECORD,),
        return_type=ReturnType.UNKNOWN,
        assisted=False,
        decision_reference=record.decision_reference,
    )
    event = CaseEvent(
        event_id=exit_event_id(record.record_id),
        event_type=EventType.DEPARTURE_CONFIRMED,
        occurred_at=departed,
        recorded_at=_millis_utc(now),
        member_state=MemberState(member_state),
        source=Source(connector=CONNECTOR, version=CONNECTOR_VERSION),
        case_reference="",
        subject_key=subject,
        correlation_id=correlation_id or f"ees:{record.source}",
        payload=payload,
    )
    return Inbound(subject, event)
