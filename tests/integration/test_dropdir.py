"""The drop directory: stable files are ingested once and moved to processed/ or failed/; partial files wait."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from gateway.config import GatewaySettings
from gateway.connectors.base import ConnectorConfig
from gateway.devservices.provision import provision
from gateway.events.models import MemberState
from gateway.observability import Observation, PrometheusMetrics
from gateway.pipeline.dropdir import process_once
from gateway.pipeline.file_ingest import FileIngestor
from tests.integration.support.topics import fresh_topics, read_all
from tests.unit.pipeline.toy import ToyConnector

pytestmark = pytest.mark.integration


@pytest.fixture
def settings(kafka_bootstrap: str) -> GatewaySettings:
    topics = fresh_topics("dd")
    s = GatewaySettings(kafka={"bootstrap_servers": kafka_bootstrap}, topics=topics, rules_enabled=False)
    provision(s, ["toy"])
    return s


def test_files_are_ingested_once_and_moved(settings: GatewaySettings, tmp_path: Path, kafka_bootstrap: str):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "a.txt").write_text("ENTRY_RECORDED\n!broken\nASSISTANCE_APPLIED\n")
    (inbox / "b.txt.part").write_text("ENTRY_RECORDED\n")  # still being written: left alone
    (inbox / ".hidden").write_text("ENTRY_RECORDED\n")
    registry = CollectorRegistry()
    observation = Observation(metrics=PrometheusMetrics(registry, "watch"))
    ingestor = FileIngestor(
        ToyConnector(ConnectorConfig(member_state=MemberState.NL)), settings, observation=observation
    )

    sizes: dict[Path, int] = {}
    assert process_once(inbox, ingestor, sizes) == []  # first sight: the size must hold for one poll
    (done,) = process_once(inbox, ingestor, sizes)
    assert (done.records, done.events, done.dead_letters) == (3, 2, 1)
    assert (inbox / "processed" / "a.txt").exists()
    assert json.loads((inbox / "processed" / "a.txt.result.json").read_text())["events"] == 2
    assert sorted(p.name for p in inbox.iterdir() if p.is_file()) == [".hidden", "b.txt.part"]
    assert len(read_all(kafka_bootstrap, settings.topics.canonical)) == 2
    assert registry.get_sample_value("gateway_files_total", {"connector": "toy", "outcome": "processed"}) == 1
    assert registry.get_sample_value("gateway_records_in_total", {"connector": "toy"}) == 3


def test_a_file_ingested_before_a_crash_is_only_moved(settings: GatewaySettings, tmp_path: Path, kafka_bootstrap: str):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    path = inbox / "c.txt"
    path.write_text("ENTRY_RECORDED\nENTRY_RECORDED\n")
    ingestor = FileIngestor(ToyConnector(ConnectorConfig(member_state=MemberState.NL)), settings)
    ingestor.ingest(path)  # committed, then the process "died" before moving the file
    (again,) = process_once(inbox, ingestor)
    assert again.already_complete
    assert (inbox / "processed" / "c.txt").exists()
    assert len(read_all(kafka_bootstrap, settings.topics.canonical)) == 2


def test_a_file_that_stops_goes_to_failed(settings: GatewaySettings, tmp_path: Path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "d.txt").write_text("ENTRY_RECORDED\n!broken\n")
    strict = ToyConnector(ConnectorConfig(member_state=MemberState.NL, errors_tolerance="none"))
    registry = CollectorRegistry()
    observation = Observation(metrics=PrometheusMetrics(registry, "watch"))
    assert process_once(inbox, FileIngestor(strict, settings, observation=observation)) == []
    assert (inbox / "failed" / "d.txt").exists()
    assert registry.get_sample_value("gateway_files_total", {"connector": "toy", "outcome": "failed"}) == 1
    assert "errors_tolerance is 'none'" in (inbox / "failed" / "d.txt.result.json").read_text()


def test_the_result_file_keeps_the_totals_and_this_runs_counts_apart(
    settings: GatewaySettings, tmp_path: Path, kafka_bootstrap: str
):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    path = inbox / "d.txt"
    path.write_text("ENTRY_RECORDED\n!broken\nASSISTANCE_APPLIED\n")
    ingestor = FileIngestor(ToyConnector(ConnectorConfig(member_state=MemberState.NL)), settings)
    ingestor.ingest(path)  # committed whole; the drop directory's run then only moves it
    process_once(inbox, ingestor)
    result = json.loads((inbox / "processed" / "d.txt.result.json").read_text())
    assert (result["records"], result["events"], result["dead_letters"]) == (3, 2, 1)
    # This run did nothing: its breakdowns are empty, not the totals' (nor the first run's).
    assert result["run"] == {
        "records": 0,
        "events": 0,
        "dead_letters": 0,
        "event_types": {},
        "dead_letter_stages": {},
        "rule_findings": {},
    }
    assert result["resumed_at"] == 3
