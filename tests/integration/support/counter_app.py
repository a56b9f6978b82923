"""A small stateful application on the state runtime, run as a process by the state tests.

Per key it counts the records (store ``counts``) and writes ``<key>=<count>`` to the output topic, so any state lost
or applied twice shows as a missing or repeated output; the first record of a key schedules an event-time timer
1 000 ms later whose firing writes ``fired:<key>``, so a timer fired twice or never shows too. Record values are
the event times (epoch milliseconds, decimal text).

    python -m tests.integration.support.counter_app BOOTSTRAP INPUT OUTPUT STATE_DIR INSTANCE [IDLE_EXIT_S [SESSION_S]]
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from confluent_kafka import Message
from confluent_kafka.admin import AdminClient

from gateway.kafka.producer import OutboundMessage
from gateway.kafka.settings import ConsumerSettings, KafkaSettings, TransactionSettings
from gateway.kafka.transactions import BatchLimits, TransactionalProcessor
from gateway.state import StateRuntime, StateSettings

TIMER_DELAY_MS = 1_000


def transform_for(runtime: StateRuntime, output: str):
    def transform(batch: list[Message]) -> list[OutboundMessage]:
        out: list[OutboundMessage] = []
        touched: set[int] = set()
        for m in batch:
            partition, key, time_ms = m.partition() or 0, m.key() or b"", int(m.value() or b"0")
            store = runtime.store("counts", partition)
            store.advance(time_ms)
            count = int(store.get(key) or b"0") + 1
            store.put(key, str(count).encode())
            if count == 1:
                store.schedule(key, "first", time_ms + TIMER_DELAY_MS)
            out.append(OutboundMessage(output, key, f"{key.decode()}={count}".encode()))
            touched.add(partition)
        for partition in sorted(touched):
            store = runtime.store("counts", partition)
            for key, name, _due in store.due_timers(store.stream_time_ms, 10_000):
                store.cancel(key, name)
                out.append(OutboundMessage(output, key, f"fired:{key.decode()}".encode()))
        return out + runtime.changes()

    return transform


def main(argv: list[str]) -> None:
    bootstrap, source, output, state_dir, instance = argv[:5]
    idle = float(argv[5]) if len(argv) > 5 else 5.0
    session_ms = int(float(argv[6]) * 1000) if len(argv) > 6 else 10_000
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    kafka = KafkaSettings(bootstrap_servers=bootstrap)
    app = f"counter-{source}"
    runtime = StateRuntime(kafka, StateSettings(directory=Path(state_dir), application=app, stores=("counts",)))
    runtime.ensure_changelogs_for(AdminClient(dict(kafka.to_librdkafka())), source)
    group = f"{app}-group"
    processor = TransactionalProcessor(
        kafka,
        ConsumerSettings(group_id=group, group_instance_id=f"{group}-{instance}", session_timeout_ms=session_ms),
        TransactionSettings(transactional_id=f"{app}-{instance}"),
        transform_for(runtime, output),
        topics=[source],
        limits=BatchLimits(max_records=200, max_wait_s=0.5),
        participant=runtime,
    )
    with processor:
        stats = processor.run(idle_timeout=idle)
    runtime.close()
    print(f"records_in={stats.records_in} restores={[(r.stores, r.records) for r in runtime.restores]}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
