"""The least-privilege ACL set, derived from topic names alone (no broker)."""

from __future__ import annotations

import pytest
from confluent_kafka.admin import AclOperation, AclPermissionType, ResourcePatternType, ResourceType

from gateway.config import TopicNames
from gateway.errors import ConfigError
from gateway.kafka.acls import AclGrant, connector_grants, detector_grants, gateway_grants, reader_grants, to_binding
from gateway.pipeline.file_ingest import ingest_application, ingest_transactional_id
from gateway.pipeline.service import ServiceOptions, application_of
from gateway.state import changelog_topic
from tests.unit.kafka.acl_check import allowed

TOPICS = TopicNames()
DE = "User:gw-de-csv"


def test_a_connector_writes_its_own_topics_and_the_canonical_topic_only() -> None:
    grants = gateway_grants(TOPICS, {"de-csv": DE, "fr-jsonl": "User:gw-fr-jsonl"})
    assert allowed(grants, DE, "TOPIC", TOPICS.canonical, "WRITE")
    assert allowed(grants, DE, "TOPIC", TOPICS.dlq("de-csv"), "WRITE")
    assert allowed(grants, DE, "TOPIC", TOPICS.raw("de-csv"), "READ")
    assert not allowed(grants, DE, "TOPIC", TOPICS.dlq("fr-jsonl"), "WRITE")
    assert not allowed(grants, DE, "TOPIC", TOPICS.raw("fr-jsonl"), "READ")
    assert not allowed(grants, DE, "TOPIC", TOPICS.canonical, "READ")
    assert not allowed(grants, DE, "TOPIC", TOPICS.alerts, "WRITE")
    assert not allowed(grants, DE, "GROUP", "gateway-fr-jsonl", "READ")


def test_the_names_follow_the_pipelines_own_conventions() -> None:
    # If the pipeline renames its transactional ids, changelogs or groups, these grants must follow.
    settings_like = type("S", (), {"topics": TOPICS})()
    grants = connector_grants(DE, "de-csv", TOPICS)
    application = ingest_application("de-csv", settings_like)  # type: ignore[arg-type]
    assert allowed(grants, DE, "TRANSACTIONAL_ID", ingest_transactional_id("de-csv", application, "f1"), "WRITE")
    assert allowed(grants, DE, "TOPIC", changelog_topic(application, "cases"), "WRITE")
    assert allowed(grants, DE, "TOPIC", changelog_topic(application, "cases"), "CREATE")
    assert allowed(grants, DE, "GROUP", f"{application}.restore", "DESCRIBE")
    service = application_of("de-csv", ServiceOptions())
    assert allowed(grants, DE, "TRANSACTIONAL_ID", f"gateway-run-de-csv-{ServiceOptions().instance}", "WRITE")
    assert allowed(grants, DE, "TOPIC", changelog_topic(service, "cases"), "READ")
    assert allowed(grants, DE, "GROUP", "gateway-de-csv", "READ")


def test_a_custom_service_group_names_the_group_changelogs_and_transactional_ids() -> None:
    grants = connector_grants(DE, "de-csv", TOPICS, group="nl-prod")
    service = application_of("de-csv", ServiceOptions(group_id="nl-prod"))
    assert allowed(grants, DE, "GROUP", "nl-prod", "READ")
    assert allowed(grants, DE, "TOPIC", changelog_topic(service, "cases"), "WRITE")
    assert allowed(grants, DE, "TRANSACTIONAL_ID", "nl-prod-host1", "WRITE")


def test_the_detector_reads_canonical_and_writes_only_its_outputs() -> None:
    grants = detector_grants("User:det", TOPICS)
    assert allowed(grants, "User:det", "TOPIC", TOPICS.canonical, "READ")
    assert allowed(grants, "User:det", "TOPIC", TOPICS.erasures, "READ")
    assert allowed(grants, "User:det", "TOPIC", TOPICS.alerts, "WRITE")
    assert allowed(grants, "User:det", "TOPIC", changelog_topic("gateway-detect", "subjects"), "WRITE")
    assert not allowed(grants, "User:det", "TOPIC", TOPICS.canonical, "WRITE")
    assert not allowed(grants, "User:det", "TOPIC", TOPICS.erasures, "WRITE")


def test_a_reader_reads_what_it_names_and_writes_nothing() -> None:
    grants = reader_grants("User:stats", [TOPICS.canonical], "stats")
    assert allowed(grants, "User:stats", "TOPIC", TOPICS.canonical, "READ")
    assert allowed(grants, "User:stats", "GROUP", "stats", "READ")
    assert {g.operation for g in grants} <= {"READ", "DESCRIBE"}


def test_prefixes_reaching_another_connectors_names_are_refused() -> None:
    # gateway-ingest-de-* would cover gateway-ingest-de-csv-<hash>: de's principal could fence de-csv's ingests.
    with pytest.raises(ConfigError, match="gateway-ingest-de-"):
        gateway_grants(TOPICS, {"de": "User:a", "de-csv": "User:b"})
    # The same principal for both is no escalation.
    assert gateway_grants(TOPICS, {"de": "User:a", "de-csv": "User:a"})


def test_grants_are_sorted_unique_and_become_allow_bindings() -> None:
    grants = gateway_grants(TOPICS, {"de-csv": DE}, detector="User:det")
    assert list(grants) == sorted(set(grants))
    binding = to_binding(AclGrant(DE, "TRANSACTIONAL_ID", "gateway-ingest-de-csv-", "PREFIXED", "WRITE"))
    assert binding.restype == ResourceType.TRANSACTIONAL_ID
    assert binding.resource_pattern_type == ResourcePatternType.PREFIXED
    assert binding.operation == AclOperation.WRITE
    assert binding.permission_type == AclPermissionType.ALLOW
    assert (binding.principal, binding.host, binding.name) == (DE, "*", "gateway-ingest-de-csv-")
