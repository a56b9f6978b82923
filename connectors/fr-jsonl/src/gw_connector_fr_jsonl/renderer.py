"""Rendering canonical facts as French records: the inverse of the mapper, for sample data and tests.

Codes come from the reverse code tables (the first national code listed for each symbol), so rendering a fact
and mapping the record gives the fact back. Timestamps are written as local time with their offset: mostly
metropolitan France (``Europe/Paris``, +01:00 or +02:00), sometimes UTC (``Z``) and sometimes an overseas
prefecture's offset (Guadeloupe, Guyane, Mayotte, La Réunion, Nouvelle-Calédonie), so that the samples carry
the offsets a national export really has, including local dates that differ from the UTC date.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Callable
from typing import Any, Final
from zoneinfo import ZoneInfo

from gateway.connectors.base import Fact
from gateway.events import models as m
from gw_connector_fr_jsonl.codelists import Codes
from gw_connector_fr_jsonl.values import format_amount, format_partial_date, format_timestamp

PARIS: Final = ZoneInfo("Europe/Paris")
OVERSEAS: Final = tuple(dt.timezone(dt.timedelta(hours=h)) for h in (-4, -3, 3, 4, 11))

Obj = dict[str, Any]


def pick_zone(rng: random.Random) -> dt.tzinfo:
    """The zone a sample record's timestamps are written in: mostly Paris, sometimes UTC or overseas."""
    roll = rng.random()
    if roll < 0.8:
        return PARIS
    if roll < 0.9:
        return dt.UTC
    return rng.choice(OVERSEAS)


def render_fact(fact: Fact, codes: Codes, zone: dt.tzinfo) -> bytes:
    """One compact JSON line (no line end) stating ``fact``, timestamps in ``zone``.

    Raises:
        ValueError: The fact holds a value the format cannot carry (two surnames, a sub-cent amount).
    """
    return encode(render_object(fact, codes, zone))


def render_object(fact: Fact, codes: Codes, zone: dt.tzinfo) -> Obj:
    """The record of ``fact`` as a JSON-ready ``dict`` (French keys, national codes)."""
    tag, block = _BLOCKS[type(fact.payload)]
    head: Obj = {
        "numeroDossier": fact.case_reference,
        "identifiantPersonne": fact.person_ref,
        "typeEvenement": tag,
        "horodatage": format_timestamp(fact.occurred_at, zone),
    }
    return head | block(fact.payload, codes, zone)


def encode(obj: Obj) -> bytes:
    """Compact UTF-8 JSON, as the French system writes it."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _drop_empty(obj: Obj) -> Obj:
    """Leave out keys whose value is the format's default (absent, false, empty list)."""
    return {k: v for k, v in obj.items() if v is not None and v is not False and v != ()}


def _person(i: m.Identity, c: Codes) -> Obj:
    if len(i.surnames) != 1 or len(i.names_at_birth) > 1:
        raise ValueError("the format carries exactly one surname and at most one name at birth")
    person: Obj = {"nom": i.surnames[0], "prenoms": list(i.forenames)}
    if i.names_at_birth:
        person["nomNaissance"] = i.names_at_birth[0]
    if i.aliases:
        person["alias"] = list(i.aliases)
    person["dateNaissance"] = format_partial_date(i.date_of_birth)  # required, null when unknown
    if i.place_of_birth is not None:
        person["lieuNaissance"] = i.place_of_birth
    person["sexe"] = c.sex.national(i.sex)
    person["nationalites"] = list(i.nationalities)
    doc = i.travel_document
    if doc is not None:
        person["documentVoyage"] = _drop_empty(
            {
                "type": c.travel_document_type.national(doc.type),
                "numero": doc.number,
                "paysEmetteur": doc.issuing_country,
                "dateDelivrance": _day(doc.issue_date),
                "dateExpiration": _day(doc.expiry_date),
            }
        )
    return person


def _day(day: dt.date | None) -> str | None:
    return None if day is None else day.isoformat()


def _decision(p: m.ReturnDecisionIssued, c: Codes, zone: dt.tzinfo) -> Obj:
    vd, ban = p.voluntary_departure, p.entry_ban
    ground = vd.shortened_ground
    decision = _drop_empty(
        {
            "reference": p.decision_reference,
            "date": p.decision_date.isoformat(),
            "autorite": p.issuing_authority,
            "fondement": c.legal_ground.national(p.legal_ground),
            "paysRenvoi": p.country_of_return,
            "delaiDepartVolontaire": {"accorde": vd.granted}
            | _drop_empty(
                {
                    "debut": _day(vd.first_day),
                    "fin": _day(vd.last_day),
                    "dureeJours": vd.length_days,
                    "motifReduction": None if ground is None else c.short_period_ground.national(ground),
                }
            ),
            "interdictionRetour": {"prononcee": ban.imposed} | _drop_empty({"dureeJours": ban.duration_days}),
            "suspendue": p.suspended,
            "executionDifferee": p.enforcement_postponed,
            "menaceOrdrePublic": p.public_security_threat,
            "signalements": [c.warning_marker.national(w) for w in p.warning_markers] or None,
        }
    )
    return {"personne": _person(p.identity, c), "decision": decision}


def _extension(p: m.VoluntaryDepartureExtended, c: Codes, zone: dt.tzinfo) -> Obj:
    return {
        "prolongation": _drop_empty(
            {
                "referenceDecision": p.decision_reference,
                "nouvelleFin": p.new_last_day.isoformat(),
                "ancienneFin": _day(p.previous_last_day),
                "motif": c.extension_reason.national(p.reason),
                "motifTexte": p.reason_text,
            }
        )
    }


def _status(p: m.ReturnDecisionStatusChanged, c: Codes, zone: dt.tzinfo) -> Obj:
    return {
        "changementStatut": _drop_empty(
            {
                "referenceDecision": p.decision_reference,
                "statut": c.decision_status.national(p.status),
                "dateEffet": p.effective_date.isoformat(),
                "recours": p.appeal_lodged,
                "motifTexte": p.reason_text,
            }
        )
    }


def _components(items: tuple[m.AssistanceComponent, ...], c: Codes) -> list[Obj] | None:
    out = [
        _drop_empty(
            {
                "type": c.assistance_type.national(x.type),
                "forme": c.assistance_form.national(x.form),
                "montantEur": None if x.amount_eur is None else format_amount(x.amount_eur),
            }
        )
        for x in items
    ]
    return out or None


def _budget(lines: tuple[m.BudgetLine, ...]) -> list[Obj] | None:
    return [{"libelle": b.description, "montantEur": format_amount(b.amount_eur)} for b in lines] or None


def _applied(p: m.AssistanceApplied, c: Codes, zone: dt.tzinfo) -> Obj:
    aide = {
        "programme": p.programme_reference,
        "dateDemande": p.application_date.isoformat(),
        "stadeProcedure": c.procedure_stage.national(p.stage),
        "composantes": _components(p.components, c),
    }
    return {"aide": _drop_empty(aide)}


def _granted(p: m.AssistanceGranted, c: Codes, zone: dt.tzinfo) -> Obj:
    aide = {
        "programme": p.programme_reference,
        "stadeProcedure": c.procedure_stage.national(p.stage),
        "composantes": _components(p.components, c),
        "etatMembreOctroi": c.member_state.national(p.granting_member_state),
        "dateOctroi": p.grant_date.isoformat(),
        "dateDemande": _day(p.application_date),
    }
    return {"aide": _drop_empty(aide)}


def _refused(p: m.AssistanceRefused, c: Codes, zone: dt.tzinfo) -> Obj:
    aide = {
        "programme": p.programme_reference,
        "stadeProcedure": c.procedure_stage.national(p.stage),
        "dateRefus": p.refusal_date.isoformat(),
        "motifRefus": c.refusal_reason.national(p.reason),
        "motifTexte": p.reason_text,
    }
    return {"aide": _drop_empty(aide)}


def _referral(p: m.ReintegrationReferral, c: Codes, zone: dt.tzinfo) -> Obj:
    reinsertion = {
        "identifiant": p.referral_id,
        "partenaire": p.partner,
        "paysRetour": p.country_of_return,
        "consentement": p.consent_obtained,
        "vulnerabilite": p.vulnerability,
        "tailleFamille": p.family_size,
        "typesSoutien": [c.support_type.national(t) for t in p.support_types] or None,
        "etape": c.reintegration_stage.national(p.stage),
        "programme": p.programme_reference,
        "dateDepartPrevue": _day(p.expected_departure_date),
        "dateArrivee": _day(p.arrival_date),
        "budget": _budget(p.budget_lines),
    }
    # Booleans that the format requires are kept even when false.
    kept = {k: v for k, v in reinsertion.items() if v is not None}
    out: Obj = {"reinsertion": kept}
    return out if p.identity is None else {"personne": _person(p.identity, c)} | out


def _reintegration(p: m.ReintegrationStatusChanged, c: Codes, zone: dt.tzinfo) -> Obj:
    reinsertion = {
        "identifiant": p.referral_id,
        "etape": c.reintegration_stage.national(p.stage),
        "dateArrivee": _day(p.arrival_date),
        "budget": _budget(p.budget_lines),
        "note": p.note,
    }
    return {"reinsertion": _drop_empty(reinsertion)}


def _departure(p: m.DepartureConfirmed, c: Codes, zone: dt.tzinfo) -> Obj:
    depart = {
        "horodatage": format_timestamp(p.departed_at, zone),
        "pointPassage": p.border_crossing_point,
        "preuves": [c.departure_evidence.national(e) for e in p.evidence] or None,
        "typeRetour": c.return_type.national(p.return_type),
        "retourAide": p.assisted,
        "paysDestination": p.destination_country,
        "referenceDecision": p.decision_reference,
    }
    return {"depart": {k: v for k, v in depart.items() if v is not None}}


def _non_departure(p: m.NonReturnRecorded, c: Codes, zone: dt.tzinfo) -> Obj:
    return {
        "nonDepart": {
            "referenceDecision": p.decision_reference,
            "finDelai": p.period_last_day.isoformat(),
            "source": c.non_return_source.national(p.source),
        }
    }


def _eurodac(p: m.EurodacHitReceived, c: Codes, zone: dt.tzinfo) -> Obj:
    avrr = p.avrr
    eurodac = {
        "etatMembre": c.member_state.national(p.hit_member_state),
        "categorie": c.eurodac_category.national(p.category),
        "article": p.article,
        "reference": p.hit_reference,
        "aideRetour": None
        if avrr is None
        else {"accordee": avrr.granted, "etatMembreOctroi": c.member_state.national(avrr.granting_member_state)}
        | _drop_empty(
            {
                "dateOctroi": _day(avrr.granted_on),
                "statut": None if avrr.status is None else c.avrr_status.national(avrr.status),
            }
        ),
    }
    return {"eurodac": _drop_empty(eurodac)}


def _entry(p: m.EntryRecorded, c: Codes, zone: dt.tzinfo) -> Obj:
    entree = {
        "horodatage": format_timestamp(p.entered_at, zone),
        "pointPassage": p.border_crossing_point,
        "referenceEes": p.ees_record_reference,
    }
    return {"entree": _drop_empty(entree)}


def _biometrics(p: m.BiometricsCaptured, c: Codes, zone: dt.tzinfo) -> Obj:
    biometrie = {
        "categorie": c.eurodac_category.national(p.category),
        "article": p.article,
        "dateEnregistrement": format_timestamp(p.registered_at, zone),
        "dateReleve": p.biometrics_taken_on.isoformat(),
        "dateTransmission": None if p.transmitted_at is None else format_timestamp(p.transmitted_at, zone),
        "motifsSecurite": [c.security_ground.national(g) for g in p.security_grounds] or None,
    }
    return {"personne": _person(p.identity, c), "biometrie": _drop_empty(biometrie)}


# Payload type -> (typeEvenement, block renderer).
_BLOCKS: Final[dict[type[Any], tuple[str, Callable[[Any, Codes, dt.tzinfo], Obj]]]] = {
    m.ReturnDecisionIssued: ("DECISION_ELOIGNEMENT", _decision),
    m.VoluntaryDepartureExtended: ("PROLONGATION_DELAI", _extension),
    m.ReturnDecisionStatusChanged: ("CHANGEMENT_STATUT", _status),
    m.AssistanceApplied: ("DEMANDE_AIDE_RETOUR", _applied),
    m.AssistanceGranted: ("AIDE_RETOUR_ACCORDEE", _granted),
    m.AssistanceRefused: ("AIDE_RETOUR_REFUSEE", _refused),
    m.ReintegrationReferral: ("ORIENTATION_REINSERTION", _referral),
    m.ReintegrationStatusChanged: ("STATUT_REINSERTION", _reintegration),
    m.DepartureConfirmed: ("DEPART_CONSTATE", _departure),
    m.NonReturnRecorded: ("NON_DEPART", _non_departure),
    m.EurodacHitReceived: ("RESULTAT_EURODAC", _eurodac),
    m.EntryRecorded: ("ENTREE_EES", _entry),
    m.BiometricsCaptured: ("RELEVE_BIOMETRIQUE", _biometrics),
}
