"""Service mode's transaction size: the settings' ``batch_size`` unless the service's options name one."""

from __future__ import annotations

import gc

import pytest

from gateway.config import GatewaySettings
from gateway.pipeline.service import ServiceOptions, batch_limits, young_collections


def test_service_mode_takes_the_settings_batch_size_by_default() -> None:
    assert ServiceOptions().batch_records is None
    assert batch_limits(ServiceOptions(), GatewaySettings()).max_records == GatewaySettings().batch_size == 2000
    assert batch_limits(ServiceOptions(), GatewaySettings(batch_size=750)).max_records == 750


def test_the_environment_sets_service_mode_s_batch_size(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEWAY_BATCH_SIZE", "321")
    assert batch_limits(ServiceOptions(), GatewaySettings()).max_records == 321


def test_options_name_a_batch_size_of_their_own() -> None:
    assert batch_limits(ServiceOptions(batch_records=40), GatewaySettings(batch_size=750)).max_records == 40


def test_the_service_collects_young_objects_less_often_and_restores_the_interpreter_s_setting() -> None:
    before = gc.get_threshold()
    assert ServiceOptions().gc_threshold == 20_000
    with young_collections(20_000):
        assert gc.get_threshold() == (20_000, *before[1:])
    assert gc.get_threshold() == before
    with pytest.raises(RuntimeError), young_collections(5_000):
        raise RuntimeError("a failed run")
    assert gc.get_threshold() == before
    with young_collections(None):
        assert gc.get_threshold() == before
