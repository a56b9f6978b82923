"""Voluntary departure: Return Directive 2008/115/EC Art. 7 and the SIS field Reg. 2018/1860 Art. 4(1)(x)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import Field, model_validator

from gateway.events.models import (
    CaseEvent,
    EventType,
    ExtensionReason,
    ReturnDecisionIssued,
    Severity,
    ShortPeriodGround,
    VoluntaryDeparture,
    VoluntaryDepartureExtended,
)
from gateway.validation.legal import RETURN_DIRECTIVE, SIS_RETURN, TO_BE_CONFIRMED, LegalReference
from gateway.validation.rule import NO_VIOLATIONS, NoParams, Rule, RuleContext, RuleParams, Violation
from gateway.validation.rules.common import is_blank

_DECISION = frozenset({EventType.RETURN_DECISION_ISSUED})
_EXTENSION = frozenset({EventType.VOLUNTARY_DEPARTURE_EXTENDED})
_VD = "payload.voluntary_departure"


def _has_ground(vd: VoluntaryDeparture) -> bool:
    return vd.shortened_ground is not None and vd.shortened_ground is not ShortPeriodGround.UNKNOWN


def span_days(vd: VoluntaryDeparture, counts_both_ends: bool) -> int | None:
    """Length of the period from its first and last day under the deployment's counting convention."""
    if vd.first_day is None or vd.last_day is None:
        return None
    return (vd.last_day - vd.first_day).days + (1 if counts_both_ends else 0)


class LengthBounds(RuleParams):
    """Bounds of the period for voluntary departure, in days, both inclusive."""

    min_days: int = Field(7, ge=0)
    max_days: int = Field(30, ge=1)

    @model_validator(mode="after")
    def _ordered(self) -> LengthBounds:
        if self.min_days > self.max_days:
            raise ValueError("min_days must not exceed max_days")
        return self


def _check_length(event: CaseEvent, ctx: RuleContext, params: LengthBounds) -> Sequence[Violation]:
    p = event.payload
    if not isinstance(p, ReturnDecisionIssued) or not p.voluntary_departure.granted:
        return NO_VIOLATIONS
    vd = p.voluntary_departure
    n = vd.length_days if vd.length_days is not None else span_days(vd, ctx.settings.vd_length_counts_both_ends)
    if n is None:
        return NO_VIOLATIONS
    if n > params.max_days:
        return (
            Violation(
                f"{_VD}.length_days",
                f"the period for voluntary departure lasts {n} days; the maximum is {params.max_days} days "
                "(a longer period needs an extension under Art. 7(2))",
            ),
        )
    if n < params.min_days and not _has_ground(vd):
        return (
            Violation(
                f"{_VD}.length_days",
                f"the period for voluntary departure lasts {n} days, less than the minimum of {params.min_days}, "
                "and no Art. 7(4) ground (risk of absconding, manifestly unfounded or fraudulent application, "
                "risk to public policy or security) is recorded",
            ),
        )
    return NO_VIOLATIONS


def _check_no_period_ground(event: CaseEvent, ctx: RuleContext, params: NoParams) -> Sequence[Violation]:
    p = event.payload
    if not isinstance(p, ReturnDecisionIssued) or p.voluntary_departure.granted:
        return NO_VIOLATIONS
    if _has_ground(p.voluntary_departure):
        return NO_VIOLATIONS
    return (
        Violation(
            f"{_VD}.shortened_ground",
            "no period for voluntary departure was granted, but no Art. 7(4) ground is recorded",
        ),
    )


def _check_first_day(event: CaseEvent, ctx: RuleContext, params: NoParams) -> Sequence[Violation]:
    p = event.payload
    if not isinstance(p, ReturnDecisionIssued):
        return NO_VIOLATIONS
    first = p.voluntary_departure.first_day
    if first is None or first >= p.decision_date:
        return NO_VIOLATIONS
    return (
        Violation(
            f"{_VD}.first_day",
            f"the period for voluntary departure starts on {first}, before the decision date {p.decision_date}",
        ),
    )


def _check_last_after_first(event: CaseEvent, ctx: RuleContext, params: NoParams) -> Sequence[Violation]:
    p = event.payload
    if not isinstance(p, ReturnDecisionIssued):
        return NO_VIOLATIONS
    vd = p.voluntary_departure
    if vd.first_day is None or vd.last_day is None or vd.last_day >= vd.first_day:
        return NO_VIOLATIONS
    return (
        Violation(
            f"{_VD}.last_day",
            f"the last day of the period ({vd.last_day}) is before its first day ({vd.first_day})",
        ),
    )


def _check_length_matches_days(event: CaseEvent, ctx: RuleContext, params: NoParams) -> Sequence[Violation]:
    p = event.payload
    if not isinstance(p, ReturnDecisionIssued):
        return NO_VIOLATIONS
    vd = p.voluntary_departure
    both = ctx.settings.vd_length_counts_both_ends
    span = span_days(vd, both)
    if vd.length_days is None or span is None or span == vd.length_days:
        return NO_VIOLATIONS
    convention = "both days counted" if both else "first day not counted"
    return (
        Violation(
            f"{_VD}.length_days",
            f"the recorded length is {vd.length_days} days but {vd.first_day} to {vd.last_day} is {span} days "
            f"({convention})",
        ),
    )


def _check_last_day_present(event: CaseEvent, ctx: RuleContext, params: NoParams) -> Sequence[Violation]:
    p = event.payload
    if not isinstance(p, ReturnDecisionIssued):
        return NO_VIOLATIONS
    vd = p.voluntary_departure
    if vd.granted and vd.last_day is None:
        return (
            Violation(
                f"{_VD}.last_day",
                "a period for voluntary departure was granted but its last day is missing; the SIS return alert "
                "needs it",
            ),
        )
    if not vd.granted and vd.last_day is not None:
        return (
            Violation(
                f"{_VD}.last_day",
                "no period for voluntary departure was granted, yet a last day is recorded; the SIS alert may carry "
                "it only if a period was granted",
            ),
        )
    return NO_VIOLATIONS


def _check_extension_later(event: CaseEvent, ctx: RuleContext, params: NoParams) -> Sequence[Violation]:
    p = event.payload
    if not isinstance(p, VoluntaryDepartureExtended):
        return NO_VIOLATIONS
    state = ctx.state
    if state.decision_reference is not None and state.departure_granted is False:
        return (
            Violation(
                "payload.new_last_day",
                f"return decision {state.decision_reference} granted no period for voluntary departure; there is "
                "nothing to extend",
            ),
        )
    current = state.departure_last_day or p.previous_last_day
    if current is None or p.new_last_day > current:
        return NO_VIOLATIONS
    return (
        Violation(
            "payload.new_last_day",
            f"the extension does not move the last day later: new last day {p.new_last_day}, current {current}",
        ),
    )


class ExtensionReasonParams(RuleParams):
    """Whether an extension for an OTHER reason must explain it in ``reason_text``."""

    other_requires_text: bool = True


def _check_extension_reason(event: CaseEvent, ctx: RuleContext, params: ExtensionReasonParams) -> Sequence[Violation]:
    p = event.payload
    if not isinstance(p, VoluntaryDepartureExtended):
        return NO_VIOLATIONS
    if p.reason is ExtensionReason.UNKNOWN:
        return (Violation("payload.reason", "the extension does not record its reason"),)
    if p.reason is ExtensionReason.OTHER and params.other_requires_text and is_blank(p.reason_text):
        return (Violation("payload.reason_text", "the extension's reason is OTHER but no explanation is recorded"),)
    return NO_VIOLATIONS


def _check_extension_in_sync(event: CaseEvent, ctx: RuleContext, params: NoParams) -> Sequence[Violation]:
    p = event.payload
    if not isinstance(p, VoluntaryDepartureExtended):
        return NO_VIOLATIONS
    current = ctx.state.departure_last_day
    if current is None or p.previous_last_day is None or p.previous_last_day == current:
        return NO_VIOLATIONS
    return (
        Violation(
            "payload.previous_last_day",
            f"the extension says the last day was {p.previous_last_day}, but the case's current last day is "
            f"{current}; an earlier extension may be missing",
        ),
    )


_ART_7_1 = LegalReference(RETURN_DIRECTIVE, "Art. 7(1)")
_ART_7_2 = LegalReference(RETURN_DIRECTIVE, "Art. 7(2)")
_ART_7_4 = LegalReference(RETURN_DIRECTIVE, "Art. 7(4)", TO_BE_CONFIRMED)

RULES: tuple[Rule[Any], ...] = (
    Rule(
        id="VD-001",
        title="A granted period lasts between 7 and 30 days, or less only with an Art. 7(4) ground",
        description="Uses `length_days`, or the span from first to last day when it is missing. Above `max_days` "
        "is an error; below `min_days` is an error unless `shortened_ground` records an Art. 7(4) ground. "
        "Art. 7(1) allows leaving earlier, which this rule does not concern.",
        severity=Severity.ERROR,
        path=f"{_VD}.length_days",
        legal=LegalReference(RETURN_DIRECTIVE, "Art. 7(1) and 7(4)", "Art. 7(4) to be confirmed"),
        event_types=_DECISION,
        check=_check_length,
        params=LengthBounds(),
    ),
    Rule(
        id="VD-002",
        title="No period for voluntary departure only with an Art. 7(4) ground",
        description="When `granted` is false, `shortened_ground` must name a ground (not null, not UNKNOWN). "
        "Art. 7(4) was read only in part: the three grounds follow the canonical `ShortPeriodGround` list.",
        severity=Severity.ERROR,
        path=f"{_VD}.shortened_ground",
        legal=_ART_7_4,
        event_types=_DECISION,
        check=_check_no_period_ground,
        params=NoParams(),
    ),
    Rule(
        id="VD-003",
        title="The period does not start before the decision date",
        description="`first_day` must not be earlier than `decision_date` (both calendar dates, compared as such).",
        severity=Severity.ERROR,
        path=f"{_VD}.first_day",
        legal=_ART_7_1,
        event_types=_DECISION,
        check=_check_first_day,
        params=NoParams(),
    ),
    Rule(
        id="VD-004",
        title="The last day of the period is not before its first day",
        description="`last_day` must not be earlier than `first_day`; a one-day period (same day) is allowed.",
        severity=Severity.ERROR,
        path=f"{_VD}.last_day",
        legal=_ART_7_1,
        event_types=_DECISION,
        check=_check_last_after_first,
        params=NoParams(),
    ),
    Rule(
        id="VD-005",
        title="The recorded length matches the first and last day",
        description="When `length_days`, `first_day` and `last_day` are all set, the length must equal the span "
        "under `settings.vd_length_counts_both_ends` (default true: 3 to 5 March is 3 days).",
        severity=Severity.ERROR,
        path=f"{_VD}.length_days",
        legal=_ART_7_1,
        event_types=_DECISION,
        check=_check_length_matches_days,
        params=NoParams(),
    ),
    Rule(
        id="VD-006",
        title="A granted period has its last day, and only a granted one",
        description="The SIS return alert carries the last day of the period if one was granted: `last_day` is "
        "required when `granted` is true and must be null when it is false.",
        severity=Severity.ERROR,
        path=f"{_VD}.last_day",
        legal=LegalReference(SIS_RETURN, "Art. 4(1)(x)"),
        event_types=_DECISION,
        check=_check_last_day_present,
        params=NoParams(),
    ),
    Rule(
        id="VD-007",
        title="An extension moves the last day later",
        description="`new_last_day` must be after the case's current last day (case state; the event's "
        "`previous_last_day` when the state has none). Extending a decision that granted no period is an error.",
        severity=Severity.ERROR,
        path="payload.new_last_day",
        legal=_ART_7_2,
        event_types=_EXTENSION,
        check=_check_extension_later,
        params=NoParams(),
    ),
    Rule(
        id="VD-008",
        title="An extension records its reason",
        description="`reason` must not be UNKNOWN; with OTHER, `reason_text` must explain it "
        "(`other_requires_text`). Art. 7(2) names length of stay, children at school, family and social links.",
        severity=Severity.ERROR,
        path="payload.reason",
        legal=_ART_7_2,
        event_types=_EXTENSION,
        check=_check_extension_reason,
        params=ExtensionReasonParams(),
    ),
    Rule(
        id="VD-009",
        title="An extension starts from the case's current last day",
        description="When both are known, the event's `previous_last_day` must equal the current last day in the "
        "case state; a mismatch suggests a missed or reordered extension. The SIS alert must record every "
        "extension (Reg. 2018/1860 Art. 3(4)).",
        severity=Severity.WARNING,
        path="payload.previous_last_day",
        legal=LegalReference(SIS_RETURN, "Art. 3(4)"),
        event_types=_EXTENSION,
        check=_check_extension_in_sync,
        params=NoParams(),
    ),
)
