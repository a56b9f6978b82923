"""Cutting an export into raw records: streaming, in constant memory, without decoding.

A record ends at a line feed (``LF`` or ``CR LF``) outside quotes. Whether a line feed is inside quotes follows
from the parity of the ``"`` bytes since the record began: in RFC 4180 CSV a quote either opens or closes a
quoted field or is doubled inside one, so an even count means "outside". Both encodings the export may use
(ISO-8859-1, UTF-8) are ASCII-compatible: ``"``, ``;``, CR and LF bytes never occur inside a multi-byte
character, so the reader can cut bytes without decoding them. It only uses ``bytes.find`` and ``bytes.count``
(C loops) per line, never a Python loop per byte.

Memory stays bounded by ``max_record_bytes`` plus one chunk: a record that grows past the limit is handed
on in parts of at most ``max_record_bytes``, each marked as an error, so its bytes reach the dead-letter queue
complete instead of being buffered without end or dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from itertools import chain
from typing import BinaryIO

from gateway.connectors.base import RawRecord
from gateway.errors import ParseError

BOM_UTF8 = b"\xef\xbb\xbf"
_BOMS_UTF16 = (b"\xff\xfe", b"\xfe\xff")
_CR = 0x0D


#: A record's bytes as cut from the stream, line end removed: (data, line on which it begins, part, problem).
#: ``part`` is 0 for a whole record and 1, 2, ... for the parts of an oversized one; ``problem`` says why the
#: record could not be cut cleanly, or is None. A plain tuple: the reader makes one per row.
Cut = tuple[bytes, int, int, str | None]


def position(line: int, part: int) -> str:
    """Where a record sits, for error messages and the dead-letter queue."""
    return f"line {line}" if not part else f"line {line}, part {part}"


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
        max_record_bytes: Longest record kept in one piece.
        check_header: Why a header line is unusable, or None if it is fine.

    Yields:
        One ``RawRecord`` per data row (or per part of an oversized row), with ``index`` counting from 0. If the
        header is unusable, the header line itself comes first, and it and every row carry the reason as error.
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
    context, header_problem = header[0], header[3]
    if header_problem is None and b"\r" in context:
        # Column names hold no CR: these are classic Mac OS line ends, and the "header" is the whole file.
        header_problem = "CR line ends without LF are not supported"
    if header_problem is None and file_problem is None:
        # A header that names other columns may be a data row in the header's place: keep its bytes too.
        header_problem = check_header(context, encoding)
    if file_problem is None and header_problem is not None:
        # The header itself is broken (oversized, unterminated quote, ...): no row can be read by it, and its
        # bytes go to the dead-letter queue with the rest, so nothing the file holds is dropped.
        file_problem = f"the header line is unusable: {header_problem}"
        context = b""
    pending = [header] if file_problem is not None else []
    for index, (data, line, part, problem) in enumerate(chain(pending, cuts)):
        where = f"line {line}" if not part else position(line, part)
        reason = file_problem or problem
        error = None if reason is None else ParseError(reason, position=where)
        yield RawRecord(data, source, where, index, encoding, context, error)


def cut_records(chunks: Iterator[bytes], max_record_bytes: int) -> Iterator[Cut]:
    """Split a byte stream at line ends outside quotes; skip empty lines.

    Args:
        chunks: The stream's bytes, in pieces of any size.
        max_record_bytes: Longest record yielded in one piece; longer ones come in marked parts.

    Yields:
        Every non-empty record, in order.
    """
    buf = bytearray()
    start = scan = 0  # the open record (or its part not yet handed on) begins at `start`; buf[:scan] is scanned
    odd = 0  # parity of the quotes scanned since the open record began: 1 means `scan` is inside quotes
    line = 1  # physical line on which the open record begins
    breaks = 0  # line feeds inside quotes in the open record
    part = 0  # parts of the open record already yielded
    eof = False
    while True:
        nl = buf.find(b"\n", scan)
        if nl >= 0:
            odd ^= buf.count(b'"', scan, nl) & 1
            scan = nl + 1
            if not odd:
                end = nl - 1 if nl > start and buf[nl - 1] == _CR else nl
                if end - start > max_record_bytes or part:
                    yield from _finish(buf, start, end, line, part, max_record_bytes, None)
                elif end > start:
                    yield bytes(buf[start:end]), line, 0, None
                line += breaks + 1
                start, breaks, part = scan, 0, 0
                continue
            breaks += 1
        else:
            odd ^= buf.count(b'"', scan) & 1
            scan = len(buf)
            if eof:
                end = scan - 1 if scan > start and buf[scan - 1] == _CR else scan
                if end > start:
                    problem = "unterminated quoted field at end of file (truncated export?)" if odd else None
                    yield from _finish(buf, start, end, line, part, max_record_bytes, problem)
                return
        while scan - start > max_record_bytes:  # keep memory bounded: hand on the oversized record in parts
            part += 1
            yield bytes(buf[start : start + max_record_bytes]), line, part, _oversized(max_record_bytes)
            start += max_record_bytes
        if nl < 0:
            if start:
                del buf[:start]
                scan -= start
                start = 0
            chunk = next(chunks, b"")
            eof = not chunk
            buf += chunk


def _finish(
    buf: bytearray, start: int, end: int, line: int, part: int, limit: int, problem: str | None
) -> Iterator[Cut]:
    """Yield a complete record, in parts if it is longer than ``limit`` or already began in parts."""
    if not part and end - start <= limit:
        yield bytes(buf[start:end]), line, 0, problem
        return
    for offset in range(start, end, limit):
        part += 1
        reason = _oversized(limit) if problem is None else f"{_oversized(limit)}; {problem}"
        yield bytes(buf[offset : min(offset + limit, end)]), line, part, reason


def _oversized(limit: int) -> str:
    return f"record longer than max_record_bytes ({limit}); kept in parts of at most {limit} bytes"


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
