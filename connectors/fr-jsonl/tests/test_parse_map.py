"""Parsing and mapping single records: every event type, offsets, strictness, readable error paths."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest
from gw_connector_fr_jsonl import FrJsonlConnector, schema
from gw_connector_fr_jsonl.codelists import Codes
from gw_connector_fr_jsonl.parser import find_duplicate_key, nesting_depth
from gw_connector_fr_jsonl.renderer import OVERSEAS, PARIS, render_fact
from gw_connector_fr_jsonl.schema import EVENT_TYPES

from gateway.connectors.base import Fact, RawRecord
from gateway.errors import MappingError, ParseError
from gateway.events import models as m
from gateway.testing.conformance import identity_context

Obj = dict[str, Any]
Translate = Callable[[bytes | Obj], list[Fact]]
T = m.EventType


def test_every_event_type_is_carried(example_facts: dict[T, Fact], codes: Codes, translate: Translate) -> None:
    assert set(example_facts) == {t for t in T if t != T.UNKNOWN}
    assert len(EVENT_TYPES) == len(example_facts)
    for zone in (PARIS, dt.UTC, *OVERSEAS):
        for fact in example_facts.values():
            assert translate(render_fact(fact, codes, zone)) == [fact]


def test_event_at_half_past_midnight_is_the_previous_day_in_utc_but_dates_do_not_shift(
    example_objects: dict[T, Obj], translate: Translate
) -> None:
    record = example_objects[T.RETURN_DECISION_ISSUED]
    record["horodatage"] = "2026-03-05T00:30:00+02:00"
    record["decision"]["date"] = "2026-03-05"
    [fact] = translate(record)
    assert fact.occurred_at == dt.datetime(2026, 3, 4, 22, 30, tzinfo=dt.UTC)
    assert fact.occurred_at.tzinfo is dt.UTC
    assert isinstance(fact.payload, m.ReturnDecisionIssued)
    assert fact.payload.decision_date == dt.date(2026, 3, 5)


def test_offsets_west_and_east_of_utc(example_objects: dict[T, Obj], translate: Translate) -> None:
    record = example_objects[T.DEPARTURE_CONFIRMED]
    record["horodatage"] = "2026-03-04T23:30:00-04:00"  # Guadeloupe: already 5 March in UTC
    record["depart"]["horodatage"] = "2026-03-05T08:15:00+11:00"  # Nouméa: still 4 March in UTC
    [fact] = translate(record)
    assert fact.occurred_at == dt.datetime(2026, 3, 5, 3, 30, tzinfo=dt.UTC)
    assert isinstance(fact.payload, m.DepartureConfirmed)
    assert fact.payload.departed_at == dt.datetime(2026, 3, 4, 21, 15, tzinfo=dt.UTC)


def test_a_timestamp_out_of_range_in_utc_is_a_parse_error(example_objects: dict[T, Obj], translate: Translate) -> None:
    record = example_objects[T.ENTRY_RECORDED] | {"horodatage": "0001-01-01T00:30:00+01:00"}
    _reject(translate, record, ParseError, "horodatage: timestamp out of range once converted to UTC")


@pytest.mark.parametrize("stamp", ["2026-03-02T10:30:00Z", "2026-03-02T11:30:00+01:00", "2026-03-02T05:30:00-05:00"])
def test_z_and_offsets_name_the_same_instant(stamp: str, example_objects: dict[T, Obj], translate: Translate) -> None:
    record = example_objects[T.ENTRY_RECORDED] | {"horodatage": stamp}
    assert translate(record)[0].occurred_at == dt.datetime(2026, 3, 2, 10, 30, tzinfo=dt.UTC)


def test_sub_millisecond_digits_are_dropped(example_objects: dict[T, Obj], translate: Translate) -> None:
    record = example_objects[T.ENTRY_RECORDED] | {"horodatage": "2026-03-02T10:30:00.123456789+01:00"}
    assert translate(record)[0].occurred_at == dt.datetime(2026, 3, 2, 9, 30, 0, 123000, tzinfo=dt.UTC)


def _reject(translate: Translate, record: bytes | Obj, error: type[Exception], message: str) -> None:
    with pytest.raises(error) as caught:
        translate(record)
    assert message in str(caught.value), str(caught.value)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda r: r["decision"]["delaiDepartVolontaire"].update(fin="2026-02-30"),
            "decision.delaiDepartVolontaire.fin",
        ),
        (lambda r: r["decision"]["delaiDepartVolontaire"].update(fin="30/03/2026"), "invalid date"),
        (lambda r: r.update(horodatage="2026-03-02T10:30:00"), "horodatage: timestamp without UTC offset"),
        (lambda r: r["personne"].update(dateNaissance="1990-00-00"), "personne.dateNaissance: invalid partial date"),
        (lambda r: r["personne"].pop("dateNaissance"), "personne.dateNaissance: required key missing"),
        (lambda r: r["personne"].update(dateNaisance="1990"), "personne.dateNaisance: unknown key"),
        (lambda r: r["decision"]["delaiDepartVolontaire"].update(dureeJours="30"), "dureeJours: input should be"),
        (lambda r: r["decision"]["interdictionRetour"].update(prononcee="false"), "prononcee: input should be"),
        (lambda r: r["decision"]["delaiDepartVolontaire"].update(dureeJours=30.0), "dureeJours"),
        (lambda r: r["decision"]["delaiDepartVolontaire"].update(dureeJours=-1), "greater than or equal to 0"),
        (lambda r: r["decision"]["delaiDepartVolontaire"].update(dureeJours=2**31), "less than or equal to"),
        (lambda r: r["personne"].update(prenoms="YOUSSEF"), "personne.prenoms: input should be a valid"),
        (lambda r: r["personne"].update(nationalites=["M\u0000A"]), "personne.nationalites[0]: control character"),
        (lambda r: r["personne"].update(nom="A\u0000B"), "personne.nom: control character"),
        (lambda r: r["personne"].update(nom="A\nB"), "personne.nom: control character"),
        (lambda r: r["personne"].update(nom=""), "personne.nom: string should have at least 1"),
        (lambda r: r["personne"].update(nom="A" * 201), "personne.nom: string should have at most 200"),
        (lambda r: r.update(numeroDossier="FR 2026 1"), "numeroDossier: not an identifier"),
        (lambda r: r.update(identifiantPersonne=7512345678), "identifiantPersonne: input should be a valid string"),
        (lambda r: r.update(decision=[]), "decision: must be a JSON object"),
        (lambda r: r.update(typeEvenement="OQTF"), "typeEvenement: unknown event type 'OQTF'"),
        (lambda r: r.pop("typeEvenement"), "typeEvenement: required key missing"),
        (lambda r: r.update(typeEvenement="PROLONGATION_DELAI"), "prolongation: required key missing"),
    ],
)
def test_structural_errors_name_the_key_path(
    change: Callable[[Obj], object], message: str, example_objects: dict[T, Obj], translate: Translate
) -> None:
    record = example_objects[T.RETURN_DECISION_ISSUED]
    change(record)
    _reject(translate, record, ParseError, message)


def test_free_texts_may_hold_line_breaks_but_not_nul(example_objects: dict[T, Obj], translate: Translate) -> None:
    record = example_objects[T.VOLUNTARY_DEPARTURE_EXTENDED]
    record["prolongation"]["motifTexte"] = "Fin d'année scolaire\n\tvoir pièce jointe"
    [fact] = translate(record)
    assert isinstance(fact.payload, m.VoluntaryDepartureExtended)
    assert fact.payload.reason_text == "Fin d'année scolaire\n\tvoir pièce jointe"
    record["prolongation"]["motifTexte"] = "a\u0000b"
    _reject(translate, record, ParseError, "prolongation.motifTexte: control character")


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("420,00", "decimal comma"),
        (420.001, "not the number 420.001"),
        (420.5, "not the number 420.5"),
        ("-420.00", "amount '-420.00' is negative; amounts are written without a sign"),
        ("-200,00", "amount '-200,00' is negative; amounts are written without a sign"),
    ],
)
def test_bad_amounts(amount: object, message: str, example_objects: dict[T, Obj], translate: Translate) -> None:
    record = example_objects[T.ASSISTANCE_GRANTED]
    record["aide"]["composantes"][1]["montantEur"] = amount
    _reject(translate, record, ParseError, "aide.composantes[1].montantEur: amount")
    _reject(translate, record, ParseError, message)


def test_long_number_literal_is_refused_not_rounded(example_objects: dict[T, Obj], translate: Translate) -> None:
    data = json.dumps(example_objects[T.ASSISTANCE_GRANTED]).encode()
    data = data.replace(b'"420.00"', b"420.0000000000000001")
    _reject(translate, data, ParseError, "amount must be a JSON string")


@pytest.mark.parametrize(
    ("event", "change", "message"),
    [
        (T.RETURN_DECISION_ISSUED, lambda r: r["decision"].update(fondement="OQTF"), "decision.fondement: unknown"),
        (T.RETURN_DECISION_ISSUED, lambda r: r["personne"].update(sexe="H"), "personne.sexe: unknown sex code 'H'"),
        (
            T.RETURN_DECISION_ISSUED,
            lambda r: r["decision"].update(signalements=["ARME", "DANGEREUX"]),
            "decision.signalements[1]: unknown warning_marker code 'DANGEREUX'",
        ),
        (
            T.ASSISTANCE_GRANTED,
            lambda r: r["aide"]["composantes"][2].update(forme="CARTE"),
            "aide.composantes[2].forme: unknown assistance_form code 'CARTE'",
        ),
        (T.ASSISTANCE_GRANTED, lambda r: r["aide"].update(etatMembreOctroi="UK"), "CD-004 aide.etatMembreOctroi: 'UK'"),
        (T.EURODAC_HIT_RECEIVED, lambda r: r["eurodac"].update(categorie="X"), "eurodac.categorie: unknown"),
    ],
)
def test_unknown_codes_are_mapping_errors_naming_the_key(
    event: T, change: Callable[[Obj], object], message: str, example_objects: dict[T, Obj], translate: Translate
) -> None:
    record = example_objects[event]
    change(record)
    _reject(translate, record, MappingError, message)


def test_aliases_in_code_tables_map(example_objects: dict[T, Obj], translate: Translate) -> None:
    record = example_objects[T.EURODAC_HIT_RECEIVED]
    record["eurodac"]["etatMembre"] = "EL"  # the EU's code for Greece
    [fact] = translate(record)
    assert isinstance(fact.payload, m.EurodacHitReceived)
    assert fact.payload.hit_member_state == m.MemberState.GR


# ---- AVRR status in a Eurodac hit (schema v2) ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "granted", "status"),
    [
        ("DEMANDEE", False, m.AvrrStatus.APPLIED),
        ("ACCORDEE", True, m.AvrrStatus.GRANTED),
        ("REFUSEE", False, m.AvrrStatus.REFUSED),
        ("RETIREE", False, m.AvrrStatus.WITHDRAWN),
        ("INCONNU", False, m.AvrrStatus.UNKNOWN),
    ],
)
def test_avrr_status_codes_map_and_render_back(
    code: str, granted: bool, status: m.AvrrStatus, example_objects: dict[T, Obj], codes: Codes, translate: Translate
) -> None:
    record = example_objects[T.EURODAC_HIT_RECEIVED]
    record["eurodac"]["aideRetour"].update(accordee=granted, statut=code)
    [fact] = translate(record)
    assert isinstance(fact.payload, m.EurodacHitReceived)
    assert fact.payload.avrr == m.AvrrRecord(
        granted=granted, granting_member_state=m.MemberState.BE, granted_on=dt.date(2025, 11, 3), status=status
    )
    assert json.loads(render_fact(fact, codes, PARIS))["eurodac"]["aideRetour"]["statut"] == code


def test_an_avrr_element_without_statut_maps_to_no_status(
    example_objects: dict[T, Obj], codes: Codes, translate: Translate
) -> None:
    record = example_objects[T.EURODAC_HIT_RECEIVED]
    del record["eurodac"]["aideRetour"]["statut"]
    [fact] = translate(record)
    assert isinstance(fact.payload, m.EurodacHitReceived)
    assert fact.payload.avrr is not None
    assert fact.payload.avrr.status is None
    assert "statut" not in json.loads(render_fact(fact, codes, PARIS))["eurodac"]["aideRetour"]


def test_an_unknown_avrr_statut_is_a_dead_letter_naming_the_key(
    connector: FrJsonlConnector, example_objects: dict[T, Obj]
) -> None:
    record = example_objects[T.EURODAC_HIT_RECEIVED]
    record["eurodac"]["aideRetour"]["statut"] = "EN_COURS"
    raw = RawRecord(json.dumps(record).encode(), "test", "line 1")
    with pytest.raises(MappingError, match=r"eurodac\.aideRetour\.statut: unknown avrr_status code 'EN_COURS'"):
        connector.translate(raw, identity_context(connector))


# ---- duplicate keys and nesting ------------------------------------------------------------------------------


def test_duplicate_keys_are_refused_wherever_they_are(example_objects: dict[T, Obj], translate: Translate) -> None:
    data = json.dumps(example_objects[T.ASSISTANCE_GRANTED], separators=(",", ":")).encode()
    top = data.replace(b'"numeroDossier":', b'"numeroDossier":"FR-1","numeroDossier":', 1)
    nested = data.replace(b'"montantEur":"420.00"', b'"montantEur":"420.00","montantEur":"42.00"', 1)
    spaced = data.replace(b'"programme":', b'"programme" :"X","programme"\t:', 1)
    for damaged in (top, nested, spaced):
        _reject(translate, damaged, ParseError, "duplicate key")


def test_the_same_key_in_different_objects_is_not_a_duplicate(
    example_facts: dict[T, Fact], codes: Codes, translate: Translate
) -> None:
    fact = example_facts[T.ASSISTANCE_GRANTED]  # "type", "forme" and "montantEur" in every component
    assert translate(render_fact(fact, codes, PARIS)) == [fact]


@pytest.mark.parametrize("indent", [None, 0, 2, "\t"])
def test_any_whitespace_is_accepted(
    indent: int | str | None, example_objects: dict[T, Obj], translate: Translate
) -> None:
    for record in example_objects.values():
        pretty = json.dumps(record, indent=indent, separators=(" , ", " : ")).encode()
        assert translate(pretty) == translate(record)


def test_find_duplicate_key() -> None:
    assert find_duplicate_key(b'{"a":1,"b":{"a":2}}') is None
    assert find_duplicate_key(b'{"a":1,"b":{"c":2,"c":3}}') == (
        "duplicate key 'c' in one object (readers disagree on which value wins)"
    )


def test_nesting_depth_ignores_brackets_in_strings() -> None:
    assert nesting_depth(b'{"a":[{"b":"[[[[{{{{"}]}') == 3
    assert nesting_depth(b'{"a":"\\"[[[["}') == 1
    assert nesting_depth(b'{"a":"\\\\","b":[[1]]}') == 3
    assert nesting_depth(b"[" * 1000) == 1000
    assert nesting_depth(b"") == 0


def test_brackets_in_texts_do_not_count_as_nesting(example_objects: dict[T, Obj], translate: Translate) -> None:
    record = example_objects[T.RETURN_DECISION_ISSUED]
    record["personne"]["lieuNaissance"] = "[" * 100 + "{" * 50
    [fact] = translate(record)
    assert isinstance(fact.payload, m.ReturnDecisionIssued)
    assert fact.payload.identity.place_of_birth == "[" * 100 + "{" * 50


def test_parse_is_limited_by_max_record_bytes(connector: FrJsonlConnector) -> None:
    with pytest.raises(ParseError, match="exceeds the limit"):
        connector.parse(RawRecord(b" " * (connector.config.max_record_bytes + 1), "test", "line 1"))


def test_a_payload_the_canonical_model_refuses_is_a_mapping_error(connector: FrJsonlConnector) -> None:
    # Only reachable through a parser bug; built by hand here: a record whose amount has too many digits.
    record = schema.ReintegrationRecord.model_validate_json(
        b'{"numeroDossier":"FR-1","identifiantPersonne":"1","typeEvenement":"STATUT_REINSERTION",'
        b'"horodatage":"2026-03-02T10:30:00Z","reinsertion":{"identifiant":"R-1","etape":"REJETE",'
        b'"budget":[{"libelle":"x","montantEur":"1.00"}]}}'
    )
    line = record.reinsertion.budget[0].model_copy(update={"montant_eur": "12345678901234.00"})
    broken = record.model_copy(update={"reinsertion": record.reinsertion.model_copy(update={"budget": (line,)})})
    with pytest.raises(MappingError, match=r"does not fit ReintegrationStatusChanged: budget_lines\.0\.amount_eur"):
        connector.map(broken)


@pytest.mark.parametrize(
    ("given", "code"), [("D", "D"), ("XKX", "XKX"), ("RKS", "RKS"), ("uk", "UK"), (" mar ", "MAR")]
)
def test_country_codes_are_handed_on_normalised_to_the_shared_code_list(
    given: str, code: str, example_objects: dict[T, Obj], translate: Translate
) -> None:
    # Issue 10 §2.3: D (MRZ Germany), XKX/RKS (Kosovo), UK: the shared code list (CD-001) decides, not the connector.
    record = example_objects[T.RETURN_DECISION_ISSUED]
    record["personne"]["nationalites"] = [given]
    record["decision"]["paysRenvoi"] = given
    [fact] = translate(record)
    assert isinstance(fact.payload, m.ReturnDecisionIssued)
    assert fact.payload.identity is not None
    assert fact.payload.identity.nationalities == (code,)
    assert fact.payload.country_of_return == code
