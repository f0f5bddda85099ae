"""A small school put into a running stack through its own APIs: the real ids the fuzzer fills path parameters with."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from sandbox.sample_school import SampleSchool, build, load_via_api, marks_for
from services.runtime import http_client

# token(user_id, roles, school_id) -> a bearer token (the development issuer's, or a test's).
Mint = Callable[[str, list[str], str | None], str]


@dataclass
class Seeds:
    """Real values per path parameter name, and who is who in the school (for the tokens)."""

    school: SampleSchool
    values: dict[str, list[str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # what could not be seeded, and why

    @property
    def school_id(self) -> str:
        return self.school.school_id

    @property
    def class_id(self) -> str:
        return str(self.school.classes[0]["class_id"])

    # Body fields whose real values matter as much as an id's (a transfer request names a sending school and one of
    # its lookup codes): drawn from these instead of any string.
    body: dict[str, list[str]] = field(default_factory=dict)

    def add(self, name: str, *values: str) -> None:
        known = self.values.setdefault(name, [])
        known += [v for v in values if v not in known]

    def values_for(self, path: str, name: str) -> list[str]:
        """The real values of a path parameter; ``kind`` is an import's kind under /imports/, a document's
        elsewhere."""
        if name == "kind":
            return IMPORT_KINDS if "/imports/" in path else DOCUMENT_KINDS
        return self.values.get(name, [])


IMPORT_KINDS = ["teachers", "classes", "students", "assignments"]
DOCUMENT_KINDS = ["pdf", "xml"]


def digitised_year(student_id: str) -> dict[str, Any]:
    """The clerk's entry of one earlier year from a scanned paper học bạ (POST …/records/digitised)."""
    teacher = {"id": "gv-cu", "name": "Phan Văn Cũ", "left": True}
    return {
        "source": "Học bạ giấy lưu tại trường (kiểm thử fuzz)",
        "student": {
            "student_id": student_id,
            "full_name": "Bùi Thị Thu Trang",
            "moet_code": "7712345678",
            "personal_id": "001312345678",
        },
        "school_name": "Trường THCS Chu Văn An",
        "school_province": "Hà Nội",
        "school_year": "2024-2025",
        "class_name": "7A",
        "grade": 7,
        "subjects": [
            {
                "code": "toan",
                "name": "Toán",
                "teacher": teacher,
                "hk1": {"average": "7.5"},
                "hk2": {"average": "8.0"},
                "year": "7.8",
            }
        ],
        "periods": {"year": {"learning_result": "Khá", "conduct": "Tốt", "absences": 2}},
        "promotion": "lên lớp",
        "homeroom": {"id": "gv-moi", "name": "Lê Thị Mới"},
        "principal": {"id": "ht-1", "name": "Đinh Văn Hiệu"},
    }


def seed_school(urls: dict[str, str], mint: Mint, students: int = 4) -> Seeds:
    """Gradebook: the school, one class, its teachers and students, a mark, term II locked as it stands and an
    amendment proposed; transcript: a digitised earlier year of one student (signing and sync know it by the same
    year record id)."""
    school = build(f"thcs-fuzz-{uuid.uuid4().hex[:6]}", classes=1, students_per_class=students)
    load_via_api(urls["gradebook"], school, mint)
    seeds = Seeds(school)
    class_id = seeds.class_id
    student = str(school.students_of(class_id)[0]["student_id"])

    def as_(user: str, *roles: str) -> httpx.Client:
        headers = {"Authorization": f"Bearer {mint(user, list(roles), school.school_id)}"}
        return http_client.client(base_url=urls["gradebook"], headers=headers, timeout=60)

    teacher = school.teacher_of(class_id, "toan")
    with as_(teacher, "teacher") as t:
        t.put(
            f"/classes/{class_id}/subjects/toan/terms/hk2/marks",
            json={"entries": marks_for(school, class_id, "toan", "hk2")[:1]},
        ).raise_for_status()
    with as_(school.principal_id, "principal") as p:
        p.post(
            f"/classes/{class_id}/terms/hk2/lock",
            json={
                "incomplete_accepted": [s["student_id"] for s in school.students_of(class_id)],
                "reason": "Kiểm thử fuzz: khóa khi chưa nhập đủ",
            },
        ).raise_for_status()
    with as_(teacher, "teacher") as t:
        proposed = t.post(
            f"/classes/{class_id}/terms/hk2/amendments",
            json={"student_id": student, "subject_code": "toan", "after": {"final": 9}, "reason": "Cộng sai"},
        )
    # Refused after the year's reporting cutoff (a stack without HOCBA_REPORTING_DAY on a day past 30 June): the
    # amendment routes then see unknown ids only.
    if proposed.status_code == 201:
        seeds.add("amendment_id", str(proposed.json()["amendment_id"]))
    else:
        seeds.notes.append(f"no amendment: {proposed.status_code} {proposed.json().get('detail', '')}")
    digitised = http_client.post(
        f"{urls['transcript']}/schools/{school.school_id}/records/digitised",
        json=digitised_year(student),
        headers={"Authorization": f"Bearer {mint('van-thu', ['staff'], school.school_id)}"},
        timeout=60,
    )
    digitised.raise_for_status()
    record = str(digitised.json()["year_record_id"])
    seeds.add("school_id", school.school_id)
    seeds.add("class_id", class_id)
    seeds.add("student_id", student)
    seeds.add("subject_code", "toan")
    seeds.add("subject", "toan")
    seeds.add("term", "hk1", "hk2")
    seeds.add("record_id", record)
    seeds.add("year_record_id", record)
    return seeds
