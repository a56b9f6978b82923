"""Shared helpers of the CLI commands: loading settings and connectors from options."""

from __future__ import annotations

import signal
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click
from pydantic import ValidationError

from gateway.config import GatewaySettings
from gateway.connectors import discovery
from gateway.connectors.base import Connector, ConnectorConfig
from gateway.errors import ConfigError


def load_settings(config_path: Path | None, **overrides: Any) -> GatewaySettings:
    """Load the gateway settings, turning configuration errors into a clean CLI error."""
    try:
        return GatewaySettings.load(config_path, **overrides)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc


def make_connector(
    name: str, config_path: Path | None = None, settings: GatewaySettings | None = None
) -> Connector[Any]:
    """Load a connector by name and configure it from the gateway settings.

    The settings' ``[connectors.NAME]`` table is all that is passed: what it leaves out, the connector's own
    configuration model decides (its ``member_state`` default names the system it imitates).
    """
    settings = settings or load_settings(config_path)
    try:
        cls = discovery.load(name)
        return cls(connector_config(name, cls, settings.connectors.get(name, {})))
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    except ValueError as exc:  # the connector refused to be built (a bad code table, an unknown zone)
        raise click.ClickException(f"connector {name!r} could not be built: {exc}") from exc


def connector_config(name: str, cls: type[Connector[Any]], raw: Mapping[str, Any]) -> ConnectorConfig:
    """Validate a connector's configuration table with its own model; raise ``ConfigError`` naming the settings.

    Args:
        name: The connector's name (the table is ``[connectors.NAME]``).
        cls: The connector class, whose ``config_model`` validates.
        raw: The table's contents.
    """
    try:
        return cls.config_model.model_validate(dict(raw))
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            setting = ".".join(str(part) for part in error["loc"])
            hint = f" (set {setting} in [connectors.{name}] of the configuration)" if error["type"] == "missing" else ""
            problems.append(f"{setting}: {error['msg']}{hint}")
        raise ConfigError(f"invalid configuration of connector {name!r}: {'; '.join(problems)}") from exc


def stop_on_signals() -> threading.Event:
    """An event set by SIGTERM or SIGINT, so a service finishes its batch and stops cleanly."""
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    return stop
