"""Configuration of the Dutch XML connector."""

from __future__ import annotations

from pydantic import Field

from gateway.connectors.base import ConnectorConfig
from gateway.connectors.values import AmbiguousLocalTime
from gateway.events.models import MemberState


class NlXmlConfig(ConnectorConfig):
    """Settings of the ``nl-xml`` connector, beyond those every connector has.

    Attributes:
        member_state: Member State whose system the exports come from: NL, the Dutch system this imitates.
        read_chunk_bytes: How many bytes the reader reads at a time. Memory use is about this plus
            ``max_record_bytes``, whatever the size of the export.
        ambiguous_local_time: How to read a local time in the hour repeated when summer time ends: its first
            occurrence (``earlier``, summer time), its second (``later``), or refuse the record (``reject``).
            A time read by policy carries a CN-DST-001 warning on its event.
    """

    member_state: MemberState = MemberState.NL
    read_chunk_bytes: int = Field(1 << 20, ge=1, le=64 << 20, description="Bytes read from an export at a time.")
    ambiguous_local_time: AmbiguousLocalTime = Field(
        "earlier", description="Reading of a local time in the repeated autumn hour: earlier, later or reject."
    )
