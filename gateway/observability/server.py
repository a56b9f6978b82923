"""``/metrics``, ``/healthz`` and ``/readyz`` of one process, served from a daemon thread.

prometheus_client's WSGI app renders the process's own registry; ``/healthz`` says the process is alive (the
server thread answers), ``/readyz`` answers 200 when the process's `Readiness` is met and 503 with a JSON reason
until then. Started at the edge (the CLI), stopped when the command ends.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from types import TracebackType
from typing import Any, Self
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, make_wsgi_app

from gateway.observability.health import Readiness

__all__ = ["ObservabilityServer"]

_StartResponse = Callable[..., Any]


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    # One slow scraper must not block the health checks of an orchestrator.
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        # Every scrape would be a line on stderr; requests carry nothing an operator needs.
        return


class ObservabilityServer:
    """The HTTP endpoints of one process. Use as a context manager, or `start` and `stop`.

    Args:
        registry: The process's metrics registry.
        readiness: The process's readiness conditions.
        host: Address to bind.
        port: Port to bind; 0 picks a free one (see `port`).
    """

    def __init__(
        self, registry: CollectorRegistry, readiness: Readiness, *, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self._metrics = make_wsgi_app(registry)
        self._readiness = readiness
        self._server = make_server(host, port, self._app, server_class=_ThreadingServer, handler_class=_QuietHandler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="observability-http", daemon=True)

    @property
    def port(self) -> int:
        """The port bound."""
        return int(self._server.server_address[1])

    def start(self) -> Self:
        """Serve from a daemon thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(timeout=5.0)
        self._server.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _app(self, environ: dict[str, Any], start_response: _StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/metrics":
            body: Iterable[bytes] = self._metrics(environ, start_response)
            return body
        if path == "/healthz":
            return _json(start_response, "200 OK", {"status": "alive"})
        if path == "/readyz":
            ready, reasons = self._readiness.status()
            if ready:
                return _json(start_response, "200 OK", {"status": "ready"})
            return _json(start_response, "503 Service Unavailable", {"status": "not ready", "reasons": dict(reasons)})
        return _json(
            start_response, "404 Not Found", {"error": "not found", "paths": ["/metrics", "/healthz", "/readyz"]}
        )


def _json(start_response: _StartResponse, status: str, payload: dict[str, Any]) -> list[bytes]:
    body = json.dumps(payload, sort_keys=True).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
