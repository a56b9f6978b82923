"""The gateway's connector conformance kit, run on the Dutch XML connector, golden tier included.

After a deliberate change of the translation: `gateway connectors golden nl-xml tests/golden/EXAMPLE --write`, then
review the diff of the expected file.
"""

from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from gw_connector_nl_xml import NlXmlConnector

from gateway.testing.conformance import ConnectorConformance


class TestNlXml(ConnectorConformance):
    connector_cls = NlXmlConnector
    config: ClassVar[Mapping[str, Any]] = {"member_state": "NL"}
    golden_dir = Path(__file__).parent / "golden"
