"""Eurodac: updates of the Member State's own datasets recording return and reintegration assistance (AVRR).

``eurodac_step`` folds a subject's canonical events into a small state and says which updates are due;
``render`` writes each as a document valid under ``schemas/xsd/eurodac-avrr-v1.xsd`` (the gateway's own model, not
eu-LISA's interface control document). The Eurodac point recording AVRR is unverified: see ``EurodacConfig``.
"""

from gateway.adapters.eurodac.config import EurodacConfig
from gateway.adapters.eurodac.render import Refused, Rendered, render
from gateway.adapters.eurodac.update import (
    AvrrGrant,
    EurodacDataset,
    EurodacStep,
    EurodacSubjectState,
    EurodacUpdate,
    SentUpdate,
    eurodac_step,
)

__all__ = [
    "AvrrGrant",
    "EurodacConfig",
    "EurodacDataset",
    "EurodacStep",
    "EurodacSubjectState",
    "EurodacUpdate",
    "Refused",
    "Rendered",
    "SentUpdate",
    "eurodac_step",
    "render",
]
