"""Least-privilege ACLs of the processes downstream of the canonical topic (pure): outbound, delivery, EES, RIAT ...

Each function lists what one process reads, writes and names (topics, transactional ids, consumer groups) with the
defaults of its command; ``tests/unit/kafka/test_downstream_acls.py`` checks them against the processes' own
functions and constants. Topics are provisioned by the admin user: a process may check their configs
(``DESCRIBE_CONFIGS``, as its start-up does) but neither create nor alter them; only state changelogs are its own
to create.

=================  =====================================================================================
process            reads / writes
=================  =====================================================================================
outbound           canonical, EES inbound / outboxes, canonical (derived events), review, its DLQ, indexes
deliver (target)   its outbox / receipts, its outbox DLQ
EES ingest         document index, raw exit files / EES inbound, review, its DLQ
RIAT pull          referral index, its cursor / canonical (statuses), review, its DLQ, its cursor
statistics         canonical / nothing
dashboard          connectors' DLQs / connectors' raw topics (replay), its audit topic
=================  =====================================================================================
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from gateway.kafka.acl_rules import AclGrant, TopicLayout, reader_groups, state_grants, topic_grants

__all__ = [
    "AUDIT_TOPIC",
    "DownstreamPrincipals",
    "dashboard_grants",
    "deliver_grants",
    "ees_grants",
    "outbound_grants",
    "riat_grants",
    "stats_grants",
]

AUDIT_TOPIC = "gateway.audit.dlq-replay.v1"
"""The dashboard's default audit topic (``audit_topic`` of the dashboard configuration)."""

_OUTBOUND_TARGETS = ("sis", "eurodac", "riat")


def _unique(grants: list[AclGrant]) -> tuple[AclGrant, ...]:
    return tuple(sorted(set(grants)))


def outbound_grants(
    principal: str,
    topics: TopicLayout,
    targets: Sequence[str] = _OUTBOUND_TARGETS,
    *,
    application: str = "gateway-outbound",
    group: str | None = None,
) -> tuple[AclGrant, ...]:
    """``gateway outbound``: canonical events and EES exits in; outboxes, derived events, review, indexes out.

    It checks every topic of its stage at start-up (``TopicNames.outbound_specs``), so it may describe the
    targets' dead-letter and receipts topics too, which only delivery writes.

    Args:
        principal: Its principal.
        topics: Topic names of the deployment.
        targets: The targets whose outboxes it writes (``targets`` of the outbound configuration).
        application: ``--application``: names its changelogs and transactional ids.
        group: ``--group``; None: the application name.
    """
    checked = [
        topics.receipts,
        topics.ees_inbound,
        topics.review,
        topics.outbound_dlq,
        topics.ees_documents,
        topics.riat_referrals,
        *(topics.outbox(t) for t in targets),
        *(topics.outbox_dlq(t) for t in targets),
    ]
    written = [
        topics.canonical,
        topics.review,
        topics.outbound_dlq,
        topics.ees_documents,
        topics.riat_referrals,
        *(topics.outbox(t) for t in targets),
    ]
    return _unique(
        [
            *topic_grants(principal, topics.canonical, "READ"),
            *topic_grants(principal, topics.ees_inbound, "READ"),
            *(g for name in written for g in topic_grants(principal, name, "WRITE")),
            *(g for name in checked for g in topic_grants(principal, name, "DESCRIBE", "DESCRIBE_CONFIGS")),
            *state_grants(principal, application, group or application),
        ]
    )


def deliver_grants(
    principal: str, topics: TopicLayout, target: str, *, application: str = "gateway-deliver", group: str | None = None
) -> tuple[AclGrant, ...]:
    """``gateway deliver --target TARGET``: its outbox in; receipts and its dead letters out.

    Args:
        principal: Its principal (one per target: a SIS deliverer cannot read the Eurodac outbox).
        topics: Topic names of the deployment.
        target: The delivery target.
        application: The delivery settings' ``application``: transactional ids ``<application>-<target>-*``.
        group: Its consumer group; None: ``<application>-<target>``.
    """
    outbox, dlq = topics.outbox(target), topics.outbox_dlq(target)
    return _unique(
        [
            *topic_grants(principal, outbox, "READ", "DESCRIBE_CONFIGS"),
            *topic_grants(principal, dlq, "WRITE", "DESCRIBE_CONFIGS"),
            *topic_grants(principal, topics.receipts, "WRITE", "DESCRIBE_CONFIGS"),
            AclGrant(principal, "TRANSACTIONAL_ID", f"{application}-{target}-", "PREFIXED", "WRITE"),
            AclGrant(principal, "GROUP", group or f"{application}-{target}", "LITERAL", "READ"),
            *reader_groups(principal),
        ]
    )


def ees_grants(
    principal: str,
    topics: TopicLayout,
    *,
    raw_topic: str | None = None,
    group: str = "gateway-ees-ingest",
) -> tuple[AclGrant, ...]:
    """``gateway ees ingest``: EES exit files (a drop folder or a raw topic) to EES inbound, review, dead letters.

    Transactional ids ``gateway-ees-ingest-*`` (a folder) and ``gateway-ees-topic-<group>-*`` (a raw topic); it
    reads the canonical topic's partition count (DESCRIBE) and the document index (throwaway groups
    ``gateway-ees-index-*``).

    Args:
        principal: Its principal.
        topics: Topic names of the deployment.
        raw_topic: ``--topic``: the raw topic of exit files; None: ``topics.raw("ees")``.
        group: ``--group`` (with ``--topic``).
    """
    outputs = [topics.ees_inbound, topics.review, topics.ees_dlq]
    return _unique(
        [
            *topic_grants(principal, topics.canonical, "DESCRIBE"),
            *(g for name in outputs for g in topic_grants(principal, name, "WRITE", "DESCRIBE_CONFIGS")),
            *topic_grants(principal, topics.ees_documents, "READ", "DESCRIBE_CONFIGS"),
            *topic_grants(principal, raw_topic or topics.raw("ees"), "READ"),
            AclGrant(principal, "TRANSACTIONAL_ID", "gateway-ees-ingest-", "PREFIXED", "WRITE"),
            AclGrant(principal, "TRANSACTIONAL_ID", f"gateway-ees-topic-{group}-", "PREFIXED", "WRITE"),
            AclGrant(principal, "GROUP", group, "LITERAL", "READ"),
            AclGrant(principal, "GROUP", "gateway-ees-index-", "PREFIXED", "DESCRIBE"),
            *reader_groups(principal),
        ]
    )


def riat_grants(principal: str, topics: TopicLayout) -> tuple[AclGrant, ...]:
    """``gateway riat pull``: the partner's status feed to status events (canonical), review and dead letters.

    Reads its cursor (``riat_progress``) and the referral index (throwaway groups ``gateway-riat-index-*``);
    transactional ids ``gateway-riat-pull-<instance>``.
    """
    return _unique(
        [
            *topic_grants(principal, topics.canonical, "WRITE"),
            *topic_grants(principal, topics.review, "WRITE", "DESCRIBE_CONFIGS"),
            *topic_grants(principal, topics.riat_dlq, "WRITE", "DESCRIBE_CONFIGS"),
            *topic_grants(principal, topics.riat_progress, "READ", "WRITE", "DESCRIBE_CONFIGS"),
            *topic_grants(principal, topics.riat_referrals, "READ", "DESCRIBE_CONFIGS"),
            AclGrant(principal, "TRANSACTIONAL_ID", "gateway-riat-pull-", "PREFIXED", "WRITE"),
            AclGrant(principal, "GROUP", "gateway-riat-index-", "PREFIXED", "DESCRIBE"),
            *reader_groups(principal),
        ]
    )


def stats_grants(principal: str, topics: TopicLayout) -> tuple[AclGrant, ...]:
    """``gateway stats``: reads the canonical topic from its start (throwaway groups ``gateway-stats-*``)."""
    return _unique(
        [
            *topic_grants(principal, topics.canonical, "READ"),
            AclGrant(principal, "GROUP", "gateway-stats-", "PREFIXED", "DESCRIBE"),
        ]
    )


def dashboard_grants(
    principal: str, topics: TopicLayout, connectors: Sequence[str], *, audit_topic: str = AUDIT_TOPIC
) -> tuple[AclGrant, ...]:
    """The dead-letter dashboard (and ``gateway dlq``): reads the connectors' dead letters, replays them.

    A replay writes the chosen dead letters to the connector's raw topic and an entry to the audit topic.

    Args:
        principal: Its principal.
        topics: Topic names of the deployment.
        connectors: The connectors it shows.
        audit_topic: ``audit_topic`` of the dashboard configuration.
    """
    return _unique(
        [
            *(g for c in connectors for g in topic_grants(principal, topics.dlq(c), "READ")),
            *(g for c in connectors for g in topic_grants(principal, topics.raw(c), "WRITE")),
            *topic_grants(principal, audit_topic, "WRITE", "DESCRIBE_CONFIGS"),
            *reader_groups(principal),
        ]
    )


@dataclass(frozen=True, slots=True)
class DownstreamPrincipals:
    """Who runs each downstream process (None or empty: it does not run, or not under a principal of its own).

    Attributes:
        outbound: ``gateway outbound``'s principal.
        outbound_targets: The outbound configuration's ``targets``.
        deliver: Delivery target -> the principal of ``gateway deliver --target`` it.
        ees: ``gateway ees ingest``'s principal.
        riat: ``gateway riat pull``'s principal.
        stats: ``gateway stats``'s principal.
        dashboard: The dashboard's principal (also fits ``gateway dlq``).
        audit_topic: The dashboard's audit topic.
    """

    outbound: str | None = None
    outbound_targets: tuple[str, ...] = _OUTBOUND_TARGETS
    deliver: Mapping[str, str] = field(default_factory=dict)
    ees: str | None = None
    riat: str | None = None
    stats: str | None = None
    dashboard: str | None = None
    audit_topic: str = AUDIT_TOPIC

    def grants(self, topics: TopicLayout, connectors: Sequence[str]) -> list[AclGrant]:
        """Every grant of these principals; the dashboard sees ``connectors``' dead letters."""
        grants: list[AclGrant] = []
        if self.outbound is not None:
            grants += outbound_grants(self.outbound, topics, self.outbound_targets)
        for target, principal in self.deliver.items():
            grants += deliver_grants(principal, topics, target)
        if self.ees is not None:
            grants += ees_grants(self.ees, topics)
        if self.riat is not None:
            grants += riat_grants(self.riat, topics)
        if self.stats is not None:
            grants += stats_grants(self.stats, topics)
        if self.dashboard is not None:
            grants += dashboard_grants(self.dashboard, topics, connectors, audit_topic=self.audit_topic)
        return grants
