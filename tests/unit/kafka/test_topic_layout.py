"""Topic provisioning takes replication and min.insync.replicas from the settings (no broker)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from gateway.config import TopicNames


def test_min_insync_replicas_reaches_every_topic_spec() -> None:
    topics = TopicNames(replication_factor=3, min_insync_replicas=2)
    specs = [
        *topics.specs(["de-csv"]),
        *topics.detector_specs(),
        *topics.outbound_specs(("sis", "eurodac")),
    ]
    assert {s.replication_factor for s in specs} == {3}
    assert all(s.desired_configs()["min.insync.replicas"] == "2" for s in specs)
    progress = next(s for s in specs if s.name == topics.progress)
    assert (progress.partitions, progress.cleanup_policy) == (1, "compact")


def test_without_it_the_broker_default_stays() -> None:
    assert all("min.insync.replicas" not in s.desired_configs() for s in TopicNames().specs(["de-csv"]))


def test_more_in_sync_replicas_than_replicas_is_refused() -> None:
    with pytest.raises(ValidationError, match="min_insync_replicas"):
        TopicNames(replication_factor=1, min_insync_replicas=2)
