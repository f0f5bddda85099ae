"""The portal's handlers: lookup by code, the record page with its history, PDF download, upload check."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from itertools import groupby
from typing import Any

from werkzeug.utils import redirect
from werkzeug.wrappers import Request, Response

from sandbox.gateway import documents
from sandbox.gateway import extract as family_extract
from sandbox.gateway.clock import VN, vn_day
from sandbox.gateway.context import Context
from sandbox.gateway.domain import disclosure, rules
from sandbox.gateway.portal import pages
from sandbox.gateway.portal.limits import client_address
from sandbox.gateway.store import repository as repo
from sandbox.gateway.store.attempts import Refused, Reserved
from services.runtime.logging import get_logger

log = get_logger(__name__)

NO_BIRTH_DATE = (
    "Học bạ này không ghi ngày sinh nên cổng không thể xác nhận người tải; vui lòng liên hệ nhà trường để nhận "
    "bản PDF."
)
BAD_DATE = "Ngày sinh chưa đúng dạng ngày/tháng/năm, ví dụ 05/09/2014."
INVALID_CODE = "Mã tra cứu không hợp lệ: mã gồm đúng 32 ký tự, là chữ số 0–9 hoặc chữ cái a–f."
# Uploads larger than a year record could ever be are refused before reading them into memory.
MAX_UPLOAD = 20 * 1024 * 1024


def _html(page: tuple[str, int]) -> Response:
    html, status = page
    return Response(html, status=status, mimetype="text/html", headers={"Cache-Control": "no-store"})


def css(ctx: Context, request: Request) -> Response:
    return Response(pages.CSS, mimetype="text/css", headers={"Cache-Control": "max-age=3600"})


def home(ctx: Context, request: Request) -> Response:
    return _html(pages.page("Tra cứu học bạ", pages.lookup_form() + pages.check_form()))


def lookup(ctx: Context, request: Request) -> Response:
    raw = request.args.get("ma", "")
    code = rules.normalise_lookup_code(raw)
    if code is None:
        body = pages.lookup_form(raw, INVALID_CODE) + pages.check_form()
        return _html(pages.page("Mã tra cứu không hợp lệ", body, 400))
    return redirect(f"/hocba/{code}", 303)


def _year_view(ctx: Context, conn: Any, versions: list[dict[str, Any]]) -> dict[str, Any]:
    today = ctx.clock.today()
    latest = versions[-1]
    cutoff = ctx.cutoffs.of(latest["school_year"], latest["assessment"])
    status = rules.public_status(latest["status"], today, cutoff)
    note = {
        "effective": f"Hết hạn thay đổi ngày {rules.vn_date(cutoff)}; bản ghi không thể thay đổi.",
        "current": f"Nhà trường còn có thể thay thế hoặc thu hồi đến hết ngày {rules.vn_date(cutoff)}.",
        "withdrawn": "",
    }[status]
    by_id = {v["id"]: v for v in versions}
    history: list[tuple[str, str]] = []
    for v in versions:
        replaced = by_id.get(v["replaces_id"] or "")
        history.append(
            (
                rules.history_line(
                    v["version"],
                    replaced["version"] if replaced else None,
                    "accepted",
                    vn_day(v["accepted_at"]),
                    v["replace_reason"],
                ),
                "replaced" if v["status"] == "replaced" else "",
            )
        )
        if v["status"] == "withdrawn":
            history.append(
                (
                    rules.history_line(
                        v["version"], None, "withdrawn", vn_day(v["withdrawn_at"]), v["withdraw_reason"]
                    ),
                    "withdrawn",
                )
            )
    content = None
    if status != "withdrawn":
        xml = repo.document(conn, latest["xml_sha256"])
        content = documents.content(xml) if xml else None
    return {
        "latest": latest,
        "status": status,
        "status_note": note,
        "content": content,
        "verification": repo.verification(conn, latest["pdf_sha256"]),
        "history": history,
        "withdrawn_on": rules.vn_date(vn_day(latest["withdrawn_at"])) if latest["withdrawn_at"] else "",
    }


def record(ctx: Context, request: Request, code: str) -> Response:
    normal = rules.normalise_lookup_code(code)
    if normal is None:
        return _html(pages.page("Mã tra cứu không hợp lệ", pages.lookup_form(code, INVALID_CODE), 400))
    if normal != code:
        return redirect(f"/hocba/{normal}", 301)
    with ctx.engine.connect() as conn:
        rows = repo.by_lookup_code(conn, code)
        if not rows:
            body = pages.lookup_form(code, "Không tìm thấy học bạ nào với mã tra cứu này.")
            return _html(pages.page("Không tìm thấy học bạ", body, 404))
        years = [
            _year_view(ctx, conn, list(group))
            for _, group in groupby(rows, key=lambda r: (r["school_year"], r["year_record_id"]))
        ]
    _noted(ctx, rows, "record_page")
    body = (
        f"<p>Mã số tra cứu: <code>{pages.e(code)}</code></p>"
        + "\n".join(pages.year_section(view) for view in years)
        + pages.check_form(code)
        + pages.accesses_link(code)
    )
    return _html(pages.page("Học bạ số", body))


def _noted(ctx: Context, rows: list[dict[str, Any]], what: str, **details: Any) -> None:
    """Each học bạ these rows belong to was opened (one, unless the student changed school under another)."""
    with ctx.engine.begin() as conn:
        for transcript_id in sorted({r["transcript_id"] for r in rows}):
            repo.note_access(conn, transcript_id, what, ctx.clock.now(), **details)


def _download_page(row: dict[str, Any], error: str, status: int) -> Response:
    body = f"<p>Học bạ năm học {pages.e(row['school_year'])}, phiên bản {pages.e(row['version'])}.</p>"
    body += pages.download_form(row, error or None)
    body += f'<p><a href="/hocba/{pages.e(row["lookup_code"])}">Quay lại trang học bạ</a></p>'
    return _html(pages.page("Tải bản PDF đã ký số", body, status))


def _locked(refused: Refused) -> Response:
    """One answer for every lockout: it never says whether the code, the record or the birth date was wrong, nor
    which limit was reached (an unknown code is locked out exactly like a known one)."""
    until = refused.until.astimezone(VN)
    wait = refused.retry_after_s
    about = f"khoảng {-(-wait // 60)} phút nữa" if wait < 3600 else f"khoảng {-(-wait // 3600)} giờ nữa"
    body = (
        '<p class="message bad" role="alert">Cổng đã tạm dừng tải bản PDF này vì có quá nhiều lần thử không '
        f"thành công. Vui lòng thử lại sau {until:%H:%M} ngày {until:%d/%m/%Y} ({about}).</p>"
        '<p><a href="/">Về trang tra cứu</a></p>'
    )
    response = _html(pages.page("Tạm dừng tải bản PDF", body, 429))
    response.headers["Retry-After"] = str(wait)
    return response


def pdf(ctx: Context, request: Request, code: str, record_id: str) -> Response:
    """The signed PDF prints the personal ID and the birth date: it is served only to whoever also gives the full
    birth date (the holder of the paper has it), and attempts are limited per lookup code and per client.

    Every POST is counted before anything is looked up, and forgiven only when it released the PDF or was no
    guess (an unreadable date, a record without a birth date): an unknown code, a replaced record and a wrong
    date all count alike, and the lockout answer is the same for all of them. Only the current version is
    offered: a replaced or withdrawn PDF must not circulate from the portal.
    """
    if request.method == "POST":
        reserved = _reserve(ctx, request, code, "portal.pdf_locked")
        if isinstance(reserved, Response):
            return reserved
        response, counts = _release(ctx, request, code, record_id, reserved)
        if not counts:
            ctx.attempts.forgive(reserved.attempt)
        return response
    with ctx.engine.connect() as conn:
        row = repo.record(conn, record_id)
    if row is None or row["lookup_code"] != code or row["status"] != "current":
        return _not_found()
    return _download_page(row, "", 200)


def _reserve(ctx: Context, request: Request, code: str, locked_event: str) -> Reserved | Response:
    """Count an attempt at the birth-date factor against the client and the code before anything is looked up; the
    lockout page when either is full."""
    client = client_address(request.remote_addr, request.headers.get("X-Forwarded-For"), ctx.trusted_proxies)
    reserved = ctx.attempts.reserve(client, code)
    if isinstance(reserved, Refused):
        log.info(locked_event, retry_after_s=reserved.retry_after_s)
        return _locked(reserved)
    return reserved


def _not_found() -> Response:
    return _html(pages.page("Không tìm thấy", "<p>Không có bản PDF hiện hành với địa chỉ này.</p>", 404))


def _release(
    ctx: Context, request: Request, code: str, record_id: str, reserved: Reserved
) -> tuple[Response, bool]:
    """The answer to one counted attempt, and whether it stays counted."""
    with ctx.engine.connect() as conn:
        row = repo.record(conn, record_id)
        if row is None or row["lookup_code"] != code or row["status"] != "current":
            return _not_found(), True
        recorded = documents.birth_date(repo.document(conn, row["xml_sha256"]) or b"")
        if recorded is None:
            return _download_page(row, NO_BIRTH_DATE, 403), False
        given = disclosure.parse_birth_date(request.form.get("ngay_sinh", ""))
        if given is None:
            return _download_page(row, BAD_DATE, 400), False
        if not disclosure.birth_date_matches(given, recorded):
            log.info("portal.birth_date_refused", record_id=record_id, attempts_left=reserved.left)
            if reserved.left:
                more = f" Bạn còn {reserved.left} lần thử."
            else:
                until = (reserved.full_until or datetime.now(VN)).astimezone(VN)
                more = f" Bạn đã hết lượt thử; vui lòng thử lại sau {until:%H:%M} ngày {until:%d/%m/%Y}."
            return _download_page(row, "Ngày sinh không khớp với học bạ." + more, 403), True
        content = repo.document(conn, row["pdf_sha256"]) or b""
    _noted(ctx, [row], "pdf", school_year=row["school_year"], version=row["version"])
    response = Response(
        content,
        mimetype="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="hocba-{row["school_year"]}-v{row["version"]}.pdf"',
            "Cache-Control": "no-store",
        },
    )
    return response, False


def _holder(
    ctx: Context, request: Request, code: str, form: Callable[[str, list[str], str | None], str], title: str
) -> Response | tuple[str, list[dict[str, Any]]]:
    """The family's second factor, as for the signed PDF: the code's records if the student's full birth date was
    given, under the same attempt limits (a wrong date counts; an unknown code is answered like a wrong date, never
    "unknown"); else the page to answer with. ``form(code, years, error)`` draws the request again."""
    normal = rules.normalise_lookup_code(code)
    if normal is None:
        return _html(pages.page("Mã tra cứu không hợp lệ", pages.lookup_form(code, INVALID_CODE), 400))
    with ctx.engine.connect() as conn:
        rows = repo.by_lookup_code(conn, normal)
    years = sorted({r["school_year"] for r in rows if r["status"] == "current"})
    if request.method == "GET":
        return _html(pages.page(title, form(normal, years, None)))
    reserved = _reserve(ctx, request, normal, "portal.family_locked")
    if isinstance(reserved, Response):
        return reserved
    given = disclosure.parse_birth_date(request.form.get("ngay_sinh", ""))
    if given is None:
        ctx.attempts.forgive(reserved.attempt)
        return _html(pages.page(title, form(normal, years, BAD_DATE), 400))
    with ctx.engine.connect() as conn:
        recorded = [documents.birth_date(repo.document(conn, r["xml_sha256"]) or b"") for r in rows]
    if not any(day is not None and disclosure.birth_date_matches(given, day) for day in recorded):
        log.info("portal.family_refused", attempts_left=reserved.left)
        error = "Mã tra cứu hoặc ngày sinh không khớp với học bạ." + (
            f" Bạn còn {reserved.left} lần thử." if reserved.left else ""
        )
        return _html(pages.page(title, form(normal, years, error), 403))
    ctx.attempts.forgive(reserved.attempt)
    return normal, rows


def accesses(ctx: Context, request: Request, code: str) -> Response:
    """The family's view: every access to the học bạ (the record page, each PDF downloaded, each school's download
    through the API, each extract), shown to whoever gives the student's full birth date (``_holder``)."""
    title = "Ai đã truy cập học bạ"
    held = _holder(ctx, request, code, lambda c, _years, error: pages.accesses_form(c, error), title)
    if isinstance(held, Response):
        return held
    normal, rows = held
    with ctx.engine.connect() as conn:
        seen = repo.accesses(conn, sorted({r["transcript_id"] for r in rows}))
    _noted(ctx, rows, "family_view")  # after the list: this view is in the next one
    return _html(pages.page(title, pages.access_list(normal, seen)))


def extract(ctx: Context, request: Request, code: str) -> Response:
    """The family's extract of chosen years (trích lục): each year's current sealed PDF and signed XML as the school
    reported them, and a manifest the province signs (sandbox/gateway/extract.py); to the birth date's holder."""
    title = "Tải bản trích lục học bạ"
    held = _holder(ctx, request, code, pages.extract_form, title)
    if isinstance(held, Response):
        return held
    normal, rows = held
    by = family_extract.signer(ctx.settings.extract_signer)
    if by is None:
        body = (
            '<p class="message bad">Cổng chưa được cấu hình khóa ký bản trích lục; vui lòng liên hệ Sở.</p>'
        )
        return _html(pages.page(title, body, 503))
    chosen = set(request.form.getlist("nam"))
    current = [r for r in rows if r["status"] == "current" and r["school_year"] in chosen]
    if not current:
        years = sorted({r["school_year"] for r in rows if r["status"] == "current"})
        return _html(
            pages.page(title, pages.extract_form(normal, years, "Hãy chọn ít nhất một năm học."), 400)
        )
    today = ctx.clock.today()
    with ctx.engine.connect() as conn:
        records = [
            (
                r,
                rules.public_status(r["status"], today, ctx.cutoffs.of(r["school_year"], r["assessment"])),
                repo.document(conn, r["pdf_sha256"]) or b"",
                repo.document(conn, r["xml_sha256"]) or b"",
            )
            for r in sorted(current, key=lambda r: r["school_year"])
        ]
    content = family_extract.build(records, by, ctx.clock.now())
    with ctx.engine.begin() as conn:
        for r in current:
            repo.note_access(
                conn,
                r["transcript_id"],
                "extract",
                ctx.clock.now(),
                school_year=r["school_year"],
                version=r["version"],
            )
    return Response(
        content,
        mimetype="application/zip",
        headers={
            "Content-Disposition": 'attachment; filename="hocba-trich-luc.zip"',
            "Cache-Control": "no-store",
        },
    )


def check(ctx: Context, request: Request) -> Response:
    if (request.content_length or 0) > MAX_UPLOAD:
        return _html(pages.page("Tệp quá lớn", "<p class='message bad'>Tệp quá lớn (tối đa 20 MB).</p>", 413))
    upload = request.files.get("tep")
    content = upload.read() if upload else b""
    if not content:
        return _html(pages.page("Chưa chọn tệp", pages.check_form(request.form.get("ma", "")), 400))
    digest = repo.sha256(content)
    with ctx.engine.connect() as conn:
        matches = repo.by_pdf(conn, digest)
        newest = {m["year_record_id"]: repo.latest_version(conn, m["year_record_id"]) for m in matches}
    if not matches:
        kind, message, link = (
            "unknown",
            "Tệp này không phải là bản học bạ đã được nhà trường báo cáo lên cổng "
            "(chưa được đăng ký, hoặc đã bị chỉnh sửa sau khi ký).",
            None,
        )
    else:
        match = matches[-1]
        link = f"/hocba/{match['lookup_code']}"
        year = f"năm học {match['school_year']}"
        if match["status"] == "current":
            kind, message = (
                "current",
                f"Tệp này là bản đã đăng ký hiện hành (phiên bản {match['version']}, {year}).",
            )
        elif match["status"] == "withdrawn":
            day = rules.vn_date(vn_day(match["withdrawn_at"]))
            kind, message = (
                "withdrawn",
                f"Tệp này là phiên bản {match['version']} ({year}) đã bị thu hồi ngày {day}; không có giá trị.",
            )
        else:
            latest = newest.get(match["year_record_id"]) or match
            day = rules.vn_date(vn_day(match["replaced_at"])) if match["replaced_at"] else ""
            kind, message = (
                "replaced",
                f"Tệp này là phiên bản cũ {match['version']} ({year}), đã được thay thế ngày {day}; "
                f"phiên bản mới nhất là phiên bản {latest['version']}.",
            )
    body = pages.check_result(kind, message, link) + pages.check_form(request.form.get("ma", ""))
    return _html(pages.page("Kết quả kiểm tra tệp", body))
