"""Findings: what a rule reports about an event. Data, never exceptions.

An ERROR finding sends the record to the dead-letter queue; a WARNING travels on the event in
``CaseEvent.validation_warnings``. The helpers here split, group and convert findings for the pipeline,
the DLQ headers and the ``gateway validate`` report.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

from gateway.errors import RuleViolationError
from gateway.events.models import CaseEvent, Severity, ValidationFinding


@dataclass(frozen=True, slots=True, order=True)
class Finding:
    """One rule's finding about one field of one event.

    Attributes:
        rule_id: Stable rule id, e.g. ``VD-001``.
        severity: ``ERROR`` (record goes to the DLQ) or ``WARNING`` (record goes on, carrying the finding).
        path: Dotted field path, e.g. ``payload.voluntary_departure.length_days``.
        message: What is wrong, in words a national operator understands.
        legal_reference: Instrument, article and point the rule enforces.
    """

    rule_id: str
    severity: Severity
    path: str
    message: str
    legal_reference: str

    def to_avro(self) -> ValidationFinding:
        """The finding as the canonical Avro record carried on events."""
        return ValidationFinding(
            rule_id=self.rule_id,
            severity=self.severity,
            path=self.path,
            message=self.message,
            legal_reference=self.legal_reference,
        )

    @classmethod
    def from_avro(cls, record: ValidationFinding) -> Finding:
        """A finding from the canonical Avro record."""
        return cls(record.rule_id, record.severity, record.path, record.message, record.legal_reference)


def errors(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    """The findings of severity ERROR: any of them sends the record to the dead-letter queue."""
    return tuple(f for f in findings if f.severity is Severity.ERROR)


def warnings(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    """The findings of severity WARNING: they travel on the event."""
    return tuple(f for f in findings if f.severity is Severity.WARNING)


@functools.cache
def _catalogue_ids() -> frozenset[str]:
    # Imported late: the catalogue pulls in every rule module, which the other helpers here do not need.
    from gateway.validation.catalogue import default_rules

    return frozenset(rule.id for rule in default_rules())


def apply_warnings(
    event: CaseEvent, findings: Iterable[Finding], *, rederived: Collection[str] | None = None
) -> CaseEvent:
    """A copy of the event carrying the warnings among ``findings`` besides those it already has.

    Warnings already on the event that validation did not make (a connector's, such as an ambiguous local time)
    are kept, in their order, before the new ones; duplicates by rule id and path are carried once, the new
    finding winning. Earlier warnings of the rules in ``rederived`` (default: every rule of the catalogue) are
    dropped: validation derives them again from the event, so a replayed event neither piles up copies nor keeps
    a warning that a changed rule set no longer raises.

    Args:
        event: The event as mapped (or as replayed).
        findings: This validation's findings; only the warnings are carried.
        rederived: Rule ids whose earlier warnings this validation replaces.
    """
    new = tuple(f.to_avro() for f in findings if f.severity is Severity.WARNING)
    if not new and not event.validation_warnings:
        return event
    ids = _catalogue_ids() if rederived is None else rederived
    kept = tuple(w for w in event.validation_warnings if w.rule_id not in ids)
    carried = tuple({(w.rule_id, w.path): w for w in kept + new}.values())
    if carried == event.validation_warnings:
        return event
    return event.model_copy(update={"validation_warnings": carried})


def group_by_rule(findings: Iterable[Finding]) -> Mapping[str, tuple[Finding, ...]]:
    """Findings grouped by rule id, rule ids sorted; for the ``gateway validate`` report."""
    groups: dict[str, list[Finding]] = {}
    for finding in findings:
        groups.setdefault(finding.rule_id, []).append(finding)
    return {rule_id: tuple(groups[rule_id]) for rule_id in sorted(groups)}


def rule_violation(findings: Iterable[Finding]) -> RuleViolationError:
    """The DLQ error for a record with ERROR findings, carrying their rule ids and legal references.

    Rule ids and references are de-duplicated in order of first appearance so DLQ headers stay short.
    """
    errs = errors(findings)
    rule_ids = tuple(dict.fromkeys(f.rule_id for f in errs))
    references = tuple(dict.fromkeys(f.legal_reference for f in errs))
    message = "; ".join(f"{f.rule_id} {f.path}: {f.message}" for f in errs) or "no rule violated"
    return RuleViolationError(message, rule_ids=rule_ids, legal_references=references)
