"""``gateway deliver`` sends a target's outbox; ``gateway outbox status`` shows what is pending, delivered, refused."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import click

from gateway.cli.common import (
    check_broker,
    load_settings,
    observability_options,
    observed,
    setup_logging,
    stop_on_signals,
)
from gateway.config import GatewaySettings
from gateway.errors import ConfigError, FatalError

_CONFIG = click.option(
    "--config", "config_path", type=click.Path(path_type=Path, dir_okay=False), help="Gateway TOML config."
)
_BOOTSTRAP = click.option("--bootstrap", envvar="GATEWAY_KAFKA__BOOTSTRAP_SERVERS", help="Kafka bootstrap servers.")


def _settings(config_path: Path | None, bootstrap: str | None) -> GatewaySettings:
    overrides: dict[str, Any] = {"kafka": {"bootstrap_servers": bootstrap}} if bootstrap else {}
    settings = load_settings(config_path, **overrides)
    check_broker(settings)
    return settings


@click.command("deliver")
@click.option("--target", required=True, help="Delivery target (sis, eurodac ...): reads its outbox topic.")
@_CONFIG
@_BOOTSTRAP
@click.option(
    "--delivery-config",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    envvar="GATEWAY_DELIVERY_CONFIG",
    show_envvar=True,
    help="Delivery TOML: one table per target (transport, options, retry, concurrency).",
)
@click.option("--transport", help="Transport plugin: http, filedrop or an installed one.  [default: http]")
@click.option("--url", help="http: where to POST each message.")
@click.option("--client-cert", type=click.Path(exists=True, dir_okay=False), help="http: client certificate (mTLS).")
@click.option("--client-key", type=click.Path(exists=True, dir_okay=False), help="http: client private key (mTLS).")
@click.option("--ca", type=click.Path(exists=True, dir_okay=False), help="http: CA bundle to verify the target.")
@click.option("--timeout", type=float, help="http: seconds to wait for an answer.")
@click.option("--dir", "directory", type=click.Path(file_okay=False), help="filedrop: the drop directory.")
@click.option("--option", "extra", multiple=True, metavar="KEY=VALUE", help="Further transport option (repeatable).")
@click.option("--max-in-flight", type=click.IntRange(min=1), help="Cases delivered at once.")
@click.option("--batch-size", type=click.IntRange(min=1), help="Most outbox records per transaction.")
@click.option("--instance", envvar="GATEWAY_INSTANCE", help="Stable instance name (transactional id); default host.")
@click.option("--group", help="Consumer group; default <application>-<target>.")
@click.option("--idle-exit", type=float, help="Exit after this many seconds without input.")
@observability_options
def deliver(
    target: str,
    config_path: Path | None,
    bootstrap: str | None,
    delivery_config: Path | None,
    transport: str | None,
    url: str | None,
    client_cert: str | None,
    client_key: str | None,
    ca: str | None,
    timeout: float | None,
    directory: str | None,
    extra: tuple[str, ...],
    max_in_flight: int | None,
    batch_size: int | None,
    instance: str | None,
    group: str | None,
    idle_exit: float | None,
    metrics_port: int | None,
    log_format: str | None,
) -> None:
    """Send the target's outbox through a transport; a receipt or a dead letter for every message, exactly once.

    Each message carries its content-derived id as Idempotency-Key, so a resend after a crash or a lost answer is
    recognised by the target. Order is kept per case; different cases go concurrently.
    """
    from gateway.delivery import plugins
    from gateway.delivery.settings import load_delivery_settings
    from gateway.delivery.worker import run_delivery

    setup_logging(log_format, f"deliver-{target}")
    settings = _settings(config_path, bootstrap)
    options: dict[str, Any] = {
        "url": url,
        "client_cert": client_cert,
        "client_key": client_key,
        "ca_bundle": ca,
        "read_timeout_s": timeout,
        "directory": directory,
    }
    for item in extra:
        key, sep, value = item.partition("=")
        if not sep:
            raise click.BadParameter(f"expected KEY=VALUE, got {item!r}", param_hint="--option")
        options[key.strip()] = value
    try:
        delivery = load_delivery_settings(
            delivery_config,
            target,
            transport=transport,
            transport_options=options,
            max_in_flight=max_in_flight,
            batch_size=batch_size,
            instance=instance,
            group_id=group,
            idle_exit_s=idle_exit,
        )
        sender = plugins.build(delivery.transport, delivery.transport_options)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    try:
        service = f"deliver-{target}"
        with observed(settings, service, metrics_port=metrics_port, log_format=log_format) as observation:
            stats = run_delivery(settings, target, sender, delivery, stop_on_signals(), observation=observation)
    except (FatalError, ConfigError) as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        sender.close()
    click.echo(
        f"{stats.processor.records_in} outbox records in: {stats.delivered} delivered, {stats.duplicates} duplicate, "
        f"{stats.rejected} rejected, {stats.undecodable} undecodable; {stats.sends} sends; "
        f"{stats.processor.batches_committed} transactions committed, {stats.processor.batches_aborted} aborted"
    )


@click.group("outbox")
def outbox() -> None:
    """The per-target outbox topics and what became of their messages."""


@outbox.command("status")
@click.option("--target", help="One target; default every target with an outbox topic.")
@_CONFIG
@_BOOTSTRAP
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option("--pending-ids", is_flag=True, help="List the ids of pending messages too.")
def status(
    target: str | None, config_path: Path | None, bootstrap: str | None, as_json: bool, pending_ids: bool
) -> None:
    """Pending, delivered, duplicate and rejected messages per target, counted exactly from the topics."""
    from gateway.delivery.status import outbox_status, outbox_targets
    from gateway.errors import TransientError

    settings = _settings(config_path, bootstrap)
    try:
        targets = [target] if target else outbox_targets(settings)
        found = [outbox_status(settings, t) for t in targets]
    except TransientError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        rows = []
        for s in found:
            row = asdict(s)
            row["pending_ids"] = list(s.pending_ids) if pending_ids else None
            rows.append(row)
        click.echo(json.dumps(rows, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Outbox status")
    for name in ("target", "records", "messages", "pending", "delivered", "duplicate", "rejected", "undecodable"):
        table.add_column(name, justify="left" if name == "target" else "right")
    for s in found:
        table.add_row(
            s.target,
            *(str(v) for v in (s.records, s.messages, s.pending, s.delivered, s.duplicate, s.rejected, s.undecodable)),
        )
    Console().print(table)
    if pending_ids:
        for s in found:
            for message_id in s.pending_ids:
                click.echo(f"{s.target}\t{message_id}")
