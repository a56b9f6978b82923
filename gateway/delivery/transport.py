"""The transport contract: how one outbox message reaches a target, and what the target answered.

A transport sends a message and says how it ended, as a value: ``ACCEPTED``, ``DUPLICATE`` (the target already had
this id: a success) or ``REJECTED`` (refused for good; the message goes to the dead-letter topic). A failure that
may pass (a connection error, a time-out, a 5xx, a 429) is not an answer: the transport raises
`TransientDeliveryError`, and the worker retries. Anything else a transport raises is a bug or a broken
configuration and stops the worker.

A transport is used from several threads at once (one per case in flight), so ``send`` must be thread-safe.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, runtime_checkable

from pydantic import BaseModel

from gateway.delivery.outbox import OutboxMessage
from gateway.delivery.receipts import excerpt
from gateway.errors import RecordError, TransientError

__all__ = [
    "DeliveryRejectedError",
    "SendOutcome",
    "SendResult",
    "TransientDeliveryError",
    "Transport",
    "TransportClass",
]


class SendOutcome(enum.StrEnum):
    """What the target said about a message."""

    ACCEPTED = "ACCEPTED"
    DUPLICATE = "DUPLICATE"
    REJECTED = "REJECTED"


@dataclass(frozen=True, slots=True)
class SendResult:
    """The target's final answer to one send.

    Attributes:
        outcome: Accepted, duplicate or rejected.
        code: A short machine-readable reason: ``accepted``, ``duplicate``, ``http-400``, ``exists`` ...
        status_code: The target's status (HTTP status), if the transport has one.
        response: Start of the target's answer (at most ``RESPONSE_MAX_CHARS``), if any.
    """

    outcome: SendOutcome
    code: str
    status_code: int | None = None
    response: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "response", excerpt(self.response))

    @property
    def succeeded(self) -> bool:
        """Whether the target has the message now."""
        return self.outcome is not SendOutcome.REJECTED

    def rejection(self) -> DeliveryRejectedError:
        """This answer as the error value its dead letter records."""
        status = "" if self.status_code is None else f" (status {self.status_code})"
        return DeliveryRejectedError(
            f"target refused the message for good: {self.code}{status}: {self.response or ''}".rstrip(": "),
            code=self.code,
            status_code=self.status_code,
            response=self.response,
        )


class DeliveryRejectedError(RecordError):
    """A target refused a message for good (a 4xx, a schema refusal); it goes to the dead-letter topic, never retried.

    Carried as a value (`SendResult.rejection`) into the dead letter's headers, not raised.

    Attributes:
        code: The transport's reason code.
        status_code: The target's status, if any.
        response: Start of the target's answer, if any.
    """

    stage = "deliver"

    def __init__(self, message: str, *, code: str, status_code: int | None, response: str | None) -> None:
        super().__init__(message)
        self.code = code
        self.status_code = status_code
        self.response = response


class TransientDeliveryError(TransientError):
    """A send failed in a way that may pass (connection error, time-out, 408, 429, 5xx); retried with back-off.

    Attributes:
        code: A short reason: ``connect``, ``timeout``, ``http-503`` ...
        retry_after_s: How long the target asked us to wait (``Retry-After``), if it did.
        status_code: The target's status, if it answered at all.
    """

    def __init__(
        self, message: str, *, code: str, retry_after_s: float | None = None, status_code: int | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.retry_after_s = retry_after_s
        self.status_code = status_code


@runtime_checkable
class Transport(Protocol):
    """Sends outbox messages to one target.

    Attributes:
        name: The transport's name (``http``, ``filedrop``), recorded in receipts.
    """

    name: str

    def send(self, message: OutboxMessage) -> SendResult:
        """Send one message and return the target's final answer.

        Raises:
            TransientDeliveryError: The attempt failed in a way that may pass; the worker retries it.
        """
        ...

    def close(self) -> None:
        """Release connections and files; the transport is not used afterwards."""
        ...


class TransportClass(Protocol):
    """What a ``gateway.transports`` entry point names: a class built from its validated options model."""

    options_model: ClassVar[type[BaseModel]]

    def __call__(self, options: Any) -> Transport:
        """Build the transport from an instance of ``options_model``."""
        ...
