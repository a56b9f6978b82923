"""Parsing one raw record: decode it, refuse what is not text, split it into fields, order them by the header.

The header decides the column order (columns may come in any order) but not the column set: every column of
the format must be there exactly once and no other may be, except that the columns added after the format's
first version (``columns.OPTIONAL``) may be left out, so older exports stay readable; they then read as empty.
A header that breaks this rule fails every row of the file with the same reason, so a changed export layout is
never half-read.

A row without a header line (a raw-topic message, no ``context``) has its columns in canonical order; its field
count names the version of the format that wrote it (``columns.ADDED``), and any other count is refused.
"""

from __future__ import annotations

import codecs
import csv
import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import NamedTuple, cast

from gateway.connectors.base import RawRecord
from gateway.errors import ParseError
from gw_connector_de_csv.columns import ADDED, HEADER, LABELS, OPTIONAL_LABELS, DeRow

# C0 controls other than TAB, CR and LF, DEL, and C1 controls: none belongs in text. C1 bytes in an ISO-8859-1
# file are the signature of Windows-1252 text (0x80 is its euro sign) exported under the wrong name.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_C0 = frozenset((*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F))
_C1 = frozenset(range(0x80, 0xA0))
# bytes.translate deletes these, leaving only control bytes: a C loop instead of a regex scan of every row.
_TEXT_BYTES_LATIN1 = bytes(b for b in range(256) if b not in _C0 | _C1)
_TEXT_BYTES_ASCII_COMPATIBLE = bytes(b for b in range(256) if b not in _C0)
_C1_IN_UTF8 = re.compile(b"\xc2[\x80-\x9f]")
_NON_ASCII = re.compile(b"[\x80-\xff]")
# How the encodings the connector reads are called in messages, by codec name.
_NAMES = {"utf-8": "UTF-8", "iso8859-1": "ISO-8859-1", "cp1252": "Windows-1252"}
_LABEL_INDEX = {label: i for i, label in enumerate(HEADER)}
# The csv module's messages, said in the terms of this format.
_CSV_ERRORS = {
    "new-line character seen in unquoted field - do you need to open the file in universal-newline mode?": (
        "line break outside quotes"
    ),
    "';' expected after '\"'": "malformed quoting: a closing quote must be followed by ';' or the end of the row",
    "unexpected end of data": "unterminated quoted field",
}


class ParsedRow(NamedTuple):
    """A parsed data row: the national structure the mapper reads.

    Attributes:
        row: The row's fields in canonical column order.
        position: Where the row sits in its source.
    """

    row: DeRow
    position: str


@dataclass(frozen=True, slots=True)
class Layout:
    """How a file's columns relate to the canonical order.

    Attributes:
        names: Column labels in file order.
        order: Picks the file's fields in canonical order; None when the file already uses it.
    """

    names: tuple[str, ...]
    order: Callable[[Sequence[str]], tuple[str, ...]] | None


def parse_record(record: RawRecord, max_field_chars: int) -> ParsedRow:
    """Parse a raw data row.

    Args:
        record: The row's bytes, with the file's header line as ``context``; without one (a raw-topic
            message) the columns are in canonical order, in the format version the field count names.
        max_field_chars: Longest allowed field.

    Raises:
        ParseError: The header is unusable, or the row is not valid text, is badly quoted, has another number
            of fields than the header (or, without a header, than any version of the format), or has an
            oversized field.
    """
    position = record.position
    header: Layout | str | None = header_layout(record.context, record.encoding) if record.context else None
    if isinstance(header, str):
        raise ParseError(f"header line: {header}", position=position)
    text = read_text(record.data, record.encoding)
    if isinstance(text, TextProblem):
        names = header.names if header is not None else HEADER
        column = column_at(record.data, text.offset, names)
        raise ParseError(text.message if column is None else f"column {column}: {text.message}", position=position)
    try:
        fields = split_fields(text)
    except ValueError as exc:
        raise ParseError(str(exc), position=position) from None
    if header is not None:
        layout = header
        if len(fields) != len(layout.names):
            raise ParseError(f"row has {len(fields)} fields, the header has {len(layout.names)}", position=position)
    elif (implied := _IMPLIED.get(len(fields))) is not None:
        layout = implied
    else:
        raise ParseError(f"row has {len(fields)} fields, {_IMPLIED_COUNTS}", position=position)
    if len(text) > max_field_chars:  # only then can a field be too long
        for name, value in zip(layout.names, fields, strict=True):
            if len(value) > max_field_chars:
                raise ParseError(
                    f"field {name} has {len(value)} characters, more than max_field_chars ({max_field_chars})",
                    position=position,
                )
    return ParsedRow(DeRow._make(layout.order(fields) if layout.order else fields), position)


@dataclass(frozen=True, slots=True)
class TextProblem:
    """Why a row's bytes are not text in its encoding.

    Attributes:
        message: What is wrong, and what to do about it where the cause is likely (a Windows-1252 export).
        offset: Byte offset in the row of the first offending byte (it names the column).
    """

    message: str
    offset: int


def decode(data: bytes, encoding: str) -> str:
    """Decode a record, refusing control characters and UTF-8 that was declared ISO-8859-1 (``read_text``).

    Raises:
        ValueError: The bytes are not valid text in the encoding, saying why.
    """
    text = read_text(data, encoding)
    if isinstance(text, TextProblem):
        raise ValueError(text.message)
    return text


def read_text(data: bytes, encoding: str) -> str | TextProblem:
    """A record's text, or why it is none: invalid bytes, control characters, UTF-8 declared single-byte."""
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        return TextProblem(_undecodable(data, exc.start, exc.reason, encoding), exc.start)
    except LookupError:
        return TextProblem(f"unknown encoding {encoding!r}", 0)
    single_byte = _single_byte(encoding)
    if not data.isascii():
        if single_byte is not None and _decodes(data, "utf-8"):
            # Read as ISO-8859-1, UTF-8 turns "ü" into "Ã¼"; a real Latin-1 name is practically never valid UTF-8.
            return TextProblem(
                "text is UTF-8 but the file has no byte-order mark, so it is read as "
                f"{_NAMES.get(single_byte, encoding)}; export with a BOM or configure encoding = 'utf-8'",
                _first_non_ascii(data),
            )
        if single_byte is None and _C1_IN_UTF8.search(data):
            return _control(text, encoding)
    if data.translate(None, _TEXT_BYTES_LATIN1 if single_byte == "iso8859-1" else _TEXT_BYTES_ASCII_COMPATIBLE):
        return _control(text, encoding)
    return text


def _undecodable(data: bytes, offset: int, reason: str, encoding: str) -> str:
    byte = data[offset]
    name = _NAMES.get(_codec(encoding) or "", encoding)
    message = f"byte 0x{byte:02x} is not valid {name} ({reason})"
    seen = _windows_1252(byte)
    if seen is None or _codec(encoding) == "cp1252" or not _decodes(data, "cp1252"):
        return message
    # Bytes 0x80-0x9F are text only in Windows-1252 (euro sign, quotes, dashes): a strong sign. Above, it may as
    # well be damage.
    looks = "looks" if byte < 0xA0 else "may be"
    return (
        f"{message}; the file {looks} Windows-1252 encoded (0x{byte:02x} is {seen!r} there): export it as UTF-8, "
        'or set encoding = "windows-1252" in [connectors.de-csv] (a file that starts with a UTF-8 byte-order mark '
        "is always read as UTF-8)"
    )


def _control(text: str, encoding: str) -> TextProblem:
    bad = _CONTROL.search(text)
    if bad is None:  # unreachable while _CONTROL and the byte tables agree; never let a row through unchecked
        return TextProblem("control character", 0)
    char = ord(bad.group())
    offset = len(text[: bad.start()].encode(encoding))
    seen = _windows_1252(char) if 0x80 <= char <= 0x9F else None
    if seen is not None and _codec(encoding) == "iso8859-1":
        return TextProblem(
            f"byte 0x{char:02x} is a control character in ISO-8859-1 (U+{char:04X}); the file looks Windows-1252 "
            f"encoded (0x{char:02x} is {seen!r} there): export it as ISO-8859-1 or UTF-8, or set "
            'encoding = "windows-1252" in [connectors.de-csv]',
            offset,
        )
    if seen is not None:  # U+0080-U+009F in UTF-8: Windows-1252 bytes converted to UTF-8 as if they were Latin-1
        return TextProblem(
            f"control character U+{char:04X} at character {bad.start()}; the text was likely converted to UTF-8 "
            f"from Windows-1252 as if it were ISO-8859-1 (0x{char:02x} is {seen!r} in Windows-1252): export it as "
            "UTF-8 from the source system",
            offset,
        )
    name = "NUL byte" if char == 0 else f"control character U+{char:04X}"
    return TextProblem(f"{name} at character {bad.start()}", offset)


def _windows_1252(byte: int) -> str | None:
    """What a byte means in Windows-1252 if it is a visible character there (the euro sign, an umlaut), else None."""
    try:
        char = bytes((byte,)).decode("cp1252")
    except UnicodeDecodeError:  # 0x81, 0x8D, 0x8F, 0x90, 0x9D are unassigned
        return None
    return char if byte >= 0x80 and char.isprintable() and not char.isspace() else None


def _first_non_ascii(data: bytes) -> int:
    match = _NON_ASCII.search(data)
    return 0 if match is None else match.start()


def column_at(data: bytes, offset: int, names: Sequence[str]) -> str | None:
    """The name of the column in which byte ``offset`` of a row lies, or None past the last one.

    Separators inside quotes do not count: by quote parity, the separators outside quotes are those in the even
    pieces of the row split at its quotes.
    """
    index = sum(piece.count(b";") for piece in data[:offset].split(b'"')[::2])
    return names[index] if index < len(names) else None


def split_fields(text: str) -> list[str]:
    """Split a decoded row at ``;`` outside quotes, unquoting fields (RFC 4180 with ``;``).

    Raises:
        ValueError: A line break outside quotes, or malformed quoting.
    """
    if '"' not in text:  # the common case: no quoting, a plain split
        if "\n" in text or "\r" in text:
            raise ValueError("line break outside quotes")
        return text.split(";")
    try:
        reader = csv.reader((text,), delimiter=";", quotechar='"', doublequote=True, strict=True)
        fields = next(reader)
        rest = next(reader, None)
    except csv.Error as exc:
        raise ValueError(_CSV_ERRORS.get(str(exc), f"malformed quoting: {exc}")) from None
    if rest is not None:
        raise ValueError("line break outside quotes")
    return fields


def header_layout(context: bytes, encoding: str) -> Layout | str:
    """The layout of a header line, or the reason it is unusable (cached: a file has one header)."""
    return _layout(context, encoding)


def header_problem(context: bytes, encoding: str) -> str | None:
    """Why a header line is unusable, or None."""
    layout = _layout(context, encoding)
    return layout if isinstance(layout, str) else None


def _ordered(names: tuple[str, ...]) -> Layout:
    """The layout of a column set already checked: every column once, only optional ones left out."""
    if names == HEADER:
        return Layout(names, None)
    # A left-out optional column is picked from one empty field appended after the row's own.
    picker = cast(
        Callable[[Sequence[str]], tuple[str, ...]],
        itemgetter(*(names.index(label) if label in names else len(names) for label in HEADER)),
    )
    if all(label in names for label in HEADER):
        return Layout(names, picker)
    return Layout(names, lambda fields: picker((*fields, "")))


def _versions() -> dict[int, tuple[Layout, str]]:
    """Field count -> the layout of the format version with that many columns, and how to name it."""
    out: dict[int, tuple[Layout, str]] = {}
    for version in range(len(ADDED) + 1):
        later = {LABELS[field] for field in ADDED[version:]}
        names = tuple(label for label in HEADER if label not in later)
        name = "the current layout" if not later else f"the layout before {LABELS[ADDED[version]]}"
        out[len(names)] = (_ordered(names), name)
    return out


_VERSIONS = _versions()
#: Layouts of a row without a header line, by field count.
_IMPLIED = {count: layout for count, (layout, _) in _VERSIONS.items()}
# Newest first: the count a sender should use comes first in the message.
_IMPLIED_COUNTS = "but a row without a header line has " + " or ".join(
    f"{count} ({name})" for count, (_, name) in sorted(_VERSIONS.items(), reverse=True)
)


@functools.lru_cache(maxsize=64)
def _layout(context: bytes, encoding: str) -> Layout | str:
    try:
        names = tuple(name.strip() for name in split_fields(decode(context, encoding)))
    except ValueError as exc:
        return str(exc)
    if not any(name in _LABEL_INDEX for name in names):
        return f"it names none of the format's {len(HEADER)} columns (is the header line missing?)"
    problems = []
    missing = [label for label in HEADER if label not in names and label not in OPTIONAL_LABELS]
    unknown = [name for name in names if name not in _LABEL_INDEX]
    duplicated = sorted({name for name in names if names.count(name) > 1})
    if missing:
        problems.append(f"missing columns {', '.join(missing)}")
    if unknown:
        problems.append(f"unknown columns {', '.join(unknown)}")
    if duplicated:
        problems.append(f"repeated columns {', '.join(duplicated)}")
    if problems:
        return f"{'; '.join(problems)} (the format has {len(HEADER)} columns, in any order)"
    return _ordered(names)


@functools.lru_cache(maxsize=8)
def _codec(encoding: str) -> str | None:
    """The codec's canonical name (``iso8859-1``, ``cp1252``, ``utf-8``), or None for an unknown encoding."""
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        return None


def _single_byte(encoding: str) -> str | None:
    """The codec of a single-byte encoding whose files may hold UTF-8 by mistake, or None."""
    codec = _codec(encoding)
    return codec if codec in _NAMES and codec != "utf-8" else None


def _decodes(data: bytes, encoding: str) -> bool:
    try:
        data.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True
