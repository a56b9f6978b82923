"""SIS messages as XML, valid against ``schemas/xsd/sis-return-v1.xsd`` before they leave.

:func:`render` returns a value, never raises on data: :class:`Rendered` with the bytes, or :class:`Refused` with a
reason that names elements and XSD error types but never a value (reasons end up in logs and dead-letter headers).
Two gates stand before the XSD: text XML 1.0 cannot carry is refused rather than altered, and an element that holds
canonical data must be allowed by the configured whitelist of the message's target.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, cast

from lxml import etree

from gateway.adapters._xml import compile_xsd
from gateway.adapters.sis.closed_list import ENVELOPE_ELEMENTS
from gateway.adapters.sis.config import SisConfig
from gateway.adapters.sis.messages import (
    AlertCreate,
    AlertData,
    AlertDelete,
    AlertUpdate,
    ConfirmationOfReturn,
    EntryBanAlert,
    IdentityData,
    NonReturn,
    SisMessage,
)

__all__ = ["NS", "ROOT_ELEMENTS", "XSD_NAME", "Refused", "Rendered", "allowed_elements", "render", "schema"]

NS = "urn:eu:returns-gateway:sis-return:v1"
"""Target namespace of the XSD."""

XSD_NAME = "sis-return-v1.xsd"

ROOT_ELEMENTS: dict[str, str] = {
    "CREATE": "ReturnAlertCreate",
    "UPDATE": "ReturnAlertUpdate",
    "CONFIRMATION_OF_RETURN": "ConfirmationOfReturn",
    "DELETE": "ReturnAlertDelete",
    "NON_RETURN": "NonReturn",
    "ENTRY_BAN_ALERT": "RefusalOfEntryAlert",
}
"""Message kind -> root element."""

# Elements whose content comes from configuration or is fixed by the message kind, never from a canonical event.
_FIXED_ELEMENTS: dict[str, frozenset[str]] = {
    "CREATE": frozenset({"CreatingAuthority", "ActionOnHit"}),
    "UPDATE": frozenset({"CreatingAuthority", "ActionOnHit"}),
    "CONFIRMATION_OF_RETURN": frozenset(),
    "DELETE": frozenset({"DeletionGround"}),
    "NON_RETURN": frozenset(),
    "ENTRY_BAN_ALERT": frozenset({"RefusalGround", "CreatingAuthority", "ActionOnHit", "EntryBanExpiryDate"}),
}

# XML 1.0 Char production: anything else cannot be written, whatever escaping is used.
_NOT_XML_CHAR = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

_Q = "{" + NS + "}"


@dataclass(frozen=True, slots=True)
class Rendered:
    """A message as XSD-valid XML.

    Attributes:
        kind: The message kind (``CREATE``, ``UPDATE``, ...).
        xml: UTF-8 XML document with declaration.
    """

    kind: str
    xml: bytes


@dataclass(frozen=True, slots=True)
class Refused:
    """A message that must not leave, and why (element names and error types only, never a value).

    Attributes:
        kind: The message kind.
        reason: Why it was refused.
    """

    kind: str
    reason: str


class _UnwritableError(Exception):
    def __init__(self, element: str) -> None:
        super().__init__(element)
        self.element = element


@functools.cache
def schema() -> etree.XMLSchema:
    """The compiled XSD, loaded once (safe parser: no network, no entities)."""
    return compile_xsd(XSD_NAME)


@functools.cache
def _default_config() -> SisConfig:
    return SisConfig()


def render(message: SisMessage, config: SisConfig | None = None) -> Rendered | Refused:
    """Render a message as XML and check it against the whitelist of its target and the XSD.

    Args:
        message: The message.
        config: The configuration whose whitelists apply; the defaults when None.

    Returns:
        ``Rendered`` with the bytes, or ``Refused`` with the reason. Never raises on the message's data.
    """
    kind = message.kind
    try:
        root = _build(message)
    except _UnwritableError as exc:
        return Refused(kind, f"text in {exc.element} holds characters XML 1.0 cannot carry")
    except OverflowError:
        return Refused(kind, "CreatedAt cannot be written in UTC (outside the calendar)")
    outside = sorted(_names(root) - allowed_elements(kind, config or _default_config()))
    if outside:
        return Refused(kind, f"elements outside the closed list of the target: {', '.join(outside)}")
    xsd = schema()
    if not xsd.validate(root):
        # Not _xml.describe: an lxml message quotes the offending value, and reasons reach logs and DLQ headers.
        # lxml-stubs leave the error log untyped; its entries have type_name and path.
        entries: list[Any] = list(cast(Iterable[Any], xsd.error_log))[:5]
        errors = "; ".join(f"{e.type_name} at {e.path}" for e in entries)
        return Refused(kind, f"not valid against {XSD_NAME}: {errors}")
    return Rendered(kind, etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def allowed_elements(kind: str, config: SisConfig) -> frozenset[str]:
    """Local names of the elements a message of ``kind`` may contain under ``config``'s whitelists."""
    whitelist = config.entry_ban_whitelist if kind == "ENTRY_BAN_ALERT" else config.return_whitelist
    data = whitelist.elements
    if kind in ("CONFIRMATION_OF_RETURN", "DELETE"):
        data = frozenset()  # envelope only: nothing of the person
    elif kind == "NON_RETURN":
        data = data & {"VoluntaryDepartureLastDay"}
    return frozenset({ROOT_ELEMENTS[kind]}) | ENVELOPE_ELEMENTS | _FIXED_ELEMENTS[kind] | data


def _names(root: etree._Element) -> set[str]:
    return {etree.QName(e).localname for e in root.iter()}


def _text(parent: etree._Element, name: str, value: str) -> None:
    if _NOT_XML_CHAR.search(value):
        raise _UnwritableError(name)
    try:
        etree.SubElement(parent, _Q + name).text = value
    except ValueError as exc:  # lxml's own check, should ours ever miss a case
        raise _UnwritableError(name) from exc


def _opt(parent: etree._Element, name: str, value: str | bool | int | dt.date | None) -> None:
    if value is None:
        return
    if isinstance(value, bool):
        _text(parent, name, "true" if value else "false")
    elif isinstance(value, int):
        _text(parent, name, str(value))
    elif isinstance(value, dt.date):
        _text(parent, name, value.isoformat())
    else:
        _text(parent, name, value)


def _many(parent: etree._Element, name: str, values: tuple[str, ...]) -> None:
    for v in values:
        _text(parent, name, v)


def _utc(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _build(message: SisMessage) -> etree._Element:
    root = etree.Element(_Q + ROOT_ELEMENTS[message.kind], nsmap={"sis": NS})
    _text_attr(root, message.legal_basis)
    _text(root, "IssuingMemberState", message.issuing_member_state)
    _text(root, "AlertReference", message.alert_reference)
    _text(root, "DecisionReference", message.decision_reference)
    _text(root, "CreatedAt", _utc(message.created_at))
    if isinstance(message, AlertCreate | AlertUpdate):
        _alert(root, message.alert, message.creating_authority, message.action_on_hit)
    elif isinstance(message, AlertDelete):
        _text(root, "DeletionGround", message.ground)
    elif isinstance(message, NonReturn):
        _opt(root, "VoluntaryDepartureLastDay", message.last_day)
    elif isinstance(message, EntryBanAlert):
        _entry_ban(root, message)
    else:
        assert isinstance(message, ConfirmationOfReturn)  # envelope only
    return root


def _text_attr(root: etree._Element, value: str) -> None:
    if _NOT_XML_CHAR.search(value):
        raise _UnwritableError("@legalBasis")
    root.set("legalBasis", value)


def _identity(root: etree._Element, i: IdentityData) -> None:
    _many(root, "Surname", i.surnames)
    _many(root, "Forename", i.forenames)
    _many(root, "NameAtBirth", i.names_at_birth)
    _many(root, "Alias", i.aliases)
    _opt(root, "PlaceOfBirth", i.place_of_birth)
    _opt(root, "DateOfBirth", i.date_of_birth)
    _opt(root, "Gender", i.gender)
    _many(root, "Nationality", i.nationalities)


def _document(root: etree._Element, i: IdentityData) -> None:
    _opt(root, "DocumentCategory", i.document_category)
    _opt(root, "DocumentCountryOfIssue", i.document_country_of_issue)
    _opt(root, "DocumentNumber", i.document_number)
    _opt(root, "DocumentDateOfIssue", i.document_date_of_issue)


def _alert(root: etree._Element, a: AlertData, authority: str, action: str) -> None:
    # The order of the points of Art. 4(1), as the XSD sequence has it.
    _identity(root, a.identity)
    _many(root, "WarningMarker", a.warning_markers)
    _opt(root, "ReasonForAlert", a.reason_for_alert)
    _text(root, "CreatingAuthority", authority)
    _text(root, "ActionOnHit", action)
    _opt(root, "PublicSecurityThreat", a.public_security_threat)
    _document(root, a.identity)
    _opt(root, "VoluntaryDepartureLastDay", a.last_day)
    _opt(root, "Suspended", a.suspended)
    _opt(root, "EnforcementPostponed", a.enforcement_postponed)
    _opt(root, "EntryBan", a.entry_ban)


def _entry_ban(root: etree._Element, m: EntryBanAlert) -> None:
    _identity(root, m.identity)
    _document(root, m.identity)
    _text(root, "RefusalGround", "ENTRY_BAN")
    _text(root, "CreatingAuthority", m.creating_authority)
    _text(root, "ActionOnHit", m.action_on_hit)
    _opt(root, "EntryBanDurationDays", m.duration_days)
    _opt(root, "EntryBanExpiryDate", m.expiry_date)
