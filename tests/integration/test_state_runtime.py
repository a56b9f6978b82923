"""The state runtime on the real broker: state survives kill -9, lost and corrupt files, and partitions moving.

The counter application (``support/counter_app.py``) writes ``<key>=<n>`` for the n-th record of a key and
``fired:<key>`` when a key's event-time timer fires; exactly once means every ``<key>=<n>`` for n = 1..count
appears once and no other, and every due timer fired once.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from confluent_kafka import Producer

from gateway.state.changelog import decode_change
from tests.integration.support.topics import read_all

pytestmark = [pytest.mark.integration, pytest.mark.slow]

APP = "tests.integration.support.counter_app"


def produce(bootstrap: str, topic: str, records: list[tuple[bytes, int]]) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 20})
    for key, time_ms in records:
        producer.produce(topic, key=key, value=str(time_ms).encode())
        producer.poll(0)
    assert producer.flush(30) == 0


def spawn(args: list[str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", APP, *args], stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def kill(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(10)


def expected(bootstrap: str, source: str) -> tuple[Counter[str], set[str]]:
    """Per key, how many records; and which keys' timers must have fired (due within their partition's time)."""
    messages = read_all(bootstrap, source)
    counts: Counter[str] = Counter()
    first: dict[str, tuple[int, int]] = {}
    latest: dict[int, int] = {}
    for m in messages:
        key, t, p = (m.key() or b"").decode(), int(m.value() or b"0"), m.partition() or 0
        counts[key] += 1
        first.setdefault(key, (p, t))
        latest[p] = max(latest.get(p, 0), t)
    fired = {k for k, (p, t) in first.items() if t + 1_000 <= latest[p]}
    return counts, fired


def check_exactly_once(bootstrap: str, source: str, output: str) -> None:
    counts, fired = expected(bootstrap, source)
    values = Counter((m.value() or b"").decode() for m in read_all(bootstrap, output))
    repeated = {v: n for v, n in values.items() if n > 1}
    assert not repeated, f"outputs repeated: {sorted(repeated.items())[:10]}"
    wanted = {f"{k}={n}" for k, c in counts.items() for n in range(1, c + 1)} | {f"fired:{k}" for k in fired}
    assert set(values) == wanted, (sorted(set(values) - wanted)[:10], sorted(wanted - set(values))[:10])


def records(keys: int, count: int, start_ms: int, seed: int) -> list[tuple[bytes, int]]:
    rng = random.Random(seed)
    return [(f"k{rng.randrange(keys):03d}".encode(), start_ms + i * 10) for i in range(count)]


def test_state_is_exactly_once_through_kill_9_lost_and_corrupt_files(kafka_bootstrap, new_topic, tmp_path):
    source, output = new_topic("st-in", partitions=4), new_topic("st-out", partitions=1)
    state = tmp_path / "state"
    produce(kafka_bootstrap, source, records(150, 12_000, 1_000_000, seed=1))
    args = [kafka_bootstrap, source, output, str(state), "one"]
    rng = random.Random(7)
    for attempt in range(3):
        proc = spawn([*args, "3"], tmp_path / f"run{attempt}.log")
        time.sleep(rng.uniform(2.0, 4.5))
        kill(proc)
    finish = spawn([*args, "4"], tmp_path / "finish.log")
    assert finish.wait(180) == 0, (tmp_path / "finish.log").read_text()[-3000:]
    check_exactly_once(kafka_bootstrap, source, output)

    # The files of partition 0 are lost, those of partition 1 overwritten with garbage: both are rebuilt from the
    # changelog, so the counts carry on where they were.
    files = state / f"counter-{source}" / "counts"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{files / '0.sqlite'}{suffix}").unlink(missing_ok=True)
    (files / "1.sqlite").write_bytes(b"garbage" * 1000)
    Path(f"{files / '1.sqlite'}-wal").unlink(missing_ok=True)
    produce(kafka_bootstrap, source, records(150, 3_000, 1_200_000, seed=2))
    again = spawn([*args, "4"], tmp_path / "again.log")
    assert again.wait(180) == 0
    log = (tmp_path / "again.log").read_text()
    assert "cannot be trusted" in log
    check_exactly_once(kafka_bootstrap, source, output)

    # What the changelog holds is what the local files hold.
    changelog = f"counter-{source}.counts.changelog"
    latest: dict[bytes, bytes | None] = {}
    for m in read_all(kafka_bootstrap, changelog):
        change = decode_change(m.key(), m.value(), m.headers())
        if change.kind == "entry":
            latest[change.key] = change.value
    counts, _ = expected(kafka_bootstrap, source)
    assert {k.decode(): int(v) for k, v in latest.items() if v is not None} == dict(counts)


def test_partitions_moving_between_processes_keep_their_state(kafka_bootstrap, new_topic, tmp_path):
    source, output = new_topic("mv-in", partitions=4), new_topic("mv-out", partitions=1)
    produce(kafka_bootstrap, source, records(120, 10_000, 2_000_000, seed=3))
    # Each process has its own state folder, as on two machines: a partition that moves is restored from its
    # changelog by the process that takes it.
    # Sessions of 6 s (the broker's minimum); the survivor idles 12 s, so it is still there when the killed one's
    # partitions come to it (6 s and a heartbeat later). Leaving earlier would leave records unread: the check fails.
    first = spawn([kafka_bootstrap, source, output, str(tmp_path / "a"), "a", "12", "6"], tmp_path / "a.log")
    second = spawn([kafka_bootstrap, source, output, str(tmp_path / "b"), "b", "12", "6"], tmp_path / "b.log")
    time.sleep(4.0)
    kill(first)  # its partitions move to the second process once its session times out
    produce(kafka_bootstrap, source, records(120, 2_000, 2_200_000, seed=4))
    assert second.wait(240) == 0, (tmp_path / "b.log").read_text()[-3000:]
    log = (tmp_path / "b.log").read_text()
    restores = log.splitlines()[-1]
    assert restores.startswith("records_in="), log[-2000:]
    check_exactly_once(kafka_bootstrap, source, output)
