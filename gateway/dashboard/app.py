"""The dashboard's web app (Starlette): pages over the dead-letter topics, sign-in, and audited replay.

Every page that shows dead letters needs a signed-in person; replay needs an operator, a CSRF token and a
confirmation step, and writes its audit record before anything is replayed. Dead letters are named in URLs and
forms only by ``PARTITION:OFFSET``; filters, which may carry personal data (a search text), travel by POST.
Endpoints are plain functions: Starlette runs them in its thread pool, so the blocking Kafka reads never hold the
event loop. A page reads what it shows, never a whole topic: the list reads the last ``recent_limit`` offsets of each
partition (older pages by an offset cursor), a record's page reads its one offset, and the counts and the chart come
from the backend's incremental summary. Sign-in is rate-limited per user name and client address.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import math
import secrets
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.dashboard import paging, views
from gateway.dashboard.audit import AuditEntry
from gateway.dashboard.auth import AuthFailure, Principal, authenticate, principal_from_proxy, session_principal
from gateway.dashboard.backend import DeadLetterBackend
from gateway.dashboard.ratelimit import SignInLimiter, sign_in_keys
from gateway.dashboard.security import CsrfRequest, check_csrf, new_csrf_token, security_headers
from gateway.dashboard.settings import DashboardSettings
from gateway.dlq.tools import DeadLetterRecord
from gateway.errors import GatewayError

__all__ = ["create_app"]

_log = logging.getLogger(__name__)

Clock = Callable[[], dt.datetime]

_REASON_MIN, _REASON_MAX = 5, 500
_MAX_SELECTED = 500
# Paths whose responses carry no dead-letter data and may be cached (the app's own static files).
_PUBLIC_PREFIXES = ("/static/",)


class SecurityHeadersMiddleware:
    """Adds `security_headers` to every response (pure ASGI, so streaming and static files are covered too)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Wrap ``send`` to add the headers to the response start."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sensitive = not str(scope.get("path", "")).startswith(_PUBLIC_PREFIXES)
        extra = [(k.lower().encode(), v.encode()) for k, v in security_headers(sensitive=sensitive).items()]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {k for k, _ in extra}
                message["headers"] = [(k, v) for k, v in message.get("headers", []) if k.lower() not in names] + extra
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def create_app(
    settings: DashboardSettings,
    backend: DeadLetterBackend,
    connectors: Sequence[str],
    *,
    clock: Clock = _utc_now,
    monotonic: Callable[[], float] = time.monotonic,
) -> Starlette:
    """Build the dashboard app.

    Args:
        settings: Users, proxy trust, cookie and display settings.
        backend: Reads dead letters, replays, writes the audit trail.
        connectors: Connectors whose dead-letter topics may be shown; any other name is a 404.
        clock: Current time (UTC), for the audit records.
        monotonic: Monotonic seconds, for the sign-in rate limit.

    Returns:
        The ASGI app, ready for uvicorn or Starlette's ``TestClient``.
    """
    known = tuple(connectors)
    limiter = SignInLimiter(settings.sign_in, monotonic)
    env = Environment(
        loader=PackageLoader("gateway.dashboard", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = lambda t: "—" if t is None else t.strftime("%Y-%m-%d %H:%M:%S UTC")
    templates = Jinja2Templates(env=env)

    def principal(request: Request) -> Principal | None:
        peer = request.client.host if request.client else None
        return principal_from_proxy(settings.proxy, request.headers, peer) or session_principal(
            settings, request.session
        )

    def csrf_token(request: Request) -> str:
        token = request.session.get("csrf")
        if not isinstance(token, str):
            token = new_csrf_token()
            request.session["csrf"] = token
        return token

    def render(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> Response:
        base = {"me": principal(request), "csrf": csrf_token(request), "connectors": known}
        return templates.TemplateResponse(request, name, {**base, **context}, status_code=status_code)

    def refuse(request: Request, status_code: int, message: str) -> Response:
        return render(request, "error.html", {"status": status_code, "message": message}, status_code)

    async def posted(request: Request) -> tuple[FormData, Response | None]:
        """The form of a POST, or the response refusing it (CSRF)."""
        form = await request.form()
        token = form.get("csrf")
        failure = check_csrf(
            CsrfRequest(
                session_token=request.session.get("csrf"),
                form_token=token if isinstance(token, str) else None,
                origin=request.headers.get("origin"),
                referer=request.headers.get("referer"),
                host=request.headers.get("host", ""),
            )
        )
        if failure is not None:
            _log.warning("refused a POST to %s: %s", request.url.path, failure.value)
            return form, refuse(request, 403, "This form has expired or did not come from this page. Reload it.")
        return form, None

    def signed_in(request: Request) -> Principal | Response:
        who = principal(request)
        if who is None:
            if request.method == "GET":
                return RedirectResponse(request.url_for("login"), status_code=303)
            return refuse(request, 401, "Sign in first.")
        return who

    def connector_of(request: Request) -> str | Response:
        name = str(request.path_params["connector"])
        return name if name in known else refuse(request, 404, "No such connector on this dashboard.")

    def unreadable(request: Request, connector: str, exc: GatewayError) -> Response:
        _log.warning("reading the dead letters of %s failed: %s", connector, exc)
        return refuse(request, 503, f"The dead-letter topic cannot be read now: {exc}")

    def read_at(request: Request, connector: str, refs: Iterable[tuple[int, int]]) -> list[DeadLetterRecord] | Response:
        try:
            return backend.dead_letters_at(connector, refs)
        except GatewayError as exc:
            return unreadable(request, connector, exc)

    # --- sign-in -------------------------------------------------------------------------------------------------

    def login_page(request: Request) -> Response:
        return render(request, "login.html", {"failed": False})

    async def login(request: Request) -> Response:
        form, refused = await posted(request)
        if refused is not None:
            return refused
        name, password = str(form.get("user", "")), str(form.get("password", ""))
        client = request.client.host if request.client else None
        keys = sign_in_keys(name, client)
        wait = limiter.retry_after(keys)
        if wait > 0:
            # The same page as a wrong password: a lock says nothing about whether the name exists.
            _log.warning("sign-in refused for %r from %s: rate limited for %.0f s", name[:64], client, wait)
            return rate_limited(request, wait)
        result = await _in_thread(authenticate, settings.users, name, password)
        if isinstance(result, AuthFailure):
            locked = limiter.failed(keys)
            _log.warning(
                "sign-in refused for %r from %s: %s%s",
                name[:64],
                client,
                result.code.value,
                f"; locked for {locked:.0f} s" if locked else "",
            )
            return rate_limited(request, locked) if locked else render(request, "login.html", {"failed": True}, 401)
        limiter.succeeded(keys[0])
        # A new session on sign-in (fresh CSRF token too), so a token planted before sign-in is worthless.
        request.session.clear()
        request.session.update({"user": result.name, "csrf": new_csrf_token()})
        _log.info("%s signed in (%s)", result.name, result.role.value)
        return RedirectResponse(request.url_for("home"), status_code=303)

    def rate_limited(request: Request, wait: float) -> Response:
        answer = render(request, "login.html", {"failed": True}, 429)
        answer.headers["Retry-After"] = str(max(1, math.ceil(wait)))
        return answer

    async def logout(request: Request) -> Response:
        _, refused = await posted(request)
        if refused is not None:
            return refused
        request.session.clear()
        return RedirectResponse(request.url_for("login"), status_code=303)

    # --- pages ---------------------------------------------------------------------------------------------------

    def home(request: Request) -> Response:
        who = signed_in(request)
        if isinstance(who, Response):
            return who
        if len(known) == 1:
            return RedirectResponse(request.url_for("connector", connector=known[0]), status_code=303)
        totals: list[tuple[str, int | None]] = []
        for name in known:
            try:
                totals.append((name, backend.summary(name).counted))
            except GatewayError as exc:
                _log.warning("the summary of %s failed: %s", name, exc)
                totals.append((name, None))
        return render(request, "home.html", {"totals": totals})

    def connector_view(
        request: Request, connector: str, filters: views.Filters, by: views.Dimension, before: dict[int, int]
    ) -> Response:
        """Counts and chart from the summary; the list from the last offsets of each partition (below ``before``)."""
        limit = settings.recent_limit
        try:
            summary = backend.summary(connector)
            marks = backend.watermarks(connector).offsets
            ranges = paging.tail_ranges(marks, before, limit)
            window = backend.read_ranges(connector, ranges)
        except GatewayError as exc:
            return unreadable(request, connector, exc)
        keep = functools.partial(_matches, filters)
        page = paging.page_of(window, ranges, marks, limit=limit, newest_first=_newest_first, keep=keep)
        if filters.text:
            # A text search needs the records: it is answered among the ones read, and the page says so.
            shown: Mapping[views.Bucket, int] = views.count_buckets(
                (r for r in window if keep(r)), summary.slot_minutes
            )
        else:
            shown = views.select_buckets(summary.counts, filters)
        context = {
            "connector": connector,
            "topic": backend.dlq_topic(connector),
            "raw_topic": backend.raw_topic(connector),
            "all": views.overview_of(summary.counts),
            "shown": views.overview_of(shown),
            "sampled": bool(filters.text),
            "summary": summary,
            "chart": views.chart_of(shown, by, bucket_minutes=settings.bucket_minutes),
            "rows": [views.view(r, text_limit=160) for r in page.rows],
            "page": page,
            "before": paging.format_cursor(before),
            "older": None if page.older is None else paging.format_cursor(page.older),
            "filters": filters,
            "by": by,
            "dimensions": list(views.Dimension),
            "limit": limit,
        }
        return render(request, "connector.html", context)

    def connector_page(request: Request) -> Response:
        who, connector = signed_in(request), connector_of(request)
        if isinstance(who, Response):
            return who
        if isinstance(connector, Response):
            return connector
        by = _dimension(request.query_params.get("by"))
        before = paging.parse_cursor(request.query_params.get("before"))
        if before is None:
            return refuse(request, 400, "This page link is broken: go back to the newest dead letters.")
        return connector_view(request, connector, views.Filters(), by, before)

    async def connector_filtered(request: Request) -> Response:
        who, connector = signed_in(request), connector_of(request)
        if isinstance(who, Response):
            return who
        if isinstance(connector, Response):
            return connector
        form, refused = await posted(request)
        if refused is not None:
            return refused
        try:
            filters = views.Filters.model_validate({k: form.get(k, "") for k in ("stage", "error", "rule", "text")})
        except ValidationError as exc:
            return refuse(request, 400, "; ".join(str(e["msg"]) for e in exc.errors()))
        by = _dimension(str(form.get("by", "")))
        before = paging.parse_cursor(str(form.get("before", "")))
        if before is None:
            return refuse(request, 400, "This form is broken: reload the page.")
        shown: Response = await _in_thread(connector_view, request, connector, filters, by, before)
        return shown

    def record_page(request: Request) -> Response:
        who, connector = signed_in(request), connector_of(request)
        if isinstance(who, Response):
            return who
        if isinstance(connector, Response):
            return connector
        at = (int(request.path_params["partition"]), int(request.path_params["offset"]))
        records = read_at(request, connector, [at])  # exactly this offset, whatever the topic's size
        if isinstance(records, Response):
            return records
        found = records[0] if records else None
        if found is None:
            return refuse(request, 404, f"No dead letter at {at[0]}:{at[1]} on {backend.dlq_topic(connector)}.")
        context = {
            "connector": connector,
            "topic": backend.dlq_topic(connector),
            "rec": views.view(found),
            "headers": views.header_rows(found),
        }
        return render(request, "record.html", context)

    # --- replay --------------------------------------------------------------------------------------------------

    async def operator_form(request: Request) -> tuple[Principal, str, FormData] | Response:
        """Checks shared by both replay steps: signed in, an operator, a known connector, a valid CSRF token."""
        who, connector = signed_in(request), connector_of(request)
        if isinstance(who, Response):
            return who
        if isinstance(connector, Response):
            return connector
        form, refused = await posted(request)
        if refused is not None:
            return refused
        if not who.may_replay:
            _log.warning("%s (%s) tried to replay dead letters of %s", who.name, who.role.value, connector)
            return refuse(request, 403, "Only operators may replay dead letters.")
        return who, connector, form

    def chosen_refs(request: Request, form: FormData) -> frozenset[tuple[int, int]] | Response:
        """The dead letters a replay form names (``ref`` fields), or the refusal when there are none or too many."""
        refs = views.parse_refs(str(v) for v in form.getlist("ref"))
        if refs is None or not refs or len(refs) > _MAX_SELECTED:
            return refuse(request, 400, f"Choose between 1 and {_MAX_SELECTED} dead letters to replay.")
        return refs

    async def replay_confirm_page(request: Request) -> Response:
        checked = await operator_form(request)
        if isinstance(checked, Response):
            return checked
        _, connector, form = checked
        refs = chosen_refs(request, form)
        if isinstance(refs, Response):
            return refs
        records = await _in_thread(read_at, request, connector, refs)
        if isinstance(records, Response):
            return records
        picked = [views.view(r, text_limit=160) for r in records]
        missing = sorted(refs - {(r.partition, r.offset) for r in picked})
        context = {
            "connector": connector,
            "topic": backend.dlq_topic(connector),
            "raw_topic": backend.raw_topic(connector),
            "picked": picked,
            "missing": [f"{p}:{o}" for p, o in missing],
            "reason_min": _REASON_MIN,
            "reason_max": _REASON_MAX,
        }
        return render(request, "confirm.html", context)

    async def replay_do(request: Request) -> Response:
        checked = await operator_form(request)
        if isinstance(checked, Response):
            return checked
        who, connector, form = checked
        refs = chosen_refs(request, form)
        if isinstance(refs, Response):
            return refs
        reason = " ".join(str(form.get("reason", "")).split())
        if not _REASON_MIN <= len(reason) <= _REASON_MAX:
            return refuse(request, 400, f"Say why, in {_REASON_MIN} to {_REASON_MAX} characters.")
        if form.get("confirm") != "yes":
            return refuse(request, 400, "The replay was not confirmed.")
        entry = AuditEntry(
            phase="requested",
            request_id=uuid.uuid4().hex,
            user=who.name,
            role=who.role.value,
            via=who.via,
            at=clock(),
            client=request.client.host if request.client else "",
            connector=connector,
            dlq_topic=backend.dlq_topic(connector),
            raw_topic=backend.raw_topic(connector),
            refs=tuple(f"{p}:{o}" for p, o in sorted(refs)),
            reason=reason,
        )
        try:
            await _in_thread(backend.audit, entry)
        except GatewayError as exc:
            _log.error("audit record refused, nothing replayed: %s", exc)
            return refuse(request, 503, f"The audit trail cannot be written, so nothing was replayed: {exc}")
        try:
            replayed = await _in_thread(backend.replay, connector, refs)
        except GatewayError as exc:
            _log.error("replay %s failed: %s", entry.request_id, exc)
            await _audit_quietly(
                backend, entry.model_copy(update={"phase": "failed", "at": clock(), "error": str(exc)})
            )
            return refuse(request, 502, f"The replay failed ({exc}); the audit trail records it.")
        done = tuple(f"{r.partition}:{r.offset}" for r in replayed)
        await _audit_quietly(backend, entry.model_copy(update={"phase": "done", "at": clock(), "replayed": done}))
        _log.info("%s replayed %d dead letter(s) of %s: %s", who.name, len(done), connector, entry.request_id)
        context = {
            "connector": connector,
            "raw_topic": backend.raw_topic(connector),
            "entry": entry,
            "replayed": done,
            "missing": sorted(set(entry.refs) - set(done)),
        }
        return render(request, "done.html", context)

    def healthz(_: Request) -> Response:
        return PlainTextResponse("ok")

    static = Path(__file__).with_name("static")
    secret = settings.session_secret.get_secret_value() if settings.session_secret else secrets.token_urlsafe(32)
    routes = [
        Route("/", home, name="home"),
        Route("/login", login_page, methods=["GET"], name="login"),
        Route("/login", login, methods=["POST"], name="login_post"),
        Route("/logout", logout, methods=["POST"], name="logout"),
        Route("/healthz", healthz, name="healthz"),
        Route("/c/{connector}", connector_page, methods=["GET"], name="connector"),
        Route("/c/{connector}", connector_filtered, methods=["POST"], name="connector_filtered"),
        Route("/c/{connector}/r/{partition:int}/{offset:int}", record_page, name="record"),
        Route("/c/{connector}/replay", replay_confirm_page, methods=["POST"], name="replay_confirm"),
        Route("/c/{connector}/replay/confirm", replay_do, methods=["POST"], name="replay_do"),
        Mount("/static", StaticFiles(directory=static), name="static"),
    ]
    middleware = [
        Middleware(SecurityHeadersMiddleware),
        Middleware(
            SessionMiddleware,
            secret_key=secret,
            session_cookie="gw_dashboard",
            max_age=settings.session_max_age_s,
            same_site="strict",
            https_only=settings.cookie_secure,
        ),
    ]
    return Starlette(routes=routes, middleware=middleware)


def _dimension(value: str | None) -> views.Dimension:
    try:
        return views.Dimension(value or "stage")
    except ValueError:
        return views.Dimension.STAGE


def _matches(filters: views.Filters, rec: DeadLetterRecord) -> bool:
    return bool(views.apply_filters([rec], filters))


def _newest_first(rec: DeadLetterRecord) -> tuple[int, int, int]:
    return (-views.failed_at_ms(rec), rec.partition, -rec.offset)


async def _in_thread(fn: Callable[..., Any], *args: Any) -> Any:
    return await run_in_threadpool(fn, *args)


async def _audit_quietly(backend: DeadLetterBackend, entry: AuditEntry) -> None:
    """Write a closing audit record; its failure is logged, not shown: the replay itself already happened."""
    try:
        await _in_thread(backend.audit, entry)
    except GatewayError as exc:
        _log.error("closing audit record %s (%s) not written: %s", entry.request_id, entry.phase, exc)
