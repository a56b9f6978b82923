"""Placing a provisional EES departure in one of the subject's open return decisions (pure, keyed by subject).

The stage that calls this holds one `EesSubjectState` per subject key, folds every canonical event of the subject
into it with `observe`, and asks `match_exit` about each inbound exit. The rules:

1. An exit already matched (same event id, hence the same EES record) is a ``Duplicate``.
2. The exit names a decision (a SIS hit at the border): it matches that open decision of the subject. A name that
   is not an open decision of the subject goes to review: confirming the departure under another decision than
   the one the border guard saw would delete the wrong alert.
3. Otherwise exactly one open decision issued no later than the exit day (a day's grace for time zones) matches;
   none open, none issued before the exit, or several: review, with the reason.

Only the decisions of the Member State that recorded the exit are candidates. A matched departure is VOLUNTARY
(the person left on their own; enforced removals are recorded by the removing authority, not matched from EES) and
assisted when assistance was granted, and not withdrawn, in the decision's case.

After a ``Matched``, fold the matched event into the state with `observe`: that closes the decision and records the
exit's id, which is what makes a later copy of the record a ``Duplicate``.

The state is small and flat (strings, dates, booleans, tuples of small models) so that it can be persisted as Avro.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict

from gateway.adapters.ees.convert import Review
from gateway.events.models import (
    AssistanceGranted,
    AssistanceRefused,
    CaseEvent,
    DecisionStatus,
    DepartureConfirmed,
    DepartureEvidence,
    ReturnDecisionIssued,
    ReturnDecisionStatusChanged,
    ReturnType,
    VoluntaryDepartureExtended,
)

# Bounds on one subject's state: the oldest entries go first. Real subjects have a decision or two.
MAX_DECISIONS = 16
MAX_CLOSED = 32
MAX_ASSISTANCE = 32
MAX_MATCHED_EXITS = 64

NO_OPEN_DECISION = "no open return decision for this subject"
SEVERAL_OPEN = "several open return decisions; the exit names none of them"
HINT_NOT_OPEN = "the exit names a return decision that is not open for this subject"
EXIT_BEFORE_DECISIONS = "the exit predates every open return decision of this subject"

_CLOSING = frozenset({DecisionStatus.WITHDRAWN, DecisionStatus.ANNULLED, DecisionStatus.RESIDENCE_RIGHT_GRANTED})
_GRACE = dt.timedelta(days=1)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class OpenDecision(_Frozen):
    """A return decision of the subject that no departure, withdrawal or annulment has closed yet.

    Attributes:
        case_reference: The case it belongs to.
        member_state: Member State that issued it.
        decision_reference: Its reference.
        decision_date: Date of the decision.
        voluntary_period_granted: A period for voluntary departure was granted.
        last_day: Last day of that period, extensions included.
    """

    case_reference: str
    member_state: str
    decision_reference: str
    decision_date: dt.date
    voluntary_period_granted: bool
    last_day: dt.date | None = None


class GrantedAssistance(_Frozen):
    """Assistance granted, and not withdrawn, in a case.

    Attributes:
        case_reference: The case.
        member_state: Member State of the case.
        programme_reference: The programme granted.
    """

    case_reference: str
    member_state: str
    programme_reference: str


class EesSubjectState(_Frozen):
    """What matching remembers of one subject.

    Attributes:
        decisions: Open return decisions, oldest first.
        closed: ``"<member state>:<decision reference>"`` of decisions closed, so a replayed issue stays closed.
        assistance: Assistance granted and not withdrawn, per case.
        matched_exits: Event ids (UUID text) of exits already matched, newest last.
    """

    decisions: tuple[OpenDecision, ...] = ()
    closed: tuple[str, ...] = ()
    assistance: tuple[GrantedAssistance, ...] = ()
    matched_exits: tuple[str, ...] = ()


_Change = Callable[[OpenDecision], OpenDecision]


@dataclass(frozen=True, slots=True)
class Matched:
    """The exit placed in a decision.

    Attributes:
        event: The departure with case, decision, return type and assistance filled; same event id as the inbound.
    """

    event: CaseEvent


@dataclass(frozen=True, slots=True)
class Duplicate:
    """The exit was matched before; nothing to do."""


def observe(state: EesSubjectState | None, event: CaseEvent) -> EesSubjectState:
    """Fold one canonical event of the subject into its matching state.

    Args:
        state: The state before, or None for a subject not seen yet.
        event: The subject's next canonical event; types matching does not use leave the state as it was.

    Returns:
        The state after the event.
    """
    state = state or EesSubjectState()
    payload = event.payload
    ms = str(event.member_state)
    if isinstance(payload, ReturnDecisionIssued):
        return _issued(state, event, payload)
    if isinstance(payload, VoluntaryDepartureExtended):
        return _replace(
            state, ms, payload.decision_reference, lambda d: d.model_copy(update={"last_day": payload.new_last_day})
        )
    if isinstance(payload, ReturnDecisionStatusChanged):
        return _close(state, ms, payload.decision_reference) if payload.status in _CLOSING else state
    if isinstance(payload, DepartureConfirmed):
        return _departed(state, event, payload)
    if isinstance(payload, AssistanceGranted):
        granted = GrantedAssistance(
            case_reference=event.case_reference, member_state=ms, programme_reference=payload.programme_reference
        )
        if granted in state.assistance:
            return state
        return state.model_copy(update={"assistance": (*state.assistance, granted)[-MAX_ASSISTANCE:]})
    if isinstance(payload, AssistanceRefused):
        # A refusal after a grant of the same programme withdraws it (a refusal of anything else changes nothing).
        kept = tuple(
            a
            for a in state.assistance
            if (a.case_reference, a.member_state, a.programme_reference)
            != (event.case_reference, ms, payload.programme_reference)
        )
        return state.model_copy(update={"assistance": kept})
    return state


def match_exit(state: EesSubjectState | None, inbound: CaseEvent) -> Matched | Review | Duplicate:
    """Place a provisional EES departure (`gateway.adapters.ees.convert.to_inbound`) in one open decision.

    Args:
        state: The subject's state, or None for a subject not seen yet.
        inbound: The provisional ``DepartureConfirmed`` event.

    Returns:
        ``Matched`` with the completed event, ``Review`` with the reason (``original`` left empty: the caller has
        the inbound event), or ``Duplicate``.

    Raises:
        TypeError: ``inbound`` is not a departure (a bug of the caller, not a property of the data).
    """
    payload = inbound.payload
    if not isinstance(payload, DepartureConfirmed):
        raise TypeError(f"match_exit needs a DepartureConfirmed event, not {inbound.event_type}")
    state = state or EesSubjectState()
    if str(inbound.event_id) in state.matched_exits:
        return Duplicate()
    ms = str(inbound.member_state)
    candidates = [d for d in state.decisions if d.member_state == ms]
    hint = payload.decision_reference
    if hint:
        named = [d for d in candidates if d.decision_reference == hint]
        return _matched(state, inbound, payload, named[0]) if len(named) == 1 else Review(HINT_NOT_OPEN)
    if not candidates:
        return Review(NO_OPEN_DECISION)
    exit_day = payload.departed_at.astimezone(dt.UTC).date()
    issued = [d for d in candidates if d.decision_date <= exit_day + _GRACE]
    if not issued:
        return Review(EXIT_BEFORE_DECISIONS)
    if len(issued) > 1:
        return Review(SEVERAL_OPEN)
    return _matched(state, inbound, payload, issued[0])


def _matched(
    state: EesSubjectState, inbound: CaseEvent, payload: DepartureConfirmed, decision: OpenDecision
) -> Matched:
    assisted = any(
        a.case_reference == decision.case_reference and a.member_state == decision.member_state
        for a in state.assistance
    )
    departure = payload.model_copy(
        update={
            "decision_reference": decision.decision_reference,
            "return_type": ReturnType.VOLUNTARY,
            "assisted": assisted,
        }
    )
    return Matched(inbound.model_copy(update={"case_reference": decision.case_reference, "payload": departure}))


def _issued(state: EesSubjectState, event: CaseEvent, payload: ReturnDecisionIssued) -> EesSubjectState:
    ms = str(event.member_state)
    if f"{ms}:{payload.decision_reference}" in state.closed:
        return state  # a replayed issue of a decision closed since
    period = payload.voluntary_departure
    decision = OpenDecision(
        case_reference=event.case_reference,
        member_state=ms,
        decision_reference=payload.decision_reference,
        decision_date=payload.decision_date,
        voluntary_period_granted=period.granted,
        last_day=period.last_day,
    )
    others = tuple(
        d for d in state.decisions if (d.member_state, d.decision_reference) != (ms, payload.decision_reference)
    )
    return state.model_copy(update={"decisions": (*others, decision)[-MAX_DECISIONS:]})


def _departed(state: EesSubjectState, event: CaseEvent, payload: DepartureConfirmed) -> EesSubjectState:
    ms = str(event.member_state)
    if payload.decision_reference:
        state = _close(state, ms, payload.decision_reference)
    else:
        # A departure naming no decision complies with every open decision of its case.
        for d in state.decisions:
            if d.member_state == ms and d.case_reference == event.case_reference:
                state = _close(state, ms, d.decision_reference)
    exit_id = str(event.event_id)
    if DepartureEvidence.EES_EXIT_RECORD in payload.evidence and exit_id not in state.matched_exits:
        state = state.model_copy(update={"matched_exits": (*state.matched_exits, exit_id)[-MAX_MATCHED_EXITS:]})
    return state


def _close(state: EesSubjectState, ms: str, reference: str) -> EesSubjectState:
    key = f"{ms}:{reference}"
    decisions = tuple(d for d in state.decisions if (d.member_state, d.decision_reference) != (ms, reference))
    closed = state.closed if key in state.closed else (*state.closed, key)[-MAX_CLOSED:]
    return state.model_copy(update={"decisions": decisions, "closed": closed})


def _replace(state: EesSubjectState, ms: str, reference: str, change: _Change) -> EesSubjectState:
    decisions = tuple(
        change(d) if (d.member_state, d.decision_reference) == (ms, reference) else d for d in state.decisions
    )
    return state.model_copy(update={"decisions": decisions})
