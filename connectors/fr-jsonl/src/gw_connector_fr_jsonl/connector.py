"""``FrJsonlConnector``: French return-case records (JSON Lines and JSON array files, REST payloads, raw messages).

The format, in brief (``README.md`` and ``schema.py`` give every key)::

    {"numeroDossier":"FR-2025-0000042","identifiantPersonne":"7512345678","typeEvenement":"DECISION_ELOIGNEMENT",
     "horodatage":"2026-03-02T10:30:00+01:00","personne":{...},"decision":{...}}

One JSON object per line of a file, per element of a file that is a JSON array, or per message (REST payload,
raw topic) is one record and one canonical event: case number, person identifier, event type, when it happened
(with its UTC offset), and the block of that event type (13 types, one per canonical payload).
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator, Mapping
from importlib.metadata import PackageNotFoundError, version
from typing import Any, BinaryIO, ClassVar

from gateway.connectors.base import Connector, ConnectorConfig, Fact, RawRecord, SampleRecord
from gw_connector_fr_jsonl import defects
from gw_connector_fr_jsonl.codelists import Codes
from gw_connector_fr_jsonl.config import FrJsonlConfig
from gw_connector_fr_jsonl.mapper import map_record
from gw_connector_fr_jsonl.parser import parse_record
from gw_connector_fr_jsonl.reader import BOM_UTF8, read_export
from gw_connector_fr_jsonl.renderer import pick_zone, render_fact
from gw_connector_fr_jsonl.schema import FrRecord


def _distribution_version() -> str:
    try:
        return version("returns-gateway-connector-fr-jsonl")
    except PackageNotFoundError:  # imported from a source tree that was never installed
        return "0.0.0+unknown"


class FrJsonlConnector(Connector[FrJsonlConfig]):
    """Reads French JSON Lines and JSON array exports and single JSON payloads; one object, one canonical event.

    The code lists are loaded once per instance; ``parse`` and ``map`` are pure.
    """

    name: ClassVar[str] = "fr-jsonl"
    version: ClassVar[str] = _distribution_version()
    formats: ClassVar[tuple[str, ...]] = ("jsonl", "json")
    config_model: ClassVar[type[ConnectorConfig]] = FrJsonlConfig
    defect_kinds: ClassVar[Mapping[str, str]] = defects.DEFECT_KINDS

    def __init__(self, config: FrJsonlConfig) -> None:
        super().__init__(config)
        self._codes = Codes.load()

    def read(self, stream: BinaryIO, source: str) -> Iterator[RawRecord]:
        """Cut an export into records, streaming: one per non-blank line, or one per element of a JSON array."""
        return read_export(stream, source, max_record_bytes=self.config.max_record_bytes)

    def from_message(
        self, value: bytes, source: str, position: str, index: int, headers: Mapping[str, bytes] | None = None
    ) -> RawRecord:
        """A record from one REST payload or raw Kafka message: a whole JSON document, any whitespace.

        A leading UTF-8 byte-order mark is dropped, as at the start of a file: a message is a whole document.
        """
        if value.startswith(BOM_UTF8):
            value = value[len(BOM_UTF8) :]
        return RawRecord(data=value, source=source, position=position, index=index)

    def parse(self, record: RawRecord) -> FrRecord:
        """The record's French structure, validated (``ParseError`` with the key path otherwise)."""
        c = self.config
        return parse_record(record.data, record.position, max_depth=c.max_depth, max_bytes=c.max_record_bytes)

    def map(self, parsed: Any) -> list[Fact]:
        """The one fact a French record states."""
        return [map_record(parsed, self._codes)]

    def render(self, story: Any, rng: random.Random) -> list[SampleRecord]:
        """One record per fact of the story, each with its timestamps in a zone ``rng`` picks."""
        return [SampleRecord(render_fact(fact, self._codes, pick_zone(rng)), (fact,)) for fact in story.facts]

    def corrupt(self, record: SampleRecord, kind: str, rng: random.Random) -> bytes:
        """Damage a valid record in the way ``kind`` names (see ``defects.DEFECT_KINDS``)."""
        return defects.corrupt(record, kind, rng, self._codes)

    def write_export(self, out: BinaryIO, records: Iterable[bytes]) -> None:
        """Write records one per line, each ended by a line feed.

        Every line is ended, the last included, so that two exports concatenated (``cat a.jsonl b.jsonl``) are
        still one valid export; the reader accepts a last line without one all the same.
        """
        for data in records:
            out.write(data)
            out.write(b"\n")
