from __future__ import annotations

from pathlib import Path

from argon2 import PasswordHasher
from click.testing import CliRunner

from gateway.cli.main import main


def test_dashboard_is_a_gateway_command():
    result = CliRunner().invoke(main, ["dashboard", "--help"])
    assert result.exit_code == 0
    assert "--dashboard-config" in result.output
    assert "--port" in result.output


def test_hash_password_prints_an_argon2id_hash():
    result = CliRunner().invoke(main, ["dashboard", "hash-password", "--password-stdin"], input="long enough pw\n")
    assert result.exit_code == 0
    hashed = result.output.strip()
    assert hashed.startswith("$argon2id$")
    assert PasswordHasher().verify(hashed, "long enough pw")


def test_hash_password_refuses_a_short_password():
    result = CliRunner().invoke(main, ["dashboard", "hash-password", "--password-stdin"], input="short\n")
    assert result.exit_code == 1
    assert "at least 12" in result.output


def test_no_users_and_no_proxy_is_refused_before_serving(tmp_path: Path):
    board = tmp_path / "d.toml"
    board.write_text('connectors = ["de-csv"]\n')
    result = CliRunner().invoke(main, ["dashboard", "--dashboard-config", str(board)])
    assert result.exit_code == 1
    assert "nobody could sign in" in result.output


def test_a_bad_dashboard_configuration_names_the_setting(tmp_path: Path):
    board = tmp_path / "d.toml"
    board.write_text('[users.ana]\nrole = "operator"\npassword_hash = "plain"\n')
    result = CliRunner().invoke(main, ["dashboard", "--dashboard-config", str(board)])
    assert result.exit_code == 1
    assert "users.ana.password_hash" in result.output


def test_a_broker_that_is_down_is_one_line_and_a_non_zero_exit(tmp_path: Path):
    gateway_toml = tmp_path / "gateway.toml"
    # Port 9 (discard) on loopback: nothing listens, so every connection is refused at once.
    gateway_toml.write_text('[kafka]\nbootstrap_servers = "127.0.0.1:9"\nconnect_timeout_s = 1\n')
    board = tmp_path / "d.toml"
    hashed = PasswordHasher().hash("long enough pw")
    board.write_text(f'connectors = ["de-csv"]\n[users.ana]\nrole = "viewer"\npassword_hash = "{hashed}"\n')
    result = CliRunner().invoke(
        main, ["dashboard", "--config", str(gateway_toml), "--dashboard-config", str(board), "--port", "1"]
    )
    assert result.exit_code == 69, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1
    assert "127.0.0.1:9 unreachable" in errors[0]
    assert "dashboard on http" not in result.output  # nothing was served
