"""The public lookup portal in a real browser (Debian's chromium via Playwright): lookup, history, upload check."""

from __future__ import annotations

import asyncio
import base64
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from services.runtime import http_client
from tests.integration.gateway.support import (
    BIRTH_DATE,
    PERSONAL_ID,
    docs,
    next_version,
    primary_record,
    replace_record,
    set_day,
    sha256,
    submit,
    visitor,
    year_record,
)

pytestmark = [pytest.mark.integration, pytest.mark.browser]

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"{CHROMIUM} missing: `make setup` installs Debian's chromium (playwright install cannot)"
        )
    playwright = sync_playwright().start()
    chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
    yield chromium
    chromium.close()
    # No playwright.stop(): in this eventlet-patched test process it waits forever on its driver's pipe;
    # the driver exits by itself when that pipe closes with the interpreter. Its event loop stays registered as
    # this thread's running loop, though, and every later asyncio.run (pyHanko, in the signing tests) would fail:
    # unregister it.
    asyncio.events._set_running_loop(None)


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(locale="vi-VN")
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    # Chromium reports on the console whatever the portal's Content-Security-Policy blocked: nothing may be.
    blocked: list[str] = []
    tab.on(
        "console",
        lambda message: blocked.append(message.text) if "Content Security Policy" in message.text else None,
    )
    yield tab
    context.close()
    assert blocked == []


def birth_date_traces(html: str, *ids: str) -> list[str]:
    """Whatever of the student's birth date (2012-09-05) a page shows, once the code and record ids (random hex that
    may hold any digits) are taken out."""
    for known in ids:
        html = html.replace(known, "")
    day, month, year = f"{BIRTH_DATE.day:02d}", f"{BIRTH_DATE.month:02d}", str(BIRTH_DATE.year)
    shapes = (year, f"{day}/{month}", f"{BIRTH_DATE.day}/{BIRTH_DATE.month}/", f"-{month}-{day}", "**/**")
    return [shape for shape in shapes if shape in html]


def test_the_home_page_refuses_an_invalid_code_and_finds_a_valid_one_as_printed(gateway, page):
    d = docs(year_record())
    with gateway.client("s1") as school:
        submit(school, d).raise_for_status()
    page.goto(gateway.url + "/")
    assert page.locator("html").get_attribute("lang") == "vi"
    assert page.get_by_role("link", name="Bỏ qua đến nội dung chính").count() == 1
    assert page.get_by_role("main").count() == 1
    page.get_by_label("Mã số tra cứu").fill("12345-không-phải-mã")
    page.get_by_role("button", name="Tra cứu").click()
    alert = page.get_by_role("alert")
    assert "Mã tra cứu không hợp lệ" in alert.inner_text() and "32 ký tự" in alert.inner_text()
    assert page.get_by_label("Mã số tra cứu").get_attribute("aria-invalid") == "true"
    # As a reader copies it from paper: groups of four, capitals.
    code = d.record.lookup_code
    page.get_by_label("Mã số tra cứu").fill(" ".join(code[i : i + 4] for i in range(0, 32, 4)).upper())
    page.get_by_role("button", name="Tra cứu").click()
    # Locators wait in the driver; page.wait_for_url waits in Python's event loop, which eventlet stalls here.
    assert page.locator(".student-name").inner_text() == "Phạm Thị Ngọc Ánh"
    assert page.url == f"{gateway.url}/hocba/{code}"


def test_the_record_page_shows_the_current_content_history_and_download_without_personal_data(gateway, page):
    d = docs(year_record())
    v2 = next_version(d, year_result=None, promotion="Được lên lớp (sau điều chỉnh)")
    with gateway.client("s1") as school:
        first = submit(school, d).json()
        set_day(gateway, "2026-06-03")
        second = replace_record(school, first["id"], v2, "Sửa kết quả lên lớp").json()
    page.goto(f"{gateway.url}/hocba/{d.record.lookup_code}")
    text = page.locator("main").inner_text()
    for expected in (
        "Trường THCS Nguyễn Du",
        "2025-2026",
        "8A1",
        "Phạm Thị Ngọc Ánh",
        "Được lên lớp (sau điều chỉnh)",
    ):
        assert expected in text
    row = page.get_by_role("row", name="Toán")
    assert [c.inner_text() for c in row.locator("td").all()] == ["7,8", "8,3", "8,1", "Nguyễn Thị Hằng"]
    assert "Đã tiếp nhận, chưa hết hạn thay đổi" in text and "30/06/2026" in text
    history = page.locator("ol.history li").all_inner_texts()
    assert history == [
        "Phiên bản 1 được tiếp nhận ngày 20/05/2026",
        "Phiên bản 2 thay thế phiên bản 1 ngày 03/06/2026, lý do: Sửa kết quả lên lớp",
    ]
    html = page.content()
    assert PERSONAL_ID not in html and "0123456789" not in html
    assert birth_date_traces(html, d.record.lookup_code, first["id"], second["id"]) == []
    assert page.locator(".personal-id").inner_text().startswith("*********890")
    assert page.locator(".birth-date").count() == 0 and "Ngày sinh</dt>" not in html
    page.get_by_label("Ngày sinh của học sinh").fill("05/09/2012")
    with page.expect_download() as download:
        page.get_by_role("button", name="Tải bản PDF đã ký số (phiên bản 2)").click()
    assert sha256(Path(download.value.path()).read_bytes()) == second["pdf_sha256"]


def test_after_the_cutoff_the_page_says_the_record_is_effective(gateway, page):
    d = docs(year_record())
    with gateway.client("s1") as school:
        submit(school, d).raise_for_status()
    set_day(gateway, "2026-07-02")
    page.goto(f"{gateway.url}/hocba/{d.record.lookup_code}")
    assert page.locator(".badge").inner_text() == "Đã có hiệu lực"
    assert "Hết hạn thay đổi ngày 30/06/2026" in page.locator("main").inner_text()


def test_a_withdrawn_record_page_says_it_was_withdrawn_and_offers_no_content(gateway, page):
    d = docs(year_record())
    with gateway.client("s1") as school:
        record_id = submit(school, d).json()["id"]
        school.post(
            f"/api/v1/records/{record_id}/withdraw", json={"reason": "Nhầm học sinh"}
        ).raise_for_status()
    page.goto(f"{gateway.url}/hocba/{d.record.lookup_code}")
    text = page.locator("main").inner_text()
    assert "Đã bị thu hồi" in text
    assert "đã bị nhà trường thu hồi ngày 20/05/2026, lý do: Nhầm học sinh" in text
    assert page.locator("ol.history li.withdrawn").inner_text() == (
        "Phiên bản 1 đã bị thu hồi ngày 20/05/2026, lý do: Nhầm học sinh"
    )
    assert page.get_by_role("button", name="Tải bản PDF").count() == 0
    assert page.locator("table").count() == 0 and "Phạm Thị Ngọc Ánh" not in text
    pdf_url = f"{gateway.url}/hocba/{d.record.lookup_code}/{record_id}.pdf"
    with visitor() as reader:
        assert reader.post(pdf_url, data={"ngay_sinh": "05/09/2012"}).status_code == 404


def test_uploading_a_pdf_tells_current_replaced_or_not_registered(gateway, page, tmp_path):
    d = docs(year_record())
    v2 = next_version(d)
    stranger = docs(year_record())
    with gateway.client("s1") as school:
        first = submit(school, d).json()
        replace_record(school, first["id"], v2, "Sửa điểm").raise_for_status()
    results = {}
    for name, content in (("current", v2.pdf), ("old", d.pdf), ("stranger", stranger.pdf)):
        path = tmp_path / f"{name}.pdf"
        path.write_bytes(content)
        page.goto(f"{gateway.url}/hocba/{d.record.lookup_code}")
        page.get_by_label("Chọn tệp PDF cần kiểm tra").set_input_files(str(path))
        page.get_by_role("button", name="Kiểm tra tệp").click()
        status = page.get_by_role("status")
        results[name] = (status.get_attribute("data-result"), status.inner_text())
    assert (
        results["current"][0] == "current"
        and "bản đã đăng ký hiện hành (phiên bản 2" in results["current"][1]
    )
    assert results["old"][0] == "replaced" and "phiên bản cũ 1" in results["old"][1]
    assert "phiên bản mới nhất là phiên bản 2" in results["old"][1]
    assert (
        results["stranger"][0] == "unknown" and "không phải là bản học bạ đã được" in results["stranger"][1]
    )


def test_unknown_and_malformed_codes_get_vietnamese_pages_not_errors(gateway):
    unknown = http_client.get(f"{gateway.url}/hocba/{uuid.uuid4().hex}")
    malformed = http_client.get(f"{gateway.url}/hocba/xyz")
    empty = http_client.get(f"{gateway.url}/tra-cuu", params={"ma": ""})
    assert unknown.status_code == 404 and "Không tìm thấy học bạ nào với mã tra cứu này." in unknown.text
    assert malformed.status_code == 400 and "Mã tra cứu không hợp lệ" in malformed.text
    assert empty.status_code == 400 and unknown.headers["content-type"].startswith("text/html")


def test_no_page_carries_the_personal_id_even_when_the_xml_does(gateway):
    d = docs(year_record())
    assert PERSONAL_ID.encode() in d.xml  # the school's package has it; the public page must not
    with gateway.client("s1") as school:
        submit(school, d).raise_for_status()
    page_html = http_client.get(f"{gateway.url}/hocba/{d.record.lookup_code}").text
    assert PERSONAL_ID not in page_html and "PersonalId" not in page_html


def test_no_page_shows_any_part_of_the_birth_date(gateway):
    d = docs(year_record())
    with gateway.client("s1") as school:
        record_id = submit(school, d).json()["id"]
    code = d.record.lookup_code
    with visitor() as reader:
        pages = {
            "record": reader.get(f"{gateway.url}/hocba/{code}").text,
            "download form": reader.get(_pdf_url(gateway, d, record_id)).text,
            "wrong date": reader.post(_pdf_url(gateway, d, record_id), data={"ngay_sinh": "01/01/2011"}).text,
            "check": reader.post(
                f"{gateway.url}/kiem-tra", files={"tep": ("hocba.pdf", d.pdf, "application/pdf")}
            ).text,
        }
    assert "Phạm Thị Ngọc Ánh" in pages["record"]  # the page is the real one
    assert {name: birth_date_traces(html, code, record_id) for name, html in pages.items()} == {
        name: [] for name in pages
    }


def test_checking_a_withdrawn_pdf_says_it_has_no_value(gateway):
    d = docs(year_record())
    with gateway.client("s1") as school:
        record_id = submit(school, d).json()["id"]
        school.post(f"/api/v1/records/{record_id}/withdraw", json={"reason": "Sai lớp"}).raise_for_status()
    answer = http_client.post(
        f"{gateway.url}/kiem-tra", files={"tep": ("hocba.pdf", d.pdf, "application/pdf")}
    )
    empty = http_client.post(f"{gateway.url}/kiem-tra", data={"ma": ""})
    assert answer.status_code == 200 and 'data-result="withdrawn"' in answer.text
    assert "đã bị thu hồi ngày 20/05/2026; không có giá trị" in answer.text
    assert empty.status_code == 400


def _pdf_url(gateway, d, record_id: str) -> str:
    return f"{gateway.url}/hocba/{d.record.lookup_code}/{record_id}.pdf"


def test_the_signed_pdf_is_refused_without_or_with_a_wrong_birth_date_and_served_with_the_right_one(gateway):
    d = docs(year_record())
    with gateway.client("s1") as school:
        record_id = submit(school, d).json()["id"]
    url = _pdf_url(gateway, d, record_id)
    with visitor() as reader:
        form = reader.get(url)
        missing = reader.post(url, data={})
        wrong = reader.post(url, data={"ngay_sinh": "06/09/2012"})
        iso = reader.post(url, data={"ngay_sinh": BIRTH_DATE.isoformat()})
        typed = reader.post(url, data={"ngay_sinh": "5/9/2012"})
    assert form.status_code == 200 and "application/pdf" not in form.headers["content-type"]
    assert 'name="ngay_sinh"' in form.text and b"%PDF" not in form.content
    assert missing.status_code == 400 and "Ngày sinh chưa đúng dạng ngày/tháng/năm" in missing.text
    assert wrong.status_code == 403 and "Ngày sinh không khớp với học bạ." in wrong.text
    assert "Bạn còn 4 lần thử." in wrong.text and b"%PDF" not in wrong.content
    for served in (iso, typed):
        assert served.status_code == 200 and served.headers["content-type"] == "application/pdf"
        assert sha256(served.content) == sha256(d.pdf) and served.headers["cache-control"] == "no-store"


def test_five_wrong_birth_dates_from_one_client_make_it_wait_and_leave_other_clients_alone(gateway):
    d = docs(year_record())
    with gateway.client("s1") as school:
        record_id = submit(school, d).json()["id"]
    url = _pdf_url(gateway, d, record_id)
    with visitor() as guesser, visitor() as other:
        answers = [
            guesser.post(url, data={"ngay_sinh": f"{day:02d}/01/2012"}).status_code for day in range(1, 6)
        ]
        assert answers == [403] * 5
        blocked = guesser.post(url, data={"ngay_sinh": "05/09/2012"})  # even the right one, now
        spoofed = guesser.post(url, data={"ngay_sinh": "05/09/2012"}, headers={"X-Forwarded-For": "10.1.2.3"})
        served = other.post(url, data={"ngay_sinh": "05/09/2012"})
    assert blocked.status_code == 429 and 0 < int(blocked.headers["retry-after"]) <= 600
    assert (
        "Vui lòng thử lại sau" in blocked.text
        and "phút nữa" in blocked.text
        and b"%PDF" not in blocked.content
    )
    assert spoofed.status_code == 429
    assert served.status_code == 200 and sha256(served.content) == sha256(d.pdf)


def test_a_record_without_a_birth_date_never_releases_its_pdf(gateway):
    d = docs(year_record(birth_date=None))
    with gateway.client("s1") as school:
        record_id = submit(school, d).json()["id"]
    with visitor() as reader:
        refused = reader.post(_pdf_url(gateway, d, record_id), data={"ngay_sinh": "05/09/2012"})
    assert refused.status_code == 403 and "không ghi ngày sinh" in refused.text


def test_qualities_and_competencies_are_shown_in_vietnamese_not_as_codes(gateway):
    d = docs(
        primary_record(
            qualities=(("cham_chi", "T"), ("trung_thuc", "Đ")), competencies=(("tu_chu_tu_hoc", "C"),)
        )
    )
    with gateway.client("s1") as school:
        submit(school, d).raise_for_status()
    text = http_client.get(f"{gateway.url}/hocba/{d.record.lookup_code}").text
    assert "Chăm chỉ: Tốt, Trung thực: Đạt" in text and "Tự chủ và tự học: Cần cố gắng" in text
    assert "cham_chi" not in text and "tu_chu_tu_hoc" not in text


SIGN = """
import sys
from pathlib import Path
from tests.integration.signing.signed import signed_record
out, signed = Path(sys.argv[1]), signed_record()
(out / "signed.pdf").write_bytes(signed.pdf)
(out / "signed.xml").write_bytes(signed.xml)
(out / "steps").write_text(str(len(signed.plan.steps)))
"""


def test_the_page_shows_the_verdict_of_the_gateways_own_verification_of_each_signature(gateway, tmp_path):
    import subprocess
    import sys

    from tests.integration.gateway.support import ROOT, GatewayProcess

    # Signed in a process of its own: Playwright's event loop in this one stops pyHanko's asyncio.run.
    subprocess.run(
        [sys.executable, "-c", SIGN, str(tmp_path)], cwd=ROOT, check=True, capture_output=True, timeout=120
    )
    pdf, xml = (tmp_path / "signed.pdf").read_bytes(), (tmp_path / "signed.xml").read_bytes()
    steps = int((tmp_path / "steps").read_text())
    verifying = GatewayProcess(
        gateway.db_url, verifier="services.signing.verifier:check", env={"GATEWAY_TODAY": "2026-05-20"}
    ).start(tmp_path / "verifying.log")
    try:
        with verifying.client("s-thu-nghiem") as school:
            accepted = school.post(
                "/api/v1/records",
                json={
                    "assessment": "regular",
                    "pdf": base64.b64encode(pdf).decode(),
                    "xml": base64.b64encode(xml).decode(),
                },
                headers={"Idempotency-Key": uuid.uuid4().hex},
            )
        assert accepted.status_code == 201, accepted.text
        code = accepted.json()["lookup_code"]
        html = http_client.get(f"{verifying.url}/hocba/{code}").text
    finally:
        verifying.stop()
    assert 'data-verdict="passed"' in html and f"cả {steps} chữ ký số hợp lệ" in html
    for who, role in (
        ("Nguyễn Văn An", "Giáo viên bộ môn"),
        ("Trần Thị Bình", "Giáo viên chủ nhiệm"),
        ("Lê Văn Cường", "Hiệu trưởng"),
        ("Dấu của nhà trường", "Dấu của nhà trường"),
    ):
        assert who in html and role in html
    assert html.count("Nguyên vẹn, hợp lệ") == steps
    assert " ngày " in html.split('class="signatures"')[1]  # each row says when


def test_a_verifier_that_reports_no_signatures_is_said_so_not_shown_as_a_verdict(gateway):
    d = docs(year_record())
    with gateway.client("s1") as school:
        submit(school, d).raise_for_status()
    html = http_client.get(f"{gateway.url}/hocba/{d.record.lookup_code}").text
    assert 'data-verdict="undetailed"' in html and 'data-verdict="passed"' not in html


def test_the_family_sees_every_access_to_its_record_and_nothing_of_another_student(gateway, page):
    """Law 91/2025: the student's family, with the lookup code and the birth date, sees who opened the học bạ."""
    mine, other = docs(year_record()), docs(year_record())
    with gateway.client("s1") as school:
        record_id = submit(school, mine).json()["id"]
        other_id = submit(school, other).json()["id"]
        school.get(f"/api/v1/records/{record_id}/xml").raise_for_status()  # the school's own download
        school.get(f"/api/v1/records/{other_id}/pdf").raise_for_status()  # another student's: not in the list
    with visitor() as reader:
        assert reader.get(f"{gateway.url}/hocba/{other.record.lookup_code}").status_code == 200
        served = reader.post(_pdf_url(gateway, mine, record_id), data={"ngay_sinh": "05/09/2012"})
        assert served.status_code == 200 and served.headers["content-type"] == "application/pdf"
        # Without the birth date: the form only; a wrong date or another student's code: refused alike.
        assert reader.get(f"{gateway.url}/hocba/{mine.record.lookup_code}/truy-cap").status_code == 200
        wrong = reader.post(
            f"{gateway.url}/hocba/{mine.record.lookup_code}/truy-cap", data={"ngay_sinh": "06/09/2012"}
        )
        unknown = reader.post(f"{gateway.url}/hocba/{'0' * 32}/truy-cap", data={"ngay_sinh": "05/09/2012"})
    for refused in (wrong, unknown):
        assert (
            refused.status_code == 403 and "Mã tra cứu hoặc ngày sinh không khớp với học bạ." in refused.text
        )
        assert "<table" not in refused.text

    page.goto(f"{gateway.url}/hocba/{mine.record.lookup_code}")  # the portal lookup, in the list below
    page.get_by_role("link", name="Gia đình học sinh: xem ai đã truy cập học bạ này").click()
    page.get_by_label("Ngày sinh của học sinh").fill("05/09/2012")
    page.get_by_role("button", name="Xem danh sách truy cập").click()
    rows = [r.locator("td").all_inner_texts()[1:] for r in page.locator("table.accesses tbody tr").all()]
    assert rows == [
        ["Xem trang tra cứu học bạ", "Cổng tra cứu công khai (không xác định người xem)"],
        [
            "Tải bản PDF đã ký số (năm học 2025-2026, phiên bản 1)",
            "Cổng tra cứu công khai (không xác định người xem)",
        ],
        ["Tải gói dữ liệu XML qua giao diện của trường (năm học 2025-2026, phiên bản 1)", "Trường có mã s1"],
    ]
    html = page.content()
    assert PERSONAL_ID not in html and birth_date_traces(html, mine.record.lookup_code, record_id) == []
    # The family's own look is the newest access the next time.
    with visitor() as reader:
        again = reader.post(
            f"{gateway.url}/hocba/{mine.record.lookup_code}/truy-cap", data={"ngay_sinh": "5/9/2012"}
        )
    assert again.status_code == 200 and again.text.index("Xem danh sách truy cập này") < again.text.index(
        "Xem trang tra cứu học bạ"
    )
