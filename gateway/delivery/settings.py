"""Typed settings of one target's delivery: its transport, the retry policy, concurrency and batch sizes.

A delivery TOML file holds one table per target; command-line options win over it::

    [sis]
    transport = "http"
    max_in_flight = 8
    [sis.transport_options]
    url = "https://sis-gateway.example/api/messages"
    client_cert = "/etc/gateway/sis-client.pem"
    client_key = "/etc/gateway/sis-client.key"
    ca_bundle = "/etc/gateway/sis-ca.pem"
    [sis.retry]
    deadline_s = 120

How the Kafka time limits follow from the retry policy: a batch's transaction is opened at the broker only when its
first output is produced, which happens after every message of the batch got its final answer, so delivery time does
not count against ``transaction.timeout.ms``. It does count against the consumer's ``max.poll.interval.ms``, since
the consumer is not polled while a batch is delivered. A batch stops starting attempts once ``batch_deadline_s`` has
passed (a message's own retries end at ``retry.deadline_s``, which may not exceed it); an attempt already started
ends within the transport's time-out, which must stay below ``in_flight_grace_s``. So `max_poll_interval_ms` is
``batch_deadline_s + in_flight_grace_s`` (plus the commit): a long target outage makes the batch end unfinished and
be redone, never makes the group evict a worker that is only waiting.
"""

from __future__ import annotations

import socket
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from gateway.errors import ConfigError

__all__ = ["DeliverySettings", "RetryPolicy", "load_delivery_settings"]

_COMMIT_SLACK_S = 60.0


class RetryPolicy(BaseModel):
    """How hard to retry one message's transient failures.

    Attributes:
        initial_backoff_s: First back-off before jitter; it doubles on each retry.
        max_backoff_s: Cap on one back-off, before jitter.
        jitter_s: Up to this much random delay is added to each back-off, so workers don't retry in lockstep.
        max_attempts: Sends in all, the first included, before the message is left for the batch's next try.
        deadline_s: Give up on a message this long after its first send (it stays pending, never dropped).
        max_retry_after_s: Cap on a target's ``Retry-After``, so a wrong header cannot park a case for days.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    initial_backoff_s: float = Field(default=0.2, gt=0)
    max_backoff_s: float = Field(default=10.0, gt=0)
    jitter_s: float = Field(default=0.5, ge=0)
    max_attempts: int = Field(default=12, ge=1)
    deadline_s: float = Field(default=120.0, gt=0)
    max_retry_after_s: float = Field(default=60.0, ge=0)


class DeliverySettings(BaseModel):
    """How one target's delivery worker runs.

    Attributes:
        transport: Name of the transport plugin (``http``, ``filedrop`` or an installed one).
        transport_options: The transport's options, validated by its ``options_model``.
        retry: Retry policy of transient failures.
        max_in_flight: Cases (ordering keys) delivered at once; each case's messages go one after another.
        batch_size: Most outbox records per Kafka transaction.
        batch_wait_s: Longest wait for a batch to fill.
        batch_deadline_s: After this long a batch starts no more attempts; what is unfinished makes the batch be
            redone (see the module doc).
        in_flight_grace_s: Time allowed for the attempts under way at the batch deadline, and for the commit.
        application: Names the consumer group (``<application>-<target>``) and transactional ids.
        instance: Stable name of this process (its transactional id and static group member id).
        group_id: Consumer group; None: ``<application>-<target>``.
        idle_exit_s: Stop after this long without input (tests, batch jobs); None runs until stopped.
        outage_deadline_s: Longest outage (broker or target) to wait out before giving up.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    transport: str = "http"
    transport_options: dict[str, Any] = Field(default_factory=dict)
    retry: RetryPolicy = Field(default_factory=RetryPolicy)
    max_in_flight: int = Field(default=8, ge=1, le=256)
    batch_size: int = Field(default=200, ge=1, le=10_000)
    batch_wait_s: float = Field(default=0.5, gt=0)
    batch_deadline_s: float = Field(default=240.0, gt=0)
    in_flight_grace_s: float = Field(default=60.0, gt=0)
    application: str = Field(default="gateway-deliver", min_length=1)
    instance: str = Field(default_factory=socket.gethostname, min_length=1)
    group_id: str | None = None
    idle_exit_s: float | None = Field(default=None, gt=0)
    outage_deadline_s: float = Field(default=600.0, gt=0)

    @model_validator(mode="after")
    def _check_deadlines(self) -> DeliverySettings:
        if self.retry.deadline_s > self.batch_deadline_s:
            raise ValueError("retry.deadline_s may not exceed batch_deadline_s: one message would outlast its batch")
        return self

    def group(self, target: str) -> str:
        """The consumer group of the target's workers."""
        return self.group_id or f"{self.application}-{target}"

    @property
    def max_poll_interval_ms(self) -> int:
        """The consumer's ``max.poll.interval.ms``: the longest batch, plus its commit (see the module doc)."""
        return int((self.batch_deadline_s + self.in_flight_grace_s + _COMMIT_SLACK_S) * 1000)


def load_delivery_settings(path: Path | None, target: str, **overrides: Any) -> DeliverySettings:
    """The settings of ``target``: its table of the TOML file (if given), then keyword overrides (None ignored).

    ``transport_options`` given as an override are merged into the file's, key by key.

    Raises:
        ConfigError: The file cannot be read or the settings are invalid.
    """
    data: dict[str, Any] = {}
    if path is not None:
        try:
            whole = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"cannot read delivery configuration {path}: {exc}") from exc
        table = whole.get(target, {})
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: [{target}] must be a table")
        data = dict(table)
    extra = overrides.pop("transport_options", None) or {}
    data["transport_options"] = {
        **data.get("transport_options", {}),
        **{k: v for k, v in extra.items() if v is not None},
    }
    data.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return DeliverySettings(**data)
    except (ValidationError, ValueError) as exc:
        raise ConfigError(f"invalid delivery configuration of {target!r}: {exc}") from exc
