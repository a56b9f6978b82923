"""Generated return stories with known EU-system outcomes: the ground truth of the outbound stage.

Each story is one person's canonical events (and, for some, EES exit records) together with what the outbound stage
must make of them: the kinds of the SIS and Eurodac messages of each case in order, the non-returns the deadline
monitor records, and the EES exits that must go to review. The integration tests and the demo put the events on the
canonical topic in event-time order, run the stage, ingest the exits, move the monitor's clock past every deadline,
and compare (``gateway.devservices.eu_run``).

Times: every event happens between ``base`` and ``base + 20 days``; every period that ends in a departure ends
after ``base + 40 days``, so event time alone never ends it early; the periods that end without departure end
within the first 30 days and fire only once the clock moves past them.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from gateway.events import models as m

__all__ = ["EuStories", "ExitSpec", "StoryCase", "eu_stories"]

_NS = uuid.UUID("5a0e1f76-1c55-5b8e-a2e1-4d7b0f3c9e21")


@dataclass(frozen=True, slots=True)
class ExitSpec:
    """An EES exit record a story needs (the EES ingest's input).

    Attributes:
        record_id: The exit record's id (the same id twice is a duplicate record).
        document_number: Travel document number.
        issuing_country: Alpha-3 code of the issuing State.
        exit_at: Date and time of exit.
        border_crossing_point: Where.
        decision_reference: The decision the border guard saw in SIS, if any.
        person: The story's person reference (``None`` for a stranger).
        expect: ``matched`` (becomes a departure), ``review`` (with ``reason`` containing this text) or
            ``duplicate`` (absorbed).
        reason: Part of the expected review reason.
    """

    record_id: str
    document_number: str
    issuing_country: str
    exit_at: dt.datetime
    border_crossing_point: str
    decision_reference: str | None
    person: str | None
    expect: str
    reason: str = ""


@dataclass(slots=True)
class StoryCase:
    """One case's expected outbound messages, in order.

    Attributes:
        member_state: The deciding State.
        case_reference: The case.
        sis: SIS message kinds: CREATE, UPDATE, CONFIRMATION_OF_RETURN, DELETE, ENTRY_BAN_ALERT, NON_RETURN.
        eurodac: Eurodac message kinds: AVRR_GRANTED, AVRR_WITHDRAWN.
    """

    member_state: str
    case_reference: str
    sis: list[str] = field(default_factory=list)
    eurodac: list[str] = field(default_factory=list)

    @property
    def ordering_key(self) -> str:
        """The outbox ordering key of the case."""
        return f"{self.member_state}:{self.case_reference}"


@dataclass(slots=True)
class EuStories:
    """Generated stories and their ground truth.

    Attributes:
        events: Canonical events, in event-time order (subject keys computed with ``key_of``).
        exits: EES exit records to ingest after the first pass.
        cases: Expected messages per case (ordering key -> case).
        non_returns: (ordering key, decision reference, last day) the monitor must record, once each.
        persons: Person reference -> (Member State, travel document number, issuing country).
        story_of: Person reference -> the story's name.
        clock_after: A monitor time past every period of the stories (plus lateness up to a day).
    """

    events: list[m.CaseEvent] = field(default_factory=list)
    exits: list[ExitSpec] = field(default_factory=list)
    cases: dict[str, StoryCase] = field(default_factory=dict)
    non_returns: set[tuple[str, str, dt.date]] = field(default_factory=set)
    persons: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    story_of: dict[str, str] = field(default_factory=dict)
    clock_after: dt.datetime = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)


STORY_NAMES = (
    "ees-exit-in-time",
    "extension-then-departure-with-entry-ban",
    "non-return",
    "suspended-resumed-withdrawn",
    "detained-then-released-then-annulled",
    "avrr-registered-then-assisted-departure",
    "grant-before-registration-then-withdrawn",
    "late-extension-within-lateness",
    "residence-right",
    "two-open-decisions-exit-without-hint",
    "two-open-decisions-exit-with-hint",
    "duplicate-exit-record",
    "exempt-at-border",
)


def eu_stories(
    count: int,
    key_of: Callable[[str, str], str],
    *,
    base: dt.date = dt.date(2026, 1, 5),
    member_states: tuple[str, ...] = ("NL", "DE", "FR", "PT"),
) -> EuStories:
    """``count`` stories, cycling through every kind, with their ground truth.

    Args:
        count: How many persons.
        key_of: (Member State, person reference) -> subject key (the deployment's pseudonymiser).
        base: The first day of the stories.
        member_states: Deciding States, in turn (their time zones differ).
    """
    out = EuStories()
    for i in range(count):
        kind = STORY_NAMES[i % len(STORY_NAMES)]
        ms = member_states[i % len(member_states)]
        person = f"EU-{i:05d}"
        _Story(out, kind, ms, person, key_of(ms, person), base, i).write()
    out.events.sort(key=lambda e: (e.occurred_at, str(e.event_id)))
    out.clock_after = dt.datetime.combine(base + dt.timedelta(days=400), dt.time(), tzinfo=dt.UTC)
    out.exits.append(
        ExitSpec(
            "EES-STRANGER-1",
            "ZZ0000001",
            "SYR",
            dt.datetime.combine(base + dt.timedelta(days=3), dt.time(9), tzinfo=dt.UTC),
            "NL-SCHIPHOL",
            None,
            None,
            "review",
            "no case known",
        )
    )
    return out


class _Story:
    def __init__(self, out: EuStories, kind: str, ms: str, person: str, key: str, base: dt.date, index: int) -> None:
        self.out, self.kind, self.ms, self.person, self.key = out, kind, ms, person, key
        self.base, self.index = base, index
        self.doc = f"X{index:07d}"
        self.n = 0
        out.persons[person] = (ms, self.doc, "MAR")
        out.story_of[person] = kind

    # -- building blocks ------------------------------------------------------------------------------------------

    def at(self, day: int, hour: int = 10) -> dt.datetime:
        return dt.datetime.combine(self.base + dt.timedelta(days=day), dt.time(hour), tzinfo=dt.UTC)

    def day(self, day: int) -> dt.date:
        return self.base + dt.timedelta(days=day)

    def case(self, suffix: str = "A") -> StoryCase:
        ref = f"{self.ms}-{self.index:05d}-{suffix}"
        key = f"{self.ms}:{ref}"
        return self.out.cases.setdefault(key, StoryCase(self.ms, ref))

    def emit(self, case: StoryCase, payload: m.AvroModel, when: dt.datetime) -> None:
        self.n += 1
        event_type = m.EVENT_TYPE_OF[type(payload)]
        self.out.events.append(
            m.CaseEvent(
                event_id=uuid.uuid5(_NS, f"{self.person}:{self.n}"),
                event_type=event_type,
                occurred_at=when,
                recorded_at=when + dt.timedelta(minutes=5),
                member_state=self.ms,
                source=m.Source(connector="eu-stories", version="1"),
                case_reference=case.case_reference,
                subject_key=self.key,
                correlation_id=f"story:{self.kind}",
                payload=payload,
            )
        )

    def identity(self) -> m.Identity:
        return m.Identity(
            surnames=(f"SURNAME{self.index}",),
            forenames=("AMIR",),
            names_at_birth=(),
            aliases=(),
            date_of_birth=m.PartialDate(year=1990, month=1, day=2, precision=m.DatePrecision.DAY),
            place_of_birth="Rabat",
            sex=m.Sex.MALE,
            nationalities=("MAR",),
            travel_document=m.TravelDocument(
                type=m.TravelDocumentType.PASSPORT, number=self.doc, issuing_country="MAR"
            ),
        )

    def decision(
        self,
        case: StoryCase,
        ref: str,
        on: int,
        last_day: int | None,
        *,
        ban: bool = False,
        exemption: m.AlertExemption | None = None,
    ) -> None:
        vd = m.VoluntaryDeparture(
            granted=last_day is not None, last_day=None if last_day is None else self.day(last_day)
        )
        self.emit(
            case,
            m.ReturnDecisionIssued(
                decision_reference=ref,
                decision_date=self.day(on),
                issuing_authority="Immigration service",
                legal_ground=m.LegalGround.ILLEGAL_STAY,
                country_of_return="MAR",
                voluntary_departure=vd,
                entry_ban=m.EntryBan(imposed=ban, duration_days=365 if ban else None),
                alert_exemption=exemption,
                identity=self.identity(),
            ),
            self.at(on),
        )

    def status(self, case: StoryCase, ref: str, on: int, status: m.DecisionStatus) -> None:
        self.emit(
            case,
            m.ReturnDecisionStatusChanged(decision_reference=ref, status=status, effective_date=self.day(on)),
            self.at(on),
        )

    def departed(self, case: StoryCase, ref: str | None, on: int, *, assisted: bool = False) -> None:
        self.emit(
            case,
            m.DepartureConfirmed(
                departed_at=self.at(on, 8),
                evidence=(m.DepartureEvidence.NATIONAL_BORDER_CHECK,),
                return_type=m.ReturnType.VOLUNTARY,
                assisted=assisted,
                destination_country="MAR",
                decision_reference=ref,
            ),
            self.at(on),
        )

    def biometrics(self, case: StoryCase, on: int) -> None:
        self.emit(
            case,
            m.BiometricsCaptured(
                category=m.EurodacCategory.ILLEGAL_STAY,
                article="Art. 23(1)",
                registered_at=self.at(on, 9),
                biometrics_taken_on=self.day(on),
                identity=self.identity(),
            ),
            self.at(on),
        )

    def granted(self, case: StoryCase, on: int) -> None:
        self.emit(
            case,
            m.AssistanceGranted(
                programme_reference=f"PRG-{self.ms}-AVRR",
                stage=m.ProcedureStage.AFTER_RETURN_DECISION,
                components=(
                    m.AssistanceComponent(
                        type=m.AssistanceType.TRAVEL, form=m.AssistanceForm.IN_KIND, amount_eur=Decimal("400.00")
                    ),
                ),
                granting_member_state=self.ms,
                grant_date=self.day(on),
            ),
            self.at(on),
        )

    def refused(self, case: StoryCase, on: int) -> None:
        self.emit(
            case,
            m.AssistanceRefused(
                programme_reference=f"PRG-{self.ms}-AVRR",
                stage=m.ProcedureStage.AFTER_RETURN_DECISION,
                refusal_date=self.day(on),
                reason=m.RefusalReason.ABSCONDED,
            ),
            self.at(on),
        )

    def exit(self, record_id: str, on: int, hint: str | None, expect: str, reason: str = "") -> None:
        self.out.exits.append(
            ExitSpec(record_id, self.doc, "MAR", self.at(on, 7), "NL-SCHIPHOL", hint, self.person, expect, reason)
        )

    # -- the stories ----------------------------------------------------------------------------------------------

    def write(self) -> None:
        c, dec = self.case(), f"D-{self.index:05d}"
        k = self.kind
        if k == "ees-exit-in-time":
            self.decision(c, dec, 1, 45)
            self.exit(f"EES-{self.index}", 12, None, "matched")
            c.sis += ["CREATE", "CONFIRMATION_OF_RETURN", "DELETE"]
        elif k == "extension-then-departure-with-entry-ban":
            self.decision(c, dec, 1, 42, ban=True)
            self.emit(
                c,
                m.VoluntaryDepartureExtended(
                    decision_reference=dec,
                    new_last_day=self.day(60),
                    previous_last_day=self.day(42),
                    reason=m.ExtensionReason.CHILDREN_ATTENDING_SCHOOL,
                ),
                self.at(5),
            )
            self.departed(c, dec, 15)
            c.sis += ["CREATE", "UPDATE", "CONFIRMATION_OF_RETURN", "DELETE", "ENTRY_BAN_ALERT"]
        elif k == "non-return":
            self.decision(c, dec, 1, 25)
            c.sis += ["CREATE", "NON_RETURN"]
            self.out.non_returns.add((c.ordering_key, dec, self.day(25)))
        elif k == "suspended-resumed-withdrawn":
            self.decision(c, dec, 1, 50)
            self.status(c, dec, 3, m.DecisionStatus.SUSPENDED)
            self.status(c, dec, 8, m.DecisionStatus.RESUMED)
            self.status(c, dec, 14, m.DecisionStatus.WITHDRAWN)
            c.sis += ["CREATE", "UPDATE", "UPDATE", "DELETE"]
        elif k == "detained-then-released-then-annulled":
            self.decision(c, dec, 1, 55, exemption=m.AlertExemption.DETAINED_UNTIL_REMOVAL)
            self.status(c, dec, 6, m.DecisionStatus.DETENTION_ENDED)
            self.status(c, dec, 16, m.DecisionStatus.ANNULLED)
            c.sis += ["CREATE", "DELETE"]
        elif k == "avrr-registered-then-assisted-departure":
            self.biometrics(c, 1)
            self.decision(c, dec, 2, 48)
            self.granted(c, 6)
            self.departed(c, dec, 18, assisted=True)
            c.sis += ["CREATE", "CONFIRMATION_OF_RETURN", "DELETE"]
            c.eurodac += ["AVRR_GRANTED"]
        elif k == "grant-before-registration-then-withdrawn":
            self.granted(c, 2)
            self.biometrics(c, 4)
            self.refused(c, 9)
            c.eurodac += ["AVRR_GRANTED", "AVRR_WITHDRAWN"]
        elif k == "late-extension-within-lateness":
            # The period ends on day 9; the extension is recorded two hours after its end, within the lateness.
            self.decision(c, dec, 1, 9)
            end = self.at(10, 0) - dt.timedelta(hours=1)  # about midnight in Central Europe, day 9 -> 10
            self.emit(
                c,
                m.VoluntaryDepartureExtended(
                    decision_reference=dec,
                    new_last_day=self.day(70),
                    previous_last_day=self.day(9),
                    reason=m.ExtensionReason.LENGTH_OF_STAY,
                ),
                end + dt.timedelta(hours=2),
            )
            self.departed(c, dec, 19)
            c.sis += ["CREATE", "UPDATE", "CONFIRMATION_OF_RETURN", "DELETE"]
        elif k == "residence-right":
            self.decision(c, dec, 1, 60)
            self.status(c, dec, 11, m.DecisionStatus.RESIDENCE_RIGHT_GRANTED)
            c.sis += ["CREATE", "DELETE"]
        elif k in ("two-open-decisions-exit-without-hint", "two-open-decisions-exit-with-hint"):
            second, dec2 = self.case("B"), f"D-{self.index:05d}-2"
            self.decision(c, dec, 1, 44)
            self.decision(second, dec2, 2, 46)
            c.sis += ["CREATE"]
            second.sis += ["CREATE"]
            if k.endswith("without-hint"):
                self.exit(f"EES-{self.index}", 12, None, "review", "several open return decisions")
                # Nobody left as far as the gateway can tell: both periods end, both non-returns are recorded.
                c.sis += ["NON_RETURN"]
                second.sis += ["NON_RETURN"]
                self.out.non_returns.add((c.ordering_key, dec, self.day(44)))
                self.out.non_returns.add((second.ordering_key, dec2, self.day(46)))
            else:
                self.exit(f"EES-{self.index}", 12, dec2, "matched")
                second.sis += ["CONFIRMATION_OF_RETURN", "DELETE"]
                c.sis += ["NON_RETURN"]
                self.out.non_returns.add((c.ordering_key, dec, self.day(44)))
        elif k == "duplicate-exit-record":
            self.decision(c, dec, 1, 47)
            self.exit(f"EES-{self.index}", 13, None, "matched")
            self.exit(f"EES-{self.index}", 13, None, "duplicate")
            c.sis += ["CREATE", "CONFIRMATION_OF_RETURN", "DELETE"]
        elif k == "exempt-at-border":
            self.decision(c, dec, 1, None, exemption=m.AlertExemption.BORDER_IMMEDIATE_ENFORCEMENT)
        else:  # pragma: no cover - STORY_NAMES and the branches are kept together
            raise AssertionError(k)


EES_NAMESPACE = "urn:eu:returns:gateway:ees-exit:v1"


def exit_records_xml(specs: list[ExitSpec]) -> bytes:
    """An EES exit-record file (``schemas/xsd/ees-exit-v1.xsd``) holding ``specs``, in order."""
    from xml.sax.saxutils import escape

    records = []
    for spec in specs:
        hint = (
            f"<returnDecisionReference>{escape(spec.decision_reference)}</returnDecisionReference>"
            if spec.decision_reference
            else ""
        )
        records.append(
            f"<ExitRecord><recordId>{escape(spec.record_id)}</recordId>"
            f"<travelDocument><type>PASSPORT</type><number>{escape(spec.document_number)}</number>"
            f"<issuingCountry>{escape(spec.issuing_country)}</issuingCountry></travelDocument>"
            "<person><surname>EXIT SURNAME</surname><forename>EXIT FORENAME</forename>"
            "<dateOfBirth>1990-01-02</dateOfBirth><nationality>MAR</nationality><sex>M</sex></person>"
            f"<exit><dateTime>{spec.exit_at.isoformat()}</dateTime>"
            f"<borderCrossingPoint>{escape(spec.border_crossing_point)}</borderCrossingPoint></exit>"
            f"{hint}</ExitRecord>"
        )
    body = "\n  ".join(records)
    head = f'<?xml version="1.0" encoding="UTF-8"?>\n<ExitRecords xmlns="{EES_NAMESPACE}" schemaVersion="1">'
    return f"{head}\n  {body}\n</ExitRecords>\n".encode()
