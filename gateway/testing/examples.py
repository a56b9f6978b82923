"""One valid example ``CaseEvent`` per event type, for tests, the demo and golden vectors.

The values are plausible but fictitious. Every example is deterministic, so encoded bytes are stable.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from gateway.events import models as m

_T0 = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)
_NS = uuid.UUID("6f1c2b4e-8d0a-4c3e-9b7f-2a1d5e6c7b80")


def identity() -> m.Identity:
    """A full identity block with a travel document and a partial date of birth."""
    return m.Identity(
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


def _components() -> tuple[m.AssistanceComponent, ...]:
    return (
        m.AssistanceComponent(type=m.AssistanceType.COUNSELLING, form=m.AssistanceForm.IN_KIND),
        m.AssistanceComponent(
            type=m.AssistanceType.TRAVEL, form=m.AssistanceForm.IN_KIND, amount_eur=Decimal("420.00")
        ),
        m.AssistanceComponent(
            type=m.AssistanceType.PRE_DEPARTURE_CASH, form=m.AssistanceForm.CASH, amount_eur=Decimal("300.00")
        ),
        m.AssistanceComponent(
            type=m.AssistanceType.REINTEGRATION_IN_KIND, form=m.AssistanceForm.IN_KIND, amount_eur=Decimal("1500.50")
        ),
    )


def payloads() -> dict[m.EventType, m.AvroModel]:
    """One payload per event type."""
    budget = (
        m.BudgetLine(description="Shop equipment", amount_eur=Decimal("1200.00")),
        m.BudgetLine(description="Vocational course", amount_eur=Decimal("300.50")),
    )
    return {
        m.EventType.RETURN_DECISION_ISSUED: m.ReturnDecisionIssued(
            decision_reference="IND-RB-2026-000123",
            decision_date=dt.date(2026, 3, 2),
            issuing_authority="IND",
            legal_ground=m.LegalGround.REJECTED_APPLICATION,
            country_of_return="MAR",
            voluntary_departure=m.VoluntaryDeparture(
                granted=True, first_day=dt.date(2026, 3, 3), last_day=dt.date(2026, 4, 1), length_days=30
            ),
            entry_ban=m.EntryBan(imposed=False),
            identity=identity(),
        ),
        m.EventType.VOLUNTARY_DEPARTURE_EXTENDED: m.VoluntaryDepartureExtended(
            decision_reference="IND-RB-2026-000123",
            new_last_day=dt.date(2026, 4, 22),
            previous_last_day=dt.date(2026, 4, 1),
            reason=m.ExtensionReason.CHILDREN_ATTENDING_SCHOOL,
            reason_text="End of school term",
        ),
        m.EventType.RETURN_DECISION_STATUS_CHANGED: m.ReturnDecisionStatusChanged(
            decision_reference="IND-RB-2026-000123",
            status=m.DecisionStatus.SUSPENDED,
            effective_date=dt.date(2026, 3, 10),
            appeal_lodged=True,
        ),
        m.EventType.ASSISTANCE_APPLIED: m.AssistanceApplied(
            programme_reference="NL-AVRR-2026",
            application_date=dt.date(2026, 3, 5),
            stage=m.ProcedureStage.AFTER_RETURN_DECISION,
            components=_components(),
        ),
        m.EventType.ASSISTANCE_GRANTED: m.AssistanceGranted(
            programme_reference="NL-AVRR-2026",
            stage=m.ProcedureStage.AFTER_RETURN_DECISION,
            components=_components(),
            granting_member_state=m.MemberState.NL,
            grant_date=dt.date(2026, 3, 12),
            application_date=dt.date(2026, 3, 5),
        ),
        m.EventType.ASSISTANCE_REFUSED: m.AssistanceRefused(
            programme_reference="NL-AVRR-2026",
            stage=m.ProcedureStage.AFTER_RETURN_DECISION,
            refusal_date=dt.date(2026, 3, 12),
            reason=m.RefusalReason.ASSISTANCE_ALREADY_RECEIVED,
            reason_text="AVRR granted by another Member State (Eurodac hit)",
        ),
        m.EventType.REINTEGRATION_REFERRAL: m.ReintegrationReferral(
            referral_id="RIAT-NL-2026-0042",
            partner="Partner Maroc Reintegration",
            country_of_return="MAR",
            consent_obtained=True,
            vulnerability=False,
            family_size=1,
            support_types=(m.SupportType.BUSINESS_START_UP, m.SupportType.JOB_COUNSELLING),
            stage=m.ReintegrationStage.KM1_APPLICATION,
            programme_reference="NL-AVRR-2026",
            expected_departure_date=dt.date(2026, 3, 28),
            budget_lines=budget,
            identity=identity(),
        ),
        m.EventType.REINTEGRATION_STATUS_CHANGED: m.ReintegrationStatusChanged(
            referral_id="RIAT-NL-2026-0042",
            stage=m.ReintegrationStage.KM2_ARRIVAL_AND_PLAN,
            arrival_date=dt.date(2026, 3, 29),
            budget_lines=budget,
        ),
        m.EventType.DEPARTURE_CONFIRMED: m.DepartureConfirmed(
            departed_at=dt.datetime(2026, 3, 28, 22, 15, tzinfo=dt.UTC),
            border_crossing_point="NL-AMS-SCHIPHOL",
            evidence=(m.DepartureEvidence.EES_EXIT_RECORD, m.DepartureEvidence.SIS_ART6_CONFIRMATION),
            return_type=m.ReturnType.VOLUNTARY,
            assisted=True,
            destination_country="MAR",
            decision_reference="IND-RB-2026-000123",
        ),
        m.EventType.NON_RETURN_RECORDED: m.NonReturnRecorded(
            decision_reference="IND-RB-2026-000124",
            period_last_day=dt.date(2026, 4, 1),
            source=m.NonReturnSource.SIS_ART7_NOTIFICATION,
        ),
        m.EventType.EURODAC_HIT_RECEIVED: m.EurodacHitReceived(
            hit_member_state=m.MemberState.BE,
            category=m.EurodacCategory.APPLICANT,
            article="Art. 15",
            hit_reference="BE-2025-77812",
            avrr=m.AvrrRecord(
                granted=True,
                granting_member_state=m.MemberState.BE,
                granted_on=dt.date(2025, 11, 3),
                status=m.AvrrStatus.GRANTED,
            ),
        ),
        m.EventType.ENTRY_RECORDED: m.EntryRecorded(
            entered_at=dt.datetime(2026, 9, 1, 6, 40, tzinfo=dt.UTC),
            border_crossing_point="ES-MAD-BARAJAS",
            ees_record_reference="EES-ENT-99812",
        ),
        m.EventType.BIOMETRICS_CAPTURED: m.BiometricsCaptured(
            category=m.EurodacCategory.ILLEGAL_STAY,
            article="Art. 23(1)",
            registered_at=dt.datetime(2026, 3, 1, 14, 0, tzinfo=dt.UTC),
            biometrics_taken_on=dt.date(2026, 3, 1),
            transmitted_at=dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC),
            identity=identity(),
        ),
    }


def event(event_type: m.EventType, *, index: int = 0) -> m.CaseEvent:
    """The example event of a type; ``index`` varies the ids deterministically."""
    payload = payloads()[event_type]
    return m.CaseEvent(
        event_id=uuid.uuid5(_NS, f"{event_type}:{index}"),
        event_type=event_type,
        occurred_at=_T0 + dt.timedelta(minutes=index),
        recorded_at=_T0 + dt.timedelta(minutes=index, seconds=5),
        member_state=m.MemberState.NL,
        source=m.Source(connector="example", version="0.1.0"),
        case_reference="V-2026-000123",
        subject_key="3f9a1c0e5b7d2a64",
        correlation_id="example",
        validation_warnings=(
            m.ValidationFinding(
                rule_id="EX-000",
                severity=m.Severity.WARNING,
                path="payload",
                message="example warning",
                legal_reference="none",
            ),
        )
        if index % 2
        else (),
        payload=payload,
    )


def all_events() -> list[m.CaseEvent]:
    """One example event per event type, in the order of ``EventType``."""
    return [event(t) for t in payloads()]
