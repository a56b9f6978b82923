"""Every event type: model -> Avro (single-object, then Confluent framing) -> a real broker -> decode -> equal."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import closing

import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition

from gateway.codec.codec import EventCodec
from gateway.codec.registry import (
    ConfluentFraming,
    RegistrySettings,
    canonical_schema_str,
    register_schema,
    set_compatibility,
    subject_name,
)
from gateway.events.models import CaseEvent
from gateway.testing.examples import all_events

pytestmark = [
    pytest.mark.integration,
]

EVENTS = all_events()


def _produce_all(bootstrap: str, topic: str, events: list[CaseEvent], values: list[bytes]) -> None:
    errors: list[object] = []
    producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True})
    for ev, value in zip(events, values, strict=True):
        producer.produce(
            topic,
            key=ev.subject_key.encode(),
            value=value,
            on_delivery=lambda err, _msg: errors.append(err) if err else None,
        )
    assert producer.flush(30) == 0
    assert errors == []


def _consume(bootstrap: str, topic: str, group: str, count: int) -> list[bytes]:
    # assign() instead of subscribe(): no group rebalance to wait for; one partition keeps the order.
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False})
    consumer.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
    got: list[bytes] = []
    deadline = time.monotonic() + 30
    try:
        while len(got) < count and time.monotonic() < deadline:
            msg = consumer.poll(0.5)
            if msg is not None:
                assert msg.error() is None, msg.error()
                got.append(msg.value())
    finally:
        consumer.close()
    return got


def test_every_event_type_roundtrips_single_object(
    kafka_bootstrap: str, new_topic: Callable[..., str], group_id: str
) -> None:
    topic = new_topic("roundtrip-soe")
    codec = EventCodec()
    values = [codec.encode(ev, topic) for ev in EVENTS]
    assert all(v[:2] == b"\xc3\x01" for v in values)
    _produce_all(kafka_bootstrap, topic, EVENTS, values)
    got = _consume(kafka_bootstrap, topic, group_id, len(EVENTS))
    assert got == values
    assert [codec.decode(v, topic) for v in got] == EVENTS


@pytest.mark.registry
def test_every_event_type_roundtrips_confluent_framing(
    registry_url: str, kafka_bootstrap: str, new_topic: Callable[..., str], group_id: str
) -> None:
    topic = new_topic("roundtrip-confluent")
    settings = RegistrySettings(url=registry_url)
    # As CI would: set the level, register the schema; producers only look the id up (auto_register is off).
    set_compatibility(settings, subject_name(topic), settings.compatibility)
    schema_id = register_schema(settings, subject_name(topic), canonical_schema_str())
    with closing(ConfluentFraming.from_settings(settings)) as framing:
        values = [EventCodec(registry=framing).encode(ev, topic) for ev in EVENTS]
    assert all(v[:5] == b"\x00" + schema_id.to_bytes(4, "big") for v in values)
    _produce_all(kafka_bootstrap, topic, EVENTS, values)
    got = _consume(kafka_bootstrap, topic, group_id, len(EVENTS))
    with closing(ConfluentFraming.from_settings(settings)) as fresh:  # fresh client: no cached schema
        assert [EventCodec(registry=fresh).decode(v, topic) for v in got] == EVENTS
