"""TT27 art. 11 (primary): the supplementary assessment (đánh giá bổ sung) of a pupil the year did not confirm complete,
what it may cover, its entries checked before they are stored, and completion decided again from it.

Art. 11: §1 a pupil whose year result (art. 9) is Hoàn thành or better is confirmed complete (hoàn thành chương trình
lớp học; grade 5: hoàn thành chương trình tiểu học, §5); §2 for a pupil not confirmed, the teachers plan, guide and
help, and assess again (đánh giá bổ sung) to decide completion; §3 a pupil still not complete after that is listed by
the homeroom teacher to the principal, who decides lên lớp or ở lại lớp; §4 the decision is written in the học bạ.
The project's decisions, where rules.md or the circular leave it open (the circular wins where they differ):

- **What is re-assessed**: the items that kept the pupil below Hoàn thành — a subject whose year level is C, a
  tested subject whose end-of-year test is below 5 (its level and its test are assessed again), a quality or a
  competency at Cần cố gắng. The others stay as the year decided them (§2 helps the pupil where they fall short).
  The subject's teacher enters a subject's new level and test, the homeroom teacher the qualities and competencies
  (art. 7: who assesses what), as the TT22 summer stage (summer.py) has it.
- **Kept beside the originals**: the new level and test are stored on the summer stage, never over the year's; the
  record shows both (rules.md "Completion").
- **Completion again**: the art. 9 table on the year's results with the re-assessed items in their place. It decides
  completion only (§2 "để xét hoàn thành"): the result after it is at most Hoàn thành, the levels above and awards
  (art. 13) stay the year's.
- **Still not complete** (§3): the principal decides. rules.md said the pupil repeats the grade; the circular leaves it
  to the principal, so the pupil repeats (ở lại lớp) unless the principal's summer lock names the pupil promoted
  (lên lớp), which the record keeps as the principal's decision; the lock records a decision for every pupil not
  complete, re-assessed or not (one who did not come is decided on the year's results). Grade 5 has no such choice: lên lớp out of grade 5
  is admission to lower secondary, which requires hoàn thành chương trình tiểu học; a grade-5 pupil still not
  complete is ở lại lớp.
- **Grade 5** (circular over docs): §2 names every pupil not confirmed, not grades 1–4, so a grade-5 pupil is
  re-assessed too. Seed 004 §2.1, rules.md, rules-cli.md and the province's gateway (it refuses the supplementary
  path from grade 5) keep grade 5 on the 30 June path: its re-assessment is entered and locked before 30 June (the
  summer lock is refused after the cutoff of its records' path, cutoff.py), and the record rebuilt by the lock
  replaces the earlier one before that cutoff. The reporting path stays the year's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from services.gradebook.domain import tt27
from services.gradebook.domain.explain import Explained
from services.gradebook.domain.marks import MarkInvalid
from services.gradebook.domain.scores import ScoreInvalid, tt27_test_score
from services.gradebook.domain.term_lock import MissingResult

PASSING_TEST = 5  # art. 9 §2: Hoàn thành needs every end-of-year test ≥ 5
PROMOTED, REPEATS = "lên lớp", "ở lại lớp"
PRIMARY_DONE = "hoàn thành chương trình tiểu học"
# The key the principal's summer lock writes on the summer homeroom record of each pupil not complete: true for one
# it promotes (art. 11 §3), false otherwise; with it, a pupil who was not re-assessed gets a decision too.
PROMOTED_BY_PRINCIPAL = "promoted_by_principal"


@dataclass(frozen=True)
class Due:
    """What a pupil not confirmed complete is re-assessed on: subjects (level and test) and qualities/competencies."""

    subjects: tuple[str, ...] = ()
    traits: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.subjects or self.traits)


def due(
    subject_levels: Mapping[str, str],
    year_tests: Mapping[str, int],
    traits: Mapping[str, str],
    complete: bool,
) -> Due:
    """The items that keep a pupil below Hoàn thành (art. 9 §2), in the given order; nothing for a complete pupil."""
    if complete:
        return Due()
    subjects = tuple(
        code
        for code, level in subject_levels.items()
        if level == "C" or (code in year_tests and year_tests[code] < PASSING_TEST)
    )
    return Due(subjects, tuple(k for k, v in traits.items() if v == "C"))


@dataclass(frozen=True)
class AfterSupplementary:
    """Completion decided again (art. 11 §2–3) and the reasons, in Vietnamese."""

    year_result: str  # Hoàn thành or Chưa hoàn thành
    completion: str
    promotion: str
    explanations: Mapping[str, str]


def decide_again(
    grade: int,
    subject_levels: Mapping[str, str],
    year_tests: Mapping[str, int],
    qualities: Mapping[str, str],
    competencies: Mapping[str, str],
    names: Mapping[str, str],
    *,
    promoted_by_principal: bool = False,
) -> AfterSupplementary:
    """The art. 9 table on the results with the re-assessed items in place, capped at Hoàn thành (module docstring);
    then completion, and for a pupil still not complete the principal's decision (§3)."""
    computed = tt27.year_result(subject_levels, qualities, competencies, year_tests, names)
    why = {}
    if computed.value in tt27.COMPLETE_LEVELS:
        result = "Hoàn thành"
        why["year_result_after_supplementary"] = (
            f"sau đánh giá bổ sung: {computed.why}; đánh giá bổ sung chỉ xét hoàn thành chương trình "
            "(khoản 2 Điều 11) → Hoàn thành"
        )
    else:
        result = "Chưa hoàn thành"
        why["year_result_after_supplementary"] = f"sau đánh giá bổ sung: {computed.why}"
    done = tt27.completion(grade, result)
    why["completion_after_supplementary"] = f"{done.why} (sau đánh giá bổ sung, Điều 11)"
    promotion = _promotion(grade, result == "Hoàn thành", promoted_by_principal)
    why["promotion_after_supplementary"] = promotion.why
    return AfterSupplementary(result, str(done.value), str(promotion.value), why)


def _promotion(grade: int, complete: bool, promoted_by_principal: bool) -> Explained:
    if complete:
        if grade == 5:
            return Explained(
                PRIMARY_DONE, "hoàn thành sau đánh giá bổ sung → hoàn thành chương trình tiểu học"
            )
        return Explained(PROMOTED, "hoàn thành chương trình lớp học sau đánh giá bổ sung → lên lớp")
    if promoted_by_principal and grade < 5:
        return Explained(
            PROMOTED,
            "chưa hoàn thành sau đánh giá bổ sung; hiệu trưởng quyết định cho lên lớp (khoản 3 Điều 11)",
        )
    if grade == 5:
        return Explained(
            REPEATS,
            "chưa hoàn thành chương trình tiểu học sau đánh giá bổ sung → ở lại lớp (vào lớp 6 cần hoàn thành "
            "chương trình tiểu học)",
        )
    return Explained(
        REPEATS,
        "chưa hoàn thành sau đánh giá bổ sung; hiệu trưởng không quyết định cho lên lớp → ở lại lớp (khoản 3 Điều 11)",
    )


# -- entries -------------------------------------------------------------------------------------------------------


def subject_entry(code: str, name: str, grade: int, raw: Mapping[str, Any], where: str) -> dict[str, Any]:
    """A subject's re-assessment as stored: its level (T/H/C, in ``result``) and, where the subject has a periodic
    test in the grade, the new test (1–10); a subject without a test takes none."""
    level = raw.get("result")
    if level not in tt27.SUBJECT_LEVELS:
        raise MarkInvalid(
            f"{where}.result",
            f"Đánh giá bổ sung môn {name}: mức đạt được là T, H hoặc C, nhận được “{level}”.",
        )
    entry: dict[str, Any] = {"level": str(level)}
    test = raw.get("test")
    if test is None:
        if tt27.needs_test(code, grade):
            raise MarkInvalid(
                f"{where}.test",
                f"Đánh giá bổ sung môn {name}: cần điểm bài kiểm tra (1–10), môn có bài kiểm tra định kì ở lớp "
                f"{grade} (Điều 7 Thông tư 27).",
            )
    elif not tt27.may_have_test(code, grade):
        raise MarkInvalid(f"{where}.test", f"Môn {name} không có bài kiểm tra định kì ở lớp {grade}.")
    else:
        try:
            entry["test"] = tt27_test_score(test, f"{where}.test")
        except ScoreInvalid as error:
            raise MarkInvalid(error.field, error.detail_vi) from None
    return entry


def trait_entry(
    grade: int, raw: Mapping[str, Any], due_traits: Iterable[str], pupil: str, where: str
) -> dict[str, Any]:
    """The homeroom teacher's re-assessed qualities and competencies: only those due (at Cần cố gắng), T/Đ/C."""
    due_set = set(due_traits)
    if raw.get("conduct") is not None:
        raise MarkInvalid(
            f"{where}.conduct",
            "Học sinh tiểu học không có kết quả rèn luyện: nhập phẩm chất, năng lực đánh giá bổ sung (Thông tư 27).",
        )
    record: dict[str, Any] = {}
    for group, keys in (("qualities", tt27.QUALITIES), ("competencies", tt27.competencies(grade))):
        values = raw.get(group)
        if values is None:
            continue
        if not isinstance(values, Mapping):
            raise MarkInvalid(f"{where}.{group}", "Phẩm chất, năng lực là một bảng mục → mức (T, Đ, C).")
        for key, level in values.items():
            if key not in keys:
                raise MarkInvalid(f"{where}.{group}.{key}", f"“{key}” không được đánh giá ở lớp {grade}.")
            if key not in due_set:
                raise MarkInvalid(
                    f"{where}.{group}.{key}",
                    f"Học sinh {pupil} không phải đánh giá bổ sung {tt27.TRAIT_NAMES[key]}: chỉ đánh giá lại "
                    "phẩm chất, năng lực ở mức Cần cố gắng (Điều 11 Thông tư 27).",
                )
            if level not in tt27.QUALITY_LEVELS:
                raise MarkInvalid(
                    f"{where}.{group}.{key}", "Mức đánh giá là T (Tốt), Đ (Đạt) hoặc C (Cần cố gắng)."
                )
        if values:
            record[group] = dict(values)
    if not record:
        raise MarkInvalid(where, "Hãy nhập ít nhất một phẩm chất hoặc năng lực đánh giá bổ sung.")
    return record


def not_due_subject(pupil: str, name: str, where: str) -> MarkInvalid:
    return MarkInvalid(
        where,
        f"Học sinh {pupil} không phải đánh giá bổ sung môn {name}: chỉ đánh giá lại môn Chưa hoàn thành hoặc có "
        "bài kiểm tra cuối năm dưới 5, của học sinh chưa hoàn thành chương trình lớp học (Điều 11 Thông tư 27).",
    )


def not_due_pupil(pupil: str, where: str) -> MarkInvalid:
    return MarkInvalid(
        where,
        f"Học sinh {pupil} đã hoàn thành chương trình lớp học hoặc chưa có kết quả cuối năm: không có đánh giá bổ "
        "sung (Điều 11 Thông tư 27).",
    )


def gaps(
    students: Iterable[tuple[str, str, Due]],
    subjects: Mapping[str, Mapping[str, Any]],
    traits: Mapping[str, Mapping[str, Any]],
    names: Mapping[str, str],
) -> list[MissingResult]:
    """What the summer lock still lacks per pupil: each subject and each quality or competency due without its
    re-assessment. ``subjects``: pupil → subject → stored entry; ``traits``: pupil → stored summer record."""
    missing = []
    for student_id, pupil, owed in students:
        for code in owed.subjects:
            if not (subjects.get(student_id) or {}).get(code):
                missing.append(
                    MissingResult(student_id, pupil, f"đánh giá bổ sung môn {names.get(code, code)}")
                )
        record = traits.get(student_id) or {}
        given = {**(record.get("qualities") or {}), **(record.get("competencies") or {})}
        for key in owed.traits:
            if key not in given:
                missing.append(MissingResult(student_id, pupil, f"đánh giá bổ sung {tt27.TRAIT_NAMES[key]}"))
    return missing
