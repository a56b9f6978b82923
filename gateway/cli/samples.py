"""``gateway samples``: write realistic national sample exports, deterministic by seed, of any size."""

from __future__ import annotations

from pathlib import Path

import click

from gateway.cli.common import make_connector
from gateway.samples.generate import generate_file


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
