"""Delivery benchmark: messages/s of ``gateway deliver`` to a local HTTP target, against the raw HTTP ceiling, latency.

Prints a table and writes JSON to bench/out/deliver.json, with the load average beside the figures. Compare ratios
measured in one run: the machines are shared.

    .venv/bin/python bench/deliver.py                 # 5 000 messages over 500 cases, 16 cases in flight
    .venv/bin/python bench/deliver.py --quick         # 1 000 messages, a smoke test

Measured:

- ceiling: messages/s of the same ``HttpTransport`` to the same local server (``gateway.testing.http_target``, no
  faults), no Kafka: cases spread over ``max_in_flight`` threads, each case's messages one after another, exactly as
  the worker sends them; the most the worker could reach on this machine;
- worker (backlog): N outbox messages already on a fresh topic of 3 partitions, then ``run_delivery`` in process
  (exactly-once transactions, receipts to the receipts topic), from its start to the commit of the last batch
  (``records_in / wall time``, the idle wait at the end excluded); the ratio to the ceiling is the cost of Kafka,
  Avro and receipts;
- latency: with the worker running, outbox messages produced at a steady rate (half the backlog rate, at most
  1 000/s) with ``source_event_at`` = their produce time; p50 / p99 from ``source_event_at`` to the server's receipt
  of the request. It includes the consumer's batch wait (``batch_wait_s``) and the producer's linger: this is the
  path of a canonical event's message through the outbox to the target, minus the producing stage itself;
- end to end: canonical ``ReturnDecisionIssued`` events (each a new person, so each gives one SIS ``CREATE``)
  produced at a steady rate to a fresh canonical topic, with ``gateway outbound`` and ``gateway deliver`` both
  running in this process; p50 / p99 from the canonical record's produce time to the server's receipt of its SIS
  message: the whole path the issue asks about, both stages' batch waits and transactions included.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
from confluent_kafka import Producer

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gateway.config import GatewaySettings, TopicNames  # noqa: E402
from gateway.delivery.http import HttpOptions, HttpTransport  # noqa: E402
from gateway.delivery.outbox import OutboxMessage, message_id_for, outbox_codec, outbox_record  # noqa: E402
from gateway.delivery.settings import DeliverySettings  # noqa: E402
from gateway.delivery.worker import group_by_key, provision_delivery, run_delivery  # noqa: E402
from gateway.events.models import EventType  # noqa: E402
from gateway.kafka.settings import KafkaSettings  # noqa: E402

OUT = ROOT / "bench" / "out"
TARGET = "sis"
BODY = b"<SisUpdate xmlns='urn:example:sis'>" + b"<Field>value</Field>" * 40 + b"</SisUpdate>"  # ~900 bytes


class Server:
    """The local HTTP target in a process of its own, so that its GIL is not the client's."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gateway.testing.http_target", "--port", "0"],
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        assert self.proc.stdout is not None
        self.url = self.proc.stdout.readline().strip()
        self.base = self.url.rsplit("/", 1)[0]

    def acceptances(self) -> list[dict[str, Any]]:
        accepted: list[dict[str, Any]] = httpx.get(f"{self.base}/_accepted", timeout=60).json()
        return accepted

    def close(self) -> None:
        self.proc.send_signal(signal.SIGINT)
        self.proc.wait(30)


def load() -> dict[str, float]:
    one, five, fifteen = os.getloadavg()
    return {"1m": one, "5m": five, "15m": fifteen}


def messages(count: int, cases: int, tag: str, at: dt.datetime | None = None) -> list[OutboxMessage]:
    out = []
    for i in range(count):
        key, seq = f"{tag}-case-{i % cases:05d}", i // cases + 1
        body = BODY + f"<!-- {key} {seq} -->".encode()
        source = str(uuid.uuid4())
        when = at or dt.datetime.now(dt.UTC)
        out.append(
            OutboxMessage(
                message_id_for(TARGET, "SIS_UPDATE", key, source, body), TARGET, "SIS_UPDATE", key, seq, when,
                source, when, "application/xml", body,
            )
        )  # fmt: skip
    return out


def ceiling(server: Server, batch: list[OutboxMessage], in_flight: int) -> dict[str, float]:
    transport = HttpTransport(HttpOptions(url=server.url, max_connections=in_flight))
    cases = group_by_key(batch, lambda m: m.ordering_key)

    def send_case(case: list[OutboxMessage]) -> None:
        for m in case:
            transport.send(m)

    started = time.perf_counter()
    with ThreadPoolExecutor(in_flight) as pool:
        list(pool.map(send_case, cases))
    elapsed = time.perf_counter() - started
    transport.close()
    return {"messages": len(batch), "seconds": elapsed, "per_s": len(batch) / elapsed}


def settings_for(bootstrap: str, tag: str) -> GatewaySettings:
    topics = TopicNames(
        outbox_prefix=f"bench-deliver-{tag}.out.",
        outbox_dlq_prefix=f"bench-deliver-{tag}.dlq.out.",
        receipts=f"bench-deliver-{tag}.receipts",
        partitions=3,
    )
    return GatewaySettings(kafka=KafkaSettings(bootstrap_servers=bootstrap), topics=topics)


def produce(settings: GatewaySettings, batch: list[OutboxMessage]) -> None:
    topic, codec = settings.topics.outbox(TARGET), outbox_codec()
    producer = Producer({"bootstrap.servers": settings.kafka.bootstrap_servers, "enable.idempotence": True})
    for m in batch:
        record = outbox_record(topic, m, codec)
        producer.produce(topic, record.value, record.key, headers=list(record.headers))
        producer.poll(0)
    producer.flush(60)


def options(in_flight: int, batch: int, idle: float) -> DeliverySettings:
    return DeliverySettings(
        max_in_flight=in_flight, batch_size=batch, instance=f"bench-{uuid.uuid4().hex[:6]}", idle_exit_s=idle
    )


def backlog(bootstrap: str, server: Server, count: int, cases: int, in_flight: int, batch: int) -> dict[str, Any]:
    tag = uuid.uuid4().hex[:8]
    settings = settings_for(bootstrap, tag)
    provision_delivery(settings, TARGET)
    produce(settings, messages(count, cases, tag))
    transport = HttpTransport(HttpOptions(url=server.url, max_connections=in_flight))
    first = len(server.acceptances())
    started = time.perf_counter()
    stats = run_delivery(settings, TARGET, transport, options(in_flight, batch, idle=2.0))
    transport.close()
    accepted = server.acceptances()[first:]
    # From the first acceptance to the last: the group join before and the idle wait after are not delivery.
    span = accepted[-1]["at"] - accepted[0]["at"] if len(accepted) > 1 else float("nan")
    return {
        "topic_prefix": f"bench-deliver-{tag}",
        "messages": stats.processor.records_in,
        "delivered": stats.delivered,
        "transactions": stats.processor.batches_committed,
        "seconds_to_last_acceptance": span,
        "per_s": len(accepted) / span,
        "wall_with_start_and_idle_exit_s": time.perf_counter() - started,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bootstrap", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:29092"))
    parser.add_argument("--messages", type=int, default=5_000)
    parser.add_argument("--cases", type=int, default=500)
    parser.add_argument("--in-flight", type=int, default=16)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--latency-messages", type=int, default=3_000)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.messages, args.latency_messages = 1_000, 600
    results: dict[str, Any] = {
        "bootstrap": args.bootstrap,
        "cpus": os.cpu_count(),
        "load_start": load(),
        "settings": {"messages": args.messages, "cases": args.cases, "in_flight": args.in_flight, "batch": args.batch},
    }
    server = Server()
    try:
        warm = messages(200, 20, "warm")
        ceiling(server, warm, args.in_flight)
        results["ceiling"] = ceiling(server, messages(args.messages, args.cases, "ceil"), args.in_flight)
        results["load_after_ceiling"] = load()
        results["worker"] = backlog(args.bootstrap, server, args.messages, args.cases, args.in_flight, args.batch)
        results["load_after_worker"] = load()
        results["ratio"] = results["worker"]["per_s"] / results["ceiling"]["per_s"]
        rate = min(1_000.0, results["worker"]["per_s"] / 2)
        results["latency"] = paced_latency(args, server, rate)
        results["load_after_latency"] = load()
        results["end_to_end"] = end_to_end(args, server, min(200.0, rate))
        results["load_end"] = load()
    finally:
        server.close()
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / ("deliver-quick.json" if args.quick else "deliver.json")
    path.write_text(json.dumps(results, indent=1))
    print_table(results, path)


def paced_latency(args: argparse.Namespace, server: Server, rate: float) -> dict[str, Any]:
    """Worker running, messages produced at ``rate`` stamped with their produce time; latency to the server."""
    tag = uuid.uuid4().hex[:8]
    settings = settings_for(args.bootstrap, tag)
    provision_delivery(settings, TARGET)
    batch = messages(args.latency_messages, args.cases, tag)
    transport = HttpTransport(HttpOptions(url=server.url, max_connections=args.in_flight))
    opts = options(args.in_flight, args.batch, idle=3.0)
    worker = threading.Thread(target=run_delivery, args=(settings, TARGET, transport, opts), daemon=True)
    worker.start()
    # Warm up: the clock starts once the worker delivers (joined its group, saw the new topic's partitions).
    warm = messages(20, 20, f"{tag}-warm")
    produce(settings, warm)
    deadline = time.monotonic() + 120
    while {m.message_id for m in warm} - {a["id"] for a in server.acceptances()} and time.monotonic() < deadline:
        time.sleep(0.5)
    produced_at: dict[str, float] = {}
    topic, codec = settings.topics.outbox(TARGET), outbox_codec()
    producer = Producer({"bootstrap.servers": args.bootstrap, "enable.idempotence": True, "linger.ms": 5})
    started = time.perf_counter()
    for i, m in enumerate(batch):
        due = started + i / rate
        while (wait := due - time.perf_counter()) > 0:
            time.sleep(min(wait, 0.005))
        now = dt.datetime.now(dt.UTC)
        stamped = OutboxMessage(
            m.message_id, m.target, m.kind, m.ordering_key, m.sequence, now, m.source_event_id, now,
            m.content_type, m.body,
        )  # fmt: skip
        produced_at[m.message_id] = now.timestamp()
        record = outbox_record(topic, stamped, codec)
        producer.produce(topic, record.value, record.key, headers=list(record.headers))
        producer.poll(0)
    producer.flush(60)
    worker.join(180)
    transport.close()
    lat = sorted((a["at"] - produced_at[a["id"]]) * 1000 for a in server.acceptances() if a["id"] in produced_at)
    quantiles = statistics.quantiles(lat, n=100) if len(lat) > 1 else [float("nan")] * 99
    return {
        "rate_per_s": rate,
        "messages": len(lat),
        "p50_ms": quantiles[49],
        "p99_ms": quantiles[98],
        "max_ms": lat[-1] if lat else float("nan"),
        "batch_wait_s": opts.batch_wait_s,
    }


def end_to_end(args: argparse.Namespace, server: Server, rate: float) -> dict[str, Any]:
    """Canonical decisions at ``rate`` -> outbound stage -> SIS outbox -> delivery worker -> the server."""
    from gateway.codec.codec import EventCodec
    from gateway.devservices.provision import provision
    from gateway.events.headers import EVENT_TYPE_HEADER
    from gateway.monitor.clock import EventTimeClock
    from gateway.outbound.config import OutboundConfig
    from gateway.outbound.service import OutboundOptions, default_codecs, run_outbound
    from gateway.testing.examples import event as example_event

    tag = uuid.uuid4().hex[:8]
    base = settings_for(args.bootstrap, tag)
    topics = base.topics.model_copy(update={"canonical": f"bench-deliver-{tag}.events"})
    settings = base.model_copy(update={"state_dir": OUT / f"state-{tag}", "topics": topics})
    provision(settings, [])
    config = OutboundConfig(targets=("sis",))
    stop = threading.Event()
    stage_options = OutboundOptions(application=f"bench-ob-{tag}", instance="b", clock=EventTimeClock())
    stage = threading.Thread(
        target=run_outbound, args=(settings, config, default_codecs(settings), stage_options, stop), daemon=True
    )
    transport = HttpTransport(HttpOptions(url=server.url, max_connections=args.in_flight))
    opts = options(args.in_flight, args.batch, idle=600.0)
    worker = threading.Thread(target=run_delivery, args=(settings, TARGET, transport, opts, stop), daemon=True)
    stage.start()
    worker.start()
    codec, template = EventCodec(), example_event(EventType.RETURN_DECISION_ISSUED)
    producer = Producer({"bootstrap.servers": args.bootstrap, "enable.idempotence": True, "linger.ms": 5})
    topic = settings.topics.canonical

    def decision(i: int, phase: str) -> tuple[str, bytes, str]:
        case = f"E2E-{phase}-{i:06d}"
        payload = template.payload.model_copy(update={"decision_reference": f"D-{case}"})
        changes = {"event_id": uuid.uuid4(), "case_reference": case, "subject_key": f"{tag}-{phase}-{i}"}
        e = template.model_copy(update={**changes, "payload": payload})
        return e.subject_key, codec.encode(e, topic), f"{e.member_state}:{case}"

    def send(i: int, phase: str) -> tuple[str, float]:
        key, value, ordering = decision(i, phase)
        producer.produce(topic, value, key.encode(), headers=[(EVENT_TYPE_HEADER, b"RETURN_DECISION_ISSUED")])
        producer.poll(0)
        return ordering, time.time()

    # Warm up until both stages have joined their groups and a message went all the way through.
    warm = dict(send(i, "warm") for i in range(5))
    producer.flush(30)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and not set(warm) <= {a["ordering_key"] for a in server.acceptances()}:
        time.sleep(0.5)
    count = max(200, args.latency_messages // 3)
    produced: dict[str, float] = {}
    started = time.perf_counter()
    for i in range(count):
        due = started + i / rate
        while (wait := due - time.perf_counter()) > 0:
            time.sleep(min(wait, 0.005))
        ordering, at = send(i, "run")
        produced[ordering] = at
    producer.flush(60)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        arrived = {a["ordering_key"]: a["at"] for a in server.acceptances() if a["ordering_key"] in produced}
        if len(arrived) == len(produced):
            break
        time.sleep(0.5)
    stop.set()
    stage.join(60)
    worker.join(60)
    transport.close()
    lat = sorted((arrived[k] - produced[k]) * 1000 for k in arrived)
    quantiles = statistics.quantiles(lat, n=100) if len(lat) > 1 else [float("nan")] * 99
    return {
        "rate_per_s": rate,
        "events": count,
        "delivered": len(lat),
        "p50_ms": quantiles[49],
        "p99_ms": quantiles[98],
        "max_ms": lat[-1] if lat else float("nan"),
    }


def print_table(results: dict[str, Any], path: Path) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(title=f"Delivery to a local HTTP target, {results['bootstrap']}, {results['cpus']} cores")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_column("load 1m", justify="right")
    c, w, lat = results["ceiling"], results["worker"], results["latency"]
    table.add_row(
        "raw HTTP ceiling (no Kafka), messages/s", f"{c['per_s']:,.0f}", f"{results['load_after_ceiling']['1m']:.2f}"
    )
    table.add_row(
        "gateway deliver (backlog), messages/s", f"{w['per_s']:,.0f}", f"{results['load_after_worker']['1m']:.2f}"
    )
    table.add_row("  ratio to the ceiling", f"{results['ratio']:.2f}", "")
    table.add_row("  transactions committed", str(w["transactions"]), "")
    table.add_row(
        f"latency at {lat['rate_per_s']:,.0f} msg/s, p50 ms",
        f"{lat['p50_ms']:,.1f}",
        f"{results['load_end']['1m']:.2f}",
    )
    table.add_row("  p99 ms", f"{lat['p99_ms']:,.1f}", "")
    table.add_row("  max ms", f"{lat['max_ms']:,.1f}", "")
    e2e = results["end_to_end"]
    table.add_row(
        f"canonical event -> outbound -> deliver -> target at {e2e['rate_per_s']:,.0f} ev/s, p50 ms",
        f"{e2e['p50_ms']:,.1f}",
        f"{results['load_end']['1m']:.2f}",
    )
    table.add_row("  p99 ms", f"{e2e['p99_ms']:,.1f}", "")
    table.add_row("  max ms", f"{e2e['max_ms']:,.1f}", "")
    table.add_row("  delivered / produced", f"{e2e['delivered']} / {e2e['events']}", "")
    console.print(table)
    console.print(f"JSON: {path}")


if __name__ == "__main__":
    main()
