"""TT27 art. 11: the supplementary assessment of a pupil not confirmed complete (what it covers, its entries, completion
decided again, the principal's decision) and the competency list per grade."""

import json
from datetime import date

import pytest
from typer.testing import CliRunner

from cli.rules import app as rules_app
from services.gradebook.domain import supplementary, tt27
from services.gradebook.domain.curriculum import Assessment
from services.gradebook.domain.cutoff import ReportingCalendar, SummerAfterCutoff
from services.gradebook.domain.errors import RuleInputError
from services.gradebook.domain.evaluate import evaluate
from services.gradebook.domain.marks import MarkInvalid, validate_homeroom
from services.gradebook.domain.results import compute_results
from services.gradebook.domain.year import LevelTerm, SubjectYear, primary_year
from services.transcript.documents.pdf_form import TRAIT_TITLES

TESTED = ("tieng_viet", "toan", "ngoai_ngu_1", "lich_su_dia_li", "khoa_hoc", "tin_hoc_cong_nghe")
OTHERS = ("dao_duc", "am_nhac", "mi_thuat", "gdtc", "hdtn")


def year_of(grade=4, weak=None, traits=None, reassessed=None, traits_after=None, promoted=None):
    """A grade-4 year, every subject H with tests 7 and every trait Đ (Hoàn thành), except ``weak``: subject →
    (level, end-of-year test) and ``traits``: key → level."""
    weak, reassessed = weak or {}, reassessed or {}
    subjects = []
    for code in TESTED + OTHERS:
        level, test = weak.get(code, ("H", 7))
        subjects.append(
            SubjectYear(
                code,
                code,
                Assessment.LEVEL,
                hk1=LevelTerm("H", 7 if code in TESTED else None),
                hk2=LevelTerm(level, test if code in TESTED else None),
                reassessed=reassessed.get(code),
            )
        )
    levels = dict.fromkeys(tt27.QUALITIES + tt27.competencies(grade), "Đ") | (traits or {})
    return primary_year(
        grade,
        subjects,
        qualities={k: levels[k] for k in tt27.QUALITIES},
        competencies={k: levels[k] for k in tt27.competencies(grade)},
        traits_after=traits_after,
        principal_promotes=promoted,
    )


def test_a_pupil_not_complete_is_reassessed_on_what_kept_them_below_hoan_thanh():
    year = year_of(
        weak={"toan": ("C", 8), "khoa_hoc": ("H", 4), "dao_duc": ("C", None)}, traits={"nhan_ai": "C"}
    )
    assert year.decision is not None and year.decision.completion == "Chưa hoàn thành chương trình lớp học"
    assert year.due == supplementary.Due(("toan", "khoa_hoc", "dao_duc"), ("nhan_ai",))
    assert year.after_supplementary is None  # nothing re-assessed yet


def test_a_complete_pupil_owes_nothing():
    year = year_of()
    assert year.decision is not None and year.decision.year_result == "Hoàn thành"
    assert not year.due


def test_the_reassessment_replaces_the_items_for_completion_and_is_capped_at_hoan_thanh():
    """Every subject T with tests 9 and every trait Tốt would be xuất sắc; the one test of 4 made it Chưa hoàn
    thành. Re-tested at 9 the pupil completes — as Hoàn thành: art. 11 §2 decides completion only."""
    weak = {c: ("T", 9) for c in TESTED + OTHERS} | {"toan": ("T", 4)}
    traits = dict.fromkeys(tt27.QUALITIES + tt27.competencies(4), "T")
    year = year_of(weak=weak, traits=traits, reassessed={"toan": LevelTerm("T", 9)})
    assert year.decision is not None and year.decision.year_result == "Chưa hoàn thành"
    after = year.after_supplementary
    assert after is not None
    assert (after.year_result, after.completion, after.promotion) == (
        "Hoàn thành",
        "Hoàn thành chương trình lớp học",
        "lên lớp",
    )
    assert year.decision.award is None  # the year's award stays the year's
    assert "khoản 2 Điều 11" in year.explanations["year_result_after_supplementary"]


def test_a_quality_reassessed_counts_and_an_item_not_due_is_not_read():
    year = year_of(
        weak={"toan": ("C", 8)},
        traits={"cham_chi": "C"},
        reassessed={"toan": LevelTerm("H", 6), "tieng_viet": LevelTerm("C", 2)},  # Tiếng Việt was not due
        traits_after={"cham_chi": "Đ", "nhan_ai": "C"},  # nor nhân ái
    )
    assert year.after_supplementary is not None
    assert year.after_supplementary.completion == "Hoàn thành chương trình lớp học"
    still = year_of(weak={"toan": ("C", 8)}, traits={"cham_chi": "C"}, reassessed={"toan": LevelTerm("H", 6)})
    assert still.after_supplementary is not None
    assert (still.after_supplementary.year_result, still.after_supplementary.promotion) == (
        "Chưa hoàn thành",
        "ở lại lớp",
    )


@pytest.mark.parametrize(
    ("grade", "promoted", "outcome"),
    [(4, False, "ở lại lớp"), (4, True, "lên lớp"), (5, True, "ở lại lớp"), (1, True, "lên lớp")],
)
def test_a_pupil_still_not_complete_goes_up_only_by_the_principals_decision_and_never_out_of_grade_5(
    grade, promoted, outcome
):
    year = year_of(grade, weak={"toan": ("C", 3)}, reassessed={"toan": LevelTerm("C", 4)}, promoted=promoted)
    assert year.after_supplementary is not None
    assert year.after_supplementary.promotion == outcome
    assert year.after_supplementary.completion == "Chưa hoàn thành chương trình lớp học"


def test_grade_5_is_reassessed_too_completes_primary_and_keeps_the_30_june_path():
    year = year_of(5, weak={"toan": ("C", 3)}, reassessed={"toan": LevelTerm("H", 6)})
    assert year.decision is not None and year.decision.reporting_cutoff == "06-30"
    assert year.due.subjects == ("toan",)
    after = year.after_supplementary
    assert after is not None
    assert (after.completion, after.promotion) == (
        "Hoàn thành chương trình tiểu học",
        "hoàn thành chương trình tiểu học",
    )


def test_the_api_results_keep_the_year_end_and_the_after_summer_results_side_by_side():
    periods = dict.fromkeys(TESTED + OTHERS, None)
    marks = {
        code: {t: {"level": "H"} | ({"test": 7} if code in TESTED else {}) for t in ("hk1", "hk2")}
        for code in periods
    }
    marks["toan"]["hk2"] = {"level": "C", "test": 3}
    marks["toan"]["summer"] = {"level": "H", "test": 6}
    record = {
        "qualities": dict.fromkeys(tt27.QUALITIES, "Đ"),
        "competencies": dict.fromkeys(tt27.competencies(4), "Đ"),
    }
    results = compute_results(4, periods, marks, {"hk2": record})
    assert (results.average("toan", "year"), results.average("toan", "year_after_retest")) == ("C", "H")
    assert results.retest_subjects == ("toan",) and results.reassess_traits == ()
    assert results.year["year_result"] == "Chưa hoàn thành"
    assert results.year["reporting_path"] == "supplementary"
    assert results.year["year_result_after_supplementary"] == "Hoàn thành"
    assert results.year["promotion_after_supplementary"] == "lên lớp"


# -- entries -------------------------------------------------------------------------------------------------------


def test_a_subject_entry_takes_a_level_and_the_test_where_the_subject_has_one():
    assert supplementary.subject_entry("toan", "Toán", 4, {"result": "H", "test": 6}, "e") == {
        "level": "H",
        "test": 6,
    }
    assert supplementary.subject_entry("dao_duc", "Đạo đức", 4, {"result": "T"}, "e") == {"level": "T"}
    assert supplementary.subject_entry("ngoai_ngu_1", "Ngoại ngữ 1", 2, {"result": "H"}, "e") == {
        "level": "H"
    }
    for code, raw, field, words in (
        ("toan", {"result": "H"}, "e.test", "cần điểm bài kiểm tra"),
        ("toan", {"result": "Hoàn thành", "test": 6}, "e.result", "T, H hoặc C"),
        ("toan", {"result": "H", "test": 6.5}, "e.test", ""),
        ("dao_duc", {"result": "H", "test": 6}, "e.test", "không có bài kiểm tra định kì"),
    ):
        with pytest.raises(MarkInvalid) as error:
            supplementary.subject_entry(code, code, 4, raw, "e")
        assert error.value.field == field and words in error.value.detail_vi


def test_a_trait_entry_takes_only_the_qualities_and_competencies_due():
    assert supplementary.trait_entry(4, {"qualities": {"cham_chi": "Đ"}}, ("cham_chi",), "An", "e") == {
        "qualities": {"cham_chi": "Đ"}
    }
    for grade, raw, field, words in (
        (4, {"qualities": {"nhan_ai": "T"}}, "e.qualities.nhan_ai", "không phải đánh giá bổ sung nhân ái"),
        (4, {"qualities": {"cham_chi": "Tốt"}}, "e.qualities.cham_chi", "T (Tốt), Đ (Đạt) hoặc C"),
        (4, {"conduct": "Tốt"}, "e.conduct", "không có kết quả rèn luyện"),
        (4, {}, "e", "ít nhất một"),
        (2, {"competencies": {"tin_hoc": "Đ"}}, "e.competencies.tin_hoc", "không được đánh giá ở lớp 2"),
    ):
        with pytest.raises(MarkInvalid) as error:
            supplementary.trait_entry(grade, raw, ("cham_chi", "tin_hoc"), "An", "e")
        assert error.value.field == field and words in error.value.detail_vi, error.value.detail_vi


def test_the_summer_lock_lists_each_reassessment_still_missing():
    owed = supplementary.Due(("toan", "tieng_viet"), ("cham_chi", "tu_chu_tu_hoc"))
    missing = supplementary.gaps(
        [("a", "An", owed), ("b", "Bình", supplementary.Due())],
        {"a": {"toan": {"level": "H", "test": 6}}},
        {"a": {"qualities": {"cham_chi": "Đ"}}},
        {"toan": "Toán", "tieng_viet": "Tiếng Việt"},
    )
    assert [(m.student_id, m.result) for m in missing] == [
        ("a", "đánh giá bổ sung môn Tiếng Việt"),
        ("a", "đánh giá bổ sung tự chủ và tự học"),
    ]


# -- the competency list per grade ---------------------------------------------------------------------------------


def test_the_competencies_come_from_one_table_keyed_by_grade():
    general = ("tu_chu_tu_hoc", "giao_tiep_hop_tac", "giai_quyet_van_de")
    early = general + ("ngon_ngu", "tinh_toan", "khoa_hoc", "tham_mi", "the_chat")
    assert tt27.competencies(1) == tt27.competencies(2) == early
    assert tt27.competencies(3) == tt27.competencies(5) == tt27.COMPETENCIES
    assert set(tt27.COMPETENCIES) - set(early) == {"cong_nghe", "tin_hoc"}


def test_validation_and_the_cli_refuse_a_competency_the_grade_does_not_assess():
    with pytest.raises(MarkInvalid) as error:
        validate_homeroom(2, {"competencies": {"cong_nghe": "T"}}, "e")
    assert error.value.field == "e.competencies.cong_nghe"
    assert "từ lớp 3" in error.value.detail_vi
    assert validate_homeroom(3, {"competencies": {"cong_nghe": "T"}}, "e") == {
        "competencies": {"cong_nghe": "T"}
    }
    payload = {
        "circular": "tt27",
        "grade": 2,
        "subjects": [{"code": "dao_duc", "hk1": {"level": "T"}, "hk2": {"level": "T"}}],
        "qualities": dict.fromkeys(tt27.QUALITIES, "T"),
        "competencies": dict.fromkeys(tt27.competencies(2), "T"),
    }
    assert evaluate(payload)["year_result"] == "Hoàn thành xuất sắc"  # grade 2 is complete without them
    with pytest.raises(RuleInputError) as refused:
        evaluate(payload | {"competencies": dict.fromkeys(tt27.COMPETENCIES, "T")})
    assert refused.value.field == "competencies.cong_nghe"


def test_the_pdf_form_has_a_title_for_every_quality_and_competency_of_the_table():
    """The transcript may not import the gradebook (import-linter): its labels are checked against the table."""
    for code, name in tt27.TRAIT_NAMES.items():
        assert TRAIT_TITLES[code].lower() == name


def test_a_summer_lock_after_its_records_cutoff_is_refused_grade_5_at_30_june():
    cutoffs = {"regular": "06-30", "supplementary": "08-15"}
    ReportingCalendar(date(2026, 8, 15), cutoffs).check_summer_lock("2025-2026", 4)
    ReportingCalendar(date(2026, 6, 30), cutoffs).check_summer_lock("2025-2026", 5)
    for day, grade in ((date(2026, 8, 16), 4), (date(2026, 8, 16), 8), (date(2026, 7, 1), 5)):
        with pytest.raises(SummerAfterCutoff) as refused:
            ReportingCalendar(day, cutoffs).check_summer_lock("2025-2026", grade)
        assert "Đã quá hạn báo cáo" in refused.value.detail_vi


def test_the_summer_lock_decides_for_a_pupil_who_was_not_reassessed():
    """The principal's lock records a decision for each pupil not complete: one who did not come stays not complete
    and repeats, unless the principal promotes them (grades 1–4)."""
    assert year_of(weak={"toan": ("C", 3)}).after_supplementary is None  # before the lock
    stays = year_of(weak={"toan": ("C", 3)}, promoted=False).after_supplementary
    assert stays is not None and (stays.completion, stays.promotion) == (
        "Chưa hoàn thành chương trình lớp học",
        "ở lại lớp",
    )


# -- `hocba rules evaluate` ----------------------------------------------------------------------------------------


def cli_year(**extra):
    """Grade 4 through the CLI: every subject H with tests 7, every trait Đ, but Toán C with a test of 4 and chăm
    chỉ at Cần cố gắng."""
    subjects = []
    for code in TESTED + OTHERS:
        end = (
            {"level": "C", "test": 4}
            if code == "toan"
            else {"level": "H"} | ({"test": 7} if code in TESTED else {})
        )
        hk1 = {"level": "H"} | ({"test": 7} if code in TESTED else {})
        subjects.append({"code": code, "hk1": hk1, "hk2": end})
    return {
        "circular": "tt27",
        "grade": 4,
        "subjects": subjects,
        "qualities": dict.fromkeys(tt27.QUALITIES, "Đ") | {"cham_chi": "C"},
        "competencies": dict.fromkeys(tt27.competencies(4), "Đ"),
        **extra,
    }


def _cli(tmp_path, payload):
    path = tmp_path / "in.json"
    path.write_text(json.dumps(payload, ensure_ascii=False), "utf-8")
    return CliRunner().invoke(rules_app, ["evaluate", str(path), "--circular", "tt27"])


def test_the_cli_gives_the_supplementary_assessment_and_completion_decided_again(tmp_path):
    plain = _cli(tmp_path, cli_year())
    assert plain.exit_code == 0, plain.stderr
    assert "supplementary_due" not in json.loads(
        plain.stdout
    )  # the page's output, unchanged without the inputs
    payload = cli_year(reassessed_traits={"cham_chi": "Đ"})
    payload["subjects"][1]["reassessed"] = {"level": "H", "test": 6}
    result = _cli(tmp_path, payload)
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert (out["year_result"], out["completion"], out["reporting_cutoff"]) == (
        "Chưa hoàn thành",
        "Chưa hoàn thành chương trình lớp học",
        "08-15",
    )
    assert out["supplementary_due"] == {"subjects": ["toan"], "traits": ["cham_chi"]}
    assert out["subjects"][1] == {"code": "toan", "year": "C", "year_after_supplementary": "H"}
    assert (
        out["year_result_after_supplementary"],
        out["completion_after_supplementary"],
        out["promotion_after_supplementary"],
    ) == ("Hoàn thành", "Hoàn thành chương trình lớp học", "lên lớp")
    # The same year through the API's mapping (results.py) gives the same results: one pipeline.
    marks = {s["code"]: {"hk1": s["hk1"], "hk2": s["hk2"]} for s in payload["subjects"]}
    marks["toan"]["summer"] = {"level": "H", "test": 6}
    homeroom = {
        "hk2": {"qualities": payload["qualities"], "competencies": payload["competencies"]},
        "summer": {"qualities": {"cham_chi": "Đ"}},
    }
    api = compute_results(4, dict.fromkeys(marks), marks, homeroom)
    assert {
        k: api.year[k] for k in ("year_result_after_supplementary", "completion_after_supplementary")
    } == {
        "year_result_after_supplementary": "Hoàn thành",
        "completion_after_supplementary": "Hoàn thành chương trình lớp học",
    }


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda p: p["subjects"][0].update(reassessed={"level": "T", "test": 9}), "subjects[0].reassessed"),
        (lambda p: p["subjects"][1].update(reassessed={"level": "H"}), "subjects[1].reassessed.test"),
        (
            lambda p: p["subjects"][1].update(reassessed={"level": "Đ", "test": 6}),
            "subjects[1].reassessed.level",
        ),
        (lambda p: p.update(reassessed_traits={"nhan_ai": "T"}), "reassessed_traits.nhan_ai"),
        (lambda p: p.update(reassessed_traits={"cham_chi": "Tốt"}), "reassessed_traits.cham_chi"),
        (lambda p: p.update(principal_promotes="có"), "principal_promotes"),
    ],
)
def test_the_cli_refuses_a_reassessment_that_is_not_due_or_not_valid(tmp_path, change, field):
    payload = cli_year()
    change(payload)
    result = _cli(tmp_path, payload)
    assert result.exit_code == 2, result.stdout
    assert field in result.stderr
