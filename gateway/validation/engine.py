"""The rule engine: runs the enabled rules of an event's type and returns findings.

Built once at start-up from the rule catalogue, the deployment's configuration and programme catalogue; every
configuration problem is raised then as a ``ConfigError``. ``validate`` is a pure function of its arguments: the
engine holds no mutable state, reads no clock (``now`` is passed in) and never raises for an event; a rule that
crashes yields an ERROR finding so that the record goes to the dead-letter queue instead of stopping the pipeline.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from pydantic import ValidationError

from gateway.errors import ConfigError
from gateway.events.models import PAYLOAD_OF_EVENT_TYPE, CaseEvent, EventType, MemberState, Severity
from gateway.validation.catalogue import default_rules
from gateway.validation.codelists import CountryCodes, load_country_codes
from gateway.validation.config import ValidationConfig
from gateway.validation.findings import Finding
from gateway.validation.programmes import ProgrammeCatalogue, ProgrammeView, index_programmes
from gateway.validation.rule import Check, Rule, RuleContext, RuleParams
from gateway.validation.state import CaseState

_WITH_IDENTITY = frozenset(t for t in PAYLOAD_OF_EVENT_TYPE.values() if "identity" in t.model_fields)
"""Payload types that carry the subject's identity block."""


@dataclass(frozen=True, slots=True)
class BoundRule:
    """A rule with its deployment settings applied.

    Attributes:
        rule: The rule.
        severity: Effective severity.
        params: Effective, validated parameters.
        legal_reference: The rendered legal reference, computed once.
    """

    rule: Rule[Any]
    severity: Severity
    params: RuleParams
    legal_reference: str


def bind_rules(
    rules: Iterable[Rule[Any]], config: ValidationConfig, *, with_programmes: bool = True
) -> tuple[BoundRule, ...]:
    """Apply the configuration to the rules; returns the enabled ones.

    Rules that need the programme catalogue are left out when ``with_programmes`` is false, whatever the
    configuration says: without a catalogue they could only report every programme as unknown.

    Raises:
        ConfigError: Duplicate rule ids, configuration for an unknown rule id, or invalid parameters. All problems
            are reported together.
    """
    rules = tuple(rules)
    ids = [r.id for r in rules]
    problems = [f"rule id {i} is defined twice" for i in sorted({i for i in ids if ids.count(i) > 1})]
    problems += [f"unknown rule id {i!r} in configuration" for i in sorted(set(config.rules) - set(ids))]
    bound: list[BoundRule] = []
    for rule in rules:
        rc = config.rules.get(rule.id)
        try:
            params = (
                rule.params
                if rc is None
                else rule.params_model.model_validate({**rule.params.model_dump(), **rc.params})
            )
        except ValidationError as exc:
            problems.append(f"{rule.config_key}.params: {exc}")
            continue
        enabled = rule.enabled if rc is None or rc.enabled is None else rc.enabled
        if enabled and (with_programmes or not rule.needs_programmes):
            severity = rule.severity if rc is None or rc.severity is None else Severity(rc.severity)
            bound.append(BoundRule(rule, severity, params, str(rule.legal)))
    if problems:
        raise ConfigError("invalid validation configuration:\n  " + "\n  ".join(problems))
    return tuple(bound)


class ValidationEngine:
    """Validates canonical events against the enabled rules.

    Example:
        >>> config, programmes = load_config("validation.toml"), load_programmes("programmes.toml")  # doctest: +SKIP
        >>> engine = ValidationEngine(config, programmes)  # doctest: +SKIP
        >>> findings = engine.validate(event, state, now)  # doctest: +SKIP
    """

    __slots__ = ("_by_type", "_calls", "_codes", "_config", "_programmes", "_rules", "_settings", "_skew", "_zones")

    def __init__(
        self,
        config: ValidationConfig | None = None,
        programmes: ProgrammeCatalogue | None = None,
        *,
        rules: Iterable[Rule[Any]] | None = None,
        codes: CountryCodes | None = None,
    ) -> None:
        """Build the engine; raises ``ConfigError`` for any configuration problem.

        Args:
            config: Deployment configuration; defaults when None.
            programmes: Programme catalogue. None means the deployment has none: the rules that check against it
                (``needs_programmes``) are off. An empty catalogue keeps them on, so every reference is unknown.
            rules: The rule catalogue; ``default_rules()`` when None.
            codes: Country code lists; the packaged list when None.
        """
        self._config = config or ValidationConfig()
        self._programmes: Mapping[str, ProgrammeView] = index_programmes(programmes or ProgrammeCatalogue())
        self._codes = codes or load_country_codes()
        self._rules = bind_rules(
            default_rules() if rules is None else rules, self._config, with_programmes=programmes is not None
        )
        # Precomputed dispatch table: each event type maps to its rules, so validate() looks at nothing else.
        by_type: dict[EventType, tuple[BoundRule, ...]] = {
            t: tuple(b for b in self._rules if t in b.rule.event_types) for t in EventType
        }
        self._by_type: Mapping[EventType, tuple[BoundRule, ...]] = MappingProxyType(by_type)
        # The same table flattened to (check, params, bound) so the per-event loop does no attribute look-ups.
        # Plain dicts, never changed after construction: a mapping proxy would cost a little on every event.
        self._calls: dict[EventType, tuple[tuple[Check[Any], RuleParams, BoundRule], ...]] = {
            t: tuple((b.rule.check, b.params, b) for b in rules) for t, rules in by_type.items()
        }
        settings = self._settings = self._config.settings
        default_zone = zoneinfo.ZoneInfo(settings.default_time_zone)
        zones: dict[MemberState, dt.tzinfo] = {
            ms: zoneinfo.ZoneInfo(settings.time_zones.get(ms, settings.default_time_zone)) for ms in MemberState
        }
        zones[MemberState.UNKNOWN] = default_zone
        self._zones: dict[MemberState, dt.tzinfo] = zones
        self._skew = dt.timedelta(seconds=settings.clock_skew_seconds)

    @property
    def rules(self) -> tuple[BoundRule, ...]:
        """The enabled rules with their effective settings."""
        return self._rules

    def rules_for(self, event_type: EventType) -> tuple[BoundRule, ...]:
        """The enabled rules that apply to an event type."""
        return self._by_type.get(event_type, ())

    def validate(self, event: CaseEvent, state: CaseState, now: dt.datetime) -> tuple[Finding, ...]:
        """All findings of the enabled rules for one event.

        Args:
            event: The canonical event.
            state: The case's state before this event (``CaseState()`` for a new case).
            now: The instant of validation; must be timezone-aware.

        Returns:
            The findings in rule order; empty when the event passes.

        Raises:
            ValueError: ``now`` is naive (a programming error of the caller, not a record problem).
        """
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        zone = self._zones[event.member_state]
        ctx = RuleContext(
            now,
            now.astimezone(zone).date(),
            zone,
            self._skew,
            now + self._skew,
            state,
            # Found once here for the several identity rules; a type test, since a missing attribute on a pydantic
            # model raises an exception internally and getattr(..., None) would be slow.
            event.payload.identity if type(event.payload) in _WITH_IDENTITY else None,  # type: ignore[union-attr]
            self._settings,
            self._codes,
            self._programmes,
        )
        found: list[Finding] = []
        for check, params, bound in self._calls.get(event.event_type, ()):
            try:
                violations = check(event, ctx, params)
            # A crashing rule must not stop the pipeline: the record goes to the DLQ with the rule's id.
            except Exception as exc:
                found.append(
                    Finding(
                        bound.rule.id,
                        Severity.ERROR,
                        bound.rule.path,
                        f"the rule could not be evaluated ({type(exc).__name__}: {exc}); the record needs review",
                        bound.legal_reference,
                    )
                )
                continue
            for v in violations:
                found.append(Finding(bound.rule.id, bound.severity, v.path, v.message, bound.legal_reference))
        return tuple(found)
