"""Crash safety on a real broker: kill -9 of the gateway, and a broker stopped mid-ingest, lose and duplicate nothing.

Rules are switched off here: this is about delivery guarantees, and the rule engine's case state lives in process
memory (a restarted process does not know the cases seen before the crash).
"""

from __future__ import annotations

import os
import random
import signal
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka import Producer

from gateway.codec.codec import EventCodec
from gateway.config import GatewaySettings
from gateway.connectors import discovery
from gateway.ops.local_kafka import LocalKafka
from gateway.ops.provision import provision
from gateway.samples.generate import generate_file, sample_records
from tests.integration.support.processes import SpawnGateway
from tests.integration.support.topics import read_all

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CONNECTOR = "de-csv"


def _config(tmp_path: Path, bootstrap: str) -> tuple[Path, GatewaySettings]:
    run = uuid.uuid4().hex[:8]
    text = f"""
rules_enabled = false
batch_size = 200
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
    return path, GatewaySettings.load(path)


def _connector(settings: GatewaySettings):
    cls = discovery.load(CONNECTOR)
    return cls(cls.config_model.model_validate(settings.connectors[CONNECTOR]))


def _feed_raw_topic(settings: GatewaySettings, count: int, seed: int) -> tuple[int, set[bytes]]:
    """Produce ``count`` rows, one a message, to the raw topic; return expected events and the defective rows."""
    connector = _connector(settings)
    producer = Producer(settings.kafka.to_librdkafka())
    events, defective = 0, set()
    for _, record in sample_records(connector, count=count, seed=seed, defect_share=0.05):
        producer.produce(settings.topics.raw(CONNECTOR), record.data, key=str(seed).encode())
        producer.poll(0)
        events += len(record.facts)
        if record.defect:
            defective.add(record.data)
    assert producer.flush(30) == 0
    return events, defective


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


def test_kill_9_of_gateway_run_at_random_points(kafka_bootstrap: str, tmp_path: Path, start: SpawnGateway):
    config, settings = _config(tmp_path, kafka_bootstrap)
    provision(settings, [CONNECTOR])
    events, defective = _feed_raw_topic(settings, 6000, seed=11)
    args = ["run", "-c", CONNECTOR, "--config", str(config), "--instance", "crash-test", "--idle-exit", "6"]
    rng = random.Random(7)
    log = tmp_path / "run.log"
    for _ in range(4):
        proc = start(args, log)
        time.sleep(rng.uniform(2.5, 6.0))
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
    final = start(args, log)
    assert final.wait(240) == 0, log.read_text()[-3000:]
    _assert_exactly_once(kafka_bootstrap, settings, events, defective)


def test_kill_9_of_gateway_ingest_then_rerun(kafka_bootstrap: str, tmp_path: Path, start: SpawnGateway):
    config, settings = _config(tmp_path, kafka_bootstrap)
    provision(settings, [CONNECTOR])
    export = tmp_path / "export.csv"
    manifest = generate_file(_connector(settings), export, count=8000, seed=3, defect_share=0.05)
    rows = export.read_bytes().splitlines()[1:]
    defective = {rows[i] for i in manifest.defects}
    log = tmp_path / "ingest.log"
    rng = random.Random(3)
    for _ in range(3):
        proc = start(["ingest", "-c", CONNECTOR, "--config", str(config), str(export)], log)
        time.sleep(rng.uniform(2.5, 5.0))
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
    final = start(["ingest", "-c", CONNECTOR, "--config", str(config), str(export)], log)
    assert final.wait(240) == 0, log.read_text()[-3000:]
    _assert_exactly_once(kafka_bootstrap, settings, manifest.events, defective)


@pytest.fixture
def own_broker() -> Iterator[LocalKafka]:
    """A broker of this test's own, which it may stop and start without disturbing the others."""
    broker = LocalKafka(name="outage", port=int(os.environ.get("GW_TEST_OUTAGE_PORT", "39092")))
    broker.start(fresh=True)
    yield broker
    broker.stop()


def test_broker_stopped_and_restarted_mid_ingest(own_broker: LocalKafka, tmp_path: Path, start: SpawnGateway):
    config, settings = _config(tmp_path, own_broker.bootstrap)
    provision(settings, [CONNECTOR])
    events, defective = _feed_raw_topic(settings, 6000, seed=5)
    log = tmp_path / "run.log"
    proc = start(["run", "-c", CONNECTOR, "--config", str(config), "--instance", "outage", "--idle-exit", "15"], log)
    time.sleep(4.0)
    own_broker.stop()
    time.sleep(5.0)
    own_broker.start()
    assert proc.wait(300) == 0, log.read_text()[-3000:]
    _assert_exactly_once(own_broker.bootstrap, settings, events, defective)
