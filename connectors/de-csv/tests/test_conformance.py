"""The gateway's connector conformance kit, once per export encoding.

The golden tier reads the example exports in golden/ (ISO-8859-1) and golden-utf8/ (the same rows in UTF-8 with a
BOM, expected to give the same events). After a deliberate change of the translation:
`gateway connectors golden de-csv tests/golden/EXAMPLE --write`, then review the diff of the expected file.
"""

from pathlib import Path
from types import MappingProxyType

from gw_connector_de_csv import DeCsvConnector

from gateway.testing.conformance import ConnectorConformance

HERE = Path(__file__).parent


class TestDeCsv(ConnectorConformance):
    """ISO-8859-1 exports without a BOM (the default)."""

    connector_cls = DeCsvConnector
    config = MappingProxyType({"member_state": "DE"})
    golden_dir = HERE / "golden"


class TestDeCsvUtf8(ConnectorConformance):
    """UTF-8 exports with a BOM."""

    connector_cls = DeCsvConnector
    config = MappingProxyType({"member_state": "DE", "export_encoding": "utf-8"})
    golden_dir = HERE / "golden-utf8"
