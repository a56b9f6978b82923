"""``gateway ees ingest``: EES exit files from a drop directory or a raw topic to the inbound, review and DLQ topics."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from gateway.adapters.ees.ingest import EesIngest, EesSummary, EesTopics
from gateway.cli.common import (
    check_broker,
    load_settings,
    observability_options,
    observed,
    setup_logging,
    stop_on_signals,
)
from gateway.errors import GatewayError
from gateway.events.models import MemberState


@click.group("ees")
def ees() -> None:
    """The Entry/Exit System: exit records in."""


@ees.command("ingest")
@click.option("--dir", "folder", type=click.Path(exists=True, file_okay=False, path_type=Path), help="Drop directory.")
@click.option("--topic", help="Raw topic of exit files (one file per message), e.g. gateway.raw.ees.")
@click.option(
    "--member-state",
    envvar="GATEWAY_EES_MEMBER_STATE",
    required=True,
    type=click.Choice([s.value for s in MemberState if s is not MemberState.UNKNOWN]),
    help="Member State running the gateway (env GATEWAY_EES_MEMBER_STATE).",
)
@click.option("--config", "config_path", type=click.Path(path_type=Path, dir_okay=False), help="Gateway TOML config.")
@click.option("--bootstrap", envvar="GATEWAY_KAFKA__BOOTSTRAP_SERVERS", help="Kafka bootstrap servers.")
@click.option("--index-topic", help="Document index topic; default: topics.ees_documents of the settings.")
@click.option("--dlq-topic", help="Dead-letter topic of exit files; default: topics.ees_dlq of the settings.")
@click.option("--group", default="gateway-ees-ingest", show_default=True, help="Consumer group (--topic).")
@click.option("--instance", envvar="GATEWAY_INSTANCE", default="0", help="Stable instance name (--topic).")
@click.option("--idle-exit", type=float, help="With --topic: exit after this many seconds without input.")
@observability_options
def ingest(
    folder: Path | None,
    topic: str | None,
    member_state: str,
    config_path: Path | None,
    bootstrap: str | None,
    index_topic: str | None,
    dlq_topic: str | None,
    group: str,
    instance: str,
    idle_exit: float | None,
    metrics_port: int | None,
    log_format: str | None,
) -> None:
    """Route exit records: one subject holds the document → inbound; none or several → review; unreadable → DLQ."""
    if (folder is None) == (topic is None):
        raise click.UsageError("give exactly one of --dir and --topic")
    setup_logging(log_format, "ees-ingest")
    overrides: dict[str, Any] = {"kafka": {"bootstrap_servers": bootstrap}} if bootstrap else {}
    settings = load_settings(config_path, **overrides)
    if settings.uses_dev_secret:
        click.secho("warning: document keys use the development secret; set GATEWAY_SUBJECT_KEY_SECRET", fg="yellow")
    check_broker(settings)
    topics = EesTopics.of(settings, dlq=dlq_topic)
    job = EesIngest(settings, member_state, topics=topics, index_topic=index_topic)
    total = EesSummary()
    try:
        job.ensure_topics()
        if folder is not None:
            for path, summary in job.process_folder(folder):
                click.echo(f"{path.name}: {_balance(summary)}")
                total.add(summary)
        else:
            assert topic is not None
            with observed(settings, "ees-ingest", metrics_port=metrics_port, log_format=log_format) as observation:
                total = job.run_topic(
                    topic,
                    group_id=group,
                    instance=instance,
                    idle_timeout_s=idle_exit,
                    stop=stop_on_signals(),
                    observation=observation,
                )
    except GatewayError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        job.close()
    click.echo(f"total: {_balance(total)}")
    for reason, n in total.review_reasons.most_common():
        click.echo(f"  review: {reason}: {n}")
    for code, n in total.error_codes.most_common():
        click.echo(f"  dead letters: {code}: {n}")
    if not total.balanced:
        raise click.ClickException("records in and out do not balance")


def _balance(s: EesSummary) -> str:
    sign = "=" if s.balanced else "!="
    return f"{s.records} records in {sign} {s.inbound} inbound + {s.review} review + {s.dead_letters} dead letters"
