"""The gateway's typed configuration: a TOML file and ``GATEWAY_*`` environment variables, validated at start-up.

Precedence, highest first (pydantic-settings' usual order): keyword arguments (command-line options), ``GATEWAY_*``
environment variables, a ``.env`` file, the TOML file, the defaults. So a deployment can keep the TOML file in the
image and put secrets in the environment: the environment wins. `GatewaySettings.load` logs where each secret came
from (never its value) and refuses a known placeholder secret unless ``allow_placeholder_secret`` is set (the demo).

Example ``gateway.toml``::

    # subject_key_secret: set GATEWAY_SUBJECT_KEY_SECRET in the environment, not here
    [kafka]
    bootstrap_servers = "127.0.0.1:19092"     # or GATEWAY_KAFKA__BOOTSTRAP_SERVERS
    [topics]
    canonical = "gateway.case-events.v1"
    [connectors.nl-xml]
    member_state = "NL"
    errors_tolerance = "all"
"""

from __future__ import annotations

import logging
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator
from pydantic_settings import (
    BaseSettings,
    DotEnvSettingsSource,
    EnvSettingsSource,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SecretsSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from gateway.errors import ConfigError
from gateway.kafka.settings import KafkaSettings, ProducerSettings
from gateway.kafka.topics import TopicSpec
from gateway.observability.settings import ObservabilitySettings

_log = logging.getLogger(__name__)

# A development secret so that the demo runs out of the box; commands that ingest warn loudly when it is in use.
DEV_SECRET = "dev-only-not-a-secret"  # noqa: S105 - a marker value, deliberately not secret

PLACEHOLDER_SECRETS = frozenset({DEV_SECRET, "change me", "change-me", "changeme"})
"""Secret values seen in examples and the demo: given explicitly outside the demo they are a mistake, not a choice."""

SecretSource = Literal["argument", "env", "file", "default"]
"""Where a setting's value came from: a keyword argument (command-line option), the environment, the TOML file, or
the default."""

# Secret settings by their path; their provenance is logged at start-up (never their values).
_SECRETS = (("subject_key_secret",), ("kafka", "sasl_password"), ("kafka", "ssl_key_password"))


class TopicNames(BaseModel):
    """Topic names and layout.

    Attributes:
        canonical: The canonical event topic, keyed by subject key.
        dlq_prefix: Prefix of the per-connector dead-letter topics (``<prefix><connector>``).
        raw_prefix: Prefix of the per-connector raw inbound topics of service mode.
        progress: Compacted topic recording how far each file has been ingested.
        alerts: The detector's alerts (``SecondaryMovementSuspected``), keyed by subject key.
        erasures: Requests to erase a subject's detector state (``gateway state erase``), keyed by subject key;
            partitioned as the canonical topic, so a request reaches the process that holds the subject.
        detector_dlq: Canonical messages the detector cannot read (e.g. written by a newer schema).
        outbox_prefix: Prefix of the per-target outbox topics (``<prefix><target>``: ``gateway.out.sis`` ...), keyed
            by the message's ordering key (one case), written in the transaction of the consumed offsets.
        outbox_dlq_prefix: Prefix of the per-target dead-letter topics of delivery (permanent rejections).
        receipts: Delivery receipts (delivered / rejected), keyed like the outbox messages they report on.
        ees_inbound: EES exit records on their way to matching, keyed by subject key and partitioned as the
            canonical topic.
        review: Inputs the gateway could not place (an unmatched or ambiguous EES exit ...), with the reason; for a
            person to look at, never dropped.
        outbound_dlq: Canonical messages the outbound stage cannot read, and messages it built that failed their
            XSD (they never leave), with the reason.
        ees_documents: Compacted index from travel-document key to subject key (key ``<document key>:<subject
            key>``), written by the outbound stage, read whole by the EES exit ingest to route an exit to its subject.
        ees_dlq: EES exit files and records that cannot be read, with their bytes.
        riat_referrals: Compacted index from RIAT referral id to subject (key ``<referral id>:<subject key>``), written
            by the outbound stage for referrals that left, read by ``gateway riat pull`` to route a partner's status.
        riat_dlq: Partner statuses that cannot be read, with their bytes.
        riat_progress: Compacted cursor of the RIAT status feed, committed with each page's events.
        partitions: Partitions of the canonical, raw and dead-letter topics.
        replication_factor: Replication factor of the gateway's topics.
        min_insync_replicas: ``min.insync.replicas`` set on each of the gateway's topics: with ``acks=all`` a write
            succeeds only once this many replicas have it (2 with a replication factor of 3: one broker may fail
            with no acknowledged write lost and no producer stopped). None leaves the broker's default.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    canonical: str = "gateway.case-events.v1"
    dlq_prefix: str = "gateway.dlq."
    raw_prefix: str = "gateway.raw."
    progress: str = "gateway.ingest-progress"
    alerts: str = "gateway.alerts.v1"
    erasures: str = "gateway.erasures.v1"
    detector_dlq: str = "gateway.dlq.detector"
    outbox_prefix: str = "gateway.out."
    outbox_dlq_prefix: str = "gateway.dlq.out."
    receipts: str = "gateway.receipts.v1"
    ees_inbound: str = "gateway.in.ees.v1"
    review: str = "gateway.review.v1"
    outbound_dlq: str = "gateway.dlq.outbound"
    ees_documents: str = "gateway.ees.documents.v1"
    ees_dlq: str = "gateway.dlq.ees"
    riat_referrals: str = "gateway.riat.referrals.v1"
    riat_dlq: str = "gateway.dlq.riat"
    riat_progress: str = "gateway.riat.progress.v1"
    partitions: int = Field(3, ge=1)
    replication_factor: int = Field(1, ge=1)
    min_insync_replicas: int | None = Field(None, ge=1)

    @model_validator(mode="after")
    def _check_min_insync(self) -> TopicNames:
        if self.min_insync_replicas is not None and self.min_insync_replicas > self.replication_factor:
            raise ValueError(
                f"topics.min_insync_replicas ({self.min_insync_replicas}) exceeds topics.replication_factor "
                f"({self.replication_factor}): no write could ever be acknowledged"
            )
        return self

    def spec(self, name: str, *, partitions: int | None = None, **options: Any) -> TopicSpec:
        """A topic of the gateway with this layout: replication factor and ``min.insync.replicas`` applied.

        Args:
            name: Topic name.
            partitions: Partition count; None: `partitions`.
            **options: Further `TopicSpec` fields (``cleanup_policy``, ``retention_ms`` ...).
        """
        configs = dict(options.pop("configs", {}))
        if self.min_insync_replicas is not None:
            configs.setdefault("min.insync.replicas", str(self.min_insync_replicas))
        return TopicSpec(
            name=name,
            partitions=self.partitions if partitions is None else partitions,
            replication_factor=self.replication_factor,
            configs=configs,
            **options,
        )

    def dlq(self, connector: str) -> str:
        """Dead-letter topic of a connector."""
        return f"{self.dlq_prefix}{connector}"

    def raw(self, connector: str) -> str:
        """Raw inbound topic of a connector."""
        return f"{self.raw_prefix}{connector}"

    def outbox(self, target: str) -> str:
        """Outbox topic of a delivery target (``sis``, ``eurodac`` ...)."""
        return f"{self.outbox_prefix}{target}"

    def outbox_dlq(self, target: str) -> str:
        """Dead-letter topic of a delivery target: messages the target refused for good, with its answer."""
        return f"{self.outbox_dlq_prefix}{target}"

    def delivery_specs(self, target: str) -> list[TopicSpec]:
        """Topic specifications of one target's delivery: its outbox, its dead letters and the receipts."""
        return [
            self.spec(self.outbox(target)),
            self.spec(self.outbox_dlq(target)),
            self.spec(self.receipts),
        ]

    def outbound_specs(self, targets: tuple[str, ...]) -> list[TopicSpec]:
        """Topic specifications of the outbound stage: each target's delivery topics, EES inbound, review, index.

        The EES inbound topic has the canonical topic's partition count: an exit keyed by subject key reaches the
        process that holds the subject's cases.
        """
        specs = [spec for target in targets for spec in self.delivery_specs(target)]
        specs = list({spec.name: spec for spec in specs}.values())  # the receipts topic is shared
        return [
            *specs,
            self.spec(self.ees_inbound),
            self.spec(self.review),
            self.spec(self.outbound_dlq),
            self.spec(self.ees_documents, cleanup_policy="compact"),
            self.spec(self.riat_referrals, cleanup_policy="compact"),
        ]

    def detector_specs(self) -> list[TopicSpec]:
        """Topic specifications of the detector: alerts, erasure requests and its dead letters.

        The erasure topic has the canonical topic's partition count, so a request keyed by subject key lands in the
        partition whose state holds that subject.
        """
        return [
            self.spec(self.alerts),
            self.spec(self.erasures),
            self.spec(self.detector_dlq),
        ]

    def specs(self, connectors: list[str]) -> list[TopicSpec]:
        """Topic specifications for the canonical topic, the progress topic and each connector's topics."""
        specs = [
            self.spec(self.canonical),
            self.spec(self.progress, partitions=1, cleanup_policy="compact"),
        ]
        for c in connectors:
            specs.append(self.spec(self.dlq(c)))
            specs.append(self.spec(self.raw(c)))
        return specs


def source_order(
    settings_cls: type[BaseSettings],
    init_settings: PydanticBaseSettingsSource,
    env_settings: PydanticBaseSettingsSource,
    dotenv_settings: PydanticBaseSettingsSource,
    file_secret_settings: PydanticBaseSettingsSource,
) -> tuple[PydanticBaseSettingsSource, ...]:
    """The gateway's precedence of settings sources, for a class's ``settings_customise_sources``.

    Arguments > environment > ``.env`` > TOML file (the class's ``model_config["toml_file"]``) > secrets files >
    defaults.

    Shared by `GatewaySettings` and the dashboard's settings, so both read their sources in the same order.
    """
    return (
        init_settings,
        env_settings,
        dotenv_settings,
        TomlConfigSettingsSource(settings_cls),
        file_secret_settings,
    )


class GatewaySettings(BaseSettings):
    """Everything a gateway process needs to know.

    Attributes:
        kafka: Broker connection and security.
        producer: Producer tuning.
        topics: Topic names and layout.
        subject_key_secret: Secret of the pseudonymous subject keys (HMAC); the same for every process.
        registry_url: Schema registry (Confluent-compatible API); None means single-object encoding.
        connectors: Connector name -> its configuration (validated by the connector's own model).
        rules_enabled: Run the validation rules; off, only Avro schema validity is checked.
        rules_config: Validation rule configuration file, if any.
        batch_size: Records per transaction when ingesting.
        allow_placeholder_secret: Accept a known placeholder ``subject_key_secret`` (`PLACEHOLDER_SECRETS`); only
            the demo sets it, so a placeholder copied from an example never pseudonymises real data.
        state_dir: Folder of the durable state's files (``GATEWAY_STATE_DIR``; relative to the working directory):
            the rule stage's case states, one SQLite file per application, store and partition (see
            ``gateway.state``). They are a local copy of their changelog topics: deleting them costs a restore from
            the changelog, never data. Processes on one machine may share the folder.
        observability: The metrics/health port and the log format of long-running commands
            (``GATEWAY_OBSERVABILITY__METRICS_PORT``, ``GATEWAY_OBSERVABILITY__LOG_FORMAT`` ...).
    """

    model_config = SettingsConfigDict(
        env_prefix="GATEWAY_", env_nested_delimiter="__", frozen=True, extra="forbid", toml_file=None
    )

    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    producer: ProducerSettings = Field(default_factory=ProducerSettings)
    topics: TopicNames = Field(default_factory=TopicNames)
    subject_key_secret: SecretStr = SecretStr(DEV_SECRET)
    registry_url: str | None = None
    connectors: dict[str, dict[str, Any]] = Field(default_factory=dict)
    rules_enabled: bool = True
    rules_config: Path | None = None
    batch_size: int = Field(2000, ge=1, le=100_000)
    state_dir: Path = Path(".gateway-state")
    allow_placeholder_secret: bool = False
    observability: ObservabilitySettings = Field(default_factory=ObservabilitySettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Arguments > environment > ``.env`` > TOML file (``model_config["toml_file"]``, set by `load`) > defaults."""
        return source_order(settings_cls, init_settings, env_settings, dotenv_settings, file_secret_settings)

    @classmethod
    def load(cls, path: Path | None = None, **overrides: Any) -> GatewaySettings:
        """Load keyword overrides, environment variables, the TOML file (if given) and defaults, in that precedence.

        Logs where each secret came from (env / file / default, never the value).

        Raises:
            ConfigError: The file cannot be read or parsed, a value is invalid, or ``subject_key_secret`` is a known
                placeholder and ``allow_placeholder_secret`` is not set.
        """
        if path is not None and not path.is_file():
            raise ConfigError(f"cannot read configuration {path}: no such file")
        init = InitSettingsSource(cls, {k: v for k, v in overrides.items() if v is not None})
        env, dotenv, secrets = EnvSettingsSource(cls), DotEnvSettingsSource(cls), SecretsSettingsSource(cls)
        try:
            toml = TomlConfigSettingsSource(cls, toml_file=path)
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"cannot read configuration {path}: {exc}") from exc
        sources = tuple(
            toml if isinstance(source, TomlConfigSettingsSource) else source
            for source in cls.settings_customise_sources(cls, init, env, dotenv, secrets)
        )
        try:
            settings = cls(_build_sources=(sources, init.init_kwargs))
        except ValueError as exc:
            raise ConfigError(f"invalid configuration: {exc}") from exc
        origins = secret_sources(init(), {**dotenv(), **env()}, toml(), _kafka_env())
        _log.info("secrets from (values never logged): %s", ", ".join(f"{k}={v}" for k, v in origins.items()))
        settings.check_secret(origins["subject_key_secret"])
        return settings

    def check_secret(self, origin: SecretSource) -> None:
        """Refuse a placeholder ``subject_key_secret`` given explicitly, unless ``allow_placeholder_secret`` is set.

        The unset default (`DEV_SECRET`) stays allowed with a warning, so that tools that never pseudonymise run
        without one; commands that ingest warn loudly (`uses_dev_secret`).

        Raises:
            ConfigError: Naming the setting and where the placeholder came from, never the value.
        """
        if origin == "default" or self.allow_placeholder_secret:
            return
        if self.subject_key_secret.get_secret_value().strip().lower() in PLACEHOLDER_SECRETS:
            where = {"env": "GATEWAY_SUBJECT_KEY_SECRET", "file": "the configuration file", "argument": "an option"}
            raise ConfigError(
                f"subject_key_secret from {where[origin]} is a placeholder from an example; set the real secret "
                "(GATEWAY_SUBJECT_KEY_SECRET), or allow_placeholder_secret = true for a demo"
            )

    @property
    def uses_dev_secret(self) -> bool:
        """Whether the subject-key secret is the development default."""
        return self.subject_key_secret.get_secret_value() == DEV_SECRET


def _kafka_env() -> dict[str, Any]:
    """What ``KafkaSettings`` reads from its own ``GATEWAY_KAFKA_*`` variables (it is a settings class itself)."""
    return EnvSettingsSource(KafkaSettings)()


def secret_sources(
    arguments: Mapping[str, Any], env: Mapping[str, Any], file: Mapping[str, Any], kafka_env: Mapping[str, Any]
) -> dict[str, SecretSource]:
    """Where each secret setting came from, by the precedence of `GatewaySettings.load`; values are never looked at.

    Args:
        arguments: Keyword overrides.
        env: Values from ``GATEWAY_*`` variables (and ``.env``), nested by ``__``.
        file: Values from the TOML file.
        kafka_env: Values ``KafkaSettings`` read from ``GATEWAY_KAFKA_*`` (used when nothing above sets ``kafka``).
    """

    def has(values: Mapping[str, Any], path: tuple[str, ...]) -> bool:
        node: Any = values
        for key in path:
            if not isinstance(node, Mapping) or node.get(key) is None:
                return False
            node = node[key]
        return True

    origins: dict[str, SecretSource] = {}
    for path in _SECRETS:
        origin: SecretSource = "default"
        if has(arguments, path):
            origin = "argument"
        elif has(env, path):
            origin = "env"
        elif has(file, path):
            origin = "file"
        elif (
            path[0] == "kafka"
            and has(kafka_env, path[1:])
            and not any(has(v, ("kafka",)) for v in (arguments, env, file))
        ):
            origin = "env"
        origins[".".join(path)] = origin
    return origins
