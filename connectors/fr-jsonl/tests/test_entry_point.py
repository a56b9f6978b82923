"""The connector is found the way a third party's is: through its distribution's entry point."""

from __future__ import annotations

from gw_connector_fr_jsonl import FrJsonlConfig, FrJsonlConnector

from gateway.connectors import discovery


def test_registered_in_the_entry_point_group() -> None:
    assert discovery.load("fr-jsonl") is FrJsonlConnector
    [info] = discovery.describe(allow=frozenset({"fr-jsonl"}))
    assert (info.distribution, info.error) == ("returns-gateway-connector-fr-jsonl", None)
    assert info.version == FrJsonlConnector.version != "0.0.0+unknown"


def test_declares_its_contract() -> None:
    assert FrJsonlConnector.name == "fr-jsonl"
    assert FrJsonlConnector.formats == ("jsonl", "json")
    assert FrJsonlConnector.config_model is FrJsonlConfig
    assert len(FrJsonlConnector.defect_kinds) >= 5
    assert FrJsonlConfig(member_state="FR").max_depth == 16
