"""The boundary-case national export yields exactly the expected findings, record by record."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from gateway.events.models import CaseEvent, EventType
from gateway.validation import CaseState, ValidationEngine, errors, fold, load_config
from tests.unit.validation.support import PROGRAMMES

EXPORT = Path(__file__).resolve().parents[2] / "fixtures" / "boundary" / "export.json"


def run_export() -> dict[str, list[tuple[str, str, str]]]:
    data = json.loads(EXPORT.read_text("utf-8"))
    now = dt.datetime.fromisoformat(data["now"])
    engine = ValidationEngine(load_config({}), PROGRAMMES)
    states: dict[tuple[str, str], CaseState] = {}
    found = {}
    for record in data["records"]:
        event = CaseEvent.model_validate(record["event"])
        key = (str(event.member_state), event.case_reference)
        state = states.get(key, CaseState())
        findings = engine.validate(event, state, now)
        if not errors(findings):
            states[key] = fold(state, event)
        found[record["record"]] = sorted((f.rule_id, str(f.severity), f.path) for f in findings)
    return found


def expected() -> dict[str, list[tuple[str, str, str]]]:
    data = json.loads(EXPORT.read_text("utf-8"))
    return {
        r["record"]: sorted((e["rule_id"], e["severity"], e["path"]) for e in r["expected"]) for r in data["records"]
    }


def test_export_yields_exactly_the_expected_findings():
    assert run_export() == expected()


def test_export_covers_many_rules_and_event_types():
    data = json.loads(EXPORT.read_text("utf-8"))
    rules = {e["rule_id"] for r in data["records"] for e in r["expected"]}
    types = {r["event"]["event_type"] for r in data["records"]}
    assert len(rules) >= 30
    assert len(types) >= 9
    assert all(EventType(t) for t in types)


def test_export_is_current_with_its_builder():
    from tests.fixtures.boundary.build_export import build

    assert json.loads(EXPORT.read_text("utf-8")) == json.loads(json.dumps(build()))
