"""The pipeline's validation stage: the rule engine plus the case state it needs, per record.

``RuleStage`` is what ``gateway.pipeline.wiring.build_validation`` builds. It keeps one ``CaseState`` per
``(member_state, case_reference)`` in memory and folds a record's events into it only when the record has no
ERROR finding, so a record sent to the dead-letter queue leaves the state as it was. The state lives as long as
the stage (one ingest run); a long-running deployment that must remember cases across restarts replays the
accepted events of the canonical topic through :meth:`RuleStage.remember` at start-up.
"""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

from gateway.events.models import CaseEvent, MemberState
from gateway.pipeline.processor import Verdict
from gateway.validation.config import ValidationConfig, load_config
from gateway.validation.engine import ValidationEngine
from gateway.validation.findings import Finding, apply_warnings, errors
from gateway.validation.metrics import FindingCounter
from gateway.validation.programmes import load_programmes
from gateway.validation.state import CaseState, fold

CaseKey = tuple[MemberState, str]
Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    """The wall clock, in UTC; the stage's default clock. Rules never call it: the stage passes ``now`` in."""
    return dt.datetime.now(dt.UTC)


class RuleStage:
    """Validates the events of each record against the rules, with the case state cross-event rules read.

    Attributes:
        engine: The rule engine.
        metrics: Findings counted by rule, severity and connector.
    """

    def __init__(self, engine: ValidationEngine, *, clock: Clock = utc_now, max_cases: int = 200_000) -> None:
        """Build the stage around an engine.

        Args:
            engine: The rule engine.
            clock: Supplies ``now`` once per record.
            max_cases: Case states kept; beyond it the least recently seen case is forgotten, so a long-running
                service does not grow without bound. A forgotten case is judged as one without history, which the
                state-dependent rules treat leniently (see docs/rules.md).
        """
        self.engine = engine
        self.metrics = FindingCounter()
        self._clock = clock
        self._max_cases = max_cases
        self._states: OrderedDict[CaseKey, CaseState] = OrderedDict()

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

    def state_of(self, member_state: MemberState, case_reference: str) -> CaseState:
        """The current state of a case (``CaseState()`` if it has seen no accepted event)."""
        return self._states.get((member_state, case_reference), CaseState())

    @property
    def states(self) -> Mapping[CaseKey, CaseState]:
        """A read-only view of every case's state."""
        return dict(self._states)

    def remember(self, events: Iterable[CaseEvent]) -> None:
        """Fold already accepted events into the case states, e.g. when replaying the canonical topic."""
        for event in events:
            key = (event.member_state, event.case_reference)
            self._states[key] = fold(self._states.get(key, CaseState()), event)

    def check(self, events: Sequence[CaseEvent]) -> Verdict:
        """Validate the events of one record, in order; remember them only if none has an ERROR finding.

        Events of one record may build on each other (a decision then its extension), so each is validated
        against the state its predecessors in the record would leave.
        """
        now = self._clock()
        pending: dict[CaseKey, CaseState] = {}
        checked: list[CaseEvent] = []
        findings: list[Finding] = []
        for event in events:
            key = (event.member_state, event.case_reference)
            state = pending[key] if key in pending else self._states.get(key, CaseState())
            found = self.engine.validate(event, state, now)
            if found:
                self.metrics.add(event.source.connector, found)
                findings.extend(found)
            # apply_warnings also clears warnings left by an earlier validation of a replayed event.
            checked.append(apply_warnings(event, found) if found or event.validation_warnings else event)
            pending[key] = fold(state, event)
        if not errors(findings):
            for key, state in pending.items():
                self._states[key] = state
                self._states.move_to_end(key)
            while len(self._states) > self._max_cases:
                self._states.popitem(last=False)
        return Verdict(tuple(checked), tuple(f.to_avro() for f in findings))
