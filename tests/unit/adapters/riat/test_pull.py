"""The status feed client against the real local RIAT server, and the routing of a page (no broker needed)."""

from __future__ import annotations

import datetime as dt
import json

import httpx
import pytest

from gateway.adapters.riat.pull import FeedError, FeedPage, RiatTopics, StatusFeed, route_page
from gateway.adapters.riat.referrals import ReferralEntry
from gateway.adapters.riat.status import NO_REFERRAL
from gateway.codec.codec import EventCodec
from gateway.dlq import headers as H
from gateway.errors import TransientError
from gateway.kafka.retry import RetrySettings
from gateway.testing.riat_server import RiatServer

FAST = RetrySettings(max_attempts=4, initial_delay_s=0.01, max_delay_s=0.02, jitter_s=0.0, deadline_s=10)
TOPICS = RiatTopics(canonical="c", review="r", dlq="d", progress="p", index="i")
NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)


def status(n: int, referral: str = "R-1") -> dict:
    return {
        "status_id": f"ST-{n}",
        "referral_id": referral,
        "stage": "KM3_DELIVERY",
        "reported_at": "2026-05-30T08:00:00Z",
    }


@pytest.fixture
def server():
    with RiatServer(page_size=2) as s:
        yield s


def test_pages_follow_the_cursor(server: RiatServer):
    server.add_statuses([status(1), status(2), status(3)])
    feed = StatusFeed(server.url, retry=FAST)
    try:
        first = feed.page(None)
        assert [json.loads(s)["status_id"] for s in first.statuses] == ["ST-1", "ST-2"]
        assert (first.next, first.after) == ("2", None)
        second = feed.page(first.next)
        assert len(second.statuses) == 1
        assert second.next == "3"
        assert feed.page("3") == FeedPage((), "3", "3")
    finally:
        feed.close()


def test_transient_failures_are_retried_and_give_up_in_the_end(server: RiatServer):
    server.add_status(status(1))
    server.fail_next("/statuses", 2, 503)
    feed = StatusFeed(server.url, retry=FAST)
    try:
        assert len(feed.page(None).statuses) == 1
        assert server.requests("/statuses") == 3
        server.fail_next("/statuses", 10, 429)
        with pytest.raises(TransientError, match="429"):
            feed.page(None)
    finally:
        feed.close()


def test_a_time_out_is_transient(server: RiatServer):
    server.hold_from("/statuses", 1, 0.5)
    feed = StatusFeed(server.url, retry=RetrySettings(max_attempts=1), timeout_s=0.1)
    try:
        with pytest.raises(TransientError, match="unreachable"):
            feed.page(None)
    finally:
        feed.close()


def test_client_errors_and_bad_pages_stop_the_pull(server: RiatServer):
    feed = StatusFeed(server.url, retry=FAST)
    try:
        server.fail_next("/statuses", 1, 404)
        with pytest.raises(FeedError, match="404"):
            feed.page(None)
        with pytest.raises(FeedError, match="400"):
            feed.page("not-a-number")
    finally:
        feed.close()

    def answer(body: object) -> StatusFeed:
        return StatusFeed(
            "http://riat.test",
            retry=FAST,
            transport=httpx.MockTransport(lambda _: httpx.Response(200, content=json.dumps(body).encode())),
        )

    with pytest.raises(FeedError, match="'statuses'"):
        answer({"items": []}).page(None)
    with pytest.raises(FeedError, match="does not move"):
        answer({"statuses": [status(1)], "next": "5"}).page("5")
    with pytest.raises(FeedError, match="does not move"):
        answer({"statuses": [status(1)], "next": None}).page(None)
    assert answer({"statuses": [], "next": 7}).page(None).next == "7"


def test_a_page_routes_every_status_once_and_ends_with_the_cursor():
    statuses = (
        json.dumps(status(1)).encode(),
        json.dumps(status(2, "R-unknown")).encode(),
        b"{broken",
    )
    page = FeedPage(statuses, "3", None)
    lookup = {"R-1": (ReferralEntry("a" * 32, "NL", "C-1"),)}
    routed = route_page(page, lambda r: lookup.get(r, ()), "NL", TOPICS, EventCodec(), NOW, feed_id="riat:x")
    s = routed.summary
    assert (s.records, s.events, s.review, s.dead_letters, s.pages, s.cursor) == (3, 1, 1, 1, 1, "3")
    assert s.balanced
    assert s.review_reasons == {NO_REFERRAL: 1}
    assert s.error_codes == {"not-json": 1}
    assert [m.topic for m in routed.messages] == ["c", "r", "d", "p"]
    event, review, dead, progress = routed.messages
    assert event.key == b"a" * 32
    assert review.value == statuses[1]
    assert review.key == b"R-unknown"
    assert dead.value == b"{broken"
    text = H.as_text(dead.headers)
    assert text[H.CONNECTOR] == "riat"
    assert text[H.EXC_CLASS] == "gateway.errors.ParseError"
    assert progress.key == b"riat:x"
    assert json.loads(progress.value or b"")["cursor"] == "3"


def test_the_server_takes_each_referral_once_and_refuses_invalid_ones(server: RiatServer):
    from gateway.adapters.riat import Rendered, RiatConfig, render, riat_step
    from tests.unit.adapters.riat.support import event, referral

    (creation, _km1) = riat_step(None, event(referral()), RiatConfig()).messages
    body = render(creation)
    assert isinstance(body, Rendered)
    with httpx.Client() as client:
        post = lambda key, data: client.post(  # noqa: E731
            server.referrals_url, content=data, headers={"Idempotency-Key": key, "X-Gateway-Kind": "CASE_CREATION"}
        )
        assert post("m1", body.body).status_code == 201
        assert post("m1", body.body).status_code == 409
        assert post("m2", b'{"kind": "CASE_CREATION"}').status_code == 422
        assert client.post(server.referrals_url, content=body.body).status_code == 400
    assert [a.message_id for a in server.referrals] == ["m1"]
    assert server.referrals[0].json()["case"]["reintegration_partner"] == "IOM"
    assert server.stats()["referrals"] == {"accepted": 1, "duplicate": 1, "invalid": 1}
