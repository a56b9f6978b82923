"""SIS return alerts (Reg. 2018/1860): the alert's life per return decision, its messages and their XML (pure).

``sis_step`` turns one canonical event into the subject's new alert state and the messages owed to SIS;
``render`` turns a message into XSD-valid XML or refuses it. Nothing here talks to Kafka or to SIS.
"""

from gateway.adapters.sis.config import SisConfig
from gateway.adapters.sis.lifecycle import SisAlertState, SisStep, SisSubjectState, SkipReason, sis_step
from gateway.adapters.sis.messages import SisMessage
from gateway.adapters.sis.render import Refused, Rendered, render

__all__ = [
    "Refused",
    "Rendered",
    "SisAlertState",
    "SisConfig",
    "SisMessage",
    "SisStep",
    "SisSubjectState",
    "SkipReason",
    "render",
    "sis_step",
]
