"""Boundary tests of the departure and EES rules (Reg. 2017/2226)."""

from __future__ import annotations

import pytest

from gateway.events.models import DecisionStatus, DepartureEvidence, MemberState, Severity
from gateway.validation.findings import apply_warnings, errors
from gateway.validation.state import CaseState, fold
from tests.unit.validation.support import DEFAULT_ENGINE, T, d, engine, ev, paths, run, ts

EES = DepartureEvidence.EES_EXIT_RECORD
SIS6 = DepartureEvidence.SIS_ART6_CONFIRMATION


@pytest.mark.parametrize(
    ("evidence", "bcp", "fires"),
    [
        ((EES,), "NL-AMS-SCHIPHOL", False),
        ((EES,), None, True),
        ((EES, SIS6), "  ", True),
        ((SIS6,), None, False),
        ((), None, False),
    ],
)
def test_dep001_exit_has_crossing_point(evidence, bcp, fires):
    event = ev(T.DEPARTURE_CONFIRMED, {"evidence": evidence, "border_crossing_point": bcp})
    assert paths("DEP-001", event) == (["payload.border_crossing_point"] if fires else [])


def test_dep001_configured_evidence():
    eng = engine({"rules": {"DEP-001": {"params": {"evidence": ["EES_EXIT_RECORD", "NATIONAL_BORDER_CHECK"]}}}})
    event = ev(
        T.DEPARTURE_CONFIRMED, {"evidence": (DepartureEvidence.NATIONAL_BORDER_CHECK,), "border_crossing_point": None}
    )
    assert paths("DEP-001", event, eng=eng) == ["payload.border_crossing_point"]


DECIDED = CaseState(decision_reference="IND-RB-2026-000123", decision_date=d("2026-03-02"))


@pytest.mark.parametrize(
    ("departed", "member_state", "state", "fires"),
    [
        ("2026-03-02T08:00:00+00:00", MemberState.NL, DECIDED, False),
        # 23:30 UTC on 1 March is 00:30 on 2 March in Amsterdam: the day of the decision, not before it.
        ("2026-03-01T23:30:00+00:00", MemberState.NL, DECIDED, False),
        ("2026-03-01T22:59:00+00:00", MemberState.NL, DECIDED, True),
        # The same instant is still 1 March in Lisbon.
        ("2026-03-01T23:30:00+00:00", MemberState.PT, DECIDED, True),
        # 20:30 at UTC-03:00 is 23:30 UTC: written in any offset, it is the same instant.
        ("2026-03-01T20:30:00-03:00", MemberState.NL, DECIDED, False),
        ("2026-02-01T10:00:00+00:00", MemberState.NL, CaseState(), False),  # no decision known
    ],
)
def test_dep002_departure_not_before_decision(departed, member_state, state, fires):
    event = ev(T.DEPARTURE_CONFIRMED, {"departed_at": ts(departed)}, member_state=member_state)
    assert paths("DEP-002", event, state=state) == (["payload.departed_at"] if fires else [])


@pytest.mark.parametrize(
    ("assisted", "granted_on", "fires"),
    [
        (True, "2026-03-12", False),
        (True, None, True),
        (True, "2026-03-28", False),  # granted on the (local) departure day
        (True, "2026-03-29", True),
        (False, None, False),
    ],
)
def test_dep003_assisted_departure_has_grant(assisted, granted_on, fires):
    # The example departs at 22:15 UTC on 28 March 2026: 23:15 local time in Amsterdam, still 28 March.
    state = CaseState(assistance_granted_on=d(granted_on) if granted_on else None)
    event = ev(T.DEPARTURE_CONFIRMED, {"assisted": assisted})
    assert paths("DEP-003", event, state=state) == (["payload.assisted"] if fires else [])


@pytest.mark.parametrize(("bcp", "fires"), [("ES-MAD-BARAJAS", False), ("", True), ("  ", True)])
def test_dep004_entry_has_crossing_point(bcp, fires):
    event = ev(T.ENTRY_RECORDED, {"border_crossing_point": bcp})
    assert paths("DEP-004", event) == (["payload.border_crossing_point"] if fires else [])


def _period(last: str, **changes: object) -> CaseState:
    state = CaseState(
        decision_reference="IND-RB-2026-000123",
        decision_date=d("2026-03-02"),
        departure_granted=True,
        departure_last_day=d(last),
    )
    return state._replace(**changes)


LATE_NOW = ts("2026-11-01T00:00:00+00:00")


@pytest.mark.parametrize(
    ("departed", "member_state", "last", "late"),
    [
        # 29 March 2026: summer time starts in Paris (UTC+2 from 03:00). Both instants are 29 March in UTC.
        ("2026-03-29T21:30:00+00:00", MemberState.FR, "2026-03-29", False),  # 23:30 local on the last day
        ("2026-03-29T22:30:00+00:00", MemberState.FR, "2026-03-29", True),  # 00:30 local the next day
        # 25 October 2026: summer time ends in Amsterdam (UTC+1 from 03:00).
        ("2026-10-25T22:30:00+00:00", MemberState.NL, "2026-10-25", False),
        ("2026-10-25T23:30:00+00:00", MemberState.NL, "2026-10-25", True),
        # East of UTC+2 the local day starts earlier still: 00:30 in Helsinki is 21:30 UTC the day before.
        ("2026-06-30T21:30:00+00:00", MemberState.FI, "2026-06-30", True),
        ("2026-06-30T20:30:00+00:00", MemberState.FI, "2026-06-30", False),
        ("2026-03-10T08:00:00+00:00", MemberState.FR, "2026-03-29", False),
    ],
)
def test_dep005_departure_after_the_period_in_local_time(departed, member_state, last, late):
    event = ev(T.DEPARTURE_CONFIRMED, {"departed_at": ts(departed)}, member_state=member_state)
    found = run("DEP-005", event, state=_period(last), now=LATE_NOW)
    assert [f.path for f in found] == (["payload.departed_at"] if late else [])
    assert all(f.severity is Severity.WARNING and "Art. 7(1)" in f.legal_reference for f in found)


def test_dep005_counts_extensions():
    decision, extension = ev(T.RETURN_DECISION_ISSUED), ev(T.VOLUNTARY_DEPARTURE_EXTENDED)  # 1 April -> 22 April
    extended = fold(fold(CaseState(), decision), extension)
    departure = ev(T.DEPARTURE_CONFIRMED, {"departed_at": ts("2026-04-10T10:00:00+00:00")})
    assert paths("DEP-005", departure, state=fold(CaseState(), decision)) == ["payload.departed_at"]
    assert paths("DEP-005", departure, state=extended) == []


@pytest.mark.parametrize(
    "state",
    [
        _period("2026-03-01", decision_status=DecisionStatus.SUSPENDED),  # the period stood still
        _period("2026-03-01", decision_status=DecisionStatus.ENFORCEMENT_POSTPONED),
        _period("2026-03-01", decision_status=DecisionStatus.WITHDRAWN),
        _period("2026-03-01", decision_reference="OTHER-DECISION"),  # the departure complies with another one
        CaseState(decision_reference="IND-RB-2026-000123", departure_granted=False),  # no period granted
        CaseState(),
    ],
)
def test_dep005_silent_without_a_running_period(state):
    departure = ev(T.DEPARTURE_CONFIRMED, {"departed_at": ts("2026-03-28T10:00:00+00:00")})
    assert paths("DEP-005", departure, state=state) == []


def test_dep005_late_departure_is_still_accepted_and_carries_the_warning():
    departure = ev(T.DEPARTURE_CONFIRMED, {"assisted": False})  # 28 March 2026 23:15 in Amsterdam
    findings = DEFAULT_ENGINE.validate(departure, _period("2026-03-27"), LATE_NOW)
    assert not errors(findings)
    carried = apply_warnings(departure, findings).validation_warnings
    assert [(w.rule_id, w.path) for w in carried] == [("DEP-005", "payload.departed_at")]
