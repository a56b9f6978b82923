"""Configuration of the Eurodac AVRR updates, validated at start-up.

The point of Reg. (EU) 2024/1358 that records return and reintegration assistance is not verified against the
Official Journal (domain notes §1.5): its labels and legal basis are configuration, and the default text says
"(to be confirmed)". The feature is off by default, as the notes recommend, until someone has checked the text.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

TO_BE_CONFIRMED = "(to be confirmed)"
DEFAULT_LEGAL_BASIS = "Reg. 2024/1358 Art. 16-17 (point to be confirmed)"
DEFAULT_ELEMENT_LABEL = f"assistance for voluntary return and reintegration granted {TO_BE_CONFIRMED}"
DEFAULT_POINT_LABEL = f"Reg. 2024/1358 Art. 17(2) {TO_BE_CONFIRMED}"


class EurodacConfig(BaseModel):
    """How the gateway updates its own Eurodac datasets with AVRR.

    Attributes:
        enabled: Send updates at all. Off, the state is still kept, so that turning it on later sends what is due.
        legal_basis: Legal basis cited in every update.
        element_label: Name of the AVRR element in Eurodac, as the update labels it.
        point_label: Article and point that record it, as the update labels it.
        send_withdrawals: Send an update when a grant already sent is withdrawn. Off, a withdrawal is kept in the
            state only (no later dataset receives the withdrawn grant), and nothing is sent.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = False
    legal_basis: str = Field(DEFAULT_LEGAL_BASIS, min_length=1, max_length=300)
    element_label: str = Field(DEFAULT_ELEMENT_LABEL, min_length=1, max_length=300)
    point_label: str = Field(DEFAULT_POINT_LABEL, min_length=1, max_length=300)
    send_withdrawals: bool = True
