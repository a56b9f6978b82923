"""Dashboard benchmark: page times over a small and a large dead-letter topic, on the real broker.

Prints a table and writes JSON to .cache/bench/dashboard.json.

    .venv/bin/python bench/dashboard.py                       # 2,000 and 200,000 dead letters, broker 127.0.0.1:29092
    .venv/bin/python bench/dashboard.py --sizes 1000 50000 --bootstrap 127.0.0.1:9092

For each size, a fresh dead-letter topic (3 partitions, a unique name) is filled in bulk with dead letters carrying
the headers the gateway writes (`gateway.dlq.headers.dead_letter_headers`: stages, error classes, rules, times over
a week), then the dashboard app (`create_app` over `KafkaBackend`, through Starlette's ``TestClient``) is timed:

- first summary: the first connector page, which builds the connector's summary (reads the topic once);
- list: the connector page afterwards (counts and chart from the summary, refreshed by reading only what is new;
  the newest ``recent_limit`` from the last offsets of each partition); median of ``--repeat``;
- older: the next page by its offset cursor; detail: one record's page (one offset); summary: the home page
  (every connector's total from its summary); refresh: the connector page after 1,000 more dead letters arrived.

The ratio column divides the large topic's time by the small one's: a page whose cost is bounded by what it shows,
not by the topic, has a ratio near 1 (the first summary is the exception: it reads the whole topic, once).
Every figure is printed with the 1-minute load average.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic
from starlette.testclient import TestClient

from gateway.config import GatewaySettings, TopicNames
from gateway.connectors.base import RawRecord
from gateway.dashboard.app import create_app
from gateway.dashboard.auth import hash_password
from gateway.dashboard.backend import KafkaBackend
from gateway.dashboard.settings import DashboardSettings, Role, UserEntry
from gateway.dlq import DeadLetter
from gateway.dlq import headers as H

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / ".cache" / "bench"
PARTITIONS = 3
PASSWORD = "bench-password-1"
T0_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z
KINDS = (
    ("map", "gateway.errors.MappingError", "unknown code", ()),
    ("parse", "gateway.errors.ParseError", "bad date", ()),
    ("validate", "gateway.errors.RuleViolationError", "departure before decision", ("DP-001", "VD-002")),
    ("validate", "gateway.errors.RuleViolationError", "missing nationality", ("ID-004",)),
    ("read", "gateway.errors.ParseError", "not valid utf-8", ()),
)
TEMPLATES = 500  # distinct header sets, cycled: time, stage, error and rule vary over the topic


def load() -> float:
    """The 1-minute load average, printed beside every figure."""
    return os.getloadavg()[0]


def templates() -> list[tuple[bytes, list[tuple[str, bytes]]]]:
    """Dead letters as the gateway writes them: value and headers, over a week of failure times."""
    out = []
    for i in range(TEMPLATES):
        stage, error, message, rules = KINDS[i % len(KINDS)]
        value = f"DE-{i};X;ENTRY;{'x' * 80}".encode()
        record = RawRecord(value, "/in/export.csv", f"line {i + 2}", index=i, encoding="utf-8")
        dead = DeadLetter(record, stage, error, message, rule_ids=rules)
        minute = i * 7 * 24 * 60 // TEMPLATES
        headers = H.dead_letter_headers(
            dead, connector="bench", connector_class="bench.Csv", correlation_id="run-1", now_ms=T0_MS + minute * 60_000
        )
        out.append((value, list(headers)))
    return out


def fill(bootstrap: str, topic: str, n: int, made: list[tuple[bytes, list[tuple[str, bytes]]]]) -> float:
    """Produce ``n`` dead letters to ``topic`` in bulk; return the seconds it took."""
    producer = Producer(
        {
            "bootstrap.servers": bootstrap,
            "linger.ms": 50,
            "batch.size": 1_000_000,
            "compression.type": "lz4",
            "queue.buffering.max.messages": 500_000,
        }
    )
    started = time.perf_counter()
    for i in range(n):
        value, headers = made[i % len(made)]
        while True:
            try:
                producer.produce(topic, value, partition=i % PARTITIONS, headers=headers)
                break
            except BufferError:
                producer.poll(0.05)
        if i % 10_000 == 0:
            producer.poll(0)
    left = producer.flush(60)
    if left:
        raise RuntimeError(f"{left} dead letters not delivered to {topic}")
    return time.perf_counter() - started


def timed(fn: Callable[[], Any]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def ok(answer: Any) -> Any:
    if answer.status_code != 200:
        raise RuntimeError(f"{answer.request.url}: HTTP {answer.status_code}: {answer.text[:300]}")
    return answer


def measure(
    bootstrap: str, size: int, repeat: int, made: list[tuple[bytes, list[tuple[str, bytes]]]]
) -> dict[str, Any]:
    """Fill a topic with ``size`` dead letters and time the pages over it."""
    run = f"bench-dash-{size}-{uuid.uuid4().hex[:6]}"
    settings = GatewaySettings(
        kafka={"bootstrap_servers": bootstrap}, topics=TopicNames(dlq_prefix=f"{run}.dlq.", raw_prefix=f"{run}.raw.")
    )
    connector, spare = "main", "spare"  # the spare (empty) one makes the home page list totals, not redirect
    admin = AdminClient({"bootstrap.servers": bootstrap})
    new = [NewTopic(settings.topics.dlq(c), PARTITIONS, 1) for c in (connector, spare)]
    for future in admin.create_topics(new).values():
        future.result()
    filled = fill(bootstrap, settings.topics.dlq(connector), size, made)
    board = DashboardSettings(
        users={"bench": UserEntry(role=Role.OPERATOR, password_hash=hash_password(PASSWORD))},
        session_secret="b" * 32,
        cookie_secure=False,
    )
    backend = KafkaBackend(settings, f"{run}.audit", slot_minutes=board.bucket_minutes)
    client = TestClient(create_app(board, backend, [connector, spare]), follow_redirects=False)
    csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text)
    assert csrf
    signed = client.post("/login", data={"user": "bench", "password": PASSWORD, "csrf": csrf.group(1)})
    assert signed.status_code == 303, signed.text[:300]

    row: dict[str, Any] = {"size": size, "fill_s": filled, "topic": settings.topics.dlq(connector)}
    started = time.perf_counter()
    first = ok(client.get(f"/c/{connector}"))  # builds the summary: reads the whole topic, once
    row["first_summary_s"] = time.perf_counter() - started
    row["first_summary_load"] = load()
    total = re.search(r'<strong id="total-all">(\d+)</strong>', first.text)
    if total is None or int(total.group(1)) != size:
        raise RuntimeError(f"the page counts {total and total.group(1)} dead letters, not {size}")
    older = re.search(r'href="([^"]+)" id="older"', first.text)
    assert older
    older_path = older.group(1).replace("&amp;", "&")
    ref = re.search(r'<tr data-ref="(\d+):(\d+)"', first.text)
    assert ref
    pages = {
        "list": f"/c/{connector}",
        "older": older_path,
        "detail": f"/c/{connector}/r/{ref.group(1)}/{int(ref.group(2)) - 100}",
        "summary": "/",
    }
    for name, path in pages.items():
        times = [timed(lambda p=path: ok(client.get(p))) for _ in range(repeat)]
        row[f"{name}_s"] = statistics.median(times)
        row[f"{name}_load"] = load()
    fill(bootstrap, settings.topics.dlq(connector), 1000, made)
    row["refresh_s"] = timed(lambda: ok(client.get(f"/c/{connector}")))
    row["refresh_load"] = load()
    admin.delete_topics([settings.topics.dlq(c) for c in (connector, spare)])
    return row


COLUMNS = ("fill_s", "first_summary_s", "list_s", "older_s", "detail_s", "summary_s", "refresh_s")


def print_table(results: dict[str, Any]) -> None:
    rows = results["sizes"]
    head = f"{'dead letters':>12} " + " ".join(f"{c.removesuffix('_s'):>15}" for c in COLUMNS)
    print("Dashboard page times, seconds @ 1-min load (median of", results["repeat"], "for the warm pages):")
    print(head)
    print("-" * len(head))
    for row in rows:
        cells = [
            f"{row[c]:.3f}" + (f"@{row[c.removesuffix('_s') + '_load']:.1f}" if c != "fill_s" else "") for c in COLUMNS
        ]
        print(f"{row['size']:>12,} " + " ".join(f"{cell:>15}" for cell in cells))
    if len(rows) >= 2:
        small, large = rows[0], rows[-1]
        ratios = " ".join(f"{large[c] / small[c]:>15.2f}" for c in COLUMNS)
        print(f"{'ratio':>12} " + ratios + f"   ({large['size']:,} / {small['size']:,})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[2_000, 200_000])
    ap.add_argument("--bootstrap", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:29092"))
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    made = templates()
    results: dict[str, Any] = {"bootstrap": args.bootstrap, "repeat": args.repeat, "partitions": PARTITIONS}
    results["sizes"] = [measure(args.bootstrap, size, args.repeat, made) for size in args.sizes]
    for row in results["sizes"]:
        print(f"{row['size']:,}: {row['topic']}", flush=True)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "dashboard.json").write_text(json.dumps(results, indent=1))
    print_table(results)


if __name__ == "__main__":
    main()
