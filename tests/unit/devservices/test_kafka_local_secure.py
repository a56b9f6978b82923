"""``kafka-local start --secure``'s material: the password made once and kept private, the client files (no broker)."""

from __future__ import annotations

from pathlib import Path

from gateway.devservices.kafka_security import (
    client_environment,
    local_security,
    stored_security,
    write_client_files,
)


def test_the_password_is_made_once_and_only_in_private_files(tmp_path: Path) -> None:
    folder = tmp_path / "secure"
    assert stored_security(folder) is None
    first = local_security(folder, new_password=lambda: "first-password")
    again = local_security(folder, new_password=lambda: "another-password")  # a restart keeps the user's password
    assert again.admin.password.get_secret_value() == "first-password"
    assert first.ca_file == again.ca_file

    files = write_client_files(again, "127.0.0.1:19092", folder)

    assert files.password_file.stat().st_mode & 0o777 == 0o600
    assert files.env_file.stat().st_mode & 0o777 == 0o600
    assert folder.stat().st_mode & 0o777 == 0o700
    assert "first-password" not in files.toml_file.read_text()
    assert "GATEWAY_KAFKA__SASL_PASSWORD='first-password'" in files.env_file.read_text()
    stored = stored_security(folder)
    assert stored is not None
    assert stored.admin.password.get_secret_value() == "first-password"


def test_the_client_environment_is_what_a_gateway_command_reads(tmp_path: Path) -> None:
    security = local_security(tmp_path, new_password=lambda: "pw")
    env = client_environment(security, "127.0.0.1:1")
    assert env["GATEWAY_KAFKA__SECURITY_PROTOCOL"] == "SASL_SSL"
    assert env["GATEWAY_KAFKA__SASL_MECHANISM"] == "SCRAM-SHA-512"
    assert env["GATEWAY_KAFKA__SSL_CA_LOCATION"] == str(security.ca_file)
    assert env["GATEWAY_KAFKA__SASL_USERNAME"] == "admin"
