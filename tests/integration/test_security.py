"""The gateway on a broker with TLS, SASL/SCRAM-SHA-512 and ACLs: least privilege works, and its refusals are clear.

The broker (`secure_kafka`, a fixture of its own on port 29400) lets nothing happen that no ACL allows. The ACLs are
the ones `gateway.kafka.acls.gateway_grants` derives from the settings, applied by the admin user.
"""

from __future__ import annotations

import json
import os
import secrets
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
from gateway.dashboard.auth import hash_password
from gateway.delivery.plugins import build as build_transport
from gateway.delivery.settings import DeliverySettings
from gateway.delivery.worker import run_delivery
from gateway.detect.config import load_detector_config
from gateway.detect.service import DetectorOptions, run_detector
from gateway.detect.service import default_codecs as detector_codecs
from gateway.devservices.eu_run import publish_events, read_outboxes, story_key_of
from gateway.devservices.kafka_security import SCRAM_MECHANISM, add_scram_users
from gateway.devservices.local_kafka import LocalKafka
from gateway.devservices.provision import provision
from gateway.errors import GatewayError
from gateway.kafka.acls import apply_acls, gateway_grants
from gateway.kafka.downstream_acls import DownstreamPrincipals
from gateway.kafka.producer import IdempotentProducer
from gateway.kafka.reader import read_to_end
from gateway.kafka.retry import KafkaRefusedError
from gateway.kafka.settings import KafkaSettings
from gateway.kafka.topics import ensure_topics
from gateway.monitor.clock import ManualClock
from gateway.outbound.config import OutboundConfig
from gateway.outbound.service import OutboundOptions, run_outbound
from gateway.outbound.service import default_codecs as outbound_codecs
from gateway.pipeline.file_ingest import FileIngestor
from gateway.pipeline.service import ServiceOptions, run_service
from gateway.samples.eu_stories import STORY_NAMES, eu_stories
from gateway.samples.generate import sample_records
from tests.integration.support.topics import fresh_topics

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
STATES = {"de-csv": "DE", "fr-jsonl": "FR"}


DOWNSTREAM_USERS = ("gw-outbound", "gw-deliver-sis")
"""SCRAM users this module adds (as admin) to the `secure_kafka` broker: the outbound stage and SIS delivery."""
SIS = ("sis",)
IDLE_S = 4.0
"""A service's idle exit: long enough for its group's first join and restore on a loaded machine."""


def kafka_as(broker: LocalKafka, user: str, *, password: str | None = None, **extra: Any) -> KafkaSettings:
    """Client settings of one SCRAM user over TLS (``password`` overrides the user's real one)."""
    security = broker.security
    assert security is not None
    found = next((u.password.get_secret_value() for u in security.all_users() if u.name == user), None)
    return KafkaSettings(
        bootstrap_servers=broker.bootstrap,
        security_protocol="SASL_SSL",
        ssl_ca_location=security.ca_file,
        sasl_mechanism=SCRAM_MECHANISM,
        sasl_username=user,
        sasl_password=password or found or _ADDED[user],
        **extra,
    )


# The passwords of DOWNSTREAM_USERS, made once per test session: the broker fixture is per module, the users too.
_ADDED = {name: secrets.token_urlsafe(16) for name in DOWNSTREAM_USERS}


def connector(name: str) -> Any:
    cls = discovery.load(name)
    return cls(cls.config_model.model_validate({"member_state": STATES[name]}))


@pytest.fixture(scope="module")
def topics(secure_kafka: LocalKafka) -> TopicNames:
    """Fresh topics, provisioned by the admin user, with the deployment's ACLs applied."""
    names = fresh_topics("sec")
    admin_settings = GatewaySettings(kafka=kafka_as(secure_kafka, "admin"), topics=names)
    provision(admin_settings, sorted(STATES))
    admin = AdminClient(secure_kafka.admin_config())
    # The admin provisions the downstream topics too (no process may create them) and adds their users.
    ensure_topics(admin, [*names.detector_specs(), *names.outbound_specs(SIS)])
    add_scram_users(admin, _ADDED)
    grants = gateway_grants(
        names,
        {name: f"User:gw-{name}" for name in STATES},
        detector="User:gw-detect",
        readers={"User:gw-stats": ((names.canonical,), "gw-stats")},
        downstream=DownstreamPrincipals(
            outbound="User:gw-outbound", outbound_targets=SIS, deliver={"sis": "User:gw-deliver-sis"}
        ),
    )
    apply_acls(admin, grants)
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


def test_the_downstream_path_runs_with_least_privilege(
    settings_as: Callable[..., GatewaySettings], topics: TopicNames, tmp_path: Path
):
    """Canonical events -> the detector and the outbound stage -> SIS delivery, each as its own principal."""
    connector_side = settings_as("gw-de-csv")
    stories = eu_stories(len(STORY_NAMES), story_key_of(connector_side))
    publish_events(connector_side, stories.events)  # as a connector: WRITE canonical is all it needs

    detected = run_detector(
        settings_as("gw-detect"),
        load_detector_config(None),
        detector_codecs(connector_side),
        DetectorOptions(instance="sec", idle_exit_s=IDLE_S),
    )
    assert detected.records_in >= len(stories.events)

    config = OutboundConfig(targets=SIS)
    options = OutboundOptions(instance="sec", idle_exit_s=IDLE_S, clock=ManualClock(None), tick_s=0.5)
    staged = run_outbound(settings_as("gw-outbound"), config, outbound_codecs(connector_side), options)
    assert staged.records_in >= len(stories.events)
    outbox = read_outboxes(settings_as("admin"), SIS)["sis"]
    assert outbox, "the stories give SIS messages"

    drop = tmp_path / "sis-drop"
    drop_options = {"directory": str(drop), "fsync": False}
    delivery = DeliverySettings(
        transport="filedrop", transport_options=drop_options, instance="sec", idle_exit_s=IDLE_S
    )
    transport = build_transport("filedrop", delivery.transport_options)
    try:
        delivered = run_delivery(settings_as("gw-deliver-sis"), "sis", transport, delivery)
    finally:
        transport.close()
    assert delivered.delivered == len(outbox)
    assert len([p for p in drop.iterdir() if not p.name.startswith(".")]) == len(outbox)
    print(f"{len(stories.events)} events: {len(outbox)} SIS messages delivered under least privilege")

    # The SIS deliverer may read its own outbox only, and may not write the canonical topic.
    deliverer = settings_as("gw-deliver-sis").kafka
    with pytest.raises(GatewayError, match="AUTHORIZATION"):
        list(read_to_end(deliverer, topics.outbox("eurodac"), timeout_s=10))
    started = time.monotonic()
    with pytest.raises(KafkaRefusedError) as refused, IdempotentProducer(deliverer) as producer:
        producer.produce(topics.canonical, b"not a deliverer's to write")
    assert "TOPIC_AUTHORIZATION_FAILED" in str(refused.value)
    assert time.monotonic() - started < 30


WRONG_PASSWORD_COMMANDS = {
    "detect": ["detect", "--idle-exit", "1"],
    "detect-explain": ["detect", "explain", "somebody", "--application", "nowhere"],
    "dashboard": ["dashboard", "--dashboard-config", "{tmp}/board.toml", "-c", "de-csv", "--port", "9"],
    "outbound": ["outbound", "--idle-exit", "1"],
    "deliver": ["deliver", "--target", "sis", "--transport", "filedrop", "--dir", "{tmp}/drop", "--idle-exit", "1"],
    "outbox-status": ["outbox", "status", "--target", "sis"],
    "ees-ingest": ["ees", "ingest", "--dir", "{tmp}", "--member-state", "NL"],
    "riat-pull": ["riat", "pull", "--url", "http://127.0.0.1:9/", "--member-state", "NL", "--max-pages", "1"],
    "stats-build": ["stats", "build", "--period", "2026", "--out", "{tmp}/stats"],
    "dlq-inspect": ["dlq", "inspect", "-c", "de-csv"],
    "dlq-replay": ["dlq", "replay", "-c", "de-csv", "--all"],
    "state-erase": ["state", "erase", "somebody", "--reason", "test"],
    "kafka-local-acls": ["kafka-local", "acls", "--connector", "de-csv=User:gw-de-csv"],
}


@pytest.fixture(scope="module")
def wrong_password_runs(
    secure_kafka: LocalKafka, topics: TopicNames, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, tuple[int, str, float]]:
    """Every command of WRONG_PASSWORD_COMMANDS run with a wrong password, four at a time: exit, output, seconds."""
    import concurrent.futures

    assert secure_kafka.security is not None
    tmp = tmp_path_factory.mktemp("wrong-password")
    config = tmp / "gateway.toml"
    config.write_text(
        f'state_dir = "{tmp / "state"}"\n[topics]\ncanonical = "{topics.canonical}"\n'
        f'dlq_prefix = "{topics.dlq_prefix}"\nraw_prefix = "{topics.raw_prefix}"\nprogress = "{topics.progress}"\n'
    )
    # The dashboard needs somebody who could sign in before it goes to the broker.
    (tmp / "board.toml").write_text(f'[users.ana]\nrole = "viewer"\npassword_hash = "{hash_password("a" * 16)}"\n')
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")},
        "GATEWAY_KAFKA__BOOTSTRAP_SERVERS": secure_kafka.bootstrap,
        "GATEWAY_KAFKA__SECURITY_PROTOCOL": "SASL_SSL",
        "GATEWAY_KAFKA__SSL_CA_LOCATION": str(secure_kafka.security.ca_file),
        "GATEWAY_KAFKA__SASL_MECHANISM": SCRAM_MECHANISM,
        "GATEWAY_KAFKA__SASL_USERNAME": "gw-outbound",
        "GATEWAY_KAFKA__SASL_PASSWORD": f"wrong-{uuid.uuid4().hex}",
    }

    def run(args: list[str]) -> tuple[int, str, float]:
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "gateway.cli.main", *(a.format(tmp=tmp) for a in args), "--config", str(config)],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            cwd=tmp,
        )
        return done.returncode, done.stdout + done.stderr, time.monotonic() - started

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        futures = {name: pool.submit(run, args) for name, args in WRONG_PASSWORD_COMMANDS.items()}
        return {name: future.result() for name, future in futures.items()}


@pytest.mark.parametrize("command", sorted(WRONG_PASSWORD_COMMANDS))
def test_a_wrong_password_ends_every_command_with_one_line(
    wrong_password_runs: dict[str, tuple[int, str, float]], command: str
):
    code, output, took = wrong_password_runs[command]
    print(f"{command}: exit {code} after {took:.1f} s")
    assert code != 0, output
    assert "Traceback" not in output
    lines = [line for line in output.splitlines() if "authentication" in line.lower()]
    assert len(lines) == 1, output
    assert lines[0].startswith("Error: Kafka at ")
    assert "refused the connection: _AUTHENTICATION" in lines[0]
    assert "wrong-" not in output
    assert took < 20


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway.cli.main", "kafka-local", *args],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_kafka_local_start_secure_writes_working_client_settings():
    """``gateway kafka-local start --secure``: a client connects with the written settings; plaintext fails cleanly."""
    import shutil

    from gateway.kafka.connect import wait_for_broker
    from gateway.kafka.refusal import BrokerRefusedConnectionError

    port = int(os.environ.get("GW_TEST_CLI_SECURE_KAFKA_PORT", "29420"))
    name = f"cli-secure-{uuid.uuid4().hex[:6]}"
    home = LocalKafka(name=name).home
    try:
        started = _cli("start", "--secure", "--fresh", "--name", name, "--port", str(port))
        assert started.returncode == 0, started.stdout + started.stderr
        folder = home / "secure"
        password = (folder / "admin.password").read_text().strip()
        assert password not in started.stdout + started.stderr
        assert (folder / "admin.password").stat().st_mode & 0o777 == 0o600
        assert (folder / "client.env").stat().st_mode & 0o777 == 0o600
        assert password not in (folder / "client.toml").read_text()
        env = dict(line.split("=", 1) for line in (folder / "client.env").read_text().splitlines() if "=" in line)
        env = {k: v.strip("'") for k, v in env.items()}
        settings = GatewaySettings.load(
            folder / "client.toml", kafka={"sasl_password": env["GATEWAY_KAFKA__SASL_PASSWORD"]}
        )
        assert settings.kafka.security_protocol == "SASL_SSL"
        wait_for_broker(settings.kafka)  # the admin connects over TLS + SCRAM with what was written
        status = _cli("status", "--name", name, "--port", str(port))
        assert "answers=True" in status.stdout
        assert "secured" in status.stdout

        plaintext = KafkaSettings(bootstrap_servers=f"127.0.0.1:{port}", connect_timeout_s=30.0)
        begun = time.monotonic()
        with pytest.raises(BrokerRefusedConnectionError, match="speaks TLS"):
            wait_for_broker(plaintext)
        assert time.monotonic() - begun < 15
    finally:
        stopped = _cli("stop", "--name", name)
        shutil.rmtree(home, ignore_errors=True)
    assert stopped.stdout.strip() == "stopped"
