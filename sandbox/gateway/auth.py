"""Per-school bearer tokens: ``gw1.<school id, base64url>.<HMAC-SHA256>`` signed with the gateway secret."""

from __future__ import annotations

import base64
import hashlib
import hmac

from sandbox.gateway.domain import errors

PREFIX = "gw1"


def _sign(secret: bytes, school_id: str) -> str:
    return hmac.new(secret, f"{PREFIX}:{school_id}".encode(), hashlib.sha256).hexdigest()


def mint(secret: bytes, school_id: str) -> str:
    encoded = base64.urlsafe_b64encode(school_id.encode()).decode().rstrip("=")
    return f"{PREFIX}.{encoded}.{_sign(secret, school_id)}"


def school_of(secret: bytes, authorization: str | None) -> str:
    """The school a request speaks for; anything but a valid token of ours is 401."""
    refused = errors.Unauthorized("Thiếu hoặc sai mã truy cập (Authorization: Bearer …) của nhà trường.")
    scheme, _, token = (authorization or "").partition(" ")
    parts = token.strip().split(".")
    if scheme.lower() != "bearer" or len(parts) != 3 or parts[0] != PREFIX:
        raise refused
    try:
        school_id = base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        raise refused from None
    if not school_id or not hmac.compare_digest(parts[2], _sign(secret, school_id)):
        raise refused
    return school_id


def is_admin(admin_token: str, authorization: str | None) -> bool:
    scheme, _, token = (authorization or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(), admin_token.encode())
