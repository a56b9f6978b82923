"""``gateway schemas``: the compatibility gate, releasing schema versions, model codegen and fingerprints."""

from __future__ import annotations

import json
from pathlib import Path

import click

from gateway.codec.schemas import ROOT_TYPE, SCHEMA_DIR
from gateway.evolution import HISTORY_DIR, CompatReport, check, codegen, expand, freeze
from gateway.evolution.history import canonical_form, fingerprint
from gateway.evolution.roots import schema_roots

_DIR = click.Path(file_okay=False, path_type=Path)
schema_dir_option = click.option(
    "--schema-dir",
    type=_DIR,
    default=SCHEMA_DIR,
    show_default=True,
    envvar="GATEWAY_SCHEMA_DIR",
    show_envvar=True,
    help="Folder of the current .avsc files, one per named type.",
)
history_dir_option = click.option(
    "--history-dir",
    type=_DIR,
    default=HISTORY_DIR,
    show_default=True,
    envvar="GATEWAY_SCHEMA_HISTORY_DIR",
    show_envvar=True,
    help="Folder of released versions (<root name>/v<N>.avsc).",
)


@click.group("schemas")
def schemas() -> None:
    """Check, release and generate code from the canonical Avro schemas."""


@schemas.command("check", short_help="FULL_TRANSITIVE gate; exit 1 on findings.")
@schema_dir_option
@history_dir_option
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option(
    "--datums",
    type=click.IntRange(min=1),
    default=300,
    show_default=True,
    help="Random datums per writer schema and direction.",
)
@click.option("--seed", default=0, show_default=True, help="Seed of the datum generator.")
@click.option(
    "--registry-url",
    envvar="GATEWAY_REGISTRY_URL",
    help="Also ask this schema registry's compatibility endpoint (Confluent-compatible API).",
)
@click.option(
    "--subject",
    default="gateway.case-events.v1-value",
    show_default=True,
    help="Registry subject of the canonical topic's values.",
)
def check_command(
    schema_dir: Path,
    history_dir: Path,
    as_json: bool,
    datums: int,
    seed: int,
    registry_url: str | None,
    subject: str,
) -> None:
    """Check every schema root (the canonical event, state values, alerts) against all its released versions.

    FULL_TRANSITIVE; the registry, if given, is asked about the canonical event. A root never released is a finding
    too: values written with it could not be read once it changes. Exit code 1 on any finding.
    """
    registry_check = None
    if registry_url:
        from gateway.codec.registry import RegistrySettings, check_compatibility

        registry = RegistrySettings(url=registry_url)

        def registry_check(schema_str: str) -> list[str]:
            return check_compatibility(registry, subject, schema_str)

    reports: dict[str, CompatReport] = {}
    for root in schema_roots(schema_dir):
        asks = registry_check if root.root == ROOT_TYPE else None
        reports[root.root] = check(
            root.schema_dir, history_dir, root=root.root, datums=datums, seed=seed, registry_check=asks
        )
    unreleased = [name for name, report in reports.items() if report.ok and not report.versions]
    if as_json:
        body = {name: report.to_dict() for name, report in reports.items()}
        click.echo(json.dumps({"roots": body, "unreleased": unreleased}, indent=2, ensure_ascii=False))
    else:
        for name, report in reports.items():
            click.echo(f"{name}: {_table(report)}")
        for name in unreleased:
            click.echo(f"{name}: never released; run `gateway schemas freeze` and commit the snapshot")
    if unreleased or not all(report.ok for report in reports.values()):
        click.get_current_context().exit(1)


@schemas.command("freeze", short_help="Release the next version if compatible.")
@schema_dir_option
@history_dir_option
def freeze_command(schema_dir: Path, history_dir: Path) -> None:
    """Release each schema root's current form as its next version.

    Only roots that pass the check and whose canonical form changed; exit code 1 if any is refused as incompatible.
    """
    refused = False
    for root in schema_roots(schema_dir):
        result = freeze(root.schema_dir, history_dir, root=root.root)
        prefix = "" if root.root == ROOT_TYPE else f"{root.short}: "
        if result.status == "incompatible":
            click.echo(prefix + _table(result.report))
            click.echo(f"refused: {root.root} is not compatible with every released version", err=True)
            refused = True
        elif result.status == "unchanged":
            click.echo(
                f"{prefix}nothing to freeze: the canonical form equals v{result.version} ({result.report.fingerprint})"
            )
        else:
            click.echo(f"{prefix}wrote v{result.version}: {result.path} ({result.report.fingerprint})")
    if refused:
        click.get_current_context().exit(1)


@schemas.command("codegen", short_help="Regenerate (or --check) the models.")
@click.option("--check", "check_only", is_flag=True, help="Do not write; exit 1 if the committed models are stale.")
def codegen_command(check_only: bool) -> None:
    """Regenerate gateway/events/models.py from the schemas (or check it)."""
    path = codegen.MODELS_PATH
    if check_only:
        if codegen.render() != path.read_text(encoding="utf-8"):
            click.echo(f"{path} is stale: run `gateway schemas codegen` and commit the result", err=True)
            click.get_current_context().exit(1)
        click.echo(f"{path} is in step with the schemas")
    else:
        click.echo(f"{'rewrote' if codegen.write(path) else 'unchanged:'} {path}")


@schemas.command("fingerprint", short_help="CRC-64-AVRO fingerprint, PCF size.")
@schema_dir_option
def fingerprint_command(schema_dir: Path) -> None:
    """Print the current fingerprint and canonical-form size.

    The CRC-64-AVRO fingerprint is printed as the single-object header carries it (little-endian hex).
    """
    schema = expand(schema_dir)
    click.echo(f"CRC-64-AVRO  {fingerprint(schema)}")
    click.echo(f"PCF size     {len(canonical_form(schema).encode('utf-8'))} bytes")


def _table(report: CompatReport) -> str:
    """The findings as aligned columns, the message last and unwrapped."""
    versions = ", ".join(f"v{v}" for v in report.versions) or "none"
    summary = f"current {report.fingerprint or '?'} against {versions}: "
    if report.ok:
        return summary + "compatible (FULL_TRANSITIVE, static and by resolving data)"
    rows = [("METHOD", "DIRECTION", "VERSION", "PATH", "MESSAGE")]
    rows += [(f.method, f.direction, f"v{f.version}" if f.version else "-", f.path, f.message) for f in report.findings]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row[:4], widths, strict=True)) + "  " + row[4] for row in rows]
    return "\n".join([summary + f"{len(report.findings)} finding(s)", *lines])
