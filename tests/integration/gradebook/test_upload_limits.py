"""The gradebook's edges have limits, against the running service: body size (declared or chunked) before parsing,
a larger one for uploads, rows per import, and an XLSX zip bomb refused before it is inflated."""

import io
import socket
import time
import zipfile
from urllib.parse import urlsplit

import pytest
from openpyxl import Workbook

from services.runtime import http_client
from services.runtime.settings import get_settings

pytestmark = pytest.mark.integration

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _assert_too_large(response, limit: int) -> None:
    assert response.status_code == 413, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["type"].endswith("/content-too-large") and problem["max_bytes"] == limit
    assert "quá lớn" in problem["detail"]


def _chunks(total: int, piece: bytes = b" " * 65536):
    """A chunked body (no Content-Length): httpx sends an iterator with Transfer-Encoding: chunked."""
    sent = 0
    while sent < total:
        yield piece
        sent += len(piece)


def test_a_body_over_the_limit_is_refused_from_its_length_before_authentication(gradebook):
    limit = get_settings().http_max_body_bytes
    response = http_client.put(
        f"{gradebook}/schools/x",
        content=b"{" + b" " * limit + b"}",
        headers={"Content-Type": "application/json"},
    )
    _assert_too_large(response, limit)  # not 401: the body was refused before anything else looked at it


@pytest.mark.parametrize("authorization", [None, "Bearer not-a-token"])
def test_a_chunked_body_without_a_valid_token_is_refused_before_a_byte_of_it_is_read(
    gradebook, authorization
):
    """The token is checked first: a body that never ends is answered 401 at once, not read until it ends."""
    address = urlsplit(gradebook)
    head = ["PUT /schools/x HTTP/1.1", f"Host: {address.netloc}", "Transfer-Encoding: chunked"]
    head += [
        "Content-Type: application/json",
        *([f"Authorization: {authorization}"] if authorization else []),
    ]
    with socket.create_connection((address.hostname, address.port), timeout=5) as conn:
        conn.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + b"10\r\n" + b"{" + b" " * 15 + b"\r\n")
        try:
            answer = conn.recv(65536)  # the rest of the body never comes
        except TimeoutError:
            pytest.fail("the server waited for the body before it checked the token")
    assert answer.startswith(b"HTTP/1.1 401"), answer[:200]
    assert b"application/problem+json" in answer
    # An endless-looking body over the limit is not read to the limit either: 401, not 413.
    response = http_client.put(
        f"{gradebook}/schools/x", content=_chunks(get_settings().http_max_body_bytes + 65536)
    )
    assert response.status_code == 401, response.text


def test_a_chunked_body_is_limited_while_it_is_read_and_one_within_it_still_parses(school):
    sample, client = school
    limit = get_settings().http_max_body_bytes
    with client.as_("van-thu", "staff") as staff:
        response = staff.put(f"/schools/{sample.school_id}", content=_chunks(limit + 65536))
        _assert_too_large(response, limit)
        # A small chunked body reaches the parser whole: the validation names its fields.
        small = iter([b'{"name": ', b'"Tr\xc6\xb0\xe1\xbb\x9dng", "unknown": 1}'])
        response = staff.put(
            f"/schools/{sample.school_id}", content=small, headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 422, response.text
        assert "unknown" in {e["field"] for e in response.json()["errors"]}


def test_uploads_have_their_own_larger_limit(school):
    sample, client = school
    settings = get_settings()
    header = b"teacher_id,full_name\n"
    # Over the default limit but within the upload limit: read and imported (the rows are fine).
    rows = [f"gv-big-{n:033d},Nguyễn Văn {'A' * 180}\n".encode() for n in range(4990)]  # within column sizes
    within = header + b"".join(rows)
    assert settings.http_max_body_bytes < len(within) < settings.http_max_upload_bytes
    with client.as_("van-thu", "staff") as staff:
        url = f"/schools/{sample.school_id}/imports/teachers"
        response = staff.post(url, content=within, headers={"Content-Type": "text/csv"})
        assert response.status_code == 201, response.text[:500]
        over = header + b"x" * settings.http_max_upload_bytes
        _assert_too_large(
            staff.post(url, content=over, headers={"Content-Type": "text/csv"}),
            settings.http_max_upload_bytes,
        )


def _csv(rows: int) -> bytes:
    return b"teacher_id,full_name\n" + b"".join(f"gv-rows-{n},Lê Văn {n}\n".encode() for n in range(rows))


def test_an_import_over_the_row_limit_is_refused_in_vietnamese(school):
    sample, client = school
    limit = get_settings().import_max_rows
    url = f"/schools/{sample.school_id}/imports/teachers"
    json_rows = [{"teacher_id": f"gv-json-{n}", "full_name": f"Lê Văn {n}"} for n in range(limit + 1)]
    with client.as_("van-thu", "staff") as staff:
        for response in (
            staff.post(url, json={"rows": json_rows}),
            staff.post(url, content=_csv(limit + 1), headers={"Content-Type": "text/csv"}),
        ):
            assert response.status_code == 413, response.text[:300]
            problem = response.json()
            assert problem["type"].endswith("/too-many-rows") and problem["max_rows"] == limit
            assert f"tối đa {limit} dòng" in problem["detail"]
        sheet = staff.get(f"/classes/{sample.classes[0]['class_id']}/sheet")
        assert sheet.status_code == 200


def _zip_bomb(inflated: int) -> bytes:
    """A workbook whose sheet inflates to ``inflated`` bytes of zeros (about a thousand times its stored size)."""
    book = io.BytesIO()
    Workbook().save(book)
    out = io.BytesIO()
    with zipfile.ZipFile(book) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bomb:
        for item in source.infolist():
            if item.filename != "xl/worksheets/sheet1.xml":
                bomb.writestr(item, source.read(item))
        with bomb.open("xl/worksheets/sheet1.xml", "w") as sheet:
            block = b"0" * (1 << 20)
            for _ in range(inflated >> 20):
                sheet.write(block)
    return out.getvalue()


def test_an_xlsx_zip_bomb_is_refused_without_being_inflated(school):
    sample, client = school
    bomb = _zip_bomb(256 << 20)
    assert (
        len(bomb) < get_settings().http_max_upload_bytes
    )  # it passes the body limit: the reader must catch it
    with client.as_("van-thu", "staff") as staff:
        started = time.monotonic()
        response = staff.post(
            f"/schools/{sample.school_id}/imports/teachers", content=bomb, headers={"Content-Type": XLSX}
        )
        elapsed = time.monotonic() - started
    assert response.status_code == 415, response.text
    assert "giải nén vượt quá" in response.json()["detail"]
    assert elapsed < 5, f"took {elapsed:.1f}s: the bomb was inflated"
