"""Exactly-once ingestion of export files into the canonical topic and the connector's dead-letter queue.

Records are processed in batches; each batch's events, dead letters and the file's progress record commit in
one Kafka transaction. Any failure of the broker aborts the open batch; the ingest then waits for the broker
(the retry policy), fences its predecessor, reads the committed progress and resumes after the last committed
record. A crash of the process does the same on the next start. Records in = events out + dead letters.

With the rules on, the case states live in the state runtime (``gateway.state``): store ``cases`` of application
``<progress topic>.<connector>``, one SQLite file under ``state_dir`` and a changelog topic of one partition,
``<application>.cases.changelog``. A batch's state changes commit in its transaction, before its progress record,
so a resumed ingest judges each record against the states of exactly the records before it, across files too: the
store is the connector's, not the file's. Hence two ingests of one connector must not run at once: a lock file in
``state_dir`` stops a second one on the same machine (``IngestLockedError``); run a connector's ingests on one
machine, or one at a time.
"""

from __future__ import annotations

import fcntl
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from confluent_kafka import TopicPartition
from confluent_kafka.admin import AdminClient

from gateway.config import GatewaySettings
from gateway.connectors.base import Connector, RawRecord
from gateway.dlq.headers import dead_letter_headers
from gateway.errors import FatalError, TransientError
from gateway.events.headers import EVENT_TYPE_HEADER
from gateway.kafka.producer import OutboundMessage
from gateway.kafka.retry import KafkaFatalError, RetrySettings, retrying
from gateway.kafka.settings import TransactionSettings
from gateway.kafka.transactions import AbortableTransactionError, TransactionalProducer
from gateway.pipeline.outcome import DeadLetter, Outcome
from gateway.pipeline.processor import BATCH_RECORDS, RecordProcessor
from gateway.pipeline.progress import Progress, file_identity, progress_message, read_progress
from gateway.pipeline.wiring import build_processor
from gateway.state import StateRuntime, StateSettings
from gateway.validation.state_codec import StoredCaseStates, case_state_codec

CASES_STORE = "cases"
"""The store of the case states, in ingest and service mode alike."""


class IngestStoppedError(FatalError):
    """A record failed and the connector's error tolerance is ``none``: ingestion stopped before it.

    Attributes:
        dead_letter: Why the record failed (it was not dead-lettered; it stays in the file).
    """

    def __init__(self, dead_letter: DeadLetter) -> None:
        super().__init__(
            f"{dead_letter.record.position}: {dead_letter.stage} failed ({dead_letter.message}); "
            "errors_tolerance is 'none', so ingestion stopped before this record"
        )
        self.dead_letter = dead_letter


class IngestLockedError(FatalError):
    """Another ingest of the same connector holds the case store on this machine; nothing was ingested."""


def ingest_application(connector: str, settings: GatewaySettings) -> str:
    """The state runtime's application of a connector's file ingests: ``<progress topic>.<connector>``.

    Named after the progress topic, the ingest's other durable state, so that two deployments on one cluster (each
    with its own progress topic) keep their case states apart as they keep their progress.
    """
    return f"{settings.topics.progress}.{connector}"


@contextmanager
def _exclusive(path: Path, connector: str) -> Iterator[None]:
    """Hold an advisory lock on ``path`` (the OS drops it if the process dies), or fail at once."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+b") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise IngestLockedError(f"another ingest of {connector} is running (it holds {path})") from None
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


@dataclass(slots=True)
class IngestSummary:
    """What one file's ingest did.

    Attributes:
        file: The file.
        file_id: Its identity on the progress topic.
        records: Records of the file accounted for in total (including earlier runs).
        events: Events produced in total.
        dead_letters: Dead letters produced in total.
        resumed_at: Records already committed by an earlier run when this one started.
        already_complete: The file had been ingested completely before.
        attempts: Attempts needed (more than 1 after a broker outage).
        seconds: Time this run took.
        event_types: Events produced by this run, by type.
        dead_letter_stages: Dead letters produced by this run, by stage.
        rule_findings: Validation findings of this run, by rule id.
    """

    file: str
    file_id: str
    records: int = 0
    events: int = 0
    dead_letters: int = 0
    resumed_at: int = 0
    already_complete: bool = False
    attempts: int = 0
    seconds: float = 0.0
    event_types: Counter[str] = field(default_factory=Counter)
    dead_letter_stages: Counter[str] = field(default_factory=Counter)
    rule_findings: Counter[str] = field(default_factory=Counter)

    def to_dict(self) -> dict[str, Any]:
        """The summary as plain data (``dataclasses.asdict`` would rebuild the counters from their items)."""
        out = {f: getattr(self, f) for f in self.__dataclass_fields__}
        for name in ("event_types", "dead_letter_stages", "rule_findings"):
            out[name] = dict(out[name])
        return out


class FileIngestor:
    """Ingests files for one connector, exactly once.

    Args:
        connector: The connector that reads the files.
        settings: Gateway settings (Kafka, topics, batch size).
        retry: How long to wait for the broker when it is unavailable.
        on_record: Called after each record with the count so far (progress bars).
        batch_seconds: Longest time a batch stays open.
    """

    def __init__(
        self,
        connector: Connector[Any],
        settings: GatewaySettings,
        *,
        retry: RetrySettings | None = None,
        on_record: Callable[[int], None] | None = None,
        batch_seconds: float = 1.0,
    ) -> None:
        self.connector = connector
        self.settings = settings
        self.retry = retry or RetrySettings(max_attempts=1_000, deadline_s=600.0, max_delay_s=5.0)
        self.on_record = on_record
        self.batch_seconds = batch_seconds
        self.dlq_topic = settings.topics.dlq(connector.name)
        self.application = ingest_application(connector.name, settings)
        self._codec = case_state_codec() if settings.rules_enabled else None

    def ingest(self, path: Path) -> IngestSummary:
        """Ingest one file, resuming after what earlier runs committed; wait out broker outages.

        Raises:
            IngestLockedError: Another ingest of the connector runs on this machine.
            IngestStoppedError: A record failed under ``errors_tolerance = "none"``.
            TransientError: The broker stayed away longer than the retry policy waits.
        """
        file_id = file_identity(self.connector.name, path)
        summary = IngestSummary(file=str(path), file_id=file_id)
        started = time.monotonic()
        with self._state() as runtime:
            for attempt in retrying(self.retry):
                with attempt:
                    summary.attempts += 1
                    self._attempt(path, summary, runtime)
        summary.seconds = time.monotonic() - started
        return summary

    @contextmanager
    def _state(self) -> Iterator[StateRuntime | None]:
        """The case store's runtime (None with the rules off), held exclusively on this machine."""
        if self._codec is None:
            yield None
            return
        settings = self.settings
        with _exclusive(settings.state_dir / f"{self.application}.lock", self.connector.name):
            state = StateSettings(
                directory=settings.state_dir,
                application=self.application,
                stores=(CASES_STORE,),
                replication_factor=settings.topics.replication_factor,
            )
            runtime = StateRuntime(settings.kafka, state)
            try:
                yield runtime
            finally:
                runtime.close()

    def _transaction_settings(self, file_id: str) -> TransactionSettings:
        # One transactional id per file: a restarted ingest of the same file fences its crashed predecessor,
        # while ingests of different files run side by side.
        suffix = uuid.uuid5(uuid.NAMESPACE_URL, file_id).hex[:16]
        return TransactionSettings(transactional_id=f"gateway-ingest-{self.connector.name}-{suffix}")

    def _attempt(self, path: Path, summary: IngestSummary, runtime: StateRuntime | None) -> None:
        settings = self.settings
        if runtime is not None:
            runtime.ensure_changelogs(AdminClient(dict(settings.kafka.to_librdkafka())), 1)
        producer = TransactionalProducer(settings.kafka, self._transaction_settings(summary.file_id), settings.producer)
        try:
            producer.init_transactions()
            prior = read_progress(settings.kafka, settings.topics.progress).get(summary.file_id, Progress())
            summary.resumed_at = prior.records
            summary.records, summary.events, summary.dead_letters = prior.records, prior.events, prior.dead_letters
            if prior.complete:
                summary.already_complete = True
                return
            states: StoredCaseStates | None = None
            if runtime is not None and self._codec is not None:
                # After init_transactions, which aborted what a fenced predecessor left open: the restore then
                # reads the changelog to its end rather than stopping at that transaction.
                runtime.assigned([TopicPartition(runtime.changelog(CASES_STORE), 0)])
                # One per attempt: an aborted batch ends the attempt, so its unflushed states are dropped with it.
                states = StoredCaseStates(runtime.store(CASES_STORE, 0), self._codec)
            correlation = prior.correlation_id or f"ingest:{uuid.uuid4()}"
            processor = build_processor(self.connector, settings, correlation_id=correlation)
            _Run(self, producer, processor, summary, correlation, runtime, states).through(path, prior.records)
        except (AbortableTransactionError, KafkaFatalError) as exc:
            # The batch is lost, not its records: the next attempt resumes from the committed progress.
            raise TransientError(f"transaction failed, resuming from committed progress: {exc}") from exc
        finally:
            if runtime is not None:
                # Rolls back what did not commit. The next attempt opens the store again and restores it from the
                # changelog, which also brings in a batch whose commit succeeded although its call failed.
                runtime.aborted()
                runtime.close()
            producer.discard()


class _Run:
    """One attempt's pass over a file: batching, producing, committing."""

    def __init__(
        self,
        ingestor: FileIngestor,
        producer: TransactionalProducer,
        processor: RecordProcessor,
        summary: IngestSummary,
        correlation: str,
        runtime: StateRuntime | None,
        states: StoredCaseStates | None,
    ) -> None:
        self.ingestor, self.producer, self.processor = ingestor, producer, processor
        self.summary, self.correlation = summary, correlation
        self.runtime, self.states = runtime, states
        self.topics = ingestor.settings.topics
        self.tolerance = ingestor.connector.config.errors_tolerance
        self.connector_class = f"{type(ingestor.connector).__module__}.{type(ingestor.connector).__qualname__}"
        self.in_batch = 0
        self.opened = 0.0

    def through(self, path: Path, skip: int) -> None:
        connector = self.ingestor.connector
        batch_size = self.ingestor.settings.batch_size
        strict = self.tolerance == "none"
        with path.open("rb") as stream:
            pending: Iterator[RawRecord] = (r for r in connector.read(stream, str(path)) if r.index >= skip)
            # Chunks never straddle a commit: the case states a chunk wrote must commit with its records' outputs.
            while chunk := list(islice(pending, min(BATCH_RECORDS, batch_size - self.in_batch))):
                # With tolerance none, the records after the first dead letter are not validated (nor folded).
                for outcome in self.processor.process_batch(chunk, states=self.states, until_dead_letter=strict):
                    if outcome.dead_letter is not None and strict:
                        self.commit(complete=False)
                        raise IngestStoppedError(outcome.dead_letter)
                    self.add(outcome)
                if self.in_batch >= batch_size or time.monotonic() - self.opened >= self.ingestor.batch_seconds:
                    self.commit(complete=False)
        self.commit(complete=True)

    def add(self, outcome: Outcome) -> None:
        if self.in_batch == 0:
            self.begin()
        s = self.summary
        if outcome.dead_letter is None:
            for e in outcome.events:
                self.producer.send(
                    OutboundMessage(
                        self.topics.canonical, e.key, e.value, ((EVENT_TYPE_HEADER, e.event_type.encode()),)
                    )
                )
                s.event_types[e.event_type] += 1
            s.events += len(outcome.events)
        else:
            dead = outcome.dead_letter
            headers = dead_letter_headers(
                dead,
                connector=self.ingestor.connector.name,
                connector_class=self.connector_class,
                correlation_id=self.correlation,
            )
            self.producer.send(
                OutboundMessage(self.ingestor.dlq_topic, dead.record.source.encode(), dead.record.data, tuple(headers))
            )
            s.dead_letters += 1
            s.dead_letter_stages[dead.stage] += 1
        for f in outcome.findings:
            s.rule_findings[f.rule_id] += 1
        s.records += 1
        self.in_batch += 1
        if self.ingestor.on_record is not None:
            self.ingestor.on_record(s.records)

    def begin(self) -> None:
        self.producer.begin()
        self.producer.take_delivered_offsets()  # offsets of earlier transactions say nothing about this one
        self.opened = time.monotonic()

    def commit(self, *, complete: bool) -> None:
        if self.in_batch == 0:
            if not complete:
                return
            self.begin()
        s = self.summary
        if self.states is not None:
            self.states.flush()  # the batch's state changes become store writes, hence changelog records
        if self.runtime is not None:
            for change in self.runtime.changes():
                self.producer.send(change)
        progress = Progress(s.records, s.events, s.dead_letters, complete, self.correlation)
        self.producer.send(progress_message(self.topics.progress, s.file_id, progress))
        self.producer.commit()
        self.in_batch = 0
        if self.runtime is not None:
            self.producer.poll(0)  # commit flushed every message; serve the reports that carry their offsets
            self.runtime.committed(self.producer.take_delivered_offsets())
