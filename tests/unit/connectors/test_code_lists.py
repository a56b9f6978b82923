"""``CodeLists``: a connector declares only the code tables it uses; ``StandardCodes`` still wants them all."""

from __future__ import annotations

import dataclasses

import pytest

from gateway.connectors import CodeList, CodeLists, CodeTables, StandardCodes
from gateway.events import models as m


class TwoLists(CodeLists):
    decision_status: CodeList[m.DecisionStatus]
    return_type: CodeList[m.ReturnType]


TOML = """
[decision_status]
SUSP = "SUSPENDED"
[return_type]
VOL = "VOLUNTARY"
FORCED = "ENFORCED"
"""


def test_a_connector_declares_only_the_tables_it_uses() -> None:
    codes = TwoLists.from_tables(CodeTables.from_toml(TOML))
    assert codes.decision_status.canonical("SUSP", "status") is m.DecisionStatus.SUSPENDED
    assert codes.return_type.national(m.ReturnType.ENFORCED) == "FORCED"
    assert TwoLists.declared() == {"decision_status": m.DecisionStatus, "return_type": m.ReturnType}


def test_a_declared_table_missing_from_the_file_is_refused_at_build_time() -> None:
    with pytest.raises(ValueError, match=r"no table \[return_type\]"):
        TwoLists.from_tables(CodeTables.from_toml('[decision_status]\nSUSP = "SUSPENDED"\n'))


def test_a_table_no_attribute_declares_is_refused() -> None:
    with pytest.raises(ValueError, match="no field reads: \\['sex'\\]"):
        TwoLists.from_tables(CodeTables.from_toml(TOML + '[sex]\nM = "MALE"\n'))


def test_a_symbol_the_enum_lacks_is_refused() -> None:
    with pytest.raises(ValueError, match="ReturnType lacks"):
        TwoLists.from_tables(CodeTables.from_toml(TOML.replace('"ENFORCED"', '"DEPORTED"')))


def test_code_lists_are_immutable_and_compare_by_value() -> None:
    codes = TwoLists.from_tables(CodeTables.from_toml(TOML))
    with pytest.raises(dataclasses.FrozenInstanceError):
        codes.return_type = codes.return_type  # type: ignore[misc]
    assert codes == TwoLists.from_tables(CodeTables.from_toml(TOML))


def test_standard_codes_still_require_every_table() -> None:
    with pytest.raises(ValueError, match="no table"):
        StandardCodes.from_tables(CodeTables.from_toml(TOML))
    assert len(StandardCodes.declared()) == 20


@pytest.mark.parametrize("package", ["gw_connector_fr_jsonl", "gw_connector_nl_xml"])
def test_the_reference_connectors_code_tables_still_load(package: str) -> None:
    codes = StandardCodes.from_package(package)
    assert {name: vars(codes)[name].name for name in StandardCodes.declared()} == {
        name: name for name in StandardCodes.declared()
    }
