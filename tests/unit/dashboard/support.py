"""Dead letters made the way the pipeline makes them, and a fake backend that records what the app asks of it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from gateway.connectors.base import RawRecord
from gateway.dashboard import views
from gateway.dashboard.audit import AuditEntry
from gateway.dashboard.reading import Watermarks
from gateway.dashboard.summary import Summary
from gateway.dlq import DeadLetter
from gateway.dlq import headers as H
from gateway.dlq.tools import DeadLetterRecord
from gateway.errors import TransientError

T0_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z


def dead_letter(
    offset: int,
    *,
    stage: str = "map",
    error: str = "gateway.errors.MappingError",
    message: str = "unknown code",
    value: bytes = b"DE-1;X;ENTRY",
    rules: tuple[str, ...] = (),
    legal: tuple[str, ...] = (),
    minute: int = 0,
    partition: int = 0,
    encoding: str = "utf-8",
) -> DeadLetterRecord:
    record = RawRecord(value, "/in/export.csv", f"line {offset + 2}", index=offset, encoding=encoding)
    dead = DeadLetter(record, stage, error, message, rule_ids=rules, legal_references=legal)
    raw = tuple(
        H.dead_letter_headers(
            dead, connector="de-csv", connector_class="x.Csv", correlation_id="run-1", now_ms=T0_MS + minute * 60_000
        )
    )
    return DeadLetterRecord("t.dlq.de-csv", partition, offset, None, value, H.as_text(raw), raw)


def sample() -> list[DeadLetterRecord]:
    return [
        dead_letter(0, minute=0),
        dead_letter(1, minute=5, value=b"\xff\xfe\x00bad", stage="read", error="gateway.errors.ParseError"),
        dead_letter(
            2,
            minute=70,
            stage="validate",
            error="gateway.errors.RuleViolationError",
            message="departure before decision",
            rules=("DP-001", "VD-002"),
            legal=("Dir. 2008/115/EC Art. 7", "Dir. 2008/115/EC Art. 8"),
        ),
        dead_letter(3, minute=75, value="<script>alert(1)</script>;\u202egnp.exe".encode()),
    ]


@dataclass
class FakeBackend:
    records: list[DeadLetterRecord] = field(default_factory=sample)
    audits: list[AuditEntry] = field(default_factory=list)
    replays: list[frozenset[tuple[int, int]]] = field(default_factory=list)
    audit_fails: bool = False
    read_fails: bool = False

    def dlq_topic(self, connector: str) -> str:
        return f"t.dlq.{connector}"

    def raw_topic(self, connector: str) -> str:
        return f"t.raw.{connector}"

    # What the app asked for, to check that a page reads only what it shows.
    ranges_read: list[dict[int, tuple[int, int]]] = field(default_factory=list)
    offsets_read: list[tuple[int, int]] = field(default_factory=list)
    summaries: int = 0

    def _check(self) -> None:
        if self.read_fails:
            raise TransientError("broker away")

    def watermarks(self, connector: str) -> Watermarks:
        self._check()
        marks: dict[int, tuple[int, int]] = {}
        for r in self.records:
            low, high = marks.get(r.partition, (r.offset, r.offset + 1))
            marks[r.partition] = (min(low, r.offset), max(high, r.offset + 1))
        return Watermarks(marks)

    def read_ranges(self, connector: str, ranges: Mapping[int, tuple[int, int]]) -> list[DeadLetterRecord]:
        self._check()
        self.ranges_read.append(dict(ranges))
        return [
            r
            for r in self.records
            if r.partition in ranges and ranges[r.partition][0] <= r.offset < ranges[r.partition][1]
        ]

    def dead_letters_at(self, connector: str, refs: Iterable[tuple[int, int]]) -> list[DeadLetterRecord]:
        self._check()
        wanted = set(refs)
        self.offsets_read.extend(sorted(wanted))
        return [r for r in self.records if (r.partition, r.offset) in wanted]

    def summary(self, connector: str) -> Summary:
        self._check()
        self.summaries += 1
        counts = views.count_buckets(self.records, 60)
        at = dt.datetime(2026, 2, 1, 12, 0, tzinfo=dt.UTC)
        return Summary(counts, len(self.records), self.watermarks(connector).total, at, 60, len(self.records))

    def replay(self, connector: str, refs: frozenset[tuple[int, int]]) -> list[DeadLetterRecord]:
        self.replays.append(refs)
        return [r for r in self.records if (r.partition, r.offset) in refs]

    def audit(self, entry: AuditEntry) -> None:
        if self.audit_fails:
            raise TransientError("audit topic away")
        self.audits.append(entry)
