"""Configuration of the German CSV connector."""

from __future__ import annotations

from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator

from gateway.connectors.base import ConnectorConfig
from gateway.connectors.values import AmbiguousLocalTime
from gateway.events.models import MemberState

Encoding = Literal["iso-8859-1", "utf-8"]
#: Encodings a file without a byte-order mark may be read in. Windows-1252 is what German Windows programs write
#: when asked for "ANSI" or "Latin-1"; it differs from ISO-8859-1 only in 0x80-0x9F (euro sign, quotes, dashes).
ReadEncoding = Literal["iso-8859-1", "windows-1252", "utf-8"]


class DeCsvConfig(ConnectorConfig):
    """Settings of ``de-csv``, beyond those every connector has.

    Attributes:
        member_state: Member State whose system the exports come from: DE, the German system this imitates.
        encoding: How to read a file that has no byte-order mark: ``iso-8859-1``, ``windows-1252`` or
            ``utf-8``. A UTF-8 BOM always means UTF-8, whatever this says, because it cannot occur at the start of
            a single-byte export.
        export_encoding: Encoding of rendered samples and of files written by ``write_export``; UTF-8 files
            get a BOM so that the reader (and spreadsheet programs) recognise them.
        max_field_chars: Longest allowed field, in characters, after unquoting.
        timezone: IANA zone of the export's local times (they carry no offset).
        chunk_bytes: Bytes read from the stream at a time.
        ambiguous_local_time: How to read a local time in the hour repeated when summer time ends: its first
            occurrence (``earlier``, summer time), its second (``later``), or refuse the row (``reject``). A time
            read by policy carries a CN-DST-001 warning on its event.
    """

    member_state: MemberState = MemberState.DE
    encoding: ReadEncoding = "iso-8859-1"
    export_encoding: Encoding = "iso-8859-1"
    max_field_chars: int = Field(4096, gt=0)
    timezone: str = "Europe/Berlin"
    chunk_bytes: int = Field(65_536, gt=0)
    ambiguous_local_time: AmbiguousLocalTime = "earlier"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value
