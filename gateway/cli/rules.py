"""``gateway rules``: list the validation rules and keep ``docs/rules.md`` in step with the code."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from gateway.errors import ConfigError
from gateway.validation.catalogue import GROUPS
from gateway.validation.config import load_config
from gateway.validation.docs import render_rules_markdown
from gateway.validation.engine import ValidationEngine

DEFAULT_DOCS = Path("docs/rules.md")


@click.group("rules")
def rules() -> None:
    """The validation rule catalogue."""


@rules.command("docs")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEFAULT_DOCS,
    show_default=True,
    help="File to write.",
)
@click.option("--check", is_flag=True, help="Do not write; exit 1 if the file differs from the code.")
def docs(output: Path, check: bool) -> None:
    """Regenerate the rule documentation from the code."""
    text = render_rules_markdown(GROUPS)
    if check:
        if not output.is_file():
            # Relative to the working directory: run from the project root, or pass --output.
            click.echo(
                f"{output} is missing (looked for {output.resolve()}): run `gateway rules docs` to write it, "
                "or pass --output (run --check from the repository root)",
                err=True,
            )
            sys.exit(1)
        current = output.read_text("utf-8")
        if current != text:
            click.echo(f"{output} is out of date: run `gateway rules docs`", err=True)
            sys.exit(1)
        click.echo(f"{output} is up to date")
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, "utf-8")
    click.echo(f"wrote {output}")


@rules.command("list")
@click.option(
    "--config",
    "config_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    envvar="GATEWAY_VALIDATION_CONFIG",
    show_envvar=True,
    help="Validation configuration; shows the effective severity and which rules are on.",
)
def list_rules(config_path: Path | None) -> None:
    """List the rules: id, effective severity, legal reference and title."""
    try:
        engine = ValidationEngine(load_config(config_path))
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    enabled = {b.rule.id: b for b in engine.rules}
    for _, group in GROUPS:
        for rule in group:
            bound = enabled.get(rule.id)
            severity = str(bound.severity) if bound else "OFF"
            click.echo(f"{rule.id:<9} {severity:<8} {rule.legal}  {rule.title}")
