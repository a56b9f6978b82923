"""Headers of the canonical topic's messages: part of its contract with every consumer, like the schema."""

from __future__ import annotations

EVENT_TYPE_HEADER = "gw.event.type"
"""The event's type (``EventType`` value), so a consumer can skip event types it does not read without decoding."""
