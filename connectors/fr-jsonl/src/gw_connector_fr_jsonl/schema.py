"""The French record as pydantic models: the format's structure, checked while the JSON is parsed.

A record is one JSON object with four common keys and the block of its event type::

    {"numeroDossier": "FR-2025-0000042", "identifiantPersonne": "7512345678",
     "typeEvenement": "DEPART_CONSTATE", "horodatage": "2025-06-02T09:15:00+02:00",
     "depart": {"horodatage": "2025-06-02T07:40:00+02:00", "pointPassage": "CDG-AIRPORT", ...}}

Validation is strict (``"30"`` is not a number, ``"true"`` not a boolean) and unknown keys are refused: a key
the gateway does not know is either a typo (``dateNaisance``) or data it would silently drop, and both need a
person to look. Codes stay strings here; the mapper translates them with ``codes.toml``. Python attributes are
snake case; the JSON keys are their camel-case aliases (``date_naissance`` is ``dateNaissance``).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Final, Literal, get_args

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    StringConstraints,
    TypeAdapter,
)
from pydantic.alias_generators import to_camel

from gateway.connectors.values import country_code
from gw_connector_fr_jsonl.values import check_amount, check_partial_date, to_utc

# No control characters in one-line texts; free texts may also hold tabs and line breaks.
TEXT_PATTERN: Final = r"^[^\x00-\x1f\x7f]*$"
FREE_TEXT_PATTERN: Final = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
IDENT_PATTERN: Final = r"^[0-9A-Za-z][0-9A-Za-z._/-]{0,63}$"

Text = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=TEXT_PATTERN)]
FreeText = Annotated[str, StringConstraints(min_length=1, max_length=2000, pattern=FREE_TEXT_PATTERN)]
Ident = Annotated[str, StringConstraints(pattern=IDENT_PATTERN)]
# Codes need no pattern: one with a stray character is simply not in its code list (a MappingError).
Code = Annotated[str, StringConstraints(min_length=1, max_length=64)]
# Country codes are handed on normalised: the shared code list (rule CD-001) decides on D, XKX, RKS, UK.
Country = Annotated[
    str, AfterValidator(country_code), StringConstraints(min_length=1, max_length=64, pattern=TEXT_PATTERN)
]
Amount = Annotated[str, BeforeValidator(check_amount)]
PartialDate = Annotated[str | None, AfterValidator(check_partial_date)]
Count = Annotated[int, Field(ge=0, le=2**31 - 1)]  # Avro int
# With its offset, as written; held in UTC, cut to milliseconds.
Instant = Annotated[AwareDatetime, AfterValidator(to_utc)]


Names = Annotated[tuple[Text, ...], Field(max_length=10)]
Countries = Annotated[tuple[Country, ...], Field(max_length=10)]
CodeSet = Annotated[tuple[Code, ...], Field(max_length=20)]


class _Object(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, extra="forbid", strict=True, frozen=True, hide_input_in_errors=True
    )


# ---- blocks ----------------------------------------------------------------------------------------------------


class TravelDocument(_Object):
    """``personne.documentVoyage``."""

    type: Code
    numero: Ident
    pays_emetteur: Country
    date_delivrance: dt.date | None = None
    date_expiration: dt.date | None = None


class Person(_Object):
    """``personne``: identity as in the travel document (Eurodac, SIS and RIAT need it)."""

    nom: Text
    prenoms: Names
    nom_naissance: Text | None = None
    alias: Names = ()
    date_naissance: PartialDate
    lieu_naissance: Text | None = None
    sexe: Code
    nationalites: Countries
    document_voyage: TravelDocument | None = None


class DeparturePeriod(_Object):
    """``decision.delaiDepartVolontaire``."""

    accorde: bool
    debut: dt.date | None = None
    fin: dt.date | None = None
    duree_jours: Count | None = None
    motif_reduction: Code | None = None


class EntryBan(_Object):
    """``decision.interdictionRetour`` (interdiction de retour sur le territoire français)."""

    prononcee: bool
    duree_jours: Count | None = None


class Decision(_Object):
    """``decision``: the return decision (OQTF)."""

    reference: Ident
    date: dt.date
    autorite: Text
    fondement: Code
    pays_renvoi: Country | None = None
    delai_depart_volontaire: DeparturePeriod
    interdiction_retour: EntryBan
    suspendue: bool = False
    execution_differee: bool = False
    menace_ordre_public: bool = False
    signalements: CodeSet = ()


class Extension(_Object):
    """``prolongation``: the period for voluntary departure was extended."""

    reference_decision: Ident
    nouvelle_fin: dt.date
    ancienne_fin: dt.date | None = None
    motif: Code
    motif_texte: FreeText | None = None


class StatusChange(_Object):
    """``changementStatut``: the decision was suspended, postponed, resumed, withdrawn or annulled."""

    reference_decision: Ident
    statut: Code
    date_effet: dt.date
    recours: bool = False
    motif_texte: FreeText | None = None


class Component(_Object):
    """``aide.composantes[]``."""

    type: Code
    forme: Code
    montant_eur: Amount | None = None


Components = Annotated[tuple[Component, ...], Field(max_length=20)]


class AssistanceApplication(_Object):
    """``aide`` of ``DEMANDE_AIDE_RETOUR``."""

    programme: Ident
    date_demande: dt.date
    stade_procedure: Code
    composantes: Components = ()


class AssistanceGrant(_Object):
    """``aide`` of ``AIDE_RETOUR_ACCORDEE``."""

    programme: Ident
    stade_procedure: Code
    composantes: Components = ()
    etat_membre_octroi: Code
    date_octroi: dt.date
    date_demande: dt.date | None = None


class AssistanceRefusal(_Object):
    """``aide`` of ``AIDE_RETOUR_REFUSEE``."""

    programme: Ident
    stade_procedure: Code
    date_refus: dt.date
    motif_refus: Code
    motif_texte: FreeText | None = None


class BudgetLine(_Object):
    """``reinsertion.budget[]``."""

    libelle: Text
    montant_eur: Amount


Budget = Annotated[tuple[BudgetLine, ...], Field(max_length=50)]


class Referral(_Object):
    """``reinsertion`` of ``ORIENTATION_REINSERTION``."""

    identifiant: Ident
    partenaire: Text
    pays_retour: Country
    consentement: bool
    vulnerabilite: bool
    taille_famille: Count
    types_soutien: CodeSet = ()
    etape: Code
    programme: Ident | None = None
    date_depart_prevue: dt.date | None = None
    date_arrivee: dt.date | None = None
    budget: Budget = ()


class ReintegrationProgress(_Object):
    """``reinsertion`` of ``STATUT_REINSERTION``."""

    identifiant: Ident
    etape: Code
    date_arrivee: dt.date | None = None
    budget: Budget = ()
    note: FreeText | None = None


class Departure(_Object):
    """``depart``: the person left (EES exit, SIS confirmation, border check)."""

    horodatage: Instant
    point_passage: Text | None = None
    preuves: CodeSet = ()
    type_retour: Code
    retour_aide: bool
    pays_destination: Country | None = None
    reference_decision: Ident | None = None


class NonDeparture(_Object):
    """``nonDepart``: the period ended and the person did not leave."""

    reference_decision: Ident
    fin_delai: dt.date
    source: Code


class EurodacAvrr(_Object):
    """``eurodac.aideRetour``: the matched dataset records return assistance."""

    accordee: bool
    etat_membre_octroi: Code
    date_octroi: dt.date | None = None
    statut: Code | None = None  # optional: exports written before it existed stay valid


class EurodacHit(_Object):
    """``eurodac``: a Eurodac comparison matched another Member State's dataset."""

    etat_membre: Code
    categorie: Code
    article: Text
    reference: Ident
    aide_retour: EurodacAvrr | None = None


class Entry(_Object):
    """``entree``: an EES entry record."""

    horodatage: Instant
    point_passage: Text
    reference_ees: Ident | None = None


class Biometrics(_Object):
    """``biometrie``: fingerprints and facial image taken for Eurodac."""

    categorie: Code
    article: Text
    date_enregistrement: Instant
    date_releve: dt.date
    date_transmission: Instant | None = None
    motifs_securite: CodeSet = ()


# ---- records: the four common keys and one block per event type ------------------------------------------------


class _Record(_Object):
    numero_dossier: Ident
    identifiant_personne: Ident
    horodatage: Instant


class ReturnDecisionRecord(_Record):
    """``DECISION_ELOIGNEMENT``: an OQTF or another return decision was issued."""

    type_evenement: Literal["DECISION_ELOIGNEMENT"]
    personne: Person
    decision: Decision


class ExtensionRecord(_Record):
    """``PROLONGATION_DELAI``."""

    type_evenement: Literal["PROLONGATION_DELAI"]
    prolongation: Extension


class StatusChangeRecord(_Record):
    """``CHANGEMENT_STATUT``."""

    type_evenement: Literal["CHANGEMENT_STATUT"]
    changement_statut: StatusChange


class AssistanceApplicationRecord(_Record):
    """``DEMANDE_AIDE_RETOUR``."""

    type_evenement: Literal["DEMANDE_AIDE_RETOUR"]
    aide: AssistanceApplication


class AssistanceGrantRecord(_Record):
    """``AIDE_RETOUR_ACCORDEE``."""

    type_evenement: Literal["AIDE_RETOUR_ACCORDEE"]
    aide: AssistanceGrant


class AssistanceRefusalRecord(_Record):
    """``AIDE_RETOUR_REFUSEE``."""

    type_evenement: Literal["AIDE_RETOUR_REFUSEE"]
    aide: AssistanceRefusal


class ReferralRecord(_Record):
    """``ORIENTATION_REINSERTION``."""

    type_evenement: Literal["ORIENTATION_REINSERTION"]
    personne: Person | None = None
    reinsertion: Referral


class ReintegrationRecord(_Record):
    """``STATUT_REINSERTION``."""

    type_evenement: Literal["STATUT_REINSERTION"]
    reinsertion: ReintegrationProgress


class DepartureRecord(_Record):
    """``DEPART_CONSTATE``."""

    type_evenement: Literal["DEPART_CONSTATE"]
    depart: Departure


class NonDepartureRecord(_Record):
    """``NON_DEPART``."""

    type_evenement: Literal["NON_DEPART"]
    non_depart: NonDeparture


class EurodacHitRecord(_Record):
    """``RESULTAT_EURODAC``."""

    type_evenement: Literal["RESULTAT_EURODAC"]
    eurodac: EurodacHit


class EntryRecord(_Record):
    """``ENTREE_EES``."""

    type_evenement: Literal["ENTREE_EES"]
    entree: Entry


class BiometricsRecord(_Record):
    """``RELEVE_BIOMETRIQUE``."""

    type_evenement: Literal["RELEVE_BIOMETRIQUE"]
    personne: Person
    biometrie: Biometrics


FrRecord = (
    ReturnDecisionRecord
    | ExtensionRecord
    | StatusChangeRecord
    | AssistanceApplicationRecord
    | AssistanceGrantRecord
    | AssistanceRefusalRecord
    | ReferralRecord
    | ReintegrationRecord
    | DepartureRecord
    | NonDepartureRecord
    | EurodacHitRecord
    | EntryRecord
    | BiometricsRecord
)

RECORD_TYPES: Final[tuple[type[_Record], ...]] = get_args(FrRecord)
EVENT_TYPES: Final[tuple[str, ...]] = tuple(
    get_args(t.model_fields["type_evenement"].annotation)[0] for t in RECORD_TYPES
)

# A tagged union: pydantic reads typeEvenement first and validates only that record type.
RECORD: Final[TypeAdapter[FrRecord]] = TypeAdapter(Annotated[FrRecord, Discriminator("type_evenement")])


def _nested_fields(roots: tuple[type[BaseModel], ...]) -> dict[type[BaseModel], tuple[str, ...]]:
    """For every model reachable from ``roots``: the names of its fields that hold models or tuples of them."""
    out: dict[type[BaseModel], tuple[str, ...]] = {}

    def models_in(annotation: Any) -> list[type[BaseModel]]:
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            return [annotation]
        return [found for arg in get_args(annotation) for found in models_in(arg)]

    def visit(model: type[BaseModel]) -> None:
        if model in out:
            return
        names = []
        for name, info in model.model_fields.items():
            inner = models_in(info.annotation)
            if inner:
                names.append(name)
            for sub in inner:
                visit(sub)
        out[model] = tuple(names)

    for root in roots:
        visit(root)
    return out


_NESTED: Final = _nested_fields(RECORD_TYPES)


def count_keys(model: BaseModel) -> int:
    """How many keys the JSON objects behind ``model`` and its nested models had (a repeated key counts once)."""
    total = len(model.__pydantic_fields_set__)
    for name in _NESTED[type(model)]:
        value = getattr(model, name)
        if type(value) is tuple:
            for item in value:
                total += count_keys(item)
        elif value is not None:
            total += count_keys(value)
    return total
