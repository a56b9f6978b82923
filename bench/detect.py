"""Detector benchmark: events/s per process against the consumer's limits, restore time, peak RSS at scale.

Prints a table and writes JSON to bench/out/detect.json, with the load average beside every figure. Compare ratios
measured in one run: the machines are shared.

    .venv/bin/python bench/detect.py                 # 200k events, restore of 1M subjects, RSS with 10M subjects
    .venv/bin/python bench/detect.py --quick         # everything at 1/20 scale, a smoke test
    .venv/bin/python bench/detect.py --events 50000 --skip-rss

Measured (issue 11):

- detector rate: events/s of ONE detector process (in-process, wired as ``run_detector`` wires it:
  ``TransactionalProcessor`` exactly once + ``StateRuntime`` + ``detector_transform``) over N canonical events on a
  fresh topic of 4 partitions, from the first record handed to the transform to the commit of the last one. The
  events are the movement samples' people (planted movements and ordinary ``stories.story`` cases of DE, FR and NL)
  wrapped by the connectors' ``envelope`` as ``translate`` does, encoded with ``EventCodec``, keyed by subject key
  with the ``gw.event.type`` header, written in transactions of 2 000 as the ingest does; about 5 events a subject;
  counts are rounded to whole batches of 2 000 (a last partial batch would wait out the consumer's 1 s);
- the limits it is compared with, over the same topic in the same run: a plain consumer (read_committed, batches of
  2 000) reading only, and reading and decoding every value with ``EventCodec.decode``;
- the share of events the detector skips without decoding (an event type no rule reads) in that mix, and the
  detector's rate over an all-relevant mix (the same events, only the types rules read);
- the detector without Kafka: the same transform over the same records held in memory, stores committed after each
  batch of 2 000; with ``--profile`` (or when the rate misses the goal) its cProfile, µs per event;
- restore: a changelog of M subjects (realistic ``SubjectTimeline`` values, see below) on 4 partitions, written with
  the changelog format's own ``entry_change`` in random key order (the order a detector writes them), then
  ``StateRuntime.assigned`` of the 4 partitions timed on an empty state directory (full restore) and again on the
  files it left (checkpoint restore);
- peak RSS with S subjects in the store (no Kafka: state on disk is the point): a child process fills 4
  ``PartitionStore`` files through ``put`` + ``commit`` (10 000 puts a commit), in key order (a bulk load: random
  order costs SQLite far more page writes and would not fit the run), then reads back 100 000 random keys with
  ``get`` + ``timeline_codec().decode``, then puts 20 000 new keys in random order in batches of 1 000 (the
  steady-state write rate at that size); VmHWM of the child, size on disk.

Timeline values: the final timelines of the benchmark's own subjects (each subject's events folded through
``observe``), encoded with ``timeline_codec()``; each entry is one of them with its 32-character subject key replaced
in the encoded bytes by the entry's key (the same length, so the Avro bytes stay valid; checked by decoding).
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import datetime as dt
import json
import math
import os
import pstats
import random
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, Message, Producer, TopicPartition
from confluent_kafka.admin import AdminClient

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gateway.codec.avro_dict import from_avro  # noqa: E402
from gateway.codec.codec import EventCodec  # noqa: E402
from gateway.codec.single_object import HEADER_LEN  # noqa: E402
from gateway.config import GatewaySettings, TopicNames  # noqa: E402
from gateway.connectors.base import MappingContext, envelope  # noqa: E402
from gateway.detect.config import DetectorConfig  # noqa: E402
from gateway.detect.observe import observe  # noqa: E402
from gateway.detect.service import (  # noqa: E402
    SUBJECTS,
    DetectorOptions,
    default_codecs,
    detector_transform,
    provision_detector,
)
from gateway.detect.state_codec import timeline_codec  # noqa: E402
from gateway.detect.timeline import FACT_EVENT_TYPES, SubjectTimeline  # noqa: E402
from gateway.events.headers import EVENT_TYPE_HEADER  # noqa: E402
from gateway.kafka.producer import OutboundMessage  # noqa: E402
from gateway.kafka.settings import ConsumerSettings, KafkaSettings, ProducerSettings, TransactionSettings  # noqa: E402
from gateway.kafka.topics import TopicSpec, ensure_topics  # noqa: E402
from gateway.kafka.transactions import BatchLimits, TransactionalProcessor  # noqa: E402
from gateway.pipeline.pseudonym import pseudonymiser  # noqa: E402
from gateway.samples.movements import MEMBER_STATES, movements  # noqa: E402
from gateway.state import PartitionStore, StateRuntime, StateSettings  # noqa: E402
from gateway.state.changelog import entry_change, stream_time_change  # noqa: E402

OUT = ROOT / "bench" / "out"
PARTITIONS = 4
GOALS = {"events_per_s": 15_000, "restore_s": 60.0, "peak_rss_mb": 400.0}
BATCH = DetectorOptions().batch_records  # the detector's transaction size, also the baselines' consume size
RELEVANT = frozenset(str(t).encode() for t in FACT_EVENT_TYPES)
_KEY_AT = HEADER_LEN + 1  # a timeline's subject key: the first field, a 32-byte string (length varint 0x40)

Item = tuple[bytes, bytes, tuple[tuple[str, bytes], ...]]  # key, value, headers
Template = tuple[bytes, int | None]  # encoded timeline, entry expiry (epoch ms)


class Run:
    """What one run created on the broker (unique names), so it can delete exactly that at the end."""

    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap
        self.kafka = KafkaSettings(bootstrap_servers=bootstrap)
        self.admin = AdminClient(dict(self.kafka.to_librdkafka()))
        self.tag = uuid.uuid4().hex[:8]
        self.topics: set[str] = set()
        self.groups: set[str] = set()

    def name(self, what: str) -> str:
        return f"bench-detect-{self.tag}-{what}"

    def cleanup(self) -> None:
        if self.groups:
            for future in self.admin.delete_consumer_groups(sorted(self.groups), request_timeout=30).values():
                with contextlib.suppress(Exception):  # a static member's group stays non-empty for its session
                    future.result()
        ours = [t for t in self.admin.list_topics(timeout=30).topics if t.startswith(f"bench-detect-{self.tag}-")]
        if ours:
            for future in self.admin.delete_topics(sorted(ours), operation_timeout=60).values():
                future.result()


def load() -> dict[str, Any]:
    one, five, fifteen = os.getloadavg()
    return {"1m": one, "5m": five, "15m": fifteen}


def uptime() -> str:
    done = subprocess.run(["uptime"], capture_output=True, text=True, check=False)
    return done.stdout.strip()


# -- the events --------------------------------------------------------------------------------------------------


def make_events(count: int, seed: int) -> tuple[list[Item], list[Template], dict[str, Any]]:
    """``count`` canonical events of the movement samples' people, and timeline templates from folding them."""
    recorded = dt.datetime(2026, 5, 4, 9, 0, tzinfo=dt.UTC)
    contexts = {
        ms: MappingContext(name, "0.1.0", ms, "bench-detect", recorded, pseudonymiser(b"bench-secret", str(ms)))
        for name, ms in MEMBER_STATES.items()
    }
    codec, config = EventCodec(), DetectorConfig()
    items: list[Item] = []
    timelines: dict[str, SubjectTimeline | None] = {}
    types: Counter[str] = Counter()
    people = max(100, math.ceil(count / 4.5))
    for mv in movements(seed, people):
        for case in mv.cases:
            ctx = contexts[case.member_state]
            for i, fact in enumerate(case.facts):
                event = envelope(fact, ctx, event_id_seed=f"bench:{case.member_state}:{case.case_reference}:{i}")
                kind = str(event.event_type)
                items.append((event.subject_key.encode(), codec.encode(event), ((EVENT_TYPE_HEADER, kind.encode()),)))
                types[kind] += 1
                timelines[event.subject_key] = observe(timelines.get(event.subject_key), event, config).timeline
                if len(items) == count:
                    break
            if len(items) == count:
                break
        if len(items) == count:
            break
    if len(items) < count:
        raise RuntimeError(f"only {len(items)} events from {people} people")
    tcodec = timeline_codec()
    templates: list[Template] = []
    for t in timelines.values():
        if t is None:
            continue
        value, expires = tcodec.encode(t), t.expires_at
        if value[_KEY_AT - 1] != 0x40 or value[_KEY_AT : _KEY_AT + 32] != t.subject_key.encode():
            raise RuntimeError("timeline bytes do not start with a 32-character subject key")
        templates.append((value, None if expires is None else int(expires.timestamp() * 1000)))
    skipped = sum(n for kind, n in types.items() if kind.encode() not in RELEVANT)
    mix = {
        "events": len(items),
        "subjects": len(timelines),
        "events_per_subject": len(items) / len(timelines),
        "event_types": dict(types.most_common()),
        "skipped_undecoded_share": skipped / len(items),
        "mean_value_bytes": sum(len(v) for _, v, _ in items) / len(items),
        "timelines": len(templates),
        "mean_timeline_bytes": sum(len(v) for v, _ in templates) / max(1, len(templates)),
    }
    return items, templates, mix


def produce_events(run: Run, topic: str, items: Sequence[Item]) -> list[int]:
    """Write the events in transactions of ``BATCH`` (as the ingest does); the partition each went to."""
    ensure_topics(run.admin, [TopicSpec(name=topic, partitions=PARTITIONS, replication_factor=1)])
    run.topics.add(topic)
    txn = TransactionSettings(transactional_id=f"{topic}-feed")
    producer = Producer(txn.to_librdkafka(run.kafka, ProducerSettings()))
    producer.init_transactions(30)
    partitions = [-1] * len(items)

    def delivered(index: int) -> Callable[[KafkaError | None, Message], None]:
        def report(err: KafkaError | None, msg: Message) -> None:
            if err is not None:
                raise RuntimeError(f"delivery failed: {err}")
            partitions[index] = msg.partition() or 0

        return report

    for start in range(0, len(items), BATCH):
        producer.begin_transaction()
        for index in range(start, min(start + BATCH, len(items))):
            key, value, headers = items[index]
            while True:
                try:
                    producer.produce(topic, value, key, headers=list(headers), on_delivery=delivered(index))
                    break
                except BufferError:
                    producer.poll(0.05)
            producer.poll(0)
        producer.commit_transaction(60)
    producer.flush(60)
    if min(partitions) < 0:
        raise RuntimeError("some events were not delivered")
    return partitions


# -- detector and baselines on the broker ------------------------------------------------------------------------


def consume_rate(run: Run, topic: str, count: int, codec: EventCodec | None) -> dict[str, Any]:
    """Records/s of a plain read_committed consumer reading ``topic`` (and decoding every value if ``codec``)."""
    group = run.name(f"read-{uuid.uuid4().hex[:4]}")
    consumer = Consumer(ConsumerSettings(group_id=group).to_librdkafka(run.kafka))
    consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(PARTITIONS)])
    seen, decoded, first, last_seen = 0, 0, 0.0, time.monotonic()
    try:
        while seen < count:
            messages = consumer.consume(BATCH, 1.0)
            if messages and not first:
                first = time.perf_counter()
            for message in messages:
                if message.error() is not None:
                    continue
                value = message.value()
                if codec is not None:
                    codec.decode(value or b"", topic)
                    decoded += 1
                seen += 1
            if messages:
                last_seen = time.monotonic()
            elif time.monotonic() - last_seen > 60:
                raise RuntimeError(f"{topic}: read {seen} of {count}")
        seconds = time.perf_counter() - first
    finally:
        consumer.close()
    return {"records": seen, "decoded": decoded, "seconds": seconds, "records_per_s": seen / seconds, "load": load()}


def detector_settings(run: Run, canonical: str, what: str) -> GatewaySettings:
    app = run.name(what)
    topics = TopicNames(
        canonical=canonical,
        dlq_prefix=f"{app}.dlq.",
        raw_prefix=f"{app}.raw.",
        progress=f"{app}.progress",
        alerts=f"{app}.alerts",
        erasures=f"{app}.erasures",
        detector_dlq=f"{app}.dlq.detector",
        partitions=PARTITIONS,
    )
    return GatewaySettings(kafka=run.kafka, topics=topics)


def detector_runtime(run: Run, settings: GatewaySettings, app: str, state_dir: Path) -> StateRuntime:
    """The detector's runtime as ``state_runtime`` makes it (built here: ``GatewaySettings.state_dir`` is new)."""
    state = StateSettings(
        directory=state_dir,
        application=app,
        stores=(SUBJECTS,),
        replication_factor=settings.topics.replication_factor,
    )
    run.topics.add(f"{app}.{SUBJECTS}.changelog")
    return StateRuntime(settings.kafka, state)


def detector_rate(run: Run, canonical: str, count: int, what: str, tmp: Path) -> dict[str, Any]:
    """Events/s of one detector process over ``canonical``, wired as ``run_detector`` wires it."""
    settings = detector_settings(run, canonical, what)
    options = DetectorOptions(application=run.name(what), instance="bench")
    t = settings.topics
    run.topics.update({t.alerts, t.erasures, t.detector_dlq})
    runtime = detector_runtime(run, settings, options.application, tmp / options.application)
    provision_detector(settings, runtime)
    transform = detector_transform(runtime, DetectorConfig(), default_codecs(settings), settings)
    first: list[float] = []

    def timed(batch: list[Message]) -> Sequence[OutboundMessage]:
        if not first:
            first.append(time.perf_counter())
        return transform(batch)

    group = options.group_id or options.application
    run.groups.add(group)
    proc = TransactionalProcessor(
        settings.kafka,
        ConsumerSettings(group_id=group, group_instance_id=f"{group}-{options.instance}"),
        TransactionSettings(transactional_id=f"{options.application}-{options.instance}"),
        timed,
        topics=[t.canonical, t.erasures],
        producer=settings.producer,
        limits=BatchLimits(max_records=options.batch_records, max_wait_s=1.0),
        participant=runtime,
    )
    try:
        with proc:
            while proc.stats.records_in < count:
                before = proc.stats.records_in
                proc.run(max_batches=1, idle_timeout=60)
                if proc.stats.records_in == before and proc.stats.batches_aborted == 0:
                    raise RuntimeError(f"detector idle at {before} of {count} events")
            end = time.perf_counter()
            stats = proc.stats
    finally:
        runtime.close()
    seconds = end - first[0]
    return {
        "events": stats.records_in,
        "seconds": seconds,
        "events_per_s": stats.records_in / seconds,
        "batches_committed": stats.batches_committed,
        "batches_aborted": stats.batches_aborted,
        "records_out": stats.records_out,
        "alerts": count_records(run, t.alerts),
        "load": load(),
    }


def count_records(run: Run, topic: str) -> int:
    """Committed records of a topic (read to its end)."""
    consumer = Consumer(
        {**ConsumerSettings(group_id=run.name("count")).to_librdkafka(run.kafka), "enable.partition.eof": True}
    )
    parts = run.admin.list_topics(topic, timeout=30).topics[topic].partitions
    consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in parts])
    open_, count = set(parts), 0
    try:
        while open_:
            for message in consumer.consume(10_000, 5.0):
                error = message.error()
                if error is None:
                    count += 1
                elif error.code() == KafkaError._PARTITION_EOF:
                    open_.discard(message.partition())
    finally:
        consumer.close()
    return count


# -- the detector without Kafka --------------------------------------------------------------------------------------


class HeldMessage:
    """A consumed record held in memory: the methods of ``confluent_kafka.Message`` the transform calls."""

    __slots__ = ("_headers", "_key", "_offset", "_partition", "_topic", "_value")

    def __init__(self, topic: str, partition: int, offset: int, item: Item) -> None:
        self._topic, self._partition, self._offset = topic, partition, offset
        self._key, self._value, self._headers = item[0], item[1], list(item[2])

    def topic(self) -> str:
        return self._topic

    def partition(self) -> int:
        return self._partition

    def offset(self) -> int:
        return self._offset

    def key(self) -> bytes:
        return self._key

    def value(self) -> bytes:
        return self._value

    def headers(self) -> list[tuple[str, bytes]]:
        return self._headers


def held(topic: str, items: Sequence[Item], partitions: Sequence[int]) -> list[HeldMessage]:
    offsets: Counter[int] = Counter()
    out = []
    for item, p in zip(items, partitions, strict=True):
        out.append(HeldMessage(topic, p, offsets[p], item))
        offsets[p] += 1
    return out


def in_process(
    run: Run, canonical: str, messages: Sequence[HeldMessage], what: str, tmp: Path, profile: bool, top: int = 25
) -> dict[str, Any]:
    """The transform alone over records in memory, batches of ``BATCH``, stores committed after each batch."""

    def once(what: str, profiler: cProfile.Profile | None) -> float:
        settings = detector_settings(run, canonical, what)
        runtime = detector_runtime(run, settings, run.name(what), tmp / run.name(what))
        runtime.ensure_changelogs(run.admin, PARTITIONS)
        runtime.assigned([TopicPartition(canonical, p) for p in range(PARTITIONS)])  # empty changelogs: no restore
        transform = detector_transform(runtime, DetectorConfig(), default_codecs(settings), settings)
        batches = [list(messages[i : i + BATCH]) for i in range(0, len(messages), BATCH)]
        try:
            if profiler is not None:
                profiler.enable()
            t0 = time.perf_counter()
            for batch in batches:
                transform(batch)  # type: ignore[arg-type]
                runtime.committed({})
            seconds = time.perf_counter() - t0
            if profiler is not None:
                profiler.disable()
        finally:
            runtime.close()
        return seconds

    n = len(messages)
    seconds = once(what, None)
    result: dict[str, Any] = {"events": n, "events_per_s": n / seconds, "us_per_event": seconds / n * 1e6}
    if profile:
        profiler = cProfile.Profile()
        profiled = once(f"{what}-profile", profiler)
        stats = pstats.Stats(profiler)
        rows = []
        for (path, line, func), (_cc, calls, tottime, cumtime, _callers) in stats.stats.items():  # type: ignore[attr-defined]
            where = f"{Path(path).name}:{line}({func})" if line else func
            rows.append(
                {
                    "function": where,
                    "calls_per_event": calls / n,
                    "self_us": tottime / n * 1e6,
                    "cum_us": cumtime / n * 1e6,
                }
            )
        result["profile"] = {
            "us_per_event_under_profiler": profiled / n * 1e6,
            "by_self": sorted(rows, key=lambda r: -r["self_us"])[:top],
            "by_cumulative": sorted(rows, key=lambda r: -r["cum_us"])[:top],
        }
    result["load"] = load()
    return result


def stage_costs(items: Sequence[Item], tmp: Path, limit: int = 20_000) -> dict[str, float]:
    """µs per call of each step the transform takes for a relevant event, in-process, no profiler (best of 3)."""
    relevant = [it for it in items if it[2][0][1] in RELEVANT][:limit]
    codec, config, tcodec = EventCodec(), DetectorConfig(), timeline_codec()
    best: dict[str, float] = {}
    for attempt in range(3):
        t0 = time.perf_counter()
        records = [codec.decode_record(v) for _, v, _ in relevant]
        t1 = time.perf_counter()
        events = [from_avro(r) for r in records]
        t2 = time.perf_counter()
        timelines: dict[str, SubjectTimeline | None] = {}
        changed: list[SubjectTimeline] = []
        for e in events:
            seen = observe(timelines.get(e.subject_key), e, config)
            if seen.timeline is not None and seen.timeline is not timelines.get(e.subject_key):
                changed.append(seen.timeline)
            timelines[e.subject_key] = seen.timeline
        t3 = time.perf_counter()
        encoded = [tcodec.encode(t) for t in changed]
        t4 = time.perf_counter()
        for value in encoded:
            tcodec.decode(value)
        t5 = time.perf_counter()
        store = PartitionStore(tmp / f"stages-{attempt}.sqlite", "bench.stages.changelog", 0)
        keys = [t.subject_key.encode() for t in changed]
        t6 = time.perf_counter()
        for key, value in zip(keys, encoded, strict=True):
            store.put(key, value, None)
        t7 = time.perf_counter()
        for key in keys:
            store.get(key)
        t8 = time.perf_counter()
        store.commit(None)
        store.close()
        n, c = len(relevant), max(1, len(changed))
        costs = {
            "decode_record_us": (t1 - t0) / n * 1e6,
            "from_avro_us": (t2 - t1) / n * 1e6,
            "observe_us": (t3 - t2) / n * 1e6,
            "timeline_encode_us": (t4 - t3) / c * 1e6,
            "timeline_decode_us": (t5 - t4) / c * 1e6,
            "store_put_us": (t7 - t6) / c * 1e6,
            "store_get_us": (t8 - t7) / c * 1e6,
            "puts_per_relevant_event": c / n,
        }
        best = {k: min(v, best.get(k, v)) for k, v in costs.items()}
    p = best["puts_per_relevant_event"]
    # Every relevant event decodes, validates, reads its entry and observes; about p of them decode a timeline read
    # back, encode the new one and put it.
    best["relevant_event_us"] = (
        best["decode_record_us"]
        + best["from_avro_us"]
        + best["store_get_us"]
        + best["observe_us"]
        + p * (best["timeline_decode_us"] + best["timeline_encode_us"] + best["store_put_us"])
    )
    return best


# -- restore -------------------------------------------------------------------------------------------------------


def random_key(i: int) -> bytes:
    """A subject key as the pseudonymiser makes them (32 hex characters), in no order."""
    import hashlib

    return hashlib.blake2b(i.to_bytes(8, "little"), digest_size=16).hexdigest().encode()


def entry(i: int, key: bytes, templates: Sequence[Template]) -> tuple[bytes, int | None]:
    value, expires = templates[i % len(templates)]
    return value[:_KEY_AT] + key + value[_KEY_AT + 32 :], expires


def restore_time(run: Run, subjects: int, templates: Sequence[Template], tmp: Path) -> dict[str, Any]:
    app = run.name("restore")
    directory = tmp / app
    runtime = StateRuntime(run.kafka, StateSettings(directory=directory, application=app, stores=(SUBJECTS,)))
    runtime.ensure_changelogs(run.admin, PARTITIONS)
    topic = runtime.changelog(SUBJECTS)
    run.topics.add(topic)
    producer = Producer(ProducerSettings().to_librdkafka(run.kafka))
    t0 = time.perf_counter()
    size = 0
    for i in range(subjects):
        key = random_key(i)
        value, expires = entry(i, key, templates)
        size += len(value)
        m = entry_change(topic, i % PARTITIONS, key, value, expires)
        while True:
            try:
                producer.produce(m.topic, m.value, m.key, partition=m.partition or 0, headers=list(m.headers))
                break
            except BufferError:
                producer.poll(0.05)
        producer.poll(0)
    for p in range(PARTITIONS):
        m = stream_time_change(topic, p, int(dt.datetime(2026, 5, 4, tzinfo=dt.UTC).timestamp() * 1000))
        producer.produce(m.topic, m.value, m.key, partition=p)
    if producer.flush(120):
        raise RuntimeError("changelog not fully written")
    write_s = time.perf_counter() - t0
    inputs = [TopicPartition(run.name("input"), p) for p in range(PARTITIONS)]

    t0 = time.perf_counter()
    runtime.assigned(inputs)
    full_s = time.perf_counter() - t0
    full = runtime.restores[-1]
    full_load = load()
    entries = sum(runtime.store(SUBJECTS, p).count() for p in range(PARTITIONS))
    codec = timeline_codec()
    probe = random_key(subjects // 2)
    found = runtime.store(SUBJECTS, (subjects // 2) % PARTITIONS).get(probe)
    if entries != subjects or found is None or codec.decode(found).subject_key != probe.decode():
        raise RuntimeError(f"restored {entries} entries of {subjects}")
    runtime.close()
    disk = sum(f.stat().st_size for f in directory.rglob("*") if f.is_file())

    again = StateRuntime(run.kafka, StateSettings(directory=directory, application=app, stores=(SUBJECTS,)))
    t0 = time.perf_counter()
    again.assigned(inputs)
    checkpoint_s = time.perf_counter() - t0
    checkpoint = again.restores[-1]
    again.close()
    return {
        "subjects": subjects,
        "changelog_records": subjects + PARTITIONS,
        "mean_value_bytes": size / subjects,
        "write_changelog_s": write_s,
        "full_restore_s": full_s,
        "full_restore_records": full.records,
        "full_restore_records_per_s": full.records / full_s,
        "full_restore_load": full_load,
        "checkpoint_restore_s": checkpoint_s,
        "checkpoint_restore_records": checkpoint.records,
        "state_disk_mb": disk / 1e6,
        "load": load(),
    }


# -- peak RSS with many subjects (child process, no Kafka) -----------------------------------------------------------

_G = 0x9E3779B97F4A7C15
_M64 = (1 << 64) - 1


def ordered_key(i: int, step: int) -> bytes:
    """The ``i``-th of evenly spread random-looking 32-hex-character keys, increasing with ``i``."""
    return f"{i * step + ((i * _G) & _M64) % step:032x}".encode()


def rss_child(directory: Path, subjects: int, templates_file: Path, sample: int, seed: int) -> dict[str, Any]:
    raw = json.loads(templates_file.read_text())
    templates: list[Template] = [(bytes.fromhex(v), e) for v, e in raw]
    del raw
    stores = [PartitionStore(directory / f"{p}.sqlite", "bench.subjects.changelog", p) for p in range(PARTITIONS)]
    step = (1 << 128) // subjects
    t0 = time.perf_counter()
    for i in range(subjects):
        key = ordered_key(i, step)
        value, expires = entry(i, key, templates)
        stores[i % PARTITIONS].put(key, value, expires)
        if i % 10_000 == 9_999:
            for s in stores:
                s.commit(None)
    for s in stores:
        s.commit(None)
    fill_s = time.perf_counter() - t0
    fill_load = load()
    codec = timeline_codec()
    rng = random.Random(seed)
    picks = [rng.randrange(subjects) for _ in range(sample)]
    t0 = time.perf_counter()
    for i in picks:
        key = ordered_key(i, step)
        found = stores[i % PARTITIONS].get(key)
        if found is None or codec.decode(found).subject_key != key.decode():
            raise RuntimeError(f"entry {i} not read back")
    lookup_s = time.perf_counter() - t0
    lookup_load = load()
    extra = 20_000
    t0 = time.perf_counter()
    for j in range(extra):
        key = random_key(subjects + j)  # not in key order: lands anywhere in the trees, as a new subject does
        value, expires = entry(j, key, templates)
        stores[j % PARTITIONS].put(key, value, expires)
        if j % 1_000 == 999:
            for s in stores:
                s.commit(None)
    for s in stores:
        s.commit(None)
    random_s = time.perf_counter() - t0
    entries = sum(s.count() for s in stores)
    for s in stores:
        s.close()
    with open("/proc/self/status") as status:
        peak_kb = int(next(line.split()[1] for line in status if line.startswith("VmHWM")))
    disk = sum(f.stat().st_size for f in directory.rglob("*") if f.is_file())
    return {
        "subjects": subjects,
        "entries_after": entries,
        "peak_rss_mb": peak_kb / 1024,
        "disk_mb": disk / 1e6,
        "disk_bytes_per_subject": disk / entries,
        "fill_s": fill_s,
        "fill_puts_per_s": subjects / fill_s,
        "fill_load": fill_load,
        "lookups": sample,
        "lookups_per_s": sample / lookup_s,
        "lookup_us": lookup_s / sample * 1e6,
        "lookup_load": lookup_load,
        "random_puts": extra,
        "random_puts_per_s": extra / random_s,
        "load": load(),
    }


def peak_rss(subjects: int, templates: Sequence[Template], tmp: Path) -> dict[str, Any]:
    directory = tmp / "rss"
    directory.mkdir()
    templates_file = tmp / "templates.json"
    templates_file.write_text(json.dumps([(v.hex(), e) for v, e in templates]))
    args = {"directory": str(directory), "subjects": subjects, "templates": str(templates_file)}
    done = subprocess.run(
        [sys.executable, __file__, "--rss-child", json.dumps(args)], capture_output=True, text=True, check=False
    )
    shutil.rmtree(directory, ignore_errors=True)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


# -- main ----------------------------------------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, default=200_000)
    ap.add_argument("--subjects-restore", type=int, default=1_000_000)
    ap.add_argument("--subjects", type=int, default=10_000_000, help="subjects in the stores for the RSS run")
    ap.add_argument("--quick", action="store_true", help="everything at 1/20 scale (smoke test)")
    ap.add_argument("--skip-rss", action="store_true")
    ap.add_argument("--skip-restore", action="store_true")
    ap.add_argument("--profile", action="store_true", help="cProfile the transform even if the goal is met")
    ap.add_argument("--bootstrap", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:29092"))
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--rss-child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.rss_child:
        child = json.loads(args.rss_child)
        result = rss_child(Path(child["directory"]), child["subjects"], Path(child["templates"]), 100_000, args.seed)
        print(json.dumps(result))
        return
    if args.quick:
        args.events, args.subjects_restore, args.subjects = (
            args.events // 20,
            args.subjects_restore // 20,
            args.subjects // 20,
        )
    OUT.mkdir(parents=True, exist_ok=True)
    run = Run(args.bootstrap)
    results: dict[str, Any] = {
        "bootstrap": args.bootstrap,
        "quick": args.quick,
        "cpus": os.cpu_count(),
        "uptime_start": uptime(),
        "load_start": load(),
        "goals": GOALS,
    }
    (ROOT / ".cache").mkdir(exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="bench-detect-", dir=ROOT / ".cache"))
    try:
        t0 = time.perf_counter()
        # Whole batches: a last partial one would wait out the consumer's 1 s for records that never come.
        events = max(BATCH, args.events // BATCH * BATCH)
        items, templates, mix = make_events(events, args.seed)
        mix["generate_s"] = time.perf_counter() - t0
        results["mix"] = mix
        canonical = run.name("events")
        partitions = produce_events(run, canonical, items)
        relevant = [(it, p) for it, p in zip(items, partitions, strict=True) if it[2][0][1] in RELEVANT]
        relevant = relevant[: max(BATCH, len(relevant) // BATCH * BATCH)]  # no last partial batch waiting to fill
        relevant_topic = run.name("relevant")
        produce_events(run, relevant_topic, [it for it, _ in relevant])

        d: dict[str, Any] = {}
        d["consume_only"] = consume_rate(run, canonical, len(items), None)
        d["consume_decode"] = consume_rate(run, canonical, len(items), EventCodec())
        d["detector"] = detector_rate(run, canonical, len(items), "detector", tmp)
        d["detector_all_relevant"] = detector_rate(run, relevant_topic, len(relevant), "detector-relevant", tmp)
        rate = d["detector"]["events_per_s"]
        d["ratio_to_consume_only"] = rate / d["consume_only"]["records_per_s"]
        d["ratio_to_consume_decode"] = rate / d["consume_decode"]["records_per_s"]
        profile = args.profile or rate < GOALS["events_per_s"]
        d["without_kafka"] = in_process(run, canonical, held(canonical, items, partitions), "inproc", tmp, profile)
        d["without_kafka_all_relevant"] = in_process(
            run,
            relevant_topic,
            held(relevant_topic, [it for it, _ in relevant], [p for _, p in relevant]),
            "inproc-relevant",
            tmp,
            False,
        )
        d["stage_us"] = stage_costs(items, tmp)
        results["detector"] = d
        del items, relevant

        if not args.skip_restore:
            results["restore"] = restore_time(run, args.subjects_restore, templates, tmp)
        if not args.skip_rss:
            results["rss"] = peak_rss(args.subjects, templates, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        run.cleanup()
    results["uptime_end"] = uptime()
    results["load_end"] = load()
    name = "detect-quick.json" if args.quick else "detect.json"
    (OUT / name).write_text(json.dumps(results, indent=1))
    print_table(results, OUT / name)


def print_table(results: dict[str, Any], path: Path) -> None:
    from rich.console import Console
    from rich.table import Table

    def ld(x: dict[str, Any]) -> str:
        return f"{x['1m']:.2f}"

    console = Console(width=150)
    mix = results["mix"]
    d = results["detector"]
    table = Table(title=f"Detector, one process, exactly once, {results['bootstrap']}, {results['cpus']} cores")
    for col, just in (
        ("measure", "left"),
        ("value", "right"),
        ("goal", "right"),
        ("notes", "left"),
        ("load 1m", "right"),
    ):
        table.add_column(col, justify=just)  # type: ignore[arg-type]
    goal = GOALS["events_per_s"]
    rate = d["detector"]["events_per_s"]
    table.add_row(
        "mix",
        f"{mix['events']:,} ev",
        "",
        f"{mix['subjects']:,} subjects ({mix['events_per_subject']:.1f} ev/subject), "
        f"{mix['mean_value_bytes']:.0f} B/event; skipped undecoded {mix['skipped_undecoded_share']:.1%}",
        "",
    )
    table.add_row(
        "consume only",
        f"{d['consume_only']['records_per_s']:,.0f}/s",
        "",
        "plain consumer, read_committed",
        ld(d["consume_only"]["load"]),
    )
    table.add_row(
        "consume + decode",
        f"{d['consume_decode']['records_per_s']:,.0f}/s",
        "",
        "EventCodec.decode on every value",
        ld(d["consume_decode"]["load"]),
    )
    table.add_row(
        "detector",
        f"{rate:,.0f}/s",
        f">= {goal:,}",
        f"{'MET' if rate >= goal else 'MISSED'}; {rate / goal:.0%} of goal; "
        f"x{d['ratio_to_consume_only']:.2f} of consume only, x{d['ratio_to_consume_decode']:.2f} of consume+decode; "
        f"{d['detector']['alerts']:,} alerts",
        ld(d["detector"]["load"]),
    )
    rel = d["detector_all_relevant"]
    table.add_row(
        "detector, all-relevant mix",
        f"{rel['events_per_s']:,.0f}/s",
        f">= {goal:,}",
        f"{rel['events']:,} events, every one decoded and observed; {rel['alerts']:,} alerts",
        ld(rel["load"]),
    )
    wk, wkr = d["without_kafka"], d["without_kafka_all_relevant"]
    table.add_row(
        "detector without Kafka",
        f"{wk['events_per_s']:,.0f}/s",
        "",
        f"{wk['us_per_event']:.1f} µs/event (all-relevant: {wkr['events_per_s']:,.0f}/s, {wkr['us_per_event']:.1f} µs)",
        ld(wk["load"]),
    )
    st = d["stage_us"]
    table.add_row(
        "  steps of a relevant event",
        f"≈{st['relevant_event_us']:.0f} µs",
        "",
        f"decode {st['decode_record_us']:.1f} + model {st['from_avro_us']:.1f} + observe {st['observe_us']:.1f}; "
        f"per changed timeline: encode {st['timeline_encode_us']:.1f}, decode {st['timeline_decode_us']:.1f}, "
        f"put {st['store_put_us']:.1f}, get {st['store_get_us']:.1f} ({st['puts_per_relevant_event']:.2f}/event)",
        "",
    )
    if "restore" in results:
        r = results["restore"]
        table.add_row(
            f"full restore, {r['subjects']:,} subjects",
            f"{r['full_restore_s']:.1f} s",
            f"< {GOALS['restore_s']:.0f} s",
            f"{'MET' if r['full_restore_s'] < GOALS['restore_s'] else 'MISSED'}; "
            f"{r['full_restore_records_per_s']:,.0f} records/s; {r['mean_value_bytes']:.0f} B/value, "
            f"{r['state_disk_mb']:,.0f} MB on disk",
            ld(r["full_restore_load"]),
        )
        table.add_row(
            "checkpoint restore",
            f"{r['checkpoint_restore_s']:.2f} s",
            "",
            f"{r['checkpoint_restore_records']} records replayed (local files current)",
            ld(r["load"]),
        )
    if "rss" in results:
        x = results["rss"]
        table.add_row(
            f"peak RSS, {x['subjects']:,} subjects",
            f"{x['peak_rss_mb']:.0f} MB",
            f"< {GOALS['peak_rss_mb']:.0f} MB",
            f"{'MET' if x['peak_rss_mb'] < GOALS['peak_rss_mb'] else 'MISSED'}; child process, no Kafka; "
            f"{x['disk_mb']:,.0f} MB on disk ({x['disk_bytes_per_subject']:.0f} B/subject)",
            ld(x["load"]),
        )
        table.add_row(
            "  fill (put + commit)",
            f"{x['fill_puts_per_s']:,.0f}/s",
            "",
            f"key order, 10 000 puts a commit, {x['fill_s']:.0f} s",
            ld(x["fill_load"]),
        )
        table.add_row(
            "  lookup (get + decode)",
            f"{x['lookups_per_s']:,.0f}/s",
            "",
            f"{x['lookups']:,} random keys, {x['lookup_us']:.1f} µs each",
            ld(x["lookup_load"]),
        )
        table.add_row(
            "  random put at that size",
            f"{x['random_puts_per_s']:,.0f}/s",
            "",
            f"{x['random_puts']:,} new keys, random order, 1 000 puts a commit",
            ld(x["load"]),
        )
    console.print(table)
    console.print(f"uptime at start: {results['uptime_start']}")
    console.print(f"uptime at end:   {results['uptime_end']}")
    prof = d["without_kafka"].get("profile")
    if prof:
        ptable = Table(
            title=f"cProfile of the transform without Kafka, µs per event "
            f"({prof['us_per_event_under_profiler']:.1f} µs/event under the profiler)"
        )
        for col in ("function", "calls/event", "self µs", "cum µs"):
            ptable.add_column(col, justify="left" if col == "function" else "right")
        for row in prof["by_cumulative"]:
            ptable.add_row(
                row["function"], f"{row['calls_per_event']:.2f}", f"{row['self_us']:.2f}", f"{row['cum_us']:.2f}"
            )
        console.print(ptable)
    console.print(f"JSON: {path}")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
