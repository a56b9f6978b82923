"""Running a stateful consume-transform-produce service: the loop the detector and the outbound stage share.

One `TransactionalProcessor` over the service's input topics, with the state runtime as its transaction participant,
rebuilt after a fatal error and waited through broker outages up to a deadline.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

from gateway.errors import FatalError, TransientError
from gateway.kafka.retry import RetrySettings, retrying
from gateway.kafka.settings import ConsumerSettings, KafkaSettings, ProducerSettings, TransactionSettings
from gateway.kafka.transactions import BatchLimits, ProcessorStats, TransactionalProcessor, Transform
from gateway.observability import Observation, correlation_scope
from gateway.state.runtime import StateRuntime

__all__ = ["ServiceRun", "run_stateful"]

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ServiceRun:
    """How one process of a stateful service runs.

    Attributes:
        application: Names the transactional id and (by default) the consumer group.
        instance: Stable name of this process (its transactional id and static group member id).
        group_id: Consumer group of the processes sharing the partitions; None: the application name.
        idle_exit_s: Stop after this long without input; None runs until stopped.
        batch_records: Most records per transaction.
        outage_deadline_s: Longest broker outage to wait out before giving up.
        tick_s: Run the transform on an empty batch after this long without input (timers); None: never.
        session_timeout_s: Group session timeout. Members are static (KIP-345): a member that stops does not leave the
            group, so another instance taking over its partitions waits this long; a restart under the same
            ``instance`` does not.
    """

    application: str
    instance: str
    group_id: str | None = None
    idle_exit_s: float | None = None
    batch_records: int = 2_000
    outage_deadline_s: float = 600.0
    tick_s: float | None = None
    session_timeout_s: float = 45.0


def run_stateful(
    kafka: KafkaSettings,
    producer: ProducerSettings | None,
    runtime: StateRuntime,
    transform: Transform,
    topics: Sequence[str],
    run: ServiceRun,
    stop: threading.Event | None = None,
    observation: Observation | None = None,
    *,
    alert_header: str | None = None,
) -> ProcessorStats:
    """Process ``topics`` with ``transform`` until stopped, idle or failed for good; the runtime is closed at the end.

    Args:
        kafka: Connection settings.
        producer: Producer tuning.
        runtime: The service's state runtime, the processor's transaction participant.
        transform: The batch transform.
        topics: Input topics.
        run: Names, limits and time-outs.
        stop: Ends the run after the current batch.
        observation: Gets the committed batches' metrics, the consumer lag and the readiness; none by default.
        alert_header: Outputs with this header count as alerts of the rule it names (the detector).

    Raises:
        TransientError: An outage outlasted ``run.outage_deadline_s``.
    """
    stop = stop or threading.Event()
    group = run.group_id or run.application
    consumer = ConsumerSettings(
        group_id=group,
        group_instance_id=f"{group}-{run.instance}",
        session_timeout_ms=round(run.session_timeout_s * 1000),
    )
    txn = TransactionSettings(transactional_id=f"{run.application}-{run.instance}")
    outage = retrying(RetrySettings(max_attempts=10_000, deadline_s=run.outage_deadline_s, max_delay_s=5.0))
    total = ProcessorStats()
    observation = observation or Observation()
    observer = observation.observer(runtime, alert_header=alert_header)
    observed = observer.wrap(transform)
    probe = observation.probe(kafka.to_librdkafka(), group_id=group, partitions=observer.partitions)
    try:
        with probe, correlation_scope(f"{run.application}:{run.instance}"):
            for attempt in outage:
                with attempt:
                    proc = TransactionalProcessor(
                        kafka,
                        consumer,
                        txn,
                        observed,
                        topics=topics,
                        producer=producer,
                        limits=BatchLimits(max_records=run.batch_records, max_wait_s=1.0),
                        participant=observer,
                    )
                    try:
                        with proc:
                            proc.run(idle_timeout=run.idle_exit_s, stop=stop, tick_s=run.tick_s)
                    except FatalError as exc:
                        _log.warning("%s stopped (%s); rebuilding it", run.application, exc)
                        time.sleep(1.0)
                        raise TransientError(str(exc)) from exc
                    total += proc.stats
    finally:
        runtime.close()
    return total
