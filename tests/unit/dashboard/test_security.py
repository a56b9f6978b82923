from __future__ import annotations

import pytest

from gateway.dashboard.security import CsrfFailure, CsrfRequest, check_csrf, new_csrf_token, security_headers


def test_security_headers_of_a_page_with_dead_letters():
    h = security_headers(sensitive=True)
    csp = h["Content-Security-Policy"]
    assert "unsafe-inline" not in csp
    assert "unsafe-eval" not in csp
    assert "script-src 'self'" in csp
    assert "style-src 'self'" in csp
    assert "default-src 'none'" in csp
    assert "frame-ancestors 'none'" in csp
    assert h["X-Frame-Options"] == "DENY"
    assert h["X-Content-Type-Options"] == "nosniff"
    assert h["Referrer-Policy"] == "same-origin"
    assert h["Cache-Control"] == "no-store"


def test_static_files_may_be_cached_privately():
    assert security_headers(sensitive=False)["Cache-Control"] == "private, max-age=300"


def test_tokens_are_random():
    assert len({new_csrf_token() for _ in range(50)}) == 50


def _req(**kw: str | None) -> CsrfRequest:
    base: dict[str, str | None] = {
        "session_token": "tok",
        "form_token": "tok",
        "origin": "http://127.0.0.1:8080",
        "referer": None,
        "host": "127.0.0.1:8080",
    }
    return CsrfRequest(**{**base, **kw})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("request_", "expected"),
    [
        (_req(), None),
        (_req(origin=None), None),
        (_req(origin=None, referer="http://127.0.0.1:8080/c/de-csv"), None),
        (_req(origin="https://127.0.0.1:8080"), None),  # TLS ended at a proxy: host and port decide
        (_req(form_token="other"), CsrfFailure.MISMATCH),
        (_req(form_token=None), CsrfFailure.MISSING),
        (_req(session_token=None), CsrfFailure.NO_SESSION_TOKEN),
        (_req(origin="http://evil.example"), CsrfFailure.CROSS_ORIGIN),
        (_req(origin="null"), CsrfFailure.CROSS_ORIGIN),
        (_req(origin=None, referer="http://evil.example/x"), CsrfFailure.CROSS_ORIGIN),
    ],
)
def test_check_csrf(request_: CsrfRequest, expected: CsrfFailure | None):
    assert check_csrf(request_) == expected
