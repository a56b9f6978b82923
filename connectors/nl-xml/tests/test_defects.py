"""Every defect kind, on every event type, makes the record fail in parse or map; none changes the events."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest
from gw_connector_nl_xml import NlXmlConnector
from gw_connector_nl_xml.defects import DEFECT_KINDS

from gateway.connectors.base import RawRecord, SampleRecord
from gateway.errors import MappingError, ParseError, RecordError, XsdValidationError
from gateway.testing.conformance import identity_context

EXPECTED_STAGE: dict[str, set[type[RecordError]]] = {
    "malformed_xml": {ParseError},
    "xsd_violation": {XsdValidationError},
    "unknown_code": {MappingError},
    "bad_date": {XsdValidationError, MappingError},
    "bad_amount": {XsdValidationError},
    "oversized_field": {XsdValidationError},
    "bad_encoding": {ParseError},
}


def test_at_least_five_kinds_with_descriptions(connector: NlXmlConnector) -> None:
    assert set(connector.defect_kinds) == set(EXPECTED_STAGE)
    assert len(DEFECT_KINDS) >= 5
    assert all(DEFECT_KINDS.values())


@pytest.mark.parametrize("kind", sorted(DEFECT_KINDS))
def test_every_kind_fails_every_event_type(
    connector: NlXmlConnector, by_type: dict[str, SampleRecord], kind: str
) -> None:
    ctx = identity_context(connector)
    for name, sample in by_type.items():
        for seed in range(6):
            damaged = connector.corrupt(sample, kind, random.Random(seed))
            assert damaged != sample.data
            record = RawRecord(data=damaged, source="t", position=f"{name}/{seed}")
            with pytest.raises(RecordError) as info:
                connector.translate(record, ctx)
            assert type(info.value) in EXPECTED_STAGE[kind], f"{kind} on {name}: {info.value}"
            assert str(info.value)


def test_damage_keeps_the_record_frame_so_neighbours_survive(
    connector: NlXmlConnector,
    samples: list[SampleRecord],
    read: Callable[[bytes], list[RawRecord]],
    export: Callable[[list[bytes]], bytes],
) -> None:
    rng = random.Random(1)
    kinds = sorted(DEFECT_KINDS)
    data = [connector.corrupt(s, kinds[i % len(kinds)], rng) if i % 2 else s.data for i, s in enumerate(samples)]
    records = read(export(data))
    assert [r.data for r in records] == data
    ctx = identity_context(connector)
    for i, (record, sample) in enumerate(zip(records, samples, strict=True)):
        if i % 2:
            with pytest.raises(RecordError):
                connector.translate(record, ctx)
        else:
            assert len(connector.translate(record, ctx)) == 1 == len(sample.facts)


def test_kinds_that_need_a_missing_field_use_a_stand_in(
    connector: NlXmlConnector, by_type: dict[str, SampleRecord]
) -> None:
    entry = by_type["EntryRecorded"]  # no amount, no code
    for kind in ("bad_amount", "unknown_code"):
        damaged = connector.corrupt(entry, kind, random.Random(0))
        assert b"<OndersteuningAanvraag>" in damaged
        assert entry.data[: entry.data.index(b"<Inreis>")] in damaged  # same case, person and moment


def test_unknown_kind_and_defective_input(connector: NlXmlConnector, by_type: dict[str, SampleRecord]) -> None:
    sample = by_type["EntryRecorded"]
    with pytest.raises(ValueError, match="unknown defect kind"):
        connector.corrupt(sample, "gremlins", random.Random(0))
    with pytest.raises(ValueError, match="only a valid record"):
        connector.corrupt(SampleRecord(sample.data, ()), "bad_date", random.Random(0))
