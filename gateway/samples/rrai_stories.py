"""Generated assistance histories over several years, with the RRAI counts they must give: the export's ground truth.

Each person follows one story (applied, granted, refused, departed, in some order and over one or two quarters)
and the story itself states what it must add to the counts, cell by cell: the truth is written by hand beside the
events, never computed by the code under test. The stories use the example catalogue's programmes
(``NL-AVRR-2026``, ``NL-DETENTION-2026``) plus one the catalogue does not list (``NL-PILOT-2025``), and the default
amount bands (``<500``, ``500-1999.99``, ``>=2000``, ``unknown``).

Every identity carries sentinel values (``SENTINEL-...``), so a test can prove none reaches the output.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from gateway.events import models as m

__all__ = [
    "SENTINELS",
    "STORY_NAMES",
    "CellKey",
    "RraiStories",
    "counts_from_rows",
    "default_key_of",
    "quarter_of",
    "rrai_stories",
]

_NS = uuid.UUID("0f2b8c61-7a43-5d4e-9a1c-3e5d7f9b1c24")
MS = "NL"
AVRR, DETENTION, PILOT = "NL-AVRR-2026", "NL-DETENTION-2026", "NL-PILOT-2025"
MEASURES = ("applied", "granted", "refused", "departed")

CellKey = tuple[str, str, str, str, str, str, str]
"""(member_state, programme, country_of_return, assistance_type, assistance_form, level, stage)."""

# (type, form, amount, level under the default bands): the level is written out, not computed.
_Comp = tuple[m.AssistanceType, m.AssistanceForm, str | None, str]
T, F = m.AssistanceType, m.AssistanceForm
FULL: tuple[_Comp, ...] = (
    (T.TRAVEL, F.IN_KIND, "450.00", "<500"),
    (T.PRE_DEPARTURE_CASH, F.CASH, "300.00", "<500"),
    (T.REINTEGRATION_IN_KIND, F.IN_KIND, "2500.00", ">=2000"),
)
LIGHT: tuple[_Comp, ...] = ((T.COUNSELLING, F.IN_KIND, None, "unknown"), (T.TRAVEL, F.IN_KIND, "800.00", "500-1999.99"))
CASH_AT_EDGE: tuple[_Comp, ...] = ((T.REINTEGRATION_CASH, F.CASH, "500.00", "500-1999.99"),)
DETAINED: tuple[_Comp, ...] = (
    (T.TRAVEL, F.IN_KIND, "600.00", "500-1999.99"),
    (T.PRE_DEPARTURE_CASH, F.CASH, "100.00", "<500"),
)
PILOT_PACK: tuple[_Comp, ...] = ((T.MEDICAL, F.IN_KIND, None, "unknown"),)
NOTHING_NAMED: tuple[_Comp, ...] = ((T.UNKNOWN, F.UNKNOWN, None, "unknown"),)

SENTINELS = (
    "SENTINEL-SURNAME",
    "SENTINEL-FORENAME",
    "SENTINEL-PLACE",
    "SENTINELDOC",
    "SENTINEL-CASE",
    "SENTINEL-DECISION",
    "sentinel-correlation",
    "1931-07-13",
)
"""Substrings of personal values every story carries; none may appear in the export's bytes."""

STORY_NAMES = (
    "applied-granted-departed",
    "applied-twice-then-granted",
    "granted-then-departed-next-quarter",
    "refused",
    "granted-then-unassisted-departure",
    "assisted-departure-without-grant",
    "granted-withdrawn-then-departed",
    "asylum-stage-no-decision",
    "destination-differs-from-decision",
    "detention-grant-without-application",
    "unlisted-programme",
    "application-before-decision",
    "application-without-components",
    "dublin-transfer",
    "departure-confirmed-twice-across-quarters",
    "decision-only-next-quarter",
    "cash-at-band-edge",
)

_COUNTRIES = ("MAR", "MAR", "IRQ", "GEO", "MAR", "IRQ")


def quarter_of(day: dt.date) -> str:
    """``2026-Q1`` for a day."""
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def _quarter_start(year: int, number: int) -> dt.date:
    return dt.date(year + (number - 1) // 4, (number - 1) % 4 * 3 + 1, 1)


def default_key_of(member_state: str, person: str) -> str:
    """A pseudonymous subject key for a story's person (tests; a deployment uses its pseudonymiser)."""
    return hashlib.sha256(f"{member_state}:{person}".encode()).hexdigest()[:32]


@dataclass(slots=True)
class RraiStories:
    """Generated events and the counts they must give.

    Attributes:
        events: Canonical events, in event-time order.
        expected: Quarter -> cell -> measure -> persons (measures with none are left out).
        story_of: Person reference -> story name.
    """

    events: list[m.CaseEvent] = field(default_factory=list)
    expected: dict[str, dict[CellKey, Counter[str]]] = field(default_factory=dict)
    story_of: dict[str, str] = field(default_factory=dict)

    def quarters(self) -> list[str]:
        """Every quarter with at least one expected count, in order."""
        return sorted(self.expected)

    def expected_counts(self, quarter: str, threshold: int = 1) -> dict[CellKey, dict[str, int | None]]:
        """The cells of a quarter with all four counts; counts ``0 < c < threshold`` as None (suppressed)."""
        return {
            key: {x: (None if 0 < counts[x] < threshold else counts[x]) for x in MEASURES}
            for key, counts in self.expected.get(quarter, {}).items()
        }


def counts_from_rows(rows: Iterable[Mapping[str, Any]]) -> dict[CellKey, dict[str, int | None]]:
    """The export's JSON rows in the shape of :meth:`RraiStories.expected_counts`."""
    out: dict[CellKey, dict[str, int | None]] = {}
    for r in rows:
        key = (
            r["member_state"],
            r["programme_reference"],
            r["country_of_return"],
            r["assistance_type"],
            r["assistance_form"],
            r["level"],
            r["stage"],
        )
        if key in out:
            raise ValueError(f"two rows for one cell: {key}")
        out[key] = {x: r[x] for x in MEASURES}
    return out


def rrai_stories(
    count: int,
    *,
    first_year: int = 2025,
    quarters: int = 12,
    key_of: Callable[[str, str], str] = default_key_of,
) -> RraiStories:
    """``count`` persons, cycling through every story, spread over ``quarters`` quarters from ``first_year``-Q1.

    Stories that run into the following quarter may add counts to the quarter after the last one.
    """
    out = RraiStories()
    for i in range(count):
        kind = STORY_NAMES[i % len(STORY_NAMES)]
        round_ = i // len(STORY_NAMES)
        q = (round_ + i) % quarters
        start = _quarter_start(first_year, q + 1) + dt.timedelta(days=(i * 7) % 30)
        person = f"RRAI-{i:05d}"
        out.story_of[person] = kind
        country = _COUNTRIES[(round_ + i // 3) % len(_COUNTRIES)]
        _Story(out, kind, person, key_of(MS, person), i, start, country).write()
    out.events.sort(key=lambda e: (e.occurred_at, str(e.event_id)))
    return out


class _Story:
    def __init__(
        self, out: RraiStories, kind: str, person: str, key: str, index: int, start: dt.date, country: str
    ) -> None:
        self.out, self.kind, self.person, self.key, self.index = out, kind, person, key, index
        self.start, self.country = start, country
        self.n = 0

    # -- building blocks ------------------------------------------------------------------------------------------

    def day(self, offset: int) -> dt.date:
        return self.start + dt.timedelta(days=offset)

    def next_quarter_day(self, offset: int) -> dt.date:
        q = (self.start.month - 1) // 3 + 1
        return _quarter_start(self.start.year, q + 1) + dt.timedelta(days=offset)

    def emit(self, payload: m.AvroModel, on: dt.date, hour: int = 10) -> None:
        self.n += 1
        when = dt.datetime.combine(on, dt.time(hour), tzinfo=dt.UTC)
        self.out.events.append(
            m.CaseEvent(
                event_id=uuid.uuid5(_NS, f"{self.person}:{self.n}"),
                event_type=m.EVENT_TYPE_OF[type(payload)],
                occurred_at=when,
                recorded_at=when + dt.timedelta(minutes=5),
                member_state=MS,
                source=m.Source(connector="rrai-stories", version="1"),
                case_reference=f"SENTINEL-CASE-{self.index:05d}",
                subject_key=self.key,
                correlation_id=f"sentinel-correlation-{self.index}",
                payload=payload,
            )
        )

    def expect(
        self, measure: str, on: dt.date, programme: str, country: str, stage: str, comps: tuple[_Comp, ...]
    ) -> None:
        cells = self.out.expected.setdefault(quarter_of(on), {})
        for type_, form, _, level in comps:
            cells.setdefault((MS, programme, country, str(type_), str(form), level, stage), Counter())[measure] += 1

    @staticmethod
    def components(comps: tuple[_Comp, ...]) -> tuple[m.AssistanceComponent, ...]:
        return tuple(
            m.AssistanceComponent(type=t, form=f, amount_eur=None if a is None else Decimal(a))
            for t, f, a, _ in comps
            if t is not T.UNKNOWN
        )

    def decision(self, on: dt.date, country: str | None = None) -> None:
        identity = m.Identity(
            surnames=(f"SENTINEL-SURNAME-{self.index}",),
            forenames=("SENTINEL-FORENAME",),
            date_of_birth=m.PartialDate(year=1931, month=7, day=13, precision=m.DatePrecision.DAY),
            place_of_birth="SENTINEL-PLACE",
            sex=m.Sex.FEMALE,
            nationalities=("MAR",),
            travel_document=m.TravelDocument(
                type=m.TravelDocumentType.PASSPORT, number=f"SENTINELDOC{self.index:05d}", issuing_country="MAR"
            ),
        )
        self.emit(
            m.ReturnDecisionIssued(
                decision_reference=f"SENTINEL-DECISION-{self.index:05d}",
                decision_date=on,
                issuing_authority="Immigration service",
                legal_ground=m.LegalGround.REJECTED_APPLICATION,
                country_of_return=country or self.country,
                voluntary_departure=m.VoluntaryDeparture(granted=True, last_day=on + dt.timedelta(days=30)),
                entry_ban=m.EntryBan(imposed=False),
                identity=identity,
            ),
            on,
            hour=9,
        )

    def applied(self, on: dt.date, programme: str, stage: m.ProcedureStage, comps: tuple[_Comp, ...]) -> None:
        self.emit(
            m.AssistanceApplied(
                programme_reference=programme,
                application_date=on,
                stage=stage,
                components=self.components(comps),
            ),
            on,
        )

    def granted(self, on: dt.date, programme: str, stage: m.ProcedureStage, comps: tuple[_Comp, ...]) -> None:
        self.emit(
            m.AssistanceGranted(
                programme_reference=programme,
                stage=stage,
                components=self.components(comps),
                granting_member_state=MS,
                grant_date=on,
            ),
            on,
            hour=11,
        )

    def refused(self, on: dt.date, programme: str, stage: m.ProcedureStage) -> None:
        self.emit(
            m.AssistanceRefused(
                programme_reference=programme,
                stage=stage,
                refusal_date=on,
                reason=m.RefusalReason.NOT_ELIGIBLE,
                reason_text="SENTINEL-SURNAME free text",
            ),
            on,
            hour=12,
        )

    def departed(
        self, on: dt.date, destination: str | None, *, assisted: bool = True, dublin: bool = False, hour: int = 8
    ) -> None:
        self.emit(
            m.DepartureConfirmed(
                departed_at=dt.datetime.combine(on, dt.time(hour), tzinfo=dt.UTC),
                evidence=(m.DepartureEvidence.NATIONAL_BORDER_CHECK,),
                return_type=m.ReturnType.VOLUNTARY,
                assisted=assisted,
                destination_country=destination,
                decision_reference=f"SENTINEL-DECISION-{self.index:05d}",
                dublin_transfer=dublin,
            ),
            on,
            hour=hour + 1 if hour < 23 else 23,
        )

    # -- the stories ----------------------------------------------------------------------------------------------

    def write(self) -> None:
        # One branch per story keeps each story's truth beside its events.
        k, c = self.kind, self.country
        ard, rd = m.ProcedureStage.AFTER_RETURN_DECISION, "AFTER_RETURN_DECISION"
        if k == "applied-granted-departed":
            self.decision(self.day(0))
            self.applied(self.day(2), AVRR, ard, FULL)
            self.granted(self.day(10), AVRR, ard, FULL)
            self.departed(self.day(30), c)
            for measure, on in (("applied", 2), ("granted", 10), ("departed", 30)):
                self.expect(measure, self.day(on), AVRR, c, rd, FULL)
        elif k == "applied-twice-then-granted":
            self.decision(self.day(0))
            self.applied(self.day(1), AVRR, ard, LIGHT)
            self.applied(self.day(20), AVRR, ard, LIGHT)  # the same person again: counted once
            self.granted(self.day(40), AVRR, ard, LIGHT)
            self.expect("applied", self.day(1), AVRR, c, rd, LIGHT)
            self.expect("granted", self.day(40), AVRR, c, rd, LIGHT)
        elif k == "granted-then-departed-next-quarter":
            self.decision(self.day(0))
            self.applied(self.day(3), AVRR, ard, FULL)
            self.granted(self.day(12), AVRR, ard, FULL)
            self.departed(self.next_quarter_day(10), c)
            self.expect("applied", self.day(3), AVRR, c, rd, FULL)
            self.expect("granted", self.day(12), AVRR, c, rd, FULL)
            self.expect("departed", self.next_quarter_day(10), AVRR, c, rd, FULL)
        elif k == "refused":
            self.decision(self.day(0))
            self.applied(self.day(2), AVRR, ard, LIGHT)
            self.refused(self.day(9), AVRR, ard)
            self.expect("applied", self.day(2), AVRR, c, rd, LIGHT)
            self.expect("refused", self.day(9), AVRR, c, rd, LIGHT)  # under the components applied for
        elif k == "granted-then-unassisted-departure":
            self.decision(self.day(0))
            self.applied(self.day(2), AVRR, ard, FULL)
            self.granted(self.day(5), AVRR, ard, FULL)
            self.departed(self.day(25), c, assisted=False)  # not this programme's departure
            self.expect("applied", self.day(2), AVRR, c, rd, FULL)
            self.expect("granted", self.day(5), AVRR, c, rd, FULL)
        elif k == "assisted-departure-without-grant":
            self.decision(self.day(0))
            self.applied(self.day(2), AVRR, ard, LIGHT)
            self.departed(self.day(20), "TUN")  # no grant: no programme's departure, and no country either
            self.expect("applied", self.day(2), AVRR, c, rd, LIGHT)
        elif k == "granted-withdrawn-then-departed":
            self.decision(self.day(0))
            self.applied(self.day(2), AVRR, ard, FULL)
            self.granted(self.day(6), AVRR, ard, LIGHT)
            self.refused(self.day(15), AVRR, ard)  # withdraws the grant
            self.departed(self.day(30), c)
            self.expect("applied", self.day(2), AVRR, c, rd, FULL)
            self.expect("granted", self.day(6), AVRR, c, rd, LIGHT)
            self.expect("refused", self.day(15), AVRR, c, rd, LIGHT)  # the latest components: the grant's
        elif k == "asylum-stage-no-decision":
            asy = m.ProcedureStage.ASYLUM_PROCEDURE
            self.applied(self.day(1), AVRR, asy, LIGHT)
            self.granted(self.day(8), AVRR, asy, LIGHT)
            self.departed(self.day(20), None)
            for measure, on in (("applied", 1), ("granted", 8), ("departed", 20)):
                self.expect(measure, self.day(on), AVRR, "UNKNOWN", "ASYLUM_PROCEDURE", LIGHT)
        elif k == "destination-differs-from-decision":
            self.decision(self.day(0))
            self.applied(self.day(2), AVRR, ard, FULL)
            self.granted(self.day(7), AVRR, ard, FULL)
            self.departed(self.day(33), "SEN")  # the departure's destination wins for the whole quarter
            for measure, on in (("applied", 2), ("granted", 7), ("departed", 33)):
                self.expect(measure, self.day(on), AVRR, "SEN", rd, FULL)
        elif k == "detention-grant-without-application":
            self.decision(self.day(0))
            self.granted(self.day(3), DETENTION, m.ProcedureStage.DETENTION, DETAINED)
            self.departed(self.day(4), c)
            self.expect("granted", self.day(3), DETENTION, c, "DETENTION", DETAINED)
            self.expect("departed", self.day(4), DETENTION, c, "DETENTION", DETAINED)
        elif k == "unlisted-programme":
            self.decision(self.day(0))
            self.applied(self.day(5), PILOT, ard, PILOT_PACK)
            self.granted(self.day(6), PILOT, ard, PILOT_PACK)
            self.expect("applied", self.day(5), PILOT, c, rd, PILOT_PACK)
            self.expect("granted", self.day(6), PILOT, c, rd, PILOT_PACK)
        elif k == "application-before-decision":
            nad = m.ProcedureStage.AFTER_NEGATIVE_ASYLUM_DECISION
            self.applied(self.day(1), AVRR, nad, LIGHT)
            self.decision(self.day(10))  # later in the same quarter: its country counts for the quarter
            self.expect("applied", self.day(1), AVRR, c, "AFTER_NEGATIVE_ASYLUM_DECISION", LIGHT)
        elif k == "application-without-components":
            self.decision(self.day(0))
            self.applied(self.day(2), AVRR, ard, NOTHING_NAMED)
            self.refused(self.day(4), AVRR, ard)
            self.expect("applied", self.day(2), AVRR, c, rd, NOTHING_NAMED)
            self.expect("refused", self.day(4), AVRR, c, rd, NOTHING_NAMED)
        elif k == "dublin-transfer":
            self.decision(self.day(0))
            self.granted(self.day(2), AVRR, ard, LIGHT)
            self.departed(self.day(9), "ITA", dublin=True)  # a transfer, not a return
            self.expect("granted", self.day(2), AVRR, c, rd, LIGHT)
        elif k == "departure-confirmed-twice-across-quarters":
            last = self.next_quarter_day(0) - dt.timedelta(days=1)
            self.decision(self.day(0))
            self.granted(self.day(1), AVRR, ard, FULL)
            self.departed(last, c, hour=22)
            self.departed(self.next_quarter_day(0), c, hour=6)  # a second confirmation: the grant is used up
            self.expect("granted", self.day(1), AVRR, c, rd, FULL)
            self.expect("departed", last, AVRR, c, rd, FULL)
        elif k == "decision-only-next-quarter":
            self.applied(self.day(4), AVRR, ard, FULL)
            self.decision(self.next_quarter_day(5))  # after the quarter's end: its country does not count back
            self.expect("applied", self.day(4), AVRR, "UNKNOWN", rd, FULL)
        elif k == "cash-at-band-edge":
            self.decision(self.day(0))
            self.decision(self.day(1), "DZA")  # a newer decision: its country wins
            self.applied(self.day(3), AVRR, ard, CASH_AT_EDGE)
            self.expect("applied", self.day(3), AVRR, "DZA", rd, CASH_AT_EDGE)
        else:  # pragma: no cover - STORY_NAMES and the branches are kept together
            raise AssertionError(k)
