"""``gateway demo``: the gateway's main job on the bundled samples, with a local broker."""

from __future__ import annotations

import json
import secrets
from collections import Counter
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from gateway.cli.common import load_settings, make_connector
from gateway.connectors import discovery
from gateway.devservices.demo import DemoResult, dead_letter_line, describe, event_counts, run_demo
from gateway.devservices.local_kafka import LocalKafka


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
    _show_dashboard(console, result, bootstrap)
    verdict = "[green]records in = events out + dead letters[/]" if result.balanced else "[red]COUNTS DO NOT ADD UP[/]"
    console.print(verdict)
    exact = _show_detection(console, result)
    eu_exact = _show_outbound(console, result)
    _show_tools(console, result)
    console.print("The broker keeps running; stop it with `gateway kafka-local stop`.")
    if not result.balanced or not exact or not eu_exact:
        raise SystemExit(1)


def _show_detection(console: Console, result: DemoResult) -> bool:
    """Print the detector's alerts and how they compare with the movement samples' ground truth."""
    found = result.detection
    if found is None or result.settings is None:
        return True
    settings = result.settings
    table = Table("rule", "Member State", "cases", "evidence", "supersedes", title=f"{result.topics.alerts}: alerts")
    for a in sorted(found.alerts, key=lambda a: (a.rule_id, a.member_state, a.event_time)):
        evidence = ", ".join(f"{e.role} {e.occurred_at:%Y-%m-%d}" for e in a.evidence)
        table.add_row(a.rule_id, a.member_state, " ".join(a.case_references), evidence, "yes" if a.supersedes else "")
    console.print(table)
    others = len({k for k in found.found if k[0] not in found.movement_subjects})
    console.print(
        f"detector read {found.events_in} events; movement samples: {found.planted_found}/{len(found.expected)} "
        f"planted alerts found with their evidence, {found.look_alikes_silent}/{len(found.look_alikes)} look-alikes "
        f"silent; {others} alert(s) on the bundled samples' own stories (their kind-1 cases are SM-1 by design)"
    )
    if found.metrics:
        console.print("the detector's metrics, as `gateway detect --metrics-port 9464` serves them on /metrics:")
        for line in found.metrics:
            console.print(f"  {line}", markup=False, highlight=False)
    sample = next((a for a in found.alerts if a.rule_id == "SM-3"), found.alerts[0] if found.alerts else None)
    if sample is not None:
        from gateway.detect.config import DetectorConfig
        from gateway.detect.explain import render_explanation
        from gateway.detect.service import SUBJECTS, default_codecs
        from gateway.state.lookup import find_in_files

        app = f"{result.topics.canonical.split('.', 1)[0]}.detect"
        files = sorted((settings.state_dir / app / SUBJECTS).glob("*.sqlite"))
        entry = find_in_files(files, sample.subject_key.encode())
        if entry is not None:
            timeline = default_codecs(settings).timelines.decode(entry.value)
            console.print(f"[bold]gateway detect explain {sample.subject_key} --application {app}[/]")
            console.print(render_explanation(timeline, DetectorConfig(), sample.event_time), highlight=False)
    verdict = found.exact
    console.print("[green]alerts = the planted ones, exactly[/]" if verdict else "[red]ALERTS DIFFER FROM THE PLANT[/]")
    return verdict


def _show_outbound(console: Console, result: DemoResult) -> bool:
    """Print the EU systems' messages, the stories' comparison with their truth, and the delivery."""
    found = result.outbound
    if found is None:
        return True
    prefix = result.topics.canonical.split(".", 1)[0]
    national = Table("target", "message kinds", title=f"gateway outbound over {result.topics.canonical}")
    for target, kinds in found.national.items():
        national.add_row(target, ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())) or "-")
    console.print(national)
    console.print(
        f"  the monitor recorded {found.national_non_returns} non-return(s) for the exports' cases (event time only: "
        "the exports replay past years)"
    )
    run, stories = found.run, found.stories
    table = Table("target", "message kinds (generated EU stories)", "delivered to", "delivered", "pending", "rejected")
    for target, status in found.delivered.items():
        kinds = Counter(m.kind for m in run.outbox.get(target, []))
        table.add_row(
            target,
            ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())),
            found.transports[target],
            str(status.delivered + status.duplicate),
            str(status.pending),
            str(status.rejected),
        )
    console.print(table)
    derived = Counter(str(e.event_type) for e in run.derived)
    reviews = Counter(reason for reason, _ in run.reviews)
    console.print(
        f"  {len(stories.events)} story events, {len(stories.exits)} EES exit records "
        f"({sum(s.inbound for s in run.ees)} routed, {sum(s.review for s in run.ees)} to review at ingest); "
        f"derived events: {dict(derived)}; review: {dict(reviews)}"
    )
    console.print(f"  the demo's HTTP target injected {found.faults} faults (5xx, dropped connections, lost acks)")
    sample = next((m for m in run.outbox.get("sis", []) if m.kind == "CONFIRMATION_OF_RETURN"), None)
    if sample is not None:
        console.print(f"[bold]One SIS message ({sample.kind}, {sample.ordering_key}, id {sample.message_id}):[/]")
        console.print("  " + sample.body.decode()[:600], highlight=False, soft_wrap=True)
    for problem in found.problems[:10]:
        console.print(f"  [red]{problem}[/]", highlight=False)
    delivered_all = all(s.pending == 0 and s.rejected == 0 for s in found.delivered.values())
    exact = not found.problems and delivered_all
    console.print(
        "[green]EU messages = the stories' ones, exactly; all delivered[/]"
        if exact
        else "[red]EU MESSAGES DIFFER FROM THE STORIES (or were not all delivered)[/]"
    )
    console.print(f"  see them: `gateway outbox status --target sis` with topics under the prefix {prefix}.eu")
    return exact


def _show_tools(console: Console, result: DemoResult) -> None:
    """Print what the RRAI export and the Eurostat build wrote for the exports' busiest quarter."""
    tools = result.tools
    if tools is None:
        return
    table = Table("output", "what", "where", title=f"RRAI and Eurostat statistics, {tools.quarter}")
    table.add_row(
        "RRAI usage",
        f"{tools.rrai_rows} rows (programme x country x type x level x stage), {tools.rrai_suppressed} counts "
        "suppressed below 5",
        ", ".join(p.name for p in tools.rrai_files),
    )
    for name, (cells, persons) in sorted(tools.stats_cells.items()):
        table.add_row(f"Eurostat {name}", f"{cells} cells, {persons} persons (exact; published rounded to 5)", "")
    table.add_row("", "SDMX-ML 2.1, SDMX-CSV 2.0, plain CSV, structure.xml", str(tools.stats_folder))
    table.add_row("chart", "returns per quarter by type and assistance", f"{tools.chart[0]}")
    console.print(table)


DEMO_CONFIG_DIR = Path("samples/generated/demo")


def _show_dashboard(console: Console, result: DemoResult, bootstrap: str) -> None:
    """Write a loopback-only dashboard configuration for the demo's dead letters and print how to open it.

    One operator, ``demo``, with a fresh random password (only its Argon2id hash is written), so the demo's dead
    letters can be looked at and replayed in a browser without configuring anything.
    """
    from gateway.dashboard.auth import hash_password

    DEMO_CONFIG_DIR.mkdir(parents=True, exist_ok=True)
    topics = result.topics
    gateway_toml = DEMO_CONFIG_DIR / "gateway.toml"
    gateway_toml.write_text(
        f"[kafka]\nbootstrap_servers = {json.dumps(bootstrap)}\n\n"
        f"[topics]\ncanonical = {json.dumps(topics.canonical)}\ndlq_prefix = {json.dumps(topics.dlq_prefix)}\n"
        f"raw_prefix = {json.dumps(topics.raw_prefix)}\n",
        encoding="utf-8",
    )
    password = secrets.token_urlsafe(12)
    connectors = ", ".join(json.dumps(c.connector) for c in result.connectors)
    prefix = topics.canonical.split(".", 1)[0]
    dashboard_toml = DEMO_CONFIG_DIR / "dashboard.toml"
    dashboard_toml.write_text(
        f"connectors = [{connectors}]\naudit_topic = {json.dumps(prefix + '.audit.dlq-replay.v1')}\n"
        f"cookie_secure = false  # plain HTTP on loopback only\n\n"
        f'[users.demo]\nrole = "operator"\npassword_hash = {json.dumps(hash_password(password))}\n',
        encoding="utf-8",
    )
    console.print(
        "Look at them and replay them in a browser (user [bold]demo[/], password "
        f"[bold]{password}[/], valid for these files only):\n"
        f"  gateway dashboard --config {gateway_toml} --dashboard-config {dashboard_toml}   → http://127.0.0.1:8080",
        highlight=False,
        soft_wrap=True,
    )
