"""Text encodings of an export: which the connector reads, and what to tell an operator whose bytes do not fit.

The reader cuts records at byte level on ASCII tags, so only encodings that write ASCII as ASCII, one byte per
character or UTF-8, can be read: UTF-8 (the default without a declaration), ISO-8859-1, ISO-8859-15,
Windows-1252 and US-ASCII. libxml2 decodes all of them itself; each record is parsed with its file's encoding.

The usual fault is an export written in ISO-8859-1 or Windows-1252 that declares UTF-8, or declares nothing (which
means UTF-8 in XML): libxml2 then says only "Invalid bytes in character encoding". ``undecodable`` finds the first
byte that does not fit and says, in an operator's words, what was declared, where the byte is, which encoding the
bytes look like and how the name around it reads in that encoding.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from typing import Final

_SLICE: Final = 64 * 1024  # decoded at a time, so checking a record never holds more than this as text
_DECLARATION: Final = re.compile(rb"<\?xml\s[^>]*?\?>")
_DECL_ENCODING: Final = re.compile(rb"""\sencoding\s*=\s*(["'])([^"']*)\1""")


@dataclass(frozen=True, slots=True)
class Encoding:
    """An encoding the connector reads.

    Attributes:
        label: Its name for libxml2 (and in messages), e.g. ``ISO-8859-1``.
        codec: Its Python codec by its normalised name (``codecs.lookup(...).name``), to check and show bytes;
            what ``RawRecord.encoding`` holds.
    """

    label: str
    codec: str


UTF8: Final = Encoding("UTF-8", "utf-8")
"""The default: XML without an encoding declaration is UTF-8."""

LATIN1: Final = Encoding("ISO-8859-1", "iso8859-1")
CP1252: Final = Encoding("Windows-1252", "cp1252")

SUPPORTED: Final = {
    e.codec: e for e in (UTF8, LATIN1, Encoding("ISO-8859-15", "iso8859-15"), CP1252, Encoding("US-ASCII", "ascii"))
}
"""The encodings read, by the normalised name of their Python codec."""


def lookup(name: str) -> Encoding | None:
    """The supported encoding a declaration's name means (any spelling Python knows: latin1, cp1252), or None."""
    try:
        return SUPPORTED.get(codecs.lookup(name).name)
    except LookupError:
        return None


def declared(prolog: bytes) -> bytes | None:
    """The encoding name an XML declaration at the start of ``prolog`` gives, or None if it gives none."""
    declaration = _DECLARATION.match(prolog)
    found = None if declaration is None else _DECL_ENCODING.search(declaration.group(0))
    return None if found is None else found.group(2)


def supported_names() -> str:
    """The labels of the supported encodings, for messages."""
    return ", ".join(e.label for e in SUPPORTED.values())


def undecodable(data: bytes, encoding: Encoding, *, declared: bool, what: str = "file") -> str | None:
    """Why ``data`` is not text in ``encoding``, or None when it is.

    Args:
        data: The bytes of one record.
        encoding: The encoding they are read in.
        declared: Whether the file's XML declaration names it (otherwise it is the default, UTF-8).
        what: What the bytes came in (``file``; ``record`` for a record that arrived alone).

    Returns:
        A message naming the encoding read, the first byte that is not in it (value, line and column within the
        record, the text around it), the encoding the bytes look like and the name around it read that way.
    """
    if data.isascii():  # the usual record, and no copy
        return None
    offset = _first_bad_byte(data, encoding.codec)
    if offset is None:
        return None
    line = data.count(b"\n", 0, offset) + 1
    column = offset - (data.rfind(b"\n", 0, offset) + 1) + 1
    start, stop = _around(data, offset)
    how = (
        f"declares {encoding.label}" if declared else f"has no encoding declaration, so it is read as {encoding.label}"
    )
    message = (
        f"the {what} {how}, but byte 0x{data[offset]:02X} at line {line}, column {column} of the record is not "
        f"{encoding.label}"
    )
    likely = _likely(data, encoding)
    if likely is None:
        return f"{message}: the bytes are not text in any encoding the connector reads ({supported_names()})"
    shown = data[start:stop].decode(likely.codec, "replace")
    return (
        f"{message}; the {what} looks {_names(likely)} encoded (read so, the text there is {shown!r}): export it "
        f'as UTF-8, or declare encoding="{likely.label}" in its XML declaration'
    )


def _first_bad_byte(data: bytes, codec: str) -> int | None:
    decoder = codecs.getincrementaldecoder(codec)()
    for at in range(0, len(data), _SLICE):
        try:
            decoder.decode(data[at : at + _SLICE], final=at + _SLICE >= len(data))
        except UnicodeDecodeError as exc:
            # The decoder counts from the bytes it still held back from the previous slice.
            return at - len(decoder.getstate()[0]) + exc.start if exc.start >= 0 else at
    return None


def _likely(data: bytes, read_as: Encoding) -> Encoding | None:
    """The encoding the bytes most plausibly are in: UTF-8 if they decode so, else one of the Latin ones."""
    for candidate in (UTF8, LATIN1, CP1252):
        if candidate == read_as:
            continue
        if candidate == LATIN1 and any(0x80 <= b <= 0x9F for b in data):
            continue  # C1 control characters are not text: those bytes are Windows-1252 punctuation (euro sign, quotes)
        if _first_bad_byte(data, candidate.codec) is None:
            return candidate
    return None


def _names(encoding: Encoding) -> str:
    # Latin-1 and Windows-1252 agree on every letter an export holds; naming both saves the operator a guess.
    return "ISO-8859-1/Windows-1252" if encoding == LATIN1 else encoding.label


def _around(data: bytes, offset: int) -> tuple[int, int]:
    """The span of the word (up to 20 bytes either side) around ``offset``, bounded by markup or white space."""
    start, stop = offset, offset + 1
    while start > max(0, offset - 20) and data[start - 1] not in b"<> \t\r\n":
        start -= 1
    while stop < min(len(data), offset + 20) and data[stop] not in b"<> \t\r\n":
        stop += 1
    return start, stop
