"""Creating the gateway's topics from its settings (idempotent)."""

from __future__ import annotations

from confluent_kafka.admin import AdminClient

from gateway.config import GatewaySettings
from gateway.kafka.connect import wait_for_broker
from gateway.kafka.topics import TopicsReport, ensure_topics


def provision(settings: GatewaySettings, connectors: list[str]) -> TopicsReport:
    """Create the canonical, progress, dead-letter and raw topics that are missing; report mismatches.

    Raises:
        BrokerUnreachableError: The cluster did not answer within ``kafka.connect_timeout_s``.
    """
    admin = AdminClient(dict(settings.kafka.to_librdkafka()))
    wait_for_broker(settings.kafka)  # its own client: it reads the error callback for a refusal
    return ensure_topics(admin, settings.topics.specs(connectors))
