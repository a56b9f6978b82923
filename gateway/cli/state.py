"""``gateway state``: data-protection operations on the detector's state."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import click

from gateway.cli.common import check_broker, load_settings
from gateway.errors import GatewayError


@click.group("state")
def state() -> None:
    """Operate on the detector's per-subject state."""


@state.command("erase")
@click.argument("subject_key")
@click.option("--reason", required=True, help="Why (e.g. the erasure request's reference); kept with the request.")
@click.option("--config", "config_path", type=click.Path(path_type=Path, dir_okay=False), help="Gateway TOML config.")
@click.option("--bootstrap", envvar="GATEWAY_KAFKA__BOOTSTRAP_SERVERS", help="Kafka bootstrap servers.")
def erase(subject_key: str, reason: str, config_path: Path | None, bootstrap: str | None) -> None:
    """Erase a subject's detector state: the detector deletes it from its store and tombstones its changelog.

    The request goes to the erasure topic, keyed and partitioned like the canonical topic, so it reaches the
    detector process that holds the subject; it is applied exactly once, in order with the subject's events, and
    the request itself (subject key, reason, time) stays on that topic as the record that it was made.
    """
    from gateway.kafka.producer import IdempotentProducer, OutboundMessage

    overrides: dict[str, Any] = {"kafka": {"bootstrap_servers": bootstrap}} if bootstrap else {}
    settings = load_settings(config_path, **overrides)
    check_broker(settings)
    request = {"subject_key": subject_key, "reason": reason, "requested_at": dt.datetime.now(dt.UTC).isoformat()}
    message = OutboundMessage(settings.topics.erasures, subject_key.encode(), json.dumps(request).encode())
    try:
        with IdempotentProducer(settings.kafka, settings.producer) as producer:
            producer.send(message)
    except GatewayError as exc:
        raise click.ClickException(f"the erasure request was not accepted by the broker: {exc}") from exc
    click.echo(f"erasure of {subject_key} requested on {settings.topics.erasures}; the detector applies it in order")
