"""What counts as personal data (Law 91/2025/QH15) and how to keep it out of logs, metrics and public events."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

# Keys whose values are personal data wherever they appear in a structure.
PERSONAL_KEYS = frozenset(
    {
        "personal_id",
        "personal_id_enc",
        "national_id",
        "citizen_id",
        "cccd",
        "so_dinh_danh",
        "birth_date",
        "date_of_birth",
        "dob",
        "birthday",
        "birth_place",
        "place_of_birth",
        "ethnicity",  # ethnic origin is sensitive personal data (Decree 13/2023 art. 2): printed, never logged
        "address",
        "home_address",
        "current_address",
        "phone",
        "email",
        "father_name",
        "mother_name",
        "guardian_name",
    }
)

REDACTED = "[redacted]"
# Associated data of the sealed birth date, place of birth and ethnicity (gradebook → transcript, never clear).
PERSONAL_DETAILS = b"personal_details"

# A 12-digit run that is not part of a longer number: the shape of a personal identification number.
_PERSONAL_ID = re.compile(r"(?<!\d)\d{12}(?!\d)")


def is_personal_key(key: object) -> bool:
    return isinstance(key, str) and key.lower() in PERSONAL_KEYS


# `personal_id': '...'`, `birth_date=...`, `"address": "..."` inside a formatted string (a logged repr or f-string).
_KEYED_VALUE = re.compile(
    r"(?P<key>\b(?:" + "|".join(sorted(PERSONAL_KEYS)) + r")\b['\"]?\s*[:=]\s*)"
    r"(?P<value>'[^']*'|\"[^\"]*\"|[^,;}\s)]+)",
    re.IGNORECASE,
)


def scrub_text(text: str) -> str:
    """Mask personal data inside free text: keyed values (`birth_date=…`) and anything shaped like a personal ID."""
    text = _KEYED_VALUE.sub(lambda m: m.group("key") + "'[redacted]'", text)
    return _PERSONAL_ID.sub("[redacted-id]", text)


def scrub(value: Any, _depth: int = 0) -> Any:
    """A copy of ``value`` with personal fields redacted, however deep they sit."""
    if _depth > 20:
        return REDACTED
    if isinstance(value, Mapping):
        return {k: (REDACTED if is_personal_key(k) else scrub(v, _depth + 1)) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [scrub(v, _depth + 1) for v in value]
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, int) and not isinstance(value, bool) and len(str(abs(value))) == 12:
        return "[redacted-id]"
    if hasattr(value, "model_dump"):
        return scrub(value.model_dump(mode="json"), _depth + 1)
    return value


class PersonalIdVault:
    """Encrypts personal IDs at rest (AES-GCM) and gives a keyed hash for lookups and audit (never the value)."""

    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ValueError("HOCBA_DATA_KEY must be 32 bytes (base64-encoded)")
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        self._aead = AESGCM(key)
        self._key = key

    @classmethod
    def from_settings(cls) -> PersonalIdVault:
        import base64

        from services.runtime.settings import get_settings

        secret = get_settings().data_key
        if secret is None:
            raise RuntimeError("HOCBA_DATA_KEY is not set (run `make setup`, which writes one into .env)")
        return cls(base64.b64decode(secret.get_secret_value()))

    def encrypt(self, personal_id: str, purpose: bytes = b"personal_id") -> bytes:
        """``purpose`` is bound as associated data: a blob of one kind never decrypts as another."""
        import os

        nonce = os.urandom(12)
        return nonce + self._aead.encrypt(nonce, personal_id.encode(), purpose)

    def decrypt(self, blob: bytes, purpose: bytes = b"personal_id") -> str:
        return self._aead.decrypt(blob[:12], blob[12:], purpose).decode()

    def keyed_hash(self, personal_id: str) -> str:
        import hashlib
        import hmac

        return hmac.new(self._key, personal_id.encode(), hashlib.sha256).hexdigest()
