"""Generated RIAT stories with known outcomes: the ground truth of the RIAT adapter, out and in.

Each story is one person's canonical events together with exactly what must reach RIAT (each message's kind and
its whole JSON document, under the configuration given) and the partner's status reports with what must become of
them (a ``ReintegrationStatusChanged`` event of the story's subject, a review with its reason, or a dead letter).

The expected documents are written out here from the story's own parameters, not computed by the adapter, so a
test comparing the two can fail. The stories cover: consent given after the decision (creation, KM1, then a KM1
update when the departure is confirmed); a referral before the decision (KM1 update when the decision brings the
administrative status); consent never given (nothing leaves; the partner's status for it goes to review); consent
given later; a duplicate referral (nothing more); and a feed carrying a stranger's status and a broken one.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from gateway.adapters.riat.config import RiatConfig
from gateway.events import models as m

__all__ = ["ExpectedMessage", "ExpectedStatusEvent", "RiatStory", "StatusSpec", "riat_stories"]

_NS = uuid.UUID("0b7c3e52-41d8-5c6a-9e0f-7a1b2c3d4e5f")
SCHEMA = "urn:eu:returns-gateway:riat-referral:v1"
_COUNTRIES = ("MAR", "GEO", "IRQ", "NGA", "PAK", "SEN")
_PARTNERS = ("IOM Morocco", "Caritas International", "ENABEL", "Frontex JRS partner 3")


@dataclass(frozen=True, slots=True)
class ExpectedMessage:
    """A message that must reach RIAT.

    Attributes:
        kind: ``CASE_CREATION``, ``KM1_APPLICATION`` or ``KM1_UPDATE``.
        document: The whole JSON document.
    """

    kind: str
    document: dict[str, Any]


@dataclass(frozen=True, slots=True)
class StatusSpec:
    """A status report of the partner's feed and what must become of it.

    Attributes:
        status: The report as the feed serves it (a JSON object, or a string for broken input).
        expect: ``event``, ``review`` or ``dead_letter``.
        reason: The review reason, or the dead letter's error code.
    """

    status: Any
    expect: str
    reason: str = ""


@dataclass(frozen=True, slots=True)
class ExpectedStatusEvent:
    """The event a status report must become.

    Attributes:
        status_id: The report's id (the event id is derived from it).
        subject_key: The subject (and message key).
        member_state: The referring Member State.
        case_reference: The referring case.
        referral_id: The referral.
        stage: ``ReintegrationStage`` symbol.
        arrival_date: Confirmed arrival.
        budget_lines: (description, amount) pairs.
        note: Free text.
    """

    status_id: str
    subject_key: str
    member_state: str
    case_reference: str
    referral_id: str
    stage: str
    arrival_date: dt.date | None
    budget_lines: tuple[tuple[str, Decimal], ...]
    note: str | None


@dataclass(frozen=True, slots=True)
class RiatStory:
    """One person's events, and what RIAT must receive and send back.

    Attributes:
        name: What the story shows.
        subject_key: The subject.
        member_state: The Member State.
        case_reference: The national case.
        events: Canonical events in order.
        messages: The messages RIAT must receive, in order.
        statuses: The partner's status reports of this story, in feed order.
        status_events: The events the ``event`` statuses must become, in order.
    """

    name: str
    subject_key: str
    member_state: str
    case_reference: str
    events: tuple[m.CaseEvent, ...]
    messages: tuple[ExpectedMessage, ...]
    statuses: tuple[StatusSpec, ...]
    status_events: tuple[ExpectedStatusEvent, ...]


class _Builder:
    """Events and expected documents of one story."""

    def __init__(self, name: str, seed: int, base: dt.datetime, config: RiatConfig, member_state: str) -> None:
        self.name = name
        self.rng = random.Random(f"{seed}:{name}")  # noqa: S311 - sample data, not crypto
        self.seed = seed
        self.config = config
        self.ms = member_state
        self.subject = uuid.uuid5(_NS, f"subject:{seed}:{name}").hex
        self.case = f"{member_state}-{uuid.uuid5(_NS, f'case:{seed}:{name}').hex[:10].upper()}"
        self.referral_id = f"RIAT-{uuid.uuid5(_NS, f'referral:{seed}:{name}').hex[:12].upper()}"
        self.at = base
        self.events: list[m.CaseEvent] = []
        self.messages: list[ExpectedMessage] = []
        self.statuses: list[StatusSpec] = []
        self.status_events: list[ExpectedStatusEvent] = []
        self.country = self.rng.choice(_COUNTRIES)
        self.partner = self.rng.choice(_PARTNERS)
        self.family = self.rng.randint(1, 6)
        self.vulnerable = self.rng.random() < 0.3

    def event(self, payload: m.AvroModel, hours: int = 6) -> m.CaseEvent:
        self.at += dt.timedelta(hours=hours)
        e = m.CaseEvent(
            event_id=uuid.uuid5(_NS, f"event:{self.seed}:{self.name}:{len(self.events)}"),
            event_type=m.EVENT_TYPE_OF[type(payload)],
            occurred_at=self.at,
            recorded_at=self.at,
            member_state=m.MemberState(self.ms),
            source=m.Source(connector="nl-xml", version="1.0"),
            case_reference=self.case,
            subject_key=self.subject,
            correlation_id=f"riat-story:{self.name}",
            payload=payload,
        )
        self.events.append(e)
        return e

    def envelope(self, kind: str, event: m.CaseEvent) -> dict[str, Any]:
        basis = self.config.legal_basis
        return {
            "schema": SCHEMA,
            "kind": kind,
            "referral_id": self.referral_id,
            "member_state": self.ms,
            "created_at": event.recorded_at.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "legal_basis": basis.case_creation if kind == "CASE_CREATION" else basis.km1,
        }

    def expect_creation(self, event: m.CaseEvent, support: tuple[str, ...]) -> None:
        case = {
            "country_of_return": self.country,
            "project": self.config.default_project,
            "member_state_of_departure": self.ms,
            "member_state_organisation": self.config.member_state_organisation,
            "reintegration_partner": self.partner,
            "support_types": sorted(support),
        }
        self.messages.append(ExpectedMessage("CASE_CREATION", {**self.envelope("CASE_CREATION", event), "case": case}))

    def expect_km1(self, kind: str, event: m.CaseEvent, **km1: Any) -> None:
        body = {"consent_obtained": True, "signed_consent": True, "family_size": self.family}
        body["vulnerability"] = self.vulnerable
        body.update({k: v for k, v in km1.items() if v is not None})
        self.messages.append(ExpectedMessage(kind, {**self.envelope(kind, event), "km1": body}))

    def referral(
        self, *, consent: bool, support: tuple[str, ...], departure: dt.date | None
    ) -> m.ReintegrationReferral:
        return m.ReintegrationReferral(
            referral_id=self.referral_id,
            partner=self.partner,
            country_of_return=self.country,
            consent_obtained=consent,
            vulnerability=self.vulnerable,
            family_size=self.family,
            support_types=tuple(m.SupportType(s) for s in support),
            stage=m.ReintegrationStage.CASE_REGISTRATION,
            expected_departure_date=departure,
            identity=_identity(self.rng),
        )

    def decision(self, ground: m.LegalGround) -> m.ReturnDecisionIssued:
        return m.ReturnDecisionIssued(
            decision_reference=f"RD-{self.case}",
            decision_date=self.at.date(),
            issuing_authority="IND",
            legal_ground=ground,
            country_of_return=self.country,
            voluntary_departure=m.VoluntaryDeparture(granted=True, last_day=self.at.date() + dt.timedelta(days=28)),
            entry_ban=m.EntryBan(imposed=False),
            identity=_identity(self.rng),
        )

    def departure(self, day_offset: int, return_type: m.ReturnType = m.ReturnType.VOLUNTARY) -> m.DepartureConfirmed:
        return m.DepartureConfirmed(
            departed_at=(self.at + dt.timedelta(days=day_offset)).replace(hour=7, minute=15),
            border_crossing_point="NL-AMS",
            evidence=(m.DepartureEvidence.NATIONAL_BORDER_CHECK,),
            return_type=return_type,
            assisted=True,
            destination_country=self.country,
            decision_reference=f"RD-{self.case}",
        )

    def km2(self, number: int, arrival: dt.date, lines: tuple[tuple[str, str], ...], note: str | None) -> None:
        status_id = f"ST-{uuid.uuid5(_NS, f'status:{self.seed}:{self.name}:{number}').hex[:16]}"
        status: dict[str, Any] = {
            "status_id": status_id,
            "referral_id": self.referral_id,
            "stage": "KM2_ARRIVAL_AND_PLAN",
            "reported_at": (self.at + dt.timedelta(days=30 + number)).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "arrival_date": arrival.isoformat(),
            "budget_lines": [{"description": d, "amount_eur": a} for d, a in lines],
        }
        if note is not None:
            status["note"] = note
        self.statuses.append(StatusSpec(status, "event"))
        self.status_events.append(
            ExpectedStatusEvent(
                status_id=status_id,
                subject_key=self.subject,
                member_state=self.ms,
                case_reference=self.case,
                referral_id=self.referral_id,
                stage="KM2_ARRIVAL_AND_PLAN",
                arrival_date=arrival,
                budget_lines=tuple((d, Decimal(a)) for d, a in lines),
                note=note,
            )
        )

    def later(self, number: int, stage: str) -> None:
        status_id = f"ST-{uuid.uuid5(_NS, f'status:{self.seed}:{self.name}:{number}').hex[:16]}"
        reported = (self.at + dt.timedelta(days=60 + number)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        status = {"status_id": status_id, "referral_id": self.referral_id, "stage": stage, "reported_at": reported}
        self.statuses.append(StatusSpec(status, "event"))
        self.status_events.append(
            ExpectedStatusEvent(status_id, self.subject, self.ms, self.case, self.referral_id, stage, None, (), None)
        )

    def story(self) -> RiatStory:
        return RiatStory(
            name=self.name,
            subject_key=self.subject,
            member_state=self.ms,
            case_reference=self.case,
            events=tuple(self.events),
            messages=tuple(self.messages),
            statuses=tuple(self.statuses),
            status_events=tuple(self.status_events),
        )


def _identity(rng: random.Random) -> m.Identity:
    # Sentinel-like values: none of them may ever appear in a RIAT body under the default whitelist.
    n = rng.randint(100_000, 999_999)
    return m.Identity(
        surnames=(f"SURNAME{n}",),
        forenames=(f"FORENAME{n}",),
        date_of_birth=m.PartialDate(year=1990, month=3, day=14, precision=m.DatePrecision.DAY),
        place_of_birth=f"PLACE{n}",
        sex=m.Sex.MALE,
        nationalities=("MAR",),
        travel_document=m.TravelDocument(
            type=m.TravelDocumentType.PASSPORT, number=f"DOC{n}", issuing_country="MAR", issue_date=dt.date(2020, 1, 2)
        ),
    )


def _granted(ms: str, day: dt.date, cash: str) -> m.AssistanceGranted:
    return m.AssistanceGranted(
        programme_reference=f"{ms}-AVRR-2026",
        stage=m.ProcedureStage.AFTER_RETURN_DECISION,
        components=(
            m.AssistanceComponent(
                type=m.AssistanceType.REINTEGRATION_CASH, form=m.AssistanceForm.CASH, amount_eur=Decimal(cash)
            ),
            m.AssistanceComponent(type=m.AssistanceType.TRAVEL, form=m.AssistanceForm.IN_KIND),
        ),
        granting_member_state=m.MemberState(ms),
        grant_date=day,
    )


def riat_stories(
    seed: int = 0,
    *,
    base: dt.datetime = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC),
    config: RiatConfig | None = None,
    member_state: str = "NL",
) -> list[RiatStory]:
    """The RIAT stories of one seed (names, countries, partners, family sizes and amounts vary with it).

    Args:
        seed: Varies the stories' data, not their shape.
        base: When the first event happens.
        config: The configuration the expected documents are written for (only its texts are read: organisation,
            default project, legal bases); the default configuration when None.
        member_state: The Member State of every story.

    Returns:
        Six stories, each with its events, expected messages, statuses and expected status events.
    """
    config = config or RiatConfig()
    stories = []
    support = ("MEDICAL_CARE", "ACCOMMODATION", "JOB_COUNSELLING")

    # 1. Decision, grant, then a referral with consent: creation and KM1 with every fact; departure → KM1 update.
    b = _Builder("consent-after-decision", seed, base, config, member_state)
    b.event(b.decision(m.LegalGround.ILLEGAL_STAY))
    cash = f"{b.rng.randint(5, 30) * 100}.00"
    b.event(_granted(member_state, b.at.date(), cash))
    expected_departure = (b.at + dt.timedelta(days=20)).date()
    referral = b.event(b.referral(consent=True, support=support, departure=expected_departure))
    granted = [
        {"type": "REINTEGRATION_CASH", "form": "CASH", "amount_eur": cash},
        {"type": "TRAVEL", "form": "IN_KIND"},
    ]
    common = {
        "administrative_status": "IRREGULAR_STAY",
        "assistance_needed": sorted(support),
        "assistance_granted": granted,
    }
    b.expect_creation(referral, support)
    b.expect_km1(
        "KM1_APPLICATION",
        referral,
        type_of_return="VOLUNTARY_RETURN",
        departure_date=expected_departure.isoformat(),
        departure_date_status="EXPECTED",
        **common,
    )
    left = b.departure(18)
    departure = b.event(left)
    b.expect_km1(
        "KM1_UPDATE",
        departure,
        type_of_return="VOLUNTARY_RETURN",
        departure_date=left.departed_at.date().isoformat(),
        departure_date_status="CONFIRMED",
        **common,
    )
    b.km2(
        1, left.departed_at.date(), (("Small business start-up", cash), ("Medical follow-up", "240.50")), "plan agreed"
    )
    b.later(2, "KM3_DELIVERY")
    stories.append(b.story())

    # 2. A referral before the decision: KM1 without administrative status; the decision brings it (KM1 update).
    b = _Builder("referral-before-decision", seed, base, config, member_state)
    referral = b.event(b.referral(consent=True, support=("EDUCATION",), departure=None))
    b.expect_creation(referral, ("EDUCATION",))
    before = {"type_of_return": "VOLUNTARY_RETURN", "assistance_needed": ["EDUCATION"], "assistance_granted": []}
    b.expect_km1("KM1_APPLICATION", referral, **before)
    decision = b.event(b.decision(m.LegalGround.REJECTED_APPLICATION))
    b.expect_km1("KM1_UPDATE", decision, administrative_status="REJECTED_ASYLUM_SEEKER", **before)
    b.event(b.decision(m.LegalGround.REJECTED_APPLICATION))  # the same decision again: nothing new for RIAT
    b.km2(1, (b.at + dt.timedelta(days=25)).date(), (("School fees", "600.00"),), None)
    stories.append(b.story())

    # 3. Consent never given: nothing leaves, whatever follows; the partner's status for it goes to review.
    b = _Builder("consent-refused", seed, base, config, member_state)
    b.event(b.decision(m.LegalGround.ILLEGAL_STAY))
    b.event(b.referral(consent=False, support=support, departure=(b.at + dt.timedelta(days=9)).date()))
    b.event(_granted(member_state, b.at.date(), "900.00"))
    b.event(b.departure(10))
    b.statuses.append(
        StatusSpec(
            {
                "status_id": f"ST-{uuid.uuid5(_NS, f'status:{seed}:refused').hex[:16]}",
                "referral_id": b.referral_id,
                "stage": "KM2_ARRIVAL_AND_PLAN",
                "reported_at": "2026-05-01T10:00:00.000Z",
                "arrival_date": "2026-04-20",
            },
            "review",
            "no referral known for this id",
        )
    )
    stories.append(b.story())

    # 4. Consent given later: the first referral sends nothing, the second creates the case.
    b = _Builder("consent-later", seed, base, config, member_state)
    b.event(b.referral(consent=False, support=("CASH",), departure=None))
    later = b.event(b.referral(consent=True, support=("CASH",), departure=None))
    b.expect_creation(later, ("CASH",))
    b.expect_km1(
        "KM1_APPLICATION",
        later,
        type_of_return="VOLUNTARY_RETURN",
        assistance_needed=["CASH"],
        assistance_granted=[],
    )
    stories.append(b.story())

    # 5. A duplicate referral: the second sends nothing.
    b = _Builder("duplicate-referral", seed, base, config, member_state)
    b.event(b.decision(m.LegalGround.PUBLIC_ORDER))  # a ground without a RIAT status: the field stays out
    first = b.event(b.referral(consent=True, support=("LEGAL", "PSYCHOSOCIAL"), departure=None))
    b.event(b.referral(consent=True, support=("LEGAL", "PSYCHOSOCIAL"), departure=None))
    b.expect_creation(first, ("LEGAL", "PSYCHOSOCIAL"))
    b.expect_km1(
        "KM1_APPLICATION",
        first,
        type_of_return="VOLUNTARY_RETURN",
        assistance_needed=["LEGAL", "PSYCHOSOCIAL"],
        assistance_granted=[],
    )
    b.km2(1, (b.at + dt.timedelta(days=12)).date(), (), None)
    stories.append(b.story())

    # 6. The feed also carries a stranger's status and a broken one.
    b = _Builder("feed-noise", seed, base, config, member_state)
    b.statuses.append(
        StatusSpec(
            {
                "status_id": f"ST-{uuid.uuid5(_NS, f'status:{seed}:stranger').hex[:16]}",
                "referral_id": f"RIAT-UNKNOWN-{seed}",
                "stage": "KM3_DELIVERY",
                "reported_at": "2026-05-02T10:00:00Z",
            },
            "review",
            "no referral known for this id",
        )
    )
    b.statuses.append(StatusSpec('{"status_id": "broken", ', "dead_letter", "not-json"))
    b.statuses.append(
        StatusSpec(
            {"status_id": "ST-bad-amount", "referral_id": "R", "stage": "KM2_ARRIVAL_AND_PLAN", "reported_at": "x"},
            "dead_letter",
            "schema-invalid",
        )
    )
    stories.append(b.story())
    return stories
