"""A restore waits for a killed predecessor's open transaction instead of stopping short of committed state."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from confluent_kafka import Producer

from gateway.kafka.settings import KafkaSettings
from gateway.state.changelog import entry_change
from gateway.state.restore import restore
from gateway.state.store import PartitionStore

pytestmark = pytest.mark.integration


def _producer(bootstrap: str, transactional_id: str, timeout_ms: int = 60_000) -> Producer:
    p = Producer(
        {"bootstrap.servers": bootstrap, "transactional.id": transactional_id, "transaction.timeout.ms": timeout_ms}
    )
    p.init_transactions(30)
    return p


def _write(p: Producer, topic: str, key: bytes, value: bytes) -> None:
    record = entry_change(topic, 0, key, value, None)
    p.produce(record.topic, record.value, record.key, partition=0)


def test_restore_waits_for_an_open_transaction_and_then_sees_everything_committed(
    kafka_bootstrap: str, new_topic: Callable[..., str], tmp_path: Path
) -> None:
    changelog = new_topic("cl", partitions=1, config={"cleanup.policy": "compact"})
    # The killed predecessor: a transaction opened on the changelog and never ended (its process died); the broker
    # aborts it after its transaction timeout.
    zombie = _producer(kafka_bootstrap, f"zombie-{uuid.uuid4().hex[:6]}", timeout_ms=4_000)
    zombie.begin_transaction()
    _write(zombie, changelog, b"k", b"zombie")
    zombie.flush(10)
    # The process that took the partition over committed state after the zombie's transaction began.
    owner = _producer(kafka_bootstrap, f"owner-{uuid.uuid4().hex[:6]}")
    owner.begin_transaction()
    _write(owner, changelog, b"k", b"committed-after")
    _write(owner, changelog, b"j", b"also-committed")
    owner.commit_transaction(30)

    store = PartitionStore(tmp_path / "0.sqlite", changelog, 0)
    started = time.monotonic()
    stats = restore(KafkaSettings(bootstrap_servers=kafka_bootstrap), f"r-{uuid.uuid4().hex[:6]}", [store], lambda s: s)
    waited = time.monotonic() - started

    assert store.get(b"k") == b"committed-after", "the restore stopped at the open transaction"
    assert store.get(b"j") == b"also-committed"
    assert stats.records == 2
    assert waited > 1.0, "it waited for the broker to abort the zombie's transaction"
    store.close()
    del zombie  # never committed nor aborted: it stands for a process killed with SIGKILL


def test_restore_does_not_wait_when_no_transaction_is_open(
    kafka_bootstrap: str, new_topic: Callable[..., str], tmp_path: Path
) -> None:
    changelog = new_topic("cl", partitions=1, config={"cleanup.policy": "compact"})
    owner = _producer(kafka_bootstrap, f"owner-{uuid.uuid4().hex[:6]}")
    owner.begin_transaction()
    _write(owner, changelog, b"k", b"v")
    owner.commit_transaction(30)
    store = PartitionStore(tmp_path / "0.sqlite", changelog, 0)
    started = time.monotonic()
    restore(KafkaSettings(bootstrap_servers=kafka_bootstrap), f"r-{uuid.uuid4().hex[:6]}", [store], lambda s: s)
    assert store.get(b"k") == b"v"
    assert time.monotonic() - started < 10.0
    store.close()
