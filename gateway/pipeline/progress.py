"""How far each file has been ingested, kept on a compacted topic and written inside the ingest's transactions.

Because a batch's events, dead letters and its progress record commit in one transaction, the committed progress
is exactly what reached the topics: a restart after a crash resumes at the first record not committed, so nothing
is lost and nothing is duplicated.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

from gateway.kafka.producer import OutboundMessage
from gateway.kafka.reader import read_to_end
from gateway.kafka.settings import KafkaSettings

_EDGE = 1 << 20


@dataclass(frozen=True, slots=True)
class Progress:
    """Committed progress of one file.

    Attributes:
        records: Records of the file accounted for (events produced or dead-lettered), from the start.
        events: Events produced from them.
        dead_letters: Dead letters produced from them.
        complete: The whole file is accounted for.
        correlation_id: Correlation id of the ingest, kept across restarts.
    """

    records: int = 0
    events: int = 0
    dead_letters: int = 0
    complete: bool = False
    correlation_id: str = ""

    def encode(self) -> bytes:
        """The progress as a JSON message value."""
        return json.dumps(asdict(self), sort_keys=True).encode()

    @classmethod
    def decode(cls, value: bytes) -> Progress:
        """Read a progress message value."""
        return cls(**json.loads(value))


def file_identity(connector: str, path: Path) -> str:
    """A key that names a file's content cheaply: connector, name, size and a hash of its first and last MiB.

    Hashing a multi-gigabyte file whole would cost more than ingesting it; a file that changes in the middle
    but keeps its size, name, head and tail is not a case the drop directory protocol allows.
    """
    size = path.stat().st_size
    digest = hashlib.sha256()
    with path.open("rb") as f:
        digest.update(f.read(_EDGE))
        if size > _EDGE:
            f.seek(max(size - _EDGE, _EDGE))
            digest.update(f.read(_EDGE))
    return f"{connector}|{path.name}|{size}|{digest.hexdigest()[:20]}"


def progress_message(topic: str, file_id: str, progress: Progress) -> OutboundMessage:
    """The message that records a file's progress."""
    return OutboundMessage(topic=topic, key=file_id.encode(), value=progress.encode())


def read_progress(kafka: KafkaSettings, topic: str, *, timeout_s: float = 30.0) -> dict[str, Progress]:
    """Read the committed progress of every file (latest per key).

    Call it after ``init_transactions`` of the ingest's producer: that aborts whatever a crashed predecessor left
    open, so a ``read_committed`` read reaches the end of the topic instead of waiting at an open transaction.
    """
    found: dict[str, Progress] = {}
    for msg in read_to_end(kafka, topic, timeout_s=timeout_s):
        key, value = msg.key(), msg.value()
        if key is not None and value is not None:
            found[key.decode()] = Progress.decode(value)
    return found
