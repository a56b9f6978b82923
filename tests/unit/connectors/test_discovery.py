from __future__ import annotations

import sys
from importlib.metadata import EntryPoint, distribution

import pytest

from gateway.connectors import discovery
from gateway.errors import ConfigError


class _Dist:
    name = "broken-connector"
    version = "9.9.9"


def _ep(name: str, value: str, dist=None) -> EntryPoint:
    ep = EntryPoint(name, value, discovery.GROUP)
    if dist is not None:
        ep._for(dist)  # what importlib.metadata does for installed entry points
    return ep


@pytest.fixture
def plugins(monkeypatch):
    eps = [
        _ep("toy", "tests.unit.pipeline.toy:ToyConnector", distribution("returns-gateway")),
        _ep("broken", "no_such_module_xyz:Connector", _Dist()),
        _ep("not-a-connector", "json:JSONDecoder", _Dist()),
    ]
    monkeypatch.setattr(discovery, "entry_points", lambda group: eps if group == discovery.GROUP else [])
    return eps


def test_a_broken_plugin_is_reported_with_its_distribution_and_does_not_stop_the_others(plugins):
    infos = {i.name: i for i in discovery.describe()}
    assert infos["toy"].error is None
    assert infos["broken"].error is not None
    assert "ModuleNotFoundError" in infos["broken"].error
    assert (infos["broken"].distribution, infos["broken"].version) == ("broken-connector", "9.9.9")
    assert "not a gateway Connector" in infos["not-a-connector"].error


def test_load_names_the_failing_distribution(plugins):
    with pytest.raises(ConfigError, match=r"broken-connector 9\.9\.9 failed to import: ModuleNotFoundError"):
        discovery.load("broken")
    with pytest.raises(ConfigError, match="not a gateway Connector"):
        discovery.load("not-a-connector")
    with pytest.raises(ConfigError, match="no connector named 'nope'"):
        discovery.load("nope")


def test_loading_is_lazy_and_filtered(plugins):
    sys.modules.pop("tests.unit.pipeline.toy", None)
    names = discovery.installed(deny=frozenset({"broken"}))
    assert sorted(names) == ["not-a-connector", "toy"]
    assert "tests.unit.pipeline.toy" not in sys.modules  # listing imports nothing
    assert discovery.load("toy").name == "toy"
    assert sorted(discovery.installed(allow=frozenset({"toy"}))) == ["toy"]


def test_the_reference_connectors_are_registered_through_entry_points():
    names = set(discovery.installed())
    assert {"de-csv", "fr-jsonl", "nl-xml"} <= names
    for name in ("de-csv", "fr-jsonl", "nl-xml"):
        cls = discovery.load(name)
        assert cls.name == name
