"""The outbound path run end to end on generated stories, and compared with their ground truth.

Used by the demo and by the integration tests: the stories' canonical events go onto the canonical topic in
event-time order; the outbound stage runs until idle; the stories' EES exit files are ingested through a drop
directory per Member State; the stage runs again (matching the exits); the monitor's clock then moves past every
period and the stage runs a last time (the non-returns, and the SIS messages they cause). The outboxes, the derived
events and the review topic are read back and compared with what the stories say must happen.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

from lxml import etree

from gateway.adapters.ees.ingest import EesIngest, EesSummary
from gateway.codec.codec import EventCodec
from gateway.config import GatewaySettings
from gateway.delivery.outbox import OutboxMessage, outbox_codec
from gateway.devservices.provision import provision
from gateway.events.headers import EVENT_TYPE_HEADER
from gateway.events.models import CaseEvent, DepartureConfirmed, NonReturnRecorded, NonReturnSource
from gateway.kafka.producer import IdempotentProducer
from gateway.kafka.reader import read_to_end
from gateway.kafka.transactions import ProcessorStats
from gateway.monitor.clock import ManualClock
from gateway.outbound.config import OutboundConfig
from gateway.outbound.service import REVIEW_REASON_HEADER, OutboundOptions, default_codecs, run_outbound
from gateway.samples.eu_stories import EuStories, ExitSpec, exit_records_xml

__all__ = ["EuRun", "compare", "publish_events", "read_outboxes", "run_eu_path", "story_key_of"]

XSD_DIR = Path(__file__).resolve().parents[2] / "schemas" / "xsd"
XSD_OF_TARGET = {"sis": "sis-return-v1.xsd", "eurodac": "eurodac-avrr-v1.xsd"}


@dataclass(slots=True)
class EuRun:
    """What the outbound path made of the stories.

    Attributes:
        outbox: Target -> its outbox messages, in topic order per partition.
        derived: Canonical events the stage wrote (non-returns of the monitor, departures matched from EES).
        reviews: (review reason, EES record id or "") of the review topic.
        ees: Summaries of the EES ingests (one per Member State's drop directory).
        stage: The stage's counters over its three runs.
    """

    outbox: dict[str, list[OutboxMessage]] = field(default_factory=dict)
    derived: list[CaseEvent] = field(default_factory=list)
    reviews: list[tuple[str, str]] = field(default_factory=list)
    ees: list[EesSummary] = field(default_factory=list)
    stage: ProcessorStats = field(default_factory=ProcessorStats)

    def kinds_by_case(self, target: str) -> dict[str, list[str]]:
        """Ordering key -> the message kinds of ``target`` in sequence order."""
        by_case: dict[str, list[tuple[int, str]]] = defaultdict(list)
        for m in self.outbox.get(target, []):
            by_case[m.ordering_key].append((m.sequence, m.kind))
        return {k: [kind for _, kind in sorted(v)] for k, v in by_case.items()}


def publish_events(settings: GatewaySettings, events: list[CaseEvent]) -> None:
    """Put events on the canonical topic, keyed by subject key, in the given order."""
    codec = EventCodec()
    topic = settings.topics.canonical
    with IdempotentProducer(settings.kafka, settings.producer) as producer:
        for e in events:
            producer.produce(
                topic,
                codec.encode(e, topic),
                key=e.subject_key.encode(),
                headers=[(EVENT_TYPE_HEADER, str(e.event_type).encode())],
            )


def run_eu_path(
    settings: GatewaySettings,
    stories: EuStories,
    config: OutboundConfig,
    workdir: Path,
    *,
    application: str,
    idle_exit_s: float = 3.0,
) -> EuRun:
    """Run the whole outbound path on ``stories`` (see the module docstring) and read its outputs back."""
    provision(settings, [])
    publish_events(settings, stories.events)
    clock = ManualClock(None)  # event time only, until every story's events and exits are in
    options = OutboundOptions(
        application=application, instance="eu-run", idle_exit_s=idle_exit_s, clock=clock, tick_s=0.5
    )
    codecs = default_codecs(settings)
    run = EuRun()
    run.stage += run_outbound(settings, config, codecs, options)
    by_state: dict[str, list[ExitSpec]] = defaultdict(list)
    for spec in stories.exits:
        state = stories.persons[spec.person][0] if spec.person else next(iter(stories.persons.values()))[0]
        by_state[state].append(spec)
    for state, specs in sorted(by_state.items()):
        drop = workdir / f"ees-{state}"
        drop.mkdir(parents=True, exist_ok=True)
        (drop / f"exits-{state}.xml").write_bytes(exit_records_xml(specs))
        job = EesIngest(settings, state)
        try:
            job.ensure_topics()
            run.ees += [summary for _, summary in job.process_folder(drop)]
        finally:
            job.close()
    run.stage += run_outbound(settings, config, codecs, options)
    clock.set(int(stories.clock_after.timestamp() * 1000))
    run.stage += run_outbound(settings, config, codecs, options)
    run.outbox = read_outboxes(settings, config.targets)
    events = EventCodec()
    for message in read_to_end(settings.kafka, settings.topics.canonical):
        event = events.decode(message.value() or b"")
        if event.source.connector in (config.monitor.connector_name, "ees"):
            run.derived.append(event)
    for message in read_to_end(settings.kafka, settings.topics.review):
        pairs = cast(list[tuple[str, bytes]], message.headers() or [])
        headers = dict(pairs)
        reason = headers.get(REVIEW_REASON_HEADER, b"").decode()
        run.reviews.append((reason, headers.get("gw.ees.record.id", b"").decode()))
    return run


def read_outboxes(settings: GatewaySettings, targets: tuple[str, ...]) -> dict[str, list[OutboxMessage]]:
    """Every committed message of each target's outbox."""
    codec = outbox_codec()
    return {
        t: [codec.decode(m.value() or b"") for m in read_to_end(settings.kafka, settings.topics.outbox(t))]
        for t in targets
    }


def compare(stories: EuStories, run: EuRun, targets: tuple[str, ...]) -> list[str]:
    """Every difference between what the stories say must happen and what the run did; empty when exact."""
    problems: list[str] = []
    for target in (t for t in targets if t in XSD_OF_TARGET):  # the stories know SIS and Eurodac
        got = run.kinds_by_case(target)
        want = {k: getattr(c, target) for k, c in stories.cases.items() if getattr(c, target)}
        for key in sorted(set(got) | set(want)):
            if got.get(key, []) != want.get(key, []):
                problems.append(f"{target} {key}: expected {want.get(key, [])}, got {got.get(key, [])}")
        sequences = defaultdict(list)
        for m in run.outbox.get(target, []):
            sequences[m.ordering_key].append(m.sequence)
        for key, seqs in sequences.items():
            if sorted(seqs) != list(range(1, len(seqs) + 1)):
                problems.append(f"{target} {key}: sequences {sorted(seqs)} are not 1..n")
        ids = [m.message_id for m in run.outbox.get(target, [])]
        if len(ids) != len(set(ids)):
            problems.append(f"{target}: message ids repeat")
        problems += _invalid(target, run.outbox.get(target, []))
    non_returns = [
        (f"{e.member_state}:{e.case_reference}", e.payload.decision_reference, e.payload.period_last_day)
        for e in run.derived
        if isinstance(e.payload, NonReturnRecorded) and e.payload.source is NonReturnSource.MONITOR
    ]
    if sorted(non_returns) != sorted(stories.non_returns):
        problems.append(f"non-returns: expected {sorted(stories.non_returns)}, got {sorted(non_returns)}")
    matched = sorted(str(e.event_id) for e in run.derived if isinstance(e.payload, DepartureConfirmed))
    want_matched = sum(1 for x in stories.exits if x.expect == "matched")
    if len(matched) != want_matched or len(set(matched)) != len(matched):
        problems.append(f"EES departures: expected {want_matched} distinct, got {len(matched)}")
    want_reviews = sorted(x.reason for x in stories.exits if x.expect == "review")
    unmatched = sorted(r for r, _ in run.reviews)
    for wanted in want_reviews:
        hit = next((r for r in unmatched if wanted in r), None)
        if hit is None:
            problems.append(f"reviews: none with a reason containing {wanted!r} (got {unmatched})")
        else:
            unmatched.remove(hit)
    if unmatched:
        problems.append(f"reviews no story expects: {unmatched}")
    for summary in run.ees:
        if not summary.balanced:
            problems.append(f"EES ingest does not balance: {summary}")
    return problems


def _invalid(target: str, messages: list[OutboxMessage]) -> list[str]:
    schema = etree.XMLSchema(etree.parse(str(XSD_DIR / XSD_OF_TARGET[target])))
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    out = []
    for m in messages:
        doc = etree.fromstring(m.body, parser)
        if not schema.validate(doc):
            out.append(f"{target} {m.message_id} ({m.kind}) is not XSD-valid: {schema.error_log}")
    return out


def story_key_of(settings: GatewaySettings) -> Callable[[str, str], str]:
    """(Member State, person reference) -> subject key, as the deployment's connectors compute it."""
    from gateway.pipeline.pseudonym import pseudonymiser

    secret = settings.subject_key_secret.get_secret_value().encode()
    cache: dict[str, Callable[[str], str]] = {}

    def key_of(member_state: str, person: str) -> str:
        if member_state not in cache:
            cache[member_state] = pseudonymiser(secret, member_state)
        return cache[member_state](person)

    return key_of
