"""The changelog record format: how a store's changes are written to its compacted topic and read back.

Each store writes every change to ``<application>.<store>.changelog``, partition for partition with its input. A
record's key says what changed, so compaction keeps exactly the latest state of each thing:

* ``k`` + key: an entry; the value is the entry's bytes (Avro single-object encoding), a tombstone deletes it;
  header ``gw.state.expires`` (epoch milliseconds, decimal text) carries its time-to-live.
* ``t`` + one byte name length + timer name + key: a timer; the value is its due time (epoch milliseconds,
  decimal text), a tombstone cancels it (or records that it fired).
* ``m:stream-time``: the partition's event-time clock (epoch milliseconds, decimal text), so that timers due while a
  partition moved or its process was down still fire, once, after a restore.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from gateway.kafka.producer import OutboundMessage

__all__ = [
    "EXPIRES_HEADER",
    "STREAM_TIME_KEY",
    "Change",
    "decode_change",
    "entry_change",
    "stream_time_change",
    "timer_change",
]

EXPIRES_HEADER = "gw.state.expires"
STREAM_TIME_KEY = b"m:stream-time"
_ENTRY, _TIMER = b"k", b"t"


@dataclass(frozen=True, slots=True)
class Change:
    """One changelog record, read back.

    Attributes:
        kind: ``entry``, ``timer`` or ``stream-time``.
        key: The entry's or the timer's key (empty for the stream time).
        name: The timer's name (empty otherwise).
        value: The entry's bytes; None for a tombstone.
        number: The timer's due time, an entry's expiry, or the stream time, in epoch milliseconds; None if none.
    """

    kind: Literal["entry", "timer", "stream-time"]
    key: bytes
    name: str
    value: bytes | None
    number: int | None


def entry_change(
    topic: str, partition: int, key: bytes, value: bytes | None, expires_ms: int | None
) -> OutboundMessage:
    """The changelog record of an entry written (``value``) or deleted (None)."""
    headers = () if expires_ms is None or value is None else ((EXPIRES_HEADER, str(expires_ms).encode()),)
    return OutboundMessage(topic, _ENTRY + key, value, headers, partition)


def timer_change(topic: str, partition: int, key: bytes, name: str, due_ms: int | None) -> OutboundMessage:
    """The changelog record of a timer scheduled (``due_ms``) or gone (None: cancelled or fired)."""
    encoded = name.encode()
    if not 0 < len(encoded) < 256:
        raise ValueError(f"a timer name takes 1 to 255 bytes: {name!r}")
    value = None if due_ms is None else str(due_ms).encode()
    return OutboundMessage(topic, _TIMER + bytes((len(encoded),)) + encoded + key, value, (), partition)


def stream_time_change(topic: str, partition: int, stream_time_ms: int) -> OutboundMessage:
    """The changelog record of a partition's event-time clock."""
    return OutboundMessage(topic, STREAM_TIME_KEY, str(stream_time_ms).encode(), (), partition)


def decode_change(key: bytes | None, value: bytes | None, headers: list[tuple[str, bytes]] | None) -> Change:
    """Read one changelog record.

    Raises:
        ValueError: The record is not one this format writes (a foreign producer wrote to the changelog).
    """
    if not key:
        raise ValueError("changelog record without a key")
    if key == STREAM_TIME_KEY:
        return Change("stream-time", b"", "", value, None if value is None else int(value))
    if key[:1] == _ENTRY:
        expires = next((int(v) for k, v in headers or () if k == EXPIRES_HEADER and v is not None), None)
        return Change("entry", key[1:], "", value, expires)
    if key[:1] == _TIMER and len(key) >= 2:
        end = 2 + key[1]
        if len(key) < end:
            raise ValueError("changelog timer record with a truncated name")
        return Change("timer", key[end:], key[2:end].decode(), value, None if value is None else int(value))
    raise ValueError(f"changelog record with an unknown key kind {key[:1]!r}")
