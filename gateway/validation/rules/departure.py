"""Departure and the Entry/Exit System (Reg. 2017/2226): exit and entry records, departure against the case.

A departure instant is judged against calendar dates of the case (decision date, last day of the period for
voluntary departure) on the calendar date it falls on in the deciding Member State's zone (``ctx.zone``): 23:30
local time on the last day is in time even when it is already the next day in UTC.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gateway.events.models import CaseEvent, DepartureConfirmed, DepartureEvidence, EntryRecorded, EventType, Severity
from gateway.validation.dates import local_date
from gateway.validation.legal import (
    EES,
    MIGRATION_STATISTICS,
    RETURN_DIRECTIVE,
    SIS_RETURN,
    TO_BE_CONFIRMED,
    LegalReference,
)
from gateway.validation.rule import NO_VIOLATIONS, NoParams, Rule, RuleContext, RuleParams, Violation
from gateway.validation.rules.common import is_blank

_DEPARTURE = frozenset({EventType.DEPARTURE_CONFIRMED})


class CrossingPointEvidence(RuleParams):
    """Kinds of evidence that come with a border crossing point."""

    evidence: tuple[DepartureEvidence, ...] = (DepartureEvidence.EES_EXIT_RECORD,)


def _check_exit_crossing_point(
    event: CaseEvent, ctx: RuleContext, params: CrossingPointEvidence
) -> Sequence[Violation]:
    p = event.payload
    if not isinstance(p, DepartureConfirmed) or not is_blank(p.border_crossing_point):
        return NO_VIOLATIONS
    kinds = [e for e in p.evidence if e in params.evidence]
    if not kinds:
        return NO_VIOLATIONS
    return (
        Violation(
            "payload.border_crossing_point",
            f"the departure rests on {kinds[0]}, but the border crossing point of exit is missing",
        ),
    )


def _check_after_decision(event: CaseEvent, ctx: RuleContext, params: NoParams) -> Sequence[Violation]:
    p = event.payload
    decided = ctx.state.decision_date
    if not isinstance(p, DepartureConfirmed) or decided is None:
        return NO_VIOLATIONS
    # The departure instant is turned into the Member State's calendar date; the decision date is not shifted.
    day = local_date(p.departed_at, ctx.zone)
    if day >= decided:
        return NO_VIOLATIONS
    return (
        Violation(
            "payload.departed_at",
            f"the departure on {day} (local date) is before the return decision of {decided}; it is not a return "
            "under that decision",
        ),
    )


def _check_assisted(event: CaseEvent, ctx: RuleContext, params: NoParams) -> Sequence[Violation]:
    p = event.payload
    if not isinstance(p, DepartureConfirmed) or not p.assisted:
        return NO_VIOLATIONS
    granted = ctx.state.assistance_granted_on
    if granted is None:
        return (
            Violation(
                "payload.assisted", "the departure is marked assisted, but no assistance was granted in the case"
            ),
        )
    day = local_date(p.departed_at, ctx.zone)
    if granted > day:
        return (
            Violation(
                "payload.assisted",
                f"the departure on {day} is marked assisted, but assistance was granted only on {granted}",
            ),
        )
    return NO_VIOLATIONS


def _check_in_period(event: CaseEvent, ctx: RuleContext, params: NoParams) -> Sequence[Violation]:
    p = event.payload
    state = ctx.state
    last = state.departure_last_day
    # Judged only against a decision that stands as issued: after a suspension or postponement the state does not
    # know how long the period stood still, and a withdrawn or annulled decision has no period to miss.
    if not isinstance(p, DepartureConfirmed) or last is None or state.decision_status is not None:
        return NO_VIOLATIONS
    if p.decision_reference is not None and p.decision_reference != state.decision_reference:
        return NO_VIOLATIONS
    day = local_date(p.departed_at, ctx.zone)
    if day <= last:
        return NO_VIOLATIONS
    local = p.departed_at.astimezone(ctx.zone)
    return (
        Violation(
            "payload.departed_at",
            f"the departure at {local:%Y-%m-%d %H:%M} local time ({event.member_state}) is after {last}, the last "
            f"day of the period for voluntary departure (extensions included) of decision {state.decision_reference}",
        ),
    )


def _check_entry_crossing_point(event: CaseEvent, ctx: RuleContext, params: NoParams) -> Sequence[Violation]:
    p = event.payload
    if not isinstance(p, EntryRecorded) or not is_blank(p.border_crossing_point):
        return NO_VIOLATIONS
    return (Violation("payload.border_crossing_point", "the entry record has no border crossing point"),)


RULES: tuple[Rule[Any], ...] = (
    Rule(
        id="DEP-001",
        title="An exit recorded in EES has a border crossing point",
        description="When `evidence` includes one of the configured kinds (default: EES_EXIT_RECORD), "
        "`border_crossing_point` must be set. The date and time of exit is mandatory in the schema.",
        severity=Severity.ERROR,
        path="payload.border_crossing_point",
        legal=LegalReference(EES, "Art. 16(3)", TO_BE_CONFIRMED),
        event_types=_DEPARTURE,
        check=_check_exit_crossing_point,
        params=CrossingPointEvidence(),
    ),
    Rule(
        id="DEP-002",
        title="A departure is not before the return decision",
        description="The calendar date of `departed_at` in the Member State's time zone must not be before the "
        "case's return decision date (case state). Without a known decision the rule is silent.",
        severity=Severity.ERROR,
        path="payload.departed_at",
        legal=LegalReference(SIS_RETURN, "Art. 2 (return and return decision as in Directive 2008/115/EC)"),
        event_types=_DEPARTURE,
        check=_check_after_decision,
        params=NoParams(),
    ),
    Rule(
        id="DEP-003",
        title="An assisted departure has assistance granted for the case",
        description="When `assisted` is true, the case state must hold a grant of assistance dated on or before "
        "the (local) departure date; statistics report returns by assistance received. A warning by default: "
        "the gateway's case state is its own partial view (a grant may have been dead-lettered or ingested "
        "elsewhere), so a missing grant is a reason to look, not proof.",
        severity=Severity.WARNING,
        path="payload.assisted",
        legal=LegalReference(MIGRATION_STATISTICS, "Art. 7 (type of return and assistance received)", TO_BE_CONFIRMED),
        event_types=_DEPARTURE,
        check=_check_assisted,
        params=NoParams(),
    ),
    Rule(
        id="DEP-004",
        title="An EES entry record has a border crossing point",
        description="`border_crossing_point` of an entry must not be blank.",
        severity=Severity.ERROR,
        path="payload.border_crossing_point",
        legal=LegalReference(EES, "Art. 16(2)(b)"),
        event_types=frozenset({EventType.ENTRY_RECORDED}),
        check=_check_entry_crossing_point,
        params=NoParams(),
    ),
    Rule(
        id="DEP-005",
        title="A departure is within the period for voluntary departure",
        description="The calendar date of `departed_at` in the deciding Member State's time zone "
        "(`settings.time_zones`) must not be after the case's last day of the period (case state, extensions "
        "included): 23:30 local time on the last day is in time, 00:30 the next day is late. Silent without a "
        "granted period, when the departure names another decision, and once the decision's status changed "
        "(suspended, postponed, resumed, withdrawn, ...), since the state does not know how long a suspension "
        "stopped the period. A warning: the departure is a fact and must reach SIS and the statistics anyway.",
        severity=Severity.WARNING,
        path="payload.departed_at",
        legal=LegalReference(RETURN_DIRECTIVE, "Art. 7(1) and 7(2); Reg. 2018/1860 Art. 6 and 7"),
        event_types=_DEPARTURE,
        check=_check_in_period,
        params=NoParams(),
    ),
)
