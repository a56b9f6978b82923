"""Which canonical fields may leave in a SIS message: a whitelist per target, derived from the Art. 4(1) closed list.

Reg. 2018/1860 Art. 4(1) says the return alert "shall contain only" the data in points (a) to (z) (domain notes
§2.1, §7). ``gateway.validation.rules.sis.ClosedList`` is the one place that says which canonical field fills which
point; this module does not repeat it. It adds only what the XML needs: the table of *slots*, every canonical field
the SIS adapter knows how to carry and the element that carries it. A field leaves only if it has a slot **and** the
target's whitelist allows it; a field with no slot can never leave, whatever the whitelist says.

Two targets read the slots:

* the return alert (create, update, non-return): allowed are the paths of ``ClosedList.art4_points``;
* the refusal-of-entry alert that replaces it when an entry ban exists (Reg. 2018/1861 Art. 24): allowed are the
  paths of ``SisConfig.entry_ban_fields`` (by default the identity and document block, plus the ban's duration).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from gateway.validation.rules.sis import ClosedList

__all__ = [
    "DECISION_REFERENCE",
    "ENTRY_BAN_SLOTS",
    "ENVELOPE_ELEMENTS",
    "IDENTITY_SLOTS",
    "RETURN_ALERT_SLOTS",
    "Whitelist",
    "covered_slots",
    "entry_ban_alert_whitelist",
    "identity_whitelist",
    "return_alert_whitelist",
]

DECISION_REFERENCE = "decision_reference"
"""Point (l): every message carries it in its envelope, so the return-alert whitelist must allow it."""

IDENTITY_SLOTS: Mapping[str, str] = MappingProxyType(
    {
        "identity.surnames": "Surname",
        "identity.forenames": "Forename",
        "identity.names_at_birth": "NameAtBirth",
        "identity.aliases": "Alias",
        "identity.place_of_birth": "PlaceOfBirth",
        "identity.date_of_birth": "DateOfBirth",
        "identity.sex": "Gender",
        "identity.nationalities": "Nationality",
        "identity.travel_document.type": "DocumentCategory",
        "identity.travel_document.issuing_country": "DocumentCountryOfIssue",
        "identity.travel_document.number": "DocumentNumber",
        "identity.travel_document.issue_date": "DocumentDateOfIssue",
    }
)
"""Identity and document block, points (a)-(h) and (q)-(t): canonical path -> XML element."""

RETURN_ALERT_SLOTS: Mapping[str, str] = MappingProxyType(
    {
        **IDENTITY_SLOTS,
        "warning_markers": "WarningMarker",
        "legal_ground": "ReasonForAlert",
        DECISION_REFERENCE: "DecisionReference",
        "public_security_threat": "PublicSecurityThreat",
        "voluntary_departure.last_day": "VoluntaryDepartureLastDay",
        "suspended": "Suspended",
        "enforcement_postponed": "EnforcementPostponed",
        "entry_ban.imposed": "EntryBan",
    }
)
"""Every canonical field the return alert can carry: canonical path -> XML element."""

ENTRY_BAN_SLOTS: Mapping[str, str] = MappingProxyType(
    {**IDENTITY_SLOTS, "entry_ban.duration_days": "EntryBanDurationDays"}
)
"""Every canonical field the refusal-of-entry alert can carry: canonical path -> XML element."""

ENVELOPE_ELEMENTS = frozenset({"IssuingMemberState", "AlertReference", "DecisionReference", "CreatedAt"})
"""Elements of every message's envelope. None holds a canonical field except the decision reference, point (l)."""


def _covers(allowed: str, path: str) -> bool:
    # ClosedList may whitelist a record ("identity.travel_document") as well as a leaf; a record covers its leaves.
    return path == allowed or path.startswith(f"{allowed}.")


def covered_slots(allowed: str, slots: Iterable[str]) -> tuple[str, ...]:
    """The slots a whitelisted path covers (itself, or its leaves when it names a record)."""
    return tuple(s for s in slots if _covers(allowed, s))


@dataclass(frozen=True, slots=True)
class Whitelist:
    """The canonical fields one target may carry.

    Attributes:
        paths: Whitelisted canonical paths (leaves or records) of ``ReturnDecisionIssued``.
        slots: The target's slot table (canonical path -> element).
        allowed: The slots the paths cover: the fields that may leave (worked out once).
    """

    paths: frozenset[str]
    slots: Mapping[str, str]
    allowed: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        covered = frozenset(s for p in self.paths for s in covered_slots(p, self.slots))
        object.__setattr__(self, "allowed", covered)  # frozen: set once, here

    def allows(self, path: str) -> bool:
        """Whether a canonical field may leave in this target: it has a slot and the whitelist covers it."""
        return path in self.allowed

    def keep(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The entries of ``values`` (canonical path -> value) that may leave; the rest are dropped."""
        return {path: value for path, value in values.items() if path in self.allowed}

    @property
    def elements(self) -> frozenset[str]:
        """The XML elements that may hold canonical data in this target."""
        return frozenset(self.slots[path] for path in self.allowed)

    @property
    def without_slot(self) -> tuple[str, ...]:
        """Whitelisted paths that cover no slot: data the whitelist allows but the adapter cannot carry."""
        return tuple(sorted(p for p in self.paths if not covered_slots(p, self.slots)))


def return_alert_whitelist(closed_list: ClosedList) -> Whitelist:
    """The return alert's whitelist: the paths of the Art. 4(1) closed list."""
    return _whitelist(frozenset(closed_list.art4_points), "return")


def entry_ban_alert_whitelist(fields: Iterable[str]) -> Whitelist:
    """The refusal-of-entry alert's whitelist."""
    return _whitelist(frozenset(fields), "entry_ban")


def identity_whitelist(paths: Iterable[str]) -> Whitelist:
    """The identity block that ``paths`` let through (what a state may keep of the person)."""
    return _whitelist(frozenset(paths), "identity")


_SLOT_TABLES: Mapping[str, Mapping[str, str]] = {
    "return": RETURN_ALERT_SLOTS,
    "entry_ban": ENTRY_BAN_SLOTS,
    "identity": IDENTITY_SLOTS,
}


@functools.lru_cache(maxsize=128)
def _whitelist(paths: frozenset[str], target: str) -> Whitelist:
    # Built once per distinct list: a step asks for its whitelists several times per event.
    return Whitelist(paths, _SLOT_TABLES[target])
