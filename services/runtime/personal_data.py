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

# A 12-digit run that is not part of a longer number: the shape of a personal identification number. Not the last
# group of a UUID (``…-4a1b-664640686039``), which is all digits for about one UUID in 280: an event id in a log line
# must stay whole, or the line cannot be followed to its event.
_PERSONAL_ID = re.compile(r"(?<!\d)(?<![0-9A-Fa-f]{4}-)\d{12}(?!\d)")


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
