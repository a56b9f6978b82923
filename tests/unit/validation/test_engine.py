"""Tests of the engine, its configuration, findings helpers, metrics and case state."""

from __future__ import annotations

import dataclasses
import json
from decimal import Decimal

import pytest

from gateway.errors import ConfigError, RuleViolationError
from gateway.events.models import AssistanceComponent, AssistanceForm, AssistanceType, EventType, Severity
from gateway.testing.examples import all_events
from gateway.validation import (
    CaseState,
    Finding,
    FindingCounter,
    ValidationEngine,
    apply_warnings,
    default_rules,
    errors,
    fold,
    group_by_rule,
    load_config,
    load_programmes,
    rule_violation,
    warnings,
)
from gateway.validation.rule import ALL_EVENT_TYPES, NoParams, Rule
from gateway.validation.rules.voluntary_departure import RULES as VD_RULES
from tests.unit.validation.support import NOW, PROGRAMMES, T, engine, ev


def test_catalogue_has_at_least_twenty_unique_rules():
    rules = default_rules()
    ids = [r.id for r in rules]
    assert len(ids) >= 20
    assert len(set(ids)) == len(ids)


def test_example_events_pass_when_folded_in_order():
    eng = engine()
    state = CaseState()
    for event in all_events():
        findings = eng.validate(event, state, NOW)
        if event.event_type is EventType.NON_RETURN_RECORDED:
            # The example non-return names another decision (…124) than the case's (…123).
            assert [f.rule_id for f in findings] == ["SIS-004"]
        else:
            assert findings == (), event.event_type
        state = fold(state, event)


def test_dispatch_table_only_holds_applicable_rules():
    eng = engine()
    for event_type in EventType:
        for bound in eng.rules_for(event_type):
            assert event_type in bound.rule.event_types
    assert eng.rules_for(EventType.UNKNOWN) == ()


def test_disabled_rule_never_fires():
    event = ev(T.RETURN_DECISION_ISSUED, {"voluntary_departure.length_days": 31, "voluntary_departure.last_day": None})
    assert "VD-001" in {f.rule_id for f in engine().validate(event, CaseState(), NOW)}
    off = engine({"rules": {"VD-001": {"enabled": False}}})
    assert "VD-001" not in {f.rule_id for f in off.validate(event, CaseState(), NOW)}
    assert "VD-001" not in {b.rule.id for b in off.rules}


def test_severity_override():
    event = ev(T.REINTEGRATION_REFERRAL, {"consent_obtained": False})
    eng = engine({"rules": {"RIAT-001": {"severity": "WARNING"}}})
    (finding,) = [f for f in eng.validate(event, CaseState(), NOW) if f.rule_id == "RIAT-001"]
    assert finding.severity is Severity.WARNING


def test_rule_disabled_by_default_can_be_enabled():
    rule = dataclasses.replace(VD_RULES[0], enabled=False)
    event = ev(T.RETURN_DECISION_ISSUED, {"voluntary_departure.length_days": 31, "voluntary_departure.last_day": None})
    assert ValidationEngine(rules=[rule]).validate(event, CaseState(), NOW) == ()
    on = ValidationEngine(load_config({"rules": {"VD-001": {"enabled": True}}}), rules=[rule])
    assert [f.rule_id for f in on.validate(event, CaseState(), NOW)] == ["VD-001"]


@pytest.mark.parametrize(
    ("config", "match"),
    [
        ({"rules": {"VD-999": {}}}, "unknown rule id 'VD-999'"),
        ({"rules": {"vd-1": {}}}, "malformed rule ids"),
        ({"rules": {"VD-001": {"params": {"min_days": 40}}}}, "min_days must not exceed max_days"),
        ({"rules": {"VD-001": {"params": {"minimum": 7}}}}, "minimum"),
        ({"rules": {"VD-001": {"severity": "FATAL"}}}, "severity"),
        ({"rules": {"VD-001": {"enbled": True}}}, "enbled"),
        ({"settings": {"time_zones": {"NL": "Mars/Olympus"}}}, "Mars/Olympus"),
        ({"settings": {"clock_skew_seconds": -1}}, "clock_skew_seconds"),
        ({"unknown": 1}, "unknown"),
        ({"rules": {"EU-006": {"params": {"hours": {"APPLICANT": 0}}}}}, "positive"),
    ],
)
def test_invalid_configuration_is_rejected_at_start_up(config, match):
    with pytest.raises(ConfigError, match=match):
        ValidationEngine(load_config(config), PROGRAMMES)


def test_duplicate_rule_ids_are_rejected():
    with pytest.raises(ConfigError, match="defined twice"):
        ValidationEngine(rules=[VD_RULES[0], VD_RULES[0]])


def test_config_files(tmp_path):
    toml = tmp_path / "v.toml"
    toml.write_text(
        '[settings]\nclock_skew_seconds = 60\n\n[rules.VD-001]\nseverity = "WARNING"\nparams = { max_days = 20 }\n'
    )
    js = tmp_path / "v.json"
    js.write_text(
        json.dumps(
            {
                "settings": {"clock_skew_seconds": 60},
                "rules": {"VD-001": {"severity": "WARNING", "params": {"max_days": 20}}},
            }
        )
    )
    assert load_config(toml) == load_config(js)
    assert load_config(str(toml)).rules["VD-001"].params == {"max_days": 20}
    ini = tmp_path / "v.ini"
    ini.write_text("[x]\n")
    with pytest.raises(ConfigError, match="unsupported"):
        load_config(ini)
    bad = tmp_path / "bad.toml"
    bad.write_text("[rules\n")
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(bad)


def test_time_zone_override_keeps_other_defaults():
    cfg = load_config({"settings": {"time_zones": {"ES": "Atlantic/Canary"}}})
    assert cfg.settings.time_zones["ES"] == "Atlantic/Canary"
    assert cfg.settings.time_zones["NL"] == "Europe/Amsterdam"


def test_crashing_rule_becomes_an_error_finding():
    def boom(event, ctx, params):
        raise RuntimeError("bug")

    rule = Rule(
        id="XX-001",
        title="t",
        description="d",
        severity=Severity.WARNING,
        path="payload",
        legal=VD_RULES[0].legal,
        event_types=ALL_EVENT_TYPES,
        check=boom,
        params=NoParams(),
    )
    (finding,) = ValidationEngine(rules=[rule]).validate(ev(T.ENTRY_RECORDED), CaseState(), NOW)
    assert finding.rule_id == "XX-001"
    assert finding.severity is Severity.ERROR
    assert "RuntimeError: bug" in finding.message


def test_naive_now_is_a_programming_error():
    with pytest.raises(ValueError, match="timezone-aware"):
        engine().validate(ev(T.ENTRY_RECORDED), CaseState(), NOW.replace(tzinfo=None))


def test_rules_never_read_the_clock():
    # Same event, same state, different now: only the now-dependent rules may change their mind.
    event = ev(T.ASSISTANCE_GRANTED)
    early = NOW.replace(year=2026, month=3, day=1)
    assert engine().validate(event, CaseState(), NOW) == ()
    assert {f.rule_id for f in engine().validate(event, CaseState(), early)} == {"EU-002", "CD-008"}


def findings_sample():
    return (
        Finding("VD-001", Severity.ERROR, "payload.x", "m1", "Directive 2008/115/EC Art. 7(1)"),
        Finding("CD-005", Severity.WARNING, "payload.identity.sex", "m2", "Reg. 2024/1358 Art. 17(1)(h)"),
        Finding("VD-001", Severity.ERROR, "payload.y", "m3", "Directive 2008/115/EC Art. 7(1)"),
        Finding("AS-001", Severity.ERROR, "payload.z", "m4", "Canonical schema"),
    )


def test_errors_warnings_and_grouping():
    fs = findings_sample()
    assert [f.message for f in errors(fs)] == ["m1", "m3", "m4"]
    assert [f.message for f in warnings(fs)] == ["m2"]
    groups = group_by_rule(fs)
    assert list(groups) == ["AS-001", "CD-005", "VD-001"]
    assert [f.message for f in groups["VD-001"]] == ["m1", "m3"]


def test_rule_violation_carries_ids_and_references():
    err = rule_violation(findings_sample())
    assert isinstance(err, RuleViolationError)
    assert err.stage == "validate"
    assert err.rule_ids == ("VD-001", "AS-001")
    assert err.legal_references == ("Directive 2008/115/EC Art. 7(1)", "Canonical schema")


def test_finding_avro_round_trip():
    for f in findings_sample():
        assert Finding.from_avro(f.to_avro()) == f


def test_apply_warnings_replaces_and_keeps_errors_out():
    event = ev(T.ENTRY_RECORDED)
    out = apply_warnings(event, findings_sample())
    assert [w.rule_id for w in out.validation_warnings] == ["CD-005"]
    assert event.validation_warnings == ()  # the input is not changed
    assert apply_warnings(out, ()).validation_warnings == ()
    assert apply_warnings(event, ()) is event


def test_counter_counts_by_rule_and_connector():
    counter = FindingCounter()
    counter.add("nl", findings_sample())
    counter.add("be", findings_sample()[:1])
    assert counter.by_rule() == {"AS-001": 1, "CD-005": 1, "VD-001": 3}
    assert counter.by_connector() == {"be": 1, "nl": 4}
    assert counter.snapshot()[("VD-001", "ERROR", "nl")] == 2
    assert counter.total() == 5


def test_fold_summarises_the_case():
    state = CaseState()
    for event in all_events():
        state = fold(state, event)
    assert state.decision_reference == "IND-RB-2026-000123"
    assert str(state.departure_last_day) == "2026-04-22"
    assert str(state.assistance_granted_on) == "2026-03-12"
    assert state.assistance_granted_by == "NL"
    assert state.departed_at is not None


def test_fold_is_pure():
    state = CaseState()
    assert fold(state, ev(T.RETURN_DECISION_ISSUED)) is not state
    assert state == CaseState()
    assert fold(state, ev(T.ENTRY_RECORDED)) is state  # nothing to remember


@pytest.mark.parametrize("event", all_events(), ids=lambda e: str(e.event_type))
def test_fold_keeps_what_the_event_does_not_change(event):
    full = CaseState(
        decision_reference="R",
        decision_date=NOW.date(),
        decision_status=None,
        departure_granted=True,
        departure_last_day=NOW.date(),
        assistance_applied_on=NOW.date(),
        assistance_programme="P",
        assistance_granted_on=NOW.date(),
        assistance_granted_by="NL",
        departed_at=NOW,
    )
    after = fold(full, event)
    changed = {f for f in CaseState._fields if getattr(after, f) != getattr(full, f)}
    allowed = {
        EventType.RETURN_DECISION_ISSUED: {"decision_reference", "decision_date", "departure_last_day"},
        EventType.VOLUNTARY_DEPARTURE_EXTENDED: {"departure_last_day"},
        EventType.RETURN_DECISION_STATUS_CHANGED: {"decision_status"},
        EventType.ASSISTANCE_APPLIED: {"assistance_applied_on", "assistance_programme"},
        EventType.ASSISTANCE_GRANTED: {
            "assistance_applied_on",
            "assistance_programme",
            "assistance_granted_on",
            "assistance_granted_by",
        },
        EventType.DEPARTURE_CONFIRMED: {"departed_at"},
    }.get(event.event_type, set())
    assert changed <= allowed


def test_fold_new_decision_resets_period():
    event = ev(T.RETURN_DECISION_ISSUED, {"voluntary_departure.granted": False, "voluntary_departure.last_day": None})
    state = fold(CaseState(departure_last_day=NOW.date()), event)
    assert state.departure_last_day is None
    assert state.departure_granted is False


@pytest.mark.parametrize(
    "entry",
    [
        {
            "reference": "A",
            "member_state": "NL",
            "stages": ["DETENTION"],
            "components": [{"type": "TRAVEL", "forms": ["CASH"], "max_amount_eur": 10.5}],
        },
        {
            "reference": "A",
            "member_state": "NL",
            "stages": ["DETENTION"],
            "components": [{"type": "TRAVEL", "forms": ["CASH"], "max_amount_eur": "-1.00"}],
        },
        {
            "reference": "A",
            "member_state": "UNKNOWN",
            "stages": ["DETENTION"],
            "components": [{"type": "TRAVEL", "forms": ["CASH"]}],
        },
        {"reference": "A", "member_state": "NL", "stages": [], "components": [{"type": "TRAVEL", "forms": ["CASH"]}]},
        {
            "reference": "A",
            "member_state": "NL",
            "stages": ["UNKNOWN"],
            "components": [{"type": "TRAVEL", "forms": ["CASH"]}],
        },
        {
            "reference": "A",
            "member_state": "NL",
            "stages": ["DETENTION"],
            "components": [{"type": "TRAVEL", "forms": []}],
        },
        {
            "reference": "A",
            "member_state": "NL",
            "stages": ["DETENTION"],
            "components": [{"type": "TRAVEL", "forms": ["CASH"]}, {"type": "TRAVEL", "forms": ["IN_KIND"]}],
        },
        {
            "reference": "A",
            "member_state": "NL",
            "stages": ["DETENTION"],
            "components": [{"type": "TRAVEL", "forms": ["CASH"]}],
            "valid_from": "2026-02-01",
            "valid_until": "2026-01-01",
        },
        {
            "reference": "A",
            "member_state": "NL",
            "stages": ["DETENTION"],
            "components": [{"type": "TRAVEL", "forms": ["CASH"]}],
            "eligible_groups": ["lower case"],
        },
        {
            "reference": "A",
            "member_state": "NL",
            "stages": ["DETENTION"],
            "components": [{"type": "TRAVEL", "forms": ["CASH"]}],
            "colour": "red",
        },
    ],
)
def test_invalid_programme_entries_are_rejected(entry):
    with pytest.raises(ConfigError):
        load_programmes({"programmes": [entry]})


def test_duplicate_programme_references_are_rejected():
    entry = {
        "reference": "A",
        "member_state": "NL",
        "stages": ["DETENTION"],
        "components": [{"type": "TRAVEL", "forms": ["CASH"]}],
    }
    with pytest.raises(ConfigError, match="more than once"):
        load_programmes({"programmes": [entry, entry]})


def test_example_programme_catalogue():
    programme = PROGRAMMES.get("NL-AVRR-2026")
    assert programme is not None
    component = programme.component(AssistanceType.PRE_DEPARTURE_CASH)
    assert component is not None
    assert component.max_amount_eur == Decimal("300.00")
    assert component.forms == (AssistanceForm.CASH,)
    assert PROGRAMMES.get("nope") is None
    assert isinstance(AssistanceComponent(type=AssistanceType.TRAVEL, form=AssistanceForm.CASH), AssistanceComponent)


def test_yaml_configuration(tmp_path):
    path = tmp_path / "v.yaml"
    path.write_text("settings:\n  clock_skew_seconds: 60\n")
    try:
        import yaml  # noqa: F401
    except ImportError:
        with pytest.raises(ConfigError, match="PyYAML"):
            load_config(path)
    else:
        assert load_config(path).settings.clock_skew_seconds == 60


def test_example_configuration_loads_and_applies():
    from pathlib import Path

    import gateway.validation

    path = Path(gateway.validation.__file__).with_name("data") / "validation.example.toml"
    eng = ValidationEngine(load_config(path), PROGRAMMES)
    event = ev(T.RETURN_DECISION_ISSUED, {"identity.nationalities": ("XKX",), "country_of_return": "XKX"})
    assert eng.validate(event, CaseState(), NOW) == ()
