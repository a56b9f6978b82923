"""ensure_topics against the real broker: create, stay idempotent, fix config drift, report layout mismatches."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator

import pytest
from confluent_kafka.admin import AdminClient, ConfigResource, ResourceType  # type: ignore[attr-defined]

from gateway.errors import ConfigError
from gateway.kafka.topics import ConfigDrift, LayoutMismatch, TopicSpec, ensure_topics

# See test_kafka_producer.py: conftest's Docker probe leaks a socket that would otherwise fail a random test.
pytestmark = pytest.mark.integration


@pytest.fixture
def topic_name(admin: AdminClient) -> Iterator[str]:
    """A fresh topic name; the topic is deleted afterwards if it was created."""
    name = f"ensure-{uuid.uuid4().hex[:10]}"
    yield name
    if name in admin.list_topics(timeout=10).topics:
        admin.delete_topics([name])[name].result(timeout=30)


def topic_configs(admin: AdminClient, name: str) -> dict[str, str]:
    resource = ConfigResource(ResourceType.TOPIC, name)
    entries = admin.describe_configs([resource])[resource].result(timeout=30)
    return {key: entry.value for key, entry in entries.items()}


def eventual_configs(admin: AdminClient, name: str, expected: dict[str, str], timeout: float = 15.0) -> dict[str, str]:
    """Configs once they show ``expected``: a KRaft broker applies an accepted change to its cache asynchronously."""
    deadline = time.monotonic() + timeout
    while True:
        configs = topic_configs(admin, name)
        if all(configs.get(k) == v for k, v in expected.items()) or time.monotonic() > deadline:
            return configs
        time.sleep(0.2)


def test_creates_a_compacted_topic_with_retention_then_is_idempotent(admin: AdminClient, topic_name: str) -> None:
    spec = TopicSpec(
        name=topic_name,
        partitions=2,
        replication_factor=1,
        retention_ms=3_600_000,
        cleanup_policy="compact,delete",
        configs={"min.compaction.lag.ms": "1000"},
    )
    first = ensure_topics(admin, [spec])
    assert first.created == (topic_name,)
    assert first.mismatches == ()
    assert first.drift == ()

    metadata = admin.list_topics(timeout=10).topics[topic_name]
    assert len(metadata.partitions) == 2
    configs = topic_configs(admin, topic_name)
    assert set(configs["cleanup.policy"].split(",")) == {"compact", "delete"}
    assert configs["retention.ms"] == "3600000"
    assert configs["min.compaction.lag.ms"] == "1000"

    second = ensure_topics(admin, [spec])
    assert second.created == ()
    assert second.unchanged == (topic_name,)
    assert second.drift == ()
    assert second.mismatches == ()
    assert not second.drift_applied


def test_config_drift_is_reported_and_corrected(admin: AdminClient, new_topic: Callable[..., str]) -> None:
    name = new_topic("ensure-drift", partitions=1, config={"cleanup.policy": "delete", "retention.ms": "60000"})
    spec = TopicSpec(name=name, partitions=1, replication_factor=1, cleanup_policy="compact")

    dry = ensure_topics(admin, [spec], apply_drift=False)
    assert set(dry.drift) == {
        ConfigDrift(name, "cleanup.policy", "compact", "delete"),
        ConfigDrift(name, "retention.ms", None, "60000"),  # the spec wants the broker default back
    }
    assert not dry.drift_applied
    assert topic_configs(admin, name)["cleanup.policy"] == "delete"

    fixed = ensure_topics(admin, [spec])
    assert fixed.drift_applied
    configs = eventual_configs(admin, name, {"cleanup.policy": "compact", "retention.ms": "604800000"})
    assert configs["cleanup.policy"] == "compact"
    assert configs["retention.ms"] == "604800000"  # broker default
    assert ensure_topics(admin, [spec]).unchanged == (name,)


def test_partition_mismatch_is_reported_or_raised(
    admin: AdminClient, new_topic: Callable[..., str], topic_name: str
) -> None:
    existing = new_topic("ensure-layout", partitions=2)
    wrong = TopicSpec(name=existing, partitions=3, replication_factor=1)
    missing = TopicSpec(name=topic_name, partitions=1, replication_factor=1)

    with pytest.raises(ConfigError, match="partitions 2 != 3"):
        ensure_topics(admin, [wrong, missing])
    assert topic_name not in admin.list_topics(timeout=10).topics  # raising changed nothing

    report = ensure_topics(admin, [wrong, missing], on_mismatch="report")
    assert report.mismatches == (LayoutMismatch(existing, "partitions", 3, 2),)
    assert report.created == (topic_name,)
    assert existing not in report.unchanged
    assert len(admin.list_topics(timeout=10).topics[existing].partitions) == 2  # never changed in place


def test_broker_refusal_is_a_config_error(admin: AdminClient, topic_name: str) -> None:
    # A single broker cannot hold three replicas: not transient, so not retried.
    with pytest.raises(ConfigError, match="INVALID_REPLICATION_FACTOR"):
        ensure_topics(admin, [TopicSpec(name=topic_name, partitions=1, replication_factor=3)])
