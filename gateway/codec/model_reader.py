"""Building event models from records the Avro reader returned, without pydantic's validation.

Why: ``CaseEvent.model_validate`` re-checks, field by field, what the Avro reader has already checked: that each
value has its schema's type, that an enum symbol is one of the reader's symbols, that a union value is one of its
branches. For consumers that read the canonical topic in bulk (the secondary-movement detector, replay, statistics)
that is a large share of their time per event. This module turns a record as ``EventCodec.decode_record`` returns
it into the same models, built as ``gateway.events.trusted.trusted`` builds them (inlined into each builder: the
instance's four slots are set through their descriptors, half the cost of a call to ``trusted``).

What is built comes from the generated models themselves, never from a list of fields written here: once per model
class, each field's annotation (as pydantic resolved it) gives its conversion. Values the reader returns as the
model stores them are taken as they are (str, int, float, bool, bytes, date, datetime, UUID, Decimal: pydantic
keeps the very object); enum symbols become their members; arrays become tuples; nested records become their
models; a union of several records picks its model by the record name fastavro returns with
``return_record_name=True``, a ``(full name, dict)`` pair (with ``return_record_name_override=True`` a union of
null and one record gives the dict alone). The table of a class is turned into one straight-line Python function,
as ``gateway.codec.compiled_writer`` does for writing: a loop over the table was a fifth slower.

A regenerated model is therefore read correctly without a change here. A model this reader cannot build faithfully
(an annotation or a validator codegen does not emit today, a pydantic setting that changes values) is built by
``model_validate`` instead: slower, never wrong; the unit tests assert that no current model needs it.

The models' ``after`` validators (the envelope's check that ``event_type`` names the payload's type) are cheap and
guard an invariant Avro cannot express, so they are run. What is not re-checked is listed by ``unchecked``.
"""

from __future__ import annotations

import datetime as dt
import enum
import threading
import types
import typing
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NamedTuple, TypeVar

from annotated_types import BaseMetadata
from pydantic import AwareDatetime, BaseModel
from pydantic.fields import FieldInfo

from gateway.events.models import CaseEvent

M = TypeVar("M", bound=BaseModel)
Converter = Callable[[Any], Any]
Builder = Callable[[dict[str, Any]], Any]

# What ``gateway.events.trusted.trusted`` does, through the slots' own descriptors rather than
# ``object.__setattr__`` (which looks each name up on the type first): 0.53 µs an instance instead of 1.17.
_SLOTS: dict[str, Any] = {
    "_new": object.__new__,
    "_set_dict": BaseModel.__dict__["__dict__"].__set__,
    "_set_fields": BaseModel.__dict__["__pydantic_fields_set__"].__set__,
    "_set_extra": BaseModel.__dict__["__pydantic_extra__"].__set__,
    "_set_private": BaseModel.__dict__["__pydantic_private__"].__set__,
}

# Types the Avro reader returns exactly as pydantic stores them (pydantic keeps the very object it is given).
_AS_READ: frozenset[Any] = frozenset(
    {str, int, float, bool, bytes, dt.date, dt.datetime, AwareDatetime, uuid.UUID, Decimal}
)
# Model settings that do not change what validation makes of the reader's values; any other one falls back.
_NEUTRAL_CONFIG = frozenset({"frozen", "extra", "title"})


class _UnsupportedError(Exception):
    """A model shape this reader does not build; its class is then built by ``model_validate``."""


class _UntrustedError(Exception):
    """A record not in the shape the Avro reader gives (e.g. a union value without its record name)."""


@dataclass(frozen=True, slots=True)
class FieldPlan:
    """How one field is read.

    Attributes:
        name: The field name, also the record key.
        kind: What is built, for people and tests: ``str``, ``enum X``, ``tuple of record X``, ``... or null``.
        source: The Python expression that reads it from the record ``r``.
    """

    name: str
    kind: str
    source: str


@dataclass(frozen=True, slots=True)
class ModelPlan:
    """How one model class is built from a record.

    Attributes:
        model: The model class.
        fields: One entry per model field, in the model's order; empty when the class falls back.
        checks: Names of the ``after`` model validators run on the built instance.
        unchecked: Constraints beyond the Avro types that are not re-checked, as ``Model.field: constraint``.
        fallback: Why the class is built by ``model_validate`` instead; None when it is built directly.
        source: The builder's Python source ("" when the class falls back).
    """

    model: type[BaseModel]
    fields: tuple[FieldPlan, ...]
    checks: tuple[str, ...]
    unchecked: tuple[str, ...]
    fallback: str | None
    source: str


class _Read(NamedTuple):
    """How to read a value of one annotation: as an expression (fields) and as a callable (array items)."""

    kind: str
    expr: Callable[[str], str]  # the expression reading the value ``ref``
    convert: Converter | None  # None: the value as read


_lock = threading.Lock()
_plans: dict[type[BaseModel], ModelPlan] = {}
_builders: dict[type[BaseModel], Builder] = {}


def build_event(record: dict[str, Any]) -> CaseEvent:
    """The ``CaseEvent`` of a record read by ``EventCodec.decode_record``, built without validation.

    Equal to ``CaseEvent.model_validate(record)``, with the same types in every field, for any record the Avro
    reader returns for the canonical schema. The values in ``record`` are taken over, not copied.

    Raises:
        ValueError: The record is not one the Avro reader returns for the current schema (a key or a union
            branch is missing, a symbol unknown), or the envelope's ``event_type`` does not name its payload.
    """
    return build(CaseEvent, record)


def build(model: type[M], record: dict[str, Any]) -> M:
    """Build any generated model from its Avro record; see ``build_event``.

    Raises:
        ValueError: The record does not fit the model (see ``build_event``).
    """
    try:
        built: M = builder(model)(record)
    except _UntrustedError:
        return model.model_validate(record)  # not the reader's shape: validation decides
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise ValueError(f"record does not fit {model.__name__}: {exc!r}") from exc
    return built


def builder(model: type[M]) -> Callable[[dict[str, Any]], M]:
    """The function that builds ``model`` from a record, compiled on first use and then cached.

    It raises what it meets (``KeyError`` for a missing key or an unknown symbol ...); ``build`` words it.
    """
    found = _builders.get(model)
    if found is None:
        with _lock:
            found = _builders.get(model)
            if found is None:
                compiler = _Compiler()
                found = compiler.builder(model)
                # Published only when complete, so that no thread sees a builder whose nested ones are missing.
                _plans.update(compiler.plans)
                _builders.update(compiler.builders)
    return found


def plan(model: type[BaseModel]) -> ModelPlan:
    """The table ``model`` is built from, compiled on first use and then cached."""
    builder(model)
    return _plans[model]


def unchecked(model: type[BaseModel] = CaseEvent) -> list[str]:
    """Constraints beyond the Avro types that the trusted read does not re-check, in ``model`` and below it."""
    seen: set[type[BaseModel]] = set()
    out: list[str] = []

    def visit(m: type[BaseModel]) -> None:
        if m in seen:
            return
        seen.add(m)
        out.extend(plan(m).unchecked)
        for f in m.model_fields.values():
            for nested in _models_in(f.annotation):
                visit(nested)

    visit(model)
    return out


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type):
        return [annotation] if issubclass(annotation, BaseModel) else []
    return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]


def _describe(meta: Any) -> str:
    values = getattr(meta, "__dict__", None)
    if values:
        return ", ".join(f"{k}={v!r}" for k, v in values.items())
    return repr(meta)


def _constraints(metadata: list[Any]) -> list[str]:
    for meta in metadata:
        # max_digits, gt, pattern ... only accept or reject; anything else (AfterValidator ...) may change values.
        if not isinstance(meta, BaseMetadata):
            raise _UnsupportedError(f"annotation metadata {meta!r}")
    return [_describe(m) for m in metadata]


def _as_read(ref: str) -> str:
    return ref


class _Compiler:
    """Compiles the builders of a model and of every model it nests, into its own (not yet published) tables."""

    def __init__(self) -> None:
        self.plans: dict[type[BaseModel], ModelPlan] = {}
        self.builders: dict[type[BaseModel], Builder] = {}
        self._compiling: set[type[BaseModel]] = set()

    def builder(self, model: type[BaseModel]) -> Builder:
        found = _builders.get(model) or self.builders.get(model)
        if found is not None:
            return found
        if model in self._compiling:
            # A record type that contains itself: bound late, once its builder (or its fallback) exists.
            builders = self.builders
            return lambda record: builders[model](record)
        self._compiling.add(model)
        try:
            built, model_plan = self._compile_model(model)
        except _UnsupportedError as exc:
            built, model_plan = model.model_validate, ModelPlan(model, (), (), (), str(exc), "")
        finally:
            self._compiling.discard(model)
        self.builders[model], self.plans[model] = built, model_plan
        return built

    def _compile_model(self, model: type[BaseModel]) -> tuple[Builder, ModelPlan]:
        config = set(model.model_config) - _NEUTRAL_CONFIG
        if config:
            raise _UnsupportedError(f"model settings that change values: {sorted(config)}")
        if model.model_config.get("extra") == "allow":
            raise _UnsupportedError("extra='allow' keeps unknown keys")
        if model.__pydantic_post_init__ is not None or model.__private_attributes__:
            raise _UnsupportedError("model_post_init or private attributes")
        decorators = model.__pydantic_decorators__
        if decorators.validators or decorators.field_validators or decorators.root_validators:
            raise _UnsupportedError("field validators")
        resolvers: set[str] = set()
        after: list[tuple[str, Callable[[Any], Any]]] = []
        for name, dec in decorators.model_validators.items():
            if dec.info.mode == "before":
                resolvers.add(name)
            elif dec.info.mode == "after" and isinstance(dec.func, types.FunctionType):
                after.append((name, dec.func))
            else:
                raise _UnsupportedError(f"model validator {name} ({dec.info.mode})")

        namespace: dict[str, Any] = {**_SLOTS, "_model": model, "_names": frozenset(model.model_fields)}

        def bind(obj: Any) -> str:
            name = f"_o{len(namespace)}"
            namespace[name] = obj
            return name

        fields: list[FieldPlan] = []
        unchecked_here: list[str] = []
        for name, info in model.model_fields.items():
            if info.alias not in (None, name) or info.validation_alias not in (None, name) or info.discriminator:
                raise _UnsupportedError(f"{name}: alias or discriminator")
            own = _constraints(info.metadata)
            read = self._compile(info.annotation, own, bind)
            unchecked_here += [f"{model.__name__}.{name}: {c}" for c in own]
            if read.kind.startswith("record union"):
                # What codegen's ``_resolve_<field>`` before validator does for model_validate is done here.
                if f"_resolve_{name}" not in resolvers:
                    raise _UnsupportedError(f"{name}: a union of records without its resolver")
                resolvers.discard(f"_resolve_{name}")
            fields.append(FieldPlan(name, read.kind, read.expr(f"r[{name!r}]")))
        if resolvers:
            raise _UnsupportedError(f"before validators: {sorted(resolvers)}")

        values = "{" + ", ".join(f"{f.name!r}: {f.source}" for f in fields) + "}"
        lines = [
            "def build(r):",
            "    obj = _new(_model)",
            f"    _set_dict(obj, {values})",
            "    _set_fields(obj, set(_names))",  # a set of its own per instance, as pydantic gives
            "    _set_extra(obj, None)",
            "    _set_private(obj, None)",
        ]
        # an after validator returns the instance, as in pydantic
        lines += [f"    obj = {bind(func)}(obj)" for _, func in after]
        lines.append("    return obj")
        source = "\n".join(lines) + "\n"
        code = compile(source, f"<model reader: {model.__name__}>", "exec")
        exec(code, namespace)  # noqa: S102 - source generated here from the model's field names (repr'd)
        built: Builder = namespace["build"]
        checks = tuple(n for n, _ in after)
        return built, ModelPlan(model, tuple(fields), checks, tuple(unchecked_here), None, source)

    def _compile(self, annotation: Any, constraints: list[str], bind: Callable[[Any], str]) -> _Read:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            inner, *metadata = typing.get_args(annotation)
            for meta in metadata:
                constraints += _constraints(meta.metadata if isinstance(meta, FieldInfo) else [meta])
            return self._compile(inner, constraints, bind)
        if origin in (typing.Union, types.UnionType):
            return self._compile_union(typing.get_args(annotation), constraints, bind)
        if annotation in _AS_READ:
            return _Read(annotation.__name__, _as_read, None)
        if origin is tuple:
            args = typing.get_args(annotation)
            if len(args) != 2 or args[1] is not Ellipsis:
                raise _UnsupportedError(f"fixed-length tuple {annotation!r}")
            item = self._compile(args[0], constraints, bind)
            if item.convert is None:
                return _Read(f"tuple of {item.kind}", lambda ref: f"tuple({ref})", tuple)
            convert_item = item.convert
            item_name = bind(convert_item)
            return _Read(
                f"tuple of {item.kind}",
                lambda ref: f"tuple(map({item_name}, {ref}))",
                lambda values: tuple(map(convert_item, values)),
            )
        if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
            members = {member.value: member for member in annotation}
            name = bind(members)
            return _Read(f"enum {annotation.__name__}", lambda ref: f"{name}[{ref}]", members.__getitem__)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            nested = self.builder(annotation)
            name = bind(nested)
            return _Read(f"record {annotation.__name__}", lambda ref: f"{name}({ref})", nested)
        raise _UnsupportedError(f"annotation {annotation!r}")

    def _compile_union(self, args: tuple[Any, ...], constraints: list[str], bind: Callable[[Any], str]) -> _Read:
        nullable = type(None) in args
        members = [a for a in args if a is not type(None)]
        suffix = " or null" if nullable else ""
        if len(members) == 1:
            read = self._compile(members[0], constraints, bind)
            if read.convert is None or not nullable:
                return _Read(read.kind + suffix, read.expr, read.convert)
            inner, inner_expr = read.convert, read.expr
            return _Read(
                read.kind + suffix,
                lambda ref: f"(None if (_v := {ref}) is None else {inner_expr('_v')})",
                lambda v: None if v is None else inner(v),
            )
        if all(isinstance(a, type) and issubclass(a, BaseModel) for a in members):
            by_name: dict[str, Builder] = {}
            for m in members:
                nested = self.builder(m)
                avro_name = str(getattr(m, "AVRO_NAME", m.__name__))
                by_name[avro_name] = nested
                by_name[avro_name.rpartition(".")[2]] = nested  # codegen's resolver accepts the short name too

            def union(value: Any) -> Any:
                if type(value) is tuple:
                    name, body = value
                    return by_name[name](body)
                if value is None and nullable:
                    return None
                raise _UntrustedError  # e.g. read without return_record_name: the model's resolver knows more

            name = bind(union)
            return _Read("record union" + suffix, lambda ref: f"{name}({ref})", union)
        if all(a in _AS_READ for a in members):
            return _Read("union of scalars" + suffix, _as_read, None)
        raise _UnsupportedError(f"union {args!r}")
