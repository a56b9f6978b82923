"""Cutting a JSON Lines export into raw records: one line, one record, in constant memory.

The reader works on bytes and never decodes or parses: it hands each line on untouched, without its line end
(``LF`` or ``CR LF``), and leaves judging the JSON to the parser. Rules:

- A UTF-8 byte-order mark at the very start of the file is dropped (Windows tools write one). A BOM at the
  start of any later line is not dropped: it belongs to that line, which the parser then rejects (exports
  concatenated with their BOMs). A UTF-16 or UTF-32 BOM marks every record of the file as an error: the format
  is UTF-8 only.
- Blank lines (nothing but spaces, tabs, ``CR``) are not records: they are skipped, and positions keep counting
  physical lines so that ``line 17`` is line 17 in an editor. JSON Lines writers emit them at the end of a file
  and between concatenated files; calling them errors would fill the dead-letter queue with nothing.
- A last line without a line end is a record like any other; if the file was cut off in the middle of a line,
  that line is not valid JSON and the parser says so.
- A line longer than ``max_record_bytes`` is never held in memory whole: its first ``max_record_bytes`` bytes
  become one record marked as an error (the dead letter keeps that prefix, the message gives the full length),
  and the rest of the line is skipped.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO, Final

from gateway.connectors.base import RawRecord
from gateway.errors import ParseError

BOM_UTF8: Final = b"\xef\xbb\xbf"
# UTF-32 LE starts like UTF-16 LE, so one check covers both.
_BOMS_WIDE: Final = (b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")
_BLANK: Final = b" \t\r"
_SKIP_CHUNK: Final = 65_536


def read_lines(stream: BinaryIO, source: str, *, max_record_bytes: int) -> Iterator[RawRecord]:
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
        if line.endswith(b"\n"):
            line = line[:-2] if line.endswith(b"\r\n") else line[:-1]
        elif len(line) >= limit:  # the line goes on: keep its head, skip its tail without holding it
            total = len(line) + _skip_rest(stream)
            line = line[:max_record_bytes]
            error = error or (
                f"line of {total} bytes exceeds max_record_bytes ({max_record_bytes}); "
                f"only its first {max_record_bytes} bytes are kept"
            )
        if line and (line[0] not in _BLANK or line.strip(_BLANK)):
            position = f"line {number}"
            problem = None if error is None else ParseError(error, position=position)
            yield RawRecord(line, source, position, index, "utf-8", b"", problem)
            index += 1
        line = stream.readline(limit)


def _skip_rest(stream: BinaryIO) -> int:
    """Read and drop the rest of the current line (its line end included); return how many bytes that was."""
    skipped = 0
    while chunk := stream.readline(_SKIP_CHUNK):
        skipped += len(chunk)
        if chunk.endswith(b"\n"):
            break
    return skipped
