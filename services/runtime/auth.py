"""JWT bearer authentication (asymmetric, verified against the issuer's JWKS), roles, school scoping, service calls."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any

import httpx
import jwt
from nameko.extensions import DependencyProvider

from services.runtime import http_client
from services.runtime.settings import Settings, get_settings

# Pinned: the header's "alg" chooses nothing (no HS256 with the public key as secret, no "none").
ALGORITHMS = ["ES256", "EdDSA"]
REQUIRED_CLAIMS = ["exp", "iat", "sub", "iss", "aud"]
# Scope of service-to-service document fetches (GET /documents/{sha256} on transcript and signing).
DOCUMENTS_READ = "documents:read"
# Claim of a user's token: the school ids an inspector (thanh tra, Phòng/Sở GD&ĐT) inspects, a JSON list of strings,
# e.g. {"roles": ["inspector"], "inspected_schools": ["sch-a", "sch-c"]}. Read-only and for the inspector role only:
# see Principal.acts_for. Any other token's list is ignored.
INSPECTED_SCHOOLS = "inspected_schools"


class Role(StrEnum):
    TEACHER = "teacher"
    HOMEROOM = "homeroom"
    PRINCIPAL = "principal"
    STAFF = "staff"
    INSPECTOR = "inspector"
    OPERATOR = "operator"


# Role groups, named once for every service: its route tables and its checks (``caller.require_role(*SIGNERS)``).
SIGNERS = (Role.TEACHER, Role.HOMEROOM, Role.PRINCIPAL)  # who may sign a step of a học bạ
SCHOOL_STAFF = (Role.PRINCIPAL, Role.STAFF, Role.HOMEROOM, Role.INSPECTOR)  # a school's progress and status
SCHOOL_WIDE = (
    Role.PRINCIPAL,
    Role.STAFF,
    Role.INSPECTOR,
)  # every record of the school, whoever teaches the class
RECORD_READERS = (*SCHOOL_WIDE, Role.TEACHER, Role.HOMEROOM)  # teachers: only their classes' records


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


class NotFound(AuthError):
    """Another school's data answers exactly like data nobody has: 404, never a 403 that confirms it exists."""

    status = 404
    title = "Not found"
    detail_vi = "Không tìm thấy trường này."


class AuthNotConfigured(RuntimeError):
    """Neither HOCBA_JWKS_URL nor HOCBA_JWKS_FILE is set: a service cannot check any token."""


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
    # The INSPECTED_SCHOOLS claim: the schools an inspector reads besides their own (see acts_for).
    inspected_schools: frozenset[str] = field(default_factory=frozenset)

    def acts_for(self, school_id: str | None) -> bool:
        """The token's own school; or, for a token whose only role is inspector, a school its claim lists.

        Only a pure inspector token gains the listed schools: inspectors never write, so every write route's role
        check refuses them there, whereas a principal's (or a principal-and-inspector's) token listing schools
        would carry its writing roles into them. Operators list nothing they can use: they read no school's data.
        """
        if school_id is None:
            return False
        if self.school_id == school_id:
            return True
        return self.roles == {Role.INSPECTOR} and school_id in self.inspected_schools

    def has_role(self, *roles: Role) -> bool:
        return bool(self.roles.intersection(roles))

    def require_role(self, *roles: Role) -> None:
        if not self.has_role(*roles):
            wanted = ", ".join(sorted(r.value for r in roles))
            raise Forbidden(f"Thao tác này cần vai trò: {wanted}.")

    def require_school(self, school_id: str) -> None:
        """Tenancy: every read and write is scoped to the caller's school (an inspector's: to the schools they
        inspect, see acts_for). Another school answers like an unknown one (404, the same body), and operators are
        no exception: they run the platform, they read no school's data.
        """
        if not self.acts_for(school_id):
            raise NotFound()


@dataclass(frozen=True)
class ServiceCaller:
    """Another of our services, by its OAuth2 client id, with the scopes its token grants."""

    client_id: str
    scopes: frozenset[str]


def require_auth_configured(settings: Settings) -> None:
    """Start-up check: a service that cannot verify tokens must not start (and accept nothing)."""
    if not (settings.jwks_url or settings.jwks_file):
        raise AuthNotConfigured(
            "no token issuer configured: set HOCBA_JWKS_URL to the identity provider's JWKS "
            "(or HOCBA_JWKS_FILE to a JWKS file), and HOCBA_JWT_ISSUER to its issuer"
        )


class _JwksFile:
    """A JWKS file, re-read when it changes (a rotated key is picked up without a restart)."""

    def __init__(self, path: str) -> None:
        self.path = Path(path)
        self._seen: tuple[float, jwt.PyJWKSet] | None = None

    def key_for(self, token: str) -> Any:
        mtime = self.path.stat().st_mtime
        if self._seen is None or self._seen[0] != mtime:
            self._seen = (mtime, jwt.PyJWKSet.from_json(self.path.read_text()))
        keys = self._seen[1]
        kid = jwt.get_unverified_header(token).get("kid")
        if kid is None:
            raise jwt.InvalidTokenError("token has no kid")
        return keys[kid].key  # KeyError when the issuer has no such key


@lru_cache(maxsize=8)
def _key_source(jwks_url: str | None, jwks_file: str | None) -> Any:
    if jwks_url:
        # Keys cached for 5 minutes; an unknown kid refetches once (key rotation at the identity provider).
        return jwt.PyJWKClient(jwks_url, cache_keys=True, lifespan=300, timeout=10)
    assert jwks_file is not None
    return _JwksFile(jwks_file)


def _signing_key(settings: Settings, token: str) -> Any:
    require_auth_configured(settings)
    source = _key_source(settings.jwks_url, settings.jwks_file)
    if isinstance(source, jwt.PyJWKClient):
        return source.get_signing_key_from_jwt(token).key
    return source.key_for(token)


def _claims(settings: Settings, token: str, audience: str) -> dict[str, Any]:
    try:
        claims = dict(
            jwt.decode(
                token,
                _signing_key(settings, token),
                # Only asymmetric ones, whatever the configuration says (never HS256, never "none").
                algorithms=[a for a in settings.jwt_algorithms if a in ALGORITHMS],
                audience=audience,
                issuer=settings.jwt_issuer,
                options={"require": REQUIRED_CLAIMS},
                leeway=30,
            )
        )
    except jwt.ExpiredSignatureError:
        raise NotAuthenticated("Phiên đăng nhập đã hết hạn, hãy đăng nhập lại.") from None
    except jwt.InvalidAudienceError:
        raise NotAuthenticated("Mã xác thực không dành cho dịch vụ này.") from None
    except (jwt.PyJWTError, KeyError, ValueError, OSError):
        raise NotAuthenticated() from None
    # PyJWT accepts a token when any of its audiences matches: one naming both the users' and the services'
    # audience would pass at user and service endpoints alike. A token is for exactly one audience.
    if claims["aud"] not in (audience, [audience]):
        raise NotAuthenticated("Mã xác thực không dành cho dịch vụ này.")
    return claims


def verify_token(settings: Settings, token: str) -> Principal:
    """A user's token: our issuer's key, a pinned algorithm, the users' audience (a service token is refused)."""
    claims = _claims(settings, token, settings.jwt_audience)
    try:
        roles = frozenset(Role(r) for r in claims.get("roles", []))
    except ValueError:
        raise NotAuthenticated("Mã xác thực chứa vai trò không hợp lệ.") from None
    inspected = claims.get(INSPECTED_SCHOOLS, [])
    if not isinstance(inspected, list) or not all(isinstance(s, str) and s for s in inspected):
        raise NotAuthenticated("Mã xác thực có danh sách trường thanh tra không hợp lệ.")
    return Principal(
        user_id=str(claims["sub"]),
        roles=roles,
        school_id=claims.get("school_id"),
        assignments=frozenset(claims.get("assignments", [])),
        homeroom_classes=frozenset(claims.get("homeroom_classes", [])),
        name=claims.get("name"),
        inspected_schools=frozenset(inspected),
    )


def verify_service_token(settings: Settings, token: str, scope: str) -> ServiceCaller:
    """A service's token: the services' audience (a user's token is refused) and ``scope`` granted."""
    claims = _claims(settings, token, settings.service_audience)
    scopes = frozenset(str(claims.get("scope", "")).split())
    if scope not in scopes:
        raise Forbidden(f"Mã xác thực của dịch vụ thiếu quyền: {scope}.")
    return ServiceCaller(client_id=str(claims.get("client_id") or claims["sub"]), scopes=scopes)


def _bearer(authorization: str | None) -> str:
    if not authorization or not authorization.lower().startswith("bearer "):
        raise NotAuthenticated()
    return authorization.split(" ", 1)[1].strip()


def principal_from_header(settings: Settings, authorization: str | None) -> Principal:
    return verify_token(settings, _bearer(authorization))


def require_caller(settings: Settings, authorization: str | None) -> None:
    """A token of ours for one of the two audiences, a user's or a service's (the route checks which it needs and
    what the caller may do): what every request must show before the server reads its body."""
    token = _bearer(authorization)
    try:
        _claims(settings, token, settings.jwt_audience)
    except NotAuthenticated:
        _claims(settings, token, settings.service_audience)


class Auth(DependencyProvider):
    """Injects a callable returning the verified :class:`Principal` of the current HTTP request (users only)."""

    def setup(self) -> None:
        require_auth_configured(get_settings())

    def get_dependency(self, worker_ctx: Any) -> Any:
        settings = get_settings()
        request = worker_ctx.args[0] if worker_ctx.args else None

        def current() -> Principal:
            header = request.headers.get("Authorization") if request is not None else None
            return principal_from_header(settings, header)

        return current


class ServiceAuth(DependencyProvider):
    """Injects ``require(scope)``: the verified :class:`ServiceCaller` of a service-to-service request."""

    def setup(self) -> None:
        require_auth_configured(get_settings())

    def get_dependency(self, worker_ctx: Any) -> Any:
        settings = get_settings()
        request = worker_ctx.args[0] if worker_ctx.args else None

        def require(scope: str) -> ServiceCaller:
            header = request.headers.get("Authorization") if request is not None else None
            return verify_service_token(settings, _bearer(header), scope)

        return require


class ServiceTokens:
    """This service's own access tokens, from the identity provider's token endpoint (OAuth 2.0 client
    credentials, RFC 6749 §4.4), cached until shortly before they expire. The service holds a client secret
    that the provider can revoke, never a key that signs tokens."""

    def __init__(self, settings: Settings, client_id: str, scope: str) -> None:
        if not settings.oauth_token_url or settings.oauth_client_secret is None:
            raise AuthNotConfigured(
                "service-to-service calls need HOCBA_OAUTH_TOKEN_URL and HOCBA_OAUTH_CLIENT_SECRET "
                "(this service's client at the identity provider)"
            )
        self._url = settings.oauth_token_url
        self._client_id = settings.oauth_client_id or client_id
        self._secret = settings.oauth_client_secret.get_secret_value()
        self._scope = scope
        self._lock = threading.Lock()
        self._token: tuple[str, float] | None = None

    def token(self) -> str:
        with self._lock:
            if self._token is None or time.monotonic() > self._token[1]:
                self._token = self._fetch()
            return self._token[0]

    def _fetch(self) -> tuple[str, float]:
        response = http_client.post(
            self._url,
            data={"grant_type": "client_credentials", "scope": self._scope},
            auth=(self._client_id, self._secret),  # client_secret_basic (RFC 6749 §2.3.1)
            timeout=10.0,
        )
        if response.status_code != 200:
            raise httpx.HTTPStatusError(
                f"token endpoint answered {response.status_code}: {_oauth_error(response)}",
                request=response.request,
                response=response,
            )
        body = response.json()
        lifetime = float(body.get("expires_in", 300))
        return str(body["access_token"]), time.monotonic() + max(lifetime - 30.0, lifetime / 2)


def _oauth_error(response: httpx.Response) -> str:
    try:
        return str(json.loads(response.text).get("error", "?"))
    except ValueError:
        return "?"
