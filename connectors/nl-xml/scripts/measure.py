"""Measure the connector: microseconds per record for read, parse+validate and map; peak RSS on a large file.

Usage (from the repository root)::

    .venv/bin/python connectors/nl-xml/scripts/measure.py speed --records 20000
    .venv/bin/python connectors/nl-xml/scripts/measure.py memory --megabytes 80 --file /tmp/nl-large.xml

Times are CPU time of this process (``time.process_time``), so other load on the machine disturbs them less;
wall-clock times are printed beside them.
"""

from __future__ import annotations

import argparse
import io
import random
import resource
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from gw_connector_nl_xml import NlXmlConfig, NlXmlConnector

from gateway.samples.stories import story
from gateway.testing.conformance import identity_context


def _connector() -> NlXmlConnector:
    return NlXmlConnector(NlXmlConfig(member_state="NL"))


def _sample(c: NlXmlConnector, count: int, seed: int, defect_share: float = 0.0) -> Iterator[bytes]:
    """Rendered records, like ``gateway.samples.generate`` but skipping stories that fail to build.

    ``gateway.samples.stories`` raises for a passport issued on 29 February (expiry = issue + 10 years), about
    once in 2,000 stories, which stops ``generate`` on large samples.
    """
    rng = random.Random(seed)  # noqa: S311 - sample data
    kinds, index, written = sorted(c.defect_kinds), 0, 0
    while True:
        index += 1
        try:
            case = story(index, seed)
        except ValueError:
            continue
        for record in c.render(case, rng):
            if written >= count:
                return
            damaged = defect_share and rng.random() < defect_share
            yield c.corrupt(record, kinds[written % len(kinds)], rng) if damaged else record.data
            written += 1


def _timed(label: str, count: int, step: Callable[[], Any]) -> Any:
    """Run ``step``, print CPU and wall µs per record; return its result, or the CPU seconds per record."""
    cpu, wall = time.process_time(), time.perf_counter()
    result = step()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    print(f"{label:<24} {cpu / count * 1e6:8.1f} µs/record CPU   {wall / count * 1e6:8.1f} µs/record wall")
    return cpu / count if result is None else result


def speed(records: int) -> None:
    """Time each step over a generated export of ``records`` valid records."""
    c = _connector()
    buf = io.BytesIO()
    c.write_export(buf, _sample(c, records, seed=7))
    data = buf.getvalue()
    print(f"{records} records, {len(data) / records:.0f} bytes/record on average")
    _timed("calibration (1e6 adds)", records, _calibrate)
    raw = _timed("read (split)", records, lambda: list(c.read(io.BytesIO(data), "bench")))
    # Results are dropped as they come, as in the pipeline: holding 20,000 trees would slow the collector.
    parse = _timed("parse + XSD validate", records, lambda: _each(raw, c.parse))
    both = _timed("parse + validate + map", records, lambda: _each(raw, lambda r: c.map(c.parse(r))))
    print(f"{'map (difference)':<24} {(both - parse) * 1e6:8.1f} µs/record CPU")
    ctx = identity_context(c)
    _timed("translate (+ envelope)", records, lambda: _each(raw, lambda r: c.translate(r, ctx)))


def _calibrate() -> None:
    """A fixed pure-Python loop, to compare machines and loads (about 40 ms on an idle modern core)."""
    total = 0
    for i in range(1_000_000):
        total += i


def _each(records: list[Any], step: Callable[[Any], Any]) -> None:
    for record in records:
        step(record)


def memory(megabytes: int, path: Path) -> None:
    """Write an export of about ``megabytes`` MB, then read and translate it, reporting peak RSS."""
    c = _connector()
    if not path.exists() or path.stat().st_size < megabytes * 1_000_000 * 0.9:
        with path.open("wb") as out:
            c.write_export(out, _sample(c, megabytes * 1_000_000 // 640, seed=11, defect_share=0.02))
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    ctx, count, events, errors = identity_context(c), 0, 0, 0
    start = time.perf_counter()
    with path.open("rb") as stream:
        for record in c.read(stream, str(path)):
            count += 1
            try:
                events += len(c.translate(record, ctx))
            except Exception:
                errors += 1
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    size = path.stat().st_size / 1e6
    print(f"{size:.1f} MB, {count} records ({events} events, {errors} dead letters) in {seconds:.1f} s")
    growth = (peak - base) / 1024
    print(f"peak RSS {peak / 1024:.1f} MiB (before reading {base / 1024:.1f} MiB; growth {growth:.1f} MiB)")


def main() -> None:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="what", required=True)
    s = sub.add_parser("speed")
    s.add_argument("--records", type=int, default=20_000)
    mem = sub.add_parser("memory")
    mem.add_argument("--megabytes", type=int, default=80)
    mem.add_argument("--file", type=Path, default=Path("/tmp/nl-xml-large.xml"))  # noqa: S108 - a scratch file
    args = parser.parse_args()
    if args.what == "speed":
        speed(args.records)
    else:
        memory(args.megabytes, args.file)


if __name__ == "__main__":
    main()
