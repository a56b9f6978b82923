"""Cutting an export that is a JSON array of records into raw records: one element, one record, streaming.

Some French tools export a ``.json`` file holding one array (``[{...},{...}]``, often pretty-printed) instead of
JSON Lines. ``ArraySplitter`` cuts it into its elements without parsing them: each record's ``data`` is the
element's original bytes (leading and trailing whitespace dropped), so event ids and dead letters are those of
the bytes the sender wrote, and its position names the element and the byte where it starts in the file
(``element 3 at byte 5120``), which ``dd``, ``tail -c`` or an editor can find.

Why a splitter of its own rather than a streaming JSON parser (``ijson``): such parsers hand out values, not the
bytes they came from, and judging the JSON is the parser's job (``parser.py``) in both file forms. The splitter
only tracks what it must to find where an element ends: strings (with their escapes), so that brackets and
commas inside texts do not count, and the depth of brackets outside them. An element ends at the first ``,`` or
``]`` outside strings at its own level; whatever lies between is handed on, and the parser says what is wrong
with it (two objects without a comma between them, a stray ``}``).

Memory stays bounded whatever the input: bytes are fed in chunks; an element longer than ``max_record_bytes``
is followed by a ``gateway.connectors.OversizedRecord`` (its first bytes kept, all of it counted and hashed) and
becomes one error record, and the elements after it are read normally. Damage gives error records, never a
stop: an empty element (``[{...},]``, ``,,``) is one; a file cut off inside an element gives that element's
bytes with an error, and one cut off between elements an empty error record at the end, after all the good
elements before; data after the closing ``]`` is one error record, unless it is another array (two exports
concatenated), which is read like the first.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from enum import Enum, auto
from typing import BinaryIO, Final

from gateway.connectors.base import OversizedRecord, RawRecord
from gateway.errors import ParseError

CHUNK: Final = 65_536
_WHITESPACE: Final = b" \t\r\n"
_NOT_WHITESPACE: Final = re.compile(rb"[^ \t\r\n]")
# Outside strings, runs of bytes that cannot end an element or change its depth, and whole strings whose closing
# quote is in the chunk. Possessive quantifiers: no backtracking, one linear pass in C. Inside an element (depth
# 1 and more) commas are part of it; at its own level (depth 0) a comma ends it.
_STRING: Final = rb'"[^"\\]*+(?:\\.[^"\\]*+)*+"'
_SKIP_NESTED: Final = re.compile(rb'(?:[^"\[\]{}]++|' + _STRING + rb")*+", re.DOTALL)
_SKIP_LEVEL: Final = re.compile(rb'(?:[^"\[\]{},]++|' + _STRING + rb")*+", re.DOTALL)
# Inside a string cut by the end of a chunk: the next byte that matters.
_QUOTE_OR_ESCAPE: Final = re.compile(rb'["\\]')
_OPEN_ARRAY, _CLOSE_ARRAY, _OPEN_OBJECT = b"[]{"
_COMMA, _QUOTE, _BACKSLASH = b',"\\'


class _State(Enum):
    OUTSIDE = auto()  # before the first array, between arrays, after the last
    FIRST = auto()  # just after "[": an element or "]" (the empty array)
    NEXT = auto()  # just after ",": an element must follow
    ELEMENT = auto()  # inside an element
    TAIL = auto()  # data after the array that is not another array: one error record


class ArraySplitter:
    """Cuts the bytes of a JSON array export, fed chunk by chunk, into one raw record per element.

    Pure: ``feed`` and ``end`` return records and do no I/O, so any chunking of the same bytes gives the same
    records (a property the tests check).

    Args:
        source: The export's name, carried in every record.
        max_record_bytes: Longest element kept whole.
        offset: Byte offset in the file of the first byte fed (3 when a byte-order mark was dropped).
    """

    def __init__(self, source: str, *, max_record_bytes: int, offset: int = 0) -> None:
        self._source = source
        self._max = max_record_bytes
        self._base = offset  # file offset of the chunk being fed
        self._state = _State.OUTSIDE
        self._number = 0  # elements seen, over all arrays of the file
        self._index = 0  # records yielded
        self._start = 0  # file offset of the current element (or of the tail)
        self._depth = 0
        self._in_string = False
        self._escaped = False  # the chunk ended just after a backslash inside a string
        self._element = bytearray()
        self._oversized: OversizedRecord | None = None
        self._spaces = bytearray()  # whitespace held back from an over-long element: it may be its trailing space

    def feed(self, chunk: bytes) -> list[RawRecord]:
        """The records that end in ``chunk``; the rest of an unfinished element is kept for the next chunk."""
        out: list[RawRecord] = []
        i, n = 0, len(chunk)
        taken = 0  # bytes of the chunk before this belong to finished elements or lie between them
        while i < n:
            state = self._state
            if state is _State.ELEMENT:
                if self._in_string:
                    i = self._through_string(chunk, i)
                    continue
                skip = _SKIP_NESTED if self._depth else _SKIP_LEVEL
                i = skip.match(chunk, i).end()  # type: ignore[union-attr]  # matches the empty string at worst
                if i == n:
                    break
                byte = chunk[i]
                if byte == _QUOTE:  # a string that does not close within this chunk
                    self._in_string = True
                elif byte in (_OPEN_OBJECT, _OPEN_ARRAY):
                    self._depth += 1
                elif self._depth:
                    self._depth -= 1  # a closing bracket (a comma at depth > 0 was skipped above)
                elif byte in (_COMMA, _CLOSE_ARRAY):  # the element ends here
                    self._take(chunk[taken:i])
                    out.append(self._finish())
                    self._state = _State.NEXT if byte == _COMMA else _State.OUTSIDE
                    taken = i + 1
                # else: a "}" at the element's own level; it stays in the element and the parser refuses it
                i += 1
            elif state is _State.TAIL:
                self._take(chunk[i:])
                i = taken = n
            else:
                found = _NOT_WHITESPACE.search(chunk, i)
                if found is None:
                    i = taken = n
                    break
                i = found.start()
                out.extend(self._between(chunk[i], self._base + i))
                if self._state in (_State.ELEMENT, _State.TAIL):
                    taken = i
                else:
                    i += 1
                    taken = i
        if self._state in (_State.ELEMENT, _State.TAIL):
            self._take(chunk[taken:])
        self._base += n
        return out

    def end(self) -> list[RawRecord]:
        """The records the end of the file leaves: a cut-off element or array, or data after the array."""
        state = self._state
        self._state = _State.OUTSIDE
        if state is _State.ELEMENT:
            record = self._finish()
            message = (
                f"the file ends inside element {self._number}, before its array is closed: a truncated export? "
                f"(the dead letter keeps what there was of the element)"
            )
            return [dataclasses.replace(record, error=ParseError(message, position=record.position))]
        if state in (_State.FIRST, _State.NEXT):
            position = f"end of file at byte {self._base}"
            after = f"after element {self._number}" if self._number else "after its opening '['"
            message = f"the file ends {after} without closing the array (']' missing): a truncated export?"
            return [self._error(b"", position, message)]
        over, self._oversized = self._oversized, None
        if state is _State.TAIL and over is not None:  # the tail's OversizedRecord is made where the tail starts
            position = f"after the array, at byte {self._start}"
            record = over.record(self._source, position, self._index)
            self._index += 1
            message = (
                f"{over.length} bytes of data after the end of the JSON array (an export is one array, or "
                "several one after the other); the dead letter keeps their start"
            )
            return [dataclasses.replace(record, error=ParseError(message, position=position))]
        return []

    # ---- steps -----------------------------------------------------------------------------------------------

    def _through_string(self, chunk: bytes, i: int) -> int:
        """Go on inside a string that an earlier chunk (or this one) left open; where to go on from."""
        if self._escaped:  # the byte after a backslash, whatever it is
            self._escaped = False
            return i + 1
        found = _QUOTE_OR_ESCAPE.search(chunk, i)
        if found is None:
            return len(chunk)
        j = found.start()
        if chunk[j] == _BACKSLASH:
            if j + 1 == len(chunk):
                self._escaped = True
                return j + 1
            return j + 2
        self._in_string = False
        return j + 1

    def _between(self, byte: int, offset: int) -> list[RawRecord]:
        """Handle the first byte after whitespace outside any element, at file offset ``offset``."""
        state = self._state
        if state is _State.OUTSIDE:
            if byte == _OPEN_ARRAY:
                self._state = _State.FIRST
            else:
                self._state = _State.TAIL
                self._start = offset
                self._oversized = OversizedRecord(self._max)
            return []
        if byte == _CLOSE_ARRAY and state is _State.FIRST:  # "[]": an empty export
            self._state = _State.OUTSIDE
            return []
        self._number += 1
        position = f"element {self._number} at byte {offset}"
        if byte in (_COMMA, _CLOSE_ARRAY):
            self._state = _State.NEXT if byte == _COMMA else _State.OUTSIDE
            where = "before ']' (a trailing comma)" if byte == _CLOSE_ARRAY else "between two commas"
            return [self._error(b"", position, f"empty element {where}: JSON allows none")]
        self._state = _State.ELEMENT
        self._start = offset
        self._depth = 0
        return []

    def _take(self, data: bytes | bytearray) -> None:
        """Add bytes to the current element (or tail), switching to an ``OversizedRecord`` past the limit."""
        over = self._oversized
        if over is None:
            self._element += data
            if len(self._element) <= self._max:
                return
            over = self._oversized = OversizedRecord(self._max)
            data, self._element = self._element, bytearray()
        if self._state is _State.TAIL:
            over.update(data)
            return
        # Whitespace at the end of what has come so far may be the element's trailing space, which is not part of
        # the record; it is held back until more of the element follows. At most a chunk of it: of a longer run (a
        # whitespace bomb) all but its last CHUNK bytes count as part of the element, however the input is cut.
        if _NOT_WHITESPACE.search(data) is not None:
            end = len(data)
            while data[end - 1] in _WHITESPACE:  # stops at the byte found above; no copy of up to a megabyte
                end -= 1
            over.update(self._spaces)
            self._spaces.clear()
            view = memoryview(data)
            over.update(view[:end])
            self._spaces += view[end:]
        else:
            self._spaces += data
        if len(self._spaces) > CHUNK:
            extra = len(self._spaces) - CHUNK
            over.update(self._spaces[:extra])
            del self._spaces[:extra]

    def _finish(self) -> RawRecord:
        """The record of the element that just ended."""
        position = f"element {self._number} at byte {self._start}"
        over, self._oversized = self._oversized, None
        self._in_string = self._escaped = False
        self._spaces.clear()
        index = self._index
        self._index += 1
        if over is not None:
            return over.record(self._source, position, index, what="element")
        data = bytes(self._element).rstrip(_WHITESPACE)
        self._element.clear()
        return RawRecord(data, self._source, position, index)

    def _error(self, data: bytes, position: str, message: str) -> RawRecord:
        record = RawRecord(data, self._source, position, self._index, error=ParseError(message, position=position))
        self._index += 1
        return record


def read_array(
    stream: BinaryIO, source: str, *, max_record_bytes: int, head: bytes = b"", offset: int = 0
) -> Iterator[RawRecord]:
    """Yield one raw record per element of the JSON array(s) in ``stream``, reading it in chunks.

    Args:
        stream: The export, opened in binary mode.
        source: Its name, carried in every record.
        max_record_bytes: Longest element kept whole.
        head: Bytes already read from the stream (to tell the export's form), fed first.
        offset: File offset of ``head``'s first byte.
    """
    splitter = ArraySplitter(source, max_record_bytes=max_record_bytes, offset=offset)
    if head:
        yield from splitter.feed(head)
    while chunk := stream.read(CHUNK):
        yield from splitter.feed(chunk)
    yield from splitter.end()
