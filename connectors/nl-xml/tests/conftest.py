"""Fixtures shared by the connector's tests.

Helpers are fixtures because the repository runs pytest with ``--import-mode=importlib``, under which test
modules cannot import this file.
"""

from __future__ import annotations

import contextlib
import io
import random
from collections.abc import Callable

import pytest
from gw_connector_nl_xml import NlXmlConfig, NlXmlConnector

from gateway.connectors.base import RawRecord, SampleRecord
from gateway.samples.stories import CaseStory, story


def _make(**config: object) -> NlXmlConnector:
    return NlXmlConnector(NlXmlConfig.model_validate({"member_state": "NL", **config}))


@pytest.fixture(scope="session")
def make() -> Callable[..., NlXmlConnector]:
    """Connector factory taking configuration overrides."""
    return _make


@pytest.fixture(scope="session")
def connector() -> NlXmlConnector:
    return _make()


@pytest.fixture(scope="session")
def read(connector: NlXmlConnector) -> Callable[[bytes], list[RawRecord]]:
    """Read every raw record of export bytes."""
    return lambda data: list(connector.read(io.BytesIO(data), "<test>"))


@pytest.fixture(scope="session")
def export(connector: NlXmlConnector) -> Callable[[list[bytes]], bytes]:
    """Export bytes holding the given records."""

    def write(records: list[bytes]) -> bytes:
        out = io.BytesIO()
        connector.write_export(out, records)
        return out.getvalue()

    return write


@pytest.fixture(scope="session")
def samples(connector: NlXmlConnector) -> list[SampleRecord]:
    """Valid rendered records of 40 stories: every event type, several of each."""
    rng = random.Random(5)
    return [r for case in _stories(40, seed=3) for r in connector.render(case, rng)]


def _stories(count: int, seed: int) -> list[CaseStory]:
    # gateway.samples.stories raises for a passport issued on 29 February (issue + 10 years); skip those stories.
    out: list[CaseStory] = []
    index = 0
    while len(out) < count:
        with contextlib.suppress(ValueError):
            out.append(story(index, seed))
        index += 1
    return out


@pytest.fixture(scope="session")
def by_type(samples: list[SampleRecord]) -> dict[str, SampleRecord]:
    """One sample record per payload type name."""
    out: dict[str, SampleRecord] = {}
    for s in samples:
        out.setdefault(type(s.facts[0].payload).__name__, s)
    assert len(out) == 13
    return out
