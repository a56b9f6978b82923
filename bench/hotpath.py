"""Service mode's per-record hot path in-process, without a broker: where a `gateway run` spends its CPU per record.

Runs the service's own batch transform (``gateway.pipeline.service.transform_for``: raw messages → records →
translate → rules against per-partition SQLite case stores → encode → route → changelog) over generated sample
messages, in transactions of ``--batch-records``, and commits the stores after each batch as the processor does.
Kafka's part (consume, produce, the transaction round trips) is left out: this is the Python side alone, the part
the gateway's code decides. Times are CPU seconds of this process, far less disturbed than the wall clock by the
other work on a shared machine, and run under service mode's garbage-collector threshold unless
``--interpreter-gc``. Another checkout's code is measured by putting it first on ``PYTHONPATH`` (its ``gateway``
and ``connectors/*/src``), which makes before/after comparisons of a change in one sitting.

    .venv/bin/python bench/hotpath.py --connectors de-csv --records 20000            # µs/record per stage
    .venv/bin/python bench/hotpath.py --connectors de-csv --profile 30               # + cProfile, top 30 by own time

The stage split (``--stages``) runs the same records through each stage alone (translate, validate with the rule
stage, encode, route) and reports µs/record of each; the sum is close to the transform's whole cost.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import os
import pstats
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from confluent_kafka import Message

from gateway.config import GatewaySettings
from gateway.connectors import discovery
from gateway.dlq.headers import KAFKA_DEFAULT_MAX_MESSAGE_BYTES
from gateway.kafka.producer import OutboundMessage
from gateway.pipeline.case_states import case_state_codec
from gateway.pipeline.outcome import Outcome
from gateway.pipeline.processor import RecordProcessor
from gateway.pipeline.router import Routing, route
from gateway.pipeline.service import ServiceOptions, transform_for, young_collections
from gateway.pipeline.wiring import build_processor
from gateway.samples.generate import sample_records
from gateway.state.store import PartitionStore
from gateway.validation.state import InMemoryCaseStates

PARTITIONS = 4
MEMBER_STATES = {"de-csv": "DE", "fr-jsonl": "FR", "nl-xml": "NL"}


class Stores:
    """The part of the state runtime the service's transform uses: one SQLite store per partition, and their changes."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.stores = {p: PartitionStore(folder / f"{p}.sqlite", "bench.cases.changelog", p) for p in range(PARTITIONS)}

    def store(self, name: str, partition: int) -> PartitionStore:
        """The store of a partition (there is one store, ``cases``)."""
        return self.stores[partition]

    def changes(self) -> list[OutboundMessage]:
        """The changelog records of the open transaction."""
        return [m for s in self.stores.values() for m in s.changes()]

    def commit(self) -> None:
        """Commit every store, as the processor does after the Kafka transaction commits."""
        for s in self.stores.values():
            s.commit(None)

    def close(self) -> None:
        """Close the stores."""
        for s in self.stores.values():
            s.close()


def messages(name: str, count: int) -> list[Message]:
    """``count`` sample messages of a connector (2 % defects), keyed by case, spread over the partitions by key."""
    connector = make_connector(name)
    out, key = [], b""
    for index, sample in sample_records(connector, count=count, seed=1, defect_share=0.02):
        key = sample.facts[0].case_reference.encode() if sample.facts else key
        partition = sum(key) % PARTITIONS
        out.append(Message(topic="raw", partition=partition, offset=index, key=key, value=sample.data, headers=[]))
    return out


def make_connector(name: str) -> Any:
    """The connector ``name`` with its bench Member State."""
    cls = discovery.load(name)
    return cls(cls.config_model.model_validate({"member_state": MEMBER_STATES.get(name, "DE")}))


def processor_for(name: str, rules: bool = True) -> tuple[Any, RecordProcessor, GatewaySettings]:
    """Connector, processor and settings as `gateway run` builds them."""
    connector = make_connector(name)
    settings = GatewaySettings(rules_enabled=rules)
    return connector, build_processor(connector, settings, correlation_id="bench"), settings


def run_transform(name: str, batch: Sequence[Message], batch_records: int, folder: Path) -> float:
    """CPU seconds of this process for the service transform over ``batch``, ``batch_records`` messages a transaction.

    CPU time rather than the wall clock: on a shared machine it is far less disturbed by the other processes.
    """
    connector, processor, settings = processor_for(name)
    stores = Stores(folder)
    transform = transform_for(connector, processor, settings, stores, case_state_codec())  # type: ignore[arg-type]
    try:
        started = time.process_time()
        for i in range(0, len(batch), batch_records):
            transform(list(batch[i : i + batch_records]))
            stores.commit()
        return time.process_time() - started
    finally:
        stores.close()


def stage_split(name: str, batch: Sequence[Message]) -> dict[str, float]:
    """µs/record of each stage alone over the same records (rules against in-memory states)."""
    connector, processor, settings = processor_for(name)
    routing = Routing.of(connector, settings.topics.canonical, "dlq", KAFKA_DEFAULT_MAX_MESSAGE_BYTES)
    n = len(batch)

    def timed(fn: Any) -> tuple[float, Any]:
        started = time.process_time()
        result = fn()
        return (time.process_time() - started) / n * 1e6, result

    t_records, records = timed(
        lambda: [
            connector.from_message(m.value(), "raw", f"raw/{m.partition()}/{m.offset()}", m.offset()) for m in batch
        ]
    )
    ctx = processor.context
    t_parse, _ = timed(lambda: [_try(connector.parse, r) for r in records])
    t_translate, translated = timed(lambda: [processor._translate(r, ctx) for r in records])
    states = InMemoryCaseStates()
    t_validate, checked = timed(
        lambda: [
            t if isinstance(t, Outcome) else processor._validate(r, t, states)
            for r, t in zip(records, translated, strict=True)
        ]
    )
    t_encode, outcomes = timed(
        lambda: [
            c if isinstance(c, Outcome) else processor._encode(r, c) for r, c in zip(records, checked, strict=True)
        ]
    )
    t_route, _ = timed(lambda: [route(o, routing, correlation_id="bench") for o in outcomes])
    return {
        "from_message": t_records,
        "parse": t_parse,
        "translate": t_translate,
        "validate": t_validate,
        "encode": t_encode,
        "route": t_route,
    }


def _try(fn: Any, arg: Any) -> Any:
    try:
        return fn(arg)
    except Exception as exc:
        return exc


def main() -> None:
    """Print µs/record of the service transform (and its stages) per connector."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--connectors", nargs="*", default=["de-csv", "fr-jsonl", "nl-xml"])
    ap.add_argument("--records", type=int, default=20_000)
    ap.add_argument("--batch-records", type=int, default=500)
    ap.add_argument("--repeat", type=int, default=3, help="timed runs of the transform (median)")
    ap.add_argument("--stages", action="store_true", help="also time each stage alone")
    ap.add_argument("--profile", type=int, default=0, metavar="N", help="cProfile one run; print the top N")
    ap.add_argument(
        "--interpreter-gc",
        action="store_true",
        help="keep the interpreter's garbage-collector threshold (700) instead of service mode's (gc_threshold)",
    )
    args = ap.parse_args()
    threshold = None if args.interpreter_gc else ServiceOptions().gc_threshold
    with young_collections(threshold):
        for name in args.connectors:
            measure(name, args)
    print(f"at {dt.datetime.now(dt.UTC):%H:%M:%S} UTC; gc threshold {threshold or 'of the interpreter'}")


def measure(name: str, args: argparse.Namespace) -> None:
    """Time (and optionally profile) one connector's transform."""
    batch = messages(name, args.records)
    with tempfile.TemporaryDirectory() as tmp:
        runs = [run_transform(name, batch, args.batch_records, Path(tmp) / f"r{i}") for i in range(args.repeat)]
        us = statistics.median(runs) / len(batch) * 1e6
        each = ", ".join(f"{r / len(batch) * 1e6:.1f}" for r in runs)
        print(
            f"{name:9} transform {us:6.1f} µs/record (runs {each}) "
            f"= {1e6 / us:,.0f} rec/s of Python alone; load {os.getloadavg()[0]:.2f}",
            flush=True,
        )
        if args.stages:
            stage_split(name, batch[:1000])  # warm-up: the first records through a stage fill its caches
            split = stage_split(name, batch)
            print("          " + "  ".join(f"{k} {v:.1f}" for k, v in split.items()), flush=True)
        if args.profile:
            prof = cProfile.Profile()
            prof.enable()
            run_transform(name, batch, args.batch_records, Path(tmp) / "prof")
            prof.disable()
            pstats.Stats(prof, stream=sys.stdout).sort_stats("tottime").print_stats(args.profile)


if __name__ == "__main__":
    main()
