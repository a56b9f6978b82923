"""What a case has seen so far, for the rules that look across events.

How the pipeline keeps it: one ``CaseState`` per ``(member_state, case_reference)``, starting at ``CaseState()``.
For each event, call ``engine.validate(event, state, now)`` with the state *before* the event; only when the
event is accepted (no ERROR finding) replace the stored state by ``fold(state, event)``. Events sent to the
dead-letter queue are not folded, so a rejected record cannot make later records look valid. On replay, fold
the accepted events again in their original order; the state is a pure function of them.

Every value a state holds is one the state's Avro encoding keeps exactly: instants are in UTC and floored to the
millisecond (`exact_instant`), as ``timestamp-millis`` keeps them. A state held in memory therefore equals the same
state read back from a store after a restart, so no verdict can depend on where a state was read from: the
write-back of ``StoredCaseStates`` and the value memory of its codec rely on it.

Where the states live is the caller's choice, behind the small `CaseStates` protocol: `InMemoryCaseStates` for
a dry run and tests, ``gateway.pipeline.case_states.StoredCaseStates`` over a durable state store for ingest and
service mode.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple, Protocol

from gateway.events.models import (
    AssistanceApplied,
    AssistanceGranted,
    CaseEvent,
    DecisionStatus,
    DepartureConfirmed,
    MemberState,
    ReturnDecisionIssued,
    ReturnDecisionStatusChanged,
    VoluntaryDepartureExtended,
)

CaseKey = tuple[MemberState, str]
"""A case: the Member State that runs it and its national case reference."""

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MILLISECOND = dt.timedelta(milliseconds=1)
_EARLIEST = dt.datetime.min.replace(tzinfo=dt.UTC)
_LATEST = dt.datetime.max.replace(microsecond=999_000, tzinfo=dt.UTC)


def exact_instant(at: dt.datetime) -> dt.datetime:
    """The instant in UTC floored to the millisecond: exactly what Avro ``timestamp-millis`` keeps of it.

    Floored, not rounded, as the state codec writes it, and in ``datetime.UTC`` itself, as the codec reads it back,
    so that the local date of the instant in any zone (which rules compare) is the same before and after a round
    trip. An instant whose UTC time falls outside ``datetime``'s range (year 1 or 9999 with an offset) is clamped
    to the nearest end of it: folding must never fail, since events are folded before their verdict is known, and
    such an event is rejected by the plausibility rules anyway.

    Args:
        at: An aware datetime.
    """
    if at.tzinfo is dt.UTC:
        extra = at.microsecond % 1000
        return at.replace(microsecond=at.microsecond - extra) if extra else at
    # Arithmetic on the instant rather than on its local fields: an offset may itself have sub-millisecond parts.
    since_epoch = (at - _EPOCH) // _MILLISECOND * _MILLISECOND
    try:
        return _EPOCH + since_epoch
    except OverflowError:
        return _EARLIEST if since_epoch < dt.timedelta(0) else _LATEST


class CaseState(NamedTuple):
    """An immutable summary of one case's accepted events.

    A named tuple rather than a frozen dataclass: it is as immutable and several times cheaper to build, and a
    new one is built for most accepted events.

    Attributes:
        decision_reference: Reference of the latest return decision.
        decision_date: Date of that decision.
        decision_status: Latest status change of the decision; None while it stands as issued.
        departure_granted: Whether that decision granted a period for voluntary departure; None if unknown.
        departure_last_day: Current last day of the period, extensions included.
        assistance_applied_on: Date of the latest application for assistance.
        assistance_programme: Programme of the latest application or grant.
        assistance_granted_on: Date assistance was granted, if it was.
        assistance_granted_by: Member State that granted it.
        departed_at: When the subject left, if a departure was confirmed.
    """

    decision_reference: str | None = None
    decision_date: dt.date | None = None
    decision_status: DecisionStatus | None = None
    departure_granted: bool | None = None
    departure_last_day: dt.date | None = None
    assistance_applied_on: dt.date | None = None
    assistance_programme: str | None = None
    assistance_granted_on: dt.date | None = None
    assistance_granted_by: MemberState | None = None
    departed_at: dt.datetime | None = None


def _decision(s: CaseState, p: ReturnDecisionIssued) -> CaseState:
    vd = p.voluntary_departure
    last = vd.last_day if vd.granted else None
    return CaseState(
        p.decision_reference,
        p.decision_date,
        None,
        vd.granted,
        last,
        s.assistance_applied_on,
        s.assistance_programme,
        s.assistance_granted_on,
        s.assistance_granted_by,
        s.departed_at,
    )


def _extension(s: CaseState, p: VoluntaryDepartureExtended) -> CaseState:
    return s._replace(departure_last_day=p.new_last_day)


def _status(s: CaseState, p: ReturnDecisionStatusChanged) -> CaseState:
    return s._replace(decision_status=p.status)


def _application(s: CaseState, p: AssistanceApplied) -> CaseState:
    return s._replace(assistance_applied_on=p.application_date, assistance_programme=p.programme_reference)


def _grant(s: CaseState, p: AssistanceGranted) -> CaseState:
    return s._replace(
        assistance_applied_on=p.application_date or s.assistance_applied_on,
        assistance_programme=p.programme_reference,
        assistance_granted_on=p.grant_date,
        assistance_granted_by=p.granting_member_state,
    )


def _departure(s: CaseState, p: DepartureConfirmed) -> CaseState:
    return s._replace(departed_at=exact_instant(p.departed_at))


# Payload type -> how it changes the state; payloads not listed change nothing.
_FOLDS: dict[type[Any], Callable[[CaseState, Any], CaseState]] = {
    ReturnDecisionIssued: _decision,
    VoluntaryDepartureExtended: _extension,
    ReturnDecisionStatusChanged: _status,
    AssistanceApplied: _application,
    AssistanceGranted: _grant,
    DepartureConfirmed: _departure,
}


def fold(state: CaseState, event: CaseEvent) -> CaseState:
    """The state after an accepted event. Pure: ``state`` is not changed; events that change nothing return it.

    The state returned holds only values its Avro encoding keeps exactly (see `exact_instant`), so it round-trips
    through ``case_state_codec`` unchanged whenever ``state`` does.
    """
    change = _FOLDS.get(type(event.payload))
    return state if change is None else change(state, event.payload)


class CaseStates(Protocol):
    """Where the case states live: read the state of a case, replace it."""

    def get(self, key: CaseKey) -> CaseState | None:
        """The state of a case; None if it has seen no accepted event that changed it."""
        ...

    def put(self, key: CaseKey, state: CaseState) -> None:
        """Replace the state of a case."""
        ...


class InMemoryCaseStates:
    """Case states in a dict: for ``gateway validate`` dry runs, one-off runs and tests.

    Unbounded on purpose: a dry run must judge a file as the ingest would, and forgetting a case would change
    its verdicts. It holds one state per case of the records it saw (a few hundred bytes each); long-running
    processes keep their states on disk instead (``StoredCaseStates``).
    """

    def __init__(self) -> None:
        self._states: dict[CaseKey, CaseState] = {}

    def get(self, key: CaseKey) -> CaseState | None:
        """The state of a case, or None."""
        return self._states.get(key)

    def put(self, key: CaseKey, state: CaseState) -> None:
        """Replace the state of a case."""
        self._states[key] = state

    def __len__(self) -> int:
        return len(self._states)

    def __iter__(self) -> Iterator[CaseKey]:
        return iter(self._states)

    def items(self) -> Iterator[tuple[CaseKey, CaseState]]:
        """Every case and its state, in the order the cases were first written."""
        return iter(self._states.items())
