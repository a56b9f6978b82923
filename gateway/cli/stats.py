"""``gateway stats``: Eurostat return statistics built by replaying the canonical topic, and their chart."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from gateway.cli.common import check_broker, load_settings
from gateway.config import GatewaySettings
from gateway.errors import ConfigError, GatewayError

_CONFIG = click.option(
    "--config", "config_path", type=click.Path(path_type=Path, dir_okay=False), help="Gateway TOML config."
)
_BOOTSTRAP = click.option("--bootstrap", envvar="GATEWAY_KAFKA__BOOTSTRAP_SERVERS", help="Kafka bootstrap servers.")
_STATS_CONFIG = click.option(
    "--stats-config",
    "stats_path",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    envvar="GATEWAY_STATS_CONFIG",
    show_envvar=True,
    help="Statistics TOML (counting rules, rounding, SDMX structure); default: the built-in defaults.",
)
_OUT = click.option("--out", "out", type=click.Path(path_type=Path, file_okay=False), required=True, help="Folder.")


def _settings(config_path: Path | None, bootstrap: str | None) -> GatewaySettings:
    overrides: dict[str, Any] = {"kafka": {"bootstrap_servers": bootstrap}} if bootstrap else {}
    settings = load_settings(config_path, **overrides)
    check_broker(settings)
    return settings


@click.group("stats")
def stats() -> None:
    """Eurostat return statistics: aggregates only, persons counted once per period."""


@stats.command("build")
@click.option("--period", "periods", multiple=True, required=True, help="2026-Q1 or 2026; repeat for several.")
@_OUT
@_CONFIG
@_BOOTSTRAP
@_STATS_CONFIG
def build_cmd(
    periods: tuple[str, ...], out: Path, config_path: Path | None, bootstrap: str | None, stats_path: Path | None
) -> None:
    """Replay the canonical topic from its start and write the period's tables (SDMX-CSV, SDMX-ML, plain CSV).

    A period built before in the same --out folder is compared with its ledger; changed figures are reported
    as a revision (revisions/<period>-<n>.csv).
    """
    from gateway.statistics.config import load_statistics_config
    from gateway.statistics.replay import build
    from gateway.statistics.tables import Period

    settings = _settings(config_path, bootstrap)
    try:
        config = load_statistics_config(stats_path)
        report = build(settings, [Period.parse(p) for p in periods], config, out)
    except (ConfigError, GatewayError) as exc:
        raise click.ClickException(str(exc)) from exc
    r = report.replay
    click.echo(f"read {r.messages:,} events ({r.decoded:,} decoded, {r.persons:,} persons) in {r.seconds:.1f} s")
    for written in report.periods:
        totals = ", ".join(
            f"{n} {sum(t.published(config.rounding).values())}" for n, t in written.tables.tables.items()
        )
        click.echo(f"{written.tables.period.label}: {totals} -> {written.folder}")
        rev = written.revision
        if rev.revisions:
            changed = sum(1 for x in rev.revisions if x.published_changed)
            cause = " (the configuration changed too)" if rev.config_changed else ""
            click.echo(
                f"  REVISION: {len(rev.revisions)} cells changed since the last build, {changed} published figures"
                f"{cause}: {rev.path}"
            )
        elif not rev.first_build:
            click.echo("  same figures as the last build")


@stats.command("chart")
@click.option("--from", "first", required=True, help="First quarter, e.g. 2024-Q1.")
@click.option("--to", "last", required=True, help="Last quarter, e.g. 2026-Q4.")
@_OUT
@_CONFIG
@_BOOTSTRAP
@_STATS_CONFIG
def chart_cmd(
    first: str, last: str, out: Path, config_path: Path | None, bootstrap: str | None, stats_path: Path | None
) -> None:
    """Write returns.png and returns.html: returns per quarter by type and assistance, assisted voluntary share."""
    from gateway.statistics.chart import quarterly_returns, write_chart
    from gateway.statistics.config import load_statistics_config
    from gateway.statistics.replay import replay_facts
    from gateway.statistics.tables import quarters_between

    settings = _settings(config_path, bootstrap)
    try:
        config = load_statistics_config(stats_path)
        quarters = quarters_between(first, last)
        facts, _ = replay_facts(settings)
    except (ConfigError, GatewayError) as exc:
        raise click.ClickException(str(exc)) from exc
    png, page = write_chart(quarterly_returns(facts, quarters, config), out)
    click.echo(f"wrote {png} and {page}")
