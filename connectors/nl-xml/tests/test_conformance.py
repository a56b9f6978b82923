"""The gateway's connector conformance kit, run against the Dutch XML connector."""

from collections.abc import Mapping
from typing import Any, ClassVar

from gw_connector_nl_xml import NlXmlConnector

from gateway.testing.conformance import ConnectorConformance


class TestNlXml(ConnectorConformance):
    connector_cls = NlXmlConnector
    config: ClassVar[Mapping[str, Any]] = {"member_state": "NL"}
