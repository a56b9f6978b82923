"""``NlXmlConnector``: the Dutch return-case export (vreemdelingendossier, XML) as canonical events.

The export format, in brief (the XSD, ``xsd/nl-vreemdelingendossier-v1.xsd``, is the full contract)::

    <?xml version="1.0" encoding="UTF-8"?>
    <DossierExport xmlns="urn:nl:ind:terugkeer:dossier:v1" versie="1">
      <Gebeurtenis xmlns="urn:nl:ind:terugkeer:dossier:v1">
        <Zaaknummer>NL-2025-0000001</Zaaknummer><VNummer>1234567890</VNummer>
        <Tijdstip>2025-03-04T10:15:00</Tijdstip>
        <Terugkeerbesluit>...</Terugkeerbesluit>
      </Gebeurtenis>
      ...
    </DossierExport>

One ``<Gebeurtenis>`` is one record and one canonical event: case number, V-nummer (the person reference),
local time of the event, and one of 13 event elements, one for each canonical payload type.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator, Mapping
from importlib.metadata import PackageNotFoundError, version
from typing import Any, BinaryIO, ClassVar

from lxml import etree

from gateway.connectors.base import Connector, ConnectorConfig, Fact, RawRecord, SampleRecord
from gw_connector_nl_xml import defects, renderer
from gw_connector_nl_xml.charsets import UTF8, lookup
from gw_connector_nl_xml.codelists import Codes
from gw_connector_nl_xml.config import NlXmlConfig
from gw_connector_nl_xml.mapper import map_record
from gw_connector_nl_xml.parser import compile_schema, parse_record, parsers
from gw_connector_nl_xml.reader import split_records


def _distribution_version() -> str:
    try:
        return version("returns-gateway-connector-nl-xml")
    except PackageNotFoundError:  # imported from a source tree that was never installed
        return "0.0.0+unknown"


class NlXmlConnector(Connector[NlXmlConfig]):
    """Reads Dutch ``DossierExport`` XML files; one ``<Gebeurtenis>`` record becomes one canonical event.

    The XSD is compiled and the code lists are loaded once per instance; ``parse`` and ``map`` are pure.
    """

    name: ClassVar[str] = "nl-xml"
    version: ClassVar[str] = _distribution_version()
    formats: ClassVar[tuple[str, ...]] = ("xml",)
    config_model: ClassVar[type[ConnectorConfig]] = NlXmlConfig
    defect_kinds: ClassVar[Mapping[str, str]] = defects.DEFECT_KINDS

    def __init__(self, config: NlXmlConfig) -> None:
        super().__init__(config)
        self._codes = Codes.load()
        self._schema = compile_schema()
        self._parsers = parsers()

    def read(self, stream: BinaryIO, source: str) -> Iterator[RawRecord]:
        """Cut an export into records, streaming; problems become records with ``error`` set."""
        return split_records(
            stream,
            source,
            chunk_bytes=self.config.read_chunk_bytes,
            max_record_bytes=self.config.max_record_bytes,
        )

    def from_message(
        self, value: bytes, source: str, position: str, index: int, headers: Mapping[str, bytes] | None = None
    ) -> RawRecord:
        """A record from a raw topic: one ``Gebeurtenis`` a message.

        A record replayed from a file's dead letter carries that file's encoding (``gw.source.encoding``) and is
        read in it, so an ISO-8859-1 export's record reads as it did from the file. Any other message is UTF-8
        (or says otherwise in its own XML declaration).
        """
        name = (headers or {}).get("gw.source.encoding", b"").decode("ascii", "replace")
        encoding = (lookup(name) if name else None) or UTF8
        return RawRecord(data=value, source=source, position=position, index=index, encoding=encoding.codec)

    def parse(self, record: RawRecord) -> etree._Element:
        """The record's ``Gebeurtenis`` element, well-formed and valid under the XSD, read in its encoding."""
        parser = self._parsers[(lookup(record.encoding) or UTF8).codec]
        return parse_record(record, parser, self._schema)

    def map(self, parsed: Any) -> list[Fact]:
        """The one fact a ``Gebeurtenis`` records."""
        return [map_record(parsed, self._codes, self.config.ambiguous_local_time)]

    def render(self, story: Any, rng: random.Random) -> list[SampleRecord]:
        """One record for each fact of the story (``rng`` is not needed: the rendering is fixed)."""
        return [SampleRecord(renderer.render_fact(fact, self._codes), (fact,)) for fact in story.facts]

    def corrupt(self, record: SampleRecord, kind: str, rng: random.Random) -> bytes:
        """Damage a valid record in the way ``kind`` names (see ``defects.DEFECT_KINDS``)."""
        return defects.corrupt(record, kind, rng, self._codes)

    def write_export(self, out: BinaryIO, records: Iterable[bytes]) -> None:
        """Write records as one export file: declaration, root element, one record a line."""
        renderer.write_export(out, records)
