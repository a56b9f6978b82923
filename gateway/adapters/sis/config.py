"""Configuration of the SIS return alerts (Reg. 2018/1860), validated at start-up.

What the domain notes mark as not verified against the Official Journal is configuration here, and its default says
"(to be confirmed)": the code list of the reason for the alert (point (j)), the text of the action to be taken on a
hit (point (m)), the content of Art. 6 and Art. 14, the letter of point (z), and what Reg. 2018/1861 Art. 20/24 lets
the refusal-of-entry alert carry. The authority that creates the alert (point (k)) is the deployment's own.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from gateway.adapters.sis.closed_list import (
    DECISION_REFERENCE,
    ENTRY_BAN_SLOTS,
    IDENTITY_SLOTS,
    Whitelist,
    entry_ban_alert_whitelist,
    identity_whitelist,
    return_alert_whitelist,
)
from gateway.events.models import LegalGround
from gateway.validation.rules.sis import ClosedList

__all__ = ["ExemptionCode", "LegalBasisTexts", "SisConfig"]

TO_BE_CONFIRMED = "(to be confirmed)"
SIS = "Reg. 2018/1860"

ExemptionCode = Literal["DETAINED_UNTIL_REMOVAL", "BORDER_IMMEDIATE_ENFORCEMENT", "UNKNOWN"]
"""The values of ``AlertExemption``, as configuration names them."""

DEFAULT_ENTRY_BAN_FIELDS: tuple[str, ...] = (*IDENTITY_SLOTS, "entry_ban.duration_days")
"""The identity and document block of Reg. 2018/1861 Art. 20(2) as the notes give it, and the ban's duration."""

DEFAULT_REASON_CODES: dict[LegalGround, str] = {g: g.value for g in LegalGround if g is not LegalGround.UNKNOWN}
"""Point (j): the SIS code list is not public; the canonical ground's name stands in for it (to be confirmed)."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class LegalBasisTexts(_Frozen):
    """The legal basis each message cites in its ``legalBasis`` attribute; unverified points say so.

    Attributes:
        create: A return alert entered on a return decision.
        create_after_release: A withheld alert entered because the person was released without removal.
        update_period: The period for voluntary departure was extended.
        update_suspension: The decision was suspended, its enforcement postponed, or enforcement resumed.
        update_correction: The decision was issued again with other alert data (a correction).
        confirmation: Confirmation of return.
        delete_returned: Deletion after the return was confirmed.
        delete_withdrawn: Deletion after the decision was withdrawn or annulled.
        delete_residence_right: Deletion after the person obtained a residence permit or right.
        non_return: The period ended with no departure.
        entry_ban: The refusal-of-entry alert entered for the entry ban once the person left.
    """

    create: str = Field(f"{SIS} Art. 3, Art. 4(1)", min_length=1, max_length=300)
    create_after_release: str = Field(
        f"{SIS} Art. 3 (released from detention without removal: the alert is entered at once)",
        min_length=1,
        max_length=300,
    )
    update_period: str = Field(f"{SIS} Art. 3(4), Art. 4(1)(x)", min_length=1, max_length=300)
    update_suspension: str = Field(f"{SIS} Art. 3(5), Art. 4(1)(y)", min_length=1, max_length=300)
    update_correction: str = Field(
        f"{SIS} Art. 4(1) (correction of the alert's data; provision {TO_BE_CONFIRMED})", min_length=1, max_length=300
    )
    confirmation: str = Field(f"{SIS} Art. 6 {TO_BE_CONFIRMED}", min_length=1, max_length=300)
    delete_returned: str = Field(f"{SIS} Art. 6, Art. 14 {TO_BE_CONFIRMED}", min_length=1, max_length=300)
    delete_withdrawn: str = Field(
        f"{SIS} Art. 14 (return decision withdrawn or annulled) {TO_BE_CONFIRMED}", min_length=1, max_length=300
    )
    delete_residence_right: str = Field(
        f"{SIS} Art. 14 (residence permit or right granted) {TO_BE_CONFIRMED}", min_length=1, max_length=300
    )
    non_return: str = Field(
        f"{SIS} Art. 7 (period expired without departure; the issuing Member State's message {TO_BE_CONFIRMED})",
        min_length=1,
        max_length=300,
    )
    entry_ban: str = Field(
        f"{SIS} Art. 6(1) second subparagraph; Reg. 2018/1861 Art. 24(1)(b) {TO_BE_CONFIRMED}",
        min_length=1,
        max_length=300,
    )


class SisConfig(_Frozen):
    """How the gateway builds the SIS return alerts and the messages that follow them.

    Attributes:
        closed_list: The Art. 4(1) whitelist (shared with validation rule SIS-002): which canonical field fills which
            point. A field not on it never leaves.
        creating_authority: Point (k), the authority that creates the alert. Every deployment sets its own.
        reason_codes: Point (j), the reason for the alert, per ground of the decision (code list to be confirmed).
            A ground with no code leaves point (j) out.
        action_on_hit: Point (m), the action to be taken on a hit on the return alert.
        entry_ban_action_on_hit: The action to be taken on a hit on the refusal-of-entry alert.
        honoured_exemptions: The Art. 3 exemptions for which no alert is entered. An exemption not listed (``UNKNOWN``
            by default) gets an alert, since Art. 3 names only the two.
        pair_entry_ban_alert: When a return with an entry ban is confirmed, follow the deletion with a
            refusal-of-entry alert (Art. 6(1) second subparagraph; Reg. 2018/1861 Art. 24).
        entry_ban_alert_after_withheld: Enter that alert too when the return alert was withheld (the person was
            removed from detention or at the border) and the departure is confirmed (to be confirmed).
        entry_ban_expiry_from_departure: Give the ban's last day as departure day + duration (the ban runs from
            the departure; to be confirmed). Off, only the duration is sent.
        entry_ban_fields: Whitelist of the refusal-of-entry alert: canonical paths of ``ReturnDecisionIssued``.
        legal_basis: Legal-basis texts the messages cite.
        tombstone_days: How long a deleted alert's references are kept, so that a replayed event cannot enter the
            alert again.
    """

    closed_list: ClosedList = Field(default_factory=ClosedList)
    creating_authority: str = Field(
        "National authority responsible for return (to be configured)", min_length=1, max_length=200
    )
    reason_codes: dict[LegalGround, str] = Field(default_factory=lambda: dict(DEFAULT_REASON_CODES))
    action_on_hit: str = Field(
        f"Establish the identity and inform the issuing Member State through the SIRENE Bureau {TO_BE_CONFIRMED}",
        min_length=1,
        max_length=500,
    )
    entry_ban_action_on_hit: str = Field(
        f"Refuse entry and stay; inform the issuing Member State through the SIRENE Bureau {TO_BE_CONFIRMED}",
        min_length=1,
        max_length=500,
    )
    honoured_exemptions: tuple[ExemptionCode, ...] = ("DETAINED_UNTIL_REMOVAL", "BORDER_IMMEDIATE_ENFORCEMENT")
    pair_entry_ban_alert: bool = True
    entry_ban_alert_after_withheld: bool = True
    entry_ban_expiry_from_departure: bool = True
    entry_ban_fields: tuple[str, ...] = DEFAULT_ENTRY_BAN_FIELDS
    legal_basis: LegalBasisTexts = Field(default_factory=LegalBasisTexts)
    tombstone_days: int = Field(400, ge=1, le=36_500)

    @model_validator(mode="after")
    def _carriable(self) -> SisConfig:
        # A whitelisted field the adapter cannot carry would be dropped silently; say so at start-up instead.
        alert, ban = self.return_whitelist, self.entry_ban_whitelist
        if alert.without_slot:
            raise ValueError(f"closed_list.art4_points: the SIS adapter has no element for {list(alert.without_slot)}")
        if not alert.allows(DECISION_REFERENCE):
            raise ValueError("closed_list.art4_points must map decision_reference (point (l)): every message has it")
        if ban.without_slot:
            raise ValueError(
                f"entry_ban_fields: not carried by the refusal-of-entry alert: {list(ban.without_slot)}; "
                f"known: {sorted(ENTRY_BAN_SLOTS)}"
            )
        blank = sorted(g.value for g, code in self.reason_codes.items() if not code.strip())
        if blank:
            raise ValueError(f"reason_codes: blank code for {blank}")
        return self

    # Plain properties over a cache keyed by the lists, not cached properties: a cached value would survive
    # model_copy(update=...) of the lists and go stale.
    @property
    def return_whitelist(self) -> Whitelist:
        """Whitelist of the return alert (create, update, non-return)."""
        return return_alert_whitelist(self.closed_list)

    @property
    def entry_ban_whitelist(self) -> Whitelist:
        """Whitelist of the refusal-of-entry alert."""
        return entry_ban_alert_whitelist(self.entry_ban_fields)

    @property
    def snapshot_whitelist(self) -> Whitelist:
        """The identity data the alert state keeps: what either alert may carry, nothing more."""
        return identity_whitelist((*self.closed_list.art4_points, *self.entry_ban_fields))
