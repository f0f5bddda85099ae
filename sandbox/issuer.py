"""The development token issuer (what Keycloak or the province's IdP is in production): its own EC key pair,
its JWKS, user tokens for `hocba token` and tests, and the OAuth 2.0 client-credentials grant for services."""

from __future__ import annotations

import argparse
import base64
import functools
import hashlib
import hmac
import json
import os
import threading
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from services.runtime.settings import Settings

DEFAULT_PORT = 8710
ALGORITHM = "ES256"
SERVICE_TOKEN_TTL = timedelta(minutes=5)
# The services that call other services, and the scopes each may ask for (a realm's clients, in Keycloak).
CLIENTS: dict[str, frozenset[str]] = {
    "signing": frozenset({"documents:read"}),
    "sync": frozenset({"documents:read"}),
}


class IssuerSettings(BaseSettings):
    """Where the development issuer keeps its key (never committed) and the dev client secret."""

    model_config = SettingsConfigDict(env_prefix="HOCBA_", env_file=".env", extra="ignore", frozen=True)

    dev_issuer_key: Path = Path("var/issuer/key.pem")
    jwks_file: Path | None = None
    oauth_client_secret: SecretStr | None = None

    @property
    def jwks_path(self) -> Path:
        return self.jwks_file or self.dev_issuer_key.with_name("jwks.json")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def public_jwk(key: ec.EllipticCurvePrivateKey) -> dict[str, str]:
    """The public key as a JWK, its kid the RFC 7638 thumbprint."""
    numbers = key.public_key().public_numbers()
    jwk = {"crv": "P-256", "kty": "EC", "x": _b64(numbers.x.to_bytes(32, "big")),
           "y": _b64(numbers.y.to_bytes(32, "big"))}  # fmt: skip
    thumbprint = hashlib.sha256(json.dumps(jwk, separators=(",", ":"), sort_keys=True).encode()).digest()
    return {**jwk, "kid": _b64(thumbprint), "alg": ALGORITHM, "use": "sig"}


def ensure_keys(key_path: Path, jwks_path: Path | None = None) -> ec.EllipticCurvePrivateKey:
    """The issuer's key, generated on first use (mode 0600), and its JWKS written beside it."""
    jwks_path = jwks_path or key_path.with_name("jwks.json")
    if key_path.is_file():
        loaded = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        assert isinstance(loaded, ec.EllipticCurvePrivateKey)
        key = loaded
    else:
        key = ec.generate_private_key(ec.SECP256R1())
        key_path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(
                key.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                )
            )
    jwks = json.dumps({"keys": [public_jwk(key)]}, indent=2) + "\n"
    if not jwks_path.is_file() or jwks_path.read_text() != jwks:
        jwks_path.parent.mkdir(parents=True, exist_ok=True)
        jwks_path.write_text(jwks)
    return key


_keys: dict[Path, ec.EllipticCurvePrivateKey] = {}


@functools.cache
def _issuer_settings() -> IssuerSettings:
    # Read once per process: pydantic-settings reads the environment and .env again on every construction (2.3 ms,
    # nine tenths of a minted token's cost, and tests mint thousands), and neither changes while a process runs.
    return IssuerSettings()


def _key(issuer: IssuerSettings | None = None) -> ec.EllipticCurvePrivateKey:
    issuer = issuer or _issuer_settings()
    path = issuer.dev_issuer_key.resolve()
    if path not in _keys:
        _keys[path] = ensure_keys(path, issuer.jwks_path)
    return _keys[path]


def sign(claims: dict[str, Any], key: ec.EllipticCurvePrivateKey | None = None) -> str:
    key = key or _key()
    return jwt.encode(claims, key, algorithm=ALGORITHM, headers={"kid": public_jwk(key)["kid"]})


def mint_token(
    settings: Settings,
    *,
    user_id: str,
    roles: Iterable[str],
    school_id: str | None = None,
    assignments: Iterable[str] = (),
    homeroom_classes: Iterable[str] = (),
    inspected_schools: Iterable[str] = (),
    name: str | None = None,
    ttl: timedelta = timedelta(hours=8),
) -> str:
    """A user's token, as the identity provider would issue it (development and tests only).

    ``inspected_schools`` becomes the ``inspected_schools`` claim (services.runtime.auth.INSPECTED_SCHOOLS): the
    schools an inspector reads. It is minted for any role so tests can show only a pure inspector gains them.
    """
    from services.runtime.auth import Role  # here: `make setup` imports this module without nameko

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
    if inspected_schools:
        claims["inspected_schools"] = sorted(inspected_schools)
    if name:
        claims["name"] = name
    return sign(claims)


def mint_service_token(
    settings: Settings, client_id: str, scopes: Iterable[str], ttl: timedelta = SERVICE_TOKEN_TTL
) -> str:
    """A service's access token (RFC 9068 shape): the services' audience, ``scope``, ``client_id``."""
    now = datetime.now(UTC)
    return sign(
        {
            "sub": client_id,
            "client_id": client_id,
            "iss": settings.jwt_issuer,
            "aud": settings.service_audience,
            "iat": now,
            "exp": now + ttl,
            "scope": " ".join(sorted(scopes)),
        }
    )


class Issuer:
    """WSGI: ``GET /.well-known/jwks.json`` and ``POST /token`` (client credentials, RFC 6749 §4.4)."""

    def __init__(self, settings: Settings, issuer: IssuerSettings | None = None) -> None:
        self.settings = settings
        self.issuer = issuer or IssuerSettings()
        _key(self.issuer)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        if request.path == "/.well-known/jwks.json" and request.method == "GET":
            response = Response(self.issuer.jwks_path.read_text(), mimetype="application/json")
        elif request.path == "/token" and request.method == "POST":
            response = self.token(request)
        else:
            response = _error(404, "not_found")
        return response(environ, start_response)

    def token(self, request: Request) -> Response:
        if request.form.get("grant_type") != "client_credentials":
            return _error(400, "unsupported_grant_type")
        if request.authorization and request.authorization.type == "basic":
            client_id, secret = request.authorization.username, request.authorization.password
        else:
            client_id, secret = request.form.get("client_id"), request.form.get("client_secret")
        expected = self.issuer.oauth_client_secret
        if (
            client_id not in CLIENTS
            or expected is None
            or not hmac.compare_digest(str(secret or ""), expected.get_secret_value())
        ):
            return _error(401, "invalid_client")
        wanted = set((request.form.get("scope") or "").split()) or set(CLIENTS[client_id])
        if not wanted <= CLIENTS[client_id]:
            return _error(400, "invalid_scope")
        token = mint_service_token(self.settings, client_id, wanted)
        body = {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": int(SERVICE_TOKEN_TTL.total_seconds()),
            "scope": " ".join(sorted(wanted)),
        }
        return Response(json.dumps(body), mimetype="application/json", headers={"Cache-Control": "no-store"})


def _error(status: int, error: str) -> Response:
    return Response(json.dumps({"error": error}), status=status, mimetype="application/json")


def serve_in_thread(settings: Settings, port: int = 0) -> tuple[Any, str]:
    """For tests: (server, base url); call ``server.shutdown()`` to stop."""
    server = make_server("127.0.0.1", port, Issuer(settings), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    args = parser.parse_args()
    make_server("127.0.0.1", args.port, Issuer(Settings()), threaded=True).serve_forever()


if __name__ == "__main__":
    main()
