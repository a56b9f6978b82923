"""The gateway on a broker with TLS, SASL/SCRAM-SHA-512 and ACLs: least privilege works, and its refusals are clear.

The broker (`secure_kafka`, a fixture of its own on port 29400) lets nothing happen that no ACL allows. The ACLs are
the ones `gateway.kafka.acls.gateway_grants` derives from the settings, applied by the admin user.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka.admin import AdminClient

from gateway.codec.codec import EventCodec
from gateway.config import GatewaySettings, TopicNames
from gateway.connectors import discovery
from gateway.devservices.kafka_security import SCRAM_MECHANISM
from gateway.devservices.local_kafka import LocalKafka
from gateway.devservices.provision import provision
from gateway.errors import GatewayError
from gateway.kafka.acls import apply_acls, gateway_grants
from gateway.kafka.producer import IdempotentProducer
from gateway.kafka.reader import read_to_end
from gateway.kafka.retry import KafkaRefusedError
from gateway.kafka.settings import KafkaSettings
from gateway.pipeline.file_ingest import FileIngestor
from gateway.pipeline.service import ServiceOptions, run_service
from gateway.samples.generate import sample_records
from tests.integration.support.topics import fresh_topics

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
STATES = {"de-csv": "DE", "fr-jsonl": "FR"}


def kafka_as(broker: LocalKafka, user: str, *, password: str | None = None, **extra: Any) -> KafkaSettings:
    """Client settings of one SCRAM user over TLS (``password`` overrides the user's real one)."""
    security = broker.security
    assert security is not None
    found = next(u for u in security.all_users() if u.name == user)
    return KafkaSettings(
        bootstrap_servers=broker.bootstrap,
        security_protocol="SASL_SSL",
        ssl_ca_location=security.ca_file,
        sasl_mechanism=SCRAM_MECHANISM,
        sasl_username=user,
        sasl_password=password or found.password.get_secret_value(),
        **extra,
    )


def connector(name: str) -> Any:
    cls = discovery.load(name)
    return cls(cls.config_model.model_validate({"member_state": STATES[name]}))


@pytest.fixture(scope="module")
def topics(secure_kafka: LocalKafka) -> TopicNames:
    """Fresh topics, provisioned by the admin user, with the deployment's ACLs applied."""
    names = fresh_topics("sec")
    admin_settings = GatewaySettings(kafka=kafka_as(secure_kafka, "admin"), topics=names)
    provision(admin_settings, sorted(STATES))
    grants = gateway_grants(
        names,
        {name: f"User:gw-{name}" for name in STATES},
        detector="User:gw-detect",
        readers={"User:gw-stats": ((names.canonical,), "gw-stats")},
    )
    apply_acls(AdminClient(secure_kafka.admin_config()), grants)
    return names


@pytest.fixture
def settings_as(secure_kafka: LocalKafka, topics: TopicNames, tmp_path: Path) -> Callable[..., GatewaySettings]:
    def make(user: str, **kafka: Any) -> GatewaySettings:
        return GatewaySettings(
            kafka=kafka_as(secure_kafka, user, **kafka),
            topics=topics,
            state_dir=tmp_path / "state",
            batch_size=50,
        )

    return make


def test_a_connector_ingests_its_sample_with_least_privilege(settings_as: Callable[..., GatewaySettings]):
    sample = REPO / "samples" / "de-csv.csv"
    manifest = json.loads((REPO / "samples" / "de-csv.csv.manifest.json").read_text())
    settings = settings_as("gw-de-csv")

    summary = FileIngestor(connector("de-csv"), settings).ingest(sample)

    assert summary.records == manifest["records"] == summary.events + summary.dead_letters
    assert summary.events == manifest["events"]
    assert summary.dead_letters == len(manifest["defects"])
    # A read-only consumer reads the canonical topic (read_committed) and finds every event once.
    reader = settings_as("gw-stats").kafka
    events = [EventCodec().decode(m.value()) for m in read_to_end(reader, settings.topics.canonical)]
    assert len(events) == summary.events
    assert len({e.event_id for e in events}) == len(events)
    # ... and may read nothing else.
    with pytest.raises(GatewayError, match="AUTHORIZATION"):
        list(read_to_end(reader, settings.topics.dlq("de-csv"), timeout_s=10))


def test_service_mode_runs_with_least_privilege(settings_as: Callable[..., GatewaySettings], topics: TopicNames):
    settings = settings_as("gw-de-csv")
    records = list(sample_records(connector("de-csv"), count=300, seed=3, defect_share=0.05))
    expected = sum(len(r.facts) for _, r in records if not r.defect)
    # The connector's own principal may publish to its raw topic (the national side, under the same principal).
    with IdempotentProducer(settings.kafka) as producer:
        for _, record in records:
            key = record.facts[0].case_reference.encode() if record.facts else None
            producer.produce(topics.raw("de-csv"), record.data, key=key)
    reader = settings_as("gw-stats").kafka
    before = len(list(read_to_end(reader, topics.canonical)))

    stats = run_service(connector("de-csv"), settings, ServiceOptions(instance="sec-0", idle_exit_s=5.0))

    assert stats.records_in == len(records)
    events = [EventCodec().decode(m.value()) for m in read_to_end(reader, topics.canonical)][before:]
    assert len(events) == expected
    assert len({e.event_id for e in events}) == expected


def test_a_principal_running_another_connector_is_refused_once(settings_as: Callable[..., GatewaySettings]):
    # fr-jsonl's principal runs the de-csv connector: de-csv's transactional ids are not fr's to use.
    settings = settings_as("gw-fr-jsonl").model_copy(update={"rules_enabled": False})
    started = time.monotonic()
    with pytest.raises(KafkaRefusedError) as refused:
        FileIngestor(connector("de-csv"), settings).ingest(REPO / "samples" / "de-csv.csv")
    took = time.monotonic() - started
    print(f"refused after {took:.1f} s: {refused.value}")
    assert "TRANSACTIONAL_ID_AUTHORIZATION_FAILED" in str(refused.value)
    assert took < 30, "refused at once, not retried"


def test_a_principal_writing_another_connectors_topic_is_refused_once(
    settings_as: Callable[..., GatewaySettings], topics: TopicNames
):
    kafka = settings_as("gw-fr-jsonl").kafka

    def write_own_then_others() -> None:
        with IdempotentProducer(kafka) as producer:
            producer.produce(topics.dlq("fr-jsonl"), b"its own: allowed")
            producer.produce(topics.dlq("de-csv"), b"de-csv's dead letters: refused")

    started = time.monotonic()
    with pytest.raises(KafkaRefusedError) as refused:
        write_own_then_others()
    took = time.monotonic() - started
    print(f"refused after {took:.1f} s: {refused.value}")
    assert "TOPIC_AUTHORIZATION_FAILED" in str(refused.value)
    assert topics.dlq("de-csv") in str(refused.value)
    assert took < 30


def _cli_ingest(broker: LocalKafka, topics: TopicNames, tmp_path: Path, user: str, password: str) -> tuple[int, str]:
    """``gateway ingest`` of the fr-jsonl sample as ``user``, secrets in the environment as the README says."""
    config = tmp_path / "gateway.toml"
    config.write_text(
        f"""
state_dir = "{tmp_path / "state"}"
[topics]
canonical = "{topics.canonical}"
dlq_prefix = "{topics.dlq_prefix}"
raw_prefix = "{topics.raw_prefix}"
progress = "{topics.progress}"
[connectors.fr-jsonl]
member_state = "FR"
"""
    )
    assert broker.security is not None
    env = {
        **os.environ,
        "GATEWAY_KAFKA__BOOTSTRAP_SERVERS": broker.bootstrap,
        "GATEWAY_KAFKA__SECURITY_PROTOCOL": "SASL_SSL",
        "GATEWAY_KAFKA__SSL_CA_LOCATION": str(broker.security.ca_file),
        "GATEWAY_KAFKA__SASL_MECHANISM": SCRAM_MECHANISM,
        "GATEWAY_KAFKA__SASL_USERNAME": user,
        "GATEWAY_KAFKA__SASL_PASSWORD": password,
    }
    sample = REPO / "samples" / "fr-jsonl.jsonl"
    done = subprocess.run(
        [sys.executable, "-m", "gateway.cli.main", "ingest", "-c", "fr-jsonl", "--config", str(config), str(sample)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return done.returncode, done.stdout + done.stderr


def test_the_ingest_command_runs_as_its_connector_and_stops_at_once_on_a_wrong_password(
    secure_kafka: LocalKafka, topics: TopicNames, tmp_path: Path
):
    security = secure_kafka.security
    assert security is not None
    password = next(u for u in security.users if u.name == "gw-fr-jsonl").password.get_secret_value()
    code, output = _cli_ingest(secure_kafka, topics, tmp_path, "gw-fr-jsonl", password)
    assert code == 0, output
    manifest = json.loads((REPO / "samples" / "fr-jsonl.jsonl.manifest.json").read_text())
    assert f"{manifest['records']:,} records" in output or str(manifest["records"]) in output

    wrong = f"wrong-{uuid.uuid4().hex}"
    started = time.monotonic()
    code, output = _cli_ingest(secure_kafka, topics, tmp_path, "gw-fr-jsonl", wrong)
    took = time.monotonic() - started
    print(f"wrong password: exit {code} after {took:.1f} s: {output.strip().splitlines()[-1]}")
    assert code == 1
    assert "refused the connection: _AUTHENTICATION" in output
    assert wrong not in output
    assert password not in output
    assert took < 30


def test_a_wrong_password_is_one_clear_error_within_seconds(settings_as: Callable[..., GatewaySettings]):
    settings = settings_as("gw-de-csv", password=f"wrong-{uuid.uuid4().hex}", connect_timeout_s=60.0)
    started = time.monotonic()
    with pytest.raises(GatewayError) as failed:
        provision(settings, ["de-csv"])
    took = time.monotonic() - started
    print(f"failed after {took:.1f} s: {failed.value}")
    assert "authentication" in str(failed.value).lower()
    assert "wrong" not in str(failed.value)  # the password is never in the message
    assert took < 15


def test_plaintext_to_the_tls_listener_fails_cleanly(secure_kafka: LocalKafka, topics: TopicNames):
    settings = GatewaySettings(
        kafka=KafkaSettings(bootstrap_servers=secure_kafka.bootstrap, connect_timeout_s=60.0), topics=topics
    )
    started = time.monotonic()
    with pytest.raises(GatewayError) as failed:
        provision(settings, ["de-csv"])
    took = time.monotonic() - started
    print(f"failed after {took:.1f} s: {failed.value}")
    assert "security_protocol" in str(failed.value)
    assert took < 15
