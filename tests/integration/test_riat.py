"""RIAT status feed through a real broker and the real local RIAT server: events of the right subjects, unknown
referrals in review, unreadable statuses in the dead letters; a second pull adds nothing; a pull killed between
pages loses and duplicates nothing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic
from prometheus_client import CollectorRegistry

from gateway.adapters.riat import RiatConfig, index_for, riat_step
from gateway.adapters.riat.pull import PullSummary, RiatPull, RiatTopics, StatusFeed
from gateway.adapters.riat.status import status_event_id
from gateway.codec.codec import EventCodec
from gateway.config import GatewaySettings
from gateway.dlq import headers as H
from gateway.events import models as m
from gateway.kafka.retry import RetrySettings
from gateway.observability import PrometheusMetrics
from gateway.samples.riat_stories import riat_stories
from gateway.testing.riat_server import RiatServer
from tests.integration.support.topics import fresh_topics, read_all

pytestmark = pytest.mark.integration

FAST = RetrySettings(max_attempts=5, initial_delay_s=0.05, max_delay_s=0.2, jitter_s=0.0, deadline_s=20)
STORIES = riat_stories(7)


@pytest.fixture
def settings(kafka_bootstrap: str) -> GatewaySettings:
    run = f"riat-{uuid.uuid4().hex[:8]}"
    topics = fresh_topics(run, review=f"{run}.review", partitions=3)
    settings = GatewaySettings(kafka={"bootstrap_servers": kafka_bootstrap}, topics=topics)
    admin = AdminClient({"bootstrap.servers": kafka_bootstrap})
    admin.create_topics([NewTopic(topics.canonical, 3, 1)])[topics.canonical].result(30)
    return settings


@pytest.fixture
def topics(settings: GatewaySettings) -> RiatTopics:
    run = settings.topics.canonical.removesuffix(".events")
    riat = RiatTopics.of(settings, dlq=f"{run}.dlq.riat", progress=f"{run}.riat.progress", index=f"{run}.riat.index")
    job = RiatPull(settings, "NL", StatusFeed("http://unused"), topics=riat)
    job.ensure_topics()
    job.close()
    # What the outbound stage publishes when it sends the stories' referrals.
    producer = Producer({"bootstrap.servers": settings.kafka.bootstrap_servers})
    for story in STORIES:
        state = None
        for e in story.events:
            step = riat_step(state, e, RiatConfig())
            state = step.state
            for record in index_for(step, e.subject_key, riat.index):
                producer.produce(record.topic, record.value, record.key)
    assert producer.flush(10) == 0
    return riat


@pytest.fixture
def server():
    with RiatServer(page_size=2) as s:
        for story in STORIES:
            s.add_statuses([spec.status for spec in story.statuses])
        yield s


def pull(settings: GatewaySettings, topics: RiatTopics, server: RiatServer, **run: object) -> PullSummary:
    job = RiatPull(settings, "NL", StatusFeed(server.url, retry=FAST), topics=topics, instance="it")
    try:
        return job.run(**run)  # type: ignore[arg-type]
    finally:
        job.close()


def expected() -> tuple[dict[uuid.UUID, object], Counter[str], Counter[str]]:
    events = {status_event_id(e.status_id): e for s in STORIES for e in s.status_events}
    reviews = Counter(spec.reason for s in STORIES for spec in s.statuses if spec.expect == "review")
    dead = Counter(spec.reason for s in STORIES for spec in s.statuses if spec.expect == "dead_letter")
    return events, reviews, dead


def check_outputs(settings: GatewaySettings, topics: RiatTopics) -> None:
    bootstrap = settings.kafka.bootstrap_servers
    want, reviews, dead = expected()
    canonical = read_all(bootstrap, settings.topics.canonical)
    got = {}
    for msg in canonical:
        event = EventCodec().decode(msg.value())
        assert event.event_id not in got, "a status event written twice"
        got[event.event_id] = event
        assert msg.key() == event.subject_key.encode()
    assert set(got) == set(want)
    for event_id, e in want.items():
        event = got[event_id]
        p = event.payload
        assert isinstance(p, m.ReintegrationStatusChanged)
        assert (event.subject_key, event.member_state.value, event.case_reference) == (
            e.subject_key,
            e.member_state,
            e.case_reference,
        )
        assert (p.referral_id, p.stage.value, p.arrival_date, p.note) == (
            e.referral_id,
            e.stage,
            e.arrival_date,
            e.note,
        )
        assert tuple((b.description, b.amount_eur) for b in p.budget_lines) == e.budget_lines
    review = read_all(bootstrap, topics.review)
    assert Counter(H.as_text(r.headers())["gw.review.reason"] for r in review) == reviews
    letters = read_all(bootstrap, topics.dlq)
    assert Counter(H.as_text(d.headers())["gw.errors.code"] for d in letters) == dead
    broken = [spec.status for s in STORIES for spec in s.statuses if isinstance(spec.status, str)]
    assert [d.value() for d in letters if H.as_text(d.headers())["gw.errors.code"] == "not-json"] == [
        b.encode() for b in broken
    ]


def test_the_feed_round_trips_into_events_review_and_dead_letters(settings, topics, server):
    registry = CollectorRegistry()
    total = pull(settings, topics, server, metrics=PrometheusMetrics(registry, "riat-pull"))
    want, reviews, dead = expected()
    n = sum(len(s.statuses) for s in STORIES)
    assert total.balanced
    assert (total.records, total.events, total.review, total.dead_letters) == (
        n,
        len(want),
        sum(reviews.values()),
        sum(dead.values()),
    )
    assert total.pages == -(-n // 2)
    # Each committed page's counts reach the metrics, and they add up like the summary.
    metric = registry.get_sample_value
    assert metric("gateway_records_in_total", {"connector": "riat"}) == n
    assert metric("gateway_events_out_total", {"connector": "riat", "event_type": "status"}) == len(want)
    assert metric("gateway_events_out_total", {"connector": "riat", "event_type": "review"}) == sum(reviews.values())
    dead_letters = {
        s.labels["error_class"]: s.value
        for family in registry.collect()
        for s in family.samples
        if s.name == "gateway_dead_letters_total"
    }
    assert dead_letters == dict(dead)
    assert metric("gateway_transactions_total", {"service": "riat-pull", "result": "committed"}) == total.pages
    assert total.cursor == str(n)
    check_outputs(settings, topics)

    again = pull(settings, topics, server)  # the committed cursor: nothing new
    assert (again.records, again.pages, again.cursor) == (0, 0, str(n))
    check_outputs(settings, topics)

    # A status added later is pulled alone, from where the last pull stopped.
    story = STORIES[0]
    late = dict(story.statuses[0].status, status_id="ST-late")
    server.add_status(late)
    more = pull(settings, topics, server)
    assert (more.records, more.events) == (1, 1)
    events = [
        EventCodec().decode(msg.value())
        for msg in read_all(settings.kafka.bootstrap_servers, settings.topics.canonical)
    ]
    assert sum(e.event_id == status_event_id("ST-late") for e in events) == 1


def test_a_restart_after_each_page_loses_and_duplicates_nothing(settings, topics, server):
    total = PullSummary()
    for _ in range(20):
        one = pull(settings, topics, server, max_pages=1)
        if one.pages == 0:
            break
        assert one.pages == 1
        total.add(one)
    assert total.balanced
    assert total.records == sum(len(s.statuses) for s in STORIES)
    check_outputs(settings, topics)


def test_transient_feed_failures_are_waited_out(settings, topics, server):
    server.fail_next("/statuses", 3, 503)
    total = pull(settings, topics, server)
    assert total.balanced
    check_outputs(settings, topics)


def test_a_pull_killed_between_pages_resumes_exactly_once(settings, topics, server, tmp_path: Path):
    server.hold_from("/statuses", 3, 30.0)  # pages 1 and 2 commit; the request for page 3 hangs
    env = {
        **os.environ,
        "GATEWAY_KAFKA__BOOTSTRAP_SERVERS": settings.kafka.bootstrap_servers,
        "GATEWAY_TOPICS__CANONICAL": settings.topics.canonical,
        "GATEWAY_TOPICS__REVIEW": settings.topics.review,
    }
    args = [
        sys.executable,
        "-m",
        "gateway.cli.riat",
        "pull",
        "--url",
        server.url,
        "--member-state",
        "NL",
        "--dlq-topic",
        topics.dlq,
        "--progress-topic",
        topics.progress,
        "--index-topic",
        topics.index,
        "--instance",
        "it",
    ]
    log = tmp_path / "pull.log"
    with log.open("ab") as out:
        proc = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while server.requests("/statuses") < 3:
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        time.sleep(0.3)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
    committed = read_all(settings.kafka.bootstrap_servers, topics.progress)
    assert [json.loads(c.value())["cursor"] for c in committed] == ["2", "4"]
    server.clear_faults()
    rest = pull(settings, topics, server)
    assert rest.records == sum(len(s.statuses) for s in STORIES) - 4
    check_outputs(settings, topics)
