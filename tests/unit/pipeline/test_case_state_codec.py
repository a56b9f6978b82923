"""The case state as Avro, and case states kept in a partition store: round trips, keys, batches."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.codec.schemas import load_root, read_named_types
from gateway.errors import DecodeError
from gateway.events.models import CaseEvent, DecisionStatus, EventType, MemberState
from gateway.evolution.history import expand
from gateway.pipeline.case_states import (
    CASE_STATE_ROOT,
    STATE_SCHEMA_DIR,
    StoredCaseStates,
    case_key,
    case_state_codec,
    case_state_from_avro,
    case_state_to_avro,
)
from gateway.state.changelog import decode_change
from gateway.state.store import PartitionStore
from gateway.testing import examples
from gateway.testing.strategies import case_events, utc_millis
from gateway.validation.state import CaseState, fold

PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CODEC = case_state_codec()

_TEXT = st.text(max_size=24)
CASE_STATES = st.builds(
    CaseState,
    decision_reference=st.none() | _TEXT,
    decision_date=st.none() | st.dates(),
    decision_status=st.none() | st.sampled_from(DecisionStatus),
    departure_granted=st.none() | st.booleans(),
    departure_last_day=st.none() | st.dates(),
    assistance_applied_on=st.none() | st.dates(),
    assistance_programme=st.none() | _TEXT,
    assistance_granted_on=st.none() | st.dates(),
    assistance_granted_by=st.none() | st.sampled_from(MemberState),
    departed_at=st.none() | utc_millis(),
)


# schema -------------------------------------------------------------------------------------------------------


def test_schema_is_self_contained_documented_and_mirrors_the_python_type():
    types = read_named_types(STATE_SCHEMA_DIR)  # each file named by its type's full name
    expanded = expand(STATE_SCHEMA_DIR, CASE_STATE_ROOT)
    assert "eu.returns.gateway.v1" not in json.dumps(expanded)
    root = types[CASE_STATE_ROOT]
    assert root["doc"]
    assert all(f.get("doc") for f in root["fields"])
    assert [f["name"] for f in load_root(STATE_SCHEMA_DIR, CASE_STATE_ROOT)["fields"]] == list(CaseState._fields)
    # Every field may be absent, so a later version can add fields that older values lack.
    assert all(f["default"] is None and f["type"][0] == "null" for f in root["fields"])


# round trips --------------------------------------------------------------------------------------------------


@PROPERTY
@given(CASE_STATES)
def test_every_case_state_round_trips(state: CaseState):
    assert CODEC.decode(CODEC.encode(state)) == state


@PROPERTY
@given(st.lists(case_events(), max_size=8))
def test_states_folded_from_events_round_trip(events: list[CaseEvent]):
    state = CaseState()
    for event in events:
        state = fold(state, event)
        assert CODEC.decode(CODEC.encode(state)) == state


def test_the_empty_state_is_small():
    assert len(CODEC.encode(CaseState())) == 10 + 10  # header, then one union branch byte per field


def test_departures_are_kept_to_the_millisecond_floored():
    codec = case_state_codec(lossless=False)  # hand-made states with microseconds: not what lossless accepts
    at = dt.datetime(2026, 3, 1, 12, 0, 0, 999_999, tzinfo=dt.UTC)
    back = codec.decode(codec.encode(CaseState(departed_at=at)))
    assert back.departed_at == at.replace(microsecond=999_000)
    before_epoch = dt.datetime(1969, 12, 31, 23, 59, 59, 500, tzinfo=dt.UTC)
    assert codec.decode(codec.encode(CaseState(departed_at=before_epoch))).departed_at == before_epoch.replace(
        microsecond=0
    )


# Departures as national exports give them: any offset (sub-millisecond ones included), any microsecond, and
# instants whose UTC time lies outside datetime's range (year 1 or 9999 with an offset).
_OFFSETS = st.timedeltas(min_value=-dt.timedelta(hours=23, minutes=59), max_value=dt.timedelta(hours=23, minutes=59))
_ANY_INSTANTS = st.datetimes(timezones=st.just(dt.UTC) | _OFFSETS.map(dt.timezone))


def _departure(event: CaseEvent, at: dt.datetime) -> CaseEvent:
    return event.model_copy(update={"payload": event.payload.model_copy(update={"departed_at": at})})


@PROPERTY
@given(st.lists(case_events() | st.tuples(case_events(EventType.DEPARTURE_CONFIRMED), _ANY_INSTANTS), max_size=8))
def test_every_folded_state_round_trips_exactly(items: list[CaseEvent | tuple[CaseEvent, dt.datetime]]):
    """What a process holds in memory is what a restarted one decodes: value, type and time zone alike."""
    fresh = case_state_codec(lossless=False)  # decodes every time: nothing remembered can hide a difference
    state = CaseState()
    for item in items:
        event = item if isinstance(item, CaseEvent) else _departure(*item)
        state = fold(state, event)
        back = fresh.decode(fresh.encode(state))
        assert back == state
        assert [type(v) for v in back] == [type(v) for v in state]
        if state.departed_at is not None:
            assert state.departed_at.tzinfo is dt.UTC is back.departed_at.tzinfo
            assert state.departed_at.microsecond % 1000 == 0


@pytest.mark.parametrize(
    ("given_at", "held"),
    [
        (dt.datetime(2026, 3, 1, 12, 0, 0, 999_999, tzinfo=dt.UTC), dt.datetime(2026, 3, 1, 12, 0, 0, 999_000)),
        (
            dt.datetime(2026, 3, 1, 1, 30, 0, 1_500, tzinfo=dt.timezone(dt.timedelta(hours=2))),
            dt.datetime(2026, 2, 28, 23, 30, 0, 1_000),
        ),
        (
            dt.datetime(2026, 3, 1, 0, 0, tzinfo=dt.timezone(dt.timedelta(microseconds=1))),
            dt.datetime(2026, 2, 28, 23, 59, 59, 999_000),
        ),
        (dt.datetime(1969, 12, 31, 23, 59, 59, 500, tzinfo=dt.UTC), dt.datetime(1969, 12, 31, 23, 59, 59)),
        (dt.datetime(1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=1))), dt.datetime.min),
        (dt.datetime(9999, 12, 31, 23, tzinfo=dt.timezone(-dt.timedelta(hours=5))), dt.datetime.max),
    ],
)
def test_fold_keeps_departures_in_utc_floored_to_the_millisecond(given_at: dt.datetime, held: dt.datetime):
    departure = _departure(examples.event(EventType.DEPARTURE_CONFIRMED), given_at)
    state = fold(CaseState(), departure)
    assert state.departed_at == held.replace(microsecond=held.microsecond // 1000 * 1000, tzinfo=dt.UTC)
    assert state.departed_at is not None
    assert state.departed_at.tzinfo is dt.UTC
    assert case_state_codec(lossless=False).decode(CODEC.encode(state)) == state


def test_symbols_this_version_does_not_know_read_as_unknown():
    record = case_state_to_avro(CaseState()) | {"decision_status": "REVOKED", "assistance_granted_by": "XK"}
    state = case_state_from_avro(record)
    assert (state.decision_status, state.assistance_granted_by) == (DecisionStatus.UNKNOWN, MemberState.UNKNOWN)


def test_bytes_that_are_not_a_case_state_raise_decode_error():
    with pytest.raises(DecodeError):
        CODEC.decode(b"not avro")


# in a store ---------------------------------------------------------------------------------------------------


def test_keys_name_member_state_and_case_reference():
    assert case_key((MemberState.NL, "V-2026|7")) == b"NL|V-2026|7"
    assert case_key((MemberState.DE, "Ä-1")) == "DE|Ä-1".encode()


@pytest.fixture
def store(tmp_path: Path):
    s = PartitionStore(tmp_path / "cases" / "0.sqlite", "app.cases.changelog", 0)
    yield s
    s.close()


def test_stored_states_are_staged_for_the_changelog_and_follow_commit_and_rollback(store: PartitionStore):
    states = StoredCaseStates(store, CODEC)
    key = (MemberState.NL, "C-1")
    assert states.get(key) is None
    first = CaseState(decision_reference="RD-1", decision_date=dt.date(2026, 1, 5))
    states.put(key, first)
    assert states.get(key) == first  # the batch sees its own writes
    assert states.flush() == 1
    assert states.get(key) == first  # and so does the next batch, from the store
    (change,) = [decode_change(m.key, m.value, list(m.headers)) for m in store.changes()]
    assert change.key == b"NL|C-1"
    assert change.value is not None
    assert case_state_codec().decode(change.value) == first
    store.commit(0)

    redone = StoredCaseStates(store, CODEC)
    redone.put(key, first._replace(departure_last_day=dt.date(2026, 2, 1)))
    redone.flush()
    store.rollback()  # the batch was aborted: it is redone against the state before it
    assert StoredCaseStates(store, CODEC).get(key) == first
    assert StoredCaseStates(store, CODEC).get((MemberState.BE, "C-1")) is None


# write-back per batch -----------------------------------------------------------------------------------------


class _CountingStore:
    """A partition store that counts the calls the case states make to it."""

    def __init__(self, store: PartitionStore) -> None:
        self.inner = store
        self.gets: list[bytes] = []
        self.puts: list[bytes] = []

    def get(self, key: bytes) -> bytes | None:
        self.gets.append(key)
        return self.inner.get(key)

    def put(self, key: bytes, value: bytes, expires_ms: int | None = None) -> None:
        self.puts.append(key)
        self.inner.put(key, value, expires_ms)


class _CountingCodec:
    """The case-state codec, counting encodings and decodings."""

    def __init__(self) -> None:
        self.inner = case_state_codec()
        self.encoded = 0
        self.decoded = 0

    def encode(self, value: CaseState) -> bytes:
        self.encoded += 1
        return self.inner.encode(value)

    def decode(self, data: bytes) -> CaseState:
        self.decoded += 1
        return self.inner.decode(data)


@pytest.fixture
def counting(store: PartitionStore) -> tuple[_CountingStore, _CountingCodec, StoredCaseStates]:
    s, c = _CountingStore(store), _CountingCodec()
    return s, c, StoredCaseStates(s, c)  # type: ignore[arg-type]


A, B = (MemberState.NL, "C-A"), (MemberState.NL, "C-B")
DECIDED = CaseState(decision_reference="RD-1", decision_date=dt.date(2026, 1, 5))


def test_a_batch_writes_each_changed_case_once(counting: tuple[_CountingStore, _CountingCodec, StoredCaseStates]):
    store, codec, states = counting
    for day in range(1, 6):
        states.put(A, DECIDED._replace(departure_last_day=dt.date(2026, 2, day)))
        states.put(B, DECIDED._replace(departure_last_day=dt.date(2026, 3, day)))
    assert store.puts == []
    assert codec.encoded == 0
    assert states.flush() == 2
    assert store.puts == [case_key(A), case_key(B)]
    assert codec.encoded == 2
    changes = [decode_change(m.key, m.value, list(m.headers)) for m in store.inner.changes()]
    assert [c.key for c in changes] == [case_key(A), case_key(B)]
    assert changes[0].value is not None
    assert CODEC.decode(changes[0].value) == DECIDED._replace(departure_last_day=dt.date(2026, 2, 5))
    assert states.flush() == 0  # flushed: the batch is forgotten
    assert store.puts == [case_key(A), case_key(B)]


def test_reads_are_served_from_the_batch(counting: tuple[_CountingStore, _CountingCodec, StoredCaseStates]):
    store, codec, states = counting
    store.inner.put(case_key(A), CODEC.encode(DECIDED))
    for _ in range(5):
        assert states.get(A) == DECIDED
        assert states.get(B) is None  # absent cases too are looked up once
    assert store.gets == [case_key(A), case_key(B)]
    assert codec.decoded == 1
    later = DECIDED._replace(decision_status=DecisionStatus.SUSPENDED)
    states.put(A, later)
    assert states.get(A) is later
    assert store.gets == [case_key(A), case_key(B)]
    states.flush()
    assert StoredCaseStates(store.inner, case_state_codec(lossless=False)).get(A) == later


def test_an_unchanged_state_is_not_written(counting: tuple[_CountingStore, _CountingCodec, StoredCaseStates]):
    store, codec, states = counting
    store.inner.put(case_key(A), CODEC.encode(DECIDED))
    store.inner.commit(0)
    read = states.get(A)
    assert read is not None
    states.put(A, read._replace(decision_reference="RD-2"))
    states.put(A, CaseState(*read))  # back to the stored state: an equal, not the same, object
    assert states.flush() == 0
    assert store.puts == []
    assert codec.encoded == 0
    assert store.inner.changes() == []
    # A case put without being read is compared with the store's bytes.
    blind = StoredCaseStates(store, codec)  # type: ignore[arg-type]
    blind.put(A, DECIDED)
    blind.put(B, DECIDED)
    assert blind.flush() == 1
    assert store.puts == [case_key(B)]


def test_nothing_is_left_of_a_dropped_batch(store: PartitionStore):
    states = StoredCaseStates(store, CODEC)
    states.put(A, DECIDED)
    states.flush()
    store.commit(0)

    aborted = StoredCaseStates(store, CODEC)
    assert aborted.get(A) == DECIDED
    aborted.put(A, DECIDED._replace(decision_reference="RD-2"))
    aborted.put(B, DECIDED)
    # Aborted before its flush: the object is dropped, and the store never saw the batch.
    assert store.changes() == []
    store.rollback()
    redone = StoredCaseStates(store, CODEC)
    assert (redone.get(A), redone.get(B)) == (DECIDED, None)

    # Aborted after its flush: the store rolls the writes back, and the flushed object holds nothing of them.
    redone.put(A, DECIDED._replace(decision_reference="RD-3"))
    redone.put(B, DECIDED)
    assert redone.flush() == 2
    store.rollback()
    assert (redone.get(A), redone.get(B)) == (DECIDED, None)
    assert (StoredCaseStates(store, CODEC).get(A), StoredCaseStates(store, CODEC).get(B)) == (DECIDED, None)
