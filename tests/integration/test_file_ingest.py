"""Exactly-once file ingest into the real broker: counts add up, dead letters keep their bytes, re-runs add nothing."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path

import pytest

from gateway.codec.codec import EventCodec
from gateway.config import GatewaySettings
from gateway.connectors.base import ConnectorConfig
from gateway.devservices.provision import provision
from gateway.dlq import headers as H
from gateway.events.models import EventType, MemberState
from gateway.pipeline.file_ingest import FileIngestor, IngestStoppedError
from gateway.pipeline.report import DryRunReport
from gateway.pipeline.wiring import build_processor
from tests.integration.support.topics import fresh_topics, read_all
from tests.unit.pipeline.toy import ToyConnector

pytestmark = pytest.mark.integration

TYPES = [str(t) for t in EventType if t != EventType.UNKNOWN]


@pytest.fixture
def settings(kafka_bootstrap: str) -> GatewaySettings:
    topics = fresh_topics("it", partitions=2)
    # The toy's events are unrelated facts; rules are tested elsewhere, transport and counting here.
    s = GatewaySettings(kafka={"bootstrap_servers": kafka_bootstrap}, topics=topics, batch_size=7, rules_enabled=False)
    provision(s, ["toy"])
    return s


def _export(tmp_path: Path, n: int, bad_every: int) -> tuple[Path, int]:
    lines, bad = [], 0
    for i in range(n):
        if i % bad_every == 3:
            lines.append(f"!broken {i}")
            bad += 1
        else:
            lines.append(TYPES[i % len(TYPES)])
    path = tmp_path / f"export-{uuid.uuid4().hex[:6]}.txt"
    path.write_text("\n".join(lines) + "\n")
    return path, bad


def test_records_in_equal_events_out_plus_dead_letters(settings: GatewaySettings, tmp_path: Path, kafka_bootstrap: str):
    path, bad = _export(tmp_path, 100, 10)
    connector = ToyConnector(ConnectorConfig(member_state=MemberState.NL))
    summary = FileIngestor(connector, settings).ingest(path)
    assert (summary.records, summary.events, summary.dead_letters) == (100, 100 - bad, bad)

    events = read_all(kafka_bootstrap, settings.topics.canonical)
    dlq = read_all(kafka_bootstrap, settings.topics.dlq("toy"))
    assert len(events) == 100 - bad
    assert len(dlq) == bad
    codec = EventCodec()
    decoded = [codec.decode(m.value()) for m in events]
    assert {str(e.event_type) for e in decoded} == set(TYPES)
    assert all(m.key() == e.subject_key.encode() for m, e in zip(events, decoded, strict=True))
    assert sorted(m.value() for m in dlq) == sorted(f"!broken {i}".encode() for i in range(100) if i % 10 == 3)
    text = H.as_text(dlq[0].headers())
    assert text[H.STAGE] == "PARSE"
    assert text[H.CONNECTOR] == "toy"
    assert text[H.EXC_CLASS] == "gateway.errors.ParseError"
    assert text[H.SOURCE_FILE] == str(path)
    assert text[H.SOURCE_POSITION].startswith("line ")


def test_a_second_ingest_of_the_same_file_adds_nothing(settings: GatewaySettings, tmp_path: Path, kafka_bootstrap: str):
    path, _ = _export(tmp_path, 30, 10)
    connector = ToyConnector(ConnectorConfig(member_state=MemberState.NL))
    first = FileIngestor(connector, settings).ingest(path)
    second = FileIngestor(connector, settings).ingest(path)
    assert second.already_complete
    assert (second.records, second.events, second.dead_letters) == (first.records, first.events, first.dead_letters)
    assert len(read_all(kafka_bootstrap, settings.topics.canonical)) == first.events
    assert len(read_all(kafka_bootstrap, settings.topics.dlq("toy"))) == first.dead_letters


def test_tolerance_none_stops_before_the_bad_record_and_resumes_after_a_fix(
    settings: GatewaySettings, tmp_path: Path, kafka_bootstrap: str
):
    path, _ = _export(tmp_path, 20, 100)  # one bad record, at index 3
    strict = ToyConnector(ConnectorConfig(member_state=MemberState.NL, errors_tolerance="none"))
    with pytest.raises(IngestStoppedError, match="line 4"):
        FileIngestor(strict, settings).ingest(path)
    assert len(read_all(kafka_bootstrap, settings.topics.canonical)) == 3
    assert read_all(kafka_bootstrap, settings.topics.dlq("toy")) == []


def test_a_dead_letter_larger_than_the_topic_takes_is_cut_to_fit(
    settings: GatewaySettings, tmp_path: Path, kafka_bootstrap: str
):
    # A record under the connector's (raised) limit that fails to parse: 3 MiB, three times what the DLQ takes.
    big = b"!" + b"".join(b"%08x" % i for i in range(400_000))
    path = tmp_path / "big.txt"
    path.write_bytes(b"ENTRY_RECORDED\n" + big + b"\nENTRY_RECORDED\n")
    connector = ToyConnector(ConnectorConfig(member_state=MemberState.NL, max_record_bytes=8 << 20))
    summary = FileIngestor(connector, settings).ingest(path)
    assert (summary.records, summary.events, summary.dead_letters) == (3, 2, 1)
    # `gateway validate` runs the same processor over the same reader: it must say the same.
    processor = build_processor(connector, settings, correlation_id="validate")
    with path.open("rb") as stream:
        report = DryRunReport(str(path), "toy").add_all(processor.process_stream(connector.read(stream, str(path))))
    assert (report.records, report.events, report.dead_letters) == (3, 2, 1)

    [dead] = read_all(kafka_bootstrap, settings.topics.dlq("toy"))
    text = H.as_text(dead.headers())
    value = dead.value()
    assert big.startswith(value)
    assert 500_000 < len(value) < 1_000_000
    assert text[H.ORIGINAL_LENGTH] == str(len(big))
    assert text[H.ORIGINAL_SHA256] == hashlib.sha256(big).hexdigest()


def test_a_resumed_ingest_reports_totals_and_this_runs_counts_apart(
    settings: GatewaySettings, tmp_path: Path, kafka_bootstrap: str
):
    path, bad = _export(tmp_path, 60, 10)
    connector = ToyConnector(ConnectorConfig(member_state=MemberState.NL))

    class CrashError(Exception):
        pass

    def crash_at_40(n: int) -> None:
        if n == 40:
            raise CrashError

    with pytest.raises(CrashError):
        FileIngestor(connector, settings, on_record=crash_at_40).ingest(path)
    summary = FileIngestor(connector, settings).ingest(path)

    run = summary.run
    assert 0 < summary.resumed_at < 40  # batches of 7: some committed before the crash, the open one not
    assert (summary.records, summary.events, summary.dead_letters) == (60, 60 - bad, bad)
    assert run.records == 60 - summary.resumed_at
    assert run.records == run.events + run.dead_letters  # the toy makes one event per good record
    assert sum(run.event_types.values()) == run.events
    assert sum(run.dead_letter_stages.values()) == run.dead_letters
    assert summary.to_dict()["run"]["records"] == run.records
