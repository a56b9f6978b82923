"""The Kafka layer's one retry policy, and the mapping from confluent-kafka errors to the gateway's error tree.

Only ``TransientError`` is retried. Bad data (``RecordError``), bugs (``ValueError`` ...) and ``FatalError`` pass
through at once: retrying them only delays the inevitable and, for bad data, blocks the partition.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import tenacity
from confluent_kafka import KafkaError, KafkaException
from pydantic import BaseModel, ConfigDict, Field

from gateway.errors import FatalError, TransientError

__all__ = [
    "KafkaErrorInfo",
    "KafkaFatalError",
    "KafkaRefusedError",
    "KafkaTransientError",
    "RetrySettings",
    "classify",
    "error_of",
    "is_permanent",
    "is_transient",
    "retrying",
]

_log = logging.getLogger(__name__)

# Codes that librdkafka does not always flag retriable() but that describe an outage which may pass: connectivity,
# leadership moves, coordinator loading, throttling, and local time-outs (a message timed out because the broker was
# unreachable, not because it was bad).
_TRANSIENT_CODES = frozenset(
    {
        KafkaError._ALL_BROKERS_DOWN,
        KafkaError._MSG_TIMED_OUT,
        KafkaError._QUEUE_FULL,
        KafkaError._RESOLVE,
        KafkaError._TIMED_OUT,
        KafkaError._TIMED_OUT_QUEUE,
        KafkaError._TRANSPORT,
        KafkaError._WAIT_COORD,
        KafkaError.BROKER_NOT_AVAILABLE,
        KafkaError.CONCURRENT_TRANSACTIONS,
        KafkaError.COORDINATOR_LOAD_IN_PROGRESS,
        KafkaError.COORDINATOR_NOT_AVAILABLE,
        KafkaError.KAFKA_STORAGE_ERROR,
        KafkaError.LEADER_NOT_AVAILABLE,
        KafkaError.NETWORK_EXCEPTION,
        KafkaError.NOT_CONTROLLER,
        KafkaError.NOT_COORDINATOR,
        KafkaError.NOT_ENOUGH_REPLICAS,
        KafkaError.NOT_ENOUGH_REPLICAS_AFTER_APPEND,
        KafkaError.NOT_LEADER_FOR_PARTITION,
        KafkaError.REQUEST_TIMED_OUT,
        KafkaError.THROTTLING_QUOTA_EXCEEDED,
    }
)

# Codes by which the broker (or librdkafka, before sending) refuses a message or a request for good: the same bytes to
# the same topic with the same credentials are refused again, so neither retrying the call nor redoing the batch can
# help. librdkafka reports some of them as "abortable" inside a transaction; aborting is needed, redoing is futile.
_PERMANENT_CODES = frozenset(
    {
        KafkaError.MSG_SIZE_TOO_LARGE,
        KafkaError.RECORD_LIST_TOO_LARGE,
        KafkaError.INVALID_RECORD,
        KafkaError.INVALID_TIMESTAMP,
        KafkaError.INVALID_REQUIRED_ACKS,
        KafkaError.UNSUPPORTED_FOR_MESSAGE_FORMAT,
        KafkaError.POLICY_VIOLATION,
        KafkaError.TOPIC_EXCEPTION,
        KafkaError.TOPIC_AUTHORIZATION_FAILED,
        KafkaError.CLUSTER_AUTHORIZATION_FAILED,
        KafkaError.GROUP_AUTHORIZATION_FAILED,
        KafkaError.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
        KafkaError.SASL_AUTHENTICATION_FAILED,
        KafkaError._AUTHENTICATION,
        KafkaError.INVALID_TRANSACTION_TIMEOUT,
        KafkaError.INVALID_CONFIG,
        KafkaError._INVALID_ARG,
        # The topic is not in the cluster's metadata after librdkafka waited topic.metadata.propagation.max.ms for it
        # (auto-creation off): only provisioning helps.
        KafkaError._UNKNOWN_TOPIC,
    }
)


class RetrySettings(BaseModel):
    """How hard to retry a transient failure.

    Attributes:
        max_attempts: Attempts in all, the first included.
        initial_delay_s: First back-off before jitter; it doubles on each retry.
        max_delay_s: Cap on one back-off, before jitter.
        jitter_s: Up to this much random delay is added to each back-off, so clients don't retry in lockstep.
        deadline_s: Give up once this long has passed since the first attempt.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_attempts: int = Field(default=5, ge=1)
    initial_delay_s: float = Field(default=0.2, gt=0)
    max_delay_s: float = Field(default=5.0, gt=0)
    jitter_s: float = Field(default=0.5, ge=0)
    deadline_s: float = Field(default=60.0, gt=0)


def _log_retry(state: tenacity.RetryCallState) -> None:
    outcome = state.outcome
    error = outcome.exception() if outcome is not None else None
    delay = state.next_action.sleep if state.next_action is not None else 0.0
    _log.warning("transient failure (attempt %d), retrying in %.2f s: %s", state.attempt_number, delay, error)


def retrying(settings: RetrySettings, *, sleep: Callable[[float], None] = time.sleep) -> tenacity.Retrying:
    """Build the retry policy: ``TransientError`` only, exponential back-off with jitter, attempts and deadline.

    Call the result with the function and its arguments: ``retrying(settings)(producer.flush, 10.0)``. After the last
    attempt the last ``TransientError`` itself is raised, not tenacity's ``RetryError``.

    Args:
        settings: Attempts, delays and deadline.
        sleep: How to wait between attempts; tests pass a no-op.

    Returns:
        A reusable ``tenacity.Retrying``.
    """
    return tenacity.Retrying(
        retry=tenacity.retry_if_exception_type(TransientError),
        stop=tenacity.stop_after_attempt(settings.max_attempts) | tenacity.stop_after_delay(settings.deadline_s),
        # Composed rather than wait_exponential_jitter, whose parameter names differ between tenacity 8 and 9.
        wait=tenacity.wait_exponential(multiplier=settings.initial_delay_s, max=settings.max_delay_s)
        + tenacity.wait_random(0, settings.jitter_s),
        sleep=sleep,
        before_sleep=_log_retry,
        reraise=True,
    )


@dataclass(frozen=True, slots=True)
class KafkaErrorInfo:
    """What confluent-kafka said about a failure, as plain data.

    Attributes:
        operation: What the gateway was doing (``produce``, ``commit_transaction`` ...).
        code: librdkafka error code.
        name: Symbolic code name (``_MSG_TIMED_OUT``, ``PRODUCER_FENCED`` ...).
        reason: Human-readable message.
        retriable: The same call may be retried.
        fatal: The client instance is unusable and must be recreated.
        txn_requires_abort: The current transaction must be aborted (and its work redone).
    """

    operation: str
    code: int
    name: str
    reason: str
    retriable: bool
    fatal: bool
    txn_requires_abort: bool

    @classmethod
    def of(cls, error: KafkaError, operation: str) -> KafkaErrorInfo:
        """Capture a ``KafkaError``."""
        return cls(
            operation=operation,
            code=error.code(),
            name=error.name(),
            reason=error.str(),
            retriable=error.retriable(),
            fatal=error.fatal(),
            txn_requires_abort=error.txn_requires_abort(),
        )

    def __str__(self) -> str:
        return f"{self.operation} failed: {self.name}: {self.reason}"


class KafkaTransientError(TransientError):
    """A Kafka call failed in a way that may pass; retried by the policy.

    Attributes:
        info: The underlying error.
    """

    def __init__(self, info: KafkaErrorInfo) -> None:
        super().__init__(str(info))
        self.info = info


class KafkaFatalError(FatalError):
    """A Kafka call failed for good, or the client instance is unusable.

    Attributes:
        info: The underlying error.
    """

    def __init__(self, info: KafkaErrorInfo) -> None:
        super().__init__(str(info))
        self.info = info


class KafkaRefusedError(FatalError):
    """Kafka refused a message or a request for good (too large, not authorized, invalid): stop, do not retry.

    Deliberately not a ``KafkaFatalError``: a new producer, a retry or a redone batch would be refused the same way,
    so callers that recover from those must let this one through. The transaction it happened in has been aborted.

    Attributes:
        info: The underlying error.
        topic: Destination topic, if a message was refused.
        size: Approximate size of the refused record in bytes (key, value and headers), if known.
        limit: The topic's ``max.message.bytes``, if it was looked up.
    """

    def __init__(
        self, info: KafkaErrorInfo, *, topic: str | None = None, size: int | None = None, limit: int | None = None
    ) -> None:
        super().__init__(refusal_message(info, topic=topic, size=size, limit=limit))
        self.info = info
        self.topic = topic
        self.size = size
        self.limit = limit


def refusal_message(info: KafkaErrorInfo, *, topic: str | None, size: int | None, limit: int | None) -> str:
    """One line saying what Kafka refused, naming the topic, the record's size and the topic's limit where known."""
    what = f"a record for topic {topic}" if topic else info.operation
    detail = []
    if size is not None:
        detail.append(f"record of about {size} bytes")
    if limit is not None:
        detail.append(f"the topic's max.message.bytes is {limit}")
    details = f" ({'; '.join(detail)})" if detail else ""
    return f"Kafka refused {what}: {info.name}{details}: {info.reason}; not retried"


def error_of(exc: KafkaException) -> KafkaError:
    """The ``KafkaError`` inside a ``KafkaException`` (confluent puts it in ``args[0]``)."""
    if exc.args and isinstance(exc.args[0], KafkaError):
        return exc.args[0]
    return KafkaError(KafkaError._FAIL, str(exc))


def is_transient(error: KafkaError) -> bool:
    """Whether an error describes an outage that may pass (and is not fatal to the client)."""
    if error.fatal() or is_permanent(error.code()):
        return False
    return error.retriable() or error.txn_requires_abort() or error.code() in _TRANSIENT_CODES


def is_permanent(code: int) -> bool:
    """Whether an error code means Kafka refused the message or request for good (too large, not authorized ...)."""
    return code in _PERMANENT_CODES


def classify(error: KafkaError, operation: str) -> KafkaTransientError | KafkaFatalError | KafkaRefusedError:
    """Map a ``KafkaError`` to the gateway's error tree; the caller raises the result.

    A refusal for good (`is_permanent`: a message too large, a denied ACL ...) gives ``KafkaRefusedError``, even
    when librdkafka flags it abortable or fatal (a denied transactional id is fatal to the client, and a new client
    would be denied the same way). Otherwise ``fatal()`` wins and gives ``KafkaFatalError``. ``retriable()``,
    ``txn_requires_abort()`` (abort, then redo the batch) and known outage codes give ``KafkaTransientError``.
    Anything else will not pass by waiting either, so it is fatal.

    Args:
        error: The confluent error.
        operation: What was being attempted, for the message.
    """
    info = KafkaErrorInfo.of(error, operation)
    if is_permanent(error.code()):
        return KafkaRefusedError(info)
    if error.fatal():
        return KafkaFatalError(info)
    if is_transient(error):
        return KafkaTransientError(info)
    return KafkaFatalError(info)
