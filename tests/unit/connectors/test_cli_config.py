"""The CLI configures a connector with its own model: no hidden defaults, a clear error naming the setting."""

from __future__ import annotations

from typing import Any

import click
import pytest

from gateway.cli import common
from gateway.config import GatewaySettings
from gateway.connectors import ConnectorConfig, discovery
from gateway.events.models import MemberState
from tests.unit.pipeline.toy import ToyConnector


class _BelgianConfig(ConnectorConfig):
    member_state: MemberState = MemberState.BE


class _BelgianToy(ToyConnector):
    config_model = _BelgianConfig


def _settings(**connectors: dict[str, Any]) -> GatewaySettings:
    return GatewaySettings.load(None, connectors=connectors)


@pytest.fixture
def load(monkeypatch: pytest.MonkeyPatch) -> None:
    classes = {"toy": ToyConnector, "be-toy": _BelgianToy}
    monkeypatch.setattr(discovery, "load", lambda name: classes[name])


@pytest.mark.usefixtures("load")
def test_the_connectors_own_default_member_state_is_used() -> None:
    assert common.make_connector("be-toy", settings=_settings()).config.member_state is MemberState.BE


@pytest.mark.usefixtures("load")
def test_the_configuration_overrides_the_connectors_default() -> None:
    settings = _settings(**{"be-toy": {"member_state": "LU"}})
    assert common.make_connector("be-toy", settings=settings).config.member_state is MemberState.LU


@pytest.mark.usefixtures("load")
def test_a_missing_member_state_is_a_clear_error_naming_the_setting_not_a_silent_nl() -> None:
    with pytest.raises(click.ClickException) as caught:
        common.make_connector("toy", settings=_settings())
    message = caught.value.message
    assert "connector 'toy'" in message
    assert "member_state: Field required (set member_state in [connectors.toy] of the configuration)" in message


@pytest.mark.usefixtures("load")
def test_an_invalid_setting_names_the_setting() -> None:
    with pytest.raises(click.ClickException, match="max_record_bytes"):
        common.make_connector("be-toy", settings=_settings(**{"be-toy": {"max_record_bytes": 0}}))
