"""The school-facing reads: reconciliation listing (keyset pages) and downloads of sealed documents."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from werkzeug.wrappers import Request, Response

from sandbox.gateway import auth
from sandbox.gateway.api import json_response, represent
from sandbox.gateway.context import Context
from sandbox.gateway.domain import errors
from sandbox.gateway.store import repository as repo


class ListQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    school_year: str | None = Field(None, pattern=r"^\d{4}-\d{4}$")
    year_record_id: str | None = None
    transcript_id: str | None = None
    cursor: int = Field(0, ge=0, description="next_cursor of the previous page")
    limit: int = Field(100, ge=1, le=500)


def list_records(ctx: Context, request: Request) -> Response:
    school_id = auth.school_of(ctx.secret, request.headers.get("Authorization"))
    try:
        query = ListQuery.model_validate(dict(request.args))
    except ValidationError as error:
        fields = ", ".join(".".join(map(str, e["loc"])) for e in error.errors()[:5])
        raise errors.BodyInvalid(f"Tham số truy vấn không hợp lệ: {fields}.") from None
    with ctx.engine.connect() as conn:
        rows = repo.list_records(
            conn,
            school_id,
            school_year=query.school_year,
            year_record_id=query.year_record_id,
            transcript_id=query.transcript_id,
            after_seq=query.cursor,
            limit=query.limit + 1,  # one more tells whether another page exists
        )
    page, more = rows[: query.limit], len(rows) > query.limit
    today = ctx.clock.today()
    return json_response(
        {
            "items": [represent(ctx, r, school_id, today) for r in page],
            "next_cursor": page[-1]["seq"] if more else None,
        }
    )


def download(ctx: Context, request: Request, record_id: str, kind: str) -> Response:
    school_id = auth.school_of(ctx.secret, request.headers.get("Authorization"))
    # One transaction reads the document and notes the download: the family sees which school took what
    # (portal/views.py accesses).
    with ctx.engine.begin() as conn:
        row = repo.visible_record(conn, school_id, record_id)
        if row is None:
            raise errors.RecordNotFound("Không tìm thấy bản ghi này trong các bản ghi của trường.")
        content = repo.document(conn, row[f"{kind}_sha256"])
        repo.note_access(
            conn,
            row["transcript_id"],
            f"api_{kind}",
            ctx.clock.now(),
            organisation=school_id,
            school_year=row["school_year"],
            version=row["version"],
        )
    if content is None:  # content-addressed and never deleted: a missing document is a bug
        raise RuntimeError(f"document {kind} of {record_id} missing")
    return Response(
        content,
        mimetype="application/pdf" if kind == "pdf" else "application/xml",
        headers={
            "Content-Disposition": f'attachment; filename="{row["year_record_id"]}-v{row["version"]}.{kind}"',
            "ETag": f'"{row[f"{kind}_sha256"]}"',
        },
    )
