"""The deployment's programme catalogue: RRAI-style entries for its return and reintegration assistance.

The Return and Reintegration Assistance Inventory (RRAI, COM(2021) 120) records per programme: the type of
assistance in cash and/or in kind with its level, the potential beneficiaries, the organisations involved and the
stage of the procedure at which it is offered. No public RRAI data model exists, so this file format is the
gateway's own; ``data/programmes.example.toml`` documents it field by field.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from gateway.errors import ConfigError
from gateway.events.models import AssistanceForm, AssistanceType, MemberState, ProcedureStage
from gateway.validation.config import read_structured_file


def _eur(value: Decimal | None) -> Decimal | None:
    if value is not None and (not value.is_finite() or value < 0 or value.as_tuple().exponent != -2):
        raise ValueError(f"{value} is not a non-negative EUR amount with two decimals (e.g. '300.00')")
    return value


class ProgrammeComponent(BaseModel):
    """One type of assistance a programme offers.

    Attributes:
        type: Component type, as in the canonical events.
        forms: Forms in which it is given: CASH, IN_KIND or both.
        max_amount_eur: Highest amount per person (a string with two decimals, e.g. "1500.00"); None for no cap.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: AssistanceType
    forms: tuple[AssistanceForm, ...] = Field(min_length=1)
    max_amount_eur: Decimal | None = None

    @field_validator("forms")
    @classmethod
    def _known_forms(cls, value: tuple[AssistanceForm, ...]) -> tuple[AssistanceForm, ...]:
        if AssistanceForm.UNKNOWN in value:
            raise ValueError("UNKNOWN is not a form of assistance")
        return value

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: AssistanceType) -> AssistanceType:
        if value is AssistanceType.UNKNOWN:
            raise ValueError("UNKNOWN is not a type of assistance")
        return value

    @field_validator("max_amount_eur")
    @classmethod
    def _amount(cls, value: Decimal | None) -> Decimal | None:
        return _eur(value)


class Programme(BaseModel):
    """One assistance programme as the RRAI would list it.

    Attributes:
        reference: Programme reference, as carried by the events' ``programme_reference``.
        name: Human-readable name.
        member_state: Member State running the programme.
        eligible_groups: Potential beneficiaries (upper-case codes such as REJECTED_APPLICANTS); informative,
            since canonical events carry no beneficiary group to check.
        stages: Stages of the procedure at which the programme is offered.
        organisations: Organisations involved: implementers and reintegration partners.
        components: Types of assistance offered, each in cash and/or in kind with its level.
        max_total_eur: Cap on the sum of all components for one person; None for no cap.
        valid_from: First day applications are accepted; None for no limit.
        valid_until: Last day applications are accepted; None for no limit.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    reference: str = Field(min_length=1, pattern=r"\S")
    name: str = ""
    member_state: MemberState
    eligible_groups: tuple[str, ...] = ()
    stages: tuple[ProcedureStage, ...] = Field(min_length=1)
    organisations: tuple[str, ...] = ()
    components: tuple[ProgrammeComponent, ...] = Field(min_length=1)
    max_total_eur: Decimal | None = None
    valid_from: dt.date | None = None
    valid_until: dt.date | None = None

    @field_validator("max_total_eur")
    @classmethod
    def _total(cls, value: Decimal | None) -> Decimal | None:
        return _eur(value)

    @field_validator("eligible_groups")
    @classmethod
    def _group_codes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        bad = [g for g in value if not g or not g.replace("_", "").isalnum() or g != g.upper()]
        if bad:
            raise ValueError(f"eligible groups must be upper-case codes, got {bad}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Programme:
        if self.member_state is MemberState.UNKNOWN:
            raise ValueError(f"programme {self.reference}: member_state must be a Member State code")
        if ProcedureStage.UNKNOWN in self.stages:
            raise ValueError(f"programme {self.reference}: UNKNOWN is not a stage of procedure")
        types = [c.type for c in self.components]
        if len(set(types)) != len(types):
            raise ValueError(f"programme {self.reference}: a component type is listed twice")
        if self.valid_from and self.valid_until and self.valid_from > self.valid_until:
            raise ValueError(f"programme {self.reference}: valid_from is after valid_until")
        return self

    def component(self, type_: AssistanceType) -> ProgrammeComponent | None:
        """The programme's offer for a component type, if any."""
        for c in self.components:
            if c.type is type_:
                return c
        return None


class ProgrammeCatalogue(BaseModel):
    """All programmes of a deployment, by reference.

    Attributes:
        programmes: The programmes; references are unique.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    programmes: tuple[Programme, ...] = ()

    @model_validator(mode="after")
    def _unique(self) -> ProgrammeCatalogue:
        refs = [p.reference for p in self.programmes]
        dupes = sorted({r for r in refs if refs.count(r) > 1})
        if dupes:
            raise ValueError(f"programme references listed more than once: {dupes}")
        return self

    def get(self, reference: str) -> Programme | None:
        """The programme with this reference, or None. Rules use :func:`index_programmes` instead."""
        return next((p for p in self.programmes if p.reference == reference), None)


@dataclass(frozen=True, slots=True)
class ProgrammeView:
    """A programme prepared for the rules: its offers by component type, for dict-speed look-ups per event.

    Attributes:
        programme: The catalogue entry.
        components: The programme's offer per component type.
        stages: Stages of procedure it is offered at.
        organisations: Organisations involved.
    """

    programme: Programme
    components: Mapping[AssistanceType, ProgrammeComponent]
    stages: frozenset[ProcedureStage]
    organisations: frozenset[str]

    @property
    def reference(self) -> str:
        """The programme reference."""
        return self.programme.reference


def index_programmes(catalogue: ProgrammeCatalogue) -> Mapping[str, ProgrammeView]:
    """The catalogue as an immutable mapping from programme reference to :class:`ProgrammeView`."""
    return MappingProxyType(
        {
            p.reference: ProgrammeView(
                programme=p,
                components=MappingProxyType({c.type: c for c in p.components}),
                stages=frozenset(p.stages),
                organisations=frozenset(p.organisations),
            )
            for p in catalogue.programmes
        }
    )


def load_programmes(source: Path | str | Mapping[str, Any] | None = None) -> ProgrammeCatalogue:
    """Load and validate a programme catalogue file (TOML, JSON or YAML) or dict; empty when ``source`` is None.

    Raises:
        ConfigError: The file cannot be read or an entry is invalid.
    """
    data: Any = {} if source is None else source
    if isinstance(source, str | Path):
        data = read_structured_file(Path(source))
    try:
        return ProgrammeCatalogue.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"invalid programme catalogue: {exc}") from exc


def example_programmes_path() -> Path:
    """Path of the example catalogue shipped with the package."""
    return Path(__file__).with_name("data") / "programmes.example.toml"
