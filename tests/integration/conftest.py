"""A real Kafka broker for the integration tests, never a mock.

Order: ``KAFKA_BOOTSTRAP_SERVERS`` if set; else a testcontainers broker where a Docker engine answers; else the
project's local broker from Maven Central jars (``gateway.devservices.local_kafka``), started once and left running.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka.admin import AdminClient, NewTopic

from tests.integration.support.processes import SpawnGateway


def _docker_available() -> bool:
    # Probe only where an engine could answer: the docker client leaks a socket (a ResourceWarning, an error
    # under filterwarnings=error) when it connects to nothing.
    if not os.environ.get("DOCKER_HOST") and not os.path.exists("/var/run/docker.sock"):
        return False
    try:
        import docker  # type: ignore[import-untyped]

        client = docker.from_env(timeout=3)
        try:
            client.ping()
        finally:
            client.close()
    except Exception:
        return False
    return True


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    """Bootstrap servers of a real broker for this test session."""
    env = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if env:
        yield env
        return
    if _docker_available():
        from testcontainers.kafka import KafkaContainer  # type: ignore[import-untyped]

        with KafkaContainer("confluentinc/cp-kafka:7.6.0").with_kraft() as kafka:
            yield kafka.get_bootstrap_server()
        return
    from gateway.devservices.local_kafka import LocalKafka

    yield LocalKafka(name="test", port=int(os.environ.get("GW_TEST_KAFKA_PORT", "29092"))).start()


@pytest.fixture(scope="session")
def admin(kafka_bootstrap: str) -> AdminClient:
    """An admin client on the test broker."""
    return AdminClient({"bootstrap.servers": kafka_bootstrap})


@pytest.fixture
def new_topic(admin: AdminClient) -> Callable[..., str]:
    """Factory: create a uniquely named topic and return its name."""

    def make(prefix: str = "t", partitions: int = 1, config: dict[str, str] | None = None) -> str:
        name = f"{prefix}-{uuid.uuid4().hex[:10]}"
        futures = admin.create_topics([NewTopic(name, partitions, 1, config=config or {})])
        futures[name].result(timeout=30)
        return name

    return make


@pytest.fixture
def start() -> Iterator[SpawnGateway]:
    """Starts ``gateway`` CLI processes (arguments, log file), each in a session of its own.

    Any still running when the test ends is killed: a process left behind by a failed test would otherwise keep its
    instance id and fence the next test's process of the same id.
    """
    procs: list[subprocess.Popen[bytes]] = []

    def spawn(args: list[str], log: Path) -> subprocess.Popen[bytes]:
        with log.open("ab") as out:  # the child keeps its own copy of the descriptor
            proc = subprocess.Popen(
                [sys.executable, "-m", "gateway.cli.main", *args],
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        procs.append(proc)
        return proc

    yield spawn
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


@pytest.fixture
def group_id() -> str:
    """A fresh consumer group id."""
    return f"g-{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="session")
def registry_url() -> Iterator[str]:
    """The Confluent-compatible API of a real schema registry (Apicurio from Maven Central, in memory).

    ``SCHEMA_REGISTRY_URL`` if set; else the project's local Apicurio. Where it cannot run the test is skipped,
    except in CI (``CI`` set), where a registry that does not start is a failure, not a skip.
    """
    env = os.environ.get("SCHEMA_REGISTRY_URL")
    if env:
        yield env
        return
    from gateway.devservices.local_registry import LocalApicurio, RegistryServiceError

    local = LocalApicurio(name="test", port=int(os.environ.get("GW_TEST_REGISTRY_PORT", "28081")))
    started_here = local.running_pid() is None
    try:
        url = local.start()
    except RegistryServiceError as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"no schema registry can run here: {exc}")
    yield url
    if started_here:
        local.stop()


SECURE_KAFKA_USERS = ("gw-de-csv", "gw-fr-jsonl", "gw-detect", "gw-stats")
"""SCRAM users of the secured broker besides ``admin``: two connectors, the detector and a read-only consumer."""


@pytest.fixture(scope="module")
def secure_kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A broker of its own with TLS, SASL/SCRAM-SHA-512 and ACLs (nothing allowed without one), stopped afterwards.

    Port ``GW_TEST_SECURE_KAFKA_PORT`` (29400; +1 controller, +2 inter-broker). A fresh CA, broker certificate and
    random passwords per module: ``LocalKafka.security`` holds them.
    """
    import secrets

    from gateway.devservices.kafka_security import make_broker_security
    from gateway.devservices.local_kafka import LocalKafka

    folder = tmp_path_factory.mktemp("secure-kafka")
    security = make_broker_security(
        folder / "tls",
        admin_password=secrets.token_urlsafe(16),
        users={name: secrets.token_urlsafe(16) for name in SECURE_KAFKA_USERS},
    )
    port = int(os.environ.get("GW_TEST_SECURE_KAFKA_PORT", "29400"))
    broker = LocalKafka(name=f"secure-{port}", port=port, security=security, heap_mb=512)
    try:
        broker.start(fresh=True)
        yield broker
    finally:
        broker.stop()
