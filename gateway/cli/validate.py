"""``gateway validate``: a dry run of the pipeline over files; a per-record report, nothing produced."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from gateway.cli.common import load_settings, make_connector
from gateway.pipeline.report import DryRunReport
from gateway.pipeline.wiring import build_processor
from gateway.validation.state import InMemoryCaseStates


@click.command("validate")
@click.option("-c", "--connector", "name", required=True, help="Connector that reads the files.")
@click.option("--config", "config_path", type=click.Path(path_type=Path, dir_okay=False), help="Gateway TOML config.")
@click.option("--json", "as_json", is_flag=True, help="Print the full report as JSON.")
@click.option("--records/--no-records", default=True, show_default=True, help="List rejected records.")
@click.option(
    "--now",
    type=click.DateTime(formats=["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d"]),
    help="Validate as of this instant (e.g. 2027-01-15T12:00:00+0000), not the clock.",
)
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
def validate(
    name: str, config_path: Path | None, as_json: bool, records: bool, now: dt.datetime | None, files: tuple[Path, ...]
) -> None:
    """Read, parse, map, validate and encode FILES without producing anything; exit 1 if any record fails.

    The files are judged in the order given, each against the case states the earlier ones left, as an ingest of
    them one after the other would judge them; the first starts from no case history (the ingest's case store is
    not read).
    """
    if now is not None and now.tzinfo is None:
        now = now.replace(tzinfo=dt.UTC)
    settings = load_settings(config_path)
    connector = make_connector(name, settings=settings)
    reports = []
    # In memory and unbounded: one state per case of the files, so no case is judged without its history.
    states = InMemoryCaseStates()
    for path in files:
        processor = build_processor(connector, settings, correlation_id=f"validate:{path.name}", now=now, states=states)
        report = DryRunReport(source=str(path), connector=name)
        with path.open("rb") as stream:
            report.add_all(processor.process_stream(connector.read(stream, str(path))))
        reports.append(report)
    if as_json:
        click.echo(json.dumps([r.to_dict() for r in reports], indent=1, default=str))
    else:
        for r in reports:
            _print(r, records)
    if any(r.dead_letters for r in reports):
        raise SystemExit(1)


def _print(report: DryRunReport, records: bool) -> None:
    console = Console()
    console.print(
        f"[bold]{report.source}[/]: {report.records} records → {report.events} events, "
        f"{report.dead_letters} dead letters" + (f" by stage {report.by_stage}" if report.by_stage else "")
    )
    if report.by_rule:
        table = Table("rule", "severity", "findings", "legal reference", "first records", title="Findings by rule")
        for rc in sorted(report.by_rule.values(), key=lambda r: (r.severity, r.rule_id)):
            table.add_row(rc.rule_id, rc.severity, str(rc.count), rc.legal_reference, ", ".join(map(str, rc.records)))
        console.print(table)
    if records:
        for item in report.items:
            if not item.ok:
                rules = f" [{', '.join(item.rule_ids)}]" if item.rule_ids else ""
                error = escape(str(item.error))  # "[connectors.de-csv]" in a message is text, not markup
                console.print(f"  {item.position}: [red]{item.stage}[/]{rules} {error}", highlight=False)
