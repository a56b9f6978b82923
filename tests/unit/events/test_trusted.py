"""``trusted`` builds the same objects as ``model_construct``, and the envelope names every field."""

from __future__ import annotations

import datetime as dt

import pytest

from gateway.connectors.base import Fact, MappingContext, envelope
from gateway.events import models as m
from gateway.events.trusted import trusted
from gateway.testing import examples


@pytest.mark.parametrize("event_type", list(examples.payloads()))
def test_same_object_as_model_construct(event_type: m.EventType) -> None:
    event = examples.event(event_type)
    values = {name: getattr(event, name) for name in m.CaseEvent.model_fields}
    built, reference = trusted(m.CaseEvent, dict(values)), m.CaseEvent.model_construct(**values)

    assert built == reference == event
    assert built.model_fields_set == reference.model_fields_set
    assert built.model_dump() == reference.model_dump()
    assert hash(built.source) == hash(reference.source)  # frozen models stay hashable
    with pytest.raises(Exception, match="frozen"):
        built.case_reference = "x"  # type: ignore[misc]


def test_envelope_sets_every_field_and_validates() -> None:
    example = examples.event(m.EventType.DEPARTURE_CONFIRMED)
    recorded = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    ctx = MappingContext("nl-xml", "1.0.0", m.MemberState.NL, "run-1", recorded, str.upper)
    fact = Fact(example.case_reference, "person-1", example.occurred_at, example.payload)

    event = envelope(fact, ctx, event_id_seed="seed")

    assert event.model_fields_set == set(m.CaseEvent.model_fields)
    assert event.subject_key == "PERSON-1"
    assert event.source == m.Source(connector="nl-xml", version="1.0.0")
    # The trusted envelope is a valid event: pydantic accepts the same values.
    assert m.CaseEvent.model_validate(event.model_dump()) == event
