"""Statistics benchmark: full-history replay in events/s against consume-only and consume+decode, and the time to
build one quarter from N events.

Prints a table and writes JSON to bench/out/stats.json, with the load average beside each figure.

    .venv/bin/python bench/stats.py                          # 1M and 3M events
    .venv/bin/python bench/stats.py --sizes 200000           # one size
    .venv/bin/python bench/stats.py --sizes 10000000         # the 10M point (needs time and memory)

How: ``statistics_stories`` generates a history of 20 000 persons (every story kind, ~2.3 events a person, a share
of them types the statistics skip by header); it is encoded once with ``EventCodec`` and replicated to N events
with each copy's 32-character subject key replaced in the encoded bytes by a new key of the same length (the Avro
bytes stay valid: checked by decoding one). The events go to a fresh topic of 4 partitions, keyed by subject key
with the ``gw.event.type`` header, as the ingest writes them. Then, on that topic, in one run:

- consume only (per message): ``read_to_end`` (read_committed, one ``poll`` a message), nothing decoded;
- consume only: ``read_batches`` (read_committed, ``Consumer.consume`` batches: the replay's consumer);
- consume + full decode: the same, ``EventCodec.decode(trusted=True)`` on every message - the reference;
- consume + projected decode: the same, ``ProjectedReader.read`` (the statistics' fields only) on every message;
- replay, full decode: ``replay_facts(codec=EventCodec())`` (header skip + trusted decode + fold), the old read;
- replay: ``replay_facts`` (header skip + projected read + fold) - the statistics' read;
- build one quarter: ``build`` of 2026-Q1 (replay + count + SDMX-CSV, SDMX-ML, plain CSV, ledger).

The two replays must give the same facts (checked).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gateway.codec.codec import EventCodec  # noqa: E402
from gateway.config import GatewaySettings, TopicNames  # noqa: E402
from gateway.events.headers import EVENT_TYPE_HEADER  # noqa: E402
from gateway.kafka.reader import read_to_end  # noqa: E402
from gateway.samples.statistics_stories import statistics_stories  # noqa: E402
from gateway.statistics.config import StatisticsConfig  # noqa: E402
from gateway.statistics.projection import ProjectedReader  # noqa: E402
from gateway.statistics.replay import ReplayStats, build, read_batches, replay_facts  # noqa: E402
from gateway.statistics.tables import Period  # noqa: E402

OUT = ROOT / "bench" / "out"
PARTITIONS = 4
GOAL = 50_000
BASE_PERSONS = 20_000


def load() -> dict[str, float]:
    one, five, fifteen = os.getloadavg()
    return {"1m": one, "5m": five, "15m": fifteen}


def templates() -> list[tuple[bytes, bytes, bytes]]:
    """(subject key, encoded value, event type) of the base history."""
    codec = EventCodec()
    stories = statistics_stories(BASE_PERSONS, seed=1)
    return [
        (e.subject_key.encode(), codec.encode(e), str(e.event_type).encode())
        for e in stories.events + stories.late_events
    ]


def produce(bootstrap: str, topic: str, base: list[tuple[bytes, bytes, bytes]], n: int) -> float:
    producer = Producer(
        {"bootstrap.servers": bootstrap, "linger.ms": 50, "batch.size": 1_000_000, "compression.type": "lz4"}
    )
    t0 = time.perf_counter()
    copy, i = 0, 0
    while i < n:
        for key, value, etype in base:
            if i >= n:
                break
            new = key if copy == 0 else f"{uuid.uuid5(uuid.NAMESPACE_OID, f'{copy}:{key.decode()}').hex}".encode()
            body = value if copy == 0 else value.replace(key, new)
            while True:
                try:
                    producer.produce(topic, body, key=new, headers=[(EVENT_TYPE_HEADER, etype)])
                    break
                except BufferError:
                    producer.poll(0.1)
            i += 1
            if i % 10_000 == 0:
                producer.poll(0)
        copy += 1
    producer.flush(120)
    return time.perf_counter() - t0


def rate(settings: GatewaySettings, how: str) -> dict[str, Any]:
    """Consume the topic (``how``: only, only-per-message, full, projected) and report messages per second."""
    codec = EventCodec()
    projected = ProjectedReader(codec)
    t0 = time.perf_counter()
    n = 0
    if how == "only-per-message":
        for _ in read_to_end(settings.kafka, settings.topics.canonical, timeout_s=60):
            n += 1
    else:
        for batch in read_batches(settings.kafka, settings.topics.canonical, timeout_s=60):
            n += len(batch)
            if how == "full":
                for msg in batch:
                    codec.decode(msg.value() or b"", trusted=True)
            elif how == "projected":
                for msg in batch:
                    projected.read(msg.value() or b"")
    s = time.perf_counter() - t0
    return {"messages": n, "seconds": s, "per_s": n / s, "load": load()}


def replay_entry(stats: ReplayStats) -> dict[str, Any]:
    return {
        "messages": stats.messages,
        "decoded": stats.decoded,
        "persons": stats.persons,
        "seconds": stats.seconds,
        "per_s": stats.events_per_s,
        "load": load(),
    }


def measure(
    bootstrap: str, n: int, base: list[tuple[bytes, bytes, bytes]], *, full_decode: bool = True
) -> dict[str, Any]:
    topic = f"bench-stats-{uuid.uuid4().hex[:8]}"
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic(topic, PARTITIONS, 1)])[topic].result(30)
    try:
        settings = GatewaySettings(kafka={"bootstrap_servers": bootstrap}, topics=TopicNames(canonical=topic))
        produce_s = produce(bootstrap, topic, base, n)
        r: dict[str, Any] = {"events": n, "produce_s": produce_s}
        r["consume_only_per_message"] = rate(settings, "only-per-message")
        r["consume_only"] = rate(settings, "only")
        r["consume_projected"] = rate(settings, "projected")
        facts, stats = replay_facts(settings, timeout_s=60)
        r["replay"] = replay_entry(stats)
        if full_decode:
            # The reference and the cross-check; skipped on the largest sizes, where they take most of the time.
            r["consume_decode"] = rate(settings, "full")
            full_facts, full_stats = replay_facts(settings, timeout_s=60, codec=EventCodec())
            r["replay_full"] = replay_entry(full_stats)
            r["same_facts"] = facts == full_facts
            del full_facts
            if not r["same_facts"]:
                raise RuntimeError("the projected replay's facts differ from the full decode's")
        del facts
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            report = build(settings, [Period.parse("2026-Q1")], StatisticsConfig(), Path(tmp))
            r["build_quarter"] = {
                "seconds": time.perf_counter() - t0,
                "replay_seconds": report.replay.seconds,
                "returned_2026_q1": sum(report.periods[0].tables.tables["returned"].cells.values()),
                "load": load(),
                "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        return r
    finally:
        admin.delete_topics([topic])[topic].result(30)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1000000,3000000")
    ap.add_argument(
        "--full-decode-up-to",
        type=int,
        default=3_000_000,
        help="Measure the full-decode reference only up to this many events (it dominates the time above).",
    )
    ap.add_argument("--bootstrap", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:29092"))
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    base = templates()
    codec = EventCodec()
    probe_key, probe_value, _ = base[0]
    new = uuid.uuid4().hex.encode()
    if codec.decode(probe_value.replace(probe_key, new), trusted=True).subject_key != new.decode():
        raise RuntimeError("key replacement broke the encoded event")
    results: dict[str, Any] = {
        "bootstrap": args.bootstrap,
        "cpus": os.cpu_count(),
        "goal_events_per_s": GOAL,
        "base_events": len(base),
        "generate_s": time.perf_counter() - t0,
        "started": dt.datetime.now(dt.UTC).isoformat(),
        "load_start": load(),
        "runs": [
            measure(args.bootstrap, int(n), base, full_decode=int(n) <= args.full_decode_up_to)
            for n in args.sizes.split(",")
        ],
    }
    runs = results["runs"]
    if len(runs) > 1:
        results["build_time_ratio_last_to_first"] = (
            runs[-1]["build_quarter"]["seconds"] / runs[0]["build_quarter"]["seconds"]
        )
        results["size_ratio_last_to_first"] = runs[-1]["events"] / runs[0]["events"]
    path = OUT / "stats.json"
    path.write_text(json.dumps(results, indent=1))
    print_table(results, path)


def print_table(results: dict[str, Any], path: Path) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Statistics replay, {results['bootstrap']}, {results['cpus']} cores")
    for col in ("events", "measure", "value", "goal", "notes", "load 1m"):
        table.add_column(col, justify="left" if col in ("measure", "notes") else "right")
    for r in results["runs"]:
        n = f"{r['events']:,}"
        cd, rp, rf, bq = r.get("consume_decode"), r["replay"], r.get("replay_full"), r["build_quarter"]

        def row(measure: str, entry: dict[str, Any], notes: str, goal: str = "", n: str = n) -> None:
            table.add_row(n, measure, f"{entry['per_s']:,.0f}/s", goal, notes, f"{entry['load']['1m']:.2f}")

        row("consume only, per message", r["consume_only_per_message"], "read_to_end (poll), read_committed")
        row("consume only", r["consume_only"], "read_batches (consume), read_committed")
        met = "MET" if rp["per_s"] >= GOAL else "MISSED"
        if cd is not None and rf is not None:
            row("consume + full decode", cd, "trusted decode of every event: the reference")
            row(
                "consume + projected decode",
                r["consume_projected"],
                f"projected read of every event; x{r['consume_projected']['per_s'] / cd['per_s']:.2f} of full decode",
            )
            row(
                "replay, full decode",
                rf,
                f"the read before the projection (batched consumer); x{rf['per_s'] / cd['per_s']:.2f} of consume + "
                "full decode",
            )
            notes = (
                f"{met}; x{rp['per_s'] / cd['per_s']:.2f} of consume + full decode, "
                f"x{rp['per_s'] / rf['per_s']:.2f} of full-decode replay; {rp['decoded']:,} decoded, "
                f"{rp['persons']:,} persons, same facts: {r['same_facts']}"
            )
        else:
            row("consume + projected decode", r["consume_projected"], "projected read of every event")
            notes = f"{met}; {rp['decoded']:,} decoded, {rp['persons']:,} persons (full decode not run at this size)"
        row("replay (statistics read)", rp, notes, f">= {GOAL:,}")
        table.add_row(
            n, "build 2026-Q1", f"{bq['seconds']:.1f} s", "",
            f"replay {bq['replay_seconds']:.1f} s + count + write; peak RSS {bq.get('peak_rss_mb', 0):,.0f} MB",
            f"{bq['load']['1m']:.2f}",
        )  # fmt: skip
    console = Console(width=160)
    console.print(table)
    if "build_time_ratio_last_to_first" in results:
        console.print(
            f"build time x{results['build_time_ratio_last_to_first']:.2f} "
            f"for x{results['size_ratio_last_to_first']:.1f} events"
        )
    console.print(f"JSON: {path}")


if __name__ == "__main__":
    main()
