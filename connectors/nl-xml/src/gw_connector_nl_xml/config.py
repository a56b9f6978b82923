"""Configuration of the Dutch XML connector."""

from __future__ import annotations

from pydantic import Field

from gateway.connectors.base import ConnectorConfig


class NlXmlConfig(ConnectorConfig):
    """Settings of the ``nl-xml`` connector, beyond those every connector has.

    Attributes:
        read_chunk_bytes: How many bytes the reader reads at a time. Memory use is about this plus
            ``max_record_bytes``, whatever the size of the export.
    """

    read_chunk_bytes: int = Field(1 << 20, ge=1, le=64 << 20, description="Bytes read from an export at a time.")
