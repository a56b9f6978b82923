"""Validation of canonical events: the rule engine, the rule catalogue and their configuration.

Typical use in the pipeline::

    engine = ValidationEngine(load_config(path), load_programmes(catalogue_path))  # at start-up
    findings = engine.validate(event, state, now)                                  # per event
    if errors(findings):
        raise rule_violation(findings)                                             # -> DLQ
    event = apply_warnings(event, findings)
    state = fold(state, event)
"""

from gateway.validation.catalogue import default_rules
from gateway.validation.config import ValidationConfig, load_config
from gateway.validation.engine import ValidationEngine
from gateway.validation.findings import Finding, apply_warnings, errors, group_by_rule, rule_violation, warnings
from gateway.validation.metrics import FindingCounter
from gateway.validation.programmes import ProgrammeCatalogue, load_programmes
from gateway.validation.state import CaseState, fold

__all__ = [
    "CaseState",
    "Finding",
    "FindingCounter",
    "ProgrammeCatalogue",
    "ValidationConfig",
    "ValidationEngine",
    "apply_warnings",
    "default_rules",
    "errors",
    "fold",
    "group_by_rule",
    "load_config",
    "load_programmes",
    "rule_violation",
    "warnings",
]
