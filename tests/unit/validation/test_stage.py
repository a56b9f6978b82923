"""Tests of the pipeline's validation stage: case state per case, kept only for accepted records.

Each test runs against both places case states live: in memory (dry runs) and in a partition store (ingest and
service mode, written back at the end of a batch, or after every record), which must give the same verdicts.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from gateway.events.models import CaseEvent, EventType, MemberState, Severity
from gateway.pipeline.case_states import StoredCaseStates, case_state_codec
from gateway.pipeline.processor import ValidationStage, Verdict
from gateway.state.store import PartitionStore
from gateway.testing.examples import all_events
from gateway.validation.programmes import example_programmes_path
from gateway.validation.stage import RuleStage
from gateway.validation.state import CaseKey, CaseState, CaseStates, InMemoryCaseStates, fold
from tests.unit.validation.support import NOW, T, d, ev

CASE: CaseKey = (MemberState.NL, "V-2026-000123")


def stage(tmp_path: Path | None = None) -> RuleStage:
    if tmp_path is None:
        return RuleStage.from_config_file(None, clock=lambda: NOW)
    shutil.copy(example_programmes_path(), tmp_path / "programmes.toml")
    config = tmp_path / "validation.toml"
    config.write_text('programme_catalogue = "programmes.toml"\n')
    return RuleStage.from_config_file(config, clock=lambda: NOW)


class _FlushedEachPut:
    """Stored case states whose batch ends after every write: each read after a write goes to the store."""

    def __init__(self, stored: StoredCaseStates) -> None:
        self.stored = stored

    def get(self, key: CaseKey) -> CaseState | None:
        return self.stored.get(key)

    def put(self, key: CaseKey, state: CaseState) -> None:
        self.stored.put(key, state)
        self.stored.flush()


@pytest.fixture(params=["memory", "store", "store-flushed"])
def states(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[CaseStates]:
    if request.param == "memory":
        yield InMemoryCaseStates()
        return
    store = PartitionStore(tmp_path / "state" / "0.sqlite", "app.cases.changelog", 0)
    stored = StoredCaseStates(store, case_state_codec())
    yield stored if request.param == "store" else _FlushedEachPut(stored)
    store.close()


def state_of(states: CaseStates, key: CaseKey = CASE) -> CaseState:
    return states.get(key) or CaseState()


def remember(states: CaseStates, events: list[CaseEvent]) -> None:
    for event in events:
        key = (event.member_state, event.case_reference)
        states.put(key, fold(state_of(states, key), event))


def test_is_a_validation_stage(states: CaseStates):
    s: ValidationStage = stage()
    assert isinstance(s.check([], states), Verdict)


def test_examples_pass_one_record_at_a_time(tmp_path: Path, states: CaseStates):
    s = stage(tmp_path)
    for event in all_events():
        verdict = s.check([event], states)
        rule_ids = [f.rule_id for f in verdict.findings]
        assert rule_ids == (["SIS-004"] if event.event_type is EventType.NON_RETURN_RECORDED else []), event.event_type
        assert not verdict.errors
    state = state_of(states)
    assert state.departure_last_day == d("2026-04-22")
    assert state.assistance_granted_on == d("2026-03-12")
    assert s.metrics.by_rule() == {"SIS-004": 1}


def test_a_rejected_record_leaves_the_state_alone(states: CaseStates):
    s = stage()
    assert not s.check([ev(T.RETURN_DECISION_ISSUED)], states).errors
    bad = ev(T.VOLUNTARY_DEPARTURE_EXTENDED, {"new_last_day": d("2026-03-20"), "previous_last_day": None})
    verdict = s.check([bad], states)
    assert [f.rule_id for f in verdict.errors] == ["VD-007"]
    assert state_of(states).departure_last_day == d("2026-04-01")


def test_events_of_one_record_build_on_each_other_and_fail_together(states: CaseStates):
    s = stage()
    decision, extension = ev(T.RETURN_DECISION_ISSUED), ev(T.VOLUNTARY_DEPARTURE_EXTENDED)
    late = ev(T.VOLUNTARY_DEPARTURE_EXTENDED, {"new_last_day": d("2026-04-22"), "previous_last_day": d("2026-04-22")})
    verdict = s.check([decision, extension, late], states)
    # The third event sees the second's extension, so it does not move the last day later.
    assert [(f.rule_id, f.severity) for f in verdict.findings] == [("VD-007", Severity.ERROR)]
    assert states.get(CASE) is None  # the whole record goes to the DLQ: nothing is remembered


def test_warnings_travel_on_the_events(states: CaseStates):
    s = stage()
    s.check([ev(T.RETURN_DECISION_ISSUED)], states)
    stale = ev(T.VOLUNTARY_DEPARTURE_EXTENDED, {"previous_last_day": d("2026-03-31")})
    verdict = s.check([stale], states)
    assert not verdict.errors
    assert [w.rule_id for w in verdict.events[0].validation_warnings] == ["VD-009"]
    assert state_of(states).departure_last_day == d("2026-04-22")


def test_cases_are_kept_apart(states: CaseStates):
    s = stage()
    s.check([ev(T.RETURN_DECISION_ISSUED)], states)
    other = ev(
        T.DEPARTURE_CONFIRMED,
        {"departed_at": dt.datetime(2026, 2, 1, tzinfo=dt.UTC), "assisted": False},
        case_reference="OTHER",
    )
    assert s.check([other], states).findings == ()  # no decision known in that case
    remember(states, [ev(T.RETURN_DECISION_ISSUED, case_reference="OTHER")])
    assert [f.rule_id for f in s.check([other], states).findings] == ["DEP-002"]


def test_the_stage_holds_no_case_state_of_its_own(states: CaseStates):
    s = stage()
    s.check([ev(T.RETURN_DECISION_ISSUED)], states)
    departure = ev(T.DEPARTURE_CONFIRMED, {"departed_at": dt.datetime(2026, 2, 1, tzinfo=dt.UTC), "assisted": False})
    assert [f.rule_id for f in s.check([departure], states).findings] == ["DEP-002"]
    # The same stage over other states (another partition, another dry run) knows nothing of that decision.
    assert s.check([departure], InMemoryCaseStates()).findings == ()


def test_events_that_change_no_state_write_nothing(states: CaseStates):
    writes: list[CaseKey] = []
    put: Callable[[CaseKey, CaseState], None] = states.put

    def counting(key: CaseKey, state: CaseState) -> None:
        writes.append(key)
        put(key, state)

    states.put = counting  # type: ignore[method-assign]
    s = stage()
    s.check([ev(T.ENTRY_RECORDED)], states)
    assert writes == []
    s.check([ev(T.RETURN_DECISION_ISSUED)], states)
    assert writes == [CASE]


def test_no_case_is_forgotten(states: CaseStates):
    s = stage()
    decision = ev(T.RETURN_DECISION_ISSUED)
    for i in range(300):
        s.check([decision.model_copy(update={"case_reference": f"C-{i}"})], states)
    assert all(states.get((MemberState.NL, f"C-{i}")) is not None for i in range(300))
