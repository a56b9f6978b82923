"""Per-person facts for the return statistics: a pure fold of canonical events, independent of the rules.

Only two event types matter: ``ReturnDecisionIssued`` (ordered to leave; the person's citizenship, sex, date of
birth and unaccompanied-minor flag come from its identity) and ``DepartureConfirmed`` (returned). A decision later
withdrawn or annulled still counts as an order to leave in the period it was issued, so status changes are not read.

The facts keep every decision and departure of a person as a set of small tuples, so that folding the same events
in any order, or an event twice, gives the same facts; the counting rules (``gateway.statistics.tables``) sort them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

from gateway.events import models as m

__all__ = ["RELEVANT_TYPES", "Decision", "Departure", "Facts", "PersonFacts", "PersonKey", "fold", "fold_into"]

RELEVANT_TYPES = frozenset({m.EventType.RETURN_DECISION_ISSUED, m.EventType.DEPARTURE_CONFIRMED})
"""The event types the statistics read; every other type is skipped by its header, undecoded."""

PersonKey = tuple[str, str]
"""(reporting Member State, subject key): a person as one Member State's pseudonymiser keys them."""


class Decision(NamedTuple):
    """A return decision (an order to leave) as the statistics see it."""

    decision_date: dt.date
    reference: str
    nationalities: tuple[str, ...]
    sex: str
    birth: tuple[int | None, int | None, int | None]
    unaccompanied_minor: bool


class Departure(NamedTuple):
    """A confirmed departure as the statistics see it (``departed_on``: the UTC date of exit)."""

    departed_on: dt.date
    decision_reference: str | None
    return_type: str
    assisted: bool
    destination: str | None
    dublin_transfer: bool
    evidence: frozenset[str]


@dataclass(slots=True)
class PersonFacts:
    """Everything the statistics know about one person."""

    decisions: set[Decision] = field(default_factory=set)
    departures: set[Departure] = field(default_factory=set)


Facts = dict[PersonKey, PersonFacts]


def _birth(date: m.PartialDate) -> tuple[int | None, int | None, int | None]:
    # Only the parts the precision vouches for: a YEAR-precision date with a filler month is still a year.
    p = date.precision
    if p == m.DatePrecision.DAY:
        return date.year, date.month, date.day
    if p == m.DatePrecision.MONTH:
        return date.year, date.month, None
    if p == m.DatePrecision.YEAR:
        return date.year, None, None
    return None, None, None


def fold_into(facts: Facts, event: m.CaseEvent) -> None:
    """Add one event's facts to ``facts`` (in place; events of other types are ignored)."""
    p = event.payload
    if isinstance(p, m.ReturnDecisionIssued):
        ident = p.identity
        fact: Decision | Departure = Decision(
            p.decision_date,
            p.decision_reference,
            tuple(n.upper() for n in ident.nationalities),
            str(ident.sex),
            _birth(ident.date_of_birth),
            p.unaccompanied_minor,
        )
    elif isinstance(p, m.DepartureConfirmed):
        fact = Departure(
            p.departed_at.astimezone(dt.UTC).date(),
            p.decision_reference,
            str(p.return_type),
            p.assisted,
            p.destination_country.upper() if p.destination_country else None,
            p.dublin_transfer,
            frozenset(str(e) for e in p.evidence),
        )
    else:
        return
    key = (str(event.member_state), event.subject_key)
    person = facts.get(key)
    if person is None:
        person = facts[key] = PersonFacts()
    if isinstance(fact, Decision):
        person.decisions.add(fact)
    else:
        person.departures.add(fact)


def fold(events: Iterable[m.CaseEvent]) -> Facts:
    """Fold events into per-person facts; the result does not depend on the events' order or on duplicates."""
    facts: Facts = {}
    for event in events:
        fold_into(facts, event)
    return facts
