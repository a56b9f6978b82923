"""apply_warnings: warnings a connector put on an event survive validation, deduplicated by rule id and path."""

from __future__ import annotations

from gateway.events.models import Severity, ValidationFinding
from gateway.validation.findings import Finding, apply_warnings
from gateway.validation.state import CaseState
from tests.unit.validation.support import DEFAULT_ENGINE, NOW, T, ev

DST = ValidationFinding(
    rule_id="CN-DST-001",
    severity=Severity.WARNING,
    path="payload.departed_at",
    message="ambiguous local time read as summer time",
    legal_reference="none",
)
SEX = Finding("CD-005", Severity.WARNING, "payload.identity.sex", "sex is UNKNOWN", "Reg. 2024/1358 Art. 17(1)(h)")
ERR = Finding("VD-001", Severity.ERROR, "payload.voluntary_departure.length_days", "too long", "Directive")


def test_connector_warnings_are_kept_before_the_engines():
    event = ev(T.DEPARTURE_CONFIRMED, validation_warnings=(DST,))
    out = apply_warnings(event, (SEX, ERR))
    assert [(w.rule_id, w.path) for w in out.validation_warnings] == [
        ("CN-DST-001", "payload.departed_at"),
        ("CD-005", "payload.identity.sex"),
    ]
    assert apply_warnings(event, ()) is event  # nothing new: the connector's warning stays, the event unchanged


def test_duplicates_by_rule_and_path_are_carried_once():
    again = ValidationFinding(
        rule_id="CN-DST-001",
        severity=Severity.WARNING,
        path="payload.departed_at",
        message="newer wording",
        legal_reference="none",
    )
    event = ev(T.DEPARTURE_CONFIRMED, validation_warnings=(DST, DST))
    out = apply_warnings(event, (Finding.from_avro(again),))
    assert out.validation_warnings == (again,)


def test_replay_neither_piles_up_nor_keeps_stale_engine_warnings():
    event = ev(T.DEPARTURE_CONFIRMED, validation_warnings=(DST,))
    once = apply_warnings(event, (SEX,))
    assert apply_warnings(once, (SEX,)) == once  # validated again: same warnings, no copies
    # The rule set changed and CD-005 no longer fires: its old warning goes, the connector's stays.
    assert apply_warnings(once, ()).validation_warnings == (DST,)


def test_engine_output_on_a_connector_warned_event():
    event = ev(T.DEPARTURE_CONFIRMED, {"border_crossing_point": "=cmd", "assisted": False}, validation_warnings=(DST,))
    out = apply_warnings(event, DEFAULT_ENGINE.validate(event, CaseState(), NOW))
    assert [w.rule_id for w in out.validation_warnings] == ["CN-DST-001", "TX-001"]
