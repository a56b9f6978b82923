"""French JSON Lines reference connector: "dossier d'éloignement" and OFII aide au retour records as events.

Registered in the ``gateway.connectors`` entry-point group as ``fr-jsonl``.
"""

from gw_connector_fr_jsonl.config import FrJsonlConfig
from gw_connector_fr_jsonl.connector import FrJsonlConnector

__all__ = ["FrJsonlConfig", "FrJsonlConnector"]
