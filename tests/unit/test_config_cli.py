"""Command-line edges of files the CLI looks for: ``gateway rules docs --check`` without the file."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from gateway.cli.main import main


def test_rules_docs_check_says_the_file_is_missing_and_where_it_looked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # outside the repository: docs/rules.md is not here
    result = CliRunner().invoke(main, ["rules", "docs", "--check"])
    assert result.exit_code == 1
    assert f"docs/rules.md is missing (looked for {tmp_path / 'docs' / 'rules.md'})" in result.output
    assert "out of date" not in result.output
