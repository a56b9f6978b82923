"""A real schema registry: compatibility rules on the canonical schema, and evolved writers through a real broker.

The registry is ``SCHEMA_REGISTRY_URL`` (a Confluent-compatible API) if set, else a local Apicurio Registry from
Maven Central (``gateway.devservices.local_registry``), started once for the session and stopped at its end.
"""

from __future__ import annotations

import json
import shutil
import struct
import time
import uuid
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition

from gateway.codec.avro_dict import to_avro
from gateway.codec.codec import EventCodec
from gateway.codec.registry import (
    ConfluentFraming,
    RegistrySettings,
    canonical_schema_str,
    check_compatibility,
    make_client,
    register_schema,
    set_compatibility,
    subject_name,
)
from gateway.errors import ConfigError
from gateway.testing.examples import event, payloads

pytestmark = [
    pytest.mark.integration,
    pytest.mark.registry,
]


@pytest.fixture(scope="module")
def settings(registry_url: str) -> RegistrySettings:
    return RegistrySettings(url=registry_url)


def _schema(**change: Any) -> str:
    """The canonical schema with top-level fields dropped (``drop``), retyped (``retype``) or added (``add``)."""
    schema = json.loads(canonical_schema_str())
    fields = [f for f in schema["fields"] if f["name"] not in change.get("drop", ())]
    for f in fields:
        f["type"] = change.get("retype", {}).get(f["name"], f["type"])
    schema["fields"] = fields + list(change.get("add", ()))
    return json.dumps(schema)


V0 = {"drop": ["validation_warnings"]}  # the schema before validation_warnings (default []) was added
OPTIONAL_TENANT = {"add": [{"name": "tenant", "type": ["null", "string"], "default": None}]}


@pytest.fixture(scope="module")
def subject(settings: RegistrySettings) -> str:
    """A subject holding the canonical schema under FULL_TRANSITIVE, as CI registers it."""
    name = subject_name(f"case-events-{uuid.uuid4().hex[:8]}")
    assert set_compatibility(settings, name, settings.compatibility) == "FULL_TRANSITIVE"
    register_schema(settings, name, canonical_schema_str())
    return name


def test_canonical_schema_is_registered_under_topic_value(settings: RegistrySettings, subject: str) -> None:
    with make_client(settings) as client:
        latest = client.get_latest_version(subject)
        assert subject.endswith("-value")
        assert client.get_compatibility(subject) == "FULL_TRANSITIVE"
        # Registering again, even formatted differently, is the same schema: CI can run twice.
        pretty = json.dumps(json.loads(canonical_schema_str()), indent=2)
        assert register_schema(settings, subject, pretty) == latest.schema_id
        assert len(client.get_versions(subject)) == 1


@pytest.mark.parametrize(
    "change",
    [OPTIONAL_TENANT, {"add": [{"name": "schema_revision", "type": "int", "default": 1}]}],
    ids=["optional-field", "field-with-default"],
)
def test_compatible_evolution_is_accepted(settings: RegistrySettings, subject: str, change: dict[str, Any]) -> None:
    assert check_compatibility(settings, subject, _schema(**change)) == []


@pytest.mark.parametrize(
    "change",
    [
        {"drop": ["case_reference"]},
        {"retype": {"correlation_id": "int"}},
        {"add": [{"name": "tenant", "type": "string"}]},
    ],
    ids=["remove-required-field", "change-field-type", "add-field-without-default"],
)
def test_incompatible_evolution_is_rejected(settings: RegistrySettings, subject: str, change: dict[str, Any]) -> None:
    reasons = check_compatibility(settings, subject, _schema(**change))
    assert reasons
    assert all(isinstance(r, str) and r for r in reasons)


def test_a_subject_without_versions_accepts_any_valid_schema(settings: RegistrySettings) -> None:
    assert check_compatibility(settings, subject_name(f"empty-{uuid.uuid4().hex[:8]}"), canonical_schema_str()) == []


def test_registering_an_incompatible_schema_is_refused(settings: RegistrySettings, subject: str) -> None:
    with pytest.raises(ConfigError, match="refused"):
        register_schema(settings, subject, _schema(drop=["case_reference"]))


def _roundtrip(bootstrap: str, topic: str, group: str, values: list[bytes]) -> list[bytes]:
    errors: list[Any] = []
    producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True})
    for value in values:
        producer.produce(topic, value=value, on_delivery=lambda err, _msg: errors.append(err) if err else None)
    assert producer.flush(30) == 0
    assert errors == []
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False})
    consumer.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
    got: list[bytes] = []
    deadline = time.monotonic() + 30
    while len(got) < len(values) and time.monotonic() < deadline:
        msg = consumer.poll(0.5)
        if msg is not None:
            assert msg.error() is None, msg.error()
            got.append(msg.value())
    consumer.close()
    return got


def test_evolved_writers_roundtrip_through_broker_and_registry(
    settings: RegistrySettings, kafka_bootstrap: str, new_topic: Callable[..., str], group_id: str
) -> None:
    """Old (v0), current and newer (v2) producers share a topic; a consumer on the current schema reads them all."""
    topic = new_topic("registry-evolution")
    subj = subject_name(topic)
    set_compatibility(settings, subj, "FULL_TRANSITIVE")
    writers = {}
    for label, schema in [("v0", _schema(**V0)), ("v1", canonical_schema_str()), ("v2", _schema(**OPTIONAL_TENANT))]:
        register_schema(settings, subj, schema)  # in version order, each checked against all before it
        writers[label] = ConfluentFraming(make_client(settings), writer_schema=schema)

    expected, values = [], []
    for i, event_type in enumerate(payloads()):
        label = ("v0", "v1", "v2")[i % 3]
        ev = event(event_type, index=0 if label == "v0" else i)  # v0 cannot carry validation warnings
        record = to_avro(ev)
        if label == "v0":
            del record["validation_warnings"]
        if label == "v2":
            record["tenant"] = "nl"  # dropped by the current reader
        expected.append(ev)
        values.append(writers[label].encode(record, topic))

    for framing in writers.values():
        framing.close()

    got = _roundtrip(kafka_bootstrap, topic, group_id, values)
    assert len({struct.unpack(">I", v[1:5])[0] for v in got}) == 3
    with closing(ConfluentFraming.from_settings(settings)) as fresh:  # fresh client: ids come from the registry
        reader = EventCodec(registry=fresh)
        assert [reader.decode(v, topic) for v in got] == expected


def test_schemas_check_asks_the_registry(settings: RegistrySettings, subject: str, tmp_path: Path) -> None:
    """`gateway schemas check --registry-url` passes on the registered schema and fails on an incompatible copy."""
    from click.testing import CliRunner

    from gateway.cli.main import main
    from gateway.codec.schemas import SCHEMA_DIR

    args = ["schemas", "check", "--registry-url", settings.url, "--subject", subject, "--datums", "20"]
    ok = CliRunner().invoke(main, args)
    assert ok.exit_code == 0, ok.output

    broken = tmp_path / "avro"
    shutil.copytree(SCHEMA_DIR, broken)
    source = broken / "eu.returns.gateway.v1.Source.avsc"
    raw = json.loads(source.read_text())
    raw["fields"].append({"name": "build", "type": "string"})  # required, no default: not FULL compatible
    source.write_text(json.dumps(raw))
    bad = CliRunner().invoke(main, [*args, "--schema-dir", str(broken), "--json"])
    assert bad.exit_code == 1
    report = json.loads(bad.output)["roots"]["eu.returns.gateway.v1.CaseEvent"]
    methods = {f["method"] for f in report["findings"]}
    assert "registry" in methods
    assert "static" in methods
