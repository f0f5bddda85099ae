"""Export a school's audit log as sealed JSON Lines, and check such a file offline."""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from typing import Any

from asn1crypto import x509 as asn1_x509
from pyhanko.sign.timestamps.api import TimeStamper

from services.audit.domain.chain import Break, chain_key
from services.audit.domain.errors import NothingToExport
from services.audit.domain.export import (
    Seal,
    body_digest,
    entry_line,
    parse,
    school_year_bounds,
    verify_entries,
)
from services.audit.store.repository import AuditLog
from services.runtime.timestamps import check_timestamp, timestamp


def export(
    new_session: Callable[[], Any],
    timestamper: TimeStamper,
    school_id: str,
    school_year: str | None = None,
) -> str:
    """The school's chain (or the contiguous part recorded in ``school_year``) as JSON Lines plus a seal line."""
    chain = chain_key(school_id)
    bounds = school_year_bounds(school_year) if school_year else None
    with new_session() as session:
        entries = list(AuditLog(session).chained(chain, recorded_between=bounds))
    if not entries:
        raise NothingToExport(school_id, school_year)
    lines = [entry_line(e) for e in entries]
    digest = body_digest(lines)
    seal = Seal(
        chain,
        entries[0].seq,
        entries[-1].seq,
        digest.hex(),
        base64.b64encode(timestamp(timestamper, digest)).decode(),
    )
    return "\n".join([*lines, seal.line()]) + "\n"


def verify_file(text: str, roots: Sequence[asn1_x509.Certificate]) -> Break | None:
    try:
        lines, seal = parse(text)
    except (ValueError, KeyError) as error:
        return Break(0, f"not an audit export: {error}")
    problem = verify_entries(lines, seal)
    if problem is not None:
        return problem
    proof = check_timestamp(base64.b64decode(str(seal.get("timestamp", ""))), body_digest(lines), roots)
    if not proof.valid:
        return Break(int(str(seal.get("to", 0))), f"the seal's timestamp is not genuine: {proof.reason}")
    return None
