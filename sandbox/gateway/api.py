"""The school-facing API: submit, replace, withdraw, list, download, transfer (JSON; refusals as problems)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import uuid
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Request, Response

from sandbox.gateway import auth, documents, verifiers
from sandbox.gateway.clock import vn
from sandbox.gateway.context import Context
from sandbox.gateway.domain import errors, rules
from sandbox.gateway.store import repository as repo
from services.runtime.logging import get_logger

log = get_logger(__name__)


class Documents(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pdf: str = Field(description="The sealed PDF/A-3, base64")
    xml: str = Field(description="The year record XML, base64 (the exact bytes embedded as hocba.xml)")


class SubmitBody(Documents):
    assessment: str = Field(description="regular | supplementary")


class ReplaceBody(Documents):
    reason: str = Field(min_length=1, max_length=1000, description="Why the record is replaced")
    assessment: str | None = Field(None, description="Must equal the replaced record's, if given")


class WithdrawBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=1000)


class TransferBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    transcript_id: str = Field(min_length=1, max_length=100)
    to_school: str = Field(min_length=1, max_length=100)


def json_response(payload: Any, status: int = 200, **headers: str) -> Response:
    return Response(
        json.dumps(payload, ensure_ascii=False, default=str),
        status=status,
        mimetype="application/json",
        headers=headers,
    )


def _body(request: Request, model: type[Any]) -> Any:
    try:
        return model.model_validate_json(request.get_data() or b"{}")
    except ValidationError as error:
        fields = ", ".join(".".join(map(str, e["loc"])) or "(body)" for e in error.errors()[:5])
        raise errors.BodyInvalid(f"Dữ liệu gửi lên không hợp lệ ở: {fields}.") from None


def _decode(value: str, name: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise errors.BodyInvalid(f"Trường “{name}” phải là base64 hợp lệ.") from None


def _key(request: Request) -> str:
    key = (request.headers.get("Idempotency-Key") or "").strip()
    if not key or len(key) > 200:
        raise errors.IdempotencyKeyMissing("Thiếu tiêu đề Idempotency-Key (tối đa 200 ký tự).")
    return key


def _fingerprint(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def represent(ctx: Context, row: dict[str, Any], school_id: str, today: date) -> dict[str, Any]:
    cutoff = ctx.cutoffs.of(row["school_year"], row["assessment"])
    return {
        "id": row["id"],
        "year_record_id": row["year_record_id"],
        "transcript_id": row["transcript_id"],
        "version": row["version"],
        "status": rules.public_status(row["status"], today, cutoff),
        "assessment": row["assessment"],
        "school_id": row["school_id"],
        "school_year": row["school_year"],
        "grade": row["grade"],
        "lookup_code": row["lookup_code"],
        "pdf_sha256": row["pdf_sha256"],
        "xml_sha256": row["xml_sha256"],
        "idempotency_key": row["idempotency_key"] if row["school_id"] == school_id else None,
        "replaces_id": row["replaces_id"],
        "accepted_at": vn(row["accepted_at"]).isoformat(),
        "replaced_at": vn(row["replaced_at"]).isoformat() if row["replaced_at"] else None,
        "withdrawn_at": vn(row["withdrawn_at"]).isoformat() if row["withdrawn_at"] else None,
        "cutoff": cutoff.isoformat(),
        "access": "owner" if row["school_id"] == school_id else "transfer",
    }


def _checked_documents(
    ctx: Context, conn: Connection, school_id: str, pdf: bytes, xml: bytes
) -> documents.Identity:
    """XSD, school, embedded XML, then signatures: cheapest first, the verifier (slowest) last. What the verifier
    found is kept with the record's transaction, for the portal's verdict."""
    identity = documents.read_identity(xml)
    if identity.school_id != school_id:
        raise errors.WrongSchool(
            f"Bản ghi thuộc trường “{identity.school_id}”, không phải trường gửi (“{school_id}”)."
        )
    documents.check_embedded_xml(pdf, xml)
    verification = verifiers.run(ctx.verify_pdf, pdf, xml)
    if not verification.ok:
        raise errors.SignatureInvalid(
            "Chữ ký số trên tệp PDF không hợp lệ hoặc chưa đủ: " + "; ".join(verification.reasons[:5]) + ".",
            reasons=verification.reasons,
        )
    repo.put_verification(
        conn, repo.sha256(pdf), True, verification.detailed, verification.signatures, ctx.clock.now()
    )
    return identity


def _log(ctx: Context, school_id: str, operation: str, outcome: str, **values: Any) -> None:
    with ctx.engine.begin() as conn:
        repo.log_outcome(
            conn, school_id=school_id, operation=operation, outcome=outcome, at=ctx.clock.now(), **values
        )


def _idempotent(
    ctx: Context, request: Request, school_id: str, operation: str, fingerprint: str, work: Any, xml: bytes
) -> Response:
    """Run ``work(conn, key)`` once per key: replay the kept response for the same body, refuse another body."""
    key = _key(request)
    year_record_id, version = documents.peek(xml)
    try:
        with ctx.engine.begin() as conn:
            held = repo.claim_key(conn, school_id, key, operation, fingerprint, ctx.clock.now())
            if held is None:
                status, body = work(conn, key)
                repo.keep_response(conn, school_id, key, status, body)
                # In the record's own transaction: the count that proves exactly-once can never miss one.
                repo.log_outcome(
                    conn,
                    school_id=school_id,
                    operation=operation,
                    outcome="accepted",
                    year_record_id=body["year_record_id"],
                    version=body["version"],
                    at=ctx.clock.now(),
                )
                return json_response(body, status)
            if held["operation"] != operation or held["request_sha256"] != fingerprint:
                raise errors.IdempotencyKeyReused(
                    "Idempotency-Key này đã được dùng cho một yêu cầu khác; hãy dùng khóa mới.",
                    operation=held["operation"],
                )
    except IntegrityError as error:
        # Two different keys racing for one (year record, version): the database's unique index decides.
        if "uq_records_year_record_version" not in str(error.orig):
            raise
        duplicate = errors.DuplicateRecord("Phiên bản này của bản ghi năm học đã được tiếp nhận.")
        _log(
            ctx,
            school_id,
            operation,
            "rejected",
            reason=duplicate.reason,
            year_record_id=year_record_id,
            version=version,
        )
        raise duplicate from None
    except errors.GatewayError as failure:
        _log(
            ctx,
            school_id,
            operation,
            "rejected",
            reason=failure.reason,
            year_record_id=year_record_id,
            version=version,
        )
        raise
    body = held["response"]
    _log(
        ctx, school_id, operation, "replayed", year_record_id=body["year_record_id"], version=body["version"]
    )
    return json_response(body, held["status_code"], **{"Idempotent-Replayed": "true"})


def submit(ctx: Context, request: Request) -> Response:
    school_id = auth.school_of(ctx.secret, request.headers.get("Authorization"))
    _key(request)
    body = _body(request, SubmitBody)
    pdf, xml = _decode(body.pdf, "pdf"), _decode(body.xml, "xml")
    fingerprint = _fingerprint("submit", repo.sha256(pdf), repo.sha256(xml), body.assessment)

    def work(conn: Connection, key: str) -> tuple[int, dict[str, Any]]:
        identity = _checked_documents(ctx, conn, school_id, pdf, xml)
        assessment = rules.check_assessment(body.assessment, identity.grade)
        today = ctx.clock.today()
        rules.check_before_cutoff(today, ctx.cutoffs.of(identity.school_year, assessment), "nộp bản ghi")
        repo.lock_year_record(conn, identity.year_record_id)
        latest = repo.latest_version(conn, identity.year_record_id, lock=True)
        if latest is not None:
            if latest["school_id"] != school_id:
                raise errors.WrongSchool("Bản ghi năm học này do trường khác báo cáo.")
            if identity.version <= latest["version"]:
                raise errors.DuplicateRecord(
                    f"Phiên bản {identity.version} của bản ghi năm học này đã được tiếp nhận.",
                    record_id=latest["id"],
                )
            if latest["status"] == "current":
                raise errors.ReplaceRequired(
                    "Bản ghi năm học đã có phiên bản hiện hành; hãy gửi báo cáo thay thế.",
                    record_id=latest["id"],
                )
        held = repo.current_of_year(conn, identity.transcript_id, identity.school_year)
        if held is not None and held["year_record_id"] != identity.year_record_id:
            raise errors.ReplaceRequired(
                "Học sinh đã có bản ghi hiện hành cho năm học này; hãy gửi báo cáo thay thế.",
                record_id=held["id"],
            )
        row = _new_row(conn, identity, school_id, assessment, pdf, xml, key, ctx.clock.now())
        repo.insert_record(conn, row)
        log.info("gateway.accepted", record_id=row["id"], year_record_id=identity.year_record_id)
        return 201, represent(ctx, repo.record(conn, row["id"]) or row, school_id, today)

    return _idempotent(ctx, request, school_id, "submit", fingerprint, work, xml)


def _new_row(
    conn: Connection,
    identity: documents.Identity,
    school_id: str,
    assessment: str,
    pdf: bytes,
    xml: bytes,
    key: str,
    now: Any,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "school_id": school_id,
        "transcript_id": identity.transcript_id,
        "year_record_id": identity.year_record_id,
        "version": identity.version,
        "lookup_code": identity.lookup_code,
        "student_id": identity.student_id,
        "school_year": identity.school_year,
        "grade": identity.grade,
        "assessment": assessment,
        "status": "current",
        "pdf_sha256": repo.put_document(conn, pdf, "application/pdf"),
        "xml_sha256": repo.put_document(conn, xml, "application/xml"),
        "idempotency_key": key,
        "accepted_at": now,
        **extra,
    }


def _owned(conn: Connection, school_id: str, record_id: str) -> dict[str, Any]:
    row = repo.visible_record(conn, school_id, record_id)
    if row is None:
        raise errors.RecordNotFound("Không tìm thấy bản ghi này trong các bản ghi của trường.")
    if row["school_id"] != school_id:
        raise errors.WrongSchool("Chỉ trường đã báo cáo bản ghi mới được thu hồi hoặc thay thế.")
    locked = repo.record(conn, record_id, lock=True)
    assert locked is not None
    return locked


def _require_current(row: dict[str, Any]) -> None:
    if row["status"] != "current":
        word = "đã bị thu hồi" if row["status"] == "withdrawn" else "đã được thay thế"
        raise errors.NotCurrent(f"Phiên bản {row['version']} {word}; chỉ thay đổi được phiên bản hiện hành.")


def replace(ctx: Context, request: Request, record_id: str) -> Response:
    school_id = auth.school_of(ctx.secret, request.headers.get("Authorization"))
    _key(request)
    body = _body(request, ReplaceBody)
    pdf, xml = _decode(body.pdf, "pdf"), _decode(body.xml, "xml")
    fingerprint = _fingerprint(
        "replace", record_id, repo.sha256(pdf), repo.sha256(xml), body.reason, body.assessment or ""
    )

    def work(conn: Connection, key: str) -> tuple[int, dict[str, Any]]:
        peeked, _ = documents.peek(xml)
        if peeked:  # same lock as a submission of this year record, so the two never interleave
            repo.lock_year_record(conn, peeked)
        old = _owned(conn, school_id, record_id)
        today = ctx.clock.today()
        rules.check_before_cutoff(
            today, ctx.cutoffs.of(old["school_year"], old["assessment"]), "thay thế bản ghi"
        )
        _require_current(old)
        if body.assessment is not None and body.assessment != old["assessment"]:
            raise errors.AssessmentMismatch("Bản thay thế phải cùng đợt đánh giá với bản ghi được thay thế.")
        identity = _checked_documents(ctx, conn, school_id, pdf, xml)
        # Platforms may give each version its own year record id (ours do): the province files a year record
        # under the student's học bạ and the school year.
        same_year = (identity.transcript_id, identity.school_year) == (
            old["transcript_id"],
            old["school_year"],
        )
        rules.check_new_version(old["version"], identity.version, same_year)
        now = ctx.clock.now()
        repo.set_record(conn, old["id"], status="replaced", replaced_at=now)
        row = _new_row(
            conn, identity, school_id, old["assessment"], pdf, xml, key, now,
            replaces_id=old["id"], replace_reason=body.reason,
        )  # fmt: skip
        repo.insert_record(conn, row)
        log.info("gateway.replaced", record_id=row["id"], replaces=old["id"])
        return 201, represent(ctx, repo.record(conn, row["id"]) or row, school_id, today)

    return _idempotent(ctx, request, school_id, "replace", fingerprint, work, xml)


def withdraw(ctx: Context, request: Request, record_id: str) -> Response:
    """Thu hồi: idempotent by nature (withdrawing a withdrawn record answers with it), so no key is required."""
    school_id = auth.school_of(ctx.secret, request.headers.get("Authorization"))
    body = _body(request, WithdrawBody)
    with ctx.engine.begin() as conn:
        row = _owned(conn, school_id, record_id)
        today = ctx.clock.today()
        if row["status"] != "withdrawn":
            rules.check_before_cutoff(
                today, ctx.cutoffs.of(row["school_year"], row["assessment"]), "thu hồi bản ghi"
            )
            _require_current(row)
            repo.set_record(
                conn, record_id, status="withdrawn", withdrawn_at=ctx.clock.now(), withdraw_reason=body.reason
            )
            row = repo.record(conn, record_id) or row
            log.info("gateway.withdrawn", record_id=record_id)
        return json_response(represent(ctx, row, school_id, today))


def transfer(ctx: Context, request: Request) -> Response:
    """Chuyển quản lý: the receiving school may then read the student's sealed records; the sender keeps them."""
    school_id = auth.school_of(ctx.secret, request.headers.get("Authorization"))
    body = _body(request, TransferBody)
    if body.to_school == school_id:
        raise errors.SameSchool("Không thể chuyển học bạ cho chính trường mình.")
    with ctx.engine.begin() as conn:
        if not repo.owns_transcript(conn, school_id, body.transcript_id):
            raise errors.TranscriptNotFound("Trường chưa báo cáo bản ghi nào của học bạ này.")
        row = repo.add_transfer(
            conn,
            {
                "id": str(uuid.uuid4()),
                "transcript_id": body.transcript_id,
                "from_school": school_id,
                "to_school": body.to_school,
                "created_at": ctx.clock.now(),
            },
        )
    log.info("gateway.transferred", transfer_id=row["id"])
    return json_response({**row, "created_at": vn(row["created_at"]).isoformat()}, 201)
