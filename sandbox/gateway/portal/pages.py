"""HTML of the portal's pages: plain markup, escaped values, landmarks and labels for screen readers."""

from __future__ import annotations

from datetime import datetime
from html import escape
from typing import Any

from sandbox.gateway.clock import VN
from sandbox.gateway.domain.disclosure import ROLE_WORDS

CSS = """
:root { --ink: #1b1f24; --muted: #4a5563; --line: #c9d1dc; --brand: #0b4f8a; --ok: #17603a; --warn: #8a4b00;
        --bad: #9b1c1c; --bg: #f6f8fb; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 "Noto Sans", system-ui, sans-serif; color: var(--ink); background: var(--bg); }
a { color: var(--brand); }
.skip { position: absolute; left: -999px; } .skip:focus { left: 1rem; top: 1rem; background: #fff; padding: .5rem; }
header, main, footer { max-width: 60rem; margin: 0 auto; padding: 1rem 1.25rem; }
header { border-bottom: 3px solid var(--brand); }
header p { margin: 0; color: var(--muted); }
h1 { font-size: 1.6rem; margin: .25rem 0; } h2 { font-size: 1.25rem; margin-top: 2rem; }
section.card { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 1rem 1.25rem;
               margin: 1rem 0; }
label { display: block; font-weight: 600; margin-bottom: .25rem; }
input[type=text] { width: 100%; max-width: 32rem; font: inherit; font-family: monospace; padding: .5rem;
                   border: 1px solid var(--muted); border-radius: 4px; }
input:focus, button:focus, a:focus { outline: 3px solid #f2b632; outline-offset: 2px; }
button { font: inherit; padding: .5rem 1rem; background: var(--brand); color: #fff; border: 0; border-radius: 4px;
         cursor: pointer; margin-top: .5rem; }
.hint { color: var(--muted); font-size: .9rem; }
.message { padding: .75rem 1rem; border-left: 5px solid; background: #fff; margin: 1rem 0; }
.message.ok { border-color: var(--ok); } .message.warn { border-color: var(--warn); }
.message.bad { border-color: var(--bad); }
table { border-collapse: collapse; width: 100%; margin: .5rem 0; background: #fff; }
caption { text-align: left; font-weight: 600; padding: .25rem 0; }
th, td { border: 1px solid var(--line); padding: .35rem .5rem; text-align: left; vertical-align: top; }
th { background: #e6ecf5; } td.mark { text-align: center; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; } dt { font-weight: 600; }
.badge { display: inline-block; padding: .1rem .5rem; border-radius: 999px; font-size: .85rem; color: #fff; }
.badge.effective { background: var(--ok); } .badge.current { background: var(--brand); }
.badge.withdrawn { background: var(--bad); } .badge.replaced { background: var(--muted); }
ol.history li.withdrawn { color: var(--bad); }
td.state.ok { color: var(--ok); font-weight: 600; } td.state.warn { color: var(--warn); }
td.state.bad { color: var(--bad); font-weight: 600; }
form.download { border-top: 1px solid var(--line); margin-top: 1rem; padding-top: .5rem; }
form.download input[type=text] { max-width: 12rem; }
"""

STATUS_WORDS = {
    "effective": "Đã có hiệu lực",
    "current": "Đã tiếp nhận, chưa hết hạn thay đổi",
    "withdrawn": "Đã bị thu hồi",
    "replaced": "Đã được thay thế",
}
PERIOD_WORDS = {
    "hk1": "Học kỳ I",
    "hk2": "Học kỳ II",
    "year": "Cả năm",
    "summer": "Sau kiểm tra lại, rèn luyện hè",
}


def e(value: Any) -> str:
    return escape("" if value is None else str(value), quote=True)


def page(title: str, body: str, status: int = 200) -> tuple[str, int]:
    html = f"""<!doctype html>
<html lang="vi">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(title)} – Cổng tra cứu học bạ</title>
<link rel="stylesheet" href="/static/portal.css">
</head>
<body>
<a class="skip" href="#noi-dung">Bỏ qua đến nội dung chính</a>
<header><p>Sở Giáo dục và Đào tạo</p><h1><a href="/">Cổng tra cứu học bạ</a></h1></header>
<main id="noi-dung">
{body}
</main>
<footer class="hint">Trang này không hiển thị ngày sinh của học sinh và chỉ hiển thị số định danh cá nhân ở
dạng đã ẩn; bản PDF đã ký số chỉ được cung cấp cho người nhập đúng ngày sinh
(Luật Bảo vệ dữ liệu cá nhân số 91/2025/QH15).</footer>
</body>
</html>"""
    return html, status


def lookup_form(value: str = "", error: str | None = None) -> str:
    described = ' aria-describedby="loi-ma" aria-invalid="true"' if error else ' aria-describedby="goi-y-ma"'
    message = f'<p id="loi-ma" class="message bad" role="alert">{e(error)}</p>' if error else ""
    return f"""<section class="card" aria-labelledby="tieu-de-tra-cuu">
<h2 id="tieu-de-tra-cuu">Tra cứu học bạ số</h2>
{message}
<form method="get" action="/tra-cuu">
<label for="ma">Mã số tra cứu (in ở cuối mỗi trang học bạ)</label>
<input type="text" id="ma" name="ma" value="{e(value)}" maxlength="64" autocomplete="off" spellcheck="false"
 required{described}>
<p id="goi-y-ma" class="hint">Gồm 32 ký tự, chữ số 0–9 và chữ cái a–f.</p>
<button type="submit">Tra cứu</button>
</form>
</section>"""


def check_form(code: str = "") -> str:
    return f"""<section class="card" aria-labelledby="tieu-de-kiem-tra">
<h2 id="tieu-de-kiem-tra">Kiểm tra tệp PDF học bạ</h2>
<form method="post" action="/kiem-tra" enctype="multipart/form-data">
<input type="hidden" name="ma" value="{e(code)}">
<label for="tep">Chọn tệp PDF cần kiểm tra</label>
<input type="file" id="tep" name="tep" accept="application/pdf,.pdf" required>
<p class="hint">Cổng so sánh mã băm SHA-256 của tệp với các bản đã được nhà trường báo cáo.</p>
<button type="submit">Kiểm tra tệp</button>
</form>
</section>"""


def year_section(view: dict[str, Any]) -> str:
    """One school year of the học bạ: status, content read from its XML, the PDF link and the history."""
    latest = view["latest"]
    status = view["status"]
    heading = f"Năm học {e(latest['school_year'])} – lớp {e(view['content']['class_name'] if view['content'] else latest['grade'])}"
    parts = [
        f'<section class="card year" aria-labelledby="nam-{e(latest["id"])}">',
        f'<h2 id="nam-{e(latest["id"])}">{heading}</h2>',
        f'<p><span class="badge {e(status)}">{e(STATUS_WORDS[status])}</span> '
        f"Phiên bản {e(latest['version'])}. {e(view['status_note'])}</p>",
    ]
    if status == "withdrawn":
        parts.append(
            '<p class="message bad" role="note">Bản ghi năm học này đã bị nhà trường thu hồi'
            f" ngày {e(view['withdrawn_on'])}"
            + (f", lý do: {e(latest['withdraw_reason'])}" if latest["withdraw_reason"] else "")
            + ". Bản đã thu hồi không có giá trị.</p>"
        )
    else:
        parts.append(content_html(view["content"]))
        parts.append(signatures_html(view["verification"]))
        parts.append(download_form(latest))
    parts.append('<h3>Lịch sử phiên bản</h3><ol class="history">')
    for line, css in view["history"]:
        parts.append(f'<li class="{e(css)}">{e(line)}</li>')
    parts.append("</ol></section>")
    return "\n".join(parts)


def content_html(content: dict[str, Any]) -> str:
    rows = "".join(
        f'<tr><th scope="row">{e(s["name"])}</th><td class="mark">{e(s["hk1"])}</td>'
        f'<td class="mark">{e(s["hk2"])}</td><td class="mark">{e(s["year"])}</td><td>{e(s["teacher"])}</td></tr>'
        for s in content["subjects"]
    )
    periods = "".join(
        f"<li>{e(PERIOD_WORDS.get(p['period'], p['period']))}: "
        + "; ".join(
            f"{label} {e(value)}"
            for label, value in (
                ("học tập", p["learning"]),
                ("rèn luyện", p["conduct"]),
                ("nghỉ (buổi)", p["absences"]),
            )
            if value
        )
        + "</li>"
        for p in content["periods"]
    )
    extras = "".join(
        f"<dt>{label}</dt><dd>{e(value)}</dd>"
        for label, value in (
            ("Đánh giá cuối năm", content["year_result"]),
            ("Lên lớp", content["promotion"]),
            ("Lên lớp sau kiểm tra lại, rèn luyện hè", content["promotion_after_summer"]),
            ("Khen thưởng", content["award"]),
            ("Phẩm chất", ", ".join(f"{n}: {v}" for n, v in content["qualities"])),
            ("Năng lực", ", ".join(f"{n}: {v}" for n, v in content["competencies"])),
        )
        if value
    )
    # The birth date is never shown, not even its year: it is what releases the signed PDF.
    masked = (
        '<dt>Số định danh cá nhân</dt><dd class="personal-id">'
        f'{e(content["personal_id_masked"])} <span class="hint">(đã ẩn)</span></dd>'
        if content["personal_id_masked"]
        else ""
    )
    return f"""<dl>
<dt>Trường</dt><dd>{e(content["school_name"])}</dd>
<dt>Tỉnh/thành phố</dt><dd>{e(content["province"])}</dd>
<dt>Năm học</dt><dd>{e(content["school_year"])}</dd>
<dt>Lớp</dt><dd>{e(content["class_name"])} (khối {e(content["grade"])})</dd>
<dt>Họ và tên học sinh</dt><dd class="student-name">{e(content["full_name"])}</dd>
{masked}
</dl>
<table>
<caption>Kết quả các môn học</caption>
<thead><tr><th scope="col">Môn học</th><th scope="col">Học kỳ I</th><th scope="col">Học kỳ II</th>
<th scope="col">Cả năm</th><th scope="col">Giáo viên</th></tr></thead>
<tbody>{rows}</tbody>
</table>
<h3>Kết quả rèn luyện và học tập</h3>
<ul>{periods}</ul>
<dl>{extras}</dl>"""


def _signature_state(s: dict[str, Any]) -> tuple[str, str]:
    if not s.get("intact"):
        return "bad", "Đã bị thay đổi sau khi ký"
    if not s.get("valid"):
        return "bad", "Chữ ký không hợp lệ"
    if not s.get("trusted"):
        return "warn", "Nguyên vẹn; chưa xác minh được chứng thư số"
    return "ok", "Nguyên vẹn, hợp lệ"


def _signed_at(value: Any) -> str:
    if not value:
        return ""
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    return moment.astimezone(VN).strftime("%H:%M ngày %d/%m/%Y") if moment.tzinfo else str(value)


def signatures_html(verification: dict[str, Any] | None) -> str:
    """The gateway's own verdict on the signed PDF, recorded when it accepted it: who signed, as what, when."""
    head = '<h3 id="chu-ky">Chữ ký số</h3>'
    if verification is None:
        return head + '<p class="message warn">Chưa có kết quả kiểm tra chữ ký số cho phiên bản này.</p>'
    day = verification["verified_at"].astimezone(VN).strftime("%d/%m/%Y")
    if not verification["detailed"]:
        return head + (
            f'<p class="message warn" data-verdict="undetailed">Cổng đã tiếp nhận bản này ngày {e(day)}; '
            "bộ kiểm tra của cổng không báo cáo chi tiết từng chữ ký.</p>"
        )
    signatures = sorted(verification["signatures"], key=lambda s: s.get("order") or 0)
    all_ok = verification["passed"] and all(_signature_state(s)[0] == "ok" for s in signatures)
    verdict = (
        f'<p class="message ok" role="status" data-verdict="passed">Cổng đã kiểm tra khi tiếp nhận ngày {e(day)}: '
        f"cả {len(signatures)} chữ ký số hợp lệ, tệp còn nguyên vẹn kể từ khi ký.</p>"
        if all_ok
        else f'<p class="message bad" role="status" data-verdict="failed">Kết quả kiểm tra ngày {e(day)}: '
        "có chữ ký không hợp lệ hoặc tệp đã bị thay đổi.</p>"
    )
    rows = []
    for s in signatures:
        css, state = _signature_state(s)
        role = ROLE_WORDS.get(s.get("role") or "", s.get("role") or "")
        if s.get("on_behalf_of"):
            role += f" (ký thay {s['on_behalf_of']})"
        rows.append(
            f'<tr><td class="mark">{e(s.get("order"))}</td><td>{e(role)}</td><td>{e(s.get("signer"))}</td>'
            f'<td>{e(_signed_at(s.get("time")))}</td><td class="state {css}">{e(state)}</td></tr>'
        )
    return (
        head
        + verdict
        + '<table class="signatures"><caption>Các chữ ký trên bản PDF, theo thứ tự ký</caption>'
        '<thead><tr><th scope="col">Thứ tự</th><th scope="col">Vai trò</th><th scope="col">Người ký</th>'
        '<th scope="col">Thời điểm ký</th><th scope="col">Tình trạng</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def download_form(latest: dict[str, Any], error: str | None = None) -> str:
    """The signed PDF is a second step: whoever holds the paper knows the student's birth date."""
    rid = e(latest["id"])
    described = f' aria-describedby="loi-ngay-sinh-{rid}" aria-invalid="true"' if error else ""
    message = f'<p id="loi-ngay-sinh-{rid}" class="message bad" role="alert">{e(error)}</p>' if error else ""
    return f"""<form method="post" action="/hocba/{e(latest["lookup_code"])}/{rid}.pdf" class="download">
<h3>Tải bản PDF đã ký số</h3>
{message}
<label for="ngay-sinh-{rid}">Ngày sinh của học sinh (ngày/tháng/năm)</label>
<input type="text" id="ngay-sinh-{rid}" name="ngay_sinh" inputmode="numeric" placeholder="dd/mm/yyyy"
 maxlength="10" autocomplete="off" required{described}>
<p class="hint">Bản PDF có số định danh cá nhân và ngày sinh của học sinh, nên chỉ được cung cấp cho người
biết đầy đủ ngày sinh in trên học bạ. Sau một số lần thử không thành công, cổng tạm dừng tải bản PDF này và cho
biết khi nào có thể thử lại.</p>
<button type="submit">Tải bản PDF đã ký số (phiên bản {e(latest["version"])})</button>
</form>"""


def accesses_link(code: str) -> str:
    return (
        '<p class="hint"><a href="/hocba/'
        + e(code)
        + '/truy-cap">Gia đình học sinh: xem ai đã truy cập học bạ '
        "này và tải bản PDF khi nào</a></p>"
    )


def accesses_form(code: str, error: str | None = None) -> str:
    described = ' aria-describedby="loi-ngay-sinh" aria-invalid="true"' if error else ""
    message = f'<p id="loi-ngay-sinh" class="message bad" role="alert">{e(error)}</p>' if error else ""
    return f"""<form method="post" action="/hocba/{e(code)}/truy-cap" class="download">
<h2>Ai đã truy cập học bạ này</h2>
{message}
<p class="hint">Danh sách mọi lần xem trang tra cứu, tải bản PDF đã ký số và tải học bạ của các trường qua cổng
này chỉ dành cho học sinh và gia đình: nhập ngày sinh in trên học bạ. Sau một số lần thử không thành công, cổng
tạm dừng và cho biết khi nào có thể thử lại.</p>
<label for="ngay-sinh">Ngày sinh của học sinh (ngày/tháng/năm)</label>
<input type="text" id="ngay-sinh" name="ngay_sinh" inputmode="numeric" placeholder="dd/mm/yyyy"
 maxlength="10" autocomplete="off" required{described}>
<button type="submit">Xem danh sách truy cập</button>
</form>"""


ACCESS_WORDS = {
    "record_page": "Xem trang tra cứu học bạ",
    "pdf": "Tải bản PDF đã ký số",
    "api_pdf": "Tải bản PDF qua giao diện của trường",
    "api_xml": "Tải gói dữ liệu XML qua giao diện của trường",
    "family_view": "Xem danh sách truy cập này",
    "extract": "Tải bản trích lục",
}


def access_list(code: str, seen: list[dict[str, Any]]) -> str:
    """The accesses, newest first: when (Vietnam's time), what, and who where the request named an organisation."""
    rows = []
    for a in seen:
        what = ACCESS_WORDS.get(a["what"], a["what"])
        if a["school_year"]:
            what += f" (năm học {a['school_year']}, phiên bản {a['version']})"
        who = (
            "Cổng tra cứu công khai (không xác định người xem)"
            if a["organisation"] == "portal"
            else f"Trường có mã {a['organisation']}"
        )
        when = a["at"].astimezone(VN)
        rows.append(f"<tr><td>{when:%H:%M} ngày {when:%d/%m/%Y}</td><td>{e(what)}</td><td>{e(who)}</td></tr>")
    table = (
        '<table class="accesses"><caption>Các lần truy cập, mới nhất trước</caption><thead><tr>'
        '<th scope="col">Thời điểm</th><th scope="col">Truy cập</th><th scope="col">Tổ chức</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
        if rows
        else '<p class="message ok">Chưa có lần truy cập nào.</p>'
    )
    return (
        f'<section class="card" aria-labelledby="truy-cap"><h2 id="truy-cap">Ai đã truy cập học bạ này</h2>'
        f'{table}<p><a href="/hocba/{e(code)}">Quay lại trang học bạ</a></p></section>'
    )


def extract_form(code: str, years: list[str], error: str | None = None) -> str:
    described = ' aria-describedby="loi-trich-luc" aria-invalid="true"' if error else ""
    message = f'<p id="loi-trich-luc" class="message bad" role="alert">{e(error)}</p>' if error else ""
    boxes = "".join(
        f'<label><input type="checkbox" name="nam" value="{e(y)}" checked> Năm học {e(y)}</label><br>'
        for y in years
    )
    return f"""<form method="post" action="/hocba/{e(code)}/trich-luc" class="download">
<h2>Tải bản trích lục học bạ</h2>
{message}
<p class="hint">Bản trích lục gồm bản PDF và gói dữ liệu XML của mỗi năm học đã chọn, đúng như nhà trường đã báo cáo
(có chữ ký số của giáo viên, hiệu trưởng và con dấu của trường), cùng danh mục có chữ ký số của Sở. Bản PDF có số
định danh cá nhân và ngày sinh, nên chỉ dành cho người biết đầy đủ ngày sinh in trên học bạ.</p>
<fieldset><legend>Các năm học</legend>{boxes}</fieldset>
<label for="ngay-sinh-trich-luc">Ngày sinh của học sinh (ngày/tháng/năm)</label>
<input type="text" id="ngay-sinh-trich-luc" name="ngay_sinh" inputmode="numeric" placeholder="dd/mm/yyyy"
 maxlength="10" autocomplete="off" required{described}>
<button type="submit">Tải bản trích lục</button>
</form>"""


def check_result(kind: str, message: str, link: str | None) -> str:
    css = {"current": "ok", "replaced": "warn", "withdrawn": "bad", "unknown": "bad"}[kind]
    more = f' <a href="{e(link)}">Xem trang tra cứu của học bạ này</a>.' if link else ""
    return (
        f'<section class="card" aria-labelledby="ket-qua"><h2 id="ket-qua">Kết quả kiểm tra tệp</h2>'
        f'<p class="message {css}" role="status" data-result="{e(kind)}">{e(message)}{more}</p></section>'
    )
