"""``DeCsvConnector``: the German CSV reference connector, wiring reader, parser, mapper, renderer and defects."""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator, Mapping
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _dist_version
from typing import Any, BinaryIO, ClassVar
from zoneinfo import ZoneInfo

from gateway.connectors.base import Connector, ConnectorConfig, Fact, RawRecord, SampleRecord
from gateway.connectors.codes import CodeTables
from gw_connector_de_csv.config import DeCsvConfig
from gw_connector_de_csv.defects import DEFECT_KINDS, corrupt
from gw_connector_de_csv.mapper import Mapper
from gw_connector_de_csv.parser import ParsedRow, header_problem, parse_record
from gw_connector_de_csv.reader import BOM_UTF8, read_export
from gw_connector_de_csv.renderer import Style, encode_row, header_line, render_row
from gw_connector_de_csv.tables import Tables

DISTRIBUTION = "returns-gateway-connector-de-csv"
# Before header-less rows were read by their field count, a raw-topic row carried the canonical header line as
# its context, so its dead letter still does; one without ``gw.source.file`` never had a header of its own.
_IMPLIED_CONTEXTS = frozenset(header_line(encoding) for encoding in ("iso-8859-1", "utf-8"))


def _version() -> str:
    try:
        return _dist_version(DISTRIBUTION)
    except PackageNotFoundError:  # imported from a source tree that is not installed
        return "0.0.0"


class DeCsvConnector(Connector[DeCsvConfig]):
    """German return case-management exports: ``;``-separated CSV, one row per event (see the README)."""

    name: ClassVar[str] = "de-csv"
    version: ClassVar[str] = _version()
    formats: ClassVar[tuple[str, ...]] = ("csv",)
    config_model: ClassVar[type[ConnectorConfig]] = DeCsvConfig
    defect_kinds: ClassVar[Mapping[str, str]] = DEFECT_KINDS

    def __init__(self, config: DeCsvConfig) -> None:
        super().__init__(config)
        self._zone = ZoneInfo(config.timezone)
        self._tables = Tables.from_codes(CodeTables.from_package("gw_connector_de_csv"))
        self._mapper = Mapper(self._tables, self._zone, config.ambiguous_local_time)

    def read(self, stream: BinaryIO, source: str) -> Iterator[RawRecord]:
        """Cut an export into data rows (the header line travels as each row's ``context``)."""
        c = self.config
        return read_export(
            stream,
            source,
            encoding=c.encoding,
            chunk_bytes=c.chunk_bytes,
            max_record_bytes=c.max_record_bytes,
            check_header=header_problem,
        )

    def from_message(
        self, value: bytes, source: str, position: str, index: int, headers: Mapping[str, bytes] | None = None
    ) -> RawRecord:
        """A row from a raw topic: one row per message.

        A row replayed from a file's dead letter carries that file's header line and encoding
        (``gw.source.context``, ``gw.source.encoding``) and is read with them. Any other message has no header:
        its record gets no ``context``, and ``parse`` reads its columns in canonical order, in the version of the
        format its field count names (so a row written before ``Förderung_Status`` existed still reads).
        """
        headers = headers or {}
        context, encoding = headers.get("gw.source.context"), headers.get("gw.source.encoding")
        if context in _IMPLIED_CONTEXTS and "gw.source.file" not in headers:
            context = None
        text_encoding = None if encoding is None else encoding.decode("ascii", "replace")
        if context and text_encoding:
            return RawRecord(value, source, position, index, text_encoding, context)
        if value.startswith(BOM_UTF8):
            return RawRecord(value[len(BOM_UTF8) :], source, position, index, "utf-8")
        # A replayed header-less row lost its byte-order mark when first read; its dead letter kept the encoding.
        return RawRecord(value, source, position, index, text_encoding or self.config.encoding)

    def parse(self, record: RawRecord) -> ParsedRow:
        """Decode and split a row, ordering its fields by the file's header."""
        return parse_record(record, self.config.max_field_chars)

    def map(self, parsed: Any) -> list[Fact]:
        """Map a parsed row to its one fact."""
        return self._mapper.map(parsed)

    def render(self, story: Any, rng: random.Random) -> list[SampleRecord]:
        """One row per fact of the story, in the configured export encoding."""
        encoding = self.config.export_encoding
        return [
            SampleRecord(encode_row(render_row(fact, self._tables, Style.pick(self._zone, rng)), encoding), (fact,))
            for fact in story.facts
        ]

    def corrupt(self, record: SampleRecord, kind: str, rng: random.Random) -> bytes:
        """Damage a rendered row (see ``defect_kinds``)."""
        return corrupt(record.data, kind, rng, self.config.export_encoding, self.config.encoding)

    def write_export(self, out: BinaryIO, records: Iterable[bytes]) -> None:
        """Write the header line (after a BOM for UTF-8), then the rows, each ended by CR LF."""
        encoding = self.config.export_encoding
        if encoding == "utf-8":
            out.write(BOM_UTF8)
        out.write(header_line(encoding) + b"\r\n")
        for data in records:
            out.write(data + b"\r\n")
