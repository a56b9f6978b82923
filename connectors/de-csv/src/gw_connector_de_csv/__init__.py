"""German CSV reference connector for the return-case interoperability gateway.

Registered in the ``gateway.connectors`` entry-point group as ``de-csv``.
"""

from gw_connector_de_csv.config import DeCsvConfig
from gw_connector_de_csv.connector import DeCsvConnector

__all__ = ["DeCsvConfig", "DeCsvConnector"]
