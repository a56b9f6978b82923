"""TLS and SASL/SCRAM material of a local broker: a throwaway CA, the broker's certificate and the SCRAM users.

The broker (`gateway.devservices.local_kafka.LocalKafka` with ``security=``) then listens for clients on SASL_SSL
only (SCRAM-SHA-512 over TLS), and talks to itself (inter-broker and controller traffic) over mutual TLS with the
broker certificate, whose principal (``User:CN=<broker_cn>``) is a super user alongside the admin user. Authorization
is KRaft's ``StandardAuthorizer`` with ``allow.everyone.if.no.acl.found=false``: a principal may do nothing an ACL
does not grant (`gateway.kafka.acls`).

Kafka reads PEM directly (``ssl.keystore.type=PEM``), so no JKS or PKCS#12 store and no ``keytool`` is involved.

``gateway kafka-local start --secure`` keeps the material in the instance's folder (`local_security`): the admin
password in a mode-0600 file, made once; the CA and broker certificate (valid one day) issued anew at each start;
and the client settings a gateway command needs (`write_client_files`), the password only in mode-0600 files.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient
from pydantic import SecretStr

from gateway.errors import ConfigError

__all__ = [
    "ADMIN_PASSWORD_FILE",
    "CLIENT_ENV_FILE",
    "CLIENT_TOML_FILE",
    "BrokerSecurity",
    "ClientFiles",
    "ScramUser",
    "add_scram_users",
    "client_environment",
    "local_security",
    "make_broker_security",
    "stored_security",
    "write_client_files",
    "write_user_env",
]

SCRAM_MECHANISM = "SCRAM-SHA-512"
"""The only SASL mechanism the secured local broker enables."""

ADMIN_PASSWORD_FILE = "admin.password"  # noqa: S105 (a file name, not a password)
"""The admin user's password, in the secured instance's folder (mode 0600)."""
CLIENT_ENV_FILE = "client.env"
"""``GATEWAY_KAFKA__*`` lines of the admin user, password included (mode 0600): ``set -a; . client.env; set +a``."""
CLIENT_TOML_FILE = "client.toml"
"""The ``[kafka]`` table of a gateway configuration, without the password."""
_CA_NAME = "local-kafka-ca"


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

    ca = make_ca(folder, _CA_NAME)
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


@dataclass(frozen=True, slots=True)
class ClientFiles:
    """What `write_client_files` wrote.

    Attributes:
        env_file: ``GATEWAY_KAFKA__*`` lines, the password included (mode 0600).
        toml_file: A ``[kafka]`` table without the password.
        password_file: The password alone (mode 0600).
    """

    env_file: Path
    toml_file: Path
    password_file: Path


def client_environment(security: BrokerSecurity, bootstrap: str, user: ScramUser | None = None) -> dict[str, str]:
    """The ``GATEWAY_KAFKA__*`` variables of a gateway command connecting as ``user`` (the admin by default); pure.

    The password is among them (revealed): write them only to a private file.
    """
    who = user or security.admin
    return {
        "GATEWAY_KAFKA__BOOTSTRAP_SERVERS": bootstrap,
        "GATEWAY_KAFKA__SECURITY_PROTOCOL": "SASL_SSL",
        "GATEWAY_KAFKA__SSL_CA_LOCATION": str(security.ca_file),
        "GATEWAY_KAFKA__SASL_MECHANISM": SCRAM_MECHANISM,
        "GATEWAY_KAFKA__SASL_USERNAME": who.name,
        "GATEWAY_KAFKA__SASL_PASSWORD": who.password.get_secret_value(),
    }


def _write_private(path: Path, text: str) -> None:
    # Created with mode 0600, never readable by others even for a moment; an older file is narrowed first.
    if path.exists():
        path.chmod(0o600)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)


def _env_lines(env: Mapping[str, str]) -> str:
    # Single quotes suffice: the values are paths, names and URL-safe passwords (`secrets.token_urlsafe`).
    return "".join(f"{key}='{value}'\n" for key, value in env.items())


def write_user_env(security: BrokerSecurity, bootstrap: str, folder: Path, user: ScramUser) -> Path:
    """Write ``user``'s ``GATEWAY_KAFKA__*`` lines to ``folder/<name>.env`` (mode 0600) and return its path."""
    path = folder / f"{user.name}.env"
    _write_private(path, _env_lines(client_environment(security, bootstrap, user)))
    return path


def write_client_files(security: BrokerSecurity, bootstrap: str, folder: Path) -> ClientFiles:
    """Write the admin user's client settings to ``folder``: an env file, a TOML table, the password file.

    Args:
        security: The broker's material.
        bootstrap: The broker's ``bootstrap.servers``.
        folder: The secured instance's folder.
    """
    env = client_environment(security, bootstrap)
    password_file = folder / ADMIN_PASSWORD_FILE
    _write_private(password_file, security.admin.password.get_secret_value())
    env_file = folder / CLIENT_ENV_FILE
    _write_private(env_file, _env_lines(env))
    toml_file = folder / CLIENT_TOML_FILE
    table = {k.removeprefix("GATEWAY_KAFKA__").lower(): v for k, v in env.items() if not k.endswith("PASSWORD")}
    toml_file.write_text(
        f"# The password is not here: GATEWAY_KAFKA__SASL_PASSWORD=$(cat {password_file})\n[kafka]\n"
        + "".join(f'{key} = "{value}"\n' for key, value in table.items()),
        encoding="utf-8",
    )
    return ClientFiles(env_file, toml_file, password_file)


def stored_security(folder: Path) -> BrokerSecurity | None:
    """The material `local_security` keeps in ``folder``, as it is (nothing issued); None if there is none."""
    password_file = folder / ADMIN_PASSWORD_FILE
    tls = folder / "tls"
    ca_file, keystore = tls / f"{_CA_NAME}.crt.pem", tls / "broker.keystore.pem"
    if not (password_file.is_file() and ca_file.is_file() and keystore.is_file()):
        return None
    admin = ScramUser("admin", SecretStr(password_file.read_text(encoding="utf-8").strip()))
    return BrokerSecurity(ca_file=ca_file, keystore_file=keystore, admin=admin)


def local_security(
    folder: Path, *, new_password: Callable[[], str] = lambda: secrets.token_urlsafe(24)
) -> BrokerSecurity:
    """The secured local broker's material in ``folder``: the stored admin password (made once), TLS issued anew.

    The certificates live one day, so each start of a stopped broker issues a fresh CA and broker certificate under
    the same file names; clients read the CA file again when they start. The admin user's SCRAM credential lives in
    the broker's metadata, created when its storage was formatted, so the password is kept, never changed here.

    Args:
        folder: The secured instance's folder (created).
        new_password: Makes the admin password the first time.
    """
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    password_file = folder / ADMIN_PASSWORD_FILE
    if not password_file.is_file():
        _write_private(password_file, new_password())
    password = password_file.read_text(encoding="utf-8").strip()
    return make_broker_security(folder / "tls", admin_password=password)


def add_scram_users(admin: AdminClient, users: Mapping[str, str], *, timeout_s: float = 30.0) -> None:
    """Create (or reset) SCRAM-SHA-512 users on a running broker, as its admin user; no ACL comes with them.

    Args:
        admin: An admin client of a super user.
        users: Name -> password.
        timeout_s: Longest wait for the broker's answer.

    Raises:
        ConfigError: The broker refused (never naming the password).
    """
    # confluent_kafka.admin re-exports these without an __all__, which strict mypy reads as private.
    from confluent_kafka.admin import (  # type: ignore[attr-defined]
        ScramCredentialInfo,
        ScramMechanism,
        UserScramCredentialAlteration,
        UserScramCredentialUpsertion,
    )

    info = ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 8192)
    upserts: list[UserScramCredentialAlteration] = [
        UserScramCredentialUpsertion(name, info, password.encode()) for name, password in users.items()
    ]
    for user, future in admin.alter_user_scram_credentials(upserts, request_timeout=timeout_s).items():
        try:
            future.result(timeout=timeout_s + 5)
        except KafkaException as exc:
            raise ConfigError(f"creating SCRAM user {user} refused: {exc.args[0].str()}") from exc
