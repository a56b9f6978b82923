"""The gateway's connector conformance kit, run on the French JSON Lines connector."""

from collections.abc import Mapping
from typing import Any, ClassVar

from gw_connector_fr_jsonl import FrJsonlConnector

from gateway.testing.conformance import ConnectorConformance


class TestFrJsonl(ConnectorConformance):
    connector_cls = FrJsonlConnector
    config: ClassVar[Mapping[str, Any]] = {"member_state": "FR"}
