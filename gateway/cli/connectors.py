"""``gateway connectors``: list installed connector plugins and describe one."""

from __future__ import annotations

import json

import click

from gateway.connectors import discovery


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
                "defect_kinds": dict(cls.defect_kinds),
                "config_schema": cls.config_model.model_json_schema(),
            },
            indent=2,
        )
    )
