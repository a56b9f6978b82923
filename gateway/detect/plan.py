"""What a configuration means for the hot path, worked out once: enabled rules by fact kind, windows, retention.

``observe`` runs for every canonical event; it reads a ``Plan`` instead of walking the configuration each time.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from gateway.detect.config import DetectorConfig
from gateway.detect.rules import RULES, RuleDef, Windows, windows_of
from gateway.detect.timeline import FactKind, RetentionPeriods, retention_periods


class Plan(NamedTuple):
    """A configuration compiled for ``observe``.

    Attributes:
        config: The configuration it was built from.
        retention: Retention periods for new facts.
        windows: Rule windows and readings.
        rules: The enabled rules, in id order.
        rules_by_kind: For each kind of fact, the enabled rules its arrival can change.
        kept: Kinds of fact worth keeping: those an enabled rule matches on or explains with.
    """

    config: DetectorConfig
    retention: RetentionPeriods
    windows: Windows
    rules: tuple[RuleDef, ...]
    rules_by_kind: Mapping[FactKind, tuple[RuleDef, ...]]
    kept: frozenset[FactKind]


def build_plan(config: DetectorConfig) -> Plan:
    """Compile a configuration."""
    enabled = tuple(r for r in RULES if r.settings(config).enabled)
    by_kind = {kind: tuple(r for r in enabled if kind in r.kinds) for kind in FactKind}
    kept = frozenset(k for r in enabled for k in r.kinds | r.context)
    return Plan(config, retention_periods(config), windows_of(config), enabled, by_kind, kept)


_last: Plan | None = None


def plan_of(config: DetectorConfig) -> Plan:
    """The plan of a configuration, reusing the last one built when the configuration is the same object.

    A service uses one configuration for its life, so a single slot suffices; the slot holds the configuration
    itself, so an identity match can never be a recycled object id.
    """
    global _last
    last = _last
    if last is not None and last.config is config:
        return last
    _last = plan = build_plan(config)
    return plan
