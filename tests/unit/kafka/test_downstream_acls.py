"""Least-privilege ACLs of the downstream processes, checked against the names the processes themselves use."""

from __future__ import annotations

import pytest

from gateway.adapters.ees.documents import DOCUMENT_INDEX_TOPIC
from gateway.adapters.ees.ingest import DLQ_TOPIC as EES_DLQ
from gateway.adapters.riat.pull import DLQ_TOPIC as RIAT_DLQ
from gateway.adapters.riat.pull import PROGRESS_TOPIC, RiatTopics
from gateway.adapters.riat.referrals import REFERRAL_INDEX_TOPIC
from gateway.config import TopicNames
from gateway.dashboard.settings import DashboardSettings
from gateway.delivery.settings import DeliverySettings
from gateway.errors import ConfigError
from gateway.kafka.acls import AclGrant, gateway_grants
from gateway.kafka.downstream_acls import (
    AUDIT_TOPIC,
    DownstreamPrincipals,
    dashboard_grants,
    deliver_grants,
    ees_grants,
    outbound_grants,
    riat_grants,
    stats_grants,
)
from gateway.outbound.config import OutboundConfig
from gateway.outbound.service import OutboundOptions
from gateway.state import changelog_topic
from tests.unit.kafka.acl_check import allowed

TOPICS = TopicNames()
OUT, SIS, EES, RIAT, STATS, BOARD = (f"User:{n}" for n in ("out", "sis", "ees", "riat", "stats", "board"))
WRITES = {"WRITE", "CREATE"}


def written(grants: tuple[AclGrant, ...]) -> set[str]:
    return {g.name for g in grants if g.resource == "TOPIC" and g.operation in WRITES}


def test_the_defaults_are_the_processes_own() -> None:
    # If a process renames a topic, group or audit trail, its grants must follow.
    assert (TOPICS.ees_documents, TOPICS.ees_dlq) == (DOCUMENT_INDEX_TOPIC, EES_DLQ)
    assert TOPICS.riat_dlq == RIAT_DLQ
    assert TOPICS.riat_progress == PROGRESS_TOPIC
    assert TOPICS.riat_referrals == REFERRAL_INDEX_TOPIC
    assert RiatTopics.of(type("S", (), {"topics": TOPICS})()).index == TOPICS.riat_referrals  # type: ignore[arg-type]
    assert DashboardSettings().audit_topic == AUDIT_TOPIC
    assert OutboundConfig().targets == DownstreamPrincipals().outbound_targets


def test_outbound_reads_its_inputs_and_writes_only_its_outputs() -> None:
    grants = outbound_grants(OUT, TOPICS)
    application = OutboundOptions().application
    for topic in (TOPICS.canonical, TOPICS.ees_inbound):
        assert allowed(grants, OUT, "TOPIC", topic, "READ")
    for topic in ("gateway.out.sis", "gateway.out.eurodac", "gateway.out.riat", TOPICS.review, TOPICS.outbound_dlq):
        assert allowed(grants, OUT, "TOPIC", topic, "WRITE")
    # Its start-up checks every topic of its stage, including the ones only delivery writes.
    for spec in TOPICS.outbound_specs(OutboundConfig().targets):
        assert allowed(grants, OUT, "TOPIC", spec.name, "DESCRIBE_CONFIGS"), spec.name
        assert allowed(grants, OUT, "TOPIC", spec.name, "DESCRIBE"), spec.name
    assert allowed(grants, OUT, "TOPIC", changelog_topic(application, "subjects"), "CREATE")
    assert allowed(grants, OUT, "TRANSACTIONAL_ID", f"{application}-{OutboundOptions().instance}", "WRITE")
    assert allowed(grants, OUT, "GROUP", application, "READ")
    assert not allowed(grants, OUT, "TOPIC", TOPICS.receipts, "WRITE")
    assert not allowed(grants, OUT, "TOPIC", TOPICS.outbox_dlq("sis"), "WRITE")
    assert not allowed(grants, OUT, "TOPIC", TOPICS.alerts, "READ")
    assert written(grants) == {
        TOPICS.canonical,
        TOPICS.review,
        TOPICS.outbound_dlq,
        TOPICS.ees_documents,
        TOPICS.riat_referrals,
        *(TOPICS.outbox(t) for t in OutboundConfig().targets),
        f"{application}.",
    }


def test_outbound_writes_only_the_outboxes_of_its_targets() -> None:
    grants = outbound_grants(OUT, TOPICS, ("sis",))
    assert allowed(grants, OUT, "TOPIC", TOPICS.outbox("sis"), "WRITE")
    assert not allowed(grants, OUT, "TOPIC", TOPICS.outbox("eurodac"), "WRITE")


def test_a_deliverer_reads_its_own_outbox_only() -> None:
    delivery = DeliverySettings()
    grants = deliver_grants(SIS, TOPICS, "sis")
    assert allowed(grants, SIS, "TOPIC", TOPICS.outbox("sis"), "READ")
    assert allowed(grants, SIS, "TOPIC", TOPICS.receipts, "WRITE")
    assert allowed(grants, SIS, "TOPIC", TOPICS.outbox_dlq("sis"), "WRITE")
    assert allowed(grants, SIS, "GROUP", delivery.group("sis"), "READ")
    assert allowed(grants, SIS, "TRANSACTIONAL_ID", f"{delivery.application}-sis-{delivery.instance}", "WRITE")
    for spec in TOPICS.delivery_specs("sis"):
        assert allowed(grants, SIS, "TOPIC", spec.name, "DESCRIBE_CONFIGS")
    assert not allowed(grants, SIS, "TOPIC", TOPICS.outbox("eurodac"), "READ")
    assert not allowed(grants, SIS, "TOPIC", TOPICS.outbox("sis"), "WRITE")
    assert not allowed(grants, SIS, "TRANSACTIONAL_ID", f"{delivery.application}-eurodac-x", "WRITE")
    assert written(grants) == {TOPICS.receipts, TOPICS.outbox_dlq("sis")}


def test_the_ees_ingest_writes_exits_review_and_its_dead_letters() -> None:
    grants = ees_grants(EES, TOPICS)
    for topic in (TOPICS.ees_inbound, TOPICS.review, TOPICS.ees_dlq):
        assert allowed(grants, EES, "TOPIC", topic, "WRITE")
        assert allowed(grants, EES, "TOPIC", topic, "DESCRIBE_CONFIGS")
    assert allowed(grants, EES, "TOPIC", TOPICS.ees_documents, "READ")
    assert allowed(grants, EES, "TOPIC", TOPICS.raw("ees"), "READ")
    assert allowed(grants, EES, "TOPIC", TOPICS.canonical, "DESCRIBE")  # its partition count
    assert not allowed(grants, EES, "TOPIC", TOPICS.canonical, "READ")
    assert allowed(grants, EES, "TRANSACTIONAL_ID", "gateway-ees-ingest-0123abcd", "WRITE")  # a drop folder
    assert allowed(grants, EES, "TRANSACTIONAL_ID", "gateway-ees-topic-gateway-ees-ingest-0", "WRITE")  # a raw topic
    assert allowed(grants, EES, "GROUP", "gateway-ees-ingest", "READ")
    assert allowed(grants, EES, "GROUP", "gateway-ees-index-1a2b3c4d", "DESCRIBE")
    assert written(grants) == {TOPICS.ees_inbound, TOPICS.review, TOPICS.ees_dlq}


def test_the_riat_pull_writes_statuses_and_its_cursor() -> None:
    grants = riat_grants(RIAT, TOPICS)
    for topic in (TOPICS.canonical, TOPICS.review, TOPICS.riat_dlq, TOPICS.riat_progress):
        assert allowed(grants, RIAT, "TOPIC", topic, "WRITE")
    for topic in (TOPICS.riat_progress, TOPICS.riat_referrals):
        assert allowed(grants, RIAT, "TOPIC", topic, "READ")
    assert allowed(grants, RIAT, "TRANSACTIONAL_ID", "gateway-riat-pull-0", "WRITE")
    assert allowed(grants, RIAT, "GROUP", "gateway-riat-index-1a2b3c4d", "DESCRIBE")
    assert allowed(grants, RIAT, "GROUP", "gateway-reader-1a2b3c4d", "DESCRIBE")
    assert not allowed(grants, RIAT, "TOPIC", TOPICS.canonical, "READ")
    assert not allowed(grants, RIAT, "TOPIC", TOPICS.riat_referrals, "WRITE")


def test_statistics_read_the_canonical_topic_only() -> None:
    grants = stats_grants(STATS, TOPICS)
    assert allowed(grants, STATS, "TOPIC", TOPICS.canonical, "READ")
    assert allowed(grants, STATS, "GROUP", "gateway-stats-1a2b3c4d", "DESCRIBE")
    assert {g.operation for g in grants} <= {"READ", "DESCRIBE"}


def test_the_dashboard_reads_dead_letters_and_replays_into_raw_topics() -> None:
    grants = dashboard_grants(BOARD, TOPICS, ["de-csv"])
    assert allowed(grants, BOARD, "TOPIC", TOPICS.dlq("de-csv"), "READ")
    assert allowed(grants, BOARD, "TOPIC", TOPICS.raw("de-csv"), "WRITE")
    assert allowed(grants, BOARD, "TOPIC", AUDIT_TOPIC, "WRITE")
    assert not allowed(grants, BOARD, "TOPIC", TOPICS.dlq("fr-jsonl"), "READ")
    assert not allowed(grants, BOARD, "TOPIC", TOPICS.raw("de-csv"), "READ")
    assert not allowed(grants, BOARD, "TOPIC", TOPICS.canonical, "READ")
    assert written(grants) == {TOPICS.raw("de-csv"), AUDIT_TOPIC}


def test_the_deployment_includes_every_downstream_principal() -> None:
    downstream = DownstreamPrincipals(
        outbound=OUT, deliver={"sis": SIS}, ees=EES, riat=RIAT, stats=STATS, dashboard=BOARD
    )
    grants = gateway_grants(TOPICS, {"de-csv": "User:gw-de-csv"}, detector="User:det", downstream=downstream)
    assert {g.principal for g in grants} == {OUT, SIS, EES, RIAT, STATS, BOARD, "User:gw-de-csv", "User:det"}
    assert allowed(grants, BOARD, "TOPIC", TOPICS.dlq("de-csv"), "READ")  # the dashboard sees the connectors
    assert set(outbound_grants(OUT, TOPICS)) <= set(grants)


def test_downstream_prefixes_reaching_another_principal_are_refused() -> None:
    # gateway-deliver-sis-* would cover gateway-deliver-sis-eu-<instance>: sis's deliverer could fence sis-eu's.
    with pytest.raises(ConfigError, match="gateway-deliver-sis-"):
        gateway_grants(TOPICS, {}, downstream=DownstreamPrincipals(deliver={"sis": SIS, "sis-eu": "User:other"}))
    # A connector named stats-x: its group gateway-stats-x lies under the statistics' throwaway groups.
    with pytest.raises(ConfigError, match="gateway-stats-"):
        gateway_grants(TOPICS, {"stats-x": "User:gw-stats-x"}, downstream=DownstreamPrincipals(stats=STATS))
    assert gateway_grants(TOPICS, {}, downstream=DownstreamPrincipals(deliver={"sis": SIS, "sis-eu": SIS}))
