"""Least-privilege ACLs for the gateway's principals: derived from its topic names (pure), applied by the admin API.

Each connector's principal may write only the canonical topic and its own dead-letter, raw and changelog topics, and
use only its own transactional ids and consumer group; the detector reads the canonical and erasure topics and
writes only its alerts, dead letters and changelogs; a reader (statistics, RRAI ...) reads only what it names; the
downstream processes (outbound, delivery, EES and RIAT ingests, statistics, dashboard) get theirs from
`gateway.kafka.downstream_acls`. The admin user and the brokers are super users and need no ACL. With
``allow.everyone.if.no.acl.found=false`` anything not listed here is refused (``TOPIC_AUTHORIZATION_FAILED`` ...),
which the gateway reports once and does not retry.

The names follow the pipeline's conventions (``gateway-ingest-<connector>-<hash>`` per file ingest,
``<progress topic>.<connector>.<store>.changelog``, ``gateway-run-<connector>-<instance>``, group
``gateway-<connector>``; ``tests/unit/kafka/test_acls.py`` checks them against the pipeline's own functions), so this
module needs nothing above the Kafka layer: topic names come through the small `TopicLayout` protocol.
"""

from __future__ import annotations

import concurrent.futures
import time
from collections.abc import Iterable, Mapping, Sequence

from confluent_kafka import KafkaException

# confluent_kafka.admin re-exports these without an __all__, which strict mypy reads as private; the path is public.
from confluent_kafka.admin import (  # type: ignore[attr-defined]
    AclBinding,
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    AdminClient,
    ResourcePatternType,
    ResourceType,
)

from gateway.errors import ConfigError
from gateway.kafka.acl_rules import STATE_OPERATIONS, AclGrant, TopicLayout, reader_groups, state_grants, topic_grants
from gateway.kafka.downstream_acls import DownstreamPrincipals
from gateway.kafka.retry import error_of

__all__ = [
    "AclGrant",
    "DownstreamPrincipals",
    "TopicLayout",
    "apply_acls",
    "check_disjoint",
    "connector_grants",
    "detector_grants",
    "gateway_grants",
    "reader_grants",
    "to_binding",
]


def connector_grants(
    principal: str, connector: str, topics: TopicLayout, *, group: str | None = None
) -> tuple[AclGrant, ...]:
    """What one connector's file ingest and service mode need, and nothing more.

    Writes: the canonical topic, its dead-letter topic, the (shared) progress topic, its changelogs; reads: its raw
    topic, the progress topic, its changelogs (restore); creates: its changelogs. Transactional ids:
    ``gateway-ingest-<connector>-*`` (file ingest) and ``<service application>-*`` (service mode).
    ``DESCRIBE_CONFIGS`` on the topics whose limits or layout it checks (the dead-letter size limit, the changelogs'
    configs, and ``gateway ingest``'s check that the provisioned topics match the settings; it cannot alter them).
    Its raw topic is writable too, so the national side may publish there under the same principal.

    Args:
        principal: The connector's principal (``User:<name>``).
        connector: The connector's name.
        topics: Topic names of the deployment.
        group: The service-mode consumer group (``gateway run --group``); None: ``gateway-<connector>``, whose
            state application is ``gateway-run-<connector>``.
    """
    service_group = group or f"gateway-{connector}"
    service_application = group or f"gateway-run-{connector}"
    ingest_changelogs = f"{topics.progress}.{connector}."
    grants = [
        *topic_grants(principal, topics.canonical, "WRITE", "DESCRIBE_CONFIGS"),
        *topic_grants(principal, topics.dlq(connector), "WRITE", "DESCRIBE_CONFIGS"),
        *topic_grants(principal, topics.raw(connector), "READ", "WRITE", "DESCRIBE_CONFIGS"),
        *topic_grants(principal, topics.progress, "READ", "WRITE", "DESCRIBE_CONFIGS"),
        *topic_grants(principal, ingest_changelogs, *STATE_OPERATIONS, pattern="PREFIXED"),
        *topic_grants(principal, f"{service_application}.", *STATE_OPERATIONS, pattern="PREFIXED"),
        AclGrant(principal, "TRANSACTIONAL_ID", f"gateway-ingest-{connector}-", "PREFIXED", "WRITE"),
        AclGrant(principal, "TRANSACTIONAL_ID", f"{service_application}-", "PREFIXED", "WRITE"),
        AclGrant(principal, "GROUP", service_group, "LITERAL", "READ"),
        *reader_groups(principal, f"{topics.progress}.{connector}", service_application),
    ]
    return tuple(sorted(set(grants)))


def detector_grants(
    principal: str, topics: TopicLayout, *, application: str = "gateway-detect", group: str | None = None
) -> tuple[AclGrant, ...]:
    """What the secondary-movement detector needs: read canonical and erasures, write alerts, dead letters, state.

    Args:
        principal: The detector's principal.
        topics: Topic names of the deployment.
        application: ``gateway detect --application``: names its changelogs and transactional ids.
        group: Its consumer group; None: the application name.
    """
    grants = [
        *topic_grants(principal, topics.canonical, "READ"),
        *topic_grants(principal, topics.erasures, "READ", "DESCRIBE_CONFIGS"),
        *topic_grants(principal, topics.alerts, "WRITE", "DESCRIBE_CONFIGS"),
        *topic_grants(principal, topics.detector_dlq, "WRITE", "DESCRIBE_CONFIGS"),
        *state_grants(principal, application, group or application),
    ]
    return tuple(sorted(set(grants)))


def reader_grants(principal: str, topics: Iterable[str], group: str) -> tuple[AclGrant, ...]:
    """Read-only access for a downstream consumer (statistics, RRAI ...): ``topics`` and its own group."""
    grants = [g for topic in topics for g in topic_grants(principal, topic, "READ")]
    grants += [AclGrant(principal, "GROUP", group, "LITERAL", "READ"), *reader_groups(principal)]
    return tuple(sorted(set(grants)))


def gateway_grants(
    topics: TopicLayout,
    connectors: Mapping[str, str],
    *,
    detector: str | None = None,
    readers: Mapping[str, tuple[Sequence[str], str]] | None = None,
    downstream: DownstreamPrincipals | None = None,
) -> tuple[AclGrant, ...]:
    """Every grant of a deployment, after checking that no principal's prefixes reach another's resources.

    Args:
        topics: Topic names of the deployment.
        connectors: Connector name -> its principal.
        detector: The detector's principal, if it runs.
        readers: Principal -> (topics it reads, its consumer group).
        downstream: The principals of the outbound stage, delivery, EES and RIAT ingests, statistics and the
            dashboard (`gateway.kafka.downstream_acls`); the dashboard sees the ``connectors``' dead letters.

    Raises:
        ConfigError: A prefix of one principal matches another principal's names (connectors ``de`` and ``de-csv``
            would share ``gateway-ingest-de-*``); give such connectors distinct principals' names.
    """
    grants = [g for name, principal in connectors.items() for g in connector_grants(principal, name, topics)]
    if detector is not None:
        grants += detector_grants(detector, topics)
    for principal, (read, group) in (readers or {}).items():
        grants += reader_grants(principal, read, group)
    if downstream is not None:
        grants += downstream.grants(topics, tuple(connectors))
    result = tuple(sorted(set(grants)))
    check_disjoint(result)
    return result


def check_disjoint(grants: Sequence[AclGrant]) -> None:
    """Refuse grants where one principal's PREFIXED rule covers a name granted to a different principal.

    Raises:
        ConfigError: Naming the overlapping rules.
    """
    clashes = sorted(
        {
            f"{wide} covers {narrow}"
            for wide in grants
            if wide.pattern == "PREFIXED"
            for narrow in grants
            if narrow.principal != wide.principal
            and narrow.resource == wide.resource
            and narrow.name.startswith(wide.name)
            # The canonical and progress topics are shared on purpose; only other principals' own names clash.
            and not any(
                g.principal == wide.principal and g.name == narrow.name and g.pattern == narrow.pattern for g in grants
            )
        }
    )
    if clashes:
        raise ConfigError(f"ACL prefixes reach another principal's resources: {'; '.join(clashes)}")


def to_binding(grant: AclGrant) -> AclBinding:
    """The admin API's binding of a grant (ALLOW, any host)."""
    return AclBinding(
        ResourceType[grant.resource],
        grant.name,
        ResourcePatternType[grant.pattern],
        grant.principal,
        "*",
        AclOperation[grant.operation],
        AclPermissionType.ALLOW,
    )


def apply_acls(admin: AdminClient, grants: Sequence[AclGrant], *, timeout_s: float = 30.0) -> int:
    """Create the grants' ACLs and wait until the broker lists them all; return how many were sent.

    Creating an existing ACL is a no-op on the broker, so applying the same set twice changes nothing. ACLs reach
    the brokers' authorizers through the metadata log, a moment after the controller accepted them: waiting until
    they are listed keeps the first request of a freshly authorized principal from being refused.

    Raises:
        ConfigError: The broker refused (no authorizer configured, the caller is not allowed to alter ACLs ...),
            or did not answer within ``timeout_s``.
    """
    if not grants:
        return 0
    futures = admin.create_acls([to_binding(g) for g in grants], request_timeout=timeout_s)
    for binding, future in futures.items():
        try:
            future.result(timeout=timeout_s + 5)
        except KafkaException as exc:
            error = error_of(exc)
            raise ConfigError(f"creating ACL {binding} refused: {error.name()}: {error.str()}") from exc
        except concurrent.futures.TimeoutError as exc:
            raise ConfigError(f"creating ACLs: no answer within {timeout_s:.0f} s") from exc
    _await_listed(admin, {to_binding(g) for g in grants}, timeout_s)
    return len(grants)


def _await_listed(admin: AdminClient, wanted: set[AclBinding], timeout_s: float) -> None:
    # None matches any name, principal and host (the library's documented filter); its stubs only admit str.
    everything = AclBindingFilter(
        ResourceType.ANY,
        None,  # type: ignore[arg-type]
        ResourcePatternType.ANY,
        None,  # type: ignore[arg-type]
        None,  # type: ignore[arg-type]
        AclOperation.ANY,
        AclPermissionType.ANY,
    )
    deadline = time.monotonic() + timeout_s
    while True:
        listed = set(admin.describe_acls(everything, request_timeout=timeout_s).result(timeout=timeout_s + 5))
        missing = wanted - listed
        if not missing:
            return
        if time.monotonic() >= deadline:
            raise ConfigError(f"{len(missing)} ACL(s) created but not listed within {timeout_s:.0f} s")
        time.sleep(0.2)
