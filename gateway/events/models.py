"""Pydantic models of the canonical events. GENERATED from schemas/avro by ``gateway schemas codegen``: do not edit.

The Avro schemas are the source of truth; these models give Python code typed construction and validation.
Models are frozen; arrays are tuples. Enums are ``StrEnum`` so that their values are the Avro symbols.
"""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, ClassVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

AVRO_NAMESPACE = "eu.returns.gateway.v1"


class AvroModel(BaseModel):
    """Base of every generated record model."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    AVRO_NAME: ClassVar[str]


class AlertExemption(StrEnum):
    """The cases in which Reg. 2018/1860 Art. 3 lets a Member State enter no return alert."""

    DETAINED_UNTIL_REMOVAL = "DETAINED_UNTIL_REMOVAL"
    BORDER_IMMEDIATE_ENFORCEMENT = "BORDER_IMMEDIATE_ENFORCEMENT"
    UNKNOWN = "UNKNOWN"


class AssistanceForm(StrEnum):
    """Whether assistance is given in cash or in kind."""

    CASH = "CASH"
    IN_KIND = "IN_KIND"
    UNKNOWN = "UNKNOWN"


class AssistanceType(StrEnum):
    """Component of return and reintegration assistance."""

    COUNSELLING = "COUNSELLING"
    TRAVEL = "TRAVEL"
    PRE_DEPARTURE_CASH = "PRE_DEPARTURE_CASH"
    IN_KIND = "IN_KIND"
    REINTEGRATION_CASH = "REINTEGRATION_CASH"
    REINTEGRATION_IN_KIND = "REINTEGRATION_IN_KIND"
    MEDICAL = "MEDICAL"
    POST_ARRIVAL = "POST_ARRIVAL"
    UNKNOWN = "UNKNOWN"


class AvrrStatus(StrEnum):
    """State of the return and reintegration assistance a Eurodac dataset records (Reg. 2024/1358 Art. 16-17, point to be confirmed): applied for and still open, granted, refused, or withdrawn after a grant."""

    APPLIED = "APPLIED"
    GRANTED = "GRANTED"
    REFUSED = "REFUSED"
    WITHDRAWN = "WITHDRAWN"
    UNKNOWN = "UNKNOWN"


class DatePrecision(StrEnum):
    """How much of a partial date is known."""

    DAY = "DAY"
    MONTH = "MONTH"
    YEAR = "YEAR"
    UNKNOWN = "UNKNOWN"


class DecisionStatus(StrEnum):
    """Status of a return decision after a change. RESIDENCE_RIGHT_GRANTED: the person obtained a residence permit or right, which ends the decision's alert (SIS Art. 14). DETENTION_ENDED: a person detained until removal was released without removal, so the alert withheld under Art. 3 is due at once."""

    SUSPENDED = "SUSPENDED"
    ENFORCEMENT_POSTPONED = "ENFORCEMENT_POSTPONED"
    RESUMED = "RESUMED"
    WITHDRAWN = "WITHDRAWN"
    ANNULLED = "ANNULLED"
    UNKNOWN = "UNKNOWN"
    RESIDENCE_RIGHT_GRANTED = "RESIDENCE_RIGHT_GRANTED"
    DETENTION_ENDED = "DETENTION_ENDED"


class DepartureEvidence(StrEnum):
    """Evidence that the subject left the territory of the Member States."""

    EES_EXIT_RECORD = "EES_EXIT_RECORD"
    SIS_ART6_CONFIRMATION = "SIS_ART6_CONFIRMATION"
    CONSULAR_CONFIRMATION = "CONSULAR_CONFIRMATION"
    NATIONAL_BORDER_CHECK = "NATIONAL_BORDER_CHECK"
    OTHER = "OTHER"
    UNKNOWN = "UNKNOWN"


class EurodacCategory(StrEnum):
    """Eurodac category of person (Reg. 2024/1358)."""

    APPLICANT = "APPLICANT"
    RESETTLEMENT_ADMITTED = "RESETTLEMENT_ADMITTED"
    NATIONAL_RESETTLEMENT = "NATIONAL_RESETTLEMENT"
    IRREGULAR_CROSSING = "IRREGULAR_CROSSING"
    ILLEGAL_STAY = "ILLEGAL_STAY"
    SEARCH_AND_RESCUE = "SEARCH_AND_RESCUE"
    TEMPORARY_PROTECTION = "TEMPORARY_PROTECTION"
    UNKNOWN = "UNKNOWN"


class EventType(StrEnum):
    """Type of the event; mirrors the payload's record name."""

    RETURN_DECISION_ISSUED = "RETURN_DECISION_ISSUED"
    VOLUNTARY_DEPARTURE_EXTENDED = "VOLUNTARY_DEPARTURE_EXTENDED"
    RETURN_DECISION_STATUS_CHANGED = "RETURN_DECISION_STATUS_CHANGED"
    ASSISTANCE_APPLIED = "ASSISTANCE_APPLIED"
    ASSISTANCE_GRANTED = "ASSISTANCE_GRANTED"
    ASSISTANCE_REFUSED = "ASSISTANCE_REFUSED"
    REINTEGRATION_REFERRAL = "REINTEGRATION_REFERRAL"
    REINTEGRATION_STATUS_CHANGED = "REINTEGRATION_STATUS_CHANGED"
    DEPARTURE_CONFIRMED = "DEPARTURE_CONFIRMED"
    NON_RETURN_RECORDED = "NON_RETURN_RECORDED"
    EURODAC_HIT_RECEIVED = "EURODAC_HIT_RECEIVED"
    ENTRY_RECORDED = "ENTRY_RECORDED"
    BIOMETRICS_CAPTURED = "BIOMETRICS_CAPTURED"
    UNKNOWN = "UNKNOWN"


class ExtensionReason(StrEnum):
    """Reason for extending the voluntary-departure period (Directive 2008/115/EC Art. 7(2))."""

    LENGTH_OF_STAY = "LENGTH_OF_STAY"
    CHILDREN_ATTENDING_SCHOOL = "CHILDREN_ATTENDING_SCHOOL"
    FAMILY_AND_SOCIAL_LINKS = "FAMILY_AND_SOCIAL_LINKS"
    OTHER = "OTHER"
    UNKNOWN = "UNKNOWN"


class LegalGround(StrEnum):
    """Ground of the return decision."""

    ILLEGAL_STAY = "ILLEGAL_STAY"
    IRREGULAR_ENTRY = "IRREGULAR_ENTRY"
    REJECTED_APPLICATION = "REJECTED_APPLICATION"
    PERMIT_WITHDRAWN_OR_EXPIRED = "PERMIT_WITHDRAWN_OR_EXPIRED"
    PUBLIC_ORDER = "PUBLIC_ORDER"
    OTHER = "OTHER"
    UNKNOWN = "UNKNOWN"


class MemberState(StrEnum):
    """A Member State bound by the instruments: the EU 27 and the Schengen-associated IS, LI, NO, CH (ISO 3166-1 alpha-2; Greece is GR, not EL)."""

    AT = "AT"
    BE = "BE"
    BG = "BG"
    HR = "HR"
    CY = "CY"
    CZ = "CZ"
    DK = "DK"
    EE = "EE"
    FI = "FI"
    FR = "FR"
    DE = "DE"
    GR = "GR"
    HU = "HU"
    IE = "IE"
    IT = "IT"
    LV = "LV"
    LT = "LT"
    LU = "LU"
    MT = "MT"
    NL = "NL"
    PL = "PL"
    PT = "PT"
    RO = "RO"
    SK = "SK"
    SI = "SI"
    ES = "ES"
    SE = "SE"
    IS = "IS"
    LI = "LI"
    NO = "NO"
    CH = "CH"
    UNKNOWN = "UNKNOWN"


class NonReturnSource(StrEnum):
    """How the non-return came to light: CS-SIS's notification (Art. 7(1) Reg. 2018/1860), a national check, or the gateway's own departure-deadline monitor (the period ended with no departure recorded)."""

    SIS_ART7_NOTIFICATION = "SIS_ART7_NOTIFICATION"
    NATIONAL_CHECK = "NATIONAL_CHECK"
    UNKNOWN = "UNKNOWN"
    MONITOR = "MONITOR"


class ProcedureStage(StrEnum):
    """Stage of the procedure at which assistance is offered (RRAI)."""

    ASYLUM_PROCEDURE = "ASYLUM_PROCEDURE"
    AFTER_NEGATIVE_ASYLUM_DECISION = "AFTER_NEGATIVE_ASYLUM_DECISION"
    AFTER_RETURN_DECISION = "AFTER_RETURN_DECISION"
    DETENTION = "DETENTION"
    IRREGULAR_STAY = "IRREGULAR_STAY"
    OTHER = "OTHER"
    UNKNOWN = "UNKNOWN"


class RefusalReason(StrEnum):
    """Why assistance was refused."""

    NOT_ELIGIBLE = "NOT_ELIGIBLE"
    ASSISTANCE_ALREADY_RECEIVED = "ASSISTANCE_ALREADY_RECEIVED"
    WITHDRAWN_BY_APPLICANT = "WITHDRAWN_BY_APPLICANT"
    ABSCONDED = "ABSCONDED"
    OTHER = "OTHER"
    UNKNOWN = "UNKNOWN"


class ReintegrationStage(StrEnum):
    """Key moment of a RIAT reintegration case."""

    CASE_REGISTRATION = "CASE_REGISTRATION"
    KM1_APPLICATION = "KM1_APPLICATION"
    KM2_ARRIVAL_AND_PLAN = "KM2_ARRIVAL_AND_PLAN"
    KM3_DELIVERY = "KM3_DELIVERY"
    KM4_CLOSURE = "KM4_CLOSURE"
    REJECTED = "REJECTED"
    CANCELLED = "CANCELLED"
    UNKNOWN = "UNKNOWN"


class ReturnType(StrEnum):
    """Type of return (Eurostat, COM(2021) 120 footnote 1)."""

    VOLUNTARY = "VOLUNTARY"
    ENFORCED = "ENFORCED"
    UNKNOWN = "UNKNOWN"


class SecurityGround(StrEnum):
    """Allowed ground for the Eurodac security flag (Reg. 2024/1358 recital on security checks)."""

    VIOLENT = "VIOLENT"
    UNLAWFULLY_ARMED = "UNLAWFULLY_ARMED"
    TERRORIST_OFFENCE = "TERRORIST_OFFENCE"
    EAW_LISTED_OFFENCE = "EAW_LISTED_OFFENCE"
    UNKNOWN = "UNKNOWN"


class Severity(StrEnum):
    """Severity of a validation finding: an ERROR sends the record to the dead-letter queue; a WARNING travels with the event."""

    WARNING = "WARNING"
    ERROR = "ERROR"
    UNKNOWN = "UNKNOWN"


class Sex(StrEnum):
    """Sex as recorded in the travel document (ICAO 9303: M, F, X = unspecified)."""

    MALE = "MALE"
    FEMALE = "FEMALE"
    UNSPECIFIED = "UNSPECIFIED"
    UNKNOWN = "UNKNOWN"


class ShortPeriodGround(StrEnum):
    """Ground under Return Directive Art. 7(4) for granting no period for voluntary departure or one shorter than the minimum."""

    RISK_OF_ABSCONDING = "RISK_OF_ABSCONDING"
    MANIFESTLY_UNFOUNDED_OR_FRAUDULENT_APPLICATION = "MANIFESTLY_UNFOUNDED_OR_FRAUDULENT_APPLICATION"
    PUBLIC_POLICY_OR_SECURITY_RISK = "PUBLIC_POLICY_OR_SECURITY_RISK"
    UNKNOWN = "UNKNOWN"


class SupportType(StrEnum):
    """Type of reintegration support (RIAT)."""

    ACCOMMODATION = "ACCOMMODATION"
    MEDICAL_CARE = "MEDICAL_CARE"
    EDUCATION = "EDUCATION"
    JOB_COUNSELLING = "JOB_COUNSELLING"
    BUSINESS_START_UP = "BUSINESS_START_UP"
    PSYCHOSOCIAL = "PSYCHOSOCIAL"
    LEGAL = "LEGAL"
    FAMILY_REUNIFICATION = "FAMILY_REUNIFICATION"
    CASH = "CASH"
    OTHER = "OTHER"
    UNKNOWN = "UNKNOWN"


class TravelDocumentType(StrEnum):
    """Type of identity or travel document (ICAO 9303 document codes P, I, A, C, V and national extensions)."""

    PASSPORT = "PASSPORT"
    IDENTITY_CARD = "IDENTITY_CARD"
    REFUGEE_TRAVEL_DOCUMENT = "REFUGEE_TRAVEL_DOCUMENT"
    STATELESS_TRAVEL_DOCUMENT = "STATELESS_TRAVEL_DOCUMENT"
    LAISSEZ_PASSER = "LAISSEZ_PASSER"
    RESIDENCE_PERMIT = "RESIDENCE_PERMIT"
    VISA = "VISA"
    OTHER = "OTHER"
    UNKNOWN = "UNKNOWN"


class WarningMarker(StrEnum):
    """SIS warning markers (Reg. 2018/1860 Art. 4(1)(i))."""

    ARMED = "ARMED"
    VIOLENT = "VIOLENT"
    ABSCONDED_OR_ESCAPED = "ABSCONDED_OR_ESCAPED"
    RISK_OF_SUICIDE = "RISK_OF_SUICIDE"
    PUBLIC_HEALTH_THREAT = "PUBLIC_HEALTH_THREAT"
    TERRORIST_ACTIVITY = "TERRORIST_ACTIVITY"
    UNKNOWN = "UNKNOWN"


class AssistanceComponent(AvroModel):
    """One component of an assistance package."""

    AVRO_NAME: ClassVar[str] = "eu.returns.gateway.v1.AssistanceComponent"
    type: AssistanceType = Field(..., description="Component type.")
    form: AssistanceForm = Field(..., description="Cash or in kind.")
    amount_eur: Annotated[Decimal, Field(max_digits=12, decimal_places=2)] | None = Field(None, description="Amount in EUR (two decimals); null for components without a money value.")


class AssistanceApplied(AvroModel):
    """The subject applied for return and reintegration assistance."""

    AVRO_NAME: ClassVar[str] = "eu.returns.gateway.v1.AssistanceApplied"
    programme_reference: str = Field(..., description="Programme reference as listed in the RRAI.")
    application_date: datetime.date = Field(..., description="Date of application.")
    stage: ProcedureStage = Field(..., description="Stage of procedure.")
    components: tuple[AssistanceComponent, ...] = Field((), description="Components applied for.")


class AssistanceGranted(AvroModel):
    """Return and reintegration assistance was granted: the Eurodac AVRR element (Reg. 2024/1358 Art. 16-17, point to be confirmed)."""

    AVRO_NAME: ClassVar[str] = "eu.returns.gateway.v1.AssistanceGranted"
    programme_reference: str = Field(..., description="Programme reference as listed in the RRAI.")
    stage: ProcedureStage = Field(..., description="Stage of procedure.")
    components: tuple[AssistanceComponent, ...] = Field((), description="Components granted.")
    granting_member_state: MemberState = Field(..., description="Member State that granted the assistance.")
    grant_date: datetime.date = Field(..., description="Date the assistance was granted.")
    application_date: datetime.date | None = Field(None, description="Date of the application.")


class AssistanceRefused(AvroModel):
    """An application for return and reintegration assistance was refused."""

    AVRO_NAME: ClassVar[str] = "eu.returns.gateway.v1.AssistanceRefused"
    programme_reference: str = Field(..., description="Programme reference as listed in the RRAI.")
    stage: ProcedureStage = Field(..., description="Stage of procedure.")
    refusal_date: datetime.date = Field(..., description="Date of refusal.")
    reason: RefusalReason = Field(..., description="Reason.")
    reason_text: str | None = Field(None, description="Free-text explanation.")


class AvrrRecord(AvroModel):
    """The Eurodac element recording that return and reintegration assistance was granted (Reg. 2024/1358 Art. 16-17, point to be confirmed)."""

    AVRO_NAME: ClassVar[str] = "eu.returns.gateway.v1.AvrrRecord"
    granted: bool = Field(..., description="Assistance was granted.")
    granting_member_state: MemberState = Field(..., description="Member State that granted it.")
    granted_on: datetime.date | None = Field(None, description="Date it was granted, where recorded.")
    status: AvrrStatus | None = Field(None, description="What the element records: an open application, a grant, a refusal or a withdrawal. Null in data written before it existed: read `granted` (true: GRANTED; false: not granted, open or refused unknown).")


class PartialDate(AvroModel):
    """A date of which only part may be known (ICAO 9303 allows unknown day or month). Unknown parts are null and `precision` says so."""

    AVRO_NAME: ClassVar[str] = "eu.returns.gateway.v1.PartialDate"
    year: int | None = Field(None, description="Year, null when entirely unknown.")
    month: int | None = Field(None, description="Month 1-12, null when unknown.")
    day: int | None = Field(None, description="Day of month, null when unknown.")
    precision: DatePrecision = Field(..., description="The finest part that is known.")


class TravelDocument(AvroModel):
    """An identity or travel document (Eurodac Art. 17(1)(i); SIS 2018/1860 Art. 4(1)(q)-(t); EES Art. 16(1))."""

    AVRO_NAME: ClassVar[str] = "eu.returns.gateway.v1.TravelDocument"
    type: TravelDocumentType = Field(..., description="Document type.")
    number: str = Field(..., description="Document number.")
    issuing_country: str = Field(..., description="Three-letter code of the issuing State (ISO 3166-1 alpha-3 or ICAO 9303).")
    issue_date: datetime.date | None = Field(None, description="Date of issue.")
    expiry_date: datetime.date | None = Field(None, description="Expiry date.")


class Identity(AvroModel):
    """The subject's identity block (Eurodac Art. 17(1)(c)-(i); SIS 2018/1860 Art. 4(1)(a)-(h)). Carried only by events whose outbound target needs it."""

    AVRO_NAME: ClassVar[str] = "eu.returns.gateway.v1.Identity"
    surnames: tuple[str, ...] = Field((), description="Surname(s).")
    forenames: tuple[str, ...] = Field((), description="Forename(s).")
    names_at_birth: tuple[str, ...] = Field((), description="Name(s) at birth.")
    aliases: tuple[str, ...] = Field((), description="Previously used names and aliases.")
    date_of_birth: PartialDate = Field(..., description="Date of birth, possibly partial.")
    place_of_birth: str | None = Field(None, description="Place of birth as free text.")
    sex: Sex = Field(..., description="Sex.")
    nationalities: tuple[str, ...] = Field((), description="Nationalities held: ISO 3166-1 alpha-3 or ICAO 9303 codes (XXA stateless, XXB/XXC refugee, XXX unspecified).")
    travel_document: TravelDocument | None = Field(None, description="Identity or travel document, where available.")


class BiometricsCaptured(AvroModel):
    """Biometric data were taken for a Eurodac category; the dataset is to be transmitted (Reg. 2024/1358 Art. 15, 22, 23, 24, 26)."""

    AVRO_NAME: ClassVar[str] = "eu.returns.gateway.v1.BiometricsCaptured"
    category: EurodacCategory = Field(..., description="Eurodac category.")
    article: str = Field(..., description="Article of collection, e.g. 'Art. 22(1)'.")
    registered_at: AwareDatetime = Field(..., description="Registration of the application or beneficiary, or apprehension (UTC).")
    biometrics_taken_on: datetime.date = Field(..., description="Date biometric data were taken (Art. 17(1)(l)).")
    transmitted_at: AwareDatetime | None = Field(None, description="Date and time of transmission to Eurodac (Art. 17(1)(m)).")
    security_grounds: tuple[SecurityGround, ...] = Field((), description="Grounds of the security flag; empty when not flagged.")
    identity: Identity = Field(..., description="Identity block (needed by the Eurodac dataset).")


class BudgetLine(AvroModel):
    """A row of the reintegration plan's budget (RIAT KM2)."""

    AVRO_NAME: ClassVar[str] = "eu.returns.gateway.v1.BudgetLine"
    description: str = Field(..., description="Short description.")
    amount_eur: Annotated[Decimal, Field(max_digits=12, decimal_places=2)] = Field(..., description="Budgeted amount in EUR.")


class Source(AvroModel):
    """The connector that produced the event."""

    AVRO_NAME: ClassVar[str] = "eu.returns.gateway.v1.Source"
    connector: str = Field(..., description="Connector name as registered in the `gateway.connectors` entry-point group.")
    version: str = Field(..., description="Connector distribution version.")


class ValidationFinding(AvroModel):
    """A validation rule's finding carried on the event."""

    AVRO_NAME: ClassVar[str] = "eu.returns.gateway.v1.ValidationFinding"
    rule_id: str = Field(..., description="Stable rule id, e.g. VD-001.")
    severity: Severity = Field(..., description="Severity.")
    path: str = Field(..., description="Field path the finding is about.")
    message: str = Field(..., description="Message for a national operator.")
    legal_reference: str = Field(..., description="Instrument, article, paragraph or point.")


class VoluntaryDeparture(AvroModel):
    """The period for voluntary departure (Directive 2008/115/EC Art. 7; SIS 2018/1860 Art. 4(1)(x))."""

    AVRO_NAME: ClassVar[str] = "eu.returns.gateway.v1.VoluntaryDeparture"
    granted: bool = Field(..., description="Whether a period for voluntary departure was granted.")
    first_day: datetime.date | None = Field(None, description="First day of the period.")
    last_day: datetime.date | None = Field(None, description="Last day of the period; SIS Art. 4(1)(x).")
    length_days: int | None = Field(None, description="Length of the period in days, as decided.")
    shortened_ground: ShortPeriodGround | None = Field(None, description="Art. 7(4) ground when no period or a shorter one is granted.")


class EntryBan(AvroModel):
    """An entry ban accompanying the return decision (Directive 2008/115/EC Art. 11; SIS Art. 4(1)(z))."""

    AVRO_NAME: ClassVar[str] = "eu.returns.gateway.v1.EntryBan"
    imposed: bool = Field(..., description="Whether an entry ban was imposed.")
    duration_days: int | None = Field(None, description="Duration of the ban in days.")


class ReturnDecisionIssued(AvroModel):
    """A return decision was issued (Directive 2008/115/EC Art. 6). Feeds the SIS return alert (Reg. 2018/1860 Art. 3-4) and statistics."""

    AVRO_NAME: ClassVar[str] = "eu.returns.gateway.v1.ReturnDecisionIssued"
    decision_reference: str = Field(..., description="Reference of the decision giving rise to the alert (SIS Art. 4(1)(l)).")
    decision_date: datetime.date = Field(..., description="Date of the decision.")
    issuing_authority: str = Field(..., description="Authority that issued the decision.")
    legal_ground: LegalGround = Field(..., description="Ground of the decision.")
    country_of_return: str | None = Field(None, description="Country of return, ISO 3166-1 alpha-3.")
    voluntary_departure: VoluntaryDeparture = Field(..., description="Voluntary-departure period.")
    entry_ban: EntryBan = Field(..., description="Entry ban.")
    suspended: bool = Field(False, description="The decision is suspended, including because an appeal was lodged (SIS Art. 4(1)(y)).")
    enforcement_postponed: bool = Field(False, description="Enforcement is postponed (SIS Art. 4(1)(y), Directive 2008/115/EC Art. 9).")
    public_security_threat: bool = Field(False, description="The person is a threat to public policy, public security or national security (SIS Art. 4(1)(o)).")
    warning_markers: tuple[WarningMarker, ...] = Field((), description="SIS warning markers.")
    alert_exemption: AlertExemption | None = Field(None, description="Why no SIS return alert is entered for this decision, if that is so (Reg. 2018/1860 Art. 3(2)): the person is detained until removal, or the decision was issued at the external border and enforced immediately. Null: an alert is due.")
    unaccompanied_minor: bool = Field(False, description="The person is an unaccompanied minor (Eurostat return statistics break unaccompanied minors out: Reg. 862/2007 Art. 7 as amended by Reg. 2020/851).")
    identity: Identity = Field(..., description="Identity block (needed by the SIS alert).")


class VoluntaryDepartureExtended(AvroModel):
    """The voluntary-departure period was extended (Directive 2008/115/EC Art. 7(2); SIS Art. 3(4))."""

    AVRO_NAME: ClassVar[str] = "eu.returns.gateway.v1.VoluntaryDepartureExtended"
    decision_reference: str = Field(..., description="Reference of the return decision.")
    new_last_day: datetime.date = Field(..., description="New last day of the period.")
    previous_last_day: datetime.date | None = Field(None, description="Last day before the extension.")
    reason: ExtensionReason = Field(..., description="Reason for the extension.")
    reason_text: str | None = Field(None, description="Free-text explanation.")


class ReturnDecisionStatusChanged(AvroModel):
    """The return decision was suspended, its enforcement postponed or resumed, or it was withdrawn or annulled (SIS Art. 3(5), Art. 14)."""

    AVRO_NAME: ClassVar[str] = "eu.returns.gateway.v1.ReturnDecisionStatusChanged"
    decision_reference: str = Field(..., description="Reference of the return decision.")
    status: DecisionStatus = Field(..., description="New status.")
    effective_date: datetime.date = Field(..., description="Date from which the status applies.")
    appeal_lodged: bool = Field(False, description="The change follows an appeal.")
    reason_text: str | None = Field(None, description="Free-text explanation.")


class ReintegrationReferral(AvroModel):
    """A return counsellor referred the subject to a reintegration partner (RIAT case creation and KM1)."""

    AVRO_NAME: ClassVar[str] = "eu.returns.gateway.v1.ReintegrationReferral"
    referral_id: str = Field(..., description="Referral (RIAT case) id.")
    partner: str = Field(..., description="Reintegration partner.")
    country_of_return: str = Field(..., description="Country of return, ISO 3166-1 alpha-3.")
    consent_obtained: bool = Field(..., description="The returnee's signed consent was obtained.")
    vulnerability: bool = Field(..., description="The returnee has a specific vulnerability.")
    family_size: int = Field(..., description="Number of family members in the return file, the returnee included.")
    support_types: tuple[SupportType, ...] = Field((), description="Types of support.")
    stage: ReintegrationStage = Field(..., description="Key-moment stage.")
    programme_reference: str | None = Field(None, description="Programme reference as listed in the RRAI.")
    expected_departure_date: datetime.date | None = Field(None, description="Expected or confirmed date of departure.")
    arrival_date: datetime.date | None = Field(None, description="Date of arrival in the country of return.")
    budget_lines: tuple[BudgetLine, ...] = Field((), description="Budget lines of the reintegration plan.")
    identity: Identity | None = Field(None, description="Identity block (RIAT needs the applicant's identity).")


class ReintegrationStatusChanged(AvroModel):
    """A RIAT reintegration case moved to another key moment."""

    AVRO_NAME: ClassVar[str] = "eu.returns.gateway.v1.ReintegrationStatusChanged"
    referral_id: str = Field(..., description="Referral (RIAT case) id.")
    stage: ReintegrationStage = Field(..., description="New key-moment stage.")
    arrival_date: datetime.date | None = Field(None, description="Confirmed date of arrival (KM2).")
    budget_lines: tuple[BudgetLine, ...] = Field((), description="Budget lines of the reintegration plan.")
    note: str | None = Field(None, description="Free-text note.")


class DepartureConfirmed(AvroModel):
    """The subject left: EES exit record (Reg. 2017/2226 Art. 16), SIS confirmation of return (Reg. 2018/1860 Art. 6) or other evidence."""

    AVRO_NAME: ClassVar[str] = "eu.returns.gateway.v1.DepartureConfirmed"
    departed_at: AwareDatetime = Field(..., description="Date and time of exit (UTC).")
    border_crossing_point: str | None = Field(None, description="Border crossing point of exit.")
    evidence: tuple[DepartureEvidence, ...] = Field((), description="Evidence of departure.")
    return_type: ReturnType = Field(..., description="Voluntary or enforced.")
    assisted: bool = Field(..., description="Whether the return was assisted.")
    destination_country: str | None = Field(None, description="Country of destination, ISO 3166-1 alpha-3.")
    decision_reference: str | None = Field(None, description="Reference of the return decision complied with.")
    dublin_transfer: bool = Field(False, description="The departure is a transfer to the Member State responsible (Dublin / Reg. 2024/1351), not a return: Eurostat return statistics exclude it.")


class NonReturnRecorded(AvroModel):
    """The voluntary-departure period ended with no departure (Reg. 2018/1860 Art. 7(1))."""

    AVRO_NAME: ClassVar[str] = "eu.returns.gateway.v1.NonReturnRecorded"
    decision_reference: str = Field(..., description="Reference of the return decision.")
    period_last_day: datetime.date = Field(..., description="Last day of the period, extensions included.")
    source: NonReturnSource = Field(..., description="How the non-return was established.")


class EurodacHitReceived(AvroModel):
    """A Eurodac comparison matched another Member State's dataset (Reg. 2024/1358 Art. 40 hit)."""

    AVRO_NAME: ClassVar[str] = "eu.returns.gateway.v1.EurodacHitReceived"
    hit_member_state: MemberState = Field(..., description="Member State of origin of the matched dataset.")
    category: EurodacCategory = Field(..., description="Category of the matched dataset.")
    article: str = Field(..., description="Article under which the matched dataset was recorded, e.g. 'Art. 22'.")
    hit_reference: str = Field(..., description="The other Member State's reference number (Art. 17(1)(k)).")
    avrr: AvrrRecord | None = Field(None, description="AVRR element of the matched dataset, if any.")


class EntryRecorded(AvroModel):
    """An EES entry record (Reg. 2017/2226 Art. 16(2))."""

    AVRO_NAME: ClassVar[str] = "eu.returns.gateway.v1.EntryRecorded"
    entered_at: AwareDatetime = Field(..., description="Date and time of entry (UTC).")
    border_crossing_point: str = Field(..., description="Border crossing point of entry.")
    ees_record_reference: str | None = Field(None, description="EES record reference.")


class CaseEvent(AvroModel):
    """The canonical return-case event: one message on the canonical topic, keyed by `subject_key`."""

    AVRO_NAME: ClassVar[str] = "eu.returns.gateway.v1.CaseEvent"
    event_id: uuid.UUID = Field(..., description="Unique event id.")
    event_type: EventType = Field(..., description="Event type; matches the payload.")
    occurred_at: AwareDatetime = Field(..., description="When the fact happened (UTC).")
    recorded_at: AwareDatetime = Field(..., description="When the gateway recorded it (UTC).")
    member_state: MemberState = Field(..., description="Member State whose system is the source.")
    source: Source = Field(..., description="Connector that produced the event.")
    case_reference: str = Field(..., description="National reference number (Eurodac Art. 17(1)(k)).")
    subject_key: str = Field(..., description="Pseudonymous subject key; the Kafka message key, so one person's events stay in order.")
    correlation_id: str = Field(..., description="Correlates events of one ingest or replay.")
    validation_warnings: tuple[ValidationFinding, ...] = Field((), description="Warnings found by validation.")
    payload: ReturnDecisionIssued | VoluntaryDepartureExtended | ReturnDecisionStatusChanged | AssistanceApplied | AssistanceGranted | AssistanceRefused | ReintegrationReferral | ReintegrationStatusChanged | DepartureConfirmed | NonReturnRecorded | EurodacHitReceived | EntryRecorded | BiometricsCaptured = Field(..., description="The fact.")

    @model_validator(mode="before")
    @classmethod
    def _resolve_payload(cls, data: Any) -> Any:
        """Build the ``payload`` union branch from an Avro (name, record) pair or event_type."""
        return _resolve_union(data, "payload", _CASEEVENT_PAYLOAD)

    @model_validator(mode="after")
    def _check_event_type(self) -> CaseEvent:
        """The event type must name the payload's type."""
        expected = EVENT_TYPE_OF[type(self.payload)]
        if self.event_type != expected:
            raise ValueError(f"event_type {self.event_type} does not match payload {expected}")
        return self


_CASEEVENT_PAYLOAD: dict[str, type[AvroModel]] = {
    "ReturnDecisionIssued": ReturnDecisionIssued,
    "VoluntaryDepartureExtended": VoluntaryDepartureExtended,
    "ReturnDecisionStatusChanged": ReturnDecisionStatusChanged,
    "AssistanceApplied": AssistanceApplied,
    "AssistanceGranted": AssistanceGranted,
    "AssistanceRefused": AssistanceRefused,
    "ReintegrationReferral": ReintegrationReferral,
    "ReintegrationStatusChanged": ReintegrationStatusChanged,
    "DepartureConfirmed": DepartureConfirmed,
    "NonReturnRecorded": NonReturnRecorded,
    "EurodacHitReceived": EurodacHitReceived,
    "EntryRecorded": EntryRecorded,
    "BiometricsCaptured": BiometricsCaptured,
}


Payload = ReturnDecisionIssued | VoluntaryDepartureExtended | ReturnDecisionStatusChanged | AssistanceApplied | AssistanceGranted | AssistanceRefused | ReintegrationReferral | ReintegrationStatusChanged | DepartureConfirmed | NonReturnRecorded | EurodacHitReceived | EntryRecorded | BiometricsCaptured

EVENT_TYPE_OF: dict[type[AvroModel], EventType] = {
    ReturnDecisionIssued: EventType.RETURN_DECISION_ISSUED,
    VoluntaryDepartureExtended: EventType.VOLUNTARY_DEPARTURE_EXTENDED,
    ReturnDecisionStatusChanged: EventType.RETURN_DECISION_STATUS_CHANGED,
    AssistanceApplied: EventType.ASSISTANCE_APPLIED,
    AssistanceGranted: EventType.ASSISTANCE_GRANTED,
    AssistanceRefused: EventType.ASSISTANCE_REFUSED,
    ReintegrationReferral: EventType.REINTEGRATION_REFERRAL,
    ReintegrationStatusChanged: EventType.REINTEGRATION_STATUS_CHANGED,
    DepartureConfirmed: EventType.DEPARTURE_CONFIRMED,
    NonReturnRecorded: EventType.NON_RETURN_RECORDED,
    EurodacHitReceived: EventType.EURODAC_HIT_RECEIVED,
    EntryRecorded: EventType.ENTRY_RECORDED,
    BiometricsCaptured: EventType.BIOMETRICS_CAPTURED,
}
PAYLOAD_OF_EVENT_TYPE: dict[str, type[AvroModel]] = {str(v): k for k, v in EVENT_TYPE_OF.items()}


def _resolve_union(data: Any, field: str, members: dict[str, type[AvroModel]]) -> Any:
    """Turn a union value given as ``(avro name, dict)`` or as a dict beside ``event_type`` into its model."""
    if not isinstance(data, dict) or field not in data:
        return data
    value = data[field]
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], str):
        name, body = value
        return {**data, field: members[name.rsplit(".", 1)[-1]].model_validate(body)}
    if isinstance(value, dict) and "event_type" in data:
        model = PAYLOAD_OF_EVENT_TYPE.get(str(data["event_type"]))
        if model is not None:
            return {**data, field: model.model_validate(value)}
    return data
