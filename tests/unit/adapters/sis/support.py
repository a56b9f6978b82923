"""Canonical events for the SIS adapter tests, and an independent check of rendered XML."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from pathlib import Path
from typing import Any

from lxml import etree

from gateway.adapters.sis import Refused, Rendered, SisConfig, SisStep, SisSubjectState, render, sis_step
from gateway.adapters.sis.messages import SisMessage
from gateway.events import models as m

REPO = Path(__file__).resolve().parents[4]
XSD = REPO / "schemas" / "xsd" / "sis-return-v1.xsd"
NS = "urn:eu:returns-gateway:sis-return:v1"
T0 = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)
CONFIG = SisConfig(creating_authority="NL-IND")
_ids = itertools.count(1)


def identity(**changes: Any) -> m.Identity:
    base = m.Identity(
        surnames=("EL AMRANI",),
        forenames=("YOUSSEF",),
        names_at_birth=("EL AMRANI",),
        aliases=("AMRANI Y.",),
        date_of_birth=m.PartialDate(year=1994, month=7, day=None, precision=m.DatePrecision.MONTH),
        place_of_birth="Oujda",
        sex=m.Sex.MALE,
        nationalities=("MAR",),
        travel_document=m.TravelDocument(
            type=m.TravelDocumentType.PASSPORT,
            number="UZ1234567",
            issuing_country="MAR",
            issue_date=dt.date(2021, 5, 4),
            expiry_date=dt.date(2031, 5, 3),
        ),
    )
    return base.model_copy(update=changes)


def event(payload: m.AvroModel, *, ms: str = "NL", case: str = "NL-CASE-1", at: dt.datetime = T0) -> m.CaseEvent:
    return m.CaseEvent(
        event_id=uuid.UUID(int=next(_ids)),
        event_type=m.EVENT_TYPE_OF[type(payload)],
        occurred_at=at,
        recorded_at=at,
        member_state=m.MemberState(ms),
        source=m.Source(connector="nl-xml", version="1.0"),
        case_reference=case,
        subject_key="s" * 32,
        correlation_id="test",
        payload=payload,
    )


def decision(
    ref: str = "RD-1",
    *,
    last_day: dt.date | None = dt.date(2026, 4, 1),
    ban_days: int | None = None,
    exemption: m.AlertExemption | None = None,
    **extra: Any,
) -> m.ReturnDecisionIssued:
    return m.ReturnDecisionIssued(
        decision_reference=ref,
        decision_date=dt.date(2026, 3, 1),
        issuing_authority="IND",
        legal_ground=extra.pop("legal_ground", m.LegalGround.REJECTED_APPLICATION),
        country_of_return="MAR",
        voluntary_departure=m.VoluntaryDeparture(
            granted=last_day is not None, first_day=dt.date(2026, 3, 2), last_day=last_day, length_days=30
        ),
        entry_ban=m.EntryBan(imposed=ban_days is not None, duration_days=ban_days),
        alert_exemption=exemption,
        identity=extra.pop("identity", identity()),
        **extra,
    )


def extended(ref: str = "RD-1", new_last_day: dt.date = dt.date(2026, 4, 22)) -> m.VoluntaryDepartureExtended:
    return m.VoluntaryDepartureExtended(
        decision_reference=ref, new_last_day=new_last_day, reason=m.ExtensionReason.CHILDREN_ATTENDING_SCHOOL
    )


def status(s: str, ref: str = "RD-1") -> m.ReturnDecisionStatusChanged:
    return m.ReturnDecisionStatusChanged(
        decision_reference=ref, status=m.DecisionStatus(s), effective_date=dt.date(2026, 3, 10)
    )


def departed(
    ref: str | None = "RD-1", evidence: tuple[str, ...] = ("EES_EXIT_RECORD",), at: dt.datetime | None = None
) -> m.DepartureConfirmed:
    return m.DepartureConfirmed(
        departed_at=at or dt.datetime(2026, 3, 28, 22, 15, tzinfo=dt.UTC),
        border_crossing_point="NL-AMS",
        evidence=tuple(m.DepartureEvidence(e) for e in evidence),
        return_type=m.ReturnType.VOLUNTARY,
        assisted=True,
        destination_country="MAR",
        decision_reference=ref,
    )


def non_return(
    ref: str = "RD-1", last_day: dt.date = dt.date(2026, 4, 1), source: str = "MONITOR"
) -> m.NonReturnRecorded:
    return m.NonReturnRecorded(decision_reference=ref, period_last_day=last_day, source=m.NonReturnSource(source))


def run(payloads: list[m.AvroModel], config: SisConfig = CONFIG, state: SisSubjectState | None = None) -> list[SisStep]:
    """Step through the events of one subject; each step's messages are rendered and checked against the XSD."""
    steps = []
    for p in payloads:
        step = sis_step(state, event(p), config)
        for message in step.messages:
            valid_xml(message, config)
        steps.append(step)
        state = step.state
    return steps


def kinds(step: SisStep) -> list[str]:
    return [msg.kind for msg in step.messages]


_SCHEMA = etree.XMLSchema(etree.parse(str(XSD)))


def valid_xml(message: SisMessage, config: SisConfig = CONFIG) -> etree._Element:
    """Render, re-parse the bytes, and validate them against the XSD loaded independently of the renderer."""
    rendered = render(message, config)
    assert isinstance(rendered, Rendered), rendered
    assert rendered.kind == message.kind
    doc = etree.fromstring(rendered.xml)
    _SCHEMA.assertValid(doc)
    return doc


def refused(message: SisMessage, config: SisConfig = CONFIG) -> Refused:
    rendered = render(message, config)
    assert isinstance(rendered, Refused), rendered
    return rendered


def texts(doc: etree._Element) -> dict[str, list[str]]:
    """Local element name -> texts, in document order."""
    out: dict[str, list[str]] = {}
    for e in doc.iter():
        if e is not doc:
            out.setdefault(etree.QName(e).localname, []).append(e.text or "")
    return out
