from __future__ import annotations

from pathlib import Path

import pytest

from gateway.dashboard.auth import hash_password
from gateway.dashboard.settings import Role, load_dashboard_settings
from gateway.errors import ConfigError


def test_defaults_trust_no_proxy_and_secure_cookies(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("GATEWAY_DASHBOARD_SESSION_SECRET", raising=False)
    s = load_dashboard_settings(None)
    assert not s.proxy.trusted
    assert s.cookie_secure
    assert s.session_secret is None
    assert s.users == {}


def test_file_and_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    path = tmp_path / "dashboard.toml"
    path.write_text(
        f'connectors = ["de-csv"]\nrecent_limit = 50\n'
        f'[users.ana]\nrole = "operator"\npassword_hash = "{hash_password("x" * 12)}"\n'
        '[proxy]\ntrusted = true\ntrusted_peers = ["10.0.0.5"]\n'
    )
    monkeypatch.setenv("GATEWAY_DASHBOARD_SESSION_SECRET", "from-env")
    monkeypatch.setenv("GATEWAY_DASHBOARD_RECENT_LIMIT", "70")
    s = load_dashboard_settings(path)
    assert s.connectors == ("de-csv",)
    assert s.users["ana"].role is Role.OPERATOR
    assert s.proxy.trusted
    assert s.proxy.trusted_peers == ("10.0.0.5",)
    assert s.session_secret is not None
    assert s.session_secret.get_secret_value() == "from-env"
    assert s.recent_limit == 70  # the environment wins over the file
    assert "from-env" not in repr(s)
    assert "argon2" not in repr(s)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ('[users.ana]\nrole = "operator"\npassword_hash = "plain"\n', "users.ana.password_hash"),
        ('[users.ana]\nrole = "admin"\npassword_hash = "$argon2id$x"\n', "users.ana.role"),
        ("colour = 1\n", "colour"),
        ("recent_limit = [", "cannot read"),
    ],
)
def test_bad_files_are_config_errors_naming_the_setting(tmp_path: Path, text: str, match: str):
    path = tmp_path / "d.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=match):
        load_dashboard_settings(path)


def test_missing_file(tmp_path: Path):
    with pytest.raises(ConfigError, match="no such file"):
        load_dashboard_settings(tmp_path / "nope.toml")


def test_sign_in_limit_from_the_file_and_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    path = tmp_path / "d.toml"
    path.write_text("[sign_in]\nmax_failures = 7\nlockout_s = 12\n")
    monkeypatch.setenv("GATEWAY_DASHBOARD_SIGN_IN__LOCKOUT_S", "45")
    limit = load_dashboard_settings(path).sign_in
    assert (limit.max_failures, limit.lockout_s, limit.window_s, limit.max_lockout_s) == (7, 45, 900, 3600)
    path.write_text("[sign_in]\nmax_failures = 0\n")
    with pytest.raises(ConfigError, match=r"sign_in\.max_failures"):
        load_dashboard_settings(path)
