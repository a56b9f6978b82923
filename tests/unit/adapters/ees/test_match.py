"""Matching a provisional EES departure to one open return decision of the subject."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import pytest

from gateway.adapters.ees import match as mt
from gateway.adapters.ees.convert import Inbound, Review, to_inbound
from gateway.adapters.ees.exits import ExitRecord, parse_exit_file
from gateway.adapters.ees.match import Duplicate, EesSubjectState, Matched, match_exit, observe
from gateway.events import models as m
from tests.unit.adapters.builders import assert_simple_types, decision, event, granted, refused
from tests.unit.adapters.ees.samples import exit_file, record

NOW = dt.datetime(2026, 4, 3, tzinfo=dt.UTC)
SUBJECT = "s" * 32


def inbound(
    record_id: str = "R-1", *, hint: str | None = None, exited: str = "2026-04-02T10:15:00+02:00"
) -> m.CaseEvent:
    (item,) = parse_exit_file(exit_file(record(record_id, decision=hint, exited=exited)), "f.xml")
    assert isinstance(item, ExitRecord)
    out = to_inbound(item, frozenset({SUBJECT}), "NL", NOW)
    assert isinstance(out, Inbound)
    return out.event


def fold(events: Iterable[m.CaseEvent]) -> EesSubjectState | None:
    state: EesSubjectState | None = None
    for e in events:
        state = observe(state, e)
    return state


def status(ref: str, s: m.DecisionStatus) -> m.ReturnDecisionStatusChanged:
    return m.ReturnDecisionStatusChanged(decision_reference=ref, status=s, effective_date=dt.date(2026, 3, 10))


def test_the_one_open_decision_matches_and_the_event_is_completed():
    state = fold([event(decision("RD-1"), case="C-1"), event(granted(), case="C-1")])
    exit_event = inbound()
    out = match_exit(state, exit_event)
    assert isinstance(out, Matched)
    e = out.event
    assert e.event_id == exit_event.event_id
    assert e.case_reference == "C-1"
    p = e.payload
    assert isinstance(p, m.DepartureConfirmed)
    assert (p.decision_reference, p.return_type, p.assisted) == ("RD-1", m.ReturnType.VOLUNTARY, True)
    assert p.evidence == (m.DepartureEvidence.EES_EXIT_RECORD,)
    m.CaseEvent.model_validate(e.model_dump())  # still a valid event


def test_assistance_of_another_case_or_withdrawn_does_not_make_it_assisted():
    other_case = fold([event(decision("RD-1"), case="C-1"), event(granted(), case="C-2")])
    withdrawn = fold([event(decision("RD-1"), case="C-1"), event(granted(), case="C-1"), event(refused(), case="C-1")])
    for state in (other_case, withdrawn):
        out = match_exit(state, inbound())
        assert isinstance(out, Matched)
        assert isinstance(out.event.payload, m.DepartureConfirmed)
        assert out.event.payload.assisted is False


def test_no_state_or_no_open_decision_goes_to_review():
    assert match_exit(None, inbound()) == Review(mt.NO_OPEN_DECISION)
    for closing in (m.DecisionStatus.WITHDRAWN, m.DecisionStatus.ANNULLED, m.DecisionStatus.RESIDENCE_RIGHT_GRANTED):
        state = fold([event(decision("RD-1")), event(status("RD-1", closing))])
        assert match_exit(state, inbound()) == Review(mt.NO_OPEN_DECISION)


def test_a_suspended_decision_stays_open():
    state = fold([event(decision("RD-1")), event(status("RD-1", m.DecisionStatus.SUSPENDED))])
    assert isinstance(match_exit(state, inbound()), Matched)


def test_several_open_decisions_are_ambiguous_unless_the_exit_names_one():
    state = fold([event(decision("RD-1"), case="C-1"), event(decision("RD-2"), case="C-2")])
    assert match_exit(state, inbound()) == Review(mt.SEVERAL_OPEN)
    out = match_exit(state, inbound(hint="RD-2"))
    assert isinstance(out, Matched)
    assert out.event.case_reference == "C-2"


def test_a_named_decision_that_is_not_open_goes_to_review():
    state = fold([event(decision("RD-1"))])
    assert match_exit(state, inbound(hint="RD-X")) == Review(mt.HINT_NOT_OPEN)


def test_another_member_states_decision_is_no_candidate():
    state = fold([event(decision("RD-1"), ms="DE")])
    assert match_exit(state, inbound()) == Review(mt.NO_OPEN_DECISION)


def test_an_exit_before_the_decision_does_not_comply_with_it():
    state = fold([event(decision("RD-1", day=dt.date(2026, 5, 1)))])
    assert match_exit(state, inbound()) == Review(mt.EXIT_BEFORE_DECISIONS)
    # One day's grace for time zones:
    state = fold([event(decision("RD-1", day=dt.date(2026, 4, 3)))])
    assert isinstance(match_exit(state, inbound()), Matched)


def test_a_matched_exit_observed_is_a_duplicate_and_closes_the_decision():
    state = fold([event(decision("RD-1"))])
    out = match_exit(state, inbound("R-1"))
    assert isinstance(out, Matched)
    state = observe(state, out.event)
    assert match_exit(state, inbound("R-1")) == Duplicate()
    assert state.decisions == ()
    assert match_exit(state, inbound("R-2")) == Review(mt.NO_OPEN_DECISION)
    # A replay of the decision's issue does not reopen it.
    assert observe(state, event(decision("RD-1"))).decisions == ()


def test_extensions_and_decisions_are_kept():
    state = fold(
        [
            event(decision("RD-1", last_day=dt.date(2026, 4, 1))),
            event(
                m.VoluntaryDepartureExtended(
                    decision_reference="RD-1", new_last_day=dt.date(2026, 5, 1), reason=m.ExtensionReason.OTHER
                )
            ),
        ]
    )
    assert state is not None
    (d,) = state.decisions
    assert (d.decision_reference, d.voluntary_period_granted, d.last_day) == ("RD-1", True, dt.date(2026, 5, 1))


def test_matched_ids_are_bounded():
    state = fold([event(decision(f"RD-{i}")) for i in range(3)])
    for i in range(mt.MAX_MATCHED_EXITS + 5):
        state = observe(state, inbound(f"R-{i}", hint="RD-0"))
    assert state is not None
    assert len(state.matched_exits) == mt.MAX_MATCHED_EXITS


def test_only_departures_are_matched():
    with pytest.raises(TypeError):
        match_exit(None, event(granted()))


def test_the_state_has_only_simple_field_types():
    assert_simple_types(EesSubjectState)
