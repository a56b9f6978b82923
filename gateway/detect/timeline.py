"""A subject's timeline: the few facts the secondary-movement rules need, each with its retention.

A subject key is per Member State, so one timeline holds that Member State's own events about the subject plus
the Eurodac hits it received, and nothing else: no names, documents or dates of birth. Facts are ordered by time
then event id, so the timeline is a function of the set of events, not of their order of arrival.

Times are UTC and truncated to milliseconds, the precision of the Avro state value, so a decoded timeline equals
the one encoded. Date-only facts (application, grant, refusal) sit at midnight UTC of their date.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple

from gateway.detect.config import DetectorConfig
from gateway.events.models import (
    AssistanceApplied,
    AssistanceGranted,
    AssistanceRefused,
    AvrrStatus,
    CaseEvent,
    DepartureConfirmed,
    EntryRecorded,
    EurodacCategory,
    EurodacHitReceived,
    EventType,
    MemberState,
)

UTC = dt.UTC
MAX_TIME = dt.datetime(9999, 12, 31, 23, 59, 59, 999_000, tzinfo=UTC)


class FactKind(StrEnum):
    """What a fact records."""

    APPLICATION = "APPLICATION"
    GRANT = "GRANT"
    REFUSAL = "REFUSAL"
    ASSISTED_DEPARTURE = "ASSISTED_DEPARTURE"
    UNASSISTED_DEPARTURE = "UNASSISTED_DEPARTURE"
    ENTRY = "ENTRY"
    EURODAC_HIT = "EURODAC_HIT"

    @property
    def role(self) -> str:
        """The fact's role in an alert's evidence (``application``, ``eurodac_hit``, ...)."""
        return ROLE_OF_KIND[self]

    @property
    def event_type(self) -> EventType:
        """The canonical event type the fact comes from."""
        return EVENT_TYPE_OF_KIND[self]


ROLE_OF_KIND: dict[FactKind, str] = {k: k.value.lower() for k in FactKind}
"""Each kind's role in alert evidence."""

EVENT_TYPE_OF_KIND: dict[FactKind, EventType] = {
    FactKind.APPLICATION: EventType.ASSISTANCE_APPLIED,
    FactKind.GRANT: EventType.ASSISTANCE_GRANTED,
    FactKind.REFUSAL: EventType.ASSISTANCE_REFUSED,
    FactKind.ASSISTED_DEPARTURE: EventType.DEPARTURE_CONFIRMED,
    FactKind.UNASSISTED_DEPARTURE: EventType.DEPARTURE_CONFIRMED,
    FactKind.ENTRY: EventType.ENTRY_RECORDED,
    FactKind.EURODAC_HIT: EventType.EURODAC_HIT_RECEIVED,
}
"""The canonical event type each kind comes from."""

FACT_EVENT_TYPES: frozenset[EventType] = frozenset(EVENT_TYPE_OF_KIND.values())
"""Event types that can yield a fact; every other event type is irrelevant to every rule."""


@dataclass(frozen=True, slots=True)
class AvrrElement:
    """The AVRR element of a hit's matched dataset (Reg. 2024/1358 Art. 16-17, point to be confirmed).

    Attributes:
        granted: The element's ``granted`` flag.
        member_state: The Member State the element names as granting (or where the application is open).
        granted_on: Date it was granted, where recorded.
        status: Applied, granted, refused or withdrawn; None in data written before the status existed.
    """

    granted: bool
    member_state: str
    granted_on: dt.date | None
    status: AvrrStatus | None


@dataclass(frozen=True, slots=True)
class HitDetails:
    """What a Eurodac hit adds to a fact.

    Attributes:
        hit_member_state: Member State of origin of the matched dataset.
        category: Eurodac category of the matched dataset; decides retention.
        article: Article under which the matched dataset was recorded.
        avrr: The matched dataset's AVRR element; None when it has none (then the hit explains, never matches).
    """

    hit_member_state: str
    category: EurodacCategory
    article: str
    avrr: AvrrElement | None


@dataclass(frozen=True, slots=True)
class Fact:
    """One event, reduced to what the rules need.

    Attributes:
        kind: What it records.
        event_id: The canonical event's id (canonical UUID text).
        occurred_at: The event's ``occurred_at`` (shown as the evidence time in alerts).
        at: The time the rules reason with: application, grant or refusal date (midnight UTC), departure or
            entry time, or the hit's ``occurred_at``.
        case_reference: The Member State's case reference on the event.
        expires_at: When the fact stops counting: its time plus the retention of its source.
        hit: Details of a Eurodac hit; None for every other kind.
    """

    kind: FactKind
    event_id: str
    occurred_at: dt.datetime
    at: dt.datetime
    case_reference: str
    expires_at: dt.datetime
    hit: HitDetails | None = None


@dataclass(frozen=True, slots=True)
class EmittedAlert:
    """The last alert emitted for one rule, remembered to decide whether new evidence appeared.

    Attributes:
        rule_id: The rule.
        alert_id: The alert's id (the next alert of the rule supersedes it).
        evidence_ids: Sorted event ids of its evidence.
    """

    rule_id: str
    alert_id: str
    evidence_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SubjectTimeline:
    """The detector's value for one subject key.

    Attributes:
        subject_key: The pseudonymous subject key.
        member_state: The Member State whose events these are (subject keys are per Member State).
        facts: Live facts, ordered by time then event id.
        emitted: The last alert emitted per rule, by rule id.
    """

    subject_key: str
    member_state: str
    facts: tuple[Fact, ...] = ()
    emitted: tuple[EmittedAlert, ...] = ()

    @property
    def expires_at(self) -> dt.datetime | None:
        """When the whole entry may be dropped: the latest fact expiry; None without facts."""
        return max((f.expires_at for f in self.facts), default=None)

    def last_alert(self, rule_id: str) -> EmittedAlert | None:
        """The last alert emitted for a rule, if any is remembered."""
        for emitted in self.emitted:
            if emitted.rule_id == rule_id:
                return emitted
        return None


class RetentionPeriods(NamedTuple):
    """Retention periods as the fact builders use them (built once per configuration).

    Attributes:
        national: How long the Member State's own facts count.
        eurodac_years: Calendar years a hit counts, per Eurodac category.
    """

    national: dt.timedelta
    eurodac_years: Mapping[EurodacCategory, int]


def add_months(at: dt.datetime, months: int) -> dt.datetime:
    """``at`` plus calendar months; the 31st becomes the last day of a shorter month (29 Feb + 1 year: 28 Feb)."""
    years, month0 = divmod(at.month - 1 + months, 12)
    year = at.year + years
    if year > MAX_TIME.year:
        return MAX_TIME
    month = month0 + 1
    return at.replace(year=year, month=month, day=min(at.day, calendar.monthrange(year, month)[1]))


def _utc_millis(at: dt.datetime) -> dt.datetime:
    if at.tzinfo is not UTC:
        at = at.astimezone(UTC)
    micro = at.microsecond % 1000
    return at.replace(microsecond=at.microsecond - micro) if micro else at


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=UTC)


def _expires(at: dt.datetime, period: dt.timedelta) -> dt.datetime:
    try:
        return at + period
    except OverflowError:
        return MAX_TIME


def retention_periods(config: DetectorConfig) -> RetentionPeriods:
    """The retention periods of a configuration."""
    return RetentionPeriods(
        dt.timedelta(days=config.national_retention_days),
        {category: entry.years for category, entry in config.eurodac_retention.items()},
    )


def hit_expiry(at: dt.datetime, hit: HitDetails, retention: RetentionPeriods) -> dt.datetime:
    """When a hit stops counting: its AVRR grant date (else the hit's time) plus its category's retention."""
    granted_on = hit.avrr.granted_on if hit.avrr is not None else None
    start = _midnight(granted_on) if granted_on is not None else at
    years = retention.eurodac_years.get(hit.category)
    if years is None:
        years = retention.eurodac_years.get(EurodacCategory.UNKNOWN, 0)
    return add_months(start, 12 * years)


def _own(kind: FactKind, event: CaseEvent, at: dt.datetime, retention: RetentionPeriods) -> Fact:
    return Fact(
        kind,
        str(event.event_id),
        _utc_millis(event.occurred_at),
        at,
        event.case_reference,
        _expires(at, retention.national),
    )


def _applied(event: CaseEvent, p: AssistanceApplied, r: RetentionPeriods) -> Fact | None:
    return _own(FactKind.APPLICATION, event, _midnight(p.application_date), r)


def _granted(event: CaseEvent, p: AssistanceGranted, r: RetentionPeriods) -> Fact | None:
    # "Here" means granted by this Member State; a grant recorded for another one is not this rule input.
    if p.granting_member_state != event.member_state and p.granting_member_state != MemberState.UNKNOWN:
        return None
    return _own(FactKind.GRANT, event, _midnight(p.grant_date), r)


def _refused(event: CaseEvent, p: AssistanceRefused, r: RetentionPeriods) -> Fact | None:
    return _own(FactKind.REFUSAL, event, _midnight(p.refusal_date), r)


def _departed(event: CaseEvent, p: DepartureConfirmed, r: RetentionPeriods) -> Fact | None:
    kind = FactKind.ASSISTED_DEPARTURE if p.assisted else FactKind.UNASSISTED_DEPARTURE
    return _own(kind, event, _utc_millis(p.departed_at), r)


def _entered(event: CaseEvent, p: EntryRecorded, r: RetentionPeriods) -> Fact | None:
    return _own(FactKind.ENTRY, event, _utc_millis(p.entered_at), r)


def _hit(event: CaseEvent, p: EurodacHitReceived, r: RetentionPeriods) -> Fact | None:
    a = p.avrr
    avrr = None if a is None else AvrrElement(a.granted, a.granting_member_state, a.granted_on, a.status)
    hit = HitDetails(p.hit_member_state, p.category, p.article, avrr)
    at = _utc_millis(event.occurred_at)
    return Fact(FactKind.EURODAC_HIT, str(event.event_id), at, at, event.case_reference, hit_expiry(at, hit, r), hit)


# Keyed by payload class: one dict lookup replaces a chain of isinstance checks on the hot path.
_EXTRACTORS: dict[type, Callable[..., Fact | None]] = {
    AssistanceApplied: _applied,
    AssistanceGranted: _granted,
    AssistanceRefused: _refused,
    DepartureConfirmed: _departed,
    EntryRecorded: _entered,
    EurodacHitReceived: _hit,
}


def fact_of(event: CaseEvent, retention: RetentionPeriods) -> Fact | None:
    """The fact an event yields, or None when no rule needs it.

    Reads the validated model's attributes only (no validation): this runs for every canonical event.
    """
    extract = _EXTRACTORS.get(type(event.payload))
    return None if extract is None else extract(event, event.payload, retention)


def expire(timeline: SubjectTimeline, at: dt.datetime) -> SubjectTimeline | None:
    """The timeline without the facts expired at ``at`` (an event time, never the wall clock).

    Alerts remembered for a rule are forgotten once none of their evidence is live: nothing is kept about expired
    facts. Returns the same object when nothing expired, and None when nothing is left.
    """
    facts = timeline.facts
    if all(f.expires_at > at for f in facts):
        return timeline if facts else None
    live = tuple(f for f in facts if f.expires_at > at)
    if not live:
        return None
    ids = {f.event_id for f in live}
    emitted = tuple(e for e in timeline.emitted if not ids.isdisjoint(e.evidence_ids))
    return SubjectTimeline(timeline.subject_key, timeline.member_state, live, emitted)


def _order(fact: Fact) -> tuple[dt.datetime, str]:
    return fact.at, fact.event_id


def with_fact(timeline: SubjectTimeline, fact: Fact) -> SubjectTimeline:
    """The timeline with one more fact in time order; the same object when the event is already there."""
    facts = timeline.facts
    for existing in facts:
        if existing.event_id == fact.event_id:
            return timeline
    if not facts or _order(facts[-1]) <= _order(fact):
        ordered = (*facts, fact)
    else:
        ordered = tuple(sorted((*facts, fact), key=_order))
    return SubjectTimeline(timeline.subject_key, timeline.member_state, ordered, timeline.emitted)


def fold(timeline: SubjectTimeline | None, event: CaseEvent, retention: RetentionPeriods) -> SubjectTimeline | None:
    """The timeline after one event, without evaluating rules: expiry at the event's time, then its fact.

    An event that yields no fact leaves the timeline as it is (the same object). A fact already expired at its own
    event's time (a hit outside its retention) is not kept. Returns None when nothing is left to keep.
    """
    fact = fact_of(event, retention)
    if fact is None:
        return timeline
    if timeline is not None:
        timeline = expire(timeline, fact.occurred_at)
    if fact.expires_at <= fact.occurred_at:
        return timeline
    if timeline is None:
        timeline = SubjectTimeline(event.subject_key, event.member_state)
    return with_fact(timeline, fact)
