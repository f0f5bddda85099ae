"""Every role × every mutation: allowed is never 403, a refused role always is, another school always gets 404."""

import pytest

from sandbox.sample_school import marks_for
from tests.integration.gradebook.support import lock_as_it_stands

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def world(school):
    """Class A term hk2 open for entry; class B term hk2 locked with one pending amendment."""
    sample, client = school
    class_a, class_b = sample.classes[0]["class_id"], sample.classes[1]["class_id"]
    student_b = sample.students_of(class_b)[0]["student_id"]
    teacher_b = sample.teacher_of(class_b, "toan")
    with client.as_(teacher_b, "teacher") as t:
        assert (
            t.put(
                f"/classes/{class_b}/subjects/toan/terms/hk2/marks",
                json={"entries": marks_for(sample, class_b, "toan", "hk2")[:1]},
            ).status_code
            == 200
        )
    with client.as_("hieu-truong", "principal") as p:
        assert lock_as_it_stands(p, sample, class_b).status_code == 201
    with client.as_(teacher_b, "teacher") as t:
        proposed = t.post(
            f"/classes/{class_b}/terms/hk2/amendments",
            json={
                "student_id": student_b,
                "subject_code": "toan",
                "after": {"final": 10},
                "reason": "Cộng sai điểm",
            },
        )
        assert proposed.status_code == 201, proposed.text
    return {
        "sample": sample,
        "client": client,
        "class_a": class_a,
        "student_a": sample.students_of(class_a)[0]["student_id"],
        "amendment": proposed.json()["amendment_id"],
        "class_b": class_b,
        "student_b": student_b,
    }


def actors(w):
    s, a = w["sample"], w["class_a"]
    assigned = s.teacher_of(a, "toan")
    homeroom = s.homeroom_of(a)
    other = next(
        t["teacher_id"]
        for t in s.teachers
        if t["teacher_id"] not in {x["teacher_id"] for x in s.assignments if x["class_id"] == a}
        and t["teacher_id"] != homeroom
    )
    return {
        "assigned teacher": (assigned, ("teacher",), None),
        "other teacher": (other, ("teacher",), None),
        "homeroom teacher": (homeroom, ("teacher", "homeroom"), None),
        "principal": ("hieu-truong", ("principal",), None),
        "staff": ("van-thu", ("staff",), None),
        "inspector": ("thanh-tra", ("inspector",), None),
        "other school principal": ("ht-khac", ("principal",), "thcs-khac"),
        "other school staff": ("vt-khac", ("staff",), "thcs-khac"),
    }


def mutations(w):
    a, sid = w["class_a"], w["student_a"]
    return {
        "enter marks": (
            "PUT",
            f"/classes/{a}/subjects/toan/terms/hk2/marks",
            {"entries": [{"student_id": sid, "midterm": 7}]},
        ),
        "enter homeroom record": (
            "PUT",
            f"/classes/{a}/terms/hk2/homeroom",
            {"entries": [{"student_id": sid, "conduct": "Tốt"}]},
        ),
        "import teachers": (
            "POST",
            f"/schools/{w['sample'].school_id}/imports/teachers",
            {"rows": [{"teacher_id": "gv-matrix", "full_name": "Lý Văn Ma"}]},
        ),
        "lock term": ("POST", f"/classes/{w['class_b']}/terms/hk1/lock", None),
        "unlock term": (
            "POST",
            f"/classes/{w['class_b']}/terms/hk2/unlock",
            {"reason": "Mở lại để kiểm tra"},
        ),
        "propose amendment": (
            "POST",
            f"/classes/{w['class_b']}/terms/hk2/amendments",
            {
                "student_id": w["student_b"],
                "subject_code": "toan",
                "after": {"final": 9},
                "reason": "Nhập nhầm điểm",
            },
        ),
        "decide amendment": (
            "POST",
            f"/amendments/{w['amendment']}/decision",
            {"approve": False, "note": "Không"},
        ),
        "decide exemption": (
            "POST",
            f"/classes/{a}/students/{sid}/exemptions",
            {"subject_code": "gdtc", "period": "year", "reason": "Quyết định số 7/QĐ-THCS, lý do sức khỏe"},
        ),
        "decide award": (
            "POST",
            f"/classes/{a}/students/{sid}/awards",
            {"kind": "gioi", "reason": "Quyết định số 9/QĐ-THCS"},
        ),
        "decide individual plan": (
            "POST",
            f"/classes/{a}/students/{sid}/individual-plans",
            {"subjects": ["toan"], "reason": "Quyết định số 8/QĐ-THCS phê duyệt kế hoạch giáo dục cá nhân"},
        ),
        "record carried term": (
            "PUT",
            f"/classes/{a}/students/{sid}/carried-terms/hk1",
            {
                "from_school_id": "thcs-tran-phu",
                "from_school_name": "Trường THCS Trần Phú",
                "subjects": {"toan": 7.5},
                "conduct": "Tốt",
                "source": "Học bạ bàn giao ngày 10/01",
            },
        ),
        "declare school": (
            "PUT",
            f"/schools/{w['sample'].school_id}",
            {"name": "THCS Nguyễn Du", "level": "lower_secondary", "current_year": "2025-2026"},
        ),
    }


ALLOWED = {
    "enter marks": {"assigned teacher"},
    "enter homeroom record": {"homeroom teacher"},
    "import teachers": {"principal", "staff"},
    "lock term": {"principal"},
    "unlock term": {"principal"},
    "propose amendment": set(),  # class B's Toán teacher is not in the actor list for class A
    "decide amendment": {"principal"},
    "declare school": {"staff"},
    "decide exemption": {"principal"},
    "decide award": {"principal"},
    "decide individual plan": {"principal"},
    "record carried term": {"principal", "staff"},
}
ORDER = [
    "enter marks",
    "enter homeroom record",
    "import teachers",
    "propose amendment",
    "declare school",
    "decide exemption",
    "decide award",
    "decide individual plan",
    "record carried term",
    "decide amendment",
    "lock term",
    "unlock term",
]


def test_permission_matrix(world):
    w = world
    who, what = actors(w), mutations(w)
    outcomes = {}
    for action in ORDER:  # state-changing allowed calls (lock, unlock) come last
        method, path, body = what[action]
        for name, (user, roles, school) in who.items():
            with w["client"].as_(user, *roles, school=school) as http:
                response = http.request(method, path, json=body)
            outcomes[(action, name)] = response.status_code
            if name in ALLOWED[action]:
                assert response.status_code != 403, (action, name, response.text)
                assert response.status_code < 500, (action, name, response.text)
            elif school is not None:  # another school's ids answer like unknown ones: no existence leak
                assert response.status_code == 404, (action, name, response.status_code, response.text)
                assert response.json()["type"].endswith("/not-found"), (action, name)
            else:
                assert response.status_code == 403, (action, name, response.status_code, response.text)
                problem = response.json()
                assert problem["type"].endswith("/forbidden") and problem["detail"], (action, name)
    assert len(outcomes) == len(ORDER) * len(who)
