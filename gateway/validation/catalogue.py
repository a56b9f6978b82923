"""The rule catalogue: every rule of the gateway, collected explicitly from the rule modules' ``RULES`` tuples.

No rule registers itself on import; adding a module means adding it to ``_MODULES`` below.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

from gateway.validation.rule import Rule
from gateway.validation.rules import (
    assistance,
    codes_and_dates,
    departure,
    eurodac,
    hygiene,
    riat,
    scope,
    sis,
    voluntary_departure,
)

_MODULES = (scope, voluntary_departure, sis, eurodac, departure, assistance, riat, codes_and_dates, hygiene)

GROUPS: tuple[tuple[str, tuple[Rule[Any], ...]], ...] = (
    ("Scope of the Return Directive 2008/115/EC (Art. 2(1), 3(1), 3(3))", scope.RULES),
    ("Voluntary departure (Return Directive 2008/115/EC Art. 7)", voluntary_departure.RULES),
    ("SIS return alert readiness (Reg. 2018/1860)", sis.RULES),
    ("Eurodac (Reg. 2024/1358)", eurodac.RULES),
    ("Departure and EES (Reg. 2017/2226)", departure.RULES),
    ("Assistance and the programme catalogue (RRAI)", assistance.RULES),
    ("RIAT referrals", riat.RULES),
    ("Code lists and dates", codes_and_dates.RULES),
    ("Data hygiene (no legal basis: safety of exports)", hygiene.RULES),
)
"""The catalogue in documentation order, by area."""


def default_rules() -> tuple[Rule[Any], ...]:
    """Every rule of the catalogue, in documentation order. A new tuple each call; rules are immutable."""
    return tuple(rule for _, rules in GROUPS for rule in rules)


@functools.cache
def _legal_by_id() -> dict[str, str]:
    return {rule.id: str(rule.legal) for rule in default_rules()}


def legal_references(rule_ids: Iterable[str]) -> tuple[str, ...]:
    """The legal references of catalogue rules, by id, in order and once each; ids the catalogue lacks are skipped.

    A connector that refuses a record under a rule (``MappingError(rule_ids=("CD-004",))``) cannot import the
    catalogue (it sits below validation); the pipeline fills in the references with this.
    """
    table = _legal_by_id()
    return tuple(dict.fromkeys(table[i] for i in rule_ids if i in table))
