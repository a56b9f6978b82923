"""A broker that refuses the client is told from one that is away, and a refusal is never retried (no broker)."""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka import KafkaError

from gateway.kafka.refusal import connection_refusal, refusal_from_errors, speaks_tls
from gateway.kafka.retry import KafkaFatalError, KafkaRefusedError, classify
from gateway.kafka.settings import KafkaSettings
from gateway.kafka.transactions import transaction_error
from gateway.testing.certs import issue, make_ca


def test_an_authentication_failure_is_a_refusal_naming_the_settings_not_the_password() -> None:
    kafka = KafkaSettings(
        bootstrap_servers="127.0.0.1:1",
        security_protocol="SASL_SSL",
        sasl_mechanism="SCRAM-SHA-512",
        sasl_username="gw",
        sasl_password="hunter2-secret",
    )
    errors = [
        KafkaError(KafkaError._ALL_BROKERS_DOWN, "1/1 brokers are down"),
        KafkaError(KafkaError._AUTHENTICATION, "SASL authentication error: invalid credentials"),
    ]
    refused = refusal_from_errors(kafka, errors)
    assert refused is not None
    assert "_AUTHENTICATION" in str(refused)
    assert "kafka.sasl_password" in str(refused)
    assert "hunter2" not in str(refused)


def test_a_broker_that_is_merely_down_is_no_refusal() -> None:
    kafka = KafkaSettings(bootstrap_servers="127.0.0.1:1")
    assert refusal_from_errors(kafka, [KafkaError(KafkaError._ALL_BROKERS_DOWN, "down")]) is None
    assert connection_refusal(kafka, [KafkaError(KafkaError._TRANSPORT, "refused")]) is None


@pytest.mark.parametrize(
    "code", [KafkaError.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, KafkaError.TOPIC_AUTHORIZATION_FAILED]
)
def test_a_denied_acl_is_refused_even_when_fatal_to_the_client(code: int) -> None:
    # librdkafka flags a denied transactional id fatal; a new producer would be denied too, so it must not be retried.
    error = KafkaError(code, "denied", fatal=True)
    assert isinstance(classify(error, "init_transactions"), KafkaRefusedError)
    assert isinstance(transaction_error(error, "init_transactions"), KafkaRefusedError)


def test_a_fenced_producer_stays_fatal() -> None:
    error = KafkaError(KafkaError._FENCED, "fenced", fatal=True)
    assert isinstance(classify(error, "commit"), KafkaFatalError)
    assert isinstance(transaction_error(error, "commit"), KafkaFatalError)


@pytest.fixture
def tls_port(tmp_path: Path) -> Iterator[int]:
    """A loopback listener that completes TLS handshakes, as a broker's SSL listener does."""
    ca = make_ca(tmp_path, "ca")
    server = issue(ca, tmp_path, "server", server=True)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(server.cert, server.key)
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            try:
                with context.wrap_socket(conn, server_side=True):
                    pass
            except (OSError, ssl.SSLError):
                conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join(5)
    listener.close()


def test_a_plaintext_client_at_a_tls_listener_is_told_to_set_the_security_protocol(tls_port: int) -> None:
    assert speaks_tls("127.0.0.1", tls_port)
    refused = connection_refusal(KafkaSettings(bootstrap_servers=f"127.0.0.1:{tls_port}"), [])
    assert refused is not None
    assert "security_protocol is PLAINTEXT" in str(refused)


def test_a_plaintext_listener_does_not_speak_tls() -> None:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]

        def close_at_once() -> None:
            conn, _ = listener.accept()
            conn.close()

        thread = threading.Thread(target=close_at_once, daemon=True)
        thread.start()
        assert not speaks_tls("127.0.0.1", port)
        thread.join(5)
