"""Partner status reports: to the one subject's event, to review, or to the dead letters; and the referral index."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from decimal import Decimal

import pytest

from gateway.adapters.riat import Inbound, Review, StatusDeadLetter, index_for, index_record, route_status
from gateway.adapters.riat.referrals import ReferralEntry, ReferralIndex, index_tombstone, parse_entry
from gateway.adapters.riat.status import (
    NO_REFERRAL,
    SEVERAL_SUBJECTS,
    STATUS_EVENT_NAMESPACE,
    parse_status,
    status_event_id,
)
from gateway.codec.codec import EventCodec
from gateway.events import models as m
from gateway.samples.riat_stories import riat_stories
from tests.unit.adapters.riat.support import STATUS_SCHEMA, run, validator

NOW = dt.datetime(2026, 6, 1, 12, 0, 0, 123456, tzinfo=dt.UTC)
ENTRY = ReferralEntry("a" * 32, "BE", "BE-CASE-7")
KM2 = {
    "status_id": "ST-1",
    "referral_id": "R-1",
    "stage": "KM2_ARRIVAL_AND_PLAN",
    "reported_at": "2026-05-30T08:00:00+02:00",
    "arrival_date": "2026-05-28",
    "budget_lines": [
        {"description": "Start-up kit", "amount_eur": "1500.00"},
        {"description": "Rent", "amount_eur": "0.50"},
    ],
    "note": "plan agreed",
}


def raw(doc: object) -> bytes:
    return json.dumps(doc).encode()


def test_a_km2_report_of_one_subject_becomes_its_event():
    routed = route_status(raw(KM2), lambda rid: (ENTRY,) if rid == "R-1" else (), "NL", NOW)
    assert isinstance(routed, Inbound)
    e = routed.event
    assert routed.key == ENTRY.subject_key == e.subject_key
    assert e.event_id == uuid.uuid5(STATUS_EVENT_NAMESPACE, "ST-1") == status_event_id("ST-1")
    assert (e.member_state, e.case_reference) == (m.MemberState.BE, "BE-CASE-7")  # the referring case
    assert e.occurred_at == dt.datetime(2026, 5, 30, 6, 0, tzinfo=dt.UTC)
    assert e.recorded_at == NOW.replace(microsecond=123000)
    p = e.payload
    assert isinstance(p, m.ReintegrationStatusChanged)
    assert p.stage is m.ReintegrationStage.KM2_ARRIVAL_AND_PLAN
    assert p.arrival_date == dt.date(2026, 5, 28)
    assert [(b.description, b.amount_eur) for b in p.budget_lines] == [
        ("Start-up kit", Decimal("1500.00")),
        ("Rent", Decimal("0.50")),
    ]
    assert p.note == "plan agreed"
    assert EventCodec().decode(EventCodec().encode(e)) == e  # it fits the canonical schema


def test_the_same_report_twice_is_the_same_event():
    a = route_status(raw(KM2), lambda _: (ENTRY,), "NL", NOW)
    b = route_status(raw(KM2), lambda _: (ENTRY,), "NL", NOW)
    assert isinstance(a, Inbound)
    assert isinstance(b, Inbound)
    assert a.event == b.event


def test_an_entry_without_member_state_falls_back_to_the_deployment():
    routed = route_status(raw(KM2), lambda _: (ReferralEntry("b" * 32),), "NL", NOW)
    assert isinstance(routed, Inbound)
    assert (routed.event.member_state, routed.event.case_reference) == (m.MemberState.NL, "")


@pytest.mark.parametrize(
    ("entries", "reason"),
    [((), NO_REFERRAL), ((ENTRY, ReferralEntry("c" * 32, "BE", "X")), SEVERAL_SUBJECTS)],
)
def test_none_or_several_subjects_go_to_review_with_the_original(entries, reason):
    data = raw(KM2)
    routed = route_status(data, lambda _: entries, "NL", NOW)
    assert routed == Review(reason, "ST-1", "R-1", data)


@pytest.mark.parametrize(
    ("data", "code", "needle"),
    [
        (b'{"status_id": ', "not-json", "JSONDecodeError"),
        (b"\xff\xfe", "not-json", "UnicodeDecodeError"),
        (raw([KM2]), "schema-invalid", "type at /"),
        (raw({**KM2, "stage": "ZZSTAGEZZ"}), "schema-invalid", "enum at /stage"),
        (raw({**KM2, "budget_lines": [{"description": "x", "amount_eur": 12.5}]}), "schema-invalid", "type at"),
        (raw({k: v for k, v in KM2.items() if k != "arrival_date"}), "schema-invalid", "required"),
        (raw({**KM2, "surname": "ZZNAMEZZ"}), "schema-invalid", "additionalProperties"),
        (raw({**KM2, "arrival_date": "2026-02-30"}), None, None),
    ],
)
def test_unreadable_reports_are_dead_letters_with_the_original_bytes(data, code, needle):
    routed = route_status(data, lambda _: (ENTRY,), "NL", NOW)
    assert isinstance(routed, StatusDeadLetter)
    assert routed.original == data
    if code is not None:
        assert routed.code == code
        assert needle in routed.reason
    else:
        assert routed.code in ("schema-invalid", "invalid-value")  # the format check or the calendar catches it
    assert "ZZ" not in routed.reason  # reasons never quote values


def test_story_statuses_are_valid_or_broken_as_they_say():
    check = validator(STATUS_SCHEMA)
    for story in riat_stories(0):
        for spec in story.statuses:
            if spec.expect != "dead_letter":
                check.validate(spec.status)
                assert not isinstance(parse_status(raw(spec.status)), StatusDeadLetter)


def test_index_records_keys_values_and_tombstones():
    record = index_record("t", "RIAT:42", "a" * 32, "NL", "NL|CASE")
    assert record.key == b"RIAT:42:" + b"a" * 32
    assert parse_entry("a" * 32, record.value or b"") == ReferralEntry("a" * 32, "NL", "NL|CASE")
    assert ReferralIndex.split_key((record.key or b"").decode()) == ("RIAT:42", "a" * 32)
    assert index_tombstone("t", "RIAT:42", "a" * 32).value is None
    assert parse_entry("s", b"s") == ReferralEntry("s")  # a bare subject key, as the EES index writes
    assert parse_entry("s", b"[1]") == ReferralEntry("s")
    with pytest.raises(ValueError, match="colon"):
        index_record("t", "R", "a:b", "NL", "")


def test_index_for_gives_one_record_per_created_case():
    from gateway.adapters.riat import RiatConfig, riat_step

    story = riat_stories(0)[0]
    state, records = None, []
    for e in story.events:
        step = riat_step(state, e, RiatConfig())
        state = step.state
        records.extend(index_for(step, e.subject_key, "idx"))
    assert len(records) == 1
    (r,) = records
    assert r.topic == "idx"
    assert parse_entry(story.subject_key, r.value or b"") == ReferralEntry(
        story.subject_key, story.member_state, story.case_reference
    )
    _, out = run(list(riat_stories(0)[2].events))  # consent refused: no case, no index record
    assert out == []
