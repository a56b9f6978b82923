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
from gateway.events.models import CaseEvent, DecisionStatus, MemberState
from gateway.evolution.history import expand
from gateway.state.changelog import decode_change
from gateway.state.store import PartitionStore
from gateway.testing.strategies import case_events, utc_millis
from gateway.validation.state import CaseState, fold
from gateway.validation.state_codec import (
    CASE_STATE_ROOT,
    STATE_SCHEMA_DIR,
    StoredCaseStates,
    case_key,
    case_state_codec,
    case_state_from_avro,
    case_state_to_avro,
)

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
    at = dt.datetime(2026, 3, 1, 12, 0, 0, 999_999, tzinfo=dt.UTC)
    back = CODEC.decode(CODEC.encode(CaseState(departed_at=at)))
    assert back.departed_at == at.replace(microsecond=999_000)
    before_epoch = dt.datetime(1969, 12, 31, 23, 59, 59, 500, tzinfo=dt.UTC)
    assert CODEC.decode(CODEC.encode(CaseState(departed_at=before_epoch))).departed_at == before_epoch.replace(
        microsecond=0
    )


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
    (change,) = [decode_change(m.key, m.value, list(m.headers)) for m in store.changes()]
    assert change.key == b"NL|C-1"
    assert change.value is not None
    assert CODEC.decode(change.value) == first
    store.commit(0)

    states.put(key, first._replace(departure_last_day=dt.date(2026, 2, 1)))
    store.rollback()  # the batch was aborted: it is redone against the state before it
    assert states.get(key) == first
    assert states.get((MemberState.BE, "C-1")) is None
