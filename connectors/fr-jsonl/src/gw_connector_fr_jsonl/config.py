"""Configuration of the French JSON Lines connector."""

from __future__ import annotations

from pydantic import Field

from gateway.connectors.base import ConnectorConfig


class FrJsonlConfig(ConnectorConfig):
    """Settings of ``fr-jsonl``, beyond those every connector has.

    Attributes:
        max_depth: Deepest nesting of JSON objects and arrays a record may have. The format needs four levels
            (record, ``aide``, ``composantes``, one component); the default leaves room and still refuses
            recursion bombs long before any parser's own limit.
    """

    max_depth: int = Field(16, ge=4, le=64, description="Deepest nesting of JSON objects and arrays a record may have.")
