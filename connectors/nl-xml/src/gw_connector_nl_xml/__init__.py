"""Dutch XML reference connector: vreemdelingendossier exports to canonical return-case events.

Registered in the ``gateway.connectors`` entry-point group as ``nl-xml``.
"""

from gw_connector_nl_xml.config import NlXmlConfig
from gw_connector_nl_xml.connector import NlXmlConnector

__all__ = ["NlXmlConfig", "NlXmlConnector"]
