"""Each reference connector, end to end on the real broker: a generated export with valid and defective records
lands as exactly the expected events on the canonical topic and exactly the defective records in its DLQ, with
correct headers; records in = events out + dead letters. Rules run with their defaults."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from gateway.codec.codec import EventCodec
from gateway.config import GatewaySettings
from gateway.connectors import discovery
from gateway.devservices.provision import provision
from gateway.dlq import headers as H
from gateway.pipeline.file_ingest import FileIngestor
from gateway.samples.generate import generate_file, sample_records
from tests.integration.support.topics import fresh_topics, read_all

pytestmark = pytest.mark.integration

STATES = {"de-csv": "DE", "fr-jsonl": "FR", "nl-xml": "NL"}


@pytest.mark.parametrize("name", sorted(STATES))
def test_export_lands_exactly(name: str, kafka_bootstrap: str, tmp_path: Path):
    topics = fresh_topics("e2e")
    settings = GatewaySettings(kafka={"bootstrap_servers": kafka_bootstrap}, topics=topics, batch_size=300)
    provision(settings, [name])
    cls = discovery.load(name)
    connector = cls(cls.config_model.model_validate({"member_state": STATES[name]}))
    export = tmp_path / f"export.{cls.formats[0]}"
    manifest = generate_file(connector, export, count=1500, seed=42, defect_share=0.08)
    assert set(manifest.defects.values()) == set(cls.defect_kinds)

    summary = FileIngestor(connector, settings).ingest(export)
    assert summary.records == manifest.records == 1500
    assert (summary.events, summary.dead_letters) == (manifest.events, len(manifest.defects))

    expected = Counter()
    defective = {}
    for index, record in sample_records(connector, count=1500, seed=42, defect_share=0.08):
        for fact in record.facts:
            expected[(fact.case_reference, type(fact.payload).__name__, fact.occurred_at)] += 1
        if record.defect:
            defective[index] = record.data
    codec = EventCodec()
    events = [codec.decode(m.value()) for m in read_all(kafka_bootstrap, topics.canonical)]
    got = Counter((e.case_reference, type(e.payload).__name__, e.occurred_at) for e in events)
    assert got == expected
    assert len({e.event_id for e in events}) == len(events)
    assert all(e.source.connector == name and str(e.member_state) == STATES[name] for e in events)

    dead = read_all(kafka_bootstrap, topics.dlq(name))
    by_index = {int(H.as_text(m.headers())[H.SOURCE_INDEX]): m for m in dead}
    assert sorted(by_index) == sorted(defective)
    for index, message in by_index.items():
        h = H.as_text(message.headers())
        assert message.value() == defective[index], "the DLQ keeps the original bytes untouched"
        assert h[H.CONNECTOR] == name
        assert h[H.STAGE] in {"READ", "PARSE", "MAP", "VALIDATE", "ENCODE"}
        assert h[H.EXC_CLASS].startswith("gateway.errors.")
        assert h[H.EXC_MESSAGE]
        assert h[H.SOURCE_FILE] == str(export)
        assert h[H.SOURCE_POSITION]
    assert len(events) + len(dead) >= summary.records - summary.dead_letters  # every record accounted for
