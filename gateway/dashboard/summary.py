"""The counts of a dead-letter topic, kept up to date in the process by reading only the dead letters added since.

The first refresh reads the topic from its start (once per process and connector); every later one reads the new
offsets only, so a page that shows the counts and the chart costs what arrived since the last page, not the size of
the topic. Memory is bounded by the distinct buckets (time slot x stage x error class x rule set), never by the
number of dead letters: no record is kept.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from gateway.dashboard.reading import Watermarks
from gateway.dashboard.views import Bucket, bucket_of
from gateway.dlq.tools import DeadLetterRecord

__all__ = ["OffsetSource", "Summary", "SummaryKeeper"]


class OffsetSource(Protocol):
    """What a summary reads: a topic's watermarks and offset ranges (`gateway.dashboard.reading.TopicReader`)."""

    def watermarks(self) -> Watermarks:
        """Low and high offsets per partition."""
        ...

    def read_ranges(self, ranges: Mapping[int, tuple[int, int]]) -> Iterable[DeadLetterRecord]:
        """Records at ``start <= offset < end`` per partition."""
        ...


@dataclass(frozen=True, slots=True)
class Summary:
    """The counts of one topic at a point in time.

    Attributes:
        counts: Dead letters per bucket (time slot of ``slot_minutes``, stage, error class, rule set).
        counted: Dead letters counted (may include some since deleted by the topic's retention).
        on_topic: Offsets the topic holds now (from its watermarks: an upper bound on the dead letters there).
        as_of: When the summary was last brought up to date.
        slot_minutes: Width of a time slot.
        read: Dead letters read by the refresh that made this summary (all of them on the first one).
    """

    counts: Mapping[Bucket, int]
    counted: int
    on_topic: int
    as_of: dt.datetime
    slot_minutes: int
    read: int = 0


@dataclass
class SummaryKeeper:
    """Keeps the summary of one topic: `refresh` reads what was added since the last refresh, under a lock.

    Args:
        source: The topic's reader.
        slot_minutes: Width of a time slot (the chart's bucket, which the chart may widen by doubling).
        clock: Current time (UTC).
    """

    source: OffsetSource
    slot_minutes: int
    clock: Callable[[], dt.datetime]
    _counts: Counter[Bucket] = field(default_factory=Counter)
    _next: dict[int, int] = field(default_factory=dict)
    _counted: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def refresh(self) -> Summary:
        """Count the dead letters added since the last refresh and return the summary.

        Raises:
            GatewayError: The topic cannot be read (the counts so far are kept; the next refresh goes on from them).
        """
        # One refresh at a time: two pages at once must not count the same offsets twice.
        with self._lock:
            # Not past the last record read: offsets of an open transaction above it are counted once committed
            # (a trailing transaction marker is read again each time, which costs one empty fetch).
            marks = self.source.watermarks()
            ranges = {p: (max(self._next.get(p, low), low), high) for p, (low, high) in marks.offsets.items()}
            read = 0
            for rec in self.source.read_ranges(ranges):
                if rec.offset < self._next.get(rec.partition, 0):
                    continue
                self._counts[bucket_of(rec, self.slot_minutes)] += 1
                self._next[rec.partition] = rec.offset + 1
                read += 1
            self._counted += read
            return Summary(dict(self._counts), self._counted, marks.total, self.clock(), self.slot_minutes, read)
