"""Typed, frozen configuration for the Kafka layer, mapped to librdkafka keys in one place per role.

Every model reads the environment deliberately through its own prefix (``GATEWAY_KAFKA_``,
``GATEWAY_KAFKA_PRODUCER_``, ``GATEWAY_KAFKA_CONSUMER_``, ``GATEWAY_KAFKA_TXN_``); keyword arguments win over the
environment. Fields map to dotted librdkafka keys through a *serialization* alias generator (``linger_ms`` →
``linger.ms``), so the environment variable names stay ``<PREFIX><FIELD>``. Secrets are ``SecretStr`` and are revealed
only inside ``to_librdkafka()``. Every configuration routes librdkafka's own logs through Python logging
(`gateway.kafka.logs`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from confluent_kafka import KafkaException, Producer
from pydantic import AliasGenerator, BaseModel, Field, FilePath, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from gateway.kafka.logs import LIBRDKAFKA_LOG_LEVEL, LibrdkafkaLog

__all__ = [
    "ConsumerSettings",
    "KafkaSettings",
    "LibrdkafkaConfig",
    "ProducerSettings",
    "TransactionSettings",
]

LibrdkafkaConfig = dict[str, Any]
"""A configuration dict as confluent-kafka clients take it; built from the models, never by hand.

Values are ``str``, ``int`` or ``bool``, and the ``logger`` a `LibrdkafkaLog`: typed ``Any`` because the stubs of the
client constructors disagree on the value type (``AdminClient`` admits no objects, although it takes ``logger``)."""

SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]
Compression = Literal["none", "gzip", "snappy", "lz4", "zstd"]

_DOTTED = AliasGenerator(serialization_alias=lambda name: name.replace("_", "."))

# Keys (with their librdkafka aliases) that typed fields or the layer's invariants own. An override for one would be a
# second source of truth, be silently shadowed, or switch off idempotence or manual commits, so it is rejected.
_OWNED_KEYS = frozenset(
    {
        "bootstrap.servers",
        "metadata.broker.list",
        "client.id",
        "security.protocol",
        "ssl.ca.location",
        "ssl.certificate.location",
        "ssl.key.location",
        "ssl.key.password",
        "ssl.endpoint.identification.algorithm",
        "sasl.mechanism",
        "sasl.mechanisms",
        "sasl.username",
        "sasl.password",
        "enable.idempotence",
        "acks",
        "request.required.acks",
        "transactional.id",
        "transaction.timeout.ms",
        "group.id",
        "enable.auto.commit",
        "isolation.level",
        "auto.offset.reset",
        "session.timeout.ms",
        "max.poll.interval.ms",
        "linger.ms",
        "queue.buffering.max.ms",
        "compression.codec",
        "compression.type",
        "batch.size",
        "batch.num.messages",
        "queue.buffering.max.messages",
        "queue.buffering.max.kbytes",
        "message.timeout.ms",
        "delivery.timeout.ms",
        "logger",
        "log_level",
    }
)
# librdkafka's "sensitive" properties: an override is plain text and would show in repr and logs.
_SECRET_KEY = re.compile(r"password|secret|\.pem$|oauthbearer\.config|keystore|ssl_key")


def _dotted(model: BaseModel, *, exclude: set[str] | None = None) -> LibrdkafkaConfig:
    """Dump a model by its dotted aliases, revealing secrets and dropping unset (None) fields."""
    config: LibrdkafkaConfig = {}
    for key, value in model.model_dump(by_alias=True, exclude_none=True, exclude=exclude).items():
        if isinstance(value, SecretStr):
            config[key] = value.get_secret_value()
        elif isinstance(value, Path):
            config[key] = str(value)
        else:
            config[key] = value
    return config


def check_overrides(overrides: dict[str, str]) -> dict[str, str]:
    """Reject override keys librdkafka does not know, keys the typed fields own, and secrets.

    Unknown keys are found by building a throwaway, unconnected ``Producer`` from the overrides alone: the linked
    librdkafka raises ``No such configuration property`` (or ``Invalid value``) at construction, so the check always
    matches the library version actually in use, unlike a copied allowlist. Without ``bootstrap.servers`` the client
    opens no connection. Consumer-only keys are accepted (librdkafka ignores them on a producer).

    Args:
        overrides: Dotted librdkafka keys and their values.

    Returns:
        The overrides, unchanged.

    Raises:
        ValueError: A key is owned by a typed field, looks like a secret, is unknown or has an invalid value.
    """
    owned = sorted(_OWNED_KEYS.intersection(overrides))
    if owned:
        raise ValueError(f"set these through their typed fields, not overrides: {owned}")
    secret = sorted(key for key in overrides if _SECRET_KEY.search(key))
    if secret:
        raise ValueError(f"secrets may not be passed as plain-text overrides: {secret}")
    if overrides:
        try:
            Producer({**overrides, "log_level": 0})
        except KafkaException as exc:
            raise ValueError(f"invalid librdkafka override: {exc.args[0].str()}") from exc
    return overrides


class KafkaSettings(BaseSettings):
    """Connection and security settings shared by every client.

    Attributes:
        bootstrap_servers: Comma-separated ``host:port`` list.
        client_id: Client id reported to the brokers (quotas, logs).
        security_protocol: ``PLAINTEXT``, ``SSL``, ``SASL_PLAINTEXT`` or ``SASL_SSL``.
        ssl_ca_location: CA bundle (PEM) used to verify the brokers; must exist.
        ssl_certificate_location: Client certificate (PEM) for mutual TLS; must exist.
        ssl_key_location: Client private key (PEM) for mutual TLS; must exist.
        ssl_key_password: Password of the client private key.
        ssl_endpoint_identification: Verify that the broker certificate matches its host name.
        sasl_mechanism: ``PLAIN``, ``SCRAM-SHA-256`` or ``SCRAM-SHA-512``.
        sasl_username: SASL user name.
        sasl_password: SASL password.
        overrides: Advanced librdkafka keys applied to every client; unknown keys, keys owned by typed fields and
            secrets are rejected (see `check_overrides`).
        connect_timeout_s: How long a command waits for an unreachable cluster at start-up before it gives up with
            one line and a non-zero exit (`gateway.kafka.connect.wait_for_broker`).
        connect_log_interval_s: While waiting, one line per this many seconds says so.
    """

    model_config = SettingsConfigDict(
        env_prefix="GATEWAY_KAFKA_", frozen=True, extra="forbid", hide_input_in_errors=True, alias_generator=_DOTTED
    )

    bootstrap_servers: str = Field(default="127.0.0.1:9092", min_length=1)
    client_id: str = Field(default="returns-gateway", min_length=1)
    security_protocol: SecurityProtocol = "PLAINTEXT"
    ssl_ca_location: FilePath | None = None
    ssl_certificate_location: FilePath | None = None
    ssl_key_location: FilePath | None = None
    ssl_key_password: SecretStr | None = None
    ssl_endpoint_identification: bool = True
    sasl_mechanism: SaslMechanism | None = None
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    overrides: dict[str, str] = Field(default_factory=dict)
    connect_timeout_s: float = Field(default=60.0, gt=0)
    connect_log_interval_s: float = Field(default=60.0, gt=0)

    @field_validator("overrides")
    @classmethod
    def _check_overrides(cls, overrides: dict[str, str]) -> dict[str, str]:
        return check_overrides(overrides)

    @property
    def uses_tls(self) -> bool:
        """Whether the connection is encrypted with TLS."""
        return self.security_protocol in ("SSL", "SASL_SSL")

    @property
    def uses_sasl(self) -> bool:
        """Whether the connection authenticates with SASL."""
        return self.security_protocol.startswith("SASL_")

    @model_validator(mode="after")
    def _check_security(self) -> KafkaSettings:
        if self.uses_sasl and not (self.sasl_mechanism and self.sasl_username and self.sasl_password):
            raise ValueError(f"{self.security_protocol} needs sasl_mechanism, sasl_username and sasl_password")
        if not self.uses_sasl and (self.sasl_mechanism or self.sasl_username or self.sasl_password):
            raise ValueError(f"SASL settings given but security_protocol is {self.security_protocol}")
        tls_files = (self.ssl_ca_location, self.ssl_certificate_location, self.ssl_key_location, self.ssl_key_password)
        if not self.uses_tls and any(tls_files):
            raise ValueError(f"TLS settings given but security_protocol is {self.security_protocol}")
        if (self.ssl_certificate_location is None) != (self.ssl_key_location is None):
            raise ValueError("mutual TLS needs both ssl_certificate_location and ssl_key_location")
        if self.ssl_key_password is not None and self.ssl_key_location is None:
            raise ValueError("ssl_key_password given without ssl_key_location")
        return self

    def to_librdkafka(self) -> LibrdkafkaConfig:
        """Map to librdkafka keys, revealing secrets; TLS and SASL keys appear only when the protocol uses them.

        Each call adds a fresh `LibrdkafkaLog` (``logger``, warnings and up, repeats dropped): one per client.
        """
        exclude = {"overrides", "ssl_endpoint_identification", "connect_timeout_s", "connect_log_interval_s"}
        if not self.uses_tls:
            exclude |= {"ssl_ca_location", "ssl_certificate_location", "ssl_key_location", "ssl_key_password"}
        config = _dotted(self, exclude=exclude)
        if self.uses_tls:
            # librdkafka takes an algorithm name, not a flag.
            algorithm = "https" if self.ssl_endpoint_identification else "none"
            config["ssl.endpoint.identification.algorithm"] = algorithm
        return {**config, "logger": LibrdkafkaLog(), "log_level": LIBRDKAFKA_LOG_LEVEL, **self.overrides}


class ProducerSettings(BaseSettings):
    """Producer tuning. Idempotence (and with it ``acks=all``) is always on and cannot be switched off.

    Attributes:
        linger_ms: How long to wait for more messages before sending a batch.
        compression: Batch compression codec (``compression.codec``).
        batch_size: Maximum bytes per partition batch.
        batch_num_messages: Maximum messages per partition batch.
        queue_buffering_max_messages: Local queue size; ``produce`` waits (serving delivery reports) when full.
        queue_buffering_max_kbytes: Local queue size in KiB.
        message_timeout_ms: Time a message may wait for delivery before it is reported as failed.
    """

    model_config = SettingsConfigDict(
        env_prefix="GATEWAY_KAFKA_PRODUCER_",
        frozen=True,
        extra="forbid",
        hide_input_in_errors=True,
        alias_generator=_DOTTED,
    )

    linger_ms: int = Field(default=5, ge=0, le=900_000)
    compression: Compression = Field(default="lz4", serialization_alias="compression.codec")
    batch_size: int = Field(default=1_000_000, ge=1)
    batch_num_messages: int = Field(default=10_000, ge=1)
    queue_buffering_max_messages: int = Field(default=100_000, ge=1)
    queue_buffering_max_kbytes: int = Field(default=1_048_576, ge=1)
    message_timeout_ms: int = Field(default=300_000, ge=1)

    def to_librdkafka(self, kafka: KafkaSettings) -> LibrdkafkaConfig:
        """Compose the shared connection settings with this producer's; idempotence and ``acks=all`` are forced."""
        return {**kafka.to_librdkafka(), **_dotted(self), "enable.idempotence": True, "acks": "all"}


class ConsumerSettings(BaseSettings):
    """Consumer settings. Commits are always explicit (``enable.auto.commit=false``): this layer decides when.

    Attributes:
        group_id: Consumer group.
        group_instance_id: Static membership id (KIP-345): a restarted member with the same id takes its partitions
            back at once instead of waiting for the dead member's session to time out.
        auto_offset_reset: Where a group with no committed offset starts.
        isolation_level: ``read_committed`` (default) hides aborted and open transactions.
        session_timeout_ms: Group membership timeout.
        max_poll_interval_ms: Longest allowed gap between polls; must exceed the slowest batch.
    """

    model_config = SettingsConfigDict(
        env_prefix="GATEWAY_KAFKA_CONSUMER_",
        frozen=True,
        extra="forbid",
        hide_input_in_errors=True,
        alias_generator=_DOTTED,
    )

    group_id: str = Field(min_length=1)
    group_instance_id: str | None = Field(default=None, min_length=1)
    auto_offset_reset: Literal["earliest", "latest", "error"] = "earliest"
    isolation_level: Literal["read_committed", "read_uncommitted"] = "read_committed"
    session_timeout_ms: int = Field(default=45_000, ge=1)
    max_poll_interval_ms: int = Field(default=300_000, ge=1)

    def to_librdkafka(self, kafka: KafkaSettings) -> LibrdkafkaConfig:
        """Compose the shared connection settings with this consumer's; auto-commit is forced off."""
        return {**kafka.to_librdkafka(), **_dotted(self), "enable.auto.commit": False}


class TransactionSettings(BaseSettings):
    """Transactional producer settings.

    ``transaction_timeout_ms`` must not exceed the broker's ``transaction.max.timeout.ms`` (900000 by default), or
    ``init_transactions`` fails with ``INVALID_TRANSACTION_TIMEOUT``. It also bounds how long a crashed producer's open
    transaction blocks ``read_committed`` consumers, so keep it well under that maximum.

    Attributes:
        transactional_id: Stable id of this producer; a new instance with the same id fences the old one.
        transaction_timeout_ms: Time after which the broker aborts an open transaction.
    """

    model_config = SettingsConfigDict(
        env_prefix="GATEWAY_KAFKA_TXN_", frozen=True, extra="forbid", hide_input_in_errors=True, alias_generator=_DOTTED
    )

    transactional_id: str = Field(min_length=1)
    transaction_timeout_ms: int = Field(default=60_000, ge=1_000, le=900_000)

    def to_librdkafka(self, kafka: KafkaSettings, producer: ProducerSettings | None = None) -> LibrdkafkaConfig:
        """Compose connection, producer and transaction settings into one transactional producer config."""
        config = (producer or ProducerSettings()).to_librdkafka(kafka)
        # librdkafka refuses message.timeout.ms > transaction.timeout.ms: a message cannot outlive its transaction.
        timeout = min(int(config["message.timeout.ms"]), self.transaction_timeout_ms)
        return {**config, **_dotted(self), "message.timeout.ms": timeout}
