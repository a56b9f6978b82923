"""Processing raw records: translate (parse, map) → validate → encode, with every failure a dead letter.

The processor is pure apart from the validation stage's case state; it does no I/O, so the whole path is
testable without a broker. The framework owns this sequence; connectors only supply the hooks it calls.
"""

from __future__ import annotations

import linecache
import traceback
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from itertools import islice
from typing import Any, Protocol

from gateway.codec.codec import EventCodec
from gateway.connectors.base import Connector, MappingContext, RawRecord
from gateway.errors import RecordError
from gateway.events.models import CaseEvent, Severity, ValidationFinding
from gateway.pipeline.outcome import DeadLetter, EncodedEvent, Outcome

# Records a stream is processed in at a time: enough to keep each stage's code and data in the CPU caches, few
# enough that the records and their events are a few hundred kilobytes.
BATCH_RECORDS = 256


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
    """Validates the events of one record; keeps whatever case state cross-event rules need."""

    def check(self, events: Sequence[CaseEvent]) -> Verdict:
        """Validate the events of one record (and remember them only if none has an error)."""
        ...


class SchemaOnly:
    """The validation stage when no rule engine is configured: Avro schema validity is checked at encoding."""

    def check(self, events: Sequence[CaseEvent]) -> Verdict:
        """Accept the events as they are."""
        return Verdict(tuple(events))


def stacktrace(exc: BaseException, limit: int = 4) -> str:
    """A short traceback: the outermost ``limit`` frames and the exception, in ``traceback``'s format.

    Formatted by hand from the traceback's frames: ``traceback.format_exception`` on Python 3.11 parses each
    frame's source line to place its ``^^^`` markers, and even ``traceback.extract_tb`` computes column positions
    and stats every source file, together about 120 µs a dead letter against 15 µs here.
    """
    lines = ["Traceback (most recent call last):\n"]
    tb = exc.__traceback__
    while tb is not None and limit > 0:
        code = tb.tb_frame.f_code
        lines.append(f'  File "{code.co_filename}", line {tb.tb_lineno}, in {code.co_name}\n')
        source = linecache.getline(code.co_filename, tb.tb_lineno).strip()
        if source:
            lines.append(f"    {source}\n")
        tb, limit = tb.tb_next, limit - 1
    lines.extend(traceback.format_exception_only(exc))
    return "".join(lines)


def _dead_letter(record: RawRecord, stage: str, exc: BaseException, **extra: Any) -> DeadLetter:
    cls = type(exc)
    trace = stacktrace(exc)
    return DeadLetter(
        record=record,
        stage=stage,
        error_class=f"{cls.__module__}.{cls.__qualname__}",
        message=str(exc) or cls.__name__,
        stacktrace=trace[-4000:],
        **extra,
    )


class RecordProcessor:
    """Turns raw records into outcomes for one connector.

    Args:
        connector: The connector whose hooks parse and map records.
        context: Envelope context (member state, correlation id, pseudonymiser).
        codec: Event codec.
        validation: Validation stage; defaults to schema validity only.
        topic: Canonical topic name, for registry framing.
    """

    def __init__(
        self,
        connector: Connector[Any],
        context: MappingContext,
        codec: EventCodec,
        validation: ValidationStage | None = None,
        topic: str = "",
    ) -> None:
        self.connector = connector
        self.context = context
        self.codec = codec
        self.validation = validation or SchemaOnly()
        self.topic = topic

    def process(self, record: RawRecord, *, correlation_id: str | None = None) -> Outcome:
        """Process one record; a record error becomes a dead letter, a bug propagates.

        Args:
            record: The raw record.
            correlation_id: Overrides the run's correlation id for this record (replays carry their origin).
        """
        context = self.context if correlation_id is None else replace(self.context, correlation_id=correlation_id)
        translated = self._translate(record, context)
        if isinstance(translated, Outcome):
            return translated
        verdict = self._validate(record, translated)
        if isinstance(verdict, Outcome):
            return verdict
        return self._encode(record, verdict)

    def process_batch(
        self, records: Sequence[RawRecord], correlation_ids: Sequence[str | None] | None = None
    ) -> list[Outcome]:
        """Process records in order: the same outcomes as ``process`` on each in turn.

        The stages run one after the other over the whole batch rather than record by record: a stage's code and
        data then stay in the CPU caches, which measured about 20 % faster end to end. Validation still sees the
        records in order, so cross-record rules judge each against the state its predecessors left.

        Args:
            records: The raw records, in source order.
            correlation_ids: Per record, an override of the run's correlation id, or None (see ``process``).
        """
        if correlation_ids is None:
            contexts: Sequence[MappingContext] = (self.context,) * len(records)
        else:
            contexts = [self.context if c is None else replace(self.context, correlation_id=c) for c in correlation_ids]
        translated = [self._translate(r, c) for r, c in zip(records, contexts, strict=True)]
        checked = [
            t if isinstance(t, Outcome) else self._validate(r, t) for r, t in zip(records, translated, strict=True)
        ]
        return [c if isinstance(c, Outcome) else self._encode(r, c) for r, c in zip(records, checked, strict=True)]

    def process_stream(self, records: Iterable[RawRecord], batch: int = BATCH_RECORDS) -> Iterator[Outcome]:
        """Outcomes of a stream of records, in order, computed ``batch`` records at a time (``process_batch``).

        Lazy: a caller that stops early (a record it must not pass) leaves the rest of the stream unread.
        """
        pending = iter(records)
        while chunk := list(islice(pending, batch)):
            yield from self.process_batch(chunk)

    def _translate(self, record: RawRecord, context: MappingContext) -> list[CaseEvent] | Outcome:
        try:
            return self.connector.translate(record, context)
        except RecordError as exc:
            stage = "read" if record.error is exc else exc.stage
            return Outcome(record, dead_letter=_dead_letter(record, stage, exc))

    def _validate(self, record: RawRecord, events: list[CaseEvent]) -> Verdict | Outcome:
        verdict = self.validation.check(events)
        errors = verdict.errors
        if not errors:
            return verdict
        message = "; ".join(f"{f.rule_id} {f.path}: {f.message}" for f in errors)
        dead = DeadLetter(
            record=record,
            stage="validate",
            error_class="gateway.errors.RuleViolationError",
            message=message,
            rule_ids=tuple(dict.fromkeys(f.rule_id for f in errors)),
            legal_references=tuple(dict.fromkeys(f.legal_reference for f in errors)),
        )
        return Outcome(record, dead_letter=dead, findings=verdict.findings)

    def _encode(self, record: RawRecord, verdict: Verdict) -> Outcome:
        try:
            encoded = tuple(
                EncodedEvent(
                    key=e.subject_key.encode(),
                    value=self.codec.encode(e, self.topic),
                    event_type=str(e.event_type),
                    warnings=e.validation_warnings,
                )
                for e in verdict.events
            )
        except RecordError as exc:
            return Outcome(record, dead_letter=_dead_letter(record, exc.stage, exc), findings=verdict.findings)
        return Outcome(record, events=encoded, findings=verdict.findings)
