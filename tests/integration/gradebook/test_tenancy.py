"""Tenancy: a caller of school A naming school B's ids gets 404 (like an unknown id) and nothing of B changes."""

import json
import uuid
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from sandbox.issuer import mint_token
from sandbox.sample_school import build, marks_for
from services.runtime import http_client
from services.runtime.data_key import DataVault
from services.runtime.settings import get_settings
from tests.integration.gradebook.support import Client, load_school, lock_as_it_stands

pytestmark = pytest.mark.integration

OPENAPI = Path(__file__).parents[3] / "contracts" / "openapi" / "gradebook.json"
# Every table holding a school's rows; the outbox/inbox are the service's own plumbing.
TABLES = (
    "schools",
    "teachers",
    "classes",
    "students",
    "enrolments",
    "assignments",
    "marks",
    "student_terms",
    "term_locks",
    "amendments",
    "exemptions",
    "awards",
    "individual_plans",
    "carried_terms",
    "handed_over_terms",
)
# Every role at once, so that only the school can be what refuses the call.
ALL_ROLES = ("principal", "staff", "teacher", "homeroom", "inspector")


@pytest.fixture(scope="module")
def two_schools(gradebook, service_databases):
    """School A and school B, each loaded through the API; B's hk2 of its first class locked with an amendment."""
    a = build(f"thcs-a{uuid.uuid4().hex[:5]}", classes=1, students_per_class=6)
    b = build(f"thcs-b{uuid.uuid4().hex[:5]}", classes=1, students_per_class=6)
    client_a, client_b = Client(gradebook, a.school_id), Client(gradebook, b.school_id)
    load_school(client_a, a)
    load_school(client_b, b)
    class_b = b.classes[0]["class_id"]
    teacher_b = b.teacher_of(class_b, "toan")
    with client_b.as_("hieu-truong", "principal") as p:
        exempted = p.post(
            f"/classes/{class_b}/students/{b.students_of(class_b)[1]['student_id']}/exemptions",
            json={
                "subject_code": "gdtc",
                "period": "hk1",
                "reason": "Quyết định số 12/QĐ-THCS, lý do sức khỏe",
            },
        )
        assert exempted.status_code == 201, exempted.text
        planned = p.post(
            f"/classes/{class_b}/students/{b.students_of(class_b)[3]['student_id']}/individual-plans",
            json={"subjects": ["toan"], "reason": "Quyết định số 13/QĐ-THCS, kế hoạch giáo dục cá nhân"},
        )
        assert planned.status_code == 201, planned.text
    with client_b.as_(teacher_b, "teacher") as t:
        entered = t.put(
            f"/classes/{class_b}/subjects/toan/terms/hk2/marks",
            json={"entries": marks_for(b, class_b, "toan", "hk2")[:1]},
        )
        assert entered.status_code == 200, entered.text
    with client_b.as_("hieu-truong", "principal") as p:
        assert lock_as_it_stands(p, b, class_b).status_code == 201
    with client_b.as_(teacher_b, "teacher") as t:
        proposed = t.post(
            f"/classes/{class_b}/terms/hk2/amendments",
            json={
                "student_id": b.students_of(class_b)[0]["student_id"],
                "subject_code": "toan",
                "after": {"final": 10},
                "reason": "Cộng sai điểm",
            },
        )
        assert proposed.status_code == 201, proposed.text
    engine = create_engine(service_databases["gradebook"])
    # B's award, written as the principal's decision would be (a real one needs a whole year of marks and an open
    # term II; test_awards.py takes that path): A must find it exactly as unknown as an id nobody has.
    award_b = f"kt-{uuid.uuid4().hex[:16]}"
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO awards (id, school_id, class_id, student_id, kind, reason, decided_by, decided_at) "
                "VALUES (:id, :school, :class, :student, 'gioi', 'Quyết định số 20/QĐ-THCS', 'hieu-truong', now())"
            ),
            {
                "id": award_b,
                "school": b.school_id,
                "class": class_b,
                "student": b.students_of(class_b)[2]["student_id"],
            },
        )
    yield {
        "a": a,
        "b": b,
        "client_a": client_a,
        "amendment_b": proposed.json()["amendment_id"],
        "exemption_b": exempted.json()["id"],
        "award_b": award_b,
        "plan_b": planned.json()["id"],
        "db": engine,
    }
    engine.dispose()


def snapshot(engine) -> dict[str, list[str]]:
    with engine.connect() as conn:
        return {
            t: sorted(
                json.dumps(dict(r._mapping), default=str, sort_keys=True)
                for r in conn.execute(text(f"SELECT * FROM {t}"))  # noqa: S608 - fixed table names
            )
            for t in TABLES
        }


def b_requests(w) -> dict[tuple[str, str], tuple[str, object]]:
    """(method, route) → (path with B's ids, a body A could plausibly send)."""
    b = w["b"]
    cb = b.classes[0]["class_id"]
    sb = b.students_of(cb)[0]["student_id"]
    school = b.school_id
    return {
        ("PUT", "/schools/{school_id}"): (
            f"/schools/{school}",
            {"name": "THCS Chiếm", "level": "lower_secondary", "current_year": "2025-2026"},
        ),
        ("POST", "/schools/{school_id}/imports/{kind}"): (
            f"/schools/{school}/imports/teachers",
            {"rows": [{"teacher_id": "gv-chiem", "full_name": "Lý Văn Chiếm"}]},
        ),
        ("PUT", "/classes/{class_id}/subjects/{subject_code}/terms/{term}/marks"): (
            f"/classes/{cb}/subjects/toan/terms/hk1/marks",
            {"entries": [{"student_id": sb, "midterm": 1}]},
        ),
        ("PUT", "/classes/{class_id}/terms/{term}/homeroom"): (
            f"/classes/{cb}/terms/hk1/homeroom",
            {"entries": [{"student_id": sb, "conduct": "Chưa đạt"}]},
        ),
        ("GET", "/classes/{class_id}/sheet"): (f"/classes/{cb}/sheet?term=hk2", None),
        ("GET", "/classes/{class_id}/students/{student_id}/results"): (
            f"/classes/{cb}/students/{sb}/results",
            None,
        ),
        ("POST", "/classes/{class_id}/terms/{term}/lock"): (f"/classes/{cb}/terms/hk1/lock", None),
        ("POST", "/classes/{class_id}/terms/{term}/unlock"): (
            f"/classes/{cb}/terms/hk2/unlock",
            {"reason": "Mở khóa trái phép"},
        ),
        ("POST", "/schools/{school_id}/terms/{term}/lock"): (f"/schools/{school}/terms/hk1/lock", None),
        ("POST", "/schools/{school_id}/terms/{term}/unlock"): (
            f"/schools/{school}/terms/hk2/unlock",
            {"reason": "Mở khóa trái phép"},
        ),
        ("POST", "/classes/{class_id}/terms/{term}/amendments"): (
            f"/classes/{cb}/terms/hk2/amendments",
            {"student_id": sb, "subject_code": "toan", "after": {"final": 0}, "reason": "Sửa trái phép"},
        ),
        ("POST", "/amendments/{amendment_id}/decision"): (
            f"/amendments/{w['amendment_b']}/decision",
            {"approve": True, "note": "Duyệt trái phép"},
        ),
        ("GET", "/schools/{school_id}/amendments"): (f"/schools/{school}/amendments", None),
        ("POST", "/classes/{class_id}/students/{student_id}/exemptions"): (
            f"/classes/{cb}/students/{sb}/exemptions",
            {"subject_code": "gdtc", "period": "year", "reason": "Miễn học trái phép"},
        ),
        ("GET", "/classes/{class_id}/exemptions"): (f"/classes/{cb}/exemptions", None),
        ("POST", "/exemptions/{exemption_id}/revoke"): (
            f"/exemptions/{w['exemption_b']}/revoke",
            {"reason": "Hủy trái phép"},
        ),
        ("POST", "/classes/{class_id}/students/{student_id}/awards"): (
            f"/classes/{cb}/students/{sb}/awards",
            {"kind": "xuat_sac", "reason": "Khen thưởng trái phép"},
        ),
        ("GET", "/classes/{class_id}/awards"): (f"/classes/{cb}/awards", None),
        ("POST", "/awards/{award_id}/revoke"): (
            f"/awards/{w['award_b']}/revoke",
            {"reason": "Hủy trái phép"},
        ),
        ("POST", "/classes/{class_id}/students/{student_id}/individual-plans"): (
            f"/classes/{cb}/students/{sb}/individual-plans",
            {"subjects": ["toan"], "reason": "Kế hoạch trái phép"},
        ),
        ("GET", "/classes/{class_id}/individual-plans"): (f"/classes/{cb}/individual-plans", None),
        ("POST", "/individual-plans/{plan_id}/withdraw"): (
            f"/individual-plans/{w['plan_b']}/withdraw",
            {"reason": "Hủy trái phép"},
        ),
        ("PUT", "/classes/{class_id}/subjects/{subject_code}/summer/retest"): (
            f"/classes/{cb}/subjects/toan/summer/retest",
            {"entries": [{"student_id": sb, "result": 10}]},
        ),
        ("PUT", "/classes/{class_id}/summer/conduct"): (
            f"/classes/{cb}/summer/conduct",
            {"entries": [{"student_id": sb, "conduct": "Tốt"}]},
        ),
        ("POST", "/classes/{class_id}/summer/lock"): (f"/classes/{cb}/summer/lock", None),
        ("PUT", "/classes/{class_id}/students/{student_id}/carried-terms/{term}"): (
            f"/classes/{cb}/students/{sb}/carried-terms/hk1",
            {
                "from_school_id": school,
                "from_school_name": "THCS Chiếm",
                "subjects": {"toan": 10},
                "source": "Hồ sơ giả mạo",
            },
        ),
    }


def unknown_path(path: str, w) -> str:
    """The same request with B's ids replaced by ids nobody owns: its 404 body must be the same."""
    b = w["b"]
    cb = b.classes[0]["class_id"]
    return (
        path.replace(w["amendment_b"], "khong-co")
        .replace(w["exemption_b"], "khong-co")
        .replace(w["award_b"], "khong-co")
        .replace(w["plan_b"], "khong-co")
        .replace(cb, "lop-khong-co")
        .replace(f"/schools/{b.school_id}", "/schools/truong-khong-co")
    )


def openapi_routes() -> set[tuple[str, str]]:
    paths = json.loads(OPENAPI.read_text(encoding="utf-8"))["paths"]
    return {
        (m.upper(), p)
        for p, ops in paths.items()
        for m in ops
        if m.lower() in {"get", "put", "post", "delete", "patch"}
    }


def test_the_matrix_covers_every_route(two_schools):
    assert openapi_routes() == set(b_requests(two_schools)), "a new route needs its row in the tenancy matrix"


@pytest.mark.parametrize("route", sorted(openapi_routes()), ids=lambda r: f"{r[0]} {r[1]}")
def test_school_a_with_school_b_ids_gets_404_and_nothing_changes(two_schools, route):
    w = two_schools
    path, body = b_requests(w)[route]
    a = w["a"]
    a_teacher = a.teachers[0]["teacher_id"]
    before = snapshot(w["db"])
    with w["client_a"].as_(a_teacher, *ALL_ROLES) as http:
        response = http.request(route[0], path, json=body)
        unknown = http.request(route[0], unknown_path(path, w), json=body)
    assert response.status_code == 404, (route, response.status_code, response.text)
    assert unknown.status_code == 404, (route, unknown.status_code, unknown.text)
    assert response.json() == unknown.json(), "another school's id must answer exactly like an unknown one"
    assert snapshot(w["db"]) == before


def test_another_school_with_a_wrong_body_still_gets_404(two_schools):
    """The school is checked before the body is read: a malformed body does not reveal that the class exists."""
    w = two_schools
    cb = w["b"].classes[0]["class_id"]
    with w["client_a"].as_(w["a"].teachers[0]["teacher_id"], *ALL_ROLES) as http:
        response = http.put(f"/classes/{cb}/terms/hk1/homeroom", json={"nonsense": True})
    assert response.status_code == 404, response.text


def test_a_wrong_role_in_the_own_school_gets_403(two_schools):
    w = two_schools
    ca = w["a"].classes[0]["class_id"]
    with w["client_a"].as_("thanh-tra", "inspector") as http:
        response = http.post(f"/classes/{ca}/terms/hk1/lock", json=None)
    assert response.status_code == 403, response.text


def _import_refusals(w):
    b, a = w["b"], w["a"]
    cb, ca = b.classes[0]["class_id"], a.classes[0]["class_id"]
    sb = b.students_of(cb)[0]
    tb, ta = b.teachers[0]["teacher_id"], a.teachers[0]["teacher_id"]
    return {
        "classes": (
            [
                {"class_id": "lop-moi-hop-le", "name": "8A7", "grade": 8},
                {"class_id": cb, "name": "8A9", "grade": 8},
            ],
            [(3, "class_id", cb)],
        ),
        "teachers": (
            [
                {"teacher_id": "gv-moi-hop-le", "full_name": "Trần Văn Mới"},
                {"teacher_id": tb, "full_name": "Giả Danh"},
            ],
            [(3, "teacher_id", tb)],
        ),
        "students": (
            [
                {
                    "student_id": sb["student_id"],
                    "class_id": ca,
                    "full_name": "Họ Tên Giả",
                    "gender": "Nam",
                    "birth_date": "2012-01-01",
                }
            ],
            [(2, "student_id", sb["student_id"])],
        ),
        "assignments": (
            [
                {"class_id": cb, "subject_code": "toan", "teacher_id": ta},
                {"class_id": ca, "subject_code": "van", "teacher_id": tb},
            ],
            [(2, "class_id", cb), (3, "teacher_id", tb)],
        ),
    }


@pytest.mark.parametrize("kind", ["classes", "teachers", "students", "assignments"])
def test_importing_another_schools_ids_is_refused_row_by_row_and_nothing_is_written(two_schools, kind):
    w = two_schools
    rows, expected = _import_refusals(w)[kind]
    before = snapshot(w["db"])
    with w["client_a"].as_("hieu-truong", "principal") as http:
        response = http.post(f"/schools/{w['a'].school_id}/imports/{kind}", json={"rows": rows})
    assert response.status_code == 422, response.text
    errors = response.json()["errors"]
    assert [(e["row"], e["column"]) for e in errors] == [(r, c) for r, c, _ in expected]
    for error, (row, _, value) in zip(errors, expected, strict=True):
        assert error["reason"].startswith(f"Dòng {row}: mã ") and error["reason"].endswith(
            "đã thuộc trường khác."
        )
        assert value in error["reason"]
    assert snapshot(w["db"]) == before


def test_the_upsert_never_moves_a_row_even_past_the_check(two_schools):
    """A race past the foreign-id check (simulated by calling the repository directly) still moves nothing."""
    from sqlalchemy.orm import Session

    from services.gradebook.domain.errors import ForeignRowsSkipped
    from services.gradebook.domain.model import SchoolClass
    from services.gradebook.store.master_data import MasterDataRepository

    w = two_schools
    cb = w["b"].classes[0]["class_id"]
    with Session(w["db"]) as session:
        with pytest.raises(ForeignRowsSkipped):
            MasterDataRepository(session).add_classes(
                w["a"].school_id, "2025-2026", [SchoolClass(cb, "8A1", 8)]
            )
        session.rollback()
    with w["db"].connect() as conn:
        owner = conn.execute(text("SELECT school_id FROM classes WHERE id = :id"), {"id": cb}).scalar_one()
    assert owner == w["b"].school_id


def test_an_import_racing_past_the_check_is_refused_row_by_row_and_writes_nothing(two_schools, monkeypatch):
    """Another school's id that appears between the check and the write: the upsert skips it, all rolls back."""
    from sqlalchemy.orm import sessionmaker

    from services.gradebook.app import master_data
    from services.gradebook.app.unit_of_work import GradebookUnitOfWork
    from services.gradebook.domain.commands import ImportMasterData
    from services.gradebook.domain.errors import ImportRejected
    from services.gradebook.domain.permissions import Actor

    w = two_schools
    cb = w["b"].classes[0]["class_id"]
    real, calls = master_data._refuse_foreign_ids, []

    def check_that_loses_the_race(*args):
        calls.append(args)
        if len(calls) > 1:  # the first check runs "before" B's row existed; the re-check sees it
            real(*args)

    monkeypatch.setattr(master_data, "_refuse_foreign_ids", check_that_loses_the_race)
    before = snapshot(w["db"])
    rows = [
        {"class_id": "lop-dua-hop-le", "name": "8A8", "grade": 8},
        {"class_id": cb, "name": "8A9", "grade": 8},
    ]
    actor = Actor("hieu-truong", frozenset({"principal"}), w["a"].school_id)
    with pytest.raises(ImportRejected) as refused:
        master_data.import_master_data(
            ImportMasterData(actor, w["a"].school_id, "classes", rows),
            GradebookUnitOfWork(sessionmaker(w["db"], expire_on_commit=False)),
            DataVault.from_settings(),
        )
    assert len(calls) == 2
    assert [(e["row"], e["column"]) for e in refused.value.rejected] == [(3, "class_id")]
    assert snapshot(w["db"]) == before


@pytest.mark.parametrize(
    "route", sorted(r for r in openapi_routes() if r[0] == "GET"), ids=lambda r: f"{r[0]} {r[1]}"
)
def test_an_operator_reads_no_school_s_marks(two_schools, route):
    """Operators run the platform: a read of a school's data answers them as for an unknown id."""
    w = two_schools
    path, _ = b_requests(w)[route]
    token = mint_token(get_settings(), user_id="ops", roles=["operator"], school_id=None)
    with http_client.client(
        base_url=w["client_a"].base, headers={"Authorization": f"Bearer {token}"}
    ) as http:
        response = http.get(path)
        unknown = http.get(unknown_path(path, w))
    assert response.status_code == unknown.status_code == 404, (route, response.text)
    assert response.json() == unknown.json()


def _token(user: str, *roles: str, school: str | None, inspects: tuple[str, ...]) -> dict[str, str]:
    minted = mint_token(
        get_settings(), user_id=user, roles=roles, school_id=school, inspected_schools=inspects
    )
    return {"Authorization": f"Bearer {minted}"}


@pytest.fixture(scope="module")
def school_c(gradebook, two_schools):
    """A third school, small, for the inspector of A and C."""
    c = build(f"thcs-c{uuid.uuid4().hex[:5]}", classes=1, students_per_class=2)
    load_school(Client(gradebook, c.school_id), c)
    return c


def _inspector_of_a_and_c(gradebook, w, c) -> httpx.Client:
    headers = _token("thanh-tra", "inspector", school=None, inspects=(w["a"].school_id, c.school_id))
    return http_client.client(base_url=gradebook, headers=headers, timeout=30)


def test_an_inspector_reads_the_schools_their_token_lists(gradebook, two_schools, school_c):
    w = two_schools
    with _inspector_of_a_and_c(gradebook, w, school_c) as http:
        for school in (w["a"], school_c):
            sheet = http.get(f"/classes/{school.classes[0]['class_id']}/sheet?term=hk1")
            assert sheet.status_code == 200, sheet.text
            amendments = http.get(f"/schools/{school.school_id}/amendments")
            assert amendments.status_code == 200, amendments.text


@pytest.mark.parametrize("route", sorted(openapi_routes()), ids=lambda r: f"{r[0]} {r[1]}")
def test_an_inspector_of_a_and_c_with_school_b_ids_gets_404_and_nothing_changes(
    gradebook, two_schools, school_c, route
):
    w = two_schools
    path, body = b_requests(w)[route]
    before = snapshot(w["db"])
    with _inspector_of_a_and_c(gradebook, w, school_c) as http:
        response = http.request(route[0], path, json=body)
        unknown = http.request(route[0], unknown_path(path, w), json=body)
    assert response.status_code == 404, (route, response.status_code, response.text)
    assert response.json() == unknown.json()
    assert snapshot(w["db"]) == before


@pytest.mark.parametrize(
    "route", sorted(r for r in openapi_routes() if r[0] != "GET"), ids=lambda r: f"{r[0]} {r[1]}"
)
def test_an_inspector_never_writes_in_a_listed_school(gradebook, two_schools, school_c, route):
    w = two_schools
    # B's requests with A's ids; A has no amendment, exemption, award nor individual plan, so those name ones nobody
    # has (404 before any role).
    as_a = {
        **w,
        "b": w["a"],
        "amendment_b": "khong-co",
        "exemption_b": "khong-co",
        "award_b": "khong-co",
        "plan_b": "khong-co",
    }
    path, body = b_requests(as_a)[route]
    before = snapshot(w["db"])
    with _inspector_of_a_and_c(gradebook, w, school_c) as http:
        response = http.request(route[0], path, json=body)
    by_id = {
        "/amendments/{amendment_id}/decision",
        "/exemptions/{exemption_id}/revoke",
        "/awards/{award_id}/revoke",
        "/individual-plans/{plan_id}/withdraw",
    }
    expected = 404 if route[1] in by_id else 403
    assert response.status_code == expected, (route, response.status_code, response.text)
    assert snapshot(w["db"]) == before


@pytest.mark.parametrize("roles", [ALL_ROLES, ("principal", "inspector"), ("staff",), ("operator",)])
def test_another_role_listing_schools_gains_nothing(gradebook, two_schools, roles):
    w = two_schools
    b = w["b"]
    headers = _token("nguoi-a", *roles, school=w["a"].school_id, inspects=(b.school_id,))
    with http_client.client(base_url=gradebook, headers=headers, timeout=30) as http:
        sheet = http.get(f"/classes/{b.classes[0]['class_id']}/sheet?term=hk2")
        amendments = http.get(f"/schools/{b.school_id}/amendments")
    assert (sheet.status_code, amendments.status_code) == (404, 404), (sheet.text, amendments.text)
