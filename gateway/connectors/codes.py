"""Declarative code tables: national codes to canonical enum symbols, shipped as data with a connector.

A table file is TOML with one table per code list::

    [legal_ground]
    ONRECHTMATIG_VERBLIJF = "ILLEGAL_STAY"
    AFWIJZING_ASIEL = "REJECTED_APPLICATION"

so a national team extends a mapping by editing data, not code.

A connector types the tables it uses by subclassing ``CodeLists`` and annotating one attribute per table
(``legal_ground: CodeList[LegalGround]``): only those tables are required, and each is checked against its enum
when the connector is built. ``StandardCodes`` declares every canonical code list at once.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import FrozenInstanceError, dataclass
from enum import StrEnum
from importlib.resources import files
from pathlib import Path
from typing import Any, Generic, Self, TypeVar, get_args, get_origin, get_type_hints

from gateway.errors import MappingError
from gateway.events import models as m


@dataclass(frozen=True, slots=True)
class CodeTables:
    """Code lists of one connector.

    Attributes:
        tables: List name -> national code -> canonical symbol.
    """

    tables: Mapping[str, Mapping[str, str]]

    @classmethod
    def from_toml(cls, text: str) -> CodeTables:
        """Load tables from TOML text."""
        raw = tomllib.loads(text)
        tables: dict[str, dict[str, str]] = {}
        for name, table in raw.items():
            if not isinstance(table, dict) or not all(isinstance(v, str) for v in table.values()):
                raise ValueError(f"code table {name!r} must map codes to strings")
            tables[name] = {str(k): v for k, v in table.items()}
        return cls(tables)

    @classmethod
    def from_file(cls, path: Path) -> CodeTables:
        """Load tables from a TOML file."""
        return cls.from_toml(path.read_text(encoding="utf-8"))

    @classmethod
    def from_package(cls, package: str, resource: str = "codes.toml") -> CodeTables:
        """Load tables shipped inside a connector package."""
        return cls.from_toml(files(package).joinpath(resource).read_text(encoding="utf-8"))

    def lookup(self, table: str, code: str, *, field: str) -> str:
        """The canonical symbol for a national code; raise ``MappingError`` naming the field if unknown."""
        try:
            return self.tables[table][code]
        except KeyError:
            raise MappingError(f"unknown {table} code {code!r} in {field}") from None

    def reverse(self, table: str) -> dict[str, str]:
        """Canonical symbol -> first national code that maps to it (for rendering samples)."""
        out: dict[str, str] = {}
        for code, symbol in self.tables[table].items():
            out.setdefault(symbol, code)
        return out


E = TypeVar("E", bound=StrEnum)


@dataclass(frozen=True, slots=True)
class CodeList(Generic[E]):
    """One code list: national code <-> canonical enum member.

    Attributes:
        name: Table name in ``codes.toml``.
        to_canonical: National code -> canonical member.
        to_national: Canonical member -> preferred national code (the first listed).
        refusal_rule: The validation rule an unknown code breaks, named on the dead letter (``CD-004`` for the
            Member State list: a code outside it cannot reach the rules as an event, so the connector's refusal is
            where that rule is applied).
    """

    name: str
    to_canonical: Mapping[str, E]
    to_national: Mapping[E, str]
    refusal_rule: str | None = None

    @classmethod
    def build(cls, tables: CodeTables, name: str, enum: type[E]) -> CodeList[E]:
        """Build the list ``name`` of ``tables``, checking its symbols against ``enum``.

        Raises:
            ValueError: The table is missing or names a symbol ``enum`` lacks.
        """
        if name not in tables.tables:
            raise ValueError(f"codes.toml has no table [{name}]")
        try:
            forward = {code: enum(symbol) for code, symbol in tables.tables[name].items()}
            backward = {enum(symbol): code for symbol, code in tables.reverse(name).items()}
        except ValueError as exc:
            raise ValueError(f"codes.toml table [{name}] names a symbol that {enum.__name__} lacks: {exc}") from None
        return cls(name, forward, backward, "CD-004" if enum is m.MemberState else None)

    def canonical(self, code: str, field: str) -> E:
        """The canonical member for a national code.

        Raises:
            MappingError: The code is not in the list; the message names the field.
        """
        try:
            return self.to_canonical[code]
        except KeyError:
            raise self._refusal(field, code) from None

    def canonical_all(self, codes: Sequence[str], field: str) -> tuple[E, ...]:
        """The canonical members for a list of national codes.

        Raises:
            MappingError: A code is not in the list; the message names the field and the code's index.
        """
        try:
            return tuple(self.to_canonical[code] for code in codes)
        except KeyError as exc:
            index = codes.index(exc.args[0])
            raise self._refusal(f"{field}[{index}]", exc.args[0]) from None

    def _refusal(self, field: str, code: str) -> MappingError:
        if self.refusal_rule is None:
            return MappingError(f"{field}: unknown {self.name} code {code!r}")
        why = (
            " (the United Kingdom left the EU on 31 January 2020 and is bound by neither Eurodac nor SIS)"
            if code.strip().upper() in {"GB", "UK", "GBR"}
            else ""
        )
        return MappingError(
            f"{self.refusal_rule} {field}: {code!r} is not the code of an EU or Schengen-associated Member State{why}",
            rule_ids=(self.refusal_rule,),
        )

    def national(self, member: E) -> str:
        """The national code to render a canonical member with.

        Raises:
            ValueError: The list has no code for ``member``.
        """
        try:
            return self.to_national[member]
        except KeyError:
            raise ValueError(f"code list {self.name} has no code for {member}") from None


class CodeLists:
    """Base of a connector's typed code lists: annotate one ``CodeList[Enum]`` attribute per table it uses.

    ::

        class Codes(CodeLists):
            legal_ground: CodeList[m.LegalGround]
            sex: CodeList[m.Sex]

    The attribute name is the ``codes.toml`` table name. A declared table that is missing, a symbol its enum
    lacks, or a table no attribute declares is refused when the lists are built (``from_tables``), not when a
    record meets it. Instances are immutable.
    """

    def __init__(self, lists: Mapping[str, CodeList[Any]]) -> None:
        declared = self.declared()
        if set(lists) != set(declared):
            raise ValueError(f"{type(self).__name__} declares {sorted(declared)}, got {sorted(lists)}")
        for name, codes in lists.items():
            object.__setattr__(self, name, codes)

    @classmethod
    def declared(cls) -> dict[str, type[StrEnum]]:
        """Table name -> canonical enum, for every ``CodeList[...]`` attribute the class (and its bases) annotate."""
        out: dict[str, type[StrEnum]] = {}
        for name, hint in get_type_hints(cls).items():
            if get_origin(hint) is CodeList:
                (enum,) = get_args(hint)
                out[name] = enum
        return out

    @classmethod
    def from_tables(cls, tables: CodeTables) -> Self:
        """Build every declared list from loaded code tables.

        Raises:
            ValueError: A declared table is missing or names an unknown symbol, or a table is declared by no
                attribute.
        """
        declared = cls.declared()
        extra = set(tables.tables) - set(declared)
        if extra:
            raise ValueError(f"codes.toml has tables no field reads: {sorted(extra)}")
        return cls({name: CodeList.build(tables, name, enum) for name, enum in declared.items()})

    @classmethod
    def from_package(cls, package: str, resource: str = "codes.toml") -> Self:
        """The code lists shipped as ``resource`` in a connector package."""
        return cls.from_tables(CodeTables.from_package(package, resource))

    def __setattr__(self, name: str, value: object) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and vars(self) == vars(other)

    def __hash__(self) -> int:
        return hash((type(self), tuple(sorted(vars(self)))))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(sorted(vars(self)))})"


class StandardCodes(CodeLists):
    """Every canonical code list, each a ``codes.toml`` table: for formats that carry all of them.

    A connector that uses only some tables subclasses ``CodeLists`` instead and declares just those.
    """

    legal_ground: CodeList[m.LegalGround]
    short_period_ground: CodeList[m.ShortPeriodGround]
    warning_marker: CodeList[m.WarningMarker]
    sex: CodeList[m.Sex]
    travel_document_type: CodeList[m.TravelDocumentType]
    extension_reason: CodeList[m.ExtensionReason]
    decision_status: CodeList[m.DecisionStatus]
    procedure_stage: CodeList[m.ProcedureStage]
    assistance_type: CodeList[m.AssistanceType]
    assistance_form: CodeList[m.AssistanceForm]
    refusal_reason: CodeList[m.RefusalReason]
    support_type: CodeList[m.SupportType]
    reintegration_stage: CodeList[m.ReintegrationStage]
    departure_evidence: CodeList[m.DepartureEvidence]
    return_type: CodeList[m.ReturnType]
    non_return_source: CodeList[m.NonReturnSource]
    eurodac_category: CodeList[m.EurodacCategory]
    security_ground: CodeList[m.SecurityGround]
    member_state: CodeList[m.MemberState]
    avrr_status: CodeList[m.AvrrStatus]
