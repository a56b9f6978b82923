"""``gateway detect``: the secondary-movement detector service, and ``explain`` for the caseworker who must decide."""

from __future__ import annotations

import datetime as dt
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
from gateway.config import GatewaySettings
from gateway.errors import ConfigError, FatalError

_CONFIG = click.option(
    "--config", "config_path", type=click.Path(path_type=Path, dir_okay=False), help="Gateway TOML config."
)
_BOOTSTRAP = click.option("--bootstrap", envvar="GATEWAY_KAFKA__BOOTSTRAP_SERVERS", help="Kafka bootstrap servers.")
_DETECTOR_CONFIG = click.option(
    "--rules",
    "rules_path",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    envvar="GATEWAY_DETECTOR_CONFIG",
    show_envvar=True,
    help="Detector rules TOML (switches, windows, retention); default: the built-in defaults.",
)
_APPLICATION = click.option(
    "--application",
    default="gateway-detect",
    show_default=True,
    envvar="GATEWAY_DETECTOR_APPLICATION",
    help="Names the state changelogs, transactional ids and consumer group; one per deployment.",
)


def _settings(config_path: Path | None, bootstrap: str | None) -> GatewaySettings:
    overrides: dict[str, Any] = {"kafka": {"bootstrap_servers": bootstrap}} if bootstrap else {}
    return load_settings(config_path, **overrides)


def _detector_config(path: Path | None) -> Any:
    from gateway.detect.config import load_detector_config

    try:
        return load_detector_config(path)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc


@click.group("detect", invoke_without_command=True)
@_CONFIG
@_BOOTSTRAP
@_DETECTOR_CONFIG
@_APPLICATION
@click.option(
    "--instance", envvar="GATEWAY_INSTANCE", help="Stable instance name (transactional id); default host name."
)
@click.option("--group", envvar="GATEWAY_DETECTOR_GROUP", help="Consumer group; default the application name.")
@session_timeout_option
@click.option("--idle-exit", type=float, help="Exit after this many seconds without input.")
@click.option(
    "--batch-records", default=2_000, show_default=True, type=click.IntRange(min=1), help="Most events a transaction."
)
@observability_options
@click.pass_context
def detect(
    ctx: click.Context,
    config_path: Path | None,
    bootstrap: str | None,
    rules_path: Path | None,
    application: str,
    instance: str | None,
    group: str | None,
    session_timeout_s: float,
    idle_exit: float | None,
    batch_records: int,
    metrics_port: int | None,
    log_format: str | None,
) -> None:
    """Service mode: canonical events -> secondary-movement alerts on the alerts topic, exactly once.

    Scale by running more processes with distinct --instance names: they share the partitions. The alerts are
    signals for a caseworker, never decisions; `gateway detect explain SUBJECT_KEY` shows why one fired.
    """
    if ctx.invoked_subcommand is not None:
        return
    from gateway.detect.service import DetectorOptions, default_codecs, run_detector

    setup_logging(log_format, "detect")
    settings = _settings(config_path, bootstrap)
    check_broker(settings)
    options = DetectorOptions(
        application=application,
        group_id=group,
        idle_exit_s=idle_exit,
        batch_records=batch_records,
        session_timeout_s=session_timeout_s,
    )
    if instance is not None:
        options = replace(options, instance=instance)
    try:
        with observed(settings, "detect", metrics_port=metrics_port, log_format=log_format) as observation:
            stats = run_detector(
                settings,
                _detector_config(rules_path),
                default_codecs(settings),
                options,
                stop_on_signals(),
                observation,
            )
    except (FatalError, ConfigError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"{stats.records_in} events in, {stats.records_out} records out (alerts, dead letters, state changes), "
        f"{stats.batches_committed} transactions committed, {stats.batches_aborted} aborted"
    )


@detect.command("explain")
@click.argument("subject_key")
@_CONFIG
@_BOOTSTRAP
@_DETECTOR_CONFIG
@_APPLICATION
@click.option("--now", type=click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]), help="Explain as of (UTC).")
def explain_command(
    subject_key: str,
    config_path: Path | None,
    bootstrap: str | None,
    rules_path: Path | None,
    application: str,
    now: dt.datetime | None,
) -> None:
    """Print a subject's timeline from the detector's state, and why each rule did or did not fire.

    Looks in this machine's state files first, then in the changelog (all partitions, from the start).
    """
    from gateway.detect.explain import render_explanation
    from gateway.detect.service import SUBJECTS, default_codecs
    from gateway.state.lookup import find_in_changelog, find_in_files
    from gateway.state.runtime import changelog_topic

    settings = _settings(config_path, bootstrap)
    key = subject_key.encode()
    files = sorted((settings.state_dir / application / SUBJECTS).glob("*.sqlite"))
    found = find_in_files(files, key)
    if found is None:
        check_broker(settings)  # the changelog is next: a broker that is down or refuses us is one clear line
        found = find_in_changelog(settings.kafka, changelog_topic(application, SUBJECTS), key)
    if found is None:
        raise click.ClickException(f"no detector state for subject {subject_key} (never seen, expired or erased)")
    timeline = default_codecs(settings).timelines.decode(found.value)
    instant = (now or dt.datetime.now(dt.UTC)).replace(tzinfo=dt.UTC)
    click.echo(f"# state read from {found.where}")
    click.echo(render_explanation(timeline, _detector_config(rules_path), instant))
