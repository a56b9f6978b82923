"""Declarative code tables: national codes to canonical enum symbols, shipped as data with a connector.

A table file is TOML with one table per code list::

    [legal_ground]
    ONRECHTMATIG_VERBLIJF = "ILLEGAL_STAY"
    AFWIJZING_ASIEL = "REJECTED_APPLICATION"

so a national team extends a mapping by editing data, not code.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from enum import StrEnum
from importlib.resources import files
from pathlib import Path
from typing import Generic, Self, TypeVar

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
    """

    name: str
    to_canonical: Mapping[str, E]
    to_national: Mapping[E, str]

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
        return cls(name, forward, backward)

    def canonical(self, code: str, field: str) -> E:
        """The canonical member for a national code.

        Raises:
            MappingError: The code is not in the list; the message names the field.
        """
        try:
            return self.to_canonical[code]
        except KeyError:
            raise MappingError(f"{field}: unknown {self.name} code {code!r}") from None

    def canonical_all(self, codes: Sequence[str], field: str) -> tuple[E, ...]:
        """The canonical members for a list of national codes.

        Raises:
            MappingError: A code is not in the list; the message names the field and the code's index.
        """
        try:
            return tuple(self.to_canonical[code] for code in codes)
        except KeyError as exc:
            index = codes.index(exc.args[0])
            raise MappingError(f"{field}[{index}]: unknown {self.name} code {exc.args[0]!r}") from None

    def national(self, member: E) -> str:
        """The national code to render a canonical member with.

        Raises:
            ValueError: The list has no code for ``member``.
        """
        try:
            return self.to_national[member]
        except KeyError:
            raise ValueError(f"code list {self.name} has no code for {member}") from None


@dataclass(frozen=True, slots=True)
class StandardCodes:
    """The code lists of a national format, one per canonical enum it maps, each a ``codes.toml`` table.

    Connectors subclass it to name their package (``from_package``); a table no field reads, a missing table or
    a symbol the enum lacks is refused when the connector is built, not when a record meets it.
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

    @classmethod
    def from_tables(cls, tables: CodeTables) -> Self:
        """Build every list from loaded code tables.

        Raises:
            ValueError: A table is missing, names an unknown symbol, or is read by no field.
        """
        extra = set(tables.tables) - {f.name for f in fields(cls)}
        if extra:
            raise ValueError(f"codes.toml has tables no field reads: {sorted(extra)}")
        t = tables
        return cls(
            legal_ground=CodeList.build(t, "legal_ground", m.LegalGround),
            short_period_ground=CodeList.build(t, "short_period_ground", m.ShortPeriodGround),
            warning_marker=CodeList.build(t, "warning_marker", m.WarningMarker),
            sex=CodeList.build(t, "sex", m.Sex),
            travel_document_type=CodeList.build(t, "travel_document_type", m.TravelDocumentType),
            extension_reason=CodeList.build(t, "extension_reason", m.ExtensionReason),
            decision_status=CodeList.build(t, "decision_status", m.DecisionStatus),
            procedure_stage=CodeList.build(t, "procedure_stage", m.ProcedureStage),
            assistance_type=CodeList.build(t, "assistance_type", m.AssistanceType),
            assistance_form=CodeList.build(t, "assistance_form", m.AssistanceForm),
            refusal_reason=CodeList.build(t, "refusal_reason", m.RefusalReason),
            support_type=CodeList.build(t, "support_type", m.SupportType),
            reintegration_stage=CodeList.build(t, "reintegration_stage", m.ReintegrationStage),
            departure_evidence=CodeList.build(t, "departure_evidence", m.DepartureEvidence),
            return_type=CodeList.build(t, "return_type", m.ReturnType),
            non_return_source=CodeList.build(t, "non_return_source", m.NonReturnSource),
            eurodac_category=CodeList.build(t, "eurodac_category", m.EurodacCategory),
            security_ground=CodeList.build(t, "security_ground", m.SecurityGround),
            member_state=CodeList.build(t, "member_state", m.MemberState),
            avrr_status=CodeList.build(t, "avrr_status", m.AvrrStatus),
        )

    @classmethod
    def from_package(cls, package: str) -> Self:
        """The code lists shipped as ``codes.toml`` in a connector package."""
        return cls.from_tables(CodeTables.from_package(package))
