"""Referrals to a reintegration partner through the Reintegration Assistance Tool (RIAT, SWD(2021) 121 Section II)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gateway.events.models import CaseEvent, EventType, ReintegrationReferral, Severity, SupportType
from gateway.validation.legal import LegalReference
from gateway.validation.rule import NO_VIOLATIONS, NoParams, Rule, RuleContext, Violation
from gateway.validation.rules.common import is_blank

_REFERRAL = frozenset({EventType.REINTEGRATION_REFERRAL})
_RIAT = LegalReference("SWD(2021) 121", "Section II (RIAT case creation and KM1, per the RIAT user guides)")


def _check_consent(event: CaseEvent, ctx: RuleContext, params: NoParams) -> Sequence[Violation]:
    p = event.payload
    if not isinstance(p, ReintegrationReferral) or p.consent_obtained:
        return NO_VIOLATIONS
    return (
        Violation(
            "payload.consent_obtained",
            "the returnee's signed consent is not recorded; the referral cannot be shared with the partner",
        ),
    )


def _check_case_fields(event: CaseEvent, ctx: RuleContext, params: NoParams) -> Sequence[Violation]:
    p = event.payload
    if not isinstance(p, ReintegrationReferral):
        return NO_VIOLATIONS
    out = []
    if is_blank(p.country_of_return):
        out.append(Violation("payload.country_of_return", "the country of return is missing"))
    if is_blank(p.partner):
        out.append(Violation("payload.partner", "the reintegration partner is missing"))
    if not [s for s in p.support_types if s is not SupportType.UNKNOWN]:
        out.append(Violation("payload.support_types", "no type of support is recorded"))
    return tuple(out)


def _check_partner(event: CaseEvent, ctx: RuleContext, params: NoParams) -> Sequence[Violation]:
    p = event.payload
    if not isinstance(p, ReintegrationReferral) or p.programme_reference is None or is_blank(p.partner):
        return NO_VIOLATIONS
    view = ctx.programmes.get(p.programme_reference)
    if view is None or not view.organisations or p.partner in view.organisations:
        return NO_VIOLATIONS
    return (
        Violation(
            "payload.partner",
            f"partner {p.partner!r} is not among the organisations of programme {view.reference}",
        ),
    )


def _check_family_size(event: CaseEvent, ctx: RuleContext, params: NoParams) -> Sequence[Violation]:
    p = event.payload
    if not isinstance(p, ReintegrationReferral) or p.family_size >= 1:
        return NO_VIOLATIONS
    return (Violation("payload.family_size", f"family size {p.family_size} must count at least the returnee"),)


RULES: tuple[Rule[Any], ...] = (
    Rule(
        id="RIAT-001",
        title="The returnee's consent was obtained",
        description="`consent_obtained` must be true: RIAT processing relies on the signed consent sheet, "
        "compulsory under the EU Reintegration Programme.",
        severity=Severity.ERROR,
        path="payload.consent_obtained",
        legal=_RIAT,
        event_types=_REFERRAL,
        check=_check_consent,
        params=NoParams(),
    ),
    Rule(
        id="RIAT-002",
        title="Country of return, partner and support types are set",
        description="RIAT case creation cannot be edited afterwards: `country_of_return` and `partner` must not be "
        "blank and `support_types` must hold at least one known type.",
        severity=Severity.ERROR,
        path="payload",
        legal=_RIAT,
        event_types=_REFERRAL,
        check=_check_case_fields,
        params=NoParams(),
    ),
    Rule(
        id="RIAT-003",
        title="The partner is an organisation of the programme",
        description="When the referral names a programme of the catalogue that lists organisations, `partner` "
        "should be one of them.",
        severity=Severity.WARNING,
        path="payload.partner",
        legal=LegalReference("COM(2021) 120", "RRAI (organisations involved)"),
        event_types=_REFERRAL,
        check=_check_partner,
        params=NoParams(),
        needs_programmes=True,
    ),
    Rule(
        id="RIAT-004",
        title="The family size counts at least the returnee",
        description="`family_size` must be 1 or more.",
        severity=Severity.ERROR,
        path="payload.family_size",
        legal=_RIAT,
        event_types=_REFERRAL,
        check=_check_family_size,
        params=NoParams(),
    ),
)
