"""A generated multi-year history of return cases with its Eurostat tables known in advance: the ground truth.

Each person follows one story kind; the generator chooses the dates, citizenship, sex and age class, writes the
canonical events, and states what the person must add to each table. A person adds to a table at most once per
period: the first contribution stated for (table, period) wins, and stories state theirs in time order. Ages are
chosen mid-class (8, 15, 25, 45 at the story's start, which lasts under a year) so that the class is the same at
every reference date, except in the stories that test the age rules.

Edge cases (each at least once, whatever ``persons``): returned twice in one quarter; turns 18 in the quarter;
a Dublin transfer; a Union national; a dual national holding a Union citizenship; a withdrawn decision; a
departure with no decision; a departure without official evidence; unknown citizenship, sex and date of birth;
a partial date of birth straddling two classes; returns in two quarters of one year (once in the annual table);
a decision in one year and the return in the next; unaccompanied minors; and a late departure for 2026-Q1
(``late_events``) with the tables as they must be once it is in (``expected_after_late``).
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections import Counter
from dataclasses import dataclass, field

from gateway.events import models as m
from gateway.statistics.config import StatisticsConfig

__all__ = ["KINDS", "StatisticsStories", "statistics_stories"]

_NS = uuid.UUID("0c1f3d2a-8a51-5f0e-9a7c-5e2b9d6f4a10")
_TCN = ("MAR", "DZA", "TUN", "AFG", "IRQ", "SYR", "NGA", "GEO", "ALB", "UKR", "PAK", "BGD", "TUR", "SEN", "IND")
_AGES = {"Y_LT14": 8, "Y14-17": 15, "Y18-34": 25, "Y_GE35": 45}
_EVIDENCE = (
    m.DepartureEvidence.EES_EXIT_RECORD,
    m.DepartureEvidence.SIS_ART6_CONFIRMATION,
    m.DepartureEvidence.NATIONAL_BORDER_CHECK,
)

KINDS = (
    "ordered-only",
    "ordered-returned",
    "ordered-returned",
    "ordered-returned",
    "returned-twice-in-quarter",
    "turns-18",
    "dublin-transfer",
    "eu-national",
    "dual-eu-national",
    "withdrawn",
    "departure-without-decision",
    "no-evidence",
    "unknowns",
    "partial-birth-date",
    "across-years",
    "returns-in-two-quarters",
    "uam",
)

Cells = dict[str, Counter[tuple[str, ...]]]


@dataclass(slots=True)
class StatisticsStories:
    """The history and its truth.

    Attributes:
        events: Canonical events, in event-time order.
        late_events: Events to publish after a first build (a departure in ``late_period``).
        late_period: The quarter the late events revise.
        expected: Period label -> table -> cell -> exact persons, without the late events.
        expected_after_late: The same with the late events (only the periods they change differ).
        kind_of: Subject key -> story kind.
        periods: Every quarter and year of the history.
    """

    events: list[m.CaseEvent] = field(default_factory=list)
    late_events: list[m.CaseEvent] = field(default_factory=list)
    late_period: str = "2026-Q1"
    expected: dict[str, Cells] = field(default_factory=dict)
    expected_after_late: dict[str, Cells] = field(default_factory=dict)
    kind_of: dict[str, str] = field(default_factory=dict)
    periods: list[str] = field(default_factory=list)


def _quarter(day: dt.date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def _quarter_end(day: dt.date) -> dt.date:
    last = 3 * ((day.month - 1) // 3 + 1)
    return (dt.date(day.year + (last == 12), 1 if last == 12 else last + 1, 1)) - dt.timedelta(days=1)


def statistics_stories(
    persons: int,
    *,
    seed: int = 13,
    first_year: int = 2024,
    years: int = 3,
    member_states: tuple[str, ...] = ("NL", "DE", "GR"),
    config: StatisticsConfig | None = None,
) -> StatisticsStories:
    """``persons`` people over ``years`` years from ``first_year``, cycling through ``KINDS``.

    Args:
        persons: How many persons (at least ``len(KINDS)`` to have every edge case; the late person comes on top).
        seed: Random seed: the same arguments give the same events and truth.
        first_year: First year of the history.
        years: Its length.
        member_states: Reporting States, in turn (GR tests the GEO code mapping to EL).
        config: The codes of the truth's cells (default configuration if None).
    """
    config = config or StatisticsConfig()
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not secrets
    out = StatisticsStories()
    out.periods = [f"{y}-Q{q}" for y in range(first_year, first_year + years) for q in range(1, 5)]
    out.periods += [str(y) for y in range(first_year, first_year + years)]
    truth: dict[tuple[str, str, str], tuple[str, ...]] = {}  # (table, period, person) -> cell
    late: dict[tuple[str, str, str], tuple[str, ...]] = {}
    for i in range(persons):
        _Person(out, truth, rng, config, KINDS[i % len(KINDS)], member_states[i % len(member_states)], i).write(
            first_year, years
        )
    # The late person: ordered in 2026-Q1 (in the history), departure in 2026-Q1 published late.
    lp = _Person(out, truth, rng, config, "late", member_states[0], persons)
    lp.write_late(out, late)
    out.events.sort(key=lambda e: (e.occurred_at, str(e.event_id)))
    out.expected = _tabulate(truth)
    out.expected_after_late = _tabulate({**truth, **late})
    return out


def _tabulate(truth: dict[tuple[str, str, str], tuple[str, ...]]) -> dict[str, Cells]:
    out: dict[str, Cells] = {}
    for (table, period, _), cell in truth.items():
        out.setdefault(period, {}).setdefault(table, Counter())[cell] += 1
    return out


class _Person:
    def __init__(
        self,
        out: StatisticsStories,
        truth: dict[tuple[str, str, str], tuple[str, ...]],
        rng: random.Random,
        config: StatisticsConfig,
        kind: str,
        ms: str,
        index: int,
    ) -> None:
        self.out, self.truth, self.rng, self.s = out, truth, rng, config.structure
        self.kind, self.ms, self.index = kind, ms, index
        self.key = uuid.uuid5(_NS, f"{ms}:{index}").hex
        self.n = 0
        self.nationalities: tuple[str, ...] = (rng.choice(_TCN),)
        self.sex = rng.choice((m.Sex.MALE, m.Sex.FEMALE))
        self.age_class = rng.choice(tuple(_AGES))
        self.birth = m.PartialDate(year=2000, month=1, day=1, precision=m.DatePrecision.DAY)
        self.uam = False
        out.kind_of[self.key] = kind

    # -- events ---------------------------------------------------------------------------------------------------

    def emit(self, payload: m.AvroModel, day: dt.date, target: list[m.CaseEvent] | None = None) -> None:
        self.n += 1
        when = dt.datetime.combine(day, dt.time(10, self.n % 60), tzinfo=dt.UTC)
        (self.out.events if target is None else target).append(
            m.CaseEvent(
                event_id=uuid.uuid5(_NS, f"{self.key}:{self.n}"),
                event_type=m.EVENT_TYPE_OF[type(payload)],
                occurred_at=when,
                recorded_at=when + dt.timedelta(minutes=5),
                member_state=self.ms,
                source=m.Source(connector="statistics-stories", version="1"),
                case_reference=f"{self.ms}-S{self.index:06d}",
                subject_key=self.key,
                correlation_id=f"statistics:{self.kind}",
                payload=payload,
            )
        )

    def decision(self, day: dt.date, ref: str) -> None:
        self.emit(
            m.ReturnDecisionIssued(
                decision_reference=ref,
                decision_date=day,
                issuing_authority="Immigration service",
                legal_ground=m.LegalGround.ILLEGAL_STAY,
                country_of_return=self.nationalities[0] if self.nationalities else None,
                voluntary_departure=m.VoluntaryDeparture(granted=True, last_day=day + dt.timedelta(days=30)),
                entry_ban=m.EntryBan(imposed=False),
                unaccompanied_minor=self.uam,
                identity=m.Identity(
                    surnames=(f"S{self.index}",),
                    forenames=("F",),
                    date_of_birth=self.birth,
                    sex=self.sex,
                    nationalities=self.nationalities,
                ),
            ),
            day,
        )

    def departure(
        self,
        day: dt.date,
        ref: str | None,
        *,
        rtype: m.ReturnType,
        assisted: bool,
        dest: str | None,
        dublin: bool = False,
        evidence: tuple[m.DepartureEvidence, ...] | None = None,
        target: list[m.CaseEvent] | None = None,
    ) -> None:
        if assisted:  # an event type the statistics skip by its header
            self.emit(
                m.AssistanceGranted(
                    programme_reference=f"PRG-{self.ms}",
                    stage=m.ProcedureStage.AFTER_RETURN_DECISION,
                    granting_member_state=self.ms,
                    grant_date=day - dt.timedelta(days=3),
                ),
                day - dt.timedelta(days=3),
                target,
            )
        self.emit(
            m.DepartureConfirmed(
                departed_at=dt.datetime.combine(day, dt.time(8), tzinfo=dt.UTC),
                evidence=(self.rng.choice(_EVIDENCE),) if evidence is None else evidence,
                return_type=rtype,
                assisted=assisted,
                destination_country=dest,
                decision_reference=ref,
                dublin_transfer=dublin,
            ),
            day,
            target,
        )

    # -- truth ----------------------------------------------------------------------------------------------------

    def base(self, freq: str, age: str | None = None) -> tuple[str, ...]:
        s = self.s
        citizen = s.citizen(self.nationalities[0] if self.nationalities else None)
        return (freq, s.geo_codes.get(self.ms, self.ms), citizen, s.sex_codes[str(self.sex)], age or self.age_class)

    def add(self, table: str, day: dt.date, extra: tuple[str, ...] = (), age: str | None = None) -> None:
        for period, freq in ((_quarter(day), "Q"), (str(day.year), "A")):
            self.truth.setdefault((table, period, self.key), (*self.base(freq, age), *extra))

    def ordered(self, day: dt.date, age: str | None = None) -> None:
        self.add("ordered", day, age=age)
        if self.uam:
            self.add("ordered_uam", day, age=age)

    def returned(
        self, day: dt.date, rtype: m.ReturnType, assisted: bool, dest: str | None, age: str | None = None
    ) -> None:
        s = self.s
        extra = (
            s.return_type_codes[str(rtype)],
            s.assistance_codes["assisted" if assisted else "non_assisted"],
            s.citizen(dest),
        )
        self.add("returned", day, extra, age)
        if self.uam:
            self.add("returned_uam", day, age=age)

    # -- stories --------------------------------------------------------------------------------------------------

    def born(self, start: dt.date, years: int) -> None:
        day = start - dt.timedelta(days=365 * years + 30 + self.rng.randrange(270))
        self.birth = m.PartialDate(year=day.year, month=day.month, day=day.day, precision=m.DatePrecision.DAY)

    def trip(self) -> tuple[m.ReturnType, bool, str | None]:
        rtype = self.rng.choice((m.ReturnType.VOLUNTARY, m.ReturnType.VOLUNTARY, m.ReturnType.ENFORCED))
        assisted = rtype == m.ReturnType.VOLUNTARY and self.rng.random() < 0.5
        dest = self.nationalities[0] if self.rng.random() < 0.85 else self.rng.choice(_TCN)
        return rtype, assisted, dest

    def go(self, decided: dt.date, left: dt.date, ref: str) -> None:
        """A decision, then a counted return following it."""
        rtype, assisted, dest = self.trip()
        self.decision(decided, ref)
        self.ordered(decided)
        self.departure(left, ref, rtype=rtype, assisted=assisted, dest=dest)
        self.returned(left, rtype, assisted, dest)

    def write(self, first_year: int, years: int) -> None:
        rng, k = self.rng, self.kind
        span = (dt.date(first_year + years, 1, 1) - dt.date(first_year, 1, 1)).days
        start = dt.date(first_year, 1, 1) + dt.timedelta(days=rng.randrange(span - 130))
        self.born(start, _AGES[self.age_class])
        ref = f"D-{self.index:06d}"
        if k == "ordered-only":
            self.decision(start, ref)
            self.ordered(start)
        elif k == "ordered-returned":
            self.go(start, start + dt.timedelta(days=rng.randrange(10, 90)), ref)
        elif k == "returned-twice-in-quarter":
            q0 = dt.date(start.year, 3 * ((start.month - 1) // 3) + 1, 1)
            self.go(q0 + dt.timedelta(days=2), q0 + dt.timedelta(days=20), ref)
            self.go(q0 + dt.timedelta(days=40), q0 + dt.timedelta(days=70), ref + "-2")  # counted once, first wins
        elif k == "turns-18":
            self.uam = True
            end = _quarter_end(start)
            birthday = end - dt.timedelta(days=10)
            self.birth = m.PartialDate(
                year=birthday.year - 18, month=birthday.month, day=birthday.day, precision=m.DatePrecision.DAY
            )
            decided = end - dt.timedelta(days=60)  # 17 on the day of the decision, 18 at the reference date
            rtype, assisted, dest = self.trip()
            self.decision(decided, ref)
            self.ordered(decided, age="Y18-34")
            self.departure(end - dt.timedelta(days=5), ref, rtype=rtype, assisted=assisted, dest=dest)
            self.returned(end - dt.timedelta(days=5), rtype, assisted, dest, age="Y18-34")
        elif k == "dublin-transfer":
            self.decision(start, ref)
            self.ordered(start)
            self.departure(start + dt.timedelta(days=20), ref, rtype=m.ReturnType.ENFORCED, assisted=False,
                           dest=None, dublin=True)  # fmt: skip
        elif k in ("eu-national", "dual-eu-national"):
            self.nationalities = ("ROU",) if k == "eu-national" else ("MAR", "FRA")
            rtype, assisted, dest = self.trip()
            self.decision(start, ref)
            self.departure(start + dt.timedelta(days=15), ref, rtype=rtype, assisted=assisted, dest=dest)
        elif k == "withdrawn":
            self.decision(start, ref)
            self.ordered(start)
            self.emit(
                m.ReturnDecisionStatusChanged(
                    decision_reference=ref, status=m.DecisionStatus.WITHDRAWN, effective_date=start
                ),
                start + dt.timedelta(days=10),
            )
        elif k == "departure-without-decision":
            rtype, assisted, dest = self.trip()
            self.departure(start, None, rtype=rtype, assisted=assisted, dest=dest)
        elif k == "no-evidence":
            self.decision(start, ref)
            self.ordered(start)
            self.departure(start + dt.timedelta(days=12), ref, rtype=m.ReturnType.VOLUNTARY, assisted=False,
                           dest=self.nationalities[0], evidence=())  # fmt: skip
        elif k == "unknowns":
            self.nationalities = rng.choice(((), ("XXA",), ("XXX",)))
            self.sex = m.Sex.UNSPECIFIED
            self.birth = m.PartialDate(precision=m.DatePrecision.UNKNOWN)
            self.age_class = self.s.unknown_code
            self.decision(start, ref)
            self.ordered(start)
            left = start + dt.timedelta(days=25)
            self.departure(left, ref, rtype=m.ReturnType.UNKNOWN, assisted=False, dest=None)
            self.returned(left, m.ReturnType.UNKNOWN, False, None)
        elif k == "partial-birth-date":
            # Only the year, 18 years before the decision's: 17 or 18 at the end of Q1-Q3 (unknown class), but
            # 18 whatever the day of birth on 31 December (the Q4 and annual reference date).
            self.birth = m.PartialDate(year=start.year - 18, precision=m.DatePrecision.YEAR)
            self.decision(start, ref)
            quarterly = "Y18-34" if start.month >= 10 else self.s.unknown_code
            self.truth[("ordered", _quarter(start), self.key)] = self.base("Q", quarterly)
            self.truth[("ordered", str(start.year), self.key)] = self.base("A", "Y18-34")
        elif k == "across-years":
            decided = dt.date(start.year if start.year < first_year + years - 1 else start.year - 1, 12, 10)
            self.born(decided, _AGES[self.age_class])
            self.go(decided, decided + dt.timedelta(days=40), ref)
        elif k == "returns-in-two-quarters":
            y = start.year
            self.born(dt.date(y, 1, 1), _AGES[self.age_class])
            self.go(dt.date(y, 1, 20), dt.date(y, 2, 15), ref)
            self.go(dt.date(y, 7, 3), dt.date(y, 8, 1), ref + "-2")  # a second quarter; once in the year
        elif k == "uam":
            self.uam = True
            self.age_class = "Y14-17"
            self.born(start, 15)
            self.go(start, start + dt.timedelta(days=rng.randrange(10, 60)), ref)
        else:  # pragma: no cover - KINDS and the branches are kept together
            raise AssertionError(k)

    def write_late(self, out: StatisticsStories, late: dict[tuple[str, str, str], tuple[str, ...]]) -> None:
        decided = dt.date(2026, 1, 10)
        self.born(decided, 25)
        self.age_class = "Y18-34"
        self.decision(decided, "D-LATE")
        self.ordered(decided)
        left = dt.date(2026, 3, 20)
        self.departure(left, "D-LATE", rtype=m.ReturnType.ENFORCED, assisted=False, dest=self.nationalities[0],
                       target=out.late_events)  # fmt: skip
        self.truth = late
        self.returned(left, m.ReturnType.ENFORCED, False, self.nationalities[0])
