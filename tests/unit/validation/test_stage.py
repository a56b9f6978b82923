"""Tests of the pipeline's validation stage: case state per case, kept only for accepted records."""

from __future__ import annotations

import datetime as dt
import shutil

from gateway.events.models import EventType, MemberState, Severity
from gateway.pipeline.processor import ValidationStage, Verdict
from gateway.testing.examples import all_events
from gateway.validation.programmes import example_programmes_path
from gateway.validation.stage import RuleStage
from tests.unit.validation.support import NOW, T, d, ev


def stage(tmp_path=None) -> RuleStage:
    if tmp_path is None:
        return RuleStage.from_config_file(None, clock=lambda: NOW)
    shutil.copy(example_programmes_path(), tmp_path / "programmes.toml")
    config = tmp_path / "validation.toml"
    config.write_text('programme_catalogue = "programmes.toml"\n')
    return RuleStage.from_config_file(config, clock=lambda: NOW)


def test_is_a_validation_stage():
    s: ValidationStage = stage()
    assert isinstance(s.check([]), Verdict)


def test_examples_pass_one_record_at_a_time(tmp_path):
    s = stage(tmp_path)
    for event in all_events():
        verdict = s.check([event])
        rule_ids = [f.rule_id for f in verdict.findings]
        assert rule_ids == (["SIS-004"] if event.event_type is EventType.NON_RETURN_RECORDED else []), event.event_type
        assert not verdict.errors
    state = s.state_of(MemberState.NL, "V-2026-000123")
    assert state.departure_last_day == d("2026-04-22")
    assert state.assistance_granted_on == d("2026-03-12")
    assert s.metrics.by_rule() == {"SIS-004": 1}


def test_a_rejected_record_leaves_the_state_alone():
    s = stage()
    assert not s.check([ev(T.RETURN_DECISION_ISSUED)]).errors
    bad = ev(T.VOLUNTARY_DEPARTURE_EXTENDED, {"new_last_day": d("2026-03-20"), "previous_last_day": None})
    verdict = s.check([bad])
    assert [f.rule_id for f in verdict.errors] == ["VD-007"]
    assert s.state_of(MemberState.NL, "V-2026-000123").departure_last_day == d("2026-04-01")


def test_events_of_one_record_build_on_each_other_and_fail_together():
    s = stage()
    decision, extension = ev(T.RETURN_DECISION_ISSUED), ev(T.VOLUNTARY_DEPARTURE_EXTENDED)
    late = ev(T.VOLUNTARY_DEPARTURE_EXTENDED, {"new_last_day": d("2026-04-22"), "previous_last_day": d("2026-04-22")})
    verdict = s.check([decision, extension, late])
    # The third event sees the second's extension, so it does not move the last day later.
    assert [(f.rule_id, f.severity) for f in verdict.findings] == [("VD-007", Severity.ERROR)]
    assert s.states == {}  # the whole record goes to the DLQ: nothing is remembered


def test_warnings_travel_on_the_events():
    s = stage()
    s.check([ev(T.RETURN_DECISION_ISSUED)])
    stale = ev(T.VOLUNTARY_DEPARTURE_EXTENDED, {"previous_last_day": d("2026-03-31")})
    verdict = s.check([stale])
    assert not verdict.errors
    assert [w.rule_id for w in verdict.events[0].validation_warnings] == ["VD-009"]
    assert s.state_of(MemberState.NL, "V-2026-000123").departure_last_day == d("2026-04-22")


def test_cases_are_kept_apart():
    s = stage()
    s.check([ev(T.RETURN_DECISION_ISSUED)])
    other = ev(
        T.DEPARTURE_CONFIRMED,
        {"departed_at": dt.datetime(2026, 2, 1, tzinfo=dt.UTC), "assisted": False},
        case_reference="OTHER",
    )
    assert s.check([other]).findings == ()  # no decision known in that case
    s.remember([ev(T.RETURN_DECISION_ISSUED, case_reference="OTHER")])
    assert [f.rule_id for f in s.check([other]).findings] == ["DEP-002"]
