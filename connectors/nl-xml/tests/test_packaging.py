"""The connector is found the way a third party's would be: through the ``gateway.connectors`` entry point."""

from importlib.resources import files

from gw_connector_nl_xml import NlXmlConfig, NlXmlConnector

from gateway.connectors.discovery import describe, load


def test_entry_point_loads_the_connector() -> None:
    assert load("nl-xml") is NlXmlConnector
    (info,) = [i for i in describe() if i.name == "nl-xml"]
    assert info.distribution == "returns-gateway-connector-nl-xml"
    assert info.target == "gw_connector_nl_xml.connector:NlXmlConnector"
    assert info.error is None
    assert info.version == NlXmlConnector.version


def test_declared_contract() -> None:
    assert NlXmlConnector.name == "nl-xml"
    assert NlXmlConnector.formats == ("xml",)
    assert NlXmlConnector.config_model is NlXmlConfig
    assert "read_chunk_bytes" in NlXmlConfig.model_json_schema()["properties"]


def test_package_data_is_installed() -> None:
    package = files("gw_connector_nl_xml")
    assert package.joinpath("codes.toml").is_file()
    assert package.joinpath("xsd/nl-vreemdelingendossier-v1.xsd").is_file()
    assert package.joinpath("py.typed").is_file()
