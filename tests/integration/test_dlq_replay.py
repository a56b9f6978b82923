"""Dead letters replayed after a fix become events, each traceable to its dead letter."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from gateway.codec.codec import EventCodec
from gateway.config import GatewaySettings, TopicNames
from gateway.connectors.base import ConnectorConfig
from gateway.devservices.provision import provision
from gateway.dlq import headers as H
from gateway.dlq import tools
from gateway.events.models import EventType, MemberState
from gateway.pipeline.file_ingest import FileIngestor
from gateway.pipeline.service import ServiceOptions, run_service
from tests.integration.support.topics import fresh_topics, read_all
from tests.unit.pipeline.toy import FixedToyConnector, ToyConnector

pytestmark = pytest.mark.integration


def _service_options(topics: TopicNames) -> ServiceOptions:
    # A group of the run's own: static members of the default group ("gateway-toy") left behind by other tests stay
    # members for a session, and a new member's join would wait for them to time out (up to 45 s).
    run = topics.canonical.removesuffix(".events")
    return ServiceOptions(instance=run, group_id=f"g-{run}", idle_exit_s=4.0)


def test_replay_after_a_fix_is_traceable(kafka_bootstrap: str, tmp_path: Path):
    topics = fresh_topics("rp", partitions=2)
    settings = GatewaySettings(kafka={"bootstrap_servers": kafka_bootstrap}, topics=topics, rules_enabled=False)
    provision(settings, ["toy"])
    export = tmp_path / "export.txt"
    export.write_text("ENTRY_RECORDED\nENTRY\n!broken\nENTRY\nASSISTANCE_APPLIED\n")
    config = ConnectorConfig(member_state=MemberState.NL)

    first = FileIngestor(ToyConnector(config), settings).ingest(export)
    assert (first.events, first.dead_letters) == (2, 3)
    dlq = topics.dlq("toy")

    # The fix knows "ENTRY"; replay only the mapping failures, not the malformed line.
    picked = tools.replay(settings.kafka, dlq, topics.raw("toy"), tools.select(stage="map"))
    assert [rec.value for rec in picked] == [b"ENTRY", b"ENTRY"]
    assert all(rec.headers[H.STAGE] == "MAP" for rec in picked)

    stop = threading.Event()
    stats = run_service(
        FixedToyConnector(config),
        settings,
        _service_options(topics),
        stop,
    )
    assert stats.records_in == 2

    codec = EventCodec()
    events = [codec.decode(m.value()) for m in read_all(kafka_bootstrap, topics.canonical)]
    replayed = [e for e in events if e.correlation_id.startswith("replay:")]
    assert {e.correlation_id for e in replayed} == {f"replay:{rec.ref}" for rec in picked}
    assert all(e.event_type == EventType.ENTRY_RECORDED for e in replayed)
    assert len(events) == 4
    # The dead letters stay where they were: the DLQ is a log, replay adds, never deletes.
    assert len(read_all(kafka_bootstrap, dlq)) == 3


def test_a_replay_that_fails_again_names_one_source_and_its_replay_chain(kafka_bootstrap: str, tmp_path: Path):
    topics = fresh_topics("rp2", partitions=1)
    settings = GatewaySettings(kafka={"bootstrap_servers": kafka_bootstrap}, topics=topics, rules_enabled=False)
    provision(settings, ["toy"])
    export = tmp_path / "export.txt"
    export.write_text("ENTRY_RECORDED\nENTRY\n")
    config = ConnectorConfig(member_state=MemberState.NL)
    FileIngestor(ToyConnector(config), settings).ingest(export)
    dlq = topics.dlq("toy")

    # Replayed without a fix: the record fails again in service mode.
    [picked] = tools.replay(settings.kafka, dlq, topics.raw("toy"), tools.select(stage="map"))
    options = _service_options(topics)
    assert run_service(ToyConnector(config), settings, options, threading.Event()).records_in == 1

    first, again = tools.read_dead_letters(settings.kafka, dlq)
    assert first.headers[H.SOURCE_FILE] == str(export)
    names = [k for k, _ in again.raw_headers]
    assert H.SOURCE_FILE not in names  # one source: the raw topic it came from now
    assert names.count(H.SOURCE_POSITION) == names.count(H.TOPIC) == 1
    assert again.headers[H.TOPIC] == topics.raw("toy")
    assert [v for k, v in again.raw_headers if k == H.REPLAYED_FROM] == [picked.ref.encode()]
    summary = H.summary(again.headers)
    assert str(export) not in summary
    assert f"@ {topics.raw('toy')} {topics.raw('toy')}/0/" in summary
