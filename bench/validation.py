"""Micro-benchmark of the validation stage: microseconds per event for the example events.

Run from the repository root: ``.venv/bin/python bench/validation.py [--rounds N]``. Prints µs/event and writes
bench/out/validation.json. The budget: under 20 % of the pipeline's ~100 µs per record, aiming at < 10 µs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import statistics
import time
from pathlib import Path

from gateway.events.models import CaseEvent
from gateway.testing.examples import all_events
from gateway.validation import CaseState, ValidationEngine, fold, load_config, load_programmes
from gateway.validation.programmes import example_programmes_path

NOW = dt.datetime(2026, 9, 2, 12, 0, tzinfo=dt.UTC)
OUT = Path(__file__).resolve().parent / "out" / "validation.json"
EXPORT = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "boundary" / "export.json"


def _cases(events: list[CaseEvent]) -> list[tuple[CaseEvent, CaseState]]:
    """Each event with the state its case had before it, as the pipeline would pass them."""
    out, state = [], CaseState()
    for event in events:
        out.append((event, state))
        state = fold(state, event)
    return out


def _time_per_event(engine: ValidationEngine, cases: list[tuple[CaseEvent, CaseState]], rounds: int) -> list[float]:
    """Per-round CPU microseconds per event. CPU time, not wall time, so that other processes on a shared
    machine do not count; the minimum over rounds is the least disturbed figure."""
    samples = []
    validate = engine.validate
    for _ in range(rounds):
        start = time.process_time()
        for _ in range(100):
            for event, state in cases:
                validate(event, state, NOW)
        samples.append((time.process_time() - start) / (100 * len(cases)) * 1e6)
    return samples


def _empty_call_ns() -> float:
    """CPU nanoseconds of an empty Python function call: a yardstick for how fast this machine is right now."""

    def nothing() -> None:
        return None

    best = float("inf")
    for _ in range(5):
        start = time.process_time()
        for _ in range(200_000):
            nothing()
        best = min(best, (time.process_time() - start) / 200_000 * 1e9)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    engine = ValidationEngine(load_config({}), load_programmes(example_programmes_path()))
    examples = _cases(all_events())
    boundary = [
        (CaseEvent.model_validate(r["event"]), CaseState()) for r in json.loads(EXPORT.read_text("utf-8"))["records"]
    ]
    result: dict[str, object] = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "rules": len(engine.rules),
        "budget_us_per_event": 20.0,
        "target_us_per_event": 10.0,
        "empty_call_ns": round(_empty_call_ns(), 1),
        "clock": "process_time (CPU time of this process)",
    }
    print(f"yardstick: an empty function call costs {result['empty_call_ns']} ns here")
    for name, cases in (("examples", examples), ("boundary_export", boundary)):
        samples = _time_per_event(engine, cases, args.rounds)
        result[name] = {
            "events": len(cases),
            "median_us_per_event": round(statistics.median(samples), 2),
            "min_us_per_event": round(min(samples), 2),
        }
        median = statistics.median(samples)
        print(f"{name:<16} median {median:6.2f} µs/event, min {min(samples):.2f} ({len(cases)} events)")
    # Per event type after the totals, when the process is warm; the minimum over rounds, as the least disturbed.
    per_type = {
        str(event.event_type): round(min(_time_per_event(engine, [(event, state)], 15)), 2) for event, state in examples
    }
    result["examples_by_event_type_us"] = per_type
    for name, us in per_type.items():
        print(f"  {name:<32} {us:6.2f} µs (min)")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n", "utf-8")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
