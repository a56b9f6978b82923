"""The boundary-case export as a French JSON Lines file through `gateway validate`: exactly the expected findings.

Marked integration: it needs an installed reference connector (fr-jsonl, whose format can express every
boundary value) and runs the CLI end to end; it needs no broker (validate produces nothing).
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from gateway.cli.main import main
from gateway.connectors import discovery
from gateway.connectors.base import Fact
from gateway.events.models import CaseEvent

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
EXPORT = ROOT / "tests" / "fixtures" / "boundary" / "export.json"
PROGRAMMES = ROOT / "gateway" / "validation" / "data" / "programmes.example.toml"


@dataclass(frozen=True)
class _Story:
    facts: tuple[Fact, ...]


def test_boundary_export_through_gateway_validate(tmp_path: Path):
    data = json.loads(EXPORT.read_text("utf-8"))
    cls = discovery.load("fr-jsonl")
    connector = cls(cls.config_model.model_validate({"member_state": "NL"}))
    rows, ids = [], []
    for record in data["records"]:
        event = CaseEvent.model_validate(record["event"])
        fact = Fact(event.case_reference, event.subject_key, event.occurred_at, event.payload)
        (rendered,) = connector.render(_Story((fact,)), random.Random(0))
        rows.append(rendered.data)
        ids.append(record["record"])
    export = tmp_path / "boundary.csv"
    with export.open("wb") as out:
        connector.write_export(out, rows)

    rules = tmp_path / "validation.toml"
    rules.write_text(f'programme_catalogue = "{PROGRAMMES}"\n')
    config = tmp_path / "gateway.toml"
    config.write_text(f'rules_config = "{rules}"\n[connectors.fr-jsonl]\nmember_state = "NL"\n')

    result = CliRunner().invoke(
        main, ["validate", "-c", "fr-jsonl", "--config", str(config), "--json", "--now", data["now"], str(export)]
    )
    assert result.exit_code in (0, 1), result.output
    (report,) = json.loads(result.output)
    assert report["records"] == len(rows)
    items = {ids[item["index"]]: item for item in report["items"]}
    wanted = {
        r["record"]: sorted((e["rule_id"], e["severity"], e["path"]) for e in r["expected"]) for r in data["records"]
    }
    # A date that does not exist (29 February 2001) cannot even be written in a valid export: the connector rejects
    # it (parse or map), so it is a dead letter before any rule runs. Codes the connector does not know (D, XKX) are
    # handed on to the shared code list, so C-2 meets the CD rules like any other record.
    rejected_by_connector = {"C-3"}
    for record_id in rejected_by_connector:
        assert not items[record_id]["ok"]
        assert items[record_id]["stage"] in ("parse", "map")
        assert any(severity == "ERROR" for _, severity, _ in wanted[record_id])
    # An amount written with one decimal (F-2's 420.5) exists only in the canonical model: the French format, like
    # Avro's scale-2 decimal on the wire, always writes two decimals, so AS-001's "two decimals" cannot fire there.
    wanted["F-2"] = [f for f in wanted["F-2"] if f[0] != "AS-001"]
    found = {rid: sorted(tuple(f) for f in item["findings"]) for rid, item in items.items()}
    for record_id in rejected_by_connector:
        del found[record_id], wanted[record_id]
    assert found == wanted
    # Records with an ERROR finding are exactly the dead letters.
    dead = {rid for rid, item in items.items() if not item["ok"]} - rejected_by_connector
    assert dead == {rid for rid, exp in wanted.items() if any(severity == "ERROR" for _, severity, _ in exp)}
