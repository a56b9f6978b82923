"""The code lists in codes.toml: complete, valid, and two-way."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import pytest
from gw_connector_fr_jsonl.codelists import Codes

from gateway.connectors.codes import CodeList, CodeTables, StandardCodes
from gateway.errors import MappingError
from gateway.events import models as m


def _lists(codes: Codes) -> dict[str, CodeList[Any]]:
    return {name: getattr(codes, name) for name in Codes.declared()}


def test_every_table_loads_and_every_canonical_value_can_be_rendered(codes: Codes) -> None:
    for name, codelist in _lists(codes).items():
        enum = type(next(iter(codelist.to_canonical.values())))
        assert issubclass(enum, StrEnum)
        assert set(codelist.to_national) == set(enum), f"[{name}] has no code for some {enum.__name__} values"


def test_rendering_is_the_inverse_of_mapping(codes: Codes) -> None:
    for codelist in _lists(codes).values():
        for member, code in codelist.to_national.items():
            assert codelist.canonical(code, "x") == member


def test_the_first_code_listed_is_the_one_rendered(codes: Codes) -> None:
    assert codes.legal_ground.national(m.LegalGround.ILLEGAL_STAY) == "SEJOUR_IRREGULIER"
    assert codes.legal_ground.canonical("MAINTIEN_AU_DELA_DU_VISA", "x") == m.LegalGround.ILLEGAL_STAY
    assert codes.member_state.national(m.MemberState.GR) == "GR"
    assert codes.member_state.canonical("EL", "x") == m.MemberState.GR


def test_unknown_codes_name_the_field_and_the_index(codes: Codes) -> None:
    with pytest.raises(MappingError, match=r"personne\.sexe: unknown sex code 'H'"):
        codes.sex.canonical("H", "personne.sexe")
    with pytest.raises(MappingError, match=r"depart\.preuves\[1\]: unknown departure_evidence code 'PHOTO'"):
        codes.departure_evidence.canonical_all(("SORTIE_EES", "PHOTO"), "depart.preuves")
    assert codes.departure_evidence.canonical_all((), "depart.preuves") == ()


def test_a_symbol_the_enum_lacks_fails_at_start_up() -> None:
    tables = CodeTables.from_toml('[sex]\nM = "MALE"\nH = "HOMME"\n')
    with pytest.raises(ValueError, match="names a symbol that Sex lacks"):
        CodeList.build(tables, "sex", m.Sex)
    with pytest.raises(ValueError, match="no table"):
        CodeList.build(tables, "legal_ground", m.LegalGround)


def test_a_table_nothing_reads_fails_at_start_up() -> None:
    shipped = CodeTables.from_package("gw_connector_fr_jsonl")
    extended = CodeTables({**shipped.tables, "colour": {"BLEU": "BLUE"}})
    with pytest.raises(ValueError, match=r"tables no field reads: \['colour'\]"):
        Codes.from_tables(extended)


def test_the_avrr_status_list_is_a_standard_one(codes: Codes) -> None:
    assert set(Codes.declared()) == set(StandardCodes.declared())
    assert codes.avrr_status.canonical("RETIREE", "eurodac.aideRetour.statut") is m.AvrrStatus.WITHDRAWN
    assert codes.avrr_status.national(m.AvrrStatus.APPLIED) == "DEMANDEE"
    shipped = CodeTables.from_package("gw_connector_fr_jsonl")
    with pytest.raises(ValueError, match=r"no table \[avrr_status\]"):
        Codes.from_tables(CodeTables({k: v for k, v in shipped.tables.items() if k != "avrr_status"}))
