"""The changelog record format: what a store writes reads back as the same change."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.state.changelog import decode_change, entry_change, stream_time_change, timer_change

keys = st.binary(min_size=0, max_size=40)
names = st.text(min_size=1, max_size=30).filter(lambda n: 0 < len(n.encode()) < 256)
millis = st.integers(min_value=0, max_value=2**62)


def read(message):
    return decode_change(message.key, message.value, list(message.headers))


@given(keys, st.binary(min_size=1, max_size=100), st.none() | millis)
def test_entry_round_trip(key, value, expires):
    change = read(entry_change("t", 3, key, value, expires))
    assert (change.kind, change.key, change.value, change.number) == ("entry", key, value, expires)


@given(keys)
def test_entry_tombstone_round_trip(key):
    message = entry_change("t", 0, key, None, 123)
    assert message.value is None
    assert message.headers == ()  # a tombstone carries no expiry
    change = read(message)
    assert (change.kind, change.key, change.value) == ("entry", key, None)


@given(keys, names, st.none() | millis)
def test_timer_round_trip(key, name, due):
    change = read(timer_change("t", 1, key, name, due))
    assert (change.kind, change.key, change.name, change.number) == ("timer", key, name, due)


def test_changes_go_to_the_input_partition():
    assert entry_change("cl", 7, b"k", b"v", None).partition == 7
    assert timer_change("cl", 7, b"k", "n", 1).partition == 7
    assert stream_time_change("cl", 7, 5).partition == 7


def test_entries_and_timers_of_one_key_never_share_a_changelog_key():
    # Compaction keeps one record per changelog key: an entry and a timer of the same key must not collide.
    assert entry_change("t", 0, b"abc", b"v", None).key != timer_change("t", 0, b"abc", "n", 1).key
    assert timer_change("t", 0, b"abc", "a", 1).key != timer_change("t", 0, b"abc", "b", 1).key


def test_stream_time_round_trip():
    change = read(stream_time_change("t", 0, 1_700_000_000_000))
    assert (change.kind, change.number) == ("stream-time", 1_700_000_000_000)


@pytest.mark.parametrize("key", [None, b"", b"x123", b"t\x05ab"])
def test_foreign_records_are_refused(key):
    with pytest.raises(ValueError, match=r"changelog .*record"):
        decode_change(key, b"v", [])


def test_timer_names_must_fit_a_length_byte():
    with pytest.raises(ValueError, match="1 to 255 bytes"):
        timer_change("t", 0, b"k", "x" * 256, 1)
