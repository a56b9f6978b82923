"""The hostile corpus: every file is read to the end, fast; every record is an event or a clear dead letter."""

from __future__ import annotations

import io
import tomllib
from pathlib import Path

import pytest
from gw_connector_de_csv import DeCsvConfig, DeCsvConnector

from gateway.errors import RecordError
from gateway.testing.conformance import identity_context

CORPUS = Path(__file__).parent / "hostile"
CASES = tomllib.loads((CORPUS / "cases.toml").read_text(encoding="utf-8"))


def test_every_corpus_file_has_a_case():
    files = {p.name for p in CORPUS.iterdir() if p.name != "cases.toml" and not p.name.startswith(".")}
    assert files == set(CASES)


@pytest.mark.timeout(10)
@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("chunk_bytes", [65536, 7])
def test_hostile_file(name, chunk_bytes):
    case = CASES[name]
    config = DeCsvConfig.model_validate({"member_state": "DE", "chunk_bytes": chunk_bytes, **case.get("config", {})})
    connector = DeCsvConnector(config)
    ctx = identity_context(connector)
    data = (CORPUS / name).read_bytes()
    records = list(connector.read(io.BytesIO(data), name))
    assert len(records) == case["records"]
    assert [r.index for r in records] == list(range(len(records)))
    valid, errors = 0, []
    for record in records:
        try:
            events = connector.translate(record, ctx)
        except RecordError as exc:
            errors.append(exc.message)
        else:
            assert len(events) == 1
            valid += 1
    assert valid == case["valid"]
    assert all(errors), "a dead letter must say why"
    for reason in case.get("reasons", []):
        assert any(reason in e for e in errors), f"no error says {reason!r}: {errors[:5]}"


@pytest.mark.timeout(10)
def test_nothing_is_dropped_from_a_file_with_a_broken_header():
    data = (CORPUS / "no_header.csv").read_bytes()
    connector = DeCsvConnector(DeCsvConfig(member_state="DE"))
    records = list(connector.read(io.BytesIO(data), "no_header.csv"))
    assert b"\r\n".join(r.data for r in records) + b"\r\n" == data


@pytest.mark.timeout(30)
def test_gateway_validate_prints_the_whole_encoding_message(tmp_path, monkeypatch):
    # The advice names the configuration table in brackets; the CLI must print it, not take it for markup.
    from click.testing import CliRunner

    from gateway.cli.main import main

    monkeypatch.chdir(tmp_path)  # no gateway.toml of the checkout: the connector's defaults
    result = CliRunner().invoke(main, ["validate", "-c", "de-csv", str(CORPUS / "windows1252.csv")])
    assert result.exit_code == 1, result.output
    output = " ".join(result.output.split())  # rich wraps long lines
    assert "1 dead letters by stage {'parse': 1}" in output
    assert 'set encoding = "windows-1252" in [connectors.de-csv]' in output
