"""The pipeline's validation stage: the rule engine plus the case state it needs, per record.

``RuleStage`` is what ``gateway.pipeline.wiring.build_validation`` builds. It reads and writes one ``CaseState`` per
``(member_state, case_reference)`` through the `CaseStates` it is handed with each record, and folds a record's
events into them only when the record has no ERROR finding, so a record sent to the dead-letter queue leaves the
states as they were. The stage itself holds no case state: in service mode and file ingest the states live in the
state runtime's stores (on disk, restored from their changelogs after a restart or when a partition
moves), so a restarted process judges a case with the history an uninterrupted one would have.

`Verdict` and the `ValidationStage` protocol are defined here, in the validation layer, and the pipeline imports
them: the validation layer never imports the pipeline.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from gateway.events.models import CaseEvent, Severity, ValidationFinding
from gateway.validation.config import ValidationConfig, load_config
from gateway.validation.engine import ValidationEngine
from gateway.validation.findings import Finding, apply_warnings, errors
from gateway.validation.metrics import FindingCounter
from gateway.validation.programmes import load_programmes
from gateway.validation.state import CaseKey, CaseState, CaseStates, fold

Clock = Callable[[], dt.datetime]


@dataclass(frozen=True, slots=True)
class Verdict:
    """The validation stage's answer for the events of one record.

    Attributes:
        events: The events, each carrying its warnings.
        findings: All findings; any of severity ERROR sends the record to the dead-letter queue.
    """

    events: tuple[CaseEvent, ...]
    findings: tuple[ValidationFinding, ...] = ()

    @property
    def errors(self) -> tuple[ValidationFinding, ...]:
        """Findings of severity ERROR."""
        return tuple(f for f in self.findings if f.severity == Severity.ERROR)


class ValidationStage(Protocol):
    """Validates the events of one record against the case states cross-event rules read."""

    def check(self, events: Sequence[CaseEvent], states: CaseStates) -> Verdict:
        """Validate the events of one record; write their cases' states to ``states`` only if none has an error."""
        ...


def utc_now() -> dt.datetime:
    """The wall clock, in UTC; the stage's default clock. Rules never call it: the stage passes ``now`` in."""
    return dt.datetime.now(dt.UTC)


class RuleStage:
    """Validates the events of each record against the rules, with the case states cross-event rules read.

    Attributes:
        engine: The rule engine.
        metrics: Findings counted by rule, severity and connector.
    """

    def __init__(self, engine: ValidationEngine, *, clock: Clock = utc_now) -> None:
        """Build the stage around an engine.

        Args:
            engine: The rule engine.
            clock: Supplies ``now`` once per record.
        """
        self.engine = engine
        self.metrics = FindingCounter()
        self._clock = clock

    @classmethod
    def from_config_file(cls, path: Path | None, *, clock: Clock = utc_now) -> RuleStage:
        """The stage for a validation configuration file (defaults when None), with its programme catalogue.

        Raises:
            ConfigError: The configuration or the programme catalogue is invalid.
        """
        config = load_config(path) if path is not None else ValidationConfig()
        catalogue = config.programme_catalogue
        programmes = load_programmes(catalogue) if catalogue is not None else None
        return cls(ValidationEngine(config, programmes), clock=clock)

    def check(self, events: Sequence[CaseEvent], states: CaseStates) -> Verdict:
        """Validate the events of one record, in order; write their cases' states only if none has an ERROR finding.

        Events of one record may build on each other (a decision then its extension), so each is validated
        against the state its predecessors in the record would leave.

        Args:
            events: The events of one record.
            states: Where the case states are read and, for an accepted record, written.
        """
        now = self._clock()
        if len(events) == 1:
            return self._check_one(events[0], states, now)
        first: dict[CaseKey, CaseState] = {}
        pending: dict[CaseKey, CaseState] = {}
        checked: list[CaseEvent] = []
        findings: list[Finding] = []
        for event in events:
            key = (event.member_state, event.case_reference)
            if key in pending:
                state = pending[key]
            else:
                stored = states.get(key)
                state = first[key] = CaseState() if stored is None else stored
            found = self.engine.validate(event, state, now)
            if found:
                self.metrics.add(event.source.connector, found)
                findings.extend(found)
            # apply_warnings also clears warnings left by an earlier validation of a replayed event.
            checked.append(apply_warnings(event, found) if found or event.validation_warnings else event)
            pending[key] = fold(state, event)
        if not errors(findings):
            for key, state in pending.items():
                # Events that change nothing (fold returns the state itself) cost no write, nor a changelog record.
                if state is not first[key]:
                    states.put(key, state)
        return Verdict(tuple(checked), tuple(f.to_avro() for f in findings))

    def _check_one(self, event: CaseEvent, states: CaseStates, now: dt.datetime) -> Verdict:
        """`check` for a record of one event (nearly all of them), without the bookkeeping of several."""
        key = (event.member_state, event.case_reference)
        stored = states.get(key)
        state = CaseState() if stored is None else stored
        found = self.engine.validate(event, state, now)
        folded = fold(state, event)
        if not found:
            if folded is not state:
                states.put(key, folded)
            return Verdict((apply_warnings(event, found) if event.validation_warnings else event,))
        self.metrics.add(event.source.connector, found)
        if not errors(found) and folded is not state:
            states.put(key, folded)
        return Verdict((apply_warnings(event, found),), tuple(f.to_avro() for f in found))
