"""Crash safety on a real broker: kill -9 of the gateway, and a broker stopped mid-ingest, lose and duplicate nothing.

With the rules on, the kill -9 tests also compare verdicts: every canonical event's warnings and the set of
dead-lettered records must be those of one uninterrupted in-process run over the same records in the same order.
The cross-event rules read each case's history, which the state runtime keeps through the kills (its changelog is
committed with the events), so a restarted process judges a case as if it had never stopped. The broker outage test
is about delivery only and runs with the rules off.
"""

from __future__ import annotations

import os
import random
import signal
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, ConsumerGroupTopicPartitions, Producer, TopicPartition
from confluent_kafka.admin import AdminClient

from gateway.codec.codec import EventCodec
from gateway.config import GatewaySettings
from gateway.connectors import discovery
from gateway.devservices.local_kafka import LocalKafka
from gateway.devservices.provision import provision
from gateway.pipeline.progress import Progress, file_identity
from gateway.pipeline.wiring import build_processor
from gateway.samples.generate import generate_file, sample_records
from tests.integration.support.processes import SpawnGateway
from tests.integration.support.topics import read_all
from tests.integration.support.verdicts import (
    Verdicts,
    assert_probe_judged_with_history,
    assert_same_verdicts,
    observed,
    probe_records,
    reference,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CONNECTOR = "de-csv"


def _config(tmp_path: Path, bootstrap: str, *, rules: bool = False) -> tuple[Path, GatewaySettings, str]:
    run = uuid.uuid4().hex[:8]
    text = f"""
rules_enabled = {str(rules).lower()}
batch_size = 200
state_dir = "{tmp_path / "state"}"
[kafka]
bootstrap_servers = "{bootstrap}"
[topics]
canonical = "crash-{run}.events"
dlq_prefix = "crash-{run}.dlq."
raw_prefix = "crash-{run}.raw."
progress = "crash-{run}.progress"
partitions = 3
[connectors.{CONNECTOR}]
member_state = "DE"
"""
    path = tmp_path / "gateway.toml"
    path.write_text(text)
    return path, GatewaySettings.load(path), run


def _connector(settings: GatewaySettings) -> Any:
    cls = discovery.load(CONNECTOR)
    return cls(cls.config_model.model_validate(settings.connectors[CONNECTOR]))


def _samples(settings: GatewaySettings, count: int, seed: int) -> tuple[list[bytes], int, set[bytes]]:
    """``count`` sample rows; the events the valid ones become; the defective rows."""
    rows, events, defective = [], 0, set()
    for _, record in sample_records(_connector(settings), count=count, seed=seed, defect_share=0.05):
        rows.append(record.data)
        events += len(record.facts)
        if record.defect:
            defective.add(record.data)
    return rows, events, defective


def _produce(settings: GatewaySettings, rows: list[bytes], key: bytes) -> None:
    """Rows to the raw topic, one a message, all with one key: one partition, so one order."""
    producer = Producer(settings.kafka.to_librdkafka())
    for row in rows:
        producer.produce(settings.topics.raw(CONNECTOR), row, key=key)
        producer.poll(0)
    assert producer.flush(30) == 0


def _feed_raw_topic(settings: GatewaySettings, count: int, seed: int) -> tuple[list[bytes], int, set[bytes]]:
    """Produce ``count`` rows to the raw topic; return them in order, the expected events and the defective rows."""
    rows, events, defective = _samples(settings, count, seed)
    _produce(settings, rows, str(seed).encode())
    return rows, events, defective


def _assert_exactly_once(bootstrap: str, settings: GatewaySettings, events: int, defective: set[bytes]) -> None:
    out = read_all(bootstrap, settings.topics.canonical, timeout=60)
    codec = EventCodec()  # one per test: building one parses every released schema (~12 ms)
    ids = [codec.decode(m.value()).event_id for m in out]
    assert len(ids) == len(set(ids)), f"{len(ids) - len(set(ids))} duplicated events"
    assert len(ids) == events, f"{events - len(ids)} events missing"
    dlq = read_all(bootstrap, settings.topics.dlq(CONNECTOR), timeout=60)
    values = [m.value() for m in dlq]
    assert len(values) == len(set(values)) == len(defective)
    assert set(values) == defective


def _uninterrupted(settings: GatewaySettings, rows: list[bytes], codec: EventCodec) -> Verdicts:
    """What one process that never stopped makes of the raw rows, in their order."""
    connector = _connector(settings)
    records = [connector.from_message(row, "raw", str(i), i) for i, row in enumerate(rows)]
    return reference(build_processor(connector, settings, correlation_id="reference").process_batch(records), codec)


def _kill(proc: Any) -> None:
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(10)


def _wait_for(condition: Callable[[], bool], proc: Any, log: Path, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert proc.poll() is None, f"exited before {what}: {log.read_text()[-3000:]}"
        assert time.monotonic() < deadline, f"never {what}"
        time.sleep(0.2)


def _await_progress(bootstrap: str, topic: str, file_id: bytes, proc: Any, log: Path, records: int = 1) -> None:
    """Return as soon as the committed progress of the file reaches ``records`` (a consumer follows the topic)."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"progress-{uuid.uuid4().hex[:8]}",
            "enable.auto.commit": False,
            "isolation.level": "read_committed",
        }
    )
    consumer.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
    deadline = time.monotonic() + 60
    try:
        while True:
            message = consumer.poll(0.05)
            if message is not None and message.error() is None and message.key() == file_id:
                progress = Progress.decode(message.value() or b"{}")
                if progress.records >= records or progress.complete:
                    return
            assert proc.poll() is None, f"exited before committing {records} records: {log.read_text()[-3000:]}"
            assert time.monotonic() < deadline, f"{records} records of the file never committed"
    finally:
        consumer.close()


def _committed(admin: AdminClient, group: str, topic: str) -> int:
    """Input records the group has committed, over the raw topic's partitions."""
    wanted = [ConsumerGroupTopicPartitions(group, [TopicPartition(topic, p) for p in range(3)])]
    offsets = admin.list_consumer_group_offsets(wanted)[group].result(timeout=10).topic_partitions
    return sum(max(tp.offset, 0) for tp in offsets)


def test_kill_9_of_gateway_run_at_random_points(kafka_bootstrap: str, tmp_path: Path, start: SpawnGateway):
    config, settings, run = _config(tmp_path, kafka_bootstrap, rules=True)
    provision(settings, [CONNECTOR])
    rows, _, _ = _feed_raw_topic(settings, 6000, seed=11)
    # A group (and so a case store) of this test's own: the default one would carry other runs' cases.
    group = f"crash-{run}"
    args = ["run", "-c", CONNECTOR, "--config", str(config), "--instance", "crash-test", "--group", group]
    admin = AdminClient({"bootstrap.servers": kafka_bootstrap})
    rng = random.Random(7)
    log = tmp_path / "run.log"
    # Each process is killed once the group has committed past a random point, a moment later: mid-batch, with
    # case states written but not committed, or (when an earlier one got further) during its start and restore.
    for point in sorted(rng.sample(range(200, 4800), 4)):
        proc = start(args, log)
        _wait_for(lambda p=point: _committed(admin, group, settings.topics.raw(CONNECTOR)) >= p, proc, log, "there")
        time.sleep(rng.uniform(0.0, 0.3))
        _kill(proc)
    assert _committed(admin, group, settings.topics.raw(CONNECTOR)) < len(rows), "nothing left after the kills"
    final = start([*args, "--idle-exit", "6"], log)
    assert final.wait(240) == 0, log.read_text()[-3000:]
    codec = EventCodec()  # one per test: building one parses every released schema (~12 ms)
    assert_same_verdicts(observed(kafka_bootstrap, settings, CONNECTOR, codec), _uninterrupted(settings, rows, codec))


def test_a_case_keeps_its_history_through_kill_9_of_gateway_run(
    kafka_bootstrap: str, tmp_path: Path, start: SpawnGateway
):
    config, settings, run = _config(tmp_path, kafka_bootstrap, rules=True)
    provision(settings, [CONNECTOR])
    probe = probe_records(_connector(settings))
    filler, _, _ = _samples(settings, 3000, seed=12)
    first = [probe.decision, *filler]
    _produce(settings, first, b"one-partition")
    group = f"crash-{run}"
    args = ["run", "-c", CONNECTOR, "--config", str(config), "--instance", "history", "--group", group]
    log = tmp_path / "run.log"
    proc = start(args, log)

    # Killed as soon as a batch, the decision's, has committed: the rest of the first records are mid-flight.
    admin = AdminClient({"bootstrap.servers": kafka_bootstrap})
    raw = settings.topics.raw(CONNECTOR)
    _wait_for(lambda: _committed(admin, group, raw) > 0, proc, log, "committed a batch")
    _kill(proc)
    assert _committed(admin, group, raw) < len(first), "the first process finished before it was killed"

    # Only now does the case go on: its later records reach a process that never saw its decision.
    later = [*probe.later, *_samples(settings, 200, seed=13)[0]]
    _produce(settings, later, b"one-partition")
    final = start([*args, "--idle-exit", "6"], log)
    assert final.wait(120) == 0, log.read_text()[-3000:]

    codec = EventCodec()
    want = _uninterrupted(settings, first + later, codec)
    assert_same_verdicts(observed(kafka_bootstrap, settings, CONNECTOR, codec), want)
    assert_probe_judged_with_history(kafka_bootstrap, settings, CONNECTOR, probe, codec)
    # Judged without the decision, the departure would have passed: that is what the case store preserved.
    assert probe.later[1] not in _uninterrupted(settings, later, codec).dead


def test_kill_9_of_gateway_ingest_then_rerun(kafka_bootstrap: str, tmp_path: Path, start: SpawnGateway):
    config, settings, _ = _config(tmp_path, kafka_bootstrap, rules=True)
    provision(settings, [CONNECTOR])
    connector = _connector(settings)
    export = tmp_path / "export.csv"
    generate_file(connector, export, count=8000, seed=3, defect_share=0.05)
    file_id = file_identity(CONNECTOR, export).encode()
    log = tmp_path / "ingest.log"
    rng = random.Random(3)
    # Each ingest is killed once the file's progress passed a random point, a moment later (see the run test).
    for point in sorted(rng.sample(range(200, 6500), 3)):
        proc = start(["ingest", "-c", CONNECTOR, "--config", str(config), str(export)], log)
        _await_progress(kafka_bootstrap, settings.topics.progress, file_id, proc, log, records=point)
        time.sleep(rng.uniform(0.0, 0.3))
        _kill(proc)
    final = start(["ingest", "-c", CONNECTOR, "--config", str(config), str(export)], log)
    assert final.wait(240) == 0, log.read_text()[-3000:]
    assert "resumed at record" in log.read_text(), log.read_text()[-3000:]
    codec = EventCodec()
    with export.open("rb") as stream:
        alone = build_processor(connector, settings, correlation_id="reference").process_stream(
            connector.read(stream, str(export))
        )
        want = reference(alone, codec)
    assert_same_verdicts(observed(kafka_bootstrap, settings, CONNECTOR, codec), want)


def test_a_case_keeps_its_history_through_kill_9_of_gateway_ingest(
    kafka_bootstrap: str, tmp_path: Path, start: SpawnGateway
):
    config, settings, _ = _config(tmp_path, kafka_bootstrap, rules=True)
    provision(settings, [CONNECTOR])
    connector = _connector(settings)
    probe = probe_records(connector)
    # The decision comes in one file, ingested whole; the case goes on at the end of a second file, whose ingest is
    # killed half-way and run again.
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    with first.open("wb") as out:
        connector.write_export(out, [probe.decision, *_samples(settings, 500, seed=31)[0]])
    with second.open("wb") as out:
        connector.write_export(out, [*_samples(settings, 10_000, seed=32)[0], *probe.later])
    log = tmp_path / "ingest.log"
    assert start(["ingest", "-c", CONNECTOR, "--config", str(config), str(first)], log).wait(120) == 0

    proc = start(["ingest", "-c", CONNECTOR, "--config", str(config), str(second)], log)

    second_id = file_identity(CONNECTOR, second).encode()
    _await_progress(kafka_bootstrap, settings.topics.progress, second_id, proc, log)
    _kill(proc)
    assert not Progress.decode(
        [m for m in read_all(kafka_bootstrap, settings.topics.progress) if m.key() == second_id][-1].value()
    ).complete, "the first ingest of the second file finished before it was killed"
    final = start(["ingest", "-c", CONNECTOR, "--config", str(config), str(second)], log)
    assert final.wait(120) == 0, log.read_text()[-3000:]
    assert "resumed at record" in log.read_text(), log.read_text()[-3000:]

    codec = EventCodec()
    processor = build_processor(connector, settings, correlation_id="reference")  # one process, both files
    outcomes = []
    for path in (first, second):
        with path.open("rb") as stream:
            outcomes.extend(processor.process_stream(connector.read(stream, str(path))))
    assert_same_verdicts(observed(kafka_bootstrap, settings, CONNECTOR, codec), reference(outcomes, codec))
    assert_probe_judged_with_history(kafka_bootstrap, settings, CONNECTOR, probe, codec)


@pytest.fixture
def own_broker() -> Iterator[LocalKafka]:
    """A broker of this test's own, which it may stop and start without disturbing the others."""
    broker = LocalKafka(name="outage", port=int(os.environ.get("GW_TEST_OUTAGE_PORT", "39092")))
    broker.start(fresh=True)
    yield broker
    broker.stop()


def test_broker_stopped_and_restarted_mid_ingest(own_broker: LocalKafka, tmp_path: Path, start: SpawnGateway):
    config, settings, _ = _config(tmp_path, own_broker.bootstrap)
    provision(settings, [CONNECTOR])
    _, events, defective = _feed_raw_topic(settings, 6000, seed=5)
    log = tmp_path / "run.log"
    proc = start(["run", "-c", CONNECTOR, "--config", str(config), "--instance", "outage", "--idle-exit", "15"], log)
    time.sleep(4.0)
    own_broker.stop()
    time.sleep(5.0)
    own_broker.start()
    assert proc.wait(300) == 0, log.read_text()[-3000:]
    _assert_exactly_once(own_broker.bootstrap, settings, events, defective)
