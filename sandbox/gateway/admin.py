"""/_admin/: the clock, the faults and the gateway's own counts (admin bearer token; never faulted)."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from werkzeug.wrappers import Request, Response

from sandbox.gateway import auth
from sandbox.gateway.api import json_response
from sandbox.gateway.context import Context
from sandbox.gateway.domain import errors
from sandbox.gateway.faults import FaultConfig
from sandbox.gateway.store import repository as repo


class ClockBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    today: date | None = Field(None, description="Fixed calendar day (Asia/Ho_Chi_Minh); null = real day")
    offset_days: int = Field(0, description="Added to the (real or fixed) day")


def _admin(ctx: Context, request: Request) -> None:
    if not auth.is_admin(ctx.settings.admin_token.get_secret_value(), request.headers.get("Authorization")):
        raise errors.Unauthorized("Thiếu hoặc sai mã quản trị của cổng.")


def _parse(request: Request, model: type[BaseModel]) -> BaseModel:
    try:
        return model.model_validate_json(request.get_data() or b"{}")
    except ValidationError as error:
        fields = ", ".join(".".join(map(str, e["loc"])) or "(body)" for e in error.errors()[:5])
        raise errors.BodyInvalid(f"Dữ liệu gửi lên không hợp lệ ở: {fields}.") from None


def clock(ctx: Context, request: Request) -> Response:
    _admin(ctx, request)
    if request.method == "POST":
        body = _parse(request, ClockBody)
        assert isinstance(body, ClockBody)
        ctx.clock.set(body.today, body.offset_days)
    return json_response(ctx.clock.describe())


def faults(ctx: Context, request: Request) -> Response:
    _admin(ctx, request)
    if request.method == "POST":
        config = _parse(request, FaultConfig)
        assert isinstance(config, FaultConfig)
        ctx.faults.configure(config)
    return json_response(ctx.faults.describe())


def stats(ctx: Context, request: Request) -> Response:
    """Per year record: how many times the gateway accepted it (exactly-once means 1 per version sent)."""
    _admin(ctx, request)
    with ctx.engine.connect() as conn:
        counts = repo.stats(conn, request.args.get("year_record_id"))
    return json_response({**counts, "faults_injected": dict(ctx.faults.injected)})
