"""Render canonical facts as export records, the inverse of ``mapper``, and write whole export files.

A record is written on one line, with the namespace declared on the record element itself: a record's bytes are
then a well-formed document on their own (a dead letter, a message on a raw Kafka topic), and redundant but
harmless inside an export whose root declares the same default namespace. Codes are rendered with the code lists'
preferred national code (``CodeList.national``), values with the ``values.format_*`` inverses.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from typing import Any, BinaryIO, Final

from gateway.connectors.base import Fact
from gateway.events import models as m
from gw_connector_nl_xml import values as v
from gw_connector_nl_xml.codelists import Codes
from gw_connector_nl_xml.spec import NS, RECORD, ROOT

_NOT_XML: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_RECORD_OPEN: Final = f'<{RECORD} xmlns="{NS}">'
_RECORD_CLOSE: Final = f"</{RECORD}>"


def _text(value: str) -> str:
    if _NOT_XML.search(value):
        raise ValueError(f"{value!r} holds characters XML 1.0 cannot carry")
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _el(name: str, value: str | None) -> str:
    """``<name>value</name>``, or nothing for None."""
    return "" if value is None else f"<{name}>{_text(value)}</{name}>"


def _els(name: str, values: Iterable[str]) -> str:
    return "".join(_el(name, value) for value in values)


def _block(name: str, inner: str) -> str:
    return f"<{name}>{inner}</{name}>"


def _yes(name: str, value: bool) -> str:
    """An optional J/N flag that means N when absent: written only when set."""
    return _el(name, "J") if value else ""


def render_fact(fact: Fact, codes: Codes) -> bytes:
    """One ``<Gebeurtenis>`` record for a fact.

    Raises:
        ValueError: The fact holds a value the format cannot carry (see ``values``).
    """
    head = (
        _el("Zaaknummer", fact.case_reference)
        + _el("VNummer", fact.person_ref)
        + _el("Tijdstip", v.format_local_datetime(fact.occurred_at))
    )
    event = _EVENTS.get(type(fact.payload))
    if event is None:
        raise TypeError(f"no rendering for {type(fact.payload).__name__}")
    return (_RECORD_OPEN + head + event(fact.payload, codes) + _RECORD_CLOSE).encode("utf-8")


def write_export(out: BinaryIO, records: Iterable[bytes]) -> None:
    """Write an export file: XML declaration, root start tag, one record a line, root end tag (streaming)."""
    out.write(b'<?xml version="1.0" encoding="UTF-8"?>\n')
    out.write(f'<{ROOT} xmlns="{NS}" versie="1">\n'.encode())
    for data in records:
        out.write(b"  " + data + b"\n")
    out.write(f"</{ROOT}>\n".encode())


# ---- shared blocks ---------------------------------------------------------------------------------------------


def _identity(p: m.Identity, c: Codes) -> str:
    doc = p.travel_document
    if any(" " in name or not name for name in p.forenames):
        raise ValueError(f"forenames {p.forenames} cannot be written space-separated in <Voornamen>")
    return _block(
        "Persoon",
        _els("Geslachtsnaam", p.surnames)
        + _el("Voornamen", " ".join(p.forenames) if p.forenames else None)
        + _els("GeslachtsnaamBijGeboorte", p.names_at_birth)
        + _els("Alias", p.aliases)
        + _el("Geboortedatum", v.format_partial_date(p.date_of_birth))
        + _el("Geboorteplaats", p.place_of_birth)
        + _el("Geslacht", c.sex.national(p.sex))
        + _els("Nationaliteit", p.nationalities)
        + (
            ""
            if doc is None
            else _block(
                "Reisdocument",
                _el("Soort", c.travel_document_type.national(doc.type))
                + _el("Nummer", doc.number)
                + _el("UitgevendLand", doc.issuing_country)
                + _el("Uitgiftedatum", _date(doc.issue_date))
                + _el("Vervaldatum", _date(doc.expiry_date)),
            )
        ),
    )


def _date(value: dt.date | None) -> str | None:
    return None if value is None else v.format_date(value)


def _components(parts: tuple[m.AssistanceComponent, ...], c: Codes) -> str:
    return "".join(
        _block(
            "Onderdeel",
            _el("Soort", c.assistance_type.national(part.type))
            + _el("Vorm", c.assistance_form.national(part.form))
            + _el("Bedrag", None if part.amount_eur is None else v.format_amount(part.amount_eur)),
        )
        for part in parts
    )


def _budget(lines: tuple[m.BudgetLine, ...]) -> str:
    return "".join(
        _block("Budgetregel", _el("Omschrijving", line.description) + _el("Bedrag", v.format_amount(line.amount_eur)))
        for line in lines
    )


def _count(value: int | None) -> str | None:
    return None if value is None else v.format_count(value)


# ---- events ----------------------------------------------------------------------------------------------------


def _return_decision(p: m.ReturnDecisionIssued, c: Codes) -> str:
    vd, ban = p.voluntary_departure, p.entry_ban
    ground = None if vd.shortened_ground is None else c.short_period_ground.national(vd.shortened_ground)
    period = (
        _el("Toegekend", v.format_flag(vd.granted))
        + _el("Begindatum", _date(vd.first_day))
        + _el("Einddatum", _date(vd.last_day))
        + _el("Dagen", _count(vd.length_days))
        + _el("Verkortingsgrond", ground)
    )
    return _block(
        "Terugkeerbesluit",
        _el("Besluitnummer", p.decision_reference)
        + _el("Besluitdatum", _date(p.decision_date))
        + _el("Instantie", p.issuing_authority)
        + _el("Grondslag", c.legal_ground.national(p.legal_ground))
        + _el("LandVanTerugkeer", p.country_of_return)
        + _block("VertrekTermijn", period)
        + _block(
            "Inreisverbod", _el("Opgelegd", v.format_flag(ban.imposed)) + _el("DuurDagen", _count(ban.duration_days))
        )
        + _yes("Geschorst", p.suspended)
        + _yes("UitzettingUitgesteld", p.enforcement_postponed)
        + _yes("GevaarOpenbareOrde", p.public_security_threat)
        + _els("Waarschuwing", (c.warning_marker.national(w) for w in p.warning_markers))
        + _identity(p.identity, c),
    )


def _extension(p: m.VoluntaryDepartureExtended, c: Codes) -> str:
    return _block(
        "Vertrektermijnverlenging",
        _el("Besluitnummer", p.decision_reference)
        + _el("NieuweEinddatum", _date(p.new_last_day))
        + _el("VorigeEinddatum", _date(p.previous_last_day))
        + _el("Reden", c.extension_reason.national(p.reason))
        + _el("Toelichting", p.reason_text),
    )


def _status_change(p: m.ReturnDecisionStatusChanged, c: Codes) -> str:
    return _block(
        "Statuswijziging",
        _el("Besluitnummer", p.decision_reference)
        + _el("Status", c.decision_status.national(p.status))
        + _el("Ingangsdatum", _date(p.effective_date))
        + _yes("NaBeroep", p.appeal_lodged)
        + _el("Toelichting", p.reason_text),
    )


def _assistance_applied(p: m.AssistanceApplied, c: Codes) -> str:
    return _block(
        "OndersteuningAanvraag",
        _el("Programma", p.programme_reference)
        + _el("Aanvraagdatum", _date(p.application_date))
        + _el("Fase", c.procedure_stage.national(p.stage))
        + _components(p.components, c),
    )


def _assistance_granted(p: m.AssistanceGranted, c: Codes) -> str:
    return _block(
        "OndersteuningToegekend",
        _el("Programma", p.programme_reference)
        + _el("Fase", c.procedure_stage.national(p.stage))
        + _components(p.components, c)
        + _el("ToekennendeLidstaat", c.member_state.national(p.granting_member_state))
        + _el("Toekenningsdatum", _date(p.grant_date))
        + _el("Aanvraagdatum", _date(p.application_date)),
    )


def _assistance_refused(p: m.AssistanceRefused, c: Codes) -> str:
    return _block(
        "OndersteuningAfgewezen",
        _el("Programma", p.programme_reference)
        + _el("Fase", c.procedure_stage.national(p.stage))
        + _el("Afwijzingsdatum", _date(p.refusal_date))
        + _el("Reden", c.refusal_reason.national(p.reason))
        + _el("Toelichting", p.reason_text),
    )


def _referral(p: m.ReintegrationReferral, c: Codes) -> str:
    return _block(
        "Herintegratieverwijzing",
        _el("VerwijzingsId", p.referral_id)
        + _el("Partner", p.partner)
        + _el("LandVanTerugkeer", p.country_of_return)
        + _el("Toestemming", v.format_flag(p.consent_obtained))
        + _el("Kwetsbaar", v.format_flag(p.vulnerability))
        + _el("Gezinsgrootte", v.format_count(p.family_size))
        + _els("Steunvorm", (c.support_type.national(s) for s in p.support_types))
        + _el("Fase", c.reintegration_stage.national(p.stage))
        + _el("Programma", p.programme_reference)
        + _el("VerwachteVertrekdatum", _date(p.expected_departure_date))
        + _el("Aankomstdatum", _date(p.arrival_date))
        + _budget(p.budget_lines)
        + ("" if p.identity is None else _identity(p.identity, c)),
    )


def _reintegration_status(p: m.ReintegrationStatusChanged, c: Codes) -> str:
    return _block(
        "HerintegratieStatus",
        _el("VerwijzingsId", p.referral_id)
        + _el("Fase", c.reintegration_stage.national(p.stage))
        + _el("Aankomstdatum", _date(p.arrival_date))
        + _budget(p.budget_lines)
        + _el("Notitie", p.note),
    )


def _departure(p: m.DepartureConfirmed, c: Codes) -> str:
    return _block(
        "Vertrek",
        _el("Vertrektijdstip", v.format_local_datetime(p.departed_at))
        + _el("Grensdoorlaatpost", p.border_crossing_point)
        + _els("Bewijs", (c.departure_evidence.national(e) for e in p.evidence))
        + _el("Terugkeersoort", c.return_type.national(p.return_type))
        + _el("Ondersteund", v.format_flag(p.assisted))
        + _el("Bestemmingsland", p.destination_country)
        + _el("Besluitnummer", p.decision_reference),
    )


def _non_return(p: m.NonReturnRecorded, c: Codes) -> str:
    return _block(
        "NietVertrokken",
        _el("Besluitnummer", p.decision_reference)
        + _el("LaatsteDagTermijn", _date(p.period_last_day))
        + _el("Bron", c.non_return_source.national(p.source)),
    )


def _eurodac_hit(p: m.EurodacHitReceived, c: Codes) -> str:
    avrr = p.avrr
    granted = (
        ""
        if avrr is None
        else _block(
            "TerugkeerOndersteuning",
            _el("Toegekend", v.format_flag(avrr.granted))
            + _el("Lidstaat", c.member_state.national(avrr.granting_member_state))
            + _el("Datum", _date(avrr.granted_on))
            + _el("Status", None if avrr.status is None else c.avrr_status.national(avrr.status)),
        )
    )
    return _block(
        "EurodacTreffer",
        _el("Lidstaat", c.member_state.national(p.hit_member_state))
        + _el("Categorie", c.eurodac_category.national(p.category))
        + _el("Artikel", p.article)
        + _el("Referentie", p.hit_reference)
        + granted,
    )


def _entry(p: m.EntryRecorded, c: Codes) -> str:
    return _block(
        "Inreis",
        _el("Inreistijdstip", v.format_local_datetime(p.entered_at))
        + _el("Grensdoorlaatpost", p.border_crossing_point)
        + _el("EesReferentie", p.ees_record_reference),
    )


def _biometrics(p: m.BiometricsCaptured, c: Codes) -> str:
    sent = None if p.transmitted_at is None else v.format_local_datetime(p.transmitted_at)
    return _block(
        "Biometrie",
        _el("Categorie", c.eurodac_category.national(p.category))
        + _el("Artikel", p.article)
        + _el("Registratietijdstip", v.format_local_datetime(p.registered_at))
        + _el("Afnamedatum", _date(p.biometrics_taken_on))
        + _el("Verzendtijdstip", sent)
        + _els("Veiligheidsgrond", (c.security_ground.national(g) for g in p.security_grounds))
        + _identity(p.identity, c),
    )


# Payload type -> its renderer; each takes its own payload type, so the table's value type is loose.
_EVENTS: Final[dict[type[m.AvroModel], Callable[[Any, Codes], str]]] = {
    m.ReturnDecisionIssued: _return_decision,
    m.VoluntaryDepartureExtended: _extension,
    m.ReturnDecisionStatusChanged: _status_change,
    m.AssistanceApplied: _assistance_applied,
    m.AssistanceGranted: _assistance_granted,
    m.AssistanceRefused: _assistance_refused,
    m.ReintegrationReferral: _referral,
    m.ReintegrationStatusChanged: _reintegration_status,
    m.DepartureConfirmed: _departure,
    m.NonReturnRecorded: _non_return,
    m.EurodacHitReceived: _eurodac_hit,
    m.EntryRecorded: _entry,
    m.BiometricsCaptured: _biometrics,
}
