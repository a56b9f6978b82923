"""Configuration of the RIAT referrals (Reintegration Assistance Tool, SWD(2021) 121 Section II), checked at start-up.

RIAT's own code lists (type of return, administrative status) were seen only in part in the user guides: the
mappings here are configuration, and their defaults say "(to be confirmed)" where they guess. What leaves for RIAT is
a whitelist per message kind (`RiatConfig.fields`); a field not on it never leaves, whatever the event carries.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from gateway.events.models import LegalGround, ReturnType

__all__ = [
    "CASE_CREATION_FIELDS",
    "IDENTITY_FIELDS",
    "KM1_FIELDS",
    "KM1_REQUIRED",
    "LegalBasisTexts",
    "MessageKind",
    "RiatConfig",
]

TO_BE_CONFIRMED = "(to be confirmed)"

MessageKind = Literal["CASE_CREATION", "KM1_APPLICATION", "KM1_UPDATE"]
"""The messages the gateway sends to RIAT: the case's creation, its Key Moment 1, and a later KM1 with new facts."""

CASE_CREATION_FIELDS: tuple[str, ...] = (
    "country_of_return",
    "project",
    "member_state_of_departure",
    "member_state_organisation",
    "reintegration_partner",
    "support_types",
)
"""Every field case creation can carry (RIAT user guide: it cannot be edited afterwards)."""

IDENTITY_FIELDS: tuple[str, ...] = (
    "identity.surnames",
    "identity.forenames",
    "identity.date_of_birth",
    "identity.sex",
    "identity.nationalities",
)
"""Identity fields KM1 can carry when a deployment whitelists them; none is sent by default (the ID document
itself is uploaded to RIAT encrypted by the counsellor, never through the gateway)."""

KM1_FIELDS: tuple[str, ...] = (
    "consent_obtained",
    "signed_consent",
    "family_size",
    "type_of_return",
    "administrative_status",
    "departure_date",
    "departure_date_status",
    "assistance_needed",
    "assistance_granted",
    "vulnerability",
    *IDENTITY_FIELDS,
)
"""Every field KM1 (and its updates) can carry."""

KM1_REQUIRED: tuple[str, ...] = ("consent_obtained",)
"""Fields KM1 always carries: RIAT processing rests on the returnee's consent, so the partner must see it."""

DEFAULT_KM1_FIELDS: tuple[str, ...] = tuple(f for f in KM1_FIELDS if f not in IDENTITY_FIELDS)

DEFAULT_ADMINISTRATIVE_STATUS: dict[LegalGround, str] = {
    LegalGround.REJECTED_APPLICATION: "REJECTED_ASYLUM_SEEKER",
    LegalGround.ILLEGAL_STAY: "IRREGULAR_STAY",
    LegalGround.IRREGULAR_ENTRY: "IRREGULAR_STAY",
    LegalGround.PERMIT_WITHDRAWN_OR_EXPIRED: "IRREGULAR_STAY",
}
"""Administrative status per ground of the return decision (RIAT's list not seen whole; to be confirmed). A ground
without an entry leaves the field out rather than send "regular" or "don't know", which EURP does not allow."""

DEFAULT_TYPE_OF_RETURN: dict[ReturnType, str] = {
    ReturnType.VOLUNTARY: "VOLUNTARY_RETURN",
    ReturnType.ENFORCED: "FORCED_RETURN",
}
"""Type of return per canonical return type once the departure is confirmed (to be confirmed)."""


DEFAULT_FIELDS: dict[MessageKind, tuple[str, ...]] = {
    "CASE_CREATION": CASE_CREATION_FIELDS,
    "KM1_APPLICATION": DEFAULT_KM1_FIELDS,
    "KM1_UPDATE": DEFAULT_KM1_FIELDS,
}
"""The default whitelists: every creation field, every KM1 field but identity."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class LegalBasisTexts(_Frozen):
    """The legal basis each message cites (``legal_basis``).

    Attributes:
        case_creation: The case's creation.
        km1: Key Moment 1 and its updates.
    """

    case_creation: str = Field(
        f"Returnee's signed consent; SWD(2021) 121 Section II (RIAT) {TO_BE_CONFIRMED}", min_length=1, max_length=300
    )
    km1: str = Field(
        f"Returnee's signed consent; SWD(2021) 121 Section II (RIAT), Key Moment 1 {TO_BE_CONFIRMED}",
        min_length=1,
        max_length=300,
    )


class RiatConfig(_Frozen):
    """How the gateway builds the RIAT referral messages.

    Attributes:
        enabled: Off, nothing is sent to RIAT and no state is kept (a kill switch).
        member_state_organisation: The Member State organisation that creates the cases (each deployment sets its
            own).
        projects: RIAT project name per programme reference of the referral (as listed in the RRAI).
        default_project: The project of a referral whose programme is not in ``projects``.
        administrative_status: RIAT administrative status per ground of the return decision; a ground not listed
            leaves the field out.
        type_of_return: RIAT type of return per canonical return type of the confirmed departure.
        type_of_return_before_departure: The type of return while the departure is still expected (a referral is
            for an assisted voluntary return).
        fields: The whitelist per message kind: which fields of the catalogue (``CASE_CREATION_FIELDS``,
            ``KM1_FIELDS``) leave. The envelope (kind, referral id, time, legal basis) always does.
        legal_basis: Legal-basis texts the messages cite.
        max_referrals: Most referrals kept per subject (the oldest closed ones go first).
    """

    enabled: bool = True
    member_state_organisation: str = Field(
        "Member State return counselling organisation (to be configured)", min_length=1, max_length=200
    )
    projects: dict[str, str] = Field(default_factory=dict)
    default_project: str = Field("EU Reintegration Programme (EURP)", min_length=1, max_length=200)
    administrative_status: dict[LegalGround, str] = Field(default_factory=lambda: dict(DEFAULT_ADMINISTRATIVE_STATUS))
    type_of_return: dict[ReturnType, str] = Field(default_factory=lambda: dict(DEFAULT_TYPE_OF_RETURN))
    type_of_return_before_departure: str = Field("VOLUNTARY_RETURN", min_length=1, max_length=100)
    fields: dict[MessageKind, tuple[str, ...]] = Field(default_factory=lambda: dict(DEFAULT_FIELDS))
    legal_basis: LegalBasisTexts = Field(default_factory=LegalBasisTexts)
    max_referrals: int = Field(16, ge=1, le=1_000)

    @model_validator(mode="after")
    def _known_fields(self) -> RiatConfig:
        # A whitelisted name the adapter does not know would be dropped silently; say so at start-up instead.
        catalogue: dict[MessageKind, tuple[str, ...]] = {
            "CASE_CREATION": CASE_CREATION_FIELDS,
            "KM1_APPLICATION": KM1_FIELDS,
            "KM1_UPDATE": KM1_FIELDS,
        }
        for kind, known in catalogue.items():
            names = self.fields.get(kind)
            if names is None:
                raise ValueError(f"fields: no whitelist for {kind}")
            unknown = sorted(set(names) - set(known))
            if unknown:
                raise ValueError(f"fields.{kind}: unknown fields {unknown}; known: {list(known)}")
            if kind != "CASE_CREATION" and not set(KM1_REQUIRED) <= set(names):
                raise ValueError(f"fields.{kind} must include {list(KM1_REQUIRED)}: the partner must see the consent")
        labels: dict[str, str] = {**self.projects, **{str(k): v for k, v in self.administrative_status.items()}}
        blank = sorted(k for k, v in labels.items() if not v.strip())
        if blank:
            raise ValueError(f"blank value in projects or administrative_status for {blank}")
        return self

    def allows(self, kind: MessageKind, name: str) -> bool:
        """Whether ``name`` may leave in a message of ``kind``."""
        return name in self.fields[kind]

    def project_of(self, programme_reference: str | None) -> str:
        """The RIAT project of a referral's programme."""
        if programme_reference is None:
            return self.default_project
        return self.projects.get(programme_reference, self.default_project)
