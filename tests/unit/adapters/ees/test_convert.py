"""Exit records to provisional departures: one subject or review; nothing of the person's identity leaves."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.adapters.ees.convert import NO_CASE, SEVERAL_SUBJECTS, Inbound, Review, exit_event_id, to_inbound
from gateway.adapters.ees.exits import ExitRecord, parse_exit_file
from gateway.codec.codec import EventCodec
from gateway.events import models as m
from tests.unit.adapters.ees.samples import exit_file, record

NOW = dt.datetime(2026, 4, 3, 12, 0, 0, 123456, tzinfo=dt.UTC)
CODEC = EventCodec()


def one(xml: str) -> ExitRecord:
    (item,) = parse_exit_file(exit_file(xml), "f.xml")
    assert isinstance(item, ExitRecord)
    return item


def test_one_subject_gives_a_provisional_departure():
    out = to_inbound(
        one(record("R-1", decision="RD-7", exited="2026-04-02T10:15:00.123456+02:00")), frozenset({"s1"}), "NL", NOW
    )
    assert isinstance(out, Inbound)
    e = out.event
    assert out.key == e.subject_key == "s1"
    assert e.event_type == m.EventType.DEPARTURE_CONFIRMED
    assert e.event_id == exit_event_id("R-1")
    assert e.case_reference == ""
    assert e.source.connector == "ees"
    assert e.member_state == m.MemberState.NL
    assert e.occurred_at == dt.datetime(2026, 4, 2, 8, 15, 0, 123000, tzinfo=dt.UTC)
    assert e.recorded_at == dt.datetime(2026, 4, 3, 12, 0, 0, 123000, tzinfo=dt.UTC)
    p = e.payload
    assert isinstance(p, m.DepartureConfirmed)
    assert p.evidence == (m.DepartureEvidence.EES_EXIT_RECORD,)
    assert (p.return_type, p.assisted) == (m.ReturnType.UNKNOWN, False)
    assert (p.decision_reference, p.border_crossing_point) == ("RD-7", "NL-SCHIPHOL")
    assert p.departed_at == e.occurred_at
    assert CODEC.decode(CODEC.encode(e)) == e


def test_the_same_record_gives_the_same_event_id_and_another_record_another():
    a = to_inbound(one(record("R-1")), frozenset({"s1"}), "NL", NOW)
    b = to_inbound(one(record("R-1")), frozenset({"s1"}), "NL", NOW + dt.timedelta(days=1))
    c = to_inbound(one(record("R-2")), frozenset({"s1"}), "NL", NOW)
    assert isinstance(a, Inbound)
    assert isinstance(b, Inbound)
    assert isinstance(c, Inbound)
    assert a.event.event_id == b.event.event_id != c.event.event_id


def test_no_subject_or_several_go_to_review_with_the_original_record():
    rec = one(record("R-1"))
    assert to_inbound(rec, frozenset(), "NL", NOW) == Review(NO_CASE, rec.xml)
    assert to_inbound(rec, frozenset({"s1", "s2"}), "NL", NOW) == Review(SEVERAL_SUBJECTS, rec.xml)


names = st.text(alphabet=st.characters(categories=("Lu", "Ll")), min_size=6, max_size=20)


@settings(max_examples=60, deadline=None)
@given(
    surname=names,
    forename=names,
    dob=st.dates(min_value=dt.date(1900, 1, 1)).map(dt.date.isoformat),
    number=st.from_regex(r"[A-Z][A-Z0-9]{7,12}", fullmatch=True),
    decision=st.none() | st.from_regex(r"RD-[0-9]{1,6}", fullmatch=True),
)
def test_no_identity_data_in_the_event_bytes(surname: str, forename: str, dob: str, number: str, decision: str | None):
    rec = one(record("R-1", surname=surname, forename=forename, dob=dob, number=number, decision=decision))
    assert rec.surnames == (surname,)  # the record holds them ...
    out = to_inbound(rec, frozenset({"a" * 32}), "NL", NOW)
    assert isinstance(out, Inbound)
    data = CODEC.encode(out.event) + out.event.model_dump_json().encode()
    for secret in (surname, forename, dob, number, dob.replace("-", "")):
        assert secret.encode() not in data  # ... the event does not
