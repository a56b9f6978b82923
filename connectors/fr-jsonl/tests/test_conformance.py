"""The gateway's connector conformance kit, run on the French JSON Lines connector, golden tier included.

After a deliberate change of the translation: `gateway connectors golden fr-jsonl tests/golden/EXAMPLE --write`, then
review the diff of the expected file.
"""

from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from gw_connector_fr_jsonl import FrJsonlConnector

from gateway.testing.conformance import ConnectorConformance


class TestFrJsonl(ConnectorConformance):
    connector_cls = FrJsonlConnector
    config: ClassVar[Mapping[str, Any]] = {"member_state": "FR"}
    golden_dir = Path(__file__).parent / "golden"
