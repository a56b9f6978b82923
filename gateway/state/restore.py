"""Restoring stores from their changelogs: read each assigned changelog partition from the checkpoint to its end.

``read_committed`` with ``enable.partition.eof``: the end is the last stable offset, so an aborted or still open
transaction (a fenced predecessor's) is never applied. Records are applied in chunks, each chunk one SQLite
transaction that also moves the checkpoint, so a restore interrupted by a crash resumes where it stopped.

The last stable offset stops at the first record of a transaction still open, and records committed after it by
another producer are then invisible too. A process killed with SIGKILL leaves its transaction open until the broker
aborts it (``transaction.timeout.ms``), unless a restart with the same transactional id fences it first; if its
partitions moved to another process meanwhile, that process's own later commits sit behind the open transaction.
Restoring "to the end" then would silently stop short of committed state. So a restore first waits until no
transaction is open on its changelog partitions (the last stable offset equals the high watermark), and only then
checks the checkpoint against the partition's offsets and reads to its end.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, TopicPartition

from gateway.errors import ConfigError
from gateway.kafka.retry import classify, error_of
from gateway.kafka.settings import KafkaSettings
from gateway.state.changelog import Change, decode_change
from gateway.state.store import PartitionStore

__all__ = ["RestoreStats", "restore"]

_log = logging.getLogger(__name__)
_CHUNK = 5_000


@dataclass(frozen=True, slots=True)
class RestoreStats:
    """What a restore did.

    Attributes:
        stores: Store partitions restored.
        records: Changelog records applied.
        seconds: Time taken.
    """

    stores: int
    records: int
    seconds: float


def restore(
    kafka: KafkaSettings,
    group: str,
    stores: Sequence[PartitionStore],
    wipe: Callable[[PartitionStore], PartitionStore],
    *,
    stall_s: float = 60.0,
    open_transactions_s: float = 960.0,
) -> RestoreStats:
    """Bring each store up to the end of its changelog partition, starting after its checkpoint.

    A checkpoint outside the changelog partition's offsets (the topic was deleted and made again, or its start was
    deleted) means the file describes another history: it is wiped and the store restored from the beginning.

    Args:
        kafka: Connection settings.
        group: Group id for the restore consumer (it never commits).
        stores: Open stores; each reads ``store.changelog`` partition ``store.partition``.
        wipe: Deletes a store's file and returns the store opened afresh.
        stall_s: Give up (``TransientError``) after this long without a record or an end of partition: a broker
            that went away while the restore ran. A large restore that keeps moving is never cut short; the
            caller's outage policy decides what happens next.
        open_transactions_s: Longest wait for transactions left open on the changelog partitions (a killed
            predecessor's) to end; the broker aborts them after their ``transaction.timeout.ms`` (at most 900 s).

    Raises:
        TransientError: The broker did not answer in time.
        ValueError: A changelog record is not in the gateway's format.
    """
    started = time.monotonic()
    if not stores:
        return RestoreStats(0, 0, 0.0)
    config = {
        **kafka.to_librdkafka(),
        "group.id": group,
        "enable.auto.commit": False,
        "enable.partition.eof": True,
        "isolation.level": "read_committed",
        "auto.offset.reset": "earliest",
    }
    consumer = Consumer(config)
    applied = 0
    try:
        _require_topics(consumer, {s.changelog for s in stores})
        _await_no_open_transactions(kafka, consumer, stores, open_transactions_s)
        by_partition = {(s.changelog, s.partition): _trusted(consumer, s, wipe) for s in stores}
        consumer.assign(
            [
                TopicPartition(t, p, OFFSET_BEGINNING if s.checkpoint is None else s.checkpoint + 1)
                for (t, p), s in by_partition.items()
            ]
        )
        pending: dict[tuple[str, int], list[Change]] = {k: [] for k in by_partition}
        last: dict[tuple[str, int], int] = {}
        open_partitions = set(by_partition)
        progress = time.monotonic()
        while open_partitions:
            if time.monotonic() - progress > stall_s:
                stalled = KafkaError(KafkaError._TIMED_OUT, f"restore made no progress for {stall_s:.0f} s")
                raise classify(stalled, "restore")
            # A short wait: consume() waits out its whole timeout unless the batch fills, and a restore of a
            # nearly current store is a handful of records and an end-of-partition event.
            for message in consumer.consume(10_000, 0.1):
                progress = time.monotonic()
                where = (message.topic() or "", message.partition() or 0)
                error = message.error()
                if error is not None:
                    if error.code() == KafkaError._PARTITION_EOF:
                        open_partitions.discard(where)
                        continue
                    raise classify(error, "restore")
                headers = message.headers()
                pending[where].append(decode_change(message.key(), message.value(), headers))  # type: ignore[arg-type]
                last[where] = message.offset() or 0
                if len(pending[where]) >= _CHUNK:
                    applied += by_partition[where].apply(pending[where], last[where])
                    pending[where] = []
        for where, changes in pending.items():
            if changes:
                applied += by_partition[where].apply(changes, last[where])
    except KafkaException as exc:
        raise classify(error_of(exc), "restore") from exc
    finally:
        consumer.close()
    seconds = time.monotonic() - started
    _log.info("restored %d store partition(s): %d changelog record(s) in %.1f s", len(stores), applied, seconds)
    return RestoreStats(len(stores), applied, seconds)


def _trusted(
    consumer: Consumer, store: PartitionStore, wipe: Callable[[PartitionStore], PartitionStore]
) -> PartitionStore:
    if store.checkpoint is None:
        return store
    low, high = consumer.get_watermark_offsets(TopicPartition(store.changelog, store.partition), timeout=30.0)
    if store.checkpoint >= high or store.checkpoint + 1 < low:
        _log.warning(
            "%s: checkpoint %d lies outside %s[%d] offsets %d..%d; rebuilding the store from the changelog",
            store.path,
            store.checkpoint,
            store.changelog,
            store.partition,
            low,
            high,
        )
        return wipe(store)
    return store


def _await_no_open_transactions(
    kafka: KafkaSettings, committed: Consumer, stores: Sequence[PartitionStore], timeout_s: float
) -> None:
    """Wait until every changelog partition's last stable offset reaches its high watermark (see the module doc)."""
    uncommitted = Consumer(
        {**kafka.to_librdkafka(), "group.id": "gateway-restore-probe", "isolation.level": "read_uncommitted"}
    )
    try:
        deadline = time.monotonic() + timeout_s
        waiting = [TopicPartition(s.changelog, s.partition) for s in stores]
        announced = False
        while True:
            # A read_committed consumer's high watermark is the last stable offset.
            waiting = [
                tp
                for tp in waiting
                if committed.get_watermark_offsets(tp, timeout=30.0, cached=False)[1]
                < uncommitted.get_watermark_offsets(tp, timeout=30.0, cached=False)[1]
            ]
            if not waiting:
                return
            if not announced:
                _log.warning(
                    "waiting for transactions left open on %s (a killed predecessor's) to end before restoring",
                    ", ".join(f"{tp.topic}[{tp.partition}]" for tp in waiting),
                )
                announced = True
            if time.monotonic() > deadline:
                stuck = KafkaError(KafkaError._TIMED_OUT, f"transactions still open on {len(waiting)} changelog(s)")
                raise classify(stuck, "restore")
            time.sleep(0.5)
    finally:
        uncommitted.close()


def _require_topics(consumer: Consumer, topics: set[str]) -> None:
    """Fail at once on a missing changelog: a restore would otherwise wait for an end that never comes."""
    known = consumer.list_topics(timeout=30.0).topics
    missing = sorted(t for t in topics if t not in known or known[t].error is not None)
    if missing:
        raise ConfigError(f"changelog topic(s) missing: {missing}; create them (StateRuntime.ensure_changelogs)")
