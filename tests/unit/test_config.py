"""Configuration precedence (arguments > environment > TOML file > defaults), secret provenance, placeholders."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from gateway.config import DEV_SECRET, GatewaySettings
from gateway.errors import ConfigError

REAL = "real-secret-from-the-vault"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No GATEWAY_* variable of the developer's shell, and no stray .env, leaks into a test."""
    import os

    for name in list(os.environ):
        if name.startswith("GATEWAY_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "gateway.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_environment_beats_the_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = write(tmp_path, 'subject_key_secret = "from-the-file"\n')
    monkeypatch.setenv("GATEWAY_SUBJECT_KEY_SECRET", REAL)
    assert GatewaySettings.load(path).subject_key_secret.get_secret_value() == REAL


def test_nested_values_merge_key_by_key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = write(tmp_path, 'batch_size = 10\n[kafka]\nbootstrap_servers = "file:9092"\nclient_id = "from-file"\n')
    monkeypatch.setenv("GATEWAY_KAFKA__BOOTSTRAP_SERVERS", "env:9092")
    settings = GatewaySettings.load(path)
    assert (settings.kafka.bootstrap_servers, settings.kafka.client_id, settings.batch_size) == (
        "env:9092",
        "from-file",
        10,
    )


def test_arguments_beat_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = write(tmp_path, "batch_size = 10\n")
    monkeypatch.setenv("GATEWAY_BATCH_SIZE", "20")
    monkeypatch.setenv("GATEWAY_KAFKA__BOOTSTRAP_SERVERS", "env:9092")
    settings = GatewaySettings.load(path, batch_size=30, kafka={"bootstrap_servers": "option:9092"})
    assert (settings.batch_size, settings.kafka.bootstrap_servers) == (30, "option:9092")
    assert GatewaySettings.load(path).batch_size == 20


def test_the_log_names_where_each_secret_came_from_never_its_value(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = write(tmp_path, '[kafka]\nsecurity_protocol = "SASL_SSL"\nsasl_mechanism = "PLAIN"\nsasl_username = "u"\n')
    monkeypatch.setenv("GATEWAY_SUBJECT_KEY_SECRET", REAL)
    monkeypatch.setenv("GATEWAY_KAFKA__SASL_PASSWORD", "kafka-pw-from-env")
    with caplog.at_level(logging.INFO, logger="gateway.config"):
        GatewaySettings.load(path)
    assert "subject_key_secret=env, kafka.sasl_password=env, kafka.ssl_key_password=default" in caplog.text
    assert REAL not in caplog.text
    assert "kafka-pw-from-env" not in caplog.text

    caplog.clear()
    monkeypatch.delenv("GATEWAY_SUBJECT_KEY_SECRET")
    monkeypatch.delenv("GATEWAY_KAFKA__SASL_PASSWORD")
    write(tmp_path, 'subject_key_secret = "file-secret"\n')
    with caplog.at_level(logging.INFO, logger="gateway.config"):
        GatewaySettings.load(path)
    assert "subject_key_secret=file" in caplog.text
    assert "file-secret" not in caplog.text


@pytest.mark.parametrize("placeholder", ["change me", "change-me", DEV_SECRET])
def test_a_placeholder_secret_from_the_file_is_refused_naming_the_setting(tmp_path: Path, placeholder: str) -> None:
    path = write(tmp_path, f'subject_key_secret = "{placeholder}"\n')
    with pytest.raises(ConfigError, match="subject_key_secret from the configuration file is a placeholder") as err:
        GatewaySettings.load(path)
    assert placeholder not in str(err.value)


def test_a_placeholder_secret_from_the_environment_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEWAY_SUBJECT_KEY_SECRET", "change-me")
    with pytest.raises(ConfigError, match="subject_key_secret from GATEWAY_SUBJECT_KEY_SECRET is a placeholder"):
        GatewaySettings.load()


def test_the_demo_may_use_a_placeholder_and_the_unset_default_still_loads(tmp_path: Path) -> None:
    path = write(tmp_path, 'subject_key_secret = "change me"\nallow_placeholder_secret = true\n')
    assert GatewaySettings.load(path).subject_key_secret.get_secret_value() == "change me"
    settings = GatewaySettings.load()
    assert settings.uses_dev_secret  # unset: the development default, with the ingest commands' warning


def test_a_missing_or_broken_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        GatewaySettings.load(tmp_path / "missing.toml")
    with pytest.raises(ConfigError, match="cannot read configuration"):
        GatewaySettings.load(write(tmp_path, "batch_size = \n"))
    with pytest.raises(ConfigError, match="invalid configuration"):
        GatewaySettings.load(write(tmp_path, "no_such_setting = 1\n"))
