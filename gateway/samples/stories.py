"""Deterministic, realistic return-case stories, the common ground of every connector's sample data.

A story is one person's case as a chronological list of canonical ``Fact``s. Connectors render stories into
their national formats (``Connector.render``), so the facts of a story are exactly what a correct connector
must map the rendered records back to. Stories are valid under the validation rules' defaults: voluntary
departure of 7 to 30 days counted with both ends included, dates in the past, amounts with two decimals.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from gateway.connectors.base import Fact
from gateway.events import models as m

# Stories end well before the gateway's notion of "now", so that no date is in the future.
_START = dt.date(2025, 1, 6)
_SPAN_DAYS = 420

_NAMES: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    # nationality: (surnames, male forenames, female forenames)
    "MAR": (("EL AMRANI", "BENNANI", "OUAZZANI", "TAZI"), ("YOUSSEF", "HAMZA", "KARIM"), ("FATIMA", "SALMA", "NADIA")),
    "DZA": (("BOUZID", "HADDAD", "MANSOURI"), ("AMINE", "RIAD", "SOFIANE"), ("AMEL", "LINA", "SARAH")),
    "TUN": (("TRABELSI", "GHARBI", "JEBALI"), ("SAMI", "WALID", "ANIS"), ("IMEN", "RYM", "SONIA")),
    "AFG": (("AHMADI", "HAIDARI", "RAHIMI"), ("AHMAD", "FARID", "JAWAD"), ("MARYAM", "ZAHRA", "SHABNAM")),
    "IRQ": (("AL-JABOURI", "HUSSEIN", "KAREEM"), ("ALI", "MUSTAFA", "OMAR"), ("NOOR", "ZAINAB", "HIBA")),
    "NGA": (("OKAFOR", "ADEYEMI", "BELLO"), ("CHINEDU", "EMEKA", "TUNDE"), ("NGOZI", "AMAKA", "FOLAKE")),
    "GEO": (("BERIDZE", "KAPANADZE", "GELASHVILI"), ("GIORGI", "LEVAN", "DAVIT"), ("NINO", "TAMAR", "ANA")),
    "ALB": (("HOXHA", "SHEHU", "KOLA"), ("ARBEN", "ERION", "GENTI"), ("ELIRA", "BLERTA", "ARTA")),
    "XXA": (("DOE",), ("SAMIR",), ("LAYLA",)),  # stateless (ICAO 9303 XXA)
}
_PLACES = {
    "MAR": "Oujda",
    "DZA": "Oran",
    "TUN": "Sfax",
    "AFG": "Herat",
    "IRQ": "Mosul",
    "NGA": "Lagos",
    "GEO": "Kutaisi",
    "ALB": "Durres",
    "XXA": "Unknown",
}
_RETURN_COUNTRY = {"XXA": "MAR"}
_PARTNERS = ("Reintegration Partner Maghreb", "Caritas International", "ETTC", "IRARA", "OFII Partner Network")
_BCP = ("AMS-SCHIPHOL", "EIN-AIRPORT", "FRA-AIRPORT", "CDG-AIRPORT", "BRU-AIRPORT")


@dataclass(frozen=True, slots=True)
class CaseStory:
    """One person's case.

    Attributes:
        case_reference: National case reference.
        person_ref: National person identifier (digits only, so every format carries it unchanged).
        member_state: Member State that runs the case.
        identity: The person's identity block.
        facts: The case's facts in chronological order.
    """

    case_reference: str
    person_ref: str
    member_state: m.MemberState
    identity: m.Identity
    facts: tuple[Fact, ...]


def _at(day: dt.date, rng: random.Random) -> dt.datetime:
    # Office hours in UTC keep every local time far from midnight and from DST gaps, so dates never shift.
    return dt.datetime(day.year, day.month, day.day, rng.randint(7, 15), rng.choice((0, 15, 30, 45)), tzinfo=dt.UTC)


def _identity(rng: random.Random) -> m.Identity:
    nat = rng.choice(sorted(_NAMES))
    surnames, male, female = _NAMES[nat]
    sex = rng.choice((m.Sex.MALE, m.Sex.FEMALE))
    dob = dt.date(1965, 1, 1) + dt.timedelta(days=rng.randrange(365 * 45))
    roll = rng.random()
    if roll < 0.8:
        date_of_birth = m.PartialDate(year=dob.year, month=dob.month, day=dob.day, precision=m.DatePrecision.DAY)
    elif roll < 0.9:
        date_of_birth = m.PartialDate(year=dob.year, month=dob.month, precision=m.DatePrecision.MONTH)
    else:
        date_of_birth = m.PartialDate(year=dob.year, precision=m.DatePrecision.YEAR)
    document = None
    if nat != "XXA" and rng.random() < 0.7:
        issued = dt.date(2019, 1, 1) + dt.timedelta(days=rng.randrange(1500))
        document = m.TravelDocument(
            type=m.TravelDocumentType.PASSPORT,
            number=f"{rng.choice('ABCDEFGHKLMNPRSTUZ')}{rng.choice('ABCDEFGHKLMNPRSTUZ')}{rng.randrange(10**7):07d}",
            issuing_country=nat,
            issue_date=issued,
            expiry_date=issued + dt.timedelta(days=3652),  # ten years; replace(year=...) fails on 29 February
        )
    return m.Identity(
        surnames=(rng.choice(surnames),),
        forenames=(rng.choice(male if sex == m.Sex.MALE else female),),
        date_of_birth=date_of_birth,
        place_of_birth=_PLACES[nat],
        sex=sex,
        nationalities=(nat,),
        travel_document=document,
    )


def _money(rng: random.Random, low: int, high: int) -> Decimal:
    return Decimal(rng.randrange(low * 100, high * 100)) / 100


def _components(rng: random.Random) -> tuple[m.AssistanceComponent, ...]:
    return (
        m.AssistanceComponent(type=m.AssistanceType.COUNSELLING, form=m.AssistanceForm.IN_KIND),
        m.AssistanceComponent(
            type=m.AssistanceType.TRAVEL, form=m.AssistanceForm.IN_KIND, amount_eur=_money(rng, 150, 900)
        ),
        m.AssistanceComponent(
            type=m.AssistanceType.PRE_DEPARTURE_CASH, form=m.AssistanceForm.CASH, amount_eur=_money(rng, 100, 500)
        ),
        m.AssistanceComponent(
            type=m.AssistanceType.REINTEGRATION_IN_KIND,
            form=m.AssistanceForm.IN_KIND,
            amount_eur=_money(rng, 500, 3000),
        ),
    )


class _Builder:
    """Accumulates the facts of one story."""

    def __init__(self, case_reference: str, person_ref: str, rng: random.Random) -> None:
        self.case_reference, self.person_ref, self.rng = case_reference, person_ref, rng
        self.facts: list[Fact] = []

    def add(self, day: dt.date, payload: m.Payload) -> None:
        self.facts.append(Fact(self.case_reference, self.person_ref, _at(day, self.rng), payload))


def story(index: int, seed: int, member_state: m.MemberState = m.MemberState.NL) -> CaseStory:
    """The story with this index in the stream for ``seed``; the same arguments always give the same story."""
    rng = random.Random(f"{seed}:{member_state}:{index}")  # noqa: S311 - reproducible sample data, not secrets
    ident = _identity(rng)
    case_reference = f"{member_state}-{2025 + index % 2}-{index:07d}"
    person_ref = f"{rng.randrange(10**9, 10**10)}"
    b = _Builder(case_reference, person_ref, rng)
    nat = ident.nationalities[0]
    country = _RETURN_COUNTRY.get(nat, nat)
    decided = _START + dt.timedelta(days=rng.randrange(_SPAN_DAYS))
    decision_ref = f"RD-{member_state}-{index:07d}"
    programme = f"{member_state}-AVRR-2025"
    kind = index % 4

    if rng.random() < 0.5:
        b.add(
            decided - dt.timedelta(days=3),
            m.BiometricsCaptured(
                category=m.EurodacCategory.ILLEGAL_STAY,
                article="Art. 23(1)",
                registered_at=_at(decided - dt.timedelta(days=3), rng),
                biometrics_taken_on=decided - dt.timedelta(days=3),
                transmitted_at=_at(decided - dt.timedelta(days=2), rng),
                identity=ident,
            ),
        )
    shortened = kind == 2
    length = rng.randint(7, 30)
    first = decided + dt.timedelta(days=rng.randint(0, 2))
    last = first + dt.timedelta(days=length - 1)
    b.add(
        decided,
        m.ReturnDecisionIssued(
            decision_reference=decision_ref,
            decision_date=decided,
            issuing_authority=f"{member_state}-IMMIGRATION",
            legal_ground=rng.choice((m.LegalGround.ILLEGAL_STAY, m.LegalGround.REJECTED_APPLICATION)),
            country_of_return=country,
            voluntary_departure=m.VoluntaryDeparture(
                granted=False, shortened_ground=m.ShortPeriodGround.RISK_OF_ABSCONDING
            )
            if shortened
            else m.VoluntaryDeparture(granted=True, first_day=first, last_day=last, length_days=length),
            entry_ban=m.EntryBan(imposed=shortened, duration_days=730 if shortened else None),
            identity=ident,
        ),
    )

    if kind == 0:  # assisted voluntary return with reintegration
        applied = decided + dt.timedelta(days=1)
        granted = applied + dt.timedelta(days=rng.randint(1, 4))
        comps = _components(rng)
        b.add(
            applied,
            m.AssistanceApplied(
                programme_reference=programme,
                application_date=applied,
                stage=m.ProcedureStage.AFTER_RETURN_DECISION,
                components=comps,
            ),
        )
        b.add(
            granted,
            m.AssistanceGranted(
                programme_reference=programme,
                stage=m.ProcedureStage.AFTER_RETURN_DECISION,
                components=comps,
                granting_member_state=member_state,
                grant_date=granted,
                application_date=applied,
            ),
        )
        referral = f"RIAT-{member_state}-{index:07d}"
        budget = (m.BudgetLine(description="Business start-up kit", amount_eur=_money(rng, 500, 2000)),)
        # Within the period, and after the grant: an assisted departure needs its assistance granted first.
        departure = max(granted + dt.timedelta(days=1), last - dt.timedelta(days=rng.randint(0, 3)))
        b.add(
            granted,
            m.ReintegrationReferral(
                referral_id=referral,
                partner=rng.choice(_PARTNERS),
                country_of_return=country,
                consent_obtained=True,
                vulnerability=rng.random() < 0.2,
                family_size=rng.randint(1, 5),
                support_types=(m.SupportType.BUSINESS_START_UP, m.SupportType.JOB_COUNSELLING),
                stage=m.ReintegrationStage.KM1_APPLICATION,
                programme_reference=programme,
                expected_departure_date=departure,
                budget_lines=budget,
                identity=ident,
            ),
        )
        if rng.random() < 0.3:
            new_last = last + dt.timedelta(days=rng.randint(7, 21))
            b.add(
                last - dt.timedelta(days=2),
                m.VoluntaryDepartureExtended(
                    decision_reference=decision_ref,
                    new_last_day=new_last,
                    previous_last_day=last,
                    reason=m.ExtensionReason.CHILDREN_ATTENDING_SCHOOL,
                ),
            )
            departure = new_last - dt.timedelta(days=1)
        b.add(
            departure,
            m.DepartureConfirmed(
                departed_at=_at(departure, rng),
                border_crossing_point=rng.choice(_BCP),
                evidence=(m.DepartureEvidence.EES_EXIT_RECORD,),
                return_type=m.ReturnType.VOLUNTARY,
                assisted=True,
                destination_country=country,
                decision_reference=decision_ref,
            ),
        )
        b.add(
            departure + dt.timedelta(days=1),
            m.ReintegrationStatusChanged(
                referral_id=referral,
                stage=m.ReintegrationStage.KM2_ARRIVAL_AND_PLAN,
                arrival_date=departure + dt.timedelta(days=1),
                budget_lines=budget,
            ),
        )
    elif kind == 1:  # assistance refused after a Eurodac hit showing AVRR in another Member State; no return
        applied = decided + dt.timedelta(days=2)
        other = m.MemberState.BE if member_state != m.MemberState.BE else m.MemberState.DE
        b.add(
            applied,
            m.AssistanceApplied(
                programme_reference=programme,
                application_date=applied,
                stage=m.ProcedureStage.AFTER_RETURN_DECISION,
                components=_components(rng),
            ),
        )
        b.add(
            applied,
            m.EurodacHitReceived(
                hit_member_state=other,
                category=m.EurodacCategory.APPLICANT,
                article="Art. 15",
                hit_reference=f"{other}-{rng.randrange(10**6):06d}",
                avrr=m.AvrrRecord(
                    granted=True,
                    granting_member_state=other,
                    granted_on=applied - dt.timedelta(days=rng.randint(60, 400)),
                ),
            ),
        )
        b.add(
            applied + dt.timedelta(days=3),
            m.AssistanceRefused(
                programme_reference=programme,
                stage=m.ProcedureStage.AFTER_RETURN_DECISION,
                refusal_date=applied + dt.timedelta(days=3),
                reason=m.RefusalReason.ASSISTANCE_ALREADY_RECEIVED,
            ),
        )
        b.add(
            last + dt.timedelta(days=1),
            m.NonReturnRecorded(
                decision_reference=decision_ref, period_last_day=last, source=m.NonReturnSource.SIS_ART7_NOTIFICATION
            ),
        )
    elif kind == 2:  # no period granted, appeal suspends, then enforced return
        appeal = decided + dt.timedelta(days=5)
        b.add(
            appeal,
            m.ReturnDecisionStatusChanged(
                decision_reference=decision_ref,
                status=m.DecisionStatus.SUSPENDED,
                effective_date=appeal,
                appeal_lodged=True,
            ),
        )
        resumed = appeal + dt.timedelta(days=rng.randint(20, 60))
        b.add(
            resumed,
            m.ReturnDecisionStatusChanged(
                decision_reference=decision_ref, status=m.DecisionStatus.RESUMED, effective_date=resumed
            ),
        )
        removed = resumed + dt.timedelta(days=rng.randint(3, 20))
        b.add(
            removed,
            m.DepartureConfirmed(
                departed_at=_at(removed, rng),
                border_crossing_point=rng.choice(_BCP),
                evidence=(m.DepartureEvidence.NATIONAL_BORDER_CHECK,),
                return_type=m.ReturnType.ENFORCED,
                assisted=False,
                destination_country=country,
                decision_reference=decision_ref,
            ),
        )
    else:  # unassisted voluntary departure, later re-entry recorded by EES
        left = first + dt.timedelta(days=rng.randint(0, length - 1))
        b.add(
            left,
            m.DepartureConfirmed(
                departed_at=_at(left, rng),
                border_crossing_point=rng.choice(_BCP),
                evidence=(m.DepartureEvidence.EES_EXIT_RECORD, m.DepartureEvidence.SIS_ART6_CONFIRMATION),
                return_type=m.ReturnType.VOLUNTARY,
                assisted=False,
                destination_country=country,
                decision_reference=decision_ref,
            ),
        )
        back = left + dt.timedelta(days=rng.randint(30, 200))
        b.add(
            back,
            m.EntryRecorded(
                entered_at=_at(back, rng),
                border_crossing_point=rng.choice(_BCP),
                ees_record_reference=f"EES-{rng.randrange(10**8):08d}",
            ),
        )
    return CaseStory(case_reference, person_ref, member_state, ident, tuple(b.facts))


def stories(seed: int, member_state: m.MemberState = m.MemberState.NL, start: int = 0) -> Iterator[CaseStory]:
    """An endless, deterministic stream of stories."""
    index = start
    while True:
        yield story(index, seed, member_state)
        index += 1
