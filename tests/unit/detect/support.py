"""Builders of canonical events for the detector tests: the example payloads with the fields a story needs changed."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from gateway.detect.alerts import SecondaryMovementSuspected
from gateway.detect.config import DetectorConfig
from gateway.detect.observe import observe
from gateway.detect.timeline import SubjectTimeline
from gateway.events import models as m
from gateway.testing import examples

T = m.EventType
MS = m.MemberState
CAT = m.EurodacCategory
STATUS = m.AvrrStatus
NS = uuid.UUID("0b7e6a52-3f4c-4d8e-9a61-5c2f1e0d9b37")
SUBJECT = "subject-nl-0001"
HERE = MS.NL
DEFAULT = DetectorConfig()
_PAYLOADS = examples.payloads()


def eid(name: str) -> str:
    """The event id of a named event in a story."""
    return str(uuid.uuid5(NS, name))


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def ts(text: str) -> dt.datetime:
    """A UTC instant from ``YYYY-MM-DD`` or ``YYYY-MM-DDTHH:MM``."""
    value = dt.datetime.fromisoformat(text)
    return value.replace(tzinfo=dt.UTC)


def event(
    name: str,
    event_type: m.EventType,
    changes: dict[str, Any],
    occurred_at: dt.datetime,
    *,
    member_state: m.MemberState = HERE,
    case_reference: str = "NL-CASE-1",
    subject_key: str = SUBJECT,
) -> m.CaseEvent:
    """A validated canonical event: the example payload of the type with ``changes``, and the given envelope."""
    payload = _PAYLOADS[event_type].model_dump()
    payload.update(changes)
    return m.CaseEvent(
        event_id=uuid.UUID(eid(name)),
        event_type=event_type,
        occurred_at=occurred_at,
        recorded_at=occurred_at + dt.timedelta(seconds=5),
        member_state=member_state,
        source=m.Source(connector="test", version="0"),
        case_reference=case_reference,
        subject_key=subject_key,
        correlation_id="test",
        payload=m.PAYLOAD_OF_EVENT_TYPE[str(event_type)].model_validate(payload),
    )


def applied(name: str, day: str, **envelope: Any) -> m.CaseEvent:
    """An application for assistance here on ``day``, recorded that day at noon."""
    return event(name, T.ASSISTANCE_APPLIED, {"application_date": d(day)}, ts(day) + dt.timedelta(hours=12), **envelope)


def granted(name: str, day: str, by: m.MemberState = HERE, **envelope: Any) -> m.CaseEvent:
    """Assistance granted here (by ``by``) on ``day``."""
    changes = {"grant_date": d(day), "granting_member_state": by}
    return event(name, T.ASSISTANCE_GRANTED, changes, ts(day) + dt.timedelta(hours=12), **envelope)


def refused(name: str, day: str, **envelope: Any) -> m.CaseEvent:
    """An application refused here on ``day``."""
    return event(name, T.ASSISTANCE_REFUSED, {"refusal_date": d(day)}, ts(day) + dt.timedelta(hours=12), **envelope)


def departed(name: str, at: str, assisted: bool = True, **envelope: Any) -> m.CaseEvent:
    """A confirmed departure at ``at``."""
    return event(name, T.DEPARTURE_CONFIRMED, {"departed_at": ts(at), "assisted": assisted}, ts(at), **envelope)


def entered(name: str, at: str, **envelope: Any) -> m.CaseEvent:
    """An EES entry at ``at``."""
    return event(name, T.ENTRY_RECORDED, {"entered_at": ts(at)}, ts(at), **envelope)


def hit(
    name: str,
    at: str,
    *,
    ms: m.MemberState = MS.BE,
    category: m.EurodacCategory = CAT.APPLICANT,
    status: m.AvrrStatus | None = STATUS.GRANTED,
    granted_flag: bool | None = None,
    granted_on: str | None = None,
    avrr: bool = True,
    **envelope: Any,
) -> m.CaseEvent:
    """A Eurodac hit received at ``at`` on a dataset of ``ms``; its AVRR element names ``ms`` too.

    ``granted_flag`` defaults to whether ``status`` is GRANTED.
    """
    element = None
    if avrr:
        flag = status == STATUS.GRANTED if granted_flag is None else granted_flag
        element = m.AvrrRecord(
            granted=flag,
            granting_member_state=ms,
            granted_on=None if granted_on is None else d(granted_on),
            status=status,
        )
    changes = {"hit_member_state": ms, "category": category, "avrr": element}
    return event(name, T.EURODAC_HIT_RECEIVED, changes, ts(at), **envelope)


def decision(name: str, at: str) -> m.CaseEvent:
    """A return decision (with an identity block): irrelevant to every rule."""
    return event(name, T.RETURN_DECISION_ISSUED, {}, ts(at))


def run(
    events: Iterable[m.CaseEvent],
    config: DetectorConfig = DEFAULT,
    timeline: SubjectTimeline | None = None,
) -> tuple[SubjectTimeline | None, list[SecondaryMovementSuspected]]:
    """Observe events in order; the final timeline and every alert emitted."""
    alerts: list[SecondaryMovementSuspected] = []
    for e in events:
        timeline, new, _ = observe(timeline, e, config)
        alerts.extend(new)
    return timeline, alerts


def rule_ids(alerts: Sequence[SecondaryMovementSuspected]) -> list[str]:
    return [a.rule_id for a in alerts]


def by_rule(alerts: Sequence[SecondaryMovementSuspected], rule_id: str) -> list[SecondaryMovementSuspected]:
    return [a for a in alerts if a.rule_id == rule_id]


def ids(*names: str) -> tuple[str, ...]:
    """Sorted event ids of named events."""
    return tuple(sorted(eid(n) for n in names))


def config(data: dict[str, Any]) -> DetectorConfig:
    return DetectorConfig.model_validate(data)
