"""Shared helpers of the CLI commands: loading settings and connectors from options, logging and observability."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, TypeVar

import click
from pydantic import ValidationError

from gateway.config import GatewaySettings
from gateway.connectors import discovery
from gateway.connectors.base import Connector, ConnectorConfig
from gateway.errors import ConfigError
from gateway.kafka.connect import wait_for_broker
from gateway.observability import Observation, configure_logging, observe_process

F = TypeVar("F", bound=Callable[..., Any])


def load_settings(config_path: Path | None, **overrides: Any) -> GatewaySettings:
    """Load the gateway settings, turning configuration errors into a clean CLI error."""
    try:
        return GatewaySettings.load(config_path, **overrides)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc


def check_broker(settings: GatewaySettings) -> None:
    """Before a command's first Kafka call: wait for the cluster, or end the command with one clear line.

    A refusal (wrong password, untrusted certificate, a PLAINTEXT client at a TLS listener) raises at once, a cluster
    still away after ``kafka.connect_timeout_s`` then; the ``gateway`` entry point prints either as one ``Error:``
    line, exit 1 or 69 (`gateway.kafka.connect.wait_for_broker`). Without it, the first client would retry a
    refused connection until its own time-out and fail with an unspecific transport error.

    Raises:
        BrokerRefusedConnectionError: The broker refused this client.
        BrokerUnreachableError: No answer within ``kafka.connect_timeout_s``.
    """
    wait_for_broker(settings.kafka)


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


def observability_options(command: F) -> F:
    """The options of a long-running command: ``--metrics-port`` and ``--log-format`` (both also settings)."""
    command = click.option(
        "--metrics-port",
        type=click.IntRange(0, 65_535),
        help="Serve /metrics, /healthz and /readyz on this port (GATEWAY_OBSERVABILITY__METRICS_PORT); 0: any free.",
    )(command)
    return click.option(
        "--log-format",
        type=click.Choice(["text", "json"]),
        envvar="GATEWAY_OBSERVABILITY__LOG_FORMAT",
        help="Log lines as text or as one JSON object each (GATEWAY_OBSERVABILITY__LOG_FORMAT); default text.",
    )(command)


def session_timeout_option(command: F) -> F:
    """The ``--session-timeout`` option of a stateful service.

    Its members are static (KIP-345): a stopped instance keeps its partitions until its session ends, and a restart
    under the same ``--instance`` takes them back at once.
    """
    return click.option(
        "--session-timeout",
        "session_timeout_s",
        default=45.0,
        show_default=True,
        type=click.FloatRange(min=6.0),  # the broker's default group.min.session.timeout.ms
        help="Group session (s): another instance takes over a stopped one's partitions after this long.",
    )(command)


def setup_logging(log_format: str | None, service: str) -> None:
    """Log as the command line asks, until the settings are loaded (`observed` then applies them)."""
    configure_logging("json" if log_format == "json" else "text", service=service)


def observed(
    settings: GatewaySettings, service: str, *, metrics_port: int | None, log_format: str | None
) -> AbstractContextManager[Observation]:
    """Set up logging from the settings and options, and serve the process's metrics while the block lasts.

    Args:
        settings: The gateway settings (their ``observability`` table).
        service: The process's service: the ``service`` label and log field.
        metrics_port: ``--metrics-port``, over the settings.
        log_format: ``--log-format``, over the settings.
    """
    updates: dict[str, Any] = {"metrics_port": metrics_port, "log_format": log_format}
    config = settings.observability.model_copy(update={k: v for k, v in updates.items() if v is not None})
    configure_logging(config.log_format, config.log_level, service=service)
    return observe_process(config, service)
