"""The state runtime: keyed stores per assigned input partition, kept exactly once with the outputs.

It is the thin glue between three libraries: SQLite keeps each store's files, fastavro encodes the values, and
Kafka transactions make the changelog records, the outputs and the input offsets commit together. It plugs into
``gateway.kafka.transactions.TransactionalProcessor`` as its ``participant``:

* on assignment, each store of each newly assigned partition is opened (a file that cannot be trusted is deleted)
  and restored from its changelog, from the local checkpoint when the file is there and current, from the start
  otherwise; the processor reads no record of that partition before;
* during a batch the application reads and writes through `StateRuntime.store`; `StateRuntime.changes` adds the
  changelog records to the batch's outputs;
* after the Kafka transaction commits, each store commits its SQLite transaction with its new checkpoint; after an
  abort, it rolls back, so the redone batch sees the state as it was;
* on revocation (or a lost assignment) the partition's stores are closed: their files stay, current, for the next
  assignment.

Partitions of several input topics with the same number share one set of stores (co-partitioned topics, as in
Kafka Streams): the inputs must then be keyed alike and have as many partitions.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from confluent_kafka import TopicPartition
from confluent_kafka.admin import AdminClient

from gateway.errors import ConfigError
from gateway.kafka.producer import OutboundMessage
from gateway.kafka.settings import KafkaSettings
from gateway.kafka.topics import TopicSpec, TopicsReport, ensure_topics
from gateway.state.restore import RestoreStats, restore
from gateway.state.store import PartitionStore, StoreCorruptError

__all__ = ["StateRuntime", "StateSettings", "changelog_topic"]

_log = logging.getLogger(__name__)

# How long the broker keeps a changelog tombstone after compaction. A local file whose checkpoint is older than
# this may have missed deletions whose tombstones are gone, so it is rebuilt rather than trusted.
_TOMBSTONE_RETENTION_MS = 7 * 24 * 3600 * 1000


def changelog_topic(application: str, store: str) -> str:
    """The changelog topic of a store: ``<application>.<store>.changelog``."""
    return f"{application}.{store}.changelog"


@dataclass(frozen=True, slots=True)
class StateSettings:
    """Where and how an application keeps its state.

    Attributes:
        directory: Folder of the store files (``<directory>/<application>/<store>/<partition>.sqlite``).
        application: Names the changelog topics and the restore consumer group; one per deployment of an app.
        stores: Names of the application's stores.
        verify: When to check a file's integrity on opening it (see ``PartitionStore``).
        replication_factor: Of the changelog topics the runtime creates.
        tombstone_retention_ms: ``delete.retention.ms`` of the changelog topics; files older are rebuilt.
    """

    directory: Path
    application: str
    stores: tuple[str, ...]
    verify: Literal["always", "after-crash", "never"] = "after-crash"
    replication_factor: int = 1
    tombstone_retention_ms: int = _TOMBSTONE_RETENTION_MS

    def __post_init__(self) -> None:
        if not self.stores or len(set(self.stores)) != len(self.stores):
            raise ValueError(f"store names must be given once each: {self.stores}")


@dataclass(slots=True)
class _Partition:
    stores: dict[str, PartitionStore]
    topics: set[str] = field(default_factory=set)


class StateRuntime:
    """An application's stores, per assigned input partition (see the module docstring).

    Args:
        kafka: Connection settings (the restore consumer uses them).
        settings: Where and which stores.
    """

    def __init__(self, kafka: KafkaSettings, settings: StateSettings) -> None:
        self._kafka = kafka
        self.settings = settings
        self._partitions: dict[int, _Partition] = {}
        self.restores: list[RestoreStats] = []

    # -- topics ----------------------------------------------------------------------------------------------------

    def changelog(self, store: str) -> str:
        """The changelog topic of one of this application's stores."""
        return changelog_topic(self.settings.application, store)

    def ensure_changelogs(self, admin: AdminClient, partitions: int) -> TopicsReport:
        """Create the changelog topics (compacted, one partition per input partition) where missing.

        Raises:
            TopicLayoutError: A changelog exists with another partition count than the input's.
        """
        specs = [
            TopicSpec(
                name=self.changelog(name),
                partitions=partitions,
                replication_factor=self.settings.replication_factor,
                cleanup_policy="compact",
                configs={"delete.retention.ms": str(self.settings.tombstone_retention_ms)},
            )
            for name in self.settings.stores
        ]
        return ensure_topics(admin, specs)

    def ensure_changelogs_for(self, admin: AdminClient, source: str, *, timeout_s: float = 30.0) -> TopicsReport:
        """Create the changelog topics with as many partitions as the input topic ``source`` has.

        Raises:
            ConfigError: The input topic does not exist.
        """
        topic = admin.list_topics(source, timeout=timeout_s).topics.get(source)
        if topic is None or topic.error is not None or not topic.partitions:
            raise ConfigError(f"input topic {source} does not exist")
        return self.ensure_changelogs(admin, len(topic.partitions))

    # -- the application's view --------------------------------------------------------------------------------------

    def store(self, name: str, partition: int) -> PartitionStore:
        """The store ``name`` of an assigned partition.

        Raises:
            KeyError: The partition is not assigned to this process (a bug: records are only handed out for
                assigned partitions), or no store has that name.
        """
        return self._partitions[partition].stores[name]

    @property
    def partitions(self) -> tuple[int, ...]:
        """The input partitions whose stores are open."""
        return tuple(sorted(self._partitions))

    def changes(self) -> list[OutboundMessage]:
        """The changelog records of every store's open transaction."""
        return [m for part in self._partitions.values() for s in part.stores.values() for m in s.changes()]

    # -- the processor's hooks (TransactionParticipant) ----------------------------------------------------------

    def assigned(self, partitions: Sequence[TopicPartition]) -> None:
        """Open and restore the stores of newly assigned partitions."""
        fresh: list[PartitionStore] = []
        for tp in partitions:
            part = self._partitions.get(tp.partition)
            if part is None:
                stores = {name: self._open(name, tp.partition) for name in self.settings.stores}
                part = self._partitions[tp.partition] = _Partition(stores)
                fresh.extend(stores.values())
            part.topics.add(tp.topic)
        if fresh:
            group = f"{self.settings.application}.restore"
            self.restores.append(restore(self._kafka, group, fresh, self._wipe_and_replace))

    def revoked(self, partitions: Sequence[TopicPartition]) -> None:
        """Close the stores of partitions no longer assigned (after the open transaction was aborted)."""
        for tp in partitions:
            part = self._partitions.get(tp.partition)
            if part is None:
                continue
            part.topics.discard(tp.topic)
            if not part.topics:
                for s in part.stores.values():
                    s.close()
                del self._partitions[tp.partition]

    def committed(self, delivered: Mapping[tuple[str, int], int]) -> None:
        """Commit every store's transaction, its checkpoint the last changelog offset the Kafka commit delivered."""
        for part in self._partitions.values():
            for s in part.stores.values():
                s.commit(delivered.get((s.changelog, s.partition)))

    def aborted(self) -> None:
        """Roll every store's transaction back."""
        for part in self._partitions.values():
            for s in part.stores.values():
                s.rollback()

    def close(self) -> None:
        """Close every store (rolling back anything open)."""
        for part in self._partitions.values():
            for s in part.stores.values():
                s.close()
        self._partitions.clear()

    # -- files -----------------------------------------------------------------------------------------------------

    def path(self, store: str, partition: int) -> Path:
        """The file of one store partition."""
        return self.settings.directory / self.settings.application / store / f"{partition}.sqlite"

    def _open(self, name: str, partition: int) -> PartitionStore:
        path, topic = self.path(name, partition), self.changelog(name)
        try:
            store = PartitionStore(path, topic, partition, verify=self.settings.verify)
        except StoreCorruptError as exc:
            _log.warning("state file cannot be trusted, rebuilding it from %s: %s", topic, exc)
            _delete(path)
            return PartitionStore(path, topic, partition, verify="never")
        age = None if store.committed_at_ms is None else int(time.time() * 1000) - store.committed_at_ms
        if age is not None and age > self.settings.tombstone_retention_ms:
            _log.warning(
                "%s was last written %.1f days ago, longer than tombstones are kept; rebuilding it", path, age / 864e5
            )
            return self._wipe_and_replace(store)
        return store

    def _wipe_and_replace(self, store: PartitionStore) -> PartitionStore:
        store.close()
        _delete(store.path)
        fresh = PartitionStore(store.path, store.changelog, store.partition, verify="never")
        for part in self._partitions.values():
            for name, s in part.stores.items():
                if s is store:
                    part.stores[name] = fresh
        return fresh


def _delete(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        with contextlib.suppress(FileNotFoundError):
            Path(f"{path}{suffix}").unlink()
