"""Every event type the platform knows, by CloudEvents type."""

from __future__ import annotations

from contracts.audit import AuditRecordedV1
from contracts.envelope import EventModel
from contracts.gradebook import AmendmentAppliedV1, TermLockedV1
from contracts.signing import TranscriptSealedV1
from contracts.sync import SyncRecordChangedV1, TranscriptTransferredV1
from contracts.transcript import TranscriptAssembledV1

EVENT_MODELS: tuple[type[EventModel], ...] = (
    TermLockedV1,
    AmendmentAppliedV1,
    TranscriptAssembledV1,
    TranscriptSealedV1,
    SyncRecordChangedV1,
    TranscriptTransferredV1,
    AuditRecordedV1,
)

_BY_TYPE = {m.ce_type(): m for m in EVENT_MODELS}


def model_for_type(ce_type: str) -> type[EventModel]:
    try:
        return _BY_TYPE[ce_type]
    except KeyError:
        raise KeyError(f"unknown event type {ce_type!r}; known: {', '.join(sorted(_BY_TYPE))}") from None
