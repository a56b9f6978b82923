"""Fixtures of the French connector's tests: a connector, its code lists, one valid record per event type."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any, cast

import pytest
from gw_connector_fr_jsonl import FrJsonlConfig, FrJsonlConnector
from gw_connector_fr_jsonl.codelists import Codes
from gw_connector_fr_jsonl.renderer import PARIS, render_object

from gateway.connectors.base import Fact, RawRecord
from gateway.events import models as m
from gateway.testing import examples

# Office hours, far from midnight, so that local and UTC dates agree unless a test says otherwise.
OCCURRED = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)


@pytest.fixture(scope="session")
def connector() -> FrJsonlConnector:
    return FrJsonlConnector(FrJsonlConfig(member_state="FR"))


@pytest.fixture(scope="session")
def codes() -> Codes:
    return Codes.load()


@pytest.fixture(scope="session")
def example_facts() -> dict[m.EventType, Fact]:
    """One fact per event type, from the gateway's example payloads (every optional field filled somewhere)."""
    payloads = examples.payloads()
    return {t: Fact("FR-2026-0000123", "7512345678", OCCURRED, cast(m.Payload, p)) for t, p in payloads.items()}


@pytest.fixture
def example_objects(example_facts: dict[m.EventType, Fact], codes: Codes) -> dict[m.EventType, dict[str, Any]]:
    """The French record of each example fact as a ``dict`` (a fresh copy per test: tests may change them)."""
    return {t: render_object(f, codes, PARIS) for t, f in example_facts.items()}


@pytest.fixture(scope="session")
def translate(connector: FrJsonlConnector) -> Callable[[bytes | dict[str, Any]], list[Fact]]:
    """Parse and map one record given as bytes or as a ``dict`` (dumped compactly)."""

    def run(record: bytes | dict[str, Any]) -> list[Fact]:
        data = record if isinstance(record, bytes) else dumps(record)
        return connector.map(connector.parse(RawRecord(data, "test", "line 1")))

    return run


def dumps(obj: Any, **options: Any) -> bytes:
    options.setdefault("ensure_ascii", False)
    options.setdefault("separators", (",", ":"))
    return json.dumps(obj, **options).encode("utf-8")
