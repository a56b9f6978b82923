"""SIS return-alert readiness: Reg. 2018/1860 Art. 3-4.

Art. 4(1) is a closed list: the alert "shall contain only" the data in points (a) to (z). The gateway therefore
keeps a whitelist that maps canonical fields of ``ReturnDecisionIssued`` to Art. 4(1) points, and a list of fields
it knows the SIS builder withholds; a set field in neither list is flagged. The minimum data set of Art. 4(2)
was not verified, so it is configuration.
"""

from __future__ import annotations

import functools
import types
import typing
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import BaseModel, Field, field_validator, model_validator

from gateway.events.models import (
    CaseEvent,
    DatePrecision,
    DepartureConfirmed,
    EventType,
    LegalGround,
    NonReturnRecorded,
    ReturnDecisionIssued,
    ReturnDecisionStatusChanged,
    Severity,
    Sex,
    VoluntaryDepartureExtended,
    WarningMarker,
)
from gateway.validation.legal import SIS_RETURN, LegalReference
from gateway.validation.rule import NO_VIOLATIONS, NoParams, Rule, RuleContext, RuleParams, Violation
from gateway.validation.rules.common import is_blank

_DECISION = frozenset({EventType.RETURN_DECISION_ISSUED})
ART4_POINTS = frozenset("abcdefghijklmnopqrstuvwxyz")
"""Points of Art. 4(1); (a)-(x) verified, (y) partly, (z) believed."""


def _leaf_paths(model: type[BaseModel], prefix: str = "") -> tuple[str, ...]:
    """Dotted paths of a model's fields, descending into nested records (a partial date counts as one field)."""
    out: list[str] = []
    for name, field in model.model_fields.items():
        path = f"{prefix}{name}"
        nested = [
            a
            for a in (typing.get_args(field.annotation) or (field.annotation,))
            if isinstance(a, type) and issubclass(a, BaseModel) and a.__name__ != "PartialDate"
        ]
        if nested and not isinstance(field.annotation, types.GenericAlias):
            out.extend(_leaf_paths(nested[0], f"{path}."))
        else:
            out.append(path)
    return tuple(out)


DECISION_FIELDS: tuple[str, ...] = _leaf_paths(ReturnDecisionIssued)
"""Every field path of ``ReturnDecisionIssued``, as the SIS builder sees it."""


def _value(payload: ReturnDecisionIssued, path: str) -> Any:
    value: Any = payload
    for part in path.split("."):
        value = getattr(value, part, None)
        if value is None:
            return None
    return value


def _covered(path: str, prefixes: typing.Iterable[str]) -> bool:
    return any(path == p or path.startswith(f"{p}.") for p in prefixes)


def _names(values: tuple[str, ...]) -> bool:
    # A plain loop: any() with a generator costs more than the check itself on this hot path.
    for v in values:  # noqa: SIM110
        if v and not v.isspace():
            return True
    return False


_PRESENCE: dict[str, Callable[[ReturnDecisionIssued], bool]] = {
    "identity.surnames": lambda p: _names(p.identity.surnames),
    "identity.forenames": lambda p: _names(p.identity.forenames),
    "identity.names_at_birth": lambda p: _names(p.identity.names_at_birth),
    "identity.aliases": lambda p: _names(p.identity.aliases),
    "identity.place_of_birth": lambda p: not is_blank(p.identity.place_of_birth),
    "identity.date_of_birth": lambda p: p.identity.date_of_birth.precision is not DatePrecision.UNKNOWN,
    "identity.sex": lambda p: p.identity.sex is not Sex.UNKNOWN,
    "identity.nationalities": lambda p: bool(p.identity.nationalities),
    "identity.travel_document": lambda p: p.identity.travel_document is not None,
    "legal_ground": lambda p: p.legal_ground is not LegalGround.UNKNOWN,
    "decision_reference": lambda p: not is_blank(p.decision_reference),
    "issuing_authority": lambda p: not is_blank(p.issuing_authority),
    "voluntary_departure.last_day": lambda p: (
        not p.voluntary_departure.granted or p.voluntary_departure.last_day is not None
    ),
}
"""The fields a deployment may put in the minimum data set, and how to tell that each is present."""


class MinimumDataSet(RuleParams):
    """Fields the SIS return alert cannot be created without.

    The default follows the believed Art. 4(2) set, points (a) surnames, (g) gender, (j) reason for the alert and
    (l) reference to the decision; (m) action on a hit and the biometrics are not in canonical events, (x) is
    VD-006, and (y), (z) are booleans that are always present.
    """

    fields: tuple[str, ...] = ("identity.surnames", "identity.sex", "legal_ground", "decision_reference")

    @field_validator("fields")
    @classmethod
    def _known(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = sorted(set(value) - set(_PRESENCE))
        if unknown:
            raise ValueError(f"unknown fields {unknown}; known: {sorted(_PRESENCE)}")
        return value

    @functools.cached_property
    def checks(self) -> tuple[tuple[str, Callable[[ReturnDecisionIssued], bool]], ...]:
        """Each field with its presence test, looked up once."""
        return tuple((f, _PRESENCE[f]) for f in self.fields)


def _check_minimum_data(event: CaseEvent, ctx: RuleContext, params: MinimumDataSet) -> Sequence[Violation]:
    p = event.payload
    if not isinstance(p, ReturnDecisionIssued):
        return NO_VIOLATIONS
    out = []
    for f, present in params.checks:
        if not present(p):
            out.append(
                Violation(
                    f"payload.{f}", f"{f} is missing or UNKNOWN; the SIS return alert cannot be created without it"
                )
            )
    return tuple(out)


DEFAULT_ART4_POINTS: dict[str, str] = {
    "identity.surnames": "a",
    "identity.forenames": "b",
    "identity.names_at_birth": "c",
    "identity.aliases": "d",
    "identity.place_of_birth": "e",
    "identity.date_of_birth": "f",
    "identity.sex": "g",
    "identity.nationalities": "h",
    "warning_markers": "i",
    "legal_ground": "j",
    "decision_reference": "l",
    "public_security_threat": "o",
    "identity.travel_document.type": "q",
    "identity.travel_document.issuing_country": "r",
    "identity.travel_document.number": "s",
    "identity.travel_document.issue_date": "t",
    "voluntary_departure.last_day": "x",
    "suspended": "y",
    "enforcement_postponed": "y",
    "entry_ban.imposed": "z",
}
"""Canonical field path of ``ReturnDecisionIssued`` -> the Art. 4(1) point it fills."""


class ClosedList(RuleParams):
    """The whitelist of canonical fields sent in the SIS return alert, and the fields known to be withheld.

    Attributes:
        art4_points: Canonical field path (or record) mapped to the Art. 4(1) point it fills.
        withheld: Paths the gateway uses for other purposes; the SIS builder drops them.
    """

    art4_points: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_ART4_POINTS))
    withheld: tuple[str, ...] = (
        "decision_date",
        "issuing_authority",
        "country_of_return",
        "voluntary_departure.granted",
        "voluntary_departure.first_day",
        "voluntary_departure.length_days",
        "voluntary_departure.shortened_ground",
        "entry_ban.duration_days",
        "identity.travel_document.expiry_date",
        "alert_exemption",
        "unaccompanied_minor",
    )

    @model_validator(mode="after")
    def _consistent(self) -> ClosedList:
        bad_points = sorted(f"{k}={v}" for k, v in self.art4_points.items() if v not in ART4_POINTS)
        if bad_points:
            raise ValueError(f"not points of Art. 4(1) (a-z): {bad_points}")
        known = set(DECISION_FIELDS)
        unknown = sorted(p for p in (*self.art4_points, *self.withheld) if not any(_covered(f, [p]) for f in known))
        if unknown:
            raise ValueError(f"not fields of ReturnDecisionIssued: {unknown}")
        both = sorted(set(self.art4_points) & set(self.withheld))
        if both:
            raise ValueError(f"both sent and withheld: {both}")
        return self

    @functools.cached_property
    def unclassified(self) -> tuple[str, ...]:
        """Fields of ``ReturnDecisionIssued`` neither mapped to Art. 4(1) nor withheld; worked out once."""
        classified = (*self.art4_points, *self.withheld)
        return tuple(f for f in DECISION_FIELDS if not _covered(f, classified))


def _check_closed_list(event: CaseEvent, ctx: RuleContext, params: ClosedList) -> Sequence[Violation]:
    p = event.payload
    if not params.unclassified or not isinstance(p, ReturnDecisionIssued):
        return NO_VIOLATIONS
    return tuple(
        Violation(
            f"payload.{f}",
            f"{f} maps to no point of Art. 4(1) and is not on the withheld list; the SIS builder must drop it",
        )
        for f in params.unclassified
        if _value(p, f) not in (None, ())
    )


class AllowedMarkers(RuleParams):
    """Warning markers a return alert may carry."""

    allowed: tuple[WarningMarker, ...] = tuple(m for m in WarningMarker if m is not WarningMarker.UNKNOWN)


def _check_markers(event: CaseEvent, ctx: RuleContext, params: AllowedMarkers) -> Sequence[Violation]:
    p = event.payload
    if not isinstance(p, ReturnDecisionIssued) or not p.warning_markers:
        return NO_VIOLATIONS
    out = [
        Violation(f"payload.warning_markers[{i}]", f"warning marker {m} is not an allowed value")
        for i, m in enumerate(p.warning_markers)
        if m not in params.allowed
    ]
    if len(set(p.warning_markers)) != len(p.warning_markers):
        out.append(Violation("payload.warning_markers", "a warning marker is listed more than once"))
    return tuple(out)


_UPDATES = (VoluntaryDepartureExtended, ReturnDecisionStatusChanged, NonReturnRecorded, DepartureConfirmed)


def _check_same_decision(event: CaseEvent, ctx: RuleContext, params: NoParams) -> Sequence[Violation]:
    p = event.payload
    current = ctx.state.decision_reference
    if current is None or not isinstance(p, _UPDATES):
        return NO_VIOLATIONS
    if p.decision_reference is None or p.decision_reference == current:
        return NO_VIOLATIONS
    return (
        Violation(
            "payload.decision_reference",
            f"the update refers to return decision {p.decision_reference}, but the case's current return decision "
            f"is {current}",
        ),
    )


RULES: tuple[Rule[Any], ...] = (
    Rule(
        id="SIS-001",
        title="The SIS return alert's minimum data are present",
        description="Each field in `fields` must be present (non-blank, non-empty, not UNKNOWN). Choose from: "
        + ", ".join(f"`{f}`" for f in sorted(_PRESENCE))
        + ". The default is the believed Art. 4(2) set that canonical events carry.",
        severity=Severity.ERROR,
        path="payload",
        legal=LegalReference(SIS_RETURN, "Art. 4(2)", "minimum data set to be confirmed"),
        event_types=_DECISION,
        check=_check_minimum_data,
        params=MinimumDataSet(),
    ),
    Rule(
        id="SIS-002",
        title="Nothing outside the closed list of Art. 4(1) would be sent",
        description="Every field of `ReturnDecisionIssued` must be either mapped to an Art. 4(1) point "
        "(`art4_points`) or known to be withheld by the SIS builder (`withheld`); a set field in neither list is "
        "flagged, e.g. after a schema change. The lists are checked at start-up against the schema and the "
        "points (a)-(z).",
        severity=Severity.WARNING,
        path="payload",
        legal=LegalReference(SIS_RETURN, "Art. 4(1)"),
        event_types=_DECISION,
        check=_check_closed_list,
        params=ClosedList(),
    ),
    Rule(
        id="SIS-003",
        title="Warning markers use the allowed values",
        description="Each of `warning_markers` must be in `allowed` (armed, violent, absconded or escaped, risk of "
        "suicide, threat to public health, terrorist activity; never UNKNOWN) and appear once.",
        severity=Severity.ERROR,
        path="payload.warning_markers",
        legal=LegalReference(SIS_RETURN, "Art. 4(1)(i)"),
        event_types=_DECISION,
        check=_check_markers,
        params=AllowedMarkers(),
    ),
    Rule(
        id="SIS-004",
        title="Updates refer to the case's current return decision",
        description="Extensions, status changes, non-returns and departures that name a `decision_reference` must "
        "name the case's current return decision (case state), since the alert is updated with them.",
        severity=Severity.WARNING,
        path="payload.decision_reference",
        legal=LegalReference(SIS_RETURN, "Art. 3(4)-(5)"),
        event_types=frozenset(
            {
                EventType.VOLUNTARY_DEPARTURE_EXTENDED,
                EventType.RETURN_DECISION_STATUS_CHANGED,
                EventType.NON_RETURN_RECORDED,
                EventType.DEPARTURE_CONFIRMED,
            }
        ),
        check=_check_same_decision,
        params=NoParams(),
    ),
)
