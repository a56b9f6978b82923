"""Ingest benchmark: end-to-end rate per connector against the raw-producer limit, latency, memory, validation cost.

Prints a table and writes JSON to bench/out/ingest.json. Compare ratios measured in one run: the machines are shared.

    .venv/bin/python bench/ingest.py                 # all installed connectors, 50k records each, 1 GB XML RSS run
    .venv/bin/python bench/ingest.py --records 20000 --xml-gb 0.2 --skip-latency

Measured, per connector:
- ingest rate: records/s of ``FileIngestor`` (exactly-once transactions, idempotent producer, acks=all) over a
  generated export with 2 % defects, into a real broker (the local one unless ``--bootstrap``);
- raw rate: records/s of a plain confluent-kafka idempotent producer (acks=all) sending the same number of
  pre-encoded payloads of the same size: the limit the pipeline is compared with;
- ceiling: records/s of the same pipeline without Kafka (read, then process each record in turn): what the
  Python side allows; the rest of the gap to it is producing and committing;
- stage costs: µs/record of read, translate (parse + map + envelope), validate and encode, measured in-process
  without Kafka; the validation share is validate / (read + translate + validate + encode + produce); encode is
  also measured through fastavro alone (``fastavro``), the path the compiled writer replaced;
- latency: p50 / p99 from a raw record's produce to its event's commit, service mode at a steady rate;
- peak RSS: of a subprocess ingesting a large XML export (``--xml-gb``);
- service mode: records/s of one and of two `gateway run` processes sharing a raw topic keyed by case, read off
  the group's committed offsets: what adding a process gives on this machine.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from confluent_kafka import (
    Consumer,
    ConsumerGroupState,
    ConsumerGroupTopicPartitions,
    KafkaException,
    Producer,
    TopicPartition,
)
from confluent_kafka.admin import AdminClient

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gateway.codec.codec import EventCodec  # noqa: E402
from gateway.config import GatewaySettings, TopicNames  # noqa: E402
from gateway.connectors import discovery  # noqa: E402
from gateway.ops.local_kafka import LocalKafka  # noqa: E402
from gateway.ops.provision import provision  # noqa: E402
from gateway.pipeline.file_ingest import FileIngestor  # noqa: E402
from gateway.pipeline.service import ServiceOptions, run_service  # noqa: E402
from gateway.pipeline.wiring import build_processor  # noqa: E402
from gateway.samples.generate import generate_file, sample_records  # noqa: E402

TARGETS = {"de-csv": 20_000, "fr-jsonl": 20_000, "nl-xml": 10_000}
OUT = ROOT / "bench" / "out"


def settings_for(bootstrap: str, tag: str, *, rules: bool = True) -> GatewaySettings:
    run = f"bench-{tag}-{uuid.uuid4().hex[:6]}"
    topics = TopicNames(
        canonical=f"{run}.events", dlq_prefix=f"{run}.dlq.", raw_prefix=f"{run}.raw.", progress=f"{run}.progress"
    )
    return GatewaySettings(kafka={"bootstrap_servers": bootstrap}, topics=topics, batch_size=5000, rules_enabled=rules)


def member_state(name: str) -> str:
    """The Member State whose export a connector's samples imitate."""
    return {"de-csv": "DE", "fr-jsonl": "FR", "nl-xml": "NL"}.get(name, "NL")


def connector(name: str) -> Any:
    cls = discovery.load(name)
    return cls(cls.config_model.model_validate({"member_state": member_state(name)}))


def stage_costs(name: str, path: Path, rules: bool) -> dict[str, float]:
    """µs/record of each stage, in-process, no Kafka (the best of three passes)."""
    c = connector(name)
    reference = EventCodec(compiled=False)  # the generic fastavro path, for the compiled writer's gain
    best: dict[str, float] = {}
    for _ in range(3):
        settings = settings_for("127.0.0.1:1", "stages", rules=rules)
        proc = build_processor(c, settings, correlation_id="bench")
        t0 = time.perf_counter()
        with path.open("rb") as f:
            records = list(c.read(f, str(path)))
        t1 = time.perf_counter()
        translated = []
        for r in records:
            try:
                translated.append(c.translate(r, proc.context))
            except Exception:
                translated.append([])
        t2 = time.perf_counter()
        for events in translated:
            proc.validation.check(events, proc.states)
        t3 = time.perf_counter()
        for events in translated:
            for e in events:
                proc.codec.encode(e)
        t4 = time.perf_counter()
        for events in translated:
            for e in events:
                reference.encode(e)
        t5 = time.perf_counter()
        # The same work as a FileIngestor, Kafka left out, in the same batches. The stages above each run alone over
        # the whole file (warm caches, a case state already filled), so this, not their sum, is the ceiling the
        # Python side sets on the ingest rate.
        fresh = build_processor(c, settings_for("127.0.0.1:1", "stages", rules=rules), correlation_id="bench")
        t6 = time.perf_counter()
        with path.open("rb") as f:
            for _ in fresh.process_stream(c.read(f, str(path))):
                pass
        t7 = time.perf_counter()
        n = len(records)
        costs = {
            "read_us": (t1 - t0) / n * 1e6,
            "translate_us": (t2 - t1) / n * 1e6,
            "validate_us": (t3 - t2) / n * 1e6,
            "encode_us": (t4 - t3) / n * 1e6,
            "encode_fastavro_us": (t5 - t4) / n * 1e6,
            "pipeline_without_kafka_us": (t7 - t6) / n * 1e6,
        }
        best = {k: min(v, best.get(k, v)) for k, v in costs.items()}
    return best


def raw_rate(bootstrap: str, payloads: list[bytes]) -> float:
    """Records/s of a plain idempotent producer (acks=all) sending pre-encoded payloads."""
    topic = settings_for(bootstrap, "raw").topics.canonical
    s = settings_for(bootstrap, "raw")
    provision(s.model_copy(update={"topics": s.topics.model_copy(update={"canonical": topic})}), [])
    p = Producer(
        {
            "bootstrap.servers": bootstrap,
            "enable.idempotence": True,
            "acks": "all",
            "linger.ms": 5,
            "compression.codec": "lz4",
        }
    )
    t0 = time.perf_counter()
    for i, value in enumerate(payloads):
        while True:
            try:
                p.produce(topic, value, key=str(i % 1000).encode())
                break
            except BufferError:
                p.poll(0.05)
        p.poll(0)
    p.flush(60)
    return len(payloads) / (time.perf_counter() - t0)


def ingest_rate(bootstrap: str, name: str, path: Path, rules: bool) -> tuple[float, Any]:
    s = settings_for(bootstrap, name, rules=rules)
    provision(s, [name])
    t0 = time.perf_counter()
    summary = FileIngestor(connector(name), s).ingest(path)
    return summary.records / (time.perf_counter() - t0), summary


def latency(bootstrap: str, name: str, rate: int, seconds: float) -> dict[str, float]:
    """p50/p99 ms from producing a raw record to reading its committed event, service mode at a steady rate."""
    s = settings_for(bootstrap, f"lat-{name}", rules=True)
    provision(s, [name])
    c = connector(name)
    records = [r.data for _, r in sample_records(c, count=int(rate * seconds), seed=9) if r.defect is None]
    stop = threading.Event()
    service = threading.Thread(
        target=run_service, args=(c, s, ServiceOptions(instance=f"lat-{uuid.uuid4().hex[:6]}"), stop), daemon=True
    )
    service.start()
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"lat-{uuid.uuid4().hex[:6]}",
            "auto.offset.reset": "earliest",
            "isolation.level": "read_committed",
        }
    )
    consumer.subscribe([s.topics.canonical])
    time.sleep(3.0)  # let the service join its group
    sent: dict[bytes, float] = {}
    p = Producer({"bootstrap.servers": bootstrap, "linger.ms": 0})

    def feed() -> None:
        start = time.perf_counter()
        for i, value in enumerate(records):
            due = start + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            key = f"lat-{i}".encode()
            sent[key] = time.time()
            p.produce(s.topics.raw(name), value, key=key, headers=[("bench.key", key)])
            p.poll(0)
        p.flush(30)

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    # Events carry no raw-message key, so match by order of arrival per event time: use the broker timestamp of the
    # event (commit-visible time is when we read it) against the mean send time of the same index.
    seen: list[float] = []
    deadline = time.time() + seconds + 30
    while len(seen) < len(records) and time.time() < deadline:
        msg = consumer.poll(0.5)
        if msg is None or msg.error():
            continue
        seen.append(time.time())
    feeder.join()
    stop.set()
    consumer.close()
    sends = sorted(sent.values())
    lat = sorted((r - s_) * 1000 for r, s_ in zip(sorted(seen), sends, strict=False))
    if not lat:
        return {"p50_ms": float("nan"), "p99_ms": float("nan"), "rate": rate}
    return {
        "p50_ms": statistics.median(lat),
        "p99_ms": lat[min(len(lat) - 1, int(len(lat) * 0.99))],
        "rate": rate,
        "events": len(lat),
    }


def service_rate(bootstrap: str, name: str, count: int, processes: int, tmp: Path) -> dict[str, float]:
    """Records/s of ``processes`` `gateway run` processes sharing one raw topic of 4 partitions, keyed by case.

    The processes start first; the records are produced once every process holds partitions; the rate is read off
    the group's committed offsets (which advance only when a transaction commits), from the first commit seen to
    the last record's, so neither start-up nor the idle wait before exit counts.
    """
    run = f"bench-so-{uuid.uuid4().hex[:6]}"
    partitions = 4
    cfg = tmp / f"{run}.toml"
    cfg.write_text(
        f'[kafka]\nbootstrap_servers = "{bootstrap}"\n[topics]\ncanonical = "{run}.events"\n'
        f'dlq_prefix = "{run}.dlq."\nraw_prefix = "{run}.raw."\nprogress = "{run}.progress"\n'
        f'partitions = {partitions}\n[connectors.{name}]\nmember_state = "{member_state(name)}"\n'
    )
    settings = GatewaySettings.load(cfg)
    provision(settings, [name])
    # Rendered before the processes start: rendering is slower than they are, and would set the pace.
    messages, key = [], b""
    for _, record in sample_records(connector(name), count=count, seed=1, defect_share=0.02):
        key = record.facts[0].case_reference.encode() if record.facts else key  # a case stays in one partition
        messages.append((key, record.data))
    # A group of its own: processes of an earlier measurement stay members of a shared group until their sessions
    # expire, and every rebalance would wait for them.
    raw, group = settings.topics.raw(name), f"gateway-{run}"
    command = [sys.executable, "-m", "gateway.cli.main", "run", "-c", name, "--config", str(cfg), "--idle-exit", "5"]
    command += ["--group", group]
    procs = []
    for i in range(processes):
        with (tmp / f"{run}-{i}.log").open("wb") as log:  # the child keeps its own descriptor
            procs.append(subprocess.Popen([*command, "--instance", f"{run}-{i}"], stdout=log, stderr=log))
    admin = AdminClient({"bootstrap.servers": bootstrap})
    deadline = time.monotonic() + 120
    while _members_holding(admin, group, raw) < processes:
        if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
            raise RuntimeError(f"{processes} processes never all held partitions of {raw}")
        time.sleep(0.2)
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5})
    for key, value in messages:
        while True:
            try:
                producer.produce(raw, value, key=key)
                break
            except BufferError:
                producer.poll(0.05)
        producer.poll(0)
    producer.flush(60)
    wanted = [ConsumerGroupTopicPartitions(group, [TopicPartition(raw, p) for p in range(partitions)])]
    first: tuple[float, int] | None = None
    done, now = 0, time.monotonic()
    while done < count and now < deadline + 600:
        offsets = admin.list_consumer_group_offsets(wanted)[group].result(timeout=10).topic_partitions
        done, now = sum(max(tp.offset, 0) for tp in offsets), time.monotonic()
        if first is None and done > 0:
            first = (now, done)
        time.sleep(0.05)
    for p in procs:
        if p.wait(120) != 0:
            raise RuntimeError(f"gateway run failed; see {tmp}")
    if first is None or done < count:
        raise RuntimeError(f"{raw}: {done} of {count} records committed")
    return {"processes": processes, "records_per_s": (count - first[1]) / (now - first[0])}


def _members_holding(admin: AdminClient, group: str, topic: str) -> int:
    try:
        description = admin.describe_consumer_groups([group])[group].result(timeout=10)
    except KafkaException:
        return 0  # the coordinator is loading or the group does not exist yet
    if description.state != ConsumerGroupState.STABLE:  # while it rebalances, the assignments shown are the old ones
        return 0
    return sum(
        1
        for m in description.members
        if m.assignment and any(tp.topic == topic for tp in m.assignment.topic_partitions)
    )


# Runs the CLI and prints the process's own peak RSS at exit. Not getrusage(RUSAGE_CHILDREN): Linux carries a
# child's peak from before exec into it, and a child forked from this (large) process starts with its pages.
_REPORT_PEAK_RSS = """
import atexit, sys
def report():
    with open("/proc/self/status") as status:
        sys.stderr.write(next(line for line in status if line.startswith("VmHWM")))
atexit.register(report)
sys.argv[0] = "gateway"
from gateway.cli.main import main
main()
"""


def xml_rss(bootstrap: str, gigabytes: float, tmp: Path) -> dict[str, float]:
    """Peak RSS (MB) of a `gateway ingest` subprocess over a generated XML export of about ``gigabytes``."""
    c = connector("nl-xml")
    path = tmp / "big.xml"
    probe = io.BytesIO()
    from gateway.samples.generate import generate

    generate(c, probe, count=2000, seed=4)
    per_record = len(probe.getvalue()) / 2000
    count = int(gigabytes * 1e9 / per_record)
    t0 = time.perf_counter()
    generate_file(c, path, count=count, seed=4, defect_share=0.01)
    gen_s = time.perf_counter() - t0
    s = settings_for(bootstrap, "rss")
    provision(s, ["nl-xml"])
    cfg = tmp / "rss.toml"
    cfg.write_text(
        f'[kafka]\nbootstrap_servers = "{bootstrap}"\n[topics]\ncanonical = "{s.topics.canonical}"\n'
        f'dlq_prefix = "{s.topics.dlq_prefix}"\nraw_prefix = "{s.topics.raw_prefix}"\n'
        f'progress = "{s.topics.progress}"\n'
    )
    t0 = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _REPORT_PEAK_RSS, "ingest", "-c", "nl-xml", "--config", str(cfg), str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - t0
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    peak_kb = int(next(line.split()[1] for line in done.stderr.splitlines() if line.startswith("VmHWM")))
    return {
        "file_mb": path.stat().st_size / 1e6,
        "records": count,
        "peak_rss_mb": peak_kb / 1024,
        "seconds": seconds,
        "records_per_s": count / seconds,
        "generate_s": gen_s,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, default=50_000)
    ap.add_argument("--connectors", nargs="*")
    ap.add_argument("--bootstrap")
    ap.add_argument("--xml-gb", type=float, default=1.0)
    ap.add_argument("--latency-rate", type=int, default=2000)
    ap.add_argument("--skip-latency", action="store_true")
    ap.add_argument("--skip-rss", action="store_true")
    ap.add_argument("--skip-scale-out", action="store_true", help="skip service mode with 1 and 2 processes")
    args = ap.parse_args()
    bootstrap = args.bootstrap or LocalKafka().start()
    names = args.connectors or [i.name for i in discovery.describe() if i.error is None]
    OUT.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {"records": args.records, "bootstrap": bootstrap, "connectors": {}}
    with tempfile.TemporaryDirectory(dir=ROOT / ".cache") as tmpdir:
        tmp = Path(tmpdir)
        for name in names:
            path = tmp / f"{name}.export"
            manifest = generate_file(connector(name), path, count=args.records, seed=1, defect_share=0.02)
            costs = stage_costs(name, path, rules=True)
            rate, summary = ingest_rate(bootstrap, name, path, rules=True)
            rate_norules, _ = ingest_rate(bootstrap, name, path, rules=False)
            c = connector(name)
            proc = build_processor(c, settings_for(bootstrap, "enc", rules=False), correlation_id="bench")
            payloads = []
            with path.open("rb") as f:
                for r in c.read(f, str(path)):
                    payloads.extend(e.value for e in proc.process(r).events)
            limit = raw_rate(bootstrap, payloads[: args.records])
            per_record = 1e6 / rate
            row = {
                "records": summary.records,
                "events": summary.events,
                "dead_letters": summary.dead_letters,
                "expected_events": manifest.events,
                "expected_dead_letters": len(manifest.defects),
                "ingest_rate": rate,
                "ingest_rate_without_rules": rate_norules,
                "raw_producer_rate": limit,
                "ratio_to_raw": rate / limit,
                "rate_without_kafka": 1e6 / costs["pipeline_without_kafka_us"],
                "target_rate": TARGETS.get(name),
                "stage_us": costs,
                "pipeline_us_per_record": per_record,
                "validation_share": costs["validate_us"] / per_record,
            }
            if not args.skip_latency:
                row["latency"] = latency(bootstrap, name, args.latency_rate, 10.0)
            if not args.skip_scale_out:
                row["service"] = [service_rate(bootstrap, name, args.records, n, tmp) for n in (1, 2)]
            results["connectors"][name] = row
        if not args.skip_rss and "nl-xml" in names:
            results["xml_rss"] = xml_rss(bootstrap, args.xml_gb, tmp)
    (OUT / "ingest.json").write_text(json.dumps(results, indent=1))
    print_table(results)


def print_table(results: dict[str, Any]) -> None:
    nan = float("nan")
    head = (
        f"{'connector':10} {'rec/s':>8} {'target':>7} {'raw rec/s':>10} {'ratio':>6} {'no-rules':>9} {'no-kafka':>9} "
        f"{'read':>6} {'transl':>7} {'valid':>6} {'encode':>7} {'fastavro':>8} {'val%':>5} {'p50ms':>7} {'p99ms':>7}"
    )
    print(head)
    print("-" * len(head))
    for name, r in results["connectors"].items():
        st = r["stage_us"]
        lat = r.get("latency", {})
        print(
            f"{name:10} {r['ingest_rate']:8,.0f} {r['target_rate'] or 0:7,} {r['raw_producer_rate']:10,.0f} "
            f"{r['ratio_to_raw']:6.1%} {r['ingest_rate_without_rules']:9,.0f} {r['rate_without_kafka']:9,.0f} "
            f"{st['read_us']:6.1f} "
            f"{st['translate_us']:7.1f} {st['validate_us']:6.1f} {st['encode_us']:7.1f} "
            f"{st['encode_fastavro_us']:8.1f} "
            f"{r['validation_share']:5.1%} {lat.get('p50_ms', nan):7.0f} {lat.get('p99_ms', nan):7.0f}"
        )
    scaled = {name: r["service"] for name, r in results["connectors"].items() if "service" in r}
    if scaled:
        print("\nService mode (`gateway run`, raw topic of 4 partitions keyed by case), records/s:")
        print(f"{'connector':10} {'1 process':>10} {'2 processes':>12} {'speed-up':>9}")
        for name, (one, two) in scaled.items():
            a, b = one["records_per_s"], two["records_per_s"]
            print(f"{name:10} {a:10,.0f} {b:12,.0f} {b / a:8.2f}x")
    if "xml_rss" in results:
        x = results["xml_rss"]
        print(
            f"\nXML {x['file_mb']:,.0f} MB ({x['records']:,} records): peak RSS {x['peak_rss_mb']:.0f} MB, "
            f"{x['records_per_s']:,.0f} rec/s through `gateway ingest`"
        )
    print(f"\nJSON: {OUT / 'ingest.json'}")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
