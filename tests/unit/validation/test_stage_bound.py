"""The rule stage keeps a bounded number of case states, forgetting the least recently seen."""

from __future__ import annotations

from gateway.events.models import EventType, MemberState
from gateway.testing.examples import event
from gateway.validation import ValidationEngine, load_config
from gateway.validation.stage import RuleStage


def test_case_states_are_bounded_least_recently_seen_first():
    stage = RuleStage(ValidationEngine(load_config({})), max_cases=3)
    base = event(EventType.ENTRY_RECORDED)
    for i in range(5):
        stage.check([base.model_copy(update={"case_reference": f"C-{i}"})])
    stage.check([base.model_copy(update={"case_reference": "C-2"})])  # seen again: most recent
    stage.check([base.model_copy(update={"case_reference": "C-5"})])
    assert sorted(ref for _, ref in stage.states) == ["C-2", "C-4", "C-5"]
    assert all(ms == MemberState.NL for ms, _ in stage.states)
