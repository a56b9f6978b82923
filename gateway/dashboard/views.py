"""View models of the dashboard: pure functions from dead-letter records to what the pages show.

Nothing here does I/O: the records come in (read by `gateway.dlq.tools`), the models go out to the templates.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator

from gateway.dashboard.preview import Preview, escape_text, preview
from gateway.dlq import headers as H
from gateway.dlq.tools import STAGES, DeadLetterRecord

__all__ = [
    "Bar",
    "Bucket",
    "Chart",
    "DeadLetterView",
    "Dimension",
    "Filters",
    "HeaderRow",
    "Overview",
    "apply_filters",
    "bucket_of",
    "chart",
    "chart_of",
    "count_buckets",
    "dimension_value",
    "failed_at_ms",
    "header_rows",
    "overview",
    "overview_of",
    "parse_refs",
    "select_buckets",
    "view",
]

HEADER_MEANINGS: dict[str, str] = {
    H.TOPIC: "topic the record came from",
    H.PARTITION: "its partition",
    H.OFFSET: "its offset",
    H.CONNECTOR: "connector (or stage) that failed it",
    H.STAGE: "stage that failed",
    H.CLASS: "connector class",
    H.EXC_CLASS: "error class",
    H.EXC_MESSAGE: "what is wrong",
    H.EXC_TRACE: "short trace, for a developer",
    H.SOURCE_FILE: "the input file",
    H.SOURCE_POSITION: "where in the file",
    H.SOURCE_INDEX: "record index in the file (0-based)",
    H.SOURCE_ENCODING: "the file's text encoding",
    H.SOURCE_CONTEXT: "the file's header line",
    H.RULE_IDS: "failed validation rules",
    H.LEGAL_REFS: "their legal references",
    H.TIMESTAMP: "when it failed (epoch ms)",
    H.CORRELATION: "run or replay it belongs to",
    H.REPLAYED_FROM: "dead letter it was replayed from",
    H.ORIGINAL_LENGTH: "length of the whole original record",
    H.ORIGINAL_SHA256: "SHA-256 of the whole original record",
}
"""The meaning of each header the gateway writes on a dead letter (README's ``gw.*`` table, Connect's names)."""

# A header value is shown in full on the detail page up to this many characters (the context line of a wide CSV).
_HEADER_VALUE_LIMIT = 2000


class Dimension(StrEnum):
    """What the chart and the counts break dead letters down by."""

    STAGE = "stage"
    ERROR = "error"
    RULE = "rule"


class Filters(BaseModel):
    """The filter form. Sent by POST: a message search could carry personal data, which must not go in a URL.

    Attributes:
        stage: Only this stage (case-insensitive), or empty.
        error: Only this error class (short name), or empty.
        rule: Only dead letters of this rule id, or empty.
        text: Only those whose message or source position contains this text (case-insensitive), or empty.
    """

    model_config = ConfigDict(frozen=True, extra="ignore", str_strip_whitespace=True)

    stage: str = Field("", max_length=40)
    error: str = Field("", max_length=200)
    rule: str = Field("", max_length=40)
    text: str = Field("", max_length=200)

    @field_validator("stage")
    @classmethod
    def _known_stage(cls, value: str) -> str:
        if value and value.lower() not in STAGES:
            raise ValueError(f"unknown stage; valid stages: {', '.join(STAGES)}")
        return value.lower()

    @property
    def active(self) -> bool:
        """Whether any criterion is set."""
        return bool(self.stage or self.error or self.rule or self.text)


@dataclass(frozen=True, slots=True)
class DeadLetterView:
    """One dead letter as the pages show it.

    Attributes:
        partition: Partition on the dead-letter topic.
        offset: Offset there; with the partition, the dead letter's id in every URL and form.
        stage: Stage that failed it (lower case).
        error: Error class, short name.
        message: What is wrong.
        rules: Failed rule ids.
        legal_references: Their legal references, in the same order.
        source: Input file or topic.
        position: Where in it.
        failed_at: When it failed (UTC), if recorded.
        correlation: Run or replay it belongs to.
        replay_chain: ``gw.replay.from`` values, oldest first.
        preview: A safe preview of the original bytes.
        original_length: Length of the whole record when the value is only its start.
    """

    partition: int
    offset: int
    stage: str
    error: str
    message: str
    rules: tuple[str, ...]
    legal_references: tuple[str, ...]
    source: str
    position: str
    failed_at: dt.datetime | None
    correlation: str
    replay_chain: tuple[str, ...]
    preview: Preview
    original_length: int | None

    @property
    def ref(self) -> str:
        """``PARTITION:OFFSET``, as ``gateway dlq inspect --at`` takes it."""
        return f"{self.partition}:{self.offset}"


def _failed_at(headers: dict[str, str]) -> dt.datetime | None:
    try:
        return dt.datetime.fromtimestamp(int(headers[H.TIMESTAMP]) / 1000, dt.UTC)
    except (KeyError, ValueError, OverflowError, OSError):
        return None


def failed_at_ms(rec: DeadLetterRecord) -> int:
    """When a dead letter failed, epoch milliseconds; 0 when it does not say (sorts as the oldest)."""
    return _int_or_none(rec.headers.get(H.TIMESTAMP)) or 0


def _int_or_none(text: str | None) -> int | None:
    try:
        return None if text is None else int(text)
    except ValueError:
        return None


def view(rec: DeadLetterRecord, *, text_limit: int = 4096) -> DeadLetterView:
    """The page model of one dead letter: its headers decoded, its bytes previewed safely."""
    h = rec.headers
    return DeadLetterView(
        partition=rec.partition,
        offset=rec.offset,
        stage=h.get(H.STAGE, "?").lower(),
        error=h.get(H.EXC_CLASS, "?").rsplit(".", 1)[-1],
        message=h.get(H.EXC_MESSAGE, ""),
        rules=tuple(filter(None, h.get(H.RULE_IDS, "").split(","))),
        legal_references=tuple(filter(None, (r.strip() for r in h.get(H.LEGAL_REFS, "").split(" | ")))),
        source=h.get(H.SOURCE_FILE) or h.get(H.TOPIC, "?"),
        position=h.get(H.SOURCE_POSITION, ""),
        failed_at=_failed_at(h),
        correlation=h.get(H.CORRELATION, ""),
        replay_chain=tuple(v.decode("utf-8", "replace") for k, v in rec.raw_headers if k == H.REPLAYED_FROM),
        preview=preview(rec.value, h.get(H.SOURCE_ENCODING, "utf-8"), text_limit=text_limit),
        original_length=_int_or_none(h.get(H.ORIGINAL_LENGTH)),
    )


@dataclass(frozen=True, slots=True)
class HeaderRow:
    """One header on the detail page: name, value (safe text), what it means."""

    name: str
    value: str
    meaning: str


def header_rows(rec: DeadLetterRecord) -> list[HeaderRow]:
    """Every header of a dead letter in order, decoded as text (unsafe characters escaped), with its meaning."""
    rows = []
    for name, raw in rec.raw_headers:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            value = f"(binary, {len(raw)} bytes) {raw[:32].hex(' ')}"
        else:
            value = escape_text(text[:_HEADER_VALUE_LIMIT])
            if len(text) > _HEADER_VALUE_LIMIT:
                value += f"… ({len(raw)} bytes)"
        rows.append(HeaderRow(escape_text(name), value, HEADER_MEANINGS.get(name, "")))
    return rows


def dimension_value(rec: DeadLetterRecord, by: Dimension) -> list[str]:
    """The value(s) of a dead letter along a dimension; a dead letter without rules counts as ``(none)``."""
    h = rec.headers
    if by is Dimension.STAGE:
        return [h.get(H.STAGE, "?").lower()]
    if by is Dimension.ERROR:
        return [h.get(H.EXC_CLASS, "?").rsplit(".", 1)[-1]]
    return list(filter(None, h.get(H.RULE_IDS, "").split(","))) or ["(none)"]


def apply_filters(records: Iterable[DeadLetterRecord], filters: Filters) -> list[DeadLetterRecord]:
    """The records that meet every criterion of ``filters``, in their order."""
    text = filters.text.lower()
    out = []
    for rec in records:
        h = rec.headers
        if filters.stage and h.get(H.STAGE, "").lower() != filters.stage:
            continue
        if filters.error and h.get(H.EXC_CLASS, "").rsplit(".", 1)[-1] != filters.error:
            continue
        if filters.rule and filters.rule not in h.get(H.RULE_IDS, "").split(","):
            continue
        if text and text not in h.get(H.EXC_MESSAGE, "").lower() and text not in h.get(H.SOURCE_POSITION, "").lower():
            continue
        out.append(rec)
    return out


@dataclass(frozen=True, slots=True)
class Bucket:
    """What the counts and the chart need of a dead letter, without the dead letter: a summary holds counts of these.

    Memory is bounded by the distinct buckets (time slots x stages x error classes x rule sets), not by records.

    Attributes:
        minute: Start of its time slot, minutes since the epoch (a multiple of the slot width); None when undated.
        stage: Stage that failed it (lower case).
        error: Error class, short name.
        rules: Failed rule ids.
    """

    minute: int | None
    stage: str
    error: str
    rules: tuple[str, ...]

    def values(self, by: Dimension) -> list[str]:
        """Its value(s) along a dimension, as `dimension_value` gives them for a record."""
        if by is Dimension.STAGE:
            return [self.stage]
        if by is Dimension.ERROR:
            return [self.error]
        return list(self.rules) or ["(none)"]


def bucket_of(rec: DeadLetterRecord, slot_minutes: int) -> Bucket:
    """The bucket a dead letter counts in, its failure time cut to ``slot_minutes``."""
    h = rec.headers
    ms = _int_or_none(h.get(H.TIMESTAMP))
    minute = None if ms is None else ms // 60_000 // slot_minutes * slot_minutes
    return Bucket(
        minute,
        h.get(H.STAGE, "?").lower(),
        h.get(H.EXC_CLASS, "?").rsplit(".", 1)[-1],
        tuple(filter(None, h.get(H.RULE_IDS, "").split(","))),
    )


def count_buckets(records: Iterable[DeadLetterRecord], slot_minutes: int) -> Counter[Bucket]:
    """Dead letters counted per bucket."""
    return Counter(bucket_of(rec, slot_minutes) for rec in records)


def select_buckets(counts: Mapping[Bucket, int], filters: Filters) -> dict[Bucket, int]:
    """The counts that meet the stage, error and rule criteria (the text criterion needs the records themselves)."""
    return {
        b: n
        for b, n in counts.items()
        if (not filters.stage or b.stage == filters.stage)
        and (not filters.error or b.error == filters.error)
        and (not filters.rule or filters.rule in b.rules)
    }


@dataclass(frozen=True, slots=True)
class Overview:
    """Counts over the dead letters of one topic (after filters).

    Attributes:
        total: Dead letters.
        by_stage: Count per stage, most first.
        by_error: Count per error class.
        by_rule: Count per rule id.
    """

    total: int
    by_stage: list[tuple[str, int]]
    by_error: list[tuple[str, int]]
    by_rule: list[tuple[str, int]]


def overview(records: Sequence[DeadLetterRecord]) -> Overview:
    """Count dead letters by stage, error class and rule."""
    return overview_of(count_buckets(records, 1))


def overview_of(counts: Mapping[Bucket, int]) -> Overview:
    """Count dead letters by stage, error class and rule, from bucket counts (a summary's, or records')."""
    by = {d: Counter[str]() for d in Dimension}
    total = 0
    for bucket, n in counts.items():
        total += n
        for d in Dimension:
            if d is Dimension.RULE and not bucket.rules:
                continue
            for value in bucket.values(d):
                by[d][value] += n
    return Overview(
        total, by[Dimension.STAGE].most_common(), by[Dimension.ERROR].most_common(), by[Dimension.RULE].most_common()
    )


@dataclass(frozen=True, slots=True)
class Bar:
    """One segment of a stacked bar: its series, count and rectangle in the SVG's coordinates."""

    series: int
    label: str
    start: dt.datetime
    count: int
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True, slots=True)
class Chart:
    """A stacked bar chart of dead letters per time bucket, laid out for an inline SVG (no script needed).

    Attributes:
        by: The dimension of the series.
        series: Series labels; a bar's ``series`` indexes this list (and picks its colour class).
        bars: The segments.
        width: SVG width.
        height: SVG height.
        max_count: The tallest bucket.
        first: Start of the first bucket.
        last: Start of the last bucket.
        bucket_minutes: Width of a bucket.
        undated: Dead letters without a failure time (not drawn).
    """

    by: Dimension
    series: list[str]
    bars: list[Bar]
    width: int
    height: int
    max_count: int
    first: dt.datetime | None
    last: dt.datetime | None
    bucket_minutes: int
    undated: int


_MAX_SERIES = 8  # more would be colours nobody can tell apart; the rest are summed as "other"
_MAX_BUCKETS = 120


def chart(
    records: Sequence[DeadLetterRecord],
    by: Dimension,
    *,
    bucket_minutes: int = 60,
    width: int = 720,
    height: int = 180,
    min_buckets: int = 24,
) -> Chart:
    """Lay out dead letters per time bucket, stacked by ``by`` (`chart_of` over the records' counts)."""
    return chart_of(
        count_buckets(records, 1),
        by,
        bucket_minutes=bucket_minutes,
        width=width,
        height=height,
        min_buckets=min_buckets,
    )


def chart_of(
    counts: Mapping[Bucket, int],
    by: Dimension,
    *,
    bucket_minutes: int = 60,
    width: int = 720,
    height: int = 180,
    min_buckets: int = 24,
) -> Chart:
    """Lay out bucket counts per time bucket, stacked by ``by``.

    The buckets run from the first failure to the last, and at least ``min_buckets`` back from the last (so a burst
    shows as a burst, not as one bar across the chart); when that would be more than 120 buckets, the bucket is
    widened (doubled until it fits), so the chart stays readable over any span. Counts kept at a slot width that
    divides ``bucket_minutes`` (a summary's) land in the same bars as the records would.
    """
    dated: list[tuple[int, list[str], int]] = []
    undated = 0
    for b, n in counts.items():
        if b.minute is None:
            undated += n
        else:
            dated.append((b.minute, b.values(by), n))
    totals: Counter[str] = Counter()
    for _, values, n in dated:
        for v in values:
            totals[v] += n
    top = [label for label, _ in totals.most_common(_MAX_SERIES)]
    series = top + (["other"] if len(totals) > len(top) else [])
    if not dated:
        return Chart(by, series, [], width, height, 0, None, None, bucket_minutes, undated)
    epoch = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    first_min = min(m for m, _, _ in dated)
    last_min = max(m for m, _, _ in dated)
    bucket = bucket_minutes
    while (last_min // bucket - first_min // bucket) + 1 > _MAX_BUCKETS:
        bucket *= 2
    origin = min(first_min // bucket, last_min // bucket - min_buckets + 1)
    n_buckets = last_min // bucket - origin + 1
    grid: list[Counter[int]] = [Counter() for _ in range(n_buckets)]
    index = {label: i for i, label in enumerate(series)}
    for minute, values, n in dated:
        slot = minute // bucket - origin
        for v in values:
            grid[slot][index.get(v, len(series) - 1)] += n
    max_count = max(sum(c.values()) for c in grid)
    slot_w = width / n_buckets
    bars = []
    for slot, slot_counts in enumerate(grid):
        start = epoch + dt.timedelta(minutes=(origin + slot) * bucket)
        y = float(height)
        for s in sorted(slot_counts):
            h = slot_counts[s] / max_count * height
            y -= h
            bars.append(Bar(s, series[s], start, slot_counts[s], slot * slot_w + 1, y, max(slot_w - 2, 1.0), h))
    first = epoch + dt.timedelta(minutes=origin * bucket)
    last = epoch + dt.timedelta(minutes=(origin + n_buckets - 1) * bucket)
    return Chart(by, series, bars, width, height, max_count, first, last, bucket, undated)


def parse_refs(values: Iterable[str]) -> frozenset[tuple[int, int]] | None:
    """``PARTITION:OFFSET`` strings from a form as pairs; None if any is malformed (a forged or broken form)."""
    out = set()
    for value in values:
        part, sep, off = value.partition(":")
        if not sep or not part.isdigit() or not off.isdigit():
            return None
        out.add((int(part), int(off)))
    return frozenset(out)
