"""Checkpoints: the head of each school's chain, timestamped by a TSA, so the log up to there provably existed then.

A chain can be recomputed by whoever owns the database; a timestamp token cannot be. `hocba audit verify` checks
that every checkpoint still matches the log and that its token is genuine.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import structlog
from asn1crypto import x509 as asn1_x509
from pyhanko.sign.timestamps.api import TimeStamper

from contracts.audit import AuditAction
from services.audit.domain.chain import Break, check_checkpoint, checkpoint_digest
from services.audit.store.repository import AuditLog
from services.runtime.timestamps import check_timestamp, timestamp

log = structlog.get_logger(__name__)

# The gradebook's action when a class's term is locked: the values it froze are timestamped promptly.
TERM_LOCK = AuditAction.TERM_LOCK.value  # a plain str for the query: no driver guesses at an enum


def take_checkpoints(
    new_session: Callable[[], Any], timestamper: TimeStamper, school_id: str | None = None
) -> int:
    """Timestamp every chain head that moved since its last checkpoint; returns how many were taken."""
    taken = 0
    with new_session() as session:
        audit_log = AuditLog(session)
        for head in audit_log.chains(school_id):
            if head.last_seq <= audit_log.last_checkpoint(head.chain):
                continue
            try:
                token = timestamp(timestamper, checkpoint_digest(head.chain, head.last_seq, head.last_hash))
            except Exception as error:  # noqa: BLE001 - the TSA may be down: the next round tries again
                log.warning("audit.checkpoint_failed", chain=head.chain, error=type(error).__name__)
                continue
            audit_log.add_checkpoint(head.chain, head.last_seq, head.last_hash, token, None)
            taken += 1
        session.commit()
    return taken


def take_due_checkpoints(new_session: Callable[[], Any], timestamper: TimeStamper) -> int:
    """Checkpoint each chain with a term lock recorded after its last checkpoint; returns how many were taken.

    Runs on a short timer, never inside the consumer: recording the lock does not wait for the TSA, and a TSA
    outage leaves the lock due, so a later round takes it.
    """
    with new_session() as session:
        due = AuditLog(session).chains_due(TERM_LOCK)
    return sum(take_checkpoints(new_session, timestamper, chain) for chain in due)


def verify_checkpoints(
    audit_log: AuditLog, chain: str, roots: Sequence[asn1_x509.Certificate]
) -> Break | None:
    for point in audit_log.checkpoints_of(chain):
        seq = point.chain_seq
        proof = check_timestamp(point.token, checkpoint_digest(chain, seq, point.entry_hash), roots)
        problem = check_checkpoint(
            chain, seq, point.entry_hash, audit_log.entry_hash_at(chain, seq), proof.valid, proof.reason
        )
        if problem is not None:
            return problem
    return None
