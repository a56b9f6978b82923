"""``gateway riat pull``: the RIAT partner's status feed to status events, review and dead letters, exactly once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from gateway.adapters.riat.pull import PullSummary, RiatPull, RiatTopics, StatusFeed
from gateway.cli.common import (
    check_broker,
    load_settings,
    observability_options,
    observed,
    setup_logging,
    stop_on_signals,
)
from gateway.codec.codec import EventCodec, event_codec
from gateway.config import GatewaySettings
from gateway.errors import GatewayError
from gateway.events.models import MemberState


@click.group("riat")
def riat() -> None:
    """The Reintegration Assistance Tool: case statuses in (referrals go out through ``gateway deliver``)."""


@riat.command("pull")
@click.option("--url", envvar="GATEWAY_RIAT_URL", required=True, help="Status feed base URL (env GATEWAY_RIAT_URL).")
@click.option(
    "--member-state",
    envvar="GATEWAY_RIAT_MEMBER_STATE",
    required=True,
    type=click.Choice([s.value for s in MemberState if s is not MemberState.UNKNOWN]),
    help="Member State running the gateway (env GATEWAY_RIAT_MEMBER_STATE).",
)
@click.option("--token", envvar="GATEWAY_RIAT_TOKEN", help="Bearer token of the feed (env GATEWAY_RIAT_TOKEN).")
@click.option("--config", "config_path", type=click.Path(path_type=Path, dir_okay=False), help="Gateway TOML config.")
@click.option("--bootstrap", envvar="GATEWAY_KAFKA__BOOTSTRAP_SERVERS", help="Kafka bootstrap servers.")
@click.option("--index-topic", help="Referral index topic [default: gateway.riat.referrals.v1].")
@click.option("--dlq-topic", help="Dead-letter topic of statuses [default: gateway.dlq.riat].")
@click.option("--progress-topic", help="Compacted cursor topic [default: gateway.riat.progress.v1].")
@click.option("--feed-id", help="The feed's key on the progress topic [default: riat:<url>].")
@click.option("--instance", envvar="GATEWAY_INSTANCE", default="0", show_default=True, help="Stable instance name.")
@click.option("--max-pages", type=int, help="Stop after this many pages.")
@click.option("--follow", type=float, help="Keep polling, this many seconds apart, until stopped.")
@click.option("--timeout", "timeout_s", type=float, default=10.0, show_default=True, help="HTTP time-out (s).")
@observability_options
def pull(
    url: str,
    member_state: str,
    token: str | None,
    config_path: Path | None,
    bootstrap: str | None,
    index_topic: str | None,
    dlq_topic: str | None,
    progress_topic: str | None,
    feed_id: str | None,
    instance: str,
    max_pages: int | None,
    follow: float | None,
    timeout_s: float,
    metrics_port: int | None,
    log_format: str | None,
) -> None:
    """Pull statuses: one subject's referral → event; none or several → review; unreadable → DLQ."""
    setup_logging(log_format, "riat-pull")
    overrides: dict[str, Any] = {"kafka": {"bootstrap_servers": bootstrap}} if bootstrap else {}
    settings = load_settings(config_path, **overrides)
    check_broker(settings)
    topics = RiatTopics.of(settings, dlq=dlq_topic, progress=progress_topic, index=index_topic)
    job = RiatPull(
        settings,
        member_state,
        StatusFeed(url, timeout_s=timeout_s, token=token),
        topics=topics,
        instance=instance,
        feed_id=feed_id,
        codec=_codec(settings),
    )
    try:
        job.ensure_topics()
        # Health, readiness (the broker answers), the Kafka retries and each committed page's counts.
        with (
            observed(settings, "riat-pull", metrics_port=metrics_port, log_format=log_format) as observation,
            observation.probe(settings.kafka.to_librdkafka()),
        ):
            total = job.run(max_pages=max_pages, follow_s=follow, stop=stop_on_signals(), metrics=observation.metrics)
    except GatewayError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        job.close()
    click.echo(f"total: {balance(total)}; cursor {total.cursor!r}")
    for reason, n in total.review_reasons.most_common():
        click.echo(f"  review: {reason}: {n}")
    for code, n in total.error_codes.most_common():
        click.echo(f"  dead letters: {code}: {n}")
    if not total.balanced:
        raise click.ClickException("records in and out do not balance")


def balance(s: PullSummary) -> str:
    """One line: records in = events + reviews + dead letters."""
    sign = "=" if s.balanced else "!="
    return (
        f"{s.pages} pages, {s.records} records in {sign} {s.events} events + {s.review} review "
        f"+ {s.dead_letters} dead letters"
    )


def _codec(settings: GatewaySettings) -> EventCodec:
    # The deployment's framing of canonical events: the registry's when one is configured, as the other writers do.
    return event_codec(settings.registry_url)


if __name__ == "__main__":
    riat()
