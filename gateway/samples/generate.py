"""Write a national sample export with a chosen share of defective records, and its manifest.

The manifest says, for the whole file, how many records there are, which are defective and how, and how many
events the valid ones must become, so that tests and benchmarks can check ``records in = events out + dead
letters`` exactly.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from gateway.connectors.base import Connector, SampleRecord
from gateway.samples.stories import stories


@dataclass(slots=True)
class SampleManifest:
    """What a generated export contains.

    Attributes:
        connector: Connector whose format the export is in.
        seed: Seed it was generated with.
        records: Number of national records written.
        events: Number of events the valid records must become.
        defects: Record index -> defect kind, for every defective record.
        event_types: Count of expected events by event type.
    """

    connector: str
    seed: int
    records: int = 0
    events: int = 0
    defects: dict[int, str] = field(default_factory=dict)
    event_types: dict[str, int] = field(default_factory=dict)

    @property
    def valid_records(self) -> int:
        """Records that must become events."""
        return self.records - len(self.defects)

    def to_json(self) -> str:
        """The manifest as JSON."""
        return json.dumps(asdict(self), indent=1, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> SampleManifest:
        """Read a manifest written by ``to_json``."""
        raw: dict[str, Any] = json.loads(text)
        raw["defects"] = {int(k): v for k, v in raw["defects"].items()}
        return cls(**raw)


def sample_records(
    connector: Connector[Any],
    *,
    count: int,
    seed: int,
    defect_share: float = 0.0,
    defect_kinds: tuple[str, ...] | None = None,
) -> Iterator[tuple[int, SampleRecord]]:
    """Yield ``count`` rendered records, a ``defect_share`` of them damaged, with their index."""
    kinds = defect_kinds or tuple(sorted(connector.defect_kinds))
    unknown = set(kinds) - set(connector.defect_kinds)
    if unknown:
        raise ValueError(
            f"{connector.name} knows no defect kinds {sorted(unknown)}; it knows {sorted(connector.defect_kinds)}"
        )
    if defect_share and not kinds:
        raise ValueError(f"{connector.name} declares no defect kinds")
    rng = random.Random(seed)  # noqa: S311 - reproducible sample data
    index = 0
    for story in stories(seed, connector.config.member_state):
        for record in connector.render(story, rng):
            if index >= count:
                return
            if defect_share and rng.random() < defect_share:
                kind = kinds[index % len(kinds)]
                record = SampleRecord(connector.corrupt(record, kind, rng), (), kind)
            yield index, record
            index += 1


def generate(
    connector: Connector[Any],
    out: BinaryIO,
    *,
    count: int,
    seed: int,
    defect_share: float = 0.0,
    defect_kinds: tuple[str, ...] | None = None,
) -> SampleManifest:
    """Write an export of ``count`` records to ``out`` and return its manifest (streaming: any size)."""
    manifest = SampleManifest(connector=connector.name, seed=seed)
    types: Counter[str] = Counter()

    def records() -> Iterator[bytes]:
        for index, record in sample_records(
            connector, count=count, seed=seed, defect_share=defect_share, defect_kinds=defect_kinds
        ):
            manifest.records += 1
            if record.defect is not None:
                manifest.defects[index] = record.defect
            manifest.events += len(record.facts)
            types.update(type(f.payload).__name__ for f in record.facts)
            yield record.data

    connector.write_export(out, records())
    manifest.event_types = dict(sorted(types.items()))
    return manifest


def generate_file(connector: Connector[Any], path: Path, **kwargs: Any) -> SampleManifest:
    """Write an export file and its manifest beside it (``<file>.manifest.json``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as out:
        manifest = generate(connector, out, **kwargs)
    path.with_name(path.name + ".manifest.json").write_text(manifest.to_json(), encoding="utf-8")
    return manifest
