"""Scope of the Return Directive 2008/115/EC: third-country nationals returned to a third country.

Which states' nationals enjoy free movement is data (``data/free_movement.csv``, EU, EEA and CH rows); which of
those memberships count is each rule's ``memberships`` parameter. Codes are compared through the alias table
(``data/code_aliases.csv``), so a nationality ``D`` (Germany in the MRZ) is a German nationality.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import field_validator

from gateway.events.models import CaseEvent, EventType, ReturnDecisionIssued, Severity
from gateway.validation.legal import RETURN_DIRECTIVE, LegalReference
from gateway.validation.rule import NO_VIOLATIONS, NoParams, Rule, RuleContext, RuleParams, Violation
from gateway.validation.rules.common import is_blank

_DECISION = frozenset({EventType.RETURN_DECISION_ISSUED})
_MEMBERSHIPS = ("EU", "EEA", "CH")
_FREE_MOVEMENT = "Directive 2004/38/EC; EEA Agreement; EU-Swiss Agreement on the Free Movement of Persons"


class Memberships(RuleParams):
    """Which memberships of ``data/free_movement.csv`` the rule counts (default: all of EU, EEA and CH)."""

    memberships: tuple[str, ...] = _MEMBERSHIPS

    @field_validator("memberships")
    @classmethod
    def _known(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        bad = sorted(set(value) - set(_MEMBERSHIPS))
        if bad:
            raise ValueError(f"unknown memberships {bad}; known: {', '.join(_MEMBERSHIPS)}")
        return value


def _membership(code: str, ctx: RuleContext, params: Memberships) -> str | None:
    membership = ctx.codes.free_movement.get(ctx.codes.canonical(code))
    return membership if membership in params.memberships else None


def _check_union_citizen(event: CaseEvent, ctx: RuleContext, params: Memberships) -> Sequence[Violation]:
    p = event.payload
    if not isinstance(p, ReturnDecisionIssued):
        return NO_VIOLATIONS
    out = []
    for i, code in enumerate(p.identity.nationalities):
        membership = _membership(code, ctx, params)
        if membership is not None:
            out.append(
                Violation(
                    f"payload.identity.nationalities[{i}]",
                    f"the returnee holds the nationality {code!r} ({membership}); a national of an EU, EEA or Swiss "
                    "State is not a third-country national, and the Return Directive does not apply to them, also "
                    "when they hold another nationality",
                )
            )
    return tuple(out)


def _return_country(event: CaseEvent, ctx: RuleContext) -> str | None:
    p = event.payload
    if not isinstance(p, ReturnDecisionIssued) or p.country_of_return is None or is_blank(p.country_of_return):
        return None
    return ctx.codes.canonical(p.country_of_return)


def _check_return_to_deciding_state(event: CaseEvent, ctx: RuleContext, params: NoParams) -> Sequence[Violation]:
    code = _return_country(event, ctx)
    if code is None or code != ctx.codes.member_state_codes.get(event.member_state):
        return NO_VIOLATIONS
    return (
        Violation(
            "payload.country_of_return",
            f"the country of return {code} is the deciding Member State {event.member_state} itself; a return is "
            "going back to a third country",
        ),
    )


def _check_return_to_member_state(event: CaseEvent, ctx: RuleContext, params: Memberships) -> Sequence[Violation]:
    code = _return_country(event, ctx)
    if code is None or code == ctx.codes.member_state_codes.get(event.member_state):
        return NO_VIOLATIONS
    membership = _membership(code, ctx, params)
    if membership is None:
        return NO_VIOLATIONS
    return (
        Violation(
            "payload.country_of_return",
            f"the country of return {code} is a Member State ({membership}), not a third country; if the person is "
            "handed over to that State under Art. 6(2) or 6(3), record the return decision that State issues, or "
            "the transfer, rather than a return",
        ),
    )


_SCOPE = LegalReference(RETURN_DIRECTIVE, f"Art. 2(1) and 3(1); {_FREE_MOVEMENT}")
_RETURN = LegalReference(RETURN_DIRECTIVE, "Art. 3(3)")

RULES: tuple[Rule[Any], ...] = (
    Rule(
        id="RD-001",
        title="The returnee is not a national of an EU, EEA or Swiss State",
        description="No nationality in `identity.nationalities` may be one of `data/free_movement.csv` whose "
        "membership is in `memberships` (default EU, EEA, CH); a dual national with one such nationality is "
        "caught too. Codes are compared through `data/code_aliases.csv` (D is DEU). The Directive applies to "
        "third-country nationals only; Union citizens and their equivalents fall under the free-movement rules.",
        severity=Severity.ERROR,
        path="payload.identity.nationalities",
        legal=_SCOPE,
        event_types=_DECISION,
        check=_check_union_citizen,
        params=Memberships(),
    ),
    Rule(
        id="RD-002",
        title="The country of return is not the deciding Member State",
        description="`country_of_return` must not be the alpha-3 code of the envelope's `member_state` (from "
        "`data/free_movement.csv`): a return decision obliges a person to go back to a third country.",
        severity=Severity.ERROR,
        path="payload.country_of_return",
        legal=_RETURN,
        event_types=_DECISION,
        check=_check_return_to_deciding_state,
        params=NoParams(),
    ),
    Rule(
        id="RD-003",
        title="The country of return is not another EU, EEA or Swiss State",
        description="`country_of_return` should not be a State of `data/free_movement.csv` whose membership is in "
        "`memberships`. A warning, not an error: handing a person over to another Member State is lawful (Art. "
        "6(2), residence permit there; Art. 6(3), bilateral readmission), but it is not a return under Art. 3(3), "
        "so SIS alerts and return statistics built from the event would be wrong; the record needs review.",
        severity=Severity.WARNING,
        path="payload.country_of_return",
        legal=LegalReference(RETURN_DIRECTIVE, "Art. 3(3); Art. 6(2) and 6(3)"),
        event_types=_DECISION,
        check=_check_return_to_member_state,
        params=Memberships(),
    ),
)
