"""Transport discovery through entry points, and the typed delivery settings."""

from __future__ import annotations

import pytest

from gateway.delivery import plugins
from gateway.delivery.filedrop import FileDropTransport
from gateway.delivery.http import HttpTransport
from gateway.delivery.settings import load_delivery_settings
from gateway.delivery.transport import Transport
from gateway.errors import ConfigError


def test_builtins_are_registered_entry_points():
    described = {info.name: info for info in plugins.describe()}

    assert {"http", "filedrop"} <= set(described)
    assert described["http"].target == "gateway.delivery.http:HttpTransport"
    assert described["http"].error is None


def test_build_validates_options_and_returns_a_transport(tmp_path):
    http = plugins.build("http", {"url": "http://127.0.0.1:9/in", "read_timeout_s": 2})
    drop = plugins.build("filedrop", {"directory": str(tmp_path / "d")})

    assert isinstance(http, HttpTransport)
    assert isinstance(drop, FileDropTransport)
    assert isinstance(http, Transport)
    http.close()


def test_unknown_transport_and_bad_options_are_config_errors():
    with pytest.raises(ConfigError, match="no transport named 'smtp'"):
        plugins.build("smtp", {})
    with pytest.raises(ConfigError, match="invalid options of transport 'http'"):
        plugins.build("http", {"url": "ftp://x"})
    with pytest.raises(ConfigError, match="invalid options"):
        plugins.build("http", {"url": "http://x", "unknown": 1})


def test_delivery_settings_from_toml_with_overrides(tmp_path):
    path = tmp_path / "delivery.toml"
    path.write_text(
        """
[sis]
transport = "http"
max_in_flight = 3
[sis.transport_options]
url = "https://sis.example/in"
read_timeout_s = 5
[sis.retry]
deadline_s = 30
[eurodac]
transport = "filedrop"
"""
    )

    sis = load_delivery_settings(path, "sis", batch_size=50, transport_options={"read_timeout_s": 9, "url": None})

    assert (sis.transport, sis.max_in_flight, sis.batch_size, sis.retry.deadline_s) == ("http", 3, 50, 30)
    assert sis.transport_options == {"url": "https://sis.example/in", "read_timeout_s": 9}
    assert load_delivery_settings(path, "eurodac").transport == "filedrop"
    assert load_delivery_settings(None, "other").transport == "http"
    with pytest.raises(ConfigError, match="invalid delivery configuration"):
        load_delivery_settings(path, "sis", max_in_flight=0)
