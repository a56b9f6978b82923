"""Parsing one record: raw JSON bytes to a validated French record, or a ``ParseError`` that says what is wrong.

pydantic-core parses the bytes and validates the structure in one pass (``validate_json``), without building an
intermediate ``dict``: measured (``scripts/measure.py``), that is about twice as fast as ``json.loads`` followed
by validation of the ``dict``, and ``json.loads`` alone already costs about as much as ``validate_json``.
Its JSON parser refuses ``NaN`` and ``Infinity``, invalid UTF-8, lone surrogates, trailing data and numbers
beyond range, and stops at nesting depth 200 without using the Python stack. Two checks are added around it:

- **depth**, before parsing: the format nests four levels deep, so anything past ``max_depth`` is refused
  cheaply and with a clear message, whatever parser a later version uses (``json`` raises ``RecursionError``);
- **duplicate keys**, after: pydantic keeps the last of two equal keys without a word, and other parsers keep
  the first, so a record with a repeated key means different things to different readers. Unknown keys are
  refused, so every key of the input became a field of the result; the parsed record therefore holds as many
  keys as the input had unless one was repeated. Counting the input's keys exactly needs a tokenizer, but an
  upper bound is cheap (see ``_key_bound``). When the bound equals the parsed count there can be no duplicate,
  which is the common case; otherwise ``json.loads`` with a duplicate-detecting hook settles it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from itertools import accumulate
from typing import Any, Final

from pydantic import ValidationError

from gateway.errors import ParseError
from gw_connector_fr_jsonl.schema import (
    EVENT_TYPES,
    FREE_TEXT_PATTERN,
    IDENT_PATTERN,
    RECORD,
    TEXT_PATTERN,
    FrRecord,
    count_keys,
)

BOM: Final = b"\xef\xbb\xbf"
_ESCAPE: Final = re.compile(rb"\\.", re.DOTALL)
_STRING: Final = re.compile(rb'"[^"]*"')
_NOT_BRACKETS: Final = bytes(b for b in range(256) if b not in b"[]{}")
_STEP: Final = [{ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}.get(b, 0) for b in range(256)]
_WHITESPACE: Final = b" \t\r\n"
_MAX_REPORTED: Final = 3
_PATTERNS: Final = {
    TEXT_PATTERN: "control character in a text",
    FREE_TEXT_PATTERN: "control character in a text (only tab and line breaks are allowed)",
    IDENT_PATTERN: "not an identifier (a letter or digit, then letters, digits, '.', '_', '/' or '-'; at most 64)",
}
_TAGS: Final = frozenset(EVENT_TYPES)


def parse_record(data: bytes, position: str, *, max_depth: int, max_bytes: int) -> FrRecord:
    """The French record in ``data``, validated.

    Args:
        data: One record's bytes (UTF-8 JSON, one object).
        position: Where the record comes from, for the error.
        max_depth: Deepest nesting of objects and arrays accepted.
        max_bytes: Largest record accepted.

    Raises:
        ParseError: The bytes are not one well-formed, valid French record.
    """
    if len(data) > max_bytes:
        raise ParseError(f"record of {len(data)} bytes exceeds the limit of {max_bytes}", position=position)
    if data.count(b"{") + data.count(b"[") > max_depth and nesting_depth(data) > max_depth:
        raise ParseError(f"JSON nested deeper than {max_depth} levels", position=position)
    try:
        record = RECORD.validate_json(data)
    except ValidationError as exc:
        raise ParseError(describe(exc, data), position=position) from None
    if _key_bound(data) != count_keys(record):
        duplicate = find_duplicate_key(data)
        if duplicate is not None:
            raise ParseError(duplicate, position=position)
    return record


def nesting_depth(data: bytes) -> int:
    """How deep objects and arrays nest in ``data``, brackets inside strings ignored.

    Escape sequences go first (so every quote left delimits a string), then strings, then all but brackets;
    the deepest running sum of the brackets is the depth. Each step is one linear pass in C, whatever the
    input: no regular expression here can backtrack.
    """
    bare = _STRING.sub(b"", _ESCAPE.sub(b"", data))
    return max(accumulate(map(_STEP.__getitem__, bare.translate(None, _NOT_BRACKETS))), default=0)


def _key_bound(data: bytes) -> int:
    """An upper bound on the number of keys in ``data``.

    A key's closing quote is followed by optional whitespace and ``:``; with all whitespace deleted each key
    leaves one ``":``. Whitespace deleted inside strings can only add occurrences, never remove one.
    """
    return data.translate(None, _WHITESPACE).count(b'":')


def find_duplicate_key(data: bytes) -> str | None:
    """Describe the first key repeated within one object of ``data``, or None if there is none."""

    def unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        for key, value in pairs:
            if key in seen:
                raise _DuplicateKeyError(key)
            seen[key] = value
        return seen

    try:
        json.loads(data.decode("utf-8"), object_pairs_hook=unique)
    except _DuplicateKeyError as exc:
        return f"duplicate key {exc.key!r} in one object (readers disagree on which value wins)"
    except (ValueError, RecursionError) as exc:  # pydantic accepted the JSON; keep any disagreement a record error
        return f"invalid JSON: {exc}"
    return None


class _DuplicateKeyError(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


# ---- error messages ------------------------------------------------------------------------------------------


def describe(exc: ValidationError, data: bytes) -> str:
    """A short, readable account of what is wrong, each problem prefixed with its key path."""
    errors = exc.errors(include_url=False, include_input=False)
    parts = [_one(error, data) for error in errors[:_MAX_REPORTED]]
    more = len(errors) - _MAX_REPORTED
    if more > 0:
        parts.append(f"and {more} more problem{'s' if more > 1 else ''}")
    return "; ".join(parts)


def _one(error: Any, data: bytes) -> str:
    kind: str = error["type"]
    ctx: dict[str, Any] = error.get("ctx") or {}
    path = _path(error["loc"])
    if kind == "json_invalid":
        return _invalid_json(data, str(ctx.get("error", error["msg"])))
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        tag = ctx.get("tag")
        what = f"unknown event type {_clip(tag)}" if tag is not None else "required key missing"
        return f"typeEvenement: {what}"
    message = _message(kind, ctx, error["msg"], bool(path))
    return f"{path}: {message}" if path else message


def _message(kind: str, ctx: dict[str, Any], msg: str, nested: bool) -> str:
    if kind == "missing":
        return "required key missing"
    if kind == "extra_forbidden":
        return "unknown key (not part of the format)"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return "must be a JSON object" if nested else "a record must be a JSON object"
    if kind == "string_pattern_mismatch":
        return _PATTERNS.get(str(ctx.get("pattern")), msg)
    if kind == "value_error":
        return str(ctx.get("error", msg))
    if kind.startswith("date_"):
        return f"invalid date (YYYY-MM-DD expected){_detail(ctx)}"
    if kind == "timezone_aware":
        return "timestamp without UTC offset (write 2026-03-02T10:30:00+01:00 or ...Z)"
    if kind.startswith("datetime_"):
        return f"invalid timestamp (ISO 8601 with offset expected, e.g. 2026-03-02T10:30:00+01:00){_detail(ctx)}"
    return msg[:1].lower() + msg[1:]


def _detail(ctx: dict[str, Any]) -> str:
    return f": {ctx['error']}" if "error" in ctx else ""


def _invalid_json(data: bytes, reason: str) -> str:
    """Name the likely cause of malformed JSON: encoding, a stray BOM or NUL, truncation."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"not valid UTF-8: byte 0x{data[exc.start]:02X} at offset {exc.start} (records must be UTF-8)"
    if data.startswith(BOM):
        return "UTF-8 byte-order mark at the start of the record: only a file's first line may carry one"
    nul = data.find(b"\x00")
    if nul >= 0:
        return f"NUL byte at offset {nul}"
    if not data.strip(b" \t\r\n"):
        return "empty record"
    if reason.startswith("EOF while parsing"):
        return f"invalid JSON, truncated record? ({reason})"
    return f"invalid JSON: {reason}"


def _path(loc: Sequence[int | str]) -> str:
    parts = list(loc)
    if parts and parts[0] in _TAGS:  # the tagged union puts the record's type first
        parts = parts[1:]
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            # An unknown key comes from the input: quote it if it could garble a log line or a Kafka header.
            key = part if part.isprintable() and len(part) <= 64 else _clip(part)
            out += f".{key}" if out else key
    return out


def _clip(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 66 else text[:63] + "...'"
