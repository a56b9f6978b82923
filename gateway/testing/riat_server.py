"""A real local HTTP server playing RIAT for tests and the demo: it takes referrals and serves a status feed.

`RiatServer` is a stdlib ``ThreadingHTTPServer`` on 127.0.0.1 (a free port unless one is given), served from a
thread:

* ``POST /referrals``: a referral message as the gateway's delivery sends it. ``Idempotency-Key`` is required; each
  id is accepted once (201), a repeat is answered 409 (or 200 with ``Idempotent-Replayed: true``). With
  ``validate=True`` a body that is not valid against ``riat-referral-v1.schema.json`` is answered 422 and not
  accepted.
* ``GET /statuses?after=<cursor>``: the statuses a test added with `RiatServer.add_status`, ``page_size`` at a time,
  as ``{"statuses": [...], "next": "<cursor>"}``; the cursor is the position in that list, as text.
* ``GET /_stats``: counts, as JSON.

Faults, set by the test at any time: `RiatServer.fail_next` answers the next n requests of a path with an error
status; `RiatServer.hold_from` holds the answers of the status feed from its n-th request on (a slow partner, or a
window to kill a pull between pages).
"""

from __future__ import annotations

import argparse
import json
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

__all__ = ["ReferralArrival", "RiatServer", "main"]


@dataclass(frozen=True, slots=True)
class ReferralArrival:
    """One referral POST as the server saw it.

    Attributes:
        index: Arrival order, from 0.
        message_id: ``Idempotency-Key``.
        kind: ``X-Gateway-Kind``.
        ordering_key: ``X-Gateway-Ordering-Key``.
        sequence: ``X-Gateway-Sequence``.
        outcome: ``accepted`` (first time), ``duplicate``, ``invalid`` or ``failed`` (an injected fault).
        body: The body received.
    """

    index: int
    message_id: str
    kind: str
    ordering_key: str
    sequence: int
    outcome: str
    body: bytes = field(repr=False)

    def json(self) -> Any:
        """The body as JSON."""
        return json.loads(self.body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    riat: RiatServer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        """Send each answer at once (no delayed-ACK wait)."""
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the per-request log line."""

    def do_GET(self) -> None:
        """Serve the status feed and the stats."""
        riat = self.server.riat
        parts = urlsplit(self.path)
        if parts.path == "/_stats":
            self._answer(200, riat.stats())
            return
        if parts.path != "/statuses":
            self._answer(404, {"error": "not found"})
            return
        status, delay = riat.fault("/statuses")
        if delay:
            time.sleep(delay)
        if status is not None:
            self._answer(status, {"error": "injected"})
            return
        values = parse_qs(parts.query).get("after")
        after = values[0] if values else None
        try:
            page = riat.page(after)
        except ValueError:
            self._answer(400, {"error": "bad cursor"})
            return
        self._answer(200, page)

    def do_POST(self) -> None:
        """Take a referral (once per Idempotency-Key)."""
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if urlsplit(self.path).path != "/referrals":
            self._answer(404, {"error": "not found"})
            return
        message_id = self.headers.get("Idempotency-Key")
        if not message_id:
            self._answer(400, {"error": "Idempotency-Key missing"})
            return
        status, delay = self.server.riat.fault("/referrals")
        if delay:
            time.sleep(delay)
        arrival = self.server.riat.arrive(self.headers, message_id, body, failed=status is not None)
        if status is not None:
            self._answer(status, {"error": "injected"})
        elif arrival.outcome == "invalid":
            self._answer(422, {"error": "not valid against riat-referral-v1", "id": message_id})
        elif arrival.outcome == "duplicate":
            if self.server.riat.duplicate_answer == "replayed":
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
            self.close_connection = True  # the client gave up waiting: nobody to answer


class RiatServer:
    """The local RIAT: start it (or use it as a context manager), add statuses, read the referrals that came.

    Args:
        page_size: Statuses per page of the feed.
        validate: Answer 422 to a referral body that is not valid against the referral schema.
        duplicate_answer: ``409``, or ``replayed`` (200 with ``Idempotent-Replayed: true``) for a repeated id.
        host: Interface to bind.
        port: Port to bind; 0 picks a free one.
    """

    def __init__(
        self,
        *,
        page_size: int = 2,
        validate: bool = True,
        duplicate_answer: str = "409",
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        self.page_size = page_size
        self.validate = validate
        self.duplicate_answer = duplicate_answer
        self._lock = threading.Lock()
        self._statuses: list[Any] = []
        self._arrivals: list[ReferralArrival] = []
        self._accepted: dict[str, ReferralArrival] = {}
        self._requests: Counter[str] = Counter()
        self._fail: dict[str, list[int]] = {}
        self._hold: dict[str, tuple[int, float]] = {}
        self._server = _Server((host, port), _Handler)
        self._server.riat = self
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The base URL (``/statuses`` and ``/referrals`` below it)."""
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def referrals_url(self) -> str:
        """Where the delivery POSTs referral messages."""
        return f"{self.url}/referrals"

    def start(self) -> Self:
        """Serve from a daemon thread."""
        self._thread = threading.Thread(target=self._server.serve_forever, name="riat-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
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

    # -- the feed ----------------------------------------------------------------------------------------------------

    def add_status(self, status: Any) -> None:
        """Append a status to the feed: a JSON-able object, or a string sent as is (e.g. broken JSON)."""
        with self._lock:
            self._statuses.append(status)

    def add_statuses(self, statuses: list[Any]) -> None:
        """Append several statuses, in order."""
        for s in statuses:
            self.add_status(s)

    def page(self, after: str | None) -> dict[str, Any]:
        """The page after a cursor, as the feed answers it."""
        start = 0 if after is None else int(after)
        if start < 0:
            raise ValueError("negative cursor")
        with self._lock:
            items = self._statuses[start : start + self.page_size]
        return {"statuses": items, "next": str(start + len(items))}

    # -- faults ------------------------------------------------------------------------------------------------------

    def fail_next(self, path: str, count: int, status: int = 503) -> None:
        """Answer the next ``count`` requests of ``path`` (``/statuses`` or ``/referrals``) with ``status``."""
        with self._lock:
            self._fail.setdefault(path, []).extend([status] * count)

    def hold_from(self, path: str, request: int, seconds: float) -> None:
        """Hold the answer of every request of ``path`` from the ``request``-th (from 1) on for ``seconds``."""
        with self._lock:
            self._hold[path] = (request, seconds)

    def clear_faults(self) -> None:
        """No more injected faults."""
        with self._lock:
            self._fail.clear()
            self._hold.clear()

    def fault(self, path: str) -> tuple[int | None, float]:
        """Count a request of ``path`` and decide its fault: an error status or None, and a delay."""
        with self._lock:
            self._requests[path] += 1
            pending = self._fail.get(path)
            status = pending.pop(0) if pending else None
            hold = self._hold.get(path)
            delay = hold[1] if hold is not None and self._requests[path] >= hold[0] else 0.0
        return status, delay

    # -- referrals ---------------------------------------------------------------------------------------------------

    def arrive(self, headers: Any, message_id: str, body: bytes, *, failed: bool = False) -> ReferralArrival:
        """Record one referral POST and decide its outcome."""
        valid = not self.validate or _valid(body)
        with self._lock:
            if failed:
                outcome = "failed"
            elif not valid:
                outcome = "invalid"
            elif message_id in self._accepted:
                outcome = "duplicate"
            else:
                outcome = "accepted"
            arrival = ReferralArrival(
                index=len(self._arrivals),
                message_id=message_id,
                kind=headers.get("X-Gateway-Kind") or "",
                ordering_key=headers.get("X-Gateway-Ordering-Key") or "",
                sequence=int(headers.get("X-Gateway-Sequence") or 0),
                outcome=outcome,
                body=body,
            )
            self._arrivals.append(arrival)
            if outcome == "accepted":
                self._accepted[message_id] = arrival
        return arrival

    @property
    def referrals(self) -> list[ReferralArrival]:
        """The accepted referrals, once each, in acceptance order."""
        with self._lock:
            return list(self._accepted.values())

    @property
    def arrivals(self) -> list[ReferralArrival]:
        """Every referral POST, in arrival order."""
        with self._lock:
            return list(self._arrivals)

    def requests(self, path: str) -> int:
        """Requests of ``path`` so far."""
        with self._lock:
            return self._requests[path]

    def stats(self) -> dict[str, Any]:
        """Counts of requests, referrals by outcome, statuses."""
        with self._lock:
            return {
                "requests": dict(self._requests),
                "referrals": dict(Counter(a.outcome for a in self._arrivals)),
                "statuses": len(self._statuses),
            }


def _valid(body: bytes) -> bool:
    from gateway.adapters.riat.render import REFERRAL_SCHEMA, load_json_schema

    try:
        document = json.loads(body)
    except ValueError:
        return False
    return bool(load_json_schema(REFERRAL_SCHEMA).is_valid(document))


def main(argv: list[str] | None = None) -> None:
    """Serve until interrupted: ``python -m gateway.testing.riat_server --port 8766 --statuses file.json``."""
    parser = argparse.ArgumentParser(prog="python -m gateway.testing.riat_server", description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--page-size", type=int, default=2)
    parser.add_argument("--statuses", help="a JSON file holding a list of statuses to serve")
    args = parser.parse_args(argv)
    server = RiatServer(page_size=args.page_size, port=args.port).start()
    if args.statuses:
        with open(args.statuses, encoding="utf-8") as fh:
            server.add_statuses(json.load(fh))
    print(server.url, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        print(json.dumps(server.stats()), flush=True)


if __name__ == "__main__":
    main()
