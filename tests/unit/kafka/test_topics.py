"""Topic specs and config drift (no broker needed)."""

from __future__ import annotations

from typing import Any

import pytest
from confluent_kafka.admin import ConfigEntry, ConfigSource  # type: ignore[attr-defined]
from pydantic import ValidationError

from gateway.kafka.topics import ConfigDrift, TopicSpec, diff_configs


def _entry(name: str, value: str, source: ConfigSource = ConfigSource.DYNAMIC_TOPIC_CONFIG) -> ConfigEntry:
    return ConfigEntry(name, value, source=source)


def test_desired_configs() -> None:
    spec = TopicSpec(
        name="gw.progress",
        partitions=1,
        replication_factor=1,
        retention_ms=86_400_000,
        cleanup_policy="compact,delete",
        configs={"min.compaction.lag.ms": "1000"},
    )
    assert spec.desired_configs() == {
        "cleanup.policy": "compact,delete",
        "retention.ms": "86400000",
        "min.compaction.lag.ms": "1000",
    }
    assert "retention.ms" not in TopicSpec(name="t", partitions=1, replication_factor=1).desired_configs()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"name": "bad name", "partitions": 1, "replication_factor": 1},
        {"name": "..", "partitions": 1, "replication_factor": 1},
        {"name": "t", "partitions": 0, "replication_factor": 1},
        {"name": "t", "partitions": 1, "replication_factor": 0},
        {"name": "t", "partitions": 1, "replication_factor": 1, "cleanup_policy": "archive"},
        {"name": "t", "partitions": 1, "replication_factor": 1, "retention_ms": -2},
        {"name": "t", "partitions": 1, "replication_factor": 1, "configs": {"retention.ms": "1"}},
        {"name": "t", "partitions": 1, "replication_factor": 1, "replicas": 1},
    ],
)
def test_invalid_specs_are_rejected(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        TopicSpec(**kwargs)


def test_no_drift_when_configs_match_in_any_policy_order() -> None:
    spec = TopicSpec(name="t", partitions=1, replication_factor=1, retention_ms=1000, cleanup_policy="compact,delete")
    current = {
        "cleanup.policy": _entry("cleanup.policy", "delete,compact"),
        "retention.ms": _entry("retention.ms", "1000"),
    }
    assert diff_configs(spec, current) == ()


def test_drift_is_reported_per_key() -> None:
    spec = TopicSpec(name="t", partitions=1, replication_factor=1, retention_ms=1000, cleanup_policy="compact")
    current = {"cleanup.policy": _entry("cleanup.policy", "delete"), "retention.ms": _entry("retention.ms", "5000")}
    assert set(diff_configs(spec, current)) == {
        ConfigDrift("t", "cleanup.policy", "compact", "delete"),
        ConfigDrift("t", "retention.ms", "1000", "5000"),
    }


def test_retention_override_is_dropped_when_spec_wants_the_default() -> None:
    spec = TopicSpec(name="t", partitions=1, replication_factor=1)
    default = {"cleanup.policy": _entry("cleanup.policy", "delete", ConfigSource.DEFAULT_CONFIG)}
    overridden = {**default, "retention.ms": _entry("retention.ms", "1000")}
    broker_default = {**default, "retention.ms": _entry("retention.ms", "604800000", ConfigSource.DEFAULT_CONFIG)}
    assert diff_configs(spec, broker_default) == ()
    assert diff_configs(spec, overridden) == (ConfigDrift("t", "retention.ms", None, "1000"),)
