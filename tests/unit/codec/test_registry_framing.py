"""Confluent framing on confluent's in-process mock registry (``mock://``): no broker, no registry process."""

from __future__ import annotations

import io
import json
import socket
import struct
from collections.abc import Iterator
from contextlib import closing

import pytest
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.schema_registry.error import SchemaRegistryError
from confluent_kafka.schema_registry.rule_registry import RuleRegistry
from confluent_kafka.serialization import MessageField, SerializationContext
from fastavro import schemaless_writer
from fastavro.schema import parse_schema
from pydantic import ValidationError

from gateway.codec.avro_dict import to_avro
from gateway.codec.codec import EventCodec
from gateway.codec.registry import (
    ConfluentFraming,
    RegistrySettings,
    _registry_error,
    canonical_schema_str,
    check_compatibility,
    make_client,
    register_schema,
    set_compatibility,
    split_frame,
    subject_name,
)
from gateway.codec.schemas import canonical_schema
from gateway.codec.single_object import schema_fingerprint
from gateway.errors import ConfigError, DecodeError, TransientError
from gateway.events.models import EventType
from gateway.testing.examples import all_events, event

TOPIC = "returns.case-events"
EVENTS = all_events()


@pytest.fixture(scope="module")
def client() -> Iterator[SchemaRegistryClient]:
    # SchemaRegistryClient({"url": "mock://..."}) is a real HTTP client in 2.16.1; new_client gives the mock.
    # One per module (building a client loads the CA bundle); tests that register use their own topics.
    with make_client(RegistrySettings(url="mock://unit")) as client:
        yield client


@pytest.fixture(scope="module")
def schema_id(client: SchemaRegistryClient) -> int:
    """The canonical schema registered under the topic's subject, as CI does."""
    return client.register_schema(subject_name(TOPIC), Schema(canonical_schema_str(), "AVRO"))


@pytest.fixture(scope="module")
def framing(client: SchemaRegistryClient, schema_id: int) -> ConfluentFraming:
    return ConfluentFraming(client)


@pytest.fixture(scope="module")
def codec(framing: ConfluentFraming) -> EventCodec:
    return EventCodec(registry=framing)


def test_new_client_gives_the_mock_for_mock_urls(client: SchemaRegistryClient) -> None:
    assert type(client).__name__ == "MockSchemaRegistryClient"


def test_canonical_schema_str_is_the_canonical_schema() -> None:
    text = canonical_schema_str()
    assert "__fastavro" not in text
    assert schema_fingerprint(parse_schema(json.loads(text))) == schema_fingerprint(canonical_schema())


@pytest.mark.parametrize("ev", EVENTS, ids=[e.event_type.value for e in EVENTS])
def test_every_event_roundtrips_through_confluent_framing(codec: EventCodec, schema_id: int, ev) -> None:
    data = codec.encode(ev, TOPIC)
    assert data[0] == 0
    assert struct.unpack(">I", data[1:5])[0] == schema_id
    assert codec.decode(data, TOPIC) == ev


def test_codec_reads_both_framings(codec: EventCodec) -> None:
    ev = event(EventType.REINTEGRATION_REFERRAL, index=1)
    single_object = EventCodec().encode(ev)
    confluent = codec.encode(ev, TOPIC)
    assert single_object[:2] == b"\xc3\x01"
    assert confluent[0] == 0
    assert codec.decode(single_object, TOPIC) == ev
    assert codec.decode(confluent, TOPIC) == ev


def test_only_the_payload_union_is_named(codec: EventCodec) -> None:
    record = codec.decode_record(codec.encode(event(EventType.REINTEGRATION_REFERRAL), TOPIC), TOPIC)
    name, payload = record["payload"]
    assert name == "eu.returns.gateway.v1.ReintegrationReferral"
    assert isinstance(payload["identity"], dict)  # ["null", Identity]
    assert isinstance(payload["identity"]["travel_document"], dict)  # ["null", TravelDocument]


def test_confluent_deserializer_still_names_nullable_records(client: SchemaRegistryClient, codec: EventCodec) -> None:
    """Why decode is ours: AvroDeserializer has no return_record_name_override (2.16.1). Drop ours when it does."""
    data = codec.encode(event(EventType.EURODAC_HIT_RECEIVED), TOPIC)
    deserializer = AvroDeserializer(
        client, canonical_schema_str(), return_record_name=True, rule_registry=RuleRegistry()
    )
    record = deserializer(data, SerializationContext(TOPIC, MessageField.VALUE))
    assert isinstance(record["payload"][1]["avrr"], tuple)


def test_older_writer_schema_resolves_to_the_current_one(client: SchemaRegistryClient, codec: EventCodec) -> None:
    # v0: the canonical schema before validation_warnings (which has a default) was added.
    v0 = json.loads(canonical_schema_str())
    v0["fields"] = [f for f in v0["fields"] if f["name"] != "validation_warnings"]
    ev = event(EventType.DEPARTURE_CONFIRMED)
    record = to_avro(ev)
    del record["validation_warnings"]
    old = ConfluentFraming(client, auto_register=True, writer_schema=json.dumps(v0))
    data = old.encode(record, "legacy-topic")
    assert codec.decode(data, TOPIC) == ev


def test_without_auto_register_an_unregistered_schema_is_a_config_error(client: SchemaRegistryClient) -> None:
    codec = EventCodec(registry=ConfluentFraming(client))
    with pytest.raises(ConfigError, match="not in the schema registry"):
        codec.encode(EVENTS[0], "unregistered-topic")


def test_auto_register_registers_under_topic_value(client: SchemaRegistryClient) -> None:
    codec = EventCodec(registry=ConfluentFraming(client, auto_register=True))
    data = codec.encode(EVENTS[0], "fresh-topic")
    assert "fresh-topic-value" in client.get_subjects()
    assert codec.decode(data) == EVENTS[0]


def test_encode_needs_a_topic(codec: EventCodec) -> None:
    with pytest.raises(ConfigError, match="needs a topic"):
        codec.encode(EVENTS[0])


def test_unknown_schema_id_is_a_decode_error(codec: EventCodec) -> None:
    with pytest.raises(DecodeError, match="schema id 4242"):
        codec.decode(b"\x00" + struct.pack(">I", 4242) + b"\x02", TOPIC)


@pytest.mark.parametrize("cut", [1, 3, 5, 6, 40, -1], ids=lambda c: f"cut{c}")
def test_truncated_frame_is_a_decode_error(codec: EventCodec, cut: int) -> None:
    data = codec.encode(EVENTS[0], TOPIC)
    with pytest.raises(DecodeError):
        codec.decode(data[:cut], TOPIC)


def test_trailing_bytes_are_a_decode_error(codec: EventCodec) -> None:
    with pytest.raises(DecodeError, match="left after the record"):
        codec.decode(codec.encode(EVENTS[0], TOPIC) + b"\x00", TOPIC)


def test_split_frame_rejects_other_magic() -> None:
    with pytest.raises(DecodeError, match="magic"):
        split_frame(b"\x01\x00\x00\x00\x01\x02")
    assert split_frame(b"\x00\x00\x00\x01\x00\x02")[0] == 256


def test_body_not_matching_the_writer_schema_is_a_decode_error(codec: EventCodec, schema_id: int) -> None:
    buf = io.BytesIO()
    schemaless_writer(
        buf, parse_schema({"type": "record", "name": "X", "fields": [{"name": "n", "type": "long"}]}), {"n": 7}
    )
    with pytest.raises(DecodeError):
        codec.decode(b"\x00" + struct.pack(">I", schema_id) + buf.getvalue(), TOPIC)


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_registry_is_transient(closed_port: int) -> None:
    settings = RegistrySettings(url=f"http://127.0.0.1:{closed_port}", request_timeout_s=2)
    with closing(ConfluentFraming.from_settings(settings)) as framing:
        with pytest.raises(TransientError):
            framing.encode(to_avro(EVENTS[0]), TOPIC)
        with pytest.raises(TransientError):
            framing.decode(b"\x00\x00\x00\x00\x01\x02", TOPIC)


# --- settings -------------------------------------------------------------------------------------------------


def test_settings_defaults() -> None:
    s = RegistrySettings(url="http://127.0.0.1:8081/apis/ccompat/v7/")
    assert s.url == "http://127.0.0.1:8081/apis/ccompat/v7"
    assert s.auto_register is False
    assert s.compatibility == "FULL_TRANSITIVE"
    assert s.subject_name_strategy == "topic"
    assert s.to_client_conf() == {"url": s.url, "timeout": 10.0, "max.retries": 0}


def test_settings_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEWAY_REGISTRY_URL", "https://sr.example:8081")
    monkeypatch.setenv("GATEWAY_REGISTRY_BASIC_AUTH_USER", "gw")
    monkeypatch.setenv("GATEWAY_REGISTRY_BASIC_AUTH_PASSWORD", "s3cret")
    monkeypatch.setenv("GATEWAY_REGISTRY_AUTO_REGISTER", "true")
    s = RegistrySettings.load()
    assert s.auto_register is True
    assert s.to_client_conf()["basic.auth.user.info"] == "gw:s3cret"
    assert "s3cret" not in repr(s)


@pytest.mark.parametrize(
    "values",
    [
        {"url": "ftp://x"},
        {"url": "http://x", "basic_auth_user": "gw"},
        {"url": "http://x", "compatibility": "SOMETIMES"},
        {"url": "http://x", "subject_name_strategy": "record"},
        {"url": "http://x", "schema_url": "typo"},
    ],
    ids=["scheme", "user-without-password", "level", "strategy", "unknown-key"],
)
def test_invalid_settings_are_config_errors(values: dict[str, str]) -> None:
    with pytest.raises(ConfigError):
        RegistrySettings.load(**values)


def test_settings_are_frozen() -> None:
    s = RegistrySettings(url="mock://x")
    with pytest.raises(ValidationError):
        s.auto_register = True  # type: ignore[misc]


# --- registry admin calls -------------------------------------------------------------------------------------


def test_compatibility_check_needs_an_http_registry() -> None:
    with pytest.raises(ConfigError, match="no HTTP API"):
        check_compatibility(RegistrySettings(url="mock://x"), "t-value", canonical_schema_str())


def test_compatibility_check_on_an_unreachable_registry_is_transient(closed_port: int) -> None:
    settings = RegistrySettings(url=f"http://127.0.0.1:{closed_port}", request_timeout_s=2)
    with pytest.raises(TransientError):
        check_compatibility(settings, "t-value", canonical_schema_str())
    with pytest.raises(TransientError):
        set_compatibility(settings, "t-value", "FULL_TRANSITIVE")
    with pytest.raises(TransientError):
        register_schema(settings, "t-value", canonical_schema_str())


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (500, TransientError),
        (503, TransientError),
        (429, TransientError),
        (-1, TransientError),
        (404, DecodeError),
        (401, ConfigError),
        (409, ConfigError),
        (422, ConfigError),
    ],
)
def test_registry_answers_map_to_what_the_caller_should_do(status: int, expected: type[Exception]) -> None:
    error = _registry_error(SchemaRegistryError(status, status * 100, "x"), "schema id 1", DecodeError)
    assert type(error) is expected
