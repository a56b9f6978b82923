"""Small helpers shared by rule modules."""

from __future__ import annotations

import datetime as dt

from gateway.events.models import (
    EventType,
)
from gateway.validation.rule import RuleContext

IDENTITY_EVENT_TYPES = frozenset(
    {EventType.RETURN_DECISION_ISSUED, EventType.BIOMETRICS_CAPTURED, EventType.REINTEGRATION_REFERRAL}
)
"""Event types whose payload carries an identity block."""


def is_blank(value: str | None) -> bool:
    """Whether a text is missing or only white space."""
    return not value or value.isspace()


def date_in_future(value: dt.date, ctx: RuleContext) -> bool:
    """Whether a calendar date lies after today in the case's Member State (dates are never shifted)."""
    return value > ctx.today


def instant_in_future(value: dt.datetime, ctx: RuleContext) -> bool:
    """Whether an instant lies after now, beyond the tolerated clock skew (compared in UTC)."""
    return value > ctx.latest
