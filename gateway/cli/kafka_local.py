"""``gateway kafka-local``: the project's local broker (one node or a KRaft quorum) for the demo and tests, and ACLs."""

from __future__ import annotations

from pathlib import Path

import click
from confluent_kafka.admin import AdminClient

from gateway.cli.common import load_settings
from gateway.devservices.local_kafka import LocalKafka
from gateway.errors import GatewayError
from gateway.kafka.acls import apply_acls, gateway_grants


@click.group("kafka-local")
def kafka_local() -> None:
    """Run Apache Kafka (KRaft) on loopback from Maven Central jars: one node, or a quorum of three."""


@kafka_local.command()
@click.option("--name", default="default", show_default=True, help="Instance name (own data folder).")
@click.option("--port", default=19092, show_default=True, type=int, help="Client port of the first node.")
@click.option(
    "--brokers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 9),
    help="Nodes (combined broker+controller); 3: replication factor 3, min.insync.replicas 2. Node i uses port+10*i.",
)
@click.option("--fresh", is_flag=True, help="Wipe the instance's data first.")
def start(name: str, port: int, brokers: int, fresh: bool) -> None:
    """Fetch the jars if needed, format storage, start the node(s) and wait until all answer."""
    # A quorum's nodes share the machine: a smaller heap each keeps three within the memory of one.
    heap = 768 if brokers == 1 else 512
    click.echo(LocalKafka(name=name, port=port, nodes=brokers, heap_mb=heap).start(fresh=fresh))


@kafka_local.command()
@click.option("--name", default="default", show_default=True)
def stop(name: str) -> None:
    """Stop every node of the instance by its PID."""
    click.echo("stopped" if LocalKafka(name=name).stop() else "not running")


@kafka_local.command()
@click.option("--name", default="default", show_default=True)
@click.option("--port", default=19092, show_default=True, type=int)
@click.option("--brokers", default=1, show_default=True, type=click.IntRange(1, 9))
def status(name: str, port: int, brokers: int) -> None:
    """Say whether the node(s) run and the cluster answers."""
    k = LocalKafka(name=name, port=port, nodes=brokers)
    pids = [k.node_pid(n.node_id) for n in k.quorum]
    click.echo(f"pids={pids} answers={k.answers() if any(pids) else False} bootstrap={k.bootstrap}")


def _pairs(values: tuple[str, ...], option: str) -> dict[str, str]:
    pairs = {}
    for value in values:
        key, sep, principal = value.partition("=")
        if not sep or not key or not principal.startswith("User:"):
            raise click.BadParameter(f"expected NAME=User:PRINCIPAL, got {value!r}", param_hint=option)
        pairs[key] = principal
    return pairs


@kafka_local.command()
@click.option("--config", "config_path", type=click.Path(path_type=Path, dir_okay=False), help="Gateway TOML config.")
@click.option(
    "--connector",
    "connectors",
    multiple=True,
    help="CONNECTOR=User:PRINCIPAL (repeatable); default every configured connector as User:gw-<connector>.",
)
@click.option("--detector", help="The detector's principal (User:...), if it runs.")
@click.option(
    "--reader", "readers", multiple=True, help="GROUP=User:PRINCIPAL: reads the canonical topic in GROUP (repeatable)."
)
@click.option("--dry-run", is_flag=True, help="Print the ACLs; apply nothing.")
def acls(
    config_path: Path | None, connectors: tuple[str, ...], detector: str | None, readers: tuple[str, ...], dry_run: bool
) -> None:
    """Apply least-privilege ACLs derived from the settings (run as the admin user: GATEWAY_KAFKA__SASL_*).

    Each connector's principal may write only the canonical topic and its own dead-letter, raw and changelog topics
    and use only its own transactional ids and group; see docs/security.md.
    """
    settings = load_settings(config_path)
    by_connector = _pairs(connectors, "--connector") or {name: f"User:gw-{name}" for name in settings.connectors}
    by_reader = {
        principal: ((settings.topics.canonical,), group) for group, principal in _pairs(readers, "--reader").items()
    }
    try:
        grants = gateway_grants(settings.topics, by_connector, detector=detector, readers=by_reader)
        for grant in grants:
            click.echo(str(grant))
        if not dry_run:
            applied = apply_acls(AdminClient(dict(settings.kafka.to_librdkafka())), grants)
            click.echo(f"{applied} ACL(s) applied")
    except GatewayError as exc:
        raise click.ClickException(str(exc)) from exc
