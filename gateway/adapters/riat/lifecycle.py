"""A subject's RIAT referrals, one canonical event at a time (pure).

One RIAT case per referral, keyed by Member State and referral id. The rules:

* ``ReintegrationReferral`` with the returnee's consent: the first time, the case's creation (``CASE_CREATION``)
  and its Key Moment 1 (``KM1_APPLICATION``) with what the gateway knows of the case; later, a ``KM1_UPDATE`` if
  KM1's content changed, else nothing (a duplicate). Case creation cannot be edited in RIAT, so a later referral's
  partner, country or project changes nothing.
* ``ReintegrationReferral`` without consent: nothing leaves, ever, while consent stays false. A referral first seen
  without consent waits (``PENDING_CONSENT``); one whose consent is withdrawn after it was sent stops
  (``CONSENT_WITHDRAWN``): no update leaves until a referral with consent comes again. A referral with stage
  ``CANCELLED`` or ``REJECTED`` closes the case.
* Facts of the case, kept per Member State whether or not a referral exists yet: the return decision (country of
  return, ground → administrative status), the grant of assistance (its components), the confirmed departure (date
  and type of return; a Dublin transfer is not a return). Each one that changes an open referral's KM1 gives a
  ``KM1_UPDATE``.
* ``ReintegrationStatusChanged`` (from RIAT, through ``gateway riat pull``): the case's stage is recorded; closure,
  rejection or cancellation close it. Nothing is sent back.

Only fields the configured whitelist lets through enter a message (`gateway.adapters.riat.config`). The state holds
only simple types, so that it can be persisted as Avro, and no identity data beyond what a whitelist allows.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict

from gateway.adapters.riat.config import MessageKind, RiatConfig
from gateway.adapters.riat.messages import Assistance, CaseCreation, Km1, RiatIdentity, RiatMessage
from gateway.events.models import (
    AssistanceComponent,
    AssistanceGranted,
    CaseEvent,
    DepartureConfirmed,
    Identity,
    LegalGround,
    MemberState,
    PartialDate,
    ReintegrationReferral,
    ReintegrationStage,
    ReintegrationStatusChanged,
    ReturnDecisionIssued,
    ReturnType,
)

__all__ = [
    "MAX_FACTS",
    "ReferralStatus",
    "RiatFacts",
    "RiatReferralState",
    "RiatStep",
    "RiatSubjectState",
    "SkipReason",
    "km1_fingerprint",
    "riat_step",
]

MAX_FACTS = 8
"""Bound on the Member States whose facts one subject keeps (one in practice)."""

ReferralStatus = Literal["PENDING_CONSENT", "OPEN", "CONSENT_WITHDRAWN", "CLOSED"]
"""PENDING_CONSENT: seen, never with consent, nothing sent; OPEN: sent, consent holds; CONSENT_WITHDRAWN: sent, then
consent was withdrawn, nothing more leaves; CLOSED: cancelled, rejected or closed, nothing more leaves."""

_CLOSING_STAGES = frozenset({ReintegrationStage.CANCELLED, ReintegrationStage.REJECTED, ReintegrationStage.KM4_CLOSURE})


class SkipReason(StrEnum):
    """Why an event sent nothing to RIAT."""

    DISABLED = "disabled"
    """RIAT is switched off in the configuration."""
    NOT_FOR_RIAT = "not_for_riat"
    """The event type has no effect on RIAT cases."""
    NO_MEMBER_STATE = "no_member_state"
    """The event's Member State is UNKNOWN."""
    NO_REFERRAL_ID = "no_referral_id"
    """The referral id is blank."""
    NO_CONSENT = "no_consent"
    """The referral is without the returnee's consent: nothing leaves."""
    CONSENT_WITHDRAWN = "consent_withdrawn"
    """Consent was withdrawn after the case was sent: nothing more leaves."""
    REFERRAL_CLOSED = "referral_closed"
    """The case was cancelled, rejected or closed."""
    NO_CHANGE = "no_change"
    """Nothing a message carries changed (a duplicate referral, a fact already known)."""
    NO_OPEN_REFERRAL = "no_open_referral"
    """A fact of the case was recorded, but no referral of its Member State is open."""
    NOT_A_RETURN = "not_a_return"
    """A departure that is a Dublin transfer, not a return."""
    UNKNOWN_REFERRAL = "unknown_referral"
    """A status for a referral this subject has no state for."""
    FROM_RIAT = "from_riat"
    """The fact came from RIAT: recorded, not sent back."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RiatFacts(_Frozen):
    """What the gateway knows of a subject's case in one Member State, for KM1.

    Attributes:
        member_state: The Member State.
        decision_country_of_return: Country of return of the latest return decision (alpha-3).
        legal_ground: Ground of that decision (``LegalGround`` symbol).
        departure_date: Date of the first confirmed departure.
        return_type: Its ``ReturnType`` symbol.
        assistance: Components of the latest grant of assistance.
        updated_at: When the gateway recorded the last event that changed these facts.
    """

    member_state: str
    decision_country_of_return: str | None = None
    legal_ground: str | None = None
    departure_date: dt.date | None = None
    return_type: str | None = None
    assistance: tuple[Assistance, ...] = ()
    updated_at: dt.datetime


class RiatReferralState(_Frozen):
    """What the gateway keeps about one referral (RIAT case).

    Attributes:
        referral_id: The referral (RIAT case) id.
        member_state: The referring Member State.
        case_reference: National case reference (never sent to RIAT; for the service's ordering and logs).
        status: See `ReferralStatus`.
        created_sent: The case's creation was sent.
        partner: The chosen reintegration partner.
        country_of_return: Alpha-3 code the referral gave.
        programme_reference: The programme (RRAI reference), which names the project.
        support_types: ``SupportType`` symbols.
        consent_obtained: Consent as the latest referral gave it.
        vulnerability: Specific vulnerability.
        family_size: Members of the return file.
        expected_departure_date: Expected date of departure.
        identity: Identity fields a KM1 whitelist allows; None when none does.
        stage: ``ReintegrationStage`` symbol as RIAT last reported it (``CASE_REGISTRATION`` until then).
        last_km1: Fingerprint of the KM1 content last sent (`km1_fingerprint`); None before the first.
        updated_at: When the gateway recorded the last event that changed this state.
    """

    referral_id: str
    member_state: str
    case_reference: str
    status: ReferralStatus
    created_sent: bool = False
    partner: str
    country_of_return: str
    programme_reference: str | None = None
    support_types: tuple[str, ...] = ()
    consent_obtained: bool
    vulnerability: bool
    family_size: int
    expected_departure_date: dt.date | None = None
    identity: RiatIdentity | None = None
    stage: str = "CASE_REGISTRATION"
    last_km1: str | None = None
    updated_at: dt.datetime


class RiatSubjectState(_Frozen):
    """All RIAT referrals of one subject, and the facts of its cases.

    Attributes:
        facts: One entry per Member State whose events the subject has.
        referrals: One entry per (Member State, referral id), in order of first sight.
    """

    facts: tuple[RiatFacts, ...] = ()
    referrals: tuple[RiatReferralState, ...] = ()


@dataclass(frozen=True, slots=True)
class RiatStep:
    """What one event did.

    Attributes:
        state: The subject's new state; None while it has none (the service may drop the key).
        messages: The messages to send, in order.
        skipped: Why nothing was sent, when nothing was (empty when messages were produced).
    """

    state: RiatSubjectState | None
    messages: tuple[RiatMessage, ...] = ()
    skipped: tuple[SkipReason, ...] = ()


def riat_step(state: RiatSubjectState | None, event: CaseEvent, config: RiatConfig) -> RiatStep:
    """Apply one canonical event to a subject's RIAT referrals.

    Args:
        state: The subject's referrals and facts, or None for a subject never seen.
        event: The next canonical event of the subject (events of one subject arrive in order).
        config: The RIAT configuration.

    Returns:
        The new state, the messages to send in order, and why nothing was sent when nothing was.
    """
    if not config.enabled:
        return _skip(state, SkipReason.DISABLED)
    p = event.payload
    relevant = (ReintegrationReferral, ReintegrationStatusChanged, ReturnDecisionIssued, AssistanceGranted)
    if not isinstance(p, (*relevant, DepartureConfirmed)):
        return _skip(state, SkipReason.NOT_FOR_RIAT)
    if event.member_state is MemberState.UNKNOWN:
        return _skip(state, SkipReason.NO_MEMBER_STATE)
    if isinstance(p, ReintegrationReferral):
        return _on_referral(state, event, p, config)
    if isinstance(p, ReintegrationStatusChanged):
        return _on_status(state, event, p, config)
    return _on_fact(state, event, p, config)


def km1_fingerprint(message: Km1) -> str:
    """A digest of what a KM1 says, without its envelope: equal digests, nothing new for the partner."""
    content = message.model_dump(mode="json", exclude={"kind", "created_at", "legal_basis"})
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()[:32]


# --- events -----------------------------------------------------------------------------------------------------


def _on_referral(
    state: RiatSubjectState | None, event: CaseEvent, p: ReintegrationReferral, config: RiatConfig
) -> RiatStep:
    if not p.referral_id.strip():
        return _skip(state, SkipReason.NO_REFERRAL_ID)
    ms = event.member_state.value
    current = _find(state, ms, p.referral_id)
    if current is not None and current.status == "CLOSED":
        return _skip(state, SkipReason.REFERRAL_CLOSED)
    fresh = _from_referral(event, p, config, current)
    if p.stage in (ReintegrationStage.CANCELLED, ReintegrationStage.REJECTED):
        closed = fresh.model_copy(update={"status": "CLOSED", "stage": p.stage.value})
        return _done(state, (closed,), (), SkipReason.REFERRAL_CLOSED, config)
    if not p.consent_obtained:
        status: ReferralStatus = "CONSENT_WITHDRAWN" if fresh.created_sent else "PENDING_CONSENT"
        reason = SkipReason.CONSENT_WITHDRAWN if fresh.created_sent else SkipReason.NO_CONSENT
        return _done(state, (fresh.model_copy(update={"status": status}),), (), reason, config)
    facts = _facts(state, ms)
    opened = fresh.model_copy(update={"status": "OPEN"})
    if not opened.created_sent:
        km1 = _km1(opened, facts, event, config, "KM1_APPLICATION")
        sent = opened.model_copy(update={"created_sent": True, "last_km1": km1_fingerprint(km1)})
        return _done(state, (sent,), (_creation(opened, facts, event, config), km1), None, config)
    return _done_km1(state, (opened,), facts, event, config)


def _on_status(
    state: RiatSubjectState | None, event: CaseEvent, p: ReintegrationStatusChanged, config: RiatConfig
) -> RiatStep:
    current = _find(state, event.member_state.value, p.referral_id)
    if current is None:
        return _skip(state, SkipReason.UNKNOWN_REFERRAL)
    if p.stage is ReintegrationStage.UNKNOWN:
        return _skip(state, SkipReason.FROM_RIAT)
    update: dict[str, object] = {"stage": p.stage.value, "updated_at": event.recorded_at}
    if p.stage in _CLOSING_STAGES:
        update["status"] = "CLOSED"
    if current.stage == p.stage.value and "status" not in update:
        return _skip(state, SkipReason.FROM_RIAT)
    return _done(state, (current.model_copy(update=update),), (), SkipReason.FROM_RIAT, config)


def _on_fact(
    state: RiatSubjectState | None,
    event: CaseEvent,
    p: ReturnDecisionIssued | AssistanceGranted | DepartureConfirmed,
    config: RiatConfig,
) -> RiatStep:
    ms = event.member_state.value
    old = _facts(state, ms)
    if isinstance(p, ReturnDecisionIssued):
        new = old.model_copy(
            update={"decision_country_of_return": p.country_of_return, "legal_ground": p.legal_ground.value}
        )
    elif isinstance(p, AssistanceGranted):
        new = old.model_copy(update={"assistance": tuple(_assistance(c) for c in p.components)})
    else:
        if p.dublin_transfer:
            return _skip(state, SkipReason.NOT_A_RETURN)
        known = old.return_type not in (None, ReturnType.UNKNOWN.value)
        new = old.model_copy(
            update={
                # The first departure confirmed is the departure; a second piece of evidence of it (EES after a
                # national record) may only fill in the type of return.
                "departure_date": old.departure_date or p.departed_at.astimezone(dt.UTC).date(),
                "return_type": old.return_type if known else p.return_type.value,
            }
        )
    if new == old:
        return _skip(state, SkipReason.NO_CHANGE)
    new = new.model_copy(update={"updated_at": event.recorded_at})
    state = _with_facts(state, new)
    open_ = tuple(r for r in (state.referrals if state else ()) if r.member_state == ms and r.status == "OPEN")
    if not open_:
        return RiatStep(state, (), (SkipReason.NO_OPEN_REFERRAL,))
    return _done_km1(state, open_, new, event, config)


# --- state ------------------------------------------------------------------------------------------------------


def _find(state: RiatSubjectState | None, member_state: str, referral_id: str) -> RiatReferralState | None:
    for r in state.referrals if state else ():
        if r.referral_id == referral_id and r.member_state == member_state:
            return r
    return None


def _facts(state: RiatSubjectState | None, member_state: str) -> RiatFacts:
    for f in state.facts if state else ():
        if f.member_state == member_state:
            return f
    return RiatFacts(member_state=member_state, updated_at=dt.datetime(1970, 1, 1, tzinfo=dt.UTC))


def _with_facts(state: RiatSubjectState | None, facts: RiatFacts) -> RiatSubjectState:
    kept = [f for f in (state.facts if state else ()) if f.member_state != facts.member_state]
    kept.append(facts)
    return RiatSubjectState(facts=tuple(kept[-MAX_FACTS:]), referrals=state.referrals if state else ())


def _from_referral(
    event: CaseEvent, p: ReintegrationReferral, config: RiatConfig, previous: RiatReferralState | None
) -> RiatReferralState:
    created = previous is not None and previous.created_sent
    # Case creation cannot be edited in RIAT: once sent, its fields stay as sent.
    frozen_from = previous if created and previous is not None else None
    return RiatReferralState(
        referral_id=p.referral_id,
        member_state=event.member_state.value,
        case_reference=event.case_reference,
        status=previous.status if previous is not None else "PENDING_CONSENT",
        created_sent=created,
        partner=frozen_from.partner if frozen_from else p.partner,
        country_of_return=frozen_from.country_of_return if frozen_from else p.country_of_return,
        programme_reference=frozen_from.programme_reference if frozen_from else p.programme_reference,
        support_types=tuple(sorted(s.value for s in p.support_types)),
        consent_obtained=p.consent_obtained,
        vulnerability=p.vulnerability,
        family_size=p.family_size,
        expected_departure_date=p.expected_departure_date,
        identity=_identity(p.identity, config),
        stage=previous.stage if previous is not None else ReintegrationStage.CASE_REGISTRATION.value,
        last_km1=previous.last_km1 if previous is not None else None,
        updated_at=event.recorded_at,
    )


def _done(
    state: RiatSubjectState | None,
    referrals: tuple[RiatReferralState, ...],
    messages: tuple[RiatMessage, ...],
    skipped: SkipReason | None,
    config: RiatConfig,
) -> RiatStep:
    kept = list(state.referrals if state else ())
    for referral in referrals:
        at = next((i for i, r in enumerate(kept) if _same(r, referral)), None)
        if at is None:
            kept.append(referral)
        else:
            kept[at] = referral  # in place: the tuple stays in order of first sight
    while len(kept) > config.max_referrals:
        closed = [i for i, r in enumerate(kept) if r.status == "CLOSED" and r not in referrals]
        kept.pop(closed[0] if closed else 0)
    new = RiatSubjectState(facts=state.facts if state else (), referrals=tuple(kept))
    return RiatStep(new, messages, () if skipped is None or messages else (skipped,))


def _done_km1(
    state: RiatSubjectState | None,
    referrals: tuple[RiatReferralState, ...],
    facts: RiatFacts,
    event: CaseEvent,
    config: RiatConfig,
) -> RiatStep:
    """Keep ``referrals`` and send each one's KM1 update whose content changed since the last one sent."""
    kept: list[RiatReferralState] = []
    messages: list[RiatMessage] = []
    for referral in referrals:
        km1 = _km1(referral, facts, event, config, "KM1_UPDATE")
        digest = km1_fingerprint(km1)
        if digest != referral.last_km1:
            messages.append(km1)
            referral = referral.model_copy(update={"last_km1": digest, "updated_at": event.recorded_at})
        kept.append(referral)
    return _done(state, tuple(kept), tuple(messages), SkipReason.NO_CHANGE, config)


def _same(a: RiatReferralState, b: RiatReferralState) -> bool:
    return a.referral_id == b.referral_id and a.member_state == b.member_state


def _skip(state: RiatSubjectState | None, reason: SkipReason) -> RiatStep:
    return RiatStep(state, (), (reason,))


# --- messages ---------------------------------------------------------------------------------------------------


def _creation(r: RiatReferralState, facts: RiatFacts, event: CaseEvent, config: RiatConfig) -> CaseCreation:
    def allowed(name: str) -> bool:
        return config.allows("CASE_CREATION", name)

    country = r.country_of_return.strip() or facts.decision_country_of_return
    return CaseCreation(
        referral_id=r.referral_id,
        member_state=r.member_state,
        created_at=event.recorded_at,
        legal_basis=config.legal_basis.case_creation,
        country_of_return=country if allowed("country_of_return") else None,
        project=config.project_of(r.programme_reference) if allowed("project") else None,
        member_state_of_departure=r.member_state if allowed("member_state_of_departure") else None,
        member_state_organisation=config.member_state_organisation if allowed("member_state_organisation") else None,
        reintegration_partner=r.partner if allowed("reintegration_partner") else None,
        support_types=r.support_types if allowed("support_types") else None,
    )


def _km1(r: RiatReferralState, facts: RiatFacts, event: CaseEvent, config: RiatConfig, kind: MessageKind) -> Km1:
    assert kind != "CASE_CREATION"

    def allowed(name: str) -> bool:
        return config.allows(kind, name)

    if facts.departure_date is not None:
        departure, departure_status = facts.departure_date, "CONFIRMED"
    elif r.expected_departure_date is not None:
        departure, departure_status = r.expected_departure_date, "EXPECTED"
    else:
        departure, departure_status = None, None
    return_type = config.type_of_return_before_departure
    if facts.return_type is not None and facts.return_type != ReturnType.UNKNOWN.value:
        return_type = config.type_of_return.get(ReturnType(facts.return_type), return_type)
    status = None if facts.legal_ground is None else config.administrative_status.get(LegalGround(facts.legal_ground))
    return Km1(
        kind=kind,
        referral_id=r.referral_id,
        member_state=r.member_state,
        created_at=event.recorded_at,
        legal_basis=config.legal_basis.km1,
        consent_obtained=True,
        signed_consent=r.consent_obtained if allowed("signed_consent") else None,
        family_size=r.family_size if allowed("family_size") else None,
        type_of_return=return_type if allowed("type_of_return") else None,
        administrative_status=status if allowed("administrative_status") else None,
        departure_date=departure if allowed("departure_date") else None,
        departure_date_status=departure_status if allowed("departure_date_status") else None,
        assistance_needed=r.support_types if allowed("assistance_needed") else None,
        assistance_granted=facts.assistance if allowed("assistance_granted") else None,
        vulnerability=r.vulnerability if allowed("vulnerability") else None,
        identity=_identity_for(r.identity, config, kind),
    )


def _assistance(component: AssistanceComponent) -> Assistance:
    amount = None if component.amount_eur is None else f"{component.amount_eur:.2f}"
    return Assistance(type=component.type.value, form=component.form.value, amount_eur=amount)


def _partial(d: PartialDate) -> str | None:
    if d.year is None:
        return None
    if d.month is None:
        return f"{d.year:04d}"
    if d.day is None:
        return f"{d.year:04d}-{d.month:02d}"
    return f"{d.year:04d}-{d.month:02d}-{d.day:02d}"


def _identity(identity: Identity | None, config: RiatConfig) -> RiatIdentity | None:
    """The identity fields either KM1 whitelist allows: the state keeps nothing more."""
    if identity is None:
        return None
    names = set(config.fields["KM1_APPLICATION"]) | set(config.fields["KM1_UPDATE"])
    kept = RiatIdentity(
        surnames=identity.surnames if "identity.surnames" in names else (),
        forenames=identity.forenames if "identity.forenames" in names else (),
        date_of_birth=_partial(identity.date_of_birth) if "identity.date_of_birth" in names else None,
        sex=identity.sex.value if "identity.sex" in names else None,
        nationalities=identity.nationalities if "identity.nationalities" in names else (),
    )
    return None if kept == RiatIdentity() else kept


def _identity_for(identity: RiatIdentity | None, config: RiatConfig, kind: MessageKind) -> RiatIdentity | None:
    if identity is None:
        return None
    kept = RiatIdentity(
        **{
            name: getattr(identity, name)
            for name in RiatIdentity.model_fields
            if config.allows(kind, f"identity.{name}")
        }
    )
    return None if kept == RiatIdentity() else kept
