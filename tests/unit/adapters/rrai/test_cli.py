from pathlib import Path

from click.testing import CliRunner

from gateway.cli.rrai import rrai


def test_the_command_names_what_is_missing(tmp_path: Path) -> None:
    result = CliRunner().invoke(rrai, ["export", "--quarter", "2026-Q5", "--out", str(tmp_path)])
    assert result.exit_code != 0
    assert "2026-Q5" in result.output
    result = CliRunner().invoke(
        rrai, ["export", "--quarter", "2026-Q1", "--out", str(tmp_path), "--bootstrap", "127.0.0.1:1"]
    )
    assert result.exit_code != 0
    assert "no programme catalogue" in result.output
