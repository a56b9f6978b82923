"""A broker that refuses this client (bad credentials, untrusted certificate, wrong protocol), told from one away.

librdkafka reports all three as ``_TRANSPORT: Broker transport failure`` to the call that failed; the precise cause
reaches only the client's ``error_cb`` (``_AUTHENTICATION``, ``_SSL``) or, for a PLAINTEXT client at a TLS listener,
nothing at all (the broker closes the connection). Waiting will not fix any of them, so `wait_for_broker` asks
`connection_refusal` after each failed probe and stops at once with a `BrokerRefusedConnectionError`.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Sequence

from confluent_kafka import KafkaError

from gateway.errors import FatalError
from gateway.kafka.settings import KafkaSettings

__all__ = ["BrokerRefusedConnectionError", "connection_refusal", "refusal_from_errors", "speaks_tls"]

_HINTS = {
    KafkaError._AUTHENTICATION: "check kafka.sasl_username, kafka.sasl_password and kafka.sasl_mechanism",
    KafkaError._SSL: "check kafka.ssl_ca_location (the CA that signed the broker certificate) and the broker host name",
}


class BrokerRefusedConnectionError(FatalError):
    """The broker answered but refused this client (authentication, TLS, protocol): fix the settings; no retry.

    Attributes:
        bootstrap_servers: Where the gateway connected.
        reason: What was refused, never a secret.
    """

    def __init__(self, bootstrap_servers: str, reason: str) -> None:
        super().__init__(f"Kafka at {bootstrap_servers} refused the connection: {reason}")
        self.bootstrap_servers = bootstrap_servers
        self.reason = reason


def refusal_from_errors(kafka: KafkaSettings, errors: Sequence[KafkaError]) -> BrokerRefusedConnectionError | None:
    """The refusal among the errors a client's ``error_cb`` received (authentication or TLS), if any; pure.

    librdkafka's text names the mechanism and the TLS failure, never the password.
    """
    for error in errors:
        hint = _HINTS.get(error.code())
        if hint is not None:
            return BrokerRefusedConnectionError(kafka.bootstrap_servers, f"{error.name()}: {error.str()}; {hint}")
    return None


def speaks_tls(host: str, port: int, *, timeout_s: float = 2.0) -> bool:
    """Whether ``host:port`` completes a TLS handshake (certificate not checked: only the protocol is asked)."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        with (
            socket.create_connection((host, port), timeout=timeout_s) as raw,
            context.wrap_socket(raw, server_hostname=host),
        ):
            return True
    except (OSError, ssl.SSLError):
        return False


def connection_refusal(kafka: KafkaSettings, errors: Sequence[KafkaError]) -> BrokerRefusedConnectionError | None:
    """Why the broker refuses this client, if it does (else None: it may just be away).

    First the ``error_cb`` errors (`refusal_from_errors`); then, for a client without TLS, whether the first
    bootstrap address speaks TLS, which a PLAINTEXT or SASL_PLAINTEXT client cannot talk to.

    Args:
        kafka: The client's settings.
        errors: What the client's ``error_cb`` received so far.
    """
    refused = refusal_from_errors(kafka, errors)
    if refused is not None or kafka.uses_tls:
        return refused
    host, _, port = kafka.bootstrap_servers.split(",")[0].strip().rpartition(":")
    if host and port.isdigit() and speaks_tls(host.strip("[]"), int(port)):
        return BrokerRefusedConnectionError(
            kafka.bootstrap_servers,
            f"the listener speaks TLS but kafka.security_protocol is {kafka.security_protocol}; set it to SSL or "
            "SASL_SSL and kafka.ssl_ca_location",
        )
    return None
