"""The built-in HTTPS transport: one POST per message, with the message id as ``Idempotency-Key``.

Answers are classified so that a retry never creates a second copy and a refusal is never retried:

* 2xx: accepted; a 2xx carrying ``Idempotent-Replayed: true`` (the convention of Stripe-like APIs) is a duplicate;
* a status in ``duplicate_statuses`` (409 by default): the target already has this id, a success;
* 408, 425, 429 and every 5xx, connection errors, dropped connections and time-outs: transient, retried, with the
  target's ``Retry-After`` (seconds or an HTTP date) honoured;
* any other 4xx: a permanent rejection, with the status and the start of the answer kept for the dead letter.

Note: a target following draft-ietf-httpapi-idempotency-key-header answers 409 while a request with the same key is
*still being processed*; for such a target set ``duplicate_statuses = []`` and ``transient_statuses = [409]``.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import ssl
from pathlib import Path
from typing import ClassVar

import httpx
from pydantic import BaseModel, ConfigDict, Field, FilePath, model_validator

from gateway.delivery.outbox import OutboxMessage
from gateway.delivery.transport import SendOutcome, SendResult, TransientDeliveryError
from gateway.errors import ConfigError

__all__ = ["HttpOptions", "HttpTransport", "parse_retry_after"]

_REPLAYED = "idempotent-replayed"
_ALWAYS_TRANSIENT = frozenset({408, 425, 429})


class HttpOptions(BaseModel):
    """Options of the HTTPS transport.

    Attributes:
        url: Where each message is POSTed.
        connect_timeout_s: Longest wait for a connection.
        read_timeout_s: Longest wait for the answer; keep it below the worker's ``in_flight_grace_s``.
        client_cert: Client certificate (PEM) for mutual TLS.
        client_key: Its private key (PEM); needed with ``client_cert``.
        ca_bundle: CA bundle (PEM) to verify the target with, instead of the system's.
        verify: Verify the target's certificate (never switch off outside a test).
        headers: Further headers sent with every message (an API key header name and value, ...).
        duplicate_statuses: Statuses meaning "already have this id".
        transient_statuses: Further statuses to retry (besides 408, 425, 429 and 5xx).
        max_connections: Connection pool size; at least the worker's ``max_in_flight``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str = Field(pattern=r"^https?://")
    connect_timeout_s: float = Field(default=5.0, gt=0)
    read_timeout_s: float = Field(default=30.0, gt=0)
    client_cert: FilePath | None = None
    client_key: FilePath | None = None
    ca_bundle: FilePath | None = None
    verify: bool = True
    headers: dict[str, str] = Field(default_factory=dict)
    duplicate_statuses: frozenset[int] = frozenset({409})
    transient_statuses: frozenset[int] = frozenset()
    max_connections: int = Field(default=32, ge=1)

    @model_validator(mode="after")
    def _check_tls(self) -> HttpOptions:
        if (self.client_cert is None) != (self.client_key is None):
            raise ValueError("mutual TLS needs both client_cert and client_key")
        if self.duplicate_statuses & self.transient_statuses:
            raise ValueError("a status cannot be both a duplicate and transient")
        return self


def parse_retry_after(value: str | None, now: dt.datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value: delta-seconds or an HTTP date; None if absent or unreadable."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - (now or dt.datetime.now(dt.UTC))).total_seconds())


class HttpTransport:
    """POSTs each message to one URL over a keep-alive connection pool (httpx), optionally with mutual TLS.

    Args:
        options: URL, time-outs, TLS and classification.
    """

    name = "http"
    options_model: ClassVar[type[BaseModel]] = HttpOptions

    def __init__(self, options: HttpOptions) -> None:
        self.options = options
        limits = httpx.Limits(
            max_connections=options.max_connections, max_keepalive_connections=options.max_connections
        )
        timeout = httpx.Timeout(options.read_timeout_s, connect=options.connect_timeout_s)
        self._client = httpx.Client(timeout=timeout, limits=limits, verify=self._verify(options))

    @staticmethod
    def _verify(options: HttpOptions) -> ssl.SSLContext | bool:
        if not options.verify:
            return False
        if options.ca_bundle is None and options.client_cert is None:
            return True
        context = ssl.create_default_context(cafile=str(options.ca_bundle) if options.ca_bundle else None)
        if options.client_cert is not None and options.client_key is not None:
            context.load_cert_chain(Path(options.client_cert), Path(options.client_key))
        return context

    def send(self, message: OutboxMessage) -> SendResult:
        """POST the message; classify the answer (see the module doc).

        Raises:
            TransientDeliveryError: No answer (connection refused or dropped, time-out) or a transient status.
        """
        headers = {
            **self.options.headers,
            "Content-Type": message.content_type,
            "Idempotency-Key": message.message_id,
            "X-Gateway-Target": message.target,
            "X-Gateway-Kind": message.kind,
            "X-Gateway-Ordering-Key": message.ordering_key,
            "X-Gateway-Sequence": str(message.sequence),
        }
        try:
            response = self._client.post(self.options.url, content=message.body, headers=headers)
        except httpx.TimeoutException as exc:
            raise TransientDeliveryError(f"no answer in time: {exc!r}", code="timeout") from exc
        except (httpx.NetworkError, httpx.RemoteProtocolError) as exc:
            refusal = _tls_refusal(exc)
            if refusal is not None:
                # A certificate the other side refuses does not pass by waiting: stop the worker and say so (the
                # messages stay in the outbox), instead of retrying a setup mistake until the outage deadline.
                raise ConfigError(
                    f"TLS handshake with {self.options.url} refused ({refusal}): check client_cert, client_key and "
                    "ca_bundle against the target's certificates"
                ) from exc
            # Refused, reset or closed without an answer: the target may or may not have the message; the retry
            # carries the same Idempotency-Key, so either way it ends up there once.
            raise TransientDeliveryError(f"connection failed: {exc!r}", code="connection") from exc
        return self.classify(response)

    def classify(self, response: httpx.Response) -> SendResult:
        """The result of an answer, or `TransientDeliveryError` for one worth retrying."""
        status = response.status_code
        text = _text(response)
        if 200 <= status < 300:
            replayed = response.headers.get(_REPLAYED, "").strip().lower() == "true"
            if replayed:
                return SendResult(SendOutcome.DUPLICATE, "duplicate", status, text)
            return SendResult(SendOutcome.ACCEPTED, "accepted", status, text)
        if status in self.options.duplicate_statuses:
            return SendResult(SendOutcome.DUPLICATE, "duplicate", status, text)
        if status >= 500 or status in _ALWAYS_TRANSIENT or status in self.options.transient_statuses:
            raise TransientDeliveryError(
                f"target answered {status}: {text or ''}"[:300],
                code=f"http-{status}",
                retry_after_s=parse_retry_after(response.headers.get("retry-after")),
                status_code=status,
            )
        return SendResult(SendOutcome.REJECTED, f"http-{status}", status, text)

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()


def _text(response: httpx.Response) -> str | None:
    if not response.content:
        return None
    return response.content[:4000].decode(response.encoding or "utf-8", "replace")


# SSL errors that mean the connection went away, not that a certificate was refused.
_DROPPED = (ssl.SSLEOFError, ssl.SSLZeroReturnError, ssl.SSLSyscallError, ssl.SSLWantReadError, ssl.SSLWantWriteError)


def _tls_refusal(exc: BaseException) -> str | None:
    """The reason of a TLS certificate refusal behind ``exc`` (either side's), or None for any other failure."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ssl.SSLError) and not isinstance(current, _DROPPED):
            return str(getattr(current, "reason", None) or current)
        current = current.__cause__ or current.__context__
    return None
