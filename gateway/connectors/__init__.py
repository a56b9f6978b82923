"""The public API for connector authors: national case-management exports to canonical events.

A connector package subclasses ``Connector`` (hooks ``read``, ``parse``, ``map``), gives it a configuration model
(a ``ConnectorConfig`` subclass whose ``member_state`` default names the system it imitates), types the code
tables it uses (a ``CodeLists`` subclass over its ``codes.toml``), reads national values with the shared readers
(``parse_date``, ``local_to_utc``, ``parse_decimal``, ``country_code``) and registers the class in the
``gateway.connectors`` entry-point group. Rendering sample exports is optional (``SampleRenderer``). Bad data is
a ``ParseError`` or ``MappingError`` (a dead letter), never a crash. ``docs/connectors.md`` is the guide;
``gateway connectors new NAME`` writes a package to start from.

Only the names in ``__all__`` are the API: anything else under ``gateway.connectors`` may change without notice.
A test keeps a snapshot of these names and their signatures, so a change cannot go unnoticed.
"""

from gateway.connectors.base import (
    Connector,
    ConnectorConfig,
    Fact,
    MappingContext,
    OversizedRecord,
    RawRecord,
    SampleRecord,
    SampleRenderer,
    renders_samples,
)
from gateway.connectors.codes import CodeList, CodeLists, CodeTables, StandardCodes
from gateway.connectors.values import (
    DATE_FORMATS,
    DST_RULE_ID,
    AmbiguousLocalTime,
    LocalTime,
    country_code,
    local_to_utc,
    parse_date,
    parse_decimal,
)
from gateway.errors import MappingError, ParseError, RecordError

__all__ = [
    "DATE_FORMATS",
    "DST_RULE_ID",
    "AmbiguousLocalTime",
    "CodeList",
    "CodeLists",
    "CodeTables",
    "Connector",
    "ConnectorConfig",
    "Fact",
    "LocalTime",
    "MappingContext",
    "MappingError",
    "OversizedRecord",
    "ParseError",
    "RawRecord",
    "RecordError",
    "SampleRecord",
    "SampleRenderer",
    "StandardCodes",
    "country_code",
    "local_to_utc",
    "parse_date",
    "parse_decimal",
    "renders_samples",
]
