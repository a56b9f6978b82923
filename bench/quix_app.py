"""The comparison application: the same raw → canonical transform on quixstreams, with pydantic and fastavro.

What an application team would write with the usual Python streaming stack: a quixstreams ``Application`` with
``processing_guarantee="exactly-once"`` committing every ``--batch`` records (as the gateway's service mode does),
each raw record parsed by the format's standard-library parser (``bench/ceiling.py``'s parsers), validated into a
pydantic model, mapped into the canonical Avro record (``ceiling.Mapper``: the same templates and fields as the
ceiling) and written by fastavro. Records that fail parsing or validation go to the dead-letter topic as they came.

It runs in its own virtual environment (quixstreams pins an older confluent-kafka than the gateway's): see
``bench/quix-requirements.txt``; ``bench/ingest.py`` creates ``.cache/bench-venvs/quix`` on first use. Arguments
as ``bench/ceiling.py``'s; it exits after ``--idle-exit`` seconds without a message.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
from pathlib import Path
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict
from quixstreams import Application

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ceiling import PARSERS, Mapper


class RawEvent(BaseModel):
    """The fields of a raw record the transform maps, as an application would declare them."""

    model_config = ConfigDict(frozen=True)

    case: str
    person: str
    code: str
    at: AwareDatetime
    surname: str | None
    forenames: list[str]
    birth: tuple[int, int | None, int | None] | None
    place: str | None
    nationalities: list[str]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    for name in ("bootstrap", "connector", "templates", "raw", "out", "dlq", "group"):
        ap.add_argument(f"--{name}", required=True)
    ap.add_argument("--batch", type=int, default=500)
    ap.add_argument("--idle-exit", type=float, default=5.0)
    args = ap.parse_args()
    mapper, parse = Mapper(Path(args.templates)), PARSERS[args.connector]

    def transform(value: bytes) -> dict[str, Any]:
        try:
            fields = RawEvent.model_validate(parse(value))
            return {"events": [mapper.encode(r) for r in mapper.records(fields.model_dump())], "dead": None}
        except Exception:  # bad data: dead-lettered as it came
            return {"events": [], "dead": value}

    with tempfile.TemporaryDirectory() as state:
        app = Application(
            broker_address=args.bootstrap,
            consumer_group=args.group,
            auto_offset_reset="earliest",
            processing_guarantee="exactly-once",
            commit_every=args.batch,
            state_dir=state,
            auto_create_topics=False,
        )
        raw = app.topic(args.raw, key_deserializer="bytes", value_deserializer="bytes")
        out = app.topic(args.out, key_serializer="bytes", value_serializer="bytes")
        dlq = app.topic(args.dlq, key_serializer="bytes", value_serializer="bytes")
        sdf = app.dataframe(raw).apply(transform)
        sdf.filter(lambda v: v["dead"] is not None).apply(lambda v: v["dead"]).to_topic(dlq)
        sdf.filter(lambda v: v["dead"] is None).apply(lambda v: v["events"], expand=True).to_topic(out)
        started = dt.datetime.now(dt.UTC)
        app.run(timeout=args.idle_exit)
        print(f"started {started.isoformat()}")


if __name__ == "__main__":
    main()
