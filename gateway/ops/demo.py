"""The demo: a real ingest of the bundled samples through every reference connector into a local broker.

It starts the local Kafka broker, creates topics under a fresh prefix (so repeated demos do not meet each other's
ingest progress), ingests ``samples/<connector>.*`` with each installed connector, then reads the canonical topic
and the dead-letter queues back and shows them, checking records in = events out + dead letters.
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
from gateway.dlq import headers as H
from gateway.dlq.tools import DeadLetterRecord, read_dead_letters
from gateway.events.models import CaseEvent
from gateway.kafka.reader import read_to_end
from gateway.ops.provision import provision
from gateway.pipeline.file_ingest import FileIngestor, IngestSummary
from gateway.samples.generate import SampleManifest

SAMPLES_DIR = Path(__file__).resolve().parents[2] / "samples"


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
    )


def run_demo(settings: GatewaySettings, connectors: list[Connector[Any]], *, prefix: str | None = None) -> DemoResult:
    """Ingest each connector's bundled sample and read the topics back."""
    prefix = prefix or f"demo-{dt.datetime.now(dt.UTC):%Y%m%d-%H%M%S}"
    settings = settings.model_copy(update={"topics": demo_topics(prefix)})
    provision(settings, [c.name for c in connectors])
    result = DemoResult(settings.topics)
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
    return result


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
