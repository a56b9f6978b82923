"""Boundary tests of the SIS return-alert rules (Reg. 2018/1860 Art. 3-4)."""

from __future__ import annotations

import pytest

from gateway.errors import ConfigError
from gateway.events.models import LegalGround, Sex, WarningMarker
from gateway.validation.rules.sis import DECISION_FIELDS, ClosedList
from gateway.validation.state import CaseState
from tests.unit.validation.support import T, d, engine, ev, paths, ts


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, []),
        ({"identity.surnames": ()}, ["payload.identity.surnames"]),
        ({"identity.surnames": ("  ",)}, ["payload.identity.surnames"]),
        ({"identity.sex": Sex.UNKNOWN}, ["payload.identity.sex"]),
        ({"identity.sex": Sex.UNSPECIFIED}, []),
        ({"legal_ground": LegalGround.UNKNOWN}, ["payload.legal_ground"]),
        ({"decision_reference": ""}, ["payload.decision_reference"]),
        (
            {"identity.surnames": (), "decision_reference": " "},
            ["payload.identity.surnames", "payload.decision_reference"],
        ),
    ],
)
def test_sis001_minimum_data_set(changes, expected):
    assert paths("SIS-001", ev(T.RETURN_DECISION_ISSUED, changes)) == expected


def test_sis001_configured_set():
    eng = engine({"rules": {"SIS-001": {"params": {"fields": ["identity.forenames", "identity.travel_document"]}}}})
    event = ev(
        T.RETURN_DECISION_ISSUED, {"identity.forenames": (), "identity.travel_document": None, "identity.surnames": ()}
    )
    assert paths("SIS-001", event, eng=eng) == ["payload.identity.forenames", "payload.identity.travel_document"]


def test_sis001_unknown_field_is_a_config_error():
    with pytest.raises(ConfigError, match="religion"):
        engine({"rules": {"SIS-001": {"params": {"fields": ["religion"]}}}})


def test_sis002_default_whitelist_classifies_every_field():
    assert ClosedList().unclassified == ()
    assert paths("SIS-002", ev(T.RETURN_DECISION_ISSUED)) == []


@pytest.mark.parametrize(("country", "fires"), [("MAR", True), (None, False)])
def test_sis002_unclassified_field_set(country, fires):
    withheld = [f for f in ClosedList().withheld if f != "country_of_return"]
    eng = engine({"rules": {"SIS-002": {"params": {"withheld": withheld}}}})
    event = ev(T.RETURN_DECISION_ISSUED, {"country_of_return": country})
    assert paths("SIS-002", event, eng=eng) == (["payload.country_of_return"] if fires else [])


@pytest.mark.parametrize(
    "params",
    [
        {"art4_points": {"identity.surnames": "aa"}},
        {"art4_points": {"religion": "a"}},
        {"art4_points": {"decision_date": "l"}},  # also withheld by default
    ],
)
def test_sis002_bad_whitelist_is_a_config_error(params):
    with pytest.raises(ConfigError):
        engine({"rules": {"SIS-002": {"params": params}}})


def test_sis002_whitelist_paths_are_the_schema():
    assert "identity.travel_document.expiry_date" in DECISION_FIELDS
    assert "voluntary_departure.last_day" in DECISION_FIELDS


@pytest.mark.parametrize(
    ("markers", "expected"),
    [
        ((), []),
        ((WarningMarker.ARMED, WarningMarker.TERRORIST_ACTIVITY), []),
        ((WarningMarker.UNKNOWN,), ["payload.warning_markers[0]"]),
        ((WarningMarker.ARMED, WarningMarker.ARMED), ["payload.warning_markers"]),
    ],
)
def test_sis003_warning_markers(markers, expected):
    assert paths("SIS-003", ev(T.RETURN_DECISION_ISSUED, {"warning_markers": markers})) == expected


def test_sis003_configured_markers():
    eng = engine({"rules": {"SIS-003": {"params": {"allowed": ["ARMED"]}}}})
    event = ev(T.RETURN_DECISION_ISSUED, {"warning_markers": (WarningMarker.ARMED, WarningMarker.VIOLENT)})
    assert paths("SIS-003", event, eng=eng) == ["payload.warning_markers[1]"]


STATE = CaseState(decision_reference="IND-RB-2026-000123", decision_date=d("2026-03-02"))


@pytest.mark.parametrize(
    ("event", "state", "fires"),
    [
        (ev(T.VOLUNTARY_DEPARTURE_EXTENDED), STATE, False),
        (ev(T.VOLUNTARY_DEPARTURE_EXTENDED, {"decision_reference": "OTHER-1"}), STATE, True),
        (ev(T.VOLUNTARY_DEPARTURE_EXTENDED, {"decision_reference": "OTHER-1"}), CaseState(), False),
        (ev(T.RETURN_DECISION_STATUS_CHANGED, {"decision_reference": "OTHER-1"}), STATE, True),
        (ev(T.NON_RETURN_RECORDED), STATE, True),  # the example names decision ...124
        (
            ev(T.DEPARTURE_CONFIRMED, {"decision_reference": None, "departed_at": ts("2026-03-28T10:00:00+00:00")}),
            STATE,
            False,
        ),
    ],
)
def test_sis004_updates_name_the_current_decision(event, state, fires):
    assert paths("SIS-004", event, state=state) == (["payload.decision_reference"] if fires else [])
