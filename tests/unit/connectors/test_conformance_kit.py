"""The conformance kit: rendering tiers skip (never pass silently) without a renderer; the golden tier bites."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from types import MappingProxyType

import pytest
from gw_connector_de_csv import DeCsvConnector

from gateway.testing.conformance import (
    ConnectorConformance,
    assert_golden,
    expected_path,
    golden_diff,
    golden_examples,
    write_golden,
)
from tests.unit.pipeline.toy import ToyConnector

DE_GOLDEN = Path(__file__).parents[3] / "connectors" / "de-csv" / "tests" / "golden"


class _PlainKit(ConnectorConformance):
    connector_cls = ToyConnector
    config = MappingProxyType({"member_state": "NL"})


@pytest.mark.parametrize(
    "tier",
    ["test_valid_samples_map_to_their_facts_and_encode", "test_every_defect_kind_is_a_record_error"],
)
def test_rendering_tiers_are_skipped_with_a_reason_for_a_connector_without_a_renderer(tier: str) -> None:
    with pytest.raises(pytest.skip.Exception, match="does not render samples"):
        getattr(_PlainKit(), tier)()


def test_the_contract_tier_does_not_demand_defect_kinds_of_a_connector_without_a_renderer() -> None:
    class NoKinds(ToyConnector):
        defect_kinds = MappingProxyType({})

    class Kit(_PlainKit):
        connector_cls = NoKinds

    Kit().test_declares_contract()


def test_the_golden_tier_is_skipped_without_a_golden_dir() -> None:
    with pytest.raises(pytest.skip.Exception, match="no golden_dir"):
        _PlainKit().test_golden_files()


def test_the_golden_tier_fails_a_folder_without_expected_files(tmp_path: Path) -> None:
    class Kit(_PlainKit):
        golden_dir = tmp_path

    with pytest.raises(AssertionError, match="has no"):
        Kit().test_golden_files()


def test_a_connector_reading_local_times_in_the_wrong_zone_fails_the_golden_tier() -> None:
    right = DeCsvConnector(DeCsvConnector.config_model.model_validate({"member_state": "DE"}))
    assert_golden(right, DE_GOLDEN)
    wrong = DeCsvConnector(DeCsvConnector.config_model.model_validate({"member_state": "DE", "timezone": "UTC"}))
    with pytest.raises(AssertionError) as caught:
        assert_golden(wrong, DE_GOLDEN)
    assert '-          "occurred_at": "2025-03-12T10:45:00Z"' in str(caught.value)
    assert '+          "occurred_at": "2025-03-12T11:45:00Z"' in str(caught.value)


def test_write_golden_writes_a_stable_readable_file_that_then_checks_clean(tmp_path: Path) -> None:
    (example,) = golden_examples(DE_GOLDEN)
    copy = shutil.copy(example, tmp_path / example.name)
    connector = DeCsvConnector(DeCsvConnector.config_model.model_validate({"member_state": "DE"}))
    assert golden_diff(connector, Path(copy)).startswith("---")  # no expected file yet: all difference
    path = write_golden(connector, Path(copy))
    assert path == expected_path(Path(copy))
    assert golden_diff(connector, Path(copy)) == ""
    assert path.read_text(encoding="utf-8") == expected_path(example).read_text(encoding="utf-8")
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["records_in"] == document["events_out"] + document["dead_letters"] == 5
    event = document["records"][1]["events"][0]
    assert {"recorded_at", "correlation_id"}.isdisjoint(event)
    assert event["source"] == {"connector": "de-csv"}
