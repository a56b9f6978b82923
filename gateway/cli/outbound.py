"""``gateway outbound``: canonical events -> SIS and Eurodac outboxes, the deadline monitor, EES matching."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import click

from gateway.cli.common import (
    check_broker,
    load_settings,
    observability_options,
    observed,
    session_timeout_option,
    setup_logging,
    stop_on_signals,
)
from gateway.errors import ConfigError, FatalError


@click.command("outbound")
@click.option("--config", "config_path", type=click.Path(path_type=Path, dir_okay=False), help="Gateway TOML config.")
@click.option("--bootstrap", envvar="GATEWAY_KAFKA__BOOTSTRAP_SERVERS", help="Kafka bootstrap servers.")
@click.option(
    "--outbound-config",
    "outbound_path",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    envvar="GATEWAY_OUTBOUND_CONFIG",
    show_envvar=True,
    help="Outbound TOML (targets, [sis], [eurodac], [monitor]); default: the built-in defaults.",
)
@click.option(
    "--application",
    default="gateway-outbound",
    show_default=True,
    envvar="GATEWAY_OUTBOUND_APPLICATION",
    help="Names the state changelogs, transactional ids and consumer group; one per deployment.",
)
@click.option("--instance", envvar="GATEWAY_INSTANCE", help="Stable instance name (transactional id); default host.")
@click.option("--group", envvar="GATEWAY_OUTBOUND_GROUP", help="Consumer group; default the application name.")
@session_timeout_option
@click.option("--idle-exit", type=float, help="Exit after this many seconds without input.")
@click.option(
    "--batch-records", default=2_000, show_default=True, type=click.IntRange(min=1), help="Most records a transaction."
)
@click.option(
    "--clock",
    default="wall",
    show_default=True,
    envvar="GATEWAY_MONITOR_CLOCK",
    help="The deadline monitor's clock: wall, event (event time only, for replays) or file:PATH (tests).",
)
@click.option("--tick", "tick_s", default=1.0, show_default=True, help="Seconds between timer checks when idle.")
@observability_options
def outbound(
    config_path: Path | None,
    bootstrap: str | None,
    outbound_path: Path | None,
    application: str,
    instance: str | None,
    group: str | None,
    session_timeout_s: float,
    idle_exit: float | None,
    batch_records: int,
    clock: str,
    tick_s: float,
    metrics_port: int | None,
    log_format: str | None,
) -> None:
    """Service mode: build the EU systems' messages into their outboxes, exactly once; watch departure deadlines.

    Deliver the outboxes with `gateway deliver --target sis|eurodac`; feed EES exits with `gateway ees ingest`.
    Scale by running more processes with distinct --instance names: they share the partitions.
    """
    from gateway.monitor.clock import clock_from_spec
    from gateway.outbound.config import OutboundConfig
    from gateway.outbound.service import OutboundOptions, default_codecs, run_outbound

    setup_logging(log_format, "outbound")
    overrides: dict[str, Any] = {"kafka": {"bootstrap_servers": bootstrap}} if bootstrap else {}
    settings = load_settings(config_path, **overrides)
    check_broker(settings)
    try:
        config = OutboundConfig.load(outbound_path)
        options = OutboundOptions(
            application=application,
            group_id=group,
            idle_exit_s=idle_exit,
            batch_records=batch_records,
            session_timeout_s=session_timeout_s,
            tick_s=tick_s,
            clock=clock_from_spec(clock),
        )
        if instance is not None:
            options = replace(options, instance=instance)
        with observed(settings, "outbound", metrics_port=metrics_port, log_format=log_format) as observation:
            stats = run_outbound(settings, config, default_codecs(settings), options, stop_on_signals(), observation)
    except (FatalError, ConfigError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"{stats.records_in} records in, {stats.records_out} records out (outbox messages, derived events, reviews, "
        f"dead letters, state changes), {stats.batches_committed} transactions committed "
        f"(+{stats.ticks_committed} on ticks), {stats.batches_aborted} aborted"
    )
