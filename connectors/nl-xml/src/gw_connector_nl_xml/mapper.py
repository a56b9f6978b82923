"""Map a validated ``<Gebeurtenis>`` to its canonical ``Fact``: one record, one fact.

Mapping runs after XSD validation, which has fixed the structure and the lexical form of every value. So the
record is read in one pass into plain dicts (``_collect``), and each payload is built with one pydantic
validation of a nested dict: pydantic-core turns the XSD-checked texts of dates (``YYYY-MM-DD``), amounts
(``1234.50``) and counts into ``date``, ``Decimal`` and ``int`` in Rust. Python converts only what neither the XSD
nor pydantic knows: national codes (``codes.toml``), ``J``/``N`` flags, partial dates and local times. Those raise
``MappingError`` naming the field. Building nested models from Python one by one, or reading children with
``find``, each cost several times more.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Any, Final, TypeVar

from lxml import etree
from pydantic import BaseModel, ValidationError

from gateway.connectors.base import Fact
from gateway.connectors.codes import CodeList
from gateway.connectors.values import AmbiguousLocalTime, country_code
from gateway.errors import MappingError
from gateway.events import models as m
from gateway.events.models import ValidationFinding
from gw_connector_nl_xml import values as v
from gw_connector_nl_xml.codelists import Codes
from gw_connector_nl_xml.spec import CLARK, RECORD

E = TypeVar("E", bound=StrEnum)
M = TypeVar("M", bound=BaseModel)
Fields = dict[str, Any]  # local name -> text, nested Fields, or a list of either for repeatable elements

_NS_LEN: Final = len(CLARK)
# Elements with children, and elements that may repeat: all the XSD knowledge _collect needs.
_COMPLEX: Final = frozenset(
    {"Persoon", "Reisdocument", "VertrekTermijn", "Inreisverbod", "Onderdeel", "Budgetregel", "TerugkeerOndersteuning"}
)
_REPEATED: Final = frozenset(
    {
        "Geslachtsnaam",
        "GeslachtsnaamBijGeboorte",
        "Alias",
        "Nationaliteit",
        "Waarschuwing",
        "Onderdeel",
        "Steunvorm",
        "Budgetregel",
        "Bewijs",
        "Veiligheidsgrond",
    }
)


def _collect(element: etree._Element, complex_names: frozenset[str] = _COMPLEX) -> Fields:
    """The children of an element as a dict by local name (lists for repeatable ones), in one pass."""
    out: Fields = {}
    for child in element:
        name = child.tag[_NS_LEN:]
        value = _collect(child) if name in complex_names else (child.text or "")
        if name in _REPEATED:
            out.setdefault(name, []).append(value)
        else:
            out[name] = value
    return out


class _Ctx:
    """Code lists and the event's path, for conversions that must name the field when they fail.

    Also gathers the record's warnings (an ambiguous local time read by policy), which end up on the fact.
    """

    __slots__ = ("codes", "path", "policy", "warnings")

    def __init__(self, codes: Codes, path: str, policy: AmbiguousLocalTime) -> None:
        self.codes, self.path, self.policy = codes, path, policy
        self.warnings: list[ValidationFinding] = []

    def code(self, codes: CodeList[E], text: str, field: str) -> E:
        found = codes.to_canonical.get(text)
        if found is None:
            raise MappingError(f"unknown {codes.name} code {text!r} in {self.path}/{field}")
        return found

    def opt_code(self, codes: CodeList[E], text: str | None, field: str) -> E | None:
        return None if text is None else self.code(codes, text, field)

    def codes_of(self, codes: CodeList[E], texts: list[str] | None, field: str) -> tuple[E, ...]:
        return () if texts is None else tuple(self.code(codes, text, field) for text in texts)

    def convert(self, convert: Callable[[str], Any], text: str, field: str) -> Any:
        try:
            return convert(text)
        except ValueError as exc:
            raise MappingError(f"{self.path}/{field}: {exc}") from None

    def time(self, text: str | None, field: str, *, path: str | None = None) -> Any:
        if text is None:
            return None
        try:
            local = v.parse_local_datetime(text, f"{path or self.path}/{field}", self.policy)
        except ValueError as exc:
            raise MappingError(str(exc)) from None
        if local.warning is not None:
            self.warnings.append(local.warning)
        return local.utc


def _flag(text: str | None) -> bool:
    """J/N, already checked by the XSD; absent means N."""
    return text == "J"


def map_record(element: etree._Element, codes: Codes, policy: AmbiguousLocalTime = "earlier") -> Fact:
    """The fact a validated ``Gebeurtenis`` element records; ``policy`` reads the repeated autumn hour.

    Raises:
        MappingError: A value cannot be mapped (unknown code, impossible date, missing element).
    """
    record = _collect(element, _RECORD_COMPLEX)
    name = next(reversed(record))  # the event element is the record's last child
    build = _EVENTS.get(name)
    if build is None:
        raise MappingError(f"{RECORD}: {name} is not an event this connector knows")
    ctx = _Ctx(codes, f"{RECORD}/{name}", policy)
    try:
        occurred_at = ctx.time(record["Tijdstip"], "Tijdstip", path=RECORD)
        payload = build(record[name], ctx)
        return Fact(record["Zaaknummer"], record["VNummer"], occurred_at, payload, warnings=tuple(ctx.warnings))
    except KeyError as exc:  # the XSD requires these elements; a record that skipped validation may lack them
        raise MappingError(f"{ctx.path}: required element {exc.args[0]} is missing") from None
    except ValidationError as exc:
        first = exc.errors()[0]  # the canonical model refused a value the XSD let through
        where = ".".join(str(part) for part in first["loc"])
        raise MappingError(f"{ctx.path}: {where}: {first['msg']} ({exc.error_count()} error(s))") from None


def _model(model: type[M], fields: Fields) -> M:
    return model.model_validate(fields)


# ---- shared blocks ---------------------------------------------------------------------------------------------


def _identity(p: Fields, x: _Ctx) -> Fields:
    forenames, doc = p.get("Voornamen"), p.get("Reisdocument")
    return {
        "surnames": p.get("Geslachtsnaam", ()),
        "forenames": forenames.split() if forenames else (),
        "names_at_birth": p.get("GeslachtsnaamBijGeboorte", ()),
        "aliases": p.get("Alias", ()),
        "date_of_birth": x.convert(v.partial_date_fields, p["Geboortedatum"], "Persoon/Geboortedatum"),
        "place_of_birth": p.get("Geboorteplaats"),
        "sex": x.code(x.codes.sex, p["Geslacht"], "Persoon/Geslacht"),
        "nationalities": tuple(country_code(c) for c in p.get("Nationaliteit", ())),
        "travel_document": None
        if doc is None
        else {
            "type": x.code(x.codes.travel_document_type, doc["Soort"], "Persoon/Reisdocument/Soort"),
            "number": doc["Nummer"],
            "issuing_country": country_code(doc["UitgevendLand"]),
            "issue_date": doc.get("Uitgiftedatum"),
            "expiry_date": doc.get("Vervaldatum"),
        },
    }


def _optional_country(code: str | None) -> str | None:
    return None if code is None else country_code(code)


def _components(e: Fields, x: _Ctx) -> list[Fields]:
    c = x.codes
    return [
        {
            "type": x.code(c.assistance_type, part["Soort"], f"Onderdeel[{i}]/Soort"),
            "form": x.code(c.assistance_form, part["Vorm"], f"Onderdeel[{i}]/Vorm"),
            "amount_eur": part.get("Bedrag"),
        }
        for i, part in enumerate(e.get("Onderdeel", ()), 1)
    ]


def _budget(e: Fields) -> list[Fields]:
    return [{"description": line["Omschrijving"], "amount_eur": line["Bedrag"]} for line in e.get("Budgetregel", ())]


# ---- events ----------------------------------------------------------------------------------------------------


def _return_decision(e: Fields, x: _Ctx) -> m.ReturnDecisionIssued:
    c, period, ban = x.codes, e["VertrekTermijn"], e["Inreisverbod"]
    return _model(
        m.ReturnDecisionIssued,
        {
            "decision_reference": e["Besluitnummer"],
            "decision_date": e["Besluitdatum"],
            "issuing_authority": e["Instantie"],
            "legal_ground": x.code(c.legal_ground, e["Grondslag"], "Grondslag"),
            "country_of_return": _optional_country(e.get("LandVanTerugkeer")),
            "voluntary_departure": {
                "granted": _flag(period["Toegekend"]),
                "first_day": period.get("Begindatum"),
                "last_day": period.get("Einddatum"),
                "length_days": period.get("Dagen"),
                "shortened_ground": x.opt_code(
                    c.short_period_ground, period.get("Verkortingsgrond"), "VertrekTermijn/Verkortingsgrond"
                ),
            },
            "entry_ban": {"imposed": _flag(ban["Opgelegd"]), "duration_days": ban.get("DuurDagen")},
            "suspended": _flag(e.get("Geschorst")),
            "enforcement_postponed": _flag(e.get("UitzettingUitgesteld")),
            "public_security_threat": _flag(e.get("GevaarOpenbareOrde")),
            "warning_markers": x.codes_of(c.warning_marker, e.get("Waarschuwing"), "Waarschuwing"),
            "identity": _identity(e["Persoon"], x),
        },
    )


def _extension(e: Fields, x: _Ctx) -> m.VoluntaryDepartureExtended:
    return _model(
        m.VoluntaryDepartureExtended,
        {
            "decision_reference": e["Besluitnummer"],
            "new_last_day": e["NieuweEinddatum"],
            "previous_last_day": e.get("VorigeEinddatum"),
            "reason": x.code(x.codes.extension_reason, e["Reden"], "Reden"),
            "reason_text": e.get("Toelichting"),
        },
    )


def _status_change(e: Fields, x: _Ctx) -> m.ReturnDecisionStatusChanged:
    return _model(
        m.ReturnDecisionStatusChanged,
        {
            "decision_reference": e["Besluitnummer"],
            "status": x.code(x.codes.decision_status, e["Status"], "Status"),
            "effective_date": e["Ingangsdatum"],
            "appeal_lodged": _flag(e.get("NaBeroep")),
            "reason_text": e.get("Toelichting"),
        },
    )


def _assistance_applied(e: Fields, x: _Ctx) -> m.AssistanceApplied:
    return _model(
        m.AssistanceApplied,
        {
            "programme_reference": e["Programma"],
            "application_date": e["Aanvraagdatum"],
            "stage": x.code(x.codes.procedure_stage, e["Fase"], "Fase"),
            "components": _components(e, x),
        },
    )


def _assistance_granted(e: Fields, x: _Ctx) -> m.AssistanceGranted:
    return _model(
        m.AssistanceGranted,
        {
            "programme_reference": e["Programma"],
            "stage": x.code(x.codes.procedure_stage, e["Fase"], "Fase"),
            "components": _components(e, x),
            "granting_member_state": x.code(x.codes.member_state, e["ToekennendeLidstaat"], "ToekennendeLidstaat"),
            "grant_date": e["Toekenningsdatum"],
            "application_date": e.get("Aanvraagdatum"),
        },
    )


def _assistance_refused(e: Fields, x: _Ctx) -> m.AssistanceRefused:
    return _model(
        m.AssistanceRefused,
        {
            "programme_reference": e["Programma"],
            "stage": x.code(x.codes.procedure_stage, e["Fase"], "Fase"),
            "refusal_date": e["Afwijzingsdatum"],
            "reason": x.code(x.codes.refusal_reason, e["Reden"], "Reden"),
            "reason_text": e.get("Toelichting"),
        },
    )


def _referral(e: Fields, x: _Ctx) -> m.ReintegrationReferral:
    person = e.get("Persoon")
    return _model(
        m.ReintegrationReferral,
        {
            "referral_id": e["VerwijzingsId"],
            "partner": e["Partner"],
            "country_of_return": country_code(e["LandVanTerugkeer"]),
            "consent_obtained": _flag(e["Toestemming"]),
            "vulnerability": _flag(e["Kwetsbaar"]),
            "family_size": e["Gezinsgrootte"],
            "support_types": x.codes_of(x.codes.support_type, e.get("Steunvorm"), "Steunvorm"),
            "stage": x.code(x.codes.reintegration_stage, e["Fase"], "Fase"),
            "programme_reference": e.get("Programma"),
            "expected_departure_date": e.get("VerwachteVertrekdatum"),
            "arrival_date": e.get("Aankomstdatum"),
            "budget_lines": _budget(e),
            "identity": None if person is None else _identity(person, x),
        },
    )


def _reintegration_status(e: Fields, x: _Ctx) -> m.ReintegrationStatusChanged:
    return _model(
        m.ReintegrationStatusChanged,
        {
            "referral_id": e["VerwijzingsId"],
            "stage": x.code(x.codes.reintegration_stage, e["Fase"], "Fase"),
            "arrival_date": e.get("Aankomstdatum"),
            "budget_lines": _budget(e),
            "note": e.get("Notitie"),
        },
    )


def _departure(e: Fields, x: _Ctx) -> m.DepartureConfirmed:
    return _model(
        m.DepartureConfirmed,
        {
            "departed_at": x.time(e["Vertrektijdstip"], "Vertrektijdstip"),
            "border_crossing_point": e.get("Grensdoorlaatpost"),
            "evidence": x.codes_of(x.codes.departure_evidence, e.get("Bewijs"), "Bewijs"),
            "return_type": x.code(x.codes.return_type, e["Terugkeersoort"], "Terugkeersoort"),
            "assisted": _flag(e["Ondersteund"]),
            "destination_country": _optional_country(e.get("Bestemmingsland")),
            "decision_reference": e.get("Besluitnummer"),
        },
    )


def _non_return(e: Fields, x: _Ctx) -> m.NonReturnRecorded:
    return _model(
        m.NonReturnRecorded,
        {
            "decision_reference": e["Besluitnummer"],
            "period_last_day": e["LaatsteDagTermijn"],
            "source": x.code(x.codes.non_return_source, e["Bron"], "Bron"),
        },
    )


def _eurodac_hit(e: Fields, x: _Ctx) -> m.EurodacHitReceived:
    avrr = e.get("TerugkeerOndersteuning")
    return _model(
        m.EurodacHitReceived,
        {
            "hit_member_state": x.code(x.codes.member_state, e["Lidstaat"], "Lidstaat"),
            "category": x.code(x.codes.eurodac_category, e["Categorie"], "Categorie"),
            "article": e["Artikel"],
            "hit_reference": e["Referentie"],
            "avrr": None
            if avrr is None
            else {
                "granted": _flag(avrr["Toegekend"]),
                "granting_member_state": x.code(
                    x.codes.member_state, avrr["Lidstaat"], "TerugkeerOndersteuning/Lidstaat"
                ),
                "granted_on": avrr.get("Datum"),
                "status": x.opt_code(x.codes.avrr_status, avrr.get("Status"), "TerugkeerOndersteuning/Status"),
            },
        },
    )


def _entry(e: Fields, x: _Ctx) -> m.EntryRecorded:
    return _model(
        m.EntryRecorded,
        {
            "entered_at": x.time(e["Inreistijdstip"], "Inreistijdstip"),
            "border_crossing_point": e["Grensdoorlaatpost"],
            "ees_record_reference": e.get("EesReferentie"),
        },
    )


def _biometrics(e: Fields, x: _Ctx) -> m.BiometricsCaptured:
    return _model(
        m.BiometricsCaptured,
        {
            "category": x.code(x.codes.eurodac_category, e["Categorie"], "Categorie"),
            "article": e["Artikel"],
            "registered_at": x.time(e["Registratietijdstip"], "Registratietijdstip"),
            "biometrics_taken_on": e["Afnamedatum"],
            "transmitted_at": x.time(e.get("Verzendtijdstip"), "Verzendtijdstip"),
            "security_grounds": x.codes_of(x.codes.security_ground, e.get("Veiligheidsgrond"), "Veiligheidsgrond"),
            "identity": _identity(e["Persoon"], x),
        },
    )


_EVENTS: Final[dict[str, Callable[[Fields, _Ctx], m.Payload]]] = {
    "Terugkeerbesluit": _return_decision,
    "Vertrektermijnverlenging": _extension,
    "Statuswijziging": _status_change,
    "OndersteuningAanvraag": _assistance_applied,
    "OndersteuningToegekend": _assistance_granted,
    "OndersteuningAfgewezen": _assistance_refused,
    "Herintegratieverwijzing": _referral,
    "HerintegratieStatus": _reintegration_status,
    "Vertrek": _departure,
    "NietVertrokken": _non_return,
    "EurodacTreffer": _eurodac_hit,
    "Inreis": _entry,
    "Biometrie": _biometrics,
}
"""Event element (local name) -> builder of its canonical payload; every payload type has one."""

_RECORD_COMPLEX: Final = _COMPLEX | frozenset(_EVENTS)
