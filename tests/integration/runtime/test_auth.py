"""JWT auth: tokens only from the configured issuer's key, users' and services' audiences kept apart, roles and
school scoping, and Vietnamese reasons when access is refused."""

import base64
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from typer.testing import CliRunner

from cli.main import app
from sandbox.issuer import mint_service_token, mint_token, public_jwk, sign
from services.runtime import http_client
from services.runtime.auth import (
    DOCUMENTS_READ,
    Forbidden,
    NotAuthenticated,
    NotFound,
    Role,
    ServiceTokens,
    principal_from_header,
    require_caller,
    verify_service_token,
    verify_token,
)
from services.runtime.settings import get_settings


def _claims(**overrides):
    settings = get_settings()
    now = datetime.now(UTC)
    claims = {"sub": "u", "iss": settings.jwt_issuer, "aud": settings.jwt_audience, "iat": now,
              "exp": now + timedelta(minutes=5), "roles": ["operator"]}  # fmt: skip
    return {**claims, **overrides}


def _our_kid() -> str:
    return json.loads(Path(get_settings().jwks_file).read_text())["keys"][0]["kid"]


def test_token_round_trip_carries_roles_school_and_assignments():
    token = mint_token(
        get_settings(),
        user_id="gv-1",
        roles=["teacher", "homeroom"],
        school_id="s1",
        assignments=["toan:8A1"],
        homeroom_classes=["8A1"],
    )
    assert jwt.get_unverified_header(token)["alg"] == "ES256"
    who = principal_from_header(get_settings(), f"Bearer {token}")
    assert who.user_id == "gv-1" and who.roles == {Role.TEACHER, Role.HOMEROOM}
    assert who.assignments == {"toan:8A1"} and who.homeroom_classes == {"8A1"}
    who.require_school("s1")
    with pytest.raises(NotFound, match="Không tìm thấy trường này"):
        who.require_school("s2")
    with pytest.raises(Forbidden, match="principal"):
        who.require_role(Role.PRINCIPAL)


def test_an_operator_reads_no_school_s_data():
    operator = principal_from_header(
        get_settings(), f"Bearer {mint_token(get_settings(), user_id='ops', roles=['operator'])}"
    )
    for school in ("s1", "s2"):
        with pytest.raises(NotFound, match="Không tìm thấy trường này"):
            operator.require_school(school)


def _principal(roles, school_id=None, inspected=()):
    token = mint_token(
        get_settings(), user_id="u", roles=roles, school_id=school_id, inspected_schools=inspected
    )
    return principal_from_header(get_settings(), f"Bearer {token}")


def test_an_inspector_acts_for_exactly_the_schools_their_token_lists():
    inspector = _principal(["inspector"], inspected=["sA", "sC"])
    assert inspector.inspected_schools == {"sA", "sC"}
    assert inspector.acts_for("sA") and inspector.acts_for("sC")
    inspector.require_school("sA")
    inspector.require_school("sC")
    for school in ("sB", "", None):
        assert not inspector.acts_for(school)
    with pytest.raises(NotFound, match="Không tìm thấy trường này"):
        inspector.require_school("sB")
    # An inspector attached to a school of their own reads it too, and still only what is listed besides.
    attached = _principal(["inspector"], school_id="sD", inspected=["sA"])
    assert attached.acts_for("sD") and attached.acts_for("sA") and not attached.acts_for("sB")


@pytest.mark.parametrize(
    "roles",
    [["principal"], ["staff"], ["teacher", "homeroom"], ["operator"], ["principal", "inspector"]],
)
def test_another_role_listing_schools_gains_nothing(roles):
    caller = _principal(roles, school_id="sA", inspected=["sB", "sC"])
    assert caller.acts_for("sA")
    for school in ("sB", "sC"):
        assert not caller.acts_for(school)
        with pytest.raises(NotFound):
            caller.require_school(school)


@pytest.mark.parametrize("listed", ["sA", ["sA", 7], [""], {"sA": True}])
def test_a_malformed_inspected_schools_claim_is_refused(listed):
    token = sign(_claims(roles=["inspector"], inspected_schools=listed))
    with pytest.raises(NotAuthenticated, match="thanh tra"):
        verify_token(get_settings(), token)


def test_a_token_without_the_claim_lists_no_school():
    assert _principal(["inspector"], school_id="sA").inspected_schools == frozenset()


def test_expired_and_missing_tokens_are_refused():
    settings = get_settings()
    expired = mint_token(settings, user_id="u", roles=["principal"], ttl=timedelta(seconds=-60))
    with pytest.raises(NotAuthenticated, match="hết hạn"):
        verify_token(settings, expired)
    with pytest.raises(NotAuthenticated):
        principal_from_header(settings, None)


def test_a_token_signed_with_anything_but_the_issuers_key_is_refused():
    settings = get_settings()
    stranger = ec.generate_private_key(ec.SECP256R1())
    public = json.loads(Path(settings.jwks_file).read_text())["keys"][0]  # what anyone can read
    forgeries = {
        # Another EC key claiming our key's id, and one with its own id.
        "other key, our kid": jwt.encode(_claims(), stranger, algorithm="ES256", headers={"kid": _our_kid()}),
        "other key, its kid": jwt.encode(
            _claims(), stranger, algorithm="ES256", headers={"kid": public_jwk(stranger)["kid"]}
        ),
        # Algorithm confusion: HMAC keyed with the public key, and no signature at all.
        "HS256 keyed with our public key": jwt.encode(
            _claims(), public["x"] + public["y"], algorithm="HS256", headers={"kid": _our_kid()}
        ),
        "alg none": _unsigned(_claims(), _our_kid()),
    }
    for what, token in forgeries.items():
        with pytest.raises(NotAuthenticated):
            verify_token(settings, token)
            pytest.fail(f"accepted: {what}")
    # Our key, but claims the issuer does not make: another issuer, or missing required claims.
    with pytest.raises(NotAuthenticated):
        verify_token(settings, sign(_claims(iss="https://evil.example")))
    with pytest.raises(NotAuthenticated):
        verify_token(settings, sign({k: v for k, v in _claims().items() if k != "exp"}))
    assert verify_token(settings, sign(_claims())).roles == {
        Role.OPERATOR
    }  # the control: genuine is accepted


def _unsigned(claims: dict, kid: str) -> str:
    def part(obj: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj, default=str).encode()).rstrip(b"=").decode()

    body = {**claims, "iat": int(claims["iat"].timestamp()), "exp": int(claims["exp"].timestamp())}
    return f"{part({'alg': 'none', 'typ': 'JWT', 'kid': kid})}.{part(body)}."


def test_service_tokens_are_refused_on_user_endpoints_and_user_tokens_on_service_endpoints():
    settings = get_settings()
    service = mint_service_token(settings, "signing", [DOCUMENTS_READ])
    user = mint_token(settings, user_id="ops", roles=["operator"])
    assert verify_service_token(settings, service, DOCUMENTS_READ).client_id == "signing"
    with pytest.raises(NotAuthenticated, match="không dành cho dịch vụ này"):
        verify_token(settings, service)
    with pytest.raises(NotAuthenticated, match="không dành cho dịch vụ này"):
        verify_service_token(settings, user, DOCUMENTS_READ)
    with pytest.raises(Forbidden, match="documents:write"):
        verify_service_token(settings, service, "documents:write")


def test_a_token_for_both_audiences_is_refused_at_user_and_service_endpoints():
    settings = get_settings()
    both = [settings.jwt_audience, settings.service_audience]
    for audiences in (both, list(reversed(both)), [settings.jwt_audience, "elsewhere"]):
        token = sign(_claims(aud=audiences, scope=DOCUMENTS_READ, client_id="signing"))
        with pytest.raises(NotAuthenticated, match="không dành cho dịch vụ này"):
            verify_token(settings, token)
        with pytest.raises(NotAuthenticated, match="không dành cho dịch vụ này"):
            verify_service_token(settings, token, DOCUMENTS_READ)
    # The control: one audience, as a string or a list of one, is accepted where it belongs.
    assert verify_token(settings, sign(_claims(aud=[settings.jwt_audience]))).user_id == "u"
    service = sign(_claims(aud=settings.service_audience, scope=DOCUMENTS_READ, client_id="signing"))
    assert verify_service_token(settings, service, DOCUMENTS_READ).client_id == "signing"


def test_before_a_body_is_read_either_audience_s_token_is_enough_and_nothing_else():
    settings = get_settings()
    require_caller(settings, f"Bearer {mint_token(settings, user_id='u', roles=['teacher'], school_id='s1')}")
    require_caller(settings, f"Bearer {mint_service_token(settings, 'sync', [DOCUMENTS_READ])}")
    both = sign(_claims(aud=[settings.jwt_audience, settings.service_audience]))
    for authorization in (None, "Bearer x.y.z", f"Bearer {both}", f"Basic {both}"):
        with pytest.raises(NotAuthenticated):
            require_caller(settings, authorization)


def test_services_get_their_tokens_from_the_issuers_token_endpoint(token_issuer):
    settings = get_settings()
    token = ServiceTokens(settings, "sync", DOCUMENTS_READ).token()
    assert verify_service_token(settings, token, DOCUMENTS_READ).client_id == "sync"
    wrong_secret = http_client.post(
        f"{token_issuer}/token", data={"grant_type": "client_credentials"}, auth=("sync", "guess")
    )
    assert wrong_secret.status_code == 401 and wrong_secret.json()["error"] == "invalid_client"
    secret = settings.oauth_client_secret.get_secret_value()
    too_much = http_client.post(
        f"{token_issuer}/token",
        data={"grant_type": "client_credentials", "scope": "documents:write"},
        auth=("sync", secret),
    )
    assert too_much.status_code == 400 and too_much.json()["error"] == "invalid_scope"
    unknown = http_client.post(
        f"{token_issuer}/token", data={"grant_type": "client_credentials"}, auth=("gradebook", secret)
    )
    assert unknown.status_code == 401


def test_hocba_token_mints_a_usable_token_and_rejects_unknown_roles():
    runner = CliRunner()
    result = runner.invoke(app, ["token", "--role", "principal", "--school", "s9", "--user", "ht-9"])
    assert result.exit_code == 0, result.output
    assert verify_token(get_settings(), result.stdout.strip()).school_id == "s9"
    listed = runner.invoke(app, ["token", "--role", "inspector", "--inspects", "sA", "--inspects", "sC"])
    assert listed.exit_code == 0, listed.output
    assert verify_token(get_settings(), listed.stdout.strip()).inspected_schools == {"sA", "sC"}
    assert runner.invoke(app, ["token", "--role", "janitor"]).exit_code == 2
    assert runner.invoke(app, ["token", "--role", "service"]).exit_code == 2


def test_a_service_without_a_configured_issuer_refuses_to_start(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOCBA_JWKS")}
    result = subprocess.run(
        [sys.executable, "-m", "cli.main", "run", "gradebook", "--port", "0"],
        env={**env, "HOCBA_ENV": "prod"},
        cwd=tmp_path,  # no .env here
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "refusing to start" in result.stderr and "HOCBA_JWKS_URL" in result.stderr
