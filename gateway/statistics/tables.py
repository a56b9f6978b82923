"""The counting rules: per-person facts -> the Eurostat tables of one reference period (pure).

Rules (see docs/statistics.md for the reasons):

- A person is counted at most once per table and period. Annual tables count persons once a year, not the sum of
  the quarters.
- Ordered to leave: the person has a return decision whose ``decision_date`` falls in the period (later withdrawn
  or annulled: still counted). Breakdown from the first such decision (by date, then reference).
- Returned following an order to leave: a departure in the period (UTC date of exit) that is not a Dublin transfer,
  carries evidence of the authorities' involvement (``counted_evidence``) and follows a decision of the person
  (the decision it names, else the person's latest decision on or before the day of departure). When several
  qualify, the first (or last, ``breakdown_return``) gives the breakdown; citizenship, sex, age and the
  unaccompanied-minor flag come from the decision it follows.
- A person holding any excluded citizenship (Union, EEA, Swiss) in any of their decisions is in no table.
- Citizenship: the first nationality of the decision; none: unknown. Age: completed years at the reference date;
  a partial date of birth whose possible ages straddle two classes is unknown. Unknowns are their own class.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass
from typing import Literal

from gateway.errors import ConfigError
from gateway.statistics.config import SdmxStructure, StatisticsConfig
from gateway.statistics.facts import Decision, Departure, Facts, PersonFacts

__all__ = ["TABLES", "Period", "Table", "Tables", "count", "quarters_between", "round_to"]

TABLES = ("ordered", "returned", "ordered_uam", "returned_uam")
"""The tables of one period, in the order they are written."""

_PERIOD = re.compile(r"^(\d{4})(?:-Q([1-4]))?$")


@dataclass(frozen=True, slots=True)
class Period:
    """A reference period: a quarter (``2026-Q1``) or a year (``2026``)."""

    label: str
    freq: Literal["Q", "A"]
    start: dt.date
    end: dt.date

    @classmethod
    def parse(cls, label: str) -> Period:
        """Parse ``YYYY-Qn`` or ``YYYY``.

        Raises:
            ConfigError: Not a quarter or a year.
        """
        match = _PERIOD.match(label.strip())
        if match is None:
            raise ConfigError(f"not a reference period (YYYY-Qn or YYYY): {label!r}")
        year, quarter = int(match[1]), match[2]
        if quarter is None:
            return cls(f"{year}", "A", dt.date(year, 1, 1), dt.date(year, 12, 31))
        first = 3 * int(quarter) - 2
        last = first + 2
        return cls(
            f"{year}-Q{quarter}",
            "Q",
            dt.date(year, first, 1),
            dt.date(year, last, calendar.monthrange(year, last)[1]),
        )

    def __contains__(self, day: object) -> bool:
        return isinstance(day, dt.date) and self.start <= day <= self.end


def quarters_between(first: str, last: str) -> list[Period]:
    """The quarters from ``first`` to ``last`` inclusive (both ``YYYY-Qn``)."""
    a, b = Period.parse(first), Period.parse(last)
    if a.freq != "Q" or b.freq != "Q":
        raise ConfigError("a range of quarters needs two quarters (YYYY-Qn)")
    out: list[Period] = []
    year, q = a.start.year, (a.start.month + 2) // 3
    while (year, q) <= (b.start.year, (b.start.month + 2) // 3):
        out.append(Period.parse(f"{year}-Q{q}"))
        year, q = (year + 1, 1) if q == 4 else (year, q + 1)
    return out


@dataclass(frozen=True, slots=True)
class Table:
    """One table of one period: exact person counts per cell (no TIME_PERIOD: it is the period's).

    Attributes:
        name: One of ``TABLES``.
        dataflow: The SDMX dataflow id.
        dimensions: Dimension ids, in order.
        cells: Dimension codes -> persons (exact; ``round_to`` gives the published figure).
    """

    name: str
    dataflow: str
    dimensions: tuple[str, ...]
    cells: dict[tuple[str, ...], int]

    def published(self, rounding: int) -> dict[tuple[str, ...], int]:
        """The cells as published: each rounded to a multiple of ``rounding``, sorted by key."""
        return {k: round_to(v, rounding) for k, v in sorted(self.cells.items())}


@dataclass(frozen=True, slots=True)
class Tables:
    """The tables of one period."""

    period: Period
    tables: dict[str, Table]


def round_to(value: int, step: int) -> int:
    """Round to the nearest multiple of ``step``, halves up (3 -> 5, 2 -> 0 for step 5)."""
    return value if step <= 1 else (value + step // 2) // step * step


def _age_range(birth: tuple[int | None, int | None, int | None], ref: dt.date) -> tuple[int | None, int | None]:
    year, month, day = birth
    if year is None:
        return None, None
    earliest = dt.date(year, month or 1, day or 1)
    last_month = month or 12
    latest = dt.date(year, last_month, day or calendar.monthrange(year, last_month)[1])

    def years(born: dt.date) -> int:
        return ref.year - born.year - ((ref.month, ref.day) < (born.month, born.day))

    return years(latest), years(earliest)


def _breakdown(s: SdmxStructure, freq: str, geo: str, decision: Decision, ref: dt.date) -> tuple[str, ...]:
    low, high = _age_range(decision.birth, ref)
    citizen = s.citizen(decision.nationalities[0] if decision.nationalities else None)
    return (freq, geo, citizen, s.sex_codes.get(decision.sex, s.unknown_code), s.age(low, high))


def _followed(person: PersonFacts, departure: Departure) -> Decision | None:
    before = [d for d in person.decisions if d.decision_date <= departure.departed_on]
    named = [d for d in before if d.reference == departure.decision_reference]
    pool = named or before
    return max(pool, key=lambda d: (d.decision_date, d.reference)) if pool else None


def count(facts: Facts, period: Period, config: StatisticsConfig) -> Tables:
    """Count the tables of ``period`` from ``facts`` under ``config`` (pure; see the module docstring)."""
    s = config.structure
    ids = s.quarterly if period.freq == "Q" else s.annual
    ref = period.end if config.age_reference == "period_end" else period.start
    geo_codes, excluded = s.geo_codes, config.excluded_citizenships
    counters: dict[str, Counter[tuple[str, ...]]] = {name: Counter() for name in TABLES}
    for (state, _), person in facts.items():
        if any(excluded.intersection(d.nationalities) for d in person.decisions):
            continue
        geo = geo_codes.get(state, state)
        ordered = sorted(d for d in person.decisions if d.decision_date in period)
        if ordered:
            key = _breakdown(s, period.freq, geo, ordered[0], ref)
            counters["ordered"][key] += 1
            if any(d.unaccompanied_minor for d in ordered):
                counters["ordered_uam"][key] += 1
        returned = _returned(person, period, config)
        if returned is not None:
            departure, decision = returned
            key = _breakdown(s, period.freq, geo, decision, ref)
            assistance = s.assistance_codes["assisted" if departure.assisted else "non_assisted"]
            ret = (s.return_type_codes.get(departure.return_type, s.unknown_code), assistance)
            counters["returned"][(*key, *ret, s.citizen(departure.destination))] += 1
            if decision.unaccompanied_minor:
                counters["returned_uam"][key] += 1
    base = (s.dim_freq, s.dim_geo, s.dim_citizen, s.dim_sex, s.dim_age)
    dims = {
        "ordered": base,
        "ordered_uam": base,
        "returned_uam": base,
        "returned": (*base, s.dim_return_type, s.dim_assistance, s.dim_destination),
    }
    return Tables(
        period,
        {name: Table(name, getattr(ids, name), dims[name], dict(sorted(counters[name].items()))) for name in TABLES},
    )


def _returned(person: PersonFacts, period: Period, config: StatisticsConfig) -> tuple[Departure, Decision] | None:
    counted: list[tuple[Departure, Decision]] = []
    for departure in sorted(person.departures, key=_departure_order):
        if departure.departed_on not in period or departure.dublin_transfer:
            continue
        if not departure.evidence & config.counted_evidence:
            continue  # no record of the authorities' involvement: not a return following an order to leave
        decision = _followed(person, departure)
        if decision is not None:
            counted.append((departure, decision))
    if not counted:
        return None
    return counted[0] if config.breakdown_return == "first" else counted[-1]


def _departure_order(d: Departure) -> tuple[dt.date, str, str, bool, str, str]:
    # Total order on the facts, so two departures on one day pick the same "first" whatever the input order.
    return (
        d.departed_on,
        d.decision_reference or "",
        d.return_type,
        d.assisted,
        d.destination or "",
        str(sorted(d.evidence)),
    )
