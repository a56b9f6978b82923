"""The SIS messages, carrying only Art. 4(1) data, and how canonical data reach them through the whitelist.

Every canonical value goes one way: :func:`read_decision` reads the *slots* of a ``ReturnDecisionIssued`` (and only
those: see ``closed_list``) into a map canonical path -> value; a target's :class:`~.closed_list.Whitelist` keeps
the entries it allows; :func:`identity_data` and :func:`alert_data` build the message content from what is left.
Nothing else of the event is read, so a field outside the closed list cannot reach a message.

The message id is not part of a message: the transport gives it (the outbox derives it from the rendered bytes).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from gateway.adapters.sis.closed_list import Whitelist
from gateway.adapters.sis.config import SisConfig
from gateway.events.models import (
    DatePrecision,
    LegalGround,
    PartialDate,
    ReturnDecisionIssued,
    Sex,
    TravelDocumentType,
    WarningMarker,
)

__all__ = [
    "AlertCreate",
    "AlertData",
    "AlertDelete",
    "AlertUpdate",
    "ConfirmationOfReturn",
    "DeletionGround",
    "DocumentCategoryCode",
    "EntryBanAlert",
    "GenderCode",
    "IdentityData",
    "LegalGroundCode",
    "MarkerCode",
    "MessageKind",
    "NonReturn",
    "SisMessage",
    "alert_data",
    "identity_data",
    "identity_paths",
    "read_decision",
]

MessageKind = Literal["CREATE", "UPDATE", "CONFIRMATION_OF_RETURN", "DELETE", "ENTRY_BAN_ALERT", "NON_RETURN"]
GenderCode = Literal["MALE", "FEMALE", "UNSPECIFIED"]
MarkerCode = Literal[
    "ARMED", "VIOLENT", "ABSCONDED_OR_ESCAPED", "RISK_OF_SUICIDE", "PUBLIC_HEALTH_THREAT", "TERRORIST_ACTIVITY"
]
DocumentCategoryCode = Literal[
    "PASSPORT",
    "IDENTITY_CARD",
    "REFUGEE_TRAVEL_DOCUMENT",
    "STATELESS_TRAVEL_DOCUMENT",
    "LAISSEZ_PASSER",
    "RESIDENCE_PERMIT",
    "VISA",
    "OTHER",
]
DeletionGround = Literal["RETURNED", "WITHDRAWN", "ANNULLED", "RESIDENCE_RIGHT_GRANTED"]
LegalGroundCode = Literal[
    "ILLEGAL_STAY", "IRREGULAR_ENTRY", "REJECTED_APPLICATION", "PERMIT_WITHDRAWN_OR_EXPIRED", "PUBLIC_ORDER", "OTHER"
]
"""``LegalGround`` without UNKNOWN (an unknown ground fills no point (j))."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class IdentityData(_Frozen):
    """The identity and document block, points (a)-(h) and (q)-(t); empty or None where not whitelisted or unknown.

    Attributes:
        surnames: (a).
        forenames: (b).
        names_at_birth: (c).
        aliases: (d) previously used names and aliases.
        place_of_birth: (e).
        date_of_birth: (f) ``YYYY-MM-DD``, ``YYYY-MM`` or ``YYYY`` as far as it is known.
        gender: (g).
        nationalities: (h) three-letter codes.
        document_category: (q) category of the identification document.
        document_country_of_issue: (r).
        document_number: (s).
        document_date_of_issue: (t).
    """

    surnames: tuple[str, ...] = ()
    forenames: tuple[str, ...] = ()
    names_at_birth: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    place_of_birth: str | None = None
    date_of_birth: str | None = None
    gender: GenderCode | None = None
    nationalities: tuple[str, ...] = ()
    document_category: DocumentCategoryCode | None = None
    document_country_of_issue: str | None = None
    document_number: str | None = None
    document_date_of_issue: dt.date | None = None


class AlertData(_Frozen):
    """The content of a return alert besides (k), (l) and (m); None where the whitelist leaves a point out.

    Attributes:
        identity: (a)-(h), (q)-(t).
        warning_markers: (i).
        reason_for_alert: (j), a code of ``SisConfig.reason_codes``.
        public_security_threat: (o).
        last_day: (x) last day of the period for voluntary departure, extensions included; None if none granted.
        suspended: (y) the decision is suspended.
        enforcement_postponed: (y) its enforcement is postponed.
        entry_ban: (z) an entry ban accompanies the decision (point letter to be confirmed).
    """

    identity: IdentityData
    warning_markers: tuple[MarkerCode, ...] = ()
    reason_for_alert: str | None = None
    public_security_threat: bool | None = None
    last_day: dt.date | None = None
    suspended: bool | None = None
    enforcement_postponed: bool | None = None
    entry_ban: bool | None = None


class _Envelope(_Frozen):
    """What every message carries besides its content.

    Attributes:
        issuing_member_state: The Member State issuing the alert (ISO 3166-1 alpha-2).
        alert_reference: Stable reference of the alert, derived from Member State and decision reference.
        decision_reference: (l) reference to the decision giving rise to the alert.
        created_at: When the message was created: the time the gateway recorded the event that caused it.
        legal_basis: The provision the message rests on.
    """

    issuing_member_state: str
    alert_reference: str
    decision_reference: str
    created_at: dt.datetime
    legal_basis: str


class AlertCreate(_Envelope):
    """Enter a return alert (Art. 3).

    Attributes:
        alert: The alert's Art. 4(1) data.
        creating_authority: (k).
        action_on_hit: (m).
    """

    kind: Literal["CREATE"] = "CREATE"
    alert: AlertData
    creating_authority: str
    action_on_hit: str


class AlertUpdate(_Envelope):
    """Replace the data of a return alert with these (Art. 3(4)-(5), corrections); the whole alert, not a delta.

    Attributes:
        alert: The alert's Art. 4(1) data after the change.
        creating_authority: (k).
        action_on_hit: (m).
    """

    kind: Literal["UPDATE"] = "UPDATE"
    alert: AlertData
    creating_authority: str
    action_on_hit: str


class ConfirmationOfReturn(_Envelope):
    """The person left the territory of the Member States (Art. 6): envelope only."""

    kind: Literal["CONFIRMATION_OF_RETURN"] = "CONFIRMATION_OF_RETURN"


class AlertDelete(_Envelope):
    """Delete the return alert (Art. 14).

    Attributes:
        ground: Why: return confirmed, decision withdrawn or annulled, residence permit or right granted.
    """

    kind: Literal["DELETE"] = "DELETE"
    ground: DeletionGround


class NonReturn(_Envelope):
    """The period for voluntary departure ended with no departure (Art. 7).

    Attributes:
        last_day: (x) the period's last day, extensions included; None if (x) is not whitelisted.
    """

    kind: Literal["NON_RETURN"] = "NON_RETURN"
    last_day: dt.date | None = None


class EntryBanAlert(_Envelope):
    """The refusal-of-entry alert for the entry ban (Reg. 2018/1861 Art. 24(1)(b)); ``alert_reference`` is its own.

    Attributes:
        identity: The identity and document block (Reg. 2018/1861 Art. 20(2), point letters to be confirmed).
        creating_authority: The authority that creates the alert.
        action_on_hit: The action to be taken on a hit.
        duration_days: The ban's duration in days, if known and whitelisted.
        expiry_date: The ban's last day (departure day + duration), if known and configured.
    """

    kind: Literal["ENTRY_BAN_ALERT"] = "ENTRY_BAN_ALERT"
    identity: IdentityData
    creating_authority: str
    action_on_hit: str
    duration_days: int | None = None
    expiry_date: dt.date | None = None


SisMessage = AlertCreate | AlertUpdate | ConfirmationOfReturn | AlertDelete | NonReturn | EntryBanAlert
"""Any SIS message; ``kind`` tells which."""

_IDENTITY_ATTR: Mapping[str, str] = {
    "identity.surnames": "surnames",
    "identity.forenames": "forenames",
    "identity.names_at_birth": "names_at_birth",
    "identity.aliases": "aliases",
    "identity.place_of_birth": "place_of_birth",
    "identity.date_of_birth": "date_of_birth",
    "identity.sex": "gender",
    "identity.nationalities": "nationalities",
    "identity.travel_document.type": "document_category",
    "identity.travel_document.issuing_country": "document_country_of_issue",
    "identity.travel_document.number": "document_number",
    "identity.travel_document.issue_date": "document_date_of_issue",
}
_ALERT_ATTR: Mapping[str, str] = {
    "warning_markers": "warning_markers",
    "legal_ground": "reason_for_alert",
    "public_security_threat": "public_security_threat",
    "voluntary_departure.last_day": "last_day",
    "suspended": "suspended",
    "enforcement_postponed": "enforcement_postponed",
    "entry_ban.imposed": "entry_ban",
}


def identity_paths(identity: IdentityData) -> dict[str, Any]:
    """The identity block as canonical path -> value (the inverse of :func:`identity_data`)."""
    return {path: getattr(identity, attr) for path, attr in _IDENTITY_ATTR.items()}


def _names(values: tuple[str, ...]) -> tuple[str, ...]:
    # A blank name says nothing; dropping it is not altering the data.
    return tuple(v for v in values if v.strip())


def _text(value: str | None) -> str | None:
    return value if value is not None and value.strip() else None


def _partial_date(value: PartialDate) -> str | None:
    # Written as far as the precision says; an impossible date (30 February) is kept and refused by the XSD.
    y, m, d = value.year, value.month, value.day
    if value.precision is DatePrecision.DAY and None not in (y, m, d):
        return f"{y:04d}-{m:02d}-{d:02d}"
    if value.precision is DatePrecision.MONTH and None not in (y, m):
        return f"{y:04d}-{m:02d}"
    if value.precision is DatePrecision.YEAR and y is not None:
        return f"{y:04d}"
    return None


def _markers(values: tuple[WarningMarker, ...]) -> tuple[str, ...]:
    out: list[str] = []
    for m in values:
        if m is not WarningMarker.UNKNOWN and m.value not in out:
            out.append(m.value)
    return tuple(out)


def read_decision(p: ReturnDecisionIssued) -> dict[str, Any]:
    """Every slot of a return decision as canonical path -> value (nothing else is read).

    Unknown codes (``UNKNOWN``) and blank names become absent values; the target's whitelist chooses afterwards.
    """
    ident, doc = p.identity, p.identity.travel_document
    return {
        "identity.surnames": _names(ident.surnames),
        "identity.forenames": _names(ident.forenames),
        "identity.names_at_birth": _names(ident.names_at_birth),
        "identity.aliases": _names(ident.aliases),
        "identity.place_of_birth": _text(ident.place_of_birth),
        "identity.date_of_birth": _partial_date(ident.date_of_birth),
        "identity.sex": None if ident.sex is Sex.UNKNOWN else ident.sex.value,
        "identity.nationalities": tuple(dict.fromkeys(n for n in ident.nationalities if n.strip())),
        "identity.travel_document.type": (
            None if doc is None or doc.type is TravelDocumentType.UNKNOWN else doc.type.value
        ),
        "identity.travel_document.issuing_country": None if doc is None else doc.issuing_country,
        "identity.travel_document.number": None if doc is None else doc.number,
        "identity.travel_document.issue_date": None if doc is None else doc.issue_date,
        "warning_markers": _markers(p.warning_markers),
        "legal_ground": None if p.legal_ground is LegalGround.UNKNOWN else p.legal_ground.value,
        "decision_reference": p.decision_reference,
        "public_security_threat": p.public_security_threat,
        "voluntary_departure.last_day": p.voluntary_departure.last_day if p.voluntary_departure.granted else None,
        "suspended": p.suspended,
        "enforcement_postponed": p.enforcement_postponed,
        "entry_ban.imposed": p.entry_ban.imposed,
        "entry_ban.duration_days": p.entry_ban.duration_days if p.entry_ban.imposed else None,
    }


def identity_data(values: Mapping[str, Any], whitelist: Whitelist) -> IdentityData:
    """The identity block of ``values`` (canonical path -> value) that ``whitelist`` lets through."""
    kept = whitelist.keep(values)
    return IdentityData.model_validate({attr: kept[path] for path, attr in _IDENTITY_ATTR.items() if path in kept})


def alert_data(values: Mapping[str, Any], config: SisConfig) -> AlertData:
    """The return alert's content from ``values`` (canonical path -> value), through the return-alert whitelist.

    Point (j) is the configured code of the decision's ground; a ground with no code leaves (j) out.
    """
    whitelist = config.return_whitelist
    kept = whitelist.keep(values)
    fields: dict[str, Any] = {attr: kept[path] for path, attr in _ALERT_ATTR.items() if path in kept}
    if fields.get("reason_for_alert") is not None:
        fields["reason_for_alert"] = config.reason_codes.get(LegalGround(fields["reason_for_alert"]))
    return AlertData(identity=identity_data(values, whitelist), **fields)
