"""A real local HTTP target for delivery tests, the demo and the benchmark: it records, de-duplicates and misbehaves.

`HttpTarget` is a stdlib ``ThreadingHTTPServer`` on 127.0.0.1 (a free port unless one is given), served from a
thread. Every POST is recorded (message id from ``Idempotency-Key``, ordering key, sequence, arrival order and
time). Each id is accepted once; a repeat is answered as a duplicate (409, or 200 with ``Idempotent-Replayed: true``).

Faults are injected by a `FaultPlan`, deterministically: whether the n-th request for an id is faulted, and how, is a
function of the seed, the id and n only, never of thread timing. Only the first ``max_faults_per_id`` requests of an
id may be faulted, so every message gets through in the end:

* ``error_5xx``: 500/502/503 without ``Retry-After``; ``error_5xx_retry_after``: 503 with ``Retry-After`` (seconds
  or an HTTP date); ``too_many``: 429 with ``Retry-After`` in seconds; none of them accepts;
* ``timeout``: no answer until ``hang_s`` (past the client's time-out), not accepted;
* ``slow``: accepted, answered after ``slow_s`` (within the client's time-out);
* ``drop``: the connection is closed without an answer, not accepted;
* ``duplicate_ack``: accepted, then the connection is closed without an answer, so the client retries an id the
  target already has; ``late_ack``: accepted, answered only after ``hang_s``;
* ``reject_ids``: always answered ``reject_status`` (422), never accepted; ``slow_keys``: every request of these
  ordering keys is answered after ``slow_s``.

TLS: give a `ServerTls` (server certificate and key, optionally a CA whose client certificates are then required)
and the target speaks HTTPS only (TLS 1.2 or later); `url` starts with ``https://``. Each connection's handshake runs
on its own thread; a failed one is recorded in `handshake_failures` and the connection is closed, without an arrival.

Standalone: ``python -m gateway.testing.http_target --port 8765 --seed 1 --error-5xx 0.1`` serves until interrupted;
``GET /_stats`` answers counts and ``GET /_accepted`` the accepted messages in order, as JSON.
"""

from __future__ import annotations

import argparse
import email.utils
import json
import random
import socket
import ssl
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Self

__all__ = ["Arrival", "FaultPlan", "HttpTarget", "ServerTls", "main"]

FAULTS = ("error_5xx", "error_5xx_retry_after", "too_many", "timeout", "slow", "drop", "duplicate_ack", "late_ack")


@dataclass(frozen=True, slots=True)
class FaultPlan:
    """Which faults the target injects, how often, and how it answers.

    Attributes:
        seed: Makes the choice of faults reproducible.
        error_5xx: Share of faultable requests answered 500/502/503 without ``Retry-After``.
        error_5xx_retry_after: Share answered 503 with ``Retry-After``.
        too_many: Share answered 429 with ``Retry-After``.
        timeout: Share left unanswered until ``hang_s``.
        slow: Share accepted and answered after ``slow_s``.
        drop: Share whose connection is closed without an answer.
        duplicate_ack: Share accepted, then closed without an answer.
        late_ack: Share accepted, then answered after ``hang_s``.
        hang_s: How long a time-out fault holds the answer back (more than the client waits).
        slow_s: How long a slow answer takes (less than the client waits).
        retry_after_s: The ``Retry-After`` sent, in seconds.
        max_faults_per_id: Requests of one id that may be faulted; later ones are answered normally.
        reject_ids: Ids always answered ``reject_status``.
        reject_status: Status of a permanent rejection.
        slow_keys: Ordering keys whose every request is answered after ``slow_s``.
        duplicate_answer: ``409``: a repeat is answered 409; ``replayed``: 200 with ``Idempotent-Replayed: true``.
    """

    seed: int = 0
    error_5xx: float = 0.0
    error_5xx_retry_after: float = 0.0
    too_many: float = 0.0
    timeout: float = 0.0
    slow: float = 0.0
    drop: float = 0.0
    duplicate_ack: float = 0.0
    late_ack: float = 0.0
    hang_s: float = 2.0
    slow_s: float = 0.2
    retry_after_s: int = 1
    max_faults_per_id: int = 2
    reject_ids: frozenset[str] = frozenset()
    reject_status: int = 422
    slow_keys: frozenset[str] = frozenset()
    duplicate_answer: str = "409"

    def __post_init__(self) -> None:
        if sum(getattr(self, f) for f in FAULTS) > 1.0:
            raise ValueError("fault shares add up to more than 1")

    def fault(self, message_id: str, attempt: int) -> str | None:
        """The fault of the ``attempt``-th request (from 1) for an id, or None."""
        if attempt > self.max_faults_per_id:
            return None
        draw = random.Random(f"{self.seed}|{message_id}|{attempt}").random()  # noqa: S311 - test faults, not crypto
        for name in FAULTS:
            share = float(getattr(self, name))
            if draw < share:
                return name
            draw -= share
        return None


@dataclass(frozen=True, slots=True)
class Arrival:
    """One request as the target saw it.

    Attributes:
        index: Arrival order, from 0.
        at: Arrival time (``time.time()``).
        message_id: ``Idempotency-Key``.
        ordering_key: ``X-Gateway-Ordering-Key``.
        sequence: ``X-Gateway-Sequence``.
        target: ``X-Gateway-Target``.
        kind: ``X-Gateway-Kind``.
        fault: The fault injected, if any.
        outcome: ``accepted`` (first time), ``duplicate``, ``rejected`` or ``failed`` (no acceptance).
        body: The body received.
    """

    index: int
    at: float
    message_id: str
    ordering_key: str
    sequence: int
    target: str
    kind: str
    fault: str | None
    outcome: str
    body: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class ServerTls:
    """The target's TLS: its certificate, and the CA of the client certificates it requires (mutual TLS), if any.

    Attributes:
        cert: Server certificate chain (PEM).
        key: Its private key (PEM).
        client_ca: CA certificates (PEM) client certificates must chain to; given, a client certificate is required.
        maximum_version: Highest TLS version offered (``TLSv1_2`` to see how a TLS 1.2 target fails the handshake).
    """

    cert: Path
    key: Path
    client_ca: Path | None = None
    maximum_version: ssl.TLSVersion = ssl.TLSVersion.MAXIMUM_SUPPORTED

    def context(self) -> ssl.SSLContext:
        """A server-side context: TLS 1.2 or later, the client certificate required when ``client_ca`` is set."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.maximum_version = self.maximum_version
        context.load_cert_chain(self.cert, self.key)
        if self.client_ca is not None:
            context.load_verify_locations(cafile=self.client_ca)
            context.verify_mode = ssl.CERT_REQUIRED
        return context


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256
    target: HttpTarget


class _TlsServer(_Server):
    """Accepts plain TCP and does the TLS handshake on the connection's own thread, so a stalled one blocks nobody."""

    tls_context: ssl.SSLContext
    handshake_timeout_s = 5.0

    def finish_request(self, request: Any, client_address: Any) -> None:
        request.settimeout(self.handshake_timeout_s)
        try:
            tls = self.tls_context.wrap_socket(request, server_side=True)  # detaches ``request``; handshakes now
        except (ssl.SSLError, OSError) as exc:
            self.target.handshake_failed(exc)
            return
        try:
            tls.settimeout(None)
            super().finish_request(tls, client_address)
        finally:
            self.shutdown_request(tls)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as a real target would offer
    server: _Server

    def setup(self) -> None:
        """Send each answer at once: without TCP_NODELAY the body waits on the client's delayed ACK (40 ms)."""
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the per-request log line."""

    def do_GET(self) -> None:
        """Serve ``/_stats`` and ``/_accepted``."""
        target = self.server.target
        if self.path == "/_stats":
            self._answer(200, target.stats())
        elif self.path == "/_accepted":
            accepted = [
                {"id": a.message_id, "ordering_key": a.ordering_key, "sequence": a.sequence, "at": a.at}
                for a in target.acceptances
            ]
            self._answer(200, accepted)
        else:
            self._answer(404, {"error": "not found"})

    def do_POST(self) -> None:
        """Record, de-duplicate and answer (or misbehave)."""
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        if len(body) < length:
            # The client died mid-body (a kill -9 in the crash tests): an incomplete request, as a real server
            # would treat it: not recorded, never accepted, nobody to answer.
            self.server.target.incomplete_request()
            self.close_connection = True
            return
        message_id = self.headers.get("Idempotency-Key")
        if not message_id:
            self._answer(400, {"error": "Idempotency-Key missing"})
            return
        arrival, delay = self.server.target.arrive(self.headers, message_id, body)
        plan = self.server.target.plan
        if delay:
            time.sleep(delay)
        fault = arrival.fault
        if fault in ("drop", "duplicate_ack"):
            self.close_connection = True  # close without a byte of answer
            return
        if arrival.outcome == "rejected":
            self._answer(plan.reject_status, {"error": "schema refusal", "id": message_id, "detail": "field X invalid"})
        elif fault == "error_5xx":
            self._answer(random.Random(arrival.index).choice((500, 502, 503)), {"error": "internal"})  # noqa: S311
        elif fault == "error_5xx_retry_after":
            if arrival.index % 2:
                retry_after = str(plan.retry_after_s)
            else:
                retry_after = email.utils.formatdate(time.time() + plan.retry_after_s, usegmt=True)
            self._answer(503, {"error": "maintenance"}, {"Retry-After": retry_after})
        elif fault == "too_many":
            self._answer(429, {"error": "slow down"}, {"Retry-After": str(plan.retry_after_s)})
        elif fault == "timeout":
            self._answer(503, {"error": "gave up"})
        elif arrival.outcome == "duplicate":
            if plan.duplicate_answer == "replayed":
                self._answer(200, {"status": "duplicate", "id": message_id}, {"Idempotent-Replayed": "true"})
            else:
                self._answer(409, {"status": "duplicate", "id": message_id})
        else:
            self._answer(201, {"status": "accepted", "id": message_id})

    def _answer(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up waiting (a time-out fault): nobody to answer


class HttpTarget:
    """The local target: start it (or use it as a context manager), point a transport at `url`, read what came.

    Args:
        plan: Faults to inject and how to answer.
        host: Interface to bind.
        port: Port to bind; 0 picks a free one.
        tls: Serve HTTPS with this certificate (and require client certificates of its ``client_ca``); plain HTTP
            if None.
    """

    def __init__(
        self, plan: FaultPlan | None = None, host: str = "127.0.0.1", port: int = 0, *, tls: ServerTls | None = None
    ) -> None:
        self.plan = plan or FaultPlan()
        self.tls = tls
        self._lock = threading.Lock()
        self._arrivals: list[Arrival] = []
        self._accepted: dict[str, Arrival] = {}
        self._order: list[Arrival] = []
        self._attempts: Counter[str] = Counter()
        self._handshake_failures: list[str] = []
        self._incomplete = 0
        if tls is None:
            self._server = _Server((host, port), _Handler)
        else:
            context = tls.context()  # before binding: a bad certificate or key fails here, with no socket left open
            server = _TlsServer((host, port), _Handler)
            server.tls_context = context
            self._server = server
        self._server.target = self
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The bound port."""
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """Where to POST messages (``https://`` in TLS mode)."""
        scheme = "http" if self.tls is None else "https"
        return f"{scheme}://127.0.0.1:{self.port}/messages"

    def start(self) -> Self:
        """Serve from a daemon thread."""
        self._thread = threading.Thread(target=self._server.serve_forever, name="http-target", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket (requests still sleeping finish on their own daemon threads)."""
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(10)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def arrive(self, headers: Any, message_id: str, body: bytes) -> tuple[Arrival, float]:
        """Record one request and decide its fate: the arrival, and how long to wait before answering."""
        plan = self.plan
        key = headers.get("X-Gateway-Ordering-Key") or ""
        with self._lock:
            self._attempts[message_id] += 1
            fault = None if message_id in plan.reject_ids else plan.fault(message_id, self._attempts[message_id])
            if message_id in plan.reject_ids:
                outcome = "rejected"
            elif fault in ("error_5xx", "error_5xx_retry_after", "too_many", "timeout", "drop"):
                outcome = "failed"
            elif message_id in self._accepted:
                outcome = "duplicate"
            else:
                outcome = "accepted"
            arrival = Arrival(
                index=len(self._arrivals),
                at=time.time(),
                message_id=message_id,
                ordering_key=key,
                sequence=int(headers.get("X-Gateway-Sequence") or 0),
                target=headers.get("X-Gateway-Target") or "",
                kind=headers.get("X-Gateway-Kind") or "",
                fault=fault,
                outcome=outcome,
                body=body,
            )
            self._arrivals.append(arrival)
            if outcome == "accepted":
                self._accepted[message_id] = arrival
                self._order.append(arrival)
        delay = 0.0
        if fault in ("timeout", "late_ack"):
            delay = plan.hang_s
        elif fault == "slow" or key in plan.slow_keys:
            delay = plan.slow_s
        return arrival, delay

    def incomplete_request(self) -> None:
        """Count a request whose body ended before its Content-Length (the sender died or hung up mid-body)."""
        with self._lock:
            self._incomplete += 1

    @property
    def incomplete_requests(self) -> int:
        """Requests cut off mid-body: never recorded as arrivals, never accepted."""
        with self._lock:
            return self._incomplete

    def handshake_failed(self, error: BaseException) -> None:
        """Record a TLS handshake the target refused or that broke off (TLS mode)."""
        reason = getattr(error, "reason", None) or type(error).__name__
        with self._lock:
            self._handshake_failures.append(str(reason))

    @property
    def handshake_failures(self) -> list[str]:
        """Why each failed TLS handshake failed (OpenSSL's reason, e.g. ``PEER_DID_NOT_RETURN_A_CERTIFICATE``)."""
        with self._lock:
            return list(self._handshake_failures)

    @property
    def arrivals(self) -> list[Arrival]:
        """Every request so far, in arrival order."""
        with self._lock:
            return list(self._arrivals)

    @property
    def acceptances(self) -> list[Arrival]:
        """The first acceptance of each id, in acceptance order."""
        with self._lock:
            return list(self._order)

    def accepted_ids(self) -> set[str]:
        """Ids accepted so far."""
        with self._lock:
            return set(self._accepted)

    def stats(self) -> dict[str, Any]:
        """Counts by outcome and by fault."""
        arrivals = self.arrivals
        return {
            "requests": len(arrivals),
            "accepted": len(self.acceptances),
            "outcomes": dict(Counter(a.outcome for a in arrivals)),
            "faults": dict(Counter(a.fault for a in arrivals if a.fault)),
            "incomplete": self.incomplete_requests,
        }


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m gateway.testing.http_target", description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--seed", type=int, default=0)
    for name in FAULTS:
        parser.add_argument(f"--{name.replace('_', '-')}", type=float, default=0.0, help=f"share of {name} faults")
    parser.add_argument("--hang-s", type=float, default=2.0)
    parser.add_argument("--slow-s", type=float, default=0.2)
    parser.add_argument("--retry-after-s", type=int, default=1)
    parser.add_argument("--max-faults-per-id", type=int, default=2)
    parser.add_argument("--reject-id", action="append", default=[], help="an id always answered 422 (repeatable)")
    parser.add_argument("--duplicate-answer", choices=("409", "replayed"), default="409")
    parser.add_argument("--log", help="append every arrival as a JSON line to this file when stopping")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Serve until interrupted; print the URL first, the stats last."""
    args = _parse(argv)
    plan = FaultPlan(
        seed=args.seed,
        hang_s=args.hang_s,
        slow_s=args.slow_s,
        retry_after_s=args.retry_after_s,
        max_faults_per_id=args.max_faults_per_id,
        reject_ids=frozenset(args.reject_id),
        duplicate_answer=args.duplicate_answer,
        **{name: getattr(args, name) for name in FAULTS},
    )
    target = HttpTarget(plan, host=args.host, port=args.port).start()
    print(target.url, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        target.stop()
        if args.log:
            with open(args.log, "a", encoding="utf-8") as fh:
                for a in target.arrivals:
                    fh.write(json.dumps({**asdict(a), "body": a.body.decode("utf-8", "replace")}) + "\n")
        print(json.dumps(target.stats()), flush=True)


if __name__ == "__main__":
    main()
