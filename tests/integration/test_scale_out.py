"""Scale-out on a real broker: two `gateway run` processes share a connector's raw topic, exactly once.

The README tells operators to add processes (and partitions) to scale, and to key raw records by case so that each
process sees whole cases. This shows both: the work is split between the processes, every record lands exactly
once (events or dead letter), and with the rules on, every event carries the warnings one process would have given
it, the cross-event rules' included.
"""

from __future__ import annotations

import re
import signal
import time
import uuid
from pathlib import Path

import pytest
from confluent_kafka import (
    ConsumerGroupState,
    ConsumerGroupTopicPartitions,
    KafkaError,
    KafkaException,
    Producer,
    TopicPartition,
)
from confluent_kafka.admin import AdminClient

from gateway.codec.codec import EventCodec
from gateway.config import GatewaySettings
from gateway.connectors import discovery
from gateway.ops.provision import provision
from gateway.pipeline.wiring import build_processor
from gateway.samples.generate import sample_records
from tests.integration.support.processes import SpawnGateway
from tests.integration.support.topics import read_all

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CONNECTOR = "fr-jsonl"
RECORDS = 4000
PARTITIONS = 4


def _config(tmp_path: Path, bootstrap: str, run: str) -> tuple[Path, GatewaySettings]:
    text = f"""
rules_enabled = true
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
    path = tmp_path / "gateway.toml"
    path.write_text(text)
    return path, GatewaySettings.load(path)


# Answers of a broker still starting up, or of a group not yet created: ask again.
_NOT_YET = {
    KafkaError.COORDINATOR_LOAD_IN_PROGRESS,
    KafkaError.COORDINATOR_NOT_AVAILABLE,
    KafkaError.NOT_COORDINATOR,
    KafkaError.GROUP_ID_NOT_FOUND,
}


def _assigned(admin: AdminClient, group: str, members: set[str], topic: str) -> bool:
    """Whether the group is stable and each of ``members`` (static instance ids) holds partitions of ``topic``."""
    try:
        description = admin.describe_consumer_groups([group])[group].result(timeout=10)
    except KafkaException as exc:
        if exc.args[0].retriable() or exc.args[0].code() in _NOT_YET:
            return False
        raise
    if description.state != ConsumerGroupState.STABLE:  # while it rebalances, the assignments shown are the old ones
        return False
    holding = {
        m.group_instance_id
        for m in description.members
        if m.assignment and any(tp.topic == topic for tp in m.assignment.topic_partitions)
    }
    return members <= holding


def test_two_processes_share_the_raw_topic_exactly_once(kafka_bootstrap: str, tmp_path: Path, start: SpawnGateway):
    run = f"so-{uuid.uuid4().hex[:8]}"
    config, settings = _config(tmp_path, kafka_bootstrap, run)
    provision(settings, [CONNECTOR])
    raw = settings.topics.raw(CONNECTOR)
    instances = [f"{run}-a", f"{run}-b"]
    logs = [tmp_path / f"{name}.log" for name in instances]
    # A group of this test's own: other tests' processes stay members of the default group until their sessions
    # expire, and a rebalance waits for them.
    group = f"gateway-{run}"
    args = ["run", "-c", CONNECTOR, "--config", str(config), "--group", group]
    procs = [start([*args, "--instance", name], log) for name, log in zip(instances, logs, strict=True)]

    # Feed only once both hold partitions: otherwise the first could finish everything before the second joins.
    admin = AdminClient({"bootstrap.servers": kafka_bootstrap})
    members = {f"{group}-{name}" for name in instances}
    deadline = time.monotonic() + 90
    while not _assigned(admin, group, members, raw):
        assert time.monotonic() < deadline, "the two processes never both held partitions of the raw topic"
        assert all(p.poll() is None for p in procs), [log.read_text()[-2000:] for log in logs]
        time.sleep(0.5)

    cls = discovery.load(CONNECTOR)
    connector = cls(cls.config_model.model_validate(settings.connectors[CONNECTOR]))
    producer = Producer(settings.kafka.to_librdkafka())
    events, defective, key, sent = 0, set(), b"", []
    for index, record in sample_records(connector, count=RECORDS, seed=5, defect_share=0.05):
        # Keyed by case, as the README asks: a case's records stay in one partition, so in one process and order.
        # A damaged record names no case; it goes with its neighbour, which belongs to the same story.
        key = record.facts[0].case_reference.encode() if record.facts else key
        producer.produce(raw, record.data, key=key)
        producer.poll(0)
        events += len(record.facts)
        sent.append(connector.from_message(record.data, raw, str(index), index))
        if record.defect:
            defective.add(record.data)
    assert producer.flush(30) == 0
    # What one process makes of the same records: the warnings of the cross-event rules depend on the case state.
    codec = EventCodec()  # one per test: building one parses every released schema (~12 ms)
    alone = build_processor(connector, settings, correlation_id="reference").process_batch(sent)
    expected = {
        (d := codec.decode(e.value)).event_id: sorted(w.rule_id for w in d.validation_warnings)
        for outcome in alone
        for e in outcome.events
    }
    assert any(expected.values()), "no warnings: the comparison below would show nothing"

    # Stopped once the group has committed every record, not on idling: a process that idles while the other one
    # is still joining would leave early.
    wanted = [ConsumerGroupTopicPartitions(group, [TopicPartition(raw, p) for p in range(PARTITIONS)])]
    committed = 0
    while committed < RECORDS:
        assert time.monotonic() < deadline + 180, f"{committed} of {RECORDS} records committed"
        assert all(p.poll() is None for p in procs), [log.read_text()[-2000:] for log in logs]
        offsets = admin.list_consumer_group_offsets(wanted)[group].result(timeout=10).topic_partitions
        committed = sum(max(tp.offset, 0) for tp in offsets)
        time.sleep(0.5)
    for proc in procs:
        proc.send_signal(signal.SIGTERM)
    for proc, log in zip(procs, logs, strict=True):
        assert proc.wait(60) == 0, log.read_text()[-3000:]
    counts = []
    for log in logs:
        found = re.search(r"(\d+) records in, (\d+) records out", log.read_text())
        assert found, log.read_text()[-2000:]
        counts.append(int(found.group(1)))
    assert all(n > 0 for n in counts), f"one process did no work: {counts}"
    assert sum(counts) == RECORDS

    out = read_all(kafka_bootstrap, settings.topics.canonical, timeout=60)
    decoded = [codec.decode(m.value()) for m in out]
    ids = [e.event_id for e in decoded]
    assert len(ids) == len(set(ids)), f"{len(ids) - len(set(ids))} duplicated events"
    assert len(ids) == events, f"{events - len(ids)} events missing"
    warnings = {e.event_id: sorted(w.rule_id for w in e.validation_warnings) for e in decoded}
    differ = [(i, expected.get(i), w) for i, w in warnings.items() if expected.get(i) != w]
    assert not differ, f"{len(differ)} events judged otherwise than by one process, e.g. {differ[:3]}"
    dead = [m.value() for m in read_all(kafka_bootstrap, settings.topics.dlq(CONNECTOR), timeout=60)]
    assert len(dead) == len(set(dead)) == len(defective)
    assert set(dead) == defective
