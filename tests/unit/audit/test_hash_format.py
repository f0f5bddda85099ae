"""Known-answer vectors for the audit chain's entry hash and checkpoint digest: the format an outside verifier codes.

The format, as an outside verifier implements it:
- entry hash = hex sha256 of the UTF-8 JSON object {"content": <entry>, "prev": <previous entry hash, 64 zeros for
  the first>, "seq": <position from 1>}, keys sorted at every level, no spaces (separators "," and ":"), non-ASCII
  characters written as themselves (not \\u escapes); <entry> holds every stored column of the entry: event_id as
  the UUID string, occurred_at as ISO 8601 in UTC with "+00:00", null for a missing school or reason;
- checkpoint digest = sha256 of the ASCII bytes "hocba-audit-checkpoint:<chain>:<seq>:<entry hash hex>", where the
  chain is the school id ("_platform" for entries of no school); the RFC 3161 timestamp covers this digest.

The expected bytes below are written out by hand from that description, and the hashes were computed once from
those bytes with hashlib alone, never with the code under test: a change to the format (key order, escaping, time
zone, separators, the prefix) fails here even when the chain still verifies against itself.
"""

import hashlib
import uuid
from datetime import UTC, datetime, timedelta, timezone

from services.audit.domain.chain import (
    GENESIS,
    ChainedEntry,
    canonical,
    checkpoint_digest,
    entry_hash,
    verify,
)
from services.audit.domain.entry import AuditEntry

SCHOOL = "s-kiem-thu"

FIRST = AuditEntry(
    event_id=uuid.UUID("00000000-0000-4000-8000-000000000001"),
    service="gradebook",
    school_id=SCHOOL,
    actor_id="gv-01",
    actor_role="teacher",
    action="marks.record",
    entity_type="marks",
    entity_id="class/8a1/student/hs-01/toan/hk1",
    record={"final": "6 → 7"},
    reason="Chấm lại",
    occurred_at=datetime(
        2026, 5, 20, 15, 0, tzinfo=timezone(timedelta(hours=7))
    ),  # Hà Nội time, sealed as UTC
)
SECOND = AuditEntry(
    event_id=uuid.UUID("00000000-0000-4000-8000-000000000002"),
    service="gradebook",
    school_id=SCHOOL,
    actor_id="gv-02",
    actor_role="teacher",
    action="marks.record",
    entity_type="marks",
    entity_id="class/8a1/student/hs-02/toan/hk1",
    record={"final": "8 → 9", "comment": "Đạt"},
    reason=None,
    occurred_at=datetime(2026, 5, 20, 8, 30, tzinfo=UTC),
)

FIRST_BYTES = (
    '{"content":{"action":"marks.record","actor_id":"gv-01","actor_role":"teacher",'
    '"entity_id":"class/8a1/student/hs-01/toan/hk1","entity_type":"marks",'
    '"event_id":"00000000-0000-4000-8000-000000000001","occurred_at":"2026-05-20T08:00:00+00:00",'
    '"reason":"Chấm lại","record":{"final":"6 → 7"},"school_id":"s-kiem-thu","service":"gradebook"},'
    '"prev":"0000000000000000000000000000000000000000000000000000000000000000","seq":1}'
).encode()
FIRST_HASH = "6561a4cb4a7f51dfd1dd77daad1e3441ee989d88a67e830861840f5cedb2b7a2"

SECOND_BYTES = (
    '{"content":{"action":"marks.record","actor_id":"gv-02","actor_role":"teacher",'
    '"entity_id":"class/8a1/student/hs-02/toan/hk1","entity_type":"marks",'
    '"event_id":"00000000-0000-4000-8000-000000000002","occurred_at":"2026-05-20T08:30:00+00:00",'
    '"reason":null,"record":{"comment":"Đạt","final":"8 → 9"},"school_id":"s-kiem-thu","service":"gradebook"},'
    '"prev":"6561a4cb4a7f51dfd1dd77daad1e3441ee989d88a67e830861840f5cedb2b7a2","seq":2}'
).encode()
SECOND_HASH = "f74c9e1d9d687b88007b6464a393562cd57892e610e82103d73437aa82063d26"

CHECKPOINT_BYTES = b"hocba-audit-checkpoint:s-kiem-thu:2:" + SECOND_HASH.encode()
CHECKPOINT_DIGEST = "51841f771220b04fae8a27c877681c80c0c3b52456e7d4fe50a3e326044822ef"


def test_the_vectors_are_sha256_of_the_documented_bytes():
    """The pinned answers belong to the bytes written above (so a wrong vector cannot hide a wrong format)."""
    assert hashlib.sha256(FIRST_BYTES).hexdigest() == FIRST_HASH
    assert hashlib.sha256(SECOND_BYTES).hexdigest() == SECOND_HASH
    assert hashlib.sha256(CHECKPOINT_BYTES).hexdigest() == CHECKPOINT_DIGEST


def test_an_entry_is_sealed_over_exactly_the_documented_bytes():
    assert canonical({"content": FIRST.content(), "seq": 1, "prev": GENESIS}) == FIRST_BYTES
    assert canonical({"content": SECOND.content(), "seq": 2, "prev": FIRST_HASH}) == SECOND_BYTES


def test_the_entry_hashes_match_the_known_answers():
    assert entry_hash(FIRST.content(), 1, GENESIS) == FIRST_HASH
    assert entry_hash(SECOND.content(), 2, FIRST_HASH) == SECOND_HASH
    chain = [
        ChainedEntry(1, FIRST.content(), GENESIS, FIRST_HASH),
        ChainedEntry(2, SECOND.content(), FIRST_HASH, SECOND_HASH),
    ]
    assert verify(chain, head_seq=2, head_hash=SECOND_HASH) is None


def test_the_checkpoint_digest_matches_the_known_answer():
    assert checkpoint_digest(SCHOOL, 2, SECOND_HASH).hex() == CHECKPOINT_DIGEST
