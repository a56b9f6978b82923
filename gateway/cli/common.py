"""Shared helpers of the CLI commands: loading settings and connectors from options."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import Any

import click

from gateway.config import GatewaySettings
from gateway.connectors import discovery
from gateway.connectors.base import Connector
from gateway.errors import ConfigError

# Member State a reference connector's samples use when the configuration names none.
_DEFAULT_STATES = {"nl-xml": "NL", "de-csv": "DE", "fr-jsonl": "FR"}


def load_settings(config_path: Path | None, **overrides: Any) -> GatewaySettings:
    """Load the gateway settings, turning configuration errors into a clean CLI error."""
    try:
        return GatewaySettings.load(config_path, **overrides)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc


def make_connector(
    name: str, config_path: Path | None = None, settings: GatewaySettings | None = None
) -> Connector[Any]:
    """Load a connector by name and configure it from the gateway settings."""
    settings = settings or load_settings(config_path)
    try:
        cls = discovery.load(name)
        raw = dict(settings.connectors.get(name, {}))
        raw.setdefault("member_state", _DEFAULT_STATES.get(name, "NL"))
        return cls(cls.config_model.model_validate(raw))
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    except ValueError as exc:
        raise click.ClickException(f"invalid configuration of connector {name!r}: {exc}") from exc


def stop_on_signals() -> threading.Event:
    """An event set by SIGTERM or SIGINT, so a service finishes its batch and stops cleanly."""
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    return stop
