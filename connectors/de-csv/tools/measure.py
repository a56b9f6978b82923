"""Measure the connector's cost per record for read, parse and map (and translate, for reference).

Run: ``.venv/bin/python connectors/de-csv/tools/measure.py [--records N] [--repeat R] [--encoding utf-8]``.
Each step is timed ``repeat`` times over the same rendered export and the best run is reported, as CPU time
of this process (``time.process_time``) and as wall time: on a shared, oversubscribed machine the wall time
measures the neighbours as much as the code.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import io
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from typing import Any

from gw_connector_de_csv import DeCsvConfig, DeCsvConnector

from gateway.connectors.base import MappingContext
from gateway.testing.conformance import export


def _best(step: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    cpu, wall, result = float("inf"), float("inf"), None
    for _ in range(repeat):
        gc.collect()
        start_cpu, start_wall = time.process_time(), time.perf_counter()
        result = step()
        cpu = min(cpu, time.process_time() - start_cpu)
        wall = min(wall, time.perf_counter() - start_wall)
    return cpu, wall, result


def main() -> None:
    """Print microseconds per record for each step."""
    args = argparse.ArgumentParser(description=__doc__)
    args.add_argument("--records", type=int, default=20_000)
    args.add_argument("--repeat", type=int, default=5)
    args.add_argument("--encoding", choices=("iso-8859-1", "utf-8"), default="iso-8859-1")
    opts = args.parse_args()
    connector = DeCsvConnector(DeCsvConfig(member_state="DE", export_encoding=opts.encoding))
    data, manifest = export(connector, count=opts.records, seed=7, defect_share=0.0)
    n = manifest.records
    ctx = MappingContext(
        "de-csv", connector.version, connector.config.member_state, "bench", dt.datetime.now(dt.UTC), str
    )

    def stream(steps: int) -> None:
        # Records flow through one at a time, as in the pipeline: nothing piles up for the GC to traverse.
        for record in connector.read(io.BytesIO(data), "bench.csv"):
            if steps > 1:
                parsed = connector.parse(record)
                if steps > 2:
                    connector.map(parsed)

    def translate_all() -> None:
        for record in connector.read(io.BytesIO(data), "bench.csv"):
            connector.translate(record, ctx)

    read = _best(lambda: stream(1), opts.repeat)
    read_parse = _best(lambda: stream(2), opts.repeat)
    read_parse_map = _best(lambda: stream(3), opts.repeat)
    translate = _best(translate_all, opts.repeat)
    steps = (
        ("read", read[0], read[1]),
        ("parse", read_parse[0] - read[0], read_parse[1] - read[1]),
        ("map", read_parse_map[0] - read_parse[0], read_parse_map[1] - read_parse[1]),
        ("sum", read_parse_map[0], read_parse_map[1]),
    )
    print(f"{n} records, {len(data) / n:.0f} bytes/record, {opts.encoding}; us/record, best of {opts.repeat}")
    print(f"  {'step':<10} {'cpu':>7} {'wall':>7}")
    for name, cpu, wall in steps:
        print(f"  {name:<10} {cpu / n * 1e6:7.2f} {wall / n * 1e6:7.2f}")
    print(f"  -> {n / read_parse_map[0]:,.0f} records/s of CPU for read + parse + map")
    cpu, wall = translate[0] / n * 1e6, translate[1] / n * 1e6
    print(f"  {'read+translate':<10} {cpu:7.2f} {wall:7.2f}   (framework envelopes included)")

    parsed_rows = [connector.parse(r) for r in connector.read(io.BytesIO(data), "bench.csv")]
    gc.freeze()  # the rows held for the per-type loop must not make the collector's work grow
    by_type: Counter[str] = Counter()
    cost: defaultdict[str, float] = defaultdict(float)
    for p in parsed_rows:
        start = time.process_time()
        connector.map(p)
        cost[p.row.ereignisart] += time.process_time() - start
        by_type[p.row.ereignisart] += 1
    for kind, count in by_type.most_common():
        print(f"    map {kind:<26} {cost[kind] / count * 1e6:6.2f} us ({count} rows)")


if __name__ == "__main__":
    main()
