"""Configuration of the French JSON Lines connector."""

from __future__ import annotations

from pydantic import Field

from gateway.connectors.base import ConnectorConfig
from gateway.events.models import MemberState


class FrJsonlConfig(ConnectorConfig):
    """Settings of ``fr-jsonl``, beyond those every connector has.

    Attributes:
        member_state: Member State whose system the exports come from: FR, the French system this imitates.
        max_depth: Deepest nesting of JSON objects and arrays a record may have. The format needs four levels
            (record, ``aide``, ``composantes``, one component); the default leaves room and still refuses
            recursion bombs long before any parser's own limit.
    """

    member_state: MemberState = MemberState.FR
    max_depth: int = Field(16, ge=4, le=64, description="Deepest nesting of JSON objects and arrays a record may have.")
