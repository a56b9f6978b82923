"""TLS and SASL/SCRAM material of a local broker: a throwaway CA, the broker's certificate and the SCRAM users.

The broker (`gateway.devservices.local_kafka.LocalKafka` with ``security=``) then listens for clients on SASL_SSL
only (SCRAM-SHA-512 over TLS), and talks to itself (inter-broker and controller traffic) over mutual TLS with the
broker certificate, whose principal (``User:CN=<broker_cn>``) is a super user alongside the admin user. Authorization
is KRaft's ``StandardAuthorizer`` with ``allow.everyone.if.no.acl.found=false``: a principal may do nothing an ACL
does not grant (`gateway.kafka.acls`).

Kafka reads PEM directly (``ssl.keystore.type=PEM``), so no JKS or PKCS#12 store and no ``keytool`` is involved.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import SecretStr

__all__ = ["BrokerSecurity", "ScramUser", "make_broker_security"]

SCRAM_MECHANISM = "SCRAM-SHA-512"
"""The only SASL mechanism the secured local broker enables."""


@dataclass(frozen=True, slots=True)
class ScramUser:
    """A SASL/SCRAM user created when the broker's storage is formatted.

    Attributes:
        name: User name; its principal is ``User:<name>``.
        password: Password (never printed).
    """

    name: str
    password: SecretStr = field(repr=False)

    @property
    def principal(self) -> str:
        """The Kafka principal of this user."""
        return f"User:{self.name}"


@dataclass(frozen=True, slots=True)
class BrokerSecurity:
    """What a secured local broker needs: trust, its key and certificate, and its users.

    Attributes:
        ca_file: The CA certificate (PEM): brokers and clients trust it.
        keystore_file: The broker's private key (unencrypted PKCS#8) followed by its certificate, one PEM file.
        broker_cn: Common name of the broker certificate; ``User:CN=<broker_cn>`` is a super user.
        admin: The admin user (a super user): provisions topics and ACLs.
        users: Further SCRAM users (one per connector, detector ...), given rights only by ACLs.
    """

    ca_file: Path
    keystore_file: Path
    admin: ScramUser
    users: tuple[ScramUser, ...] = ()
    broker_cn: str = "broker"

    @property
    def broker_principal(self) -> str:
        """The principal brokers and controllers present to each other over mutual TLS."""
        return f"User:CN={self.broker_cn}"

    @property
    def super_users(self) -> tuple[str, ...]:
        """Principals the authorizer lets do anything."""
        return (self.admin.principal, self.broker_principal)

    def all_users(self) -> tuple[ScramUser, ...]:
        """The admin user, then the others."""
        return (self.admin, *self.users)


def make_broker_security(
    folder: Path,
    *,
    admin_password: str,
    users: Mapping[str, str] | None = None,
    admin_name: str = "admin",
    broker_cn: str = "broker",
) -> BrokerSecurity:
    """Create a CA and a broker certificate (serverAuth and clientAuth, SAN 127.0.0.1 and localhost) in ``folder``.

    Needs ``cryptography`` (the ``testing`` extra): a local broker is tooling, never part of a deployment.

    Args:
        folder: Where the PEM files go (created; the keys are mode 0600).
        admin_password: Password of the admin user.
        users: Further SCRAM users, name -> password.
        admin_name: Name of the admin user.
        broker_cn: Common name of the broker certificate.

    Returns:
        The material, ready for ``LocalKafka(security=...)``.
    """
    from gateway.testing.certs import issue, make_ca

    ca = make_ca(folder, "local-kafka-ca")
    broker = issue(ca, folder, broker_cn, server=True, client_auth=True)
    keystore = folder / f"{broker_cn}.keystore.pem"
    keystore.write_bytes(broker.key.read_bytes() + broker.cert.read_bytes())
    keystore.chmod(0o600)
    return BrokerSecurity(
        ca_file=ca.cert,
        keystore_file=keystore,
        admin=ScramUser(admin_name, SecretStr(admin_password)),
        users=tuple(ScramUser(name, SecretStr(password)) for name, password in (users or {}).items()),
        broker_cn=broker_cn,
    )
