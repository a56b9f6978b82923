"""Security headers and CSRF checks: pure functions the web app applies to every response and every POST.

CSRF uses the synchroniser-token pattern: a random token kept in the signed session and repeated in a hidden form
field; a POST without the same token is refused. On top, a request whose ``Origin`` (or, lacking it, ``Referer``)
names another site is refused, and the session cookie is ``SameSite=Strict``.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

__all__ = ["CsrfFailure", "CsrfRequest", "check_csrf", "new_csrf_token", "security_headers"]

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
"""Only the app's own scripts and styles, no inline ones; no framing; forms post only to the app."""


def security_headers(*, sensitive: bool) -> dict[str, str]:
    """Headers for every response; ``sensitive`` pages (anything showing dead letters) are never cached.

    Args:
        sensitive: The response shows dead-letter data (personal data): no copy may be stored anywhere.
    """
    headers = {
        "Content-Security-Policy": CONTENT_SECURITY_POLICY,
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        # same-origin, not no-referrer: with no-referrer Chromium sends "Origin: null" on form posts, which the CSRF
        # check must refuse; same-origin still never tells another site which page (and offsets) linked to it.
        "Referrer-Policy": "same-origin",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Cross-Origin-Resource-Policy": "same-origin",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
    }
    if sensitive:
        headers["Cache-Control"] = "no-store"
        headers["Pragma"] = "no-cache"
    else:
        headers["Cache-Control"] = "private, max-age=300"
    return headers


def new_csrf_token() -> str:
    """A fresh random CSRF token (32 bytes, URL-safe text)."""
    return secrets.token_urlsafe(32)


class CsrfFailure(StrEnum):
    """Why a POST was refused."""

    NO_SESSION_TOKEN = "no-session-token"  # noqa: S105 - a code, not a secret
    MISSING = "missing-token"
    MISMATCH = "token-mismatch"
    CROSS_ORIGIN = "cross-origin"


@dataclass(frozen=True, slots=True)
class CsrfRequest:
    """What the check needs of a POST.

    Attributes:
        session_token: The token kept in the session, if any.
        form_token: The token the form sent, if any.
        origin: The ``Origin`` header, if any.
        referer: The ``Referer`` header, if any (used only when there is no ``Origin``).
        host: The ``Host`` the request was sent to (``host[:port]``).
    """

    session_token: str | None
    form_token: str | None
    origin: str | None
    referer: str | None
    host: str


def check_csrf(req: CsrfRequest) -> CsrfFailure | None:
    """None if the POST may proceed, else why not.

    The origin check compares host and port only: behind a TLS-terminating proxy the scheme the app sees differs
    from the browser's, while a cross-site request always names another host.
    """
    source = req.origin if req.origin not in (None, "", "null") else req.referer
    if req.origin == "null":
        return CsrfFailure.CROSS_ORIGIN
    if source and urlsplit(source).netloc.lower() != req.host.lower():
        return CsrfFailure.CROSS_ORIGIN
    if not req.session_token:
        return CsrfFailure.NO_SESSION_TOKEN
    if not req.form_token:
        return CsrfFailure.MISSING
    if not hmac.compare_digest(req.session_token.encode(), req.form_token.encode()):
        return CsrfFailure.MISMATCH
    return None
