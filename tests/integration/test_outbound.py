"""The outbound stage on the real broker: generated stories give exactly their SIS, Eurodac and EES outcomes."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import subprocess
import time
import uuid
from collections import defaultdict
from pathlib import Path
from typing import cast

import pytest
from lxml import etree

from gateway.adapters.ees.ingest import EesIngest
from gateway.adapters.eurodac.config import EurodacConfig
from gateway.adapters.sis.render import allowed_elements
from gateway.codec.codec import EventCodec
from gateway.config import GatewaySettings, TopicNames
from gateway.delivery.plugins import build as build_transport
from gateway.delivery.settings import DeliverySettings, RetryPolicy
from gateway.delivery.worker import run_delivery
from gateway.devservices.eu_run import EuRun, compare, publish_events, read_outboxes, run_eu_path, story_key_of
from gateway.devservices.provision import provision
from gateway.errors import TransientError
from gateway.events import models as m
from gateway.kafka.reader import read_to_end
from gateway.monitor.clock import ManualClock
from gateway.outbound.config import OutboundConfig
from gateway.outbound.service import OutboundOptions, default_codecs, run_outbound
from gateway.samples.eu_stories import STORY_NAMES, ExitSpec, eu_stories, exit_records_xml
from gateway.testing import examples
from gateway.testing.http_target import FaultPlan, HttpTarget
from tests.integration.support.processes import SpawnGateway

pytestmark = pytest.mark.integration

SECRET = "outbound-test-secret"


def settings_for(bootstrap: str, tmp_path: Path, run: str, partitions: int = 3) -> GatewaySettings:
    topics = TopicNames(
        canonical=f"{run}.events",
        dlq_prefix=f"{run}.dlq.",
        raw_prefix=f"{run}.raw.",
        progress=f"{run}.progress",
        alerts=f"{run}.alerts",
        erasures=f"{run}.erasures",
        detector_dlq=f"{run}.dlq.detector",
        outbox_prefix=f"{run}.out.",
        outbox_dlq_prefix=f"{run}.dlq.out.",
        receipts=f"{run}.receipts",
        ees_inbound=f"{run}.in.ees",
        review=f"{run}.review",
        outbound_dlq=f"{run}.dlq.outbound",
        ees_documents=f"{run}.ees.documents",
        ees_dlq=f"{run}.dlq.ees",
        riat_referrals=f"{run}.riat.referrals",
        riat_dlq=f"{run}.dlq.riat",
        riat_progress=f"{run}.riat.progress",
        partitions=partitions,
    )
    return GatewaySettings(
        kafka={"bootstrap_servers": bootstrap},
        topics=topics,
        subject_key_secret=SECRET,
        state_dir=tmp_path / "state",
    )


CONFIG = OutboundConfig(eurodac=EurodacConfig(enabled=True))


def test_generated_stories_give_exactly_the_expected_messages(kafka_bootstrap: str, tmp_path: Path) -> None:
    run = f"ob-{uuid.uuid4().hex[:8]}"
    settings = settings_for(kafka_bootstrap, tmp_path, run)
    stories = eu_stories(3 * len(STORY_NAMES), story_key_of(settings))

    result = run_eu_path(settings, stories, CONFIG, tmp_path, application=f"{run}.outbound")

    assert compare(stories, result, CONFIG.targets) == []
    kinds = {x.kind for x in result.outbox["sis"]}
    assert kinds == {"CREATE", "UPDATE", "CONFIRMATION_OF_RETURN", "DELETE", "ENTRY_BAN_ALERT", "NON_RETURN"}
    assert {x.kind for x in result.outbox["eurodac"]} == {"AVRR_GRANTED", "AVRR_WITHDRAWN"}
    # Each SIS message carries only its closed list: every element is one its kind may have.
    for x in result.outbox["sis"]:
        names = {etree.QName(e).localname for e in etree.fromstring(x.body).iter() if isinstance(e.tag, str)}
        assert names <= allowed_elements(x.kind, CONFIG.sis), (x.kind, names - allowed_elements(x.kind, CONFIG.sis))
    # Nothing the stories hold outside the closed list leaves: the issuing authority, the names in a Eurodac update.
    for x in result.outbox["sis"] + result.outbox["eurodac"]:
        assert b"Immigration service" not in x.body
    for x in result.outbox["eurodac"]:
        assert b"SURNAME" not in x.body
    assert sum(s.records for s in result.ees) == len(stories.exits)

    # The whole path: the SIS and Eurodac outboxes delivered to a real local HTTP target that injects faults.
    plan = FaultPlan(seed=7, error_5xx=0.1, error_5xx_retry_after=0.05, timeout=0.05, drop=0.05, duplicate_ack=0.1)
    with HttpTarget(plan) as target:
        for name in CONFIG.targets:
            options = DeliverySettings(
                transport_options={"url": target.url, "read_timeout_s": 1.0},
                retry=RetryPolicy(initial_backoff_s=0.05, max_backoff_s=0.5, jitter_s=0.05, deadline_s=30.0),
                application=f"{run}.deliver",
                instance="t",
                idle_exit_s=2.5,
                batch_deadline_s=60.0,
            )
            transport = build_transport("http", options.transport_options)
            try:
                run_delivery(settings, name, transport, options)
            finally:
                transport.close()
        accepted = target.acceptances
    sent = result.outbox["sis"] + result.outbox["eurodac"]
    assert sorted(a.message_id for a in accepted) == sorted(x.message_id for x in sent), "each id accepted once"
    for key in {x.ordering_key for x in sent}:
        for name in CONFIG.targets:
            seqs = [a.sequence for a in accepted if a.ordering_key == key and a.target == name]
            assert seqs == sorted(seqs), f"{name} {key}: accepted out of order {seqs}"
    assert any(a.fault for a in target.arrivals), "the target injected faults"


def _decision_events(key: str, last_day: dt.date) -> list[m.CaseEvent]:
    issued = m.CaseEvent(
        event_id=uuid.uuid4(),
        event_type=m.EventType.RETURN_DECISION_ISSUED,
        occurred_at=dt.datetime(2026, 3, 2, 10, tzinfo=dt.UTC),
        recorded_at=dt.datetime(2026, 3, 2, 10, 5, tzinfo=dt.UTC),
        member_state="NL",
        source=m.Source(connector="test", version="0"),
        case_reference="NL-MON-1",
        subject_key=key,
        correlation_id="monitor-test",
        payload=m.ReturnDecisionIssued(
            decision_reference="D-MON-1",
            decision_date=dt.date(2026, 3, 2),
            issuing_authority="IND",
            legal_ground=m.LegalGround.ILLEGAL_STAY,
            voluntary_departure=m.VoluntaryDeparture(granted=True, last_day=last_day),
            entry_ban=m.EntryBan(imposed=False),
            identity=examples.identity(),
        ),
    )
    return [issued]


def _extension(key: str, new_last_day: dt.date, at: dt.datetime) -> m.CaseEvent:
    return m.CaseEvent(
        event_id=uuid.uuid4(),
        event_type=m.EventType.VOLUNTARY_DEPARTURE_EXTENDED,
        occurred_at=at,
        recorded_at=at,
        member_state="NL",
        source=m.Source(connector="test", version="0"),
        case_reference="NL-MON-1",
        subject_key=key,
        correlation_id="monitor-test",
        payload=m.VoluntaryDepartureExtended(
            decision_reference="D-MON-1", new_last_day=new_last_day, reason=m.ExtensionReason.LENGTH_OF_STAY
        ),
    )


def _non_returns(settings: GatewaySettings) -> list[m.CaseEvent]:
    codec = EventCodec()
    events = [codec.decode(x.value() or b"") for x in read_to_end(settings.kafka, settings.topics.canonical)]
    return [e for e in events if isinstance(e.payload, m.NonReturnRecorded)]


def _stage(settings: GatewaySettings, clock: ManualClock, instance: str, app: str) -> None:
    # Members are static: a short session lets instance "b" take over the stopped "a"'s partitions quickly.
    options = OutboundOptions(
        application=app, instance=instance, idle_exit_s=2.5, clock=clock, tick_s=0.3, session_timeout_s=6.0
    )
    run_outbound(settings, CONFIG, default_codecs(settings), options)


MIDNIGHT_AMSTERDAM = dt.datetime(2026, 3, 31, 22, tzinfo=dt.UTC)  # the end of 31 March in the Netherlands (CEST)


def test_a_period_that_ends_while_the_monitor_is_down_gives_one_non_return_after_restart(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    run = f"mon-{uuid.uuid4().hex[:8]}"
    settings = settings_for(kafka_bootstrap, tmp_path, run)
    provision(settings, [])
    publish_events(settings, _decision_events("subject-mon-1", dt.date(2026, 3, 31)))
    lateness = dt.timedelta(seconds=CONFIG.monitor.allowed_lateness_s)
    clock = ManualClock(int((MIDNIGHT_AMSTERDAM - dt.timedelta(days=1)).timestamp() * 1000))
    _stage(settings, clock, "a", f"{run}.outbound")
    assert _non_returns(settings) == []

    # Down while the period ends; the restart is another instance with no local files: it restores the timers
    # from the changelog.
    shutil.rmtree(settings.state_dir)
    clock.set(int((MIDNIGHT_AMSTERDAM + lateness + dt.timedelta(days=3)).timestamp() * 1000))
    _stage(settings, clock, "b", f"{run}.outbound")
    _stage(settings, clock, "a", f"{run}.outbound")

    (only,) = _non_returns(settings)
    assert only.payload.source is m.NonReturnSource.MONITOR
    assert only.payload.period_last_day == dt.date(2026, 3, 31)
    assert only.occurred_at == MIDNIGHT_AMSTERDAM
    sis = read_outboxes(settings, ("sis",))["sis"]
    assert [x.kind for x in sorted(sis, key=lambda x: x.sequence)] == ["CREATE", "NON_RETURN"]


def test_an_extension_after_the_last_day_but_within_lateness_moves_the_deadline(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    run = f"mon-{uuid.uuid4().hex[:8]}"
    settings = settings_for(kafka_bootstrap, tmp_path, run)
    provision(settings, [])
    key = "subject-mon-2"
    publish_events(settings, _decision_events(key, dt.date(2026, 3, 31)))
    clock = ManualClock(int((MIDNIGHT_AMSTERDAM + dt.timedelta(hours=2)).timestamp() * 1000))
    _stage(settings, clock, "a", f"{run}.outbound")
    assert _non_returns(settings) == [], "within the lateness nothing fires yet"

    # The extension, decided on the last day, reaches the gateway the morning after.
    publish_events(settings, [_extension(key, dt.date(2026, 4, 30), MIDNIGHT_AMSTERDAM - dt.timedelta(hours=3))])
    _stage(settings, clock, "a", f"{run}.outbound")
    clock.set(int((MIDNIGHT_AMSTERDAM + dt.timedelta(days=2)).timestamp() * 1000))
    _stage(settings, clock, "a", f"{run}.outbound")
    assert _non_returns(settings) == [], "the extension moved the deadline to 30 April"

    clock.set(int(dt.datetime(2026, 5, 2, tzinfo=dt.UTC).timestamp() * 1000))
    _stage(settings, clock, "a", f"{run}.outbound")
    (only,) = _non_returns(settings)
    assert only.payload.period_last_day == dt.date(2026, 4, 30)


def _toml(settings: GatewaySettings, state: Path) -> str:
    t = settings.topics
    names = "\n".join(f'{field} = "{value}"' for field, value in t.model_dump().items() if isinstance(value, str))
    return (
        f'subject_key_secret = "{SECRET}"\nstate_dir = "{state}"\n[kafka]\n'
        f'bootstrap_servers = "{settings.kafka.bootstrap_servers}"\n[topics]\n{names}\npartitions = {t.partitions}\n'
    )


@pytest.mark.slow
def test_two_processes_one_killed_mid_stream_give_exactly_the_expected_messages(
    kafka_bootstrap: str, tmp_path: Path, start: SpawnGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stage in two processes sharing the partitions, one killed with SIGKILL while it works: its partitions
    move to the other (restored from the changelog), and the outcome is exactly the stories' truth, no message twice."""
    monkeypatch.setenv("GATEWAY_KAFKA_CONSUMER_SESSION_TIMEOUT_MS", "8000")
    # The killed process's open transaction ends when the broker aborts it; the survivor's restore waits for that.
    monkeypatch.setenv("GATEWAY_KAFKA_TXN_TRANSACTION_TIMEOUT_MS", "10000")
    run = f"obk-{uuid.uuid4().hex[:8]}"
    settings = settings_for(kafka_bootstrap, tmp_path, run, partitions=4)
    stories = eu_stories(4 * len(STORY_NAMES), story_key_of(settings))
    provision(settings, [])
    publish_events(settings, stories.events)
    clock = tmp_path / "clock"
    clock.write_text("")
    app = f"{run}.outbound"
    configs = {}
    for instance in ("a", "b"):
        configs[instance] = tmp_path / f"{instance}.toml"
        configs[instance].write_text(_toml(settings, tmp_path / f"state-{instance}"))

    def stage(instance: str, log: str, idle: float) -> subprocess.Popen[bytes]:
        args = ["outbound", "--config", str(configs[instance]), "--application", app, "--instance", instance]
        args += ["--idle-exit", str(idle), "--batch-records", "10", "--clock", f"file:{clock}", "--tick", "0.5"]
        args += ["--session-timeout", "6"]  # static members: the killed one's partitions move after this long
        return start(args, tmp_path / f"{log}.log")

    def settle(log: str) -> None:
        final = stage("a", log, 4)
        assert final.wait(180) == 0, (tmp_path / f"{log}.log").read_text()[-3000:]

    procs = {i: stage(i, f"{i}-1", 4) for i in ("a", "b")}

    # Kill b once the stage has committed its first messages: it is then in the middle of the stream.
    def committed() -> int:
        try:
            return len(read_outboxes(settings, ("sis",))["sis"])
        except TransientError:
            return 0  # the stage has not created its outbox yet

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not committed():
        time.sleep(0.2)
    victim = procs["b"]
    assert victim.poll() is None, "the victim finished before it could be killed: make the stream longer"
    os.killpg(victim.pid, signal.SIGKILL)
    assert procs["a"].wait(180) == 0
    settle("settle-1")

    by_state: dict[str, list[ExitSpec]] = defaultdict(list)
    for spec in stories.exits:
        by_state[stories.persons[spec.person][0] if spec.person else "NL"].append(spec)
    summaries = []
    for state, specs in sorted(by_state.items()):
        drop = tmp_path / f"ees-{state}"
        drop.mkdir()
        (drop / "exits.xml").write_bytes(exit_records_xml(specs))
        job = EesIngest(settings, state)
        try:
            job.ensure_topics()
            summaries += [s for _, s in job.process_folder(drop)]
        finally:
            job.close()
    settle("settle-2")
    clock.write_text(str(int(stories.clock_after.timestamp() * 1000)))
    procs = {i: stage(i, f"{i}-3", 4) for i in ("a", "b")}
    for proc in procs.values():
        assert proc.wait(180) == 0

    result = EuRun(outbox=read_outboxes(settings, CONFIG.targets), ees=summaries)
    events = EventCodec()
    for x in read_to_end(settings.kafka, settings.topics.canonical):
        event = events.decode(x.value() or b"")
        if event.source.connector in (CONFIG.monitor.connector_name, "ees"):
            result.derived.append(event)
    for x in read_to_end(settings.kafka, settings.topics.review):
        headers = dict(cast(list[tuple[str, bytes]], x.headers() or []))
        result.reviews.append((headers.get("gw.review.reason", b"").decode(), ""))
    # The stage's default targets: Eurodac is off unless configured, so only SIS is compared here.
    assert compare(stories, result, ("sis",)) == []
