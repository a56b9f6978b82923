"""Boundary tests of the assistance rules against the example programme catalogue."""

from __future__ import annotations

from decimal import Decimal

import pytest

from gateway.events.models import AssistanceComponent, AssistanceForm, AssistanceType, BudgetLine, ProcedureStage
from gateway.validation.engine import ValidationEngine
from gateway.validation.programmes import ProgrammeCatalogue
from tests.unit.validation.support import T, d, ev, paths

C = AssistanceComponent
TRAVEL, CASH = AssistanceType.TRAVEL, AssistanceType.PRE_DEPARTURE_CASH
IK, CA = AssistanceForm.IN_KIND, AssistanceForm.CASH


@pytest.mark.parametrize(
    ("amount", "fires"),
    [
        ("300.00", False),
        ("0.00", False),
        ("300.0", True),
        ("300", True),
        ("-1.00", True),
        ("-0.01", True),
        (None, False),
    ],
)
@pytest.mark.parametrize("event_type", [T.ASSISTANCE_APPLIED, T.ASSISTANCE_GRANTED])
def test_as001_amount_format(event_type, amount, fires):
    component = C(type=CASH, form=CA, amount_eur=Decimal(amount) if amount else None)
    event = ev(event_type, {"components": (component,)})
    assert paths("AS-001", event) == (["payload.components[0].amount_eur"] if fires else [])


@pytest.mark.parametrize("event_type", [T.REINTEGRATION_REFERRAL, T.REINTEGRATION_STATUS_CHANGED])
def test_as001_budget_lines(event_type):
    lines = (
        BudgetLine(description="ok", amount_eur=Decimal("1.00")),
        BudgetLine(description="bad", amount_eur=Decimal("1200.5")),
    )
    assert paths("AS-001", ev(event_type, {"budget_lines": lines})) == ["payload.budget_lines[1].amount_eur"]


@pytest.mark.parametrize(
    ("event_type", "changes", "fires"),
    [
        (T.ASSISTANCE_APPLIED, {}, False),
        (T.ASSISTANCE_APPLIED, {"programme_reference": "XX-UNKNOWN"}, True),
        (T.ASSISTANCE_APPLIED, {"application_date": d("2025-12-31")}, True),  # before valid_from
        (T.ASSISTANCE_APPLIED, {"application_date": d("2026-01-01")}, False),
        (T.ASSISTANCE_APPLIED, {"application_date": d("2026-12-31")}, False),
        (T.ASSISTANCE_APPLIED, {"application_date": d("2027-01-01")}, True),  # after valid_until
        (T.ASSISTANCE_GRANTED, {"application_date": None, "grant_date": d("2027-01-01")}, True),
        (T.ASSISTANCE_REFUSED, {"programme_reference": "XX-UNKNOWN"}, True),
        (T.REINTEGRATION_REFERRAL, {"programme_reference": None}, False),
        (T.REINTEGRATION_REFERRAL, {"programme_reference": "XX-UNKNOWN"}, True),
        (T.ASSISTANCE_APPLIED, {"programme_reference": " "}, False),  # blank: EU-004's concern on grants
    ],
)
def test_as002_programme_known_and_open(event_type, changes, fires):
    assert paths("AS-002", ev(event_type, changes)) == (["payload.programme_reference"] if fires else [])


def test_as002_empty_catalogue_knows_no_programme():
    eng = ValidationEngine(programmes=ProgrammeCatalogue())
    assert paths("AS-002", ev(T.ASSISTANCE_APPLIED), eng=eng) == ["payload.programme_reference"]


def test_without_a_catalogue_the_catalogue_rules_are_off():
    eng = ValidationEngine()
    assert {b.rule.id for b in eng.rules} & {"AS-002", "AS-003", "AS-004", "AS-005", "RIAT-003"} == set()
    assert "AS-001" in {b.rule.id for b in eng.rules}


@pytest.mark.parametrize(
    ("component", "expected"),
    [
        (C(type=TRAVEL, form=IK, amount_eur=Decimal("10.00")), []),
        (C(type=AssistanceType.MEDICAL, form=IK), ["payload.components[0].type"]),
        (C(type=TRAVEL, form=CA, amount_eur=Decimal("10.00")), ["payload.components[0].form"]),
        (C(type=TRAVEL, form=AssistanceForm.UNKNOWN), ["payload.components[0].form"]),
    ],
)
def test_as003_component_offered(component, expected):
    assert paths("AS-003", ev(T.ASSISTANCE_GRANTED, {"components": (component,)})) == expected


def test_as003_unknown_programme_is_left_to_as002():
    event = ev(
        T.ASSISTANCE_GRANTED, {"programme_reference": "XX", "components": (C(type=AssistanceType.MEDICAL, form=IK),)}
    )
    assert paths("AS-003", event) == []


@pytest.mark.parametrize(
    ("components", "expected"),
    [
        ((C(type=CASH, form=CA, amount_eur=Decimal("300.00")),), []),  # exactly the level
        ((C(type=CASH, form=CA, amount_eur=Decimal("300.01")),), ["payload.components[0].amount_eur"]),
        (
            (
                C(type=TRAVEL, form=IK, amount_eur=Decimal("1000.00")),
                C(type=AssistanceType.REINTEGRATION_IN_KIND, form=IK, amount_eur=Decimal("3000.00")),
                C(type=AssistanceType.REINTEGRATION_CASH, form=CA, amount_eur=Decimal("500.00")),
                C(type=CASH, form=CA, amount_eur=Decimal("300.00")),
            ),
            [],  # 4 800.00 <= 5 000.00
        ),
        (
            (
                C(type=TRAVEL, form=IK, amount_eur=Decimal("1000.00")),
                C(type=AssistanceType.REINTEGRATION_IN_KIND, form=IK, amount_eur=Decimal("3000.00")),
                C(type=AssistanceType.REINTEGRATION_CASH, form=CA, amount_eur=Decimal("500.00")),
                C(type=CASH, form=CA, amount_eur=Decimal("300.00")),
                C(type=AssistanceType.COUNSELLING, form=IK, amount_eur=Decimal("200.01")),
            ),
            ["payload.components"],  # 5 000.01 > 5 000.00
        ),
    ],
)
def test_as004_within_programme_levels(components, expected):
    assert paths("AS-004", ev(T.ASSISTANCE_APPLIED, {"components": components})) == expected


@pytest.mark.parametrize(
    ("stage", "fires"),
    [
        (ProcedureStage.AFTER_RETURN_DECISION, False),
        (ProcedureStage.ASYLUM_PROCEDURE, False),
        (ProcedureStage.DETENTION, True),
        (ProcedureStage.UNKNOWN, True),
    ],
)
def test_as005_stage_allowed(stage, fires):
    assert paths("AS-005", ev(T.ASSISTANCE_GRANTED, {"stage": stage})) == (["payload.stage"] if fires else [])
