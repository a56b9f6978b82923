"""``gateway samples`` and ``gateway samples-movements``: realistic national sample exports, deterministic by seed."""

from __future__ import annotations

from pathlib import Path

import click

from gateway.cli.common import load_settings, make_connector
from gateway.errors import ConfigError
from gateway.samples.generate import generate_file
from gateway.samples.movements import DEFAULT_COUNT, MANIFEST_NAME, reference_connectors, write_movements


@click.command("samples")
@click.option("-c", "--connector", "name", required=True, help="Connector whose national format to write.")
@click.option("-n", "--count", default=1000, show_default=True, type=click.IntRange(min=0), help="Records to write.")
@click.option("--seed", default=1, show_default=True, type=int, help="Same seed, same file.")
@click.option(
    "--defects",
    "defect_share",
    default=0.0,
    show_default=True,
    type=click.FloatRange(0, 1),
    help="Share of records to damage.",
)
@click.option("--kind", "kinds", multiple=True, help="Defect kinds to use (repeatable); default: all of them.")
@click.option("--list-kinds", is_flag=True, help="List the connector's defect kinds and exit.")
@click.option("--config", "config_path", type=click.Path(path_type=Path, dir_okay=False), help="Gateway TOML config.")
@click.argument("out", type=click.Path(path_type=Path, dir_okay=False), required=False)
def samples(
    name: str,
    count: int,
    seed: int,
    defect_share: float,
    kinds: tuple[str, ...],
    list_kinds: bool,
    config_path: Path | None,
    out: Path | None,
) -> None:
    """Write a sample export OUT (and OUT.manifest.json saying what the gateway must make of it)."""
    connector = make_connector(name, config_path)
    if list_kinds:
        for kind, text in sorted(connector.defect_kinds.items()):
            click.echo(f"{kind:24} {text}")
        return
    if out is None:
        raise click.UsageError("OUT is required unless --list-kinds is given")
    manifest = generate_file(
        connector, out, count=count, seed=seed, defect_share=defect_share, defect_kinds=kinds or None
    )
    click.echo(
        f"wrote {manifest.records} records ({len(manifest.defects)} defective) to {out}; "
        f"expect {manifest.events} events and {len(manifest.defects)} dead letters"
    )


@click.command("samples-movements")
@click.option(
    "-n",
    "--count",
    default=DEFAULT_COUNT,
    show_default=True,
    type=click.IntRange(min=0),
    help="People (movement stories) to write; at least the planted set, ordinary cases fill up the rest.",
)
@click.option("--seed", default=1, show_default=True, type=int, help="Same seed and count, same files.")
@click.option("--config", "config_path", type=click.Path(path_type=Path, dir_okay=False), help="Gateway TOML config.")
@click.argument("outdir", type=click.Path(path_type=Path, file_okay=False))
def samples_movements(count: int, seed: int, config_path: Path | None, outdir: Path) -> None:
    """Write DE, FR and NL exports with planted secondary movements to OUTDIR, and movements.manifest.json.

    The manifest lists the alerts a detector must raise (SM-1..SM-4) and the look-alikes it must not flag.
    """
    # A command of its own rather than ``samples movements``: ``samples`` takes its output file as an argument,
    # and as a group it would take that file name for a subcommand name.
    settings = load_settings(config_path)
    try:
        connectors = reference_connectors(settings.connectors)
        manifest = write_movements(outdir, seed=seed, count=count, connectors=connectors)
    except (ConfigError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    for name, info in manifest.connectors.items():
        click.echo(f"wrote {info['records']} {name} records ({info['member_state']}) to {outdir / info['file']}")
    click.echo(
        f"{len(manifest.expected_alerts)} expected alerts and {len(manifest.look_alikes)} look-alikes in "
        f"{outdir / MANIFEST_NAME}"
    )
