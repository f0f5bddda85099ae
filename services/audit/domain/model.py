"""The audit log's records as the app layer reads them back: the store maps SQL rows to these, nothing here knows SQL.

Frozen and slotted, like the gradebook's (services/gradebook/domain/model.py): the log is append-only, and so is
what is read from it. An entry's ``record`` (the audit event's data as received, JSONB) stays a plain dict: it is
hashed as JSON (domain/chain.py) and served as JSON.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple


@dataclass(frozen=True, slots=True)
class RecordedEntry:
    """An audit entry as the log holds it: what was done (domain/entry.py AuditEntry's fields), when it was
    recorded, and its place in its school's chain with the hashes that seal it.

    Field order is the table's: GET /schools/{id}/audit lists entries as these fields, in this order.
    """

    seq: int  # the log's own numbering, across chains
    event_id: uuid.UUID
    service: str
    school_id: str | None
    actor_id: str
    actor_role: str
    action: str
    entity_type: str
    entity_id: str
    record: dict[str, Any]
    reason: str | None
    occurred_at: datetime
    recorded_at: datetime
    chain: str  # the school id, or _platform
    chain_seq: int  # gap-free position in the chain, from 1
    prev_hash: str
    entry_hash: str


class ChainHead(NamedTuple):
    """The last entry of one chain: its position and hash.

    A named tuple rather than a dataclass: ``hocba audit verify`` (cli/audit.py) unpacks it as
    ``chain, last_seq, last_hash``; it is immutable and slotted all the same.
    """

    chain: str
    last_seq: int
    last_hash: str


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A chain's entry timestamped by a TSA: whoever rewrites the log later, even consistently, cannot match it."""

    chain: str
    chain_seq: int  # the entry the checkpoint vouches for
    entry_hash: str
    token: bytes  # RFC 3161 timestamp token (DER) over domain/chain.py checkpoint_digest
    stamped_at: datetime | None
    created_at: datetime
