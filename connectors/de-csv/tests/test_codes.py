"""The shipped code tables: complete, valid, and rendering is the inverse of mapping."""

from __future__ import annotations

import pytest
from gw_connector_de_csv.tables import Tables, code, codes, national

from gateway.connectors.codes import CodeTables
from gateway.errors import MappingError
from gateway.events import models as m

SHIPPED = CodeTables.from_package("gw_connector_de_csv")
TABLES = Tables.from_codes(SHIPPED)
ENUMS = {
    "event_type": m.EventType,
    "sex": m.Sex,
    "legal_ground": m.LegalGround,
    "short_period_ground": m.ShortPeriodGround,
    "warning_marker": m.WarningMarker,
    "extension_reason": m.ExtensionReason,
    "decision_status": m.DecisionStatus,
    "procedure_stage": m.ProcedureStage,
    "assistance_type": m.AssistanceType,
    "assistance_form": m.AssistanceForm,
    "refusal_reason": m.RefusalReason,
    "reintegration_stage": m.ReintegrationStage,
    "support_type": m.SupportType,
    "return_type": m.ReturnType,
    "departure_evidence": m.DepartureEvidence,
    "non_return_source": m.NonReturnSource,
    "eurodac_category": m.EurodacCategory,
    "security_ground": m.SecurityGround,
    "document_type": m.TravelDocumentType,
    "avrr_status": m.AvrrStatus,
}


def test_every_table_is_shipped_and_nothing_else():
    assert set(SHIPPED.tables) == set(ENUMS)


@pytest.mark.parametrize("name", sorted(ENUMS))
def test_every_canonical_symbol_has_a_national_code(name):
    # so that any canonical value can be rendered, and nothing maps to the readers' UNKNOWN default
    symbols = set(SHIPPED.tables[name].values())
    assert symbols == {e.value for e in ENUMS[name]} - {"UNKNOWN"}


@pytest.mark.parametrize("name", sorted(ENUMS))
def test_rendering_is_the_inverse_of_mapping(name):
    table = getattr(TABLES, name)
    for symbol, national_code in SHIPPED.reverse(name).items():
        assert table[national_code] == symbol
        assert national(TABLES, name, symbol) == national_code


def test_all_thirteen_event_types_have_a_german_code():
    assert len(TABLES.event_type) == 13
    assert TABLES.event_type["RUECKKEHRENTSCHEIDUNG"] is m.EventType.RETURN_DECISION_ISSUED
    assert TABLES.event_type["ED_BEHANDLUNG"] is m.EventType.BIOMETRICS_CAPTURED


def test_sex_codes():
    assert {c: TABLES.sex[c] for c in "mwdx"} == {
        "m": m.Sex.MALE,
        "w": m.Sex.FEMALE,
        "d": m.Sex.UNSPECIFIED,
        "x": m.Sex.UNSPECIFIED,
    }
    assert national(TABLES, "sex", m.Sex.UNSPECIFIED) == "x"  # the first listed code is written


def test_grounds():
    assert TABLES.legal_ground["UNERLAUBTER_AUFENTHALT"] is m.LegalGround.ILLEGAL_STAY
    assert TABLES.legal_ground["ABGELEHNTER_ASYLANTRAG"] is m.LegalGround.REJECTED_APPLICATION


def test_unknown_and_missing_codes_name_the_column_and_the_known_codes():
    with pytest.raises(MappingError, match=r"Geschlecht: unknown code 'M' \(known: m, w, x, d\)"):
        code(TABLES.sex, "M", "Geschlecht")
    with pytest.raises(MappingError, match="Geschlecht is required"):
        code(TABLES.sex, "", "Geschlecht")
    with pytest.raises(MappingError, match="Nachweise: unknown code 'FAX'"):
        codes(TABLES.departure_evidence, "EES_AUSREISE|FAX", "Nachweise")


def test_a_symbol_the_enum_does_not_know_is_refused_when_the_connector_is_built():
    broken = CodeTables({**SHIPPED.tables, "sex": {"m": "MALE", "q": "QUEER"}})
    with pytest.raises(ValueError, match=r"\[sex\] q = 'QUEER' is not a Sex symbol"):
        Tables.from_codes(broken)
    unknown = CodeTables({**SHIPPED.tables, "sex": {"m": "MALE", "u": "UNKNOWN"}})
    with pytest.raises(ValueError, match="is not a Sex symbol"):
        Tables.from_codes(unknown)
    missing = CodeTables({k: t for k, t in SHIPPED.tables.items() if k != "document_type"})
    with pytest.raises(ValueError, match=r"no table \[document_type\]"):
        Tables.from_codes(missing)


def test_a_symbol_without_a_national_code_cannot_be_rendered():
    with pytest.raises(ValueError, match="no national code"):
        national(TABLES, "sex", "UNKNOWN")
