"""The HTTPS transport against a real local HTTP server (``gateway.testing.http_target``), not a mock."""

from __future__ import annotations

import datetime as dt
import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from gateway.delivery.http import HttpOptions, HttpTransport, parse_retry_after
from gateway.delivery.transport import SendOutcome, TransientDeliveryError
from gateway.testing.http_target import FaultPlan, HttpTarget
from tests.unit.delivery.support import message


def _only(fault: str, **plan: object) -> FaultPlan:
    """Every first request of an id gets ``fault``; the second is answered normally."""
    return FaultPlan(**{fault: 1.0, "max_faults_per_id": 1, **plan})  # type: ignore[arg-type]


@pytest.fixture
def serve() -> Iterator[object]:
    started: list[tuple[HttpTarget, HttpTransport]] = []

    def make(plan: FaultPlan | None = None, **options: object) -> tuple[HttpTarget, HttpTransport]:
        target = HttpTarget(plan).start()
        transport = HttpTransport(HttpOptions(url=target.url, read_timeout_s=1.0, **options))  # type: ignore[arg-type]
        started.append((target, transport))
        return target, transport

    yield make
    for target, transport in started:
        transport.close()
        target.stop()


def test_accepted_with_every_header(serve):
    target, transport = serve()
    m = message("case-1", 4)

    result = transport.send(m)

    assert (result.outcome, result.status_code, result.code) == (SendOutcome.ACCEPTED, 201, "accepted")
    [arrival] = target.arrivals
    assert (arrival.message_id, arrival.ordering_key, arrival.sequence) == (m.message_id, "case-1", 4)
    assert (arrival.target, arrival.kind, arrival.body) == ("sis", "SIS_UPDATE", m.body)


def test_a_repeat_is_a_duplicate_by_409_or_by_replayed_header(serve):
    for answer in ("409", "replayed"):
        target, transport = serve(FaultPlan(duplicate_answer=answer))
        m = message()
        assert transport.send(m).outcome is SendOutcome.ACCEPTED
        again = transport.send(m)
        assert again.outcome is SendOutcome.DUPLICATE, answer
        assert again.status_code == (409 if answer == "409" else 200)
        assert len(target.acceptances) == 1


def test_a_4xx_is_a_permanent_rejection_with_the_answer(serve):
    m = message()
    target, transport = serve(FaultPlan(reject_ids=frozenset({m.message_id})))

    result = transport.send(m)

    assert (result.outcome, result.status_code, result.code) == (SendOutcome.REJECTED, 422, "http-422")
    assert "schema refusal" in (result.response or "")
    assert target.acceptances == []
    error = result.rejection()
    assert error.status_code == 422
    assert "422" in str(error)


@pytest.mark.parametrize(
    ("fault", "code", "retry_after"),
    [
        ("error_5xx", "http-5", None),
        ("too_many", "http-429", 1.0),
        ("timeout", "timeout", None),
        ("drop", "connection", None),
    ],
)
def test_transient_failures_raise_and_the_retry_gets_through(serve, fault, code, retry_after):
    target, transport = serve(_only(fault, hang_s=1.5))
    m = message()

    with pytest.raises(TransientDeliveryError) as raised:
        transport.send(m)

    assert raised.value.code.startswith(code)
    assert raised.value.retry_after_s == retry_after
    assert target.acceptances == []
    assert transport.send(m).outcome is SendOutcome.ACCEPTED


def test_retry_after_as_seconds_and_as_http_date(serve):
    _target, transport = serve(FaultPlan(error_5xx_retry_after=1.0, max_faults_per_id=10, retry_after_s=3))
    waits = []
    for i in range(2):
        with pytest.raises(TransientDeliveryError) as raised:
            transport.send(message(f"case-{i}"))
        assert raised.value.status_code == 503
        waits.append(raised.value.retry_after_s)

    # one of each form: exactly 3 s, and an HTTP date about 3 s ahead (whole seconds)
    assert 3.0 in waits
    assert all(w is not None and 1.5 <= w <= 3.0 for w in waits)


def test_an_acknowledgement_lost_on_the_wire_comes_back_as_a_duplicate(serve):
    target, transport = serve(_only("duplicate_ack"))
    m = message()

    with pytest.raises(TransientDeliveryError):
        transport.send(m)
    assert target.accepted_ids() == {m.message_id}  # the target has it, the client does not know
    assert transport.send(m).outcome is SendOutcome.DUPLICATE
    assert len(target.acceptances) == 1


def test_late_acknowledgement_times_out_then_is_a_duplicate(serve):
    _target, transport = serve(_only("late_ack", hang_s=1.5))
    m = message()

    started = time.monotonic()
    with pytest.raises(TransientDeliveryError) as raised:
        transport.send(m)
    assert raised.value.code == "timeout"
    assert time.monotonic() - started < 1.45
    assert transport.send(m).outcome is SendOutcome.DUPLICATE


def test_slow_answer_within_the_time_out_is_accepted(serve):
    _, transport = serve(FaultPlan(slow=1.0, slow_s=0.3))
    started = time.monotonic()

    assert transport.send(message()).outcome is SendOutcome.ACCEPTED
    assert time.monotonic() - started >= 0.3


def test_connection_refused_is_transient():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, never listening: connections are refused
        transport = HttpTransport(HttpOptions(url=f"http://127.0.0.1:{port}/x", connect_timeout_s=1.0))
        with pytest.raises(TransientDeliveryError) as raised:
            transport.send(message())
        transport.close()
    assert raised.value.code == "connection"


def test_a_body_cut_off_mid_send_is_never_an_arrival(serve):
    # A sender killed with SIGKILL mid-body leaves a short body behind; counting it as accepted would make the crash
    # tests blame the gateway for bytes it never finished sending.
    target, transport = serve()
    with socket.create_connection(("127.0.0.1", target.port), timeout=5) as raw:
        raw.sendall(b"POST /messages HTTP/1.1\r\nHost: x\r\nIdempotency-Key: cut-1\r\nContent-Length: 100\r\n\r\n<Sis")
        raw.shutdown(socket.SHUT_WR)
        assert raw.recv(100) == b""  # closed without an answer
    deadline = time.monotonic() + 5
    while target.incomplete_requests == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert target.incomplete_requests == 1
    assert target.arrivals == []
    assert target.acceptances == []
    assert transport.send(message()).outcome is SendOutcome.ACCEPTED
    assert (target.stats()["incomplete"], target.stats()["accepted"]) == (1, 1)


FINAL = [
    (200, "ACCEPTED"),
    (204, "ACCEPTED"),
    (409, "DUPLICATE"),
    (400, "REJECTED"),
    (404, "REJECTED"),
    (410, "REJECTED"),
]


@pytest.mark.parametrize(("status", "outcome"), FINAL)
def test_classification_of_final_statuses(status, outcome):
    transport = HttpTransport(HttpOptions(url="http://127.0.0.1:9/"))
    response = httpx.Response(status, content=b"answer")

    assert transport.classify(response).outcome.value == outcome
    transport.close()


@pytest.mark.parametrize("status", [408, 425, 429, 500, 501, 502, 503, 504, 599])
def test_classification_of_transient_statuses(status):
    transport = HttpTransport(HttpOptions(url="http://127.0.0.1:9/"))

    with pytest.raises(TransientDeliveryError):
        transport.classify(httpx.Response(status))
    transport.close()


def test_a_target_with_draft_409_semantics_can_be_configured():
    transport = HttpTransport(
        HttpOptions(url="http://127.0.0.1:9/", duplicate_statuses=frozenset(), transient_statuses=frozenset({409}))
    )
    with pytest.raises(TransientDeliveryError):
        transport.classify(httpx.Response(409))
    transport.close()


def test_parse_retry_after():
    now = dt.datetime(2026, 5, 4, 9, 0, 0, tzinfo=dt.UTC)

    assert parse_retry_after("7", now) == 7.0
    assert parse_retry_after(" 0 ", now) == 0.0
    assert parse_retry_after("Mon, 04 May 2026 09:00:30 GMT", now) == 30.0
    assert parse_retry_after("Mon, 04 May 2026 08:00:00 GMT", now) == 0.0  # in the past: no wait
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None


def test_mutual_tls_needs_both_halves(tmp_path):
    cert = tmp_path / "c.pem"
    cert.write_text("x")
    with pytest.raises(ValueError, match="both client_cert and client_key"):
        HttpOptions(url="https://x.example/", client_cert=cert)
