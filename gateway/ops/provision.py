"""Creating the gateway's topics from its settings (idempotent)."""

from __future__ import annotations

from confluent_kafka.admin import AdminClient

from gateway.config import GatewaySettings
from gateway.kafka.topics import TopicsReport, ensure_topics


def provision(settings: GatewaySettings, connectors: list[str]) -> TopicsReport:
    """Create the canonical, progress, dead-letter and raw topics that are missing; report mismatches."""
    admin = AdminClient(dict(settings.kafka.to_librdkafka()))
    return ensure_topics(admin, settings.topics.specs(connectors))
