"""``gateway demo``: the gateway's main job on the bundled samples, with a local broker."""

from __future__ import annotations

import click
from rich.console import Console
from rich.table import Table

from gateway.cli.common import load_settings, make_connector
from gateway.connectors import discovery
from gateway.ops.demo import dead_letter_line, describe, event_counts, run_demo
from gateway.ops.local_kafka import LocalKafka


@click.command("demo")
@click.option(
    "--bootstrap", envvar="GATEWAY_KAFKA__BOOTSTRAP_SERVERS", help="Use this broker instead of the local one."
)
@click.option("--events", "per_type", default=1, show_default=True, help="Events to print per event type.")
def demo(bootstrap: str | None, per_type: int) -> None:
    """Start a local broker, ingest the bundled samples of every connector, and show the topics."""
    console = Console()
    if not bootstrap:
        console.print("starting the local Kafka broker (first run fetches its jars from Maven Central) …")
        bootstrap = LocalKafka().start()
    console.print(f"broker: {bootstrap}")
    settings = load_settings(None, kafka={"bootstrap_servers": bootstrap})
    names = [i.name for i in discovery.describe() if i.error is None]
    if not names:
        raise click.ClickException("no connectors installed: run `make bootstrap`")
    result = run_demo(settings, [make_connector(n, settings=settings) for n in names])

    table = Table(
        "connector",
        "sample",
        "records",
        "events",
        "dead letters",
        "expected (manifest)",
        "rate rec/s",
        title=f"Ingest into {result.topics.canonical}",
    )
    for c in result.connectors:
        s = c.summary
        expected = (
            f"{c.manifest.events} events + {len(c.manifest.defects)} dead letters" if c.manifest is not None else "-"
        )
        rate = f"{s.records / s.seconds:,.0f}" if s.seconds else "-"
        table.add_row(c.connector, c.sample.name, str(s.records), str(s.events), str(s.dead_letters), expected, rate)
    console.print(table)

    counts = event_counts(result.events)
    by_type = Table("event type", "count", title=f"{result.topics.canonical}: {len(result.events)} events (read back)")
    for event_type, n in sorted(counts.items()):
        by_type.add_row(event_type, str(n))
    console.print(by_type)

    console.print("[bold]One event of each type, decoded:[/]")
    shown: dict[str, int] = {}
    for e in result.events:
        key = str(e.event_type)
        if shown.get(key, 0) < per_type:
            shown[key] = shown.get(key, 0) + 1
            console.print("  " + describe(e), highlight=False, soft_wrap=True)

    for c in result.connectors:
        console.print(f"[bold]{result.topics.dlq(c.connector)}[/]: {len(c.dead_letters)} dead letters")
        for rec in c.dead_letters[:4]:
            console.print(f"  {dead_letter_line(rec)}", highlight=False, soft_wrap=True)
        if len(c.dead_letters) > 4:
            prefix = result.topics.canonical.split(".", 1)[0]
            console.print(f"  … all of them: `gateway dlq inspect -c {c.connector} --prefix {prefix}`")
    verdict = "[green]records in = events out + dead letters[/]" if result.balanced else "[red]COUNTS DO NOT ADD UP[/]"
    console.print(verdict)
    console.print("The broker keeps running; stop it with `gateway kafka-local stop`.")
    if not result.balanced:
        raise SystemExit(1)
