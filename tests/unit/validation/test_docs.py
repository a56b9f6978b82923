"""docs/rules.md is generated from the code; these tests fail when the two drift."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from gateway.cli.main import main
from gateway.validation.catalogue import GROUPS, default_rules
from gateway.validation.docs import render_rules_markdown

ROOT = Path(__file__).resolve().parents[3]
DOCS = ROOT / "docs" / "rules.md"


def test_docs_match_the_code():
    assert DOCS.read_text("utf-8") == render_rules_markdown(GROUPS), (
        "docs/rules.md is out of date with the rule catalogue: run `gateway rules docs`"
    )


def test_every_rule_is_documented_with_its_legal_reference_and_config_key():
    text = DOCS.read_text("utf-8")
    for rule in default_rules():
        section = text.split(f"### {rule.id}\n", 1)[1].split("\n### ", 1)[0]
        assert f"Legal reference: {rule.legal}" in section
        assert f"Configuration key: `rules.{rule.id}`" in section
        assert f"Severity: {rule.severity}" in section


def test_unverified_references_say_so():
    for rule in default_rules():
        if not rule.legal.verified:
            assert "confirmed" in str(rule.legal)
    avrr = [r for r in default_rules() if r.id in {"EU-001", "EU-002", "EU-003", "EU-004"}]
    assert {str(r.legal) for r in avrr} == {"Reg. 2024/1358 Art. 16-17 (point to be confirmed)"}


def test_cli_docs_check_and_write(tmp_path):
    runner = CliRunner()
    out = tmp_path / "rules.md"
    result = runner.invoke(main, ["rules", "docs", "--check", "--output", str(out)])
    assert result.exit_code == 1
    assert "run `gateway rules docs`" in result.output
    assert runner.invoke(main, ["rules", "docs", "--output", str(out)]).exit_code == 0
    result = runner.invoke(main, ["rules", "docs", "--check", "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text("utf-8") == DOCS.read_text("utf-8")


def test_cli_list(tmp_path):
    runner = CliRunner()
    result = runner.invoke(main, ["rules", "list"])
    assert result.exit_code == 0, result.output
    assert len(result.output.splitlines()) == len(default_rules())
    cfg = tmp_path / "v.toml"
    cfg.write_text('[rules.VD-001]\nenabled = false\n[rules.RIAT-001]\nseverity = "WARNING"\n')
    lines = runner.invoke(main, ["rules", "list", "--config", str(cfg)]).output.splitlines()
    assert next(line for line in lines if line.startswith("VD-001")).split()[1] == "OFF"
    assert next(line for line in lines if line.startswith("RIAT-001")).split()[1] == "WARNING"
    cfg.write_text("[rules.XX-999]\n")
    result = runner.invoke(main, ["rules", "list", "--config", str(cfg)])
    assert result.exit_code != 0
    assert "XX-999" in result.output
