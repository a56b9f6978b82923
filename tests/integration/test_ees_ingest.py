"""EES exit files through a real broker: every record on exactly one topic, reviews with reasons, dead letters with
the original bytes, and the same event ids when a file is ingested again."""

from __future__ import annotations

import shutil
import uuid
from collections import Counter
from pathlib import Path

import pytest
from confluent_kafka import Producer
from prometheus_client import CollectorRegistry

from gateway.adapters.ees.convert import NO_CASE, SEVERAL_SUBJECTS, exit_event_id
from gateway.adapters.ees.documents import DocumentIndex, document_key, index_record, index_tombstone
from gateway.adapters.ees.ingest import EesIngest, EesTopics
from gateway.codec.codec import EventCodec
from gateway.config import GatewaySettings
from gateway.dlq import headers as H
from gateway.kafka.settings import KafkaSettings
from gateway.observability import Observation, PrometheusMetrics
from tests.integration.support.topics import fresh_topics, read_all
from tests.unit.adapters.ees.samples import exit_file, record

pytestmark = pytest.mark.integration

GOOD = exit_file(
    record("R-1", number="A1111111"),
    record("R-2", number="C3333333"),  # nobody holds it
    record("R-3", number="B2222222"),  # two subjects hold it
    record("R-4", number="D4444444"),  # held once, then the pair was removed
    record("R-5", country="XX"),  # invalid under the XSD
)
MALFORMED = b"<ExitRecords xmlns='urn:eu:returns:gateway:ees-exit:v1'><ExitRecord>"


@pytest.fixture
def job(kafka_bootstrap: str) -> EesIngest:
    run = f"ees-{uuid.uuid4().hex[:8]}"
    topics = fresh_topics(run, ees_inbound=f"{run}.in.ees", review=f"{run}.review")
    settings = GatewaySettings(kafka={"bootstrap_servers": kafka_bootstrap}, topics=topics, subject_key_secret="s3cret")
    job = EesIngest(settings, "NL", topics=EesTopics.of(settings, dlq=f"{run}.dlq.ees"), index_topic=f"{run}.documents")
    job.ensure_topics()
    secret = b"s3cret"
    producer = Producer({"bootstrap.servers": kafka_bootstrap})
    for number, subject in (("A1111111", "s1"), ("B2222222", "s2"), ("B2222222", "s3"), ("D4444444", "s4")):
        message = index_record(job.index_topic, document_key(secret, "MAR", number), subject)
        producer.produce(message.topic, message.value, message.key)
    gone = index_tombstone(job.index_topic, document_key(secret, "MAR", "D4444444"), "s4")
    producer.produce(gone.topic, gone.value, gone.key)
    assert producer.flush(10) == 0
    yield job
    job.close()


def test_a_drop_directory_is_routed_and_balances(job: EesIngest, tmp_path: Path, kafka_bootstrap: str):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "exits-1.xml").write_bytes(GOOD)
    (inbox / "broken.xml").write_bytes(MALFORMED)
    (inbox / "late.xml.part").write_bytes(GOOD)  # still being written: left alone

    done = job.process_folder(inbox)
    assert sorted(p.name for p, _ in done) == ["broken.xml", "exits-1.xml"]
    summaries = {p.name: s for p, s in done}
    s = summaries["exits-1.xml"]
    assert (s.records, s.inbound, s.review, s.dead_letters) == (5, 1, 3, 1)
    assert all(x.balanced for x in summaries.values())
    assert (inbox / "processed" / "exits-1.xml").exists()
    assert (inbox / "processed" / "broken.xml").exists()
    assert [p.name for p in inbox.iterdir() if p.is_file()] == ["late.xml.part"]

    inbound = read_all(kafka_bootstrap, job.topics.inbound)
    review = read_all(kafka_bootstrap, job.topics.review)
    dead = read_all(kafka_bootstrap, job.topics.dlq)
    assert (len(inbound), len(review), len(dead)) == (1, 3, 2)
    assert len(inbound) + len(review) + len(dead) == sum(x.records for x in summaries.values())

    (msg,) = inbound
    event = EventCodec().decode(msg.value())
    assert msg.key() == b"s1"
    assert event.subject_key == "s1"
    assert event.event_id == exit_event_id("R-1")
    reasons = Counter(H.as_text(m.headers())["gw.review.reason"] for m in review)
    assert reasons == {NO_CASE: 2, SEVERAL_SUBJECTS: 1}
    by_record = {H.as_text(m.headers())["gw.ees.record.id"]: m for m in review}
    assert sorted(by_record) == ["R-2", "R-3", "R-4"]
    assert all(m.value().startswith(b"<ExitRecord") for m in review)
    whole = [m for m in dead if H.as_text(m.headers())[H.SOURCE_FILE] == "broken.xml"]
    assert [m.value() for m in whole] == [MALFORMED]  # the original bytes, untouched
    assert H.as_text(whole[0].headers())[H.EXC_CLASS] == "gateway.errors.ParseError"

    # The same file again (a re-delivery): the same event id, which matching reports as a duplicate.
    shutil.copy(inbox / "processed" / "exits-1.xml", inbox / "exits-1-again.xml")
    ((_, again),) = job.process_folder(inbox)
    assert (again.records, again.inbound, again.review, again.dead_letters) == (5, 1, 3, 1)
    ids = [EventCodec().decode(m.value()).event_id for m in read_all(kafka_bootstrap, job.topics.inbound)]
    assert ids == [exit_event_id("R-1")] * 2


def test_a_raw_topic_is_routed_exactly_once(job: EesIngest, kafka_bootstrap: str, new_topic, group_id: str):
    raw = new_topic("raw-ees", partitions=2)
    producer = Producer({"bootstrap.servers": kafka_bootstrap})
    producer.produce(raw, GOOD, b"f1")
    producer.produce(raw, MALFORMED, b"f2", headers=[("origin", b"sftp")])
    assert producer.flush(10) == 0

    registry = CollectorRegistry()
    observation = Observation(metrics=PrometheusMetrics(registry, "ees-ingest"))
    total = job.run_topic(
        raw, group_id=group_id, instance=uuid.uuid4().hex[:6], idle_timeout_s=3.0, observation=observation
    )
    assert (total.files, total.records, total.inbound, total.review, total.dead_letters) == (2, 6, 1, 3, 2)
    assert total.balanced
    # The metrics count what committed, and add up like the summary.
    metric = registry.get_sample_value
    assert metric("gateway_records_in_total", {"connector": "ees"}) == 6
    assert metric("gateway_events_out_total", {"connector": "ees", "event_type": "exit"}) == 1
    assert metric("gateway_events_out_total", {"connector": "ees", "event_type": "review"}) == 3
    dead_letters = [s.value for m in registry.collect() for s in m.samples if s.name == "gateway_dead_letters_total"]
    assert sum(dead_letters) == 2
    assert metric("gateway_input_records_total", {"service": "ees-ingest"}) == 2
    assert (metric("gateway_transactions_total", {"service": "ees-ingest", "result": "committed"}) or 0) >= 1
    dead = read_all(kafka_bootstrap, job.topics.dlq)
    (whole,) = [m for m in dead if m.value() == MALFORMED]
    text = H.as_text(whole.headers())
    assert text[H.TOPIC] == raw
    assert text["origin"] == "sftp"

    # A second run of the group has nothing left to do: the offsets committed with the outputs.
    again = job.run_topic(raw, group_id=group_id, instance=uuid.uuid4().hex[:6], idle_timeout_s=2.0)
    assert again.records == 0
    assert len(read_all(kafka_bootstrap, job.topics.inbound)) == 1


def test_the_index_catches_up_on_refresh(job: EesIngest, kafka_bootstrap: str):
    kafka = KafkaSettings(bootstrap_servers=kafka_bootstrap)
    with DocumentIndex(kafka, job.index_topic) as index:
        a = document_key(b"s3cret", "MAR", "A1111111")
        assert index.subjects(a) == {"s1"}
        assert index.subjects(document_key(b"s3cret", "MAR", "B2222222")) == {"s2", "s3"}
        assert index.subjects(document_key(b"s3cret", "MAR", "D4444444")) == frozenset()
        assert index.refresh() == 0  # nothing new: returns at once
        producer = Producer({"bootstrap.servers": kafka_bootstrap})
        pair = index_record(job.index_topic, a, "s9")
        producer.produce(pair.topic, pair.value, pair.key)
        assert producer.flush(10) == 0
        assert index.refresh() == 1
        assert index.subjects(a) == {"s1", "s9"}
