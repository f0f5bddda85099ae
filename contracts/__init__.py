"""Wire contracts between services and to vendors: the CloudEvents envelope and versioned event models."""

from contracts.envelope import ContractModel, Envelope, EventModel, envelope_type, parse_envelope
from contracts.registry import EVENT_MODELS, model_for_type

__all__ = [
    "EVENT_MODELS",
    "ContractModel",
    "Envelope",
    "EventModel",
    "envelope_type",
    "model_for_type",
    "parse_envelope",
]
