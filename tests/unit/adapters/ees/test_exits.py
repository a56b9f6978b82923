"""Reading exit-record files: valid records, and every failure a value with a code and the original bytes."""

from __future__ import annotations

import datetime as dt

import pytest

from gateway.adapters.ees.exits import ExitError, ExitRecord, parse_exit_file
from tests.unit.adapters.ees.samples import exit_file, record


def test_a_valid_file_gives_its_records_in_order():
    data = exit_file(record("A-1", decision="RD-9"), record("A-2", exited="2026-04-02T08:00:00Z"))
    first, second = parse_exit_file(data, "exits.xml")
    assert isinstance(first, ExitRecord)
    assert isinstance(second, ExitRecord)
    assert (first.record_id, first.index, first.source) == ("A-1", 0, "exits.xml")
    assert first.decision_reference == "RD-9"
    assert second.decision_reference is None
    assert first.exited_at == dt.datetime(2026, 4, 2, 8, 15, tzinfo=dt.UTC)
    assert (first.issuing_country, first.document_number, first.border_crossing_point) == (
        "MAR",
        "UZ1234567",
        "NL-SCHIPHOL",
    )
    assert first.surnames == ("EL AMRANI",)
    assert first.date_of_birth == "1994-07"
    assert first.xml.startswith(b"<ExitRecord")
    assert b"A-1" in first.xml
    assert b"A-2" not in first.xml
    # Identity data stay out of repr, hence out of logs.
    assert "AMRANI" not in repr(first)
    assert "1994" not in repr(first)
    assert "UZ1234567" not in repr(first)


def test_an_empty_file_has_no_records():
    assert parse_exit_file(exit_file(), "empty.xml") == []


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"<ExitRecords", "not-well-formed"),
        (b"", "not-well-formed"),
        (b'<Other xmlns="urn:x"/>', "not-exit-records"),
        (b'<!DOCTYPE x [<!ENTITY e "boom">]><ExitRecords/>', "forbidden-dtd"),
        (exit_file().replace(b' schemaVersion="1"', b""), "xsd-invalid"),
        (exit_file(record()).replace(b'schemaVersion="1">', b'schemaVersion="1">stray text'), "xsd-invalid"),
    ],
)
def test_a_file_that_cannot_be_read_is_one_error_with_the_whole_file(data: bytes, code: str):
    (error,) = parse_exit_file(data, "bad.xml")
    assert isinstance(error, ExitError)
    assert (error.code, error.index, error.data, error.source, error.position) == (code, None, data, "bad.xml", "file")


@pytest.mark.parametrize(
    ("bad", "code", "says"),
    [
        (record("B-1", exited="2026-04-02T10:15:00"), "xsd-invalid", "dateTime"),  # no offset: ambiguous
        (record("B-1", country="MA"), "xsd-invalid", "issuingCountry"),
        (record("B-1", number="UZ 123/4"), "xsd-invalid", "number"),
        (record("B-1", dob="1994-13"), "xsd-invalid", "dateOfBirth"),
        (record("B-1", bcp=" padded"), "xsd-invalid", "borderCrossingPoint"),
        (record("B-1").replace("<sex>M</sex>", ""), "xsd-invalid", "person"),
        (record("B-1", exited="2026-04-02T24:00:00Z"), "invalid-value", "dateTime"),
    ],
)
def test_a_bad_record_costs_only_itself(bad: str, code: str, says: str):
    items = parse_exit_file(exit_file(record("G-1"), bad, record("G-2")), "mixed.xml")
    assert [type(i).__name__ for i in items] == ["ExitRecord", "ExitError", "ExitRecord"]
    error = items[1]
    assert isinstance(error, ExitError)
    assert (error.code, error.index, error.position) == (code, 1, "record 1")
    assert says in error.message
    assert error.data.startswith(b"<ExitRecord")
    assert b"B-1" in error.data
    assert b"G-1" not in error.data
