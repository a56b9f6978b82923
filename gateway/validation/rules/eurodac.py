"""Eurodac (Reg. 2024/1358): the AVRR element, the minimum age, transmission deadlines, the security flag.

The point of the adopted text that records return and reintegration assistance was not found; the AVRR rules
cite it as "Reg. 2024/1358 Art. 16-17 (point to be confirmed)" and a deployment can switch them off.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from typing import Any

from pydantic import Field, field_validator

from gateway.events.models import (
    AssistanceGranted,
    AvrrStatus,
    BiometricsCaptured,
    CaseEvent,
    DatePrecision,
    EurodacCategory,
    EurodacHitReceived,
    EventType,
    MemberState,
    SecurityGround,
    Severity,
)
from gateway.validation.codelists import MEMBER_STATES
from gateway.validation.dates import LeapDayBirthday, has_reached_age, latest_possible_date
from gateway.validation.legal import AVRR_ELEMENT, EURODAC, LegalReference
from gateway.validation.rule import NO_VIOLATIONS, NoParams, Rule, RuleContext, RuleParams, Violation
from gateway.validation.rules.common import date_in_future, is_blank

_GRANTED = frozenset({EventType.ASSISTANCE_GRANTED})
_BIOMETRICS = frozenset({EventType.BIOMETRICS_CAPTURED})
_HIT = frozenset({EventType.EURODAC_HIT_RECEIVED})
# The `granted` flag each AVRR status implies; UNKNOWN implies nothing.
_GRANTED_FLAG: dict[AvrrStatus, bool] = {
    AvrrStatus.APPLIED: False,
    AvrrStatus.GRANTED: True,
    AvrrStatus.REFUSED: False,
    AvrrStatus.WITHDRAWN: False,
}


class GrantingStates(RuleParams):
    """Member State codes that may grant AVRR recorded in Eurodac."""

    allowed: tuple[MemberState, ...] = tuple(sorted(MEMBER_STATES))

    @field_validator("allowed")
    @classmethod
    def _no_unknown(cls, value: tuple[MemberState, ...]) -> tuple[MemberState, ...]:
        if MemberState.UNKNOWN in value:
            raise ValueError("UNKNOWN is not a Member State")
        return value


def _check_granting_state(event: CaseEvent, ctx: RuleContext, params: GrantingStates) -> Sequence[Violation]:
    p = event.payload
    if not isinstance(p, AssistanceGranted) or p.granting_member_state in params.allowed:
        return NO_VIOLATIONS
    return (
        Violation(
            "payload.granting_member_state",
            f"the granting Member State is {p.granting_member_state}; Eurodac needs an EU or Schengen-associated "
            "Member State code",
        ),
    )


def _check_grant_not_future(event: CaseEvent, ctx: RuleContext, params: NoParams) -> Sequence[Violation]:
    p = event.payload
    if not isinstance(p, AssistanceGranted) or not date_in_future(p.grant_date, ctx):
        return NO_VIOLATIONS
    return (Violation("payload.grant_date", f"the grant date {p.grant_date} is in the future (today is {ctx.today})"),)


def _check_grant_after_application(event: CaseEvent, ctx: RuleContext, params: NoParams) -> Sequence[Violation]:
    p = event.payload
    if not isinstance(p, AssistanceGranted):
        return NO_VIOLATIONS
    applied = p.application_date or ctx.state.assistance_applied_on
    if applied is None or p.grant_date >= applied:
        return NO_VIOLATIONS
    return (
        Violation(
            "payload.grant_date",
            f"assistance was granted on {p.grant_date}, before the application of {applied}",
        ),
    )


def _check_programme_reference(event: CaseEvent, ctx: RuleContext, params: NoParams) -> Sequence[Violation]:
    p = event.payload
    if not isinstance(p, AssistanceGranted) or not is_blank(p.programme_reference):
        return NO_VIOLATIONS
    return (Violation("payload.programme_reference", "the grant of assistance names no programme"),)


class MinimumAge(RuleParams):
    """Minimum age for taking biometric data, and how to read partial or leap-day dates of birth.

    Attributes:
        min_age_years: Minimum age in whole years on the day the biometric data are taken.
        leap_day_birthday: When someone born on 29 February turns a year older in a common year; MARCH_1 is the
            conservative choice (the later day).
        flag_unknown_birth_date: Report a subject whose year of birth is unknown (age cannot be checked).
    """

    min_age_years: int = Field(6, ge=0, le=18)
    leap_day_birthday: LeapDayBirthday = LeapDayBirthday.MARCH_1
    flag_unknown_birth_date: bool = False


def _check_minimum_age(event: CaseEvent, ctx: RuleContext, params: MinimumAge) -> Sequence[Violation]:
    p = event.payload
    if not isinstance(p, BiometricsCaptured):
        return NO_VIOLATIONS
    dob = p.identity.date_of_birth
    taken = p.biometrics_taken_on
    # Fast path: born in a year that ends more than min_age years before the capture year.
    if dob.year is not None and dob.year + params.min_age_years < taken.year and dob.year >= 1:
        return NO_VIOLATIONS
    # Conservative: the latest date the partial date can stand for, so a subject is never taken to be older
    # than they may be (year only: 31 December; year and month: the month's last day).
    birth = latest_possible_date(dob)
    if birth is None:
        if params.flag_unknown_birth_date and dob.precision is DatePrecision.UNKNOWN:
            return (
                Violation(
                    "payload.identity.date_of_birth",
                    f"the date of birth is unknown, so it cannot be checked that the subject was at least "
                    f"{params.min_age_years} when biometric data were taken",
                ),
            )
        return NO_VIOLATIONS
    if has_reached_age(birth, params.min_age_years, p.biometrics_taken_on, params.leap_day_birthday):
        return NO_VIOLATIONS
    basis = "" if dob.precision is DatePrecision.DAY else f" (partial date of birth read as {birth})"
    return (
        Violation(
            "payload.biometrics_taken_on",
            f"the subject may be under {params.min_age_years} on {p.biometrics_taken_on}{basis}; biometric data are "
            f"taken only from persons aged {params.min_age_years} or over",
        ),
    )


DEFAULT_DEADLINES: dict[EurodacCategory, int | None] = {
    EurodacCategory.APPLICANT: 72,
    EurodacCategory.IRREGULAR_CROSSING: 72,
    EurodacCategory.ILLEGAL_STAY: 72,
    EurodacCategory.SEARCH_AND_RESCUE: 72,
    EurodacCategory.TEMPORARY_PROTECTION: 240,
    EurodacCategory.NATIONAL_RESETTLEMENT: None,
    EurodacCategory.RESETTLEMENT_ADMITTED: None,
    EurodacCategory.UNKNOWN: None,
}


class Deadlines(RuleParams):
    """Hours from registration or apprehension within which the dataset must reach Eurodac, per category.

    Null means no fixed deadline. Categories not named keep their defaults. The 72 h for illegally staying
    persons and persons disembarked after search and rescue were not verified.
    """

    hours: dict[EurodacCategory, int | None] = Field(default_factory=lambda: dict(DEFAULT_DEADLINES))

    @field_validator("hours")
    @classmethod
    def _merge(cls, value: dict[EurodacCategory, int | None]) -> dict[EurodacCategory, int | None]:
        if any(h is not None and h <= 0 for h in value.values()):
            raise ValueError("deadlines must be positive numbers of hours")
        return {**DEFAULT_DEADLINES, **value}

    @functools.cached_property
    def windows(self) -> dict[EurodacCategory, dt.timedelta]:
        """The deadlines as time spans, built once."""
        return {c: dt.timedelta(hours=h) for c, h in self.hours.items() if h is not None}


def _check_deadline(event: CaseEvent, ctx: RuleContext, params: Deadlines) -> Sequence[Violation]:
    p = event.payload
    if not isinstance(p, BiometricsCaptured):
        return NO_VIOLATIONS
    window = params.windows.get(p.category)
    if window is None:
        return NO_VIOLATIONS
    deadline = p.registered_at + window
    hours = params.hours[p.category]
    if p.transmitted_at is not None:
        if p.transmitted_at <= deadline:
            return NO_VIOLATIONS
        late = p.transmitted_at - p.registered_at
        return (
            Violation(
                "payload.transmitted_at",
                f"transmitted {late.total_seconds() / 3600:.1f} h after registration; the deadline for "
                f"{p.category} is {hours} h",
            ),
        )
    if ctx.now <= deadline:
        return NO_VIOLATIONS
    return (
        Violation(
            "payload.transmitted_at",
            f"not transmitted yet, and the {hours} h deadline for {p.category} passed at "
            f"{deadline.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC",
        ),
    )


class SecurityGrounds(RuleParams):
    """Grounds on which the Eurodac security flag may be set."""

    allowed: tuple[SecurityGround, ...] = tuple(g for g in SecurityGround if g is not SecurityGround.UNKNOWN)


def _check_security(event: CaseEvent, ctx: RuleContext, params: SecurityGrounds) -> Sequence[Violation]:
    p = event.payload
    if not isinstance(p, BiometricsCaptured) or not p.security_grounds:
        return NO_VIOLATIONS
    out = [
        Violation(f"payload.security_grounds[{i}]", f"{g} is not a ground on which the security flag may be set")
        for i, g in enumerate(p.security_grounds)
        if g not in params.allowed
    ]
    if len(set(p.security_grounds)) != len(p.security_grounds):
        out.append(Violation("payload.security_grounds", "a security ground is listed more than once"))
    return tuple(out)


DEFAULT_ARTICLES: dict[EurodacCategory, str] = {
    EurodacCategory.APPLICANT: "Art. 15",
    EurodacCategory.RESETTLEMENT_ADMITTED: "Art. 18",
    EurodacCategory.NATIONAL_RESETTLEMENT: "Art. 20",
    EurodacCategory.IRREGULAR_CROSSING: "Art. 22",
    EurodacCategory.ILLEGAL_STAY: "Art. 23",
    EurodacCategory.SEARCH_AND_RESCUE: "Art. 24",
    EurodacCategory.TEMPORARY_PROTECTION: "Art. 26",
}


class CategoryArticles(RuleParams):
    """The article under which each category's biometric data are collected; categories not named keep defaults."""

    articles: dict[EurodacCategory, str] = Field(default_factory=lambda: dict(DEFAULT_ARTICLES))

    @field_validator("articles")
    @classmethod
    def _merge(cls, value: dict[EurodacCategory, str]) -> dict[EurodacCategory, str]:
        return {**DEFAULT_ARTICLES, **value}


def _check_article(event: CaseEvent, ctx: RuleContext, params: CategoryArticles) -> Sequence[Violation]:
    p = event.payload
    if not isinstance(p, BiometricsCaptured):
        return NO_VIOLATIONS
    expected = params.articles.get(p.category)
    if expected is None:
        return (Violation("payload.category", f"category {p.category} has no Eurodac collection article"),)
    art = p.article.strip()
    if art == expected or art.startswith(f"{expected}("):
        return NO_VIOLATIONS
    return (Violation("payload.article", f"category {p.category} is collected under {expected}, not {p.article!r}"),)


def _check_hit_avrr(event: CaseEvent, ctx: RuleContext, params: NoParams) -> Sequence[Violation]:
    p = event.payload
    if not isinstance(p, EurodacHitReceived) or p.avrr is None:
        return NO_VIOLATIONS
    # Data written before schema v2 has no status; then only the flag says whether assistance was granted.
    status = p.avrr.status
    if not (status is AvrrStatus.GRANTED or (status is None and p.avrr.granted)):
        return NO_VIOLATIONS
    out: list[Violation] = []
    if p.avrr.granting_member_state is MemberState.UNKNOWN:
        out.append(Violation("payload.avrr.granting_member_state", "the hit's AVRR element names no Member State"))
    if p.avrr.granted_on is not None and date_in_future(p.avrr.granted_on, ctx):
        out.append(
            Violation("payload.avrr.granted_on", f"the hit's AVRR grant date {p.avrr.granted_on} is in the future")
        )
    return tuple(out)


def _check_hit_avrr_status(event: CaseEvent, ctx: RuleContext, params: NoParams) -> Sequence[Violation]:
    p = event.payload
    if not isinstance(p, EurodacHitReceived) or p.avrr is None or p.avrr.status is None:
        return NO_VIOLATIONS
    expected = _GRANTED_FLAG.get(p.avrr.status)
    if expected is None or p.avrr.granted is expected:
        return NO_VIOLATIONS
    return (
        Violation(
            "payload.avrr.status",
            f"the hit's AVRR status is {p.avrr.status}, which requires granted = {str(expected).lower()}, but "
            f"granted is {str(p.avrr.granted).lower()}",
        ),
    )


RULES: tuple[Rule[Any], ...] = (
    Rule(
        id="EU-001",
        title="AVRR granted: the granting Member State is an EU or Schengen-associated State",
        description="`granting_member_state` must be one of `allowed` (default: EU 27, IS, LI, NO, CH; never UNKNOWN).",
        severity=Severity.ERROR,
        path="payload.granting_member_state",
        legal=AVRR_ELEMENT,
        event_types=_GRANTED,
        check=_check_granting_state,
        params=GrantingStates(),
    ),
    Rule(
        id="EU-002",
        title="AVRR granted: the grant date is not in the future",
        description="`grant_date` must not be after today's date in the case's Member State.",
        severity=Severity.ERROR,
        path="payload.grant_date",
        legal=AVRR_ELEMENT,
        event_types=_GRANTED,
        check=_check_grant_not_future,
        params=NoParams(),
    ),
    Rule(
        id="EU-003",
        title="AVRR granted: the grant date is not before the application",
        description="`grant_date` must not be before `application_date`, or before the application recorded in the "
        "case state when the event has none.",
        severity=Severity.ERROR,
        path="payload.grant_date",
        legal=AVRR_ELEMENT,
        event_types=_GRANTED,
        check=_check_grant_after_application,
        params=NoParams(),
    ),
    Rule(
        id="EU-004",
        title="AVRR granted: the programme reference is present",
        description="`programme_reference` must not be blank.",
        severity=Severity.ERROR,
        path="payload.programme_reference",
        legal=AVRR_ELEMENT,
        event_types=_GRANTED,
        check=_check_programme_reference,
        params=NoParams(),
    ),
    Rule(
        id="EU-005",
        title="The subject is at least 6 years old when biometric data are taken",
        description="Compares the date of birth with `biometrics_taken_on`. A subject who turns 6 on that day is 6. "
        "Partial dates are read conservatively as the latest possible day (year only: 31 December; year and month: "
        "last day of the month). 29 February birthdays fall on `leap_day_birthday` in common years. An unknown "
        "year of birth is reported only with `flag_unknown_birth_date`.",
        severity=Severity.ERROR,
        path="payload.biometrics_taken_on",
        legal=LegalReference(EURODAC, "Art. 15, 20, 22"),
        event_types=_BIOMETRICS,
        check=_check_minimum_age,
        params=MinimumAge(),
    ),
    Rule(
        id="EU-006",
        title="The dataset reaches Eurodac within the transmission deadline",
        description="`transmitted_at` (or, while it is null, `now`) must be at most `hours[category]` after "
        "`registered_at`, both instants compared in UTC: 72 h for applicants and irregular crossers, 10 days "
        "(240 h) for temporary protection; for illegal stay and search and rescue 72 h is believed, not verified.",
        severity=Severity.WARNING,
        path="payload.transmitted_at",
        legal=LegalReference(
            EURODAC, "Art. 15(1), 22(1), 23, 24, 26(1)", "deadlines of Art. 23 and 24 to be confirmed"
        ),
        event_types=_BIOMETRICS,
        check=_check_deadline,
        params=Deadlines(),
    ),
    Rule(
        id="EU-007",
        title="The security flag is set only on an allowed ground",
        description="Each of `security_grounds` must be in `allowed` (violent, unlawfully armed, terrorist offence, "
        "offence listed in the European Arrest Warrant Framework Decision) and appear once.",
        severity=Severity.ERROR,
        path="payload.security_grounds",
        legal=LegalReference(EURODAC, "recital on the security flag", "article to be confirmed"),
        event_types=_BIOMETRICS,
        check=_check_security,
        params=SecurityGrounds(),
    ),
    Rule(
        id="EU-008",
        title="The collection article matches the Eurodac category",
        description="`article` must be `articles[category]` or a paragraph of it (e.g. `Art. 22(1)`); UNKNOWN "
        "category is reported.",
        severity=Severity.WARNING,
        path="payload.article",
        legal=LegalReference(EURODAC, "Art. 15, 18, 20, 22, 23, 24, 26", "Art. 23 and 24 to be confirmed"),
        event_types=_BIOMETRICS,
        check=_check_article,
        params=CategoryArticles(),
    ),
    Rule(
        id="EU-009",
        title="A hit's AVRR element is complete",
        description="When a Eurodac hit says AVRR was granted (`status` GRANTED, or no `status` and `granted` "
        "true), it names the granting Member State and its grant date, if any, is not in the future. The hit comes "
        "from another Member State, so this only warns.",
        severity=Severity.WARNING,
        path="payload.avrr",
        legal=AVRR_ELEMENT,
        event_types=_HIT,
        check=_check_hit_avrr,
        params=NoParams(),
    ),
    Rule(
        id="EU-010",
        title="A hit's AVRR status agrees with its granted flag",
        description="`status` GRANTED requires `granted` true; APPLIED, REFUSED and WITHDRAWN require `granted` "
        "false. A null or UNKNOWN `status` is not checked. A contradiction leaves open whether assistance was "
        "granted, so the event is refused rather than passed on.",
        severity=Severity.ERROR,
        path="payload.avrr.status",
        legal=AVRR_ELEMENT,
        event_types=_HIT,
        check=_check_hit_avrr_status,
        params=NoParams(),
    ),
)
