"""The web app through Starlette's TestClient, with a fake backend: no broker, no browser."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from starlette.testclient import TestClient

from gateway.dashboard.app import create_app
from gateway.dashboard.auth import hash_password
from gateway.dashboard.settings import DashboardSettings, ProxyTrust, Role, UserEntry
from gateway.errors import TransientError
from tests.unit.dashboard.support import FakeBackend, dead_letter

NOW = dt.datetime(2026, 2, 1, 12, 0, tzinfo=dt.UTC)
PASSWORDS = {"ana": "ana-password-1", "ben": "ben-password-1"}


@pytest.fixture(scope="module")
def users() -> dict[str, UserEntry]:
    return {
        "ana": UserEntry(role=Role.OPERATOR, password_hash=hash_password(PASSWORDS["ana"])),
        "ben": UserEntry(role=Role.VIEWER, password_hash=hash_password(PASSWORDS["ben"])),
    }


@pytest.fixture
def backend() -> FakeBackend:
    return FakeBackend()


def make_client(users, backend: FakeBackend, **settings) -> TestClient:
    board = DashboardSettings(users=users, session_secret="s" * 32, cookie_secure=False, **settings)
    return TestClient(create_app(board, backend, ["de-csv"], clock=lambda: NOW), follow_redirects=False)


def token(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF field on the page"
    return found.group(1)


def sign_in(client: TestClient, user: str) -> str:
    """Sign in; return the CSRF token of the signed-in session."""
    page = client.get("/login")
    answer = client.post("/login", data={"user": user, "password": PASSWORDS[user], "csrf": token(page.text)})
    assert answer.status_code == 303
    return token(client.get("/c/de-csv").text)


def test_pages_need_a_sign_in(users, backend):
    client = make_client(users, backend)
    answer = client.get("/c/de-csv")
    assert answer.status_code == 303
    assert answer.headers["location"].endswith("/login")
    assert client.get("/c/de-csv/r/0/0").status_code == 303
    assert client.post("/c/de-csv/replay", data={"ref": "0:0"}).status_code in (401, 403)
    assert backend.replays == []
    assert backend.audits == []


def test_wrong_password_is_refused_without_saying_which_part(users, backend):
    client = make_client(users, backend)
    csrf = token(client.get("/login").text)
    for user, password in (("ana", "nope"), ("nobody", "nope")):
        answer = client.post("/login", data={"user": user, "password": password, "csrf": csrf})
        assert answer.status_code == 401
        assert "Unknown user or wrong password." in answer.text


def test_login_without_csrf_token_is_refused(users, backend):
    client = make_client(users, backend)
    client.get("/login")
    answer = client.post("/login", data={"user": "ana", "password": PASSWORDS["ana"]})
    assert answer.status_code == 403


def test_every_response_has_the_security_headers(users, backend):
    client = make_client(users, backend)
    sign_in(client, "ben")
    for path in ("/login", "/c/de-csv", "/c/de-csv/r/0/2", "/healthz"):
        h = client.get(path).headers
        assert "unsafe-inline" not in h["content-security-policy"]
        assert "frame-ancestors 'none'" in h["content-security-policy"]
        assert (h["x-frame-options"], h["x-content-type-options"], h["referrer-policy"]) == (
            "DENY",
            "nosniff",
            "same-origin",
        )
        assert h["cache-control"] == "no-store", path
    static = client.get("/static/dashboard.js")
    assert static.status_code == 200
    assert static.headers["cache-control"].startswith("private")
    assert static.headers["x-content-type-options"] == "nosniff"


def test_session_cookie_is_strict_and_http_only(users, backend):
    client = make_client(users, backend)
    cookie = client.get("/login").headers["set-cookie"].lower()
    assert "samesite=strict" in cookie
    assert "httponly" in cookie


def test_session_cookie_is_secure_by_default(users, backend):
    board = DashboardSettings(users=users, session_secret="s" * 32)
    client = TestClient(create_app(board, backend, ["de-csv"]))
    assert "secure" in client.get("/login").headers["set-cookie"].lower()


def test_the_connector_page_counts_charts_and_lists(users, backend):
    client = make_client(users, backend)
    sign_in(client, "ben")
    page = client.get("/c/de-csv")
    assert page.status_code == 200
    assert '<strong id="total-all">4</strong>' in page.text
    assert page.text.count("<rect ") == 4  # two buckets, two stages each
    assert 'data-ref="0:2"' in page.text
    assert "DP-001, VD-002" in page.text
    assert "Dir. 2008/115/EC Art. 7; Dir. 2008/115/EC Art. 8" in page.text
    # The record's bytes are escaped, never markup; the bidi override is shown, not obeyed.
    assert "<script>alert(1)" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;;\\u202egnp.exe" in page.text
    assert "[hex] 00000000  ff fe 00" in page.text
    # No inline script or style anywhere (the CSP would block them).
    assert not re.search(r"<script(?![^>]*\bsrc=)", page.text)
    assert " style=" not in page.text


def test_viewer_sees_no_replay_button_and_a_forged_post_is_refused(users, backend):
    client = make_client(users, backend)
    csrf = sign_in(client, "ben")
    page = client.get("/c/de-csv").text
    assert 'id="replay-selected"' not in page
    assert 'name="ref"' not in page
    for path in ("/c/de-csv/replay", "/c/de-csv/replay/confirm"):
        answer = client.post(path, data={"csrf": csrf, "ref": "0:0", "reason": "forged by a viewer", "confirm": "yes"})
        assert answer.status_code == 403, path
        assert "Only operators may replay" in answer.text
    assert backend.replays == []
    assert backend.audits == []


def test_operator_replays_with_confirmation_and_an_audit_trail(users, backend):
    client = make_client(users, backend)
    csrf = sign_in(client, "ana")
    assert 'id="replay-selected"' in client.get("/c/de-csv").text
    confirm = client.post("/c/de-csv/replay", data={"csrf": csrf, "ref": ["0:0", "0:2"]})
    assert confirm.status_code == 200
    assert 'id="confirm-replay"' in confirm.text
    assert 'data-ref="0:2"' in confirm.text
    assert backend.replays == []
    assert backend.audits == []

    done = client.post(
        "/c/de-csv/replay/confirm",
        data={"csrf": csrf, "ref": ["0:0", "0:2"], "reason": "code table fixed (ticket 42)", "confirm": "yes"},
    )
    assert done.status_code == 200
    assert 'id="replayed-refs">0:0, 0:2<' in done.text
    assert backend.replays == [frozenset({(0, 0), (0, 2)})]
    requested, finished = backend.audits
    assert (requested.phase, finished.phase) == ("requested", "done")
    assert requested.request_id == finished.request_id
    assert (requested.user, requested.role, requested.via, requested.at) == ("ana", "operator", "password", NOW)
    assert requested.refs == ("0:0", "0:2")
    assert finished.replayed == ("0:0", "0:2")
    assert requested.reason == "code table fixed (ticket 42)"
    assert (requested.dlq_topic, requested.raw_topic) == ("t.dlq.de-csv", "t.raw.de-csv")


@pytest.mark.parametrize(
    ("form", "status"),
    [
        ({"ref": "0:0", "reason": "short", "confirm": "no"}, 400),
        ({"ref": "0:0", "reason": "x", "confirm": "yes"}, 400),
        ({"ref": "zero", "reason": "a good reason", "confirm": "yes"}, 400),
        ({"reason": "a good reason", "confirm": "yes"}, 400),
    ],
)
def test_replay_needs_refs_a_reason_and_the_confirmation(users, backend, form, status):
    client = make_client(users, backend)
    csrf = sign_in(client, "ana")
    assert client.post("/c/de-csv/replay/confirm", data={"csrf": csrf, **form}).status_code == status
    assert backend.replays == []
    assert backend.audits == []


def test_replay_without_csrf_or_from_another_site_is_refused(users, backend):
    client = make_client(users, backend)
    csrf = sign_in(client, "ana")
    form = {"ref": "0:0", "reason": "a good reason", "confirm": "yes"}
    assert client.post("/c/de-csv/replay/confirm", data=form).status_code == 403
    assert client.post("/c/de-csv/replay/confirm", data={**form, "csrf": "guessed"}).status_code == 403
    cross = client.post(
        "/c/de-csv/replay/confirm", data={**form, "csrf": csrf}, headers={"origin": "https://evil.example"}
    )
    assert cross.status_code == 403
    assert backend.replays == []
    assert backend.audits == []


def test_no_replay_when_the_audit_trail_cannot_be_written(users, backend):
    client = make_client(users, backend)
    csrf = sign_in(client, "ana")
    backend.audit_fails = True
    answer = client.post(
        "/c/de-csv/replay/confirm", data={"csrf": csrf, "ref": "0:0", "reason": "a good reason", "confirm": "yes"}
    )
    assert answer.status_code == 503
    assert "nothing was replayed" in answer.text
    assert backend.replays == []


def test_filters_are_posted_and_applied(users, backend):
    client = make_client(users, backend)
    csrf = sign_in(client, "ben")
    page = client.get("/c/de-csv").text
    assert re.search(r'<form method="post"[^>]*id="filter-form"', page)
    answer = client.post("/c/de-csv", data={"csrf": csrf, "stage": "map", "text": "unknown", "by": "error"})
    assert answer.status_code == 200
    assert '<strong id="total-shown">2</strong>' in answer.text
    assert 'data-ref="0:0"' in answer.text
    assert 'data-ref="0:2"' not in answer.text
    assert client.post("/c/de-csv", data={"csrf": csrf, "stage": "bogus"}).status_code == 400
    assert client.post("/c/de-csv", data={"stage": "map"}).status_code == 403


def test_record_detail(users, backend):
    client = make_client(users, backend)
    sign_in(client, "ben")
    page = client.get("/c/de-csv/r/0/2")
    assert page.status_code == 200
    assert "departure before decision" in page.text
    assert "gw.errors.legal.references" in page.text
    assert "their legal references" in page.text
    hexed = client.get("/c/de-csv/r/0/1").text
    assert "not valid utf-8" in hexed
    assert "00000000  ff fe 00 62 61 64" in hexed
    assert client.get("/c/de-csv/r/0/99").status_code == 404


def test_unknown_connector_is_not_read(users, backend):
    client = make_client(users, backend)
    sign_in(client, "ben")
    assert client.get("/c/other").status_code == 404


def test_a_broker_outage_is_a_page_not_a_crash(users, backend):
    client = make_client(users, backend)
    sign_in(client, "ben")
    backend.read_fails = True
    answer = client.get("/c/de-csv")
    assert answer.status_code == 503
    assert "cannot be read now" in answer.text


def test_sign_out(users, backend):
    client = make_client(users, backend)
    csrf = sign_in(client, "ben")
    assert client.post("/logout", data={"csrf": csrf}).status_code == 303
    assert client.get("/c/de-csv").status_code == 303


def test_a_demoted_operator_loses_replay_at_once(users, backend):
    board = DashboardSettings(users=users, session_secret="s" * 32, cookie_secure=False)
    client = TestClient(create_app(board, backend, ["de-csv"]), follow_redirects=False)
    csrf = sign_in(client, "ana")
    demoted = {**users, "ana": UserEntry(role=Role.VIEWER, password_hash=users["ana"].password_hash)}
    board2 = DashboardSettings(users=demoted, session_secret="s" * 32, cookie_secure=False)
    # Same secret: the old session cookie is still valid, but the role is read from the configuration.
    later = TestClient(create_app(board2, backend, ["de-csv"]), cookies=client.cookies, follow_redirects=False)
    answer = later.post("/c/de-csv/replay", data={"csrf": csrf, "ref": "0:0"})
    assert answer.status_code == 403


def test_trusted_proxy_identity(users, backend):
    client = make_client(users, backend, proxy=ProxyTrust(trusted=True, trusted_peers=("testclient",)))
    headers = {"X-Forwarded-User": "carla", "X-Forwarded-Role": "operator"}
    page = client.get("/c/de-csv", headers=headers)
    assert page.status_code == 200
    assert 'id="replay-selected"' in page.text
    done = client.post(
        "/c/de-csv/replay/confirm",
        data={"csrf": token(page.text), "ref": "0:3", "reason": "proxy user replays", "confirm": "yes"},
        headers=headers,
    )
    assert done.status_code == 200
    assert backend.audits[0].user == "carla"
    assert backend.audits[0].via == "proxy"


def test_proxy_headers_are_not_believed_by_default(users, backend):
    client = make_client(users, backend)
    answer = client.get("/c/de-csv", headers={"X-Forwarded-User": "carla", "X-Forwarded-Role": "operator"})
    assert answer.status_code == 303


def test_a_failed_replay_is_audited_as_failed(users, backend):
    client = make_client(users, backend)
    csrf = sign_in(client, "ana")

    def broken(connector: str, refs: frozenset[tuple[int, int]]) -> list:
        raise TransientError("raw topic away")

    backend.replay = broken  # type: ignore[method-assign]
    answer = client.post(
        "/c/de-csv/replay/confirm", data={"csrf": csrf, "ref": "0:0", "reason": "a good reason", "confirm": "yes"}
    )
    assert answer.status_code == 502
    assert [a.phase for a in backend.audits] == ["requested", "failed"]
    assert backend.audits[1].error == "raw topic away"


def test_home_lists_every_connector_with_its_total(users, backend):
    board = DashboardSettings(users=users, session_secret="s" * 32, cookie_secure=False)
    client = TestClient(create_app(board, backend, ["de-csv", "nl-xml"]), follow_redirects=False)
    sign_in(client, "ben")
    page = client.get("/")
    assert page.status_code == 200
    assert re.search(r'href="http://testserver/c/nl-xml">nl-xml</a></td>\s*<td class="n">4</td>', page.text)


class Ticks:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_sign_in_is_rate_limited_with_the_same_message(users, backend, caplog):
    ticks = Ticks()
    board = DashboardSettings(
        users=users, session_secret="s" * 32, cookie_secure=False, sign_in={"max_failures": 3, "lockout_s": 30}
    )
    client = TestClient(create_app(board, backend, ["de-csv"], monotonic=ticks), follow_redirects=False)
    csrf = token(client.get("/login").text)

    def attempt(user: str, password: str) -> object:
        return client.post("/login", data={"user": user, "password": password, "csrf": csrf})

    assert [attempt("ana", f"guess-{i}").status_code for i in range(2)] == [401, 401]
    locked = attempt("ana", "guess-2")
    assert locked.status_code == 429
    assert locked.headers["retry-after"] == "30"
    assert "Unknown user or wrong password." in locked.text
    # Locked: even the right password is refused, unchecked, and so is an unknown name from the same address.
    right = attempt("ana", PASSWORDS["ana"])
    assert (right.status_code, right.headers["retry-after"]) == (429, "30")
    assert attempt("nobody", "x").status_code == 429
    ticks.now += 10
    assert attempt("ben", PASSWORDS["ben"]).headers["retry-after"] == "20"
    ticks.now += 20
    assert attempt("ana", PASSWORDS["ana"]).status_code == 303
    assert "guess-" not in caplog.text
    assert PASSWORDS["ana"] not in caplog.text
    assert "rate limited" in caplog.text


def test_an_unknown_name_is_locked_like_a_known_one(users, backend):
    board = DashboardSettings(users=users, session_secret="s" * 32, cookie_secure=False, sign_in={"max_failures": 2})
    answers = {}
    for name in ("ana", "nobody"):
        client = TestClient(create_app(board, backend, ["de-csv"], monotonic=Ticks()), follow_redirects=False)
        csrf = token(client.get("/login").text)
        answers[name] = [
            (a.status_code, a.headers.get("retry-after"), "Unknown user or wrong password." in a.text)
            for a in (client.post("/login", data={"user": name, "password": "x", "csrf": csrf}) for _ in range(3))
        ]
    assert answers["ana"] == answers["nobody"] == [(401, None, True), (429, "30", True), (429, "30", True)]


def big_backend(n: int, partitions: int = 2) -> FakeBackend:
    return FakeBackend(records=[dead_letter(o, partition=p, minute=o) for p in range(partitions) for o in range(n)])


def test_the_list_reads_only_the_last_offsets_and_pages_older_by_offset(users):
    backend = big_backend(50)
    client = make_client(users, backend, recent_limit=20)
    sign_in(client, "ben")
    backend.ranges_read.clear()
    page = client.get("/c/de-csv")
    assert backend.ranges_read == [{0: (30, 50), 1: (30, 50)}]  # 20 per partition, not the 100 on the topic
    assert '<strong id="total-all">100</strong>' in page.text  # the counts are the summary's: all of them
    refs = re.findall(r'<tr data-ref="(\d+:\d+)"', page.text)
    assert len(refs) == 20
    assert set(refs) == {f"{p}:{o}" for p in (0, 1) for o in range(40, 50)}
    older = re.search(r'href="([^"]+)" id="older"', page.text)
    assert older
    link = older.group(1).replace("&amp;", "&")
    assert "before=0:40,1:40" in link  # offsets only: nothing from a record in the URL
    seen = set(refs)
    while link:
        backend.ranges_read.clear()
        page = client.get(link)
        assert page.status_code == 200
        assert all(end - start <= 20 for r in backend.ranges_read for start, end in r.values())
        refs = re.findall(r'<tr data-ref="(\d+:\d+)"', page.text)
        assert not seen & set(refs)
        seen |= set(refs)
        found = re.search(r'href="([^"]+)" id="older"', page.text)
        link = found.group(1).replace("&amp;", "&") if found else ""
    assert seen == {f"{p}:{o}" for p in (0, 1) for o in range(50)}  # every dead letter, once, none skipped


def test_a_broken_cursor_is_refused(users, backend):
    client = make_client(users, backend)
    sign_in(client, "ben")
    assert client.get("/c/de-csv?before=0:x").status_code == 400


def test_a_text_filter_says_it_searched_only_the_tail(users):
    backend = big_backend(50, partitions=1)
    client = make_client(users, backend, recent_limit=10)
    csrf = sign_in(client, "ben")
    answer = client.post("/c/de-csv", data={"csrf": csrf, "text": "line 4"})  # positions "line 42" .. "line 49"
    assert '<strong id="total-shown">8</strong>' in answer.text
    assert 'id="sampled"' in answer.text
    assert "among the 10 read for this page" in answer.text
    # A stage filter is answered from the summary, over every dead letter.
    answer = client.post("/c/de-csv", data={"csrf": csrf, "stage": "map"})
    assert '<strong id="total-shown">50</strong>' in answer.text
    assert 'id="sampled"' not in answer.text
    # The filtered page pages on by a posted form, the filters in it, not in a URL.
    older = re.search(r'<form method="post" action="[^"]+" id="older-form">(.*?)</form>', answer.text, re.S)
    assert older
    assert 'name="before" value="0:40"' in older.group(1)
    assert 'name="stage" value="map"' in older.group(1)


def test_a_record_page_reads_exactly_its_offset(users):
    backend = big_backend(50)
    client = make_client(users, backend)
    sign_in(client, "ben")
    backend.ranges_read.clear()
    assert client.get("/c/de-csv/r/1/7").status_code == 200
    assert backend.offsets_read == [(1, 7)]
    assert backend.ranges_read == []
