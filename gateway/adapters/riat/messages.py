"""The messages the gateway sends to RIAT: frozen values holding only what their whitelist lets through.

A field left at None (or, for a list, None rather than empty) is not whitelisted or not known, and the renderer leaves
it out. The lifecycle fills a field only when ``RiatConfig.allows`` it, so a message never holds more than may leave;
the renderer checks the whitelist once more before anything is written.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict

__all__ = ["Assistance", "CaseCreation", "Km1", "RiatIdentity", "RiatMessage"]

DepartureStatus = Literal["EXPECTED", "CONFIRMED"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Assistance(_Frozen):
    """One component of the return and reintegration assistance the Member State granted.

    Attributes:
        type: ``AssistanceType`` symbol.
        form: ``AssistanceForm`` symbol (cash or in kind).
        amount_eur: Amount in EUR as a decimal string with two decimals, or None without a money value.
    """

    type: str
    form: str
    amount_eur: str | None = None


class RiatIdentity(_Frozen):
    """The identity fields a deployment whitelisted for KM1 (none by default); empty or None: not sent.

    Lists are never None (empty instead): the state persists this model as Avro, where an optional array would be
    ambiguous.

    Attributes:
        surnames: Surname(s).
        forenames: Forename(s).
        date_of_birth: Date of birth as ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD`` (as precise as known).
        sex: ``Sex`` symbol.
        nationalities: Alpha-3 codes.
    """

    surnames: tuple[str, ...] = ()
    forenames: tuple[str, ...] = ()
    date_of_birth: str | None = None
    sex: str | None = None
    nationalities: tuple[str, ...] = ()


class _Envelope(_Frozen):
    referral_id: str
    member_state: str
    created_at: dt.datetime
    legal_basis: str


class CaseCreation(_Envelope):
    """Case creation: what RIAT's case needs to exist (cannot be edited afterwards).

    Attributes:
        kind: ``CASE_CREATION``.
        referral_id: The referral (RIAT case) id.
        member_state: The Member State that refers (envelope; also ``member_state_of_departure`` when whitelisted).
        created_at: When the gateway recorded the event that caused the message.
        legal_basis: The legal basis cited.
        country_of_return: Alpha-3 code.
        project: RIAT project.
        member_state_of_departure: EU country of departure.
        member_state_organisation: The organisation creating the case.
        reintegration_partner: The chosen partner.
        support_types: ``SupportType`` symbols.
    """

    kind: Literal["CASE_CREATION"] = "CASE_CREATION"
    country_of_return: str | None = None
    project: str | None = None
    member_state_of_departure: str | None = None
    member_state_organisation: str | None = None
    reintegration_partner: str | None = None
    support_types: tuple[str, ...] | None = None


class Km1(_Envelope):
    """Key Moment 1 (application), first sent or updated with later facts; a whole snapshot each time.

    Attributes:
        kind: ``KM1_APPLICATION`` or ``KM1_UPDATE``.
        referral_id: The referral (RIAT case) id.
        member_state: The Member State that refers.
        created_at: When the gateway recorded the event that caused the message.
        legal_basis: The legal basis cited.
        consent_obtained: Always True: a message exists only with consent.
        signed_consent: The signed consent sheet was obtained.
        family_size: Members of the return file, the returnee included.
        type_of_return: RIAT type of return (configured mapping).
        administrative_status: RIAT administrative status (configured mapping).
        departure_date: Expected or confirmed date of departure.
        departure_date_status: ``EXPECTED`` or ``CONFIRMED``.
        assistance_needed: ``SupportType`` symbols.
        assistance_granted: The components granted.
        vulnerability: Specific vulnerability.
        identity: Whitelisted identity fields, if any.
    """

    kind: Literal["KM1_APPLICATION", "KM1_UPDATE"]
    consent_obtained: bool = True
    signed_consent: bool | None = None
    family_size: int | None = None
    type_of_return: str | None = None
    administrative_status: str | None = None
    departure_date: dt.date | None = None
    departure_date_status: DepartureStatus | None = None
    assistance_needed: tuple[str, ...] | None = None
    assistance_granted: tuple[Assistance, ...] | None = None
    vulnerability: bool | None = None
    identity: RiatIdentity | None = None


RiatMessage = CaseCreation | Km1
"""A message for RIAT."""
