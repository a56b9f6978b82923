"""Per-record reports of a dry run (``gateway validate``), with findings grouped by rule."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from gateway.events.models import Severity
from gateway.pipeline.outcome import Outcome


@dataclass(frozen=True, slots=True)
class RecordReport:
    """What happened to one record.

    Attributes:
        index: Ordinal of the record in its source.
        position: Where it is in the source.
        ok: Whether it became events.
        events: Event types it became.
        stage: Stage that rejected it, if it was rejected.
        error: Why it was rejected.
        rule_ids: Error rules that rejected it.
        warnings: Warning rules that fired on its events.
        findings: Every finding on the record as ``(rule id, severity, path)``.
    """

    index: int
    position: str
    ok: bool
    events: tuple[str, ...] = ()
    stage: str | None = None
    error: str | None = None
    rule_ids: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    findings: tuple[tuple[str, str, str], ...] = ()


@dataclass(slots=True)
class RuleCount:
    """How often one rule fired.

    Attributes:
        rule_id: The rule.
        severity: ERROR or WARNING.
        legal_reference: Its legal reference.
        count: Number of findings.
        records: Indexes of the first records it fired on (at most 20).
    """

    rule_id: str
    severity: str
    legal_reference: str
    count: int = 0
    records: list[int] = field(default_factory=list)


@dataclass(slots=True)
class DryRunReport:
    """The report of a dry run over one source.

    Attributes:
        source: File the records came from.
        connector: Connector that read it.
        records: Records read.
        events: Events they became.
        dead_letters: Records that would go to the dead-letter queue.
        by_stage: Dead letters by stage.
        by_rule: Findings grouped by rule.
        items: One report per record.
    """

    source: str
    connector: str
    records: int = 0
    events: int = 0
    dead_letters: int = 0
    by_stage: dict[str, int] = field(default_factory=dict)
    by_rule: dict[str, RuleCount] = field(default_factory=dict)
    items: list[RecordReport] = field(default_factory=list)

    def add(self, outcome: Outcome) -> None:
        """Account for one record's outcome."""
        rec = outcome.record
        self.records += 1
        for f in outcome.findings:
            rc = self.by_rule.setdefault(f.rule_id, RuleCount(f.rule_id, str(f.severity), f.legal_reference))
            rc.count += 1
            if len(rc.records) < 20 and (not rc.records or rc.records[-1] != rec.index):
                rc.records.append(rec.index)
        warnings = tuple(dict.fromkeys(f.rule_id for f in outcome.findings if f.severity == Severity.WARNING))
        detail = tuple((f.rule_id, str(f.severity), f.path) for f in outcome.findings)
        dead = outcome.dead_letter
        if dead is None:
            self.events += len(outcome.events)
            self.items.append(
                RecordReport(
                    rec.index,
                    rec.position,
                    True,
                    tuple(e.event_type for e in outcome.events),
                    warnings=warnings,
                    findings=detail,
                )
            )
        else:
            self.dead_letters += 1
            self.by_stage[dead.stage] = self.by_stage.get(dead.stage, 0) + 1
            self.items.append(
                RecordReport(
                    rec.index, rec.position, False, (), dead.stage, dead.message, dead.rule_ids, warnings, detail
                )
            )

    def add_all(self, outcomes: Iterable[Outcome]) -> DryRunReport:
        """Account for many outcomes; return self."""
        for o in outcomes:
            self.add(o)
        return self

    @property
    def balanced(self) -> bool:
        """Every record either became events or a dead letter."""
        return self.records == sum(1 for i in self.items if i.ok) + self.dead_letters

    def to_dict(self) -> dict[str, Any]:
        """The report as plain data (for JSON)."""
        return asdict(self)
