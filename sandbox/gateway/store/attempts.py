"""Counting the portal's attempts in PostgreSQL: reserve one against every bucket at once, or say until when not."""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import text
from sqlalchemy.engine import Connection

# Expired rows are deleted this many at a time, by whichever attempt comes next: bounded work per request.
PRUNE_BATCH = 200


@dataclass(frozen=True)
class Bucket:
    """What one attempt counts against: at most ``failures`` attempts within the last ``window_s`` seconds."""

    key: str
    failures: int
    window_s: int


@dataclass(frozen=True)
class Reserved:
    attempt: str
    left: int  # attempts still allowed in the fullest bucket after this one
    full_until: datetime | None  # when that bucket frees a slot, if this attempt filled it


@dataclass(frozen=True)
class Refused:
    until: datetime  # the latest moment at which every full bucket has a free slot again
    retry_after_s: int


def reserve(conn: Connection, buckets: list[Bucket]) -> Reserved | Refused:
    """Count an attempt against every bucket, or against none when one is full; in the caller's transaction.

    The attempt is counted *before* the answer is checked and forgiven afterwards if it was right: counting only
    wrong answers after the fact would let a hundred parallel guesses all pass the check before the first is
    counted. Transaction-scoped advisory locks, taken in one order, serialise the attempts of a bucket across
    every replica without deadlocks.
    """
    ordered = sorted(buckets, key=lambda b: b.key)
    for bucket in ordered:
        conn.execute(text("select pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": bucket.key})
    longest = max(b.window_s for b in ordered)
    conn.execute(
        text(
            "delete from portal_attempts where id in (select id from portal_attempts"
            " where at <= now() - make_interval(secs => :s) limit :n)"
        ),
        {"s": longest, "n": PRUNE_BATCH},
    )
    counted = {b.key: _window(conn, b) for b in ordered}
    full = [b for b in ordered if len(counted[b.key]) >= b.failures]
    if full:
        # The (n - failures + 1)-th oldest attempt is the one whose leaving the window frees a slot.
        until = max(_frees_at(b, counted[b.key], len(counted[b.key]) - b.failures) for b in full)
        now = conn.execute(text("select clock_timestamp()")).scalar_one()
        return Refused(until=until, retry_after_s=max(1, math.ceil((until - now).total_seconds())))
    attempt = uuid.uuid4().hex
    for bucket in ordered:
        conn.execute(
            text("insert into portal_attempts (bucket, attempt) values (:key, :attempt)"),
            {"key": bucket.key, "attempt": attempt},
        )
        counted[bucket.key].append(conn.execute(text("select now()")).scalar_one())
    lefts = {b.key: b.failures - len(counted[b.key]) for b in ordered}
    fullest = min(ordered, key=lambda b: lefts[b.key])
    stamps = counted[fullest.key]
    full_until = (
        _frees_at(fullest, stamps, len(stamps) - fullest.failures) if lefts[fullest.key] == 0 else None
    )
    return Reserved(attempt=attempt, left=lefts[fullest.key], full_until=full_until)


def _window(conn: Connection, bucket: Bucket) -> list[datetime]:
    """When the bucket's attempts still inside its window were made, oldest first (the database's clock)."""
    rows = conn.execute(
        text(
            "select at from portal_attempts where bucket = :key and at > now() - make_interval(secs => :s)"
            " order by at"
        ),
        {"key": bucket.key, "s": bucket.window_s},
    ).scalars()
    return list(rows)


def _frees_at(bucket: Bucket, stamps: list[datetime], index: int) -> datetime:
    return stamps[index] + timedelta(seconds=bucket.window_s)


def forgive(conn: Connection, attempt: str) -> None:
    """The attempt released the PDF, or was no guess at all (an unreadable date): it does not count."""
    conn.execute(text("delete from portal_attempts where attempt = :attempt"), {"attempt": attempt})
