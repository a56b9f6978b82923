"""Boundary tests of the RIAT referral rules."""

from __future__ import annotations

import pytest

from gateway.events.models import SupportType
from tests.unit.validation.support import T, ev, paths


@pytest.mark.parametrize(("consent", "fires"), [(True, False), (False, True)])
def test_riat001_consent(consent, fires):
    event = ev(T.REINTEGRATION_REFERRAL, {"consent_obtained": consent})
    assert paths("RIAT-001", event) == (["payload.consent_obtained"] if fires else [])


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, []),
        ({"country_of_return": ""}, ["payload.country_of_return"]),
        ({"partner": "  "}, ["payload.partner"]),
        ({"support_types": ()}, ["payload.support_types"]),
        ({"support_types": (SupportType.UNKNOWN,)}, ["payload.support_types"]),
        ({"support_types": (SupportType.UNKNOWN, SupportType.CASH)}, []),
        ({"country_of_return": "", "partner": ""}, ["payload.country_of_return", "payload.partner"]),
    ],
)
def test_riat002_case_fields(changes, expected):
    assert paths("RIAT-002", ev(T.REINTEGRATION_REFERRAL, changes)) == expected


@pytest.mark.parametrize(
    ("changes", "fires"),
    [
        ({}, False),
        ({"partner": "Someone Else"}, True),
        ({"partner": "Someone Else", "programme_reference": None}, False),
        ({"partner": "Someone Else", "programme_reference": "XX-UNKNOWN"}, False),  # AS-002 reports the programme
    ],
)
def test_riat003_partner_of_programme(changes, fires):
    assert paths("RIAT-003", ev(T.REINTEGRATION_REFERRAL, changes)) == (["payload.partner"] if fires else [])


@pytest.mark.parametrize(("size", "fires"), [(-1, True), (0, True), (1, False), (7, False)])
def test_riat004_family_size(size, fires):
    assert paths("RIAT-004", ev(T.REINTEGRATION_REFERRAL, {"family_size": size})) == (
        ["payload.family_size"] if fires else []
    )
