r"""A safe preview of a dead letter's original bytes: text when it decodes cleanly, a hex dump when it does not.

Pure. The preview is plain text for a template that escapes it (Jinja2 autoescape); on top of that, characters that
could mislead a reader (bidirectional overrides, other invisible format characters, control characters) are shown
as ``\u202e``-style escapes, so what an operator sees is what the bytes say. Long records are cut, saying so.
"""

from __future__ import annotations

import codecs
import unicodedata
from dataclasses import dataclass
from typing import Literal

__all__ = ["Preview", "escape_text", "hex_dump", "preview"]

TEXT_LIMIT = 4096
"""Characters of text shown at most."""
HEX_LIMIT = 1024
"""Bytes shown at most in a hex dump."""

_ALLOWED_CONTROLS = frozenset("\n\t")
# Below this share of characters that need an escape, text stays text; above it, a hex dump reads better.
_MAX_ESCAPED_SHARE = 0.1


@dataclass(frozen=True, slots=True)
class Preview:
    """What to show of a record's bytes.

    Attributes:
        kind: ``text`` (decoded, unsafe characters escaped) or ``hex`` (offset, hex bytes, ASCII column).
        body: The text or the hex dump.
        shown: Bytes covered by the preview.
        total: Bytes of the value.
        truncated: Whether only the start is shown.
        encoding: The encoding used to decode (text), or the one that failed (hex).
        reason: Why a hex dump is shown, for the operator (empty for text).
    """

    kind: Literal["text", "hex"]
    body: str
    shown: int
    total: int
    truncated: bool
    encoding: str
    reason: str = ""


def _escape_char(ch: str) -> str:
    if ch in _ALLOWED_CONTROLS:
        return ch
    if ch == "\r":
        return "\\r"
    category = unicodedata.category(ch)
    # Cc: control characters; Cf: format characters (bidi overrides, zero-width joiners); Co/Cs/Cn: private,
    # surrogates, unassigned. None of them is visible, all of them can disguise the text around them.
    if category in ("Cc", "Cf", "Co", "Cs", "Cn"):
        return f"\\u{ord(ch):04x}" if ord(ch) <= 0xFFFF else f"\\U{ord(ch):08x}"
    return ch


def escape_text(text: str) -> str:
    r"""``text`` with its invisible and control characters (but tab and newline) as visible ``\uXXXX`` escapes."""
    return "".join(_escape_char(ch) for ch in text)


def _known_encoding(name: str) -> str:
    try:
        return codecs.lookup(name).name
    except LookupError:
        return "utf-8"


def preview(
    value: bytes, encoding: str = "utf-8", *, text_limit: int = TEXT_LIMIT, hex_limit: int = HEX_LIMIT
) -> Preview:
    """Preview a record's bytes.

    Args:
        value: The original bytes (possibly already a prefix: see ``gw.original.length``).
        encoding: The source's encoding (``gw.source.encoding``); an unknown name falls back to UTF-8.
        text_limit: Most characters of text.
        hex_limit: Most bytes of a hex dump.

    Returns:
        Text when the bytes decode in ``encoding`` and are mostly printable, else a hex dump.
    """
    enc = _known_encoding(encoding)
    # Decode a little more than shown, so that a multi-byte character cut by the limit is not an error.
    head = value[: text_limit * 4 + 4]
    try:
        text = codecs.getincrementaldecoder(enc)("strict").decode(head, final=len(head) == len(value))
    except (UnicodeDecodeError, ValueError):
        return _hex(value, enc, hex_limit, f"not valid {enc}")
    shown_text = text[:text_limit]
    escaped = [_escape_char(ch) for ch in shown_text]
    unsafe = sum(1 for raw, out in zip(shown_text, escaped, strict=True) if raw != out and raw != "\r")
    if shown_text and unsafe / len(shown_text) > _MAX_ESCAPED_SHARE:
        return _hex(value, enc, hex_limit, "mostly control characters")
    shown_bytes = len(shown_text.encode(enc, "replace")) if len(shown_text) < len(text) else len(head)
    truncated = len(text) > text_limit or len(head) < len(value)
    return Preview("text", "".join(escaped), min(shown_bytes, len(value)), len(value), truncated, enc)


def _hex(value: bytes, encoding: str, limit: int, reason: str) -> Preview:
    shown = value[:limit]
    return Preview("hex", hex_dump(shown), len(shown), len(value), len(value) > limit, encoding, reason)


def hex_dump(data: bytes, width: int = 16) -> str:
    """A classic hex dump: offset, the bytes in hex, and their printable ASCII (others as ``.``)."""
    lines = []
    for start in range(0, len(data), width):
        chunk = data[start : start + width]
        hexes = " ".join(f"{b:02x}" for b in chunk)
        ascii_ = "".join(chr(b) if 0x20 <= b < 0x7F else "." for b in chunk)
        lines.append(f"{start:08x}  {hexes:<{width * 3 - 1}}  {ascii_}")
    return "\n".join(lines)
