"""The portal's handlers: lookup by code, the record page with its history, PDF download, upload check."""

from __future__ import annotations

from itertools import groupby
from typing import Any

from werkzeug.utils import redirect
from werkzeug.wrappers import Request, Response

from sandbox.gateway import documents
from sandbox.gateway.clock import vn_day
from sandbox.gateway.context import Context
from sandbox.gateway.domain import disclosure, rules
from sandbox.gateway.portal import pages
from sandbox.gateway.store import repository as repo
from services.runtime.logging import get_logger

log = get_logger(__name__)

NO_BIRTH_DATE = (
    "Học bạ này không ghi ngày sinh nên cổng không thể xác nhận người tải; vui lòng liên hệ nhà trường để nhận "
    "bản PDF."
)
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
    body = (
        f"<p>Mã số tra cứu: <code>{pages.e(code)}</code></p>"
        + "\n".join(pages.year_section(view) for view in years)
        + pages.check_form(code)
    )
    return _html(pages.page("Học bạ số", body))


def _download_page(row: dict[str, Any], error: str, status: int) -> Response:
    body = f"<p>Học bạ năm học {pages.e(row['school_year'])}, phiên bản {pages.e(row['version'])}.</p>"
    body += pages.download_form(row, error or None)
    body += f'<p><a href="/hocba/{pages.e(row["lookup_code"])}">Quay lại trang học bạ</a></p>'
    return _html(pages.page("Tải bản PDF đã ký số", body, status))


def pdf(ctx: Context, request: Request, code: str, record_id: str) -> Response:
    """The signed PDF prints the personal ID and the birth date: it is served only to whoever also gives the
    birth date (the holder of the paper has it), and wrong guesses are limited per client.

    Only the current version is offered: a replaced or withdrawn PDF must not circulate from the portal.
    """
    # The socket's address, never X-Forwarded-For: a header the client writes would let it pick its own bucket.
    client = request.remote_addr or "unknown"
    if request.method == "POST" and (wait := ctx.birth_date_failures.retry_after(client)) is not None:
        minutes = max(1, -(-wait // 60))
        body = (
            '<p class="message bad" role="alert">Bạn đã nhập sai ngày sinh quá nhiều lần. '
            f"Vui lòng thử lại sau khoảng {minutes} phút.</p>"
        )
        response = _html(pages.page("Tạm khóa tải bản PDF", body, 429))
        response.headers["Retry-After"] = str(wait)
        return response
    with ctx.engine.connect() as conn:
        row = repo.record(conn, record_id)
        if row is None or row["lookup_code"] != code or row["status"] != "current":
            return _html(
                pages.page("Không tìm thấy", "<p>Không có bản PDF hiện hành với địa chỉ này.</p>", 404)
            )
        if request.method == "GET":
            return _download_page(row, "", 200)
        recorded = documents.birth_date(repo.document(conn, row["xml_sha256"]) or b"")
        if recorded is None:
            return _download_page(row, NO_BIRTH_DATE, 403)
        given = disclosure.parse_birth_date(request.form.get("ngay_sinh", ""))
        if given is None:
            return _download_page(row, "Ngày sinh chưa đúng dạng ngày/tháng/năm, ví dụ 05/09/2014.", 400)
        if not disclosure.birth_date_matches(given, recorded):
            left = ctx.birth_date_failures.fail(client)
            log.info("portal.birth_date_refused", record_id=record_id, attempts_left=left)
            more = (
                f" Bạn còn {left} lần thử." if left else " Bạn đã hết lượt thử, vui lòng thử lại sau 10 phút."
            )
            return _download_page(row, "Ngày sinh không khớp với học bạ." + more, 403)
        content = repo.document(conn, row["pdf_sha256"]) or b""
    return Response(
        content,
        mimetype="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="hocba-{row["school_year"]}-v{row["version"]}.pdf"',
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
