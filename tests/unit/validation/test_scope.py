"""Scope of the Return Directive: Union, EEA and Swiss nationals (RD-001), return to a Member State (RD-002/003)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.errors import ConfigError
from gateway.events.models import MemberState, Severity
from gateway.validation.codelists import load_country_codes
from gateway.validation.config import load_config
from gateway.validation.engine import ValidationEngine
from tests.unit.validation.support import PROGRAMMES, T, engine, ev, paths, run

NAT = "payload.identity.nationalities"
RETURN = "payload.country_of_return"


@pytest.mark.parametrize(
    ("nationalities", "bad"),
    [
        (("MAR",), []),
        (("XXA",), []),
        (("FRA",), [0]),
        (("DEU",), [0]),
        (("D",), [0]),  # Germany in the MRZ is a German nationality
        (("ISL",), [0]),
        (("LIE",), [0]),
        (("NOR",), [0]),
        (("CHE",), [0]),
        (("MAR", "ITA"), [1]),  # a dual national with a Union citizenship
        (("GBR",), []),  # the United Kingdom left the EU: its nationals are third-country nationals
        (("TUR", "POL", "ESP"), [1, 2]),
    ],
)
def test_rd001_union_eea_swiss_nationals(nationalities, bad):
    event = ev(T.RETURN_DECISION_ISSUED, {"identity.nationalities": nationalities})
    found = run("RD-001", event)
    assert [f.path for f in found] == [f"{NAT}[{i}]" for i in bad]
    assert all(f.severity is Severity.ERROR and "Art. 2(1)" in f.legal_reference for f in found)


def test_rd001_memberships_are_configuration():
    eng = engine({"rules": {"RD-001": {"params": {"memberships": ["EU"]}}}})
    event = ev(T.RETURN_DECISION_ISSUED, {"identity.nationalities": ("NOR", "CHE", "AUT")})
    assert paths("RD-001", event, eng=eng) == [f"{NAT}[2]"]
    with pytest.raises(ConfigError, match="memberships"):
        engine({"rules": {"RD-001": {"params": {"memberships": ["EFTA"]}}}})


def test_rd001_accession_is_a_data_change(tmp_path: Path):
    # A future Member State's nationals are caught by adding a row, not by changing code.
    packaged = Path(__file__).resolve().parents[3] / "gateway" / "validation" / "data" / "free_movement.csv"
    extended = tmp_path / "free_movement.csv"
    extended.write_text(packaged.read_text("utf-8") + "MNE,,EU,Montenegro\n", "utf-8")
    codes = load_country_codes(free_movement=extended)
    eng = ValidationEngine(load_config({}), PROGRAMMES, codes=codes)
    event = ev(T.RETURN_DECISION_ISSUED, {"identity.nationalities": ("MNE",)})
    assert paths("RD-001", event) == []
    assert paths("RD-001", event, eng=eng) == [f"{NAT}[0]"]


def test_free_movement_list_needs_every_member_state(tmp_path: Path):
    short = tmp_path / "free_movement.csv"
    short.write_text("code,member_state,membership,name\nFRA,FR,EU,France\n", "utf-8")
    with pytest.raises(ConfigError, match="one row per Member State"):
        load_country_codes(free_movement=short)


@pytest.mark.parametrize(
    ("member_state", "country", "rd002", "rd003"),
    [
        (MemberState.FR, "FRA", True, False),  # a French decision returning to France
        (MemberState.NL, "NLD", True, False),
        (MemberState.DE, "D", True, False),
        (MemberState.NL, "MAR", False, False),
        (MemberState.NL, None, False, False),
        (MemberState.NL, "BEL", False, True),  # another Member State: an Art. 6(2)/6(3) hand-over, not a return
        (MemberState.NL, "NOR", False, True),
        (MemberState.NL, "CHE", False, True),
        (MemberState.NL, "GBR", False, False),
    ],
)
def test_rd002_rd003_country_of_return(member_state, country, rd002, rd003):
    event = ev(T.RETURN_DECISION_ISSUED, {"country_of_return": country}, member_state=member_state)
    assert paths("RD-002", event) == ([RETURN] if rd002 else [])
    found = run("RD-003", event)
    assert [f.path for f in found] == ([RETURN] if rd003 else [])
    assert all(f.severity is Severity.WARNING for f in found)


def test_rd_rules_are_switchable():
    eng = engine({"rules": {"RD-001": {"enabled": False}, "RD-003": {"severity": "ERROR"}}})
    event = ev(T.RETURN_DECISION_ISSUED, {"identity.nationalities": ("FRA",), "country_of_return": "BEL"})
    assert paths("RD-001", event, eng=eng) == []
    assert [f.severity for f in run("RD-003", event, eng=eng)] == [Severity.ERROR]
