"""The rule stage's case state as Avro (``eu.returns.gateway.state.v1.CaseState``), and case states kept in a store.

Member State codes and decision statuses are strings in the state schema, so a symbol added to the canonical schema
later can be stored before this schema learns it; reading maps a symbol this version does not know to the canonical
``UNKNOWN``. ``departed_at`` is kept to the millisecond, as in the canonical events; ``fold`` keeps it so too, so
every state the pipeline builds round-trips exactly.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from gateway.codec.schemas import SCHEMA_DIR
from gateway.events.models import DecisionStatus, MemberState
from gateway.state.codec import AvroValueCodec, ValueCodec
from gateway.state.store import PartitionStore
from gateway.validation.state import CaseKey, CaseState

__all__ = [
    "CASE_STATE_ROOT",
    "STATE_SCHEMA_DIR",
    "StoredCaseStates",
    "case_key",
    "case_state_codec",
    "case_state_from_avro",
    "case_state_to_avro",
]

STATE_SCHEMA_DIR: Path = SCHEMA_DIR / "state"
CASE_STATE_ROOT = "eu.returns.gateway.state.v1.CaseState"

_MEMBER_STATES = {s.value: s for s in MemberState}
_STATUSES = {s.value: s for s in DecisionStatus}
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MILLISECOND = dt.timedelta(milliseconds=1)


def _millis(at: dt.datetime | None) -> int | None:
    # Floored to the millisecond by hand: fastavro's own conversion of a datetime is not documented to floor.
    return None if at is None else (at - _EPOCH) // _MILLISECOND


def case_state_to_avro(state: CaseState) -> dict[str, Any]:
    """The state as an Avro record of ``eu.returns.gateway.state.v1.CaseState``."""
    return {
        "decision_reference": state.decision_reference,
        "decision_date": state.decision_date,
        "decision_status": None if state.decision_status is None else state.decision_status.value,
        "departure_granted": state.departure_granted,
        "departure_last_day": state.departure_last_day,
        "assistance_applied_on": state.assistance_applied_on,
        "assistance_programme": state.assistance_programme,
        "assistance_granted_on": state.assistance_granted_on,
        "assistance_granted_by": None if state.assistance_granted_by is None else state.assistance_granted_by.value,
        "departed_at": _millis(state.departed_at),
    }


def case_state_from_avro(record: Mapping[str, Any]) -> CaseState:
    """A state from an Avro record read with the current schema."""
    status, granted_by = record["decision_status"], record["assistance_granted_by"]
    return CaseState(
        decision_reference=record["decision_reference"],
        decision_date=record["decision_date"],
        decision_status=None if status is None else _STATUSES.get(status, DecisionStatus.UNKNOWN),
        departure_granted=record["departure_granted"],
        departure_last_day=record["departure_last_day"],
        assistance_applied_on=record["assistance_applied_on"],
        assistance_programme=record["assistance_programme"],
        assistance_granted_on=record["assistance_granted_on"],
        assistance_granted_by=None if granted_by is None else _MEMBER_STATES.get(granted_by, MemberState.UNKNOWN),
        departed_at=record["departed_at"],
    )


def case_state_codec(
    schema_dir: Path = STATE_SCHEMA_DIR, history: Iterable[dict[str, Any]] = (), *, lossless: bool = True
) -> AvroValueCodec[CaseState]:
    """Single-object Avro codec of case states over ``schemas/avro/state/``.

    Lossless by default: the states ``fold`` builds hold only values the encoding keeps exactly (instants in UTC,
    to the millisecond), so the codec may remember the value of the bytes it encodes, and a state written in one
    batch is read back in the next without decoding. Encode only such states with it; a hand-made state with
    sub-millisecond instants needs ``lossless=False``.

    Args:
        schema_dir: Folder of the state schema.
        history: Released versions of the schema, so that values they wrote stay readable.
        lossless: Remember encoded values as well as decoded ones (see ``AvroValueCodec``).
    """
    return AvroValueCodec(
        schema_dir, CASE_STATE_ROOT, case_state_to_avro, case_state_from_avro, history, lossless=lossless
    )


def case_key(key: CaseKey) -> bytes:
    """A case's key in a store: ``<member state>|<case reference>``, UTF-8 (a Member State code holds no ``|``)."""
    member_state, case_reference = key
    return f"{member_state.value}|{case_reference}".encode()


class StoredCaseStates:
    """Case states in one partition's store of the state runtime, written back once per batch.

    The states a batch reads and writes are kept in a dict: ``get`` answers from it first (no SQLite, no decoding),
    ``put`` only updates it, and `flush` encodes each state that changed and writes it to the store once, where it
    is staged as a changelog record. Call `flush` at the end of the batch, before the runtime's changes are
    collected, and use a new object per batch (or at least drop this one when a batch is aborted): its dict is the
    open batch's and is not rolled back with the store.

    Verdicts cannot depend on batch boundaries, nor on restarts: every state the pipeline builds round-trips
    exactly through the codec (``fold`` keeps instants as the encoding does), so a state served from the dict
    equals the one a restarted process would read from the store and decode.

    Args:
        store: The store of the input partition (``StateRuntime.store("cases", partition)``).
        codec: Turns states into bytes and back (`case_state_codec`).
    """

    def __init__(self, store: PartitionStore, codec: ValueCodec[CaseState]) -> None:
        self.store = store
        self._codec = codec
        # The store's state of each case this batch read (None: absent), and the states it put since.
        self._read: dict[CaseKey, CaseState | None] = {}
        self._written: dict[CaseKey, CaseState] = {}

    def get(self, key: CaseKey) -> CaseState | None:
        """The state of a case, or None: as last put in this batch, else as in the store.

        Raises:
            DecodeError: The stored bytes are not a case state this gateway can read.
        """
        written = self._written.get(key)
        if written is not None:
            return written
        try:
            return self._read[key]
        except KeyError:
            pass
        data = self.store.get(case_key(key))
        state = self._read[key] = None if data is None else self._codec.decode(data)
        return state

    def put(self, key: CaseKey, state: CaseState) -> None:
        """Replace the state of a case in this batch; `flush` writes it to the store."""
        self._written[key] = state

    def flush(self) -> int:
        """Write each state put in this batch that differs from the store's to the store, once, and forget the batch.

        Returns:
            How many states were written.
        """
        read, written = self._read, self._written
        self._read, self._written = {}, {}
        count = 0
        for key, state in written.items():
            if key in read:
                if read[key] == state:
                    continue
                self.store.put(case_key(key), self._codec.encode(state))
            else:
                # Put without a get (not what the rule stage does): compare bytes with the store's, undecoded.
                stored_key, data = case_key(key), self._codec.encode(state)
                if self.store.get(stored_key) == data:
                    continue
                self.store.put(stored_key, data)
            count += 1
        return count
