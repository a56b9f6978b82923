"""The contract of a validation rule: a pure check function plus the metadata that explains it.

A check receives the event, a read-only :class:`RuleContext` (the clock, the case state, code lists, programme
catalogue, shared settings) and the rule's typed parameters, and returns the violations it found: an empty tuple
when all is well, so that nothing is built on the common path. The engine turns violations into findings with
the rule's id, effective severity and legal reference.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, NamedTuple, TypeVar

from pydantic import BaseModel, ConfigDict

from gateway.events.models import CaseEvent, EventType, Identity, Severity
from gateway.validation.codelists import CountryCodes
from gateway.validation.config import GlobalSettings
from gateway.validation.legal import LegalReference
from gateway.validation.programmes import ProgrammeView
from gateway.validation.state import CaseState

ALL_EVENT_TYPES: frozenset[EventType] = frozenset(t for t in EventType if t is not EventType.UNKNOWN)
NO_VIOLATIONS: tuple[Violation, ...] = ()


class RuleParams(BaseModel):
    """Base of every rule's parameter model: frozen, and unknown keys are errors."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class NoParams(RuleParams):
    """For rules without parameters."""


@dataclass(frozen=True, slots=True)
class Violation:
    """What a check found wrong: the precise field path and an operator-readable message."""

    path: str
    message: str


class RuleContext(NamedTuple):
    """Everything a check may read besides the event. Built once per event by the engine.

    A named tuple rather than a frozen dataclass: it is as immutable and several times cheaper to build, which
    matters because one is built for every event.

    Attributes:
        now: The instant of validation, supplied by the caller (rules never read the clock).
        today: The calendar date of ``now`` in the event's Member State's time zone.
        zone: That time zone, to turn instants of the event into calendar dates.
        skew: Tolerance before an instant counts as in the future.
        latest: ``now + skew``: instants after it are in the future.
        state: The case's state before this event.
        identity: The identity block of the event's payload, if it carries one.
        settings: Shared settings.
        codes: Country code lists.
        programmes: The deployment's programme catalogue, by programme reference.
    """

    now: dt.datetime
    today: dt.date
    zone: dt.tzinfo
    skew: dt.timedelta
    latest: dt.datetime
    state: CaseState
    identity: Identity | None
    settings: GlobalSettings
    codes: CountryCodes
    programmes: Mapping[str, ProgrammeView]


P = TypeVar("P", bound=RuleParams)

Check = Callable[[CaseEvent, RuleContext, P], Sequence[Violation]]


@dataclass(frozen=True, slots=True)
class Rule(Generic[P]):
    """A validation rule: a pure check with its metadata.

    Attributes:
        id: Stable id such as ``VD-001``; never reused for another meaning.
        title: What the rule requires, in one line.
        description: What it checks and how, for ``docs/rules.md``.
        severity: Default severity; deployments may override it.
        path: The field path the rule is about (findings may name a more precise one).
        legal: The legal reference.
        event_types: Event types the rule applies to; the engine calls it for no others.
        check: The check function.
        params: The rule's default parameters (an instance of its parameter model).
        enabled: Whether the rule is on by default.
        needs_programmes: The rule checks against the programme catalogue; it is off when none is configured.
    """

    id: str
    title: str
    description: str
    severity: Severity
    path: str
    legal: LegalReference
    event_types: frozenset[EventType]
    check: Check[P]
    params: P
    enabled: bool = True
    needs_programmes: bool = False

    @property
    def config_key(self) -> str:
        """Where the rule is configured, e.g. ``rules.VD-001``."""
        return f"rules.{self.id}"

    @property
    def params_model(self) -> type[P]:
        """The parameter model that validates the configured parameters."""
        return type(self.params)
