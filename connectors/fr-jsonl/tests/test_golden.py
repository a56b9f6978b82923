"""The conformance kit's golden tier: the example exports in golden/ translate to their reviewed events.

After a deliberate change of the translation: `gateway connectors golden fr-jsonl tests/golden/EXAMPLE --write`, then
review the diff of the expected file.
"""

from pathlib import Path

from gw_connector_fr_jsonl import FrJsonlConfig, FrJsonlConnector

from gateway.testing.conformance import assert_golden


def test_examples_translate_to_their_expected_events() -> None:
    config = FrJsonlConfig.model_validate({"member_state": "FR"})
    assert_golden(FrJsonlConnector(config), Path(__file__).parent / "golden")
