"""Data hygiene: free text that a spreadsheet would run as a formula (CSV or formula injection).

Statistics, RRAI exports and operators' reports end up in spreadsheets. A cell whose text starts with ``=``, ``+``,
``-`` or ``@`` (also after leading white space), or with a tab or carriage return, may be executed as a formula
when opened; the finding tells downstream exports to neutralise it. Only ``str`` free text is looked at: codes
(countries, nationalities, articles), enums, numbers, dates and amounts are never text a person typed.

Which fields are free text is derived once from the generated payload models, so a new text field in the schema is
covered without a change here; code fields are the named exceptions.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import BaseModel

from gateway.events.models import PAYLOAD_OF_EVENT_TYPE, CaseEvent, Severity
from gateway.validation.legal import LegalReference
from gateway.validation.rule import ALL_EVENT_TYPES, NO_VIOLATIONS, NoParams, Rule, RuleContext, Violation

# str fields that hold codes, not text: a code list rule checks them, and their values never start with these signs.
CODE_FIELDS = frozenset({"country_of_return", "destination_country", "nationalities", "issuing_country", "article"})

# First characters after which a spreadsheet may evaluate a cell (OWASP "CSV Injection").
_FORMULA_SIGNS = frozenset("=+-@")
_CONTROL = frozenset("\t\r")
# Any first character that needs a closer look: a sign, a control character or white space before a sign.
# Every character str.lstrip() strips is white space below U+3001 (U+3000 is the last); a test checks all of Unicode.
_SPACE = frozenset(c for c in map(chr, range(0x3001)) if c.isspace())
_SUSPECT_FIRST = _FORMULA_SIGNS | _CONTROL | _SPACE

_TEXT, _TEXTS, _MODEL, _MODELS = 0, 1, 2, 3
Spec = tuple[tuple[str, int, Any], ...]


def _is_formula(text: str) -> bool:
    # Sets of single characters: "" (an empty or blank text) is in no set, while it is in every str.
    return text[:1] in _CONTROL or text.lstrip()[:1] in _FORMULA_SIGNS


def _kind(annotation: Any) -> tuple[int, Any] | None:
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return _kind(args[0]) if len(args) == 1 else None
    if annotation is str:
        return _TEXT, None
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return _MODEL, _spec(annotation)
    if typing.get_origin(annotation) is tuple and args and args[0] is not Ellipsis:
        inner = _kind(args[0])
        if inner is not None and inner[0] == _TEXT:
            return _TEXTS, None
        if inner is not None and inner[0] == _MODEL:
            return _MODELS, inner[1]
    return None


def _spec(model: type[BaseModel]) -> Spec:
    out = []
    for name, info in model.model_fields.items():
        kind = None if name in CODE_FIELDS else _kind(info.annotation)
        # A nested model without any text (dates, flags, enums only) is not visited.
        if kind is not None and (kind[0] in (_TEXT, _TEXTS) or kind[1]):
            out.append((name, kind[0], kind[1]))
    return tuple(out)


_SPECS: dict[type[Any], Spec] = {t: _spec(t) for t in PAYLOAD_OF_EVENT_TYPE.values()}


def _scan(model: Any, spec: Spec, prefix: str, out: list[Violation]) -> None:
    for name, kind, sub in spec:
        value = getattr(model, name)
        if value is None:
            continue
        if kind == _TEXT:
            if value[:1] in _SUSPECT_FIRST and _is_formula(value):
                out.append(_violation(f"{prefix}{name}", value))
        elif kind == _TEXTS:
            for i, text in enumerate(value):
                if text[:1] in _SUSPECT_FIRST and _is_formula(text):
                    out.append(_violation(f"{prefix}{name}[{i}]", text))
        elif kind == _MODEL:
            _scan(value, sub, f"{prefix}{name}.", out)
        else:
            for i, item in enumerate(value):
                _scan(item, sub, f"{prefix}{name}[{i}].", out)


def _violation(path: str, text: str) -> Violation:
    shown = text if len(text) <= 40 else f"{text[:40]}..."
    return Violation(
        path,
        f"the text {shown!r} starts like a spreadsheet formula (=, +, -, @, tab or carriage return); exports to "
        "spreadsheets must neutralise it",
    )


def _fast_source(spec: Spec, var: str, lines: list[str], indent: str, depth: int) -> None:
    # One straight-line function per payload type: attribute reads and a set look-up per text, no calls, no paths.
    for name, kind, sub in spec:
        if kind == _TEXT:
            lines += [f"{indent}v = {var}.{name}", f"{indent}if v and v[0] in S: return True"]
        elif kind == _TEXTS:
            lines += [f"{indent}for v in {var}.{name}:", f"{indent}    if v and v[0] in S: return True"]
        elif kind == _MODEL:
            inner = f"m{depth}"
            lines += [f"{indent}{inner} = {var}.{name}", f"{indent}if {inner} is not None:"]
            _fast_source(sub, inner, lines, indent + "    ", depth + 1)
        else:
            inner = f"m{depth}"
            lines.append(f"{indent}for {inner} in {var}.{name}:")
            _fast_source(sub, inner, lines, indent + "    ", depth + 1)


def _fast_check(spec: Spec) -> Callable[[Any], bool]:
    """Whether any text of a payload starts with a character that needs a closer look; generated from ``spec``."""
    lines = ["def suspect(p):"]
    _fast_source(spec, "p", lines, "    ", 0)
    lines.append("    return False")
    namespace: dict[str, Any] = {"S": _SUSPECT_FIRST}
    exec(compile("\n".join(lines), "<formula-prefix check>", "exec"), namespace)  # noqa: S102 - generated here
    check: Callable[[Any], bool] = namespace["suspect"]
    return check


_SUSPECT: dict[type[Any], Callable[[Any], bool]] = {t: _fast_check(spec) for t, spec in _SPECS.items() if spec}


def _check_formula_prefix(event: CaseEvent, ctx: RuleContext, params: NoParams) -> Sequence[Violation]:
    payload = event.payload
    suspect = _SUSPECT.get(type(payload))
    if suspect is None or not suspect(payload):
        return NO_VIOLATIONS
    # Rare: something starts with a sign or white space; find exactly which texts, with their paths.
    out: list[Violation] = []
    _scan(payload, _SPECS[type(payload)], "payload.", out)
    return tuple(out)


RULES: tuple[Rule[Any], ...] = (
    Rule(
        id="TX-001",
        title="Free text does not start like a spreadsheet formula",
        description="Every `str` field of the payload that is free text (names, places, authorities, references, "
        "reasons, notes, budget descriptions; not the code fields "
        + ", ".join(f"`{f}`" for f in sorted(CODE_FIELDS))
        + ") must not start with `=`, `+`, `-` or `@`, also after leading white space, nor with a tab or "
        "carriage return (OWASP CSV Injection). A warning: the text is kept as sent, and exports to "
        "spreadsheets downstream neutralise flagged values. Numbers, dates and enums are never looked at.",
        severity=Severity.WARNING,
        path="payload",
        legal=LegalReference("none (data hygiene: spreadsheet export safety, OWASP CSV Injection)"),
        event_types=ALL_EVENT_TYPES,
        check=_check_formula_prefix,
        params=NoParams(),
    ),
)
