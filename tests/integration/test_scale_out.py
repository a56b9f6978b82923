"""Scale-out on a real broker: two `gateway run` processes share a connector's raw topic, exactly once.

The README tells operators to add processes (and partitions) to scale, and to key raw records by case so that each
process sees whole cases. This shows both: the work is split between the processes, every record lands exactly
once (events or dead letter), and with the rules on, every event carries the warnings one process would have given
it, the cross-event rules' included. Half-way, one process is killed (kill -9): its partitions move to the other,
which restores their case stores from the changelog into its own state folder (as on another machine) and judges
their cases on with their history, so the verdicts are still those of one uninterrupted process.
"""

from __future__ import annotations

import os
import re
import signal
import time
import uuid
from collections.abc import Iterable
from pathlib import Path

import pytest
from confluent_kafka import (
    Consumer,
    ConsumerGroupTopicPartitions,
    Producer,
    TopicPartition,
)
from confluent_kafka.admin import AdminClient

from gateway.codec.codec import EventCodec
from gateway.config import GatewaySettings
from gateway.connectors import discovery
from gateway.devservices.provision import provision
from gateway.pipeline.wiring import build_processor
from gateway.samples.generate import sample_records
from tests.integration.support.groups import assigned
from tests.integration.support.processes import SpawnGateway
from tests.integration.support.verdicts import (
    assert_probe_judged_with_history,
    assert_same_verdicts,
    observed,
    probe_records,
    reference,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CONNECTOR = "fr-jsonl"
RECORDS = 4000
PARTITIONS = 4


def _config(tmp_path: Path, bootstrap: str, run: str, name: str) -> tuple[Path, GatewaySettings]:
    """The configuration of one process: each has a state folder of its own, as on a machine of its own."""
    text = f"""
rules_enabled = true
state_dir = "{tmp_path / name / "state"}"
[kafka]
bootstrap_servers = "{bootstrap}"
[topics]
canonical = "{run}.events"
dlq_prefix = "{run}.dlq."
raw_prefix = "{run}.raw."
progress = "{run}.progress"
partitions = {PARTITIONS}
[connectors.{CONNECTOR}]
member_state = "FR"
"""
    path = tmp_path / f"{name}.toml"
    path.write_text(text)
    return path, GatewaySettings.load(path)


def _committed(admin: AdminClient, group: str, topic: str, partitions: Iterable[int] = range(PARTITIONS)) -> int:
    """Input records the group has committed on these partitions."""
    wanted = [ConsumerGroupTopicPartitions(group, [TopicPartition(topic, p) for p in partitions])]
    offsets = admin.list_consumer_group_offsets(wanted)[group].result(timeout=10).topic_partitions
    return sum(max(tp.offset, 0) for tp in offsets)


def _held_by(admin: AdminClient, group: str, member: str, topic: str) -> list[int]:
    """The partitions of ``topic`` a member (static instance id) of a stable group holds."""
    description = admin.describe_consumer_groups([group])[group].result(timeout=10)
    return sorted(
        tp.partition
        for m in description.members
        if m.group_instance_id == member and m.assignment
        for tp in m.assignment.topic_partitions
        if tp.topic == topic
    )


def _ends(bootstrap: str, topic: str, partitions: Iterable[int]) -> int:
    """Records in these partitions (their high watermarks: the raw topic is not transactional)."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"ends-{uuid.uuid4().hex[:8]}"})
    try:
        return sum(consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in partitions)
    finally:
        consumer.close()


def test_two_processes_share_the_raw_topic_exactly_once(
    kafka_bootstrap: str, tmp_path: Path, start: SpawnGateway, monkeypatch: pytest.MonkeyPatch
):
    run = f"so-{uuid.uuid4().hex[:8]}"
    instances = [f"{run}-a", f"{run}-b"]
    configs = [_config(tmp_path, kafka_bootstrap, run, name) for name in instances]
    settings = configs[0][1]
    provision(settings, [CONNECTOR])
    raw = settings.topics.raw(CONNECTOR)
    logs = [tmp_path / f"{name}.log" for name in instances]
    # A group of this test's own: other tests' processes stay members of the default group until their sessions
    # expire, and a rebalance waits for them. It also names the case stores' changelog, so no other run's cases.
    group = f"gateway-{run}"
    # A killed member's partitions move once its session expires, and its open transaction is aborted once it times
    # out; both are shortened so that the move happens within the test's time.
    monkeypatch.setenv("GATEWAY_KAFKA_CONSUMER_SESSION_TIMEOUT_MS", "10000")
    monkeypatch.setenv("GATEWAY_KAFKA_TXN_TRANSACTION_TIMEOUT_MS", "10000")
    # Small transactions, so that process a commits one and still has records to hand over when it is killed.
    monkeypatch.setenv("GATEWAY_BATCH_SIZE", "200")
    procs = [
        start(["run", "-c", CONNECTOR, "--config", str(config), "--group", group, "--instance", name], log)
        for (config, _), name, log in zip(configs, instances, logs, strict=True)
    ]

    # Feed only once both hold partitions: otherwise the first could finish everything before the second joins.
    admin = AdminClient({"bootstrap.servers": kafka_bootstrap})
    members = {f"{group}-{name}" for name in instances}
    deadline = time.monotonic() + 90
    while not assigned(admin, group, members, raw):
        assert time.monotonic() < deadline, "the two processes never both held partitions of the raw topic"
        assert all(p.poll() is None for p in procs), [log.read_text()[-2000:] for log in logs]
        time.sleep(0.5)

    cls = discovery.load(CONNECTOR)
    connector = cls(cls.config_model.model_validate(settings.connectors[CONNECTOR]))
    producer = Producer(settings.kafka.to_librdkafka())
    # A probe case in a partition of process a: its decision first, so a judges it; its later records only once a is
    # gone, so b judges them, and only with the decision restored does it find what one process finds.
    held = _held_by(admin, group, f"{group}-{instances[0]}", raw)
    assert held, "process a holds no partition"
    probe = probe_records(connector)
    producer.produce(raw, probe.decision, key=probe.case_reference.encode(), partition=held[0])
    key, sent = b"", [connector.from_message(probe.decision, raw, "probe", -1)]
    for index, record in sample_records(connector, count=RECORDS, seed=5, defect_share=0.05):
        # Keyed by case, as the README asks: a case's records stay in one partition, so in one process and order.
        # A damaged record names no case; it goes with its neighbour, which belongs to the same story.
        key = record.facts[0].case_reference.encode() if record.facts else key
        producer.produce(raw, record.data, key=key)
        producer.poll(0)
        sent.append(connector.from_message(record.data, raw, str(index), index))
    assert producer.flush(30) == 0

    # Process a is killed once it has committed a batch of the probe's partition (the decision's), most likely with
    # the next one open.
    while _committed(admin, group, raw, held[:1]) == 0:
        assert time.monotonic() < deadline + 60, "process a never committed a batch"
        assert all(p.poll() is None for p in procs), [log.read_text()[-2000:] for log in logs]
        time.sleep(0.2)
    os.killpg(procs[0].pid, signal.SIGKILL)
    procs[0].wait(10)
    assert _committed(admin, group, raw, held) < _ends(kafka_bootstrap, raw, held), "nothing left there to move"
    for data in probe.later:
        producer.produce(raw, data, key=probe.case_reference.encode(), partition=held[0])
        sent.append(connector.from_message(data, raw, "probe", -1))
    assert producer.flush(30) == 0
    total = RECORDS + 1 + len(probe.later)

    # What one process makes of the same records: the warnings of the cross-event rules depend on the case state.
    codec = EventCodec()  # one per test: building one parses every released schema (~12 ms)
    want = reference(build_processor(connector, settings, correlation_id="reference").process_batch(sent), codec)

    # Stopped once the group has committed every record, not on idling: a process that idles while its partitions
    # are still moving would leave early.
    committed = 0
    while committed < total:
        assert time.monotonic() < deadline + 180, f"{committed} of {total} records committed"
        assert procs[1].poll() is None, logs[1].read_text()[-2000:]
        committed = _committed(admin, group, raw)
        time.sleep(0.5)
    procs[1].send_signal(signal.SIGTERM)
    assert procs[1].wait(60) == 0, logs[1].read_text()[-3000:]
    log = logs[1].read_text()
    found = re.search(r"(\d+) records in, (\d+) records out", log)
    assert found, log[-2000:]
    assert 0 < int(found.group(1)) < total, f"one process did all the work or none: {found.group(0)}"
    # b took a's partitions over and restored their case stores from the changelog: it had no file of them.
    restored = [int(n) for n in re.findall(r"restored \d+ store partition\(s\): (\d+) changelog record", log)]
    assert any(n > 0 for n in restored), log[-3000:]

    assert_same_verdicts(observed(kafka_bootstrap, settings, CONNECTOR, codec), want)
    assert_probe_judged_with_history(kafka_bootstrap, settings, CONNECTOR, probe, codec)
