"""Durable keyed state on Kafka: SQLite stores per input partition, changelogs in the same transaction.

See ``gateway.state.runtime`` for how the pieces fit and ``gateway.state.store`` for why SQLite.
"""

from gateway.state.codec import AvroValueCodec, BytesCodec, ValueCodec
from gateway.state.runtime import StateRuntime, StateSettings, changelog_topic
from gateway.state.store import PartitionStore, StoreCorruptError

__all__ = [
    "AvroValueCodec",
    "BytesCodec",
    "PartitionStore",
    "StateRuntime",
    "StateSettings",
    "StoreCorruptError",
    "ValueCodec",
    "changelog_topic",
]
