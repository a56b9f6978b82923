"""Routing a file: every record in exactly one of inbound, review and dead letters, with the right headers."""

from __future__ import annotations

import datetime as dt

from gateway.adapters.ees.documents import document_key
from gateway.adapters.ees.ingest import EesTopics, RouteContext, route_exit_file
from gateway.codec.codec import EventCodec
from gateway.dlq import headers as H
from gateway.events import models as m
from tests.unit.adapters.ees.samples import exit_file, record

SECRET = b"k"
NOW = dt.datetime(2026, 4, 3, tzinfo=dt.UTC)
TOPICS = EesTopics(inbound="in", review="rev", dlq="dlq")
CODEC = EventCodec()
INDEX = {
    document_key(SECRET, "MAR", "A1111111"): frozenset({"s1"}),
    document_key(SECRET, "MAR", "B2222222"): frozenset({"s2", "s3"}),
}


def context() -> RouteContext:
    return RouteContext(lambda k: INDEX.get(k, frozenset()), SECRET, "NL", TOPICS, CODEC, "corr-1")


def test_records_are_routed_and_balance():
    data = exit_file(
        record("R-1", number="A111-1111"),  # matched despite the hyphen
        record("R-2", number="C3333333"),
        record("R-3", number="B2222222"),
        record("R-4", country="XX"),
    )
    routed = route_exit_file(data, "exits.xml", context(), NOW)
    s = routed.summary
    assert (s.files, s.records, s.inbound, s.review, s.dead_letters) == (1, 4, 1, 2, 1)
    assert s.balanced
    assert [msg.topic for msg in routed.messages] == ["in", "rev", "rev", "dlq"]
    inbound, unmatched, ambiguous, dead = routed.messages
    assert inbound.key == b"s1"
    assert inbound.value is not None
    event = CODEC.decode(inbound.value)
    assert event.event_type == m.EventType.DEPARTURE_CONFIRMED
    assert event.correlation_id == "corr-1"
    assert dict(inbound.headers)["gw.event.type"] == b"DEPARTURE_CONFIRMED"
    assert dict(unmatched.headers)["gw.review.reason"] == b"no case known for this travel document"
    assert dict(ambiguous.headers)["gw.review.reason"] == b"travel document known for several subjects"
    assert dict(unmatched.headers)["gw.review.source"] == b"ees"
    assert dict(unmatched.headers)["gw.ees.record.id"] == b"R-2"
    assert dict(unmatched.headers)[H.SOURCE_FILE] == b"exits.xml"
    assert unmatched.key == b"R-2"
    assert unmatched.value is not None
    assert b"R-2" in unmatched.value
    dh = dict(dead.headers)
    assert dh[H.STAGE] == b"PARSE"
    assert dh[H.EXC_CLASS] == b"gateway.errors.XsdValidationError"
    assert dh[H.SOURCE_POSITION] == b"record 3"
    assert dh[H.CONNECTOR] == b"ees"
    assert dh["gw.errors.code"] == b"xsd-invalid"


def test_a_malformed_file_is_one_dead_letter_with_its_bytes_and_the_kafka_origin():
    data = b"<ExitRecords><broken"
    origin = H.KafkaOrigin("raw", 2, 41)
    routed = route_exit_file(data, "raw/2/41", context(), NOW, origin=origin, original_headers=[("x", b"1")])
    (dead,) = routed.messages
    assert (dead.topic, dead.value) == ("dlq", data)
    assert dead.headers[0] == ("x", b"1")
    dh = dict(dead.headers)
    assert (dh[H.TOPIC], dh[H.PARTITION], dh[H.OFFSET]) == (b"raw", b"2", b"41")
    assert routed.summary.error_codes == {"not-well-formed": 1}
    assert routed.summary.balanced


def test_an_empty_file_balances_at_zero():
    routed = route_exit_file(exit_file(), "e.xml", context(), NOW)
    assert routed.messages == ()
    assert routed.summary.records == 0
    assert routed.summary.balanced
