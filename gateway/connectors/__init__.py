"""Connector plugins: national case-management exports to canonical events.

A connector package subclasses ``Connector`` and registers it in the ``gateway.connectors`` entry-point group.
"""

from gateway.connectors.base import (
    Connector,
    ConnectorConfig,
    Fact,
    MappingContext,
    RawRecord,
    SampleRecord,
)
from gateway.connectors.codes import CodeTables

__all__ = ["CodeTables", "Connector", "ConnectorConfig", "Fact", "MappingContext", "RawRecord", "SampleRecord"]
