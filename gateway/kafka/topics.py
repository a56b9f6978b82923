"""Declared topics, made real idempotently with the AdminClient.

`ensure_topics` creates missing topics, leaves matching ones alone, reports layout it cannot change (partition count,
replication factor) and brings declared configs back in line with ``incremental_alter_configs``. Only configs a
`TopicSpec` declares are managed; other topic-level overrides are left as they are.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from confluent_kafka import KafkaError, KafkaException

# confluent_kafka.admin re-exports these without an __all__, which strict mypy reads as private; the path is public.
from confluent_kafka.admin import (  # type: ignore[attr-defined]
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    ConfigSource,
    NewTopic,
    ResourceType,
)
from pydantic import BaseModel, ConfigDict, Field, model_validator

from gateway.errors import ConfigError, GatewayError
from gateway.kafka.retry import (
    KafkaErrorInfo,
    KafkaTransientError,
    RetrySettings,
    classify,
    error_of,
    is_transient,
    retrying,
)
from gateway.kafka.settings import KafkaSettings

__all__ = [
    "ConfigDrift",
    "LayoutMismatch",
    "TopicSpec",
    "TopicsReport",
    "diff_configs",
    "ensure_topics",
    "max_message_bytes",
]

CleanupPolicy = Literal["delete", "compact", "compact,delete"]
_T = TypeVar("_T")
_TYPED_KEYS = frozenset({"retention.ms", "cleanup.policy"})


class TopicSpec(BaseModel):
    """A topic as the gateway needs it.

    Attributes:
        name: Topic name.
        partitions: Partition count (only ever reported on mismatch: changing it remaps keys to partitions).
        replication_factor: Replicas per partition.
        retention_ms: ``retention.ms``; -1 keeps data forever; None means the broker default.
        cleanup_policy: ``delete``, ``compact`` or both.
        configs: Further topic configs (``min.insync.replicas`` ...), dotted keys as the broker names them.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z0-9._-]{1,249}$")
    partitions: int = Field(ge=1)
    replication_factor: int = Field(ge=1)
    retention_ms: int | None = Field(default=None, ge=-1)
    cleanup_policy: CleanupPolicy = "delete"
    configs: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check_configs(self) -> TopicSpec:
        owned = sorted(_TYPED_KEYS.intersection(self.configs))
        if owned:
            raise ValueError(f"set {owned} through the typed fields, not configs")
        if self.name in (".", ".."):
            raise ValueError("topic name may not be '.' or '..'")
        return self

    def desired_configs(self) -> dict[str, str]:
        """The topic configs this spec sets explicitly."""
        configs = {"cleanup.policy": self.cleanup_policy, **self.configs}
        if self.retention_ms is not None:
            configs["retention.ms"] = str(self.retention_ms)
        return configs


@dataclass(frozen=True, slots=True)
class LayoutMismatch:
    """An existing topic whose layout differs from its spec; it cannot be fixed in place.

    Attributes:
        topic: Topic name.
        attribute: ``partitions`` or ``replication_factor``.
        expected: Value in the spec.
        actual: Value on the broker.
    """

    topic: str
    attribute: Literal["partitions", "replication_factor"]
    expected: int
    actual: int


@dataclass(frozen=True, slots=True)
class ConfigDrift:
    """A declared config whose value on the broker differs; ``expected=None`` means "back to the broker default".

    Attributes:
        topic: Topic name.
        key: Config key.
        expected: Declared value, or None.
        actual: Value on the broker, or None if unknown.
    """

    topic: str
    key: str
    expected: str | None
    actual: str | None


@dataclass(frozen=True, slots=True)
class TopicsReport:
    """What `ensure_topics` found and did.

    Attributes:
        created: Topics created now.
        unchanged: Existing topics that already matched their spec.
        mismatches: Layout differences, reported and not fixed.
        drift: Config differences found on existing topics.
        drift_applied: Whether ``drift`` was corrected on the broker.
    """

    created: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    mismatches: tuple[LayoutMismatch, ...] = ()
    drift: tuple[ConfigDrift, ...] = ()
    drift_applied: bool = False


def diff_configs(spec: TopicSpec, current: Mapping[str, ConfigEntry]) -> tuple[ConfigDrift, ...]:
    """Declared configs that differ on the broker, plus a ``retention.ms`` override when the spec wants the default.

    Args:
        spec: The topic's spec.
        current: ``describe_configs`` result for the topic.
    """
    drift: list[ConfigDrift] = []
    for key, expected in spec.desired_configs().items():
        entry = current.get(key)
        actual = entry.value if entry is not None else None
        if not _same_value(key, expected, actual):
            drift.append(ConfigDrift(spec.name, key, expected, actual))
    retention = current.get("retention.ms")
    if spec.retention_ms is None and retention is not None and _set_on_topic(retention):
        drift.append(ConfigDrift(spec.name, "retention.ms", None, retention.value))
    return tuple(drift)


def _set_on_topic(entry: ConfigEntry) -> bool:
    # describe_configs returns the source as a plain int although ConfigEntry documents a ConfigSource.
    source = getattr(entry.source, "value", entry.source)
    return bool(source == ConfigSource.DYNAMIC_TOPIC_CONFIG.value)


def _same_value(key: str, expected: str, actual: str | None) -> bool:
    if actual is None:
        return False
    if key == "cleanup.policy":
        # The broker may list the policies in either order.
        return set(expected.split(",")) == set(actual.split(","))
    return expected == actual


def ensure_topics(
    admin: AdminClient,
    specs: Sequence[TopicSpec],
    *,
    on_mismatch: Literal["raise", "report"] = "raise",
    apply_drift: bool = True,
    retry: RetrySettings | None = None,
    timeout_s: float = 30.0,
) -> TopicsReport:
    """Make the broker's topics match ``specs``, idempotently.

    Layout mismatches are checked before anything changes, so with ``on_mismatch="raise"`` a failing call alters
    nothing. Transient admin errors are retried with the layer's policy; anything else is a `ConfigError`.

    Args:
        admin: An admin client on the cluster.
        specs: Topics to ensure; names must be unique.
        on_mismatch: ``raise`` a `ConfigError` on a partition or replication mismatch, or ``report`` it.
        apply_drift: Correct config drift with ``incremental_alter_configs``; if False, only report it.
        retry: Retry policy for transient admin errors.
        timeout_s: Time limit for each admin request.

    Returns:
        What was found and done.

    Raises:
        ConfigError: Duplicate specs, a layout mismatch (when ``on_mismatch="raise"``) or a request the broker
            refused (invalid config, replication factor above the broker count, policy violation).
        TransientError: The cluster stayed unreachable past the retry policy.
    """
    names = [spec.name for spec in specs]
    if len(set(names)) != len(names):
        raise ConfigError(f"duplicate topic specs: {sorted({n for n in names if names.count(n) > 1})}")
    call = _Admin(admin, retry or RetrySettings(), timeout_s)
    layout = call.retry(call.layout)
    existing = [spec for spec in specs if spec.name in layout]
    mismatches = tuple(m for spec in existing for m in _layout_mismatches(spec, *layout[spec.name]))
    if mismatches and on_mismatch == "raise":
        listed = ", ".join(f"{m.topic} {m.attribute} {m.actual} != {m.expected}" for m in mismatches)
        raise ConfigError(f"topics differ from their specs and cannot be fixed in place: {listed}")
    created: list[str] = []
    for spec in specs:
        if spec.name in layout:
            continue
        if call.retry(call.create, spec):
            created.append(spec.name)
        else:
            existing.append(spec)  # another process created it meanwhile: check its configs like any other
    drift = tuple(d for spec in existing for d in diff_configs(spec, call.retry(call.configs, spec.name)))
    if drift and apply_drift:
        call.retry(call.alter, drift)
    changed = {m.topic for m in mismatches} | {d.topic for d in drift}
    return TopicsReport(
        created=tuple(created),
        unchanged=tuple(spec.name for spec in existing if spec.name not in changed),
        mismatches=mismatches,
        drift=drift,
        drift_applied=bool(drift) and apply_drift,
    )


def _layout_mismatches(spec: TopicSpec, partitions: int, replicas: int) -> list[LayoutMismatch]:
    found = []
    if partitions != spec.partitions:
        found.append(LayoutMismatch(spec.name, "partitions", spec.partitions, partitions))
    if replicas != spec.replication_factor:
        found.append(LayoutMismatch(spec.name, "replication_factor", spec.replication_factor, replicas))
    return found


class _Admin:
    """Admin requests with their errors classified: transient ones retried, the rest a `ConfigError`."""

    def __init__(self, admin: AdminClient, retry: RetrySettings, timeout_s: float) -> None:
        self._admin = admin
        self._retrying = retrying(retry)
        self._timeout_s = timeout_s

    def retry(self, fn: Callable[..., _T], *args: object) -> _T:
        return self._retrying(fn, *args)

    def layout(self) -> dict[str, tuple[int, int]]:
        """Existing topics: name -> (partition count, replication factor)."""
        try:
            metadata = self._admin.list_topics(timeout=self._timeout_s)
        except KafkaException as exc:
            raise self._error(exc, "list topics") from exc
        return {
            name: (len(topic.partitions), max((len(p.replicas) for p in topic.partitions.values()), default=0))
            for name, topic in metadata.topics.items()
            if topic.error is None
        }

    def create(self, spec: TopicSpec) -> bool:
        """Create one topic; False if it exists already (another process, or our own timed-out attempt, made it)."""
        new = NewTopic(spec.name, spec.partitions, spec.replication_factor, config=spec.desired_configs())
        futures = self._admin.create_topics([new], operation_timeout=self._timeout_s, request_timeout=self._timeout_s)
        try:
            futures[spec.name].result(timeout=self._timeout_s + 5)
        except KafkaException as exc:
            if error_of(exc).code() == KafkaError.TOPIC_ALREADY_EXISTS:
                return False
            raise self._error(exc, f"create topic {spec.name}") from exc
        except concurrent.futures.TimeoutError as exc:
            raise self._timed_out(f"create topic {spec.name}") from exc
        return True

    def configs(self, name: str) -> dict[str, ConfigEntry]:
        """The current configs of one topic."""
        resource = ConfigResource(ResourceType.TOPIC, name)
        futures = self._admin.describe_configs([resource], request_timeout=self._timeout_s)
        configs: dict[str, ConfigEntry] = self._result(futures[resource], f"describe configs of {name}")
        return configs

    def alter(self, drift: Sequence[ConfigDrift]) -> None:
        """Set (or, for ``expected=None``, delete) the drifted configs, touching no other key."""
        by_topic: dict[str, list[ConfigEntry]] = {}
        for d in drift:
            op = AlterConfigOpType.SET if d.expected is not None else AlterConfigOpType.DELETE
            by_topic.setdefault(d.topic, []).append(ConfigEntry(d.key, d.expected, incremental_operation=op))
        resources = [ConfigResource(ResourceType.TOPIC, t, incremental_configs=e) for t, e in by_topic.items()]
        futures = self._admin.incremental_alter_configs(resources, request_timeout=self._timeout_s)
        for resource, future in futures.items():
            self._result(future, f"alter configs of {resource.name}")

    def _result(self, future: concurrent.futures.Future[Any], operation: str) -> Any:
        try:
            return future.result(timeout=self._timeout_s + 5)
        except KafkaException as exc:
            raise self._error(exc, operation) from exc
        except concurrent.futures.TimeoutError as exc:
            raise self._timed_out(operation) from exc

    @staticmethod
    def _error(exc: KafkaException, operation: str) -> GatewayError:
        error = error_of(exc)
        if is_transient(error):
            return classify(error, operation)
        if error.code() == KafkaError.UNKNOWN_TOPIC_OR_PART:
            # We only describe or alter topics the metadata just listed (or we just created); a broker that does not
            # know them yet has not caught up with the controller. Kafka itself classes this error as retriable.
            return KafkaTransientError(KafkaErrorInfo.of(error, operation))
        return ConfigError(f"{operation} refused: {error.name()}: {error.str()}")

    @staticmethod
    def _timed_out(operation: str) -> GatewayError:
        return classify(KafkaError(KafkaError._TIMED_OUT, "no answer within the time limit"), operation)


def max_message_bytes(kafka: KafkaSettings, topic: str, *, timeout_s: float = 5.0) -> int | None:
    """The topic's effective ``max.message.bytes``, or None if the broker does not say within ``timeout_s``.

    Only for error messages (a record refused as too large): a failure to look it up must not hide the refusal.
    """
    admin = AdminClient(dict(kafka.to_librdkafka()))
    resource = ConfigResource(ResourceType.TOPIC, topic)
    try:
        configs = admin.describe_configs([resource], request_timeout=timeout_s)[resource].result(timeout=timeout_s)
        return int(configs["max.message.bytes"].value)
    except (KafkaException, KeyError, ValueError, TypeError, concurrent.futures.TimeoutError):
        return None
