"""Building a payload's fields from a row, one builder per event type (the mapper validates them).

Builders return nested dicts, not models: the mapper validates a payload in one strict call, which is faster
than a constructor per nested model (see the README's performance notes). Every ``parse_*`` they use raises
``MappingError`` naming the column.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from operator import itemgetter
from typing import Any

from gateway.errors import MappingError
from gateway.events import models as m
from gw_connector_de_csv.columns import DOCUMENT, FIELDS, IDENTITY, DeRow
from gw_connector_de_csv.tables import Tables, code, codes, optional_code
from gw_connector_de_csv.values import (
    Clock,
    country,
    format_amount,
    optional_date,
    optional_int,
    parse_amount,
    parse_date,
    parse_flag,
    parse_flag_default,
    parse_int,
    parse_partial_date,
    required,
    split_list,
    split_names,
    split_parts,
)

#: A payload's field values as the model's validator takes them (nested models as dicts).
Fields = dict[str, Any]
Builder = Callable[[DeRow, Tables, Clock], Fields]
_MEMBER_STATES = {s.value: s for s in m.MemberState if s is not m.MemberState.UNKNOWN}
_PRECISION = (m.DatePrecision.UNKNOWN, m.DatePrecision.YEAR, m.DatePrecision.MONTH, m.DatePrecision.DAY)
_ANY_IDENTITY = itemgetter(*(FIELDS.index(f) for f in IDENTITY))
_ANY_DOCUMENT = itemgetter(*(FIELDS.index(f) for f in DOCUMENT))
#: Payloads that carry money, so ``Betrag_EUR`` holds their total.
MONEY = (m.AssistanceApplied, m.AssistanceGranted, m.ReintegrationReferral, m.ReintegrationStatusChanged)


def precision(year: int | None, month: int | None, day: int | None) -> m.DatePrecision:
    """The precision of a partial date: its finest known part."""
    return _PRECISION[3 if day else 2 if month else 1 if year else 0]


def _check_total(value: str, amounts: list[Decimal]) -> None:
    """``Betrag_EUR`` must be the sum of the row's amounts (a control total, checked before validation)."""
    total = sum(amounts, Decimal("0.00"))
    if parse_amount(value, "Betrag_EUR") != total:
        raise MappingError(f"Betrag_EUR {value} is not the sum of the amounts ({format_amount(total)})")


# ---- value helpers that need the canonical model ----------------------------------------------------------


def member_state(value: str, field: str) -> m.MemberState:
    """A Member State by its ISO 3166-1 alpha-2 code (``DE``; Greece is ``GR``)."""
    try:
        return _MEMBER_STATES[value]
    except KeyError:
        raise MappingError(
            f"{field}: {value!r} is not a Member State code" if value else f"{field} is required"
        ) from None


def identity(row: DeRow, t: Tables) -> Fields:
    """The identity block of a row."""
    year, month, day = parse_partial_date(row.geburtsdatum, "Geburtsdatum")
    return {
        "surnames": split_names(row.familienname, "Familienname"),
        "forenames": split_names(row.vornamen, "Vornamen"),
        "names_at_birth": split_names(row.geburtsname, "Geburtsname"),
        "aliases": split_names(row.aliasnamen, "Aliasnamen"),
        "date_of_birth": {"year": year, "month": month, "day": day, "precision": precision(year, month, day)},
        "place_of_birth": row.geburtsort or None,
        "sex": code(t.sex, row.geschlecht, "Geschlecht"),
        "nationalities": _countries(row.staatsangehoerigkeit),
        "travel_document": _document(row, t) if any(_ANY_DOCUMENT(row)) else None,
    }


def _document(row: DeRow, t: Tables) -> Fields:
    return {
        "type": code(t.document_type, row.dokumentart, "Dokumentart"),
        "number": required(row.dokumentnummer, "Dokumentnummer"),
        "issuing_country": country(row.ausstellungsstaat, "Ausstellungsstaat"),
        "issue_date": optional_date(row.ausstellungsdatum, "Ausstellungsdatum"),
        "expiry_date": optional_date(row.gueltig_bis, "Gültig_bis"),
    }


def _countries(value: str) -> tuple[str, ...]:
    return tuple(country(c, "Staatsangehörigkeit") for c in split_list(value, "Staatsangehörigkeit"))


def _components(value: str, t: Tables, total: str) -> tuple[Fields, ...]:
    out = []
    amounts = []
    for item in split_list(value, "Leistungen"):
        parts = split_parts(item, "Leistungen", (2, 3))
        amount = parse_amount(parts[2], "Leistungen") if len(parts) == 3 else None
        if amount is not None:
            amounts.append(amount)
        out.append(
            {
                "type": code(t.assistance_type, parts[0], "Leistungen"),
                "form": code(t.assistance_form, parts[1], "Leistungen"),
                "amount_eur": amount,
            }
        )
    _check_total(total, amounts)
    return tuple(out)


def _budget(value: str, total: str) -> tuple[Fields, ...]:
    out = []
    amounts = []
    for item in split_list(value, "Budget"):
        description, text = split_parts(item, "Budget", (2,))
        amount = parse_amount(text, "Budget")
        amounts.append(amount)
        out.append({"description": required(description, "Budget"), "amount_eur": amount})
    _check_total(total, amounts)
    return tuple(out)


# ---- one builder per event type --------------------------------------------------------------------------


def return_decision(row: DeRow, t: Tables, clock: Clock) -> Fields:
    """RUECKKEHRENTSCHEIDUNG: a return decision with its period, entry ban and the person's identity."""
    return {
        "decision_reference": required(row.entscheidungsnummer, "Entscheidungsnummer"),
        "decision_date": parse_date(row.entscheidungsdatum, "Entscheidungsdatum"),
        "issuing_authority": required(row.behoerde, "Behörde"),
        "legal_ground": code(t.legal_ground, row.rechtsgrundlage, "Rechtsgrundlage"),
        "country_of_return": country(row.zielstaat, "Zielstaat") if row.zielstaat else None,
        "voluntary_departure": {
            "granted": parse_flag(row.ausreisefrist, "Ausreisefrist"),
            "first_day": optional_date(row.fristbeginn, "Fristbeginn"),
            "last_day": optional_date(row.fristende, "Fristende"),
            "length_days": optional_int(row.fristdauer_tage, "Fristdauer_Tage"),
            "shortened_ground": optional_code(t.short_period_ground, row.verkuerzungsgrund, "Verkürzungsgrund"),
        },
        "entry_ban": {
            "imposed": parse_flag(row.einreisesperre, "Einreisesperre"),
            "duration_days": optional_int(row.sperrdauer_tage, "Sperrdauer_Tage"),
        },
        "suspended": parse_flag_default(row.ausgesetzt, "Ausgesetzt"),
        "enforcement_postponed": parse_flag_default(row.vollzug_aufgeschoben, "Vollzug_aufgeschoben"),
        "public_security_threat": parse_flag_default(row.sicherheitsgefahr, "Sicherheitsgefahr"),
        "warning_markers": codes(t.warning_marker, row.warnhinweise, "Warnhinweise"),
        "identity": identity(row, t),
    }


def period_extended(row: DeRow, t: Tables, clock: Clock) -> Fields:
    """FRISTVERLAENGERUNG: the period for voluntary departure was extended."""
    return {
        "decision_reference": required(row.entscheidungsnummer, "Entscheidungsnummer"),
        "new_last_day": parse_date(row.fristende_neu, "Fristende_neu"),
        "previous_last_day": optional_date(row.fristende, "Fristende"),
        "reason": code(t.extension_reason, row.verlaengerungsgrund, "Verlängerungsgrund"),
        "reason_text": row.begruendung or None,
    }


def status_changed(row: DeRow, t: Tables, clock: Clock) -> Fields:
    """STATUSAENDERUNG: the return decision was suspended, resumed, withdrawn, ..."""
    return {
        "decision_reference": required(row.entscheidungsnummer, "Entscheidungsnummer"),
        "status": code(t.decision_status, row.entscheidungsstatus, "Entscheidungsstatus"),
        "effective_date": parse_date(row.wirksam_ab, "Wirksam_ab"),
        "appeal_lodged": parse_flag_default(row.rechtsbehelf, "Rechtsbehelf"),
        "reason_text": row.begruendung or None,
    }


def assistance_applied(row: DeRow, t: Tables, clock: Clock) -> Fields:
    """FOERDERANTRAG: an application for return assistance."""
    return {
        "programme_reference": required(row.programm, "Programm"),
        "application_date": parse_date(row.antragsdatum, "Antragsdatum"),
        "stage": code(t.procedure_stage, row.verfahrensstand, "Verfahrensstand"),
        "components": _components(row.leistungen, t, row.betrag_eur),
    }


def assistance_granted(row: DeRow, t: Tables, clock: Clock) -> Fields:
    """FOERDERBEWILLIGUNG: return assistance was granted."""
    return {
        "programme_reference": required(row.programm, "Programm"),
        "stage": code(t.procedure_stage, row.verfahrensstand, "Verfahrensstand"),
        "components": _components(row.leistungen, t, row.betrag_eur),
        "granting_member_state": member_state(row.bewilligender_staat, "Bewilligender_Staat"),
        "grant_date": parse_date(row.bewilligungsdatum, "Bewilligungsdatum"),
        "application_date": optional_date(row.antragsdatum, "Antragsdatum"),
    }


def assistance_refused(row: DeRow, t: Tables, clock: Clock) -> Fields:
    """FOERDERABLEHNUNG: an application for return assistance was refused."""
    return {
        "programme_reference": required(row.programm, "Programm"),
        "stage": code(t.procedure_stage, row.verfahrensstand, "Verfahrensstand"),
        "refusal_date": parse_date(row.ablehnungsdatum, "Ablehnungsdatum"),
        "reason": code(t.refusal_reason, row.ablehnungsgrund, "Ablehnungsgrund"),
        "reason_text": row.begruendung or None,
    }


def referral(row: DeRow, t: Tables, clock: Clock) -> Fields:
    """REINTEGRATIONSVERWEISUNG: referral to a reintegration partner; identity only if any identity column is set."""
    return {
        "referral_id": required(row.reintegrationsfall, "Reintegrationsfall"),
        "partner": required(row.partner, "Partner"),
        "country_of_return": country(row.zielstaat, "Zielstaat"),
        "consent_obtained": parse_flag(row.einwilligung, "Einwilligung"),
        "vulnerability": parse_flag(row.vulnerabel, "Vulnerabel"),
        "family_size": parse_int(row.familiengroesse, "Familiengröße"),
        "support_types": codes(t.support_type, row.unterstuetzungsarten, "Unterstützungsarten"),
        "stage": code(t.reintegration_stage, row.reintegrationsphase, "Reintegrationsphase"),
        "programme_reference": row.programm or None,
        "expected_departure_date": optional_date(row.ausreisedatum_geplant, "Ausreisedatum_geplant"),
        "arrival_date": optional_date(row.ankunftsdatum, "Ankunftsdatum"),
        "budget_lines": _budget(row.budget, row.betrag_eur),
        "identity": identity(row, t) if any(_ANY_IDENTITY(row)) else None,
    }


def reintegration_status(row: DeRow, t: Tables, clock: Clock) -> Fields:
    """REINTEGRATIONSSTATUS: the reintegration case reached another key moment."""
    return {
        "referral_id": required(row.reintegrationsfall, "Reintegrationsfall"),
        "stage": code(t.reintegration_stage, row.reintegrationsphase, "Reintegrationsphase"),
        "arrival_date": optional_date(row.ankunftsdatum, "Ankunftsdatum"),
        "budget_lines": _budget(row.budget, row.betrag_eur),
        "note": row.bemerkung or None,
    }


def departure(row: DeRow, t: Tables, clock: Clock) -> Fields:
    """AUSREISE: the person left."""
    return {
        "departed_at": clock.utc(row.grenzuebertritt, "Grenzübertritt"),
        "border_crossing_point": row.grenzuebergang or None,
        "evidence": codes(t.departure_evidence, row.nachweise, "Nachweise"),
        "return_type": code(t.return_type, row.rueckkehrart, "Rückkehrart"),
        "assisted": parse_flag(row.gefoerdert, "Gefördert"),
        "destination_country": country(row.zielstaat, "Zielstaat") if row.zielstaat else None,
        "decision_reference": row.entscheidungsnummer or None,
    }


def non_return(row: DeRow, t: Tables, clock: Clock) -> Fields:
    """NICHTAUSREISE: the period ended without departure."""
    return {
        "decision_reference": required(row.entscheidungsnummer, "Entscheidungsnummer"),
        "period_last_day": parse_date(row.fristende, "Fristende"),
        "source": code(t.non_return_source, row.feststellung, "Feststellung"),
    }


def eurodac_hit(row: DeRow, t: Tables, clock: Clock) -> Fields:
    """EURODAC_TREFFER: a Eurodac hit on another Member State's dataset, with its AVRR element if any."""
    avrr: Fields | None = None
    if row.foerderung_bewilligt:
        avrr = {
            "granted": parse_flag(row.foerderung_bewilligt, "Förderung_bewilligt"),
            "granting_member_state": member_state(row.bewilligender_staat, "Bewilligender_Staat"),
            "granted_on": optional_date(row.bewilligungsdatum, "Bewilligungsdatum"),
            "status": optional_code(t.avrr_status, row.foerderung_status, "Förderung_Status"),
        }
    elif row.bewilligender_staat or row.bewilligungsdatum or row.foerderung_status:
        raise MappingError(
            "Bewilligender_Staat, Bewilligungsdatum or Förderung_Status has a value, but Förderung_bewilligt is empty"
        )
    return {
        "hit_member_state": member_state(row.trefferstaat, "Trefferstaat"),
        "category": code(t.eurodac_category, row.eurodac_kategorie, "Eurodac_Kategorie"),
        "article": required(row.artikel, "Artikel"),
        "hit_reference": required(row.trefferkennung, "Trefferkennung"),
        "avrr": avrr,
    }


def entry(row: DeRow, t: Tables, clock: Clock) -> Fields:
    """EINREISE: an EES entry record."""
    return {
        "entered_at": clock.utc(row.grenzuebertritt, "Grenzübertritt"),
        "border_crossing_point": required(row.grenzuebergang, "Grenzübergang"),
        "ees_record_reference": row.ees_kennung or None,
    }


def biometrics(row: DeRow, t: Tables, clock: Clock) -> Fields:
    """ED_BEHANDLUNG: fingerprints and facial image taken (erkennungsdienstliche Behandlung) for Eurodac."""
    transmitted = row.uebermittlungszeitpunkt
    return {
        "category": code(t.eurodac_category, row.eurodac_kategorie, "Eurodac_Kategorie"),
        "article": required(row.artikel, "Artikel"),
        "registered_at": clock.utc(row.registrierungszeitpunkt, "Registrierungszeitpunkt"),
        "biometrics_taken_on": parse_date(row.ed_datum, "ED_Datum"),
        "transmitted_at": clock.utc(transmitted, "Übermittlungszeitpunkt") if transmitted else None,
        "security_grounds": codes(t.security_ground, row.sicherheitsgruende, "Sicherheitsgründe"),
        "identity": identity(row, t),
    }


_E = m.EventType
#: Event type -> (payload model, builder of its fields).
BUILDERS: dict[m.EventType, tuple[type[m.Payload], Builder]] = {
    _E.RETURN_DECISION_ISSUED: (m.ReturnDecisionIssued, return_decision),
    _E.VOLUNTARY_DEPARTURE_EXTENDED: (m.VoluntaryDepartureExtended, period_extended),
    _E.RETURN_DECISION_STATUS_CHANGED: (m.ReturnDecisionStatusChanged, status_changed),
    _E.ASSISTANCE_APPLIED: (m.AssistanceApplied, assistance_applied),
    _E.ASSISTANCE_GRANTED: (m.AssistanceGranted, assistance_granted),
    _E.ASSISTANCE_REFUSED: (m.AssistanceRefused, assistance_refused),
    _E.REINTEGRATION_REFERRAL: (m.ReintegrationReferral, referral),
    _E.REINTEGRATION_STATUS_CHANGED: (m.ReintegrationStatusChanged, reintegration_status),
    _E.DEPARTURE_CONFIRMED: (m.DepartureConfirmed, departure),
    _E.NON_RETURN_RECORDED: (m.NonReturnRecorded, non_return),
    _E.EURODAC_HIT_RECEIVED: (m.EurodacHitReceived, eurodac_hit),
    _E.ENTRY_RECORDED: (m.EntryRecorded, entry),
    _E.BIOMETRICS_CAPTURED: (m.BiometricsCaptured, biometrics),
}
