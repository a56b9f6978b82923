"""A toy connector for pipeline tests: each line names an event type; ``!`` lines are malformed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from typing import BinaryIO, ClassVar

from gateway.connectors.base import Connector, ConnectorConfig, Fact, RawRecord
from gateway.errors import MappingError, ParseError
from gateway.events.models import EventType
from gateway.testing.examples import payloads


class ToyConnector(Connector[ConnectorConfig]):
    name = "toy"
    version = "1.0"
    formats = ("txt",)
    config_model = ConnectorConfig
    defect_kinds: ClassVar[Mapping[str, str]] = {"malformed": "starts with !", "unknown": "no such event type"}
    aliases: ClassVar[Mapping[str, str]] = {}

    def read(self, stream: BinaryIO, source: str) -> Iterator[RawRecord]:
        for i, line in enumerate(stream):
            yield RawRecord(data=line.rstrip(b"\n"), source=source, position=f"line {i + 1}", index=i)

    def parse(self, record: RawRecord) -> tuple[str, int]:
        text = record.data.decode()
        if text.startswith("!"):
            raise ParseError(f"malformed line {text!r}", position=record.position)
        return text, record.index

    def map(self, parsed: tuple[str, int]) -> list[Fact]:
        text, index = parsed
        try:
            event_type = EventType(self.aliases.get(text, text))
        except ValueError:
            raise MappingError(f"unknown event type {text!r}") from None
        at = dt.datetime(2026, 1, 1, 12, tzinfo=dt.UTC)
        # One case per record, so that cross-event rules never relate the toy's unrelated events.
        return [Fact(f"CASE-{index}", f"{4711 + index}", at, payloads()[event_type])]


class FixedToyConnector(ToyConnector):
    """The toy after a fix: it knows the national alias ``ENTRY`` for an EES entry record."""

    aliases: ClassVar[Mapping[str, str]] = {"ENTRY": "ENTRY_RECORDED"}
