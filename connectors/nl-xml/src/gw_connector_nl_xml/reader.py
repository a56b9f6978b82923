"""Cut an export into records: the exact original bytes of each ``<Gebeurtenis>``, in constant memory.

``lxml.etree.iterparse`` would stream too, but it hands back parsed elements; serialising them again changes the
bytes (attribute quoting, namespace declarations, character references, white space), and the dead-letter queue
must keep every record's bytes untouched. So the reader is a byte-level splitter that knows only the few tokens
that delimit records, and each record is parsed on its own later (``parser.parse_record``):

- prolog: an optional UTF-8 byte order mark, an optional XML declaration (version 1.0, an encoding of
  ``charsets.SUPPORTED``: UTF-8, the default, or a one-byte Latin encoding), comments and processing
  instructions, then the root start tag ``<DossierExport>`` in the export namespace. The prefix the root uses for
  that namespace (none with a default namespace, the usual case) names the record element. A DOCTYPE is refused,
  and with it every entity declaration: nothing in the file is read then.
- body: records ``<Gebeurtenis ...>...</Gebeurtenis>``; between them only white space, comments and processing
  instructions. Anything else is cut out as one error record, up to the next record or the root end tag.
- epilog: the root end tag, then again only white space, comments and processing instructions.

A record ends at the first ``</Gebeurtenis>`` after its start: records do not nest, and a record whose text hides
that end tag (in a comment or CDATA section) is cut short, fails to parse and goes to the dead-letter queue with
the rest of it - never silently mapped. Memory stays at one chunk plus one record: a record longer than
``max_record_bytes`` is streamed through ``OversizedRecord`` to its end tag and dead-lettered with only its first
``max_record_bytes`` bytes, but with the length and SHA-256 of all of it. A file cut off inside a record yields
that tail as a record with ``error`` set; the records before it are whole.

Each record's ``context`` is the file's XML declaration, if it has one, and the root start tag: what a record
needs to be read as it stands in the file (its encoding, the namespace prefixes it may rely on), and what lets
the parser tell a record in an undeclared encoding from one whose file declared it wrongly.

Every problem the reader finds becomes a ``RawRecord`` with ``error`` set, so one bad file never stops the run.
"""

from __future__ import annotations

import dataclasses
import enum
import re
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from typing import BinaryIO, Final

from lxml import etree

from gateway.connectors.base import OversizedRecord, RawRecord
from gateway.errors import ParseError
from gw_connector_nl_xml.charsets import UTF8, declared, lookup, supported_names
from gw_connector_nl_xml.parser import safe_parser
from gw_connector_nl_xml.spec import NS, RECORD, ROOT

_WS: Final = re.compile(rb"[ \t\r\n]*")
# A start tag with quoted attributes, for the root tag (whose attribute values could, in theory, hold a '>').
_START_TAG: Final = re.compile(
    rb"<([A-Za-z_][\w.\-]*(?::[A-Za-z_][\w.\-]*)?)((?:\s+[^\s=/>]+\s*=\s*(?:\"[^\"]*\"|'[^']*'))*)\s*(/?)>"
)
_GT: Final = re.compile(rb">")
_COMMENT_END: Final = re.compile(rb"-->")
_PI_END: Final = re.compile(rb"\?>")
_DECL_VERSION: Final = re.compile(rb"""\sversion\s*=\s*(["'])([^"']*)\1""")
_BOM_UTF8: Final = b"\xef\xbb\xbf"
_PROLOG_LIMIT: Final = 64 * 1024
_PARTIAL_TAG: Final = 1024  # longest tag a search looks for (with the white space an end tag may hold)

Span = tuple[int, int]
Steps = Generator[RawRecord, None, int | None]  # yields records, returns where to go on (None: stop)


class _Miss(enum.Enum):
    """Why a search found nothing."""

    EOF = "end of stream"
    TOO_LONG = "limit reached"


class _FatalError(Exception):
    """The file as a whole cannot be read (bad prolog); carries the reason."""


@dataclass(frozen=True, slots=True)
class _Root:
    """What the root start tag tells: the tags to look for, and the context records are parsed in."""

    tag: bytes  # the root start tag as written
    end: int  # absolute offset just after it
    empty: bool  # written as <DossierExport/>
    record_open: re.Pattern[bytes]
    record_close: re.Pattern[bytes]
    root_close: re.Pattern[bytes]
    next_item: re.Pattern[bytes]  # what ends a stretch of garbage: a record start or the root end tag


def split_records(
    stream: BinaryIO, source: str, *, chunk_bytes: int = 1 << 20, max_record_bytes: int = 1 << 20
) -> Iterator[RawRecord]:
    """Yield every record of an export, and an error record for everything that is not one.

    Args:
        stream: The export, opened in binary mode.
        source: Name of the source, copied into each record.
        chunk_bytes: How much to read at a time.
        max_record_bytes: Longest record kept whole; longer ones become error records holding their start.

    Returns:
        Records in file order, ``index`` counting from 0 over everything yielded; each record's ``context`` is
        the file's XML declaration (if any) and root start tag, which say the record's encoding and bind the
        namespace prefixes it may rely on, and its ``encoding`` the Python codec of the file's encoding
        (``utf-8`` unless declared otherwise).
    """
    if chunk_bytes < 1 or max_record_bytes < 1:
        raise ValueError("chunk_bytes and max_record_bytes must be positive")
    return _Splitter(stream, source, chunk_bytes, max_record_bytes).records()


class _Splitter:
    """A bytearray window over the stream, addressed by absolute offsets, and the export grammar on top of it."""

    def __init__(self, stream: BinaryIO, source: str, chunk_bytes: int, max_record_bytes: int) -> None:
        self._stream, self._source = stream, source
        self._chunk, self._max = chunk_bytes, max_record_bytes
        self._buf = bytearray()
        self._base = 0  # absolute offset of _buf[0]
        self._eof = False
        self._index = 0
        self._context = b""
        self._encoding = UTF8
        self._prolog_decl = b""  # the file's XML declaration, if any: part of every record's context
        self._file: OversizedRecord | None = None  # follows every byte read while the prolog is parsed

    # ---- window ----------------------------------------------------------------------------------------------

    @property
    def _end(self) -> int:
        return self._base + len(self._buf)

    def _fill(self, keep: int) -> bool:
        """Forget the bytes before ``keep``, read one more chunk; False at the end of the stream."""
        if self._eof:
            return False
        if keep > self._base:
            del self._buf[: keep - self._base]  # O(1): CPython moves a bytearray's start, not its bytes
            self._base = keep
        chunk = self._stream.read(self._chunk)
        if not chunk:
            self._eof = True
            return False
        if self._file is not None:
            self._file.update(chunk)
        self._buf += chunk
        return True

    def _want(self, pos: int, n: int) -> None:
        """Read until ``n`` bytes from ``pos`` are in the window, or the stream ends."""
        while self._end < pos + n and self._fill(pos):
            pass

    def _at(self, pos: int, token: bytes) -> bool:
        """Whether ``token`` starts at ``pos`` (reading as needed)."""
        self._want(pos, len(token))
        return self._buf.startswith(token, pos - self._base)

    def _slice(self, start: int, stop: int) -> bytes:
        return bytes(self._buf[start - self._base : stop - self._base])

    def _resume(self, scan: int) -> int:
        # A match cut off by the window's end starts at its last '<' (every tag pattern starts with one and holds
        # no other) or in its last two bytes (the '-->' and '?>' patterns): search again from there. Only a '<'
        # near the end can start one (a tag is short): an earlier '<' followed by a long text (a 50 MB text node)
        # would otherwise hold the window at it, and all of the text in memory.
        last = self._buf.rfind(b"<", max(scan, self._end - _PARTIAL_TAG) - self._base)
        return max(scan, min(self._end if last < 0 else last + self._base, self._end - 2))

    def _search(self, pattern: re.Pattern[bytes], start: int, keep: int, limit: int) -> Span | _Miss:
        """Find ``pattern`` from ``start``, reading as needed while keeping the bytes from ``keep``.

        Returns:
            The match's absolute span; ``TOO_LONG`` once more than ``limit`` bytes from ``keep`` were searched in
            vain; ``EOF`` at the end of the stream.
        """
        scan = start
        while True:
            found = pattern.search(self._buf, scan - self._base)
            if found is not None:
                return found.start() + self._base, found.end() + self._base
            if self._end - keep > limit:
                return _Miss.TOO_LONG
            scan = self._resume(scan)
            if not self._fill(keep):
                return _Miss.EOF

    def _stream_into(
        self, tracker: OversizedRecord, pattern: re.Pattern[bytes], start: int, scan: int, *, through: bool = True
    ) -> Span | _Miss:
        """Find ``pattern`` from ``scan``, feeding ``tracker`` every byte from ``start`` to the match's end.

        The bytes are handed on as the window moves and then forgotten, so memory stays at one window whatever
        the distance; at the end of the stream every byte left has been fed. With ``through`` false the match
        itself is not fed (it starts the next item).
        """
        fed = start
        while True:
            found = pattern.search(self._buf, scan - self._base)
            upto = self._end if found is None else (found.end() if through else found.start()) + self._base
            if found is None:
                scan = upto = self._resume(scan)
            with memoryview(self._buf) as view:  # released before the window is resized
                tracker.update(view[fed - self._base : upto - self._base])
            fed = upto
            if found is not None:
                return found.start() + self._base, upto
            if not self._fill(scan):
                with memoryview(self._buf) as view:
                    tracker.update(view[fed - self._base :])
                return _Miss.EOF

    def _skip_ws(self, pos: int) -> int:
        while True:
            ws = _WS.match(self._buf, pos - self._base)
            pos = ws.end() + self._base if ws is not None else pos
            if pos < self._end or not self._fill(pos):
                return pos

    # ---- output ----------------------------------------------------------------------------------------------

    def _position(self, at: int, what: str) -> str:
        return f"{what} {self._index} at byte {at}"

    def _emit(self, data: bytes, at: int, error: str | None = None, *, what: str = "record") -> RawRecord:
        position = self._position(at, what)
        record = RawRecord(
            data=data,
            source=self._source,
            position=position,
            index=self._index,
            encoding=self._encoding.codec,
            context=self._context,
            error=None if error is None else ParseError(error, position=position),
        )
        self._index += 1
        return record

    def _emit_oversized(
        self, tracker: OversizedRecord, at: int, error: str | None = None, *, what: str = "record"
    ) -> RawRecord:
        """The error record of an over-long record: its first bytes, and the length and SHA-256 of all of it.

        A tracked item that turned out to fit ``max_record_bytes`` is kept whole, like any record.
        """
        position = self._position(at, what)
        record = tracker.record(self._source, position, self._index, what=what)
        whole = tracker.length <= self._max
        record = dataclasses.replace(
            record,
            encoding=self._encoding.codec,
            context=self._context,
            error=record.error if error is None else ParseError(error, position=position),
            original_length=None if whole else record.original_length,
            original_sha256=None if whole else record.original_sha256,
        )
        self._index += 1
        return record

    # ---- grammar ---------------------------------------------------------------------------------------------

    def records(self) -> Iterator[RawRecord]:
        """The whole file: prolog, body, epilog."""
        # A file refused in its prolog is one dead letter: its first bytes, and the length and SHA-256 of all of it.
        self._file = OversizedRecord(self._max)
        try:
            root = self._prolog()
        except _FatalError as exc:
            while self._fill(self._end):  # read (and hash) the rest in constant memory
                pass
            yield self._emit_oversized(self._file, 0, str(exc), what="file")
            return
        finally:
            self._file = None
        self._context = self._prolog_decl + root.tag
        pos = root.end if root.empty else (yield from self._body(root))
        if pos is not None:
            yield from self._epilog(pos)

    def _prolog(self) -> _Root:
        self._want(0, 4)
        if self._end == 0:
            raise _FatalError(f"empty file: an export needs at least the root element <{ROOT}>")
        head = self._slice(0, 4)
        if head.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in head:
            raise _FatalError("the export is UTF-16 or UTF-32; exports must be UTF-8")
        start = pos = 3 if head.startswith(_BOM_UTF8) else 0
        while True:
            pos = self._skip_ws(pos)
            if pos - start > _PROLOG_LIMIT:
                raise _FatalError(f"no root element in the first {_PROLOG_LIMIT} bytes")
            if any(self._at(pos, b"<?xml" + space) for space in (b" ", b"\t", b"\r", b"\n")):
                if pos != start:
                    raise _FatalError("the XML declaration must open the file")
                pos = self._declaration(pos)
            elif self._at(pos, b"<!--"):
                pos = self._past(_COMMENT_END, pos, "comment")
            elif self._at(pos, b"<?"):
                pos = self._past(_PI_END, pos, "processing instruction")
            elif self._at(pos, b"<!"):
                raise _FatalError(
                    "DOCTYPE and entity declarations are not allowed (they open the door to entity expansion and "
                    "external entities): the file is refused and none of its records is read"
                )
            elif self._at(pos, b"<"):
                return self._root(pos)
            else:
                found = self._slice(pos, min(self._end, pos + 16))
                raise _FatalError(f"not an XML export: {found!r} at byte {pos} where the root element should be")

    def _past(self, pattern: re.Pattern[bytes], pos: int, what: str) -> int:
        found = self._search(pattern, pos, pos, _PROLOG_LIMIT)
        if found is _Miss.EOF:
            raise _FatalError(f"the file ends inside the {what} at byte {pos}")
        if found is _Miss.TOO_LONG:
            raise _FatalError(f"the {what} at byte {pos} is longer than {_PROLOG_LIMIT} bytes")
        return found[1]

    def _declaration(self, pos: int) -> int:
        end = self._past(_PI_END, pos, "XML declaration")
        decl = self._slice(pos, end)
        version = _DECL_VERSION.search(decl)
        if version is None or version.group(2) != b"1.0":
            raise _FatalError(f"unsupported XML declaration {decl!r}: only XML 1.0 is read")
        named = declared(decl)
        if named is not None:
            name = named.decode("ascii", "replace")
            encoding = lookup(name)
            if encoding is None:
                raise _FatalError(
                    f"encoding {name!r} is not supported: an export is written in one of {supported_names()} "
                    "(UTF-8 without a declaration)"
                )
            self._encoding = encoding
        self._prolog_decl = decl
        return end

    def _root(self, pos: int) -> _Root:
        while (tag := _START_TAG.match(self._buf, pos - self._base)) is None:
            if self._end - pos > _PROLOG_LIMIT or not self._fill(pos):
                raise _FatalError(f"malformed root start tag at byte {pos}")
        raw = bytes(tag.group(0))
        try:
            # Parse the tag alone, closed, to learn its namespace bindings as an XML parser sees them.
            element = etree.fromstring(raw[:-1].rstrip(b"/") + b"/>", safe_parser())
        except etree.XMLSyntaxError as exc:
            raise _FatalError(f"malformed root start tag at byte {pos}: {exc}") from None
        name = etree.QName(element)
        if (name.namespace, name.localname) != (NS, ROOT):
            raise _FatalError(f"the root element is {name.text}; an export's root is {{{NS}}}{ROOT}")
        qname = re.escape(tag.group(1))
        record = re.escape(f"{element.prefix}:{RECORD}" if element.prefix else RECORD).encode()
        return _Root(
            tag=raw,
            end=tag.end() + self._base,
            empty=tag.group(3) == b"/",
            record_open=re.compile(b"<" + record + rb"[\s/>]"),
            record_close=re.compile(b"</" + record + rb"\s*>"),
            root_close=re.compile(b"</" + qname + rb"\s*>"),
            next_item=re.compile(b"<" + record + rb"[\s/>]|</" + qname + rb"\s*>"),
        )

    def _body(self, root: _Root) -> Steps:
        pos: int | None = root.end
        while pos is not None:
            pos = self._skip_ws(pos)
            self._want(pos, 64)  # enough to recognise any token
            i = pos - self._base
            if pos >= self._end:
                yield self._emit(
                    b"",
                    pos,
                    f"truncated file: it ends at byte {pos} without the root end tag </{ROOT}>; "
                    "records after the last whole one may be missing",
                    what="end of file",
                )
                return None
            if root.record_open.match(self._buf, i):
                pos = yield from self._record(root, pos)
            elif self._buf.startswith(b"<!--", i):
                pos = yield from self._ignorable(_COMMENT_END, pos, root.next_item)
            elif self._buf.startswith(b"<?", i):
                pos = yield from self._ignorable(_PI_END, pos, root.next_item)
            elif (end := root.root_close.match(self._buf, i)) is not None:
                return end.end() + self._base
            else:
                pos = yield from self._garbage(root.next_item, pos, "content between records that is not a record")
        return None

    def _record(self, root: _Root, pos: int) -> Steps:
        # Fast path, the usual case: the whole record is already in the window, and not too long.
        buf, i = self._buf, pos - self._base
        gt = buf.find(b">", i)
        if gt > i and buf[gt - 1] != 0x2F:  # not '/>'
            close = root.record_close.search(buf, gt)
            if close is not None and close.end() - i <= self._max:
                yield self._emit(bytes(buf[i : close.end()]), pos)
                return close.end() + self._base
        return (yield from self._record_slowly(root, pos))

    def _record_slowly(self, root: _Root, pos: int) -> Steps:
        gt = self._search(_GT, pos, pos, self._max)
        if isinstance(gt, tuple) and self._buf[gt[0] - 1 - self._base] == ord("/"):
            yield self._emit(self._slice(pos, gt[1]), pos)  # <Gebeurtenis/>: empty, the XSD will say why not
            return gt[1]
        found = gt if isinstance(gt, _Miss) else self._search(root.record_close, gt[1], pos, self._max)
        if found is _Miss.EOF:
            tail = self._slice(pos, self._end)
            yield self._emit(
                tail,
                pos,
                f"truncated file: the record at byte {pos} has no end tag </{RECORD}> before the end of the file "
                f"({len(tail)} bytes are left of it)",
            )
            return None
        if found is _Miss.TOO_LONG:
            tracker = OversizedRecord(self._max)
            # Search again from the start tag's end: an end tag cut by the window's edge was not seen yet.
            rest = self._stream_into(tracker, root.record_close, pos, pos if isinstance(gt, _Miss) else gt[1])
            if isinstance(rest, _Miss):
                yield self._emit_oversized(
                    tracker,
                    pos,
                    f"truncated file: the record at byte {pos} is longer than {self._max} bytes (max_record_bytes) "
                    f"and has no end tag before the end of the file ({tracker.length} bytes are left of it)",
                )
                return None
            yield self._emit_oversized(tracker, pos)
            return rest[1]
        yield self._emit(self._slice(pos, found[1]), pos)
        return found[1]

    def _ignorable(self, close: re.Pattern[bytes], pos: int, next_item: re.Pattern[bytes]) -> Steps:
        """Skip a comment or processing instruction between records."""
        found = self._search(close, pos, pos, self._max)
        if found is _Miss.EOF:
            yield self._emit(
                self._slice(pos, self._end),
                pos,
                "truncated file: it ends inside a comment or processing instruction",
                what="content",
            )
            return None
        if found is _Miss.TOO_LONG:
            return (yield from self._garbage(next_item, pos, f"comment longer than {self._max} bytes"))
        return found[1]

    def _garbage(self, next_item: re.Pattern[bytes] | None, pos: int, why: str) -> Steps:
        """Cut out everything up to the next record or root end tag (or the end of the file) as one error.

        However long it is, it costs one window of memory and becomes one dead letter carrying its first
        ``max_record_bytes`` and the length and SHA-256 of all of it.
        """
        if next_item is not None:
            found = self._search(next_item, pos + 1, pos, self._max)
            if isinstance(found, tuple):
                yield self._emit(self._slice(pos, found[0]), pos, f"{why}: {self._show(pos)}", what="content")
                return found[0]
        shown, tracker = self._show(pos), OversizedRecord(self._max)
        rest: Span | _Miss = _Miss.EOF
        if next_item is None:
            self._drain(tracker, pos)
        else:
            rest = self._stream_into(tracker, next_item, pos, pos + 1, through=False)
        size = f" ({tracker.length} bytes, the first {self._max} kept)" if tracker.length > self._max else ""
        if isinstance(rest, tuple):
            yield self._emit_oversized(tracker, pos, f"{why}{size}: {shown}", what="content")
            return rest[0]
        suffix = "" if next_item is None else f"; the file ends without the root end tag </{ROOT}>"
        yield self._emit_oversized(tracker, pos, f"{why}{size}{suffix}: {shown}", what="content")
        return None

    def _drain(self, tracker: OversizedRecord, start: int) -> None:
        """Feed ``tracker`` every byte from ``start`` to the end of the stream, one window at a time."""
        fed = start
        while True:
            with memoryview(self._buf) as view:  # released before the window is resized
                tracker.update(view[fed - self._base :])
            fed = self._end
            if not self._fill(fed):
                return

    def _show(self, pos: int) -> str:
        text = self._slice(pos, min(self._end, pos + 40)).decode("utf-8", "replace")
        return repr(text + ("..." if self._end > pos + 40 else ""))

    def _epilog(self, pos: int) -> Iterator[RawRecord]:
        while True:
            pos = self._skip_ws(pos)
            if pos >= self._end:
                return
            if self._at(pos, b"<!--"):
                close = _COMMENT_END
            elif self._at(pos, b"<?"):
                close = _PI_END
            else:
                yield from self._garbage(None, pos, f"content after the root end tag </{ROOT}>")
                return
            found = self._search(close, pos, pos, self._max)
            if isinstance(found, _Miss):
                yield from self._garbage(None, pos, "unterminated or over-long comment after the root end tag")
                return
            pos = found[1]
