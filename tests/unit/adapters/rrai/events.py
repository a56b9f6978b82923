"""Small builders of the canonical events the RRAI count reads."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from gateway.events import models as m

T, F, S = m.AssistanceType, m.AssistanceForm, m.ProcedureStage
AVRR = "NL-AVRR-2026"
ARD = S.AFTER_RETURN_DECISION

_counter = iter(range(10**9))


def comp(type_: m.AssistanceType = T.TRAVEL, form: m.AssistanceForm = F.IN_KIND, amount: str | None = "400.00"):
    return m.AssistanceComponent(type=type_, form=form, amount_eur=None if amount is None else Decimal(amount))


def event(person: str, payload: m.AvroModel, on: dt.date, hour: int = 10, ms: str = "NL") -> m.CaseEvent:
    when = dt.datetime.combine(on, dt.time(hour), tzinfo=dt.UTC)
    return m.CaseEvent(
        event_id=uuid.UUID(int=next(_counter)),
        event_type=m.EVENT_TYPE_OF[type(payload)],
        occurred_at=when,
        recorded_at=when,
        member_state=ms,
        source=m.Source(connector="test", version="1"),
        case_reference=f"CASE-{person}",
        subject_key=f"key-{person}",
        correlation_id="c",
        payload=payload,
    )


def decision(person: str, on: dt.date, country: str | None = "MAR") -> m.CaseEvent:
    return event(
        person,
        m.ReturnDecisionIssued(
            decision_reference=f"D-{person}",
            decision_date=on,
            issuing_authority="IND",
            legal_ground=m.LegalGround.ILLEGAL_STAY,
            country_of_return=country,
            voluntary_departure=m.VoluntaryDeparture(granted=False),
            entry_ban=m.EntryBan(imposed=False),
            identity=m.Identity(date_of_birth=m.PartialDate(precision=m.DatePrecision.UNKNOWN), sex=m.Sex.UNKNOWN),
        ),
        on,
        hour=9,
    )


def applied(person: str, on: dt.date, *comps: m.AssistanceComponent, programme: str = AVRR, stage=ARD):
    payload = m.AssistanceApplied(programme_reference=programme, application_date=on, stage=stage, components=comps)
    return event(person, payload, on)


def granted(person: str, on: dt.date, *comps: m.AssistanceComponent, programme: str = AVRR, stage=ARD):
    payload = m.AssistanceGranted(
        programme_reference=programme, stage=stage, components=comps, granting_member_state="NL", grant_date=on
    )
    return event(person, payload, on, hour=11)


def refused(person: str, on: dt.date, programme: str = AVRR, stage=ARD) -> m.CaseEvent:
    payload = m.AssistanceRefused(
        programme_reference=programme, stage=stage, refusal_date=on, reason=m.RefusalReason.NOT_ELIGIBLE
    )
    return event(person, payload, on, hour=12)


def departed(
    person: str, on: dt.date, destination: str | None = "MAR", *, assisted: bool = True, dublin: bool = False
) -> m.CaseEvent:
    payload = m.DepartureConfirmed(
        departed_at=dt.datetime.combine(on, dt.time(8), tzinfo=dt.UTC),
        return_type=m.ReturnType.VOLUNTARY,
        assisted=assisted,
        destination_country=destination,
        dublin_transfer=dublin,
    )
    return event(person, payload, on, hour=13)
