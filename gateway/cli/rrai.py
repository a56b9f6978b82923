"""``gateway rrai``: the Return and Reintegration Assistance Inventory export (aggregates only)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from gateway.cli.common import check_broker, load_settings
from gateway.errors import ConfigError, DecodeError, FatalError, TransientError


@click.group("rrai")
def rrai() -> None:
    """RRAI: the programme catalogue plus its usage, per quarter, as aggregate counts (docs/rrai.md)."""


def _catalogue(catalogue_path: Path | None, rules_config: Path | None) -> Any:
    from gateway.validation.config import load_config
    from gateway.validation.programmes import load_programmes

    # The catalogue is the validation configuration's, so the export and the rules read the same programmes.
    path = catalogue_path or (load_config(rules_config).programme_catalogue if rules_config else None)
    if path is None:
        raise ConfigError(
            "no programme catalogue: set programme_catalogue in the validation configuration (rules_config) "
            "or pass --catalogue"
        )
    return load_programmes(path)


@rrai.command("export")
@click.option("--quarter", required=True, help="Reporting quarter, e.g. 2026-Q1.")
@click.option(
    "--out", "out_dir", required=True, type=click.Path(path_type=Path, file_okay=False), help="Output folder."
)
@click.option("--config", "config_path", type=click.Path(path_type=Path, dir_okay=False), help="Gateway TOML config.")
@click.option("--bootstrap", envvar="GATEWAY_KAFKA__BOOTSTRAP_SERVERS", help="Kafka bootstrap servers.")
@click.option(
    "--rrai-config",
    "rrai_path",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    envvar="GATEWAY_RRAI_CONFIG",
    show_envvar=True,
    help="RRAI settings (threshold, band_edges_eur, include_unlisted); default: threshold 5, bands 500 and 2000.",
)
@click.option(
    "--catalogue",
    "catalogue_path",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="Programme catalogue; default: the validation configuration's programme_catalogue.",
)
@click.option("--timeout", default=30.0, show_default=True, help="Seconds of silence before the read gives up.")
def export_command(
    quarter: str,
    out_dir: Path,
    config_path: Path | None,
    bootstrap: str | None,
    rrai_path: Path | None,
    catalogue_path: Path | None,
    timeout: float,
) -> None:
    """Replay the canonical topic and write rrai-usage-QUARTER.json and .csv into OUT (aggregates only)."""
    from gateway.adapters.rrai import Quarter, export_quarter, load_rrai_config

    overrides: dict[str, Any] = {"kafka": {"bootstrap_servers": bootstrap}} if bootstrap else {}
    settings = load_settings(config_path, **overrides)
    try:
        period = Quarter.parse(quarter)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--quarter") from exc
    try:
        config = load_rrai_config(rrai_path)
        catalogue = _catalogue(catalogue_path, settings.rules_config)
        check_broker(settings)
        report, paths = export_quarter(
            settings.kafka, settings.topics.canonical, period, catalogue, config, out_dir, timeout_s=timeout
        )
    except (ConfigError, TransientError, DecodeError, FatalError) as exc:
        raise click.ClickException(str(exc)) from exc
    suppressed = sum(len(r.suppressed) for r in report.rows)
    click.echo(f"{len(report.rows)} rows for {period} ({suppressed} counts suppressed below {config.threshold})")
    for path in paths:
        click.echo(str(path))
