"""Delivery on the real broker to a real local HTTP server that misbehaves: nothing lost, each id accepted once, order.

The server (``gateway.testing.http_target``) injects 5xx (with and without Retry-After), 429, time-outs, slow
answers, dropped connections, acknowledgements lost on the wire, and permanent 4xx for chosen ids. The worker runs
in process here, and as a ``gateway deliver`` process killed with SIGKILL mid-batch in the slow test.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import random
import signal
import time
import uuid
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from click.testing import CliRunner
from confluent_kafka import Producer

from gateway.cli.main import main
from gateway.config import GatewaySettings, TopicNames
from gateway.delivery.http import HttpOptions, HttpTransport
from gateway.delivery.outbox import OutboxMessage, message_id_for, outbox_codec, outbox_record
from gateway.delivery.receipts import Outcome, Receipt, receipt_codec
from gateway.delivery.settings import DeliverySettings, RetryPolicy
from gateway.delivery.status import outbox_status
from gateway.delivery.worker import DeliveryStats, provision_delivery, run_delivery
from gateway.kafka.settings import KafkaSettings
from gateway.testing.http_target import FaultPlan, HttpTarget
from tests.integration.support.processes import SpawnGateway
from tests.integration.support.topics import read_all

pytestmark = pytest.mark.integration

TARGET = "sis"
PARTITIONS = 3
RETRY = RetryPolicy(initial_backoff_s=0.05, max_backoff_s=0.5, jitter_s=0.05, max_attempts=20, deadline_s=60)


def _topics(run: str) -> TopicNames:
    return TopicNames(
        canonical=f"{run}.events",
        dlq_prefix=f"{run}.dlq.",
        raw_prefix=f"{run}.raw.",
        progress=f"{run}.progress",
        outbox_prefix=f"{run}.out.",
        outbox_dlq_prefix=f"{run}.dlq.out.",
        receipts=f"{run}.receipts",
        partitions=PARTITIONS,
    )


def _settings(bootstrap: str, prefix: str) -> GatewaySettings:
    run = f"{prefix}-{uuid.uuid4().hex[:8]}"
    return GatewaySettings(kafka=KafkaSettings(bootstrap_servers=bootstrap), topics=_topics(run))


def _messages(cases: int, per_case: int, *, prefix: str = "case") -> list[OutboxMessage]:
    """Messages of ``cases`` cases, ``per_case`` each, interleaved across cases as a producing stage writes them."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    out = []
    for seq in range(1, per_case + 1):
        for c in range(cases):
            key = f"{prefix}-{c:03d}"
            body = f"<SisUpdate case='{key}' seq='{seq}'/>".encode()
            source = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{key}/{seq}"))
            out.append(
                OutboxMessage(
                    message_id=message_id_for(TARGET, "SIS_UPDATE", key, source, body),
                    target=TARGET,
                    kind="SIS_UPDATE",
                    ordering_key=key,
                    sequence=seq,
                    created_at=now,
                    source_event_id=source,
                    source_event_at=now,
                    content_type="application/xml",
                    body=body,
                )
            )
    return out


def _produce(settings: GatewaySettings, messages: list[OutboxMessage], garbage: int = 0) -> None:
    provision_delivery(settings, TARGET)
    topic, codec = settings.topics.outbox(TARGET), outbox_codec()
    producer = Producer({"bootstrap.servers": settings.kafka.bootstrap_servers, "enable.idempotence": True})
    for m in messages:
        record = outbox_record(topic, m, codec)
        producer.produce(topic, record.value, record.key, headers=list(record.headers))
    for i in range(garbage):
        producer.produce(topic, b"not an outbox message", f"garbage-{i}".encode())
    assert producer.flush(30) == 0


def _options(**overrides: object) -> DeliverySettings:
    values: dict[str, object] = {
        "retry": RETRY,
        "max_in_flight": 16,
        "batch_size": 500,
        "batch_wait_s": 0.3,
        "batch_deadline_s": 90,
        "instance": "t",
        "idle_exit_s": 3.0,
        **overrides,
    }
    return DeliverySettings.model_validate(values)


def _deliver(settings: GatewaySettings, server: HttpTarget, options: DeliverySettings) -> DeliveryStats:
    transport = HttpTransport(HttpOptions(url=server.url, read_timeout_s=0.8, connect_timeout_s=1.0))
    try:
        return run_delivery(settings, TARGET, transport, options.model_copy(update={"group_id": f"g-{uuid.uuid4()}"}))
    finally:
        transport.close()


def _receipts(bootstrap: str, settings: GatewaySettings) -> list[Receipt]:
    codec = receipt_codec()
    return [codec.decode(m.value() or b"") for m in read_all(bootstrap, settings.topics.receipts)]


def _assert_once_and_in_order(server: HttpTarget, messages: list[OutboxMessage], rejected: set[str]) -> None:
    expected = {m.message_id: m for m in messages if m.message_id not in rejected}
    accepted = server.acceptances
    counts = Counter(a.message_id for a in accepted)
    assert set(counts) == set(expected), "the server must have accepted every message and nothing else"
    assert max(counts.values()) == 1
    assert all(a.body == expected[a.message_id].body for a in accepted)
    # Order per case: the first acceptances of a case come in sequence order (rejected ones are skipped).
    by_case: dict[str, list[int]] = defaultdict(list)
    for a in accepted:
        by_case[a.ordering_key].append(a.sequence)
    assert all(seqs == sorted(seqs) for seqs in by_case.values()), {k: v for k, v in by_case.items() if v != sorted(v)}
    # ... and no request of a case was ever sent before an earlier message of the case was accepted.
    first_accept = {a.message_id: a.index for a in accepted}
    ids = {(m.ordering_key, m.sequence): m.message_id for m in messages}
    for arrival in server.arrivals:
        earlier = ids.get((arrival.ordering_key, arrival.sequence - 1))
        if earlier is not None and earlier in first_accept:
            assert first_accept[earlier] < arrival.index, f"{arrival.ordering_key} #{arrival.sequence} overtook"


FAULT_MIX = FaultPlan(
    seed=7,
    error_5xx=0.05,
    error_5xx_retry_after=0.02,
    too_many=0.02,
    timeout=0.03,
    slow=0.05,
    drop=0.05,
    duplicate_ack=0.05,
    late_ack=0.03,
    hang_s=1.0,
    slow_s=0.1,
    retry_after_s=1,
    max_faults_per_id=2,
)


def test_fault_mix_is_delivered_completely_once_and_in_order(kafka_bootstrap: str):
    settings = _settings(kafka_bootstrap, "dl")
    messages = _messages(cases=40, per_case=6)
    rejected = {messages[17].message_id, messages[100].message_id}
    _produce(settings, messages, garbage=1)
    before = outbox_status(settings, TARGET)
    assert (before.records, before.messages, before.pending, before.undecodable) == (241, 240, 240, 1)

    with HttpTarget(dataclasses.replace(FAULT_MIX, reject_ids=frozenset(rejected))) as server:
        stats = _deliver(settings, server, _options())

    faults = Counter(a.fault for a in server.arrivals if a.fault)
    assert set(faults) == {
        "error_5xx", "error_5xx_retry_after", "too_many", "timeout", "slow", "drop", "duplicate_ack", "late_ack"
    }, faults  # fmt: skip
    _assert_once_and_in_order(server, messages, rejected)

    receipts = _receipts(kafka_bootstrap, settings)
    by_id = Counter(r.message_id for r in receipts)
    assert set(by_id) == {m.message_id for m in messages}
    assert max(by_id.values()) == 1
    outcomes = Counter(r.outcome for r in receipts)
    assert outcomes[Outcome.REJECTED] == 2
    assert outcomes[Outcome.DUPLICATE] > 0, "lost acknowledgements must come back as duplicates"
    assert outcomes[Outcome.DELIVERED] + outcomes[Outcome.DUPLICATE] == 238
    assert {r.message_id for r in receipts if r.outcome is Outcome.REJECTED} == rejected
    assert all(r.status_code == 422 and "schema refusal" in (r.response or "") for r in receipts if not r.succeeded)
    assert max(r.attempts for r in receipts) > 1

    dead = read_all(kafka_bootstrap, settings.topics.outbox_dlq(TARGET))
    rejected_letters = [d for d in dead if dict(d.headers() or [])["__connect.errors.stage"] == b"DELIVER"]
    assert {dict(d.headers() or [])["gw.message.id"].decode() for d in rejected_letters} == rejected
    assert all(dict(d.headers() or [])["gw.delivery.status"] == b"422" for d in rejected_letters)
    assert [d.value() for d in dead if d not in rejected_letters] == [b"not an outbox message"]
    # Records in = success receipts + dead letters: nothing silently dropped.
    successes = sum(1 for r in receipts if r.succeeded)
    assert successes + len(dead) == 241
    assert (stats.processor.records_in, stats.delivered + stats.duplicates, stats.dead_letters) == (241, 238, 3)

    after = CliRunner().invoke(main, ["outbox", "status", "--target", TARGET, "--json", "--bootstrap", kafka_bootstrap],
                               env=_env(settings))  # fmt: skip
    assert after.exit_code == 0, after.output
    [row] = json.loads(after.output)
    assert (row["pending"], row["rejected"], row["undecodable"], row["messages"]) == (0, 2, 1, 240)
    assert row["delivered"] + row["duplicate"] == 238
    assert row["duplicate"] == outcomes[Outcome.DUPLICATE]


def _env(settings: GatewaySettings) -> dict[str, str]:
    t = settings.topics
    return {
        "GATEWAY_TOPICS__OUTBOX_PREFIX": t.outbox_prefix,
        "GATEWAY_TOPICS__OUTBOX_DLQ_PREFIX": t.outbox_dlq_prefix,
        "GATEWAY_TOPICS__RECEIPTS": t.receipts,
    }


def test_a_slow_case_does_not_hold_back_the_others(kafka_bootstrap: str):
    settings = _settings(kafka_bootstrap, "ds")
    slow = _messages(cases=1, per_case=5, prefix="slow")
    others = _messages(cases=24, per_case=3)
    _produce(settings, slow + others)

    with HttpTarget(FaultPlan(slow_keys=frozenset({"slow-000"}), slow_s=0.6)) as server:
        _deliver(settings, server, _options(max_in_flight=4, idle_exit_s=2.0))

    _assert_once_and_in_order(server, slow + others, set())
    at = {a.message_id: a.at for a in server.acceptances}
    slow_done = max(at[m.message_id] for m in slow)
    others_done = max(at[m.message_id] for m in others)
    # 72 messages of the other cases go through 3 lanes while the slow case takes 5 x 0.6 s in the fourth.
    assert others_done < at[slow[2].message_id] < slow_done, (others_done, slow_done)


def test_outbox_status_counts_pending_until_delivered(kafka_bootstrap: str):
    settings = _settings(kafka_bootstrap, "dst")
    messages = _messages(cases=3, per_case=2)
    _produce(settings, messages)
    runner = CliRunner()
    args = ["outbox", "status", "--bootstrap", kafka_bootstrap, "--json", "--pending-ids"]

    pending = runner.invoke(main, args, env=_env(settings))
    assert pending.exit_code == 0, pending.output
    rows = {row["target"]: row for row in json.loads(pending.output)}
    assert rows[TARGET]["pending"] == 6
    assert set(rows[TARGET]["pending_ids"]) == {m.message_id for m in messages}

    with HttpTarget() as server:
        _deliver(settings, server, _options(idle_exit_s=1.5))
    table = runner.invoke(main, ["outbox", "status", "--bootstrap", kafka_bootstrap], env=_env(settings))
    assert table.exit_code == 0, table.output
    assert "sis" in table.output
    done = outbox_status(settings, TARGET)
    assert (done.pending, done.delivered, done.duplicate, done.rejected) == (0, 6, 0, 0)


# -- kill -9 -----------------------------------------------------------------------------------------------------


def _config(tmp_path: Path, settings: GatewaySettings) -> Path:
    t = settings.topics
    path = tmp_path / "gateway.toml"
    path.write_text(
        f"""
[kafka]
bootstrap_servers = "{settings.kafka.bootstrap_servers}"
[topics]
outbox_prefix = "{t.outbox_prefix}"
outbox_dlq_prefix = "{t.outbox_dlq_prefix}"
receipts = "{t.receipts}"
partitions = {t.partitions}
"""
    )
    delivery = tmp_path / "delivery.toml"
    delivery.write_text(
        """
[sis]
max_in_flight = 6
batch_size = 60
batch_wait_s = 0.3
batch_deadline_s = 60
[sis.retry]
initial_backoff_s = 0.05
max_backoff_s = 0.5
jitter_s = 0.05
deadline_s = 30
"""
    )
    return path


def _spawn(start: SpawnGateway, config: Path, server: HttpTarget, log: Path, idle: float, group: str) -> object:
    delivery = str(config.parent / "delivery.toml")
    # A group of its own: a static member of a group shared with an earlier run would be handed that run's assignment.
    args = ["deliver", "--target", TARGET, "--config", str(config), "--delivery-config", delivery, "--group", group]
    options = ["--transport", "http", "--url", server.url, "--timeout", "0.8", "--instance", "k", "--idle-exit"]
    return start([*args, *options, str(idle)], log)


def _accepted_count(server: HttpTarget) -> int:
    return len(server.acceptances)


@pytest.mark.slow
def test_kill_9_mid_batch_loses_nothing_and_accepts_each_id_once(
    kafka_bootstrap: str, tmp_path: Path, start: SpawnGateway, group_id: str
):
    settings = _settings(kafka_bootstrap, "dk")
    config = _config(tmp_path, settings)
    messages = _messages(cases=30, per_case=12)
    _produce(settings, messages)
    rng = random.Random(5)
    plan = FaultPlan(seed=3, slow=0.3, slow_s=0.05, error_5xx=0.05, duplicate_ack=0.05, drop=0.03, hang_s=1.0)
    kills = 0
    with HttpTarget(plan) as server:
        for round_ in range(3):
            before = _accepted_count(server)
            proc = _spawn(start, config, server, tmp_path / f"run-{round_}.log", idle=30, group=group_id)
            # Kill once the process is well into a batch: some of its messages accepted, the batch not committed.
            wanted = before + rng.randint(15, 45)
            deadline = time.monotonic() + 90
            while _accepted_count(server) < wanted and time.monotonic() < deadline and proc.poll() is None:
                time.sleep(0.01)
            assert proc.poll() is None, (tmp_path / f"run-{round_}.log").read_text()[-3000:]
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
            kills += 1
        final = _spawn(start, config, server, tmp_path / "final.log", idle=4, group=group_id)
        assert final.wait(180) == 0, (tmp_path / "final.log").read_text()[-3000:]
    assert kills == 3

    _assert_once_and_in_order(server, messages, set())
    receipts = _receipts(kafka_bootstrap, settings)
    by_id = Counter(r.message_id for r in receipts)
    assert set(by_id) == {m.message_id for m in messages}
    assert max(by_id.values()) == 1, "a committed receipt per message, exactly once"
    outcomes = Counter(r.outcome for r in receipts)
    assert outcomes[Outcome.DUPLICATE] > 0, "the killed batches' deliveries must have been resent as duplicates"
    # Ids whose acceptance was answered cleanly and that were still sent again: only a killed batch's replay does that.
    cleanly = {a.message_id for a in server.arrivals if a.outcome == "accepted" and a.fault in (None, "slow")}
    replayed = {a.message_id for a in server.arrivals if a.outcome == "duplicate"} & cleanly
    assert replayed, "the kills must have hit batches with deliveries not yet committed"
    done = outbox_status(settings, TARGET)
    assert (done.pending, done.rejected, done.delivered + done.duplicate) == (0, 0, len(messages))
