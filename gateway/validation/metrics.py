"""Counts of findings by rule id, severity and connector, for the pipeline's metrics.

The counter belongs to whoever creates it (one per pipeline, one per test); the engine never holds one, so
validation stays a pure function and there is no process-wide state.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping

from gateway.validation.findings import Finding


class FindingCounter:
    """Counts findings per (rule id, severity, connector).

    Example:
        >>> counter = FindingCounter()
        >>> counter.add("nl-indigo", findings)  # doctest: +SKIP
        >>> counter.by_rule()  # doctest: +SKIP
    """

    __slots__ = ("_counts",)

    def __init__(self) -> None:
        self._counts: Counter[tuple[str, str, str]] = Counter()

    def add(self, connector: str, findings: Iterable[Finding]) -> None:
        """Count the findings of one event produced by ``connector``."""
        for f in findings:
            self._counts[(f.rule_id, str(f.severity), connector)] += 1

    def by_rule(self) -> Mapping[str, int]:
        """Findings per rule id, all connectors together."""
        out: Counter[str] = Counter()
        for (rule_id, _, _), n in self._counts.items():
            out[rule_id] += n
        return dict(sorted(out.items()))

    def by_connector(self) -> Mapping[str, int]:
        """Findings per connector, all rules together."""
        out: Counter[str] = Counter()
        for (_, _, connector), n in self._counts.items():
            out[connector] += n
        return dict(sorted(out.items()))

    def snapshot(self) -> Mapping[tuple[str, str, str], int]:
        """An immutable copy of the counts keyed by (rule id, severity, connector), e.g. for a metrics exporter."""
        return dict(sorted(self._counts.items()))

    def total(self) -> int:
        """All findings counted."""
        return sum(self._counts.values())
