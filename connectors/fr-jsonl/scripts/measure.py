"""Measure the connector: microseconds per record for read, parse and map, and the alternatives to the parse.

Usage (from the repository root)::

    .venv/bin/python connectors/fr-jsonl/scripts/measure.py --records 20000 [--rounds 5]

Times are CPU time of this process (``time.process_time``), the best of ``--rounds``, so other load on the
machine disturbs them less; the inputs each step needs are frozen out of the garbage collector's sight, since
a pipeline does not hold 20,000 records; a fixed pure-Python loop is timed first to compare machines and loads.
Reading is also timed with the same records as one pretty-printed JSON array (the other form of an export). Besides
the connector's own parse (pydantic-core's ``validate_json`` on the raw bytes, plus the depth and duplicate-key
checks) it times the route through a ``dict``: ``json.loads`` with a duplicate-key hook, then validation of
the ``dict`` (lax, since strict validation of Python objects refuses ISO date strings).
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import random
import time
from collections.abc import Callable, Iterator
from typing import Any

from gw_connector_fr_jsonl import FrJsonlConfig, FrJsonlConnector
from gw_connector_fr_jsonl.schema import RECORD

from gateway.codec.codec import EventCodec
from gateway.connectors.base import RawRecord
from gateway.samples.stories import story
from gateway.testing.conformance import identity_context


def _sample(c: FrJsonlConnector, count: int, seed: int) -> Iterator[bytes]:
    """Rendered valid records; stories that fail to build (a passport issued on 29 February) are skipped."""
    rng = random.Random(seed)  # noqa: S311 - sample data
    index = written = 0
    while True:
        index += 1
        try:
            case = story(index, seed, c.config.member_state)
        except ValueError:
            continue
        for record in c.render(case, rng):
            if written >= count:
                return
            yield record.data
            written += 1


def _best(rounds: int, count: int, step: Callable[[], Any]) -> float:
    """Best CPU seconds per record of ``rounds`` runs of ``step``."""
    best = float("inf")
    for _ in range(rounds):
        start = time.process_time()
        step()
        best = min(best, time.process_time() - start)
    return best / count


def _each(items: list[Any], step: Callable[[Any], Any]) -> None:
    """Apply ``step`` to each item, dropping results as they come, as the pipeline does.

    Holding 20,000 results would make the cyclic garbage collector walk them all again and again.
    """
    for item in items:
        step(item)


def _drain(records: Iterator[RawRecord]) -> None:
    for _ in records:
        pass


def _calibrate() -> None:
    total = 0
    for i in range(1_000_000):
        total += i


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        raise ValueError("duplicate key")
    return out


def measure(records: int, rounds: int) -> None:
    """Print µs/record of each step over ``records`` valid records."""
    c = FrJsonlConnector(FrJsonlConfig(member_state="FR"))
    buf = io.BytesIO()
    c.write_export(buf, _sample(c, records, seed=7))
    data = buf.getvalue()
    # The same records as one pretty-printed JSON array, the other form an export may take.
    array = b"[\n  " + b",\n  ".join(data.splitlines()) + b"\n]\n"
    raw: list[RawRecord] = list(c.read(io.BytesIO(data), "bench"))
    parsed = [c.parse(r) for r in raw]
    ctx, codec = identity_context(c), EventCodec()
    events = [e for r in raw for e in c.translate(r, ctx)]
    # The inputs held for the steps are not what a pipeline holds: move them out of the collector's sight.
    gc.collect()
    gc.freeze()
    print(f"{records} records, {len(data) / records:.0f} bytes/record on average")
    print(f"{'calibration (1e6 adds)':<40} {_best(rounds, 1, _calibrate) * 1e3:8.1f} ms")
    steps: list[tuple[str, Callable[[], Any]]] = [
        ("read (split lines)", lambda: _each(list(range(1)), lambda _: _drain(c.read(io.BytesIO(data), "bench")))),
        ("  read a JSON array instead", lambda: _drain(c.read(io.BytesIO(array), "bench"))),
        ("parse (validate_json + checks)", lambda: _each(raw, c.parse)),
        ("  of which validate_json alone", lambda: _each(raw, lambda r: RECORD.validate_json(r.data))),
        ("map", lambda: _each(parsed, c.map)),
        ("translate (parse + map + envelope)", lambda: _each(raw, lambda r: c.translate(r, ctx))),
        (
            "alternative: json.loads (dup hook)",
            lambda: _each(raw, lambda r: json.loads(r.data, object_pairs_hook=_unique)),
        ),
        (
            "alternative: json.loads + validate_python",
            lambda: _each(
                raw, lambda r: RECORD.validate_python(json.loads(r.data, object_pairs_hook=_unique), strict=False)
            ),
        ),
        ("for scale: Avro encode of the events", lambda: _each(events, codec.encode)),
    ]
    total = 0.0
    for label, step in steps:
        per = _best(rounds, records, step)
        if label in ("read (split lines)", "parse (validate_json + checks)", "map"):
            total += per
        print(f"{label:<40} {per * 1e6:8.1f} µs/record")
    print(f"{'read + parse + map':<40} {total * 1e6:8.1f} µs/record ({1 / total:,.0f} records/s on one core)")


def main() -> None:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    measure(args.records, args.rounds)


if __name__ == "__main__":
    main()
