"""Code lists and dates: country, Member State, sex and document codes; partial dates; facts not in the future.

Dates are calendar dates and are never shifted through a time zone; "today" is the calendar date of ``now`` in
the case's Member State. Instants are compared in UTC, with the configured clock-skew tolerance.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import Field, field_validator

from gateway.errors import MappingError
from gateway.events.models import (
    AssistanceApplied,
    AssistanceGranted,
    AssistanceRefused,
    BiometricsCaptured,
    CaseEvent,
    DepartureConfirmed,
    EntryRecorded,
    EurodacHitReceived,
    EventType,
    MemberState,
    NonReturnRecorded,
    PartialDate,
    ReintegrationReferral,
    ReintegrationStatusChanged,
    ReturnDecisionIssued,
    Severity,
    Sex,
    TravelDocumentType,
)
from gateway.validation.dates import earliest_possible_date, partial_date_problem
from gateway.validation.legal import EES, EURODAC, LegalReference
from gateway.validation.rule import ALL_EVENT_TYPES, NO_VIOLATIONS, NoParams, Rule, RuleContext, RuleParams, Violation
from gateway.validation.rules.common import IDENTITY_EVENT_TYPES, is_blank
from gateway.validation.rules.eurodac import RULES as EURODAC_RULES

_ICAO = LegalReference("ICAO Doc 9303", "Part 3 (three-letter codes)")
_ID = "payload.identity"


class CountryCodeParams(RuleParams):
    """Which three-letter codes are accepted besides ISO 3166-1 alpha-3.

    Attributes:
        accept_icao_codes: Accept the ICAO Doc 9303 codes of the packaged list (XXA stateless, XXB/XXC refugee,
            XXX unspecified, D, GBD..., UNO..., EUE).
        extra_codes: Further codes a deployment accepts, e.g. XKX for Kosovo; a code accepts the codes that stand
            for the same country in ``data/code_aliases.csv`` (XKX accepts RKS, the code on Kosovo passports).
    """

    accept_icao_codes: bool = True
    extra_codes: tuple[str, ...] = ()

    @field_validator("extra_codes")
    @classmethod
    def _shape(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        bad = [c for c in value if not (c.isascii() and c.isalpha() and c.isupper() and 1 <= len(c) <= 3)]
        if bad:
            raise ValueError(f"codes must be one to three upper-case letters: {bad}")
        return value


def _extra(code: str, extra_codes: tuple[str, ...], ctx: RuleContext) -> bool:
    # Through the alias table both ways: a deployment that lists XKX accepts RKS, and one that lists RKS accepts XKX.
    canonical = ctx.codes.canonical
    return code in extra_codes or canonical(code) in {canonical(c) for c in extra_codes}


def _accepted(code: str, use: frozenset[str], ctx: RuleContext, params: CountryCodeParams) -> bool:
    if code in ctx.codes.iso or _extra(code, params.extra_codes, ctx):
        return True
    return params.accept_icao_codes and code in use and code in ctx.codes.icao_special


def _how_to_accept(code: str, rule_id: str) -> str:
    return (
        f"a deployment that accepts {code!r} lists it in rules.{rule_id}.params.extra_codes of the validation rule "
        "file (gateway setting rules_config, environment variable GATEWAY_RULES_CONFIG)"
    )


def _check_nationalities(event: CaseEvent, ctx: RuleContext, params: CountryCodeParams) -> Sequence[Violation]:
    identity = ctx.identity
    if identity is None:
        return NO_VIOLATIONS
    iso = ctx.codes.iso
    # The common case first, without building anything: every code is plain ISO 3166-1.
    for code in identity.nationalities:
        if code not in iso:
            break
    else:
        return NO_VIOLATIONS
    return tuple(
        Violation(
            f"{_ID}.nationalities[{i}]",
            f"{code!r} is not an ISO 3166-1 alpha-3 or ICAO nationality code; {_how_to_accept(code, 'CD-001')}",
        )
        for i, code in enumerate(identity.nationalities)
        if not _accepted(code, ctx.codes.nationality, ctx, params)
    )


def _check_issuer(event: CaseEvent, ctx: RuleContext, params: CountryCodeParams) -> Sequence[Violation]:
    identity = ctx.identity
    doc = identity.travel_document if identity else None
    if doc is None or _accepted(doc.issuing_country, ctx.codes.issuer, ctx, params):
        return NO_VIOLATIONS
    return (
        Violation(
            f"{_ID}.travel_document.issuing_country",
            f"{doc.issuing_country!r} is not an ISO 3166-1 alpha-3 or ICAO issuing State or organisation code; "
            f"{_how_to_accept(doc.issuing_country, 'CD-002')}",
        ),
    )


class DestinationParams(RuleParams):
    """Codes accepted as a country of return besides ISO 3166-1 alpha-3 (e.g. XKX for Kosovo, which accepts RKS)."""

    extra_codes: tuple[str, ...] = ()


_RETURNING = (ReturnDecisionIssued, ReintegrationReferral)


def _check_destination(event: CaseEvent, ctx: RuleContext, params: DestinationParams) -> Sequence[Violation]:
    p = event.payload
    if isinstance(p, _RETURNING):
        path, code = "payload.country_of_return", p.country_of_return
    elif isinstance(p, DepartureConfirmed):
        path, code = "payload.destination_country", p.destination_country
    else:
        return NO_VIOLATIONS
    if code is None or is_blank(code) or code in ctx.codes.iso or _extra(code, params.extra_codes, ctx):
        return NO_VIOLATIONS
    return (Violation(path, f"{code!r} is not an ISO 3166-1 alpha-3 country code; {_how_to_accept(code, 'CD-003')}"),)


def _check_member_states(event: CaseEvent, ctx: RuleContext, params: NoParams) -> Sequence[Violation]:
    out = []
    if event.member_state is MemberState.UNKNOWN:
        out.append(Violation("member_state", "the source Member State is UNKNOWN"))
    p = event.payload
    if isinstance(p, EurodacHitReceived) and p.hit_member_state is MemberState.UNKNOWN:
        out.append(Violation("payload.hit_member_state", "the Member State of the matched dataset is UNKNOWN"))
    return tuple(out)


def _check_sex(event: CaseEvent, ctx: RuleContext, params: NoParams) -> Sequence[Violation]:
    identity = ctx.identity
    if identity is None or identity.sex is not Sex.UNKNOWN:
        return NO_VIOLATIONS
    return (Violation(f"{_ID}.sex", "sex is UNKNOWN: the national code could not be mapped (use UNSPECIFIED for X)"),)


class DocumentTypes(RuleParams):
    """Travel-document types accepted in an identity block."""

    allowed: tuple[TravelDocumentType, ...] = tuple(
        t for t in TravelDocumentType if t is not TravelDocumentType.UNKNOWN
    )


def _check_document(event: CaseEvent, ctx: RuleContext, params: DocumentTypes) -> Sequence[Violation]:
    identity = ctx.identity
    doc = identity.travel_document if identity else None
    if doc is None:
        return NO_VIOLATIONS
    out = []
    if doc.type not in params.allowed:
        out.append(Violation(f"{_ID}.travel_document.type", f"document type {doc.type} is not accepted"))
    if is_blank(doc.number):
        out.append(Violation(f"{_ID}.travel_document.number", "the document number is blank"))
    return tuple(out)


class BirthDateParams(RuleParams):
    """Earliest year of birth accepted."""

    min_year: int = Field(1900, ge=1)


def _check_birth_date(event: CaseEvent, ctx: RuleContext, params: BirthDateParams) -> Sequence[Violation]:
    identity = ctx.identity
    if identity is None:
        return NO_VIOLATIONS
    problem = partial_date_problem(identity.date_of_birth, min_year=params.min_year)
    return NO_VIOLATIONS if problem is None else (Violation(f"{_ID}.date_of_birth", problem),)


Fact = dt.date | dt.datetime | PartialDate | None
_DATE, _INSTANT, _PARTIAL = 0, 1, 2
_DOB = f"{_ID}.date_of_birth"
_ISSUED = f"{_ID}.travel_document.issue_date"
Getter = Callable[[Any], Any]


def _doc_issued(p: Any) -> dt.date | None:
    doc = p.identity.travel_document if p.identity is not None else None
    return None if doc is None else doc.issue_date


def _dob(p: Any) -> PartialDate | None:
    return None if p.identity is None else p.identity.date_of_birth


def _facts(*specs: tuple[str, int]) -> tuple[tuple[str, Getter, int], ...]:
    return tuple((f"payload.{name}", operator.attrgetter(name), kind) for name, kind in specs)


_IDENTITY_FACTS: tuple[tuple[str, Getter, int], ...] = ((_DOB, _dob, _PARTIAL), (_ISSUED, _doc_issued, _DATE))

# Per payload type, the dates and instants of facts that cannot lie in the future. Left out on purpose: period
# days, expiry dates, expected departure, effective dates of status changes (may be announced ahead) and the
# AVRR grant date (EU-002). Getters are precomputed so the check builds nothing unless a fact is in the future.
_FACTS: dict[type[Any], tuple[tuple[str, Getter, int], ...]] = {
    ReturnDecisionIssued: _facts(("decision_date", _DATE)) + _IDENTITY_FACTS,
    AssistanceApplied: _facts(("application_date", _DATE)),
    AssistanceGranted: _facts(("application_date", _DATE)),
    AssistanceRefused: _facts(("refusal_date", _DATE)),
    ReintegrationReferral: _facts(("arrival_date", _DATE)) + _IDENTITY_FACTS,
    ReintegrationStatusChanged: _facts(("arrival_date", _DATE)),
    DepartureConfirmed: _facts(("departed_at", _INSTANT)),
    NonReturnRecorded: _facts(("period_last_day", _DATE)),
    EntryRecorded: _facts(("entered_at", _INSTANT)),
    BiometricsCaptured: _facts(
        ("registered_at", _INSTANT), ("biometrics_taken_on", _DATE), ("transmitted_at", _INSTANT)
    )
    + _IDENTITY_FACTS,
}


def _in_future(value: Any, kind: int, ctx: RuleContext) -> bool:
    if value is None:
        return False
    if kind == _DATE:
        return bool(value > ctx.today)
    if kind == _INSTANT:
        return bool(value > ctx.latest)
    # A partial date whose year is before this year cannot be in the future; no date needs to be built.
    if value.year is None or value.year < ctx.today.year:
        return False
    earliest = earliest_possible_date(value)
    return earliest is not None and earliest > ctx.today


def _check_not_future(event: CaseEvent, ctx: RuleContext, params: NoParams) -> Sequence[Violation]:
    p = event.payload
    found: list[tuple[str, Fact]] = []
    if event.occurred_at > ctx.latest:
        found.append(("occurred_at", event.occurred_at))
    for path, get, kind in _FACTS.get(type(p), ()):
        value = get(p)
        if _in_future(value, kind, ctx):
            found.append((path, value))
    if not found:
        return NO_VIOLATIONS
    return tuple(
        Violation(
            path,
            f"{value} is in the future (now: {ctx.now.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC, "
            f"today: {ctx.today}); this fact cannot have happened yet",
        )
        for path, value in found
    )


def _check_recorded_after(event: CaseEvent, ctx: RuleContext, params: NoParams) -> Sequence[Violation]:
    if event.occurred_at - event.recorded_at <= ctx.skew:
        return NO_VIOLATIONS
    return (
        Violation(
            "occurred_at",
            f"the fact happened at {event.occurred_at.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC, after it was recorded "
            f"({event.recorded_at.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC)",
        ),
    )


def _check_document_dates(event: CaseEvent, ctx: RuleContext, params: NoParams) -> Sequence[Violation]:
    identity = ctx.identity
    doc = identity.travel_document if identity else None
    if doc is None or doc.issue_date is None or doc.expiry_date is None or doc.issue_date <= doc.expiry_date:
        return NO_VIOLATIONS
    return (
        Violation(
            f"{_ID}.travel_document.expiry_date",
            f"the document expires on {doc.expiry_date}, before its issue date {doc.issue_date}",
        ),
    )


_WITH_DESTINATION = frozenset(
    {EventType.RETURN_DECISION_ISSUED, EventType.REINTEGRATION_REFERRAL, EventType.DEPARTURE_CONFIRMED}
)
_IDENTITY_FIELDS = LegalReference(EURODAC, "Art. 17(1)(d)")
# A plausibility rule; the nearest legal anchor is the accuracy principle, not a provision of the EU systems.
_ACCURACY = LegalReference("Reg. 2016/679 (GDPR)", "Art. 5(1)(d) (accuracy)")

RULES: tuple[Rule[Any], ...] = (
    Rule(
        id="CD-001",
        title="Nationalities are ISO 3166-1 alpha-3 or ICAO Doc 9303 codes",
        description="Each of `identity.nationalities` must be an ISO 3166-1 alpha-3 code, an ICAO code valid as a "
        "nationality (XXA stateless, XXB refugee under the 1951 Convention, XXC other refugee, XXX unspecified, D, "
        "GBD, GBN, GBO, GBP, GBS, UNK) when `accept_icao_codes`, or one of `extra_codes`. The list is "
        "`gateway/validation/data/country_codes.csv`. D (Germany in the MRZ) is accepted as sent and compared as "
        "DEU (`data/code_aliases.csv`). Kosovo is not in ISO 3166-1: list XKX in `extra_codes` to accept it, which "
        "also accepts RKS (the code on Kosovo passports), compared as XKX. The refusal names the setting.",
        severity=Severity.ERROR,
        path=f"{_ID}.nationalities",
        legal=_IDENTITY_FIELDS,
        event_types=IDENTITY_EVENT_TYPES,
        check=_check_nationalities,
        params=CountryCodeParams(),
    ),
    Rule(
        id="CD-002",
        title="The document issuer is an ISO 3166-1 alpha-3 or ICAO Doc 9303 code",
        description="`identity.travel_document.issuing_country` must be an ISO code, an ICAO issuing State or "
        "organisation code (D, GBD..., UNO, UNA, UNK, XOM, XPO, XCC, XES, XMP, EUE) when `accept_icao_codes`, or "
        "one of `extra_codes` (XKX also accepts RKS). XXA, XXB, XXC and XXX describe holders and are not issuers.",
        severity=Severity.ERROR,
        path=f"{_ID}.travel_document.issuing_country",
        legal=LegalReference(EURODAC, "Art. 17(1)(i) (three-letter code of the issuing country)"),
        event_types=IDENTITY_EVENT_TYPES,
        check=_check_issuer,
        params=CountryCodeParams(),
    ),
    Rule(
        id="CD-003",
        title="Countries of return and destination are ISO 3166-1 alpha-3 codes",
        description="`country_of_return` and `destination_country`, when set, must be ISO 3166-1 alpha-3 codes or "
        "one of `extra_codes` (XKX also accepts RKS); ICAO person codes such as XXA are not countries.",
        severity=Severity.ERROR,
        path="payload.country_of_return",
        legal=LegalReference("ISO 3166-1", "alpha-3"),
        event_types=_WITH_DESTINATION,
        check=_check_destination,
        params=DestinationParams(),
    ),
    Rule(
        id="CD-004",
        title="Member State codes are known",
        description="The envelope's `member_state` and a hit's `hit_member_state` must not be UNKNOWN.",
        severity=Severity.ERROR,
        path="member_state",
        legal=LegalReference(EURODAC, "Art. 17(1)(g) (Member State of origin)"),
        event_types=ALL_EVENT_TYPES,
        check=_check_member_states,
        params=NoParams(),
    ),
    Rule(
        id="CD-005",
        title="Sex is mapped to a code",
        description="`identity.sex` must not be UNKNOWN (ICAO X is UNSPECIFIED). The interface control documents "
        "of Eurodac, SIS and EES were not seen.",
        severity=Severity.WARNING,
        path=f"{_ID}.sex",
        legal=LegalReference(EURODAC, "Art. 17(1)(h)"),
        event_types=IDENTITY_EVENT_TYPES,
        check=_check_sex,
        params=NoParams(),
    ),
    Rule(
        id="CD-006",
        title="A travel document has an accepted type and a number",
        description="`identity.travel_document.type` must be in `allowed` (ICAO document kinds; never UNKNOWN) and "
        "`number` must not be blank.",
        severity=Severity.ERROR,
        path=f"{_ID}.travel_document",
        legal=LegalReference(EURODAC, "Art. 17(1)(i)"),
        event_types=IDENTITY_EVENT_TYPES,
        check=_check_document,
        params=DocumentTypes(),
    ),
    Rule(
        id="CD-007",
        title="A partial date of birth is consistent",
        description="`precision` names the finest known part and every finer part is null (DAY: year, month, day; "
        "MONTH: year, month; YEAR: year; UNKNOWN: none); month 1-12; the day exists in that month (29 February "
        "only in leap years); year at least `min_year`.",
        severity=Severity.ERROR,
        path=f"{_ID}.date_of_birth",
        legal=LegalReference(EURODAC, "Art. 17(1)(e)"),
        event_types=IDENTITY_EVENT_TYPES,
        check=_check_birth_date,
        params=BirthDateParams(),
    ),
    Rule(
        id="CD-008",
        title="Facts that cannot lie in the future do not",
        description="Dates of decision, birth (earliest possible day of a partial date), document issue, "
        "application, refusal, arrival, biometrics and the end of a period after which a non-return is recorded "
        "must not be after today in the Member State; instants of occurrence, departure, entry, registration and "
        "transmission must not be after now plus `settings.clock_skew_seconds`.",
        severity=Severity.ERROR,
        path="payload",
        legal=_ACCURACY,
        event_types=ALL_EVENT_TYPES,
        check=_check_not_future,
        params=NoParams(),
    ),
    Rule(
        id="CD-009",
        title="An event did not happen after it was recorded",
        description="`occurred_at` must not be after `recorded_at` plus `settings.clock_skew_seconds`; instants in "
        "any offset are compared in UTC.",
        severity=Severity.ERROR,
        path="occurred_at",
        legal=_ACCURACY,
        event_types=ALL_EVENT_TYPES,
        check=_check_recorded_after,
        params=NoParams(),
    ),
    Rule(
        id="CD-010",
        title="A travel document does not expire before it was issued",
        description="`identity.travel_document.issue_date` must not be after `expiry_date`.",
        severity=Severity.ERROR,
        path=f"{_ID}.travel_document.expiry_date",
        legal=LegalReference(EES, "Art. 16(1) (travel document and its expiry date)"),
        event_types=IDENTITY_EVENT_TYPES,
        check=_check_document_dates,
        params=NoParams(),
    ),
)


# Codes a national system may use for the United Kingdom; it left the EU on 31 January 2020.
_UNITED_KINGDOM = frozenset({"GB", "UK", "GBR"})


def member_state_refusal(code: str, field: str, *, granting: bool = False) -> MappingError:
    """The mapping error for a code that is not a Member State, with the rule id and legal reference of its rule.

    For connectors, whose Member State fields are the canonical enum: a code outside it (``GB``, ``UK``) cannot
    reach the rules as an event, so the connector refuses it with this error and the dead letter still names the
    rule (EU-001 for the Member State granting assistance, CD-004 for any other) and its legal basis.

    Args:
        code: The national code as read.
        field: The national field it was read from, for the operator.
        granting: The field is the Member State granting return or reintegration assistance.
    """
    rule = next(r for r in (EURODAC_RULES if granting else RULES) if r.id == ("EU-001" if granting else "CD-004"))
    why = (
        " (the United Kingdom left the EU on 31 January 2020 and is bound by neither Eurodac nor SIS)"
        if code.strip().upper() in _UNITED_KINGDOM
        else ""
    )
    return MappingError(
        f"{rule.id} {field}: {code!r} is not the code of an EU or Schengen-associated Member State{why}",
        rule_ids=(rule.id,),
        legal_references=(str(rule.legal),),
    )
