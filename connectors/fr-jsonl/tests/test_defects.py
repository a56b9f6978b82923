"""Sample damage: every kind, on every event type, is rejected and stays on its line."""

from __future__ import annotations

import random

import pytest
from gw_connector_fr_jsonl import FrJsonlConnector
from gw_connector_fr_jsonl.codelists import Codes
from gw_connector_fr_jsonl.renderer import PARIS, render_fact

from gateway.connectors.base import Fact, RawRecord, SampleRecord
from gateway.errors import MappingError, RecordError
from gateway.events import models as m


@pytest.mark.parametrize("kind", sorted(FrJsonlConnector.defect_kinds))
def test_every_kind_on_every_event_type(
    kind: str, connector: FrJsonlConnector, example_facts: dict[m.EventType, Fact], codes: Codes
) -> None:
    for seed in range(5):
        rng = random.Random(seed)
        for fact in example_facts.values():
            sample = SampleRecord(render_fact(fact, codes, PARIS), (fact,))
            damaged = connector.corrupt(sample, kind, rng)
            assert damaged != sample.data
            assert b"\n" not in damaged
            with pytest.raises(RecordError) as caught:
                connector.map(connector.parse(RawRecord(damaged, "t", "line 1")))
            assert (kind == "unknown_code") or not isinstance(caught.value, MappingError)


def test_unknown_kind_and_invalid_record(connector: FrJsonlConnector, example_facts: dict[m.EventType, Fact]) -> None:
    fact = next(iter(example_facts.values()))
    with pytest.raises(ValueError, match="unknown defect kind"):
        connector.corrupt(SampleRecord(b"{}", (fact,)), "no_such_kind", random.Random(0))
    with pytest.raises(ValueError, match="only a valid record"):
        connector.corrupt(SampleRecord(b"{}", ()), "invalid_json", random.Random(0))
