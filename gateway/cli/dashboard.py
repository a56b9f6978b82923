"""``gateway dashboard``: the dead-letter dashboard for operators (web), and ``hash-password`` for its users."""

from __future__ import annotations

import logging
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from gateway.cli.common import check_broker, load_settings
from gateway.errors import ConfigError, GatewayError
from gateway.observability import configure_logging

if TYPE_CHECKING:
    from gateway.dashboard.backend import KafkaBackend

_log = logging.getLogger(__name__)


@click.group("dashboard", invoke_without_command=True)
@click.option("--config", "config_path", type=click.Path(path_type=Path, dir_okay=False), help="Gateway TOML config.")
@click.option(
    "--dashboard-config",
    "dashboard_path",
    type=click.Path(path_type=Path, dir_okay=False),
    envvar="GATEWAY_DASHBOARD_CONFIG",
    show_envvar=True,
    help="Dashboard TOML (users and roles, proxy trust, audit topic); see docs/dashboard.md.",
)
@click.option("--bootstrap", envvar="GATEWAY_KAFKA__BOOTSTRAP_SERVERS", help="Kafka bootstrap servers.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(1, 65535), help="Port to listen on.")
@click.option(
    "-c", "--connector", "connectors", multiple=True, help="Connector to show (repeatable); default: the configured."
)
@click.pass_context
def dashboard(
    ctx: click.Context,
    config_path: Path | None,
    dashboard_path: Path | None,
    bootstrap: str | None,
    host: str,
    port: int,
    connectors: tuple[str, ...],
) -> None:
    """Serve the dead-letter dashboard: counts, chart, filters, details, and audited replay (operators).

    Viewers may look, operators may also replay; users come from the dashboard configuration (Argon2 hashes: make
    one with `gateway dashboard hash-password`) or, when trusted, a reverse proxy's headers.
    """
    if ctx.invoked_subcommand is not None:
        return
    import uvicorn

    from gateway.dashboard.app import create_app
    from gateway.dashboard.backend import KafkaBackend
    from gateway.dashboard.settings import load_dashboard_settings

    overrides: dict[str, Any] = {"kafka": {"bootstrap_servers": bootstrap}} if bootstrap else {}
    settings = load_settings(config_path, **overrides)
    obs = settings.observability
    configure_logging(obs.log_format, obs.log_level, service="dashboard")
    try:
        board = load_dashboard_settings(dashboard_path)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    shown = connectors or board.connectors or tuple(_installed_connectors())
    if not shown:
        raise click.UsageError("no connector to show: pass -c NAME or set connectors in the dashboard configuration")
    if not board.users and not board.proxy.trusted:
        raise click.ClickException("no users configured and proxy trust off: nobody could sign in (see [users.NAME])")
    if board.session_secret is None:
        click.echo("warning: no session_secret set; sign-ins end when the dashboard restarts", err=True)
    # A broker that is down, or refuses these credentials, is one clear line and a non-zero exit, before serving.
    check_broker(settings)
    backend = KafkaBackend(
        settings, board.audit_topic, read_timeout_s=board.read_timeout_s, slot_minutes=board.bucket_minutes
    )
    backend.ensure_audit_topic(board.audit_partitions)
    app = create_app(board, backend, shown)
    # The first summary of a topic reads it whole: start on it now, not on the first person's first page.
    threading.Thread(target=_warm_summaries, args=(backend, shown), name="summaries", daemon=True).start()
    click.echo(f"dashboard on http://{host}:{port}/ for {', '.join(shown)}; audit trail on {board.audit_topic}")
    # proxy_headers off: the client address the audit trail and proxy trust use is the connection's own.
    uvicorn.run(app, host=host, port=port, proxy_headers=False, server_header=False, log_level="info")


def _warm_summaries(backend: KafkaBackend, connectors: tuple[str, ...]) -> None:
    for name in connectors:
        try:
            backend.summary(name)
        except GatewayError as exc:  # the pages will say so, and try again
            _log.warning("the first summary of %s failed: %s", name, exc)


def _installed_connectors() -> list[str]:
    from gateway.connectors import discovery

    return sorted(discovery.installed())


@dashboard.command("hash-password")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input (one line).")
def hash_password_cmd(password_stdin: bool) -> None:
    """Print an Argon2id hash of a password, for a [users.NAME] table's password_hash."""
    from gateway.dashboard.auth import hash_password

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < 12:
        raise click.ClickException("use at least 12 characters")
    click.echo(hash_password(password))
