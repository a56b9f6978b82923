"""The declarative code lists (codes.toml): complete, checked against the canonical enums, inverse when rendered."""

from __future__ import annotations

from enum import StrEnum

import pytest
from gw_connector_nl_xml.codelists import Codes

from gateway.connectors.codes import CodeList, CodeTables, StandardCodes
from gateway.errors import MappingError
from gateway.events import models as m


@pytest.fixture(scope="module")
def codes() -> Codes:
    return Codes.load()


def lists(codes: Codes) -> list[CodeList]:  # type: ignore[type-arg]
    return [getattr(codes, name) for name in Codes.declared()]


def test_every_canonical_value_has_a_national_code(codes: Codes) -> None:
    for code_list in lists(codes):
        enum: type[StrEnum] = type(next(iter(code_list.to_canonical.values())))
        missing = set(enum.__members__.values()) - set(code_list.to_national)
        if enum is m.MemberState:
            missing.discard(m.MemberState.UNKNOWN)  # no Member State code for "unknown"
        assert not missing, f"{code_list.name} has no code for {missing}"


def test_rendering_is_the_inverse_of_mapping(codes: Codes) -> None:
    for code_list in lists(codes):
        for member, code in code_list.to_national.items():
            assert code_list.canonical(code, "f") is member
        # every national code maps; the first listed one is what rendering writes
        table = CodeTables.from_package("gw_connector_nl_xml").tables[code_list.name]
        for code, symbol in table.items():
            assert code_list.canonical(code, "f") == symbol
            assert code_list.to_national[code_list.canonical(code, "f")] in table


def test_several_codes_may_share_a_symbol_and_the_first_renders(codes: Codes) -> None:
    ground = m.LegalGround.PERMIT_WITHDRAWN_OR_EXPIRED
    assert codes.legal_ground.canonical("VERLOOP_VERBLIJFSVERGUNNING", "f") is ground
    assert codes.legal_ground.national(ground) == "INTREKKING_VERBLIJFSVERGUNNING"
    assert codes.member_state.canonical("EL", "f") is m.MemberState.GR
    assert codes.member_state.national(m.MemberState.GR) == "GR"


def test_brief_codes(codes: Codes) -> None:
    assert codes.legal_ground.canonical("ONRECHTMATIG_VERBLIJF", "f") is m.LegalGround.ILLEGAL_STAY
    assert codes.legal_ground.canonical("AFWIJZING_ASIELAANVRAAG", "f") is m.LegalGround.REJECTED_APPLICATION
    sexes = {c: codes.sex.canonical(c, "f") for c in "MVXO"}
    assert sexes == {"M": m.Sex.MALE, "V": m.Sex.FEMALE, "X": m.Sex.UNSPECIFIED, "O": m.Sex.UNKNOWN}
    assert codes.decision_status.canonical("GESCHORST", "f") is m.DecisionStatus.SUSPENDED
    assert codes.departure_evidence.canonical("EES_UITREISREGISTRATIE", "f") is m.DepartureEvidence.EES_EXIT_RECORD
    assert codes.assistance_type.canonical("VERTREKGELD", "f") is m.AssistanceType.PRE_DEPARTURE_CASH


def test_unknown_code_is_a_mapping_error_naming_the_field(codes: Codes) -> None:
    with pytest.raises(MappingError, match="Terugkeerbesluit/Grondslag: unknown legal_ground code 'X'"):
        codes.legal_ground.canonical("X", "Terugkeerbesluit/Grondslag")
    with pytest.raises(ValueError, match="no code for UNKNOWN"):
        codes.member_state.national(m.MemberState.UNKNOWN)


def test_a_typo_in_the_data_fails_at_load_time() -> None:
    good = CodeTables.from_package("gw_connector_nl_xml")
    broken = CodeTables({**good.tables, "legal_ground": {"ONRECHTMATIG_VERBLIJF": "ILEGAL_STAY"}})
    with pytest.raises(ValueError, match=r"\[legal_ground\] names a symbol that LegalGround lacks"):
        Codes.from_tables(broken)
    with pytest.raises(ValueError, match="tables no field reads"):
        Codes.from_tables(CodeTables({**good.tables, "spare": {"A": "B"}}))
    with pytest.raises(ValueError, match=r"no table \[sex\]"):
        Codes.from_tables(CodeTables({k: v for k, v in good.tables.items() if k != "sex"}))


def test_the_avrr_status_list_is_a_standard_one(codes: Codes) -> None:
    assert list(Codes.declared()) == list(StandardCodes.declared())
    assert codes.avrr_status.canonical("INGETROKKEN", "Status") is m.AvrrStatus.WITHDRAWN
    assert codes.avrr_status.national(m.AvrrStatus.APPLIED) == "AANGEVRAAGD"
    good = CodeTables.from_package("gw_connector_nl_xml")
    with pytest.raises(ValueError, match=r"no table \[avrr_status\]"):
        Codes.from_tables(CodeTables({k: v for k, v in good.tables.items() if k != "avrr_status"}))
