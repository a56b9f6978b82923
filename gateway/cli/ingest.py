"""``gateway ingest`` (files), ``gateway watch`` (a drop directory) and ``gateway run`` (service mode)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import Progress, TextColumn, TimeElapsedColumn

from gateway.cli.common import (
    load_settings,
    make_connector,
    observability_options,
    observed,
    setup_logging,
    stop_on_signals,
)
from gateway.config import GatewaySettings
from gateway.devservices.provision import provision
from gateway.errors import FatalError
from gateway.pipeline.dropdir import process_once
from gateway.pipeline.dropdir import watch as watch_folder
from gateway.pipeline.file_ingest import FileIngestor, IngestSummary

_CONFIG = click.option(
    "--config", "config_path", type=click.Path(path_type=Path, dir_okay=False), help="Gateway TOML config."
)
_CONNECTOR = click.option("-c", "--connector", "name", required=True, help="Connector that reads the input.")
_BOOTSTRAP = click.option("--bootstrap", envvar="GATEWAY_KAFKA__BOOTSTRAP_SERVERS", help="Kafka bootstrap servers.")


def _settings(config_path: Path | None, bootstrap: str | None) -> GatewaySettings:
    overrides: dict[str, Any] = {}
    if bootstrap:
        overrides["kafka"] = {"bootstrap_servers": bootstrap}
    settings = load_settings(config_path, **overrides)
    if settings.uses_dev_secret:
        click.secho(
            "warning: subject keys use the development secret; set GATEWAY_SUBJECT_KEY_SECRET", fg="yellow", err=True
        )
    return settings


def print_summary(summary: IngestSummary, console: Console) -> None:
    """Print one file's ingest summary: the file's totals, then what this run did (a resumed run did only part)."""
    run = summary.run
    rate = run.records / summary.seconds if summary.seconds else 0.0
    state = "already ingested" if summary.already_complete else f"{rate:,.0f} records/s"
    console.print(
        f"[bold]{summary.file}[/]: {summary.records} records → {summary.events} events + "
        f"{summary.dead_letters} dead letters in total ({state}"
        + (f", {summary.attempts} attempts" if summary.attempts > 1 else "")
        + ")",
        highlight=False,
    )
    if summary.resumed_at and not summary.already_complete:
        console.print(
            f"  this run (resumed at record {summary.resumed_at}): {run.records} records → {run.events} events + "
            f"{run.dead_letters} dead letters",
            highlight=False,
        )
    if run.dead_letter_stages:
        console.print(f"  dead letters by stage (this run): {dict(run.dead_letter_stages)}", highlight=False)
    if run.rule_findings:
        top = ", ".join(f"{k} x{v}" for k, v in run.rule_findings.most_common(8))
        console.print(f"  findings by rule (this run): {top}", highlight=False)


@click.command("ingest")
@_CONNECTOR
@_CONFIG
@_BOOTSTRAP
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
def ingest(name: str, config_path: Path | None, bootstrap: str | None, files: tuple[Path, ...]) -> None:
    """Ingest FILES exactly once into the canonical topic and the connector's dead-letter queue."""
    settings = _settings(config_path, bootstrap)
    connector = make_connector(name, settings=settings)
    provision(settings, [name])
    console = Console(stderr=True)
    for path in files:
        if console.is_terminal:
            with Progress(
                TextColumn("{task.description}"),
                TextColumn("{task.completed:,.0f} records"),
                TextColumn("[progress.data.speed]{task.fields[rate]}"),
                TimeElapsedColumn(),
                console=console,
                transient=True,
            ) as bar:
                task = bar.add_task(path.name, total=None, rate="")

                def tick(n: int, task: Any = task, bar: Progress = bar) -> None:
                    if n % 500 == 0:
                        elapsed = bar.tasks[0].elapsed or 1e-9
                        bar.update(task, completed=n, rate=f"{n / elapsed:,.0f} rec/s")

                summary = _ingest(connector, settings, path, tick)
        else:
            summary = _ingest(connector, settings, path, None)
        print_summary(summary, Console())


def _ingest(connector: Any, settings: GatewaySettings, path: Path, tick: Any) -> IngestSummary:
    try:
        return FileIngestor(connector, settings, on_record=tick).ingest(path)
    except FatalError as exc:
        raise click.ClickException(str(exc)) from exc


@click.command("watch")
@_CONNECTOR
@_CONFIG
@_BOOTSTRAP
@click.option("--poll", default=1.0, show_default=True, help="Seconds between polls.")
@click.option("--once", is_flag=True, help="Ingest what is there now, then exit.")
@observability_options
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
def watch(
    name: str,
    config_path: Path | None,
    bootstrap: str | None,
    poll: float,
    once: bool,
    metrics_port: int | None,
    log_format: str | None,
    folder: Path,
) -> None:
    """Watch a drop directory: ingest each file once, then move it to processed/ or failed/."""
    setup_logging(log_format, "watch")
    settings = _settings(config_path, bootstrap)
    connector = make_connector(name, settings=settings)
    # Served from the start, so that /healthz answers while provisioning waits for the broker.
    with observed(settings, "watch", metrics_port=metrics_port, log_format=log_format) as observation:
        provision(settings, [name])
        ingestor = FileIngestor(connector, settings, observation=observation)
        if once:
            for summary in process_once(folder, ingestor):
                print_summary(summary, Console())
            return
        watch_folder(folder, ingestor, poll_s=poll, stop=stop_on_signals())


@click.command("run")
@_CONNECTOR
@_CONFIG
@_BOOTSTRAP
@click.option(
    "--instance", envvar="GATEWAY_INSTANCE", help="Stable instance name (transactional id); default host name."
)
@click.option("--idle-exit", type=float, help="Exit after this many seconds without input.")
@click.option(
    "--group",
    envvar="GATEWAY_GROUP",
    help="Consumer group of the processes sharing the raw topic; default gateway-<connector>.",
)
@observability_options
def run(
    name: str,
    config_path: Path | None,
    bootstrap: str | None,
    instance: str | None,
    idle_exit: float | None,
    group: str | None,
    metrics_port: int | None,
    log_format: str | None,
) -> None:
    """Service mode: the connector's raw topic → canonical topic + dead letters, exactly once, until stopped."""
    from gateway.pipeline.service import ServiceOptions, run_service

    setup_logging(log_format, "run")
    settings = _settings(config_path, bootstrap)
    connector = make_connector(name, settings=settings)
    options = ServiceOptions(idle_exit_s=idle_exit, group_id=group)
    if instance is not None:
        options = replace(options, instance=instance)
    # Served from the start, so that /healthz answers (and /readyz says why not ready) while provisioning waits.
    with observed(settings, "run", metrics_port=metrics_port, log_format=log_format) as observation:
        provision(settings, [name])
        try:
            stats = run_service(connector, settings, options, stop_on_signals(), observation)
        except FatalError as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(
        f"{stats.records_in} records in, {stats.records_out} records out, {stats.batches_committed} transactions "
        f"committed, {stats.batches_aborted} aborted"
    )
