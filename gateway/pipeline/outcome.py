"""What processing one raw record yields: its encoded events, or one dead letter. Never both, never neither.

``DeadLetter`` is defined in ``gateway.dlq`` (below the pipeline) and re-exported here.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.connectors.base import RawRecord
from gateway.dlq import DeadLetter
from gateway.events.models import ValidationFinding

__all__ = ["DeadLetter", "EncodedEvent", "Outcome"]


@dataclass(frozen=True, slots=True)
class EncodedEvent:
    """An event ready for the canonical topic.

    Attributes:
        key: Message key (the pseudonymous subject key), so one person's events keep their order.
        value: Encoded event.
        event_type: Event type symbol, for counting.
        warnings: Warning findings the event carries.
    """

    key: bytes
    value: bytes
    event_type: str
    warnings: tuple[ValidationFinding, ...] = ()


@dataclass(frozen=True, slots=True)
class Outcome:
    """The result for one record: ``events`` when it succeeded, ``dead_letter`` when it did not.

    Attributes:
        record: The record processed.
        events: Encoded events (empty on failure).
        dead_letter: The dead letter (None on success).
        findings: Every validation finding, warnings and errors, for reports and metrics.
    """

    record: RawRecord
    events: tuple[EncodedEvent, ...] = ()
    dead_letter: DeadLetter | None = None
    findings: tuple[ValidationFinding, ...] = ()

    @property
    def ok(self) -> bool:
        """Whether the record became events."""
        return self.dead_letter is None
