"""Document keys: one key per document however it is printed; pairs on the index topic."""

from __future__ import annotations

import pytest

from gateway.adapters.ees.documents import document_key, index_record, index_tombstone, normalise_document

SECRET = b"secret"


@pytest.mark.parametrize(
    ("country", "number"),
    [
        ("MAR", "UZ1234567"),
        ("mar", "uz1234567"),
        ("MAR", "UZ 123 4567"),
        ("MAR", "UZ-123-4567"),
        (" MAR", "uz 123-4567 "),
    ],
)
def test_spellings_of_one_document_give_one_key(country: str, number: str):
    assert normalise_document(country, number) == "travel-document:MAR:UZ1234567"
    assert document_key(SECRET, country, number) == document_key(SECRET, "MAR", "UZ1234567")


def test_keys_differ_by_country_number_and_secret_and_are_32_hex():
    key = document_key(SECRET, "MAR", "UZ1234567")
    assert len(key) == 32
    assert int(key, 16) >= 0
    assert key != document_key(SECRET, "DZA", "UZ1234567")
    assert key != document_key(SECRET, "MAR", "UZ1234568")
    assert key != document_key(b"other", "MAR", "UZ1234567")
    assert "UZ1234567" not in key


def test_index_messages():
    pair = index_record("idx", "d" * 32, "s" * 32)
    assert (pair.topic, pair.key, pair.value) == ("idx", b"d" * 32 + b":" + b"s" * 32, b"s" * 32)
    gone = index_tombstone("idx", "d" * 32, "s" * 32)
    assert (gone.key, gone.value) == (pair.key, None)
