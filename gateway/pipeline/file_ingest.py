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
from gateway.errors import FatalError, TransientError
from gateway.kafka.producer import OutboundMessage
from gateway.kafka.retry import KafkaFatalError, RetrySettings, retrying
from gateway.kafka.settings import TransactionSettings
from gateway.kafka.transactions import AbortableTransactionError, TransactionalProducer
from gateway.observability import Observation, correlation_scope
from gateway.pipeline.case_states import StoredCaseStates, case_state_codec
from gateway.pipeline.outcome import Outcome
from gateway.pipeline.processor import BATCH_RECORDS, RecordProcessor
from gateway.pipeline.progress import Progress, file_identity, progress_message, read_progress
from gateway.pipeline.router import IngestStoppedError, Routing, dlq_message_limit, route, tally
from gateway.pipeline.wiring import build_processor
from gateway.state import StateRuntime, StateSettings

CASES_STORE = "cases"
"""The store of the case states, in ingest and service mode alike."""


class IngestLockedError(FatalError):
    """Another ingest of the same connector holds the case store on this machine; nothing was ingested."""


def ingest_application(connector: str, settings: GatewaySettings) -> str:
    """The state runtime's application of a connector's file ingests: ``<progress topic>.<connector>``.

    Named after the progress topic, the ingest's other durable state, so that two deployments on one cluster (each
    with its own progress topic) keep their case states apart as they keep their progress.
    """
    return f"{settings.topics.progress}.{connector}"


def ingest_transactional_id(connector: str, application: str, file_id: str) -> str:
    """The transactional id of one file's ingest in one deployment.

    One id per deployment and file: a restarted ingest of the same file in the same deployment fences its crashed
    predecessor and resumes, ingests of different files run side by side, and two deployments on one cluster (each
    with its own progress topic, hence its own ``application``, as service mode has its own group) ingesting files
    of the same name and content do not fence each other.

    Args:
        connector: The connector's name, kept readable in the id.
        application: The deployment's ingest application (`ingest_application`).
        file_id: The file's identity (`gateway.pipeline.progress.file_identity`).
    """
    suffix = uuid.uuid5(uuid.NAMESPACE_URL, f"{application}|{file_id}").hex[:16]
    return f"gateway-ingest-{connector}-{suffix}"


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
class RunCounts:
    """What one run committed: records, events and dead letters, with their breakdowns, all over the same records.

    Attributes:
        records: Records this run accounted for.
        events: Events they became.
        dead_letters: Dead letters they became.
        event_types: The events, by type.
        dead_letter_stages: The dead letters, by stage.
        rule_findings: Validation findings on these records, by rule id.
    """

    records: int = 0
    events: int = 0
    dead_letters: int = 0
    event_types: Counter[str] = field(default_factory=Counter)
    dead_letter_stages: Counter[str] = field(default_factory=Counter)
    rule_findings: Counter[str] = field(default_factory=Counter)

    def copy(self) -> RunCounts:
        """An independent copy (the counters copied too)."""
        return RunCounts(
            self.records,
            self.events,
            self.dead_letters,
            Counter(self.event_types),
            Counter(self.dead_letter_stages),
            Counter(self.rule_findings),
        )

    def to_dict(self) -> dict[str, Any]:
        """The counts as plain data."""
        return {
            "records": self.records,
            "events": self.events,
            "dead_letters": self.dead_letters,
            "event_types": dict(self.event_types),
            "dead_letter_stages": dict(self.dead_letter_stages),
            "rule_findings": dict(self.rule_findings),
        }


@dataclass(slots=True)
class IngestSummary:
    """What one file's ingest did: the file's committed totals, and apart from them what this run committed.

    The totals (``records``, ``events``, ``dead_letters``) include earlier runs, as the progress topic keeps them;
    ``run`` holds only this run's committed work, every figure of it over the same records (breakdowns are not
    kept across runs, so they are never mixed with the totals). ``records == resumed_at + run.records``.

    Attributes:
        file: The file.
        file_id: Its identity on the progress topic.
        records: Records of the file accounted for in total (including earlier runs).
        events: Events produced in total.
        dead_letters: Dead letters produced in total.
        resumed_at: Records committed by earlier runs when this one started.
        already_complete: The file had been ingested completely before.
        attempts: Attempts needed (more than 1 after a broker outage).
        seconds: Time this run took.
        run: What this run committed (an aborted batch, redone by the next attempt, is counted once).
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
    run: RunCounts = field(default_factory=RunCounts)

    def to_dict(self) -> dict[str, Any]:
        """The summary as plain data: totals at the top level, this run's counts under ``run``."""
        out = {f: getattr(self, f) for f in self.__dataclass_fields__}
        out["run"] = self.run.to_dict()
        return out


class FileIngestor:
    """Ingests files for one connector, exactly once.

    Args:
        connector: The connector that reads the files.
        settings: Gateway settings (Kafka, topics, batch size).
        retry: How long to wait for the broker when it is unavailable.
        on_record: Called after each record with the count so far (progress bars).
        batch_seconds: Longest time a batch stays open.
        observation: Gets each committed batch's records, events and dead letters, and each transaction; none by
            default.
    """

    def __init__(
        self,
        connector: Connector[Any],
        settings: GatewaySettings,
        *,
        retry: RetrySettings | None = None,
        on_record: Callable[[int], None] | None = None,
        batch_seconds: float = 1.0,
        observation: Observation | None = None,
    ) -> None:
        self.connector = connector
        self.settings = settings
        self.retry = retry or RetrySettings(max_attempts=1_000, deadline_s=600.0, max_delay_s=5.0)
        self.on_record = on_record
        self.batch_seconds = batch_seconds
        self.observation = observation or Observation()
        self.dlq_topic = settings.topics.dlq(connector.name)
        self.application = ingest_application(connector.name, settings)
        self._codec = case_state_codec() if settings.rules_enabled else None
        self._routing: Routing | None = None

    def routing(self) -> Routing:
        """Where the outcomes go; the dead-letter topic's size limit is asked of the broker once."""
        if self._routing is None:
            settings = self.settings
            admin = AdminClient(dict(settings.kafka.to_librdkafka()))
            limit = dlq_message_limit(admin, self.dlq_topic)
            self._routing = Routing.of(self.connector, settings.topics.canonical, self.dlq_topic, limit)
        return self._routing

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
        return TransactionSettings(
            transactional_id=ingest_transactional_id(self.connector.name, self.application, file_id)
        )

    def _attempt(self, path: Path, summary: IngestSummary, runtime: StateRuntime | None) -> None:
        settings = self.settings
        if runtime is not None:
            runtime.ensure_changelogs(AdminClient(dict(settings.kafka.to_librdkafka())), 1)
        producer = TransactionalProducer(settings.kafka, self._transaction_settings(summary.file_id), settings.producer)
        try:
            producer.init_transactions()
            prior = read_progress(settings.kafka, settings.topics.progress).get(summary.file_id, Progress())
            # What earlier runs committed; this run's committed batches (of earlier attempts) are in ``run``.
            summary.resumed_at = prior.records - summary.run.records
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
            with correlation_scope(correlation):
                _Run(self, producer, processor, summary, correlation, runtime, states).through(path, prior.records)
        except (AbortableTransactionError, KafkaFatalError) as exc:
            self.observation.metrics.transaction("aborted")
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
        self.routing = ingestor.routing()
        # Counted as records are added, taken into the summary only when their batch commits.
        self.pending = summary.run.copy()
        self.in_batch = 0
        self.opened = 0.0
        # The batch's outcomes, counted in the metrics once it commits.
        self.outcomes: list[Outcome] = []

    def through(self, path: Path, skip: int) -> None:
        connector = self.ingestor.connector
        batch_size = self.ingestor.settings.batch_size
        strict = self.routing.tolerance == "none"
        with path.open("rb") as stream:
            pending: Iterator[RawRecord] = (r for r in connector.read(stream, str(path)) if r.index >= skip)
            # Chunks never straddle a commit: the case states a chunk wrote must commit with its records' outputs.
            while chunk := list(islice(pending, min(BATCH_RECORDS, batch_size - self.in_batch))):
                # With tolerance none, the records after the first dead letter are not validated (nor folded).
                for outcome in self.processor.process_batch(chunk, states=self.states, until_dead_letter=strict):
                    try:
                        messages = route(outcome, self.routing, correlation_id=self.correlation)
                    except IngestStoppedError:
                        self.commit(complete=False)
                        raise
                    self.add(outcome, messages)
                if self.in_batch >= batch_size or time.monotonic() - self.opened >= self.ingestor.batch_seconds:
                    self.commit(complete=False)
        self.commit(complete=True)

    def add(self, outcome: Outcome, messages: list[OutboundMessage]) -> None:
        if self.in_batch == 0:
            self.begin()
        for message in messages:
            self.producer.send(message)
        run = self.pending
        dead = outcome.dead_letter
        if dead is None:
            run.event_types.update(e.event_type for e in outcome.events)
            run.events += len(outcome.events)
        else:
            run.dead_letters += 1
            run.dead_letter_stages[dead.stage] += 1
        run.rule_findings.update(f.rule_id for f in outcome.findings)
        run.records += 1
        self.in_batch += 1
        self.outcomes.append(outcome)
        if self.ingestor.on_record is not None:
            self.ingestor.on_record(self.summary.resumed_at + run.records)

    def begin(self) -> None:
        self.producer.begin()
        self.producer.take_delivered_offsets()  # offsets of earlier transactions say nothing about this one
        self.opened = time.monotonic()

    def commit(self, *, complete: bool) -> None:
        if self.in_batch == 0:
            if not complete:
                return
            self.begin()
        s, run = self.summary, self.pending
        if self.states is not None:
            self.states.flush()  # the batch's state changes become store writes, hence changelog records
        if self.runtime is not None:
            for change in self.runtime.changes():
                self.producer.send(change)
        records = s.resumed_at + run.records
        events = s.events - s.run.events + run.events
        dead = s.dead_letters - s.run.dead_letters + run.dead_letters
        progress = Progress(records, events, dead, complete, self.correlation)
        self.producer.send(progress_message(self.topics.progress, s.file_id, progress))
        self.producer.commit()
        s.records, s.events, s.dead_letters, s.run = records, events, dead, run.copy()
        self.in_batch = 0
        metrics = self.ingestor.observation.metrics
        metrics.transaction("committed", seconds=time.monotonic() - self.opened)
        metrics.outcomes(tally(self.ingestor.connector.name, self.outcomes))
        self.outcomes = []
        if self.runtime is not None:
            self.producer.poll(0)  # commit flushed every message; serve the reports that carry their offsets
            self.runtime.committed(self.producer.take_delivered_offsets())
