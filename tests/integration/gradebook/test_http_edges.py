"""The gradebook's HTTP edges: authentication, problem+json in Vietnamese, health, metrics and OpenAPI."""

import json
from pathlib import Path

import pytest

from services.gradebook import api
from services.runtime import http_client
from services.runtime.openapi import openapi_document

pytestmark = pytest.mark.integration

OPENAPI = Path(__file__).resolve().parents[3] / "contracts" / "openapi" / "gradebook.json"


def test_requests_without_a_valid_token_get_401_problems(gradebook):
    for headers in ({}, {"Authorization": "Bearer not-a-jwt"}):
        response = http_client.post(f"{gradebook}/classes/x/terms/hk1/lock", headers=headers)
        assert response.status_code == 401
        assert response.headers["content-type"].startswith("application/problem+json")
        problem = response.json()
        assert problem["type"].endswith("/unauthorized") and problem["title"] == "Unauthorized"
        assert "đăng nhập" in problem["detail"]


def test_invalid_body_names_each_field_in_vietnamese(school):
    sample, client = school
    class_id = sample.classes[0]["class_id"]
    with client.as_(sample.teacher_of(class_id, "toan"), "teacher") as t:
        response = t.put(
            f"/classes/{class_id}/subjects/toan/terms/hk1/marks", json={"entries": [{"final": 7}]}
        )
        assert response.status_code == 422
        assert response.json()["errors"][0] == {
            "field": "entries.0.student_id",
            "message": "thiếu trường bắt buộc",
            "reason": "Field required",
        }
        student = sample.students_of(class_id)[0]["student_id"]
        for entry, field, words in (
            ({"final": 10.5}, "entries[0].final", "từ 0 đến 10"),
            ({"final": "7.25"}, "entries[0].final", "một chữ số thập phân"),
            ({"regular": [7, 7, 7, 7, 7]}, "entries[0].regular", "4 điểm đánh giá thường xuyên"),
            ({"result": "Đ"}, "entries[0].result", "không dùng cho môn Toán"),
        ):
            response = t.put(
                f"/classes/{class_id}/subjects/toan/terms/hk2/marks",
                json={"entries": [{"student_id": student, **entry}]},
            )
            assert response.status_code == 422, entry
            error = response.json()["errors"][0]
            assert error["field"] == field and words in error["message"], (entry, error)


def test_a_rejected_import_reports_every_bad_row_and_imports_nothing(school):
    sample, client = school
    rows = [
        {
            "student_id": "new-1",
            "class_id": sample.classes[0]["class_id"],
            "full_name": "Lê Văn Tâm",
            "gender": "Nam",
            "birth_date": "2011-02-03",
            "personal_id": "001211123456",
        },
        {
            "student_id": "new-2",
            "class_id": "no-such-class",
            "full_name": "Lê Thị Mơ",
            "gender": "Nữ",
            "birth_date": "03/04/2011",
            "personal_id": "",
        },
        {
            "student_id": "new-3",
            "class_id": sample.classes[0]["class_id"],
            "full_name": "",
            "gender": "X",
            "birth_date": "2011-13-40",
            "personal_id": "",
        },
        {
            "student_id": "new-4",
            "class_id": sample.classes[0]["class_id"],
            "full_name": "Phan Văn Hậu",
            "gender": "Nam",
            "birth_date": "2011-05-06",
            "personal_id": "001309123456",
        },
    ]
    with client.as_("van-thu", "staff") as staff:
        response = staff.post(f"/schools/{sample.school_id}/imports/students", json={"rows": rows})
        assert response.status_code == 422
        problem = response.json()
        assert "Không nhập dòng nào" in problem["detail"]
        reported = {(e["row"], e["column"]) for e in problem["errors"]}
        assert reported == {(3, "class_id"), (4, "full_name"), (5, "personal_id")}
        assert "001309123456" not in json.dumps(problem)
        sheet = staff.get(f"/classes/{sample.classes[0]['class_id']}/sheet").json()
        assert "new-1" not in {s["student_id"] for s in sheet["students"]}  # nothing half-imported


def test_xlsx_import_is_accepted(school):
    from io import BytesIO

    from openpyxl import Workbook

    sample, client = school
    book = Workbook()
    sheet = book.active
    sheet.append(["teacher_id", "full_name"])
    sheet.append(["gv-xlsx-1", "Đỗ Thị Hạnh"])
    data = BytesIO()
    book.save(data)
    with client.as_("van-thu", "staff") as staff:
        response = staff.post(
            f"/schools/{sample.school_id}/imports/teachers",
            content=data.getvalue(),
            headers={"Content-Type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
        )
        assert response.status_code == 201, response.text
        assert response.json() == {"kind": "teachers", "imported": 1}


def test_health_readiness_and_metrics(gradebook):
    assert http_client.get(f"{gradebook}/readyz").json() == {
        "status": "ready",
        # It consumes the transfers sync announces (a term handed over mid-year): ready once it consumes them.
        "checks": {"database": "ok", "broker": "ok", "consuming": "ok"},
    }
    assert http_client.get(f"{gradebook}/healthz").status_code in (200, 503)  # heartbeat every 2 s
    assert "hocba_http_requests_total" in http_client.get(f"{gradebook}/metrics").text


def test_served_openapi_matches_the_committed_document(gradebook):
    served = http_client.get(f"{gradebook}/openapi.json").json()
    assert served == openapi_document("Học bạ số — gradebook", "1.0.0", api.ROUTES)
    assert served == json.loads(OPENAPI.read_text()), "run `hocba contracts openapi` and commit the result"
    assert served["openapi"] == "3.1.0" and len(served["paths"]) >= 9


def test_a_requests_correlation_id_reaches_its_events(school, service_databases):
    from sqlalchemy import select

    from services.gradebook.store.tables import outbox
    from services.runtime.db import make_engine

    sample, client = school
    class_id = sample.classes[0]["class_id"]
    student = sample.students_of(class_id)[5]["student_id"]
    with client.as_(sample.teacher_of(class_id, "gdtc"), "teacher") as t:
        response = t.put(
            f"/classes/{class_id}/subjects/gdtc/terms/hk2/marks",
            json={
                "entries": [{"student_id": student, "regular": ["Đ", "Đ", "Đ"], "midterm": "Đ", "final": "Đ"}]
            },
            headers={"X-Correlation-Id": "req-trace-42"},
        )
    assert response.status_code == 200 and response.headers["X-Correlation-Id"] == "req-trace-42"
    engine = make_engine(service_databases["gradebook"])
    with engine.connect() as conn:
        ids = (
            conn.execute(
                select(outbox.c.body["correlationid"].astext).where(
                    outbox.c.body["correlationid"].astext == "req-trace-42"
                )
            )
            .scalars()
            .all()
        )
    engine.dispose()
    assert ids == ["req-trace-42"]


@pytest.mark.parametrize(
    ("method", "path", "status", "detail"),
    [
        ("GET", "/nowhere", 404, "Không tìm thấy địa chỉ này."),
        ("GET", "/classes/a/b/sheet", 404, "Không tìm thấy địa chỉ này."),
        ("DELETE", "/healthz", 405, "Địa chỉ này không nhận phương thức DELETE."),
    ],
)
def test_a_request_no_route_takes_is_a_problem_in_vietnamese_not_an_html_page(
    gradebook, method, path, status, detail
):
    response = http_client.request(method, f"{gradebook}{path}")
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["status"] == status and response.json()["detail"] == detail


def test_text_with_a_nul_character_is_refused_in_the_body_the_query_and_the_path(gradebook, school):
    """PostgreSQL's text cannot hold a NUL: psycopg refused it, and the caller got a 500."""
    sample, client = school
    with client.as_("sys-op", "operator", school="") as operator:
        body = operator.put(
            f"/schools/{sample.school_id}",
            json={"name": "Trường\u0000THCS", "level": sample.level, "current_year": sample.year},
        )
    assert body.status_code == 422, body.text
    assert body.headers["content-type"].startswith("application/problem+json")
    assert [(e["field"], e["message"]) for e in body.json()["errors"]] == [
        ("name", "chứa ký tự NUL không được phép")
    ]
    with client.as_("hieu-truong", "principal") as principal:
        query = principal.get(f"/schools/{sample.school_id}/amendments", params={"status": "pending\x00"})
        path = principal.get("/classes/8a1%00/sheet")
    assert query.status_code == 422 and query.json()["errors"][0]["field"] == "status", query.text
    assert path.status_code == 404 and path.json()["detail"] == "Không tìm thấy địa chỉ này.", path.text
