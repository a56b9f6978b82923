"""Return and reintegration assistance against the deployment's programme catalogue (RRAI-style entries)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from gateway.events.models import (
    AssistanceApplied,
    AssistanceComponent,
    AssistanceGranted,
    AssistanceRefused,
    CaseEvent,
    EventType,
    ProcedureStage,
    ReintegrationReferral,
    ReintegrationStatusChanged,
    Severity,
)
from gateway.validation.legal import LegalReference
from gateway.validation.programmes import ProgrammeView
from gateway.validation.rule import NO_VIOLATIONS, NoParams, Rule, RuleContext, Violation
from gateway.validation.rules.common import is_blank

_PACKAGE = frozenset({EventType.ASSISTANCE_APPLIED, EventType.ASSISTANCE_GRANTED})
_RRAI = LegalReference("COM(2021) 120", "RRAI (type and level of assistance, stage of procedure)")
_CENT = Decimal("0.01")
# isinstance() with a tuple, not an X | Y union: a union is rebuilt on every call of the hot path.
_PACKAGES = (AssistanceApplied, AssistanceGranted)
_BUDGETS = (ReintegrationReferral, ReintegrationStatusChanged)
_WITH_PROGRAMME = (AssistanceApplied, AssistanceGranted, AssistanceRefused, ReintegrationReferral)


def _amount_problem(amount: Decimal) -> str | None:
    if not amount.is_finite() or amount < 0:
        return f"amount {amount} EUR is not a non-negative number"
    if not amount.same_quantum(_CENT):
        return f"amount {amount} EUR must be written with exactly two decimals"
    return None


def _check_amount_format(event: CaseEvent, ctx: RuleContext, params: NoParams) -> Sequence[Violation]:
    p = event.payload
    if isinstance(p, _PACKAGES):
        field, amounts = "components", [c.amount_eur for c in p.components]
    elif isinstance(p, _BUDGETS):
        field, amounts = "budget_lines", [b.amount_eur for b in p.budget_lines]
    else:
        return NO_VIOLATIONS
    out = []
    for i, amount in enumerate(amounts):
        problem = None if amount is None else _amount_problem(amount)
        if problem is not None:
            out.append(Violation(f"payload.{field}[{i}].amount_eur", problem))
    return tuple(out)


def _reference_date(p: Any) -> dt.date | None:
    if isinstance(p, AssistanceApplied):
        return p.application_date
    if isinstance(p, AssistanceGranted):
        return p.application_date or p.grant_date
    return None


def _check_programme_known(event: CaseEvent, ctx: RuleContext, params: NoParams) -> Sequence[Violation]:
    p = event.payload
    if not isinstance(p, _WITH_PROGRAMME):
        return NO_VIOLATIONS
    ref = p.programme_reference
    if ref is None or is_blank(ref):
        return NO_VIOLATIONS
    view = ctx.programmes.get(ref)
    if view is None:
        return (Violation("payload.programme_reference", f"programme {ref!r} is not in the programme catalogue"),)
    day = _reference_date(p)
    programme = view.programme
    if day is None:
        return NO_VIOLATIONS
    if (programme.valid_from and day < programme.valid_from) or (programme.valid_until and day > programme.valid_until):
        return (
            Violation(
                "payload.programme_reference",
                f"programme {ref} accepts applications from {programme.valid_from or 'any date'} to "
                f"{programme.valid_until or 'any date'}, not on {day}",
            ),
        )
    return NO_VIOLATIONS


def _package(event: CaseEvent, ctx: RuleContext) -> tuple[ProgrammeView, tuple[AssistanceComponent, ...]] | None:
    p = event.payload
    if not isinstance(p, _PACKAGES):
        return None
    view = ctx.programmes.get(p.programme_reference)
    return None if view is None else (view, p.components)


def _check_components_offered(event: CaseEvent, ctx: RuleContext, params: NoParams) -> Sequence[Violation]:
    found = _package(event, ctx)
    if found is None:
        return NO_VIOLATIONS
    view, components = found
    out = []
    for i, c in enumerate(components):
        offer = view.components.get(c.type)
        if offer is None:
            out.append(Violation(f"payload.components[{i}].type", f"programme {view.reference} offers no {c.type}"))
        elif c.form not in offer.forms:
            forms = " or ".join(offer.forms)
            out.append(
                Violation(
                    f"payload.components[{i}].form",
                    f"programme {view.reference} gives {c.type} as {forms}, not {c.form}",
                )
            )
    return tuple(out)


def _check_limits(event: CaseEvent, ctx: RuleContext, params: NoParams) -> Sequence[Violation]:
    found = _package(event, ctx)
    if found is None:
        return NO_VIOLATIONS
    view, components = found
    out = []
    total = Decimal(0)
    for i, c in enumerate(components):
        amount = c.amount_eur
        if amount is None or not amount.is_finite():
            continue
        total += amount
        offer = view.components.get(c.type)
        cap = None if offer is None else offer.max_amount_eur
        if cap is not None and amount > cap:
            out.append(
                Violation(
                    f"payload.components[{i}].amount_eur",
                    f"{c.type} of {amount} EUR exceeds the programme's level of {cap} EUR",
                )
            )
    cap_total = view.programme.max_total_eur
    if cap_total is not None and total > cap_total:
        out.append(
            Violation(
                "payload.components",
                f"the package totals {total} EUR, above programme {view.reference}'s cap of {cap_total} EUR",
            )
        )
    return tuple(out)


def _check_stage(event: CaseEvent, ctx: RuleContext, params: NoParams) -> Sequence[Violation]:
    p = event.payload
    if not isinstance(p, _PACKAGES):
        return NO_VIOLATIONS
    if p.stage is ProcedureStage.UNKNOWN:
        return (Violation("payload.stage", "the stage of procedure is UNKNOWN"),)
    view = ctx.programmes.get(p.programme_reference)
    if view is None or p.stage in view.stages:
        return NO_VIOLATIONS
    allowed = ", ".join(sorted(view.stages))
    return (Violation("payload.stage", f"programme {view.reference} is offered at {allowed}, not at {p.stage}"),)


RULES: tuple[Rule[Any], ...] = (
    Rule(
        id="AS-001",
        title="Amounts are non-negative EUR with exactly two decimals",
        description="Every `amount_eur` of assistance components and reintegration budget lines must be a finite, "
        "non-negative amount written with two decimals (`300.00`, not `300` or `300.5`).",
        severity=Severity.ERROR,
        path="payload.components[].amount_eur",
        legal=LegalReference("Canonical schema eu.returns.gateway.v1", "amount_eur (EUR, two decimals)"),
        event_types=frozenset(
            {
                EventType.ASSISTANCE_APPLIED,
                EventType.ASSISTANCE_GRANTED,
                EventType.REINTEGRATION_REFERRAL,
                EventType.REINTEGRATION_STATUS_CHANGED,
            }
        ),
        check=_check_amount_format,
        params=NoParams(),
    ),
    Rule(
        id="AS-002",
        title="The programme is in the programme catalogue and open on the application date",
        description="A non-blank `programme_reference` must name a programme of the catalogue; for applications "
        "and grants, the application date (or grant date) must lie within its `valid_from`/`valid_until`.",
        severity=Severity.ERROR,
        path="payload.programme_reference",
        legal=_RRAI,
        event_types=frozenset(
            {
                EventType.ASSISTANCE_APPLIED,
                EventType.ASSISTANCE_GRANTED,
                EventType.ASSISTANCE_REFUSED,
                EventType.REINTEGRATION_REFERRAL,
            }
        ),
        check=_check_programme_known,
        params=NoParams(),
        needs_programmes=True,
    ),
    Rule(
        id="AS-003",
        title="Each component is offered by the programme, in that form",
        description="Each component's `type` must be one the programme offers and its `form` (cash or in kind) one "
        "of the forms the programme gives it in. Unknown programmes are AS-002's concern.",
        severity=Severity.ERROR,
        path="payload.components[]",
        legal=_RRAI,
        event_types=_PACKAGE,
        check=_check_components_offered,
        params=NoParams(),
        needs_programmes=True,
    ),
    Rule(
        id="AS-004",
        title="Amounts are within the programme's levels",
        description="Each component's `amount_eur` must not exceed the programme's `max_amount_eur` for its type, "
        "and their sum must not exceed `max_total_eur`.",
        severity=Severity.ERROR,
        path="payload.components[].amount_eur",
        legal=_RRAI,
        event_types=_PACKAGE,
        check=_check_limits,
        params=NoParams(),
        needs_programmes=True,
    ),
    Rule(
        id="AS-005",
        title="The stage of procedure is one the programme allows",
        description="`stage` must not be UNKNOWN and must be among the programme's `stages`.",
        severity=Severity.ERROR,
        path="payload.stage",
        legal=_RRAI,
        event_types=_PACKAGE,
        check=_check_stage,
        params=NoParams(),
        needs_programmes=True,
    ),
)
