"""The RRAI export's edges: replaying the canonical topic into :class:`Usage`, and writing a quarter's files.

The replay reads the canonical topic from its beginning to its end (committed events only), skips the event types
the count does not read by their header without decoding them, and decodes the rest on the codec's trusted path.
The files are the JSON document (``schemas/json/rrai-usage-v1.schema.json``, checked before it is written) and a
CSV of its rows. Both are deterministic: the same topic and configuration give the same bytes.
"""

from __future__ import annotations

import csv
import io
import json
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, cast

import jsonschema

from gateway.adapters.rrai.config import Quarter, RraiConfig
from gateway.adapters.rrai.usage import RELEVANT_EVENT_TYPES, ROW_FIELDS, Usage, UsageFold, UsageRow, usage_rows
from gateway.codec.codec import EventCodec
from gateway.errors import FatalError
from gateway.events.headers import EVENT_TYPE_HEADER
from gateway.kafka.reader import read_to_end
from gateway.kafka.settings import KafkaSettings
from gateway.validation.programmes import Programme, ProgrammeCatalogue

FORMAT = "rrai-usage-v1"
_RELEVANT_HEADERS = frozenset(str(t).encode() for t in RELEVANT_EVENT_TYPES)


def schema_path() -> Path:
    """Where the output's JSON Schema is: packaged in ``gateway/_schemas/json`` in a wheel, else ``schemas/json``."""
    package = Path(__file__).resolve().parents[2]
    packaged = package / "_schemas" / "json" / f"{FORMAT}.schema.json"
    return packaged if packaged.is_file() else package.parent / "schemas" / "json" / f"{FORMAT}.schema.json"


@cache
def output_schema() -> dict[str, Any]:
    """The output's JSON Schema."""
    return cast(dict[str, Any], json.loads(schema_path().read_text(encoding="utf-8")))


def replay_usage(
    kafka: KafkaSettings, topic: str, *, codec: EventCodec | None = None, timeout_s: float = 30.0
) -> Usage:
    """Fold the whole canonical topic into :class:`Usage`.

    Raises:
        TransientError: The topic cannot be read to its end.
        DecodeError: A relevant message is not a canonical event.
    """
    codec = codec or EventCodec()
    fold = UsageFold()
    for message in read_to_end(kafka, topic, timeout_s=timeout_s):
        headers = dict(cast(list[tuple[str, bytes]], message.headers() or []))
        event_type = headers.get(EVENT_TYPE_HEADER)
        if event_type is not None and event_type not in _RELEVANT_HEADERS:
            continue  # an event type the count never reads: not even decoded
        fold.add(codec.decode(message.value() or b"", topic, trusted=True))
    return fold.result()


def _programme_json(p: Programme) -> dict[str, Any]:
    def amount(value: object) -> str | None:
        return None if value is None else f"{value:.2f}"

    return {
        "reference": p.reference,
        "name": p.name,
        "member_state": str(p.member_state),
        "eligible_groups": list(p.eligible_groups),
        "stages": [str(s) for s in p.stages],
        "organisations": list(p.organisations),
        "components": [
            {"type": str(c.type), "forms": [str(f) for f in c.forms], "max_amount_eur": amount(c.max_amount_eur)}
            for c in p.components
        ],
        "max_total_eur": amount(p.max_total_eur),
        "valid_from": p.valid_from.isoformat() if p.valid_from else None,
        "valid_until": p.valid_until.isoformat() if p.valid_until else None,
    }


@dataclass(frozen=True, slots=True)
class RraiReport:
    """One quarter's RRAI output.

    Attributes:
        quarter: The quarter.
        config: The settings it was counted with.
        catalogue: The deployment's programme catalogue.
        rows: Usage rows, small counts suppressed.
    """

    quarter: Quarter
    config: RraiConfig
    catalogue: ProgrammeCatalogue
    rows: tuple[UsageRow, ...]

    def to_json(self) -> dict[str, Any]:
        """The JSON document (``rrai-usage-v1``)."""
        return {
            "format": FORMAT,
            "quarter": str(self.quarter),
            "first_day": self.quarter.first_day.isoformat(),
            "last_day": self.quarter.last_day.isoformat(),
            "threshold": self.config.threshold,
            "levels": list(self.config.levels()),
            "programmes": [_programme_json(p) for p in sorted(self.catalogue.programmes, key=lambda p: p.reference)],
            "rows": [r.to_json() for r in self.rows],
        }

    def json_bytes(self) -> bytes:
        """The JSON document as UTF-8, checked against the output schema.

        Raises:
            FatalError: The document breaks the schema (a bug, or a value the schema refuses to let out).
        """
        doc = self.to_json()
        errors = sorted(jsonschema.Draft202012Validator(output_schema()).iter_errors(doc), key=lambda e: e.path)
        if errors:
            where = "/".join(map(str, errors[0].absolute_path))
            raise FatalError(f"RRAI output breaks {FORMAT}: {where}: {errors[0].message} ({len(errors)} errors)")
        return (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode()

    def csv_bytes(self) -> bytes:
        """The rows as CSV (header = ``ROW_FIELDS``; lists joined by ``|``; null as empty)."""
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(ROW_FIELDS)
        for row in self.rows:
            writer.writerow([_csv_cell(getattr(row, name)) for name in ROW_FIELDS])
        return buf.getvalue().encode()


def _csv_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, tuple):
        return "|".join(map(str, value))
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def build_report(usage: Usage, quarter: Quarter, catalogue: ProgrammeCatalogue, config: RraiConfig) -> RraiReport:
    """Count a quarter's usage into a report (pure)."""
    return RraiReport(quarter, config, catalogue, usage_rows(usage, quarter, catalogue, config))


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)  # a reader never sees half a file


def write_report(report: RraiReport, out_dir: Path) -> tuple[Path, Path]:
    """Write ``rrai-usage-<quarter>.json`` and ``.csv`` into ``out_dir`` (created if needed); return their paths.

    Raises:
        FatalError: The JSON document breaks the output schema; nothing is written then.
    """
    data = report.json_bytes()  # validated first, so an invalid report leaves no file behind
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"rrai-usage-{report.quarter}"
    json_path, csv_path = out_dir / f"{stem}.json", out_dir / f"{stem}.csv"
    _write_atomic(json_path, data)
    _write_atomic(csv_path, report.csv_bytes())
    return json_path, csv_path


def export_quarter(
    kafka: KafkaSettings,
    topic: str,
    quarter: Quarter,
    catalogue: ProgrammeCatalogue,
    config: RraiConfig,
    out_dir: Path,
    *,
    timeout_s: float = 30.0,
) -> tuple[RraiReport, tuple[Path, Path]]:
    """Replay ``topic``, count ``quarter`` and write its files.

    Raises:
        TransientError: The topic cannot be read to its end.
        DecodeError: A relevant message is not a canonical event.
        FatalError: The output breaks its schema.
    """
    report = build_report(replay_usage(kafka, topic, timeout_s=timeout_s), quarter, catalogue, config)
    return report, write_report(report, out_dir)
