"""Boundary tests of the departure and EES rules (Reg. 2017/2226)."""

from __future__ import annotations

import pytest

from gateway.events.models import DepartureEvidence, MemberState
from gateway.validation.state import CaseState
from tests.unit.validation.support import T, d, engine, ev, paths, ts

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
