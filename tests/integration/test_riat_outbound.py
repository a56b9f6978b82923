"""RIAT referrals through the outbound stage and the delivery worker to a real local RIAT server."""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from pathlib import Path

import pytest

from gateway.adapters.riat.referrals import ReferralIndex
from gateway.delivery.plugins import build as build_transport
from gateway.delivery.settings import DeliverySettings, RetryPolicy
from gateway.delivery.worker import run_delivery
from gateway.devservices.eu_run import publish_events
from gateway.devservices.provision import provision
from gateway.events import models as m
from gateway.monitor.clock import EventTimeClock
from gateway.outbound.config import OutboundConfig
from gateway.outbound.service import OutboundOptions, default_codecs, run_outbound
from gateway.samples.riat_stories import riat_stories
from gateway.testing.riat_server import RiatServer
from tests.integration.test_outbound import settings_for

pytestmark = pytest.mark.integration


def test_referrals_reach_riat_exactly_as_the_stories_expect(kafka_bootstrap: str, tmp_path: Path) -> None:
    run = f"riat-{uuid.uuid4().hex[:8]}"
    settings = settings_for(kafka_bootstrap, tmp_path, run)
    renamed = [(story, list(story.events)) for story in riat_stories(1)]
    provision(settings, [])
    publish_events(settings, sorted((e for _, es in renamed for e in es), key=lambda e: e.occurred_at))
    config = OutboundConfig(targets=("riat",))
    options = OutboundOptions(application=f"{run}.outbound", instance="t", idle_exit_s=2.5, clock=EventTimeClock())
    run_outbound(settings, config, default_codecs(settings), options)

    with RiatServer() as server:
        delivery = DeliverySettings(
            transport_options={"url": server.referrals_url, "read_timeout_s": 2.0},
            retry=RetryPolicy(initial_backoff_s=0.05, max_backoff_s=0.5, jitter_s=0.05, deadline_s=30.0),
            application=f"{run}.deliver",
            instance="t",
            idle_exit_s=2.5,
        )
        transport = build_transport("http", delivery.transport_options)
        try:
            stats = run_delivery(settings, "riat", transport, delivery)
        finally:
            transport.close()
        received = server.referrals
    assert stats.dead_letters == 0
    by_referral: dict[str, list[tuple[str, dict[str, object]]]] = defaultdict(list)
    for arrival in received:
        document = json.loads(arrival.body)
        by_referral[document["referral_id"]].append((arrival.kind, document))
    expected: dict[str, list[tuple[str, dict[str, object]]]] = defaultdict(list)
    for story, _ in renamed:
        for message in story.messages:
            expected[str(message.document["referral_id"])].append((message.kind, message.document))
    assert sum(len(v) for v in expected.values()) >= 6
    assert dict(by_referral) == dict(expected)
    # The consent-refused story's referral never left, and is not in the index either.
    refused = {
        e.payload.referral_id
        for story, events in renamed
        if story.name == "consent-refused"
        for e in events
        if isinstance(e.payload, m.ReintegrationReferral)
    }
    assert refused
    assert not refused & set(by_referral)
    with ReferralIndex(settings.kafka, settings.topics.riat_referrals) as index:
        for referral_id in expected:
            assert len(index.entries(referral_id)) == 1, referral_id
        for referral_id in refused:
            assert index.entries(referral_id) == (), referral_id
