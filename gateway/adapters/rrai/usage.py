"""Usage of the assistance programmes: canonical events folded into per-person facts, facts counted into rows.

Pure functions only; reading the topic and writing files is ``gateway.adapters.rrai.export``.

What is counted, per programme x country of return x quarter x (type, form, level) x stage, in distinct persons:

- **applied**: an ``AssistanceApplied`` dated (``application_date``) in the quarter. Two applications of one person
  in one quarter count once.
- **granted**: an ``AssistanceGranted`` dated (``grant_date``) in the quarter.
- **refused**: an ``AssistanceRefused`` dated (``refusal_date``) in the quarter. A refusal carries no components:
  it is counted under those of the person's latest application (or grant) under the programme before it. A
  refusal after a grant withdraws the grant.
- **departed**: an assisted ``DepartureConfirmed`` (not a Dublin transfer) dated in the quarter, for a person whose
  grant under the programme stands (granted before, not refused since). Counted under the grant's components and
  stage. The grant is then used up: a second confirmation of the same departure in a later quarter is not a second
  departure. A departure without assistance, or without a standing grant, is no programme's departure.

Country of return of a person in a quarter: the destination of the person's counted departure in that quarter
when known (it is where the person went); otherwise the ``country_of_return`` of the person's latest return
decision dated up to the quarter's last day; otherwise ``UNKNOWN``. One country per person and quarter, so a
person's applied, granted and departed counts of one quarter always sit in the same country.

A person is ``(member_state, subject_key)``; the key never leaves this module's facts.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from gateway.adapters.rrai.config import Quarter, RraiConfig
from gateway.events.models import (
    AssistanceApplied,
    AssistanceComponent,
    AssistanceForm,
    AssistanceGranted,
    AssistanceRefused,
    AssistanceType,
    CaseEvent,
    DepartureConfirmed,
    EventType,
    ProcedureStage,
    ReturnDecisionIssued,
)
from gateway.validation.programmes import Programme, ProgrammeCatalogue

UNKNOWN_COUNTRY = "UNKNOWN"

RELEVANT_EVENT_TYPES = frozenset(
    {
        EventType.ASSISTANCE_APPLIED,
        EventType.ASSISTANCE_GRANTED,
        EventType.ASSISTANCE_REFUSED,
        EventType.DEPARTURE_CONFIRMED,
        EventType.RETURN_DECISION_ISSUED,
    }
)
"""The only event types the count reads; the export skips the others by header, undecoded."""


class Measure(StrEnum):
    """What a count counts."""

    APPLIED = "applied"
    GRANTED = "granted"
    REFUSED = "refused"
    DEPARTED = "departed"


Person = tuple[str, str]
"""(member_state, subject_key): internal to the fold, never in a row."""


@dataclass(frozen=True, slots=True)
class Component:
    """One component of assistance as counted: its type, form and amount."""

    type: AssistanceType
    form: AssistanceForm
    amount_eur: Decimal | None = None


NO_COMPONENT = Component(AssistanceType.UNKNOWN, AssistanceForm.UNKNOWN)
"""Stands for the components of an application, grant or refusal that names none, so the person is still counted."""


@dataclass(frozen=True, slots=True)
class Fact:
    """One countable fact about one person under one programme.

    Attributes:
        measure: What happened.
        person: Who (internal only).
        programme: Programme reference.
        on: The fact's date (application, grant, refusal or departure date).
        stage: Stage of the procedure it is counted under.
        components: Components it is counted under (never empty: ``NO_COMPONENT`` when none were named).
        destination: The departure's destination, for ``departed`` when known.
    """

    measure: Measure
    person: Person
    programme: str
    on: dt.date
    stage: ProcedureStage
    components: tuple[Component, ...]
    destination: str | None = None


@dataclass(frozen=True, slots=True)
class Usage:
    """Everything the count needs from the canonical topic.

    Attributes:
        facts: Every fact, all quarters.
        decisions: Person -> (decision date, country of return) of each return decision naming a country, by date.
        events_read: Relevant events folded.
    """

    facts: tuple[Fact, ...]
    decisions: Mapping[Person, tuple[tuple[dt.date, str], ...]]
    events_read: int = 0


@dataclass(slots=True)
class _Standing:
    stage: ProcedureStage
    components: tuple[Component, ...]


@dataclass(slots=True)
class _PersonFold:
    """One person's programmes while walking their events in event-time order."""

    last_components: dict[str, tuple[Component, ...]] = field(default_factory=dict)
    grants: dict[str, _Standing] = field(default_factory=dict)


def _components(items: tuple[AssistanceComponent, ...]) -> tuple[Component, ...]:
    got = tuple(dict.fromkeys(Component(c.type, c.form, c.amount_eur) for c in items))
    return got or (NO_COMPONENT,)


class UsageFold:
    """Accumulates canonical events, in any order, and gives the :class:`Usage` they amount to.

    Each person's events are put in event-time order (``occurred_at``, then arrival) before they are walked, so the
    result does not depend on partitioning. Only small tuples are kept per event, never identities.
    """

    def __init__(self) -> None:
        self._seq = 0
        self._read = 0
        self._events: dict[Person, list[tuple[dt.datetime, int, Any]]] = defaultdict(list)
        self._decisions: dict[Person, list[tuple[dt.date, str]]] = defaultdict(list)

    def add(self, event: CaseEvent) -> None:
        """Fold one event; irrelevant types are ignored."""
        if event.event_type not in RELEVANT_EVENT_TYPES:
            return
        self._read += 1
        person = (str(event.member_state), event.subject_key)
        payload = event.payload
        if isinstance(payload, ReturnDecisionIssued):
            if payload.country_of_return:
                self._decisions[person].append((payload.decision_date, payload.country_of_return))
            return
        if isinstance(payload, AssistanceApplied):
            obs: Any = ("A", payload.programme_reference, payload.application_date, payload.stage, payload.components)
        elif isinstance(payload, AssistanceGranted):
            obs = ("G", payload.programme_reference, payload.grant_date, payload.stage, payload.components)
        elif isinstance(payload, AssistanceRefused):
            obs = ("R", payload.programme_reference, payload.refusal_date, payload.stage, ())
        elif isinstance(payload, DepartureConfirmed):
            if not payload.assisted or payload.dublin_transfer:
                return
            obs = ("D", "", payload.departed_at.astimezone(dt.UTC).date(), None, payload.destination_country)
        else:
            return
        self._seq += 1
        self._events[person].append((event.occurred_at, self._seq, obs))

    def result(self) -> Usage:
        """The facts of everything added so far."""
        facts: list[Fact] = []
        for person in sorted(self._events):
            facts += _walk(person, sorted(self._events[person], key=lambda x: (x[0], x[1])))
        decisions = {p: tuple(sorted(d)) for p, d in self._decisions.items()}
        return Usage(facts=tuple(facts), decisions=decisions, events_read=self._read)


def _walk(person: Person, observations: list[tuple[dt.datetime, int, Any]]) -> list[Fact]:
    state = _PersonFold()
    facts: list[Fact] = []
    for _, _, (kind, programme, on, stage, extra) in observations:
        if kind == "A":
            comps = _components(extra)
            state.last_components[programme] = comps
            facts.append(Fact(Measure.APPLIED, person, programme, on, stage, comps))
        elif kind == "G":
            comps = _components(extra)
            state.last_components[programme] = comps
            state.grants[programme] = _Standing(stage, comps)
            facts.append(Fact(Measure.GRANTED, person, programme, on, stage, comps))
        elif kind == "R":
            comps = state.last_components.get(programme, (NO_COMPONENT,))
            state.grants.pop(programme, None)
            facts.append(Fact(Measure.REFUSED, person, programme, on, stage, comps))
        else:  # an assisted departure: it uses up every standing grant
            for prog, grant in sorted(state.grants.items()):
                facts.append(Fact(Measure.DEPARTED, person, prog, on, grant.stage, grant.components, extra))
            state.grants.clear()
    return facts


def fold_usage(events: Iterable[CaseEvent]) -> Usage:
    """Fold canonical events (any order, any mix of types) into :class:`Usage`."""
    fold = UsageFold()
    for event in events:
        fold.add(event)
    return fold.result()


# -- counting ---------------------------------------------------------------------------------------------------------

CellKey = tuple[str, str, str, AssistanceType, AssistanceForm, str, ProcedureStage]
"""(member_state, programme, country_of_return, type, form, level, stage)."""


@dataclass(frozen=True, slots=True)
class UsageRow:
    """One row of the RRAI usage output: a programme's catalogue data and four counts of persons.

    Only aggregates: no field can hold a subject key, case reference, event id, name, date of birth or document.

    Attributes:
        quarter: Reporting quarter, e.g. ``2026-Q1``.
        member_state: Member State whose events are counted.
        programme_reference: Programme reference.
        in_catalogue: The deployment's catalogue lists the programme (else the catalogue fields are empty).
        programme_name: Catalogue name.
        organisations: Organisations involved (catalogue).
        eligible_groups: Potential beneficiaries (catalogue).
        programme_stages: Stages at which the programme is offered (catalogue).
        programme_max_total_eur: Cap per person on all components (catalogue), two decimals.
        country_of_return: ISO 3166-1 alpha-3, or ``UNKNOWN``.
        assistance_type: Component type.
        assistance_form: CASH, IN_KIND or UNKNOWN.
        level: Amount band of the component (``RraiConfig.levels``).
        offered_forms: Forms in which the catalogue offers this type (empty: not offered).
        offered_max_amount_eur: The catalogue's level (cap) for this type, two decimals.
        stage: Stage of the procedure the facts are counted under.
        applied: Persons who applied; None when suppressed.
        granted: Persons granted; None when suppressed.
        refused: Persons refused; None when suppressed.
        departed: Persons who departed with this programme's assistance; None when suppressed.
        suppressed: Names of the counts replaced by None because they were below the threshold.
    """

    quarter: str
    member_state: str
    programme_reference: str
    in_catalogue: bool
    programme_name: str | None
    organisations: tuple[str, ...]
    eligible_groups: tuple[str, ...]
    programme_stages: tuple[str, ...]
    programme_max_total_eur: str | None
    country_of_return: str
    assistance_type: str
    assistance_form: str
    level: str
    offered_forms: tuple[str, ...]
    offered_max_amount_eur: str | None
    stage: str
    applied: int | None
    granted: int | None
    refused: int | None
    departed: int | None
    suppressed: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        """The row as JSON data (tuples as lists)."""
        return {name: _jsonable(getattr(self, name)) for name in ROW_FIELDS}


ROW_FIELDS: tuple[str, ...] = tuple(UsageRow.__dataclass_fields__)
"""Field names of a row, in output order: the JSON keys and the CSV header."""


def _jsonable(value: object) -> object:
    return list(value) if isinstance(value, tuple) else value


def suppress(count: int, threshold: int) -> int | None:
    """``None`` for a count that would single out fewer than ``threshold`` persons (but more than none)."""
    return None if 0 < count < threshold else count


def _country(person: Person, quarter: Quarter, usage: Usage, departed_to: Mapping[Person, str]) -> str:
    if person in departed_to:
        return departed_to[person]
    known = [c for d, c in usage.decisions.get(person, ()) if d <= quarter.last_day]
    return known[-1] if known else UNKNOWN_COUNTRY


def count_cells(usage: Usage, quarter: Quarter, config: RraiConfig) -> dict[CellKey, dict[Measure, int]]:
    """Distinct persons per cell and measure in ``quarter``, before suppression."""
    in_quarter = [f for f in usage.facts if quarter.first_day <= f.on <= quarter.last_day]
    departed_to: dict[Person, str] = {}
    # The latest counted departure of the quarter with a known destination gives the person's country.
    for f in sorted(in_quarter, key=lambda f: (f.on, f.destination or "")):
        if f.measure is Measure.DEPARTED and f.destination:
            departed_to[f.person] = f.destination
    persons: dict[CellKey, dict[Measure, set[Person]]] = defaultdict(lambda: defaultdict(set))
    for f in in_quarter:
        country = _country(f.person, quarter, usage, departed_to)
        for c in f.components:
            key = (f.person[0], f.programme, country, c.type, c.form, config.level_of(c.amount_eur), f.stage)
            persons[key][f.measure].add(f.person)
    return {k: {m: len(v.get(m, ())) for m in Measure} for k, v in persons.items()}


def _amount(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def make_row(
    quarter: Quarter, key: CellKey, counts: Mapping[Measure, int], programme: Programme | None, threshold: int
) -> UsageRow:
    """A row for one cell: catalogue data of its programme, and its counts with small ones suppressed."""
    member_state, reference, country, type_, form, level, stage = key
    shown = {m: suppress(counts.get(m, 0), threshold) for m in Measure}
    offer = programme.component(type_) if programme else None
    return UsageRow(
        quarter=str(quarter),
        member_state=member_state,
        programme_reference=reference,
        in_catalogue=programme is not None,
        programme_name=programme.name if programme else None,
        organisations=programme.organisations if programme else (),
        eligible_groups=programme.eligible_groups if programme else (),
        programme_stages=tuple(str(s) for s in programme.stages) if programme else (),
        programme_max_total_eur=_amount(programme.max_total_eur) if programme else None,
        country_of_return=country,
        assistance_type=str(type_),
        assistance_form=str(form),
        level=level,
        offered_forms=tuple(str(f) for f in offer.forms) if offer else (),
        offered_max_amount_eur=_amount(offer.max_amount_eur) if offer else None,
        stage=str(stage),
        applied=shown[Measure.APPLIED],
        granted=shown[Measure.GRANTED],
        refused=shown[Measure.REFUSED],
        departed=shown[Measure.DEPARTED],
        suppressed=tuple(str(m) for m in Measure if shown[m] is None),
    )


def usage_rows(
    usage: Usage, quarter: Quarter, catalogue: ProgrammeCatalogue, config: RraiConfig
) -> tuple[UsageRow, ...]:
    """The quarter's rows, sorted by their dimensions, small counts suppressed.

    No totals are produced: a total next to its cells would let a suppressed cell be recomputed (secondary
    disclosure), and since one person may hold several components, summing rows never gives a count of persons.
    """
    rows = []
    for key, counts in sorted(count_cells(usage, quarter, config).items(), key=lambda kv: tuple(map(str, kv[0]))):
        programme = catalogue.get(key[1])
        if programme is None and not config.include_unlisted:
            continue
        rows.append(make_row(quarter, key, counts, programme, config.threshold))
    return tuple(rows)
