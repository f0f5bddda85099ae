"""Helpers for the gradebook integration tests: HTTP calls as a person of the school, loading a sample school."""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from sqlalchemy import Engine, create_engine

from sandbox.issuer import mint_token
from sandbox.sample_school import (
    SCORED,
    SampleSchool,
    build,
    homeroom_for,
    load_via_api,
    marks_for,
    regular_count,
)
from services.runtime import http_client
from services.runtime.settings import get_settings


class Client:
    """HTTP calls as a given person of the school."""

    def __init__(self, base: str, school_id: str) -> None:
        self.base, self.school_id = base, school_id

    def headers(self, user: str, *roles: str, school: str | None = None) -> dict[str, str]:
        token = mint_token(get_settings(), user_id=user, roles=roles, school_id=school or self.school_id)
        return {"Authorization": f"Bearer {token}"}

    def as_(self, user: str, *roles: str, school: str | None = None) -> httpx.Client:
        return http_client.client(
            base_url=self.base, headers=self.headers(user, *roles, school=school), timeout=30
        )


def load_school(client: Client, school) -> None:
    load_via_api(
        client.base,
        school,
        lambda user, roles, school_id: mint_token(
            get_settings(), user_id=user, roles=roles, school_id=school_id
        ),
    )


def student_results(client: Client, class_id: str, student_id: str, user: str, *roles: str) -> Any:
    """A student's results as ``user`` reads them through the API (GET …/results, which must answer 200)."""
    with client.as_(user, *roles) as http:
        r = http.get(f"/classes/{class_id}/students/{student_id}/results")
    assert r.status_code == 200, r.text
    return r.json()


@contextmanager
def school_and_another(
    gradebook: Any, database_url: str, prefix: str, students_per_class: int, others: int = 2
) -> Iterator[tuple[SampleSchool, Client, SampleSchool, Engine]]:
    """A sample school of two classes loaded through the API (one class per test that changes one, so the tests
    hold in any order) and its client; another school beside it, whose ids must answer 404; an engine on the
    gradebook's database, disposed after."""
    sample = build(f"{prefix}-{uuid.uuid4().hex[:6]}", classes=2, students_per_class=students_per_class)
    other = build(f"khac-{uuid.uuid4().hex[:6]}", classes=1, students_per_class=others)
    client = Client(gradebook, sample.school_id)
    load_school(client, sample)
    load_school(Client(gradebook, other.school_id), other)
    engine = create_engine(database_url)
    try:
        yield sample, client, other, engine
    finally:
        engine.dispose()


def enter_year_and_lock(client: Client, school, class_id: str, principal: str = "hieu-truong") -> None:
    """The whole year entered (``enter_year``), then ``principal`` locks term I and term II."""
    enter_year(client, school, class_id)
    with client.as_(principal, "principal") as p:
        for term in ("hk1", "hk2"):
            p.post(f"/classes/{class_id}/terms/{term}/lock").raise_for_status()


def approved_amendment(client: Client, school, class_id: str, student_id: str) -> str:
    """The Toán teacher proposes a term II amendment (every Toán score 10) and the principal approves it; its id."""
    with client.as_(school.teacher_of(class_id, "toan"), "teacher") as t:
        proposed = t.post(
            f"/classes/{class_id}/terms/hk2/amendments",
            json={
                "student_id": student_id,
                "subject_code": "toan",
                "after": {"regular": [10, 10, 10, 10], "midterm": 10, "final": 10},
                "reason": "Nhập nhầm cột điểm",
            },
        )
        proposed.raise_for_status()
    amendment_id = str(proposed.json()["amendment_id"])
    with client.as_("hieu-truong", "principal") as p:
        p.post(f"/amendments/{amendment_id}/decision", json={"approve": True}).raise_for_status()
    return amendment_id


def lock_as_it_stands(principal: Any, school: Any, class_id: str, term: str = "hk2") -> Any:
    """Lock a term whose results are partly entered, the principal accepting every student's gaps with a reason
    (term II refuses gaps otherwise): for tests that need a locked term, not a complete year."""
    return principal.post(
        f"/classes/{class_id}/terms/{term}/lock",
        json={
            "incomplete_accepted": [s["student_id"] for s in school.students_of(class_id)],
            "reason": "Kiểm thử: khóa khi chưa nhập đủ",
        },
    )


def enter_year(client: Client, school, class_id: str) -> None:
    """Every teacher enters the class's marks and the homeroom teacher the homeroom record for both terms."""
    for term in ("hk1", "hk2"):
        for code, _ in school.subjects:
            with client.as_(school.teacher_of(class_id, code), "teacher") as t:
                t.put(
                    f"/classes/{class_id}/subjects/{code}/terms/{term}/marks",
                    json={"entries": marks_for(school, class_id, code, term)},
                ).raise_for_status()
        with client.as_(school.homeroom_of(class_id), "teacher", "homeroom") as h:
            h.put(
                f"/classes/{class_id}/terms/{term}/homeroom",
                json={"entries": homeroom_for(school, class_id, term)},
            ).raise_for_status()


def rules_cli_input(
    school,
    class_id: str,
    student_id: str,
    order: list[str],
    *,
    exempt: dict[str, list[str]] | None = None,
    plan: list[str] | None = None,
    retest: dict[str, Any] | None = None,
    conduct_after_summer: str | None = None,
    marks: dict[str, dict[str, dict[str, Any]]] | None = None,
    homeroom: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """`hocba rules evaluate`'s input (TT22) for a student whose year was entered by ``enter_year`` (or ``marks``:
    subject → term → entry, and ``homeroom``: term → record), the subjects in ``order``, with the principal's
    exemptions and individual education plan (``plan``: its subjects) and the summer's results. The CLI takes no
    teachers' comments: they are left out."""
    exempt, retest = exempt or {}, retest or {}

    def entered(code: str, term: str) -> dict[str, Any]:
        if marks is not None:
            return {k: v for k, v in marks[code][term].items() if k != "comment"}
        entry = next(e for e in marks_for(school, class_id, code, term) if e["student_id"] == student_id)
        return {k: v for k, v in entry.items() if k != "student_id"}

    subjects = []
    for code, periods in sorted(school.subjects, key=lambda s: order.index(s[0])):
        row: dict[str, Any] = {
            "code": code,
            "assessment": "score" if code in SCORED else "comment",
            "periods_per_year": periods,
        }
        row |= {term: entered(code, term) for term in ("hk1", "hk2") if term not in exempt.get(code, [])}
        if code in exempt:
            row["exempt"] = exempt[code]
        if code in (plan or ()):
            row["individual_plan"] = True
        if code in retest:
            row["retest"] = retest[code]
        subjects.append(row)
    homeroom = homeroom or {
        term: next(e for e in homeroom_for(school, class_id, term) if e["student_id"] == student_id)
        for term in ("hk1", "hk2")
    }
    payload: dict[str, Any] = {
        "circular": "tt22",
        "grade": school.grade,
        "subjects": subjects,
        "conduct": {t: homeroom[t]["conduct"] for t in homeroom},
        "absences": sum(homeroom[t].get("absences", 0) for t in homeroom),
    }
    if conduct_after_summer is not None:
        payload["conduct_after_summer"] = conduct_after_summer
    return payload


def outbox_bodies(engine: Any, routing_key: str) -> list[dict[str, Any]]:
    """The envelopes the gradebook queued (its outbox) under ``routing_key``, oldest first."""
    from sqlalchemy import select

    from services.gradebook.store.tables import outbox

    with engine.connect() as conn:
        rows = conn.execute(
            select(outbox.c.body).where(outbox.c.routing_key == routing_key).order_by(outbox.c.id)
        )
        return [r.body for r in rows]


def term_entry(code: str, periods: int | None, score: str) -> dict[str, Any]:
    """A whole term of one subject at one level: every scored assessment ``score``, every comment one Đ."""
    count = regular_count(periods or 35)
    if code in SCORED:
        return {"regular": [score] * count, "midterm": score, "final": score}
    return {"regular": ["Đ"] * count, "midterm": "Đ", "final": "Đ"}


def enter_chosen_year(
    client: Client,
    school,
    class_id: str,
    marks: dict[str, dict[str, dict[str, dict[str, Any]]]],
    homeroom: dict[str, dict[str, dict[str, Any]]],
) -> None:
    """Enter a year chosen by the test: ``marks`` student → subject → term → entry (a subject left out is not
    entered), ``homeroom`` student → term → record."""
    for term in ("hk1", "hk2"):
        for code, _ in school.subjects:
            entries = [
                {"student_id": sid, **subjects[code][term]}
                for sid, subjects in marks.items()
                if term in subjects.get(code, {})
            ]
            if entries:
                with client.as_(school.teacher_of(class_id, code), "teacher") as t:
                    t.put(
                        f"/classes/{class_id}/subjects/{code}/terms/{term}/marks", json={"entries": entries}
                    ).raise_for_status()
        with client.as_(school.homeroom_of(class_id), "teacher", "homeroom") as h:
            h.put(
                f"/classes/{class_id}/terms/{term}/homeroom",
                json={"entries": [{"student_id": sid, **terms[term]} for sid, terms in homeroom.items()]},
            ).raise_for_status()


def principal_decisions(engine: Any, school_id: str, action: str) -> list[dict[str, Any]]:
    """The audit entries of ``action`` (a decision: exemption.decide, award.decide) queued for ``school_id``, each
    checked to be the principal's, with its reason and the decision's content hashed after it (nothing before)."""
    decisions = [
        b["data"]
        for b in outbox_bodies(engine, "audit.recorded.v1")
        if b["data"]["action"] == action and b["data"]["school_id"] == school_id
    ]
    for decided in decisions:
        assert (decided["actor_id"], decided["actor_role"]) == ("hieu-truong", "principal"), decided
        assert decided["reason"] and decided["after_hash"] and decided["before_hash"] is None, decided
    return decisions


def assert_only_the_principal_decides(
    client: Client,
    sample,
    other,
    class_id: str,
    student_id: str,
    resource: str,
    body: dict[str, Any],
    subject: str,
) -> None:
    """A principal's decision about one student (``resource``: exemptions, awards): the homeroom teacher, the
    subject's teacher and the office are refused (403, in Vietnamese); another school's student named in this
    class is unknown here (404); another school's class is answered exactly like a class nobody has."""
    path = f"/classes/{class_id}/students/{student_id}/{resource}"
    for user, roles in (
        (sample.homeroom_of(class_id), ("teacher", "homeroom")),
        (sample.teacher_of(class_id, subject), ("teacher",)),
        ("van-thu", ("staff",)),
    ):
        with client.as_(user, *roles) as http:
            refused = http.post(path, json=body)
        assert refused.status_code == 403, (roles, refused.text)
        assert refused.json()["detail"] == "Vai trò của bạn không được thực hiện thao tác này."
    other_class = other.classes[0]["class_id"]
    other_student = other.students_of(other_class)[0]["student_id"]
    with client.as_("hieu-truong", "principal") as p:
        foreign = p.post(f"/classes/{class_id}/students/{other_student}/{resource}", json=body)
        assert foreign.status_code == 404, foreign.text
        assert foreign.json()["detail"] == "Học sinh không thuộc lớp này."
        theirs = p.post(f"/classes/{other_class}/students/{other_student}/{resource}", json=body)
        nobody = p.post(f"/classes/lop-khong-co/students/{other_student}/{resource}", json=body)
    assert theirs.status_code == nobody.status_code == 404
    assert theirs.json() == nobody.json()
