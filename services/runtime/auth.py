"""JWT bearer authentication, roles and school scoping, as a nameko dependency."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import jwt
from nameko.extensions import DependencyProvider

from services.runtime.settings import Settings, get_settings


class Role(StrEnum):
    TEACHER = "teacher"
    HOMEROOM = "homeroom"
    PRINCIPAL = "principal"
    STAFF = "staff"
    INSPECTOR = "inspector"
    OPERATOR = "operator"
    SERVICE = "service"  # another of our services calling with its own token (documents between services)


class AuthError(Exception):
    """Base of authentication and authorisation failures; carries the HTTP status and a Vietnamese detail."""

    status = 401
    title = "Unauthorized"
    detail_vi = "Cần đăng nhập: thiếu hoặc sai mã xác thực (Bearer token)."

    def __init__(self, detail_vi: str | None = None) -> None:
        super().__init__(detail_vi or self.detail_vi)
        if detail_vi:
            self.detail_vi = detail_vi


class NotAuthenticated(AuthError):
    pass


class Forbidden(AuthError):
    status = 403
    title = "Forbidden"
    detail_vi = "Bạn không có quyền thực hiện thao tác này."


@dataclass(frozen=True)
class Principal:
    """Who is calling: a user id, their roles, the school they act for and what they are assigned to."""

    user_id: str
    roles: frozenset[Role]
    school_id: str | None
    # "subject_code:class_id" pairs for teachers, class ids for homeroom teachers.
    assignments: frozenset[str] = field(default_factory=frozenset)
    homeroom_classes: frozenset[str] = field(default_factory=frozenset)
    name: str | None = None

    def has_role(self, *roles: Role) -> bool:
        return bool(self.roles.intersection(roles))

    def require_role(self, *roles: Role) -> None:
        if not self.has_role(*roles):
            wanted = ", ".join(sorted(r.value for r in roles))
            raise Forbidden(f"Thao tác này cần vai trò: {wanted}.")

    def require_school(self, school_id: str) -> None:
        """Tenancy: every read and write is scoped to the caller's school (operators are platform-wide)."""
        if Role.OPERATOR in self.roles:
            return
        if self.school_id != school_id:
            raise Forbidden("Dữ liệu này thuộc trường khác.")


def mint_token(
    settings: Settings,
    *,
    user_id: str,
    roles: Iterable[str],
    school_id: str | None = None,
    assignments: Iterable[str] = (),
    homeroom_classes: Iterable[str] = (),
    name: str | None = None,
    ttl: timedelta = timedelta(hours=8),
) -> str:
    secret = _secret(settings)
    now = datetime.now(UTC)
    claims: dict[str, Any] = {
        "sub": user_id,
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "exp": now + ttl,
        "roles": sorted({Role(r).value for r in roles}),
        "school_id": school_id,
        "assignments": sorted(assignments),
        "homeroom_classes": sorted(homeroom_classes),
    }
    if name:
        claims["name"] = name
    return jwt.encode(claims, secret, algorithm="HS256")


def verify_token(settings: Settings, token: str) -> Principal:
    try:
        claims = jwt.decode(
            token,
            _secret(settings),
            algorithms=["HS256"],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            options={"require": ["exp", "sub", "iss", "aud"]},
        )
    except jwt.ExpiredSignatureError:
        raise NotAuthenticated("Phiên đăng nhập đã hết hạn, hãy đăng nhập lại.") from None
    except jwt.PyJWTError:
        raise NotAuthenticated() from None
    try:
        roles = frozenset(Role(r) for r in claims.get("roles", []))
    except ValueError:
        raise NotAuthenticated("Mã xác thực chứa vai trò không hợp lệ.") from None
    return Principal(
        user_id=str(claims["sub"]),
        roles=roles,
        school_id=claims.get("school_id"),
        assignments=frozenset(claims.get("assignments", [])),
        homeroom_classes=frozenset(claims.get("homeroom_classes", [])),
        name=claims.get("name"),
    )


def principal_from_header(settings: Settings, authorization: str | None) -> Principal:
    if not authorization or not authorization.lower().startswith("bearer "):
        raise NotAuthenticated()
    return verify_token(settings, authorization.split(" ", 1)[1].strip())


def _secret(settings: Settings) -> str:
    if settings.jwt_secret is None:
        raise RuntimeError(
            "HOCBA_JWT_SECRET is not set (run `make setup`, which writes one into .env for local use)"
        )
    return settings.jwt_secret.get_secret_value()


class Auth(DependencyProvider):
    """Injects a callable returning the verified :class:`Principal` of the current HTTP request."""

    def get_dependency(self, worker_ctx: Any) -> Any:
        settings = get_settings()
        request = worker_ctx.args[0] if worker_ctx.args else None

        def current() -> Principal:
            header = request.headers.get("Authorization") if request is not None else None
            return principal_from_header(settings, header)

        return current
