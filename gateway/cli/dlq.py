"""``gateway dlq``: dead-letter statistics, inspection and replay."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.table import Table

from gateway.cli.common import check_broker, load_settings
from gateway.config import GatewaySettings
from gateway.dlq import headers as H
from gateway.dlq import tools

_CONFIG = click.option(
    "--config", "config_path", type=click.Path(path_type=Path, dir_okay=False), help="Gateway TOML config."
)
_CONNECTOR = click.option("-c", "--connector", "name", required=True, help="Connector whose dead letters to read.")
_BOOTSTRAP = click.option("--bootstrap", envvar="GATEWAY_KAFKA__BOOTSTRAP_SERVERS", help="Kafka bootstrap servers.")
_PREFIX = click.option("--prefix", help="Topic prefix of a demo run (e.g. demo-20261128-163150).")


def _settings(config_path: Path | None, bootstrap: str | None, prefix: str | None = None) -> GatewaySettings:
    settings = load_settings(config_path, **({"kafka": {"bootstrap_servers": bootstrap}} if bootstrap else {}))
    if prefix:
        from gateway.devservices.demo import demo_topics

        settings = settings.model_copy(update={"topics": demo_topics(prefix)})
    check_broker(settings)
    return settings


@click.group("dlq")
def dlq() -> None:
    """Dead-letter queues: one topic per connector, original bytes plus __connect.errors.* headers."""


@dlq.command("stats")
@_CONNECTOR
@_CONFIG
@_BOOTSTRAP
@_PREFIX
@click.option("--json", "as_json", is_flag=True)
def stats_cmd(name: str, config_path: Path | None, bootstrap: str | None, prefix: str | None, as_json: bool) -> None:
    """Count dead letters by stage, error class, rule and source."""
    settings = _settings(config_path, bootstrap, prefix)
    s = tools.stats(settings.kafka, settings.topics.dlq(name))
    if as_json:
        click.echo(json.dumps({k: getattr(s, k) for k in s.__dataclass_fields__}, indent=1))
        return
    console = Console()
    console.print(f"[bold]{s.topic}[/]: {s.total} dead letters")
    for title, counter in (("stage", s.by_stage), ("error", s.by_error), ("rule", s.by_rule), ("source", s.by_source)):
        if counter:
            table = Table(title, "count")
            for key, n in counter.most_common(15):
                table.add_row(key, str(n))
            console.print(table)


def _check_stage(stage: str | None) -> None:
    problem = tools.unknown_stage(stage)
    if problem is not None:
        raise click.BadParameter(problem, param_hint="--stage")


def _parse_refs(refs: tuple[str, ...]) -> frozenset[tuple[int, int]]:
    try:
        return frozenset((int(p), int(o)) for p, o in (r.split(":") for r in refs))
    except ValueError as exc:
        raise click.BadParameter("use PARTITION:OFFSET, e.g. 0:15") from exc


F = TypeVar("F", bound=Callable[..., Any])

_SELECT = [
    click.option("--at", "refs", multiple=True, help="PARTITION:OFFSET of a dead letter (repeatable)."),
    click.option("--rule", help="Only dead letters of this rule id."),
    click.option("--stage", help=f"Only dead letters of this stage ({', '.join(tools.STAGES)})."),
]


def _with_select(f: F) -> F:
    for option in reversed(_SELECT):
        f = option(f)
    return f


@dlq.command("inspect")
@_CONNECTOR
@_CONFIG
@_BOOTSTRAP
@_PREFIX
@_with_select
@click.option("--limit", default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True)
def inspect_cmd(
    name: str,
    config_path: Path | None,
    bootstrap: str | None,
    prefix: str | None,
    refs: tuple[str, ...],
    rule: str | None,
    stage: str | None,
    limit: int,
    as_json: bool,
) -> None:
    """Show dead letters: where they came from, why they failed, and their original bytes.

    Exits 1 when a ``--at`` reference is not on the topic (after showing the ones that are).
    """
    _check_stage(stage)
    wanted = _parse_refs(refs)
    settings = _settings(config_path, bootstrap, prefix)
    topic = settings.topics.dlq(name)
    chosen = tools.select(refs=wanted, rule=rule, stage=stage)
    shown: list[tools.DeadLetterRecord] = []
    for rec in tools.read_dead_letters(settings.kafka, topic):
        if not chosen(rec):
            continue
        if as_json:
            body = {"ref": rec.ref, "headers": rec.headers, "value": rec.value.decode("utf-8", "replace")}
            click.echo(json.dumps(body, ensure_ascii=False))
        else:
            click.echo(f"{rec.partition}:{rec.offset}  {H.summary(rec.headers)}")
            preview = rec.value[:300].decode(rec.headers.get(H.SOURCE_ENCODING, "utf-8"), "replace")
            click.echo(f"    {preview!r}{' …' if len(rec.value) > 300 else ''}")
        shown.append(rec)
        if len(shown) >= limit:
            return
    missing = tools.missing_refs(wanted, shown)
    if missing:
        raise click.ClickException(f"no dead letter at {', '.join(missing)} on {topic}")


@dlq.command("replay")
@_CONNECTOR
@_CONFIG
@_BOOTSTRAP
@_PREFIX
@_with_select
@click.option("--all", "everything", is_flag=True, help="Replay every dead letter (needed when nothing is selected).")
@click.option("--dry-run", is_flag=True, help="Show what would be replayed.")
def replay_cmd(
    name: str,
    config_path: Path | None,
    bootstrap: str | None,
    prefix: str | None,
    refs: tuple[str, ...],
    rule: str | None,
    stage: str | None,
    everything: bool,
    dry_run: bool,
) -> None:
    """Re-inject chosen dead letters into the connector's raw topic, for `gateway run` to process again."""
    if not (refs or rule or stage or everything):
        raise click.UsageError("choose dead letters with --at, --rule or --stage, or pass --all")
    _check_stage(stage)
    settings = _settings(config_path, bootstrap, prefix)
    chosen = tools.select(refs=_parse_refs(refs), rule=rule, stage=stage)
    picked = tools.replay(settings.kafka, settings.topics.dlq(name), settings.topics.raw(name), chosen, dry_run=dry_run)
    verb = "would replay" if dry_run else "replayed"
    click.echo(f"{verb} {len(picked)} dead letter(s) into {settings.topics.raw(name)}")
    for rec in picked[:20]:
        click.echo(f"  {rec.ref}  {H.summary(rec.headers)}")
