"""The Dutch code lists as typed, two-way tables, built once from the declarative ``codes.toml``.

``codes.toml`` is loaded with ``CodeTables.from_package``; each table becomes a ``CodeList`` that maps a national
code to the canonical enum member (``canonical``) and back (``national``, built with ``CodeTables.reverse`` so that
rendering is the inverse of mapping). Building them checks every symbol against its canonical enum, so a typo in
the data fails at start-up instead of turning every record into a dead letter.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from gateway.connectors.codes import CodeList, CodeTables
from gateway.events import models as m


@dataclass(frozen=True, slots=True)
class Codes:
    """All code lists of the format."""

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

    @classmethod
    def from_tables(cls, tables: CodeTables) -> Codes:
        """Build every list from loaded code tables; refuse tables that no field reads."""
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
        )

    @classmethod
    def load(cls) -> Codes:
        """The code lists shipped with the package."""
        return cls.from_tables(CodeTables.from_package("gw_connector_nl_xml"))
