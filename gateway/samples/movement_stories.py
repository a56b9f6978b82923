"""The planted movement stories: one person's path across Member States, with the alerts it must and must not raise.

Every story here is written down together with its ground truth. The expectations assume the detector's default
configuration (``docs/detector.md``): SM-2 within 1826 days, SM-3 within 12 months, SM-4 within
180 days, Eurodac retention by category (APPLICANT 10 years; ILLEGAL_STAY and IRREGULAR_CROSSING 5 years) and
national retention of 1826 days. Windows are kept far from their edges (an SM-3 entry at most 300 days after the
departure, a late entry at least 440 days after), so that a detector counting months or days either way agrees.

Dates follow the validation rules' defaults (periods of 7 to 30 days, an assisted departure after its grant, no
date after ``LATEST_DAY``), so every rendered record must pass validation without an ERROR finding.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass

from gateway.connectors.base import Fact
from gateway.events import models as m
from gateway.samples.stories import _BCP, _RETURN_COUNTRY, CaseStory, _at, _components, _identity

SM1, SM2, SM3, SM4 = "SM-1", "SM-2", "SM-3", "SM-4"
LATEST_DAY = dt.date(2026, 10, 15)
"""No planted fact lies after this day: validation rejects dates in the future."""

_DE, _FR, _NL = m.MemberState.DE, m.MemberState.FR, m.MemberState.NL
_DAY = dt.timedelta(days=1)


@dataclass(frozen=True, slots=True)
class ExpectedAlert:
    """An alert the detector must raise, as planted.

    Attributes:
        rule_id: Rule that must fire (``SM-1`` .. ``SM-4``).
        member_state: Member State whose subject it is about.
        person_ref: That Member State's national person ref of the subject.
        evidence: Every fact taking part in any match of the rule for the subject.
        story: Name of the story that planted it.
    """

    rule_id: str
    member_state: m.MemberState
    person_ref: str
    evidence: tuple[Fact, ...]
    story: str

    @property
    def case_references(self) -> tuple[str, ...]:
        """The case references of the evidence, sorted (as the alert carries them)."""
        return tuple(sorted({f.case_reference for f in self.evidence}))


@dataclass(frozen=True, slots=True)
class LookAlike:
    """A planted situation that resembles a secondary movement but must not raise the named rules.

    Attributes:
        kind: What it imitates (``refused_abroad``, ``unassisted_departure``, ...).
        member_state: Member State whose subject it is about.
        person_ref: That Member State's national person ref of the subject.
        must_not_fire: Rule ids it must not trigger for that subject.
        case_references: The subject's cases involved, sorted.
        story: Name of the story that planted it.
    """

    kind: str
    member_state: m.MemberState
    person_ref: str
    must_not_fire: tuple[str, ...]
    case_references: tuple[str, ...]
    story: str


@dataclass(frozen=True, slots=True)
class Movement:
    """One person's path: a case story per national case, in the order each Member State's export holds them.

    Attributes:
        name: Unique name of the story.
        cases: The person's national cases; a Member State's cases of one person share its person ref.
        alerts: Alerts the cases must raise.
        look_alikes: Look-alikes the cases plant.
    """

    name: str
    cases: tuple[CaseStory, ...]
    alerts: tuple[ExpectedAlert, ...] = ()
    look_alikes: tuple[LookAlike, ...] = ()


class _Case:
    """Accumulates the facts of one national case and hands each back, so that it can be cited as evidence."""

    def __init__(self, person: _Person, ms: m.MemberState, case_reference: str) -> None:
        self.person, self.ms, self.case_reference = person, ms, case_reference
        self.person_ref = person.ref(ms)
        self.facts: list[Fact] = []
        self.decision_reference = f"RD-{case_reference}"
        self.programme = f"{ms}-AVRR-2025"

    def add(self, day: dt.date, payload: m.Payload) -> Fact:
        if day > LATEST_DAY:
            raise ValueError(f"{self.case_reference}: a fact on {day} is after {LATEST_DAY}")
        fact = Fact(self.case_reference, self.person_ref, _at(day, self.person.rng), payload)
        self.facts.append(fact)
        return fact

    def story(self) -> CaseStory:
        return CaseStory(self.case_reference, self.person_ref, self.ms, self.person.identity, tuple(self.facts))

    # ---- facts ---------------------------------------------------------------------------------------------

    def decision(self, day: dt.date) -> dt.date:
        """A return decision with a period for voluntary departure; returns the period's last day."""
        rng = self.person.rng
        length = rng.randint(7, 30)
        first = day + dt.timedelta(days=rng.randint(0, 2))
        last = first + dt.timedelta(days=length - 1)  # both ends counted
        self.add(
            day,
            m.ReturnDecisionIssued(
                decision_reference=self.decision_reference,
                decision_date=day,
                issuing_authority=f"{self.ms}-IMMIGRATION",
                legal_ground=m.LegalGround.ILLEGAL_STAY,
                country_of_return=self.person.country,
                voluntary_departure=m.VoluntaryDeparture(
                    granted=True, first_day=first, last_day=last, length_days=length
                ),
                entry_ban=m.EntryBan(imposed=False),
                identity=self.person.identity,
            ),
        )
        return last

    def applied(self, day: dt.date) -> Fact:
        stage = m.ProcedureStage.AFTER_RETURN_DECISION
        components = _components(self.person.rng)
        payload = m.AssistanceApplied(
            programme_reference=self.programme, application_date=day, stage=stage, components=components
        )
        return self.add(day, payload)

    def granted(self, applied: dt.date, day: dt.date) -> Fact:
        return self.add(
            day,
            m.AssistanceGranted(
                programme_reference=self.programme,
                stage=m.ProcedureStage.AFTER_RETURN_DECISION,
                components=_components(self.person.rng),
                granting_member_state=self.ms,
                grant_date=day,
                application_date=applied,
            ),
        )

    def refused(self, day: dt.date, reason: m.RefusalReason) -> Fact:
        stage = m.ProcedureStage.AFTER_RETURN_DECISION
        payload = m.AssistanceRefused(programme_reference=self.programme, stage=stage, refusal_date=day, reason=reason)
        return self.add(day, payload)

    def departed(self, day: dt.date, *, assisted: bool) -> Fact:
        at = _at(day, self.person.rng)
        return self.add(
            day,
            m.DepartureConfirmed(
                departed_at=at,
                border_crossing_point=self.person.rng.choice(_BCP),
                evidence=(m.DepartureEvidence.EES_EXIT_RECORD,),
                return_type=m.ReturnType.VOLUNTARY,
                assisted=assisted,
                destination_country=self.person.country,
                decision_reference=self.decision_reference,
            ),
        )

    def entered(self, day: dt.date) -> Fact:
        rng = self.person.rng
        at = _at(day, rng)
        ees = f"EES-{rng.randrange(10**8):08d}"
        return self.add(
            day, m.EntryRecorded(entered_at=at, border_crossing_point=rng.choice(_BCP), ees_record_reference=ees)
        )

    def biometrics(self, day: dt.date) -> None:
        rng = self.person.rng
        self.add(
            day,
            m.BiometricsCaptured(
                category=m.EurodacCategory.ILLEGAL_STAY,
                article="Art. 23(1)",
                registered_at=_at(day, rng),
                biometrics_taken_on=day,
                transmitted_at=_at(day + _DAY, rng),  # within the 72 hours of EU-006
                identity=self.person.identity,
            ),
        )

    def hit(self, day: dt.date, hit_ms: m.MemberState, category: m.EurodacCategory, avrr: m.AvrrRecord) -> Fact:
        articles = {m.EurodacCategory.APPLICANT: "Art. 15", m.EurodacCategory.IRREGULAR_CROSSING: "Art. 22"}
        reference = f"{hit_ms}-{self.person.rng.randrange(10**6):06d}"
        payload = m.EurodacHitReceived(
            hit_member_state=hit_ms,
            category=category,
            article=articles.get(category, "Art. 23"),
            hit_reference=reference,
            avrr=avrr,
        )
        return self.add(day, payload)

    def assisted_return(self, decided: dt.date) -> tuple[Fact, Fact, Fact]:
        """Decision, application, grant and an assisted departure within the period, after the grant."""
        rng = self.person.rng
        last = self.decision(decided)
        applied = decided + _DAY
        granted = applied + dt.timedelta(days=rng.randint(1, 4))
        departure = max(granted + _DAY, last - dt.timedelta(days=rng.randint(0, 3)))
        return self.applied(applied), self.granted(applied, granted), self.departed(departure, assisted=True)


class _Person:
    """One person on the move: one identity, a national person ref per Member State, a stream of case numbers."""

    def __init__(self, seed: int, seq: int, used_refs: set[tuple[m.MemberState, str]]) -> None:
        self.rng = random.Random(f"{seed}:movement:{seq}")  # noqa: S311 - reproducible sample data
        self.seq, self.used_refs = seq, used_refs
        self.identity = _identity(self.rng)
        nat = self.identity.nationalities[0]
        self.country = _RETURN_COUNTRY.get(nat, nat)
        self.start = dt.date(2023, 3, 1) + dt.timedelta(days=self.rng.randrange(400))
        self._refs: dict[m.MemberState, str] = {}
        self._cases = 0

    def ref(self, ms: m.MemberState) -> str:
        """The person's national ref in ``ms``: ten digits (the NL V-nummer's form), unique in that Member State."""
        if ms not in self._refs:
            ref = f"{self.rng.randrange(10**9, 10**10)}"
            while (ms, ref) in self.used_refs:
                ref = f"{self.rng.randrange(10**9, 10**10)}"
            self.used_refs.add((ms, ref))
            self._refs[ms] = ref
        return self._refs[ms]

    def case(self, ms: m.MemberState, day: dt.date) -> _Case:
        # "MV" keeps planted case numbers apart from the ordinary stories' all-digit ones.
        self._cases += 1
        return _Case(self, ms, f"{ms}-{day.year}-MV{self.seq:03d}-{self._cases}")

    def days(self, low: int, high: int) -> dt.timedelta:
        return dt.timedelta(days=self.rng.randint(low, high))


def _alert(rule_id: str, case: _Case, name: str, *evidence: Fact) -> ExpectedAlert:
    ordered = tuple(sorted(evidence, key=lambda f: (f.occurred_at, f.case_reference)))
    return ExpectedAlert(rule_id, case.ms, case.person_ref, ordered, name)


def _look_alike(kind: str, rules: tuple[str, ...], name: str, *cases: _Case) -> LookAlike:
    refs = tuple(sorted({c.case_reference for c in cases}))
    return LookAlike(kind, cases[0].ms, cases[0].person_ref, rules, refs, name)


def _grant_date(fact: Fact) -> dt.date:
    assert isinstance(fact.payload, m.AssistanceGranted)
    return fact.payload.grant_date


def _avrr(ms: m.MemberState, status: m.AvrrStatus, granted_on: dt.date | None = None) -> m.AvrrRecord:
    granted = status is m.AvrrStatus.GRANTED
    return m.AvrrRecord(granted=granted, granting_member_state=ms, granted_on=granted_on, status=status)


# ---- the planted stories: each takes a person and returns its movement ------------------------------------------

_Planter = Callable[[_Person, str], Movement]


def _sm1(home: m.MemberState, away: m.MemberState, category: m.EurodacCategory, variant: str) -> _Planter:
    """Assisted return from ``home``; later in ``away`` an application while a hit shows ``home``'s grant."""

    def plant(p: _Person, name: str) -> Movement:
        first = p.case(home, p.start)
        _, grant, departure = first.assisted_return(p.start)
        granted_on = _grant_date(grant)
        arrived = departure.occurred_at.date() + p.days(90, 500)
        second = p.case(away, arrived)
        avrr = _avrr(home, m.AvrrStatus.GRANTED, granted_on)
        if variant == "biometrics_first":  # the hit answers the biometrics taken on apprehension
            second.biometrics(arrived)
            hit = second.hit(arrived + _DAY, home, category, avrr)
            second.decision(arrived + dt.timedelta(days=3))
            evidence: tuple[Fact, ...] = (hit, second.applied(arrived + dt.timedelta(days=4)))
        else:
            second.decision(arrived)
            applied = second.applied(arrived + _DAY)
            hit = second.hit(arrived + p.days(2, 6), home, category, avrr)
            evidence = (applied, hit)
            if variant == "granted_again":  # granted here despite the hit: the grant is evidence too
                evidence += (second.granted(arrived + _DAY, arrived + p.days(7, 12)),)
        return Movement(name, (first.story(), second.story()), (_alert(SM1, second, name, *evidence),))

    return plant


def _sm2(ms: m.MemberState, refuse_second: bool) -> _Planter:
    """Assisted return from ``ms``, then a new case there with a new application (same person ref)."""

    def plant(p: _Person, name: str) -> Movement:
        first = p.case(ms, p.start)
        _, _, departure = first.assisted_return(p.start)
        back = departure.occurred_at.date() + p.days(120, 600)
        second = p.case(ms, back)
        second.decision(back)
        applied = second.applied(back + _DAY)
        if refuse_second:
            second.refused(back + p.days(3, 10), m.RefusalReason.ASSISTANCE_ALREADY_RECEIVED)
        alert = _alert(SM2, second, name, departure, applied)
        return Movement(name, (first.story(), second.story()), (alert,))

    return plant


def _sm3(ms: m.MemberState, new_case: bool) -> _Planter:
    """Assisted return from ``ms``, then an EES entry there 60-300 days later (in a new case or the same one)."""

    def plant(p: _Person, name: str) -> Movement:
        first = p.case(ms, p.start)
        _, _, departure = first.assisted_return(p.start)
        back = departure.occurred_at.date() + p.days(60, 300)
        if not new_case:
            alert = _alert(SM3, first, name, departure, first.entered(back))
            return Movement(name, (first.story(),), (alert,))
        second = p.case(ms, back)
        entry = second.entered(back)
        second.decision(back + p.days(5, 30))
        return Movement(name, (first.story(), second.story()), (_alert(SM3, second, name, departure, entry),))

    return plant


def _sm4_open(home: m.MemberState, away: m.MemberState) -> _Planter:
    """An application in ``home`` left open; in ``away`` another application and a hit showing the open one."""

    def plant(p: _Person, name: str) -> Movement:
        first = p.case(home, p.start)
        first.decision(p.start)
        opened = p.start + _DAY
        first.applied(opened)
        arrived = opened + p.days(20, 120)
        second = p.case(away, arrived)
        second.decision(arrived)
        applied = second.applied(arrived + _DAY)
        hit = second.hit(arrived + p.days(2, 10), home, m.EurodacCategory.APPLICANT, _avrr(home, m.AvrrStatus.APPLIED))
        return Movement(name, (first.story(), second.story()), (_alert(SM4, second, name, applied, hit),))

    return plant


def _sm4_granted(home: m.MemberState, away: m.MemberState) -> _Planter:
    """An application in ``away`` while ``home`` grants the one left there: the grant is dated after ours."""

    def plant(p: _Person, name: str) -> Movement:
        first = p.case(home, p.start)
        first.decision(p.start)
        opened = p.start + _DAY
        first.applied(opened)
        arrived = opened + p.days(10, 30)
        second = p.case(away, arrived)
        second.decision(arrived)
        applied = second.applied(arrived + _DAY)
        grant_day = arrived + p.days(6, 20)
        first.granted(opened, grant_day)
        avrr = _avrr(home, m.AvrrStatus.GRANTED, grant_day)
        hit = second.hit(grant_day + p.days(1, 5), home, m.EurodacCategory.APPLICANT, avrr)
        second.refused(grant_day + p.days(6, 10), m.RefusalReason.ASSISTANCE_ALREADY_RECEIVED)
        return Movement(name, (first.story(), second.story()), (_alert(SM4, second, name, applied, hit),))

    return plant


def _refused_abroad(home: m.MemberState, away: m.MemberState) -> _Planter:
    """Refused in ``home``; in ``away`` an application and a hit whose AVRR element says REFUSED."""

    def plant(p: _Person, name: str) -> Movement:
        first = p.case(home, p.start)
        first.decision(p.start)
        first.applied(p.start + _DAY)
        first.refused(p.start + p.days(4, 10), m.RefusalReason.NOT_ELIGIBLE)
        arrived = p.start + p.days(40, 200)
        second = p.case(away, arrived)
        second.decision(arrived)
        second.applied(arrived + _DAY)
        second.hit(arrived + p.days(2, 6), home, m.EurodacCategory.APPLICANT, _avrr(home, m.AvrrStatus.REFUSED))
        look = _look_alike("refused_abroad", (SM1, SM4), name, second)
        return Movement(name, (first.story(), second.story()), look_alikes=(look,))

    return plant


def _unassisted(ms: m.MemberState) -> _Planter:
    """A departure without assistance, then an entry and a new application in a new case, same Member State."""

    def plant(p: _Person, name: str) -> Movement:
        first = p.case(ms, p.start)
        last = first.decision(p.start)
        departure = first.departed(last - p.days(0, 3), assisted=False)
        back = departure.occurred_at.date() + p.days(60, 250)
        second = p.case(ms, back)
        second.entered(back)
        decided = back + p.days(10, 40)
        second.decision(decided)
        second.applied(decided + _DAY)
        look = _look_alike("unassisted_departure", (SM2, SM3), name, first, second)
        return Movement(name, (first.story(), second.story()), look_alikes=(look,))

    return plant


def _expired_hit(home: m.MemberState, away: m.MemberState) -> _Planter:
    """A grant in ``home`` over six years ago; in ``away`` an application and an ILLEGAL_STAY hit (5 years) of it."""

    def plant(p: _Person, name: str) -> Movement:
        applied_on = p.start + p.days(0, 300)
        long_ago = applied_on - dt.timedelta(days=6 * 365) - p.days(30, 200)
        first = p.case(home, long_ago)
        _, grant, _ = first.assisted_return(long_ago)
        granted_on = _grant_date(grant)
        second = p.case(away, applied_on)
        second.decision(applied_on - _DAY)
        second.applied(applied_on)
        avrr = _avrr(home, m.AvrrStatus.GRANTED, granted_on)
        second.hit(applied_on + p.days(1, 5), home, m.EurodacCategory.ILLEGAL_STAY, avrr)
        look = _look_alike("hit_outside_retention", (SM1, SM4), name, second)
        return Movement(name, (first.story(), second.story()), look_alikes=(look,))

    return plant


def _late_entry(ms: m.MemberState) -> _Planter:
    """An assisted return, then an entry 440-560 days later: past the 12 months of SM-3."""

    def plant(p: _Person, name: str) -> Movement:
        case = p.case(ms, p.start)
        _, _, departure = case.assisted_return(p.start)
        case.entered(departure.occurred_at.date() + p.days(440, 560))
        look = _look_alike("entry_after_window", (SM3,), name, case)
        return Movement(name, (case.story(),), look_alikes=(look,))

    return plant


def _own_state_hit(ms: m.MemberState) -> _Planter:
    """An application and a hit from the subject's own Member State showing AVRR it granted before."""

    def plant(p: _Person, name: str) -> Movement:
        case = p.case(ms, p.start)
        case.decision(p.start)
        applied = p.start + _DAY
        case.applied(applied)
        avrr = _avrr(ms, m.AvrrStatus.GRANTED, applied - p.days(100, 600))
        case.hit(applied + p.days(1, 5), ms, m.EurodacCategory.APPLICANT, avrr)
        look = _look_alike("own_member_state_hit", (SM1, SM4), name, case)
        return Movement(name, (case.story(),), look_alikes=(look,))

    return plant


PLANTED: tuple[tuple[str, _Planter], ...] = (
    ("sm1-de-to-nl", _sm1(_DE, _NL, m.EurodacCategory.APPLICANT, "plain")),
    ("sm1-nl-to-fr", _sm1(_NL, _FR, m.EurodacCategory.ILLEGAL_STAY, "biometrics_first")),
    ("sm1-fr-to-de-granted-again", _sm1(_FR, _DE, m.EurodacCategory.IRREGULAR_CROSSING, "granted_again")),
    ("sm2-de", _sm2(_DE, refuse_second=False)),
    ("sm2-fr-refused", _sm2(_FR, refuse_second=True)),
    ("sm3-nl-same-case", _sm3(_NL, new_case=False)),
    ("sm3-de-new-case", _sm3(_DE, new_case=True)),
    ("sm4-nl-to-fr-open", _sm4_open(_NL, _FR)),
    ("sm4-fr-to-de-granted-later", _sm4_granted(_FR, _DE)),
    ("lookalike-refused-fr-to-nl", _refused_abroad(_FR, _NL)),
    ("lookalike-unassisted-fr", _unassisted(_FR)),
    ("lookalike-expired-hit-nl-to-de", _expired_hit(_NL, _DE)),
    ("lookalike-late-entry-nl", _late_entry(_NL)),
    ("lookalike-own-state-hit-fr", _own_state_hit(_FR)),
)
"""Name and planter of every planted story, in generation order."""


def planted(seed: int, used_refs: set[tuple[m.MemberState, str]] | None = None) -> list[Movement]:
    """The planted movement stories for ``seed``; the same seed always gives the same stories.

    Args:
        seed: Seed of dates, identities and refs.
        used_refs: (Member State, person ref) pairs already taken; the refs drawn here are added to it.
    """
    used = set() if used_refs is None else used_refs
    return [plant(_Person(seed, seq, used), name) for seq, (name, plant) in enumerate(PLANTED)]
