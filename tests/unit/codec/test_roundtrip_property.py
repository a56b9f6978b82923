"""Property tests of the codec: any valid event survives encode and decode, also through an evolved reader."""

from __future__ import annotations

import json
import shutil
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.codec.avro_dict import from_avro
from gateway.codec.codec import EventCodec
from gateway.codec.schemas import NAMESPACE, SCHEMA_DIR, canonical_schema, load_root
from gateway.codec.single_object import SchemaStore
from gateway.events import models as m
from gateway.testing.strategies import case_events

# the codec is stateless after construction; a fixture per example would only slow hypothesis down
PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CODEC = EventCodec()


@PROPERTY
@given(case_events())
def test_encode_then_decode_is_identity(event: m.CaseEvent) -> None:
    assert CODEC.decode(CODEC.encode(event)) == event


@pytest.mark.parametrize("event_type", [t for t in m.EventType if str(t) in m.PAYLOAD_OF_EVENT_TYPE])
@settings(max_examples=10, deadline=None)
@given(data=st.data())
def test_every_event_type_round_trips(event_type: m.EventType, data: st.DataObject) -> None:
    # the main property draws event types at random; this makes sure each one is exercised
    event = data.draw(case_events(event_type))

    assert event.event_type == event_type
    assert CODEC.decode(CODEC.encode(event)) == event


# --- an evolved reader ---------------------------------------------------------------------------------------------

ADDED_TO_ENVELOPE = {"name": "trace_id", "type": ["null", "string"], "default": None, "doc": "Added in the test."}
ADDED_TO_IDENTITY = {"name": "alias_note", "type": ["null", "string"], "default": None, "doc": "Added in the test."}


@pytest.fixture(scope="module")
def evolved_codec(tmp_path_factory: pytest.TempPathFactory) -> EventCodec:
    """A codec whose current schema has two optional fields more, and which knows today's schema as a writer."""
    schema_dir = tmp_path_factory.mktemp("evolved") / "avro"
    shutil.copytree(SCHEMA_DIR, schema_dir)
    for name, added in (("CaseEvent", ADDED_TO_ENVELOPE), ("Identity", ADDED_TO_IDENTITY)):
        path = schema_dir / f"{NAMESPACE}.{name}.avsc"
        schema = json.loads(path.read_text(encoding="utf-8"))
        schema["fields"].append(added)
        path.write_text(json.dumps(schema), encoding="utf-8")
    store = SchemaStore(load_root(schema_dir))
    store.add(canonical_schema())
    return EventCodec(store=store)


def strip_added(record: dict[str, Any]) -> dict[str, Any]:
    """Drop the evolved reader's new fields (checking they read as their default) to compare with today's model."""
    assert record.pop(ADDED_TO_ENVELOPE["name"]) is None
    _, payload = record["payload"]
    identity = payload.get("identity")
    if identity is not None:
        assert identity.pop(ADDED_TO_IDENTITY["name"]) is None
    return record


@PROPERTY
@given(case_events())
def test_an_evolved_reader_reads_what_the_current_schema_wrote(evolved_codec: EventCodec, event: m.CaseEvent) -> None:
    written = CODEC.encode(event)

    record = evolved_codec.decode_record(written)

    assert from_avro(strip_added(record)) == event
