"""The vocabulary of the least-privilege ACLs: one grant, the topic names grants are derived from, small builders.

`gateway.kafka.acls` (connectors, detector, readers, the whole deployment) and `gateway.kafka.downstream_acls`
(outbound, delivery, EES, RIAT, statistics, dashboard) derive their grants with these; everything here is pure.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

__all__ = [
    "STATE_OPERATIONS",
    "AclGrant",
    "Operation",
    "Pattern",
    "Resource",
    "TopicLayout",
    "reader_groups",
    "state_grants",
    "topic_grants",
]

Resource = Literal["TOPIC", "GROUP", "TRANSACTIONAL_ID"]
Pattern = Literal["LITERAL", "PREFIXED"]
Operation = Literal["READ", "WRITE", "CREATE", "DESCRIBE", "DESCRIBE_CONFIGS"]


class TopicLayout(Protocol):
    """The topic names the grants need (`gateway.config.TopicNames` fits)."""

    @property
    def canonical(self) -> str:
        """The canonical event topic."""
        ...

    @property
    def progress(self) -> str:
        """The file-ingest progress topic."""
        ...

    @property
    def alerts(self) -> str:
        """The detector's alerts topic."""
        ...

    @property
    def erasures(self) -> str:
        """The detector's erasure requests topic."""
        ...

    @property
    def detector_dlq(self) -> str:
        """The detector's dead-letter topic."""
        ...

    @property
    def receipts(self) -> str:
        """Delivery receipts (every target)."""
        ...

    @property
    def ees_inbound(self) -> str:
        """Provisional departures from EES exits, read by the outbound stage."""
        ...

    @property
    def review(self) -> str:
        """Records for a caseworker (outbound, EES ingest, RIAT pull)."""
        ...

    @property
    def outbound_dlq(self) -> str:
        """The outbound stage's dead-letter topic."""
        ...

    @property
    def ees_documents(self) -> str:
        """The EES document index (outbound writes, EES ingest reads)."""
        ...

    @property
    def ees_dlq(self) -> str:
        """The EES ingest's dead-letter topic."""
        ...

    @property
    def riat_referrals(self) -> str:
        """The RIAT referral index (outbound writes, RIAT pull reads)."""
        ...

    @property
    def riat_dlq(self) -> str:
        """The RIAT pull's dead-letter topic."""
        ...

    @property
    def riat_progress(self) -> str:
        """The RIAT pull's cursor topic."""
        ...

    def dlq(self, connector: str) -> str:
        """A connector's dead-letter topic."""
        ...

    def raw(self, connector: str) -> str:
        """A connector's raw inbound topic."""
        ...

    def outbox(self, target: str) -> str:
        """A delivery target's outbox topic."""
        ...

    def outbox_dlq(self, target: str) -> str:
        """A delivery target's dead-letter topic."""
        ...


@dataclass(frozen=True, slots=True, order=True)
class AclGrant:
    """One ALLOW rule: ``principal`` may do ``operation`` on the resources ``name`` matches (from any host).

    Attributes:
        principal: ``User:<name>``.
        resource: ``TOPIC``, ``GROUP`` or ``TRANSACTIONAL_ID``.
        name: Resource name, or its prefix when ``pattern`` is ``PREFIXED``.
        pattern: ``LITERAL`` (exactly ``name``) or ``PREFIXED`` (every name starting with it).
        operation: ``READ``, ``WRITE``, ``CREATE``, ``DESCRIBE`` or ``DESCRIBE_CONFIGS`` (READ and WRITE imply
            DESCRIBE).
    """

    principal: str
    resource: Resource
    name: str
    pattern: Pattern
    operation: Operation

    def __str__(self) -> str:
        star = "*" if self.pattern == "PREFIXED" else ""
        return f"{self.principal} {self.operation} {self.resource.lower()} {self.name}{star}"


STATE_OPERATIONS: tuple[Operation, ...] = ("READ", "WRITE", "CREATE", "DESCRIBE_CONFIGS")
"""A state runtime creates its own changelog topics (compacted, partitioned like its input) and checks their configs."""


def topic_grants(principal: str, name: str, *ops: Operation, pattern: Pattern = "LITERAL") -> list[AclGrant]:
    """``ops`` on one topic (or prefix)."""
    return [AclGrant(principal, "TOPIC", name, pattern, op) for op in ops]


def reader_groups(principal: str, *applications: str) -> list[AclGrant]:
    """DESCRIBE on the throwaway groups of assign-only readers (progress, restore, probes, ``read_to_end``).

    They never join or commit, but librdkafka looks up their coordinator (FindCoordinator needs DESCRIBE on the
    group), so DESCRIBE is all they get. ``applications`` add each state application's ``<application>.restore``.
    """
    groups: list[tuple[str, Pattern]] = [("gateway-reader-", "PREFIXED"), ("gateway-restore-probe", "LITERAL")]
    groups += [(f"{application}.restore", "LITERAL") for application in applications]
    return [AclGrant(principal, "GROUP", name, pattern, "DESCRIBE") for name, pattern in groups]


def state_grants(principal: str, application: str, group: str) -> list[AclGrant]:
    """What a stateful consume-transform-produce service (`gateway.state.service.run_stateful`) needs of its own.

    Its changelogs ``<application>.*`` (created, read on restore, written), its transactional ids
    ``<application>-<instance>``, its consumer group, and the restore readers' groups.
    """
    return [
        *topic_grants(principal, f"{application}.", *STATE_OPERATIONS, pattern="PREFIXED"),
        AclGrant(principal, "TRANSACTIONAL_ID", f"{application}-", "PREFIXED", "WRITE"),
        AclGrant(principal, "GROUP", group, "LITERAL", "READ"),
        *reader_groups(principal, application),
    ]
