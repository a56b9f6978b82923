"""The gateway's connector conformance kit, once per export encoding."""

from types import MappingProxyType

from gw_connector_de_csv import DeCsvConnector

from gateway.testing.conformance import ConnectorConformance


class TestDeCsv(ConnectorConformance):
    """ISO-8859-1 exports without a BOM (the default)."""

    connector_cls = DeCsvConnector
    config = MappingProxyType({"member_state": "DE"})


class TestDeCsvUtf8(ConnectorConformance):
    """UTF-8 exports with a BOM."""

    connector_cls = DeCsvConnector
    config = MappingProxyType({"member_state": "DE", "export_encoding": "utf-8"})
