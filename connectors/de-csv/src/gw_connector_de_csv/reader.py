"""Cutting an export into raw records: streaming, in constant memory, without decoding.

A record ends at a line end outside quotes: LF, CR LF, or a bare CR (a CR not followed by LF, the line end of
classic Mac OS and of some spreadsheet exports). Whether a line end is inside quotes follows from the parity of
the ``"`` bytes since the record began: in RFC 4180 CSV a quote either opens or closes a quoted field or is
doubled inside one, so an even count means "outside". Inside quotes every line end, bare CR included, is data.
The encodings the export may use (ISO-8859-1, Windows-1252, UTF-8) are ASCII-compatible: ``"``, ``;``, CR and LF
bytes never occur inside a multi-byte character, so the reader can cut bytes without decoding them. Per line it
uses ``bytes.find`` and ``bytes.count`` (C loops), and for a row with quotes one possessive regex (C, linear)
that walks its quoted fields, never a Python loop per byte, per quote or per line end inside quotes.

Memory stays bounded by about twice ``max_record_bytes`` plus one chunk: a record that grows past the limit is
not buffered further. ``OversizedRecord`` keeps its first ``max_record_bytes`` and counts and hashes the rest as
it streams past, and the record becomes one error record carrying the length and SHA-256 of all of it; the
records after it are read normally.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import replace
from itertools import chain
from typing import BinaryIO

from gateway.connectors.base import OversizedRecord, RawRecord
from gateway.errors import ParseError

BOM_UTF8 = b"\xef\xbb\xbf"
_BOMS_UTF16 = (b"\xff\xfe", b"\xfe\xff")
_CR, _LF, _QUOTE = 0x0D, 0x0A, 0x22
# Text outside quotes and whole quoted fields, up to a line end outside quotes, a quote that is not closed in the
# buffer, or the buffer's end. Possessive (Python 3.11): it never backtracks, so it is linear in the input.
_QUOTED = re.compile(rb'(?:[^"\r\n]++|"[^"]*+")*+')
_BLANK = re.compile(rb"[\r\n]*+")
_UNTERMINATED = "unterminated quoted field at end of file (truncated export?)"


#: A record as cut from the stream, line end removed: (data, line on which it begins, problem, oversized).
#: ``problem`` says why the record could not be cut cleanly, or is None. ``oversized`` is set, and ``data``
#: empty, for a record longer than ``max_record_bytes``: it holds the record's first bytes, length and digest.
#: A plain tuple: the reader makes one per row.
Cut = tuple[bytes, int, str | None, OversizedRecord | None]


def read_export(
    stream: BinaryIO,
    source: str,
    *,
    encoding: str,
    chunk_bytes: int,
    max_record_bytes: int,
    check_header: Callable[[bytes, str], str | None] = lambda header, encoding: None,
) -> Iterator[RawRecord]:
    """Cut an export into raw data records; the header line goes into each record's ``context``.

    Args:
        stream: The export, opened in binary mode.
        source: Its name, carried in every record.
        encoding: Encoding of a file without a byte-order mark; a UTF-8 BOM means UTF-8.
        chunk_bytes: Bytes to read at a time.
        max_record_bytes: Longest record kept; a longer one becomes one error record with its first
            ``max_record_bytes`` bytes and the length and SHA-256 of all of it.
        check_header: Why a header line is unusable, or None if it is fine.

    Yields:
        One ``RawRecord`` per data row, with ``index`` counting from 0. If the header is unusable, the header line
        itself comes first, and it and every row carry the reason as error.
    """
    chunks = _chunks(stream, chunk_bytes)
    head = _head(chunks)
    file_problem = None
    if head.startswith(BOM_UTF8):
        encoding, head = "utf-8", head[len(BOM_UTF8) :]
    elif head.startswith(_BOMS_UTF16):
        file_problem = "the file is UTF-16 (byte-order mark found); exports must be ISO-8859-1 or UTF-8"
    cuts = cut_records(_prepend(head, chunks), max_record_bytes)
    header = next(cuts, None)
    if header is None:
        return
    context, header_problem = header[0], header[2]
    if header[3] is not None:
        header_problem = f"it is longer than max_record_bytes ({max_record_bytes})"
    if header_problem is None and file_problem is None:
        # A header that names other columns may be a data row in the header's place: keep its bytes too.
        header_problem = check_header(context, encoding)
    if file_problem is None and header_problem is not None:
        # The header itself is broken (oversized, unterminated quote, ...): no row can be read by it, and its
        # bytes go to the dead-letter queue with the rest, so nothing the file holds is dropped.
        file_problem = f"the header line is unusable: {header_problem}"
        context = b""
    pending = [header] if file_problem is not None else []
    for index, (data, line, problem, oversized) in enumerate(chain(pending, cuts)):
        where = f"line {line}"
        if oversized is None:
            reason = file_problem or problem
            error = None if reason is None else ParseError(reason, position=where)
            yield RawRecord(data, source, where, index, encoding, context, error)
            continue
        what = "header line" if pending and not index else "record"
        record = oversized.record(source, where, index, what=what)
        too_long = record.error.message if record.error is not None else None
        reason = "; ".join(r for r in (file_problem, too_long, problem) if r)
        yield replace(record, encoding=encoding, context=context, error=ParseError(reason, position=where))


def cut_records(chunks: Iterator[bytes], max_record_bytes: int) -> Iterator[Cut]:
    """Split a byte stream at line ends (LF, CR LF, bare CR) outside quotes; skip empty lines.

    Args:
        chunks: The stream's bytes, in pieces of any size.
        max_record_bytes: Longest record yielded with its bytes; a longer one is yielded once, as an
            ``OversizedRecord`` that followed it to its end.

    Yields:
        Every non-empty record, in order.
    """
    buf = bytearray()
    start = scan = 0  # the open record's bytes not yet handed to `over` begin at `start`; buf[:scan] is scanned
    odd = False  # `scan` is inside a quoted field
    quoted = False  # the open record has a quote, so it may hold line ends
    line = 1  # physical line on which the open record begins
    breaks = 0  # line ends inside quotes in the bytes of the open record already handed to `over`
    over: OversizedRecord | None = None  # set once the open record is longer than max_record_bytes
    eof = False
    while True:
        if odd:  # inside quotes everything up to the closing quote is data, line ends included
            close = buf.find(b'"', scan)
            if close >= 0:
                odd, scan = False, close + 1
                continue
            scan = len(buf)
        else:
            nl = buf.find(b"\n", scan)
            end = buf.find(b"\r", scan, len(buf) if nl < 0 else nl)
            end = nl if end < 0 else end  # the first CR or LF: where the record ends unless a quote comes first
            quote = buf.find(b'"', scan, len(buf) if end < 0 else end)
            if quote >= 0:
                # The rare row with quotes: one C regex walks its quoted fields (with their quotes, separators and
                # line ends) to the line end after them, so no hostile field costs a Python loop per byte or line.
                quoted = True
                end = _match_end(_QUOTED, buf, quote)
                if end < len(buf) and buf[end] == _QUOTE:  # a quoted field still open at the buffer's end
                    odd, scan = True, end + 1
                    continue
                end = -1 if end == len(buf) else end
            if end >= 0 and (buf[end] != _CR or end + 1 < len(buf) or eof):
                after = end + 2 if buf[end] == _CR and end + 1 < len(buf) and buf[end + 1] == _LF else end + 1
                if end > start or over is not None:
                    cut, ends = _close(buf, start, end, line, None, over, quoted, max_record_bytes)
                    yield cut
                    line += breaks + ends
                else:  # an empty line, likely one of many: skip the run of line ends in one go
                    blank = _match_end(_BLANK, buf, after)
                    if blank == len(buf) and blank > after and buf[blank - 1] == _CR and not eof:
                        blank -= 1  # a CR at the buffer's end may be the first half of a CR LF
                    line += _line_ends(buf, after, blank)
                    after = blank
                line += 1
                start = scan = after
                quoted, breaks, over = False, 0, None
                continue
            # No line end outside quotes yet, or a CR at the buffer's end whose LF may come with the next chunk.
            scan = len(buf) if end < 0 else end
        if eof:
            if scan > start or over is not None:
                problem = _UNTERMINATED if odd else None
                yield _close(buf, start, scan, line, problem, over, quoted, max_record_bytes)[0]
            return
        if over is None and scan - start > max_record_bytes:
            over = OversizedRecord(max_record_bytes)
        if over is not None:  # skip the scanned part of an oversized record: counted and hashed, not kept
            # A CR at the end stays for the next round, so a CR LF split between two rounds counts as one line end.
            skip = scan - 1 if scan > start and buf[scan - 1] == _CR else scan
            _feed(over, buf, start, skip)
            breaks += _line_ends(buf, start, skip)
            start = skip
        if start:
            del buf[:start]
            scan -= start
            start = 0
        chunk = next(chunks, b"")
        eof = not chunk
        buf += chunk


def _close(
    buf: bytearray,
    start: int,
    end: int,
    line: int,
    problem: str | None,
    over: OversizedRecord | None,
    quoted: bool,
    limit: int,
) -> tuple[Cut, int]:
    """The cut of a record whose last bytes are ``buf[start:end]``, and the line ends among those bytes.

    A record longer than ``limit`` (or already followed by ``over``) is cut as its ``OversizedRecord``.
    """
    ends = _line_ends(buf, start, end) if quoted else 0
    if over is None and end - start <= limit:
        return (bytes(buf[start:end]), line, problem, None), ends
    if over is None:  # found whole in the buffer, but longer than the limit
        over = OversizedRecord(limit)
    _feed(over, buf, start, end)
    return (b"", line, problem, over), ends


def _match_end(pattern: re.Pattern[bytes], buf: bytearray, pos: int) -> int:
    """Where a match of ``pattern`` at ``pos`` ends (both patterns match the empty string, so always one)."""
    match = pattern.match(buf, pos)
    return pos if match is None else match.end()


def _line_ends(buf: bytearray, start: int, end: int) -> int:
    """How many line ends (LF, CR LF, bare CR) ``buf[start:end]`` holds."""
    lf, cr = buf.count(b"\n", start, end), buf.count(b"\r", start, end)
    return lf + cr - buf.count(b"\r\n", start, end) if lf and cr else lf + cr


def _feed(over: OversizedRecord, buf: bytearray, start: int, end: int) -> None:
    # A view, not a copy: skipping a 50 MB record must not cost another buffer. The view is released before
    # the buffer is resized again.
    with memoryview(buf) as view:
        over.update(view[start:end])


def _chunks(stream: BinaryIO, size: int) -> Iterator[bytes]:
    while chunk := stream.read(size):
        yield chunk


def _head(chunks: Iterator[bytes]) -> bytes:
    """The first bytes of the stream, at least four unless the stream is shorter (to see a byte-order mark)."""
    head = b""
    while len(head) < 4:
        chunk = next(chunks, b"")
        if not chunk:
            break
        head += chunk
    return head


def _prepend(head: bytes, chunks: Iterator[bytes]) -> Iterator[bytes]:
    if head:
        yield head
    yield from chunks
