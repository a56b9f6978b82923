"""The shipped code lists (``codes.toml``), checked once and typed for the mapper and the renderer.

``CodeTables`` keeps symbols as strings; the mapper wants enum members, so each table is turned into
``national code -> member`` when the connector is built, and a symbol the canonical enum does not know fails
then, not on the millionth record.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

from gateway.connectors.codes import CodeTables
from gateway.errors import MappingError
from gateway.events import models as m
from gw_connector_de_csv.values import split_list

E = TypeVar("E", bound=StrEnum)


@dataclass(frozen=True, slots=True)
class Tables:
    """Every code list of the export, national code -> canonical member, plus the reverse for rendering.

    Attributes:
        reverse: Table name -> canonical symbol -> the national code written for it.
    """

    event_type: Mapping[str, m.EventType]
    sex: Mapping[str, m.Sex]
    legal_ground: Mapping[str, m.LegalGround]
    short_period_ground: Mapping[str, m.ShortPeriodGround]
    warning_marker: Mapping[str, m.WarningMarker]
    extension_reason: Mapping[str, m.ExtensionReason]
    decision_status: Mapping[str, m.DecisionStatus]
    procedure_stage: Mapping[str, m.ProcedureStage]
    assistance_type: Mapping[str, m.AssistanceType]
    assistance_form: Mapping[str, m.AssistanceForm]
    refusal_reason: Mapping[str, m.RefusalReason]
    reintegration_stage: Mapping[str, m.ReintegrationStage]
    support_type: Mapping[str, m.SupportType]
    return_type: Mapping[str, m.ReturnType]
    departure_evidence: Mapping[str, m.DepartureEvidence]
    non_return_source: Mapping[str, m.NonReturnSource]
    eurodac_category: Mapping[str, m.EurodacCategory]
    security_ground: Mapping[str, m.SecurityGround]
    document_type: Mapping[str, m.TravelDocumentType]
    avrr_status: Mapping[str, m.AvrrStatus]
    reverse: Mapping[str, Mapping[str, str]]

    @classmethod
    def from_codes(cls, codes: CodeTables) -> Tables:
        """Check and type the code tables.

        Raises:
            ValueError: A table is missing, or maps a code to a symbol its canonical enum does not have.
        """
        return cls(
            event_type=_typed(codes, "event_type", m.EventType),
            sex=_typed(codes, "sex", m.Sex),
            legal_ground=_typed(codes, "legal_ground", m.LegalGround),
            short_period_ground=_typed(codes, "short_period_ground", m.ShortPeriodGround),
            warning_marker=_typed(codes, "warning_marker", m.WarningMarker),
            extension_reason=_typed(codes, "extension_reason", m.ExtensionReason),
            decision_status=_typed(codes, "decision_status", m.DecisionStatus),
            procedure_stage=_typed(codes, "procedure_stage", m.ProcedureStage),
            assistance_type=_typed(codes, "assistance_type", m.AssistanceType),
            assistance_form=_typed(codes, "assistance_form", m.AssistanceForm),
            refusal_reason=_typed(codes, "refusal_reason", m.RefusalReason),
            reintegration_stage=_typed(codes, "reintegration_stage", m.ReintegrationStage),
            support_type=_typed(codes, "support_type", m.SupportType),
            return_type=_typed(codes, "return_type", m.ReturnType),
            departure_evidence=_typed(codes, "departure_evidence", m.DepartureEvidence),
            non_return_source=_typed(codes, "non_return_source", m.NonReturnSource),
            eurodac_category=_typed(codes, "eurodac_category", m.EurodacCategory),
            security_ground=_typed(codes, "security_ground", m.SecurityGround),
            document_type=_typed(codes, "document_type", m.TravelDocumentType),
            avrr_status=_typed(codes, "avrr_status", m.AvrrStatus),
            reverse={name: codes.reverse(name) for name in codes.tables},
        )


def code(table: Mapping[str, E], value: str, field: str) -> E:
    """The canonical member for a national code; ``MappingError`` naming the column if unknown."""
    try:
        return table[value]
    except KeyError:
        if not value:
            raise MappingError(f"{field} is required") from None
        raise MappingError(f"{field}: unknown code {value!r} (known: {', '.join(table)})") from None


def optional_code(table: Mapping[str, E], value: str, field: str) -> E | None:
    """A code, or None for an empty column."""
    return code(table, value, field) if value else None


def codes(table: Mapping[str, E], value: str, field: str) -> tuple[E, ...]:
    """The canonical members of a packed list of codes (``A|B``); empty column -> none."""
    if not value:
        return ()
    return tuple(code(table, item, field) for item in split_list(value, field))


def national(tables: Tables, name: str, symbol: str) -> str:
    """The national code the renderer writes for a canonical symbol.

    Raises:
        ValueError: The table has no code for the symbol, so the value cannot be exported.
    """
    try:
        return tables.reverse[name][symbol]
    except KeyError:
        raise ValueError(f"code table {name!r} has no national code for {symbol!r}") from None


def _typed(codes: CodeTables, name: str, enum: type[E]) -> dict[str, E]:
    if name not in codes.tables:
        raise ValueError(f"codes.toml has no table [{name}]")
    out: dict[str, E] = {}
    for national_code, symbol in codes.tables[name].items():
        try:
            member = enum(symbol)
        except ValueError:
            member = None
        # UNKNOWN is the schema's default for readers of future symbols, never a value a national system sends.
        if member is None or member == "UNKNOWN":
            raise ValueError(f"[{name}] {national_code} = {symbol!r} is not a {enum.__name__} symbol")
        out[national_code] = member
    return out
