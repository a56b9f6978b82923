"""Entry point of the ``gateway`` command. Each command group lives in its own module and only calls library code."""

from __future__ import annotations

import importlib
from typing import Any

import click

from gateway.errors import GatewayError

# name -> "module:attribute" of a click command or group; imported lazily so that one command's
# dependencies do not slow down or break the others.
COMMANDS: dict[str, str] = {
    "connectors": "gateway.cli.connectors:connectors",
    "dashboard": "gateway.cli.dashboard:dashboard",
    "demo": "gateway.cli.demo:demo",
    "deliver": "gateway.cli.deliver:deliver",
    "detect": "gateway.cli.detect:detect",
    "dlq": "gateway.cli.dlq:dlq",
    "ees": "gateway.cli.ees:ees",
    "ingest": "gateway.cli.ingest:ingest",
    "run": "gateway.cli.ingest:run",
    "validate": "gateway.cli.validate:validate",
    "watch": "gateway.cli.ingest:watch",
    "kafka-local": "gateway.cli.kafka_local:kafka_local",
    "outbound": "gateway.cli.outbound:outbound",
    "outbox": "gateway.cli.deliver:outbox",
    "riat": "gateway.cli.riat:riat",
    "rrai": "gateway.cli.rrai:rrai",
    "rules": "gateway.cli.rules:rules",
    "samples": "gateway.cli.samples:samples",
    "samples-movements": "gateway.cli.samples:samples_movements",
    "schemas": "gateway.cli.schemas:schemas",
    "stats": "gateway.cli.stats:stats",
    "state": "gateway.cli.state:state",
}


class LazyGroup(click.Group):
    """A click group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Names of all commands, without importing them."""
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """Import and return one command."""
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module, attr = target.split(":")
        command: click.Command = getattr(importlib.import_module(module), attr)
        return command

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; an error the gateway raised on purpose is one line on stderr and an exit code.

        Exit codes: 0 done; 1 failed (configuration, refused data, ...: fix something first); 2 usage error;
        69 Kafka unreachable (``EX_UNAVAILABLE``: try again later). An error's ``exit_code`` attribute picks it.
        """
        try:
            return super().invoke(ctx)
        except GatewayError as exc:
            click.echo(f"Error: {exc}", err=True)
            ctx.exit(getattr(exc, "exit_code", 1))


@click.group(cls=LazyGroup)
@click.version_option(package_name="returns-gateway")
def main() -> None:
    """Return-case interoperability gateway: national records to canonical Avro events on Kafka."""


if __name__ == "__main__":
    main()
