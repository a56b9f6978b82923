"""``gateway kafka-local``: the project's local broker (one node or a KRaft quorum) for the demo and tests, and ACLs."""

from __future__ import annotations

import secrets
import shutil
from dataclasses import replace
from pathlib import Path

import click
from confluent_kafka.admin import AdminClient
from pydantic import SecretStr

from gateway.cli.common import check_broker, load_settings
from gateway.devservices.kafka_security import (
    ScramUser,
    add_scram_users,
    local_security,
    stored_security,
    write_client_files,
    write_user_env,
)
from gateway.devservices.local_kafka import BrokerError, LocalKafka
from gateway.errors import GatewayError
from gateway.kafka.acls import apply_acls, gateway_grants
from gateway.kafka.downstream_acls import DownstreamPrincipals

_SECURE = "secure"
"""The secured instance's material (admin password, TLS, client settings), under its folder."""


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
@click.option(
    "--secure",
    is_flag=True,
    help="TLS + SASL/SCRAM-SHA-512 + ACLs (nothing allowed without one); an admin user; client settings written to "
    "the instance's folder. An instance started so stays secured.",
)
def start(name: str, port: int, brokers: int, fresh: bool, secure: bool) -> None:
    """Fetch the jars if needed, format storage, start the node(s) and wait until all answer."""
    # A quorum's nodes share the machine: a smaller heap each keeps three within the memory of one.
    heap = 768 if brokers == 1 else 512
    plain = LocalKafka(name=name, port=port, nodes=brokers, heap_mb=heap)
    folder = plain.home / _SECURE
    if fresh:
        # Wiped here, not by start(fresh=True): the secured material is written into the folder before the start.
        plain.stop()
        shutil.rmtree(plain.home, ignore_errors=True)
    stored = stored_security(folder)
    if not secure and stored is None:
        click.echo(plain.start())
        return
    if stored is None and any(plain.home.glob("**/meta.properties")):
        raise click.ClickException(f"instance {name!r} was formatted without --secure; start it with --fresh")
    # A running broker keeps the certificates it loaded; a stopped one gets fresh ones (they live a day).
    running = stored is not None and _runs(replace(plain, security=stored))
    security = stored if running and stored is not None else local_security(folder)
    broker = replace(plain, security=security)
    try:
        bootstrap = broker.start()
    except BrokerError as exc:
        raise click.ClickException(str(exc)) from exc
    files = write_client_files(security, bootstrap, folder)
    # Where things are, never the password itself.
    click.echo(f"secured Kafka (SASL_SSL, SCRAM-SHA-512, ACLs) at {bootstrap}")
    click.echo(f"  CA certificate:  {security.ca_file}")
    click.echo(f"  admin user:      {security.admin.name} (super user); password in {files.password_file} (mode 0600)")
    click.echo(f"  client settings: {files.toml_file} ([kafka], no password), {files.env_file} (mode 0600)")
    click.echo(f"  use:             set -a; . {files.env_file}; set +a")
    click.echo(
        "  then:            gateway kafka-local acls --dry-run   (ACLs for each principal; see docs/security.md)"
    )


def _runs(broker: LocalKafka) -> bool:
    return all(broker.node_pid(n.node_id) for n in broker.quorum) and broker.answers()


def _instance(name: str, port: int = 19092, brokers: int = 1) -> LocalKafka:
    # A secured instance keeps its material in its folder: status must speak SASL_SSL to it.
    plain = LocalKafka(name=name, port=port, nodes=brokers)
    return replace(plain, security=stored_security(plain.home / _SECURE))


@kafka_local.command()
@click.option("--name", default="default", show_default=True)
def stop(name: str) -> None:
    """Stop every node of the instance by its PID."""
    click.echo("stopped" if _instance(name).stop() else "not running")


@kafka_local.command()
@click.option("--name", default="default", show_default=True)
@click.option("--port", default=19092, show_default=True, type=int)
@click.option("--brokers", default=1, show_default=True, type=click.IntRange(1, 9))
def status(name: str, port: int, brokers: int) -> None:
    """Say whether the node(s) run and the cluster answers."""
    k = _instance(name, port, brokers)
    pids = [k.node_pid(n.node_id) for n in k.quorum]
    secured = " secured" if k.security is not None else ""
    click.echo(f"pids={pids} answers={k.answers() if any(pids) else False} bootstrap={k.bootstrap}{secured}")


@kafka_local.command("add-user")
@click.argument("users", nargs=-1, required=True)
@click.option("--name", default="default", show_default=True, help="The secured instance.")
@click.option("--port", default=19092, show_default=True, type=int)
@click.option("--brokers", default=1, show_default=True, type=click.IntRange(1, 9))
def add_user(users: tuple[str, ...], name: str, port: int, brokers: int) -> None:
    """Create SCRAM users (random passwords) on a secured instance; each gets its client env file (mode 0600).

    They may do nothing until `gateway kafka-local acls` grants it.
    """
    broker = _instance(name, port, brokers)
    if broker.security is None:
        raise click.ClickException(f"instance {name!r} is not secured (kafka-local start --secure)")
    folder = broker.home / _SECURE / "users"
    folder.mkdir(parents=True, exist_ok=True)
    passwords = {user: secrets.token_urlsafe(24) for user in users}
    try:
        add_scram_users(AdminClient(broker.admin_config()), passwords)
    except GatewayError as exc:
        raise click.ClickException(str(exc)) from exc
    for user, password in passwords.items():
        env_file = write_user_env(broker.security, broker.bootstrap, folder, ScramUser(user, SecretStr(password)))
        click.echo(f"User:{user}: client settings in {env_file} (mode 0600)")


def _pairs(values: tuple[str, ...], option: str) -> dict[str, str]:
    pairs = {}
    for value in values:
        key, sep, principal = value.partition("=")
        if not sep or not key or not principal.startswith("User:"):
            raise click.BadParameter(f"expected NAME=User:PRINCIPAL, got {value!r}", param_hint=option)
        pairs[key] = principal
    return pairs


def _principal(value: str | None, option: str) -> str | None:
    if value is not None and not value.startswith("User:"):
        raise click.BadParameter(f"expected User:PRINCIPAL, got {value!r}", param_hint=option)
    return value


def _downstream(
    options: dict[str, str | None], deliver: tuple[str, ...], targets: tuple[str, ...]
) -> DownstreamPrincipals:
    named = {key: _principal(value, f"--{key}") for key, value in options.items()}
    return DownstreamPrincipals(
        outbound=named["outbound"],
        outbound_targets=targets or DownstreamPrincipals().outbound_targets,
        deliver=_pairs(deliver, "--deliver"),
        ees=named["ees"],
        riat=named["riat"],
        stats=named["stats"],
        dashboard=named["dashboard"],
    )


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
@click.option("--outbound", help="`gateway outbound`'s principal (User:...).")
@click.option(
    "--outbound-target",
    "targets",
    multiple=True,
    help="A target whose outbox the outbound stage writes (repeatable); default sis, eurodac, riat.",
)
@click.option("--deliver", multiple=True, help="TARGET=User:PRINCIPAL: runs `gateway deliver --target TARGET`.")
@click.option("--ees", help="`gateway ees ingest`'s principal (User:...).")
@click.option("--riat", help="`gateway riat pull`'s principal (User:...).")
@click.option("--stats", help="`gateway stats`'s principal (User:...).")
@click.option("--dashboard", help="The dashboard's (and `gateway dlq`'s) principal: the connectors' dead letters.")
@click.option("--dry-run", is_flag=True, help="Print the ACLs; apply nothing.")
def acls(
    config_path: Path | None,
    connectors: tuple[str, ...],
    detector: str | None,
    readers: tuple[str, ...],
    outbound: str | None,
    targets: tuple[str, ...],
    deliver: tuple[str, ...],
    ees: str | None,
    riat: str | None,
    stats: str | None,
    dashboard: str | None,
    dry_run: bool,
) -> None:
    """Apply least-privilege ACLs derived from the settings (run as the admin user: GATEWAY_KAFKA__SASL_*).

    Each connector's principal may write only the canonical topic and its own dead-letter, raw and changelog topics
    and use only its own transactional ids and group; each downstream process its own inputs and outputs. The
    topics themselves are the admin's to create. See docs/security.md.
    """
    settings = load_settings(config_path)
    by_connector = _pairs(connectors, "--connector") or {name: f"User:gw-{name}" for name in settings.connectors}
    by_reader = {
        principal: ((settings.topics.canonical,), group) for group, principal in _pairs(readers, "--reader").items()
    }
    options = {"outbound": outbound, "ees": ees, "riat": riat, "stats": stats, "dashboard": dashboard}
    downstream = _downstream(options, deliver, targets)
    try:
        grants = gateway_grants(
            settings.topics,
            by_connector,
            detector=_principal(detector, "--detector"),
            readers=by_reader,
            downstream=downstream,
        )
    except GatewayError as exc:
        raise click.ClickException(str(exc)) from exc
    if not dry_run:
        check_broker(settings)  # a refused admin is one line, before anything else
    for grant in grants:
        click.echo(str(grant))
    if dry_run:
        return
    try:
        applied = apply_acls(AdminClient(dict(settings.kafka.to_librdkafka())), grants)
    except GatewayError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{applied} ACL(s) applied")
