"""Paging through the tail of a dead-letter topic by offset: what a page reads, what it shows, where the next starts.

Pure functions: the reading is the backend's.

A page reads at most ``per_partition`` offsets of each partition, just below a cursor (``{partition: offset}``,
exclusive; the high watermark for the first page), newest first. The cursor travels in the "older" link as
``?before=0:1234,1:5678``: offsets only, never anything from a record.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from gateway.dlq.tools import DeadLetterRecord

__all__ = ["Page", "format_cursor", "page_of", "parse_cursor", "tail_ranges"]

Cursor = Mapping[int, int]
_MAX_CURSOR_TEXT = 2000


def parse_cursor(text: str | None) -> dict[int, int] | None:
    """``0:1234,1:5678`` as ``{0: 1234, 1: 5678}``; ``{}`` for nothing; None when malformed (a forged link)."""
    if not text:
        return {}
    if len(text) > _MAX_CURSOR_TEXT:
        return None
    out: dict[int, int] = {}
    for item in text.split(","):
        part, sep, off = item.partition(":")
        if not sep or not part.isdigit() or not off.isdigit() or int(part) in out:
            return None
        out[int(part)] = int(off)
    return out


def format_cursor(cursor: Cursor) -> str:
    """The text of a cursor for a link, partitions in order."""
    return ",".join(f"{p}:{o}" for p, o in sorted(cursor.items()))


def tail_ranges(
    watermarks: Mapping[int, tuple[int, int]], before: Cursor, per_partition: int
) -> dict[int, tuple[int, int]]:
    """The offsets a page reads: ``{partition: (start, end)}``, at most ``per_partition`` below the cursor each.

    A partition missing from the cursor is read from its end; a cursor outside a partition's offsets is clamped to
    them (retention may have deleted the start since the link was made).
    """
    out = {}
    for p, (low, high) in watermarks.items():
        end = max(low, min(before.get(p, high), high))
        out[p] = (max(low, end - per_partition), end)
    return out


@dataclass(frozen=True, slots=True)
class Page:
    """One page of the tail.

    Attributes:
        rows: The dead letters shown, newest first.
        read: Dead letters read for the page (the window the rows were chosen from).
        examined: Of those, the ones looked at (all, unless the page filled up first).
        older: The cursor of the next, older page; None when this page reached the start of every partition.
    """

    rows: list[DeadLetterRecord]
    read: int
    examined: int
    older: dict[int, int] | None


def page_of(
    window: Sequence[DeadLetterRecord],
    ranges: Mapping[int, tuple[int, int]],
    watermarks: Mapping[int, tuple[int, int]],
    *,
    limit: int,
    newest_first: Callable[[DeadLetterRecord], tuple[int, int, int]],
    keep: Callable[[DeadLetterRecord], bool] = lambda _: True,
) -> Page:
    """Choose the rows of a page from the records read (``window``, read at ``ranges``) and the next cursor.

    Records are looked at newest first; those ``keep`` accepts are shown, up to ``limit``. The next page starts,
    in each partition, just above the newest record not looked at (or at the window's start when all were), so no
    dead letter is ever skipped between pages.

    Args:
        window: The records read.
        ranges: Where they were read (`tail_ranges`).
        watermarks: Low and high offsets per partition.
        limit: Most rows shown.
        newest_first: Sort key, newest first.
        keep: Which records are shown (the filters); all by default.
    """
    ordered = sorted(window, key=newest_first)
    rows: list[DeadLetterRecord] = []
    examined = 0
    for rec in ordered:
        if len(rows) >= limit:
            break
        examined += 1
        if keep(rec):
            rows.append(rec)
    cursor = {p: start for p, (start, _) in ranges.items()}
    for rec in ordered[examined:]:
        cursor[rec.partition] = max(cursor.get(rec.partition, 0), rec.offset + 1)
    more = any(cursor.get(p, low) > low for p, (low, _) in watermarks.items())
    return Page(rows, len(window), examined, cursor if more else None)
