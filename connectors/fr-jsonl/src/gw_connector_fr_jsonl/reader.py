"""Cutting an export into raw records, in constant memory: JSON Lines (one line, one record) or a JSON array.

``read_export`` tells the two forms apart by the first byte that is not whitespace (after a byte-order mark):
``[`` opens a JSON array, read element by element (``arrays.py``); anything else is JSON Lines, read here. A
JSON Lines record is an object, so no valid JSON Lines export starts with ``[``.

The line reader works on bytes and never decodes or parses: it hands each line on untouched, without its line
end (``LF`` or ``CR LF``), and leaves judging the JSON to the parser. Rules:

- A UTF-8 byte-order mark at the very start of the file is dropped (Windows tools write one). A BOM at the
  start of any later line is not dropped: it belongs to that line, which the parser then rejects (exports
  concatenated with their BOMs). A UTF-16 or UTF-32 BOM marks every record of the file as an error: the format
  is UTF-8 only.
- Blank lines (nothing but spaces, tabs, ``CR``) are not records: they are skipped, and positions keep counting
  physical lines so that ``line 17`` is line 17 in an editor. JSON Lines writers emit them at the end of a file
  and between concatenated files; calling them errors would fill the dead-letter queue with nothing.
- A last line without a line end is a record like any other; if the file was cut off in the middle of a line,
  that line is not valid JSON and the parser says so.
- A line longer than ``max_record_bytes`` is never held in memory whole: it is followed by a
  ``gateway.connectors.OversizedRecord`` (its first ``max_record_bytes`` bytes kept, all of it counted and
  hashed, line end excluded) and becomes one error record; the rest of the line is skipped in chunks.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from typing import BinaryIO, Final, Protocol

from gateway.connectors.base import OversizedRecord, RawRecord
from gateway.errors import ParseError
from gw_connector_fr_jsonl.arrays import CHUNK, read_array

BOM_UTF8: Final = b"\xef\xbb\xbf"
# UTF-32 LE starts like UTF-16 LE, so one check covers both.
_BOMS_WIDE: Final = (b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")
_BLANK: Final = b" \t\r"
_SKIP_CHUNK: Final = 65_536
_NOT_WHITESPACE: Final = re.compile(rb"[^ \t\r\n]")
_NOT_BLANK: Final = re.compile(rb"[^ \t\r]")


class LineSource(Protocol):
    """What the line reader needs of a stream."""

    def readline(self, size: int = -1, /) -> bytes:
        """The next line, its line end included, or at most ``size`` bytes of it."""
        ...


def read_export(stream: BinaryIO, source: str, *, max_record_bytes: int) -> Iterator[RawRecord]:
    """Yield the records of an export, JSON Lines or a JSON array, told apart by its first non-blank byte.

    Only the first ``CHUNK`` bytes are looked at: an export that starts with more whitespace than that is read
    as JSON Lines (whose blank lines are skipped).

    Args:
        stream: The export, opened in binary mode.
        source: Its name, carried in every record.
        max_record_bytes: Longest record kept whole.
    """
    head = stream.read(CHUNK)
    offset = len(BOM_UTF8) if head.startswith(BOM_UTF8) else 0
    first = _NOT_WHITESPACE.search(head, offset)
    if first is not None and head[first.start()] == ord("["):
        yield from read_array(stream, source, max_record_bytes=max_record_bytes, head=head[offset:], offset=offset)
    else:
        yield from read_lines(_Prefixed(head, stream), source, max_record_bytes=max_record_bytes)


def read_lines(stream: LineSource, source: str, *, max_record_bytes: int) -> Iterator[RawRecord]:
    """Yield one raw record per non-blank line of ``stream``.

    Args:
        stream: The export, opened in binary mode.
        source: Its name, carried in every record.
        max_record_bytes: Longest line (without its line end) kept as a record.

    Yields:
        Records with ``index`` counting from 0 and ``position`` naming the physical line.
    """
    limit = max_record_bytes + 2  # room for CR LF
    line = stream.readline(limit + len(BOM_UTF8))
    file_error: str | None = None
    if line.startswith(BOM_UTF8):
        line = line[len(BOM_UTF8) :]
    elif line.startswith(_BOMS_WIDE):
        file_error = "the file starts with a UTF-16 or UTF-32 byte-order mark; exports must be UTF-8"
    number = index = 0
    while line:
        number += 1
        error = file_error
        position = f"line {number}"
        if not line.endswith(b"\n") and len(line) >= limit:
            # The line goes on: keep its head, hash and skip the rest without holding it.
            follow = OversizedRecord(max_record_bytes)
            blank = not _follow_line(stream, line, follow)
            line = b""  # its head is in ``follow`` now: do not hold it twice
            over: OversizedRecord | None = follow
        else:
            if line.endswith(b"\n"):
                line = line[:-2] if line.endswith(b"\r\n") else line[:-1]
            blank = not line or (line[0] in _BLANK and not line.strip(_BLANK))
            # Up to two bytes over the limit fit the read; they are over the limit all the same.
            over = OversizedRecord(max_record_bytes) if len(line) > max_record_bytes else None
            if over is not None:
                over.update(line)
        if not blank:
            if over is None:
                record = RawRecord(line, source, position, index)
            else:
                record = over.record(source, position, index, what=f"line {number}")
            yield record if error is None else dataclasses.replace(record, error=ParseError(error, position=position))
            index += 1
        line = stream.readline(limit)


def _follow_line(stream: LineSource, head: bytes, over: OversizedRecord) -> bool:
    """Feed ``head`` and the rest of its line (line end excluded) to ``over``; whether any of it was not blank.

    A ``CR`` at the end of a piece is held back: it is part of a ``CR LF`` line end if the next piece starts with
    ``LF``, and part of the line otherwise.
    """
    piece, held, blank = head, False, True
    while piece:
        # A view, not slices: the first piece is as long as the limit, and a copy would double what it costs.
        data = memoryview(piece)
        ends = piece.endswith(b"\n")
        if held and not piece.startswith(b"\n"):
            over.update(b"\r")  # the CR held back was part of the line, not of a CR LF
        cut = 2 if piece.endswith(b"\r\n") else 1 if ends or piece.endswith(b"\r") else 0
        held = piece.endswith(b"\r")
        data = data[: len(data) - cut]
        if blank:
            blank = _NOT_BLANK.search(data) is None
        over.update(data)
        if ends:
            return not blank
        piece = stream.readline(_SKIP_CHUNK)
    if held:
        over.update(b"\r")  # a CR at the very end of the file, without LF, is part of the line
    return not blank


class _Prefixed:
    """A line source that hands out ``head`` (bytes already read from ``stream``) before the rest of ``stream``."""

    def __init__(self, head: bytes, stream: BinaryIO) -> None:
        self._head = head
        self._at = 0
        self._stream = stream

    def readline(self, size: int = -1, /) -> bytes:
        head, at = self._head, self._at
        if at >= len(head):
            return self._stream.readline(size)
        stop = len(head) if size < 0 else min(len(head), at + size)
        newline = head.find(b"\n", at, stop)
        end = stop if newline < 0 else newline + 1
        piece = head[at:end]
        self._at = end
        if newline >= 0 or len(piece) == size:
            return piece
        return piece + self._stream.readline(-1 if size < 0 else size - len(piece))
