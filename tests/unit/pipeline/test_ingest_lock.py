"""Two ingests of one connector would share its case store: the second is refused at once, before any Kafka call."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.config import GatewaySettings
from gateway.connectors.base import ConnectorConfig
from gateway.events.models import MemberState
from gateway.pipeline.dropdir import process_once
from gateway.pipeline.file_ingest import FileIngestor, IngestLockedError, _exclusive

from .toy import ToyConnector


@pytest.fixture
def ingestor(tmp_path: Path) -> FileIngestor:
    # No broker answers there: the lock is taken before anything talks to Kafka.
    settings = GatewaySettings(kafka={"bootstrap_servers": "127.0.0.1:1"}, state_dir=tmp_path / "state")
    return FileIngestor(ToyConnector(ConnectorConfig(member_state=MemberState.NL)), settings)


def test_the_store_is_named_after_the_progress_topic_and_connector(ingestor: FileIngestor):
    assert ingestor.application == "gateway.ingest-progress.toy"


def test_a_second_ingest_of_the_connector_is_refused(ingestor: FileIngestor, tmp_path: Path):
    export = tmp_path / "a.txt"
    export.write_text("ENTRY_RECORDED\n")
    lock = ingestor.settings.state_dir / f"{ingestor.application}.lock"
    with _exclusive(lock, "toy"), pytest.raises(IngestLockedError, match="another ingest of toy is running"):
        ingestor.ingest(export)
    with _exclusive(lock, "toy"):  # released when its holder is done
        pass


def test_the_drop_directory_leaves_files_while_another_ingest_runs(ingestor: FileIngestor, tmp_path: Path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "a.txt").write_text("ENTRY_RECORDED\n")
    with _exclusive(ingestor.settings.state_dir / f"{ingestor.application}.lock", "toy"):
        assert process_once(inbox, ingestor) == []
    assert [p.name for p in inbox.iterdir()] == ["a.txt"]  # neither processed nor failed: tried again later
