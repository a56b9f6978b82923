"""Ingest benchmark: end-to-end rate per connector against the raw-producer limit, latency, memory, validation cost.

Prints a table and writes JSON to bench/out/ingest.json. Compare ratios measured in one run: the machines are shared.

    .venv/bin/python bench/ingest.py                 # all installed connectors, 50k records each, 1 GB XML RSS run
    .venv/bin/python bench/ingest.py --records 20000 --xml-gb 0.2 --skip-latency

Measured, per connector:
- ingest rate: records/s of ``FileIngestor`` (exactly-once transactions, idempotent producer, acks=all) over a
  generated export with 2 % defects, into a real broker (the local one unless ``--bootstrap``);
- raw rate: records/s of a plain confluent-kafka idempotent producer (acks=all) sending the same number of
  pre-encoded payloads of the same size, timed after a warm-up (the first message to a new topic waits for its
  metadata and the producer id, about 0.5 s): the limit the pipeline is compared with;
- ceiling: records/s of the same pipeline without Kafka (read, then process each record in turn): what the
  Python side allows; the rest of the gap to it is producing and committing;
- stage costs: µs/record of read, translate (parse + map + envelope), validate and encode, measured in-process
  without Kafka; the validation share is validate / (read + translate + validate + encode + produce); encode is
  also measured through fastavro alone (``fastavro``), the path the compiled writer replaced;
- latency: p50 / p99 from a raw record's produce to its event's commit, service mode at a steady rate;
- peak RSS: of a subprocess ingesting a large XML export (``--xml-gb``);
- service mode: records/s of one and of two `gateway run` processes sharing a raw topic keyed by case, read off
  the group's committed offsets: what adding a process gives on this machine;
- the comparison, measured in the same run and the same way as one `gateway run` (service mode, raw topic →
  canonical topic, exactly-once, ``--batch-records`` per transaction for all three, by default the gateway's
  ``batch_size``): the CEILING, a minimal hand-written consume → parse
  → dict → fastavro → transactional-produce loop (``bench/ceiling.py``), and QUIX, the same transform as a
  quixstreams + pydantic + fastavro application (``bench/quix_app.py``, in its own virtual environment under
  ``.cache/bench-venvs/quix``, created on first use from ``bench/quix-requirements.txt``); targets: the gateway at
  ≥ 1.5x quix and ≥ 0.85x the ceiling, rules on;
- replay (``--replay``): events/s of a consumer reading the canonical topic and decoding with plain fastavro, with
  ``EventCodec.decode_record`` (dicts), ``decode(trusted=True)`` and ``decode()`` (validated models), one after
  the other over the same topic.

Every figure is printed with the 1-minute load average (``os.getloadavg``) taken when it was measured.
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
from collections.abc import Callable
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

import ceiling  # noqa: E402  (bench/, the script's folder, is on sys.path)

from gateway.codec import single_object  # noqa: E402
from gateway.codec.codec import EventCodec  # noqa: E402
from gateway.config import GatewaySettings, TopicNames  # noqa: E402
from gateway.connectors import discovery  # noqa: E402
from gateway.devservices.local_kafka import LocalKafka  # noqa: E402
from gateway.devservices.provision import provision  # noqa: E402
from gateway.evolution.history import expand  # noqa: E402
from gateway.pipeline.file_ingest import FileIngestor  # noqa: E402
from gateway.pipeline.service import ServiceOptions, run_service  # noqa: E402
from gateway.pipeline.wiring import build_processor  # noqa: E402
from gateway.samples.generate import generate_file, sample_records  # noqa: E402

TARGETS = {"de-csv": 20_000, "fr-jsonl": 20_000, "nl-xml": 10_000}
TARGET_TO_QUIX, TARGET_TO_CEILING = 1.5, 0.85
OUT = ROOT / "bench" / "out"
QUIX_VENV = ROOT / ".cache" / "bench-venvs" / "quix"
QUIX_REQUIREMENTS = ROOT / "bench" / "quix-requirements.txt"


def load() -> float:
    """The 1-minute load average, printed beside every figure: on a shared machine a figure means little without."""
    return os.getloadavg()[0]


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
    # Warm-up, not timed: the first message to a just-created topic waits for its metadata, the producer id and
    # the connections to the leaders (about 0.5 s), which would make the rate grow with the number of records.
    for i, value in enumerate(payloads[:1000]):
        p.produce(topic, value, key=str(i % 1000).encode())
    p.flush(60)
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
        "load": load(),
    }


Command = Callable[[Path, GatewaySettings, str, str], list[str]]


def gateway_command(name: str, tree: Path | None = None) -> Command:
    """`gateway run` over the measurement's topics; ``tree``: the gateway (and connectors) of another checkout.

    Another checkout (``--baseline``, e.g. a ``git archive`` of the commit before a change) runs with its
    ``gateway`` package and its connectors' sources first on ``PYTHONPATH``, in this environment, so a change is
    measured against its parent in the same run, interleaved, under the same load.
    """

    def command(cfg: Path, settings: GatewaySettings, group: str, instance: str) -> list[str]:
        prefix: list[str] = []
        if tree is not None:
            prefix = ["env", f"PYTHONPATH={_tree_path(tree)}"]
        # -P: `python -m` puts the working directory (this checkout) first on sys.path, before PYTHONPATH, so
        # without it a baseline ran this checkout's `gateway` with the other tree's connectors.
        gateway = [*prefix, sys.executable, "-P", "-m", "gateway.cli.main", "run", "-c", name, "--config", str(cfg)]
        return [*gateway, "--idle-exit", "5", "--group", group, "--instance", instance]

    return command


def _tree_path(tree: Path) -> str:
    """``PYTHONPATH`` that puts a checkout's ``gateway`` and connector sources first."""
    return os.pathsep.join([str(tree), *(str(src) for src in sorted(tree.glob("connectors/*/src")))])


def check_tree(tree: Path, name: str) -> None:
    """Fail unless ``gateway_command(name, tree)`` would import the gateway and the connector of ``tree``."""
    probe = (
        "import gateway, importlib.metadata as md; "
        f"ep = next(e for e in md.entry_points(group='gateway.connectors') if e.name == {name!r}); "
        "print(gateway.__file__); print(__import__(ep.module.split('.')[0]).__file__)"
    )
    env = {**os.environ, "PYTHONPATH": _tree_path(tree)}
    out = subprocess.run([sys.executable, "-P", "-c", probe], env=env, capture_output=True, text=True, check=True)
    resolved = tree.resolve()
    for module_file in out.stdout.split():
        if not Path(module_file).resolve().is_relative_to(resolved):
            raise SystemExit(f"--baseline {tree}: {module_file} is imported from outside the tree")


def loop_command(python: Path, script: str, name: str, templates: Path, idle_exit: float = 5.0) -> Command:
    """``bench/ceiling.py`` or ``bench/quix_app.py`` (with ``python``) over the measurement's topics."""

    def command(cfg: Path, settings: GatewaySettings, group: str, instance: str) -> list[str]:
        topics = settings.topics
        return [
            *(str(python), str(ROOT / "bench" / script), "--bootstrap", settings.kafka.bootstrap_servers),
            *("--connector", name, "--templates", str(templates), "--raw", topics.raw(name)),
            *("--out", topics.canonical, "--dlq", topics.dlq(name), "--group", group, "--idle-exit", str(idle_exit)),
            *("--batch", str(settings.batch_size)),
        ]

    return command


def service_rate(
    bootstrap: str,
    name: str,
    count: int,
    processes: int,
    tmp: Path,
    command: Command | None = None,
    batch_records: int | None = None,
) -> dict[str, float]:
    """Records/s of ``processes`` processes sharing one raw topic of 4 partitions, keyed by case.

    ``command`` starts one process (default: `gateway run`; also the ceiling and the quixstreams application,
    measured the same way). The processes start first; the records are produced once every process holds
    partitions; the rate is read off the group's committed offsets (which advance only when a transaction
    commits), from the first commit seen to the last record's, so neither start-up nor the idle wait before exit
    counts. Every process commits ``batch_records`` records per transaction (`gateway run` through its
    ``batch_size`` setting, the loops through ``--batch``); None: the gateway's default ``batch_size``.
    """
    command = command or gateway_command(name)
    run = f"bench-so-{uuid.uuid4().hex[:6]}"
    partitions = 4
    cfg = tmp / f"{run}.toml"
    batch = GatewaySettings().batch_size if batch_records is None else batch_records
    cfg.write_text(
        f"batch_size = {batch}\n"
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
    procs = []
    for i in range(processes):
        with (tmp / f"{run}-{i}.log").open("wb") as log:  # the child keeps its own descriptor
            procs.append(subprocess.Popen(command(cfg, settings, group, f"{run}-{i}"), stdout=log, stderr=log))
    admin = AdminClient({"bootstrap.servers": bootstrap})
    deadline = time.monotonic() + 120
    while _members_holding(admin, group, raw) < processes:
        if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
            for proc in procs:
                proc.kill()
            # The temporary folder goes with the bench's exit: the logs' last lines go into the error.
            tails = "\n".join(
                f"--- {log.name}:\n" + "\n".join(log.read_text(errors="replace").splitlines()[-15:])
                for log in sorted(tmp.glob(f"{run}-*.log"))
            )
            raise RuntimeError(f"{processes} processes never all held partitions of {raw}:\n{tails}")
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
    cpu_first = cpu_last = 0.0
    while done < count and now < deadline + 600:
        offsets = admin.list_consumer_group_offsets(wanted)[group].result(timeout=10).topic_partitions
        done, now = sum(max(tp.offset, 0) for tp in offsets), time.monotonic()
        cpu_last = sum(cpu_seconds(p.pid) for p in procs)
        if first is None and done > 0:
            first, cpu_first = (now, done), cpu_last
        time.sleep(0.05)
    for p in procs:
        if p.wait(120) != 0:
            raise RuntimeError(f"{command(cfg, settings, group, '')[:3]} failed; see {tmp}/{run}-*.log")
    if first is None or done < count:
        raise RuntimeError(f"{raw}: {done} of {count} records committed")
    rate = (count - first[1]) / (now - first[0])
    cpu_us = (cpu_last - cpu_first) / (count - first[1]) * 1e6
    return {"processes": processes, "records_per_s": rate, "load": load(), "batch_records": batch, "cpu_us": cpu_us}


def cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system, all threads) a running process has used so far, from ``/proc/<pid>/stat``.

    Read while the rate is measured, so the CPU per record (``cpu_us``) covers the same records as the rate: it is
    what each contender costs, and far less disturbed by the other work on a shared machine than its rate.
    """
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def templates_for(name: str, path: Path) -> Path:
    """The ceiling's and the quix application's templates: per event-type code, the gateway's events for it."""
    c = connector(name)
    proc = build_processor(c, settings_for("127.0.0.1:1", "tpl", rules=False), correlation_id="bench")
    samples: dict[str, list[bytes]] = {}
    for _, record in sample_records(c, count=2000, seed=3, defect_share=0.0):
        code = ceiling.PARSERS[name](record.data)["code"]
        if code not in samples:
            events = proc.process(c.from_message(record.data, "t", "t/0/0", 0, {})).events
            if events:
                samples[code] = [e.value for e in events]
    ceiling.write_templates(name, expand(), single_object.header(proc.codec.store.current_fp), samples, path)
    return path


def quix_python() -> Path:
    """The quix virtual environment's interpreter; the environment is created on first use."""
    python = QUIX_VENV / "bin" / "python"
    stamp = QUIX_VENV / "requirements.txt"
    if python.exists() and stamp.exists() and stamp.read_text() == QUIX_REQUIREMENTS.read_text():
        return python
    print(f"creating {QUIX_VENV} from {QUIX_REQUIREMENTS.relative_to(ROOT)} (first use; about a minute)", flush=True)
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(QUIX_VENV)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", "-r", str(QUIX_REQUIREMENTS)], check=True)
    stamp.write_text(QUIX_REQUIREMENTS.read_text())
    return python


def compare(
    bootstrap: str,
    name: str,
    count: int,
    tmp: Path,
    repeat: int,
    batch_records: int | None = None,
    baseline: Path | None = None,
) -> dict[str, Any]:
    """Service mode, one process each: the gateway, the ceiling, the quix application, interleaved ``repeat`` times.

    Interleaved, and the medians taken, so that a change of load on the shared machine during the run weighs on
    the three alike rather than on whichever ran then.
    """
    templates = templates_for(name, tmp / f"{name}.templates.json")
    commands = {
        "gateway": gateway_command(name),
        "ceiling": loop_command(Path(sys.executable), "ceiling.py", name, templates),
        "quix": loop_command(quix_python(), "quix_app.py", name, templates, idle_exit=10.0),
    }
    if baseline is not None:
        check_tree(baseline, name)
        commands["before"] = gateway_command(name, baseline)
    runs: dict[str, list[dict[str, float]]] = {label: [] for label in commands}
    for _ in range(repeat):
        for label, command in commands.items():
            runs[label].append(service_rate(bootstrap, name, count, 1, tmp, command, batch_records))
    out: dict[str, Any] = {"repeat": repeat, "batch_records": runs["gateway"][0]["batch_records"]}
    for label, measured in runs.items():
        out[label] = {
            "records_per_s": statistics.median(r["records_per_s"] for r in measured),
            "cpu_us": statistics.median(r["cpu_us"] for r in measured),
            "load": statistics.median(r["load"] for r in measured),
            "runs": measured,
        }
    out["to_ceiling"] = out["gateway"]["records_per_s"] / out["ceiling"]["records_per_s"]
    out["to_quix"] = out["gateway"]["records_per_s"] / out["quix"]["records_per_s"]
    if baseline is not None:
        out["to_before"] = out["gateway"]["records_per_s"] / out["before"]["records_per_s"]
        out["before_to_ceiling"] = out["before"]["records_per_s"] / out["ceiling"]["records_per_s"]
        out["before_to_quix"] = out["before"]["records_per_s"] / out["quix"]["records_per_s"]
    return out


def replay(bootstrap: str, name: str, count: int) -> dict[str, Any]:
    """Events/s of a consumer reading a canonical topic of ``count`` events, with each decoder in turn.

    The events are the gateway's for ``name``'s samples, produced once; each decoder then reads the whole topic
    with a consumer of its own group (read_committed, as downstream stages read), timed from the first message
    to the last, so that group join is left out.
    """
    from fastavro import schemaless_reader

    c = connector(name)
    s = settings_for(bootstrap, f"replay-{name}", rules=False)
    provision(s, [name])
    proc = build_processor(c, s, correlation_id="bench")
    values = [
        e.value
        for _, r in sample_records(c, count=count, seed=5, defect_share=0.0)
        for e in proc.process(c.from_message(r.data, "t", "t/0/0", 0, {})).events
    ]
    p = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5, "compression.codec": "lz4"})
    for i, value in enumerate(values):
        while True:
            try:
                p.produce(s.topics.canonical, value, key=str(i % 1000).encode())
                break
            except BufferError:
                p.poll(0.05)
        p.poll(0)
    p.flush(60)
    codec = EventCodec()
    schema = codec.store.current

    def plain(v: bytes) -> Any:
        return schemaless_reader(io.BytesIO(v[10:]), schema, None)

    decoders: dict[str, Callable[[bytes], Any]] = {
        "fastavro": plain,
        "decode_record": codec.decode_record,
        "decode_trusted": lambda v: codec.decode(v, trusted=True),
        "decode_validated": codec.decode,
    }
    out: dict[str, Any] = {"events": len(values)}
    for label, decode in decoders.items():
        consumer = Consumer(
            {
                "bootstrap.servers": bootstrap,
                "group.id": f"replay-{uuid.uuid4().hex[:6]}",
                "auto.offset.reset": "earliest",
                "isolation.level": "read_committed",
                "enable.auto.commit": False,
            }
        )
        consumer.subscribe([s.topics.canonical])
        seen, t0 = 0, 0.0
        deadline = time.monotonic() + 120
        while seen < len(values) and time.monotonic() < deadline:
            for msg in consumer.consume(1000, 0.5):
                if msg.error() is None:
                    if not seen:
                        t0 = time.perf_counter()
                    decode(msg.value() or b"")
                    seen += 1
        seconds = time.perf_counter() - t0
        consumer.close()
        out[label] = {"events_per_s": (seen - 1) / seconds, "load": load()}
    base = out["fastavro"]["events_per_s"]
    for label in decoders:
        out[label]["to_fastavro"] = out[label]["events_per_s"] / base
    return out


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
        "load": load(),
    }


def file_ingest(bootstrap: str, name: str, path: Path, records: int) -> dict[str, Any]:
    """FileIngestor rates with and without rules, stage costs and the warmed-up raw producer's rate."""
    costs = stage_costs(name, path, rules=True)
    load_stages = load()
    rate, summary = ingest_rate(bootstrap, name, path, rules=True)
    load_rate = load()
    rate_norules, _ = ingest_rate(bootstrap, name, path, rules=False)
    load_norules = load()
    c = connector(name)
    proc = build_processor(c, settings_for(bootstrap, "enc", rules=False), correlation_id="bench")
    payloads: list[bytes] = []
    with path.open("rb") as f:
        for r in c.read(f, str(path)):
            payloads.extend(e.value for e in proc.process(r).events)
    limit = raw_rate(bootstrap, payloads[:records])
    per_record = 1e6 / rate
    return {
        "records": summary.records,
        "events": summary.events,
        "dead_letters": summary.dead_letters,
        "ingest_rate": rate,
        "ingest_rate_without_rules": rate_norules,
        "raw_producer_rate": limit,
        "ratio_to_raw": rate / limit,
        "rate_without_kafka": 1e6 / costs["pipeline_without_kafka_us"],
        "target_rate": TARGETS.get(name),
        "stage_us": costs,
        "pipeline_us_per_record": per_record,
        "validation_share": costs["validate_us"] / per_record,
        "load": {"stages": load_stages, "ingest": load_rate, "no_rules": load_norules, "raw": load()},
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
    ap.add_argument("--skip-compare", action="store_true", help="skip the ceiling and quixstreams comparison")
    ap.add_argument("--skip-stages", action="store_true", help="skip stage costs and FileIngestor rates")
    ap.add_argument("--replay", action="store_true", help="also measure replay decoding against plain fastavro")
    ap.add_argument("--repeat", type=int, default=3, help="comparison runs per contender, interleaved (medians)")
    ap.add_argument(
        "--batch-records",
        type=int,
        help="records per transaction in service mode, for the gateway, the ceiling and quix alike "
        "(default: the gateway's batch_size, 2000)",
    )
    ap.add_argument(
        "--baseline",
        type=Path,
        help="another checkout's tree (e.g. `git archive HEAD | tar -x -C /tmp/before`): its `gateway run` is "
        "measured as a fourth contender, BEFORE, interleaved with the others",
    )
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
            row: dict[str, Any] = {"expected_events": manifest.events, "expected_dead_letters": len(manifest.defects)}
            if not args.skip_stages:
                row |= file_ingest(bootstrap, name, path, args.records)
            if not args.skip_compare:
                row["compare"] = compare(
                    bootstrap, name, args.records, tmp, args.repeat, args.batch_records, args.baseline
                )
            if args.replay:
                row["replay"] = replay(bootstrap, name, args.records)
            if not args.skip_latency:
                row["latency"] = latency(bootstrap, name, args.latency_rate, 10.0)
            if not args.skip_scale_out:
                row["service"] = [
                    service_rate(bootstrap, name, args.records, n, tmp, batch_records=args.batch_records)
                    for n in (1, 2)
                ]
            results["connectors"][name] = row
        if not args.skip_rss and "nl-xml" in names:
            results["xml_rss"] = xml_rss(bootstrap, args.xml_gb, tmp)
    (OUT / "ingest.json").write_text(json.dumps(results, indent=1))
    print_table(results)


def print_table(results: dict[str, Any]) -> None:
    """The figures, each followed by ``@`` and the 1-minute load average when it was measured."""
    nan = float("nan")
    rows = {name: r for name, r in results["connectors"].items() if "stage_us" in r}
    if rows:
        head = (
            f"{'connector':10} {'rec/s':>8} {'@load':>5} {'target':>7} {'raw rec/s':>10} {'@load':>5} {'ratio':>6} "
            f"{'no-rules':>9} {'no-kafka':>9} {'@load':>5} {'read':>6} {'transl':>7} {'valid':>6} {'encode':>7} "
            f"{'fastavro':>8} {'val%':>5} {'p50ms':>7} {'p99ms':>7} {'@load':>5}"
        )
        print("File ingest (FileIngestor, exactly-once); stage costs in µs/record:")
        print(head)
        print("-" * len(head))
        for name, r in rows.items():
            st, ld = r["stage_us"], r["load"]
            lat = r.get("latency", {})
            print(
                f"{name:10} {r['ingest_rate']:8,.0f} {ld['ingest']:5.2f} {r['target_rate'] or 0:7,} "
                f"{r['raw_producer_rate']:10,.0f} {ld['raw']:5.2f} {r['ratio_to_raw']:6.1%} "
                f"{r['ingest_rate_without_rules']:9,.0f} {r['rate_without_kafka']:9,.0f} {ld['stages']:5.2f} "
                f"{st['read_us']:6.1f} {st['translate_us']:7.1f} {st['validate_us']:6.1f} {st['encode_us']:7.1f} "
                f"{st['encode_fastavro_us']:8.1f} {r['validation_share']:5.1%} "
                f"{lat.get('p50_ms', nan):7.0f} {lat.get('p99_ms', nan):7.0f} {lat.get('load', nan):5.2f}"
            )
    compared = {name: r["compare"] for name, r in results["connectors"].items() if "compare" in r}
    if compared:
        print(
            "\nService mode, one process each, same run (raw topic → canonical topic, exactly-once, "
            f"{next(iter(compared.values()))['batch_records']} records per transaction), medians of interleaved runs, "
            "records/s @median load; "
            f"targets: ≥ {TARGET_TO_QUIX}x quix, ≥ {TARGET_TO_CEILING}x ceiling:"
        )
        print(
            f"{'connector':10} {'gateway':>8} {'@load':>5} {'ceiling':>8} {'@load':>5} {'quix':>8} {'@load':>5} "
            f"{'gw/ceiling':>10} {'gw/quix':>8}"
        )
        for name, c in compared.items():
            if "before" in c:
                b = c["before"]
                print(
                    f"{'  before':10} {b['records_per_s']:8,.0f} {b['load']:5.2f} {'':>8} {'':>5} {'':>8} {'':>5} "
                    f"{c['before_to_ceiling']:7.2f}x    {c['before_to_quix']:5.2f}x    (gateway / before "
                    f"{c['to_before']:.2f}x)"
                )
            g, t, q = c["gateway"], c["ceiling"], c["quix"]
            ok_t = "ok" if c["to_ceiling"] >= TARGET_TO_CEILING else "MISS"
            ok_q = "ok" if c["to_quix"] >= TARGET_TO_QUIX else "MISS"
            print(
                f"{name:10} {g['records_per_s']:8,.0f} {g['load']:5.2f} {t['records_per_s']:8,.0f} {t['load']:5.2f} "
                f"{q['records_per_s']:8,.0f} {q['load']:5.2f} {c['to_ceiling']:7.2f}x {ok_t:>2} "
                f"{c['to_quix']:5.2f}x {ok_q:>2}"
            )
        print(
            "CPU µs/record of each process over the measured records (medians; all threads, librdkafka's included), "
            "and its ratios, the rate ratios a CPU-bound process would have:"
        )
        for name, c in compared.items():
            us = {label: c[label]["cpu_us"] for label in ("gateway", "before", "ceiling", "quix") if label in c}
            ratios = (
                f"ceiling/gateway {us['ceiling'] / us['gateway']:.2f}x  quix/gateway {us['quix'] / us['gateway']:.2f}x"
            )
            if "before" in us:
                ratios += f"  before/gateway {us['before'] / us['gateway']:.2f}x"
            print(f"{name:10} " + "  ".join(f"{label} {v:.1f}" for label, v in us.items()) + f"   {ratios}")
    replays = {name: r["replay"] for name, r in results["connectors"].items() if "replay" in r}
    if replays:
        print("\nReplay of the canonical topic over Kafka, events/s @load (ratio to plain fastavro):")
        labels = ("fastavro", "decode_record", "decode_trusted", "decode_validated")
        print(f"{'connector':10} " + " ".join(f"{label:>24}" for label in labels))
        for name, r in replays.items():
            cells = [
                f"{r[label]['events_per_s']:9,.0f} @{r[label]['load']:4.2f} ({r[label]['to_fastavro']:.2f})"
                for label in labels
            ]
            print(f"{name:10} " + " ".join(f"{cell:>24}" for cell in cells))
    scaled = {name: r["service"] for name, r in results["connectors"].items() if "service" in r}
    if scaled:
        print("\nService mode (`gateway run`, raw topic of 4 partitions keyed by case), records/s @load:")
        print(f"{'connector':10} {'1 process':>10} {'@load':>5} {'2 processes':>12} {'@load':>5} {'speed-up':>9}")
        for name, (one, two) in scaled.items():
            a, b = one["records_per_s"], two["records_per_s"]
            print(f"{name:10} {a:10,.0f} {one['load']:5.2f} {b:12,.0f} {two['load']:5.2f} {b / a:8.2f}x")
    if "xml_rss" in results:
        x = results["xml_rss"]
        print(
            f"\nXML {x['file_mb']:,.0f} MB ({x['records']:,} records): peak RSS {x['peak_rss_mb']:.0f} MB, "
            f"{x['records_per_s']:,.0f} rec/s through `gateway ingest` @{x['load']:.2f}"
        )
    print(f"\nJSON: {OUT / 'ingest.json'}")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
