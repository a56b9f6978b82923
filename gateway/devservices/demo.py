"""The demo: a real ingest of the bundled samples through every reference connector into a local broker.

It starts the local Kafka broker, creates topics under a fresh prefix (so repeated demos do not meet each other's
ingest progress), ingests ``samples/<connector>.*`` with each installed connector, then reads the canonical topic
and the dead-letter queues back and shows them, checking records in = events out + dead letters.

Then the downstream half: the movement samples (the three reference connectors as three Member States sharing
people, written to ``samples/generated/movements``) are ingested too, the secondary-movement detector runs over the
canonical topic, and its alerts are read back and compared with the planted ground truth. Last, the EU systems:
the outbound stage builds SIS and Eurodac messages from the canonical topic, and generated EU stories take the whole
outbound path (monitor, EES exits, delivery over HTTP and a file drop) and are compared with their ground truth.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gateway.codec.codec import EventCodec
from gateway.config import GatewaySettings, TopicNames
from gateway.connectors.base import Connector
from gateway.delivery.status import OutboxStatus
from gateway.detect.alerts import SecondaryMovementSuspected
from gateway.devservices.eu_run import EuRun
from gateway.devservices.provision import provision
from gateway.dlq import headers as H
from gateway.dlq.tools import DeadLetterRecord, read_dead_letters
from gateway.events.models import CaseEvent
from gateway.kafka.reader import read_to_end
from gateway.pipeline.file_ingest import FileIngestor, IngestSummary
from gateway.samples.eu_stories import EuStories
from gateway.samples.generate import SampleManifest

SAMPLES_DIR = Path(__file__).resolve().parents[2] / "samples"
MOVEMENTS_DIR = SAMPLES_DIR / "generated" / "movements"
EU_DIR = SAMPLES_DIR / "generated" / "eu"
MOVEMENTS_SEED = 2026


@dataclass(slots=True)
class ConnectorResult:
    """What the demo saw for one connector.

    Attributes:
        connector: Connector name.
        sample: The bundled sample file.
        summary: The ingest summary.
        manifest: What the sample's manifest says the gateway must make of it, if present.
        dead_letters: The dead letters read back.
    """

    connector: str
    sample: Path
    summary: IngestSummary
    manifest: SampleManifest | None
    dead_letters: list[DeadLetterRecord] = field(default_factory=list)

    @property
    def balanced(self) -> bool:
        """The DLQ holds what the ingest counted; with a manifest, the counts are the ones it expects."""
        ok = self.summary.dead_letters == len(self.dead_letters)
        if self.manifest is not None:
            ok = ok and self.summary.records == self.manifest.records
            ok = ok and (self.summary.events, self.summary.dead_letters) == (
                self.manifest.events,
                len(self.manifest.defects),
            )
        return ok


@dataclass(slots=True)
class DemoResult:
    """Everything the demo produced and read back.

    Attributes:
        topics: The topics used.
        connectors: Per-connector results.
        events: Events read back from the canonical topic.
    """

    topics: TopicNames
    connectors: list[ConnectorResult] = field(default_factory=list)
    events: list[CaseEvent] = field(default_factory=list)
    detection: DetectionResult | None = None
    settings: GatewaySettings | None = None
    outbound: OutboundDemo | None = None
    tools: ToolsDemo | None = None

    @property
    def balanced(self) -> bool:
        """Every record accounted for once: the topics hold what the ingests counted, and what manifests expect."""
        produced = sum(c.summary.events for c in self.connectors)
        return produced == len(self.events) and all(c.balanced for c in self.connectors)


def find_sample(connector: str, folder: Path = SAMPLES_DIR) -> Path | None:
    """The bundled sample of a connector: ``samples/<connector>.<ext>``."""
    found = sorted(p for p in folder.glob(f"{connector}.*") if not p.name.endswith(".manifest.json"))
    return found[0] if found else None


def demo_topics(prefix: str) -> TopicNames:
    """Topic names under a prefix."""
    return TopicNames(
        canonical=f"{prefix}.case-events.v1",
        dlq_prefix=f"{prefix}.dlq.",
        raw_prefix=f"{prefix}.raw.",
        progress=f"{prefix}.ingest-progress",
        alerts=f"{prefix}.alerts.v1",
        erasures=f"{prefix}.erasures.v1",
        detector_dlq=f"{prefix}.dlq.detector",
        outbox_prefix=f"{prefix}.out.",
        outbox_dlq_prefix=f"{prefix}.dlq.out.",
        receipts=f"{prefix}.receipts.v1",
        ees_inbound=f"{prefix}.in.ees.v1",
        review=f"{prefix}.review.v1",
        outbound_dlq=f"{prefix}.dlq.outbound",
        ees_documents=f"{prefix}.ees.documents.v1",
        ees_dlq=f"{prefix}.dlq.ees",
        riat_referrals=f"{prefix}.riat.referrals.v1",
        riat_dlq=f"{prefix}.dlq.riat",
        riat_progress=f"{prefix}.riat.progress.v1",
    )


@dataclass(slots=True)
class DetectionResult:
    """What the detector made of the canonical topic, against the movement samples' ground truth.

    Attributes:
        alerts: Every alert read back (superseded ones included).
        expected: Planted (subject key, rule) pairs of the movement samples, with their evidence.
        found: The detector's open alerts (not superseded) by (subject key, rule), with their evidence.
        look_alikes: Planted look-alikes: (subject key, rules that must not fire).
        events_in: Canonical events the detector read.
        metrics: The detector run's Prometheus exposition (what its ``/metrics`` served), ``gateway_*`` lines only.
    """

    alerts: list[SecondaryMovementSuspected]
    expected: dict[tuple[str, str], frozenset[tuple[str, str]]]
    found: dict[tuple[str, str], frozenset[tuple[str, str]]]
    look_alikes: list[tuple[str, tuple[str, ...]]]
    events_in: int
    metrics: list[str] = field(default_factory=list)

    @property
    def planted_found(self) -> int:
        """Planted alerts found with exactly their evidence."""
        return sum(1 for k, v in self.expected.items() if self.found.get(k) == v)

    @property
    def look_alikes_silent(self) -> int:
        """Look-alikes none of whose rules fired."""
        return sum(1 for key, rules in self.look_alikes if not any((key, r) in self.found for r in rules))

    @property
    def movement_subjects(self) -> set[str]:
        """Subject keys of the movement samples."""
        return {k for k, _ in self.expected} | {k for k, _ in self.look_alikes}

    @property
    def exact(self) -> bool:
        """Every planted alert found, no look-alike fired, and no other alert for a movement subject."""
        extra = [k for k in self.found if k[0] in self.movement_subjects and k not in self.expected]
        return (
            self.planted_found == len(self.expected) and self.look_alikes_silent == len(self.look_alikes) and not extra
        )


def run_demo(
    settings: GatewaySettings,
    connectors: list[Connector[Any]],
    *,
    prefix: str | None = None,
    detect: bool = True,
    outbound: bool = True,
) -> DemoResult:
    """Ingest each connector's bundled sample and read the topics back, then the downstream parts.

    With ``detect``, the detector's part (`run_detection`); with ``outbound``, the EU systems' part
    (`run_outbound_demo`).
    """
    prefix = prefix or f"demo-{dt.datetime.now(dt.UTC):%Y%m%d-%H%M%S}"
    settings = settings.model_copy(update={"topics": demo_topics(prefix)})
    provision(settings, [c.name for c in connectors])
    result = DemoResult(settings.topics, settings=settings)
    for connector in connectors:
        sample = find_sample(connector.name)
        if sample is None:
            continue
        manifest_path = sample.with_name(sample.name + ".manifest.json")
        manifest = SampleManifest.from_json(manifest_path.read_text()) if manifest_path.exists() else None
        summary = FileIngestor(connector, settings).ingest(sample)
        dead = list(read_dead_letters(settings.kafka, settings.topics.dlq(connector.name)))
        result.connectors.append(ConnectorResult(connector.name, sample, summary, manifest, dead))
    result.events = read_events(settings)
    if detect:
        result.detection = run_detection(settings, connectors, prefix)
    if outbound:
        result.outbound = run_outbound_demo(settings, prefix)
        result.tools = run_tools_demo(settings, result.events, prefix)
    return result


@dataclass(slots=True)
class ToolsDemo:
    """The RRAI export and the Eurostat statistics of the exports' canonical topic.

    Attributes:
        quarter: The quarter shown (the one with the most departures).
        rrai_rows: RRAI usage rows of that quarter.
        rrai_suppressed: Counts suppressed in them.
        rrai_files: The JSON and CSV written.
        stats_cells: Table name -> (cells, persons) of the quarter's Eurostat tables.
        stats_folder: Where the SDMX and CSV files are.
        chart: The chart's PNG and HTML.
    """

    quarter: str
    rrai_rows: int
    rrai_suppressed: int
    rrai_files: tuple[Path, ...]
    stats_cells: dict[str, tuple[int, int]]
    stats_folder: Path
    chart: tuple[Path, Path]


def run_tools_demo(settings: GatewaySettings, events: list[CaseEvent], prefix: str) -> ToolsDemo:
    """Export the RRAI usage and build the Eurostat tables and chart for the busiest quarter of the exports."""
    from gateway.adapters.rrai import Quarter, RraiConfig, export_quarter
    from gateway.events.models import DepartureConfirmed
    from gateway.statistics.chart import quarterly_returns, write_chart
    from gateway.statistics.config import StatisticsConfig
    from gateway.statistics.replay import build, replay_facts
    from gateway.statistics.tables import Period, quarters_between
    from gateway.validation.programmes import example_programmes_path, load_programmes

    departures = Counter(
        f"{e.occurred_at.year}-Q{(e.occurred_at.month - 1) // 3 + 1}"
        for e in events
        if isinstance(e.payload, DepartureConfirmed)
    )
    quarter = departures.most_common(1)[0][0] if departures else f"{dt.date.today().year}-Q1"
    out = EU_DIR / prefix
    report, paths = export_quarter(
        settings.kafka,
        settings.topics.canonical,
        Quarter.parse(quarter),
        load_programmes(example_programmes_path()),
        RraiConfig(),
        out / "rrai",
    )
    config = StatisticsConfig()
    built = build(settings, [Period.parse(quarter)], config, out / "stats")
    period = built.periods[0]
    cells = {name: (len(t.cells), sum(t.cells.values())) for name, t in period.tables.tables.items()}
    facts, _ = replay_facts(settings)
    year = int(quarter[:4])
    chart = write_chart(
        quarterly_returns(facts, quarters_between(f"{year - 1}-Q1", f"{year}-Q4"), config), out / "chart"
    )
    return ToolsDemo(
        quarter,
        len(report.rows),
        sum(len(r.suppressed) for r in report.rows),
        tuple(paths),
        cells,
        period.folder,
        chart,
    )


@dataclass(slots=True)
class OutboundDemo:
    """What the outbound part of the demo did.

    Attributes:
        national: Outbox kinds per target built from the national exports' events (the canonical topic).
        national_non_returns: Non-returns the monitor recorded for them (on event time only).
        stories: The generated EU stories.
        run: What the outbound path made of them (their own topics).
        problems: Differences from the stories' ground truth; empty when exact.
        delivered: Target -> its outbox status after delivery.
        transports: Target -> where it was delivered.
        faults: Faults the demo's HTTP target injected.
    """

    national: dict[str, Counter[str]]
    national_non_returns: int
    stories: EuStories
    run: EuRun
    problems: list[str]
    delivered: dict[str, OutboxStatus]
    transports: dict[str, str]
    faults: int


def run_outbound_demo(settings: GatewaySettings, prefix: str) -> OutboundDemo:
    """The EU systems' part of the demo.

    First the outbound stage runs over the canonical topic the exports went to: SIS and Eurodac messages for the
    national cases (the monitor on event time only, since the exports replay past years). Then generated EU stories
    with known outcomes take the whole outbound path on topics of their own (`gateway.devservices.eu_run`): events,
    EES exit files, the monitor's clock moved past every period; their outboxes are compared with the truth and
    delivered, SIS to a local HTTPS-less HTTP target that injects faults, Eurodac to a file drop directory.

    ``settings`` must carry the demo's topics (``demo_topics``).
    """
    from gateway.adapters.eurodac.config import EurodacConfig
    from gateway.delivery.plugins import build
    from gateway.delivery.settings import DeliverySettings, RetryPolicy
    from gateway.delivery.status import outbox_status
    from gateway.delivery.worker import run_delivery
    from gateway.devservices.eu_run import compare, read_outboxes, run_eu_path, story_key_of
    from gateway.monitor.clock import EventTimeClock
    from gateway.outbound.config import OutboundConfig
    from gateway.outbound.service import OutboundOptions, default_codecs, run_outbound
    from gateway.samples.eu_stories import eu_stories
    from gateway.testing.http_target import FaultPlan, HttpTarget

    config = OutboundConfig(eurodac=EurodacConfig(enabled=True))
    options = OutboundOptions(
        application=f"{prefix}.outbound", instance="demo", idle_exit_s=3.0, clock=EventTimeClock(), tick_s=0.5
    )
    run_outbound(settings, config, default_codecs(settings), options)
    national = {t: Counter(m.kind for m in msgs) for t, msgs in read_outboxes(settings, config.targets).items()}
    codec = EventCodec()
    national_non_returns = sum(
        1
        for msg in read_to_end(settings.kafka, settings.topics.canonical)
        if codec.decode(msg.value() or b"").source.connector == config.monitor.connector_name
    )

    eu = settings.model_copy(update={"topics": demo_topics(f"{prefix}.eu")})
    stories = eu_stories(39, story_key_of(eu))
    workdir = EU_DIR / prefix
    run = run_eu_path(eu, stories, config, workdir, application=f"{prefix}.eu.outbound")
    problems = compare(stories, run, config.targets)
    delivered: dict[str, OutboxStatus] = {}
    plan = FaultPlan(seed=2026, error_5xx=0.1, error_5xx_retry_after=0.05, drop=0.05, duplicate_ack=0.05)
    transports: dict[str, tuple[str, dict[str, Any]]] = {
        "sis": ("http", {"read_timeout_s": 2.0}),
        "eurodac": ("filedrop", {"directory": str(workdir / "eurodac-drop"), "fsync": False}),
    }
    with HttpTarget(plan) as target:
        where = {"sis": f"HTTP POST {target.url}", "eurodac": f"file drop {workdir / 'eurodac-drop'}"}
        for name, (kind, extra) in transports.items():
            options_ = DeliverySettings(
                transport=kind,
                transport_options={"url": target.url, **extra} if kind == "http" else extra,
                retry=RetryPolicy(initial_backoff_s=0.05, max_backoff_s=0.5, jitter_s=0.05, deadline_s=30.0),
                application=f"{prefix}.deliver",
                instance="demo",
                idle_exit_s=2.0,
                batch_deadline_s=60.0,
            )
            transport = build(kind, options_.transport_options)
            try:
                run_delivery(eu, name, transport, options_)
            finally:
                transport.close()
            delivered[name] = outbox_status(eu, name)
        faults = sum(1 for a in target.arrivals if a.fault)
    return OutboundDemo(national, national_non_returns, stories, run, problems, delivered, where, faults)


def run_detection(settings: GatewaySettings, connectors: list[Connector[Any]], prefix: str) -> DetectionResult:
    """Ingest the movement samples, run the detector until it is idle, and read its alerts back.

    ``settings`` must carry the demo's topics (``demo_topics``).
    """
    from gateway.detect.alerts import alert_codec
    from gateway.detect.config import DetectorConfig
    from gateway.detect.service import DetectorOptions, default_codecs, run_detector
    from gateway.pipeline.pseudonym import pseudonymiser
    from gateway.samples.movements import FILE_NAMES, MANIFEST_NAME, write_movements

    by_name = {c.name: c for c in connectors if c.name in FILE_NAMES}
    write_movements(MOVEMENTS_DIR, seed=MOVEMENTS_SEED, count=60, connectors=by_name)
    manifest = json.loads((MOVEMENTS_DIR / MANIFEST_NAME).read_text(encoding="utf-8"))
    for name, connector in by_name.items():
        FileIngestor(connector, settings).ingest(MOVEMENTS_DIR / FILE_NAMES[name])
    from prometheus_client import CollectorRegistry, generate_latest

    from gateway.observability import Observation, PrometheusMetrics

    options = DetectorOptions(application=f"{prefix}.detect", instance="demo", idle_exit_s=3.0)
    # The registry a `gateway detect --metrics-port` process serves on /metrics, read here once the run is over.
    registry = CollectorRegistry()
    observation = Observation(metrics=PrometheusMetrics(registry, "detect"))
    stats = run_detector(settings, DetectorConfig(), default_codecs(settings), options, observation=observation)
    exposition = [
        line
        for line in generate_latest(registry).decode().splitlines()
        if line.startswith(("gateway_alerts_total", "gateway_transactions_total", "gateway_input_records_total"))
    ]
    codec = alert_codec()
    alerts = [codec.decode(m.value() or b"") for m in read_to_end(settings.kafka, settings.topics.alerts)]

    secret = settings.subject_key_secret.get_secret_value().encode()
    keys = {ms: pseudonymiser(secret, ms) for ms in manifest["member_states"].values()}
    expected = {
        (keys[a["member_state"]](a["person_ref"]), a["rule_id"]): frozenset(
            (e["event_type"], e["occurred_at"]) for e in a["evidence"]
        )
        for a in manifest["expected_alerts"]
    }
    look_alikes = [
        (keys[x["member_state"]](x["person_ref"]), tuple(x["must_not_fire"])) for x in manifest["look_alikes"]
    ]
    superseded = {a.supersedes for a in alerts if a.supersedes}
    found = {
        (a.subject_key, a.rule_id): frozenset(
            (e.event_type, e.occurred_at.strftime("%Y-%m-%dT%H:%M:%SZ")) for e in a.evidence
        )
        for a in alerts
        if a.alert_id not in superseded
    }
    return DetectionResult(alerts, expected, found, look_alikes, stats.records_in, exposition)


def read_events(settings: GatewaySettings) -> list[CaseEvent]:
    """Every committed event of the canonical topic, decoded."""
    codec = EventCodec()
    return [codec.decode(msg.value() or b"") for msg in read_to_end(settings.kafka, settings.topics.canonical)]


def describe(event: CaseEvent, width: int = 110) -> str:
    """One readable line for an event: its type, case, when, and the payload's set fields."""
    body = {k: v for k, v in event.payload.model_dump(mode="json", exclude_defaults=True).items() if k != "identity"}
    text = json.dumps(body, ensure_ascii=False, separators=(", ", ": "))
    if len(text) > width:
        text = text[: width - 1] + "…"
    return f"{event.event_type:<30} {event.case_reference:<16} {event.occurred_at:%Y-%m-%d %H:%M}Z  {text}"


def event_counts(events: list[CaseEvent]) -> Counter[str]:
    """Events by type."""
    return Counter(str(e.event_type) for e in events)


def dead_letter_line(rec: DeadLetterRecord) -> str:
    """One readable line for a dead letter."""
    return H.summary(rec.headers)
