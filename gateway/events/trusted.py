"""Building event models from values that are valid by construction, without pydantic's validation.

Why: ``model_construct`` costs about 6 µs for an envelope because it loops over the fields in Python to fill
defaults and track which were set; the ingest path builds one envelope per event from values the framework made
itself (see ``gateway.connectors.base.envelope``), so it needs none of that. The Avro writer checks every field
when the event is encoded, so a wrong value still cannot reach a topic.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)

# The four slots every pydantic model instance has, set through their own descriptors: ``object.__setattr__``
# would look each name up on the model's type first (through its MRO), which measured 0.9 µs an envelope of 11
# fields against 1.7 µs (``gateway.codec.model_reader`` does the same for the models it reads).
_new = object.__new__
_set_dict = BaseModel.__dict__["__dict__"].__set__
_set_fields = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_set_extra = BaseModel.__dict__["__pydantic_extra__"].__set__
_set_private = BaseModel.__dict__["__pydantic_private__"].__set__


def trusted(cls: type[M], values: dict[str, Any]) -> M:
    """A ``cls`` instance holding ``values`` as they are: the same object ``cls.model_construct(**values)`` makes.

    ``values`` must name every field of ``cls`` (no defaults are filled in) and is taken over, not copied.
    """
    obj: M = _new(cls)
    _set_dict(obj, values)
    _set_fields(obj, set(values))
    _set_extra(obj, None)
    _set_private(obj, None)
    return obj
