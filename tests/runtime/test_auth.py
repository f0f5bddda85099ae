"""JWT auth: roles and school scoping, and Vietnamese reasons when access is refused."""

from datetime import timedelta

import pytest
from typer.testing import CliRunner

from cli.main import app
from services.runtime.auth import (
    Forbidden,
    NotAuthenticated,
    Role,
    mint_token,
    principal_from_header,
    verify_token,
)
from services.runtime.settings import Settings, get_settings


def test_token_round_trip_carries_roles_school_and_assignments():
    token = mint_token(
        get_settings(),
        user_id="gv-1",
        roles=["teacher", "homeroom"],
        school_id="s1",
        assignments=["toan:8A1"],
        homeroom_classes=["8A1"],
    )
    who = principal_from_header(get_settings(), f"Bearer {token}")
    assert who.user_id == "gv-1" and who.roles == {Role.TEACHER, Role.HOMEROOM}
    assert who.assignments == {"toan:8A1"} and who.homeroom_classes == {"8A1"}
    who.require_school("s1")
    with pytest.raises(Forbidden, match="trường khác"):
        who.require_school("s2")
    with pytest.raises(Forbidden, match="principal"):
        who.require_role(Role.PRINCIPAL)


def test_expired_forged_and_missing_tokens_are_refused():
    settings = get_settings()
    expired = mint_token(settings, user_id="u", roles=["principal"], ttl=timedelta(seconds=-5))
    with pytest.raises(NotAuthenticated, match="hết hạn"):
        verify_token(settings, expired)
    forged = mint_token(
        Settings(jwt_secret="another-secret-of-enough-length-000000"), user_id="u", roles=["operator"]
    )
    with pytest.raises(NotAuthenticated):
        verify_token(settings, forged)
    with pytest.raises(NotAuthenticated):
        principal_from_header(settings, None)


def test_hocba_token_mints_a_usable_token_and_rejects_unknown_roles():
    runner = CliRunner()
    result = runner.invoke(app, ["token", "--role", "principal", "--school", "s9", "--user", "ht-9"])
    assert result.exit_code == 0, result.output
    assert verify_token(get_settings(), result.stdout.strip()).school_id == "s9"
    assert runner.invoke(app, ["token", "--role", "janitor"]).exit_code == 2
