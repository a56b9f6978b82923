"""The conformance kit's golden tier: the example exports in golden/ translate to their reviewed events.

After a deliberate change of the translation: `gateway connectors golden de-csv tests/golden/EXAMPLE --write`, then
review the diff of the expected file.
"""

from pathlib import Path

from gw_connector_de_csv import DeCsvConnector

from gateway.testing.conformance import assert_golden


def test_examples_translate_to_their_expected_events() -> None:
    config = DeCsvConnector.config_model.model_validate({"member_state": "DE"})
    assert_golden(DeCsvConnector(config), Path(__file__).parent / "golden")
