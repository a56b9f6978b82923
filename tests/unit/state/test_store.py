"""The SQLite partition store: reads see the batch's writes, commit and rollback, checkpoints, restore, files."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from gateway.state.changelog import decode_change
from gateway.state.store import PartitionStore, StoreCorruptError


@pytest.fixture
def store(tmp_path: Path):
    s = PartitionStore(tmp_path / "s" / "0.sqlite", "app.s.changelog", 0)
    yield s
    s.close()


def test_a_batch_sees_its_own_writes_and_stages_one_record_per_key(store):
    store.put(b"a", b"1")
    store.put(b"b", b"2")
    store.put(b"a", b"3")
    store.delete(b"b")
    assert store.get(b"a") == b"3"
    assert store.get(b"b") is None
    changes = [decode_change(m.key, m.value, list(m.headers)) for m in store.changes()]
    assert [(c.key, c.value) for c in changes] == [(b"a", b"3"), (b"b", None)]
    assert {m.topic for m in store.changes()} == {"app.s.changelog"}


def test_rollback_forgets_the_batch(store):
    store.put(b"a", b"1")
    store.commit(10)
    store.put(b"a", b"2")
    store.advance(500)
    store.rollback()
    assert store.get(b"a") == b"1"
    assert store.changes() == []
    assert store.stream_time_ms == 0
    assert store.checkpoint == 10


def test_commit_is_durable_with_its_checkpoint(tmp_path):
    path = tmp_path / "0.sqlite"
    s = PartitionStore(path, "cl", 0)
    s.put(b"a", b"1")
    s.advance(42)
    s.commit(17)
    s.put(b"b", b"2")  # left open: a crash loses it
    s._db.close()  # no clean close: as after kill -9
    again = PartitionStore(path, "cl", 0)
    assert (again.get(b"a"), again.get(b"b"), again.checkpoint, again.stream_time_ms) == (b"1", None, 17, 42)
    again.close()


def test_commit_without_an_offset_keeps_the_older_checkpoint(store):
    store.put(b"a", b"1")
    store.commit(5)
    store.put(b"a", b"2")
    store.commit(None)
    assert store.checkpoint == 5
    assert store.get(b"a") == b"2"


def test_entries_expire_by_event_time_not_the_wall_clock(store):
    store.put(b"a", b"1", expires_ms=1_000)
    store.put(b"b", b"2")
    store.advance(999)
    assert store.get(b"a") == b"1"
    assert store.expired(store.stream_time_ms, 10) == []
    store.advance(1_000)
    assert store.get(b"a") is None
    assert store.expired(store.stream_time_ms, 10) == [b"a"]
    assert [k for k, _ in store.items()] == [b"b"]


def test_time_never_moves_back(store):
    store.advance(100)
    store.advance(50)
    assert store.stream_time_ms == 100


def test_timers_are_due_in_order_and_can_be_replaced_or_cancelled(store):
    store.schedule(b"k1", "deadline", 300)
    store.schedule(b"k2", "deadline", 100)
    store.schedule(b"k1", "deadline", 200)  # replaces
    store.schedule(b"k3", "other", 150)
    store.cancel(b"k3", "other")
    assert store.due_timers(250, 10) == [(b"k2", "deadline", 100), (b"k1", "deadline", 200)]
    assert store.due_timers(250, 1) == [(b"k2", "deadline", 100)]
    assert store.timer(b"k1", "deadline") == 200
    assert store.timer(b"k3", "other") is None


def test_apply_restores_entries_timers_and_time(tmp_path):
    source = PartitionStore(tmp_path / "a.sqlite", "cl", 2)
    source.put(b"a", b"1", expires_ms=9_000)
    source.put(b"b", b"2")
    source.schedule(b"a", "t", 5_000)
    source.advance(1_234)
    records = source.changes()
    source.commit(3)
    source.delete(b"b")
    source.cancel(b"a", "t")
    records += source.changes()
    source.commit(4)

    target = PartitionStore(tmp_path / "b.sqlite", "cl", 2)
    applied = target.apply([decode_change(m.key, m.value, list(m.headers)) for m in records], last_offset=4)
    assert applied == len(records)
    assert list(target.items()) == list(source.items()) == [(b"a", b"1")]
    assert target.due_timers(10**12, 10) == source.due_timers(10**12, 10) == []
    assert (target.stream_time_ms, target.checkpoint) == (1_234, 4)
    source.close()
    target.close()


def test_a_file_that_is_not_a_database_is_refused(tmp_path):
    path = tmp_path / "0.sqlite"
    path.write_bytes(b"this is not sqlite" * 300)
    with pytest.raises(StoreCorruptError):
        PartitionStore(path, "cl", 0)


def test_a_file_of_another_changelog_is_refused(tmp_path):
    path = tmp_path / "0.sqlite"
    PartitionStore(path, "one.changelog", 0).close()
    with pytest.raises(StoreCorruptError, match="belongs to changelog"):
        PartitionStore(path, "other.changelog", 0)


def _damage_pages(path: Path) -> None:
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=DELETE")  # fold the WAL in, so the damage below hits the main file
    db.close()
    data = bytearray(path.read_bytes())
    page = 4096
    for offset in range(2 * page, len(data), page):  # keep the header page; damage every b-tree page after it
        data[offset : offset + 64] = b"\xff" * 64
    path.write_bytes(bytes(data))


def test_damaged_pages_are_found_after_a_crash(tmp_path):
    path = tmp_path / "0.sqlite"
    s = PartitionStore(path, "cl", 0)
    for i in range(2_000):
        s.put(i.to_bytes(4, "big"), b"x" * 100)
    s.commit(1)
    s._db.close()  # not closed cleanly
    _damage_pages(path)
    with pytest.raises(StoreCorruptError):
        PartitionStore(path, "cl", 0)


def test_a_clean_close_skips_the_integrity_check_unless_asked(tmp_path):
    path = tmp_path / "0.sqlite"
    s = PartitionStore(path, "cl", 0)
    for i in range(2_000):
        s.put(i.to_bytes(4, "big"), b"x" * 100)
    s.commit(1)
    s.close()
    _damage_pages(path)
    with pytest.raises(StoreCorruptError):
        PartitionStore(path, "cl", 0, verify="always")


def test_the_value_codec_remembers_only_what_it_decoded_and_stays_bounded():
    import datetime as dt

    from gateway.pipeline.case_states import case_state_codec
    from gateway.validation.state import CaseState

    codec = case_state_codec(lossless=False)
    precise = CaseState(departed_at=dt.datetime(2026, 3, 1, 12, 0, 0, 999_999, tzinfo=dt.UTC))
    data = codec.encode(precise)
    first = codec.decode(data)
    # What was given to encode is never handed back: the encoding keeps milliseconds, and a remembered value must
    # equal what a fresh process decodes.
    assert first.departed_at == dt.datetime(2026, 3, 1, 12, 0, 0, 999_000, tzinfo=dt.UTC)
    assert codec.decode(data) is first  # remembered: the very object, no decoding
    assert case_state_codec(lossless=False).decode(data) == first
    small = case_state_codec(lossless=False)
    small._remember = 2
    for i in range(5):
        small.decode(small.encode(CaseState(decision_reference=f"d{i}")))
    assert len(small._recent) <= 2


def test_a_lossless_value_codec_also_remembers_what_it_encoded():
    import datetime as dt

    from gateway.pipeline.case_states import (
        CASE_STATE_ROOT,
        STATE_SCHEMA_DIR,
        case_state_codec,
        case_state_from_avro,
        case_state_to_avro,
    )
    from gateway.state.codec import AvroValueCodec
    from gateway.validation.state import CaseState

    exact = CaseState(decision_reference="RD-1", departed_at=dt.datetime(2026, 3, 1, 12, 0, 0, 999_000, tzinfo=dt.UTC))
    default = AvroValueCodec(STATE_SCHEMA_DIR, CASE_STATE_ROOT, case_state_to_avro, case_state_from_avro)
    assert not default.lossless
    default.encode(exact)
    assert default._recent == {}  # the default remembers decoded values only

    codec = case_state_codec()  # the case states round-trip exactly, so their codec is lossless
    assert codec.lossless
    data = codec.encode(exact)
    assert codec.decode(data) is exact  # read back without decoding
    assert case_state_codec(lossless=False).decode(data) == exact  # and equal to what a fresh process decodes
    small = case_state_codec()
    small._remember = 2
    for i in range(5):
        small.encode(CaseState(decision_reference=f"d{i}"))
    assert len(small._recent) <= 2
