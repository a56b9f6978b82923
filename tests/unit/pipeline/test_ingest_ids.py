"""Transactional ids of file ingest: one per deployment and file, stable across restarts."""

from __future__ import annotations

from pathlib import Path

from gateway.config import GatewaySettings, TopicNames
from gateway.connectors.base import ConnectorConfig
from gateway.events.models import MemberState
from gateway.pipeline.file_ingest import FileIngestor
from gateway.pipeline.progress import file_identity
from tests.unit.pipeline.toy import ToyConnector


def _txn_id(progress: str, path: Path) -> str:
    settings = GatewaySettings(topics=TopicNames(progress=progress), rules_enabled=False)
    ingestor = FileIngestor(ToyConnector(ConnectorConfig(member_state=MemberState.NL)), settings)
    return ingestor._transaction_settings(file_identity("toy", path)).transactional_id


def test_two_deployments_ingesting_the_same_file_do_not_fence_each_other(tmp_path: Path):
    export = tmp_path / "export.txt"
    export.write_text("ENTRY_RECORDED\n")
    assert _txn_id("site-a.progress", export) != _txn_id("site-b.progress", export)


def test_a_restart_of_the_same_deployment_on_the_same_file_takes_the_same_id(tmp_path: Path):
    export = tmp_path / "export.txt"
    export.write_text("ENTRY_RECORDED\n")
    first = _txn_id("site-a.progress", export)
    assert first == _txn_id("site-a.progress", export)
    assert first.startswith("gateway-ingest-toy-")
    other = tmp_path / "other.txt"
    other.write_text("ENTRY_RECORDED\n")
    assert _txn_id("site-a.progress", other) != first
