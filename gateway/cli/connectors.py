"""``gateway connectors``: list and describe connector plugins, check their golden files, scaffold a new one."""

from __future__ import annotations

import json
from pathlib import Path

import click

from gateway.cli.common import make_connector
from gateway.connectors import discovery, scaffold
from gateway.connectors.base import renders_samples
from gateway.errors import ConfigError
from gateway.testing import conformance


@click.group("connectors")
def connectors() -> None:
    """Installed connector plugins (entry-point group ``gateway.connectors``)."""


@connectors.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_(as_json: bool) -> None:
    """List installed connectors; a broken plugin shows its distribution, version and error."""
    infos = discovery.describe()
    if as_json:
        click.echo(json.dumps([_as_dict(i) for i in infos], indent=2))
        return
    if not infos:
        click.echo("no connectors installed")
    for i in infos:
        state = f"BROKEN: {i.error}" if i.error else "ok"
        click.echo(f"{i.name:12} {i.distribution} {i.version}  ({i.target})  {state}")


def _as_dict(info: discovery.PluginInfo) -> dict[str, str | None]:
    return {
        "name": info.name,
        "target": info.target,
        "distribution": info.distribution,
        "version": info.version,
        "error": info.error,
    }


@connectors.command("about")
@click.argument("name")
def about(name: str) -> None:
    """Describe a connector: formats, defect kinds of its samples, and its configuration JSON schema."""
    cls = discovery.load(name)
    click.echo(
        json.dumps(
            {
                "name": cls.name,
                "version": cls.version,
                "formats": list(cls.formats),
                "renders_samples": renders_samples(cls),
                "defect_kinds": dict(cls.defect_kinds),
                "config_schema": cls.config_model.model_json_schema(),
            },
            indent=2,
        )
    )


@connectors.command("golden")
@click.argument("name")
@click.argument("examples", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--write", is_flag=True, help="(Re)write each EXAMPLE.expected.json instead of checking it.")
@click.option("--config", "config_path", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None)
def golden(name: str, examples: tuple[Path, ...], write: bool, config_path: Path | None) -> None:
    """Check example exports against their expected events (EXAMPLE.expected.json), or --write them.

    Subject keys use the kit's fixed test secret; review a written file before committing it.
    """
    connector = make_connector(name, config_path)
    failed = False
    for example in examples:
        if write:
            click.echo(f"wrote {conformance.write_golden(connector, example)}")
            continue
        diff = conformance.golden_diff(connector, example)
        if diff:
            failed = True
            click.echo(diff, nl=False)
        click.echo(f"{example}: {'DIFFERS' if diff else 'ok'}")
    if failed:
        raise SystemExit(1)


@connectors.command("new")
@click.argument("name")
@click.option(
    "--dir",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder to write the package into (default: ./NAME).",
)
@click.option("--member-state", default=None, help="Member State it imitates (default: the name's first word).")
@click.option("--timezone", default=None, help="IANA zone of its local times (default: the Member State's).")
def new(name: str, folder: Path | None, member_state: str | None, timezone: str | None) -> None:
    """Write a new connector package NAME: hooks, config, code tables, an example export, golden file, kit test."""
    try:
        names = scaffold.Names.of(name, member_state, timezone)
        written = scaffold.write(names, folder or Path(name))
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    for path in written:
        click.echo(f"wrote {path}")
    click.echo(f"next: pip install -e {folder or Path(name)} && pytest {(folder or Path(name)) / 'tests'}")
