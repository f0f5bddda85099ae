"""The data key (``HOCBA_DATA_KEY``): one sub-key per purpose, derived with HKDF, and what it seals at rest.

Why sub-keys. The one 32-byte key used to be the AES-GCM key of personal IDs, birth details and the schools'
gateway tokens (the tokens even under the personal ID's associated data) and, at the same time, the HMAC key of
the personal-ID lookup hash and of the audit log's pseudonyms. Now every purpose has its own key,
HKDF-SHA256(data key, salt=none, info="hocba/data-key/v1/<purpose>"): an AES key never doubles as an HMAC key,
a blob of one kind never decrypts as another (a gateway token is no longer a "personal_id"), and what leaks about
one purpose (an audit pseudonym) says nothing about another (the gradebook's lookup hash).

Why a versioned prefix rather than a rewrite. Sealed values are stored in places that cannot all be rewritten
when the key scheme changes: gradebook's ``students.personal_id_enc``/``personal_details_enc``, the class snapshots
in outboxes, inboxes and dead-letter queues (base64 in the message), transcript's ``transcripts.personal_id_enc``
(copied from a snapshot), sync's gateway credentials, and the year-end archives, which are signed and
timestamped and are restored as they are, years later. So the format says which scheme sealed it:

- v1 (written from now on): ``b"hb\\x01:" + nonce(12) + AES-GCM(sub-key of the purpose, aad=the 4-byte header)``;
- v0 (before): ``nonce(12) + AES-GCM(data key itself, aad=the purpose's old label)``, no header.

Writing is v1 only. Reading takes v1 when the header is there and falls back to v0 otherwise, or when the v1 tag
fails (a v0 nonce starts with the header bytes once in 2^32: GCM's tag tells the two apart, never a guess). Old
data therefore stays readable without a migration step and without a flag day; a row written again (a roster
re-import, a new ``hocba sync connect``) is written as v1. Retiring v0 reads (so the raw data key stops being an
AES key altogether) needs every stored blob rewritten and the pre-change archives re-sealed: not done here.

Keyed hashes have no room for a header (gradebook's unique ``(school_id, personal_id_hash)`` column holds 64 hex
characters), so :meth:`DataVault.keyed_hashes` gives the v1 hash first and the v0 one after it: lookups match
either, writes store the first, and a re-imported student moves to v1. Audit pseudonyms (``hmac:…``) sit in a
hash chain and are never rewritten: entries before the change link a person under the v0 key, entries after it
under the audit sub-key, and the two do not link to each other.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from enum import Enum
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

if TYPE_CHECKING:
    from services.runtime.settings import Settings

HEADER_V1 = b"hb\x01:"
_NONCE = 12
_INFO = b"hocba/data-key/v1/"


class Sealed(Enum):
    """What an AES-GCM blob holds; the value is (HKDF label, the associated data v0 blobs of it were sealed with)."""

    PERSONAL_ID = ("personal-id", b"personal_id")
    PERSONAL_DETAILS = ("personal-details", b"personal_details")
    # v0 sealed the gateway tokens under the personal ID's associated data, hence the same old label.
    GATEWAY_CREDENTIALS = ("gateway-credentials", b"personal_id")

    @property
    def label(self) -> str:
        return self.value[0]

    @property
    def legacy_aad(self) -> bytes:
        return self.value[1]


class Hashed(Enum):
    """What a keyed hash (HMAC-SHA256) is for: the gradebook's lookup of a personal ID, the audit's pseudonyms."""

    PERSONAL_ID_LOOKUP = "personal-id-lookup"
    AUDIT_PSEUDONYM = "audit-pseudonym"


def derive(data_key: bytes, purpose: Sealed | Hashed) -> bytes:
    """The 32-byte sub-key of ``purpose``: stable for a given data key, different for every purpose."""
    label = purpose.label if isinstance(purpose, Sealed) else purpose.value
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO + label.encode())
    return hkdf.derive(data_key)


class DataVault:
    """Seals personal data and gateway tokens at rest (AES-GCM) and gives keyed hashes, one sub-key per purpose."""

    def __init__(self, data_key: bytes) -> None:
        if len(data_key) != 32:
            raise ValueError("HOCBA_DATA_KEY must be 32 bytes (base64-encoded)")
        self._aead = {p: AESGCM(derive(data_key, p)) for p in Sealed}
        self._hmac = {p: derive(data_key, p) for p in Hashed}
        # Only ever to read v0 blobs and match v0 hashes: never to write.
        self._legacy_aead = AESGCM(data_key)
        self._legacy_key = data_key

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> DataVault:
        """The vault of ``settings``' data key (the process's settings if none: for the CLI and tests)."""
        from services.runtime.settings import get_settings

        secret = (settings or get_settings()).data_key
        if secret is None:
            raise RuntimeError("HOCBA_DATA_KEY is not set (run `make setup`, which writes one into .env)")
        return cls(base64.b64decode(secret.get_secret_value()))

    def encrypt(self, text: str, purpose: Sealed) -> bytes:
        nonce = os.urandom(_NONCE)
        return HEADER_V1 + nonce + self._aead[purpose].encrypt(nonce, text.encode(), HEADER_V1)

    def decrypt(self, blob: bytes, purpose: Sealed) -> str:
        """A v1 or a v0 blob of ``purpose``; ``InvalidTag`` for anything else (another purpose, key, or damage)."""
        if blob.startswith(HEADER_V1):
            body = blob[len(HEADER_V1) :]
            try:
                return self._aead[purpose].decrypt(body[:_NONCE], body[_NONCE:], HEADER_V1).decode()
            except InvalidTag:
                pass  # a v0 blob whose random nonce begins like the header: tried as v0 below
        return self._legacy_aead.decrypt(blob[:_NONCE], blob[_NONCE:], purpose.legacy_aad).decode()

    def is_current(self, blob: bytes, purpose: Sealed) -> bool:
        """Whether ``blob`` is sealed the current way (v1), e.g. to find what a rewrite still has to do."""
        if not blob.startswith(HEADER_V1):
            return False
        body = blob[len(HEADER_V1) :]
        try:
            self._aead[purpose].decrypt(body[:_NONCE], body[_NONCE:], HEADER_V1)
        except InvalidTag:
            return False
        return True

    def keyed_hash(self, value: str, purpose: Hashed) -> str:
        return hmac.new(self._hmac[purpose], value.encode(), hashlib.sha256).hexdigest()

    def keyed_hashes(self, value: str, purpose: Hashed) -> tuple[str, str]:
        """The current hash of ``value`` and the v0 one (the data key itself as the HMAC key), to match old rows."""
        legacy = hmac.new(self._legacy_key, value.encode(), hashlib.sha256).hexdigest()
        return self.keyed_hash(value, purpose), legacy
