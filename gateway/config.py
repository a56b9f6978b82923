"""The gateway's typed configuration: a TOML file and ``GATEWAY_*`` environment variables, validated at start-up.

Example ``gateway.toml``::

    subject_key_secret = "change me"           # or GATEWAY_SUBJECT_KEY_SECRET
    [kafka]
    bootstrap_servers = "127.0.0.1:19092"     # or GATEWAY_KAFKA__BOOTSTRAP_SERVERS
    [topics]
    canonical = "gateway.case-events.v1"
    [connectors.nl-xml]
    member_state = "NL"
    errors_tolerance = "all"
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from gateway.errors import ConfigError
from gateway.kafka.settings import KafkaSettings, ProducerSettings
from gateway.kafka.topics import TopicSpec

# A development secret so that the demo runs out of the box; commands that ingest warn loudly when it is in use.
DEV_SECRET = "dev-only-not-a-secret"  # noqa: S105 - a marker value, deliberately not secret


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
        rf = self.replication_factor
        return [
            TopicSpec(name=self.outbox(target), partitions=self.partitions, replication_factor=rf),
            TopicSpec(name=self.outbox_dlq(target), partitions=self.partitions, replication_factor=rf),
            TopicSpec(name=self.receipts, partitions=self.partitions, replication_factor=rf),
        ]

    def outbound_specs(self, targets: tuple[str, ...]) -> list[TopicSpec]:
        """Topic specifications of the outbound stage: each target's delivery topics, EES inbound, review, index.

        The EES inbound topic has the canonical topic's partition count: an exit keyed by subject key reaches the
        process that holds the subject's cases.
        """
        rf = self.replication_factor
        specs = [spec for target in targets for spec in self.delivery_specs(target)]
        specs = list({spec.name: spec for spec in specs}.values())  # the receipts topic is shared
        return [
            *specs,
            TopicSpec(name=self.ees_inbound, partitions=self.partitions, replication_factor=rf),
            TopicSpec(name=self.review, partitions=self.partitions, replication_factor=rf),
            TopicSpec(name=self.outbound_dlq, partitions=self.partitions, replication_factor=rf),
            TopicSpec(
                name=self.ees_documents, partitions=self.partitions, replication_factor=rf, cleanup_policy="compact"
            ),
            TopicSpec(
                name=self.riat_referrals, partitions=self.partitions, replication_factor=rf, cleanup_policy="compact"
            ),
        ]

    def detector_specs(self) -> list[TopicSpec]:
        """Topic specifications of the detector: alerts, erasure requests and its dead letters.

        The erasure topic has the canonical topic's partition count, so a request keyed by subject key lands in the
        partition whose state holds that subject.
        """
        rf = self.replication_factor
        return [
            TopicSpec(name=self.alerts, partitions=self.partitions, replication_factor=rf),
            TopicSpec(name=self.erasures, partitions=self.partitions, replication_factor=rf),
            TopicSpec(name=self.detector_dlq, partitions=self.partitions, replication_factor=rf),
        ]

    def specs(self, connectors: list[str]) -> list[TopicSpec]:
        """Topic specifications for the canonical topic, the progress topic and each connector's topics."""
        rf = self.replication_factor
        specs = [
            TopicSpec(name=self.canonical, partitions=self.partitions, replication_factor=rf),
            TopicSpec(name=self.progress, partitions=1, replication_factor=rf, cleanup_policy="compact"),
        ]
        for c in connectors:
            specs.append(TopicSpec(name=self.dlq(c), partitions=self.partitions, replication_factor=rf))
            specs.append(TopicSpec(name=self.raw(c), partitions=self.partitions, replication_factor=rf))
        return specs


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
        state_dir: Folder of the durable state's files (``GATEWAY_STATE_DIR``; relative to the working directory):
            the rule stage's case states, one SQLite file per application, store and partition (see
            ``gateway.state``). They are a local copy of their changelog topics: deleting them costs a restore from
            the changelog, never data. Processes on one machine may share the folder.
    """

    model_config = SettingsConfigDict(env_prefix="GATEWAY_", env_nested_delimiter="__", frozen=True, extra="forbid")

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

    @classmethod
    def load(cls, path: Path | None = None, **overrides: Any) -> GatewaySettings:
        """Load from a TOML file (if given), then environment variables, then keyword overrides."""
        data: dict[str, Any] = {}
        if path is not None:
            try:
                data = tomllib.loads(path.read_text(encoding="utf-8"))
            except (OSError, tomllib.TOMLDecodeError) as exc:
                raise ConfigError(f"cannot read configuration {path}: {exc}") from exc
        data.update({k: v for k, v in overrides.items() if v is not None})
        try:
            return cls(**data)
        except ValueError as exc:
            raise ConfigError(f"invalid configuration: {exc}") from exc

    @property
    def uses_dev_secret(self) -> bool:
        """Whether the subject-key secret is the development default."""
        return self.subject_key_secret.get_secret_value() == DEV_SECRET
