"""Mapping a parsed French record to its one canonical fact.

The parser has already checked every value's shape and put timestamps in UTC, so mapping only translates codes
(``MappingError`` naming the key when a code is unknown) and moves values into the canonical model. Plain dates
are copied as they are, never shifted by an offset.

Each payload is built as plain nested ``dict``s and validated by its canonical model once: pydantic-core then
builds the nested models itself, which measured a quarter faster than constructing each one from Python.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from pydantic import ValidationError

from gateway.connectors.base import Fact
from gateway.errors import MappingError
from gateway.events import models as m
from gw_connector_fr_jsonl import schema as s
from gw_connector_fr_jsonl.codelists import Codes
from gw_connector_fr_jsonl.values import to_amount, to_partial_date

Obj = dict[str, Any]


def map_record(record: s.FrRecord, codes: Codes) -> Fact:
    """The fact a French record states.

    Raises:
        MappingError: A code is not in its ``codes.toml`` table, or the values do not fit the canonical model.
    """
    model, build = _PAYLOAD[type(record)]
    try:
        payload = model.model_validate(build(record, codes))
    except ValidationError as exc:  # the parser's checks should make this impossible; never let it stop a run
        first = exc.errors(include_url=False, include_input=False)[0]
        where = ".".join(str(part) for part in first["loc"])
        raise MappingError(f"the record does not fit {model.__name__}: {where}: {first['msg']}") from None
    return Fact(record.numero_dossier, record.identifiant_personne, record.horodatage, payload)


def _identity(p: s.Person, c: Codes) -> Obj:
    doc = p.document_voyage
    return {
        "surnames": (p.nom,),
        "forenames": p.prenoms,
        "names_at_birth": () if p.nom_naissance is None else (p.nom_naissance,),
        "aliases": p.alias,
        "date_of_birth": to_partial_date(p.date_naissance),
        "place_of_birth": p.lieu_naissance,
        "sex": c.sex.canonical(p.sexe, "personne.sexe"),
        "nationalities": p.nationalites,
        "travel_document": None
        if doc is None
        else {
            "type": c.travel_document_type.canonical(doc.type, "personne.documentVoyage.type"),
            "number": doc.numero,
            "issuing_country": doc.pays_emetteur,
            "issue_date": doc.date_delivrance,
            "expiry_date": doc.date_expiration,
        },
    }


def _components(items: tuple[s.Component, ...], c: Codes) -> list[Obj]:
    out = []
    for i, item in enumerate(items):
        try:
            out.append(
                {
                    "type": c.assistance_type.canonical(item.type, "type"),
                    "form": c.assistance_form.canonical(item.forme, "forme"),
                    "amount_eur": None if item.montant_eur is None else to_amount(item.montant_eur),
                }
            )
        except MappingError as exc:
            raise MappingError(f"aide.composantes[{i}].{exc.message}") from None
    return out


def _budget(lines: tuple[s.BudgetLine, ...]) -> list[Obj]:
    return [{"description": line.libelle, "amount_eur": to_amount(line.montant_eur)} for line in lines]


def _decision(r: s.ReturnDecisionRecord, c: Codes) -> Obj:
    d, period, ban = r.decision, r.decision.delai_depart_volontaire, r.decision.interdiction_retour
    reduction = period.motif_reduction
    return {
        "decision_reference": d.reference,
        "decision_date": d.date,
        "issuing_authority": d.autorite,
        "legal_ground": c.legal_ground.canonical(d.fondement, "decision.fondement"),
        "country_of_return": d.pays_renvoi,
        "voluntary_departure": {
            "granted": period.accorde,
            "first_day": period.debut,
            "last_day": period.fin,
            "length_days": period.duree_jours,
            "shortened_ground": None
            if reduction is None
            else c.short_period_ground.canonical(reduction, "decision.delaiDepartVolontaire.motifReduction"),
        },
        "entry_ban": {"imposed": ban.prononcee, "duration_days": ban.duree_jours},
        "suspended": d.suspendue,
        "enforcement_postponed": d.execution_differee,
        "public_security_threat": d.menace_ordre_public,
        "warning_markers": c.warning_marker.canonical_all(d.signalements, "decision.signalements"),
        "identity": _identity(r.personne, c),
    }


def _extension(r: s.ExtensionRecord, c: Codes) -> Obj:
    e = r.prolongation
    return {
        "decision_reference": e.reference_decision,
        "new_last_day": e.nouvelle_fin,
        "previous_last_day": e.ancienne_fin,
        "reason": c.extension_reason.canonical(e.motif, "prolongation.motif"),
        "reason_text": e.motif_texte,
    }


def _status(r: s.StatusChangeRecord, c: Codes) -> Obj:
    x = r.changement_statut
    return {
        "decision_reference": x.reference_decision,
        "status": c.decision_status.canonical(x.statut, "changementStatut.statut"),
        "effective_date": x.date_effet,
        "appeal_lodged": x.recours,
        "reason_text": x.motif_texte,
    }


def _applied(r: s.AssistanceApplicationRecord, c: Codes) -> Obj:
    a = r.aide
    return {
        "programme_reference": a.programme,
        "application_date": a.date_demande,
        "stage": c.procedure_stage.canonical(a.stade_procedure, "aide.stadeProcedure"),
        "components": _components(a.composantes, c),
    }


def _granted(r: s.AssistanceGrantRecord, c: Codes) -> Obj:
    a = r.aide
    return {
        "programme_reference": a.programme,
        "stage": c.procedure_stage.canonical(a.stade_procedure, "aide.stadeProcedure"),
        "components": _components(a.composantes, c),
        "granting_member_state": c.member_state.canonical(a.etat_membre_octroi, "aide.etatMembreOctroi"),
        "grant_date": a.date_octroi,
        "application_date": a.date_demande,
    }


def _refused(r: s.AssistanceRefusalRecord, c: Codes) -> Obj:
    a = r.aide
    return {
        "programme_reference": a.programme,
        "stage": c.procedure_stage.canonical(a.stade_procedure, "aide.stadeProcedure"),
        "refusal_date": a.date_refus,
        "reason": c.refusal_reason.canonical(a.motif_refus, "aide.motifRefus"),
        "reason_text": a.motif_texte,
    }


def _referral(r: s.ReferralRecord, c: Codes) -> Obj:
    x = r.reinsertion
    return {
        "referral_id": x.identifiant,
        "partner": x.partenaire,
        "country_of_return": x.pays_retour,
        "consent_obtained": x.consentement,
        "vulnerability": x.vulnerabilite,
        "family_size": x.taille_famille,
        "support_types": c.support_type.canonical_all(x.types_soutien, "reinsertion.typesSoutien"),
        "stage": c.reintegration_stage.canonical(x.etape, "reinsertion.etape"),
        "programme_reference": x.programme,
        "expected_departure_date": x.date_depart_prevue,
        "arrival_date": x.date_arrivee,
        "budget_lines": _budget(x.budget),
        "identity": None if r.personne is None else _identity(r.personne, c),
    }


def _reintegration(r: s.ReintegrationRecord, c: Codes) -> Obj:
    x = r.reinsertion
    return {
        "referral_id": x.identifiant,
        "stage": c.reintegration_stage.canonical(x.etape, "reinsertion.etape"),
        "arrival_date": x.date_arrivee,
        "budget_lines": _budget(x.budget),
        "note": x.note,
    }


def _departure(r: s.DepartureRecord, c: Codes) -> Obj:
    x = r.depart
    return {
        "departed_at": x.horodatage,
        "border_crossing_point": x.point_passage,
        "evidence": c.departure_evidence.canonical_all(x.preuves, "depart.preuves"),
        "return_type": c.return_type.canonical(x.type_retour, "depart.typeRetour"),
        "assisted": x.retour_aide,
        "destination_country": x.pays_destination,
        "decision_reference": x.reference_decision,
    }


def _non_departure(r: s.NonDepartureRecord, c: Codes) -> Obj:
    x = r.non_depart
    return {
        "decision_reference": x.reference_decision,
        "period_last_day": x.fin_delai,
        "source": c.non_return_source.canonical(x.source, "nonDepart.source"),
    }


def _eurodac(r: s.EurodacHitRecord, c: Codes) -> Obj:
    x, avrr = r.eurodac, r.eurodac.aide_retour
    return {
        "hit_member_state": c.member_state.canonical(x.etat_membre, "eurodac.etatMembre"),
        "category": c.eurodac_category.canonical(x.categorie, "eurodac.categorie"),
        "article": x.article,
        "hit_reference": x.reference,
        "avrr": None
        if avrr is None
        else {
            "granted": avrr.accordee,
            "granting_member_state": c.member_state.canonical(
                avrr.etat_membre_octroi, "eurodac.aideRetour.etatMembreOctroi"
            ),
            "granted_on": avrr.date_octroi,
            "status": None
            if avrr.statut is None
            else c.avrr_status.canonical(avrr.statut, "eurodac.aideRetour.statut"),
        },
    }


def _entry(r: s.EntryRecord, c: Codes) -> Obj:
    x = r.entree
    return {
        "entered_at": x.horodatage,
        "border_crossing_point": x.point_passage,
        "ees_record_reference": x.reference_ees,
    }


def _biometrics(r: s.BiometricsRecord, c: Codes) -> Obj:
    x = r.biometrie
    return {
        "category": c.eurodac_category.canonical(x.categorie, "biometrie.categorie"),
        "article": x.article,
        "registered_at": x.date_enregistrement,
        "biometrics_taken_on": x.date_releve,
        "transmitted_at": x.date_transmission,
        "security_grounds": c.security_ground.canonical_all(x.motifs_securite, "biometrie.motifsSecurite"),
        "identity": _identity(r.personne, c),
    }


# Record type -> (canonical payload model, builder of its fields); a test checks all 13 event types are here.
_PAYLOAD: Final[dict[type[Any], tuple[type[m.Payload], Callable[[Any, Codes], Obj]]]] = {
    s.ReturnDecisionRecord: (m.ReturnDecisionIssued, _decision),
    s.ExtensionRecord: (m.VoluntaryDepartureExtended, _extension),
    s.StatusChangeRecord: (m.ReturnDecisionStatusChanged, _status),
    s.AssistanceApplicationRecord: (m.AssistanceApplied, _applied),
    s.AssistanceGrantRecord: (m.AssistanceGranted, _granted),
    s.AssistanceRefusalRecord: (m.AssistanceRefused, _refused),
    s.ReferralRecord: (m.ReintegrationReferral, _referral),
    s.ReintegrationRecord: (m.ReintegrationStatusChanged, _reintegration),
    s.DepartureRecord: (m.DepartureConfirmed, _departure),
    s.NonDepartureRecord: (m.NonReturnRecorded, _non_departure),
    s.EurodacHitRecord: (m.EurodacHitReceived, _eurodac),
    s.EntryRecord: (m.EntryRecorded, _entry),
    s.BiometricsRecord: (m.BiometricsCaptured, _biometrics),
}
